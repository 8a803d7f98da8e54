"""Reports about one page: bad_page() and dump_page() (failing memory: failures.py).

Patterns follow the kernel's own format strings: mm/page_alloc.c bad_page()
("BUG: Bad page state in process %s  pfn:%05lx"), every era of mm/debug.c __dump_page()
(page:%p / %px / hashed / absent pointer, count: or refcount:, pfn: since v5.9, the head:
line, flags with %pGp names, page_type, raw: and head: hex dumps, "page dumped because:").
"""

from __future__ import annotations

import re

from ..core.units import human_size, hx
from .base import (
    PTR,
    STATUS_NOTE,
    Context,
    Format,
    Record,
    classify_pointer,
    h,
    join_notes,
    pointer_pfn,
)
from .model import Finding, Kind

BAD_PAGE = re.compile(r"Bad page state in process (?P<comm>[^\n]{0,64}?) {1,2}pfn:(?P<pfn>[0-9a-fA-F]{1,16})\b")
BAD_FLAGS = re.compile(r"^bad because of flags: (?P<val>0x[0-9a-fA-F]{1,16})\((?P<names>[^)]{0,512})\)?")


class BadPage(Format):
    name = "bad_page"
    anchors = ("Bad page state", "bad because of flags")

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        m = BAD_PAGE.search(text)
        if m:
            pfn = h(m["pfn"])
            ctx.record = Record(ctx.line, pfn, how=f"pfn from the Bad page state line {ctx.line}")
            ctx.touch()
            return [ctx.finding(Kind.BAD_PAGE, pfn=pfn, phys=ctx.phys(pfn),
                                note=f"process {m['comm'].strip()}")]
        m = BAD_FLAGS.match(text)
        if m:
            ctx.touch()
            names, fields = split_flag_names(m["names"])
            rec_pfn, how = ctx.record_pfn()
            return [ctx.finding(Kind.BAD_PAGE, pfn=rec_pfn, phys=ctx.phys(rec_pfn), type="bad flags",
                                flags=names, note=join_notes(f"bad because of flags {m['val']}",
                                                        fields, how))]
        return None


DUMP_PAGE = re.compile(
    r"(?:^|(?<=[\s>]))page:\s?(?P<ptr>" + PTR + r")?\s{1,12}(?P<what>(?:ref)?count:|flags:|is uninitialized)"
)
PFN_FIELD = re.compile(r"\bpfn:(?P<pfn>0x[0-9a-fA-F]{1,16}|[0-9a-fA-F]{1,16})\b")
_INLINE_HEAD = re.compile(r"\bhead:(?P<ptr>" + PTR + r") order:(?P<order>\d{1,2})")


class DumpPage(Format):
    """First line of __dump_page(), every era (page:%p / %px / hashed / absent)."""

    name = "dump_page"
    anchors = ("page:",)

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        m = DUMP_PAGE.search(text)
        if not m:
            return None
        layout = ctx.layout
        ptr, status = classify_pointer(m["ptr"], layout)
        rec = ctx.record
        if rec is None or rec.has_page_line:
            rec = Record(ctx.line, None)
        rec.has_page_line = True
        rec.page = ptr
        ctx.record = rec
        ctx.touch()

        notes: list[str] = []
        pfn: int | None = None
        pf = PFN_FIELD.search(text, m.end())
        printed = h(pf["pfn"]) if pf else None
        ctx.saw(Kind.DUMP_PAGE, layout.untag(ptr) if ptr is not None and len(m["ptr"]) == 16 else None,
                printed)
        from_ptr = pointer_pfn(ptr, layout) if ptr is not None else None
        if printed is not None:
            pfn = printed
            rec.how = f"pfn from the page: line {ctx.line}"
        elif rec.pfn is not None:
            pfn = rec.pfn
            notes.append(rec.how)
        elif from_ptr is not None:
            pfn, rec.how = from_ptr
            notes.append(rec.how)
        if from_ptr is not None and pfn is not None and from_ptr[0] != pfn:
            notes.append(f"the pointer would give pfn {hx(from_ptr[0])} under {layout.vmemmap_how()}: "
                         "that calibration does not fit this page")
        if ptr is not None and from_ptr is None and layout.bits == 64:
            if not layout.in_vmemmap(layout.untag(ptr)):
                notes.append("pointer outside the vmemmap")
            elif pfn is not None:
                notes.append(f"the pointer is not a whole struct page from the vmemmap base "
                             f"under {layout.vmemmap_how()}: it and pfn {hx(pfn)} do not fit")
        notes.append(STATUS_NOTE.get(status, ""))
        if m["what"] == "is uninitialized":
            notes.append("uninitialized and poisoned struct page")
        notes.extend(_field_notes(text, m.start("what")))
        rec.pfn = pfn
        out = [ctx.finding(Kind.DUMP_PAGE, pfn=pfn, phys=ctx.phys(pfn), page=ptr, note=join_notes(*notes))]
        hm = _INLINE_HEAD.search(text, m.end())
        if hm:
            out.append(_head_finding(ctx, hm["ptr"], int(hm["order"])))
        return out


_COUNT = re.compile(r"\b(?P<k>refcount|count|mapcount):(?P<v>-?\d{1,12})\b")
_MAPPING = re.compile(r"\bmapping:(?P<v>[0-9a-fA-F]{8,16})\b")
_MAPPING_LOW_BITS = {1: "PAGE_MAPPING_ANON: anon_vma", 2: "PAGE_MAPPING_MOVABLE: movable_operations",
                     3: "PAGE_MAPPING_KSM: ksm stable node"}


# Page types overlay _mapcount, and dump_page prints mapcount: as _mapcount + 1 (0 = unmapped).
# Before v4.18 a type was one whole _mapcount value (include/linux/page-flags.h, v4.5-v4.17 era):
# PAGE_BUDDY_MAPCOUNT_VALUE -128, PAGE_BALLOON_MAPCOUNT_VALUE -256, PAGE_KMEMCG_MAPCOUNT_VALUE -512.
_OLD_TYPES = {-128 + 1: "buddy (a free page in the buddy allocator)", -256 + 1: "balloon",
              -512 + 1: "kmemcg"}
# From v4.18 page_type starts at 0xffffffff and a type CLEARS its bit: PAGE_TYPE_BASE 0xf0000000,
# PAGE_MAPCOUNT_RESERVE -128, PG_buddy 0x80 in every text read (include/linux/page-flags.h: the
# v4.18 form with balloon 0x100 kmemcg 0x200 table 0x400; later offline 0x100, guard 0x800; later
# table 0x200 guard 0x400; then hugetlb 0x800 slab 0x1000).  Which release moved which bit is
# not pinned, so the other bits are named with every meaning they had.
PAGE_TYPE_BASE = 0xF0000000
PAGE_MAPCOUNT_RESERVE = -128
_TYPE_BITS = {0x80: "buddy (a free page in the buddy allocator)", 0x100: "balloon or offline",
              0x200: "kmemcg or table", 0x400: "table or guard", 0x800: "guard or hugetlb", 0x1000: "slab"}


def mapcount_note(v: int, old_format: bool) -> str:
    """What a printed ``mapcount:`` (``int``, ``_mapcount + 1``) says; "" when unremarkable."""
    if 0 <= v < 1 << 24:
        return ""
    if v >= 1 << 24:
        return f"mapcount:{v} is implausible: the struct page looks corrupted"
    page_type = (v - 1) & 0xFFFFFFFF  # the raw _mapcount / page_type word
    cleared = ~page_type & 0x0FFFFFFF & ~0x7F
    # a type clears only its own bit: the reserved low bits 0x7f and the base nibble stay set
    if (page_type & PAGE_TYPE_BASE) == PAGE_TYPE_BASE and page_type & 0x7F == 0x7F \
            and v - 1 < PAGE_MAPCOUNT_RESERVE and cleared in _TYPE_BITS:
        return (f"mapcount:{v} is not a map count: _mapcount {page_type:#x} is a page_type"
                f" (v4.18 and later) with bit {cleared:#x} cleared: {_TYPE_BITS[cleared]}")
    if v in _OLD_TYPES:
        era = "a count: line, so" if old_format else "on"
        return (f"mapcount:{v} is not a map count: _mapcount {v - 1} is the page type value of kernels"
                f" before v4.18 ({era} such a kernel it marks {_OLD_TYPES[v]}); on later kernels it"
                " is a _mapcount underflow, a corrupted struct page")
    return (f"mapcount:{v} is no map count and no page type: _mapcount {v - 1} has underflowed;"
            " the struct page looks corrupted")


def _field_notes(text: str, pos: int) -> list[str]:
    """What the counters and mapping of a dump_page line say beyond their values."""
    notes = []
    old_format = " count:" in text[pos - 1:] and "refcount:" not in text[pos:]
    for c in _COUNT.finditer(text, pos):
        v = int(c["v"])
        if c["k"] == "mapcount":
            note = mapcount_note(v, old_format)
            if note:
                notes.append(note)
                break
        elif v < 0 or v >= 1 << 24:
            notes.append(f"{c['k']}:{v} is implausible: the struct page looks corrupted")
            break
    mm = _MAPPING.search(text, pos)
    if mm:
        v = int(mm["v"], 16)
        low = v & 3
        if low and v >> 12:
            notes.append(f"mapping low bits {low} = {_MAPPING_LOW_BITS[low]} at {v & ~3:x}")
    return notes


# page_type: as printed.  ~v6.4 .. v6.11: %pGt, "0x<32-bit word>(names)", a type clears its bit.
# v6.12+: "%x(%s)" of the top byte (4ffca5a96678, one type per page): PGTY_buddy 0xf0 ...
# PGTY_large_kmalloc 0xf8, PGTY_mapcount_underflow 0xff (include/linux/page-flags.h, kernel-facts.md §3.1).
_PGTY = {0xF0: "buddy", 0xF1: "offline", 0xF2: "table", 0xF3: "guard", 0xF4: "hugetlb", 0xF5: "slab",
         0xF6: "zsmalloc", 0xF7: "unaccepted", 0xF8: "large_kmalloc", 0xFF: "mapcount_underflow"}


def page_type_note(val: str, name: str) -> str:
    """What a ``page_type:`` value means (the printed name is kept as the finding's flag)."""
    v = int(val, 16)
    if not val.startswith("0x") and v <= 0xFF:
        what = _PGTY.get(v)
        if what is None:
            return f"page_type {val}: top byte {v:#x} names no page type (the kernel prints unknown)"
        free = ": a free page in the buddy allocator" if what == "buddy" else ""
        return f"page_type {val}: PGTY_{what} (the top byte of page_type, v6.12 and later){free}"
    if v == 0xFFFFFFFF:
        return f"page_type {val}: no page type set"
    free = "; buddy: a free page in the buddy allocator" if "buddy" in name else ""
    return f"page_type {val}: a type clears its bit of page_type (starts at 0xffffffff){free}"


def _head_finding(ctx: Context, token: str | None, order: int) -> Finding:
    layout = ctx.layout
    ptr, status = classify_pointer(token, layout)
    pfn = None
    notes = [f"order {order}: {1 << order} pages ({human_size(layout.page_size << order)})"]
    if ptr is not None:
        got = pointer_pfn(ptr, layout)
        if got:
            pfn = got[0]
            notes.append("head " + got[1])
    notes.append(STATUS_NOTE.get(status, ""))
    start = end = None
    if pfn is not None:
        start = pfn << layout.page_shift
        end = start + (layout.page_size << order) - 1
    return ctx.finding(Kind.DUMP_PAGE, pfn=pfn, phys=ctx.phys(pfn), page=ptr, start=start, end=end,
                       type="head", note=join_notes(*notes))


_HEAD_LINE = re.compile(r"^head:\s?(?P<ptr>" + PTR + r")?\s{1,4}order:(?P<order>\d{1,2})")


class HeadLine(Format):
    """The compound-page line dump_page prints since v5.9."""

    name = "dump_page head"
    anchors = ("head:",)

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        m = _HEAD_LINE.match(text)
        if not m:
            return None
        ctx.touch()
        return [_head_finding(ctx, m["ptr"], int(m["order"]))]


def split_flag_names(names: str) -> tuple[tuple[str, ...], str]:
    """'head|node=0|zone=2' -> (("head",), "node=0 zone=2")."""
    plain: list[str] = []
    fields: list[str] = []
    for item in names.split("|"):
        item = item.strip()
        if not item:
            continue
        (fields if "=" in item else plain).append(item)
    return tuple(plain), " ".join(fields)


FLAGS_LINE = re.compile(
    r"^(?:(?P<pre>page|anon|ksm|anon ksm|file) )?flags: ?(?P<val>0x[0-9a-fA-F]{1,16})"
    r"(?:\((?P<names>[^)]{0,512})\)?)?(?P<cma> CMA)?"
)
_PAGE_TYPE = re.compile(r"^page_type: ?(?P<val>(?:0x)?[0-9a-fA-F]{1,8})\((?P<name>[^)]{0,64})\)")
_REASON = re.compile(r"^page dumped because: (?P<why>.{1,200})")
_RECORD_LINE = re.compile(r"^(?:memcg:|page->mem_cgroup:|mapping->a_?ops|aops:|page_owner|"
                          r"page last|page has been|anon |ksm |file )")


class PageDetail(Format):
    """The other dump_page lines: flags, page_type, the reason; they inherit the pfn."""

    name = "dump_page detail"
    anchors = ("flags:", "page_type:", "page dumped because:", "memcg:", "mem_cgroup:",
               "aops", "page_owner", "page last", "page has been")

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        m = FLAGS_LINE.match(text)
        if m:
            if ctx.record is None and m["names"] is None:
                return None
            ctx.touch()
            pfn, how = ctx.record_pfn()
            names, fields = split_flag_names(m["names"] or "")
            kind = (m["pre"] + " ") if m["pre"] and m["pre"] != "page" else ""
            return [ctx.finding(Kind.DUMP_PAGE, pfn=pfn, phys=ctx.phys(pfn), type="flags", flags=names,
                                note=join_notes(f"{kind}flags {m['val']}", fields,
                                           "CMA" if m["cma"] else "", how))]
        m = _PAGE_TYPE.match(text)
        if m:
            ctx.touch()
            pfn, how = ctx.record_pfn()
            name = m["name"].strip()
            return [ctx.finding(Kind.DUMP_PAGE, pfn=pfn, phys=ctx.phys(pfn), type="page_type",
                                flags=(name,) if name else (),
                                note=join_notes(page_type_note(m["val"], name), how))]
        m = _REASON.match(text)
        if m:
            ctx.touch()
            pfn, how = ctx.record_pfn()
            if ctx.record is not None:
                ctx.record.after_reason = True
            return [ctx.finding(Kind.DUMP_PAGE, pfn=pfn, phys=ctx.phys(pfn), type=m["why"].strip()[:120],
                                note=join_notes("page dumped because", how))]
        if ctx.record is not None and _RECORD_LINE.match(text):
            ctx.touch()
            return []
        return None


_RAW = re.compile(r"^(?P<tag>raw|head): (?P<words>[0-9a-fA-F]{8,16}(?: [0-9a-fA-F]{8,16}){0,7})\s{0,8}$")


class RawWords(Format):
    """``raw:`` / ``head:`` hex dumps of struct page; compound_head|1 names the head page."""

    name = "dump_page raw"
    anchors = ("raw: ", "head: ")

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        m = _RAW.match(text)
        if not m:
            return None
        ctx.touch()
        out: list[Finding] = []
        layout = ctx.layout
        for word in m["words"].split():
            if len(word) != 16 or layout.bits != 64:
                continue
            value = int(word, 16)
            if not layout.vmemmap_known:
                # arm64 without calibration: an untagged word in the vmemmap is a struct page
                # link, but which pfn it names depends on memstart_addr.
                if value >> 56 == 0xFF and layout.maybe_vmemmap(value & ~1):
                    ctx.seen.add(value)
                    out.append(ctx.finding(
                        Kind.STRUCT_PAGE, page=value & ~1,
                        note=f"{m['tag']} word {word} points into an arm64 vmemmap region; its pfn "
                             "depends on the kernel's layout and memstart_addr, not in this log"))
                continue
            if value & 1 and layout.in_vmemmap(value - 1):
                got = pointer_pfn(value - 1, layout)
                ctx.seen.add(value)
                if got is None:
                    continue
                head = value - 1
                out.append(ctx.finding(
                    Kind.DUMP_PAGE, pfn=got[0], phys=ctx.phys(got[0]), page=head, type="compound_head",
                    note=f"{m['tag']} word {word} is compound_head|1: head struct page {head:x}, "
                         f"pfn from the pointer: {layout.vmemmap_how()}"))
        return out
