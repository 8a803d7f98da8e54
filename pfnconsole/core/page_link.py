"""Scatterlist ``page_link`` (``unsigned long``): a ``struct page *`` with SG_CHAIN and
SG_END in its two alignment bits, and (v6.2+) the separate ``sg->dma_flags`` word
(kernel-facts.md §6).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import ClassVar

from .codec import (
    U64_MAX,
    Abi,
    CodecBase,
    Decoded,
    Field,
    check_geometry,
    fill_fields,
    is_int,
    kver_label,
    normalise_flag,
    split_flags,
)
from .errors import EngineError
from .kver import parse_kver
from .memmap import vmemmap_page_to_pfn, vmemmap_pfn_to_page

#: Kernel versions that matter to page_link and dma_flags.
SG_PAGE_LINK_FIRST = (2, 6, 24)
# sg->dma_flags and SG_DMA_BUS_ADDRESS (1 << 0): 42399301203e, v6.2 (kernel-facts.md §6), under
# CONFIG_PCI_P2PDMA; a May-2023 posting of include/linux/scatterlist.h still has only this flag.
SG_DMA_BUS_FIRST = (6, 2)
# SG_DMA_SWIOTLB (1 << 1), under CONFIG_NEED_SG_DMA_FLAGS: read in a later
# include/linux/scatterlist.h (the one whose kerneldoc names swiotlb_find_pool(), v6.12-era).
# Its first release, v6.5 (the kmalloc-minalign bouncing series), is ASSUMED, not checked.
SG_DMA_SWIOTLB_FIRST = (6, 5)
SG_DEFAULT_KVER = "6.2"
"""The version a page_link codec models when none is given: the first with sg->dma_flags."""


class SgFlag(enum.IntFlag):
    """Low bits of scatterlist ``page_link`` (``unsigned long``): SG_PAGE_LINK_MASK.

    SG_CHAIN 0x1 (bit 0), SG_END 0x2 (bit 1, once called "last"); no released kernel has a
    third (include/linux/scatterlist.h, 2.6.24 .. v6.12-era text: SG_PAGE_LINK_MASK =
    SG_CHAIN | SG_END).
    """

    CHAIN = 0x1
    END = 0x2


class SgDmaFlag(enum.IntFlag):
    """Bits of ``sg->dma_flags`` (``unsigned int``, its own field of struct scatterlist, v6.2+).

    SG_DMA_BUS_ADDRESS 1 << 0 (v6.2, 42399301203e), SG_DMA_SWIOTLB 1 << 1 (v6.5, assumed
    release; bit read in include/linux/scatterlist.h).
    """

    BUS_ADDRESS = 1 << 0
    SWIOTLB = 1 << 1


_DMA_WORDS = {"dma_bus": SgDmaFlag.BUS_ADDRESS, "sg_dma_bus": SgDmaFlag.BUS_ADDRESS,
              "dma_bus_address": SgDmaFlag.BUS_ADDRESS, "sg_dma_bus_address": SgDmaFlag.BUS_ADDRESS,
              "swiotlb": SgDmaFlag.SWIOTLB, "dma_swiotlb": SgDmaFlag.SWIOTLB,
              "sg_dma_swiotlb": SgDmaFlag.SWIOTLB}
_DMA_KNAMES = {SgDmaFlag.BUS_ADDRESS: "SG_DMA_BUS_ADDRESS", SgDmaFlag.SWIOTLB: "SG_DMA_SWIOTLB"}


def is_dma_flag_word(word: str) -> bool:
    """Whether ``word`` names an ``sg->dma_flags`` bit (not a page_link bit)."""
    return word.strip().lower().replace("-", "_").removeprefix("pfn_") in _DMA_WORDS


@dataclass(frozen=True)
class PageLink(CodecBase):
    """Scatterlist ``page_link`` (``unsigned long``): a ``struct page *`` ORed with low bits.

    SG_CHAIN 0x1 and SG_END 0x2 in every version; the v6.2+ DMA flags live in the separate
    ``unsigned int dma_flags`` (``dma_flag_names`` / ``encode_dma_flags`` /
    ``decode_dma_flags``), never in page_link.  The page pointer is
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
    def has_dma_flags(self) -> bool:
        """struct scatterlist has ``unsigned int dma_flags`` (v6.2+)."""
        return self._v[:2] >= SG_DMA_BUS_FIRST

    @property
    def link_mask(self) -> int:
        """SG_PAGE_LINK_MASK = SG_CHAIN | SG_END: the low bits that are flags, not pointer."""
        return int(SgFlag.CHAIN | SgFlag.END)

    # -- sg->dma_flags: its own unsigned int, not page_link bits -------------------------
    def _dma_table(self) -> tuple[SgDmaFlag, ...]:
        if not self.has_dma_flags:
            return ()
        if self._v[:2] >= SG_DMA_SWIOTLB_FIRST:
            return (SgDmaFlag.BUS_ADDRESS, SgDmaFlag.SWIOTLB)
        return (SgDmaFlag.BUS_ADDRESS,)

    def dma_flag_names(self) -> tuple[str, ...]:
        """The ``sg->dma_flags`` names this version has, in bit order (() before v6.2)."""
        short = {SgDmaFlag.BUS_ADDRESS: "dma_bus", SgDmaFlag.SWIOTLB: "swiotlb"}
        return tuple(short[f] for f in self._dma_table())

    def encode_dma_flags(self, flags: Iterable[str]) -> int:
        """``sg->dma_flags`` (``unsigned int``) with the named bits set."""
        have = self._dma_table()
        bits = 0
        for raw in split_flags(flags):
            key = normalise_flag(raw)
            bit = _DMA_WORDS.get(key)
            if bit is None:
                raise EngineError(f"{self.label}: {raw!r} is not an sg->dma_flags bit; dma flags here: "
                                  + (" ".join(self.dma_flag_names()) or "none"))
            if bit not in have:
                since = "v6.2" if bit is SgDmaFlag.BUS_ADDRESS else "v6.5, a release assumed here, not checked"
                raise EngineError(f"{self.label} has no {_DMA_KNAMES[bit]} in sg->dma_flags"
                                  f" (added in {since})")
            bits |= int(bit)
        return bits

    def decode_dma_flags(self, value: int) -> tuple[tuple[str, ...], Field]:
        """Kernel names of the set bits of ``sg->dma_flags`` and the field itself (bits 31..0)."""
        if not self.has_dma_flags:
            raise EngineError(f"{self.label}: struct scatterlist has no dma_flags before v6.2")
        if not is_int(value) or not 0 <= value <= 0xFFFFFFFF:
            raise EngineError(f"dma_flags {value!r} is not a 32-bit unsigned int")
        defined = 0
        for f in self._dma_table():
            defined |= int(f)
        if value & ~defined:
            bits = [b for b in range(32) if value >> b & 1 and not defined >> b & 1]
            raise EngineError(f"{self.label} dma_flags {value:#x}: bit(s) {', '.join(map(str, bits))} set"
                              " but no SG_DMA_ flag is defined there")
        names = tuple(_DMA_KNAMES[f] for f in self._dma_table() if value & f)
        return names, Field("sg->dma_flags", 31, 0, value,
                            "unsigned int beside page_link (not page_link bits): "
                            + (", ".join(names) or "no flag"))

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
        return ("chain", "end")

    def _flags_here(self) -> str:
        return super()._flags_here() + " (end is also accepted as last)"

    def _aliases(self) -> dict[str, int]:
        table = {"chain": SgFlag.CHAIN, "sg_chain": SgFlag.CHAIN,
                 "end": SgFlag.END, "sg_end": SgFlag.END, "last": SgFlag.END, "sg_last": SgFlag.END}
        return {k: int(v) for k, v in table.items()}

    def _missing(self, key: str) -> tuple[str, str] | None:
        if key in _DMA_WORDS:
            kname = _DMA_KNAMES[_DMA_WORDS[key]]
            where = ("it is a bit of sg->dma_flags, a separate unsigned int" if self.has_dma_flags
                     else "struct scatterlist has no dma_flags before v6.2")
            return f"{kname} in page_link", f"page_link has only SG_CHAIN and SG_END; {where}"
        if key in ("dev", "map", "special"):
            kname = "PFN_" + key.upper()
            return kname, f"page_link always holds a struct page * or a chain pointer; {kname} is a pfn_t flag"
        return None

    def _kernel_names(self) -> tuple[tuple[int, str], ...]:
        names = [(SgFlag.CHAIN, "SG_CHAIN"), (SgFlag.END, "SG_END")]
        return tuple((int(b), n) for b, n in names)

    def layout(self) -> tuple[Field, ...]:
        """Bit fields from bit 63 down to bit 0, all with value 0."""
        ptr_lo = self.link_mask.bit_length()
        out = [Field("struct page *", 63, ptr_lo, 0,
                     f"pfn_to_page(pfn) = vmemmap + pfn * {self.struct_page_size} (chain entry:"
                     " struct scatterlist *)")]
        out.append(Field("SG_END", 1, 1, 0, "last entry of the list (sg_is_last; once called 'last')"))
        out.append(Field("SG_CHAIN", 0, 0, 0, "pointer is the next scatterlist table (sg_chain_ptr)"))
        return tuple(out)

    def _check_bits(self, bits: int) -> None:
        if bits & SgFlag.CHAIN and bits & SgFlag.END:
            raise EngineError(f"{self.label}: SG_CHAIN with SG_END is not a page_link the kernel makes;"
                              " sg_chain() clears SG_END")

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
            hint = ""
            if ptr & 0x4:
                hint = ("; bit 2 is not a flag: page_link has only SG_CHAIN (bit 0) and SG_END (bit 1)"
                        + (", and SG_DMA_BUS_ADDRESS is bit 0 of sg->dma_flags, its own field"
                           if self.has_dma_flags else ""))
            raise EngineError(f"{self.label} page_link {v:#x}: struct page * {ptr:#x} is not aligned to"
                              f" struct_page_size={self.struct_page_size}"
                              f" (offset {ptr - self.vmemmap_base:#x} into the vmemmap){hint}")
        if pfn > self.max_pfn:
            raise EngineError(f"{self.label} page_link {v:#x}: struct page * {ptr:#x} is outside the vmemmap:"
                              f" decoded pfn {pfn:#x} is beyond MAX_PHYSMEM_BITS={self.max_physmem_bits}"
                              f" (max pfn {self.max_pfn:#x})")
        notes = [f"sg_page() = {ptr:#x} = pfn_to_page({pfn:#x})"]
        if bits & SgFlag.END:
            notes.append("SG_END: last entry of the list")
        return Decoded(
            abi=self.name, value=v, pfn=pfn, flags=flags, has_page=True, devmap=False, special=False,
            fields=fields, notes=tuple(notes), ptr=ptr, page_shift=self.page_shift,
        )
