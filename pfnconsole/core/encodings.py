"""Codecs for the three ways the kernel has packed "a pfn plus a few flag bits" into one word.

* ``v5``    -- ``__pfn_t`` of the Aug-2015 "[PATCH v5 2/5]" series: the pfn shifted up by
  PAGE_SHIFT, flags in the freed low bits (reference §0.2, §0.4, RFC PFN_MAP in §0.5).
* ``pfn_t`` -- the merged ``pfn_t`` (v4.5 .. v6.16, u64 form): the pfn unshifted, flags in the
  top PAGE_SHIFT bits (§1.1 - §1.3), plus the ``PFN_FLAGS_TRACE`` rendering (§2.2).
* ``sg``    -- the scatterlist ``page_link``: a ``struct page *`` with chain/end bits (and, from
  v6.2, the P2PDMA bus-address bit) in the pointer's alignment bits (§6).

Everything is 64-bit.  Every codec raises :class:`EngineError` (never anything else) for a
request it cannot honour: a bad pfn, a flag the ABI/version lacks, a value with undefined bits.
Round trips are exact: ``decode(encode(pfn, flags))`` gives back ``pfn`` and the flag set, and
``reencode(decode(value)) == value`` for every value that decodes.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import ClassVar, Union

from .errors import EngineError
from .kver import parse_kver

ABIS = ("v5", "v5rfc", "pfn_t", "sg")

U64_MAX = (1 << 64) - 1
BITS_PER_LONG_LONG = 64

#: PAGE_SHIFT values accepted (4 KiB .. 256 KiB pages).
PAGE_SHIFT_MIN = 12
PAGE_SHIFT_MAX = 18

#: Kernel versions that matter to the codecs.
PFN_T_FIRST = (4, 5)          # 34c0fd540e79 "mm, dax, pmem: introduce pfn_t"
PFN_T_REMOVED = (6, 17)       # pfn_t removal merged for 6.17-rc1
PFN_FLAGS_TRACE_FIRST = (4, 11)
PFN_SPECIAL_FIRST = (4, 16)
FS_DAX_PFN_EVENT_GONE = (6, 16)
SG_PAGE_LINK_FIRST = (2, 6, 24)
SG_DMA_BUS_FIRST = (6, 2)


# --------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------


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

    abi: str
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


# --------------------------------------------------------------------------------------
# Flag words
# --------------------------------------------------------------------------------------


class V5Flag(enum.IntFlag):
    """Low-bit flags of the 2015 ``__pfn_t`` (``unsigned long val``; bits 0..PAGE_SHIFT-1).

    SG_CHAIN bit 0, SG_LAST bit 1, DEV bit 2 (0 without CONFIG_KMAP_PFN), and MAP bit 3,
    which only the companion "[RFC PATCH 4/7] mm: register_dev_memmap()" added.
    """

    SG_CHAIN = 1 << 0
    SG_LAST = 1 << 1
    DEV = 1 << 2
    MAP = 1 << 3


class PfnTFlag(enum.IntFlag):
    """High-bit flags of the merged ``pfn_t`` (``u64 val``): ``1ULL << (64 - n)``.

    SG_CHAIN bit 63, SG_LAST bit 62, DEV bit 61, MAP bit 60, SPECIAL bit 59 (v4.16+).
    """

    SG_CHAIN = 1 << (BITS_PER_LONG_LONG - 1)
    SG_LAST = 1 << (BITS_PER_LONG_LONG - 2)
    DEV = 1 << (BITS_PER_LONG_LONG - 3)
    MAP = 1 << (BITS_PER_LONG_LONG - 4)
    SPECIAL = 1 << (BITS_PER_LONG_LONG - 5)


class SgFlag(enum.IntFlag):
    """Low bits of scatterlist ``page_link`` (``unsigned long``).

    SG_CHAIN 0x1 (bit 0), SG_END 0x2 (bit 1, once called "last"), SG_DMA_BUS_ADDRESS 0x4
    (bit 2, v6.2+ under CONFIG_PCI_P2PDMA).
    """

    CHAIN = 0x1
    END = 0x2
    DMA_BUS_ADDRESS = 0x4


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------

def _kver_label(kver: str) -> str:
    return "v" + kver.strip().removeprefix("v")


def _ver(t: tuple[int, ...]) -> str:
    return "v" + ".".join(str(x) for x in t)


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _bit_list(mask: int) -> list[int]:
    """Set bit positions of ``mask``, highest first."""
    return [b for b in range(mask.bit_length() - 1, -1, -1) if mask >> b & 1]


def _bits_text(bits: list[int]) -> str:
    if len(bits) == 1:
        return f"bit {bits[0]} is"
    return "bits " + ", ".join(str(b) for b in bits) + " are"


def _check_geometry(page_shift: object, max_physmem_bits: object) -> None:
    if not _is_int(page_shift) or not PAGE_SHIFT_MIN <= page_shift <= PAGE_SHIFT_MAX:
        raise EngineError(
            f"page_shift={page_shift!r} not supported; use {PAGE_SHIFT_MIN}..{PAGE_SHIFT_MAX}"
            " (12 = 4 KiB pages, 14 = 16 KiB, 16 = 64 KiB)"
        )
    if not _is_int(max_physmem_bits) or not page_shift < max_physmem_bits <= 64:
        raise EngineError(
            f"max_physmem_bits={max_physmem_bits!r} not supported; use {page_shift + 1}..64"
            " (46 for x86_64 4-level, 52 for 5-level)"
        )


def _normalise_flag(name: str) -> str:
    s = name.strip().lower().replace("-", "_")
    return s.removeprefix("pfn_")


def _split_flags(flags: Iterable[str] | str | None) -> list[str]:
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


def _fill(fields: tuple[Field, ...], value: int) -> tuple[Field, ...]:
    return tuple(
        replace(f, value=(value >> f.lo) & ((1 << (f.hi - f.lo + 1)) - 1)) for f in fields
    )


class _CodecBase:
    """Shared checks.  Subclasses provide the geometry attributes and the flag tables."""

    name: ClassVar[str]
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
        for raw in _split_flags(flags):
            key = _normalise_flag(raw)
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
        if not _is_int(pfn):
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
        if not _is_int(value):
            raise EngineError(f"{self.label} value must be an integer, not {value!r}")
        if value < 0:
            raise EngineError(f"{self.label} value {value} is negative; it is a 64-bit unsigned word")
        if value > U64_MAX:
            raise EngineError(
                f"{self.label} value {value:#x} does not fit in 64 bits"
                f" ({value.bit_length()} bits; at most 0x{U64_MAX:x})"
            )
        return value

    def _flag_tuple(self, value: int) -> tuple[str, ...]:
        return tuple(kname for bit, kname in self._kernel_names() if value & bit)

    def reencode(self, d: Decoded) -> int:
        """Build the word a :class:`Decoded` describes (inverse of ``decode``)."""
        if d.pfn is None:
            raise EngineError(f"{self.label}: this decoded word has no pfn to re-encode")
        return self.encode(d.pfn, d.flags)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------
# 1. The Aug-2015 v5 __pfn_t
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class V5PfnT(_CodecBase):
    """``__pfn_t`` from "[PATCH v5 2/5]": ``val = pfn << PAGE_SHIFT | flags``.

    ``unsigned long val``; PFN_MASK = (1 << PAGE_SHIFT) - 1 holds the flags.
    ``__pfn_t_has_page`` = PFN_DEV clear; with ``rfc_pfn_map`` (the register_dev_memmap RFC)
    bit 3 is PFN_MAP and has_page also holds when PFN_MAP is set.
    """

    page_shift: int = 12
    max_physmem_bits: int = 46
    rfc_pfn_map: bool = False

    name: ClassVar[str] = "v5"

    def __post_init__(self) -> None:
        _check_geometry(self.page_shift, self.max_physmem_bits)
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
        if key in ("end", "sg_end"):
            return "SG_END", "that is the scatterlist page_link name; here it is sg_last"
        if key in ("dma_bus", "sg_dma_bus", "dma_bus_address", "sg_dma_bus_address"):
            return "SG_DMA_BUS_ADDRESS", "that is a scatterlist page_link flag, v6.2+"
        return None

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
            bits = _bit_list(bad)
            parts = []
            if 3 in bits and not self.rfc_pfn_map:
                parts.append("bit 3 is set: PFN_MAP (bit 3) exists only in the Aug-2015 RFC"
                             " register_dev_memmap patch; use abi=v5rfc")
                bits = [b for b in bits if b != 3]
            if bits:
                defined = ", ".join(f"{b.bit_length() - 1} {n}" for b, n in self._kernel_names())
                parts.append(f"{_bits_text(bits)} set but {self.label} defines no flag there"
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
            devmap=False, special=False, fields=_fill(self.layout(), v), notes=tuple(notes),
            page_shift=self.page_shift,
        )


# --------------------------------------------------------------------------------------
# 2. The merged pfn_t (v4.5 .. v6.16)
# --------------------------------------------------------------------------------------

_TRACE_TABLE_416 = (
    (PfnTFlag.SPECIAL, "SPECIAL"), (PfnTFlag.SG_CHAIN, "SG_CHAIN"), (PfnTFlag.SG_LAST, "SG_LAST"),
    (PfnTFlag.DEV, "DEV"), (PfnTFlag.MAP, "MAP"),
)
_TRACE_TABLE_411 = _TRACE_TABLE_416[1:]


@dataclass(frozen=True)
class MergedPfnT(_CodecBase):
    """Merged ``pfn_t`` (64-bit, ``u64 val``): ``val = pfn | (flags & PFN_FLAGS_MASK)``.

    PFN_FLAGS_MASK is the top PAGE_SHIFT bits; flags sit at bits 63..59 (SPECIAL, bit 59,
    from v4.16).  ``pfn_t_has_page`` = PFN_MAP set or PFN_DEV clear; ``pfn_t_devmap`` =
    DEV and MAP both set; ``pfn_t_special`` = SPECIAL set.  Exists v4.5 .. v6.16.
    """

    kver: str = "4.16"
    page_shift: int = 12
    max_physmem_bits: int = 46

    name: ClassVar[str] = "pfn_t"
    _v: tuple[int, int, int] = field(init=False, repr=False, compare=False, default=(0, 0, 0))

    def __post_init__(self) -> None:
        v = parse_kver(self.kver)
        if v[:2] < PFN_T_FIRST:
            raise EngineError(
                f"pfn_t was introduced in v4.5 (34c0fd540e79); {_kver_label(self.kver)} predates it."
                " For the Aug-2015 __pfn_t patch use abi=v5"
            )
        if v[:2] >= PFN_T_REMOVED:
            raise EngineError(
                f"pfn_t was removed in v6.17 (removal merged for 6.17-rc1); {_kver_label(self.kver)}"
                " has no pfn_t. The last kernel with it is v6.16"
            )
        _check_geometry(self.page_shift, self.max_physmem_bits)
        object.__setattr__(self, "_v", v)

    @property
    def label(self) -> str:
        return f"pfn_t {_kver_label(self.kver)}"

    @property
    def has_special(self) -> bool:
        return self._v[:2] >= PFN_SPECIAL_FIRST

    @property
    def flags_mask(self) -> int:
        """PFN_FLAGS_MASK = ~PAGE_MASK << (64 - PAGE_SHIFT)."""
        return ((1 << self.page_shift) - 1) << (BITS_PER_LONG_LONG - self.page_shift)

    @property
    def defined_flags(self) -> PfnTFlag:
        f = PfnTFlag.SG_CHAIN | PfnTFlag.SG_LAST | PfnTFlag.DEV | PfnTFlag.MAP
        return f | PfnTFlag.SPECIAL if self.has_special else f

    def flag_names(self) -> tuple[str, ...]:
        names = ("sg_chain", "sg_last", "dev", "map")
        return names + ("special",) if self.has_special else names

    def _aliases(self) -> dict[str, int]:
        table = {
            "sg_chain": PfnTFlag.SG_CHAIN, "chain": PfnTFlag.SG_CHAIN,
            "sg_last": PfnTFlag.SG_LAST, "last": PfnTFlag.SG_LAST,
            "dev": PfnTFlag.DEV, "map": PfnTFlag.MAP,
        }
        if self.has_special:
            table["special"] = PfnTFlag.SPECIAL
        return {k: int(v) for k, v in table.items()}

    def _missing(self, key: str) -> tuple[str, str] | None:
        if key == "special":
            return "PFN_SPECIAL", "added in v4.16"
        if key in ("end", "sg_end"):
            return "SG_END", "that is the scatterlist page_link name; here it is sg_last"
        if key in ("dma_bus", "sg_dma_bus", "dma_bus_address", "sg_dma_bus_address"):
            return "SG_DMA_BUS_ADDRESS", "that is a scatterlist page_link flag, v6.2+"
        return None

    def _kernel_names(self) -> tuple[tuple[int, str], ...]:
        names = [(PfnTFlag.SG_CHAIN, "PFN_SG_CHAIN"), (PfnTFlag.SG_LAST, "PFN_SG_LAST"),
                 (PfnTFlag.DEV, "PFN_DEV"), (PfnTFlag.MAP, "PFN_MAP")]
        if self.has_special:
            names.append((PfnTFlag.SPECIAL, "PFN_SPECIAL"))
        return tuple((int(b), n) for b, n in names)

    def layout(self) -> tuple[Field, ...]:
        """Bit fields from bit 63 down to bit 0, all with value 0."""
        ps, mpb = self.page_shift, self.max_physmem_bits
        out = [
            Field("PFN_SG_CHAIN", 63, 63, 0, "pfn is a pointer to the next scatterlist entry (never used)"),
            Field("PFN_SG_LAST", 62, 62, 0, "last scatterlist entry (never used)"),
            Field("PFN_DEV", 61, 61, 0, "not covered by the system memmap by default"),
            Field("PFN_MAP", 60, 60, 0, "a device driver set up struct pages for it"),
        ]
        lowest_flag = 60
        if self.has_special:
            out.append(Field("PFN_SPECIAL", 59, 59, 0, "FS_DAX_LIMITED: special PTE, no get_user_pages"))
            lowest_flag = 59
        flags_lo = BITS_PER_LONG_LONG - ps
        out.append(Field("(unused flag bits)", lowest_flag - 1, flags_lo, 0,
                         "inside PFN_FLAGS_MASK but no flag defined; must be 0"))
        pfn_lo_top = mpb - ps  # first bit a pfn may not use
        if pfn_lo_top < flags_lo:
            out.append(Field("(above MAX_PHYSMEM_BITS)", flags_lo - 1, pfn_lo_top, 0,
                             f"always 0: pfns stay below 2^{mpb - ps}"))
        out.append(Field("pfn", pfn_lo_top - 1, 0, 0, "page frame number, unshifted: val & ~PFN_FLAGS_MASK"))
        return tuple(out)

    def encode(self, pfn: int, flags: Iterable[str] = ()) -> int:
        """``__pfn_to_pfn_t(pfn, flags)``: ``pfn | (flags & PFN_FLAGS_MASK)``."""
        bits = self._parse_flags(flags)
        pfn = self._check_pfn(pfn)
        return pfn | bits

    def decode(self, value: int) -> Decoded:
        v = self._check_value(value)
        bad = v & self.flags_mask & ~int(self.defined_flags)
        if bad:
            bits = _bit_list(bad)
            parts = []
            if 59 in bits and not self.has_special:
                parts.append("bit 59 is set: PFN_SPECIAL (bit 59) exists only from v4.16")
                bits = [b for b in bits if b != 59]
            if bits:
                parts.append(f"{_bits_text(bits)} set inside PFN_FLAGS_MASK but {self.label}"
                             " defines no flag there")
            raise EngineError(f"{self.label} value {v:#x}: " + "; ".join(parts))
        pfn = self._check_pfn(v & ~self.flags_mask, decoded=True)
        dev = bool(v & PfnTFlag.DEV)
        mapped = bool(v & PfnTFlag.MAP)
        special = self.has_special and bool(v & PfnTFlag.SPECIAL)
        has_page = mapped or not dev
        devmap = dev and mapped
        notes: list[str] = []
        if devmap:
            notes.append("PFN_DEV|PFN_MAP: devmap, ZONE_DEVICE struct pages exist (pfn_t_devmap)")
        elif dev:
            notes.append("PFN_DEV without PFN_MAP: no struct page, pfn_t_to_page() returns NULL")
        elif mapped:
            notes.append("PFN_MAP without PFN_DEV: has a struct page")
        if special:
            notes.append("PFN_SPECIAL: inserted as a special PTE (FS_DAX_LIMITED), not for get_user_pages")
        if v & (PfnTFlag.SG_CHAIN | PfnTFlag.SG_LAST):
            notes.append("PFN_SG_CHAIN / PFN_SG_LAST were defined but never used by the scatterlist code")
        if self._v[:2] == PFN_T_FIRST:
            notes.append("v4.5 first used unsigned long / BITS_PER_LONG; the u64 form has the same bits on 64-bit")
        return Decoded(
            abi=self.name, value=v, pfn=pfn, flags=self._flag_tuple(v), has_page=has_page,
            devmap=devmap, special=special, fields=_fill(self.layout(), v), notes=tuple(notes),
            page_shift=self.page_shift,
        )

    def trace_table(self) -> tuple[tuple[int, str], ...]:
        """PFN_FLAGS_TRACE entries in table order (SPECIAL first from v4.16)."""
        table = _TRACE_TABLE_416 if self.has_special else _TRACE_TABLE_411
        return tuple((int(b), n) for b, n in table)

    def trace_flags(self, value: int) -> str:
        """Render ``__print_flags_u64(value & PFN_FLAGS_MASK, "|", PFN_FLAGS_TRACE)``.

        Walks the table in order, emitting each fully-set entry's name and clearing its bits;
        any bits left over are appended as hex.  No flags gives "".
        """
        rest = self._check_value(value) & self.flags_mask
        parts: list[str] = []
        for bit, name in self.trace_table():
            if rest & bit == bit:
                parts.append(name)
                rest &= ~bit
        if rest:
            parts.append(f"0x{rest:x}")
        return "|".join(parts)

    def trace_notes(self) -> tuple[str, ...]:
        """Caveats about ``trace_flags`` output for this kernel version."""
        notes: list[str] = []
        if self._v[:2] < PFN_FLAGS_TRACE_FIRST:
            notes.append(f"PFN_FLAGS_TRACE only exists from v4.11; {_kver_label(self.kver)} prints no pfn_t"
                         " flags, shown here with the v4.11 table")
        if self._v[:2] >= FS_DAX_PFN_EVENT_GONE:
            notes.append("the fs_dax dax_pmd_insert_mapping event that printed these flags is gone in v6.16")
        return tuple(notes)


# --------------------------------------------------------------------------------------
# 3. Scatterlist page_link
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageLink(_CodecBase):
    """Scatterlist ``page_link`` (``unsigned long``): a ``struct page *`` ORed with low bits.

    SG_CHAIN 0x1, SG_END 0x2 and, from v6.2, SG_DMA_BUS_ADDRESS 0x4.  The page pointer is
    ``pfn_to_page(pfn)`` under SPARSEMEM_VMEMMAP: ``vmemmap_base + pfn * struct_page_size``.
    A chain entry instead holds a ``struct scatterlist *`` (``sg_chain_ptr``), so it has no pfn.
    """

    kver: str = "6.2"
    page_shift: int = 12
    max_physmem_bits: int = 46
    vmemmap_base: int = 0xFFFFEA0000000000
    struct_page_size: int = 64

    name: ClassVar[str] = "sg"
    _v: tuple[int, int, int] = field(init=False, repr=False, compare=False, default=(0, 0, 0))

    def __post_init__(self) -> None:
        v = parse_kver(self.kver)
        if v < SG_PAGE_LINK_FIRST:
            raise EngineError(
                f"scatterlist page_link with chain/end bits dates from v2.6.24; {_kver_label(self.kver)}"
                " predates it"
            )
        object.__setattr__(self, "_v", v)
        _check_geometry(self.page_shift, self.max_physmem_bits)
        mask = self.link_mask
        if not _is_int(self.struct_page_size) or self.struct_page_size <= 0 or self.struct_page_size & mask:
            raise EngineError(
                f"struct_page_size={self.struct_page_size!r} must be a positive multiple of {mask + 1}"
                f" so page pointers leave page_link bits 0..{mask.bit_length() - 1} free"
            )
        if not _is_int(self.vmemmap_base) or not 0 <= self.vmemmap_base <= U64_MAX or self.vmemmap_base & mask:
            raise EngineError(
                f"vmemmap_base={self.vmemmap_base!r} must be a 64-bit address aligned to {mask + 1}"
            )

    @property
    def label(self) -> str:
        return f"sg {_kver_label(self.kver)}"

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
        return min(self.vmemmap_base + (self.max_pfn + 1) * self.struct_page_size, U64_MAX + 1)

    def pfn_to_page(self, pfn: int) -> int:
        """``vmemmap + pfn`` as a byte address: ``vmemmap_base + pfn * struct_page_size``."""
        pfn = self._check_pfn(pfn)
        ptr = self.vmemmap_base + pfn * self.struct_page_size
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
        if not _is_int(sgl) or not 0 <= sgl <= U64_MAX:
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
        fields = _fill(self.layout(), v)
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
        if ptr < self.vmemmap_base:
            raise EngineError(f"{self.label} page_link {v:#x}: struct page * {ptr:#x} is outside the vmemmap"
                              f" (starts at {self.vmemmap_base:#x})")
        off = ptr - self.vmemmap_base
        if off % self.struct_page_size:
            raise EngineError(f"{self.label} page_link {v:#x}: struct page * {ptr:#x} is not aligned to"
                              f" struct_page_size={self.struct_page_size} (offset {off:#x} into the vmemmap)")
        pfn = off // self.struct_page_size
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


Codec = Union[V5PfnT, MergedPfnT, PageLink]


def codec_for(
    abi: str,
    *,
    kver: str | None,
    page_shift: int,
    max_physmem_bits: int,
    vmemmap_base: int,
    struct_page_size: int,
    rfc_pfn_map: bool = False,
) -> Codec:
    """The codec for ``abi`` (one of :data:`ABIS`).

    ``kver`` None picks the codec's default (pfn_t 4.16, sg 6.2); v5 ignores it.
    ``rfc_pfn_map`` applies to v5 only; ``vmemmap_base``/``struct_page_size`` to sg only.
    """
    key = abi.strip().lower() if isinstance(abi, str) else None
    if key in ("v5", "v5rfc"):
        return V5PfnT(page_shift=page_shift, max_physmem_bits=max_physmem_bits,
                      rfc_pfn_map=rfc_pfn_map or key == "v5rfc")
    if key == "pfn_t":
        return MergedPfnT(kver=kver or "4.16", page_shift=page_shift, max_physmem_bits=max_physmem_bits)
    if key == "sg":
        return PageLink(kver=kver or "6.2", page_shift=page_shift, max_physmem_bits=max_physmem_bits,
                        vmemmap_base=vmemmap_base, struct_page_size=struct_page_size)
    raise EngineError(f"unknown abi {abi!r}; choose v5 | v5rfc | pfn_t | sg")
