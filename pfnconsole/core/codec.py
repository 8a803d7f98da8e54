"""What every pfn codec shares: the decoded value, its bit fields, and the checks.

The codecs themselves are pfn_v5.py (the 2015 ``__pfn_t``), pfn_t.py (the merged
``pfn_t`` by kernel version) and page_link.py (scatterlist ``page_link``); encodings.py
picks one by abi and kernel version.  Everything is 64-bit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, TypeGuard

from .errors import EngineError

U64_MAX = (1 << 64) - 1
BITS_PER_LONG_LONG = 64

#: PAGE_SHIFT values accepted (4 KiB .. 256 KiB pages).
PAGE_SHIFT_MIN = 12
PAGE_SHIFT_MAX = 18


class Abi(StrEnum):
    """The encodings ``encode``/``decode`` know, as the console spells them."""

    V5 = "v5"
    """The 2015 ``__pfn_t`` as posted."""
    V5RFC = "v5rfc"
    """The same with the companion RFC's PFN_MAP (bit 3); its codec's name is still v5."""
    PFN_T = "pfn_t"
    """The merged ``pfn_t``, v4.5 .. v6.16."""
    SG = "sg"
    """Scatterlist ``page_link``."""


@dataclass(frozen=True)
class Field:
    """One bit field of an encoded word: bits ``hi``..``lo`` inclusive.

    ``value`` is the field's contents shifted down to bit 0 (``(word >> lo) & mask``);
    ``layout()`` returns fields with ``value=0`` for drawing a bit ruler.
    """

    name: str
    hi: int
    lo: int
    value: int
    meaning: str

    @property
    def width(self) -> int:
        return self.hi - self.lo + 1


@dataclass(frozen=True)
class Decoded:
    """What one encoded word says.

    ``pfn`` is None for a scatterlist chain entry (its pointer is a ``struct scatterlist *``);
    ``flags`` uses kernel names (``PFN_DEV``, ``SG_END`` ...) and can be fed back to
    ``encode``; ``has_page`` is None where the question does not apply (chain entries);
    ``ptr`` is the pointer part of an ``sg`` word (page or chain pointer), else None.
    """

    abi: Abi
    value: int
    pfn: int | None
    flags: tuple[str, ...]
    has_page: bool | None
    devmap: bool
    special: bool
    fields: tuple[Field, ...]
    notes: tuple[str, ...]
    ptr: int | None = None
    page_shift: int = 12

    @property
    def phys(self) -> int | None:
        """Physical address of the page: ``pfn << PAGE_SHIFT`` (PFN_PHYS), None without a pfn."""
        return None if self.pfn is None else self.pfn << self.page_shift



def kver_label(kver: str) -> str:
    return "v" + kver.strip().removeprefix("v")


def is_int(x: object) -> TypeGuard[int]:
    """An int that is not a bool (JSON and hypothesis hand the codecs both)."""
    return isinstance(x, int) and not isinstance(x, bool)


def bit_list(mask: int) -> list[int]:
    """Set bit positions of ``mask``, highest first."""
    return [b for b in range(mask.bit_length() - 1, -1, -1) if mask >> b & 1]


def bits_text(bits: list[int]) -> str:
    if len(bits) == 1:
        return f"bit {bits[0]} is"
    return "bits " + ", ".join(str(b) for b in bits) + " are"


def check_geometry(page_shift: object, max_physmem_bits: object) -> None:
    if not is_int(page_shift) or not PAGE_SHIFT_MIN <= page_shift <= PAGE_SHIFT_MAX:
        raise EngineError(
            f"page_shift={page_shift!r} not supported; use {PAGE_SHIFT_MIN}..{PAGE_SHIFT_MAX}"
            " (12 = 4 KiB pages, 14 = 16 KiB, 16 = 64 KiB)"
        )
    if not is_int(max_physmem_bits) or not page_shift < max_physmem_bits <= 64:
        raise EngineError(
            f"max_physmem_bits={max_physmem_bits!r} not supported; use {page_shift + 1}..64"
            " (46 for x86_64 4-level, 52 for 5-level)"
        )


def normalise_flag(name: str) -> str:
    s = name.strip().lower().replace("-", "_")
    return s.removeprefix("pfn_")


def split_flags(flags: Iterable[str] | str | None) -> list[str]:
    if flags is None:
        return []
    if isinstance(flags, str):
        return [p for p in re.split(r"[|,\s]+", flags) if p]
    try:
        items = list(flags)
    except TypeError:
        raise EngineError(f"flags must be a list of names, not {flags!r}") from None
    for item in items:
        if not isinstance(item, str):
            raise EngineError(f"flag {item!r} is not a name; use e.g. dev, map, sg_last")
    return items


def fill_fields(fields: tuple[Field, ...], value: int) -> tuple[Field, ...]:
    """The fields with their contents (built directly: replace() is the slow part of a kmap)."""
    return tuple(Field(f.name, f.hi, f.lo, (value >> f.lo) & ((1 << (f.hi - f.lo + 1)) - 1), f.meaning)
                 for f in fields)


class CodecBase:
    """Shared checks.  Subclasses provide the geometry attributes and the flag tables."""

    name: ClassVar[Abi]
    page_shift: int
    max_physmem_bits: int

    # -- tables supplied by subclasses ------------------------------------------------
    def _aliases(self) -> dict[str, int]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _missing(self, key: str) -> tuple[str, str] | None:
        """For a name this ABI/version lacks: (kernel name, why); None if wholly unknown."""
        return None

    def _kernel_names(self) -> tuple[tuple[int, str], ...]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def label(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def flag_names(self) -> tuple[str, ...]:  # pragma: no cover - abstract
        """The canonical flag names ``encode`` takes here, in bit order."""
        raise NotImplementedError

    def encode(self, pfn: int, flags: Iterable[str] = ()) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- shared ----------------------------------------------------------------------
    @property
    def max_pfn(self) -> int:
        """Largest pfn below 1 << MAX_PHYSMEM_BITS."""
        return (1 << (self.max_physmem_bits - self.page_shift)) - 1

    def _flags_here(self) -> str:
        return "flags here: " + " ".join(self.flag_names())

    def _parse_flags(self, flags: Iterable[str] | str | None) -> int:
        aliases = self._aliases()
        bits = 0
        for raw in split_flags(flags):
            key = normalise_flag(raw)
            if key in aliases:
                bits |= aliases[key]
                continue
            missing = self._missing(key)
            if missing is not None:
                kname, why = missing
                raise EngineError(f"{self.label} has no {kname} ({why}); {self._flags_here()}")
            raise EngineError(f"{self.label} has no flag {raw!r}; {self._flags_here()}")
        return bits

    def _check_pfn(self, pfn: object, *, decoded: bool = False) -> int:
        if not is_int(pfn):
            raise EngineError(f"pfn must be an integer, not {pfn!r}")
        if pfn < 0:
            raise EngineError(f"pfn {pfn} is negative")
        if pfn > self.max_pfn:
            what = "decoded pfn" if decoded else "pfn"
            raise EngineError(
                f"{what} {pfn:#x} is beyond MAX_PHYSMEM_BITS={self.max_physmem_bits}"
                f" (max pfn {self.max_pfn:#x})"
            )
        return pfn

    def _check_value(self, value: object) -> int:
        if not is_int(value):
            raise EngineError(f"{self.label} value must be an integer, not {value!r}")
        if value < 0:
            raise EngineError(f"{self.label} value {value} is negative; it is a 64-bit unsigned word")
        if value > U64_MAX:
            raise EngineError(
                f"{self.label} value {value:#x} does not fit in 64 bits"
                f" ({value.bit_length()} bits; at most 0x{U64_MAX:x})"
            )
        return value

    def flag_spellings(self) -> tuple[str, ...]:
        """Every word ``encode`` takes as a flag here: names, aliases, kernel names (lower case)."""
        words = dict.fromkeys(self._aliases())
        words.update(dict.fromkeys(kname.lower() for _, kname in self._kernel_names()))
        return tuple(words)

    def _flag_tuple(self, value: int) -> tuple[str, ...]:
        return tuple(kname for bit, kname in self._kernel_names() if value & bit)

    def reencode(self, d: Decoded) -> int:
        """Build the word a :class:`Decoded` describes (inverse of ``decode``)."""
        if d.pfn is None:
            raise EngineError(f"{self.label}: this decoded word has no pfn to re-encode")
        return self.encode(d.pfn, d.flags)


def page_link_hint(key: str) -> tuple[str, str] | None:
    """A scatterlist page_link flag asked of a pfn encoding: (kernel name, why not here)."""
    if key in ("end", "sg_end"):
        return "SG_END", "that is the scatterlist page_link name; here it is sg_last"
    if key in ("dma_bus", "sg_dma_bus", "dma_bus_address", "sg_dma_bus_address"):
        return "SG_DMA_BUS_ADDRESS", "that is a bit of the scatterlist's own dma_flags word, v6.2+"
    if key in ("swiotlb", "dma_swiotlb", "sg_dma_swiotlb"):
        return "SG_DMA_SWIOTLB", "that is a bit of the scatterlist's own dma_flags word"
    return None
