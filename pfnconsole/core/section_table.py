"""The section path: device ranges recorded in a table indexed like mem_section.

Boaz Harrosh's answer to the 2015 patch was that "There is already an object that holds a
relationship of physical to Kernel-virtual. It is called a memory-section." (linux-mm,
13 Aug 2015).  This table widens each section slot with the kernel-virtual base of the
range covering it, so phys -> KVA is ``pfn_to_section_nr``, two loads and an add, whatever
the number of ranges.  (v4.5 did much the same for ZONE_DEVICE: pgmap_radix keyed by
section number, kernel-facts.md §8.2.)

Loads: ``mem_section[root]`` (1) and the slot (1), which holds the coded base and the
range bounds in one cache line.  A slot shared by ranges that are not section aligned
holds several candidates; each extra candidate checked costs one more load.

Storage is by range, not by section: the live ranges never overlap (check_new_range()
refuses it), so they are kept sorted by start (and so by end), and section ``nr``'s slot,
the ranges meeting ``[nr << SECTION_SIZE_BITS, (nr + 1) << SECTION_SIZE_BITS)``, is found
by two binary searches.  Insert, remove and lookup are O(log n) and memory is O(ranges),
whatever the size of the ranges.
"""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from collections.abc import ItemsView, Iterator, Mapping

from .arch import ArchProfile
from .cost import CostPath, PathCost
from .kmap_pfn import KmapRange
from .undo import UndoLog


class SectionTable:
    """Section number -> the live device ranges that overlap that section."""

    def __init__(self, arch: ArchProfile) -> None:
        self.arch = arch
        self._starts: list[int] = []
        """res->start of each range, ascending (phys_addr_t)."""
        self._ends: list[int] = []
        """res->end (inclusive) of the same ranges: ascending too, as they do not overlap."""
        self._ranges: list[KmapRange] = []
        self._added: list[int] = []
        """When each range was inserted: a slot lists its candidates in that order."""
        self._next = 0
        self.slots = SectionSlots(self)
        """The table as a read-only mapping, section nr -> ranges (built on demand)."""

    # --- changes ---------------------------------------------------------------------------
    def insert(self, r: KmapRange, undo: UndoLog | None = None) -> None:
        """Record a live range; it must not overlap one already in the table."""
        i = bisect_left(self._starts, r.start)
        if (i < len(self._ranges) and self._starts[i] <= r.end) or \
                (i > 0 and self._ends[i - 1] >= r.start):
            raise ValueError(f"section table: {r.name} overlaps a range already in it")
        self._put(i, r, self._next)
        self._next += 1
        if undo is not None:
            undo.push(self._undo_insert, i)

    def _put(self, i: int, r: KmapRange, added: int) -> None:
        self._starts.insert(i, r.start)
        self._ends.insert(i, r.end)
        self._ranges.insert(i, r)
        self._added.insert(i, added)

    def _drop(self, i: int) -> None:
        del self._starts[i], self._ends[i], self._ranges[i], self._added[i]

    def _undo_insert(self, i: int) -> None:
        self._drop(i)
        self._next -= 1

    def remove(self, r: KmapRange, undo: UndoLog | None = None) -> None:
        """Forget a range (list_del_rcu's twin); a range not in the table is ignored."""
        i = bisect_left(self._starts, r.start)
        if i < len(self._ranges) and self._ranges[i] is r:
            added = self._added[i]
            self._drop(i)
            if undo is not None:
                undo.push(self._put, i, r, added)

    # --- queries ---------------------------------------------------------------------------
    @property
    def ranges(self) -> tuple[KmapRange, ...]:
        """The ranges in the table, in insertion order (all a slot's contents derive from)."""
        order = sorted(range(len(self._ranges)), key=self._added.__getitem__)
        return tuple(self._ranges[i] for i in order)

    def slot(self, nr: int) -> list[KmapRange]:
        """Section ``nr``'s candidates in insertion order; empty when no range meets it."""
        ssb = self.arch.section_size_bits
        lo = nr << ssb
        hi = lo + (1 << ssb) - 1
        i = bisect_left(self._ends, lo)     # first range ending at or after the section
        j = bisect_right(self._starts, hi)  # ranges [i, j) start before it ends
        if j - i <= 1:
            return self._ranges[i:j]
        order = sorted(range(i, j), key=self._added.__getitem__)
        return [self._ranges[k] for k in order]

    def section_span(self, r: KmapRange) -> tuple[int, int]:
        """First and last section nr of ``r`` (pfn_to_section_nr of res->start and ->end)."""
        ssb = self.arch.section_size_bits
        return r.start >> ssb, r.end >> ssb

    def shared_with(self, r: KmapRange) -> dict[int, list[str]]:
        """The sections of ``r`` that other ranges claim too (only r's span is looked at)."""
        out: dict[int, list[str]] = {}
        for nr in self.section_span(r):
            slot = self.slot(nr)
            if len(slot) > 1:
                out[nr] = [x.name for x in slot]
        return out

    def shared_sections(self) -> dict[int, list[str]]:
        """Sections claimed by more than one range (ranges not section aligned).

        Inside a range every section is its own, so only the end sections can be shared.
        """
        ends = sorted({nr for r in self._ranges for nr in self.section_span(r)})
        out: dict[int, list[str]] = {}
        for nr in ends:
            slot = self.slot(nr)
            if len(slot) > 1:
                out[nr] = [r.name for r in slot]
        return out

    def runs(self) -> list[tuple[int, int, tuple[str, ...]]]:
        """The whole table in O(ranges): ``(first nr, last nr, names)`` for each stretch of
        consecutive sections whose slots hold the same ranges, ascending."""
        return [(lo, hi, tuple(r.name for r in slot)) for lo, hi, slot in self._runs()]

    def _runs(self) -> Iterator[tuple[int, int, list[KmapRange]]]:
        done = -1
        run: tuple[int, int, list[KmapRange]] | None = None
        for r in list(self._ranges):
            first, last = self.section_span(r)
            for lo, hi in ((first, first), (first + 1, last - 1), (last, last)):
                lo = max(lo, done + 1)  # a shared end section, the inside, the other end
                if lo > hi:
                    continue
                slot = self.slot(lo)
                if run and run[1] == lo - 1 and _same(run[2], slot):
                    run = (run[0], hi, slot)
                else:
                    if run:
                        yield run
                    run = (lo, hi, slot)
                done = hi
        if run:
            yield run

    def lookup(self, addr: int) -> tuple[KmapRange | None, PathCost]:
        """phys -> (range, cost): root load, slot load, bounds check within the slot."""
        t0 = time.perf_counter_ns()
        nr = addr >> self.arch.section_size_bits
        root, idx = divmod(nr, self.arch.sections_per_root)
        loads = 2
        found: KmapRange | None = None
        for i, r in enumerate(self.slot(nr)):
            if i:
                loads += 1
            if r.start <= addr <= r.end:
                found = r
                break
        ns = time.perf_counter_ns() - t0
        kva = found.base + (addr - found.start) if found else None
        detail = (f"section {nr} -> mem_section[{root}][{idx}]",)
        return found, PathCost(CostPath.SECTION, 0, loads, ns, kva, detail)


def _same(a: list[KmapRange], b: list[KmapRange]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


class SectionSlots(Mapping[int, list[KmapRange]]):
    """``SectionTable.slots``: section nr -> its candidate ranges, for callers that index
    the table by section.  ``[nr]``, ``in`` and ``len()`` cost O(log n) or O(n) in the
    number of ranges; iterating visits every section a range covers, so it costs what the
    ranges span (use ``SectionTable.runs()`` where that can be large)."""

    def __init__(self, table: SectionTable) -> None:
        self._table = table

    def __getitem__(self, nr: int) -> list[KmapRange]:
        slot = self._table.slot(nr) if isinstance(nr, int) and nr >= 0 else []
        if not slot:
            raise KeyError(nr)
        return slot

    def __len__(self) -> int:
        n, done = 0, -1
        for r in self._table._ranges:
            first, last = self._table.section_span(r)
            n += last - max(first, done + 1) + 1
            done = last
        return n

    def __iter__(self) -> Iterator[int]:
        for lo, hi, _ in self._table._runs():
            yield from range(lo, hi + 1)

    def items(self) -> ItemsView[int, list[KmapRange]]:
        return _SlotItems(self)


class _SlotItems(ItemsView[int, list[KmapRange]]):
    """(nr, slot) pairs a run at a time, without a search per section."""

    def __init__(self, slots: SectionSlots) -> None:
        super().__init__(slots)
        self._slots = slots

    def __iter__(self) -> Iterator[tuple[int, list[KmapRange]]]:
        for lo, hi, slot in self._slots._table._runs():
            for nr in range(lo, hi + 1):
                yield nr, list(slot)
