"""Scatterlist ``page_link`` (``unsigned long``): a ``struct page *`` with SG_CHAIN and
SG_END (and, from v6.2, SG_DMA_BUS_ADDRESS) in its alignment bits (kernel-facts.md §6).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import ClassVar

from .codec import U64_MAX, Abi, CodecBase, Decoded, Field, check_geometry, fill_fields, is_int, kver_label
from .errors import EngineError
from .kver import parse_kver
from .memmap import vmemmap_page_to_pfn, vmemmap_pfn_to_page

#: Kernel versions that matter to page_link.
SG_PAGE_LINK_FIRST = (2, 6, 24)
SG_DMA_BUS_FIRST = (6, 2)
SG_DEFAULT_KVER = "6.2"
"""The version a page_link codec models when none is given: the first with every flag."""


class SgFlag(enum.IntFlag):
    """Low bits of scatterlist ``page_link`` (``unsigned long``).

    SG_CHAIN 0x1 (bit 0), SG_END 0x2 (bit 1, once called "last"), SG_DMA_BUS_ADDRESS 0x4
    (bit 2, v6.2+ under CONFIG_PCI_P2PDMA).
    """

    CHAIN = 0x1
    END = 0x2
    DMA_BUS_ADDRESS = 0x4



@dataclass(frozen=True)
class PageLink(CodecBase):
    """Scatterlist ``page_link`` (``unsigned long``): a ``struct page *`` ORed with low bits.

    SG_CHAIN 0x1, SG_END 0x2 and, from v6.2, SG_DMA_BUS_ADDRESS 0x4.  The page pointer is
    ``pfn_to_page(pfn)`` under SPARSEMEM_VMEMMAP: ``vmemmap_base + pfn * struct_page_size``.
    A chain entry instead holds a ``struct scatterlist *`` (``sg_chain_ptr``), so it has no pfn.
    """

    kver: str = SG_DEFAULT_KVER
    page_shift: int = 12
    max_physmem_bits: int = 46
    vmemmap_base: int = 0xFFFFEA0000000000
    struct_page_size: int = 64

    name: ClassVar[Abi] = Abi.SG
    _v: tuple[int, int, int] = field(init=False, repr=False, compare=False, default=(0, 0, 0))

    def __post_init__(self) -> None:
        v = parse_kver(self.kver)
        if v < SG_PAGE_LINK_FIRST:
            raise EngineError(
                f"scatterlist page_link with chain/end bits dates from v2.6.24; {kver_label(self.kver)}"
                " predates it"
            )
        object.__setattr__(self, "_v", v)
        check_geometry(self.page_shift, self.max_physmem_bits)
        mask = self.link_mask
        if not is_int(self.struct_page_size) or self.struct_page_size <= 0 or self.struct_page_size & mask:
            raise EngineError(
                f"struct_page_size={self.struct_page_size!r} must be a positive multiple of {mask + 1}"
                f" so page pointers leave page_link bits 0..{mask.bit_length() - 1} free"
            )
        if not is_int(self.vmemmap_base) or not 0 <= self.vmemmap_base <= U64_MAX or self.vmemmap_base & mask:
            raise EngineError(
                f"vmemmap_base={self.vmemmap_base!r} must be a 64-bit address aligned to {mask + 1}"
            )

    @property
    def label(self) -> str:
        return f"sg {kver_label(self.kver)}"

    @property
    def has_dma_bus(self) -> bool:
        return self._v[:2] >= SG_DMA_BUS_FIRST

    @property
    def link_mask(self) -> int:
        """SG_PAGE_LINK_MASK: the low bits that are flags, not pointer."""
        return 0x7 if self.has_dma_bus else 0x3

    @property
    def vmemmap_end(self) -> int:
        """One past the last struct page of the vmemmap for MAX_PHYSMEM_BITS (capped at 2^64)."""
        return min(vmemmap_pfn_to_page(self.vmemmap_base, self.max_pfn + 1, self.struct_page_size),
                   U64_MAX + 1)

    def pfn_to_page(self, pfn: int) -> int:
        """``vmemmap + pfn`` as a byte address (memmap.vmemmap_pfn_to_page)."""
        pfn = self._check_pfn(pfn)
        ptr = vmemmap_pfn_to_page(self.vmemmap_base, pfn, self.struct_page_size)
        if ptr > U64_MAX:
            raise EngineError(
                f"pfn_to_page({pfn:#x}) = {ptr:#x} does not fit in 64 bits: vmemmap_base"
                f" {self.vmemmap_base:#x} is too high for MAX_PHYSMEM_BITS={self.max_physmem_bits}"
            )
        return ptr

    def flag_names(self) -> tuple[str, ...]:
        names = ("chain", "end")
        return names + ("dma_bus",) if self.has_dma_bus else names

    def _flags_here(self) -> str:
        return super()._flags_here() + " (end is also accepted as last)"

    def _aliases(self) -> dict[str, int]:
        table = {"chain": SgFlag.CHAIN, "sg_chain": SgFlag.CHAIN,
                 "end": SgFlag.END, "sg_end": SgFlag.END, "last": SgFlag.END, "sg_last": SgFlag.END}
        if self.has_dma_bus:
            for k in ("dma_bus", "sg_dma_bus", "dma_bus_address", "sg_dma_bus_address"):
                table[k] = SgFlag.DMA_BUS_ADDRESS
        return {k: int(v) for k, v in table.items()}

    def _missing(self, key: str) -> tuple[str, str] | None:
        if key in ("dma_bus", "sg_dma_bus", "dma_bus_address", "sg_dma_bus_address"):
            return "SG_DMA_BUS_ADDRESS", "added in v6.2"
        if key in ("dev", "map", "special"):
            kname = "PFN_" + key.upper()
            return kname, f"page_link always holds a struct page * or a chain pointer; {kname} is a pfn_t flag"
        return None

    def _kernel_names(self) -> tuple[tuple[int, str], ...]:
        names = [(SgFlag.CHAIN, "SG_CHAIN"), (SgFlag.END, "SG_END")]
        if self.has_dma_bus:
            names.append((SgFlag.DMA_BUS_ADDRESS, "SG_DMA_BUS_ADDRESS"))
        return tuple((int(b), n) for b, n in names)

    def layout(self) -> tuple[Field, ...]:
        """Bit fields from bit 63 down to bit 0, all with value 0."""
        ptr_lo = self.link_mask.bit_length()
        out = [Field("struct page *", 63, ptr_lo, 0,
                     f"pfn_to_page(pfn) = vmemmap + pfn * {self.struct_page_size} (chain entry:"
                     " struct scatterlist *)")]
        if self.has_dma_bus:
            out.append(Field("SG_DMA_BUS_ADDRESS", 2, 2, 0, "DMA address is a PCI bus address (P2PDMA)"))
        out.append(Field("SG_END", 1, 1, 0, "last entry of the list (sg_is_last; once called 'last')"))
        out.append(Field("SG_CHAIN", 0, 0, 0, "pointer is the next scatterlist table (sg_chain_ptr)"))
        return tuple(out)

    def _check_bits(self, bits: int) -> None:
        if bits & SgFlag.CHAIN and bits & SgFlag.END:
            raise EngineError(f"{self.label}: SG_CHAIN with SG_END is not a page_link the kernel makes;"
                              " sg_chain() clears SG_END")
        if bits & SgFlag.CHAIN and bits & SgFlag.DMA_BUS_ADDRESS:
            raise EngineError(f"{self.label}: SG_CHAIN with SG_DMA_BUS_ADDRESS is not a page_link the kernel"
                              " makes; sg_chain() writes the whole word, so a chain entry carries no"
                              " other flag")

    def encode(self, pfn: int, flags: Iterable[str] = ()) -> int:
        """``pfn_to_page(pfn) | bits``.  With ``chain`` the result is a chain entry whose
        pointer is that address (decode then reports it as a scatterlist pointer, pfn None)."""
        bits = self._parse_flags(flags)
        self._check_bits(bits)
        return self.pfn_to_page(pfn) | bits

    def encode_chain(self, sgl: int) -> int:
        """``sg_chain()``: ``(sgl | SG_CHAIN) & ~SG_END`` for a ``struct scatterlist *`` ``sgl``."""
        if not is_int(sgl) or not 0 <= sgl <= U64_MAX:
            raise EngineError(f"scatterlist pointer {sgl!r} is not a 64-bit address")
        if sgl & self.link_mask:
            raise EngineError(f"scatterlist pointer {sgl:#x} is not aligned to {self.link_mask + 1}:"
                              f" its low bits would collide with the page_link flags")
        return sgl | SgFlag.CHAIN

    def reencode(self, d: Decoded) -> int:
        if d.pfn is None and d.ptr is not None and "SG_CHAIN" in d.flags:
            return self.encode_chain(d.ptr)
        return super().reencode(d)

    def decode(self, value: int) -> Decoded:
        v = self._check_value(value)
        bits = v & self.link_mask
        self._check_bits(bits)
        ptr = v & ~self.link_mask
        flags = self._flag_tuple(v)
        fields = fill_fields(self.layout(), v)
        if bits & SgFlag.CHAIN:
            fields = (replace(fields[0], name="struct scatterlist *",
                              meaning="next scatterlist table (sg_chain_ptr)"),) + fields[1:]
            return Decoded(
                abi=self.name, value=v, pfn=None, flags=flags, has_page=None, devmap=False,
                special=False, fields=fields,
                notes=(f"chain entry: page_link holds struct scatterlist * {ptr:#x}, not a page",),
                ptr=ptr, page_shift=self.page_shift,
            )
        if ptr == 0:
            raise EngineError(f"{self.label} page_link {v:#x} holds a NULL struct page *; there is no pfn")
        found = vmemmap_page_to_pfn(self.vmemmap_base, ptr, self.struct_page_size)
        if found is None:
            raise EngineError(f"{self.label} page_link {v:#x}: struct page * {ptr:#x} is outside the vmemmap"
                              f" (starts at {self.vmemmap_base:#x})")
        pfn, inside = found
        if inside:
            raise EngineError(f"{self.label} page_link {v:#x}: struct page * {ptr:#x} is not aligned to"
                              f" struct_page_size={self.struct_page_size}"
                              f" (offset {ptr - self.vmemmap_base:#x} into the vmemmap)")
        if pfn > self.max_pfn:
            raise EngineError(f"{self.label} page_link {v:#x}: struct page * {ptr:#x} is outside the vmemmap:"
                              f" decoded pfn {pfn:#x} is beyond MAX_PHYSMEM_BITS={self.max_physmem_bits}"
                              f" (max pfn {self.max_pfn:#x})")
        notes = [f"sg_page() = {ptr:#x} = pfn_to_page({pfn:#x})"]
        if bits & SgFlag.END:
            notes.append("SG_END: last entry of the list")
        if bits & SgFlag.DMA_BUS_ADDRESS:
            notes.append("SG_DMA_BUS_ADDRESS: the DMA address is a PCI bus address (P2PDMA)")
        return Decoded(
            abi=self.name, value=v, pfn=pfn, flags=flags, has_page=True, devmap=False, special=False,
            fields=fields, notes=tuple(notes), ptr=ptr, page_shift=self.page_shift,
        )
