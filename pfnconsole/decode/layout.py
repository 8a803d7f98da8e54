"""Where struct pages and the direct map live, for one arch and one calibration.

The decoder never guesses an address range on its own: it asks a `Layout`, built from
the arch profile in `pfnconsole.core.arch` (64-bit arches) or a small local table for
the 32-bit arches real logs come from, then overridden by whatever pass 1 inferred.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.arch import arch_profile
from .model import Calibration, hx

U64 = (1 << 64) - 1

ALIASES = {
    "x86-64": "x86_64", "amd64": "x86_64", "x86_64-l5": "x86_64-5level",
    "aarch64": "arm64", "ppc64le": "ppc64", "powerpc64": "ppc64", "riscv": "riscv64",
    "arm32": "arm", "armv7": "arm", "armhf": "arm", "x86": "i386", "i686": "i386", "x86_32": "i386",
}

# 32-bit arches: no virtual memmap (flat or classic sparse mem_map), 3G/1G split.
_LOCAL_32 = {
    "arm": {"page_shift": 12, "page_offset": 0xC0000000, "max_physmem_bits": 32},
    "i386": {"page_shift": 12, "page_offset": 0xC0000000, "max_physmem_bits": 36},
}

# How far the linear map reaches, when that is less than 1 << MAX_PHYSMEM_BITS.
_DIRECT_MAP_BITS = {"x86_64": 46, "x86_64-5level": 52, "arm64": 47, "ppc64": 51, "riscv64": 37}

# KASLR (CONFIG_RANDOMIZE_MEMORY) moves the x86 regions inside this window, PUD aligned.
KASLR_WINDOW = {
    "x86_64": (0xFFFF880000000000, 0xFFFFFE0000000000),
    "x86_64-5level": (0xFF10000000000000, 0xFFFFFE0000000000),
}

X86 = frozenset({"x86_64", "x86_64-5level", "i386"})

ARM64_VMEMMAP_REGIONS = (
    (0xFFFF7E0000000000, 0xFFFF800000000000),  # v4.6-v5.3, 48-bit VA, 4K pages
    (0xFFFFFC0000000000, 0xFFFFFE0000000000),  # v5.4-v6.8
    (0xFFFFFDFFC0000000, 0xFFFFFFFFC0000000),  # v6.9+ (VMEMMAP_END = -1G)
)
"""Where an arm64 (48-bit VA) vmemmap has lived; which one, and at what memstart offset,
a given log used is only known after calibration."""


def canonical_arch(arch: str) -> str:
    name = arch.strip().lower()
    return ALIASES.get(name, name)


@dataclass(frozen=True)
class ArchDefaults:
    """The uncalibrated numbers for one arch."""

    arch: str
    bits: int
    page_shift: int
    max_physmem_bits: int
    vmemmap_base: int | None
    struct_page_size: int | None
    page_offset: int | None
    section_size_bits: int


def arch_defaults(arch: str, page_shift: int | None = None) -> ArchDefaults:
    """Profile values for ``arch`` (a 64-bit profile name, or "arm"/"i386")."""
    name = canonical_arch(arch)
    if name in _LOCAL_32:
        d = _LOCAL_32[name]
        return ArchDefaults(name, 32, page_shift or d["page_shift"], d["max_physmem_bits"],
                            None, None, d["page_offset"], 26)
    if name == "arm64" and page_shift in (12, 14, 16):
        prof = arch_profile(name, page_shift=page_shift)
    else:
        prof = arch_profile(name)
    return ArchDefaults(name, 64, page_shift or prof.page_shift, prof.max_physmem_bits,
                        prof.vmemmap_base, prof.struct_page_size, prof.page_offset,
                        prof.section_size_bits)


def default_calibration(arch: str) -> Calibration:
    d = arch_defaults(arch)
    return Calibration(d.vmemmap_base, d.struct_page_size, d.page_offset, d.page_shift, ())


@dataclass(frozen=True)
class Layout:
    """Address arithmetic the formats share."""

    arch: str
    bits: int
    page_shift: int
    max_physmem_bits: int
    vmemmap_base: int | None
    struct_page_size: int | None
    page_offset: int | None
    vmemmap_known: bool
    """False when the base depends on something the log did not show (arm64 memstart_addr)."""
    direct_known: bool
    direct_map_bytes: int

    @property
    def page_size(self) -> int:
        return 1 << self.page_shift

    @property
    def max_pfn(self) -> int:
        return 1 << (self.max_physmem_bits - self.page_shift)

    @property
    def is_x86(self) -> bool:
        return self.arch in X86

    # --- struct page pointers --------------------------------------------------------
    def in_vmemmap(self, ptr: int) -> bool:
        if self.vmemmap_base is None or not self.struct_page_size:
            return False
        off = ptr - self.vmemmap_base
        return 0 <= off < self.vmemmap_span

    @property
    def vmemmap_span(self) -> int:
        """Bytes of memmap needed to cover every pfn the direct map can reach."""
        return (self.direct_map_bytes >> self.page_shift) * (self.struct_page_size or 0)

    def page_to_pfn(self, ptr: int) -> tuple[int, int] | None:
        """(pfn, byte offset inside that struct page) for a pointer into the vmemmap."""
        if not self.vmemmap_known or not self.in_vmemmap(ptr):
            return None
        assert self.vmemmap_base is not None and self.struct_page_size
        pfn, off = divmod(ptr - self.vmemmap_base, self.struct_page_size)
        return pfn, off

    def maybe_arm64_vmemmap(self, ptr: int) -> bool:
        """Uncalibrated arm64: does ``ptr`` lie in any vmemmap region arm64 has used?"""
        return self.arch == "arm64" and any(lo <= ptr < hi for lo, hi in ARM64_VMEMMAP_REGIONS)

    def vmemmap_how(self) -> str:
        return f"vmemmap {hx(self.vmemmap_base or 0)}, {self.struct_page_size}-byte struct page"

    # --- direct map --------------------------------------------------------------------
    def in_direct_map(self, va: int) -> bool:
        if self.page_offset is None or self.bits != 64:
            return False
        off = va - self.page_offset
        return 0 <= off < self.direct_map_bytes

    def va_to_phys(self, va: int) -> int | None:
        if not self.direct_known or not self.in_direct_map(va):
            return None
        assert self.page_offset is not None
        return va - self.page_offset

    def direct_how(self) -> str:
        return f"direct map: phys = va - {hx(self.page_offset or 0)}"

    def untag(self, va: int) -> int:
        """arm64 top-byte tags (KASAN SW_TAGS/MTE) are not part of the address."""
        if self.arch == "arm64" and (va >> 56) != 0xFF and ((va >> 48) & 0xFF) == 0xFF:
            return va | (0xFF << 56)
        return va


def make_layout(arch: str, calibration: Calibration | None) -> Layout:
    """Combine the arch defaults with a calibration (None: defaults only)."""
    shift = calibration.page_shift if calibration else None
    d = arch_defaults(arch, shift)
    cal = calibration or Calibration(d.vmemmap_base, d.struct_page_size, d.page_offset,
                                     d.page_shift)
    sources = cal.sources
    vm_known = d.arch != "arm64" or any(s.startswith("vmemmap") for s in sources)
    dm_known = d.arch != "arm64" or any(s.startswith("direct map") for s in sources)
    bits = _DIRECT_MAP_BITS.get(d.arch, d.max_physmem_bits)
    return Layout(
        arch=d.arch,
        bits=d.bits,
        page_shift=cal.page_shift or d.page_shift,
        max_physmem_bits=d.max_physmem_bits,
        vmemmap_base=cal.vmemmap_base,
        struct_page_size=cal.struct_page_size,
        page_offset=cal.page_offset,
        vmemmap_known=vm_known,
        direct_known=dm_known,
        direct_map_bytes=1 << min(bits, d.max_physmem_bits),
    )
