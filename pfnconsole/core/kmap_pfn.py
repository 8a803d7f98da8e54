"""The 2015 kmap_pfn registry: an RCU-protected list of device ranges, newest first.

Mirrors mm/kmap_pfn.c from "[PATCH v5 2/5] allow mapping page-less memremaped areas into
KVA" (kernel-facts.md §0.2): ``struct kmap { list; res; dev; base; }`` on a global
``ranges`` list; registration is list_add_rcu() (insert after the head) under ``register_lock``;
teardown is list_del_rcu() under the lock, then synchronize_rcu() and kfree() outside it.
"""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass
from enum import StrEnum

from .cost import CostPath, PathCost
from .errors import EngineError
from .undo import UndoLog


class RangeState(StrEnum):
    """Where a ``struct kmap`` is in its life (teardown_kmap() in mm/kmap_pfn.c)."""

    LIVE = "live"
    """On the ``ranges`` list."""
    UNLINKED = "unlinked"
    """list_del_rcu() done; synchronize_rcu() is waiting for readers."""
    FREED = "freed"
    """kfree(kmap) after the grace period."""


class KmapPath(StrEnum):
    """What kmap_atomic_pfn_t() did with a ``__pfn_t`` (mm/kmap_pfn.c, patch v5 2/5)."""

    PAGE = "page"
    """__pfn_t_has_page(): kmap_atomic(page), the direct map on 64-bit."""
    LIST = "list"
    """PFN_DEV: found in a registered range, ``kmap->base + addr - res->start``."""
    NONE = "none"
    """PFN_DEV and no range holds it: rcu_read_unlock(), return NULL."""


@dataclass(slots=True)
class KmapRange:
    """``struct kmap`` with its ``struct resource``: phys ``[start, end]`` inclusive."""

    name: str
    start: int
    end: int
    """res->end, inclusive like every struct resource."""
    base: int
    """``void *base``: the kernel virtual address of ``start`` (memremap result)."""
    seq: int
    """Registration order, 1 for the first range ever registered."""
    state: RangeState = RangeState.LIVE
    gp: int | None = None

    @property
    def size(self) -> int:
        """resource_size(res) = end - start + 1."""
        return self.end - self.start + 1

    def holds_phys(self, addr: int) -> bool:
        return self.start <= addr <= self.end

    def holds_kva(self, addr: int) -> bool:
        """kunmap_atomic_pfn_t()'s test: base <= addr < base + resource_size(res)."""
        return self.base <= addr < self.base + self.size


@dataclass(frozen=True)
class Step:
    """One node visited by list_for_each_entry_rcu()."""

    index: int
    name: str
    hit: bool
    loads: int
    sim_ns: int
    """Simulator time for this node (Python's own nanoseconds)."""
    cycles: float = 0.0
    """Modelled cycles of this node's loads (paths.model)."""
    model_ns: float = 0.0
    misses: int = 0
    """Of this node's loads, how many missed L1."""


@dataclass
class KmapList:
    """``static LIST_HEAD(ranges)``: element 0 is ``ranges.next`` (the newest)."""

    nodes: list[KmapRange]

    def list_add_rcu(self, node: KmapRange, undo: UndoLog | None = None) -> None:
        """Insert right after the head: the newest range is scanned first."""
        self.nodes.insert(0, node)
        if undo is not None:
            undo.push(self.nodes.pop, 0)

    def list_del_rcu(self, node: KmapRange, undo: UndoLog | None = None) -> None:
        i = next(i for i, n in enumerate(self.nodes) if n is node)
        del self.nodes[i]
        if undo is not None:
            undo.push(self.nodes.insert, i, node)

    def scan_phys(self, addr: int) -> tuple[KmapRange | None, list[Step], PathCost]:
        """kmap_atomic_pfn_t()'s loop: the first node with start <= addr <= end.

        Loads per node: the pointer that reached it (``head->next`` or ``prev->next``),
        ``kmap->res``, ``res->start``, ``res->end`` when ``addr >= start`` (the && short
        circuits), and ``kmap->base`` on a hit.  A miss also reads the last ``next``
        that leads back to the head.
        """
        steps: list[Step] = []
        total = 0
        t_all = time.perf_counter_ns()
        for i, node in enumerate(self.nodes, 1):
            t0 = time.perf_counter_ns()
            loads = 3
            hit = False
            if addr >= node.start:
                loads += 1
                if addr <= node.end:
                    hit = True
                    loads += 1
            ns = time.perf_counter_ns() - t0
            steps.append(Step(i, node.name, hit, loads, ns))
            total += loads
            if hit:
                kva = node.base + (addr - node.start)
                return node, steps, PathCost(CostPath.LIST, i, total, time.perf_counter_ns() - t_all,
                                             kva)
        total += 1
        return None, steps, PathCost(CostPath.LIST, len(steps), total,
                                     time.perf_counter_ns() - t_all, None)

    def scan_kva(self, addr: int) -> tuple[KmapRange | None, list[Step], PathCost]:
        """kunmap_atomic_pfn_t()'s loop: is ``addr`` inside some range's [base, base+size)?

        The C test is ``addr < kmap->base + resource_size(kmap->res) && addr >= kmap->base``:
        its left side comes first, so every node costs the reaching pointer,
        ``kmap->base``, ``kmap->res``, ``res->start`` and ``res->end``.  A miss also reads
        the last ``next`` that leads back to the head.
        """
        steps: list[Step] = []
        total = 0
        t_all = time.perf_counter_ns()
        for i, node in enumerate(self.nodes, 1):
            t0 = time.perf_counter_ns()
            hit = node.base <= addr < node.base + node.size
            ns = time.perf_counter_ns() - t0
            steps.append(Step(i, node.name, hit, 5, ns))
            total += 5
            if hit:
                return node, steps, PathCost(CostPath.LIST, i, total, time.perf_counter_ns() - t_all,
                                             addr)
        total += 1
        return None, steps, PathCost(CostPath.LIST, len(steps), total,
                                     time.perf_counter_ns() - t_all, None)


class IntervalIndex:
    """Non-overlapping inclusive intervals kept sorted, for O(log n) overlap checks."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.items: dict[int, tuple[int, str]] = {}
        """start -> (end, owner name)."""

    def overlapping(self, start: int, end: int) -> str | None:
        """The owner of the lowest interval that meets [start, end], if any."""
        i = bisect_right(self.starts, start) - 1
        if i >= 0:
            e, name = self.items[self.starts[i]]
            if e >= start:
                return name
        if i + 1 < len(self.starts) and self.starts[i + 1] <= end:
            return self.items[self.starts[i + 1]][1]
        return None

    def add(self, start: int, end: int, name: str, undo: UndoLog | None = None) -> None:
        insort(self.starts, start)
        self.items[start] = (end, name)
        if undo is not None:
            undo.push(self.remove, start)

    def remove(self, start: int, undo: UndoLog | None = None) -> None:
        i = bisect_left(self.starts, start)
        if i < len(self.starts) and self.starts[i] == start:
            del self.starts[i]
            end, name = self.items.pop(start)
            if undo is not None:
                undo.push(self.add, start, end, name)


def check_new_range(name: str, start: int, size: int, base: int,
                    known: dict[str, KmapRange], max_physmem_bits: int,
                    phys: IntervalIndex, kva: IntervalIndex) -> None:
    """Validate a registration before anything changes; raise EngineError if refused.

    The 2015 code accepts anything; the simulator refuses what would make its answers
    meaningless (overlaps, empty or out-of-range resources) and says why.  ``phys`` and
    ``kva`` index the ranges not yet freed.
    """
    if not name or not (name[0].isalpha() or name[0] == "_") or len(name) > 64 or not all(
            c.isalnum() or c in "_-." for c in name):
        raise EngineError(f"range name {name[:70]!r}: use up to 64 letters, digits, '_', '-' "
                          "or '.', starting with a letter")
    if name in known and known[name].state != RangeState.FREED:
        raise EngineError(f"a range named {name!r} is already registered "
                          f"({known[name].state}); pick another name")
    if size <= 0:
        raise EngineError(f"register {name}: size must be more than 0 (got {size:#x})")
    if start < 0:
        raise EngineError(f"register {name}: start {start:#x} is negative")
    end = start + size - 1
    if end >= 1 << max_physmem_bits:
        raise EngineError(
            f"register {name}: [{start:#x}-{end:#x}] goes beyond MAX_PHYSMEM_BITS="
            f"{max_physmem_bits} (highest physical address {(1 << max_physmem_bits) - 1:#x})")
    if base < 0 or base + size > 1 << 64:
        raise EngineError(f"register {name}: base {base:#x} + size does not fit in 64 bits")
    other = phys.overlapping(start, end)
    if other is not None:
        o = known[other]
        raise EngineError(
            f"register {name}: [{start:#x}-{end:#x}] overlaps {o.name} "
            f"[{o.start:#x}-{o.end:#x}] ({o.state})")
    other = kva.overlapping(base, base + size - 1)
    if other is not None:
        raise EngineError(
            f"register {name}: base {base:#x} overlaps the mapping of {other} "
            f"at {known[other].base:#x}")
