"""Scanners that look at every line: pointers and addresses anywhere, loose pfns.

They run after the structured formats and skip values those already reported on the
same line, so a ``page:`` pointer is not reported twice.
"""

from __future__ import annotations

import re

from .base import Context, join_notes
from .layout import Layout
from .model import Finding, Kind

_HEX_TOKEN = re.compile(r"(?<![0-9a-zA-Z])(?:0x)?(?P<v>[0-9a-fA-F]{16})(?![0-9a-zA-Z])")


# x86 __show_regs(): "RSP: %04x:%016lx EFLAGS: %08lx", "RAX: %016lx RBX: %016lx ...",
# "FS:  %016lx(%04x) GS:%016lx(%04x) knlGS:%016lx"; arm64 __show_regs(): "sp : %016llx",
# "x29: %016llx x28: %016llx ...".  CR2 is the fault address, not a register value here.
_REGISTER = re.compile(r"(?:^|(?<=[\s\]]))(?P<reg>R[A-Z0-9]{1,3}|E[A-Z]{2}|FS|GS|knlGS|x[0-9]{1,2}|sp|fp)"
                       r" {0,2}: {0,2}(?:[0-9a-fA-F]{4}:)?$")
_STACK_REGISTERS = frozenset(("RSP", "ESP", "sp"))


def register_of(text: str, start: int) -> str | None:
    """The register a hex word at ``text[start:]`` is the value of, in a register dump."""
    m = _REGISTER.search(text, max(0, start - 12), start)
    return m["reg"] if m else None


def scan_pointers(text: str, ctx: Context) -> list[Finding]:
    """Struct page pointers and direct-map addresses in any 16-digit hex word.

    A word in the vmemmap or direct-map window that the log does not support a pfn for
    (see `Layout.no_pfn_reason`), or a stack pointer register's value, is an ``address``
    finding: its kind in ``type`` ("stack" for RSP/sp), the reason in ``note``.  Other
    register values follow the same rule, named in the note.
    """
    layout = ctx.layout
    if layout.bits != 64:
        return []
    out = []
    for m in _HEX_TOKEN.finditer(text):
        raw = int(m["v"], 16)
        if raw in ctx.seen:
            continue
        value = layout.untag(raw)
        tag = "" if value == raw else f"arm64 tag {raw >> 56:#04x} stripped"
        if value in ctx.seen:
            continue
        in_vmemmap = layout.in_vmemmap(value)
        if not in_vmemmap and not layout.in_direct_map(value):
            continue
        ctx.seen.add(raw)
        reg = register_of(text, m.start()) if ":" in text else None
        if reg in _STACK_REGISTERS:
            out.append(Finding(ctx.line, Kind.ADDRESS, virt=value, type="stack",
                               note=join_notes(tag, f"register {reg}: a stack pointer (vmalloc'd with "
                                                    "CONFIG_VMAP_STACK): no pfn")))
            continue
        if reg is not None:
            tag = join_notes(tag, f"register {reg}")
        if in_vmemmap:
            got = layout.page_to_pfn(value)
            if got is not None:
                pfn, off = got
                inside = f"{off} bytes into the struct page" if off else ""
                out.append(Finding(ctx.line, Kind.STRUCT_PAGE, pfn=pfn, phys=pfn << layout.page_shift, page=value,
                                   note=join_notes(tag, f"pfn from the struct page pointer: {layout.vmemmap_how()}",
                                                   layout.support(True), inside)))
                continue
        else:
            phys = layout.va_to_phys(value)
            if phys is not None:
                out.append(Finding(ctx.line, Kind.DIRECT_MAP, pfn=phys >> layout.page_shift, phys=phys, virt=value,
                                   note=join_notes(tag, layout.direct_how(value))))
                continue
        kind = layout.address_kind(value)
        if (kind == "direct map" and not layout.direct_known) or (kind == "vmemmap" and not layout.vmemmap_known):
            kind += " (base unknown)"
        out.append(Finding(ctx.line, Kind.ADDRESS, virt=value, type=kind,
                           note=join_notes(tag, layout.no_pfn_reason(value) or "no pfn")))
    return out


_LOOSE_PFN = re.compile(
    r"(?<![\w])(?P<name>(?:start_|end_|base_|last_|max_|min_|head_)?pfn)(?: ?= ?| ?: ?| )"
    r"(?P<v>0x[0-9a-fA-F]{1,16}|(?=[0-9a-fA-F]{0,15}[0-9])[0-9a-fA-F]{1,16})(?![\w])"
)


def scan_loose_pfns(text: str, ctx: Context) -> list[Finding]:
    """``pfn = 77501``, ``migrating pfn 1f46d``: pfns in ad-hoc printks, read as hex."""
    if "pfn" not in text:
        return []
    out = []
    shift = ctx.layout.page_shift
    for m in _LOOSE_PFN.finditer(text):
        v = m["v"]
        pfn = int(v, 16)
        how = "" if v.startswith("0x") else "no 0x: read as hex, as mm/ printks use %lx"
        out.append(Finding(ctx.line, Kind.PFN, pfn=pfn, phys=pfn << shift, type=m["name"], note=how))
    return out


# --- where pointers can be, for skimming -----------------------------------------------------

_ANY_HEX_WORD = r"(?<![0-9a-zA-Z])(?:0x)?[0-9a-fA-F]{16}(?![0-9a-zA-Z])"


def _range_pattern(lo: int, hi: int, upper: bool) -> str | None:
    """A regex that finds every 16-digit hex word in [lo, hi) printed in one case: the
    digits lo and hi - 1 share, then the next two exactly; None if they share fewer than two."""
    digits = "0123456789ABCDEF" if upper else "0123456789abcdef"
    a, b = (f"{v:016X}" if upper else f"{v:016x}" for v in (lo, min(hi, 1 << 64) - 1))
    k = next((i for i in range(16) if a[i] != b[i]), 16)
    if k < 2:
        return None
    every = "[0-9A-F]" if upper else "[0-9a-f]"

    def span(x: int, y: int) -> str:  # the digits x..y
        return digits[x] if x == y else every if y - x == 15 else f"[{digits[x:y + 1]}]"

    body = ""
    if k == 15:
        body = span(digits.index(a[15]), digits.index(b[15]))
    elif k < 15:
        first, last = digits.index(a[k]), digits.index(b[k])
        alts = [digits[d] + span(digits.index(a[k + 1]) if d == first else 0,
                                 digits.index(b[k + 1]) if d == last else 15)
                for d in range(first, last + 1)]
        body = alts[0] if len(alts) == 1 else f"(?:{'|'.join(alts)})"
    # the literal lead first (a fast search), then "no hex digit before the word"
    return f"{a[:k]}(?<![0-9a-fA-F]{a[:k]}){body}"


def pointer_patterns(layout: Layout, scanned: bool, settled: bool = True) -> list[str]:
    """Regex sources that find every hex word `scan_pointers` could report (a superset).

    Each starts with the literal hex digits the range shares and has no top-level
    alternation, so `skim.Interest` can search it together with keys of the same first
    character.
    Words in one case only (all lower or all upper): printk's ``%lx``/``%px`` never mix.
    ``scanned`` False (the decoder does not scan pointers at all) gives none; with
    ``settled`` False (the layout may still change) every 16-digit hex word counts.
    """
    if not scanned or layout.bits != 64:
        return []
    if layout.arch == "arm64" or not settled:
        return [_ANY_HEX_WORD]  # tagged pointers may start with any byte
    out: list[str] = []
    ranges = []
    if layout.vmemmap_base is not None and layout.struct_page_size:
        ranges.append((layout.vmemmap_base, layout.vmemmap_base + layout.vmemmap_span))
    if layout.page_offset is not None:
        ranges.append((layout.page_offset, layout.page_offset + layout.direct_map_bytes))
    for lo, hi in ranges:
        for upper in (False, True) if min(hi, 1 << 64) > lo else ():
            got = _range_pattern(lo, hi, upper)
            if got is None:
                return [_ANY_HEX_WORD]
            out.append(got)
    return out
