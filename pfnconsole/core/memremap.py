"""ZONE_DEVICE: memremap_pages(), ``struct dev_pagemap`` and ``struct vmem_altmap`` by version.

What the kernel merged instead of the 2015 list (kernel/memremap.c v4.3, v4.10, v4.20;
mm/memremap.c v5.3, v5.11, v6.0, v6.18): a driver hands a physical range to
``devm_memremap_pages()`` (``memremap_pages()`` from v5.4) and gets struct pages for it in
ZONE_DEVICE.  The steps the console takes, in the kernel's order: the pgmap type, the
lookup for a mapping already there, ``region_intersects()`` against System RAM, the
lookup's store, ``__add_pages()`` (subsection alignment and the altmap check from v5.3),
the sections made present (``sparse_add_section()``), ``move_pfn_range_to_zone()``
(SECTION_TAINT_ZONE_DEVICE from v5.12), then ``page->pgmap`` from ``pfn_first()``.

Before v5.3 the range is widened to whole 128 MiB sections; from v5.3 it is mapped as
given, in 2 MiB subsections.  With ``map=dev`` the memmap is stored in the device the way
an nvdimm pfn/dax namespace lays it out (drivers/nvdimm/pfn_devs.c nd_pfn_init(): an
8 KiB info block, then 64 bytes of memmap per 4 KiB page, aligned to 2 MiB), and
vmemmap_populate() takes one 2 MiB block from the altmap per whole section
(arch/x86/mm/init_64.c; a part section's memmap is base pages from RAM, v6.18).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from time import perf_counter_ns
from typing import TYPE_CHECKING

from . import paths
from .cost import CostPath, PathCost
from .errors import EngineError
from .pgmap_lookup import (
    Entry,
    Lookup,
    Walk,
    lookup_kind,
    order_entries,
    section_entries,
    tryget_loads,
    walk,
    xa_range_entries,
)
from .physmap import E820Type
from .undo import reinsert

if TYPE_CHECKING:
    from .state import State
    from .undo import UndoLog

SZ_8K = 8 << 10
"""The nvdimm info block (``SZ_8K`` in nd_pfn_init())."""
SZ_2M = 2 << 20
PMD_PFNS = 512
"""One PMD_SIZE vmemmap block, in 4 KiB pfns."""
MAX_STRUCT_PAGE_SIZE = 64
"""drivers/nvdimm/nd.h: the memmap budget per pfn of a namespace with map=dev."""
PMEM_TYPES = ("fsdax", "devdax", "generic", "host", None)
"""The types an nvdimm namespace uses (the ones that may carry an altmap)."""

TYPE_ERAS: tuple[tuple[tuple[int, int], str, dict[str, tuple[str, int]]], ...] = (
    ((4, 5), "v4.5 to v4.13: struct dev_pagemap has no type", {}),
    ((4, 14), "v4.14 to v4.19", {"host": ("MEMORY_DEVICE_HOST", 0), "private": ("MEMORY_DEVICE_PRIVATE", 1),
                                 "public": ("MEMORY_DEVICE_PUBLIC", 2)}),
    ((4, 20), "v4.20 to v5.2", {"private": ("MEMORY_DEVICE_PRIVATE", 1), "public": ("MEMORY_DEVICE_PUBLIC", 2),
                                "fsdax": ("MEMORY_DEVICE_FS_DAX", 3), "p2pdma": ("MEMORY_DEVICE_PCI_P2PDMA", 4)}),
    ((5, 3), "v5.3 to v5.9", {"private": ("MEMORY_DEVICE_PRIVATE", 1), "fsdax": ("MEMORY_DEVICE_FS_DAX", 2),
                              "devdax": ("MEMORY_DEVICE_DEVDAX", 3), "p2pdma": ("MEMORY_DEVICE_PCI_P2PDMA", 4)}),
    ((5, 10), "v5.10 to v5.19", {"private": ("MEMORY_DEVICE_PRIVATE", 1), "fsdax": ("MEMORY_DEVICE_FS_DAX", 2),
                                 "generic": ("MEMORY_DEVICE_GENERIC", 3),
                                 "p2pdma": ("MEMORY_DEVICE_PCI_P2PDMA", 4)}),
    ((6, 0), "v6.0 on", {"private": ("MEMORY_DEVICE_PRIVATE", 1), "coherent": ("MEMORY_DEVICE_COHERENT", 2),
                         "fsdax": ("MEMORY_DEVICE_FS_DAX", 3), "generic": ("MEMORY_DEVICE_GENERIC", 4),
                         "p2pdma": ("MEMORY_DEVICE_PCI_P2PDMA", 5)}),
)
"""``enum memory_type`` as include/linux/memremap.h has it in a v4.14-era tree, v4.20,
v5.3.1, v5.11 and v6.0.1 (values are the enum order).  The releases between those trees
where a member came or went (FS_DAX and P2PDMA by v4.20, DEVDAX in v5.3, the rename to
GENERIC in v5.10, COHERENT in v6.0) are believed, not checked."""
TYPE_NAMES = ("fsdax", "devdax", "generic", "private", "coherent", "p2pdma", "host", "public")


def type_era(kver: tuple[int, int]) -> tuple[str, dict[str, tuple[str, int]]]:
    """(label, {word: (C name, value)}) of the kernel's enum memory_type."""
    era = TYPE_ERAS[0]
    for e in TYPE_ERAS:
        if kver >= e[0]:
            era = e
    return era[1], era[2]


def default_type(kver: tuple[int, int]) -> str | None:
    """What a pmem driver passes: FS_DAX where it exists, HOST in the v4.14 era."""
    types = type_era(kver)[1]
    return "fsdax" if "fsdax" in types else "host" if "host" in types else None


@dataclass(frozen=True)
class VmemAltmap:
    """``struct vmem_altmap`` (include/linux/memremap.h), in pfns."""

    base_pfn: int
    end_pfn: int
    reserve: int
    """Pfns kept for the driver from base_pfn (the info block)."""
    free: int
    """Pfns set aside for the memmap."""
    align: int = 0
    """Pfns skipped to align allocations."""
    alloc: int = 0
    """Pfns handed out to vmemmap_populate()."""

    @property
    def offset(self) -> int:
        """vmem_altmap_offset() = reserve + free: pfns from base without a pgmap."""
        return self.reserve + self.free

    @property
    def next_pfn(self) -> int:
        """vmem_altmap_next_pfn() = base_pfn + reserve + alloc + align."""
        return self.base_pfn + self.reserve + self.alloc + self.align

    @property
    def nr_free(self) -> int:
        """vmem_altmap_nr_free() = free - (alloc + align), never negative."""
        return max(self.free - (self.alloc + self.align), 0)

    def alloc_block(self, nr_pfns: int) -> tuple[VmemAltmap, int] | None:
        """altmap_alloc_block_buf(): aligned to the lowest set bit of ``nr_pfns``; None
        when it does not fit in what is free."""
        want = nr_pfns & -nr_pfns
        pfn = self.next_pfn
        nr_align = -(-pfn // want) * want - pfn
        if nr_pfns + nr_align > self.nr_free:
            return None
        return replace(self, alloc=self.alloc + nr_pfns, align=self.align + nr_align), pfn + nr_align


def nvdimm_altmap(start: int, size: int, page_shift: int) -> tuple[VmemAltmap, int]:
    """nd_pfn_init() and __nvdimm_setup_pfn() for PFN_MODE_PMEM, 2 MiB alignment:
    (the altmap, dataoff in bytes)."""
    npfns = (size - SZ_8K) >> page_shift
    offset = -(-(start + SZ_8K + MAX_STRUCT_PAGE_SIZE * npfns) // SZ_2M) * SZ_2M - start
    base_pfn = start >> page_shift
    reserve = SZ_8K >> page_shift
    return VmemAltmap(base_pfn, ((start + size) >> page_shift) - 1, reserve,
                      (offset - SZ_8K) >> page_shift), offset


@dataclass(frozen=True)
class DevPagemap:
    """One ``struct dev_pagemap`` and what memremap_pages() did for it."""

    name: str
    type: str | None
    """The console's word (fsdax, devdax, …); None before v4.14 (no type field)."""
    c_type: str | None
    type_value: int | None
    start: int
    end: int
    """The resource (range), bytes, inclusive."""
    hot: tuple[int, int]
    """The pfns hot-added: the range, widened to whole sections before v5.3."""
    nid: int
    seq: int
    altmap: VmemAltmap | None
    dataoff: int
    """Bytes from the start before the data (info block + memmap); 0 without an altmap."""
    device_sections: tuple[int, int] | None
    """First and last section whose memmap came from the altmap."""
    first_block: int | None
    """The pfn of the first 2 MiB memmap block in the device."""
    first_pfn: int
    """pfn_first(): the first pfn given ``page->pgmap`` (start + vmem_altmap_offset())."""
    last_pfn: int
    tainted: tuple[int, ...]
    lookup: Lookup
    notes: tuple[str, ...] = ()

    @property
    def nr_pages(self) -> int:
        """The pages memmap_init_zone_device() initialised with a pgmap."""
        return self.last_pfn - self.first_pfn + 1

    def section_block(self, nr: int) -> int | None:
        """First pfn of the 2 MiB block in the device that holds section ``nr``'s memmap
        (the blocks follow in section order from first_block), or None (memmap in RAM)."""
        if self.device_sections is None or self.first_block is None:
            return None
        lo, hi = self.device_sections
        return self.first_block + (nr - lo) * PMD_PFNS if lo <= nr <= hi else None

    def block_section(self, pfn: int) -> int | None:
        """The section whose memmap device pfn ``pfn`` holds (inverse of section_block)."""
        if self.device_sections is None or self.first_block is None:
            return None
        lo, hi = self.device_sections
        k = (pfn - self.first_block) // PMD_PFNS
        return lo + k if pfn >= self.first_block and k <= hi - lo else None

    def memmap_phys(self, pfn: int, pfn_section_shift: int, struct_page_size: int) -> int | None:
        """Where ``pfn``'s struct page is stored in the device, or None (in RAM)."""
        nr = pfn >> pfn_section_shift
        block = self.section_block(nr)
        if block is None:
            return None
        return (block << 12) + (pfn - (nr << pfn_section_shift)) * struct_page_size


def _res(start: int, end: int) -> str:
    """%pr of a 64-bit memory resource (the flags: IORESOURCE_MEM)."""
    return f"[mem {start:#018x}-{end:#018x} flags 0x200]"


def _func(kver: tuple[int, int]) -> str:
    return "devm_memremap_pages" if kver < (5, 4) else "memremap_pages"


def check_type(kver: tuple[int, int], word: str | None) -> tuple[str | None, str | None, int | None]:
    """(word, C name, value) of a pgmap type this kernel has; EngineError otherwise."""
    label, types = type_era(kver)
    if word is None:
        word = default_type(kver)
        if word is None:
            return None, None, None
    word = word.lower()
    if not types:
        raise EngineError(f"type={word}: {label} (enum memory_type arrived in v4.14)")
    if word not in types:
        elsewhere = [e[1] for e in TYPE_ERAS if word in e[2]]
        hint = {"devdax": "; it is MEMORY_DEVICE_GENERIC from v5.10: type=generic",
                "generic": "; before v5.10 it is MEMORY_DEVICE_DEVDAX: type=devdax",
                "fsdax": "; a v4.14-era kernel names pmem MEMORY_DEVICE_HOST: type=host"}
        extra = hint.get(word, "") if word in TYPE_NAMES else ""
        raise EngineError(f"type={word}: this kernel's enum memory_type ({label}) has "
                          + ", ".join(types) + (f"; {word} exists in " + ", ".join(elsewhere)
                                               if elsewhere and not extra else "") + extra)
    c_name, value = types[word]
    return word, c_name, value


def memremap_pages(s: State, name: str, start: int, size: int, type_word: str | None,
                   map_dev: bool, nid: int, log: UndoLog) -> DevPagemap:
    """memremap_pages(): validate in the kernel's order, then hot-add and record."""
    a, kver = s.arch, s.kver
    func = _func(kver)
    if name in s.pgmaps:
        raise EngineError(f"a dev_pagemap named {name!r} exists; memunmap_pages {name} first")
    if not s.spec.zone_device:
        raise EngineError("CONFIG_ZONE_DEVICE is not set on this machine (machine ... zone_device=1)")
    if not s.sparse.vmemmap:
        raise EngineError("ZONE_DEVICE depends on SPARSEMEM_VMEMMAP (mm/Kconfig); this machine "
                          "uses classic SPARSEMEM")
    if not a.name.startswith("x86_64"):
        raise EngineError(f"memremap_pages is modelled on x86_64 only, not {a.name}")
    page = 1 << a.page_shift
    if size <= 0 or start % page or size % page:
        raise EngineError(f"start {start:#x} and size {size:#x} must be positive multiples of "
                          f"PAGE_SIZE ({page:#x})")
    end = start + size - 1
    if end >> a.max_physmem_bits:
        raise EngineError(f"{_res(start, end)} is beyond MAX_PHYSMEM_BITS={a.max_physmem_bits}")
    if not 0 <= nid < 1024:
        raise EngineError(f"nid={nid}: not a node id")
    word, c_type, value = check_type(kver, type_word)
    if map_dev:
        if word not in PMEM_TYPES:
            raise EngineError(f"map=dev: only nvdimm namespaces (fsdax, devdax/generic) keep their "
                              f"memmap in the device, not type={word}")
        if a.struct_page_size > MAX_STRUCT_PAGE_SIZE:
            raise EngineError("nd_pfn_init: Memory debug options prevent using pmem for the page map "
                              f"(sizeof(struct page) = {a.struct_page_size} > 64): -EINVAL")
    pss = a.pfn_section_shift
    pfn, last = start >> a.page_shift, end >> a.page_shift
    widen = kver < (5, 3)
    hot = ((pfn >> pss) << pss, (((last >> pss) + 1) << pss) - 1) if widen else (pfn, last)
    for other in s.pgmaps.values():  # the driver's devm_request_mem_region() comes first
        if other.start <= end and start <= other.end:
            raise EngineError(f"{_res(start, end)} overlaps {other.name} {_res(other.start, other.end)}: "
                              "the driver's request_mem_region() fails with -EBUSY")
    notes: list[str] = []
    _conflicts(s, name, start, end, hot, pfn, last, notes)
    _ram_check(s, func, start, end, hot, notes)
    nr_pages = hot[1] - hot[0] + 1
    if not widen:
        step = 1 << (21 - a.page_shift)  # PAGES_PER_SUBSECTION with SPARSEMEM_VMEMMAP
        if hot[0] % step or nr_pages % step:
            end_text = f"#{hot[0] + nr_pages - 1:x}" if kver < (6, 18) else f"{hot[0] + nr_pages - 1:#x}"
            raise EngineError(f"Misaligned __add_pages start: {hot[0]:#x} end: {end_text} (check_pfn_span: "
                              f"{func}() maps 2 MiB subsections from v5.3): -EINVAL")
    altmap, dataoff, dev_sections, first_block = None, 0, None, None
    if map_dev:
        altmap, dataoff = nvdimm_altmap(start, size, a.page_shift)
        if altmap.base_pfn != hot[0] or altmap.offset > nr_pages:
            raise EngineError(f"__add_pages: memory add fail, invalid altmap (base_pfn {altmap.base_pfn:#x}, "
                              f"hot-added from {hot[0]:#x}: before v5.3 the range is widened to its "
                              "section, so a namespace with map=dev must start on a section): -EINVAL")
        altmap, dev_sections, first_block = _populate(s, hot, altmap)
    first_pfn = pfn + (altmap.offset if altmap else 0)
    if kver < (4, 5):
        first_pfn = last + 1  # v4.3, v4.4: no dev_pagemap, no page->pgmap
        notes.append("v4.3/v4.4 keep no dev_pagemap: the pages are ZONE_DEVICE, page->pgmap does not exist")
    tainted: tuple[int, ...] = ()
    if kver >= (5, 12):  # move_pfn_range_to_zone(): a part section shared with something else
        tainted = tuple(sorted({p >> pss for p in (hot[0], hot[1] + 1) if p % (1 << pss)}))
    pg = DevPagemap(name, word, c_type, value, start, end, hot, nid, s.next_pgmap, altmap, dataoff,
                    dev_sections, first_block, first_pfn, last, tainted, lookup_kind(kver), tuple(notes))
    hots = tuple(p.hot for p in s.pgmaps.values()) + (hot,)
    s.sparse.set_hotplug(hots, s.sparse.tainted | frozenset(tainted), log)
    log.push(s.pgmaps.pop, name)
    s.pgmaps[name] = pg
    log.push(setattr, s, "next_pgmap", s.next_pgmap)
    s.next_pgmap += 1
    return pg


def _conflicts(s: State, name: str, start: int, end: int, hot: tuple[int, int], pfn: int, last: int,
               notes: list[str]) -> None:
    """The lookup for a pgmap already there, as each version asks it."""
    a, kver = s.arch, s.kver
    pss = a.pfn_section_shift
    for other in s.pgmaps.values():
        shares = other.hot[0] >> pss <= hot[1] >> pss and hot[0] >> pss <= other.hot[1] >> pss
        if kver < (4, 5):
            if shares:
                notes.append(f"shares a section with {other.name}: v4.3's __add_pages() takes the "
                             "-EEXIST of a present section as success, so both use its memmap")
        elif kver < (4, 14):
            if shares:
                raise EngineError(f"devm_memremap_pages: {_res(start, end)} collides with mapping for "
                                  f"{other.name} (one pgmap_radix entry per section): -EBUSY")
        elif kver < (5, 3):
            if any(other.hot[0] <= p <= other.hot[1] for p in hot):
                raise EngineError(f"Conflicting mapping in same section (get_dev_pagemap() of "
                                  f"{hot[0]:#x} or {hot[1]:#x} finds {other.name}): -ENOMEM")
        elif any(other.hot[0] <= p <= other.hot[1] for p in (pfn, last)):
            raise EngineError(f"Conflicting mapping in same section ({other.name}): -ENOMEM")


def _ram_check(s: State, func: str, start: int, end: int, hot: tuple[int, int], notes: list[str]) -> None:
    """region_intersects(IORESOURCE_SYSTEM_RAM) over the range (widened before v5.3)."""
    a, kver = s.arch, s.kver
    lo, hi = hot[0] << a.page_shift, ((hot[1] + 1) << a.page_shift) - 1
    ram = sum(min(hi, r.end) - max(lo, r.start) + 1
              for r in s.physmap.overlapping(lo, hi) if r.type is E820Type.RAM)
    if not ram:
        return
    kind = "ram" if ram == hi - lo + 1 else "mixed"
    where = f" (widened to sections {lo:#x}-{hi:#x})" if hot != (start >> a.page_shift, end >> a.page_shift) else ""
    if kind == "ram" and kver < (5, 3):
        raise EngineError(f"{_res(start, end)} is System RAM{where}: {func}() returns __va(start) and "
                          "makes no ZONE_DEVICE pages (v4.3 to v5.2); nothing to do")
    if kver >= (5, 10):
        msg = f"attempted on {kind} region {start:#x}-{end:#x}"
    else:
        msg = f"{func} attempted on {kind} region {_res(start, end)}"
    raise EngineError(msg + where + ": -ENXIO")


def _populate(s: State, hot: tuple[int, int], altmap: VmemAltmap
              ) -> tuple[VmemAltmap, tuple[int, int] | None, int | None]:
    """vmemmap_populate() per section piece: a whole section takes one PMD block from the
    altmap; a part section's memmap is base pages from RAM; an early section has one."""
    a = s.arch
    pss = a.pfn_section_shift
    lo, hi = hot[0] >> pss, hot[1] >> pss
    if hot[0] % (1 << pss):
        lo += 1
    if (hot[1] + 1) % (1 << pss):
        hi -= 1
    while lo <= hi and _early(s, lo):
        lo += 1
    while hi >= lo and _early(s, hi):
        hi -= 1
    if lo > hi:
        return altmap, None, None
    got = altmap.alloc_block(PMD_PFNS)
    if got is None:
        raise EngineError(f"vmemmap_populate: the altmap has {altmap.nr_free} free pfns, not the "
                          f"{PMD_PFNS} of a 2 MiB block (no fallback to RAM with an altmap): -ENOMEM")
    altmap, first = got
    more = (hi - lo) * PMD_PFNS  # the next blocks follow without a gap
    if more > altmap.nr_free:
        raise EngineError(f"vmemmap_populate: the altmap runs out after {altmap.nr_free // PMD_PFNS + 1} "
                          f"of {hi - lo + 1} sections' memmap: -ENOMEM")
    return replace(altmap, alloc=altmap.alloc + more), (lo, hi), first


def _early(s: State, nr: int) -> bool:
    ms = s.sparse.nr_to_section(nr)
    return ms is not None and ms.valid and ms.early


def memunmap_pages(s: State, name: str, log: UndoLog) -> DevPagemap:
    """memunmap_pages(): the pgmap's pages leave ZONE_DEVICE, its sections are removed."""
    pg = s.pgmaps.get(name)
    if pg is None:
        raise EngineError(f"no dev_pagemap named {name!r}"
                          + (f"; there are {', '.join(s.pgmaps)}" if s.pgmaps else ""))
    rest = [p for p in s.pgmaps.values() if p.name != name]
    tainted = frozenset(nr for p in rest for nr in p.tainted)
    s.sparse.set_hotplug(tuple(p.hot for p in rest), tainted, log)
    log.push(reinsert, s.pgmaps, name, pg, _by_seq)
    del s.pgmaps[name]
    return pg


def _by_seq(_name: str, pg: DevPagemap) -> int:
    return pg.seq


def pgmap_of(s: State, pfn: int) -> DevPagemap | None:
    """The dev_pagemap whose hot-added pfns hold ``pfn``."""
    for pg in s.pgmaps.values():
        if pg.hot[0] <= pfn <= pg.hot[1]:
            return pg
    return None


def lookup_walk(s: State, pfn: int) -> Walk | None:
    """get_dev_pagemap(pfn)'s tree walk on this kernel (None before v4.5: no lookup)."""
    kind = lookup_kind(s.kver)
    if kind is Lookup.NONE:
        return None
    entries: list[Entry] = []
    pss = s.arch.pfn_section_shift
    for pg in s.pgmaps.values():
        first, last = pg.start >> s.arch.page_shift, pg.end >> s.arch.page_shift
        if kind is Lookup.RADIX_SECTION:
            entries += section_entries(pg.hot[0] >> pss, pg.hot[1] >> pss, pg.name)
        elif kind is Lookup.RADIX_ORDER:
            entries += order_entries(first, last, pg.name)
        else:
            entries += xa_range_entries(first, last, pg.name)
    if kind is Lookup.RADIX_SECTION:
        return walk(entries, pfn >> pss, root="pgmap_radix.rnode", siblings=False)
    return walk(entries, pfn, root="pgmap_radix.rnode" if kind is Lookup.RADIX_ORDER
                else "pgmap_array.xa_head")


def warm_pgmap(s: State, log: UndoLog) -> None:
    """`cache warm` for the pgmap path: one lookup into each dev_pagemap (the tree nodes on its
    path), no more lines than the last level holds."""
    room = s.caches[CostPath.PGMAP].levels[-1].capacity
    tree: paths.Trace = []
    for pg in s.pgmaps.values():
        w = lookup_walk(s, pg.first_pfn if pg.nr_pages > 0 else pg.hot[0])
        tree += list(w.loads) if w else []
    s.caches[CostPath.PGMAP].run(tree[-room:], log)


def pgmap_cost(s: State, pfn: int, log: UndoLog, needed: bool = True) -> PathCost:
    """get_dev_pagemap(pfn, NULL) costed: the tree walk, then percpu_ref_tryget_live()."""
    t0 = perf_counter_ns()
    w = lookup_walk(s, pfn)
    if w is None:
        return paths.not_needed(CostPath.PGMAP, "v4.3/v4.4 keep no dev_pagemap: there is nothing to look up")
    pg = s.pgmaps.get(w.owner) if w.owner else None
    trace = list(w.loads)
    if pg is not None:
        trace += tryget_loads(s.kver, pg.name, pg.seq)
    answer = None
    if pg is not None and pg.type != "private":
        answer = s.arch.va(pfn << s.arch.page_shift)
    detail = (f"get_dev_pagemap(): {lookup_kind(s.kver)} ({w.height} level(s) tall)"
              + (", a sibling slot" if w.sibling else "")
              + (f" -> {pg.name}, then percpu_ref_tryget_live()" if pg else " -> NULL"),
              "what pinning a ZONE_DEVICE page costs (get_user_pages on a devmap entry); "
              "its address is still page_address()")
    levels = sum(1 for what, _ in w.loads if what == "node->shift")
    base = PathCost(CostPath.PGMAP, levels, len(trace), perf_counter_ns() - t0, answer, detail,
                    needed=needed)
    return paths.model(s.caches[CostPath.PGMAP], base, trace, log)


def pgmap_set(s: State, pfn: int, pg: DevPagemap) -> bool:
    """Does this pfn's struct page carry a pgmap pointer (v4.5+, from pfn_first() on)?"""
    return s.kver >= (4, 5) and pg.first_pfn <= pfn <= pg.last_pfn


def describe_page(s: State, pfn: int, pg: DevPagemap) -> list[str]:
    """What ``page`` says of a pfn memremap_pages() gave a struct page."""
    a, kver = s.arch, s.kver
    kind = f"{pg.c_type} ({pg.type_value})" if pg.c_type else "no type field"
    lines = [f"zone Device, node {pg.nid}: dev_pagemap {pg.name} [{pg.start:#x}-{pg.end:#x}], {kind}"]
    if kver < (4, 5):
        lines.append("no page->pgmap before v4.5: devm_memremap_pages() keeps only the resource "
                     "(struct page_map)")
    elif pgmap_set(s, pfn, pg):
        where = "page_folio(page)->pgmap" if kver >= (6, 18) else "page->pgmap"
        lines.append(f"{where} = {pg.name} (set by memmap_init_zone_device(); it shares the first "
                     "word with compound_head)" if kver >= (4, 20) else f"{where} = {pg.name}")
    elif kver >= (4, 5):
        why = ("the altmap's info block and memmap (below pfn_first())" if pg.altmap
               and pfn < pg.first_pfn and pfn >= pg.start >> a.page_shift else "outside the resource")
        lines.append(f"no page->pgmap: {why}; pfn_valid() holds, nothing initialised it")
    at = pg.memmap_phys(pfn, a.pfn_section_shift, a.struct_page_size)
    lines.append(f"its struct page is stored in the device at phys {at:#x} (the altmap)" if at is not None
                 else "its struct page is in RAM (vmemmap_populate() from the node's memory)")
    lines.append("pfn_to_online_page() = NULL: ZONE_DEVICE sections are never onlined")
    if pg.type == "private":
        lines.append("MEMORY_DEVICE_PRIVATE: add_pages() only, no direct map; the CPU cannot reach it")
    if kver >= (6, 18):
        count = 1 if pg.type == "generic" else 0
    elif kver >= (6, 8):
        count = 0 if pg.type in ("private", "coherent") else 1
    else:
        count = 1
    if pgmap_set(s, pfn, pg):
        lines.append(f"refcount {count} after init")
    return lines


__all__ = ["DevPagemap", "VmemAltmap", "describe_page", "memremap_pages", "memunmap_pages",
           "nvdimm_altmap", "pgmap_cost", "pgmap_of", "pgmap_set", "type_era"]
