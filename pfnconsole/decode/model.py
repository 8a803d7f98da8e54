"""The values the decoder hands out: one `Finding` per fact, one `Calibration` per log.

Both are frozen dataclasses of plain ints and strings so that front ends can render
them, compare them in tests, or dump them as JSON without knowing the decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

LIMIT_LINE = 8192
"""Physical lines longer than this many characters are cut before matching.

The cut keeps every regular expression's work bounded, whatever is pasted in;
a joined (mail-wrapped) logical line never grows past it either.
"""


class Kind(StrEnum):
    """What sort of record a `Finding` came from.  A `StrEnum`: it prints, compares and
    serialises as its value (``Kind.E820 == "e820"``)."""

    BAD_PAGE = "bad_page"
    """mm/page_alloc.c bad_page(): "BUG: Bad page state" and "bad because of flags"."""
    DUMP_PAGE = "dump_page"
    """mm/debug.c __dump_page(): the page: line, head, flags, page_type, reason, compound_head."""
    STRUCT_PAGE = "struct_page"
    """A pointer into the vmemmap found anywhere: the struct page of a pfn."""
    DIRECT_MAP = "direct_map"
    """An address in the direct (linear) map found anywhere: a physical address."""
    PFN = "pfn"
    """A pfn named in an ad-hoc printk (``pfn = 77501``, ``start_pfn=0x80000``)."""
    MEMORY_FAILURE = "memory_failure"
    HWPOISON_INJECT = "hwpoison_inject"
    MCE = "mce"
    APEI = "apei"
    FS_DAX = "fs_dax"
    KMEM = "kmem"
    E820 = "e820"
    CMDLINE = "cmdline"
    ZONE = "zone"
    NODE_RANGE = "node_range"
    NODE_DATA = "node_data"
    RESERVED_MEM = "reserved_mem"
    XEN = "xen"
    RESOURCE = "resource"
    PMEM = "pmem"
    VM_LAYOUT = "vm_layout"
    MEM_SIZE = "mem_size"
    PAGE_FAULT = "page_fault"
    PTE = "pte"
    """One page-table entry of a fault's walk, or of an arm64 ``pgd=`` line."""
    BAD_PAGE_MAP = "bad_page_map"
    SWIOTLB = "swiotlb"
    """The software IO TLB (bounce buffer) pool: kernel/dma/swiotlb.c, earlier lib/swiotlb.c."""
    RAM_END = "ram_end"
    """e820 ``last_pfn = ... max_arch_pfn = ...``: where RAM ends (an exclusive end, not a page)."""
    PAGE_TABLE = "page_table"
    """Early page-table pages the kernel took from the brk area (``BRK [a, b] PGTABLE``)."""
    VMCOREINFO = "vmcoreinfo"
    """A VMCOREINFO key (``SYMBOL(..)=``, ``OFFSET(..)=``, ``SIZE(..)=``, ``NUMBER(..)=`` ...): no pfn."""
    CALIBRATION = "calibration"
    """A layout number the log implied (see `Calibration`)."""
    ADDRESS = "address"
    """A kernel address the log does not let us translate: ``type`` its kind (vmalloc, stack,
    kernel text, direct map ...), ``note`` why it carries no pfn."""


@dataclass(frozen=True)
class Finding:
    """One fact read from the log, located at the input line where it starts.

    Addresses are plain ints.  ``start``/``end`` are an inclusive physical byte range
    unless ``note`` says otherwise (a pmem capacity is a device-offset range).
    """

    line: int
    """1-based number of the input line the fact starts on (the first of a joined pair)."""
    kind: Kind
    """What sort of record this came from (a `Kind`, equal to its string: "dump_page", "e820" ...)."""
    pfn: int | None = None
    """The page frame number the fact is about, when it names one page."""
    phys: int | None = None
    """Physical address: the page base (pfn << PAGE_SHIFT) or an exact byte address."""
    page: int | None = None
    """Address of the struct page, when the log printed a real (unhashed) pointer."""
    virt: int | None = None
    """A kernel or user virtual address that goes with the fact."""
    start: int | None = None
    end: int | None = None
    type: str | None = None
    """Label: e820 type, zone name, dump reason, memory-failure result, event name ..."""
    flags: tuple[str, ...] = ()
    """Flag names: page flags ("head",), pfn_t flags ("DEV", "MAP"), PTE or resource bits."""
    note: str = ""
    """Short human text; every derived number says here how it was derived."""

    def to_json(self) -> dict[str, Any]:
        """``{"line", "kind"}`` plus every field that is set; ints stay ints."""
        out: dict[str, Any] = {"line": self.line, "kind": str(self.kind)}
        for name in ("pfn", "phys", "page", "virt", "start", "end", "type"):
            value = getattr(self, name)
            if value is not None and value != "":
                out[name] = value
        if self.flags:
            out["flags"] = list(self.flags)
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Calibration:
    """The address-layout numbers the decoder uses, and where they came from.

    Pass 1 (`calibrate`) fills this from (pointer, pfn) and (address, pfn) pairs found
    in the log; whatever it cannot infer keeps the architecture profile's value.
    """

    vmemmap_base: int | None
    """pfn_to_page(0): the struct page of pfn 0 (None: no virtual memmap, e.g. 32-bit)."""
    struct_page_size: int | None
    """sizeof(struct page) in bytes."""
    page_offset: int | None
    """__va(0): base of the direct (linear) map."""
    page_shift: int | None
    """log2(PAGE_SIZE)."""
    sources: tuple[str, ...] = ()
    """One human sentence per inference: what was inferred, from which lines."""
    source_lines: tuple[int, ...] = ()
    """For each entry of ``sources``: the line where that inference was completed."""
    phys_end: int | None = None
    """Exclusive end (bytes) of the highest RAM or pmem the log's memory map shows; None: no map."""
    phys_end_how: str = ""
    """Which line gave ``phys_end`` and how it was read."""
    randomised: str = ""
    """Why the layout looks randomised (KASLR), "" when the log shows no sign of it."""
    nokaslr: bool = False
    """The log says randomisation is off (``nokaslr``, ``Kernel Offset: disabled``, ``KASLR disabled``)."""
    nokaslr_how: str = ""
    """The line that said so."""
    walks: tuple[tuple[int, int, bool], ...] = ()
    """(fault address, physical address, leaf present) of each page-table walk read: the
    log's own translation of that address (at most a handful)."""
    awaiting_walk: int | None = None
    """A fault address whose walk has not been read yet (reading as the log streams in)."""
