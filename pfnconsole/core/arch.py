"""Architecture profiles: the constants that turn a pfn into addresses.

Each profile holds what `include/linux/mmzone.h`, `asm/sparsemem.h` and the arch memory
layout give for one configuration.  Sources are in ../shared/reference/kernel-facts.md
(§4.4 SECTION_SIZE_BITS / MAX_PHYSMEM_BITS, §5 layouts); values that reference does not
cover are marked in ``notes`` with where they were checked.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .errors import EngineError
from .kver import parse_kver as parse_kver3

U64 = (1 << 64) - 1


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
    """Base of the direct map: ``__va(0)`` (x86 page_offset_base without KASLR)."""
    vmemmap_base: int
    """Base of the virtual memmap: ``pfn_to_page(0)`` under SPARSEMEM_VMEMMAP."""
    vmalloc_base: int
    """Start of vmalloc/ioremap space, where device ranges get their ``base`` by default."""
    struct_page_size: int = 64
    """sizeof(struct page) in bytes (64 in standard configs; debug options enlarge it)."""
    mem_section_size: int = 16
    """sizeof(struct mem_section): section_mem_map + usage pointer on recent 64-bit kernels."""
    kver: str = ""
    """Kernel version the layout is taken from, for display."""
    notes: tuple[str, ...] = ()

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
        """__va(phys): the direct-map address (PAGE_OFFSET + phys, PHYS_OFFSET taken as 0)."""
        return (self.page_offset + phys) & U64

    def pa(self, kva: int) -> int | None:
        """__pa(kva) for a direct-map address; None outside the direct map."""
        off = (kva - self.page_offset) & U64
        return off if off < 1 << self.max_physmem_bits else None

    @property
    def subsections_per_section(self) -> int:
        """SUBSECTIONS_PER_SECTION = 1 << (SECTION_SIZE_BITS - SUBSECTION_SHIFT(21))."""
        return 1 << max(self.section_size_bits - SUBSECTION_SHIFT, 0)


SUBSECTION_SHIFT = 21
"""SUBSECTION_SHIFT: subsections are 2 MiB (include/linux/mmzone.h, recent kernels)."""

_X86_64 = ArchProfile(
    name="x86_64",
    page_shift=12,
    section_size_bits=27,
    max_physmem_bits=46,
    page_offset=0xFFFF888000000000,
    vmemmap_base=0xFFFFEA0000000000,
    vmalloc_base=0xFFFFC90000000000,
    kver="4.20+",
    notes=(
        "4-level paging, no KASLR (CONFIG_RANDOMIZE_MEMORY would offset all three bases).",
        "Direct map at 0xffff888000000000 since v4.20; 2015 kernels used 0xffff880000000000.",
    ),
)

_X86_64_2015 = replace(
    _X86_64,
    page_offset=0xFFFF880000000000,
    kver="4.2",
    notes=("4-level paging, 2015 layout: direct map at 0xffff880000000000 (before v4.20).",),
)

_X86_64_L5 = replace(
    _X86_64,
    name="x86_64-5level",
    max_physmem_bits=52,
    page_offset=0xFF11000000000000,
    vmemmap_base=0xFFD4000000000000,
    vmalloc_base=0xFFA0000000000000,
    notes=("5-level paging (LA57), no KASLR.",),
)


def _arm64(page_shift: int, kver: tuple[int, int], struct_page_size: int) -> ArchProfile:
    """arm64 with 48-bit VA, the v5.4+ (flipped) layout, PHYS_OFFSET taken as 0."""
    va_bits = 48
    if kver < (5, 12):
        section_size_bits = 30
    else:
        section_size_bits = 29 if page_shift == 16 else 27
    if kver < (4, 6):
        raise EngineError("the arm64 layout is modelled from v4.6 on (kver=4.6 or later)")
    if kver < (5, 4):
        # Before "Flip kernel VA space": PAGE_OFFSET is the top half, vmemmap just below.
        page_offset = (U64 - (1 << (va_bits - 1)) + 1) & U64
        vmemmap_size = 1 << (va_bits - page_shift - 1 + 6)
        vmemmap_start = page_offset - vmemmap_size
        vmalloc_start = 0xFFFF000008000000  # modules end / VMALLOC_START of that era
    elif kver < (6, 9):
        # VMEMMAP_SHIFT = PAGE_SHIFT - STRUCT_PAGE_MAX_SHIFT; VMEMMAP_START = -(1 << (VA_BITS - it))
        vmemmap_shift = page_shift - 6
        page_offset = (-(1 << va_bits)) & U64
        vmemmap_start = (-(1 << (va_bits - vmemmap_shift))) & U64
        vmalloc_start = 0xFFFF800080000000
    else:
        # LPA2-era layout (release [U], believed v6.9): VMEMMAP_END = -SZ_1G and the region
        # is sized by the real sizeof(struct page) for the 2^47-byte linear map.
        page_offset = (-(1 << va_bits)) & U64
        vmemmap_end = (-(1 << 30)) & U64
        vmemmap_start = vmemmap_end - ((1 << (va_bits - 1)) >> page_shift) * struct_page_size
        vmalloc_start = 0xFFFF800080000000
    return ArchProfile(
        name="arm64",
        page_shift=page_shift,
        section_size_bits=section_size_bits,
        max_physmem_bits=48,
        page_offset=page_offset,
        vmemmap_base=vmemmap_start,
        vmalloc_base=vmalloc_start,
        kver=f"{kver[0]}.{kver[1]}",
        notes=(
            "48-bit VA, CONFIG_ARM64_PA_BITS=48; memstart_addr (PHYS_OFFSET) taken as 0.",
            "SECTION_SIZE_BITS 30 before v5.12; 27 (4K/16K) or 29 (64K) from v5.12.",
            "vmalloc_base only places simulated memremap() bases; before v5.4 it is an "
            "approximation, not checked by hand against a kernel source.",
            "v6.9+ vmemmap (VMEMMAP_END = -1G) checked by hand in "
            "arch/arm64/include/asm/memory.h (Ard Biesheuvel, LPA2 series); the first release is not confirmed.",
        ),
    )


_PPC64 = ArchProfile(
    name="ppc64",
    page_shift=16,
    section_size_bits=24,
    max_physmem_bits=51,
    page_offset=0xC000000000000000,
    vmemmap_base=0xC00C000000000000,
    vmalloc_base=0xC008000000000000,
    kver="5.2+",
    notes=(
        "book3s64, 64K pages, radix or hash (same layout), SPARSEMEM_VMEMMAP+EXTREME.",
        "PAGE_OFFSET/vmemmap/vmalloc bases checked by hand in "
        "arch/powerpc/include/asm/book3s/64/radix.h and hash-64k.h (layout from v5.2; "
        "the first release is not confirmed).",
    ),
)

_RISCV64 = ArchProfile(
    name="riscv64",
    page_shift=12,
    section_size_bits=27,
    max_physmem_bits=56,
    page_offset=0xFFFFFFD600000000,
    vmemmap_base=0xFFFFFFC500000000,
    vmalloc_base=0xFFFFFFC600000000,
    kver="6.11+",
    notes=(
        "Sv39 with the 128G linear map (PAGE_OFFSET 0xffffffd600000000, believed v6.11); "
        "phys_ram_base taken as 0.",
        "PAGE_OFFSET/vmemmap/vmalloc bases checked by hand in "
        "arch/riscv/include/asm/page.h, pgtable.h and Documentation/arch/riscv/vm-layout.rst.",
    ),
)

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
) -> ArchProfile:
    """Build a profile by name, with the options that arch allows.

    ``page_shift`` only applies to arm64 (12, 14 or 16); ``kver`` selects arm64's
    SECTION_SIZE_BITS era; ``struct_page_size`` overrides sizeof(struct page).
    """
    version = parse_kver(kver) if kver else DEFAULT_KVER
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
        prof = _arm64(shift, version, struct_page_size or 64)
    elif name == "ppc64":
        prof = _PPC64
    elif name == "riscv64":
        if version < (6, 11):
            raise EngineError("riscv64 is modelled from v6.11 on (the Sv39 direct map moved "
                              "from 0xffffffd800000000 to 0xffffffd600000000 around then)")
        prof = _RISCV64
    else:
        raise EngineError(f"unknown arch {name!r}; known: {' '.join(ARCH_NAMES)}")
    if page_shift is not None and name != "arm64" and page_shift != prof.page_shift:
        raise EngineError(
            f"{name} is modelled with {prof.page_size // 1024}K pages only; "
            "page= applies to arm64"
        )
    if struct_page_size is not None:
        if struct_page_size < 32 or struct_page_size > 256 or struct_page_size % 8:
            raise EngineError(
                f"struct_page={struct_page_size}: sizeof(struct page) must be a multiple "
                "of 8 between 32 and 256"
            )
        prof = replace(prof, struct_page_size=struct_page_size)
    return prof


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

_ARM64_ERAS = ((4, 6), (5, 4), (6, 9))
"""Releases whose arm64 layout moved the vmemmap: v4.6 (below PAGE_OFFSET), v5.4 ("Flip
kernel VA space"), v6.9 (VMEMMAP_END = -1G)."""

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
        span = (1 << (_DIRECT_MAP_BITS["arm64"] - 12)) * 64
        regions = tuple((p.vmemmap_base, p.vmemmap_base + span)
                        for p in (_arm64(12, era, 64) for era in _ARM64_ERAS))
    return ArchLayout(
        name=arch, bits=64, page_shift=page_shift or prof.page_shift,
        max_physmem_bits=prof.max_physmem_bits, section_size_bits=prof.section_size_bits,
        page_offset=prof.page_offset, vmemmap_base=prof.vmemmap_base,
        struct_page_size=prof.struct_page_size, direct_map_bits=_DIRECT_MAP_BITS[arch],
        x86=arch.startswith("x86"), bases_fixed=not arm64, kaslr_window=_KASLR_WINDOWS.get(arch),
        old_page_offsets=((_X86_64_2015.page_offset, "the pre-4.20 x86_64 layout"),)
        if arch == "x86_64" else (),
        vmemmap_regions=regions)
