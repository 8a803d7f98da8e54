"""Pass 1: read the layout numbers off the log itself.

A bad-page or dump_page report that shows both a raw struct page pointer and the pfn
it belongs to pins ``vmemmap + pfn * sizeof(struct page) == pointer``.  Two such pairs
fix both unknowns exactly; one pair is enough when a candidate size (64, then 56, 72,
80) lands exactly on a known vmemmap base, or on a PUD-aligned base inside the KASLR
window.  A (virtual address, pfn) pair does the same for the direct map: a KASAN report's
access address and the pfn of the page it dumps, or a page-fault address and the pfn in
its PTE.  Page size comes from lines that state it (ppc64 "Page orders", hash-table
sizes).  Only a handful of pairs are kept, so memory stays bounded on any input.

Pass 1 also keeps what the support rule of `layout` needs: the end of the log's memory
map (the highest end of RAM or pmem in e820 / user maps, zone and node ranges,
``last_pfn``; else a size line, ``Memory: ..K/..K available`` or ppc64 ``phys_mem_size``,
plus `SIZE_SLACK`), only the maximum and the line it came from; the signs of randomisation
(a non-zero ``Kernel Offset``, arm64 ``KASLR enabled``, a base solved away from the default)
and of none (``nokaslr``, ``Kernel Offset: disabled``, ``KASLR disabled``); and each x86
page-table walk's own translation of its fault address.

The reports are read by the decoder's own formats (`CALIBRATION_FORMATS`, with a
`Context` of the calibrator's own): the calibrator takes their findings and the pointers
they saw (`base.PageSeen`), and parses only what no format reports (page-size
statements, KASAN addresses, a ``pfn = N`` line before a dump).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TextIO

from ..core.arch import ArchLayout, arch_layout, canonical_arch
from ..core.units import hx
from .badmap import BadPageMap
from .base import Context, Format, FormatSet, PageSeen
from .boot import E820, LastPfn, MemSize, VmLayout, Zones
from .layout import make_layout
from .model import Calibration, Finding, Kind
from .pages import BadPage, DumpPage
from .skim import Anchors, skim_lines
from .solve import Pair, solve_direct, solve_vmemmap
from .source import Block, blocks_of
from .tables import PageFault, PageWalk
from .traces import Kmem

MAX_PAIRS = 16

CALIBRATION_FORMATS: tuple[Format, ...] = (BadPage(), DumpPage(), BadPageMap(), Kmem(), PageFault())
"""The formats whose findings (and sightings) calibration reads; 32-bit logs add `VmLayout`,
and the walk after a fault is read (`PageWalk`) while that fault waits for it.  Once
`MAX_PAIRS` pairs of a kind are kept, the reports that only give that kind are not read."""
_DIRECT_FORMATS = (DumpPage(), PageFault())
"""What still gives (address, pfn) pairs when the (pointer, pfn) pairs are all kept."""
_WALK = FormatSet((PageWalk(),))
_EXTENT = FormatSet((E820(), Zones(), MemSize(), LastPfn()))
"""The formats whose ranges give the end of the log's memory map."""
_OWN_KEYS = ("Page orders", "(order: ", "PAGE_SIZE", "pfn=", "pfn:", "pfn =", "pfn :", "at addr",
             "access at", "address ", "object at", "Kernel Offset: ", "KASLR ", "nokaslr")
"""What the calibrator parses itself: page sizes, ``pfn =`` lines, KASAN addresses, KASLR."""
SIZE_SLACK = 4 << 30
"""Bytes added to a RAM size (not an end) to bound where RAM may end: the hole below 4 GiB
that x86 firmware leaves for PCI is at most this big."""

# arch/x86/kernel/setup.c and arch/arm64/kernel/setup.c dump_kernel_offset():
#   pr_emerg("Kernel Offset: 0x%lx from 0x%lx (relocation range: 0x%lx-0x%lx)\n", ...) (x86)
#   pr_emerg("Kernel Offset: 0x%lx from 0x%lx\n", kaslr_offset(), KIMAGE_VADDR)       (arm64)
#   pr_emerg("Kernel Offset: disabled\n")
_KERNEL_OFFSET = re.compile(r"\bKernel Offset: (?:0x(?P<off>[0-9a-fA-F]{1,16}) from 0x(?P<base>[0-9a-fA-F]{1,16})"
                            r"|(?P<off_>disabled))")
# arch/arm64/kernel/kaslr.c kaslr_init(): pr_info("KASLR enabled\n"),
# "KASLR disabled on command line\n", pr_warn("KASLR disabled due to lack of seed\n")
_ARM64_KASLR = re.compile(r"\bKASLR (?P<what>enabled|disabled)\b")
_NOKASLR = re.compile(r"ommand line:[^\n]{0,4096}?(?<![\w-])nokaslr(?![\w-])")
_PHYS_MEM = re.compile(r"^phys_mem_size\s{0,8}= (?P<v>0x[0-9a-fA-F]{1,16})")
_MEMORY = re.compile(r"^Memory: \d{1,12}K/(?P<total>\d{1,12})K available")

_PAGE_ORDERS = re.compile(r"\bPage orders: linear mapping = \d{1,2}, virtual = (?P<s>\d{1,2})\b")
_HASH_ORDER = re.compile(r"\(order: (?P<o>\d{1,2}), (?P<b>\d{1,20}) bytes")
_PAGE_SIZE = re.compile(r"\bPAGE_SIZE ?(?:=|:|is) ?(?P<n>\d{1,7}) ?(?P<k>[Kk](?:i?B)?)?(?![\w])")
_LOOSE_PFN_LINE = re.compile(r"^pfn ?[=:] ?(?P<v>0x[0-9a-fA-F]{1,16}|[0-9a-fA-F]{1,16})\b")
_KASAN_ADDR = re.compile(r"\b(?:at addr|access at|address) (?:0x)?(?P<a>[0-9a-fA-F]{16})\b")
_KASAN_OBJ = re.compile(r"belongs to the object at (?P<a>[0-9a-fA-F]{16})\b")


class Calibrator:
    """Feed it logical lines (see `logical_lines`); ask `result()` at any time."""

    def __init__(self, arch: str = "x86_64") -> None:
        self.arch = canonical_arch(arch)
        self.defaults = arch_layout(self.arch)
        self.vm_pairs: list[Pair] = []
        self.dm_pairs: list[Pair] = []
        self.shift: tuple[int, int, str] | None = None
        self.lowmem: tuple[int, int] | None = None
        self._pending_pfn: tuple[int, int, int] | None = None
        self._pending_va: tuple[int, int, int] | None = None
        self._fault: tuple[int, int, int] | None = None
        low = (VmLayout(),) if self.defaults.bits == 32 else ()
        self.formats = FormatSet(CALIBRATION_FORMATS + low)
        self._fewer = (FormatSet(_DIRECT_FORMATS + low), FormatSet(low))
        self.ctx = Context(make_layout(self.arch, None), sightings=[])
        self.end: tuple[int, str] | None = None
        """(exclusive end, how) of the highest RAM/pmem range of the memory map."""
        self.size_end: tuple[int, str] | None = None
        """The same from a size line (used only without a map)."""
        self.random_sign: str = ""
        self.no_random: str = ""
        self.walks: list[tuple[int, int, bool]] = []
        self.dirty = True
        self._result: Calibration | None = None

    # --- collecting ----------------------------------------------------------------------
    def keys(self) -> tuple[str, ...]:
        """Every literal `feed` acts on: a line with none of them changes nothing."""
        return tuple(dict.fromkeys(self.formats.anchors + _EXTENT.anchors + _OWN_KEYS))

    def quiet(self) -> bool:
        """Nothing half seen: no line without a key can matter now."""
        return self._pending_pfn is None and self._pending_va is None and self._fault is None

    def _add(self, pairs: list[Pair], pair: Pair) -> None:
        if len(pairs) >= MAX_PAIRS or any(p.addr == pair.addr and p.pfn == pair.pfn for p in pairs):
            return
        pairs.append(pair)
        self.dirty = True

    def _tick(self) -> None:
        for name in ("_pending_pfn", "_pending_va", "_fault"):
            item = getattr(self, name)
            if item is not None:
                setattr(self, name, None if item[2] <= 1 else (item[0], item[1], item[2] - 1))
                if name == "_fault" and item[2] <= 1:
                    self.dirty = True  # no walk came: the fault address stops waiting

    def _feed_kaslr(self, line: int, text: str) -> None:
        """Signs of randomisation, or of none."""
        m = _KERNEL_OFFSET.search(text)
        if m:
            if m["off_"] or int(m["off"], 16) == 0:
                self._no_random(f"'Kernel Offset: {m['off_'] or '0x0'}', line {line}")
            elif not self.random_sign:
                self.random_sign = (f"'Kernel Offset: 0x{m['off']} from 0x{m['base']}', line {line}: the kernel "
                                    "image is randomised, so CONFIG_RANDOMIZE_MEMORY likely moved the bases too")
                self.dirty = True
        m = _ARM64_KASLR.search(text)
        if m and self.defaults.name == "arm64":
            if m["what"] == "disabled":
                self._no_random(f"'KASLR disabled', line {line}")
            elif not self.random_sign:
                self.random_sign = f"'KASLR enabled', line {line}"
                self.dirty = True
        if "nokaslr" in text and _NOKASLR.search(text):
            self._no_random(f"nokaslr on the command line, line {line}")

    def _no_random(self, how: str) -> None:
        if not self.no_random:
            self.no_random = how
            self.dirty = True

    def _feed_extent(self, line: int, text: str, found: list[Finding]) -> None:
        """Keep the highest end of RAM or pmem (exclusive) and how it was found."""
        for f in found:
            end = None
            if f.kind is Kind.E820 and f.end is not None and f.type is not None \
                    and (f.type == "usable" or f.type.startswith("persistent")) \
                    and not f.note.startswith("e820 remove"):
                end, what = f.end + 1, f"{f.type} e820 range"
            elif f.kind is Kind.NODE_RANGE and "hotplug" in text:
                continue  # an ACPI SRAT range RAM may be plugged into later, not RAM yet
            elif f.kind in (Kind.ZONE, Kind.NODE_RANGE) and f.end is not None:
                end, what = f.end + 1, f"{f.kind.value.replace('_', ' ')} {f.type}"
            elif f.kind is Kind.ZONE and f.start is not None:
                end, what = f.start + 1, "movable zone start"
            elif f.kind is Kind.RAM_END and f.end is not None:
                end, what = f.end + 1, f.type or "last_pfn"
            elif f.kind is Kind.MEM_SIZE:
                m = _PHYS_MEM.match(text)
                size = int(m["v"], 16) if m else None
                if size is None:
                    mm = _MEMORY.match(text)
                    size = int(mm["total"]) << 10 if mm else None
                if size and (self.size_end is None or size + SIZE_SLACK > self.size_end[0]):
                    self.size_end = (size + SIZE_SLACK, f"RAM size {hx(size)} from line {line}, plus "
                                     f"{SIZE_SLACK >> 30} GiB for holes: RAM ends below {hx(size + SIZE_SLACK)}")
                    self.dirty = True
                continue
            if end is not None and (self.end is None or end > self.end[0]):
                self.end = (end, f"RAM ends at {hx(end)}: {what}, line {line}")
                self.dirty = True

    def feed(self, line: int, text: str) -> None:
        if self._pending_pfn or self._pending_va or self._fault:
            self._tick()
        if self.shift is None and ("Page orders" in text or "(order: " in text or "PAGE_SIZE" in text):
            self._feed_page_size(line, text)
        ctx = self.ctx
        ctx.start_line(line)
        if "Kernel Offset: " in text or "KASLR " in text or "nokaslr" in text:
            self._feed_kaslr(line, text)
        extent = _EXTENT.match(text, ctx)
        if extent:
            self._feed_extent(line, text, extent)
            ctx.start_line(line)
        formats = self.formats if len(self.vm_pairs) < MAX_PAIRS else \
            self._fewer[0] if len(self.dm_pairs) < MAX_PAIRS else self._fewer[1]
        found = formats.match(text, ctx)
        if self._fault is not None:
            found += _WALK.match(text, ctx)
        if (found or ctx.sightings) and self._feed_report(line, found, ctx.sightings or []):
            return
        if "pfn" in text:
            m = _LOOSE_PFN_LINE.match(text)
            if m:
                self._pending_pfn = (line, int(m["v"], 16), 2)
        for seen in ctx.sightings or ():
            if seen.source is Kind.KMEM and seen.page is not None and seen.pfn is not None:
                self._add(self.vm_pairs, Pair(line, line, seen.page, seen.pfn))
        if "addr" in text or "object at" in text:
            m = _KASAN_ADDR.search(text) or (_KASAN_OBJ.search(text) if self._pending_va is None else None)
            if m:
                self._pending_va = (line, ctx.layout.untag(int(m["a"], 16)), 80)
        if found or self._fault is not None:
            self._feed_others(line, text, found)

    def _feed_report(self, line: int, found: list[Finding], sightings: list[PageSeen]) -> bool:
        """A bad-page report's pfn waits for its page: line; a page: line with a raw
        pointer pairs it with its pfn (printed, or the report's)."""
        for f in found:
            if f.pfn is not None and ((f.kind is Kind.BAD_PAGE and f.type is None)
                                      or (f.kind is Kind.BAD_PAGE_MAP and f.type == "pte")):
                self._pending_pfn = (line, f.pfn, 3 if f.kind is Kind.BAD_PAGE else 4)
                return True
        seen = next((s for s in sightings if s.source is Kind.DUMP_PAGE), None)
        if seen is None:
            return False
        if seen.page is not None:
            if seen.pfn is not None:
                self._add(self.vm_pairs, Pair(line, line, seen.page, seen.pfn))
            elif self._pending_pfn is not None:
                self._add(self.vm_pairs, Pair(self._pending_pfn[0], line, seen.page, self._pending_pfn[1]))
        self._pending_pfn = None
        if seen.pfn is not None and self._pending_va is not None:
            self._add(self.dm_pairs, Pair(self._pending_va[0], line, self._pending_va[1], seen.pfn))
            self._pending_va = None
        return True

    def _feed_others(self, line: int, text: str, found: list[Finding]) -> None:
        """A fault waits for its walk, whose leaf entry pairs its address with a pfn; a
        32-bit layout table gives the direct map."""
        fault = next((f for f in found if f.kind is Kind.PAGE_FAULT), None)
        if fault is not None:
            self._fault = (line, fault.virt or 0, 8)
            if self.ctx.layout.is_x86:
                self.dirty = True  # the address waits for its walk
        elif self._fault is not None and self.ctx.layout.is_x86 and any(f.kind is Kind.PTE for f in found):
            # the walk: on one line, or one level per line (syslog splits dump_pagetable's
            # pr_cont pieces); its leaf carries the fault address
            ptes = [f for f in found if f.kind is Kind.PTE]
            leaf = next((f for f in ptes if f.virt is not None and f.phys is not None), None)
            if leaf is not None:
                self._add(self.dm_pairs, Pair(self._fault[0], line, self._fault[1], (leaf.phys or 0) >> 12))
                walk = (self._fault[1], leaf.phys or 0, "PRESENT" in leaf.flags)
                if len(self.walks) < MAX_PAIRS and walk not in self.walks:
                    self.walks.append(walk)
            if leaf is not None or len(ptes) > 1 or any("empty" in f.note for f in ptes):
                self._fault = None  # the walk is over: with its leaf, or empty before it
                self.dirty = True
        low = next((f for f in found if f.kind is Kind.VM_LAYOUT and f.type == "lowmem"), None)
        if low is not None and low.virt is not None and self.lowmem is None:
            self.lowmem = (line, low.virt)
            self.dirty = True

    def _feed_page_size(self, line: int, text: str) -> None:
        m = _PAGE_ORDERS.search(text)
        if m:
            self.shift = (line, int(m["s"]), f"'Page orders: ... virtual = {m['s']}'")
        else:
            m = _HASH_ORDER.search(text)
            if m:
                order, nbytes = int(m["o"]), int(m["b"])
                if order >= 1 and nbytes & (nbytes - 1) == 0 and nbytes.bit_length() - 1 - order >= 12:
                    s = nbytes.bit_length() - 1 - order
                    self.shift = (line, s, f"a hash table of {nbytes} bytes at order {order}")
            else:
                m = _PAGE_SIZE.search(text)
                if m:
                    n = int(m["n"]) << (10 if m["k"] else 0)
                    if n >= 4096 and n & (n - 1) == 0:
                        self.shift = (line, n.bit_length() - 1, f"'PAGE_SIZE {m['n']}{m['k'] or ''}'")
        if self.shift is not None:
            self.dirty = True

    # --- solving -------------------------------------------------------------------------
    def _defaults(self) -> ArchLayout:
        if self.shift is not None and self.shift[1] != self.defaults.page_shift:
            try:
                return arch_layout(self.arch, self.shift[1])
            except Exception:
                return self.defaults
        return self.defaults

    def result(self) -> Calibration:
        if not self.dirty and self._result is not None:
            return self._result
        d = self._defaults()
        found: list[tuple[int, str]] = []
        shift = d.page_shift
        if self.shift is not None:
            line, shift, how = self.shift
            found.append((line, f"page size: {1 << (shift - 10)}K (PAGE_SHIFT {shift}) from {how}, line {line}"))
        vm = solve_vmemmap(self.vm_pairs, d)
        dm = solve_direct(self.dm_pairs, self.lowmem, d)
        vm_base, size = d.vmemmap_base, d.struct_page_size
        page_offset = d.page_offset
        if vm is not None:
            vm_base, size, line, text = vm
            found.append((line, text))
        if dm is not None:
            page_offset, line, text = dm
            found.append((line, text))
        found.sort(key=lambda t: t[0])
        end = self.end or self.size_end
        awaiting = self._fault[1] if self._fault is not None and d.x86 else None
        self._result = Calibration(vm_base, size, page_offset, shift,
                                   tuple(t for _, t in found), tuple(n for n, _ in found),
                                   phys_end=end[0] if end else None, phys_end_how=end[1] if end else "",
                                   randomised=self._randomised(d, vm, dm), nokaslr=bool(self.no_random),
                                   nokaslr_how=self.no_random, walks=tuple(self.walks),
                                   awaiting_walk=awaiting)
        self.ctx.layout = make_layout(self.arch, self._result)
        self.dirty = False
        return self._result


    def _randomised(self, d: ArchLayout, vm: tuple[int, int, int, str] | None,
                    dm: tuple[int, int, str] | None) -> str:
        """Why the layout looks randomised: a sign in the log, or a base solved inside the
        KASLR window away from the default (x86_64)."""
        if self.random_sign:
            return self.random_sign
        win = d.kaslr_window
        if win is None:
            return ""
        older = dict(d.old_page_offsets)
        if dm is not None and dm[0] != d.page_offset and dm[0] not in older and win[0] <= dm[0] < win[1]:
            return f"the direct map solved at {hx(dm[0])}, not the default {hx(d.page_offset)}, line {dm[1]}"
        if vm is not None and vm[0] != d.vmemmap_base and win[0] <= vm[0] < win[1]:
            return f"the vmemmap solved at {hx(vm[0])}, not the default {hx(d.vmemmap_base or 0)}, line {vm[2]}"
        return ""

    def finish(self) -> Calibration:
        """The result once every line is read: a fault still waiting for its walk stops waiting."""
        if self._fault is not None:
            self._fault = None
            self.dirty = True
        return self.result()


def calibrate(lines: TextIO | Iterable[str], arch: str = "x86_64", *, skim: bool = True) -> Calibration:
    """Pass 1 over the raw lines: the layout this log implies (arch defaults otherwise).

    ``lines`` may be a file (read in blocks) or any iterable of lines.  With ``skim``
    False every line is read (the reference the skimming path is tested against).
    """
    return calibrate_blocks(blocks_of(lines), arch, skim=skim)


def calibrate_blocks(blocks: Iterable[Block], arch: str = "x86_64", *, skim: bool = True) -> Calibration:
    """`calibrate` over blocks of text (see `source.blocks_of`)."""
    cal = Calibrator(arch)
    for number, text in skim_lines(blocks, Anchors(cal.keys()) if skim else None, cal.quiet):
        cal.feed(number, text)
    return cal.finish()
