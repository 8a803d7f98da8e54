"""The profiles of each architecture and era, with the kernel source beside each constant.

x86_64 (4- and 5-level, and the 2015 layout), arm64 by release and page size, ppc64
(book3s64 hash before v5.2, radix after), riscv64 (Sv39).  Read through
`arch.arch_profile()`; the region tables are what `identify` and the decoder read.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

from .arch_profile import TOP, U64, ArchProfile, Region, RegionKind
from .errors import EngineError

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

X86_64 = ArchProfile(
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

X86_64_2015 = replace(
    X86_64,
    page_offset=0xFFFF880000000000,  # Documentation/x86/x86_64/mm.txt @04d9765bd22e
    kver="4.2",
    regions=_X86_2015_REGIONS,
)

X86_64_L5 = replace(
    X86_64,
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


def arm64_profile(page_shift: int, kver: tuple[int, int], struct_page_size: int,
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

PPC64 = ArchProfile(
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


def ppc64_profile(kver: tuple[int, int]) -> ArchProfile:
    """ppc64 by era: the hash MMU's region nibbles before v5.2, and MAX_PHYSMEM_BITS 46
    before 4ffe713b7587 "powerpc/mm: Increase the max addressable memory to 2PB" (v4.20)."""
    bits = 51 if kver >= (4, 20) else 46
    if kver >= (5, 2):
        return replace(PPC64, kver=f"{kver[0]}.{kver[1]}")
    return replace(
        PPC64, max_physmem_bits=bits, kver=f"{kver[0]}.{kver[1]}",
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

RISCV64 = ArchProfile(
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


def riscv64_profile(phys_offset: int, struct_page_size: int) -> ArchProfile:
    """phys_ram_base = memblock_start_of_DRAM() & PMD_MASK (arch/riscv/mm/init.c); vmemmap =
    VMEMMAP_START - (phys_ram_base >> PAGE_SHIFT) (pgtable.h), from f754f27e98f8 (v6.13)
    rounded down to a section first (the same for a section-aligned base)."""
    if phys_offset % (2 * M):
        raise EngineError(f"phys_offset={phys_offset:#x}: riscv64 phys_ram_base is "
                          "aligned to PMD_SIZE (2M)")
    start_pfn = (phys_offset & ~((1 << 27) - 1)) >> 12
    return replace(RISCV64, phys_offset=phys_offset,
                   vmemmap_base=(RISCV64.vmemmap_start - start_pfn * struct_page_size) & U64)


