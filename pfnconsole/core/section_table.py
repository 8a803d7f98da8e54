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
"""

from __future__ import annotations

import time

from .arch import ArchProfile
from .cost import PathCost
from .kmap_pfn import KmapRange


class SectionTable:
    """Section number -> the live device ranges that overlap that section."""

    def __init__(self, arch: ArchProfile) -> None:
        self.arch = arch
        self.slots: dict[int, list[KmapRange]] = {}

    def _span(self, r: KmapRange) -> range:
        ssb = self.arch.section_size_bits
        return range(r.start >> ssb, (r.end >> ssb) + 1)

    def insert(self, r: KmapRange) -> None:
        for nr in self._span(r):
            self.slots.setdefault(nr, []).append(r)

    def remove(self, r: KmapRange) -> None:
        for nr in self._span(r):
            slot = self.slots.get(nr)
            if slot is None:
                continue
            slot.remove(r)
            if not slot:
                del self.slots[nr]

    def shared_with(self, r: KmapRange) -> dict[int, list[str]]:
        """The sections of ``r`` that other ranges claim too (only r's span is looked at)."""
        ends = (r.start >> self.arch.section_size_bits, r.end >> self.arch.section_size_bits)
        return {nr: [x.name for x in self.slots[nr]] for nr in ends
                if len(self.slots.get(nr, ())) > 1}

    def shared_sections(self) -> dict[int, list[str]]:
        """Sections claimed by more than one range (ranges not section aligned)."""
        return {nr: [r.name for r in s] for nr, s in self.slots.items() if len(s) > 1}

    def lookup(self, addr: int) -> tuple[KmapRange | None, PathCost]:
        """phys -> (range, cost): root load, slot load, bounds check within the slot."""
        t0 = time.perf_counter_ns()
        nr = addr >> self.arch.section_size_bits
        root, idx = divmod(nr, self.arch.sections_per_root)
        loads = 2
        found = None
        for i, r in enumerate(self.slots.get(nr, ())):
            if i:
                loads += 1
            if r.start <= addr <= r.end:
                found = r
                break
        ns = time.perf_counter_ns() - t0
        kva = found.base + (addr - found.start) if found else None
        detail = (f"section {nr} -> mem_section[{root}][{idx}]",)
        return found, PathCost("section", 0, loads, ns, kva, detail)
