"""Kernel page tables, worked out on demand: nothing is built, so a 64 TiB machine costs nothing.

What is mapped, and with which leaves, follows how the kernel builds its own tables:

- the direct map covers every RAM range of the memory map.  x86_64 (arch/x86/mm/init.c
  probe_page_size_mask(), init_memory_mapping()) uses 1 GiB leaves where a whole aligned
  GiB is RAM (direct_gbpages, on a CPU with GBPAGES), 2 MiB leaves (PSE) where a whole
  aligned 2 MiB is, 4 KiB pages at the ragged ends.  arm64 maps its linear map page by page
  when can_set_direct_map() (rodata=full, the Kconfig default; arch/arm64/mm/mmu.c
  map_mem(), v5.x-v6.x: NO_BLOCK_MAPPINGS | NO_CONT_MAPPINGS).
- the vmemmap is populated for present sections only: x86_64 and arm64 with 4K pages in
  2 MiB leaves (vmemmap_populate_hugepages()), other granules page by page.
- a registered kmap range is a memremap(MEMREMAP_WB) (x86: ioremap_cache) mapping in the
  vmalloc area: a PUD leaf where 1 GiB of it is aligned at both ends, a PMD leaf for
  2 MiB, else pages (mm/vmalloc.c vmap_try_huge_pud/pmd()).

Entry values are the kernel's: _KERNPG_TABLE (0x63) for an x86 table, __PAGE_KERNEL
(0x8000000000000163: PRESENT RW ACCESSED DIRTY GLOBAL NX) and __PAGE_KERNEL_LARGE (| _PAGE_PSE)
for leaves, as a kernel without PTI has them (PTI takes _PAGE_GLOBAL out); arm64 table
descriptors 0b11, blocks 0b01 and pages 0b11 with AF, SH inner-shareable, AttrIndx MT_NORMAL
(0), PXN, UXN; riscv64 Sv39 a PPN at bit 10 with V for a table, _PAGE_KERNEL for a leaf.
Where a page-table page lives is the kernel's choice (memblock); the console places them
itself and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from .arch_profile import U64, RegionKind
from .errors import EngineError

if TYPE_CHECKING:
    from .state import State

GiB, MiB = 1 << 30, 1 << 20


class Level(NamedTuple):
    """One level of a walk: index = (va >> shift) & ((1 << bits) - 1)."""

    name: str
    shift: int
    bits: int

    @property
    def span(self) -> int:
        """Bytes one entry of this level maps."""
        return 1 << self.shift


@dataclass(frozen=True)
class Geometry:
    """The levels an arch configuration walks, top first, and the ones folded away."""

    levels: tuple[Level, ...]
    folded: tuple[str, ...]
    leaves: tuple[int, ...]
    """Leaf sizes the kernel uses, biggest first (the smallest is PAGE_SIZE)."""
    note: str


def geometry(arch_name: str, page_shift: int) -> Geometry:
    """The page-table geometry of an arch profile (x86_64, x86_64-5level, arm64, riscv64)."""
    if arch_name == "x86_64":  # arch/x86/include/asm/pgtable_64_types.h, 4-level: P4D folded
        return Geometry((Level("PGD", 39, 9), Level("PUD", 30, 9), Level("PMD", 21, 9), Level("PTE", 12, 9)),
                        ("P4D",), (GiB, 2 * MiB, 4096), "4-level paging: the P4D is folded into the PGD")
    if arch_name == "x86_64-5level":  # LA57: pgdir_shift 48, ptrs_per_p4d 512
        return Geometry((Level("PGD", 48, 9), Level("P4D", 39, 9), Level("PUD", 30, 9), Level("PMD", 21, 9),
                         Level("PTE", 12, 9)), (), (GiB, 2 * MiB, 4096), "5-level paging (LA57)")
    if arch_name == "arm64":
        # ARM64_HW_PGTABLE_LEVEL_SHIFT(n) = (PAGE_SHIFT - 3) * (4 - n) + 3, VA_BITS 48
        t = page_shift - 3
        names = ("PTE", "PMD", "PUD", "PGD")
        levels = [Level(names[i], page_shift + i * t, t) for i in range(4) if page_shift + i * t < 48]
        top = levels[-1]
        levels[-1] = Level("PGD", top.shift, 48 - top.shift)
        folded = tuple(n for n in ("PUD", "PMD") if n not in {lv.name for lv in levels})
        # block sizes: 4K -> 1 GiB (level 1) and 2 MiB (level 2); 16K -> 32 MiB; 64K -> 512 MiB
        blocks = (GiB, 2 * MiB) if page_shift == 12 else (1 << (page_shift + t),)
        return Geometry(tuple(reversed(levels)), folded, (*blocks, 1 << page_shift),
                        f"{len(levels)} levels for 48-bit VA with {1 << (page_shift - 10)}K pages")
    if arch_name == "riscv64":  # Sv39: three levels of 9 bits
        return Geometry((Level("PGD", 30, 9), Level("PMD", 21, 9), Level("PTE", 12, 9)), ("P4D", "PUD"),
                        (GiB, 2 * MiB, 4096), "Sv39: three levels")
    raise EngineError(f"the {arch_name} kernel page tables are not modelled (its hash or radix MMU "
                      "tables differ from the radix walk modelled here)")


@dataclass(frozen=True)
class Mapping:
    """One stretch the kernel mapped: ``size`` bytes of ``phys`` at ``virt`` in ``leaf`` pieces."""

    kind: str
    """"direct map", "vmemmap" or "kmap range NAME"."""
    virt: int
    phys: int | None
    """None for the vmemmap: which RAM pages back it is memblock's choice."""
    size: int
    leaf: int
    why: str


@dataclass(frozen=True)
class WalkStep:
    """One entry read on the way down."""

    level: str
    index: int
    entry: int
    what: str
    """"table", "leaf" or "none" (not present: the walk ends here)."""
    flags: tuple[str, ...]
    detail: str


@dataclass(frozen=True)
class Walk:
    """vtop(va): the entries read and where the walk ended."""

    va: int
    steps: tuple[WalkStep, ...]
    folded: tuple[str, ...]
    mapping: Mapping | None
    phys: int | None
    pfn: int | None
    leaf: int | None
    note: str

    @property
    def loads(self) -> int:
        """Dependent loads of the walk: one entry per level read."""
        return len(self.steps)


# --- entry values -------------------------------------------------------------------------

X86_BITS = ((0, "PRESENT"), (1, "RW"), (2, "USER"), (3, "PWT"), (4, "PCD"), (5, "ACCESSED"), (6, "DIRTY"),
            (7, "PSE"), (8, "GLOBAL"), (9, "SOFTW1"), (10, "SOFTW2"), (11, "SOFTW3"), (63, "NX"))
"""arch/x86/include/asm/pgtable_types.h _PAGE_BIT_*; bit 7 is PAT in a 4 KiB PTE."""
X86_TABLE = 0x063          # _KERNPG_TABLE: PRESENT | RW | ACCESSED | DIRTY
X86_KERNEL = 0x8000000000000163  # __PAGE_KERNEL: PRESENT RW ACCESSED DIRTY GLOBAL NX
X86_PSE = 0x080
X86_ADDR = 0x000FFFFFFFFFF000  # bits 51..12 (__PHYSICAL_MASK_SHIFT 52)
ARM64_TABLE = 0x3          # PMD_TYPE_TABLE
ARM64_BLOCK = 0x1          # PMD_TYPE_SECT
ARM64_PAGE = 0x3           # PTE_TYPE_PAGE
ARM64_NORMAL = (1 << 10) | (3 << 8) | (1 << 53) | (1 << 54)  # AF, SH inner, PXN, UXN; AttrIndx MT_NORMAL 0
ARM64_BITS = ((0, "VALID"), (6, "USER"), (7, "RDONLY"), (10, "AF"), (11, "NG"), (50, "GP"), (51, "DBM"),
              (52, "CONT"), (53, "PXN"), (54, "UXN"))
"""arch/arm64/include/asm/pgtable-hwdef.h (v6.18); bits 9:8 SH, 4:2 AttrIndx."""


RISCV_BITS = ((0, "V"), (1, "R"), (2, "W"), (3, "X"), (4, "U"), (5, "G"), (6, "A"), (7, "D"))
"""arch/riscv/include/asm/pgtable-bits.h: _PAGE_PRESENT .. _PAGE_DIRTY; the PPN sits at bit 10."""
RISCV_KERNEL = 0xE7        # _PAGE_KERNEL: PRESENT READ WRITE GLOBAL ACCESSED DIRTY
RISCV_PFN_SHIFT = 10       # _PAGE_PFN_SHIFT


def _riscv_entry(addr: int, leaf: bool, level: str) -> int:
    return (addr >> 12 << RISCV_PFN_SHIFT) | (RISCV_KERNEL if leaf else 0x1)


def _x86_entry(addr: int, leaf: bool, level: str) -> int:
    if not leaf:
        return addr | X86_TABLE
    return addr | X86_KERNEL | (X86_PSE if level != "PTE" else 0)


def _arm64_entry(addr: int, leaf: bool, level: str) -> int:
    if not leaf:
        return addr | ARM64_TABLE
    return addr | ARM64_NORMAL | (ARM64_PAGE if level == "PTE" else ARM64_BLOCK)


def decode_entry(value: int, arch_name: str, level: str = "PTE") -> tuple[int | None, bool, tuple[str, ...], str]:
    """(the address it holds, is it a leaf, flag names, how it reads) of a raw entry."""
    if not 0 <= value <= U64:
        raise EngineError(f"{value:#x} is not a 64-bit page-table entry")
    if arch_name.startswith("x86"):
        names = tuple("PAT" if (b == 7 and level == "PTE") else n for b, n in X86_BITS if value >> b & 1)
        if value == 0:
            return None, False, (), "empty (pte_none)"
        if not value & 1:
            # L1TF: a non-present, non-zero entry holds its pfn inverted (pgtable-invert.h, v4.19+)
            addr = ~value & X86_ADDR
            return addr, level == "PTE", names, ("not present: the pfn field is stored inverted (L1TF, "
                                                 f"v4.19+): {addr:#x} (a swap or PROT_NONE entry)")
        huge = level in ("PUD", "PMD") and value & X86_PSE
        if level == "PTE" or huge:
            size = {"PUD": GiB, "PMD": 2 * MiB}.get(level, 4096)
            addr = value & X86_ADDR & ~(size - 1)
            return addr, True, names, f"present {_size(size)} leaf at {addr:#x}"
        addr = value & X86_ADDR
        return addr, False, names, f"next-level table at {addr:#x}"
    if arch_name == "arm64":
        names = tuple(n for b, n in ARM64_BITS if value >> b & 1)
        if not value & 1:
            return None, False, names, "invalid descriptor (bit 0 clear)"
        addr = value & 0x0003FFFFFFFFF000  # PTE_ADDR_LOW bits 49..12 (v6.18), 4K granule
        table = value & 2 and level != "PTE"
        if table:
            return addr, False, names, f"table descriptor: next level at {addr:#x}"
        kind = "page" if level == "PTE" else "block"
        return addr, True, names, f"{kind} descriptor: output address {addr:#x}, AttrIndx {value >> 2 & 7}"
    if arch_name == "riscv64":
        names = tuple(n for b, n in RISCV_BITS if value >> b & 1)
        if not value & 1:
            return None, False, names, "not valid (V clear)"
        addr = (value >> RISCV_PFN_SHIFT & ((1 << 44) - 1)) << 12
        if value & 0xE:  # R, W or X: a leaf at any level
            return addr, True, names, f"leaf: physical page {addr:#x}"
        return addr, False, names, f"pointer to the next level at {addr:#x}"
    raise EngineError(f"entries of {arch_name} are not decoded here (x86_64, arm64 and riscv64 are)")


# --- what is mapped ----------------------------------------------------------------------

def _ram(s: State) -> list[tuple[int, int]]:
    """[start, end) of the RAM the direct map covers."""
    return [(r.start, r.end + 1) for r in s.physmap.ranges if r.type.is_ram]


def _device(s: State) -> list[tuple[int, int, str]]:
    """[start, end) and name of each dev_pagemap the direct map covers: memremap_pages()'s
    arch_add_memory() runs init_memory_mapping() over the hot-added range (mm/memremap.c,
    arch/x86/mm/init_64.c); MEMORY_DEVICE_PRIVATE takes add_pages() only, no direct map."""
    ps = s.arch.page_shift
    return [(pg.hot[0] << ps, (pg.hot[1] + 1) << ps, pg.name) for pg in s.pgmaps.values()
            if pg.type != "private"]


def _device_memmap(s: State, phys: int) -> tuple[str, int] | None:
    """(pgmap, vmemmap address) when ``phys`` holds struct pages an altmap put in the device."""
    a = s.arch
    for pg in s.pgmaps.values():
        nr = pg.block_section(phys >> a.page_shift)
        block = pg.section_block(nr) if nr is not None else None
        if nr is not None and block is not None:
            return pg.name, a.vmemmap_base + (nr << a.pfn_section_shift) * a.struct_page_size + (
                phys - (block << a.page_shift))
    return None


def _biggest_leaf(phys: int, inside: tuple[int, int], virt_off: int, g: Geometry, allowed: tuple[int, ...]) -> int:
    """The biggest leaf whose aligned piece around ``phys`` lies inside [lo, hi)."""
    lo, hi = inside
    for size in allowed:
        base = phys & ~(size - 1)
        if base >= lo and base + size <= hi and virt_off % size == 0:
            return size
    return g.leaves[-1]


def mapping_of(s: State, va: int) -> tuple[Mapping | None, str]:
    """Which mapping holds ``va`` (None and why when none does)."""
    a = s.arch
    g = geometry(a.name, a.page_shift)
    for r in sorted(s.ranges.values(), key=lambda r: -r.seq):
        if r.holds_kva(va):
            phys = r.start + (va - r.base)
            leaf = _biggest_leaf(phys, (r.start, r.end + 1), r.base - r.start, g, g.leaves[:-1]
                                 if a.name.startswith("x86") else ())
            return Mapping(f"kmap range {r.name}", r.base, r.start, r.size, leaf,
                           "memremap(MEMREMAP_WB) of a device range: vmalloc-area mapping"), ""
    region = a.region_of(va)
    if region.kind is RegionKind.DIRECT_MAP:
        pa = a.pa(va)
        if pa is None:
            return None, "beyond the direct map"
        for lo, hi in _ram(s):
            if lo <= pa < hi:
                if a.name == "arm64":
                    return Mapping("direct map", a.va(lo), lo, hi - lo, a.page_size,
                                   "rodata=full (the default): the linear map is mapped page by page"), ""
                leaf = _biggest_leaf(pa, (lo, hi), 0, g, g.leaves[:-1])
                return Mapping("direct map", a.va(lo), lo, hi - lo, leaf,
                               "init_memory_mapping(): 1 GiB (GBPAGES) and 2 MiB (PSE) leaves where aligned"), ""
        for lo, hi, name in _device(s):
            if lo <= pa < hi:
                leaf = _biggest_leaf(pa, (lo, hi), 0, g, g.leaves[:-1])
                return Mapping(f"direct map (ZONE_DEVICE {name})", a.va(lo), lo, hi - lo, leaf,
                               "memremap_pages(): arch_add_memory() -> init_memory_mapping(), "
                               "1 GiB and 2 MiB leaves where aligned"), ""
        return None, f"phys {pa:#x} is not RAM: the direct map has no entry for it"
    if region.kind is RegionKind.VMEMMAP and s.sparse.vmemmap:
        pfn = (va - a.vmemmap_base) // a.struct_page_size
        if pfn < 0 or pfn >> (a.max_physmem_bits - a.page_shift):
            return None, "not the struct page of any pfn"
        nr = s.sparse.pfn_to_section_nr(pfn)
        sec = s.sparse.nr_to_section(nr)
        if sec is None or not sec.present:
            return None, f"section {nr} is not present: its memmap was never populated"
        leaf = 2 * MiB if a.page_shift == 12 else a.page_size
        start = a.vmemmap_base + (nr << a.pfn_section_shift) * a.struct_page_size
        for pg in s.pgmaps.values():
            block = pg.section_block(nr)
            if block is not None:
                return Mapping("vmemmap", start, block << a.page_shift, a.pages_per_section * a.struct_page_size,
                               leaf,
                               f"vmemmap_populate() from {pg.name}'s altmap: the memmap is in the device"), ""
        return Mapping("vmemmap", start, None, a.pages_per_section * a.struct_page_size, leaf,
                       "vmemmap_populate() of a present section"), ""
    if region.kind is RegionKind.VMALLOC:
        return None, "no kmap range maps it (the console models no other vmalloc mapping)"
    raise EngineError(f"{va:#x} is in {region.name}: the console walks the direct map, the vmemmap "
                      "and kmap ranges only")


def _size(n: int) -> str:
    return f"{n >> 30} GiB" if n >= GiB else f"{n >> 20} MiB" if n >= MiB else f"{n >> 10} KiB"


def _populated(s: State, lo: int, hi: int) -> bool:
    """Does any mapping the console models touch virtual [lo, hi)?"""
    a = s.arch
    if any(r.base < hi and lo < r.base + r.size for r in s.ranges.values()):
        return True
    ram = _ram(s) + [(lo, hi) for lo, hi, _ in _device(s)]
    dm_lo, dm_hi = a.page_offset, a.page_offset + a.direct_map_bytes
    if lo < dm_hi and dm_lo < hi:
        plo, phi = max(lo, dm_lo) - dm_lo + a.phys_offset, min(hi, dm_hi) - dm_lo + a.phys_offset
        if any(r_lo < phi and plo < r_hi for r_lo, r_hi in ram):
            return True
    if s.sparse.vmemmap:
        vm_lo = a.vmemmap_base
        vm_hi = vm_lo + (1 << (a.max_physmem_bits - a.page_shift)) * a.struct_page_size
        if lo < vm_hi and vm_lo < hi:
            sec = a.pages_per_section
            p_lo = (max(lo, vm_lo) - vm_lo) // a.struct_page_size // sec * sec
            p_hi = -(-((min(hi, vm_hi) - vm_lo) // a.struct_page_size) // sec) * sec
            return any(r_lo >> a.page_shift < p_hi and p_lo < -(-r_hi >> a.page_shift) for r_lo, r_hi in ram)
    return False


def _table_phys(s: State, level: int, span_index: int) -> int:
    """Where the console places the page one entry points at, in the upper half of the
    biggest RAM range (the kernel takes it from memblock): page aligned, the same every time."""
    ram = _ram(s)
    lo, hi = max(ram, key=lambda r: r[1] - r[0]) if ram else (0, 1 << 30)
    page = s.arch.page_size
    first, pages = -(-(lo + (hi - lo) // 2) // page), max(1, (hi - lo) // 2 // page - 1)
    mix = (span_index * 0x9E3779B97F4A7C15 + level * 0xBF58476D1CE4E5B9) & U64
    return (first + mix % pages) * page


def vtop(s: State, va: int) -> Walk:
    """Walk the kernel page tables for ``va`` (``unsigned long``), top level first."""
    if not 0 <= va <= U64:
        raise EngineError(f"{va:#x} is not a 64-bit address")
    a = s.arch
    g = geometry(a.name, a.page_shift)
    entry = _x86_entry if a.name.startswith("x86") else _riscv_entry if a.name == "riscv64" else _arm64_entry
    m, why = mapping_of(s, va)
    steps: list[WalkStep] = []
    last = len(g.levels) - 1
    for depth, lv in enumerate(g.levels):
        index = (va >> lv.shift) & ((1 << lv.bits) - 1)
        lo = va & ~(lv.span - 1)
        if m is None and (depth == last or not _populated(s, lo, lo + lv.span)):
            steps.append(WalkStep(lv.name, index, 0, "none", (), f"not present: {why}"))
            return Walk(va, tuple(steps), g.folded, None, None, None, None, g.note)
        if m is not None and lv.span == m.leaf:
            off = va & (lv.span - 1)
            if m.phys is None:  # vmemmap: backed by RAM pages memblock chose
                base = _table_phys(s, depth + 100, va >> lv.shift) & ~(lv.span - 1)
            else:
                base = (m.phys + (va - m.virt)) & ~(lv.span - 1)
            value = entry(base, True, lv.name)
            flags = decode_entry(value, a.name, lv.name)[2]
            steps.append(WalkStep(lv.name, index, value, "leaf", flags,
                                  f"{_size(lv.span)} leaf: {m.why}"))
            phys = base + off
            return Walk(va, tuple(steps), g.folded, m, phys, phys >> a.page_shift, lv.span,
                        g.note + ("; the vmemmap's backing pages are placed by the console" if m.phys is None
                                  else ""))
        table = _table_phys(s, depth, va >> lv.shift)
        value = entry(table, False, lv.name)
        steps.append(WalkStep(lv.name, index, value, "table", decode_entry(value, a.name, lv.name)[2],
                              f"next-level table at {table:#x} (placed by the console)"))
    raise AssertionError("a walk ends at a leaf or a missing entry")  # pragma: no cover


def ptov(s: State, phys: int) -> list[tuple[str, int]]:
    """Every kernel virtual address ``phys`` is mapped at: the direct map (RAM and ZONE_DEVICE),
    the vmemmap where an altmap stored struct pages, kmap range bases."""
    a = s.arch
    out: list[tuple[str, int]] = []
    if any(lo <= phys < hi for lo, hi in _ram(s)):
        out.append(("direct map", a.va(phys)))
    for lo, hi, name in _device(s):
        if lo <= phys < hi:
            out.append((f"direct map (ZONE_DEVICE {name})", a.va(phys)))
    memmap = _device_memmap(s, phys)
    if memmap is not None:
        out.append((f"vmemmap ({memmap[0]}'s altmap)", memmap[1]))
    for r in sorted(s.ranges.values(), key=lambda r: r.seq):
        if r.start <= phys <= r.end:
            out.append((f"kmap range {r.name}", r.base + (phys - r.start)))
    return out


__all__ = ["Geometry", "Level", "Mapping", "Walk", "WalkStep", "decode_entry", "geometry", "mapping_of",
           "ptov", "vtop"]
