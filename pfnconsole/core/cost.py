"""What a lookup costs: the modelled loads and time, and the simulator's own time.

Loads are the model of the kernel's cost: pointer dereferences the C code makes, each
depending on the one before.  `paths.py` places each load on a cache line and the cache
model (`cache.py`) turns it into cycles and nanoseconds under a CPU profile: the
modelled time.  ``sim_ns`` comes from ``time.perf_counter_ns`` around this simulator's
own Python code; it is labelled simulator time and never mixed with the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .cache import Load


class CostPath(StrEnum):
    """The ways of finding a device pfn's mapping or pgmap, and the page path beside them."""

    LIST = "list"
    """The 2015 RCU list walk, list_for_each_entry_rcu() in mm/kmap_pfn.c."""
    SECTION = "section"
    """Boaz Harrosh's section-indexed table (section_table.py)."""
    PAGE = "page"
    """page_address(pfn_to_page(pfn)): what a pfn with a struct page costs (paths.py)."""
    PGMAP = "pgmap"
    """get_dev_pagemap(): what the merged kernel looks up for a ZONE_DEVICE pfn (memremap.py)."""


@dataclass(frozen=True)
class PathCost:
    """The cost of answering one request by one path."""

    path: CostPath
    steps: int
    """List nodes visited (0 for the section path)."""
    loads: int
    """Modelled dependent memory loads."""
    sim_ns: int
    """Simulator time: this Python code's own wall time for the path, in nanoseconds."""
    answer: int | None
    """The kernel virtual address the path found, or None."""
    detail: tuple[str, ...] = ()
    trace: tuple[Load, ...] = ()
    """Each load with the cache level it hit (paths.model); empty until modelled."""
    cycles: float = 0.0
    """Modelled core cycles: the loads' latencies (and the page path's arithmetic)."""
    model_ns: float = 0.0
    """Modelled nanoseconds under the CPU profile in force."""
    needed: bool = True
    """False where the kernel would not take this path at all (a section lookup for a
    pfn that has a struct page)."""
