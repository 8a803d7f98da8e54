"""The Aug-2015 ``__pfn_t`` of "[PATCH v5 2/5] allow mapping page-less memremaped areas
into KVA": ``val = pfn << PAGE_SHIFT | flags``, the flags in the low PAGE_SHIFT bits
(kernel-facts.md §0.2, §0.4; the RFC's PFN_MAP in §0.5).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from .codec import Abi, CodecBase, Decoded, Field, bit_list, bits_text, check_geometry, fill_fields, page_link_hint
from .errors import EngineError


class V5Flag(enum.IntFlag):
    """Low-bit flags of the 2015 ``__pfn_t`` (``unsigned long val``; bits 0..PAGE_SHIFT-1).

    SG_CHAIN bit 0, SG_LAST bit 1, DEV bit 2 (0 without CONFIG_KMAP_PFN), and MAP bit 3,
    which only the companion "[RFC PATCH 4/7] mm: register_dev_memmap()" added.
    """

    SG_CHAIN = 1 << 0
    SG_LAST = 1 << 1
    DEV = 1 << 2
    MAP = 1 << 3



@dataclass(frozen=True)
class V5PfnT(CodecBase):
    """``__pfn_t`` from "[PATCH v5 2/5]": ``val = pfn << PAGE_SHIFT | flags``.

    ``unsigned long val``; PFN_MASK = (1 << PAGE_SHIFT) - 1 holds the flags.
    ``__pfn_t_has_page`` = PFN_DEV clear; with ``rfc_pfn_map`` (the register_dev_memmap RFC)
    bit 3 is PFN_MAP and has_page also holds when PFN_MAP is set.
    """

    page_shift: int = 12
    max_physmem_bits: int = 46
    rfc_pfn_map: bool = False

    name: ClassVar[Abi] = Abi.V5

    def __post_init__(self) -> None:
        check_geometry(self.page_shift, self.max_physmem_bits)
        if not isinstance(self.rfc_pfn_map, bool):
            raise EngineError(f"rfc_pfn_map must be true or false, not {self.rfc_pfn_map!r}")

    @property
    def label(self) -> str:
        return "__pfn_t v5+RFC" if self.rfc_pfn_map else "__pfn_t v5"

    @property
    def pfn_mask(self) -> int:
        """PFN_MASK: the low PAGE_SHIFT bits that hold flags."""
        return (1 << self.page_shift) - 1

    @property
    def defined_flags(self) -> V5Flag:
        f = V5Flag.SG_CHAIN | V5Flag.SG_LAST | V5Flag.DEV
        return f | V5Flag.MAP if self.rfc_pfn_map else f

    def flag_names(self) -> tuple[str, ...]:
        names = ("sg_chain", "sg_last", "dev")
        return names + ("map",) if self.rfc_pfn_map else names

    def _aliases(self) -> dict[str, int]:
        table = {
            "sg_chain": V5Flag.SG_CHAIN, "chain": V5Flag.SG_CHAIN,
            "sg_last": V5Flag.SG_LAST, "last": V5Flag.SG_LAST,
            "dev": V5Flag.DEV,
        }
        if self.rfc_pfn_map:
            table["map"] = V5Flag.MAP
        return {k: int(v) for k, v in table.items()}

    def _missing(self, key: str) -> tuple[str, str] | None:
        if key == "map":
            return "PFN_MAP", "bit 3 comes from the Aug-2015 RFC register_dev_memmap patch; use abi=v5rfc"
        if key == "special":
            return "PFN_SPECIAL", "that is a merged pfn_t flag, v4.16+"
        return page_link_hint(key)

    def _kernel_names(self) -> tuple[tuple[int, str], ...]:
        names = [(V5Flag.SG_CHAIN, "PFN_SG_CHAIN"), (V5Flag.SG_LAST, "PFN_SG_LAST"), (V5Flag.DEV, "PFN_DEV")]
        if self.rfc_pfn_map:
            names.append((V5Flag.MAP, "PFN_MAP"))
        return tuple((int(b), n) for b, n in names)

    def layout(self) -> tuple[Field, ...]:
        """Bit fields from bit 63 down to bit 0, all with value 0."""
        ps, mpb = self.page_shift, self.max_physmem_bits
        out: list[Field] = []
        if mpb < 64:
            out.append(Field("(above MAX_PHYSMEM_BITS)", 63, mpb, 0,
                             f"always 0: a pfn below 2^{mpb - ps} shifted by PAGE_SHIFT stays under bit {mpb}"))
        out.append(Field("pfn", mpb - 1, ps, 0, "page frame number: val >> PAGE_SHIFT"))
        top_flag = 3 if self.rfc_pfn_map else 2
        out.append(Field("(unused flag bits)", ps - 1, top_flag + 1, 0,
                         "inside PFN_MASK but no flag defined; must be 0"))
        if self.rfc_pfn_map:
            out.append(Field("PFN_MAP", 3, 3, 0, "RFC: pfn is covered by a device-specific memmap"))
        out.append(Field("PFN_DEV", 2, 2, 0, "pfn is not covered by the system memmap (0 without CONFIG_KMAP_PFN)"))
        out.append(Field("PFN_SG_LAST", 1, 1, 0, "scatterlist: last entry"))
        out.append(Field("PFN_SG_CHAIN", 0, 0, 0, "scatterlist: val is a pointer to the next sg table"))
        return tuple(out)

    def encode(self, pfn: int, flags: Iterable[str] = ()) -> int:
        """``pfn_to_pfn_t(pfn, flags)`` of patch 4/5: ``pfn << PAGE_SHIFT | (flags & PFN_MASK)``."""
        bits = self._parse_flags(flags)
        pfn = self._check_pfn(pfn)
        return (pfn << self.page_shift) | bits

    def decode(self, value: int) -> Decoded:
        v = self._check_value(value)
        low = v & self.pfn_mask
        bad = low & ~int(self.defined_flags)
        if bad:
            bits = bit_list(bad)
            parts = []
            if 3 in bits and not self.rfc_pfn_map:
                parts.append("bit 3 is set: PFN_MAP (bit 3) exists only in the Aug-2015 RFC"
                             " register_dev_memmap patch; use abi=v5rfc")
                bits = [b for b in bits if b != 3]
            if bits:
                defined = ", ".join(f"{b.bit_length() - 1} {n}" for b, n in self._kernel_names())
                parts.append(f"{bits_text(bits)} set but {self.label} defines no flag there"
                             f" (flag bits: {defined})")
            raise EngineError(f"{self.label} value {v:#x}: " + "; ".join(parts))
        pfn = self._check_pfn(v >> self.page_shift, decoded=True)
        dev = bool(v & V5Flag.DEV)
        mapped = self.rfc_pfn_map and bool(v & V5Flag.MAP)
        has_page = (not dev) or mapped
        notes: list[str] = []
        if dev and mapped:
            notes.append("PFN_DEV|PFN_MAP: the RFC's device-specific memmap supplies a struct page")
        elif dev:
            notes.append("PFN_DEV: no struct page; kmap_atomic_pfn_t() must find the address"
                         " in the registered kmap ranges")
        else:
            notes.append("__pfn_t_to_page() = pfn_to_page(pfn)")
        if v & V5Flag.SG_CHAIN:
            notes.append("PFN_SG_CHAIN: in patch 5/5 sg_chain_ptr() reads val & ~(PFN_SG_CHAIN|PFN_SG_LAST)"
                         " as a struct scatterlist pointer, not as a shifted pfn")
            if v & V5Flag.SG_LAST:
                notes.append("PFN_SG_CHAIN with PFN_SG_LAST: sg_chain() would have cleared PFN_SG_LAST")
        return Decoded(
            abi=self.name, value=v, pfn=pfn, flags=self._flag_tuple(v), has_page=has_page,
            devmap=False, special=False, fields=fill_fields(self.layout(), v), notes=tuple(notes),
            page_shift=self.page_shift,
        )
