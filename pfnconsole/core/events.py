"""Events the machine emits after a command succeeds, for live views to subscribe to.

Each event is a frozen dataclass; ``kind`` names it for front ends that dispatch on
strings.  A failing command emits nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Event:
    kind: ClassVar[str] = "event"


@dataclass(frozen=True)
class MachineBuilt(Event):
    kind: ClassVar[str] = "machine_built"
    arch: str
    ram_bytes: int
    sections_present: int


@dataclass(frozen=True)
class RangeRegistered(Event):
    """devm_register_kmap_pfn_range(): list_add_rcu() at the head."""

    kind: ClassVar[str] = "range_registered"
    name: str
    start: int
    end: int
    base: int


@dataclass(frozen=True)
class PagemapAdded(Event):
    """memremap_pages(): a range's struct pages in ZONE_DEVICE."""

    kind: ClassVar[str] = "pagemap_added"
    name: str
    start: int
    end: int
    type: str


@dataclass(frozen=True)
class PagemapRemoved(Event):
    kind: ClassVar[str] = "pagemap_removed"
    name: str


@dataclass(frozen=True)
class ScanStep(Event):
    """list_for_each_entry_rcu() visited one node."""

    kind: ClassVar[str] = "scan_step"
    op: str
    index: int
    name: str
    hit: bool
    loads: int
    model_ns: float
    """Modelled nanoseconds of this node's loads."""


@dataclass(frozen=True)
class ReaderEnter(Event):
    kind: ClassVar[str] = "reader_enter"
    cpu: int
    reader: int
    nesting: int
    readers: int
    why: str


@dataclass(frozen=True)
class ReaderExit(Event):
    kind: ClassVar[str] = "reader_exit"
    cpu: int
    reader: int
    nesting: int
    readers: int


@dataclass(frozen=True)
class MappingOpened(Event):
    kind: ClassVar[str] = "mapping_opened"
    addr: int
    pfn: int
    cpu: int
    path: str
    range: str | None


@dataclass(frozen=True)
class MappingClosed(Event):
    kind: ClassVar[str] = "mapping_closed"
    addr: int
    cpu: int


@dataclass(frozen=True)
class GracePeriodStart(Event):
    kind: ClassVar[str] = "grace_period_start"
    gp: int
    who: str
    waiting_cpus: tuple[int, ...]


@dataclass(frozen=True)
class GracePeriodEnd(Event):
    kind: ClassVar[str] = "grace_period_end"
    gp: int
    who: str


@dataclass(frozen=True)
class RangeUnlinked(Event):
    """list_del_rcu(): new readers can no longer find the range."""

    kind: ClassVar[str] = "range_unlinked"
    name: str


@dataclass(frozen=True)
class RangeFreed(Event):
    """kfree() after the grace period."""

    kind: ClassVar[str] = "range_freed"
    name: str


@dataclass(frozen=True)
class PageTouched(Event):
    kind: ClassVar[str] = "page_touched"
    pfn: int
    why: str


@dataclass(frozen=True)
class CostMeasured(Event):
    """Both paths' cost for one kmap, kunmap or lookup."""

    kind: ClassVar[str] = "cost_measured"
    op: str
    list_steps: int
    list_loads: int
    list_model_ns: float
    section_loads: int
    section_model_ns: float


@dataclass(frozen=True)
class CpuChanged(Event):
    kind: ClassVar[str] = "cpu_changed"
    cpu: int


@dataclass(frozen=True)
class Restored(Event):
    """The whole state was replaced (undo, reset): views should redraw from scratch."""

    kind: ClassVar[str] = "restored"
    why: str


Listener = Callable[[Event], None]
