"""SPARSEMEM: the mem_section table and the conversions built on it.

Mirrors include/linux/mmzone.h and mm/sparse.c: SPARSEMEM_EXTREME
roots allocated on demand, ``section_mem_map`` holding the coded mem_map with flag bits in
its low bits, and ``pfn_to_page`` for SPARSEMEM_VMEMMAP and for classic SPARSEMEM.

Storage is lazy: the present sections are kept as runs (consecutive sections sharing one
``section_mem_map`` word), and a section's word, or whether its root page is allocated, is
computed from them by binary search.  Nothing is stored per root, per section or per page,
so a machine at any MAX_PHYSMEM_BITS costs O(e820 ranges).
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import IntFlag

from .arch import SUBSECTION_SHIFT, U64, ArchProfile
from .errors import EngineError
from .memmap import vmemmap_page_to_pfn, vmemmap_pfn_to_page
from .physmap import PhysMap
from .undo import UndoLog

# What set_hotplug() changes, saved whole for undo: runs, their firsts, root spans, hot ranges,
# tainted sections, device subsection bits.
_Hotplug = tuple[list["SectionRun"], list[int], list[tuple[int, int]], tuple[tuple[int, int], ...],
                 frozenset[int], dict[int, int]]

class SectionFlags(IntFlag):
    """Low bits of ``mem_section.section_mem_map`` (the modern enum numbering)."""

    MARKED_PRESENT = 1 << 0
    HAS_MEM_MAP = 1 << 1
    IS_ONLINE = 1 << 2
    IS_EARLY = 1 << 3
    TAINT_ZONE_DEVICE = 1 << 4


FLAG_LETTERS = {
    SectionFlags.MARKED_PRESENT: "P",
    SectionFlags.HAS_MEM_MAP: "M",
    SectionFlags.IS_ONLINE: "O",
    SectionFlags.IS_EARLY: "E",
    SectionFlags.TAINT_ZONE_DEVICE: "D",
}


@dataclass(frozen=True)
class SectionEra:
    """Which flag bits a kernel has.  The 2015 bits are from include/linux/mmzone.h
    @009f77383651; the releases of the later steps (v4.13, v5.3, v5.12, v6.0) are assumed."""

    name: str
    flags: SectionFlags
    map_last_bit: int
    """SECTION_MAP_LAST_BIT: the coded mem_map starts at this bit."""

    @property
    def map_mask(self) -> int:
        """SECTION_MAP_MASK = ~((1 << SECTION_MAP_LAST_BIT) - 1), as an unsigned long."""
        return U64 & ~((1 << self.map_last_bit) - 1)


F = SectionFlags
ERAS = (
    SectionEra("v4.4 (2015)", F.MARKED_PRESENT | F.HAS_MEM_MAP, 2),
    SectionEra("v4.13+ IS_ONLINE", F.MARKED_PRESENT | F.HAS_MEM_MAP | F.IS_ONLINE, 3),
    SectionEra("v5.3+ IS_EARLY", F.MARKED_PRESENT | F.HAS_MEM_MAP | F.IS_ONLINE | F.IS_EARLY, 4),
    SectionEra("v5.12+ TAINT_ZONE_DEVICE", F.MARKED_PRESENT | F.HAS_MEM_MAP | F.IS_ONLINE
               | F.IS_EARLY | F.TAINT_ZONE_DEVICE, 5),
    # enum form (Muchun Song, 2022; v6.0 assumed): SECTION_TAINT_ZONE_DEVICE_BIT only
    # #ifdef CONFIG_ZONE_DEVICE, so SECTION_MAP_LAST_BIT is 4 without it
    SectionEra("v6.0+ without CONFIG_ZONE_DEVICE", F.MARKED_PRESENT | F.HAS_MEM_MAP
               | F.IS_ONLINE | F.IS_EARLY, 4),
)


def section_era(kver: tuple[int, int], zone_device: bool = True) -> SectionEra:
    if kver < (4, 13):
        return ERAS[0]
    if kver < (5, 3):
        return ERAS[1]
    if kver < (5, 12):
        return ERAS[2]
    if kver >= (6, 0) and not zone_device:
        return ERAS[4]
    return ERAS[3]


def flag_letters(flags: int) -> str:
    """'PMOE' style summary, a dot for each clear bit of the era's five."""
    return "".join(letter if flags & bit else "." for bit, letter in FLAG_LETTERS.items())


@dataclass(frozen=True)
class MemSection:
    """A read-only view of one ``struct mem_section`` and where it sits."""

    nr: int
    root: int
    idx: int
    section_mem_map: int
    """The raw ``unsigned long``: coded mem_map | flag bits."""
    flags: SectionFlags
    coded_mem_map: int
    """``section_mem_map & SECTION_MAP_MASK``: mem_map minus start pfn (struct page units)."""
    mem_map: int | None
    """``sparse_decode_mem_map()``: address of the section's first struct page."""
    start_pfn: int
    early: bool

    @property
    def present(self) -> bool:
        return bool(self.flags & SectionFlags.MARKED_PRESENT)

    @property
    def valid(self) -> bool:
        """valid_section(): has a mem_map."""
        return bool(self.flags & SectionFlags.HAS_MEM_MAP)


@dataclass(frozen=True)
class SectionRun:
    """Consecutive present sections sharing one section_mem_map word."""

    first: int
    last: int
    word: int


class SparseMem:
    """The mem_section table of one machine (SPARSEMEM_EXTREME)."""

    def __init__(self, arch: ArchProfile, physmap: PhysMap, *, kver: tuple[int, int],
                 vmemmap: bool = True) -> None:
        self.arch = arch
        self.era = section_era(kver, arch.zone_device)
        self.vmemmap = vmemmap
        self.memblock_pfn_valid = arch.name == "arm64" and kver < (5, 14)
        """arm64's own pfn_valid() (arch/arm64/mm/init.c before 16c9afc77660, v5.14): an
        early section's pfn is valid only if memblock has it (memblock_is_map_memory(),
        later memblock_is_memory()), so a hole inside a present section is not valid."""
        self._ram = [(r.start, r.end) for r in physmap.ranges if r.type.is_ram]
        self.runs: list[SectionRun] = []
        """The present sections, sorted and disjoint (separated by absent sections)."""
        self._run_firsts: list[int] = []
        self._root_spans: list[tuple[int, int]] = []
        """Allocated roots as sorted, disjoint [first, last] root-number intervals."""
        self._build(physmap)
        self._boot = (self.runs, self._root_spans)
        """The runs and roots sparse_init() left; hot-added sections are painted over them."""
        self.hot: tuple[tuple[int, int], ...] = ()
        """pfn ranges [first, last] added by memory hotplug (memremap_pages), in order."""
        self.tainted: frozenset[int] = frozenset()
        """Sections given SECTION_TAINT_ZONE_DEVICE by move_pfn_range_to_zone()."""
        self.dev_subsections: dict[int, int] = {}
        """Hot-added subsections of the sections hotplug covers only in part (from v5.3,
        sparse_add_section() sets them in ms->usage->subsection_map)."""
        self.roots = SectionRoots(self)
        """mem_section[root] for the allocated roots (a lazy read-only mapping)."""

    # --- the kernel's macros ------------------------------------------------------------
    def pfn_to_section_nr(self, pfn: int) -> int:
        return pfn >> self.arch.pfn_section_shift

    def section_nr_to_pfn(self, nr: int) -> int:
        return nr << self.arch.pfn_section_shift

    def section_nr_to_root(self, nr: int) -> int:
        """SECTION_NR_TO_ROOT(sec) = sec / SECTIONS_PER_ROOT."""
        return nr // self.arch.sections_per_root

    def sparse_encode_mem_map(self, mem_map: int, pnum: int) -> int:
        """mem_map - section_nr_to_pfn(pnum), in struct-page pointer arithmetic."""
        coded = (mem_map - self.section_nr_to_pfn(pnum) * self.arch.struct_page_size) & U64
        if coded & ~self.era.map_mask & U64:
            raise EngineError(f"coded mem_map {coded:#x} collides with the section flag bits")
        return coded

    def sparse_decode_mem_map(self, coded: int, pnum: int) -> int:
        coded &= self.era.map_mask
        return (coded + self.section_nr_to_pfn(pnum) * self.arch.struct_page_size) & U64

    def nr_to_section(self, nr: int) -> MemSection | None:
        """__nr_to_section(): None when the root is beyond NR_SECTION_ROOTS or unallocated."""
        word = self.section_mem_map(nr)
        if word is None:
            return None
        root, idx = divmod(nr, self.arch.sections_per_root)
        flags = SectionFlags(word & ~self.era.map_mask & 0x1F)
        coded = word & self.era.map_mask
        return MemSection(
            nr=nr, root=root, idx=idx, section_mem_map=word, flags=flags,
            coded_mem_map=coded,
            mem_map=self.sparse_decode_mem_map(coded, nr) if flags & F.HAS_MEM_MAP else None,
            start_pfn=self.section_nr_to_pfn(nr),
            early=self._early(nr, flags),
        )

    def section_mem_map(self, nr: int) -> int | None:
        """``__nr_to_section(nr)->section_mem_map`` (``unsigned long``), or None for NULL.

        NULL when ``nr`` is negative, its root is beyond NR_SECTION_ROOTS or the root page
        was never allocated; 0 for an absent section in an allocated root.  O(log runs).
        """
        root = nr // self.arch.sections_per_root
        if nr < 0 or root >= self.arch.nr_section_roots or not self.root_allocated(root):
            return None
        i = bisect_right(self._run_firsts, nr) - 1
        if i >= 0 and nr <= self.runs[i].last:
            return self.runs[i].word
        return 0

    def root_allocated(self, root: int) -> bool:
        """Did sparse_index_init() allocate ``mem_section[root]`` (a present section in it)?"""
        spans = self._root_spans
        i = bisect_right(spans, root, key=_first) - 1
        return i >= 0 and root <= spans[i][1]

    def _early(self, nr: int, flags: SectionFlags) -> bool:
        if self.era.flags & F.IS_EARLY:
            return bool(flags & F.IS_EARLY)
        return bool(flags & F.HAS_MEM_MAP)  # before subsections every section is whole

    def pfn_valid(self, pfn: int) -> bool:
        """pfn_valid() (recent generic form, or arm64's own before v5.14).

        Rejects pfns whose address does not survive PFN_PHYS/PHYS_PFN, sections beyond
        NR_MEM_SECTIONS or without a mem_map; an early section is valid throughout,
        except on arm64 before v5.14, which also asks memblock.
        """
        if pfn < 0 or pfn >= 1 << (64 - self.arch.page_shift):
            return False
        nr = pfn >> self.arch.pfn_section_shift
        if nr >= self.arch.nr_mem_sections:
            return False
        word = self.section_mem_map(nr)  # __nr_to_section(): NULL for an unallocated root
        if word is None:
            return False
        flags = word & ~self.era.map_mask
        if not flags & F.HAS_MEM_MAP:  # valid_section()
            return False
        if not self._early(nr, SectionFlags(flags & 0x1F)):
            # pfn_section_valid(): the subsection's bit in ms->usage->subsection_map
            # (only partly hot-added sections are kept; a whole one has every bit)
            bits = self.dev_subsections.get(nr)
            index = (pfn & (self.arch.pages_per_section - 1)) >> (SUBSECTION_SHIFT - self.arch.page_shift)
            return bits is None or bool(bits >> index & 1)
        if self.memblock_pfn_valid:
            phys = pfn << self.arch.page_shift
            i = bisect_right(self._ram, (phys, U64)) - 1
            return i >= 0 and self._ram[i][0] <= phys <= self._ram[i][1]
        return True

    def pfn_to_page(self, pfn: int) -> int | None:
        """Address of pfn's struct page; None where classic SPARSEMEM has no mem_map."""
        sps = self.arch.struct_page_size
        if self.vmemmap:
            return vmemmap_pfn_to_page(self.arch.vmemmap_base, pfn, sps) & U64
        ms = self.nr_to_section(self.pfn_to_section_nr(pfn))
        if ms is None or not ms.valid:
            return None
        return (ms.coded_mem_map + pfn * sps) & U64

    def page_to_pfn(self, page: int) -> int | None:
        """Inverse of pfn_to_page(); None if ``page`` is not a struct page address."""
        sps = self.arch.struct_page_size
        if self.vmemmap:
            lo, hi = self.memmap_bounds()
            if not lo <= page < hi:
                return None
            found = vmemmap_page_to_pfn(self.arch.vmemmap_base, page, sps)
            if found is None or found[1] or found[0] >= self.arch.max_pfn:
                return None
            return found[0]
        for run in self.runs:
            first_pfn = self.section_nr_to_pfn(run.first)
            end_pfn = self.section_nr_to_pfn(run.last + 1)
            coded = run.word & self.era.map_mask
            off = (page - coded) & U64
            if off % sps == 0 and first_pfn <= off // sps < end_pfn:
                return off // sps
        return None

    def memmap_bounds(self) -> tuple[int, int]:
        """[VMEMMAP_START, end) of the vmemmap region in the arch's layout table, cut to the
        struct pages MAX_PHYSMEM_BITS needs (VMEMMAP only; never past 2^64)."""
        a = self.arch
        region = a.region_of(a.vmemmap_start)
        need = vmemmap_pfn_to_page(a.vmemmap_base, a.max_pfn, a.struct_page_size)
        return region.start, min(region.end, need)

    # --- building --------------------------------------------------------------------------
    def _build(self, physmap: PhysMap) -> None:
        arch = self.arch
        ssb = arch.section_size_bits
        runs: list[list[int]] = []
        for r in physmap.ranges:
            if not r.type.is_ram:
                continue
            first, last = r.start >> ssb, r.end >> ssb
            if last >= arch.nr_mem_sections:
                raise EngineError(
                    f"RAM up to {r.end:#x} needs section {last}, beyond NR_MEM_SECTIONS "
                    f"({arch.nr_mem_sections}, MAX_PHYSMEM_BITS={arch.max_physmem_bits})"
                )
            if runs and first <= runs[-1][1] + 1:
                runs[-1][1] = max(runs[-1][1], last)
            else:
                runs.append([first, last])
        flags = int(self.era.flags & ~F.TAINT_ZONE_DEVICE)
        mb = arch.memmap_bytes_per_section
        n_present = sum(last - first + 1 for first, last in runs)
        if not self.vmemmap:
            # sparse_init() hands out each section's mem_map from one buffer taken from
            # the top of RAM (memblock allocates top-down); simulated placement.
            top = max((r.end + 1 for r in physmap.ranges if r.type.is_ram), default=0)
            buffer = (top - n_present * mb) & ~(mb - 1)
            if buffer < 0:
                raise EngineError("not enough RAM to hold the classic SPARSEMEM mem_map")
        k = 0
        for first, last in runs:
            if self.vmemmap:
                mem_map = vmemmap_pfn_to_page(arch.vmemmap_base, self.section_nr_to_pfn(first),
                                              arch.struct_page_size)
            else:
                mem_map = arch.va(buffer + k * mb)
            word = self.sparse_encode_mem_map(mem_map, first) | flags
            self.runs.append(SectionRun(first, last, word))
            self._run_firsts.append(first)
            self._allocate_roots(first, last)
            k += last - first + 1

    def _allocate_roots(self, first: int, last: int) -> None:
        """sparse_index_init() for sections first..last: note the roots they need."""
        spr = self.arch.sections_per_root
        lo, hi = first // spr, last // spr
        spans = self._root_spans
        if spans and lo <= spans[-1][1] + 1:  # runs come in order: merge with the last span
            spans[-1] = (spans[-1][0], max(spans[-1][1], hi))
        else:
            spans.append((lo, hi))

    # --- memory hotplug: sections added for ZONE_DEVICE ----------------------------------------
    def set_hotplug(self, hot: tuple[tuple[int, int], ...], tainted: frozenset[int],
                    log: UndoLog) -> None:
        """Make the hot-added pfn ranges ``hot`` present (sparse_add_section(), with
        SECTION_MARKED_PRESENT and a mem_map but never IS_ONLINE or IS_EARLY) and
        ``tainted`` carry SECTION_TAINT_ZONE_DEVICE; the boot sections keep their words.
        O(runs + ranges); undone as a whole."""
        log.push(self._restore, (self.runs, self._run_firsts, self._root_spans, self.hot,
                                 self.tainted, self.dev_subsections))
        arch, era = self.arch, self.era
        pss = arch.pfn_section_shift
        segments = [(r.first, r.last, r.word) for r in self._boot[0]]
        hot_word = int(era.flags & (F.MARKED_PRESENT | F.HAS_MEM_MAP))
        if self.vmemmap:  # every section codes the same word, vmemmap itself
            hot_word |= self.sparse_encode_mem_map(
                vmemmap_pfn_to_page(arch.vmemmap_base, 0, arch.struct_page_size), 0)
        subs: dict[int, int] = {}
        sub_shift = SUBSECTION_SHIFT - arch.page_shift
        for lo, hi in hot:
            segments = _paint_gaps(segments, lo >> pss, hi >> pss, hot_word)
            if era.flags & F.IS_EARLY:  # the subsection era (v5.3+): the end sections' bits
                for nr in {lo >> pss, hi >> pss}:
                    a = (max(lo, nr << pss) - (nr << pss)) >> sub_shift
                    b = (min(hi, ((nr + 1) << pss) - 1) - (nr << pss)) >> sub_shift
                    subs[nr] = subs.get(nr, 0) | ((1 << (b - a + 1)) - 1) << a
        full = (1 << arch.subsections_per_section) - 1
        subs = {nr: bits for nr, bits in subs.items() if bits != full}  # whole ones: implied
        if era.flags & F.TAINT_ZONE_DEVICE:
            for nr in sorted(tainted):
                segments = _or_word(segments, nr, int(F.TAINT_ZONE_DEVICE))
        self.runs = [SectionRun(a, b, w) for a, b, w in _merge(segments)]
        self._run_firsts = [r.first for r in self.runs]
        spans = list(self._root_spans)
        self._root_spans = []
        for r in self.runs:
            self._allocate_roots(r.first, r.last)
        self._root_spans = _union(spans, self._root_spans)  # roots are never freed
        self.hot, self.tainted, self.dev_subsections = hot, tainted, subs

    @property
    def boot_runs(self) -> list[SectionRun]:
        """The present sections sparse_init() left, before any hotplug."""
        return self._boot[0]

    def hot_section(self, nr: int) -> bool:
        """Did memory hotplug (memremap_pages) add pfns in section ``nr``?"""
        pss = self.arch.pfn_section_shift
        return any(lo >> pss <= nr <= hi >> pss for lo, hi in self.hot)

    def _restore(self, saved: _Hotplug) -> None:
        (self.runs, self._run_firsts, self._root_spans, self.hot, self.tainted,
         self.dev_subsections) = saved

    # --- summaries -----------------------------------------------------------------------
    @property
    def nr_present(self) -> int:
        """Present sections (those with SECTION_MARKED_PRESENT)."""
        return sum(run.last - run.first + 1 for run in self.runs)

    @property
    def nr_roots_allocated(self) -> int:
        """How many ``mem_section[root]`` pages sparse_index_init() allocated."""
        return sum(hi - lo + 1 for lo, hi in self._root_spans)

    def iter_runs(self) -> Iterator[SectionRun]:
        return iter(self.runs)

    def subsection_map(self, nr: int, physmap: PhysMap) -> int:
        """Bitmap of the section's 2 MiB subsections: those holding RAM (subsection_map_init)
        and those hotplug added (sparse_add_section())."""
        arch = self.arch
        base = nr << arch.section_size_bits
        end = base + (1 << arch.section_size_bits) - 1
        n = arch.subsections_per_section
        bits = 0
        for r in physmap.overlapping(base, end):
            if r.type.is_ram:
                lo = (max(r.start, base) - base) >> SUBSECTION_SHIFT
                hi = min((min(r.end, end) - base) >> SUBSECTION_SHIFT, n - 1)
                bits |= ((1 << (hi - lo + 1)) - 1) << lo
        if any(a >> arch.pfn_section_shift <= nr <= b >> arch.pfn_section_shift for a, b in self.hot):
            bits |= self.dev_subsections.get(nr, (1 << n) - 1)
        return bits


def _first(span: tuple[int, int]) -> int:
    return span[0]


Segment = tuple[int, int, int]
"""(first section, last section, section_mem_map word), sorted and disjoint."""


def _paint_gaps(segments: list[Segment], lo: int, hi: int, word: int) -> list[Segment]:
    """Sections lo..hi that no segment holds get ``word``; present ones keep theirs."""
    out: list[Segment] = []
    at = lo
    for a, b, w in segments:
        if b >= at and a <= hi and a > at:
            out.append((at, a - 1, word))
        if b >= at:
            at = max(at, b + 1)
        out.append((a, b, w))
    if at <= hi:
        out.append((at, hi, word))
    return sorted(out)


def _or_word(segments: list[Segment], nr: int, bits: int) -> list[Segment]:
    """Section ``nr``'s word with ``bits`` set (split out of its segment)."""
    out: list[Segment] = []
    for a, b, w in segments:
        if a <= nr <= b:
            if a < nr:
                out.append((a, nr - 1, w))
            out.append((nr, nr, w | bits))
            if nr < b:
                out.append((nr + 1, b, w))
        else:
            out.append((a, b, w))
    return out


def _merge(segments: list[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for a, b, w in segments:
        if out and out[-1][1] + 1 == a and out[-1][2] == w:
            out[-1] = (out[-1][0], b, w)
        else:
            out.append((a, b, w))
    return out


def _union(x: list[tuple[int, int]], y: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(x + y):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


class SectionRoots(Mapping[int, "array[int]"]):
    """``mem_section[]`` under SPARSEMEM_EXTREME: root number -> its page of words.

    Read-only and lazy: ``len()`` and ``in`` come from the runs, and a root's
    SECTIONS_PER_ROOT ``section_mem_map`` words (``array('Q')``, 0 = absent) are only built
    when that one root is indexed.
    """

    def __init__(self, sparse: SparseMem) -> None:
        self._sparse = sparse

    def __len__(self) -> int:
        return self._sparse.nr_roots_allocated

    def __contains__(self, root: object) -> bool:
        return isinstance(root, int) and self._sparse.root_allocated(root)

    def __iter__(self) -> Iterator[int]:
        for lo, hi in self._sparse._root_spans:
            yield from range(lo, hi + 1)

    def __getitem__(self, root: int) -> array[int]:
        if root not in self:
            raise KeyError(root)
        sp = self._sparse
        spr = sp.arch.sections_per_root
        first = root * spr
        words = array("Q", bytes(8 * spr))
        for i in range(max(bisect_right(sp._run_firsts, first) - 1, 0), len(sp.runs)):
            run = sp.runs[i]
            if run.first >= first + spr:
                break
            lo, hi = max(run.first, first), min(run.last, first + spr - 1)
            if lo <= hi:
                words[lo - first:hi - first + 1] = array("Q", [run.word]) * (hi - lo + 1)
        return words
