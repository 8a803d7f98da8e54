"""The zones of each node as free_area_init() sizes them, from the machine's memory map.

Each node spans its first to its last memblock pfn (memory is trimmed to whole pages:
start rounded up, end down, mm/memblock.c); each zone is the node's span clipped to the
zone's limits (x86_64 MAX_DMA_PFN 16 MiB, MAX_DMA32_PFN 4 GiB, arch/x86/mm/init.c
zone_sizes_init()): zone_spanned_pages_in_node() clamps the node's span to the zone's
limits, so ``spanned_pages`` includes holes and runs to the zone's limit when the node goes
on past it; ``present_pages`` counts the pages of memory. ``managed_pages`` (present less
what memblock reserved at boot) is not modelled. Zone limits are x86_64's; other arches
get one ZONE_NORMAL per node, said so.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

from .folio import X86_ZONES

if TYPE_CHECKING:
    from .state import State


@dataclass(frozen=True)
class ZoneSpan:
    """One ``struct zone``: pfns [start_pfn, start_pfn + spanned), present pages in it."""

    nid: int
    name: str
    start_pfn: int
    spanned: int
    present: int


def _memory_pfns(s: State) -> list[tuple[int, int]]:
    """[first, end) pfns of each RAM range, trimmed to whole pages as memblock does."""
    ps = s.arch.page_shift
    out = []
    for r in s.physmap.ranges:
        if r.type.is_ram:
            lo, hi = -(-r.start >> ps), (r.end + 1) >> ps
            if lo < hi:
                out.append((lo, hi))
    return out


def node_of(s: State, pfn: int) -> int:
    """The node whose memory range holds ``pfn``: 0 on a one-node machine, -1 in no node."""
    ps = s.arch.page_shift
    nodes = s.spec.nodes
    if nodes is None:
        return 0
    return next((nid for a, b, nid in nodes if a >> ps <= pfn <= b >> ps), -1)


def node_zones(s: State) -> list[ZoneSpan]:
    """Every populated zone of every node, in node then zone order."""
    ps = s.arch.page_shift
    pieces: dict[int, list[tuple[int, int]]] = {}
    for lo, hi in _memory_pfns(s):
        for pfn_lo, pfn_hi in _split_by_node(s, lo, hi):
            pieces.setdefault(node_of(s, pfn_lo), []).append((pfn_lo, pfn_hi))
    limits = ([(name, lo >> ps, min(hi, 1 << 64) >> ps) for name, lo, hi in X86_ZONES]
              if s.arch.name.startswith("x86") else [("Normal", 0, 1 << 64)])
    out: list[ZoneSpan] = []
    for nid in sorted(pieces):
        mem = pieces[nid]
        node_start, node_end = mem[0][0], mem[-1][1]
        for name, zlo, zhi in limits:
            inside = [(max(a, zlo), min(b, zhi)) for a, b in mem if a < zhi and zlo < b]
            if inside:  # zone_spanned_pages_in_node(): the node's span clamped to the zone
                start, end = min(max(node_start, zlo), zhi), min(max(node_end, zlo), zhi)
                out.append(ZoneSpan(nid, name, start, end - start, sum(b - a for a, b in inside)))
    return out


def block_node(s: State, lo: int, hi: int) -> int:
    """The node of the pfns [lo, hi): the first node range that meets them (0 without nodes)."""
    nodes = s.spec.nodes
    if nodes is None:
        return 0
    ps = s.arch.page_shift
    return next((nid for a, b, nid in nodes if a >> ps < hi and lo <= b >> ps), -1)


def _split_by_node(s: State, lo: int, hi: int) -> list[tuple[int, int]]:
    """[lo, hi) cut at the node boundaries."""
    nodes = s.spec.nodes
    if nodes is None:
        return [(lo, hi)]
    ps = s.arch.page_shift
    cuts = sorted({lo, hi} | {c for a, b, _ in nodes for c in (a >> ps, (b + 1) >> ps) if lo < c < hi})
    return list(pairwise(cuts))


__all__ = ["ZoneSpan", "block_node", "node_of", "node_zones"]
