"""The merged ``pfn_t`` (v4.5 .. v6.16, u64 form): ``val = pfn | flags``, the pfn unshifted
and the flags in the top PAGE_SHIFT bits (kernel-facts.md §1.1 - §1.3), and its
``PFN_FLAGS_TRACE`` rendering (§2.2).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from .codec import (
    BITS_PER_LONG_LONG,
    Abi,
    CodecBase,
    Decoded,
    Field,
    bit_list,
    bits_text,
    check_geometry,
    fill_fields,
    kver_label,
    page_link_hint,
)
from .errors import EngineError
from .kver import parse_kver

#: Kernel versions that matter to pfn_t.
PFN_T_FIRST = (4, 5)          # 34c0fd540e79 "mm, dax, pmem: introduce pfn_t"
PFN_T_REMOVED = (6, 17)       # pfn_t removal merged for 6.17-rc1
PFN_T_DEFAULT_KVER = "4.16"
"""The version a pfn_t codec models when none is given: the first with every flag."""
PFN_FLAGS_TRACE_FIRST = (4, 11)
# pfn_t_devmap() is true only under __HAVE_ARCH_PTE_DEVMAP (later CONFIG_ARCH_HAS_PTE_DEVMAP),
# else it returns false (include/linux/pfn_t.h, kernel-facts.md §1.2).  x86: arch/x86/Kconfig
# "select ARCH_HAS_PTE_DEVMAP if X86_64" and _PAGE_BIT_DEVMAP in v4.10 .. v6.13 release trees
# (zone-device-and-page-tables.md §4.4); from v4.5 is ASSUMED (pfn_t_devmap arrived with pfn_t).
# Other arches (arm64, ppc64 book3s, riscv64) select it from versions NOT checked here.
PTE_DEVMAP_ARCHES = {"x86_64": PFN_T_FIRST, "x86_64-5level": PFN_T_FIRST}
PFN_SPECIAL_FIRST = (4, 16)
FS_DAX_PFN_EVENT_GONE = (6, 16)


class PfnTFlag(enum.IntFlag):
    """High-bit flags of the merged ``pfn_t`` (``u64 val``): ``1ULL << (64 - n)``.

    SG_CHAIN bit 63, SG_LAST bit 62, DEV bit 61, MAP bit 60, SPECIAL bit 59 (v4.16+).
    """

    SG_CHAIN = 1 << (BITS_PER_LONG_LONG - 1)
    SG_LAST = 1 << (BITS_PER_LONG_LONG - 2)
    DEV = 1 << (BITS_PER_LONG_LONG - 3)
    MAP = 1 << (BITS_PER_LONG_LONG - 4)
    SPECIAL = 1 << (BITS_PER_LONG_LONG - 5)



_TRACE_TABLE_416 = (
    (PfnTFlag.SPECIAL, "SPECIAL"), (PfnTFlag.SG_CHAIN, "SG_CHAIN"), (PfnTFlag.SG_LAST, "SG_LAST"),
    (PfnTFlag.DEV, "DEV"), (PfnTFlag.MAP, "MAP"),
)
_TRACE_TABLE_411 = _TRACE_TABLE_416[1:]


@dataclass(frozen=True)
class MergedPfnT(CodecBase):
    """Merged ``pfn_t`` (64-bit, ``u64 val``): ``val = pfn | (flags & PFN_FLAGS_MASK)``.

    PFN_FLAGS_MASK is the top PAGE_SHIFT bits; flags sit at bits 63..59 (SPECIAL, bit 59,
    from v4.16).  ``pfn_t_has_page`` = PFN_MAP set or PFN_DEV clear; ``pfn_t_devmap`` =
    DEV and MAP both set on an arch with pte_devmap (``arch``); ``pfn_t_special`` = SPECIAL set.  Exists v4.5 .. v6.16.
    """

    kver: str = PFN_T_DEFAULT_KVER
    page_shift: int = 12
    max_physmem_bits: int = 46
    arch: str = "x86_64"
    """Whose pte_devmap decides ``pfn_t_devmap`` (``devmap`` in :meth:`decode`)."""

    name: ClassVar[Abi] = Abi.PFN_T
    _v: tuple[int, int, int] = field(init=False, repr=False, compare=False, default=(0, 0, 0))

    def __post_init__(self) -> None:
        v = parse_kver(self.kver)
        if v[:2] < PFN_T_FIRST:
            raise EngineError(
                f"pfn_t was introduced in v4.5 (34c0fd540e79); {kver_label(self.kver)} predates it."
                " For the Aug-2015 __pfn_t patch use abi=v5"
            )
        if v[:2] >= PFN_T_REMOVED:
            raise EngineError(
                f"pfn_t was removed in v6.17 (removal merged for 6.17-rc1); {kver_label(self.kver)}"
                " has no pfn_t. The last kernel with it is v6.16"
            )
        check_geometry(self.page_shift, self.max_physmem_bits)
        if not isinstance(self.arch, str) or not self.arch:
            raise EngineError(f"arch={self.arch!r} must be an architecture name such as x86_64")
        object.__setattr__(self, "_v", v)

    @property
    def label(self) -> str:
        return f"pfn_t {kver_label(self.kver)}"

    @property
    def has_pte_devmap(self) -> bool | None:
        """ARCH_HAS_PTE_DEVMAP on ``arch`` at ``kver``: True/False where checked, None if not."""
        first = PTE_DEVMAP_ARCHES.get(self.arch)
        return None if first is None else self._v[:2] >= first

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
        return page_link_hint(key)

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
            bits = bit_list(bad)
            parts = []
            if 59 in bits and not self.has_special:
                parts.append("bit 59 is set: PFN_SPECIAL (bit 59) exists only from v4.16")
                bits = [b for b in bits if b != 59]
            if bits:
                parts.append(f"{bits_text(bits)} set inside PFN_FLAGS_MASK but {self.label}"
                             " defines no flag there")
            raise EngineError(f"{self.label} value {v:#x}: " + "; ".join(parts))
        pfn = self._check_pfn(v & ~self.flags_mask, decoded=True)
        dev = bool(v & PfnTFlag.DEV)
        mapped = bool(v & PfnTFlag.MAP)
        special = self.has_special and bool(v & PfnTFlag.SPECIAL)
        has_page = mapped or not dev
        arch_devmap = self.has_pte_devmap
        devmap = dev and mapped and arch_devmap is True
        notes: list[str] = []
        if dev and mapped:
            notes.append("PFN_DEV|PFN_MAP: ZONE_DEVICE struct pages exist")
            if devmap:
                notes.append(f"pfn_t_devmap() is true: {self.arch} has pte_devmap (ARCH_HAS_PTE_DEVMAP)")
            else:
                notes.append(f"pfn_t_devmap() is true only where the architecture has pte_devmap"
                             f" (ARCH_HAS_PTE_DEVMAP); whether {self.arch} has it at"
                             f" {kver_label(self.kver)} is not checked here, so devmap is not reported")
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
            devmap=devmap, special=special, fields=fill_fields(self.layout(), v), notes=tuple(notes),
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
            notes.append(f"PFN_FLAGS_TRACE only exists from v4.11; {kver_label(self.kver)} prints no pfn_t"
                         " flags, shown here with the v4.11 table")
        if self._v[:2] >= FS_DAX_PFN_EVENT_GONE:
            notes.append("the fs_dax dax_pmd_insert_mapping event that printed these flags is gone in v6.16")
        return tuple(notes)
