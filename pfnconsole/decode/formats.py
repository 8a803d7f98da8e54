"""The ordered tuple of formats the decoder tries on every line it reads.

Order matters only where two formats could both claim a line: the bad-page and
dump_page formats come first (they open the record the detail lines rely on), the
structured boot maps before the resource scan (`devices.Resources`, last: it skips
ranges already reported on the line).  After the formats, the scanners of `scan` look
for struct page pointers, direct-map addresses and loose pfns anywhere.

To add a format: write its class in the module of its subject (see `base.Format`),
put an instance here, and add fixture lines to tests/fixtures/decode/.  `badmap.SwapEntry`
goes before `badmap.BadPageMap`: the "Bad swap file entry" line it reads comes first and
tells the pte of the "Bad page map" line after it to read as a swap entry.
"""

from __future__ import annotations

from .badmap import BadPageMap, BrkPgtable, SwapEntry
from .base import Format
from .boot import E820, Cmdline, LastPfn, MemSize, ReservedMem, Swiotlb, VmLayout, Xen, Zones
from .devices import Pmem, Resources
from .failures import Apei, Hwpoison, MachineCheck, MemoryFailure
from .pages import BadPage, DumpPage, HeadLine, PageDetail, RawWords
from .tables import PageFault, PageWalk
from .traces import FsDax, Kmem
from .vmcore import VmcoreInfo

FORMATS: tuple[Format, ...] = (
    BadPage(), DumpPage(), HeadLine(), PageDetail(), RawWords(), MemoryFailure(), Hwpoison(),
    MachineCheck(), Apei(), FsDax(), Kmem(), E820(), Cmdline(), Zones(), ReservedMem(), Xen(),
    PageFault(), PageWalk(), SwapEntry(), BadPageMap(), BrkPgtable(), Pmem(), VmLayout(), MemSize(), Swiotlb(),
    LastPfn(), VmcoreInfo(), Resources(),
)

LOOSE_PFN_ANCHORS = ("pfn",)
"""What `scan.scan_loose_pfns` needs in a line."""

LITERALS: tuple[str, ...] = tuple(
    dict.fromkeys([a for fmt in FORMATS for a in fmt.anchors] + list(LOOSE_PFN_ANCHORS)))
"""Every literal the decoder acts on, once each: the formats' anchors and ``pfn``."""

__all__ = ["FORMATS", "LITERALS", "LOOSE_PFN_ANCHORS"]
