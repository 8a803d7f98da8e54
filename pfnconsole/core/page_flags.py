"""``page->flags`` (``unsigned long``, 64 bits here) split by kernel version and configuration.

The word holds the ``enum pageflags`` bits from bit 0 upward and, packed down from bit 63,
the fields of include/linux/page-flags-layout.h: SECTION | NODE | ZONE | LAST_CPUPID |
KASAN_TAG | LRU_GEN | LRU_REFS.  Their widths come from the configuration (zones, nodes,
NR_CPUS, NUMA balancing, KASAN mode, MGLRU, memory model) and from ``NR_PAGEFLAGS``, which
itself depends on the version's enum and the configured members.  :func:`decode` does the
arithmetic and names the bits; :meth:`PageFlags.pgp` renders the word as the kernel's
``%pGp`` prints it (names in mmflags.h table order, then ``|node=…|zone=…`` from v5.13).

Sources for the layout rules, by era (include/linux/page-flags-layout.h):

* v4.14 .. v5.11: torvalds/linux @088fecfbb2c8 and the v5.10.13 text -- the LAST_CPUPID fit
  check counts ``NODES_SHIFT``; v5.0+ adds the 8-bit software KASAN tag.
* v5.12 .. v6.0: torvalds/linux @11db24b67fea -- software or hardware KASAN tags, the
  LAST_CPUPID check counts ``NODES_WIDTH``.
* v6.1+: Debian linux-source 6.1.176 / 6.12.117 / 7.2.13 -- ``LRU_GEN_WIDTH`` joins both fit
  checks and ``LRU_REFS_WIDTH`` takes what is left (at most 2 bits); 7.2 makes the
  hardware-tag KASAN field 4 bits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .errors import EngineError

BITS_PER_LONG = 64
U64_MAX = (1 << 64) - 1

#: Kernel versions with an ``enum pageflags`` table here (inclusive).
KVER_MIN = (4, 14, 0)
KVER_MAX = (7, 2, 99)
ARCHES = ("x86_64", "arm64")
MEMMODELS = ("vmemmap", "sparse")
KASAN_MODES = ("none", "sw", "hw")

Version = tuple[int, int, int]


# --- enum pageflags, by version -------------------------------------------------------------
#
# Each table is the unconditional run of include/linux/page-flags.h in bit order (bit = index).

#: v4.14 .. v4.19: harveydong/linux-4.14-comment include/linux/page-flags.h @218f86c3 (v4.14).
BASE_414: tuple[str, ...] = (
    "locked", "error", "referenced", "uptodate", "dirty", "lru", "active", "waiters", "slab",
    "owner_priv_1", "arch_1", "reserved", "private", "private_2", "writeback", "head",
    "mappedtodisk", "reclaim", "swapbacked", "unevictable")

#: v4.20 .. v6.6: PG_workingset added (v4.20).  KINGFIOX/linux-5.4.286 include/linux/page-flags.h
#: @1d9dffaa (v5.4) and Debian 6.1.176 include/linux/page-flags.h agree bit for bit.
BASE_420: tuple[str, ...] = (
    "locked", "referenced", "uptodate", "dirty", "lru", "active", "workingset", "waiters",
    "error", "slab", "owner_priv_1", "arch_1", "reserved", "private", "private_2", "writeback",
    "head", "mappedtodisk", "reclaim", "swapbacked", "unevictable")

#: v6.7 .. v6.9: "mm: Rearrange page flags" (Wilcox, Aug 2023) moves writeback to bit 1 and head
#: to bit 6; a v6.8 arm64 log (referenced|uptodate|private = bits 2, 3, 15) fits only this order.
BASE_67: tuple[str, ...] = (
    "locked", "writeback", "referenced", "uptodate", "dirty", "lru", "head", "waiters", "active",
    "workingset", "error", "slab", "owner_priv_1", "arch_1", "reserved", "private", "private_2",
    "mappedtodisk", "reclaim", "swapbacked", "unevictable")

#: v6.10 .. v6.11: as v6.7 without PG_slab (slab became a page type; a v6.10 log prints
#: ``page_type: …(slab)``).  Inferred: no tree of these releases was read.
BASE_610: tuple[str, ...] = tuple(n for n in BASE_67 if n != "slab")

#: v6.12 .. v6.13: Debian 6.12.117 include/linux/page-flags.h (PG_error and PG_slab gone,
#: PG_mappedtodisk an alias of the new PG_owner_2).
BASE_612: tuple[str, ...] = (
    "locked", "writeback", "referenced", "uptodate", "dirty", "lru", "head", "waiters", "active",
    "workingset", "owner_priv_1", "owner_2", "arch_1", "reserved", "private", "private_2",
    "reclaim", "swapbacked", "unevictable")

#: v6.14 .. v7.2: Debian 7.2.13 include/linux/page-flags.h adds PG_dropbehind after
#: unevictable (taken here to start with v6.14).
BASE_614: tuple[str, ...] = (*BASE_612, "dropbehind")

#: Print order of ``__def_pageflag_names`` (include/trace/events/mmflags.h), unconditional part.
#: v6.1 text (Debian 6.1.176); used for every version before v6.12 (entries absent from a
#: version's enum are skipped).
PRINT_61: tuple[str, ...] = (
    "locked", "waiters", "error", "referenced", "uptodate", "dirty", "lru", "active",
    "workingset", "slab", "owner_priv_1", "arch_1", "reserved", "private", "private_2",
    "writeback", "head", "mappedtodisk", "reclaim", "swapbacked", "unevictable")
#: v6.12 text (Debian 6.12.117); 7.2 adds dropbehind after unevictable.
PRINT_612: tuple[str, ...] = (
    "locked", "waiters", "referenced", "uptodate", "dirty", "lru", "active", "workingset",
    "owner_priv_1", "owner_2", "arch_1", "reserved", "private", "private_2", "writeback", "head",
    "reclaim", "swapbacked", "unevictable", "dropbehind")


@dataclass(frozen=True)
class Config:
    """The configuration a ``page->flags`` layout depends on.

    ``kver`` (X, Y, Z); ``nodes_shift`` is CONFIG_NODES_SHIFT (0: no NUMA); ``nr_cpus`` is
    CONFIG_NR_CPUS; ``memmodel`` "vmemmap" (SPARSEMEM_VMEMMAP) or "sparse" (classic
    SPARSEMEM, section number in the word); ``kasan`` "none", "sw" or "hw" tag mode;
    ``assumed`` names every value taken by default, as ``key=value (why)``.
    """

    kver: Version
    arch: str
    nodes_shift: int
    nr_cpus: int
    zone_device: bool
    memmodel: str
    numa_balancing: bool
    kasan: str
    lru_gen: bool
    assumed: tuple[str, ...] = ()

    @property
    def kver_text(self) -> str:
        x, y, z = self.kver
        return f"v{x}.{y}" + (f".{z}" if z else "")


# Members after the unconditional run, in enum order, with the condition that includes them.
_Cond = Callable[[Config], bool]
CONFIG_MEMBERS: tuple[tuple[str, _Cond], ...] = (
    ("mlocked", lambda c: True),                                    # CONFIG_MMU
    # CONFIG_ARCH_USES_PG_UNCACHED (x86 PAT): in v6.1, gone in v6.12 (taken as gone from v6.12).
    ("uncached", lambda c: c.arch == "x86_64" and c.kver < (6, 12, 0)),
    ("hwpoison", lambda c: True),                                   # CONFIG_MEMORY_FAILURE
    # CONFIG_PAGE_IDLE_FLAG && 64BIT: off in Debian 6.1 amd64/arm64, on in 6.12 and 7.2.
    ("young", lambda c: c.kver >= (6, 12, 0)),
    ("idle", lambda c: c.kver >= (6, 12, 0)),
    # v5.10 .. v6.11 CONFIG_64BIT; v6.12+ ARCH_USES_PG_ARCH_2 (arm64 MTE, x86 PAT).
    ("arch_2", lambda c: c.kver >= (5, 10, 0)),
    ("arch_3", lambda c: c.kver >= (6, 12, 0) and c.arch == "arm64"),  # ARCH_USES_PG_ARCH_3
    ("skip_kasan_poison", lambda c: (5, 15, 0) <= c.kver < (6, 12, 0) and c.kasan == "hw"),
)
#: mmflags.h prints the conditional entries in this order (v6.12+ puts idle before young).
PRINT_CFG_61 = ("mlocked", "uncached", "hwpoison", "young", "idle", "arch_2", "skip_kasan_poison")
PRINT_CFG_612 = ("mlocked", "hwpoison", "idle", "young", "arch_2", "arch_3")


def base_run(kver: Version) -> tuple[str, ...]:
    """The unconditional ``enum pageflags`` run of ``kver``, in bit order."""
    if kver < (4, 20, 0):
        return BASE_414
    if kver < (6, 7, 0):
        return BASE_420
    if kver < (6, 10, 0):
        return BASE_67
    if kver < (6, 12, 0):
        return BASE_610
    if kver < (6, 14, 0):
        return BASE_612
    return BASE_614


def enum_names(cfg: Config) -> tuple[str, ...]:
    """``enum pageflags`` for ``cfg`` without aliases, in bit order: len() is NR_PAGEFLAGS."""
    return base_run(cfg.kver) + tuple(n for n, cond in CONFIG_MEMBERS if cond(cfg))


ENUM_ALIASES = {"swapcache": "owner_priv_1"}
"""include/linux/page-flags.h: ``PG_swapcache = PG_owner_priv_1`` (VMCOREINFO exports the alias)."""


def exported_mismatches(cfg: Config, bits: Iterable[tuple[str, int]]) -> list[tuple[str, int, int | None]]:
    """(name, bit the kernel exported, bit in ``cfg``'s enum or None) for each exported
    ``PG_name`` bit (VMCOREINFO ``NUMBER(PG_…)``, ``PG_head`` from PG_head_mask) that the
    model's enum for ``cfg`` puts elsewhere."""
    names = enum_names(cfg)
    out = []
    for name, bit in bits:
        short = name.removeprefix("PG_")
        short = ENUM_ALIASES.get(short, short)
        ours = names.index(short) if short in names else None
        if ours != bit:
            out.append((name, bit, ours))
    return out


def print_order(cfg: Config, names: tuple[str, ...]) -> tuple[str, ...]:
    """The names of ``names`` in the order ``%pGp`` prints them."""
    table = ((*PRINT_612, *PRINT_CFG_612) if cfg.kver >= (6, 12, 0)
             else (*PRINT_61, *PRINT_CFG_61))
    present = set(names)
    return tuple(n for n in table if n in present)


# --- zones ----------------------------------------------------------------------------------

def zone_names(cfg: Config) -> tuple[str, ...]:
    """``enum zone_type`` (include/linux/mmzone.h), dense: absent zones shift the rest down.

    x86_64 and arm64 distribution kernels have ZONE_DMA and ZONE_DMA32; ZONE_MOVABLE is
    unconditional; ZONE_DEVICE follows CONFIG_ZONE_DEVICE.
    """
    return ("DMA", "DMA32", "NORMAL", "MOVABLE") + (("DEVICE",) if cfg.zone_device else ())


def zones_shift(nr_zones: int) -> int:
    """ZONES_SHIFT from MAX_NR_ZONES (the ladder of page-flags-layout.h)."""
    if nr_zones < 2:
        return 0
    if nr_zones <= 2:
        return 1
    if nr_zones <= 4:
        return 2
    if nr_zones <= 8:
        return 3
    raise EngineError(f"{nr_zones} zones do not fit ZONES_SHIFT (at most 8)")


def order_base_2(n: int) -> int:
    """ceil(log2(n)) for n >= 1, as the kernel's order_base_2()."""
    return (n - 1).bit_length()


# --- the layout -----------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldSpec:
    """One field of the word: ``width`` bits from bit ``lo`` (``X_PGSHIFT``); absent fields
    (width 0) are not listed."""

    name: str
    lo: int
    width: int

    @property
    def hi(self) -> int:
        return self.lo + self.width - 1


#: (arch) -> (MAX_PHYSMEM_BITS, SECTION_SIZE_BITS) with 4 KiB pages and 4-level tables.
ARCH_SPARSE = {"x86_64": (46, 27), "arm64": (48, 27)}
#: Kconfig maxima: x86_64 NODES_SHIFT 1..10, NR_CPUS 8192 (MAXSMP); arm64 NODES_SHIFT 1..10, NR_CPUS 4096.
ARCH_MAX_CPUS = {"x86_64": 8192, "arm64": 4096}


@dataclass(frozen=True)
class Layout:
    """Where each field of ``page->flags`` sits for one configuration.

    ``names`` is the enum (bit = index, ``len(names)`` = NR_PAGEFLAGS); ``fields`` run from the
    top of the word down and leave out zero-width ones; ``zones`` is enum zone_type.
    """

    config: Config
    names: tuple[str, ...]
    zones: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    notes: tuple[str, ...]

    @property
    def nr_pageflags(self) -> int:
        return len(self.names)

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


def layout(cfg: Config) -> Layout:
    """The widths and offsets of include/linux/page-flags-layout.h and mmzone.h for ``cfg``.

    Raises EngineError where the kernel's build would stop (``#error``).
    """
    names = enum_names(cfg)
    nr = len(names)
    free = BITS_PER_LONG - nr
    zones = zone_names(cfg)
    zw = zones_shift(len(zones))
    physmem, section_bits = ARCH_SPARSE[cfg.arch]
    sw = physmem - section_bits if cfg.memmodel == "sparse" else 0
    lru = 3 if cfg.lru_gen else 0            # order_base_2(MAX_NR_GENS + 1), MAX_NR_GENS = 4
    kw = 0
    if cfg.kasan == "sw":
        kw = 8
    elif cfg.kasan == "hw":
        kw = 4 if cfg.kver >= (7, 2, 0) else 8
    notes: list[str] = []
    if zw + lru + sw + cfg.nodes_shift <= free:
        nw = cfg.nodes_shift
    elif cfg.memmodel == "vmemmap":
        raise EngineError(f"{cfg.kver_text} {cfg.arch}: no space for the node field"
                          f" (#error \"Vmemmap: No space for nodes field in page flags\")")
    else:
        nw = 0
        notes.append("the node number does not fit (NODE_NOT_IN_PAGE_FLAGS): the kernel finds it"
                     " from the section number")
    cpupid_shift = 8 + order_base_2(cfg.nr_cpus) if cfg.numa_balancing else 0
    nodes_term = cfg.nodes_shift if cfg.kver < (5, 12, 0) else nw
    cw = cpupid_shift if zw + lru + sw + nodes_term + kw + cpupid_shift <= free else 0
    if cpupid_shift and not cw:
        notes.append("last_cpupid does not fit (LAST_CPUPID_NOT_IN_PAGE_FLAGS): it lives in"
                     " page->_last_cpupid instead")
    used = zw + lru + sw + nw + kw + cw
    if used > free:
        raise EngineError(f"{cfg.kver_text} {cfg.arch}: {used} field bits and {nr} flag bits do not"
                          f" fit in 64 (#error \"Not enough bits in page flags\")")
    refs = min(2, free - used) if cfg.lru_gen else 0
    specs: list[FieldSpec] = []
    top = BITS_PER_LONG
    for name, width in (("section", sw), ("node", nw), ("zone", zw), ("last_cpupid", cw),
                        ("kasan_tag", kw), ("lru_gen", lru), ("lru_refs", refs)):
        top -= width
        if width:
            specs.append(FieldSpec(name, top, width))
    return Layout(cfg, names, zones, tuple(specs), tuple(notes))


__all__ = ["ARCHES", "KASAN_MODES", "MEMMODELS", "Config", "FieldSpec", "Layout", "enum_names",
           "layout"]
