"""Where each path's loads fall, and what they cost under the cache model.

The simulated kernel addresses of the modelled structures (x86_64 layout; the numbers are
the simulator's choice, the shape is the kernel's):

* ``static LIST_HEAD(ranges)`` in ``.data``: one line of its own;
* each ``struct kmap`` (``list.next`` at offset 0, ``res`` at 16, ``base`` at 32; 40 bytes)
  kzalloc'd from kmalloc-64, so a line of its own, on a page of its own;
* each ``struct resource`` (``start`` at 0, ``end`` at 8; 56 bytes) allocated by its
  driver, elsewhere: another line;
* the reviewer's table: ``mem_section[]`` root pointers (8 bytes each, eight to a line)
  and, per section, a slot widened to one line (base and bounds together);
* on x86_64 from v4.8 (CONFIG_RANDOMIZE_MEMORY), ``page_offset_base`` and
  ``vmemmap_base``: two ``unsigned long`` variables, side by side on one line; before
  v4.8 both are link-time constants and the page path loads nothing.

`model` runs a path's loads, in order, through that path's own caches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from .cache import Caches, Level, Load
from .cost import CostPath, PathCost
from .cpu_profiles import ALU_CYCLES_PAGE_ADDRESS, PROFILES
from .errors import EngineError
from .kmap_pfn import KmapRange, Step
from .results import CacheResult
from .undo import UndoLog

if TYPE_CHECKING:
    from .results import LookupResult
    from .state import State

RANGES_HEAD = 0xFFFFFFFF82A1C5C0
"""``&ranges`` (``ranges.next`` is its first word)."""
KMAP_SLAB = 0xFFFF888100000000
"""Where the simulated kmalloc-64 pages of ``struct kmap`` start."""
RESOURCE_SLAB = 0xFFFF888110000000
"""Where the drivers' ``struct resource`` objects start."""
MEM_SECTION_ROOTS = 0xFFFFFFFF83400000
"""``mem_section[]``: the root pointers (SPARSEMEM_EXTREME)."""
SECTION_SLOTS = 0xFFFF888120000000
"""The widened slots, one 64-byte line per section, a root's slots together."""
SLOT_OVERFLOW = 0xFFFF888130000000
"""Where a shared slot keeps its further candidates, a line each (up to four a section)."""
PAGE_OFFSET_BASE = 0xFFFFFFFF82E0A100
"""``page_offset_base``; ``vmemmap_base`` is the next-but-one word on the same line."""

Trace = list[tuple[str, int]]
"""(C expression, simulated address) of each dependent load, in order."""


def kmap_at(r: KmapRange) -> int:
    """The ``struct kmap`` of ``r``: a 4 KiB page per object, staggered by 64 bytes."""
    return KMAP_SLAB + r.seq * 0x1000 + (r.seq % 64) * 64


def resource_at(r: KmapRange) -> int:
    return RESOURCE_SLAB + r.seq * 0x1000 + ((r.seq * 7) % 64) * 64


def list_phys_trace(nodes: Sequence[KmapRange], steps: Sequence[Step], hit: bool) -> Trace:
    """kmap_atomic_pfn_t()'s walk: per node the reaching ``next``, ``kmap->res``,
    ``res->start``, ``res->end`` when ``addr >= start``, ``kmap->base`` on the hit; after a
    miss, the last ``next`` that leads back to the head."""
    out: Trace = []
    prev: KmapRange | None = None
    for node, st in zip(nodes, steps, strict=True):
        out.append(_reach(prev))
        out.append(("kmap->res", kmap_at(node) + 16))
        out.append(("res->start", resource_at(node)))
        if st.loads >= 4:
            out.append(("res->end", resource_at(node) + 8))
        if st.hit:
            out.append(("kmap->base", kmap_at(node) + 32))
        prev = node
    if not hit:
        out.append(_reach(prev))
    return out


def list_kva_trace(nodes: Sequence[KmapRange], hit: bool) -> Trace:
    """kunmap_atomic_pfn_t()'s walk: the reaching ``next``, ``kmap->base``, ``kmap->res``,
    ``res->start``, ``res->end`` per node (the left side of its && reads them all)."""
    out: Trace = []
    prev: KmapRange | None = None
    for node in nodes:
        out += [_reach(prev), ("kmap->base", kmap_at(node) + 32), ("kmap->res", kmap_at(node) + 16),
                ("res->start", resource_at(node)), ("res->end", resource_at(node) + 8)]
        prev = node
    if not hit:
        out.append(_reach(prev))
    return out


def _reach(prev: KmapRange | None) -> tuple[str, int]:
    return ("ranges.next", RANGES_HEAD) if prev is None else ("kmap->list.next", kmap_at(prev))


def section_trace(nr: int, sections_per_root: int, loads: int) -> Trace:
    """``mem_section[root]``, then the slot; each further candidate range in a shared slot
    is one more load (its bounds, on a line of its own)."""
    root, idx = divmod(nr, sections_per_root)
    slot = SECTION_SLOTS + (root * sections_per_root + idx) * 64
    out: Trace = [(f"mem_section[{root}]", MEM_SECTION_ROOTS + 8 * root),
                  (f"mem_section[{root}][{idx}]", slot)]
    for i in range(2, loads):
        out.append((f"slot candidate {i}", SLOT_OVERFLOW + (root * sections_per_root + idx) * 256
                    + (i - 2) * 64))
    return out


def page_trace(randomized: bool) -> Trace:
    """page_address(pfn_to_page(pfn)) on x86_64: the two base variables, or nothing."""
    if not randomized:
        return []
    return [("vmemmap_base", PAGE_OFFSET_BASE + 16), ("page_offset_base", PAGE_OFFSET_BASE)]


def randomized_bases(arch_name: str, kver: tuple[int, int]) -> bool:
    """CONFIG_RANDOMIZE_MEMORY (v4.8+, x86_64) makes the bases variables."""
    return arch_name.startswith("x86_64") and kver >= (4, 8)


def page_cost(caches: Caches, randomized: bool, answer: int | None, log: UndoLog,
              detail: str = "") -> PathCost:
    """The page path, modelled: the base variables' loads and the arithmetic."""
    trace = page_trace(randomized)
    base = PathCost(CostPath.PAGE, 0, len(trace), 0, answer,
                    (detail or ("page_address(): arithmetic on vmemmap_base and page_offset_base"
                                if randomized else "page_address(): arithmetic on link-time "
                                "constants, no load"),))
    return model(caches, base, trace, log, alu=ALU_CYCLES_PAGE_ADDRESS)


def model(caches: Caches, cost: PathCost, trace: Trace, log: UndoLog, alu: int = 0) -> PathCost:
    """``cost`` with its loads run through ``caches`` in order (changes pushed on ``log``)."""
    if len(trace) != cost.loads:
        raise AssertionError(f"{cost.path}: {cost.loads} loads counted, {len(trace)} placed")
    loads = tuple(caches.run(trace, log))
    cycles = sum(x.cycles for x in loads) + alu
    # built directly: dataclasses.replace() costs more than the loads themselves
    return PathCost(cost.path, cost.steps, cost.loads, cost.sim_ns, cost.answer, cost.detail, loads,
                    cycles, cycles / caches.profile.ghz, cost.needed)


def per_step(steps: Sequence[Step], loads: Sequence[Load]) -> tuple[Step, ...]:
    """Each node's share of the walk's modelled loads (they come in node order)."""
    out, i = [], 0
    l1 = Level.L1
    for st in steps:
        mine = loads[i:i + st.loads]
        i += st.loads
        cycles = 0.0
        ns = 0.0
        misses = 0
        for x in mine:
            cycles += x[3]
            ns += x[4]
            misses += x[2] is not l1
        out.append(Step(st.index, st.name, st.hit, st.loads, st.sim_ns, cycles, ns, misses))
    return tuple(out)


def not_needed(path: CostPath, why: str) -> PathCost:
    """A path the kernel would not take for this request."""
    return PathCost(path, 0, 0, 0, None, (why,), needed=False)


BASELINE = ("what a pfn with a struct page pays (ZONE_DEVICE gave pmem struct pages in "
            "v4.3+): page_address(), the reviewer's baseline")


def model_scan_phys(s: State, phys: int, log: UndoLog
                    ) -> tuple[KmapRange | None, tuple[Step, ...], PathCost, KmapRange | None, PathCost]:
    """kmap_atomic_pfn_t()'s walk and the section lookup for ``phys``, both modelled, each
    in its own caches: (node, steps, list cost, section node, section cost)."""
    visited = list(s.kmap.nodes)
    node, step_list, list_cost = s.kmap.scan_phys(phys)
    list_cost = model(s.caches[CostPath.LIST], list_cost,
                      list_phys_trace(visited[:len(step_list)], step_list, node is not None), log)
    snode, section_cost = s.table.lookup(phys)
    nr = phys >> s.arch.section_size_bits
    section_cost = model(s.caches[CostPath.SECTION], section_cost,
                         section_trace(nr, s.arch.sections_per_root, section_cost.loads), log)
    return node, per_step(step_list, list_cost.trace), list_cost, snode, section_cost


def model_scan_kva(s: State, addr: int, log: UndoLog
                   ) -> tuple[KmapRange | None, tuple[Step, ...], PathCost]:
    """kunmap_atomic_pfn_t()'s walk for ``addr``, modelled in the list path's caches."""
    visited = list(s.kmap.nodes)
    node, step_list, cost = s.kmap.scan_kva(addr)
    cost = model(s.caches[CostPath.LIST], cost,
                 list_kva_trace(visited[:len(step_list)], node is not None), log)
    return node, per_step(step_list, cost.trace), cost


def model_lookup(s: State, r: LookupResult) -> LookupResult:
    """`lookup` costed against the caches as they are now, which it leaves unchanged: the
    loads run and are then taken back."""
    log = UndoLog()
    try:
        lc = model(s.caches[CostPath.LIST], r.list_cost,
                   list_phys_trace(s.kmap.nodes[:len(r.steps)], r.steps, r.list_range is not None),
                   log)
        sc = model(s.caches[CostPath.SECTION], r.section_cost,
                   section_trace(r.section_nr, s.arch.sections_per_root, r.section_cost.loads), log)
        pc = page_cost(s.caches[CostPath.PAGE], randomized_bases(s.arch.name, s.kver), r.direct,
                       log, "" if r.pfn_valid else BASELINE)
    finally:
        log.rollback()
    return replace(r, list_cost=lc, section_cost=sc, steps=per_step(r.steps, lc.trace),
                   page_cost=pc)


def set_caches(s: State, action: str, profile: str | None, log: UndoLog) -> None:
    """`cache cold`, `cache warm`, `cache profile NAME`; EngineError before any change."""
    if action == "profile":
        if profile not in PROFILES:
            raise EngineError(f"cache profile {profile!r}: known profiles are "
                              + ", ".join(PROFILES))
        log.push(setattr, s, "caches", s.caches)
        log.push(setattr, s, "profile", s.profile)
        s.profile, s.caches = profile, {p: Caches(PROFILES[profile]) for p in CostPath}
    elif action == "cold":
        for c in s.caches.values():
            c.clear(log)
    elif action == "warm":
        _warm(s, log)
    else:
        raise EngineError(f"cache {action!r}: use cache cold, cache warm or cache profile NAME")


def _warm(s: State, log: UndoLog) -> None:
    """Every line each path can read, loaded once (oldest range first, so the newest end
    up most recent); no more lines than the last level holds."""
    lc, sc, pc = (s.caches[p] for p in (CostPath.LIST, CostPath.SECTION, CostPath.PAGE))
    room = lc.levels[-1].capacity
    lines: Trace = [("ranges.next", RANGES_HEAD)]
    for node in reversed(s.kmap.nodes):
        lines += [("struct kmap", kmap_at(node)), ("struct resource", resource_at(node))]
    lc.run(lines[-room:], log)
    spr = s.arch.sections_per_root
    slots: Trace = []
    for lo, hi, _ in s.table.runs():
        for nr in range(lo, min(hi + 1, lo + room)):
            slots += section_trace(nr, spr, 2)
        if len(slots) >= 2 * room:
            break
    sc.run(slots[-2 * room:], log)
    pc.run(page_trace(randomized_bases(s.arch.name, s.kver)), log)


def cache_result(s: State, action: str) -> CacheResult:
    p = PROFILES[s.profile]
    return CacheResult(p.name, p.title, p.ghz, tuple((lv.name, lv.size, lv.cycles) for lv in p.levels),
                       p.dram_ns, p.source, {str(k): c.warm_lines() for k, c in s.caches.items()},
                       action)
