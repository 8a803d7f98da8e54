"""Memory blocks: the hotplug unit /sys/devices/system/memory/memoryN shows.

A ``struct memory_block`` covers ``sections_per_block`` sections from ``start_section_nr``
(its ``phys_index``); memory_dev_init() (drivers/base/memory.c) adds one for every block of
boot memory with at least one present section, online. memremap_pages() adds its sections
with arch_add_memory() and makes no memory block, so ZONE_DEVICE memory has none.

The block size is memory_block_size_bytes(): MIN_MEMORY_BLOCK_SIZE (one section) by
default; x86_64's probe_memory_block_size() (arch/x86/mm/init_64.c) keeps that below
MEM_SIZE_FOR_LARGE_BLOCK (64 GiB of boot memory, max_pfn << PAGE_SHIFT) and above it takes
the largest power of two up to MAX_BLOCK_SIZE (2 GiB) that divides the end of boot memory
(bare-metal kernels since 2020 take MAX_BLOCK_SIZE outright). A block's ``valid_zones``
names its zone when one populated zone's span meets it, else "none" (it spans zones and
cannot be offlined).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

from .zones import ZoneSpan, block_node, node_zones

if TYPE_CHECKING:
    from .state import State

MEM_SIZE_FOR_LARGE_BLOCK = 64 << 30
"""arch/x86/mm/init_64.c: boot memory from which x86_64 uses larger blocks."""
MAX_BLOCK_SIZE = 2 << 30
"""arch/x86/mm/init_64.c: the largest x86_64 memory block."""


@dataclass(frozen=True)
class MemoryBlock:
    """One ``struct memory_block``: memoryN, its first section (phys_index) and state."""

    id: int
    start_section: int
    sections: int
    """Present sections in the block (section_count)."""
    state: str
    """"online" or "offline" (the sysfs ``state`` word)."""
    nid: int
    zones: str
    """``valid_zones`` of an online block: the zone's name, or "none" when it spans zones."""


def memory_block_size(s: State) -> tuple[int, str]:
    """(bytes, how known): the machine's own when it came with one, else the kernel's rule."""
    given = s.spec.block_size
    if given:
        return given, "as the machine's source gave it: sysfs, lsmem or the boot log"
    section = 1 << s.arch.section_size_bits
    if not s.arch.name.startswith("x86"):
        return section, "MIN_MEMORY_BLOCK_SIZE, one section (the generic memory_block_size_bytes())"
    ps = s.arch.page_shift
    ram = [r for r in s.physmap.ranges if r.type.is_ram]
    end = ((ram[-1].end + 1) >> ps << ps) if ram else 0  # max_pfn << PAGE_SHIFT
    if end < MEM_SIZE_FOR_LARGE_BLOCK:
        return section, "MIN_MEMORY_BLOCK_SIZE: boot memory ends below 64 GiB"
    bz = MAX_BLOCK_SIZE
    while bz > section and end % bz:
        bz >>= 1
    return bz, ("the largest block up to 2 GiB that divides the end of boot memory "
                "(a guest's choice; bare-metal kernels since 2020 take 2 GiB)")


def _zone_word(zones: list[ZoneSpan], nid: int, lo: int, hi: int) -> str:
    """valid_zones of an online block of pfns [lo, hi): early_node_zone_for_memory_block()."""
    meets = [z.name for z in zones if z.nid == nid and z.start_pfn < hi and lo < z.start_pfn + z.spanned]
    return meets[0] if len(meets) == 1 else "none"


def memory_blocks(s: State, limit: int = 1 << 20) -> list[MemoryBlock]:
    """The boot memory blocks, in order (at most ``limit``)."""
    bz, _ = memory_block_size(s)
    per = max(1, bz >> s.arch.section_size_bits)
    pss = s.arch.pfn_section_shift
    offline = set(s.spec.offline_blocks)
    zones = node_zones(s)
    counts: dict[int, int] = {}
    for run in s.sparse.boot_runs:
        nr = run.first
        while nr <= run.last and len(counts) <= limit:
            block = nr // per
            upto = min(run.last, (block + 1) * per - 1)
            counts[block] = counts.get(block, 0) + upto - nr + 1
            nr = upto + 1
    out = []
    for block in sorted(counts)[:limit]:
        lo = block * per << pss
        hi = (block + 1) * per << pss
        nid = block_node(s, lo, hi)
        state = "offline" if block in offline else "online"
        out.append(MemoryBlock(block, block * per, counts[block], state, nid,
                               _zone_word(zones, nid, lo, hi) if state == "online" else ""))
    return out


def section_places(s: State, first: int, last: int, zones: list[ZoneSpan] | None = None
                   ) -> list[tuple[int, int, int, str]]:
    """Sections first..last cut where the node or the zones change: (lo, hi, nid, zones),
    zones being the populated zones whose span meets the section ("DMA+DMA32" for one that
    holds both); "" where no zone does (ZONE_DEVICE only). ``zones``: `node_zones(s)`, when
    the caller has it already (one call per machine, not per run)."""
    pss = s.arch.pfn_section_shift
    zones = node_zones(s) if zones is None else zones
    cuts = {first, last + 1}
    for z in zones:
        for pfn in (z.start_pfn, z.start_pfn + z.spanned):
            nr = pfn >> pss
            cuts |= {c for c in (nr, nr + 1) if first < c <= last}
    for a, b, _ in s.spec.nodes or ():
        for pfn in (a >> s.arch.page_shift, (b + 1) >> s.arch.page_shift):
            nr = pfn >> pss
            cuts |= {c for c in (nr, nr + 1) if first < c <= last}
    out: list[tuple[int, int, int, str]] = []
    edges = sorted(cuts)
    for lo, nxt in pairwise(edges):
        plo, phi = lo << pss, nxt << pss
        nid = block_node(s, plo, phi)
        names = "+".join(z.name for z in zones
                         if z.nid == nid and z.start_pfn < phi and plo < z.start_pfn + z.spanned)
        if out and out[-1][2:] == (nid, names) and out[-1][1] + 1 == lo:
            out[-1] = (out[-1][0], nxt - 1, nid, names)
        else:
            out.append((lo, nxt - 1, nid, names))
    return out


__all__ = ["MAX_BLOCK_SIZE", "MEM_SIZE_FOR_LARGE_BLOCK", "MemoryBlock", "memory_block_size", "memory_blocks",
           "section_places"]
