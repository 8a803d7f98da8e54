"""Scanners that look at every line: pointers and addresses anywhere, loose pfns.

They run after the structured formats and skip values those already reported on the
same line, so a ``page:`` pointer is not reported twice.
"""

from __future__ import annotations

import re

from .base import Context, join_notes
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
