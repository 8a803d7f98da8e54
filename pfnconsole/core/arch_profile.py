"""What an architecture profile is: the layout's regions and the constants of one era.

`ArchProfile` holds what `include/linux/mmzone.h`, `asm/sparsemem.h` and the arch memory
layout give for one configuration and era; `arch_tables` fills one in per arch and era,
and `arch.arch_profile()` picks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

U64 = (1 << 64) - 1
TOP = 1 << 64
"""One past the last 64-bit address: region ends are exclusive, so the top region ends here."""


class RegionKind(StrEnum):
    """What a stretch of the virtual address space is for (the arch's layout table)."""

    USER = "user"
    NON_CANONICAL = "non-canonical"
    DIRECT_MAP = "direct map"
    VMEMMAP = "vmemmap"
    VMALLOC = "vmalloc/ioremap"
    MODULES = "modules"
    KERNEL_TEXT = "kernel text"
    FIXMAP = "fixmap"
    OTHER = "other"
    """A named region the simulator does not model further (KASAN shadow, PCI I/O, holes)."""


@dataclass(frozen=True)
class Region:
    """[start, end) of one row of a virtual memory layout; ``end`` exclusive, may be 2^64."""

    kind: RegionKind
    start: int
    end: int
    name: str

    def __contains__(self, addr: object) -> bool:
        return isinstance(addr, int) and self.start <= addr < self.end


@dataclass(frozen=True)
class ArchProfile:
    """One architecture configuration.

    Addresses are 64-bit kernel virtual addresses (``unsigned long``); sizes in bytes.
    """

    name: str
    page_shift: int
    """PAGE_SHIFT: log2 of the base page size."""
    section_size_bits: int
    """SECTION_SIZE_BITS: log2 of a memory section in bytes."""
    max_physmem_bits: int
    """MAX_PHYSMEM_BITS: physical addresses must be below 1 << this."""
    page_offset: int
    """PAGE_OFFSET: start of the direct (linear) map, ``__va(phys_offset)``."""
    vmemmap_base: int
    """``vmemmap``: ``pfn_to_page(0)`` under SPARSEMEM_VMEMMAP (VMEMMAP_START minus the
    struct pages of the pfns below phys_offset on arm64 and riscv64)."""
    vmalloc_base: int
    """VMALLOC_START, where device ranges get their ``base`` by default."""
    struct_page_size: int = 64
    """sizeof(struct page) in bytes (64 in standard configs; debug options enlarge it)."""
    mem_section_size: int = 16
    """sizeof(struct mem_section): 16, or 32 with CONFIG_PAGE_EXTENSION (page_ext + pad)."""
    kver: str = ""
    """Kernel version the layout is taken from, for display."""
    notes: tuple[str, ...] = ()
    """What the user should know is assumed about this profile, in plain words."""
    phys_offset: int = 0
    """PHYS_OFFSET (arm64 memstart_addr) or riscv64 phys_ram_base: the physical address
    PAGE_OFFSET maps (phys_addr_t).  0 on x86_64 and ppc64."""
    direct_map_bytes: int = 0
    """How many bytes the linear map spans from PAGE_OFFSET."""
    vmemmap_start: int = 0
    """VMEMMAP_START: the bottom of the vmemmap region."""
    regions: tuple[Region, ...] = ()
    """The layout table, sorted by start; addresses outside every row are unused holes."""
    page_ext: bool = False
    """CONFIG_PAGE_EXTENSION: struct mem_section grows by page_ext and pad (32 bytes)."""
    zone_device: bool = True
    """CONFIG_ZONE_DEVICE: whether SECTION_TAINT_ZONE_DEVICE exists (enum era)."""

    # --- derived, named after the kernel macros ---------------------------------------
    @property
    def page_size(self) -> int:
        return 1 << self.page_shift

    @property
    def pfn_section_shift(self) -> int:
        """PFN_SECTION_SHIFT = SECTION_SIZE_BITS - PAGE_SHIFT."""
        return self.section_size_bits - self.page_shift

    @property
    def pages_per_section(self) -> int:
        return 1 << self.pfn_section_shift

    @property
    def sections_shift(self) -> int:
        """SECTIONS_SHIFT = MAX_PHYSMEM_BITS - SECTION_SIZE_BITS."""
        return self.max_physmem_bits - self.section_size_bits

    @property
    def nr_mem_sections(self) -> int:
        return 1 << self.sections_shift

    @property
    def sections_per_root(self) -> int:
        """SECTIONS_PER_ROOT = PAGE_SIZE / sizeof(struct mem_section) (SPARSEMEM_EXTREME)."""
        return self.page_size // self.mem_section_size

    @property
    def nr_section_roots(self) -> int:
        """NR_SECTION_ROOTS = DIV_ROUND_UP(NR_MEM_SECTIONS, SECTIONS_PER_ROOT)."""
        return -(-self.nr_mem_sections // self.sections_per_root)

    @property
    def max_pfn(self) -> int:
        """One past the largest pfn MAX_PHYSMEM_BITS allows."""
        return 1 << (self.max_physmem_bits - self.page_shift)

    @property
    def memmap_bytes_per_section(self) -> int:
        return self.pages_per_section * self.struct_page_size

    # --- conversions (include/asm-generic/memory_model.h, the arch page.h) ----------------
    def PFN_PHYS(self, pfn: int) -> int:
        """PFN_PHYS(pfn): physical address (phys_addr_t) of a page frame."""
        return pfn << self.page_shift

    def PHYS_PFN(self, phys: int) -> int:
        """PHYS_PFN(phys): the page frame holding a physical address."""
        return phys >> self.page_shift

    def va(self, phys: int) -> int:
        """__va(phys) = PAGE_OFFSET + (phys - PHYS_OFFSET): the direct-map address.

        arm64 ``__phys_to_virt(x) = ((x) - PHYS_OFFSET) | PAGE_OFFSET`` (memory.h);
        riscv64 ``x + va_pa_offset`` with va_pa_offset = PAGE_OFFSET - phys_ram_base.
        """
        return (self.page_offset + phys - self.phys_offset) & U64

    def pa(self, kva: int) -> int | None:
        """__pa(kva) for a direct-map address; None outside the linear map."""
        off = (kva - self.page_offset) & U64
        return off + self.phys_offset if off < self.direct_map_bytes else None

    def region_of(self, addr: int) -> Region:
        """The layout row holding ``addr``, or an unused-hole row between two of them."""
        below, above = 0, TOP
        for r in self.regions:
            if addr in r:
                return r
            if r.end <= addr:
                below = max(below, r.end)
            elif r.start > addr:
                above = min(above, r.start)
        return Region(RegionKind.OTHER, below, above, "unused hole")

    @property
    def subsections_per_section(self) -> int:
        """SUBSECTIONS_PER_SECTION = 1 << (SECTION_SIZE_BITS - SUBSECTION_SHIFT(21))."""
        return 1 << max(self.section_size_bits - SUBSECTION_SHIFT, 0)


SUBSECTION_SHIFT = 21
"""SUBSECTION_SHIFT: subsections are 2 MiB (include/linux/mmzone.h, recent kernels)."""
