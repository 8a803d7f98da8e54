"""Bad page maps and what sits beside them: "BUG: Bad page map" (mm/memory.c print_bad_pte()),
swap entries after "Bad swap file entry" (mm/swapfile.c), and the brk area's early page tables.

A "Bad swap file entry" line (`SwapEntry`) makes the non-present pte of the "Bad page map"
line right after it read as a swap entry: a type and an offset, no pfn.  The entries
themselves are decoded by `tables` (x86) and `arm_tables` (32-bit ARM).
"""

from __future__ import annotations

import re

from ..core.units import hx
from . import arm_tables
from .base import Context, Format, Record, h, join_notes
from .layout import Layout
from .model import Finding, Kind
from .tables import _lpae, _state, generic_pte, x86_entry

BAD_MAP = re.compile(r"Bad page map in process (?P<comm>[^\n]{0,64}?)\s{1,2}pte:(?P<pte>[0-9a-fA-F]{1,16}) "
                      r"pmd:(?P<pmd>[0-9a-fA-F]{1,16})\b")
_BAD_MAP_VMA = re.compile(r"^addr:(?P<addr>(?:0x)?[0-9a-fA-F]{1,16}) vm_flags:(?P<flags>[0-9a-fA-F]{1,16})"
                          r"(?: anon_vma:\s{0,10}(?P<anon>\S{1,24}))?(?: mapping:\s{0,10}(?P<mapping>\S{1,24}))?"
                          r"(?: index:(?P<index>[0-9a-fA-F]{1,16}))?")


def pmd_table(value: int, layout: Layout, digits: int = 0, lpae: bool | None = None) -> tuple[int, str]:
    """Physical address of what a PMD entry points at, and how it was found."""
    if layout.arch == "arm":
        a = arm_tables.arm_pmd(value, digits, _lpae(layout, lpae))
        return a.phys or 0, a.how
    if layout.is_x86:
        e = x86_entry("PMD", value, None, layout)
        return e.phys or 0, e.note
    phys = value & 0x0000FFFFFFFFF000
    return phys, "table address bits 47:12"


# --------------------------------------------------------------------------------------
# Swap entries
# --------------------------------------------------------------------------------------

# mm/swapfile.c: Bad_file[] "Bad swap file entry ", Unused_file[] "Unused swap file entry ",
# Bad_offset[] "Bad swap offset entry ", Unused_offset[] "Unused swap offset entry ", printed
# as "%s%08lx" of swp_entry_t.val after "swap_free: " (v2.6 to v4.x, swap_info_get()), then
# "swap_info_get: " (later v4.x), then "%s: " __func__ (__swap_info_get, _swap_info_get,
# get_swap_device, ...; v5.x, v6.x); "swap_dup: " in __swap_duplicate() of old kernels.  The
# release boundaries between the prefixes are approximate: any "name: " prefix is read.
_SWAP_BAD = re.compile(r"(?:^|\s)(?P<func>[A-Za-z_]\w{0,47}): (?P<label>(?:Bad|Unused) swap (?:file|offset) entry) "
                       r"(?P<val>[0-9a-fA-F]{1,16})\b")
SWAP_LINK_LINES = 5
"""How many lines after a "Bad swap ... entry" line its pte's "Bad page map" may come."""

# include/linux/swapops.h swp_entry(): val = type << SWP_TYPE_SHIFT | offset, offset below.
#   v4.20+      SWP_TYPE_SHIFT = BITS_PER_XA_VALUE - MAX_SWAPFILES_SHIFT = (BITS_PER_LONG - 1) - 5
#   v3.1-v4.19  SWP_TYPE_SHIFT(e) = BITS_PER_LONG - (MAX_SWAPFILES_SHIFT + RADIX_TREE_EXCEPTIONAL_SHIFT 2)
#   before v3.1 SWP_TYPE_SHIFT(e) = BITS_PER_LONG - MAX_SWAPFILES_SHIFT
_SWP_ENTRY_SHIFTS = (("v4.20+", 6), ("v3.1-v4.19", 7), ("before v3.1", 5))
"""(kernels, BITS_PER_LONG - SWP_TYPE_SHIFT), newest first."""

# arch/x86/include/asm/pgtable_64.h __swp_type() / __swp_offset():
#   v4.18+ (L1TF; also in the stable kernels it went to): type bits 59-63, offset
#     inverted in bits 9-58: type = pte >> 59, offset = ~pte << 5 >> 14 (SWP_OFFSET_SHIFT 14)
#   before v4.18 (since the move above _PAGE_PROTNONE for an A/D-bit erratum, about v4.6): type bits
#     9-13, offset = pte >> 14; the older layout (type from bit 1) is not modelled


def _x86_swap(value: int) -> list[tuple[str, int, int, str]]:
    """x86_64 readings of a swap pte (u64), newest first."""
    return [("v4.18+ (L1TF)", value >> 59, (~value >> 9) & ((1 << 50) - 1),
             "type = pte >> 59, offset = (~pte >> 9) & (2^50 - 1)"),
            ("before v4.18", (value >> 9) & 0x1F, value >> 14, "type = (pte >> 9) & 0x1f, offset = pte >> 14")]


# arch/arm64/include/asm/pgtable.h __SWP_TYPE_SHIFT, __SWP_TYPE_BITS, __SWP_OFFSET_SHIFT, bits:
_ARM64_SWAP = (("v6.10+", 6, 5, 12, 50), ("v6.0-v6.9", 3, 5, 8, 50), ("v4.0-v5.19", 2, 6, 8, 50),
               ("v3.7-v3.19", 3, 6, 9, 49))


def swap_readings(value: int, layout: Layout) -> list[tuple[str, int, int, str]] | None:
    """Every (kernels, type, offset, how) reading of a swap pte for the arch, newest first;
    None when the arch's layout is not modelled here."""
    if layout.is_x86 and layout.bits == 64:
        return _x86_swap(value)
    if layout.arch == "arm64":
        return [(era, (value >> ts) & ((1 << tb) - 1), (value >> os) & ((1 << ob) - 1),
                 f"type = (pte >> {ts}) & {hx((1 << tb) - 1)}, offset = (pte >> {os}) & (2^{ob} - 1)")
                for era, ts, tb, os, ob in _ARM64_SWAP]
    if layout.arch == "arm":
        return arm_tables.arm_swap(value)
    return None


def swp_entry_readings(value: int, bits: int) -> list[tuple[str, int, int]]:
    """(kernels, type, offset) of a swp_entry_t value, newest first (BITS_PER_LONG ``bits``)."""
    out = []
    for era, less in _SWP_ENTRY_SHIFTS:
        shift = bits - less
        out.append((era, value >> shift, value & ((1 << shift) - 1)))
    return out


def _not_present(value: int, layout: Layout, digits: int, lpae: bool | None) -> bool:
    """A non-zero pte that pte_present() calls not present (x86 also checks _PAGE_PROTNONE)."""
    if value == 0:
        return False
    if layout.is_x86:
        return not value & 0x101
    if layout.arch == "arm" and arm_tables.is_lpae(digits, _lpae(layout, lpae)):
        return not value & 3
    return not value & 1


class SwapEntry(Format):
    """mm/swapfile.c "Bad swap file entry %08lx" and its kin: a swp_entry_t value, whose
    pte a following "Bad page map" line prints (see `BadPageMap`)."""

    name = "swap_entry"
    anchors = ("swap file entry", "swap offset entry")

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        m = _SWAP_BAD.search(text)
        if m is None:
            return None
        value = h(m["val"])
        _state(ctx).swap = (ctx.line, value, m["label"])
        bits = 64 if ctx.layout.bits == 64 else 32
        (era, typ, off), *older = swp_entry_readings(value, bits)
        rest = "; ".join(f"{e}: type {t}, offset {hx(o)}" for e, t, o in older)
        note = join_notes(f"{m['func']}: swp_entry_t {m['val']}",
                          f"type {typ}, offset {hx(off)} (include/linux/swapops.h {era}: "
                          f"type = val >> {bits - 6}, offset = val & (2^{bits - 6} - 1), "
                          f"BITS_PER_LONG {bits}; {rest})")
        return [ctx.finding(Kind.BAD_PAGE_MAP, type=m["label"], note=note)]


class BadPageMap(Format):
    """mm/memory.c print_bad_pte(): "BUG: Bad page map in process %s  pte:%08llx pmd:%08llx"
    (``(long long)``: an LPAE or 64-bit entry prints up to 16 digits), then
    "addr:%px vm_flags:%08lx anon_vma:%px mapping:%px index:%lx"."""

    name = "bad_page_map"
    anchors = ("Bad page map", "vm_flags:")

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        layout = ctx.layout
        m = BAD_MAP.search(text)
        if m:
            pte, pmd = h(m["pte"]), h(m["pmd"])
            lpae = _lpae(layout, None)
            if layout.arch == "arm" and lpae is None and max(len(m["pte"]), len(m["pmd"])) <= 8 and pmd & 3 == 3:
                lpae = True  # an LPAE table descriptor; a classic L1 descriptor of type 0b11 Linux never makes
            table, thow = pmd_table(pmd, layout, len(m["pmd"]), lpae)
            pmd_finding = ctx.finding(Kind.BAD_PAGE_MAP, pfn=table >> layout.page_shift, phys=table, type="pmd",
                                      note=join_notes(f"pmd:{m['pmd']}", f"page table at {hx(table)}", thow))
            swap = self._swap(pte, len(m["pte"]), lpae, ctx)
            ctx.touch()
            if swap is not None:
                ctx.record = Record(ctx.line, None, how="the pte of the Bad page map line is a swap entry")
                return [ctx.finding(Kind.BAD_PAGE_MAP, type="swap entry",
                                    note=join_notes(f"process {m['comm'].strip()}", f"pte:{m['pte']}", swap)),
                        pmd_finding]
            pfn, phys, names, how = generic_pte(pte, layout, len(m["pte"]), lpae)
            ctx.record = Record(ctx.line, pfn, how=f"pfn from the pte of the Bad page map line {ctx.line}")
            return [
                ctx.finding(Kind.BAD_PAGE_MAP, pfn=pfn, phys=phys, type="pte", flags=names,
                            note=join_notes(f"process {m['comm'].strip()}", f"pte:{m['pte']}", how)),
                pmd_finding,
            ]
        m = _BAD_MAP_VMA.match(text)
        if m:
            ctx.touch()
            addr = h(m["addr"])
            notes = [f"vm_flags {m['flags']}"]
            if m["index"]:
                notes.append(f"index {m['index']}")
            return [ctx.finding(Kind.BAD_PAGE_MAP, virt=addr, type="vma", note=join_notes("user address", *notes))]
        return None

    @staticmethod
    def _swap(pte: int, digits: int, lpae: bool | None, ctx: Context) -> str | None:
        """The swap-entry note when a "Bad swap ... entry" line came just before and the pte
        is not present, else None."""
        st = _state(ctx)
        if st.swap is None or not 0 < ctx.line - st.swap[0] <= SWAP_LINK_LINES:
            return None
        layout = ctx.layout
        if not _not_present(pte, layout, digits, lpae):
            return None
        readings = swap_readings(pte, layout)
        if readings is None:
            return None
        line, value, label = st.swap
        st.swap = None
        bits = 64 if layout.bits == 64 else 32
        printed = {(t, o): e for e, t, o in swp_entry_readings(value, bits)}
        pick = next((r for r in readings if (r[1], r[2]) in printed), None)
        era, typ, off, how = pick or readings[0]
        others = "; ".join(f"{e}: type {t}, offset {hx(o)}" for e, t, o, _ in readings if e != era)
        agree = (f"agrees with swp_entry_t {value:x} ({printed[(typ, off)]} swapops.h)"
                 if pick is not None else "assumed the newest layout")
        return (f"swap entry: type {typ}, offset {hx(off)} ({layout.arch} {era}: {how}; {agree}"
                f"{'; other kernels: ' + others if others else ''}); "
                f"linked to the '{label}' on line {line}")


_BRK_PGTABLE = re.compile(r"^BRK \[(?P<a>0x[0-9a-fA-F]{1,16}), (?P<b>0x[0-9a-fA-F]{1,16})\] PGTABLE\s{0,8}$")


class BrkPgtable(Format):
    """Early page-table pages: arch/x86/mm/init.c alloc_low_pages() (v3.9+),
    ``printk(KERN_DEBUG "BRK [%#010lx, %#010lx] PGTABLE\\n", pfn << PAGE_SHIFT,
    (pfn << PAGE_SHIFT) + (PAGE_SIZE * num) - 1)``: an inclusive range of pages taken from
    the brk area for the direct map's page tables."""

    name = "brk_pgtable"
    anchors = ("PGTABLE",)

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        m = _BRK_PGTABLE.match(text)
        if not m:
            return None
        a, b = h(m["a"]), h(m["b"])
        if b < a:
            return None
        shift = ctx.layout.page_shift
        n = (b - a + 1) >> shift
        return [ctx.finding(Kind.PAGE_TABLE, pfn=a >> shift, phys=a, start=a, end=b, type="BRK PGTABLE",
                            note=f"{n} early page-table page{'s' if n != 1 else ''} from the brk area, "
                                 f"pfn {hx(a >> shift)}-{hx(b >> shift)}")]
