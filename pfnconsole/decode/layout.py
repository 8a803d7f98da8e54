"""Where struct pages and the direct map live, for one arch and one calibration.

The decoder never guesses an address range on its own: it asks a `Layout`, built from
the arch's row in `pfnconsole.core.arch` (`arch_layout`), then overridden by whatever
pass 1 inferred.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.arch import Region, RegionKind, arch_layout
from ..core.memmap import vmemmap_page_to_pfn
from ..core.units import hx
from .model import Calibration


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
    is_x86: bool = False
    vmemmap_regions: tuple[tuple[int, int], ...] = ()
    """Where the arch's vmemmap has lived across releases (see `maybe_vmemmap`)."""
    regions: tuple[Region, ...] = ()
    """The arch's layout table, the one `identify` reads (empty for the 32-bit arches)."""

    def region_kind(self, va: int) -> RegionKind | None:
        """Which row of the layout table holds ``va`` (None without a table or in a hole)."""
        return next((r.kind for r in self.regions if va in r), None)

    @property
    def page_size(self) -> int:
        return 1 << self.page_shift

    @property
    def max_pfn(self) -> int:
        return 1 << (self.max_physmem_bits - self.page_shift)

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
        return vmemmap_page_to_pfn(self.vmemmap_base, ptr, self.struct_page_size)

    def maybe_vmemmap(self, ptr: int) -> bool:
        """Uncalibrated: does ``ptr`` lie where some release put this arch's vmemmap?"""
        return any(lo <= ptr < hi for lo, hi in self.vmemmap_regions)

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
    """Combine the arch's defaults with a calibration (None: defaults only)."""
    d = arch_layout(arch, calibration.page_shift if calibration else None)
    cal = calibration or Calibration(d.vmemmap_base, d.struct_page_size, d.page_offset,
                                     d.page_shift)
    sources = cal.sources
    return Layout(
        arch=d.name,
        bits=d.bits,
        page_shift=cal.page_shift or d.page_shift,
        max_physmem_bits=d.max_physmem_bits,
        vmemmap_base=cal.vmemmap_base,
        struct_page_size=cal.struct_page_size,
        page_offset=cal.page_offset,
        vmemmap_known=d.bases_fixed or any(s.startswith("vmemmap") for s in sources),
        direct_known=d.bases_fixed or any(s.startswith("direct map") for s in sources),
        direct_map_bytes=1 << min(d.direct_map_bits, d.max_physmem_bits),
        is_x86=d.x86,
        vmemmap_regions=d.vmemmap_regions,
        regions=d.regions,
    )
