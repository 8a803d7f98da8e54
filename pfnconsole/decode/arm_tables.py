"""32-bit ARM page-table entries: the classic two-level layout and LPAE's three levels.

Classic (arch/arm/include/asm/pgtable-2level.h, -2level-hwdef.h): a 32-bit Linux PTE
(address bits 31:12, ``L_PTE_*`` flags below), its hardware twin 2 KiB above it (``*ppte``),
and L1 descriptors for the pgd/pmd.  LPAE (arch/arm/include/asm/pgtable-3level.h,
-3level-hwdef.h, v3.3+): 64-bit descriptors with the output address in bits 39:12
(PHYS_MASK_SHIFT 40), type bits 1:0 (0b11 table or page, 0b01 block).

Which layout a value is in: more than 8 printed hex digits means LPAE (a classic entry is
32 bits); otherwise classic unless the caller says LPAE (``lpae=True``, e.g. from a
``Layout`` field when there is one).
"""

from __future__ import annotations

from typing import NamedTuple

from ..core.units import human_size, hx


class ArmEntry(NamedTuple):
    """One decoded ARM entry: what it points at and how that was read."""

    pfn: int | None
    phys: int | None
    flags: tuple[str, ...]
    how: str
    present: bool
    """Maps something (a table, page or section) rather than being empty/invalid."""


def is_lpae(digits: int, lpae: bool | None) -> bool:
    """LPAE when printed with more than 8 hex digits, else when the caller says so."""
    return digits > 8 or bool(lpae)


# arch/arm/include/asm/pgtable-2level.h (v3.9+; L_PTE_VALID and L_PTE_NONE came then,
# bit 0 was L_PTE_PRESENT before): the "Linux" PTE.
CLASSIC_BITS = ((0, "VALID"), (1, "YOUNG"), (6, "DIRTY"), (7, "RDONLY"), (8, "USER"), (9, "XN"),
                (10, "SHARED"), (11, "NONE"))

# arch/arm/include/asm/pgtable-2level-hwdef.h: ARMv6/v7 small-page descriptor (*ppte).
_HW_BITS = ((2, "B"), (3, "C"), (4, "AP0"), (5, "AP1"), (9, "APX"), (10, "S"), (11, "NG"))

# arch/arm/include/asm/pgtable-3level.h (v3.17+; before, L_PTE_RDONLY was bit 7, which is
# now the hardware AP[2] read-only bit, PTE_EXT_AP2), -3level-hwdef.h PTE_EXT_NG.
LPAE_BITS = ((0, "VALID"), (6, "USER"), (7, "AP2"), (10, "YOUNG"), (11, "NG"), (54, "XN"), (55, "DIRTY"),
             (56, "SPECIAL"), (57, "NONE"), (58, "RDONLY"))
LPAE_ADDR = 0x000000FFFFFFF000
"""Output address bits 39:12 (PHYS_MASK_SHIFT 40, PAGE_MASK)."""
_LPAE_BLOCK = {"PGD": 0x000000FFC0000000, "PMD": 0x000000FFFFE00000}
"""Block (section) output address: 1 GiB at level 1 (bits 39:30), 2 MiB at level 2 (39:21)."""


def _names(value: int, bits: tuple[tuple[int, str], ...]) -> list[str]:
    return [name for bit, name in bits if value >> bit & 1]


def classic_pte(value: int) -> ArmEntry:
    """A classic Linux PTE (u32): phys = pte & ~0xfff, low bits are L_PTE_* flags."""
    phys = value & 0xFFFFF000
    how = "ARM Linux PTE: phys = pte & ~0xfff, low bits are L_PTE_* flags"
    if value and not value & 1:
        how += "; L_PTE_PRESENT clear: not present (swap entry or PROT_NONE?)"
    return ArmEntry(phys >> 12, phys, tuple(_names(value, CLASSIC_BITS)), how, bool(value & 1))


def classic_hw_pte(value: int) -> ArmEntry:
    """A classic hardware PTE (*ppte, u32): ARMv6+ small page (type 1x) or large page (01)."""
    if value & 3 == 0:
        return ArmEntry(None, None, (), "hardware PTE: fault (invalid) entry", False)
    names = _names(value, _HW_BITS)
    if value & 2:
        phys = value & 0xFFFFF000
        names = (["XN"] if value & 1 else []) + names
        return ArmEntry(phys >> 12, phys, tuple(names), "ARM hardware small-page descriptor: pte & ~0xfff", True)
    phys = value & 0xFFFF0000
    return ArmEntry(phys >> 12, phys, tuple(names), "ARM hardware large-page (64 KiB) descriptor: pte & ~0xffff",
                    True)


def classic_l1(value: int) -> ArmEntry:
    """A classic L1 descriptor (pgd/pmd, u32): coarse table, section or supersection."""
    kind = value & 3
    if kind == 1:
        phys = value & 0xFFFFFC00
        return ArmEntry(phys >> 12, phys, (), "ARM L1 descriptor, coarse table: pmd & ~0x3ff", True)
    if kind == 2 and value >> 18 & 1:
        # PMD_SECT_SUPER: 16 MiB; PA[35:32] in bits 23:20, PA[39:36] in bits 8:5
        phys = (value & 0xFF000000) | ((value >> 20) & 0xF) << 32 | ((value >> 5) & 0xF) << 36
        return ArmEntry(phys >> 12, phys, ("SUPERSECTION",),
                        f"ARM L1 supersection descriptor: {human_size(1 << 24)} at {hx(phys)}", True)
    if kind == 2:
        phys = value & 0xFFF00000
        return ArmEntry(phys >> 12, phys, ("SECTION",), "ARM L1 section descriptor: pmd & ~0xfffff", True)
    phys = value & 0xFFFFFC00
    how = "empty" if value == 0 else "ARM L1 descriptor (type bits invalid): pmd & ~0x3ff"
    return ArmEntry(phys >> 12 if value else None, phys if value else None, (), how, False)


def _lpae_names(value: int) -> tuple[str, ...]:
    """L_PTE_* names of a 3-level entry: PRESENT is either of bits 0-1 (L_PTE_PRESENT 3 << 0),
    SHARED both of bits 8-9 (L_PTE_SHARED 3 << 8, inner shareable)."""
    names = _names(value, LPAE_BITS)
    if value & 3:
        names.insert(1 if value & 1 else 0, "PRESENT")
    if value >> 8 & 3 == 3:
        names.insert(names.index("YOUNG") if "YOUNG" in names else len(names), "SHARED")
    return tuple(names)


def lpae_pte(value: int) -> ArmEntry:
    """An LPAE level-3 descriptor (u64): phys = pte & 0xfffffff000 (bits 39:12)."""
    phys = value & LPAE_ADDR
    how = "ARM LPAE PTE: phys = pte bits 39:12, L_PTE_* flags of pgtable-3level.h"
    if value and not value & 3:
        how += "; not present (swap entry?)"
    return ArmEntry(phys >> 12, phys, _lpae_names(value), how, bool(value & 3))


def lpae_table(level: str, value: int) -> ArmEntry:
    """An LPAE level-1 (PGD) or level-2 (PMD) descriptor: table (0b11) or block (0b01)."""
    if value == 0:
        return ArmEntry(None, None, (), "empty", False)
    kind = value & 3
    if kind == 3:
        phys = value & LPAE_ADDR
        return ArmEntry(phys >> 12, phys, ("TABLE",), f"ARM LPAE table descriptor: next-level table at {hx(phys)} "
                        "(bits 39:12)", True)
    if kind == 1:
        mask = _LPAE_BLOCK.get(level, _LPAE_BLOCK["PMD"])
        phys = value & mask
        size = (~mask & LPAE_ADDR) + 0x1000
        return ArmEntry(phys >> 12, phys, ("BLOCK", *_lpae_names(value)[1:]),
                        f"ARM LPAE block descriptor: {human_size(size)} section at {hx(phys)}", True)
    phys = value & LPAE_ADDR
    return ArmEntry(phys >> 12, phys, (), "ARM LPAE descriptor, not valid (bit 0 clear)", False)


def arm_pte(value: int, digits: int, lpae: bool | None) -> ArmEntry:
    """A Linux PTE as print_bad_pte() or show_pte() printed it, classic or LPAE."""
    return lpae_pte(value) if is_lpae(digits, lpae) else classic_pte(value)


def arm_pmd(value: int, digits: int, lpae: bool | None) -> ArmEntry:
    """A pmd entry as print_bad_pte() printed it: LPAE level-2 or classic L1 descriptor."""
    return lpae_table("PMD", value) if is_lpae(digits, lpae) else classic_l1(value)


# arch/arm/include/asm/pgtable.h swap PTEs (common to both layouts; swp_entry_t is an
# unsigned long, so an LPAE pte's low 32 bits):
#   v4.0-v6.2   __SWP_TYPE_SHIFT 2, __SWP_TYPE_BITS 5, __SWP_OFFSET_SHIFT 7
#   v6.3+       the same with bit 7 the exclusive marker: __SWP_OFFSET_SHIFT 8
#   before v4.0 (L_PTE_FILE at bit 2): __SWP_TYPE_SHIFT 3, __SWP_TYPE_BITS 6, offset from bit 9
ARM_SWAP_LAYOUTS = (
    ("v6.3+", 2, 5, 8),
    ("v4.0-v6.2", 2, 5, 7),
    ("v3.x", 3, 6, 9),
)
"""(kernels, type shift, type bits, offset shift), newest first."""


def arm_swap(value: int) -> list[tuple[str, int, int, str]]:
    """Every reading of a non-present ARM pte as a swap entry: (kernels, type, offset, how)."""
    low = value & 0xFFFFFFFF
    out = []
    for era, tshift, tbits, oshift in ARM_SWAP_LAYOUTS:
        out.append((era, (low >> tshift) & ((1 << tbits) - 1), low >> oshift,
                    f"type = (pte >> {tshift}) & {hx((1 << tbits) - 1)}, offset = pte >> {oshift}"))
    return out
