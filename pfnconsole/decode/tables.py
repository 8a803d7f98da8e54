"""Page-table entries and the page-fault walk (Bad page maps and swap entries: `badmap`).

x86 dump_pagetable() prints ``PGD %lx P4D %lx PUD %lx PMD %lx PTE %lx`` with pr_cont, so
syslog/journald may keep each level as a line of its own: those are read while the walk
after a fault is open (`PageWalk`).  Present entries hold the next table's (or the page's)
physical address in bits 12..51; since the L1TF mitigation a non-present, non-zero entry
stores that field inverted.  32-bit ARM entries (classic and LPAE: print_bad_pte() and
show_pte()) are decoded by `arm_tables`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core.units import human_size, hx
from . import arm_tables
from .base import Context, Format, h, join_notes
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


def generic_pte(value: int, layout: Layout, digits: int = 0,
                lpae: bool | None = None) -> tuple[int, int, tuple[str, ...], str]:
    """(pfn, phys, flag names, how) for a PTE of the given arch; ``digits`` is how many hex
    digits it was printed with, ``lpae`` the caller's word on 32-bit ARM (see `arm_tables`)."""
    if layout.is_x86:
        e = x86_entry("PTE", value, None, layout)
        return e.pfn or 0, e.phys or 0, e.flags, e.note
    if layout.arch == "arm":
        a = arm_tables.arm_pte(value, digits, _lpae(layout, lpae))
        return a.pfn or 0, a.phys or 0, a.flags, a.how
    if layout.arch == "arm64":
        phys = value & 0x0000FFFFFFFFF000 & ~(layout.page_size - 1)
        valid = ("VALID",) if value & 1 else ()
        return phys >> layout.page_shift, phys, valid, "arm64 descriptor: output address bits 47:12"
    mask = ((1 << layout.max_physmem_bits) - 1) & ~(layout.page_size - 1)
    phys = value & mask
    return phys >> layout.page_shift, phys, (), "pte & PAGE_MASK"


def _lpae(layout: Layout, lpae: bool | None) -> bool | None:
    """The caller's word on LPAE, else the layout's (a field another module may add)."""
    if lpae is not None:
        return lpae
    got = getattr(layout, "lpae", None)
    return got if isinstance(got, bool) else None


# arch/x86/mm/fault.c show_fault_oops(): "BUG: unable to handle page fault for address: %px"
# (v5.1+; "BUG: unable to handle kernel %s at %px" before, NULL pointer dereference or paging
# request), "BUG: kernel NULL pointer dereference, address: %px" (v5.1+);
# arch/arm64/mm/fault.c die_kernel_fault() and arch/arm/mm/fault.c __do_kernel_fault():
# "Unable to handle kernel %s at virtual address %016lx" / "%08lx".
FAULT = re.compile(
    r"(?:BUG: unable to handle (?P<what>page fault for address:|kernel paging request at|"
    r"kernel NULL pointer dereference at)|BUG: kernel (?P<null>NULL pointer dereference), address:|"
    r"Unable to handle kernel (?P<what64>[\w -]{0,48}?) ?at virtual address) "
    r"(?:0x)?(?P<addr>[0-9a-fA-F]{1,16})\b"
)
WALK = re.compile(r"\b(?P<lvl>PGD|P4D|PUD|PMD|PTE) (?P<val>[0-9a-fA-F]{1,16})\b")
# arch/x86/mm/fault.c dump_pagetable() (64-bit): pr_info("PGD %lx "), then pr_cont("P4D %lx ")
# (v4.12+), "PUD %lx ", "PMD %lx ", "PTE %lx", pr_cont("\n"); plain printk() pieces in
# older kernels (v4.9 and before, boundary approximate); "BAD\n" when an entry cannot be
# read.  One piece per syslog line is read while the walk is open: the whole line is level
# words and values.
_PAIR = re.compile(r"(?P<lvl>PGD|P4D|PUD|PMD|PTE) (?P<val>[0-9a-fA-F]{1,16})(?= |$)")
_LEVELS = ("PGD", "P4D", "PUD", "PMD", "PTE")
_WALK32 = re.compile(r"\*(?P<lvl>pdpt|pde|pte) = (?P<val>[0-9a-fA-F]{8,16})\b")
# arch/x86/mm/fault.c dump_pagetable() (32-bit): "*pdpt = %016Lx " (PAE, pr_info),
# "*pde = %0*Lx " (pr_cont with PAE, pr_info without), pr_cont("*pte = %0*Lx ").
_LEVELS32 = ("PDPT", "PDE", "PTE")
_ARM64_WALK = re.compile(r"\b(?P<lvl>pgd|p4d|pud|pmd|pte)=(?P<val>[0-9a-fA-F]{8,16})\b")
# arch/arm/mm/fault.c show_pte(): "pgd = %p", "[%08lx] *pgd=%08llx", then pr_cont pieces
# ", *pud=%08llx" (never on ARM: PTRS_PER_PUD 1), ", *pmd=%08llx" (LPAE only: PTRS_PER_PMD 1
# in the classic layout), ", *pte=%08llx", ", *ppte=%08llx" (classic only: the hardware PTE),
# "(bad)"; printk() without a level before v4.x.
_ARM_SHOW = re.compile(r"\*(?P<lvl>pgd|pud|pmd|pte|ppte)=(?P<val>[0-9a-fA-F]{8,16})\b")
_ARM_ADDR = re.compile(r"^\[(?P<addr>[0-9a-fA-F]{8})\] \*pgd=")
_ARM_PIECE = re.compile(r"^, \*(?:pud|pmd|pte|ppte)=")
_ARM_LEVELS = ("PGD", "PUD", "PMD", "PTE", "PPTE")
_PGD_PTR = re.compile(r"^pgd = (?P<p>[0-9a-fA-F]{8,16}|\(_{0,4}ptrval_{0,4}\)|\(null\))$")


@dataclass
class _State:
    """What this module keeps across lines of one reader (`base.Context` has no field for it):
    the walk being read after a fault, and the last "Bad swap ... entry" line."""

    walk_open: bool = False
    walk_last: int = -1
    """Index (in its level list) of the last level read on an earlier line."""
    walk_prev: tuple[str, int] | None = None
    """(level, value) of the last entry read, for the P4D-folded note across lines."""
    walk_lpae: bool | None = None
    walk_addr: int | None = None
    walk_line: int = 0
    """Line of the last ARM show_pte() head (``[addr] *pgd=``)."""
    swap: tuple[int, int, str] | None = None
    """(line, swp_entry_t value, label) of the last "Bad swap file entry" style line."""


def _state(ctx: Context) -> _State:
    """This module's state on ``ctx``, kept in the instance dict until `base.Context` has a
    field for it (without either, each line is read on its own)."""
    store = getattr(ctx, "__dict__", None)
    if store is None:
        return _State()
    st = store.get("_tables_state")
    if not isinstance(st, _State):
        st = store["_tables_state"] = _State()
    return st


def _level_pairs(text: str) -> list[re.Match[str]] | None:
    """The (level, value) pairs a whole line is made of, else None: ``PUD 2067 PMD 3067``,
    ``PMD 0``; a last ``BAD`` (a plain printk() of old kernels) is allowed."""
    pos, n = 0, len(text)
    out: list[re.Match[str]] = []
    while pos < n and len(out) < 5:
        m = _PAIR.match(text, pos)
        if m is None:
            break
        out.append(m)
        pos = m.end() + 1
    rest = text[pos:].strip() if pos < n else ""
    return out if out and rest in ("", "BAD") else None


def _pde_entry(token: str, value: int, addr: int | None, layout: Layout) -> Entry:
    """A 32-bit ``*pde`` entry: a PMD with PAE (16 digits, 2 MiB pages), else a 32-bit
    page-directory entry whose PSE bit maps 4 MiB (bits 31:22; PSE-36 high bits ignored)."""
    if len(token) == 16 or value & 0x81 != 0x81:
        e = x86_entry("PMD", value, addr, layout)
        return Entry("PDE", e.value, e.pfn, e.phys, e.flags, e.leaf, e.note)
    base = value & 0xFFC00000
    phys = base + (addr & 0x3FFFFF) if addr is not None else base
    names = tuple(name for bit, name in _X86_BITS if value >> bit & 1)
    return Entry("PDE", value, base >> 12, phys, names, True, f"present 4 MiB page at {hx(base)}")


def _continues(level: str, value: int) -> bool:
    """Does dump_pagetable() print a further level after this entry?  pgd_present() is 1 when
    the P4D level is folded (4-level paging), so a PGD never ends the walk here."""
    if level == "PGD":
        return True
    if level in ("PTE", "PPTE") or value == 0:
        return False
    if level in ("PUD", "PMD", "PDE") and value & 0x80:
        return False  # a huge page (pud_leaf / pmd_leaf)
    return bool(value & 1) or (level in ("PMD", "PDE") and bool(value & 0x100))


class PageFault(Format):
    """The fault line: its address is what the page-table walk after it resolves."""

    name = "page_fault"
    anchors = ("nable to handle", "NULL pointer dereference, address")

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        layout = ctx.layout
        m = FAULT.search(text)
        if not m:
            return None
        addr = layout.untag(h(m["addr"]))
        ctx.fault = (ctx.line, addr)
        ctx.fault_age = 0
        st = _state(ctx)
        st.walk_open, st.walk_last, st.walk_prev, st.walk_lpae, st.walk_addr = True, -1, None, None, addr
        if m["null"]:
            what = "kernel NULL pointer dereference"
        else:
            what = (m["what"] or m["what64"] or "").rstrip(": ").replace(" for address", "").replace(" at", "")
        phys = layout.va_to_phys(addr) if layout.bits == 64 else None
        pfn = None if phys is None else phys >> layout.page_shift
        if phys is not None:
            note = layout.direct_how(addr)
        elif layout.bits == 64 and addr >> 63:  # a kernel address: say what it is instead
            note = join_notes(f"{layout.address_kind(addr)} address", layout.no_pfn_reason(addr))
        else:
            note = ""
        return [ctx.finding(Kind.PAGE_FAULT, virt=addr, pfn=pfn, phys=phys, type=what or "paging request",
                            note=note)]


class PageWalk(Format):
    """The walk printed after a fault: x86 ``PGD .. PTE ..`` (one line, or one level a line)
    or ``*pde =``, arm64 ``pgd=``, 32-bit ARM ``*pgd=`` / ``pgd = %p``."""

    name = "page_walk"
    anchors = ("PGD ", "P4D ", "PUD ", "PMD ", "PTE ", "*pde", "*pdpt", "*pte", "pgd=", "*pud=", "*pmd=",
               "*ppte=", "pgd = ")

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        layout = ctx.layout
        if "nable to handle" in text and FAULT.search(text):
            return None  # the fault line itself
        stripped = text.lstrip()
        st = _state(ctx)
        if stripped.startswith("PGD "):
            st.walk_open, st.walk_last, st.walk_prev = True, -1, None
            return self._levels(list(WALK.finditer(text)), _LEVELS, ctx, st)
        if stripped.startswith(("*pdpt = ", "*pde = ", "*pte = ")):
            if stripped.startswith("*pdpt = ") or not st.walk_open:
                st.walk_open, st.walk_last, st.walk_prev = True, -1, None
            return self._levels(list(_WALK32.finditer(text)), _LEVELS32, ctx, st)
        if stripped[:4] in ("P4D ", "PUD ", "PMD ", "PTE "):
            if ctx.fault is None or not st.walk_open:
                return None
            pairs = _level_pairs(stripped)
            order = [_LEVELS.index(p["lvl"]) for p in pairs or ()]
            if pairs is None or order[0] <= st.walk_last or order != sorted(set(order)):
                return None
            return self._levels(pairs, _LEVELS, ctx, st)
        if layout.arch == "arm":
            return self._arm(stripped, ctx, st)
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
        return _pgd_pointer(stripped, ctx)

    @staticmethod
    def _levels(matches: list[re.Match[str]], levels: tuple[str, ...], ctx: Context,
                st: _State) -> list[Finding] | None:
        """Findings of x86 entries; the walk stays open while the last one leads further."""
        fault_addr = ctx.fault[1] if ctx.fault else None
        out = []
        for w in matches:
            lvl = w["lvl"].upper()
            if lvl not in levels:
                continue
            value = h(w["val"])
            e = _pde_entry(w["val"], value, fault_addr, ctx.layout) if lvl == "PDE" else \
                x86_entry(lvl, value, fault_addr, ctx.layout)
            note = e.note
            if lvl == "P4D" and st.walk_prev is not None and st.walk_prev == ("PGD", value) and value:
                note = join_notes(note, "same as PGD: P4D folded (4-level paging)")
            st.walk_prev = (lvl, value)
            st.walk_last = levels.index(lvl)
            virt = fault_addr if e.leaf else None
            out.append(ctx.finding(Kind.PTE, pfn=e.pfn, phys=e.phys, virt=virt, type=lvl,
                                   flags=e.flags, note=join_notes(f"{lvl} {w['val']}", note)))
        if st.walk_prev is not None and not _continues(*st.walk_prev):
            st.walk_open = False
        ctx.touch()
        return out or None

    @staticmethod
    def _arm(text: str, ctx: Context, st: _State) -> list[Finding] | None:
        """32-bit ARM show_pte(): ``[addr] *pgd=..`` and its pieces, or ``pgd = %p``."""
        head = _ARM_ADDR.match(text)
        if head is not None:
            st.walk_open, st.walk_last, st.walk_addr = True, -1, h(head["addr"])
            st.walk_lpae, st.walk_line = None, ctx.line
        elif not (st.walk_open and 0 < ctx.line - st.walk_line <= 4 and _ARM_PIECE.match(text)):
            return _pgd_pointer(text, ctx)
        matches = list(_ARM_SHOW.finditer(text))
        if not matches:
            return None
        evident = _arm_lpae_evident(text, matches)
        if evident is not None:
            st.walk_lpae = evident
        elif head is not None:
            st.walk_lpae = _lpae(ctx.layout, None)
        lpae = bool(st.walk_lpae)
        addr = st.walk_addr
        out = []
        for w in matches:
            lvl, value = w["lvl"].upper(), h(w["val"])
            if _ARM_LEVELS.index(lvl) <= st.walk_last:
                continue
            st.walk_last = _ARM_LEVELS.index(lvl)
            if lvl == "PTE":
                a = arm_tables.lpae_pte(value) if lpae else arm_tables.classic_pte(value)
            elif lvl == "PPTE":
                a = arm_tables.classic_hw_pte(value)
            elif lpae:
                a = arm_tables.lpae_table(lvl, value)
            else:
                a = arm_tables.classic_l1(value)
            phys, virt = a.phys, None
            if lvl == "PTE" and a.present and phys is not None and addr is not None:
                phys, virt = phys | (addr & 0xFFF), addr
            layout_name = "LPAE" if lpae else "classic"
            out.append(ctx.finding(Kind.PTE, pfn=a.pfn if value else None, phys=phys if value else None,
                                   virt=virt, type=lvl, flags=a.flags,
                                   note=join_notes(f"*{w['lvl']}={w['val']}", f"ARM {layout_name}",
                                                   a.how if value else "empty")))
        if st.walk_last >= _ARM_LEVELS.index("PPTE") or (lpae and st.walk_last >= _ARM_LEVELS.index("PTE")):
            st.walk_open = False
        ctx.touch()
        return out or None


def _arm_lpae_evident(text: str, matches: list[re.Match[str]]) -> bool | None:
    """What a show_pte() line itself says about LPAE: ``*pmd=`` is printed only with LPAE
    (PTRS_PER_PMD is 1 in the classic layout), ``*ppte=`` only without; a value of more than
    8 digits is a 64-bit entry; a lone ``*pgd=`` with type bits 0b11 is an LPAE table
    descriptor (a classic L1 descriptor of type 0b11, the ARMv5 fine table, Linux never makes)."""
    if "*pmd=" in text or any(len(w["val"]) > 8 for w in matches):
        return True
    if "*ppte=" in text:
        return False
    if len(matches) == 1 and matches[0]["lvl"] == "pgd" and h(matches[0]["val"]) & 3 == 3:
        return True
    return None


def _pgd_pointer(text: str, ctx: Context) -> list[Finding] | None:
    """arch/arm/mm/fault.c (and old arm64) show_pte(): ``pgd = %p``, the virtual address of
    mm->pgd (hashed by %p since v4.15)."""
    m = _PGD_PTR.match(text)
    if m is None:
        return None
    token = m["p"]
    if token.startswith("("):
        return [ctx.finding(Kind.PTE, type="pgd pointer", note="mm->pgd: pointer hidden")]
    value = h(token)
    note = "mm->pgd: virtual address of the top-level page table"
    if ctx.layout.bits == 64 and len(token) == 16 and value >> 32 == 0:
        return [ctx.finding(Kind.PTE, type="pgd pointer", note=join_notes(note, "hashed by %p"))]
    # no phys: a finding with both virt and phys reads as a walk's leaf (the fault address)
    return [ctx.finding(Kind.PTE, virt=value, type="pgd pointer", note=note)]
