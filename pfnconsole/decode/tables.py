"""Page-table entries: the x86 page-fault walk and "BUG: Bad page map".

x86 dump_pagetable() prints ``PGD %lx P4D %lx PUD %lx PMD %lx PTE %lx``.  Present entries
hold the next table's (or the page's) physical address in bits 12..51; since the L1TF
mitigation a non-present, non-zero entry stores that field inverted.  arm32 print_bad_pte()
shows the Linux PTE (address in bits 12..31, L_PTE_* flags below) and the L1 descriptor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core.units import human_size, hx
from .base import Context, Format, Record, h, join_notes
from .layout import Layout
from .model import Finding, Kind

X86_PTE_MASK = 0x000FFFFFFFFFF000
_X86_BITS = ((0, "PRESENT"), (1, "RW"), (2, "USER"), (3, "PWT"), (4, "PCD"), (5, "ACCESSED"),
             (6, "DIRTY"), (7, "PSE"), (8, "GLOBAL"), (63, "NX"))
_HUGE_MASK = {"PMD": 0x000FFFFFFFE00000, "PUD": 0x000FFFFFC0000000}


@dataclass(frozen=True)
class Entry:
    """One decoded page-table entry."""

    level: str
    value: int
    pfn: int | None
    phys: int | None
    flags: tuple[str, ...]
    leaf: bool
    note: str


def x86_entry(level: str, value: int, addr: int | None, layout: Layout) -> Entry:
    """Decode an x86 PGD/P4D/PUD/PMD/PTE value as printed by dump_pagetable()."""
    if value == 0:
        return Entry(level, 0, None, None, (), False, "empty")
    phys_mask = (1 << layout.max_physmem_bits) - 1
    names = tuple(("PAT" if (bit == 7 and level == "PTE") else name)
                  for bit, name in _X86_BITS if value >> bit & 1)
    shift = 12
    if value & 1:
        if level in _HUGE_MASK and value & 0x80:
            base = value & _HUGE_MASK[level] & phys_mask
            size = (~_HUGE_MASK[level] & X86_PTE_MASK) + 0x1000
            phys = base + (addr & (size - 1)) if addr is not None else base
            return Entry(level, value, base >> shift, phys, names, True,
                         f"present {human_size(size)} page at {hx(base)}")
        base = value & X86_PTE_MASK & phys_mask
        if level == "PTE":
            phys = base | (addr & 0xFFF) if addr is not None else base
            return Entry(level, value, base >> shift, phys, names, True, f"present page at {hx(base)}")
        return Entry(level, value, base >> shift, base, names, False, f"next-level table at {hx(base)}")
    base = (~value) & X86_PTE_MASK & phys_mask
    leaf = level == "PTE" or bool(value & 0x80)
    phys = base | (addr & 0xFFF) if (addr is not None and level == "PTE") else base
    return Entry(level, value, base >> shift, phys, names, leaf,
                 "not present, pfn stored inverted (L1TF): pfn = (~entry & 0x000ffffffffff000) >> 12; "
                 "meaningless if this is a swap entry")


_ARM_BITS = ((0, "VALID"), (1, "YOUNG"), (6, "DIRTY"), (7, "RDONLY"), (8, "USER"), (9, "XN"),
             (10, "SHARED"), (11, "NONE"))


def generic_pte(value: int, layout: Layout) -> tuple[int, int, tuple[str, ...], str]:
    """(pfn, phys, flag names, how) for a PTE of the given arch."""
    if layout.is_x86:
        e = x86_entry("PTE", value, None, layout)
        return e.pfn or 0, e.phys or 0, e.flags, e.note
    if layout.arch == "arm":
        phys = value & ~0xFFF & 0xFFFFFFFF
        names = tuple(n for bit, n in _ARM_BITS if value >> bit & 1)
        return phys >> 12, phys, names, "ARM Linux PTE: phys = pte & ~0xfff, low bits are L_PTE_* flags"
    if layout.arch == "arm64":
        phys = value & 0x0000FFFFFFFFF000 & ~(layout.page_size - 1)
        valid = ("VALID",) if value & 1 else ()
        return phys >> layout.page_shift, phys, valid, "arm64 descriptor: output address bits 47:12"
    mask = ((1 << layout.max_physmem_bits) - 1) & ~(layout.page_size - 1)
    phys = value & mask
    return phys >> layout.page_shift, phys, (), "pte & PAGE_MASK"


FAULT = re.compile(
    r"(?:BUG: unable to handle (?P<what>page fault for address:|kernel paging request at|"
    r"kernel NULL pointer dereference at)|Unable to handle kernel (?P<what64>[\w -]{0,48}?) ?at virtual address) "
    r"(?:0x)?(?P<addr>[0-9a-fA-F]{1,16})\b"
)
WALK = re.compile(r"\b(?P<lvl>PGD|P4D|PUD|PMD|PTE) (?P<val>[0-9a-fA-F]{1,16})\b")
_WALK32 = re.compile(r"\*(?P<lvl>pdpt|pde|pte) = (?P<val>[0-9a-fA-F]{8,16})\b")
_ARM64_WALK = re.compile(r"\b(?P<lvl>pgd|p4d|pud|pmd|pte)=(?P<val>[0-9a-fA-F]{8,16})\b")


class PageFault(Format):
    """The fault line: its address is what the page-table walk after it resolves."""

    name = "page_fault"
    anchors = ("nable to handle",)

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        layout = ctx.layout
        m = FAULT.search(text)
        if not m:
            return None
        addr = layout.untag(h(m["addr"]))
        ctx.fault = (ctx.line, addr)
        ctx.fault_age = 0
        what = (m["what"] or m["what64"] or "").rstrip(": ").replace(" for address", "").replace(" at", "")
        phys = layout.va_to_phys(addr) if layout.bits == 64 else None
        pfn = None if phys is None else phys >> layout.page_shift
        return [ctx.finding(Kind.PAGE_FAULT, virt=addr, pfn=pfn, phys=phys, type=what or "paging request",
                            note=layout.direct_how() if phys is not None else "")]


class PageWalk(Format):
    """The walk printed after a fault: x86 ``PGD .. PTE ..`` or ``*pde =``, arm64 ``pgd=``."""

    name = "page_walk"
    anchors = ("PGD ", "*pde", "*pdpt", "pgd=")

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        layout = ctx.layout
        if "nable to handle" in text and FAULT.search(text):
            return None  # the fault line itself
        stripped = text.lstrip()
        if stripped.startswith(("PGD ", "*p")):
            fault_addr = ctx.fault[1] if ctx.fault else None
            out = []
            matches = list(WALK.finditer(text)) or list(_WALK32.finditer(text))
            prev: int | None = None
            for w in matches:
                lvl = w["lvl"].upper()
                value = h(w["val"])
                e = x86_entry("PTE" if lvl == "PTE" else lvl, value, fault_addr, layout)
                note = e.note
                if lvl == "P4D" and prev == value and value:
                    note = join_notes(note, "same as PGD: P4D folded (4-level paging)")
                prev = value
                virt = fault_addr if e.leaf else None
                out.append(ctx.finding(Kind.PTE, pfn=e.pfn, phys=e.phys, virt=virt, type=lvl,
                                       flags=e.flags, note=join_notes(f"{lvl} {w['val']}", note)))
            ctx.touch()
            return out or None
        if "pgd=" in text:
            out = []
            for w in _ARM64_WALK.finditer(text):
                value = h(w["val"])
                if value == 0:
                    out.append(Finding(ctx.line, Kind.PTE, type=w["lvl"].upper(), note="empty"))
                    continue
                pfn, phys, names, how = generic_pte(value, layout)
                out.append(Finding(ctx.line, Kind.PTE, pfn=pfn, phys=phys, type=w["lvl"].upper(), flags=names,
                                   note=join_notes(f"{w['lvl']}={w['val']}", how)))
            return out or None
        return None


BAD_MAP = re.compile(r"Bad page map in process (?P<comm>[^\n]{0,64}?)\s{1,2}pte:(?P<pte>[0-9a-fA-F]{1,16}) "
                      r"pmd:(?P<pmd>[0-9a-fA-F]{1,16})\b")
_BAD_MAP_VMA = re.compile(r"^addr:(?P<addr>(?:0x)?[0-9a-fA-F]{1,16}) vm_flags:(?P<flags>[0-9a-fA-F]{1,16})"
                          r"(?: anon_vma:\s{0,10}(?P<anon>\S{1,24}))?(?: mapping:\s{0,10}(?P<mapping>\S{1,24}))?"
                          r"(?: index:(?P<index>[0-9a-fA-F]{1,16}))?")


def pmd_table(value: int, layout: Layout) -> tuple[int, str]:
    """Physical address of what a PMD entry points at, and how it was found."""
    if layout.arch == "arm":
        if value & 3 == 1:
            return value & ~0x3FF & 0xFFFFFFFF, "ARM L1 descriptor, coarse table: pmd & ~0x3ff"
        if value & 3 == 2:
            return value & ~0xFFFFF & 0xFFFFFFFF, "ARM L1 section descriptor: pmd & ~0xfffff"
        return value & ~0x3FF & 0xFFFFFFFF, "ARM L1 descriptor (type bits invalid): pmd & ~0x3ff"
    if layout.is_x86:
        e = x86_entry("PMD", value, None, layout)
        return e.phys or 0, e.note
    phys = value & 0x0000FFFFFFFFF000
    return phys, "table address bits 47:12"


class BadPageMap(Format):
    name = "bad_page_map"
    anchors = ("Bad page map", "vm_flags:")

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        layout = ctx.layout
        m = BAD_MAP.search(text)
        if m:
            pte, pmd = h(m["pte"]), h(m["pmd"])
            pfn, phys, names, how = generic_pte(pte, layout)
            table, thow = pmd_table(pmd, layout)
            ctx.record = Record(ctx.line, pfn, how=f"pfn from the pte of the Bad page map line {ctx.line}")
            ctx.touch()
            return [
                ctx.finding(Kind.BAD_PAGE_MAP, pfn=pfn, phys=phys, type="pte", flags=names,
                            note=join_notes(f"process {m['comm'].strip()}", f"pte:{m['pte']}", how)),
                ctx.finding(Kind.BAD_PAGE_MAP, pfn=table >> layout.page_shift, phys=table, type="pmd",
                            note=join_notes(f"pmd:{m['pmd']}", f"page table at {hx(table)}", thow)),
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
