"""Scanners that look at every line: pointers and addresses anywhere, loose pfns.

They run after the structured formats and skip values those already reported on the
same line, so a ``page:`` pointer is not reported twice.
"""

from __future__ import annotations

import re

from .base import Context, join_notes
from .layout import Layout
from .model import Finding

_HEX_TOKEN = re.compile(r"(?<![0-9a-zA-Z])(?:0x)?(?P<v>[0-9a-fA-F]{16})(?![0-9a-zA-Z])")


def scan_pointers(text: str, ctx: Context) -> list[Finding]:
    """Struct page pointers and direct-map addresses in any 16-digit hex word."""
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
        if layout.in_vmemmap(value):
            got = layout.page_to_pfn(value)
            if got is None:
                continue
            ctx.seen.add(raw)
            pfn, off = got
            inside = f"{off} bytes into the struct page" if off else ""
            out.append(Finding(ctx.line, "struct_page", pfn=pfn, phys=pfn << layout.page_shift, page=value,
                               note=join_notes(tag, f"pfn from the struct page pointer: {layout.vmemmap_how()}", inside)))
        elif layout.in_direct_map(value):
            phys = layout.va_to_phys(value)
            if phys is None:
                continue
            ctx.seen.add(raw)
            out.append(Finding(ctx.line, "direct_map", pfn=phys >> layout.page_shift, phys=phys, virt=value,
                               note=join_notes(tag, layout.direct_how())))
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
        out.append(Finding(ctx.line, "pfn", pfn=pfn, phys=pfn << shift, type=m["name"], note=how))
    return out


# --- where pointers can be, for skimming -----------------------------------------------------

_ANY_HEX_WORD = r"(?<![0-9a-zA-Z])(?:0x)?[0-9a-fA-F]{16}(?![0-9a-zA-Z])"
_DEPTH = 8
"""Leading hex digits a skimming pattern checks; the rest is left to `scan_pointers`."""


def _hex_range(lo: str, hi: str, digits: str) -> str:
    """A regex for the hex strings of len(lo) digits from ``lo`` to ``hi``, inclusive."""
    if lo == hi:
        return lo
    a, b = digits.index(lo[0]), digits.index(hi[0])

    def span(i: int, j: int) -> str:
        return digits[i] if i == j else f"[{digits[i:j + 1]}]"

    rest = len(lo) - 1
    anyrest = f"[{digits}]" + (f"{{{rest}}}" if rest > 1 else "")
    if rest == 0:
        return span(a, b)
    if a == b:
        return lo[0] + _hex_range(lo[1:], hi[1:], digits)
    if lo[1:] == digits[0] * rest and hi[1:] == digits[15] * rest:
        return span(a, b) + anyrest
    parts = [lo[0] + _hex_range(lo[1:], digits[15] * rest, digits)]
    if b - a > 1:
        parts.append(span(a + 1, b - 1) + anyrest)
    parts.append(hi[0] + _hex_range(digits[0] * rest, hi[1:], digits))
    return "(?:" + "|".join(parts) + ")"


def _range_patterns(lo: int, hi: int) -> list[str] | None:
    """Lower- and upper-case patterns for 16-digit hex words in [lo, hi)."""
    hi = min(hi, 1 << 64)
    if hi <= lo:
        return []
    shift = 4 * (16 - _DEPTH)
    first, last = f"{lo >> shift:0{_DEPTH}x}", f"{(hi - 1) >> shift:0{_DEPTH}x}"
    common = 0
    while common < _DEPTH and first[common] == last[common]:
        common += 1
    if common < 2:
        return None  # too wide to start with a literal: the caller scans every hex word
    out = []
    for digits in ("0123456789abcdef", "0123456789ABCDEF"):
        lo_s, hi_s = (first, last) if digits[10] == "a" else (first.upper(), last.upper())
        lead = lo_s[:common]
        body = _hex_range(lo_s[common:], hi_s[common:], digits) if common < _DEPTH else ""
        # the literal lead first (a fast search), then "no hex digit before the word"
        out.append(f"{lead}(?<![0-9a-fA-F]{lead}){body}")
    return out


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
        got = _range_patterns(lo, hi)
        if got is None:
            return [_ANY_HEX_WORD]
        out.extend(got)
    return out
