"""What a lookup costs, two ways: the modeled loads and the simulator's own time.

Loads are the model of the kernel's cost: pointer dereferences the C code makes, each
depending on the one before.  Nanoseconds come from ``time.perf_counter_ns`` around this
simulator's own Python code; they are labelled as such and never mixed with the loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CostPath(StrEnum):
    """The two ways of finding a device range's kernel virtual address."""

    LIST = "list"
    """The 2015 RCU list walk, list_for_each_entry_rcu() in mm/kmap_pfn.c."""
    SECTION = "section"
    """Boaz Harrosh's section-indexed table (section_table.py)."""


@dataclass(frozen=True)
class PathCost:
    """The cost of answering one request by one path."""

    path: CostPath
    steps: int
    """List nodes visited (0 for the section path)."""
    loads: int
    """Modeled dependent memory loads."""
    ns: int
    """Wall time of this simulator's code for the path, in nanoseconds."""
    answer: int | None
    """The kernel virtual address the path found, or None."""
    detail: tuple[str, ...] = ()
