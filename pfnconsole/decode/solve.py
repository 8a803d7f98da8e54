"""Solving the layout from the pairs a log shows: sizeof(struct page) and the vmemmap base
from (struct page pointer, pfn) pairs, the direct-map base from (address, pfn) pairs.

Two pointer pairs fix both unknowns exactly; one is enough when a candidate size (64, then
56, 72, 80) lands exactly on a known vmemmap base, or on a PUD-aligned base inside the
KASLR window (arm64: VMEMMAP_START minus memstart_addr's pfns).  `calibrate.Calibrator`
collects the pairs; these functions read them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.arch import ARCH_NAMES, ArchLayout, arch_layout
from ..core.units import hx

SIZES = (64, 56, 72, 80)
"""Candidate sizeof(struct page), most common first."""
PUD = 1 << 30


@dataclass(frozen=True)
class Pair:
    first: int
    last: int
    addr: int
    pfn: int

    def describe(self) -> str:
        lines = f"line {self.first}" if self.first == self.last else f"lines {self.first}-{self.last}"
        return f"{self.addr:x} with pfn {hx(self.pfn)} ({lines})"


def _other_vmemmaps() -> list[tuple[str, int]]:
    """The fixed vmemmap base of every other 64-bit arch: a log read as the wrong arch."""
    rows = (arch_layout(name) for name in ARCH_NAMES)
    return [(r.name, r.vmemmap_base) for r in rows if r.bases_fixed and r.vmemmap_base is not None]


def one_vm_pair(p: Pair, d: ArchLayout) -> tuple[int, int, str] | None:
    ptr, pfn = p.addr, p.pfn
    if not d.bases_fixed:  # arm64: VMEMMAP_START - memstart_pfn, this release's or an older one's
        best: tuple[tuple[int, int], int, int, str] | None = None
        older = tuple(start for start, _ in reversed(d.vmemmap_regions[:-1]))
        starts = (d.vmemmap_base, *older) if d.vmemmap_base else older
        for start in dict.fromkeys(starts):
            for rank, size in enumerate(SIZES):
                base = ptr - pfn * size
                diff = start - base
                if diff % size:
                    continue
                mpfn = diff // size
                memstart = mpfn << d.page_shift
                if memstart % (1 << d.section_size_bits) or abs(memstart) >= 1 << 48:
                    continue
                key = (abs(memstart), rank)
                if best is None or key < best[0]:
                    why = (f"VMEMMAP_START {hx(start)} - memstart_pfn {hx(mpfn)} x {size}"
                           f" (memstart_addr {hx(memstart)})")
                    best = (key, base, size, why)
        return None if best is None else best[1:]
    if d.vmemmap_base is not None:
        for size in SIZES:
            if ptr - pfn * size == d.vmemmap_base:
                why = f"{hx(d.vmemmap_base)} + {hx(pfn)} x {size} = {ptr:x}"
                if size != SIZES[0]:
                    why += f"; {SIZES[0]} bytes does not fit"
                return d.vmemmap_base, size, why
    for other, base0 in _other_vmemmaps():
        if other == d.name:
            continue
        for size in SIZES:
            if ptr - pfn * size == base0:
                return base0, size, (f"{hx(base0)} + {hx(pfn)} x {size} = {ptr:x}, the {other} "
                                     f"vmemmap: this log is probably from {other}")
    window = d.kaslr_window
    if window is not None:
        fits = [s for s in SIZES if (ptr - pfn * s) % PUD == 0 and window[0] <= ptr - pfn * s < window[1]]
        if fits:
            size = fits[0]
            base = ptr - pfn * size
            why = f"KASLR: {ptr:x} - {hx(pfn)} x {size} is 1 GiB aligned"
            if len(fits) > 1:
                why += f" (sizes {', '.join(map(str, fits[1:]))} also would be: ambiguous)"
            return base, size, why
    return None

def solve_vmemmap(pairs: list[Pair], d: ArchLayout) -> tuple[int, int, int, str] | None:
    if not pairs:
        return None
    for i, p in enumerate(pairs):
        for q in pairs[i + 1:]:
            if q.pfn == p.pfn:
                continue
            num, den = q.addr - p.addr, q.pfn - p.pfn
            if num % den:
                continue
            size = num // den
            if not (32 <= size <= 256 and size % 8 == 0):
                continue
            base = p.addr - p.pfn * size
            fits = [r for r in pairs if base + r.pfn * size == r.addr]
            text = (f"vmemmap: struct page is {size} bytes, vmemmap at {hx(base)}: solved exactly from "
                    f"{len(fits)} (pointer, pfn) pairs: " + ", ".join(r.describe() for r in fits[:4]))
            if len(fits) < len(pairs):
                text += f"; {len(pairs) - len(fits)} pair(s) do not fit"
            return base, size, max(r.last for r in fits), text
    for p in pairs:
        got = one_vm_pair(p, d)
        if got is None:
            continue
        base, size, why = got
        others = [q for q in pairs if q is not p]
        agree = sum(1 for q in others if base + q.pfn * size == q.addr)
        text = f"vmemmap: struct page is {size} bytes, vmemmap at {hx(base)}, from page {p.describe()}: {why}"
        if others:
            text += f"; {agree} of {len(others)} other pair(s) agree"
        return base, size, p.last, text
    return None

def solve_direct(dm_pairs: list[Pair], lowmem: tuple[int, int] | None, d: ArchLayout) -> tuple[int, int, str] | None:
    mask = ~((1 << d.page_shift) - 1)
    window = d.kaslr_window
    older = dict(d.old_page_offsets)
    for p in dm_pairs:
        base = (p.addr & mask) - (p.pfn << d.page_shift)
        if base == d.page_offset:
            why = "the default base fits"
        elif base in older:
            why = older[base]
        elif window is not None and base % PUD == 0 and window[0] <= base < window[1]:
            why = "KASLR: 1 GiB aligned"
        elif not d.bases_fixed and (d.page_offset - base) % (1 << d.section_size_bits) == 0 \
                and abs(d.page_offset - base) < 1 << 48:
            why = f"PAGE_OFFSET {hx(d.page_offset)} - PHYS_OFFSET {hx(d.page_offset - base)}"
        else:
            continue
        agree = sum(1 for q in dm_pairs if q is not p and (q.addr & mask) - (q.pfn << d.page_shift) == base)
        text = f"direct map: base {hx(base)} from address {p.describe()}: {why}"
        if len(dm_pairs) > 1:
            text += f"; {agree} of {len(dm_pairs) - 1} other pair(s) agree"
        return base, p.last, text
    if lowmem is not None and d.bits == 32:
        line, va = lowmem
        return va, line, f"direct map: lowmem starts at {hx(va)} (PAGE_OFFSET; PHYS_OFFSET taken as 0), line {line}"
    return None
