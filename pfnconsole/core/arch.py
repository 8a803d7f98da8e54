"""Architecture profiles by name and era, and the layouts logs are read with.

Each profile holds what `include/linux/mmzone.h`, `asm/sparsemem.h` and the arch memory
layout give for one configuration and era, with its virtual layout as one table of
regions (``regions``) that `identify`, the decoder and the machine all read.  The kernel
source of each constant is named beside it; ``notes`` say in plain words what a user
should know is assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .arch_profile import SUBSECTION_SHIFT, TOP, U64, ArchProfile, Region, RegionKind
from .arch_tables import (
    ARM64_ERAS,
    X86_64,
    X86_64_2015,
    X86_64_L5,
    arch_memstart_align,
    arm64_memstart_align,
    arm64_profile,
    ppc64_profile,
    riscv64_profile,
)
from .errors import EngineError
from .kver import parse_kver as parse_kver3

__all__ = ["ARCH_ALIASES", "ARCH_NAMES", "ARM64_ERAS", "DEFAULT_KVER", "LOG_ARCH_NAMES", "PAGE_SIZES",
           "SUBSECTION_SHIFT", "TOP", "U64", "ArchLayout", "ArchProfile", "Region", "RegionKind",
           "arch_layout", "arch_memstart_align", "arch_profile", "arm64_memstart_align",
           "canonical_arch", "parse_kver", "randomised_bases"]

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
        prof = X86_64 if version >= (4, 20) else X86_64_2015
    elif name == "x86_64-5level":
        if version < (4, 20):
            raise EngineError("x86_64-5level is modelled from v4.20 on (kver=4.20 or later)")
        prof = X86_64_L5
    elif name == "arm64":
        shift = 12 if page_shift is None else page_shift
        if shift not in (12, 14, 16):
            raise EngineError("arm64 pages are 4K, 16K or 64K (page=4K|16K|64K)")
        prof = arm64_profile(shift, version, sps, phys_offset)
    elif name == "ppc64":
        prof = ppc64_profile(version)
    elif name == "riscv64":
        if version < (6, 11):
            raise EngineError("riscv64 is modelled from v6.11 on (the Sv39 direct map moved "
                              "from 0xffffffd800000000 to 0xffffffd600000000 around then)")
        prof = riscv64_profile(phys_offset, sps)
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


KASLR_ALIGN = 1 << 30
"""arch/x86/mm/kaslr.c kernel_randomize_memory(): each region's base is PUD (1 GiB) aligned."""


def randomised_bases(prof: ArchProfile, page_offset: int | None, vmemmap_base: int | None) -> ArchProfile:
    """``prof`` with x86_64 page_offset_base / vmemmap_base moved as CONFIG_RANDOMIZE_MEMORY
    moves them (arch/x86/mm/kaslr.c, v4.8+: 1 GiB aligned, inside the window between the
    direct map's fixed start and the cpu_entry_area).  The moved rows of the layout table
    come first, so `identify` names an address by its randomised region."""
    if page_offset is None and vmemmap_base is None:
        return prof
    window = _KASLR_WINDOWS.get(prof.name)
    if window is None:
        raise EngineError(f"page_offset_base= and vmemmap_base= are the x86_64 KASLR bases; "
                          f"{prof.name} has no such randomisation here")
    moved: list[Region] = []
    for key, value, kind in (("page_offset_base", page_offset, RegionKind.DIRECT_MAP),
                             ("vmemmap_base", vmemmap_base, RegionKind.VMEMMAP)):
        if value is None:
            continue
        if value % KASLR_ALIGN or not window[0] <= value < window[1]:
            raise EngineError(f"{key}={value:#x}: a KASLR base is 1 GiB aligned inside "
                              f"[{window[0]:#x}, {window[1]:#x})")
        old = next(r for r in prof.regions if r.kind is kind)
        moved.append(Region(kind, value, value + (old.end - old.start), f"{old.name} (randomised)"))
    po = prof.page_offset if page_offset is None else page_offset
    vb = prof.vmemmap_base if vmemmap_base is None else vmemmap_base
    note = (f"KASLR (CONFIG_RANDOMIZE_MEMORY) bases given: page_offset_base {po:#x}, "
            f"vmemmap_base {vb:#x}; vmalloc_base kept at its fixed value",)
    return replace(prof, regions=(*moved, *prof.regions), notes=note, page_offset=po, vmemmap_base=vb,
                   vmemmap_start=prof.vmemmap_start if vmemmap_base is None else vb)


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
        eras = [arm64_profile(12, era, 64, 0) for era in ARM64_ERAS]
        regions = tuple(dict.fromkeys((p.vmemmap_start, p.vmemmap_start + (p.direct_map_bytes >> 12) * 64)
                                      for p in eras))
    elif arch == "ppc64":  # the hash MMU's region 0xf before v5.2, then 0xc00c…
        regions = tuple((p.vmemmap_start, p.vmemmap_start + p.direct_map_bytes // (1 << 16) * 64)
                        for p in (ppc64_profile((5, 1)), ppc64_profile((5, 2))))
    return ArchLayout(
        name=arch, bits=64, page_shift=page_shift or prof.page_shift,
        max_physmem_bits=prof.max_physmem_bits, section_size_bits=prof.section_size_bits,
        page_offset=prof.page_offset, vmemmap_base=prof.vmemmap_base,
        struct_page_size=prof.struct_page_size, direct_map_bits=_DIRECT_MAP_BITS[arch],
        x86=arch.startswith("x86"), bases_fixed=not arm64, kaslr_window=_KASLR_WINDOWS.get(arch),
        old_page_offsets=((X86_64_2015.page_offset, "the pre-4.20 x86_64 layout"),)
        if arch == "x86_64" else (),
        vmemmap_regions=regions, regions=prof.regions)

