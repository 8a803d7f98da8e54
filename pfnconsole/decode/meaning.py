"""What a page report means: one or two sentences per kind of evidence, in our own words.

The reasons are the kernel's own strings: mm/page_alloc.c page_bad_reason() and
free_tail_page_prepare() (v5.x-v6.x; "nonzero _count" before v4.6), mm/debug.c
VM_BUG_ON_PAGE(), mm/memory-failure.c action_result() (enum mf_result: "Ignored",
"Failed", "Delayed", "Recovered") and its action_page_types[] names.
"""

from __future__ import annotations

BAD_REASONS: tuple[tuple[str, str], ...] = (
    ("nonzero mapcount", "freed while still mapped by some page table (_mapcount was not back to "
                         "-1): an unmap was missed or the map count is unbalanced"),
    ("non-NULL mapping", "freed while page->mapping still points at a file or anon mapping: it was "
                         "not removed from the page cache or its anon_vma first"),
    ("nonzero _refcount", "freed while its reference count was not zero: a get/put imbalance "
                          "(someone still holds, or dropped twice, a reference)"),
    ("nonzero _count", "freed while its reference count was not zero: a get/put imbalance"),
    ("PAGE_FLAGS_CHECK_AT_FREE", "freed with flags that must be clear at free"),
    ("PAGE_FLAGS_CHECK_AT_PREP", "handed out by the allocator with flags that must be clear on a "
                                 "new page: the free page was modified while free"),
    ("page still charged to cgroup", "freed while still charged to a memory cgroup: the uncharge "
                                     "was missed"),
    ("nonzero compound_mapcount", "a compound page freed while still mapped as a whole (PMD mapping)"),
    ("nonzero entire_mapcount", "a folio freed while still mapped as a whole (PMD mapping)"),
    ("nonzero nr_pages_mapped", "a folio freed while some of its pages are still mapped"),
    ("nonzero pincount", "freed while pinned (pin_user_pages without unpin)"),
    ("corrupted mapping in tail page", "a tail page's mapping field is not the tail marker: the "
                                       "compound page is corrupted"),
    ("PageTail not set", "a page inside a compound page is not marked as a tail: corrupted compound page"),
    ("compound_head not consistent", "a tail page points at the wrong head: corrupted compound page"),
    ("HWPoisoned", "a hardware-poisoned page reached the allocator"),
)
"""(the kernel's reason string, what it means)."""

FLAG_MEANINGS: tuple[tuple[str, str], ...] = (
    ("lru", "PG_lru set at free: the page was freed while still on an LRU list — a reference was "
            "dropped twice, or the page was freed without being isolated from the LRU"),
    ("locked", "PG_locked set at free: the last reference went while someone held the page lock"),
    ("writeback", "PG_writeback set at free: freed while its writeback was in flight"),
    ("private", "PG_private set at free: the filesystem's private data (buffer heads …) was not "
                "released"),
    ("mlocked", "PG_mlocked set at free: freed while still mlocked"),
    ("hwpoison", "PG_hwpoison set: the page is marked as failed memory"),
    ("slab", "PG_slab set at free: a slab page went back to the page allocator without slab's release"),
    ("reserved", "PG_reserved set: a reserved page (firmware or kernel image) is being freed or reused"),
    ("tail", "a tail page of a compound page is handled on its own: its head or order is wrong"),
)
"""Flag names of a ``bad because of flags`` list, most telling first."""

MF_RESULTS = {
    "Ignored": "the kernel did not act on this page (it cannot isolate or recover this kind of "
               "page); the failed memory may still be in use",
    "Failed": "recovery failed: the page is still in use; touching it again can crash the machine",
    "Delayed": "handling was postponed until the page is freed or next touched",
    "Recovered": "the page was taken out of use (isolated, or the process mapping it killed)",
}
"""mm/memory-failure.c enum mf_result as action_result() prints it."""

STORY_TITLE = {
    "bad_page": "Bad page state",
    "dump_page": "dump_page",
    "bad_page_map": "Bad page map",
    "memory_failure": "memory failure",
    "hwpoison_inject": "hwpoison injection",
    "mce": "machine check / memory error",
    "apei": "APEI hardware error",
    "fs_dax": "fs_dax trace event",
    "kmem": "page allocator trace event",
    "pfn": "pfn in a kernel message",
    "page_fault": "page fault",
}


def reason_meaning(reason: str) -> str:
    """The sentence for a bad_page / dump_page reason; "" when it is not a known one."""
    for key, text in BAD_REASONS:
        if key in reason:
            return text
    if reason.startswith(("VM_BUG_ON_PAGE(", "VM_BUG_ON_FOLIO(")):
        cond = reason[reason.index("(") + 1:]
        cond = cond[:-1] if cond.endswith(")") else cond
        return f"a page assertion failed: {cond} was true for this page (a kernel bug caught by CONFIG_DEBUG_VM)"
    if reason.startswith("kasan"):
        return "KASAN found a bad access to memory in this page"
    return ""


def flags_meaning(names: tuple[str, ...]) -> str:
    """The sentence for the flags of a ``bad because of flags`` list."""
    for key, text in FLAG_MEANINGS:
        if key in names:
            return text
    return f"flags {'|'.join(names)} must be clear here" if names else ""


def failure_meaning(result: str | None, what: str) -> str:
    """memory_failure's outcome for a page: its result, and the page type it named."""
    text = MF_RESULTS.get(result or "", "")
    if what and text:
        return f"{what}: {text}"
    return text or what


__all__ = ["BAD_REASONS", "FLAG_MEANINGS", "MF_RESULTS", "STORY_TITLE", "failure_meaning",
           "flags_meaning", "reason_meaning"]
