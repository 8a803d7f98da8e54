"""What the machine's operations and queries answer: frozen values, safe to keep."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .cost import PathCost
from .encodings import Decoded
from .kmap_pfn import KmapPath, KmapRange, RangeState, Step
from .sparse import MemSection


class KunmapKind(StrEnum):
    """Which branch kunmap_atomic_pfn_t() took (mm/kmap_pfn.c, patch v5 2/5)."""

    DEVICE = "device"
    """The scan found the address inside a range's [base, base + size): no kunmap_atomic()."""
    PAGE = "page"
    """Not in any listed range: kunmap_atomic(addr)."""


class TeardownState(StrEnum):
    """Where teardown_kmap() left its range."""

    FREED = "freed"
    """No reader was in the way: synchronize_rcu() returned and kfree() ran."""
    WAITING = "waiting"
    """Unlinked; the grace period waits for readers before kfree()."""


class AddrKind(StrEnum):
    """What a kernel virtual address points at (identify)."""

    STRUCT_PAGE = "struct page"
    DIRECT_MAP = "direct map"
    DEVICE_MAPPING = "device mapping"
    VMALLOC = "vmalloc/ioremap"
    MODULES = "modules"
    KERNEL_TEXT = "kernel text"
    FIXMAP = "fixmap"
    USER = "user"
    NON_CANONICAL = "non-canonical"
    UNKNOWN = "unknown"
    """Inside the layout but not a region the simulator names (KASAN shadow, PCI I/O, holes)."""


class Verdict(StrEnum):
    """identify()'s judgement of an access through a device mapping."""

    NONE = ""
    """No device range is involved."""
    OK = "ok"
    """The current CPU holds a kmap of the range: its RCU reader protects the access."""
    UNPROTECTED = "unprotected"
    """No kmap held: a teardown may free the range during the access."""
    USE_AFTER_FREE = "use-after-free"


@dataclass(frozen=True)
class RegisterResult:
    """devm_register_kmap_pfn_range(): the node and where it went."""

    range: KmapRange
    position: int
    """1: list_add_rcu() puts it right after the head."""
    list_len: int
    sections: tuple[int, int]
    """First and last section nr of [res->start, res->end]."""
    shared: dict[int, list[str]]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class KmapResult:
    """kmap_atomic_pfn_t(__pfn_t): the ``void *`` and what both paths cost."""

    value: int
    decoded: Decoded
    cpu: int
    path: KmapPath
    """PAGE, LIST or NONE (NULL returned, lock dropped)."""
    addr: int | None
    range: str | None
    mapping: int | None
    list_cost: PathCost
    section_cost: PathCost
    steps: tuple[Step, ...]
    agree: bool
    rcu_readers: int
    nesting: int
    warnings: tuple[str, ...]
    page_cost: PathCost
    """The page path: what kmap_atomic() of a struct page costs (the baseline)."""
    pgmap_cost: PathCost | None = None
    """get_dev_pagemap() for the pfn, where a dev_pagemap holds it (the merged design)."""


@dataclass(frozen=True)
class KunmapResult:
    """kunmap_atomic_pfn_t(void *addr) and the grace periods it ended."""

    addr: int
    cpu: int
    mapping: int
    kind: KunmapKind
    range: str | None
    list_cost: PathCost
    steps: tuple[Step, ...]
    rcu_readers: int
    gps_ended: tuple[int, ...]
    freed: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class TeardownResult:
    """teardown_kmap(): list_del_rcu(), synchronize_rcu(), kfree() when nobody reads."""

    name: str
    state: TeardownState
    gp: int
    waiting_cpus: tuple[int, ...]
    waiting_readers: tuple[int, ...]
    cpu: int
    """Where the unbind ran: the current CPU unless it was inside a reader."""


@dataclass(frozen=True)
class LookupResult:
    """Where a pfn is: memmap, e820, list path and section path (no mapping taken)."""

    pfn: int
    phys: int
    e820: str
    section: MemSection | None
    section_nr: int
    pfn_valid: bool
    page: int | None
    direct: int | None
    list_range: str | None
    section_range: str | None
    list_cost: PathCost
    section_cost: PathCost
    steps: tuple[Step, ...]
    agree: bool
    page_cost: PathCost | None = None
    """The page path for this pfn (set once the lookup is modelled)."""
    pgmap: str | None = None
    """The dev_pagemap (memremap_pages) whose pfns hold this one."""
    pgmap_cost: PathCost | None = None
    """get_dev_pagemap() for this pfn, costed (None before it is modelled)."""


@dataclass(frozen=True)
class PageResult:
    """One pfn's struct page: its address and what the console did to it."""

    pfn: int
    phys: int
    page: int | None
    e820: str
    section: MemSection | None
    section_nr: int
    pfn_valid: bool
    direct: int | None
    kmaps: int
    touches: int
    last: str
    node: int | None = None
    """early_pfn_to_nid(): the NUMA node whose range holds the pfn (None: in no node's range)."""
    head: int | None = None
    """The head pfn of the compound page (folio) holding this pfn, when there is one."""
    order: int | None = None
    compound: tuple[str, ...] = ()
    """How that kernel version records it (folio.describe)."""
    pgmap: str | None = None
    """The dev_pagemap holding the pfn (ZONE_DEVICE), when there is one."""
    zone_device: tuple[str, ...] = ()
    """What memremap_pages() did for it (memremap.describe_page)."""
    pgmap_set: bool = False
    """page->pgmap points at that dev_pagemap (not below pfn_first(), not before v4.5)."""


@dataclass(frozen=True)
class Identity:
    """identify(addr): what a kernel virtual address points at."""

    addr: int
    kind: AddrKind
    pfn: int | None
    phys: int | None
    range: str | None
    range_state: RangeState | None
    verdict: Verdict
    detail: str


@dataclass(frozen=True)
class CacheResult:
    """`cache`: the CPU profile in force and how warm each path's caches are."""

    profile: str
    title: str
    ghz: float
    levels: tuple[tuple[str, int, int], ...]
    """(name, bytes, cycles) per level."""
    dram_ns: float
    source: str
    warm_lines: dict[str, int]
    """Lines held, by path."""
    action: str
    """What the command did: show, cold, warm or profile."""
