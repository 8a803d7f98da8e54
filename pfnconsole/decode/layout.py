"""Where struct pages and the direct map live, for one arch and one calibration.

The decoder never guesses an address range on its own: it asks a `Layout`, built from
the arch's row in `pfnconsole.core.arch` (`arch_layout`), then overridden by whatever
pass 1 inferred.

No pfn the log does not support: `Layout.page_to_pfn` and `Layout.va_to_phys` answer only
when the base they use agrees with the page-table walk printed for that address, or was
confirmed by the log (a (pointer, pfn) or (address, pfn) pair, a walk whose leaf and
address agree), or is the arch default and the log shows no sign of randomisation; and
(but for the walk) the result lies inside the log's memory map (below `PLAUSIBLE_RAM` when
the log has none).  A walk that names another page vetoes the translation.
`Layout.no_pfn_reason` says why not, `Layout.address_kind` what the address is instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.arch import Region, RegionKind, arch_layout
from ..core.memmap import vmemmap_page_to_pfn
from ..core.units import human_size, hx
from .model import Calibration

PLAUSIBLE_RAM = 4 << 40
"""4 TiB (bytes): where a translation may land when the log shows no memory map.  Most
machines have far less RAM; the big ones (multi-socket servers reach tens of TiB) print
an e820 or zone map in a boot log, which is the bound then.  A default-base result above
this is far likelier an address of a randomised (KASLR) layout read with the wrong base:
x86_64 puts vmalloc and vmemmap tens of TiB above the default direct map."""

KASLR_UNKNOWN = "in the KASLR window (direct map, vmalloc or vmemmap: base unknown)"
"""`Layout.address_kind` of an x86_64 address whose region a randomised layout hides."""

_KIND_NAMES = {
    RegionKind.VMALLOC: "vmalloc", RegionKind.DIRECT_MAP: "direct map", RegionKind.VMEMMAP: "vmemmap",
    RegionKind.KERNEL_TEXT: "kernel text", RegionKind.MODULES: "modules", RegionKind.FIXMAP: "fixmap",
    RegionKind.USER: "user",
}


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
    vmemmap_confirmed: bool = False
    """The vmemmap base was solved from the log's (pointer, pfn) pairs."""
    direct_confirmed: bool = False
    """The direct-map base was solved from the log's (address, pfn) pairs or layout table."""
    default_vmemmap: int | None = None
    default_page_offset: int | None = None
    """The arch's unrandomised bases (what an unconfirmed layout falls back to)."""
    kaslr_window: tuple[int, int] | None = None
    """[lo, hi) where x86_64 CONFIG_RANDOMIZE_MEMORY may put the direct map, vmalloc, vmemmap."""
    phys_end: int | None = None
    """Exclusive end (bytes) of the log's memory map; None: the log has none."""
    phys_end_how: str = ""
    randomised: str = ""
    """Why the layout looks randomised; "" when the log shows no sign."""
    nokaslr: bool = False
    walks: tuple[tuple[int, int, bool], ...] = ()
    """(address, phys, leaf present) of the page-table walks the log printed."""
    awaiting_walk: int | None = None
    lpae: bool | None = None
    """32-bit ARM: LPAE (3-level, 64-bit entries) as the log shows it; None unknown."""

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
        """(pfn, byte offset inside that struct page) for a pointer into the vmemmap, when
        the log supports it (see the module docstring); None otherwise."""
        got = self._raw_page_to_pfn(ptr)
        if got is None or self._vmemmap_refusal(got[0]):
            return None
        return got

    def _raw_page_to_pfn(self, ptr: int) -> tuple[int, int] | None:
        if not self.vmemmap_known or not self.in_vmemmap(ptr):
            return None
        assert self.vmemmap_base is not None and self.struct_page_size
        return vmemmap_page_to_pfn(self.vmemmap_base, ptr, self.struct_page_size)

    def _vmemmap_refusal(self, pfn: int) -> str:
        """Why a pfn read off the vmemmap is not supported; "" when it is."""
        if self.vmemmap_confirmed:
            return self._bound_refusal(pfn << self.page_shift, "vmemmap")
        return self._default_refusal(pfn << self.page_shift, "vmemmap")

    def maybe_vmemmap(self, ptr: int) -> bool:
        """Uncalibrated: does ``ptr`` lie where some release put this arch's vmemmap?"""
        return any(lo <= ptr < hi for lo, hi in self.vmemmap_regions)

    def vmemmap_how(self) -> str:
        return f"vmemmap {hx(self.vmemmap_base or 0)}, {self.struct_page_size}-byte struct page"

    # --- what the log supports ------------------------------------------------------------
    @property
    def ram_bound(self) -> int:
        """Exclusive end (bytes) a translated result must lie below: the log's memory map's
        end, else the smaller of `PLAUSIBLE_RAM` and 2^MAX_PHYSMEM_BITS."""
        if self.phys_end is not None:
            return self.phys_end
        return min(PLAUSIBLE_RAM, 1 << self.max_physmem_bits)

    def support(self, vmemmap: bool) -> str:
        """Why a result of the vmemmap (or direct-map) base is believed: "" when the log
        confirmed the base, else `default_support`."""
        return "" if (self.vmemmap_confirmed if vmemmap else self.direct_confirmed) else self.default_support()

    def default_support(self) -> str:
        """Why a default-base result is believed: no randomisation sign, and the bound."""
        sign = "nokaslr" if self.nokaslr else "no sign of randomisation in the log"
        if self.phys_end is not None:
            return f"default base ({sign}, inside the log's memory map: {self.phys_end_how})"
        return f"default base ({sign}, below {human_size(self.ram_bound)} with no memory map)"

    def _default_refusal(self, phys: int, what: str) -> str:
        """Why the default ``what`` base may not turn an address into ``phys``; "" if it may."""
        if self.randomised:
            return f"the {what} base is randomised ({self.randomised}) and the log does not confirm it"
        if phys >= self.ram_bound:
            if self.phys_end is not None:
                return (f"under the default {what} base it would be {hx(phys)}, beyond the log's memory "
                        f"map ({self.phys_end_how})")
            return (f"under the default {what} base it would be {hx(phys)}, beyond "
                    f"{human_size(self.ram_bound)} (the plausible RAM bound without a memory map): "
                    "likely a randomised base")
        return ""

    def _bound_refusal(self, phys: int, what: str) -> str:
        """A confirmed base still maps only RAM: why ``phys`` is beyond it ("" if it is not)."""
        if phys < self.ram_bound:
            return ""
        where = (f"the log's memory map ({self.phys_end_how})" if self.phys_end is not None
                 else f"{human_size(self.ram_bound)} (the plausible RAM bound without a memory map)")
        return (f"with the confirmed {what} base it would be {hx(phys)}, beyond {where}: "
                "not RAM the log shows (vmalloc or another region placed after it?)")

    def _walk(self, va: int) -> tuple[int, bool] | None:
        return next(((phys, present) for a, phys, present in self.walks if a == va), None)

    def no_pfn_reason(self, va: int) -> str:
        """Why ``va`` gets no pfn ("" when `va_to_phys` or `page_to_pfn` gives one)."""
        va = self.untag(va)
        if self.in_vmemmap(va):
            got = self._raw_page_to_pfn(va)
            if got is None:
                return "the vmemmap base depends on memstart_addr, which the log does not show"
            return self._vmemmap_refusal(got[0])
        if self.in_direct_map(va):
            if not self.direct_known:
                return "the direct-map base depends on PHYS_OFFSET, which the log does not show"
            walk = self._walk(va)
            if walk is not None:
                if self.va_to_phys(va) is not None:
                    return ""
                state = "present" if walk[1] else "not-present (possibly a swap entry)"
                return (f"its page-table walk ({state} leaf) names {hx(walk[0])}, which the direct-map "
                        f"base {hx(self.page_offset or 0)} does not give: not a direct-map address")
            if self.direct_confirmed:
                return self._bound_refusal(va - (self.page_offset or 0), "direct-map")
            if self.awaiting_walk == va:
                return "its page-table walk has not been read yet"
            return self._default_refusal(va - (self.page_offset or 0), "direct-map")
        return f"{self.address_kind(va)} address: not in the direct map or the vmemmap"

    def address_kind(self, va: int) -> str:
        """What ``va`` is: "vmalloc", "vmemmap", "direct map", "kernel text", "modules",
        "fixmap", "user", "unknown", or `KASLR_UNKNOWN` (x86_64, bases not known)."""
        va = self.untag(va)
        if self.vmemmap_confirmed and self.in_vmemmap(va):
            got = self._raw_page_to_pfn(va)
            if got is not None and not self._bound_refusal(got[0] << self.page_shift, "vmemmap"):
                return "vmemmap"
        if self.direct_confirmed and self.in_direct_map(va) \
                and not self._bound_refusal(va - (self.page_offset or 0), "direct-map"):
            return "direct map"
        win = self.kaslr_window
        if win is not None and win[0] <= va < win[1] and not self._unrandomised():
            return KASLR_UNKNOWN
        kind = self.region_kind(va)
        if kind is None and self.bits == 64:
            if self.in_vmemmap(va):
                return "vmemmap"
            if self.in_direct_map(va):
                return "direct map"
        return _KIND_NAMES.get(kind, "unknown") if kind is not None else "unknown"

    def _unrandomised(self) -> bool:
        """The log says the bases are the defaults (nokaslr, or a pair solved at one)."""
        if self.randomised:
            return False
        return self.nokaslr or (self.direct_confirmed and self.page_offset == self.default_page_offset) \
            or (self.vmemmap_confirmed and self.vmemmap_base == self.default_vmemmap)

    # --- direct map --------------------------------------------------------------------
    def in_direct_map(self, va: int) -> bool:
        if self.page_offset is None or self.bits != 64:
            return False
        off = va - self.page_offset
        return 0 <= off < self.direct_map_bytes

    def va_to_phys(self, va: int) -> int | None:
        """Physical address of the direct-map address ``va`` when the log supports it: its
        own page-table walk agrees, the base is confirmed, or the default one is within bounds."""
        if not self.direct_known or not self.in_direct_map(va):
            return None
        assert self.page_offset is not None
        phys = va - self.page_offset
        walk = self._walk(va)
        if walk is not None:
            return phys if walk[0] >> self.page_shift == phys >> self.page_shift else None
        if self.direct_confirmed:
            return None if self._bound_refusal(phys, "direct-map") else phys
        if self.awaiting_walk == va or self._default_refusal(phys, "direct-map"):
            return None
        return phys

    def direct_how(self, va: int | None = None) -> str:
        """How `va_to_phys` got its answer (for ``va``, when its walk may have confirmed it),
        with why the base is believed when the log did not confirm it."""
        how = f"direct map: phys = va - {hx(self.page_offset or 0)}"
        if va is not None and self._walk(va) is not None:
            return f"{how}, as the page-table walk printed after the fault shows"
        return how if self.direct_confirmed else f"{how}; {self.default_support()}"

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
    vm_confirmed = any(s.startswith("vmemmap") for s in sources)
    dm_confirmed = any(s.startswith("direct map") for s in sources)
    return Layout(
        arch=d.name,
        bits=d.bits,
        page_shift=cal.page_shift or d.page_shift,
        max_physmem_bits=d.max_physmem_bits,
        vmemmap_base=cal.vmemmap_base,
        struct_page_size=cal.struct_page_size,
        page_offset=cal.page_offset,
        vmemmap_known=d.bases_fixed or vm_confirmed,
        direct_known=d.bases_fixed or dm_confirmed,
        direct_map_bytes=1 << min(d.direct_map_bits, d.max_physmem_bits),
        is_x86=d.x86,
        vmemmap_regions=d.vmemmap_regions,
        regions=d.regions,
        vmemmap_confirmed=vm_confirmed,
        direct_confirmed=dm_confirmed,
        default_vmemmap=d.vmemmap_base,
        default_page_offset=d.page_offset,
        kaslr_window=d.kaslr_window,
        phys_end=cal.phys_end,
        phys_end_how=cal.phys_end_how,
        randomised=cal.randomised,
        nokaslr=cal.nokaslr,
        walks=cal.walks,
        awaiting_walk=cal.awaiting_walk,
    )
