"""Architecture profiles: the constants that turn a pfn into addresses.

Each profile holds what `include/linux/mmzone.h`, `asm/sparsemem.h` and the arch memory
layout give for one configuration and era, with its virtual layout as one table of
regions (``regions``) that `identify`, the decoder and the machine all read.  The kernel
source of each constant is named beside it; ``notes`` say in plain words what a user
should know is assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from itertools import pairwise

from .errors import EngineError
from .kver import parse_kver as parse_kver3

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

K, M, G, T = 1 << 10, 1 << 20, 1 << 30, 1 << 40
R = RegionKind


def _table(*rows: tuple[RegionKind, int, int, str]) -> tuple[Region, ...]:
    """Rows (kind, start, end exclusive, name), sorted; overlapping rows are a bug here."""
    out = tuple(sorted((Region(*row) for row in rows), key=lambda r: r.start))
    for a, b in pairwise(out):
        assert a.end <= b.start, (a, b)
    return out


# --- x86_64 -------------------------------------------------------------------------------
# Documentation/arch/x86/x86_64/mm.rst @03c601927b67 (4- and 5-level tables); the top part
# is "identical" in both.  FIXADDR_START varies with the config: the rows below take the
# fixmap as [0xffffffffff000000, 0xffffffffff600000) (module space ends at -16 MB, the
# vsyscall page starts at -10 MB), an assumption where the doc says "variable size".
_X86_TOP = (
    (R.OTHER, 0xFFFFFE0000000000, 0xFFFFFE8000000000, "cpu_entry_area mapping"),
    (R.OTHER, 0xFFFFFF0000000000, 0xFFFFFF8000000000, "%esp fixup stacks"),
    (R.OTHER, 0xFFFFFFEF00000000, 0xFFFFFFFF00000000, "EFI region mapping space"),
    (R.KERNEL_TEXT, 0xFFFFFFFF80000000, 0xFFFFFFFFA0000000, "kernel text mapping (from phys 0)"),
    (R.MODULES, 0xFFFFFFFFA0000000, 0xFFFFFFFFFF000000, "module mapping space"),
    (R.FIXMAP, 0xFFFFFFFFFF000000, 0xFFFFFFFFFF600000, "kernel-internal fixmap range"),
    (R.OTHER, 0xFFFFFFFFFF600000, 0xFFFFFFFFFF601000, "legacy vsyscall ABI"),
)
_X86_L4_REGIONS = _table(
    (R.USER, 0, 0x0000800000000000, "user space"),
    (R.NON_CANONICAL, 0x0000800000000000, 0xFFFF800000000000, "non-canonical hole"),
    (R.OTHER, 0xFFFF800000000000, 0xFFFF880000000000, "guard hole (hypervisor)"),
    (R.OTHER, 0xFFFF880000000000, 0xFFFF888000000000, "LDT remap for PTI"),
    (R.DIRECT_MAP, 0xFFFF888000000000, 0xFFFFC88000000000, "direct mapping of all physical memory"),
    (R.VMALLOC, 0xFFFFC90000000000, 0xFFFFE90000000000, "vmalloc/ioremap space"),
    (R.VMEMMAP, 0xFFFFEA0000000000, 0xFFFFEB0000000000, "virtual memory map"),
    (R.OTHER, 0xFFFFEC0000000000, 0xFFFFFC0000000000, "KASAN shadow memory"),
    *_X86_TOP,
)
# Documentation/x86/x86_64/mm.txt @04d9765bd22e (the 2015 layout, before v4.20): direct map
# at 0xffff880000000000 for 64 TB; the doc lists no fixmap row and module space to
# 0xffffffffff5fffff; the fixmap row above (MODULES_END 0xffffffffff000000) is assumed.
_X86_2015_REGIONS = _table(
    (R.USER, 0, 0x0000800000000000, "user space"),
    (R.NON_CANONICAL, 0x0000800000000000, 0xFFFF800000000000, "non-canonical hole"),
    (R.OTHER, 0xFFFF800000000000, 0xFFFF880000000000, "guard hole (hypervisor)"),
    (R.DIRECT_MAP, 0xFFFF880000000000, 0xFFFFC80000000000, "direct mapping of all physical memory"),
    (R.VMALLOC, 0xFFFFC90000000000, 0xFFFFE90000000000, "vmalloc/ioremap space"),
    (R.VMEMMAP, 0xFFFFEA0000000000, 0xFFFFEB0000000000, "virtual memory map"),
    *_X86_TOP[1:5], _X86_TOP[5],
    (R.OTHER, 0xFFFFFFFFFF600000, 0xFFFFFFFFFFE00000, "vsyscalls"),
)
_X86_L5_REGIONS = _table(
    (R.USER, 0, 0x0100000000000000, "user space"),
    (R.NON_CANONICAL, 0x0100000000000000, 0xFF00000000000000, "non-canonical hole"),
    (R.OTHER, 0xFF00000000000000, 0xFF10000000000000, "guard hole (hypervisor)"),
    (R.OTHER, 0xFF10000000000000, 0xFF11000000000000, "LDT remap for PTI"),
    (R.DIRECT_MAP, 0xFF11000000000000, 0xFF91000000000000, "direct mapping of all physical memory"),
    (R.VMALLOC, 0xFFA0000000000000, 0xFFD2000000000000, "vmalloc/ioremap space"),
    (R.VMEMMAP, 0xFFD4000000000000, 0xFFD6000000000000, "virtual memory map"),
    (R.OTHER, 0xFFDF000000000000, 0xFFFFFC0000000000, "KASAN shadow memory"),
    *_X86_TOP,
)

_X86_64 = ArchProfile(
    name="x86_64",
    page_shift=12,
    section_size_bits=27,  # arch/x86/include/asm/sparsemem.h @08229de4b428
    max_physmem_bits=46,   # same file: 46 with 4-level paging
    page_offset=0xFFFF888000000000,   # __PAGE_OFFSET_BASE_L4, page_64_types.h (v4.20+)
    vmemmap_base=0xFFFFEA0000000000,  # __VMEMMAP_BASE_L4, pgtable_64_types.h
    vmalloc_base=0xFFFFC90000000000,  # mm.rst @03c601927b67 (vmalloc_base)
    kver="4.20+",
    notes=("4-level paging without KASLR: CONFIG_RANDOMIZE_MEMORY would move the direct "
           "map, vmalloc and vmemmap bases at boot.",),
    direct_map_bytes=64 * T,
    vmemmap_start=0xFFFFEA0000000000,
    regions=_X86_L4_REGIONS,
)

_X86_64_2015 = replace(
    _X86_64,
    page_offset=0xFFFF880000000000,  # Documentation/x86/x86_64/mm.txt @04d9765bd22e
    kver="4.2",
    regions=_X86_2015_REGIONS,
)

_X86_64_L5 = replace(
    _X86_64,
    name="x86_64-5level",
    max_physmem_bits=52,              # sparsemem.h: pgtable_l5_enabled() ? 52 : 46
    page_offset=0xFF11000000000000,   # __PAGE_OFFSET_BASE_L5, page_64_types.h
    vmemmap_base=0xFFD4000000000000,  # __VMEMMAP_BASE_L5, pgtable_64_types.h
    vmalloc_base=0xFFA0000000000000,  # mm.rst @03c601927b67, 5-level table
    notes=("5-level paging (LA57) without KASLR.",),
    direct_map_bytes=32 << 50,
    vmemmap_start=0xFFD4000000000000,
    regions=_X86_L5_REGIONS,
)


# --- arm64 ---------------------------------------------------------------------------------
ARM64_ERAS = ((4, 6), (5, 0), (5, 4), (5, 11), (5, 16), (6, 5), (6, 9))
"""Releases whose 48-bit arm64 layout moved something:
v4.6  PAGE_OFFSET the top half, vmemmap just below it (arch/arm64/include/asm/memory.h);
v5.0  91fc957c9b1d "arm64/bpf: don't allocate BPF JIT programs in module memory": a 128M
      BPF JIT region before the modules;
v5.4  14c127c957c1 "arm64: mm: Flip kernel VA space": linear map at the bottom,
      VMEMMAP_START (-VMEMMAP_SIZE - SZ_2M);
v5.11 9ad7c6d5e75b "arm64: mm: tidy up top of kernel VA space":
      VMEMMAP_START -(1 << (VA_BITS - VMEMMAP_SHIFT)), VMALLOC_END VMEMMAP_START - SZ_256M;
v5.16 b89ddf4cca43 "arm64/bpf: Remove 128MB limit for BPF JIT programs": modules at
      _PAGE_END(VA_BITS_MIN);
v6.5  MODULES_VSIZE SZ_2G ("arm64: module: rework module VA range selection"; the
      release is assumed);
v6.9  VMEMMAP_END -SZ_1G, VMEMMAP_START = VMEMMAP_END - VMEMMAP_SIZE, FIXADDR_TOP -SZ_8M
      (LPA2 series; the release is assumed).
The v4.9 … v5.16 steps are as listed by Huang Shijie's vmcoreinfo mail to linux-kernel
(Feb 2022) and the memory.h diffs it names."""


def _arm64_era(kver: tuple[int, int]) -> tuple[int, int]:
    return max(e for e in ARM64_ERAS if e <= kver)


def arm64_memstart_align(page_shift: int, section_size_bits: int) -> int:
    """ARM64_MEMSTART_ALIGN (arch/arm64/mm/init.c, kernel-pgtable.h in older trees):
    PUD_SHIFT (4K), CONT_PMD_SHIFT = PMD_SHIFT + 5 (16K) or PMD_SHIFT (64K), raised to
    SECTION_SIZE_BITS under SPARSEMEM_VMEMMAP."""
    shift = {12: 30, 14: 25 + 5, 16: 29}[page_shift]
    return 1 << max(shift, section_size_bits)


def arch_memstart_align(page_shift: int, kver: tuple[int, int]) -> int:
    """ARM64_MEMSTART_ALIGN for a page size and release (SECTION_SIZE_BITS by era)."""
    section_size_bits = 30 if kver < (5, 12) else 29 if page_shift == 16 else 27
    return arm64_memstart_align(page_shift, section_size_bits)


def _arm64(page_shift: int, kver: tuple[int, int], struct_page_size: int,
           phys_offset: int) -> ArchProfile:
    """arm64 with 48-bit VA (CONFIG_ARM64_VA_BITS=48, PA_BITS=48) and no KASAN."""
    if kver < (4, 6):
        raise EngineError("the arm64 layout is modelled from v4.6 on (kver=4.6 or later)")
    va_bits = 48
    era = _arm64_era(kver)
    # arch/arm64/include/asm/sparsemem.h: 30 before f0b13ee23241 (v5.12); then 27 for
    # 4K/16K pages and 29 for 64K ("at least 512MB for 64K base page size")
    section_size_bits = 30 if kver < (5, 12) else 29 if page_shift == 16 else 27
    vmemmap_shift = page_shift - 6          # PAGE_SHIFT - STRUCT_PAGE_MAX_SHIFT (64-byte page)
    linear = 1 << (va_bits - 1)             # _PAGE_END(VA_BITS) - PAGE_OFFSET: 2^47 bytes
    modules_vsize = 2 * G if era >= (6, 5) else 128 * M   # MODULES_VSIZE
    bpf = 128 * M if (5, 0) <= era < (5, 16) else 0       # BPF_JIT_REGION_SIZE
    notes = ["48-bit VA, 48-bit PA, no KASAN, no KASLR; the kernel image is taken as "
             "32 MiB from KIMAGE_VADDR (its real size depends on the build)."]
    if era < (5, 4):
        # PAGE_OFFSET (0xffffffffffffffff - (1 << (VA_BITS - 1)) + 1); VA_START the low half
        page_offset = (-linear) & U64
        va_start = (-(1 << va_bits)) & U64
        vmemmap_size = 1 << (va_bits - page_shift - 1 + 6)  # VMEMMAP_SIZE
        vmemmap_start = page_offset - vmemmap_size          # VMEMMAP_START
        vmemmap_end = vmemmap_start + vmemmap_size
        modules = va_start + bpf                            # MODULES_VADDR
        vmalloc_end = page_offset - G - vmemmap_size - 64 * K  # PAGE_OFFSET-PUD_SIZE-VMEMMAP_SIZE-SZ_64K
        pci_io_end = vmemmap_start - 2 * M                  # PCI_IO_END
        fixaddr_top = pci_io_end - 16 * M - 2 * M           # PCI_IO_START - SZ_2M
        user_end = 1 << va_bits
        linear_row = (R.DIRECT_MAP, page_offset, TOP, "kernel logical memory map")
        bottom = va_start
    else:
        page_offset = (-(1 << va_bits)) & U64               # _PAGE_OFFSET(VA_BITS)
        page_end = page_offset + linear                     # _PAGE_END(VA_BITS_MIN)
        modules = page_end + bpf                            # MODULES_VADDR
        if era < (5, 11):
            vmemmap_size = linear >> vmemmap_shift          # ce3aaed87344 (v5.4)
            vmemmap_start = (-vmemmap_size - 2 * M) & U64   # -VMEMMAP_SIZE - SZ_2M
            vmemmap_end = vmemmap_start + vmemmap_size
            vmalloc_end = (-G - vmemmap_size - 64 * K) & U64  # -PUD_SIZE-VMEMMAP_SIZE-SZ_64K
            pci_io_end = vmemmap_start - 2 * M              # VMEMMAP_START - SZ_2M
            fixaddr_top = pci_io_end - 16 * M - 2 * M       # PCI_IO_START - SZ_2M
        elif era < (6, 9):
            vmemmap_size = linear >> vmemmap_shift
            vmemmap_start = (-(1 << (va_bits - vmemmap_shift))) & U64
            vmemmap_end = vmemmap_start + vmemmap_size
            vmalloc_end = vmemmap_start - 256 * M           # VMEMMAP_START - SZ_256M
            pci_io_end = vmemmap_start - 8 * M              # VMEMMAP_START - SZ_8M
            fixaddr_top = vmemmap_start - 32 * M            # VMEMMAP_START - SZ_32M
        else:
            # VMEMMAP_SIZE sized by the real sizeof(struct page) (not rounded to a power of 2)
            vmemmap_end = (-G) & U64                        # -UL(SZ_1G)
            vmemmap_start = vmemmap_end - (linear >> page_shift) * struct_page_size
            vmalloc_end = vmemmap_start - 256 * M           # assumed unchanged from v5.11
            pci_io_end = vmemmap_end + 8 * M + 16 * M       # PCI_IO_START VMEMMAP_END + SZ_8M
            fixaddr_top = (-8 * M) & U64                    # -UL(SZ_8M)
        user_end = 1 << va_bits
        linear_row = (R.DIRECT_MAP, page_offset, page_end, "kernel logical memory map")
        bottom = page_offset
    vmalloc_start = modules + modules_vsize                 # VMALLOC_START = MODULES_END
    kimage = vmalloc_start                                  # KIMAGE_VADDR = MODULES_END
    # the fixmap is 224MB below FIXADDR_TOP in memory.rst @34069d12e239; taken as that size
    # in every era (FIXADDR_SIZE depends on the config)
    rows = [
        (R.USER, 0, user_end, "user"),
        (R.NON_CANONICAL, user_end, bottom, "non-canonical hole"),
        linear_row,
        (R.MODULES, modules, modules + modules_vsize, "modules"),
        (R.KERNEL_TEXT, kimage, kimage + 32 * M, "kernel image (KIMAGE_VADDR)"),
        (R.VMALLOC, kimage + 32 * M, vmalloc_end, "vmalloc"),
        (R.FIXMAP, fixaddr_top - 224 * M, fixaddr_top, "fixed mappings"),
        (R.OTHER, pci_io_end - 16 * M, pci_io_end, "PCI I/O space"),
        (R.VMEMMAP, vmemmap_start, vmemmap_end, "vmemmap"),
    ]
    if bpf:
        rows.append((R.OTHER, modules - bpf, modules, "BPF JIT region"))
    if (5, 14) <= kver < (5, 18):
        notes.append("pfn_valid() is modelled as the generic SPARSEMEM one from v5.14; "
                     "arm64's own, which also asks memblock, may still apply before v5.18.")
    align = arm64_memstart_align(page_shift, section_size_bits)
    if phys_offset % align:
        raise EngineError(f"phys_offset={phys_offset:#x}: arm64 memstart_addr is aligned "
                          f"to ARM64_MEMSTART_ALIGN ({align:#x} here)")
    return ArchProfile(
        name="arm64",
        page_shift=page_shift,
        section_size_bits=section_size_bits,
        max_physmem_bits=48,
        page_offset=page_offset,
        # vmemmap = (struct page *)VMEMMAP_START - (memstart_addr >> PAGE_SHIFT), pgtable.h
        vmemmap_base=(vmemmap_start - (phys_offset >> page_shift) * struct_page_size) & U64,
        vmalloc_base=vmalloc_start,
        kver=f"{kver[0]}.{kver[1]}",
        notes=tuple(notes),
        phys_offset=phys_offset,
        direct_map_bytes=linear,
        vmemmap_start=vmemmap_start,
        regions=_table(*rows),
    )


# --- ppc64 (book3s64, 64K pages) -----------------------------------------------------------
# v5.2+ (0034d395f89d): one layout for hash and radix, arch/powerpc/include/asm/book3s/64/
# radix.h: RADIX_KERN_VIRT_START 0xc008000000000000, RADIX_KERN_MAP_SIZE (1UL << 49), then
# vmalloc, KERN_IO and vmemmap one MAP_SIZE each.  Before v5.2 the hash MMU picked the
# region by the top nibble (hash-64k.h REGION_SHIFT 60): 0xc linear, 0xd vmalloc then
# ioremap (H_KERN_VIRT_START), 0xf vmemmap (H_VMEMMAP_BASE = 0xf << 60).  ppc64 loads
# modules into vmalloc space and runs the kernel text from the start of the linear map, so
# those two are not rows of their own; the fixmap is not modelled.
_PPC64_USER = (R.USER, 0, 0x4000000000000000, "user (quadrant 0; TASK_SIZE is smaller)")
_PPC64_REGIONS = _table(
    _PPC64_USER,
    (R.NON_CANONICAL, 0x4000000000000000, 0xC000000000000000, "not a valid quadrant"),
    (R.DIRECT_MAP, 0xC000000000000000, 0xC008000000000000, "linear map (kernel text at its start)"),
    (R.VMALLOC, 0xC008000000000000, 0xC00A000000000000, "vmalloc (modules too)"),
    (R.VMALLOC, 0xC00A000000000000, 0xC00C000000000000, "ioremap (KERN_IO)"),
    (R.VMEMMAP, 0xC00C000000000000, 0xC00E000000000000, "vmemmap"),
)
_PPC64_HASH_REGIONS = _table(
    (R.USER, 0, 0x1000000000000000, "user (region 0x0; TASK_SIZE is smaller)"),
    (R.NON_CANONICAL, 0x1000000000000000, 0xC000000000000000, "no region (0x1 … 0xb)"),
    (R.DIRECT_MAP, 0xC000000000000000, 0xD000000000000000, "linear map, region 0xc"),
    (R.VMALLOC, 0xD000000000000000, 0xE000000000000000, "vmalloc then ioremap, region 0xd"),
    (R.NON_CANONICAL, 0xE000000000000000, 0xF000000000000000, "no region (0xe)"),
    (R.VMEMMAP, 0xF000000000000000, TOP, "vmemmap, region 0xf"),
)

_PPC64 = ArchProfile(
    name="ppc64",
    page_shift=16,
    section_size_bits=24,   # arch/powerpc/include/asm/sparsemem.h @00f5764dbb04
    max_physmem_bits=51,    # same file, SPARSEMEM_VMEMMAP+EXTREME, from 4ffe713b7587 (v4.20)
    page_offset=0xC000000000000000,
    vmemmap_base=0xC00C000000000000,  # RADIX_VMEMMAP_START (radix.h, v5.2+)
    vmalloc_base=0xC008000000000000,  # RADIX_VMALLOC_START
    kver="5.2+",
    notes=("book3s64 with 64K pages; the kernel text runs from the linear map and modules "
           "load into vmalloc space.",),
    direct_map_bytes=1 << 51,
    vmemmap_start=0xC00C000000000000,
    regions=_PPC64_REGIONS,
)


def _ppc64(kver: tuple[int, int]) -> ArchProfile:
    """ppc64 by era: the hash MMU's region nibbles before v5.2, and MAX_PHYSMEM_BITS 46
    before 4ffe713b7587 "powerpc/mm: Increase the max addressable memory to 2PB" (v4.20)."""
    bits = 51 if kver >= (4, 20) else 46
    if kver >= (5, 2):
        return replace(_PPC64, kver=f"{kver[0]}.{kver[1]}")
    return replace(
        _PPC64, max_physmem_bits=bits, kver=f"{kver[0]}.{kver[1]}",
        vmemmap_base=0xF000000000000000, vmemmap_start=0xF000000000000000,  # H_VMEMMAP_BASE
        vmalloc_base=0xD000000000000000,  # H_VMALLOC_START = H_KERN_VIRT_START
        direct_map_bytes=1 << bits, regions=_PPC64_HASH_REGIONS,
        notes=("book3s64 hash MMU with 64K pages (the pre-v5.2 radix layout is not "
               "modelled); the kernel text runs from the linear map and modules load "
               "into vmalloc space.",))


# --- riscv64 (Sv39) ------------------------------------------------------------------------
# Documentation/arch/riscv/vm-layout.rst @512a93a93dbe, the Sv39 table.
_RISCV64_REGIONS = _table(
    (R.USER, 0, 0x0000004000000000, "user-space virtual memory"),
    (R.NON_CANONICAL, 0x0000004000000000, 0xFFFFFFC000000000, "non-canonical hole"),
    (R.FIXMAP, 0xFFFFFFC4FEA00000, 0xFFFFFFC4FF000000, "fixmap"),
    (R.OTHER, 0xFFFFFFC4FF000000, 0xFFFFFFC500000000, "PCI io"),
    (R.VMEMMAP, 0xFFFFFFC500000000, 0xFFFFFFC600000000, "vmemmap"),
    (R.VMALLOC, 0xFFFFFFC600000000, 0xFFFFFFD600000000, "vmalloc/ioremap space"),
    (R.DIRECT_MAP, 0xFFFFFFD600000000, 0xFFFFFFF600000000, "direct mapping of all physical memory"),
    (R.OTHER, 0xFFFFFFF700000000, 0xFFFFFFFF00000000, "kasan"),
    (R.MODULES, 0xFFFFFFFF00000000, 0xFFFFFFFF80000000, "modules, BPF"),
    (R.KERNEL_TEXT, 0xFFFFFFFF80000000, TOP, "kernel"),
)

_RISCV64 = ArchProfile(
    name="riscv64",
    page_shift=12,
    section_size_bits=27,   # arch/riscv/include/asm/sparsemem.h @30c092337017
    max_physmem_bits=56,    # same file (RV64)
    page_offset=0xFFFFFFD600000000,   # vm-layout.rst @512a93a93dbe, Sv39 direct map
    vmemmap_base=0xFFFFFFC500000000,  # VMEMMAP_START with phys_ram_base 0
    vmalloc_base=0xFFFFFFC600000000,
    kver="6.11+",
    notes=("Sv39 with the 128G linear map at 0xffffffd600000000 (assumed to start with "
           "v6.11).",),
    direct_map_bytes=128 * G,
    vmemmap_start=0xFFFFFFC500000000,
    regions=_RISCV64_REGIONS,
)


def _riscv64(phys_offset: int, struct_page_size: int) -> ArchProfile:
    """phys_ram_base = memblock_start_of_DRAM() & PMD_MASK (arch/riscv/mm/init.c); vmemmap =
    VMEMMAP_START - (phys_ram_base >> PAGE_SHIFT) (pgtable.h), from f754f27e98f8 (v6.13)
    rounded down to a section first (the same for a section-aligned base)."""
    if phys_offset % (2 * M):
        raise EngineError(f"phys_offset={phys_offset:#x}: riscv64 phys_ram_base is "
                          "aligned to PMD_SIZE (2M)")
    start_pfn = (phys_offset & ~((1 << 27) - 1)) >> 12
    return replace(_RISCV64, phys_offset=phys_offset,
                   vmemmap_base=(_RISCV64.vmemmap_start - start_pfn * struct_page_size) & U64)


ARCH_NAMES = ("x86_64", "x86_64-5level", "arm64", "ppc64", "riscv64")
PAGE_SIZES = {"4K": 12, "16K": 14, "64K": 16}


DEFAULT_KVER = (6, 16)
"""The kernel a machine models unless told otherwise: the last release with pfn_t."""


def parse_kver(kver: str) -> tuple[int, int]:
    """'5.12' -> (5, 12): the major and minor release, which is all profiles depend on."""
    major, minor, _ = parse_kver3(kver)
    return major, minor


def arch_profile(
    name: str,
    *,
    page_shift: int | None = None,
    kver: str | None = None,
    struct_page_size: int | None = None,
    phys_offset: int = 0,
    page_ext: bool = False,
    zone_device: bool = True,
) -> ArchProfile:
    """Build a profile by name, with the options that arch allows.

    ``page_shift`` only applies to arm64 (12, 14 or 16); ``kver`` picks the era;
    ``struct_page_size`` overrides sizeof(struct page); ``phys_offset`` is arm64
    PHYS_OFFSET or riscv64 phys_ram_base (bytes); ``page_ext`` CONFIG_PAGE_EXTENSION
    (sizeof(struct mem_section) 32, include/linux/mmzone.h); ``zone_device``
    CONFIG_ZONE_DEVICE.
    """
    version = parse_kver(kver) if kver else DEFAULT_KVER
    if struct_page_size is not None and (
            struct_page_size < 32 or struct_page_size > 256 or struct_page_size % 8):
        raise EngineError(
            f"struct_page={struct_page_size}: sizeof(struct page) must be a multiple "
            "of 8 between 32 and 256")
    sps = struct_page_size or 64
    if phys_offset and name not in ("arm64", "riscv64"):
        raise EngineError(f"phys_offset= applies to arm64 and riscv64; {name} maps "
                          "physical address 0 at the start of its direct map")
    if phys_offset < 0 or phys_offset >= 1 << 48:
        raise EngineError(f"phys_offset={phys_offset:#x} is not a physical address here")
    if name == "x86_64":
        prof = _X86_64 if version >= (4, 20) else _X86_64_2015
    elif name == "x86_64-5level":
        if version < (4, 20):
            raise EngineError("x86_64-5level is modelled from v4.20 on (kver=4.20 or later)")
        prof = _X86_64_L5
    elif name == "arm64":
        shift = 12 if page_shift is None else page_shift
        if shift not in (12, 14, 16):
            raise EngineError("arm64 pages are 4K, 16K or 64K (page=4K|16K|64K)")
        prof = _arm64(shift, version, sps, phys_offset)
    elif name == "ppc64":
        prof = _ppc64(version)
    elif name == "riscv64":
        if version < (6, 11):
            raise EngineError("riscv64 is modelled from v6.11 on (the Sv39 direct map moved "
                              "from 0xffffffd800000000 to 0xffffffd600000000 around then)")
        prof = _riscv64(phys_offset, sps)
    else:
        raise EngineError(f"unknown arch {name!r}; known: {' '.join(ARCH_NAMES)}")
    if page_shift is not None and name != "arm64" and page_shift != prof.page_shift:
        raise EngineError(
            f"{name} is modelled with {prof.page_size // 1024}K pages only; "
            "page= applies to arm64"
        )
    # struct mem_section: section_mem_map + usage (or pageblock_flags) = 16 bytes, plus
    # page_ext + pad with CONFIG_PAGE_EXTENSION = 32 (include/linux/mmzone.h, 2015 and later)
    return replace(prof, struct_page_size=sps, mem_section_size=32 if page_ext else 16,
                   page_ext=page_ext, zone_device=zone_device, kver=prof.kver
                   if name.startswith("x86") else f"{version[0]}.{version[1]}")


# --- reading logs: every arch a log may come from, with what its addresses mean ------------

@dataclass(frozen=True)
class ArchLayout:
    """Where one architecture puts the direct map and the memmap, as far as its logs show.

    The log decoder reads addresses with these numbers until the log itself says
    otherwise; the 64-bit rows come from the profiles above, the 32-bit ones (which the
    simulator does not model) are written here.  Addresses are ``unsigned long``.
    """

    name: str
    bits: int
    """BITS_PER_LONG: 64, or 32 for the arches with no virtual memmap."""
    page_shift: int
    max_physmem_bits: int
    section_size_bits: int
    page_offset: int
    """PAGE_OFFSET: ``__va(0)`` without KASLR (PHYS_OFFSET taken as 0)."""
    vmemmap_base: int | None
    """``pfn_to_page(0)``; None without SPARSEMEM_VMEMMAP (flat or classic sparse mem_map)."""
    struct_page_size: int | None
    direct_map_bits: int
    """log2 of how far the linear map reaches (less than MAX_PHYSMEM_BITS on 64-bit)."""
    x86: bool = False
    """An x86 page-table format (dump_pagetable() walks, L1TF-inverted entries)."""
    bases_fixed: bool = True
    """False on arm64: both bases move with memstart_addr (PHYS_OFFSET), known only from a log."""
    kaslr_window: tuple[int, int] | None = None
    """[lo, hi) inside which CONFIG_RANDOMIZE_MEMORY places the regions, PUD aligned."""
    old_page_offsets: tuple[tuple[int, str], ...] = ()
    """Direct-map bases of earlier releases, each with the layout it belongs to."""
    vmemmap_regions: tuple[tuple[int, int], ...] = ()
    """[start, end) of the vmemmap in each release the arch's layout changed, oldest first."""
    regions: tuple[Region, ...] = ()
    """The newest modelled release's layout table (the profile's ``regions``)."""


ARCH_ALIASES: dict[str, str] = {
    "x86-64": "x86_64", "amd64": "x86_64", "x86_64-l5": "x86_64-5level",
    "aarch64": "arm64", "ppc64le": "ppc64", "powerpc64": "ppc64", "riscv": "riscv64",
    "arm32": "arm", "armv7": "arm", "armhf": "arm", "x86": "i386", "i686": "i386", "x86_32": "i386",
}
"""Other names for the arches (``uname -m`` spellings, distribution names)."""

_DIRECT_MAP_BITS = {"x86_64": 46, "x86_64-5level": 52, "arm64": 47, "ppc64": 51, "riscv64": 37}
"""How far the linear map reaches: x86 direct mapping of all physical memory (64 TiB with
4-level paging, 4 PiB with 5), arm64 half the 48-bit VA space, ppc64 and riscv64 Sv39."""

_KASLR_WINDOWS = {
    "x86_64": (0xFFFF880000000000, 0xFFFFFE0000000000),
    "x86_64-5level": (0xFF10000000000000, 0xFFFFFE0000000000),
}
"""arch/x86/mm/kaslr.c: the regions are placed between the old direct-map start and the
cpu_entry_area, 1 GiB aligned."""

_LOG_ONLY = {
    # 3G/1G split, no virtual memmap; i386 with PAE addresses 36 bits
    "arm": ArchLayout("arm", 32, 12, 32, 26, 0xC0000000, None, None, 32),
    "i386": ArchLayout("i386", 32, 12, 36, 26, 0xC0000000, None, None, 36, x86=True),
}

LOG_ARCH_NAMES = (*ARCH_NAMES, *_LOG_ONLY)
"""Every arch a kernel log can be read as: the simulator's, and the 32-bit ones."""


def canonical_arch(name: str) -> str:
    """'AArch64' -> 'arm64': the arch an alias or another spelling names."""
    name = name.strip().lower()
    return ARCH_ALIASES.get(name, name)


def arch_layout(name: str, page_shift: int | None = None) -> ArchLayout:
    """The layout of ``name`` (an alias is accepted) as a log shows it.

    ``page_shift`` chooses arm64's 4K, 16K or 64K layout; elsewhere it only sets the page
    size.  Raises `EngineError` for an unknown arch.
    """
    arch = canonical_arch(name)
    if arch in _LOG_ONLY:
        row = _LOG_ONLY[arch]
        return row if page_shift is None else replace(row, page_shift=page_shift)
    if arch not in ARCH_NAMES:
        raise EngineError(f"unknown arch {name!r}; known: {' '.join(LOG_ARCH_NAMES)}")
    arm64 = arch == "arm64"
    prof = arch_profile(arch, page_shift=page_shift if arm64 and page_shift in (12, 14, 16) else None)
    regions: tuple[tuple[int, int], ...] = ()
    if arm64:  # 48-bit VA, 4K pages, 64-byte struct page: the vmemmap covers the linear map
        eras = [_arm64(12, era, 64, 0) for era in ARM64_ERAS]
        regions = tuple(dict.fromkeys((p.vmemmap_start, p.vmemmap_start + (p.direct_map_bytes >> 12) * 64)
                                      for p in eras))
    elif arch == "ppc64":  # the hash MMU's region 0xf before v5.2, then 0xc00c…
        regions = tuple((p.vmemmap_start, p.vmemmap_start + p.direct_map_bytes // (1 << 16) * 64)
                        for p in (_ppc64((5, 1)), _ppc64((5, 2))))
    return ArchLayout(
        name=arch, bits=64, page_shift=page_shift or prof.page_shift,
        max_physmem_bits=prof.max_physmem_bits, section_size_bits=prof.section_size_bits,
        page_offset=prof.page_offset, vmemmap_base=prof.vmemmap_base,
        struct_page_size=prof.struct_page_size, direct_map_bits=_DIRECT_MAP_BITS[arch],
        x86=arch.startswith("x86"), bases_fixed=not arm64, kaslr_window=_KASLR_WINDOWS.get(arch),
        old_page_offsets=((_X86_64_2015.page_offset, "the pre-4.20 x86_64 layout"),)
        if arch == "x86_64" else (),
        vmemmap_regions=regions, regions=prof.regions)
