"""Tracepoint text: fs_dax (pfn_t values with their flag names) and kmem/page events.

fs_dax formats are those of include/trace/events/fs_dax.h ("... pfn %#llx %s radix_entry
%#lx", the flags rendered by __print_flags as "DEV|MAP").  kmem events printed
``pfn=%lu`` (decimal) before they switched to ``pfn=0x%lx``; both are read.
"""

from __future__ import annotations

import re

from ..core.units import hx
from .base import Context, Format, classify_pointer, join_notes, pointer_pfn
from .model import Finding, Kind

_DAX_EVENT = re.compile(r"\b(?P<ev>dax_[a-z_]{1,40}):\s")
_DAX_FIELD = re.compile(
    r"\b(?P<k>dev|ino|address|vm_start|vm_end|pgoff|max_pgoff|length|pfn|radix_entry|entry|"
    r"zero_page|zero_folio|pglen) (?P<v>[^\s]{1,40})"
)
_PFN_T_FLAG = r"(?:SPECIAL|SG_CHAIN|SG_LAST|DEV|MAP|0x[0-9a-f]{1,16})"
_PFN_T_FLAGS = re.compile(_PFN_T_FLAG + r"(?:\|" + _PFN_T_FLAG + r"){0,5}")


class FsDax(Format):
    """include/trace/events/fs_dax.h: pfn_t values print as ``pfn %#llx FLAGS``."""

    name = "fs_dax"
    anchors = ("dax_",)

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        m = _DAX_EVENT.search(text)
        if not m:
            return None
        layout = ctx.layout
        fields: dict[str, str] = {}
        pfn_flags: tuple[str, ...] = ()
        for f in _DAX_FIELD.finditer(text, m.end()):
            k, v = f["k"], f["v"]
            if k in fields:
                continue
            fields[k] = v
            if k == "pfn":
                after = text[f.end():]
                if after.startswith(" ") and not after.startswith("  "):
                    fm = _PFN_T_FLAGS.match(after, 1)
                    if fm and (fm.end() == len(after) or after[fm.end()] == " "):
                        pfn_flags = tuple(fm.group(0).split("|"))

        def num(key: str) -> int | None:
            v = fields.get(key)
            if v is None:
                return None
            v = v.split("-")[0]
            try:
                return int(v, 16)
            except ValueError:
                return None

        pfn = num("pfn")
        virt = num("address")
        length = num("length")
        notes = []
        page = None
        zero = fields.get("zero_page") or fields.get("zero_folio")
        if zero is not None:
            zptr, status = classify_pointer(zero if re.fullmatch(r"[0-9a-fA-F]{8,16}", zero) else "(ptrval)", layout)
            if zptr is not None:
                page = zptr
                got = pointer_pfn(zptr, layout)
                if got and pfn is None:
                    pfn = got[0]
                    notes.append("zero page " + got[1])
            elif status == "hashed":
                notes.append("zero page pointer hashed")
        if pfn_flags:
            notes.append("pfn_t flags " + "|".join("PFN_" + f if not f.startswith("0x") else f for f in pfn_flags))
        vs, ve = num("vm_start"), num("vm_end")
        if vs is not None and ve is not None:
            notes.append(f"vma {hx(vs)}-{hx(ve)}")
        if "pgoff" in fields:
            notes.append(f"pgoff {fields['pgoff']}")
        start = end = None
        if pfn is not None and length:
            start = pfn << layout.page_shift
            end = start + length - 1
        return [ctx.finding(Kind.FS_DAX, pfn=pfn, phys=ctx.phys(pfn), page=page, virt=virt, start=start,
                            end=end, type=m["ev"], flags=pfn_flags, note=join_notes(*notes))]


TRACE_EVENT = re.compile(r"\b(?P<ev>(?:mm_|cma_|page_ref_)[a-z_]{1,40}):\s")
KMEM_PAGE = re.compile(r"\bpage=\s?(?P<page>\(null\)|0x[0-9a-fA-F]{1,16}|[0-9a-fA-F]{1,16})(?![\w])")
KMEM_PFN = re.compile(r"\bpfn=(?P<pfn>0x[0-9a-fA-F]{1,16}|[0-9a-fA-F]{1,16})\b")
_KMEM_ORDER = re.compile(r"\border=(?P<o>\d{1,2})\b")


def kmem_pfn(event: str, token: str) -> tuple[int, str]:
    """pfn= of a tracepoint: the old kmem events printed %lu, the newer ones 0x%lx."""
    if token.startswith(("0x", "0X")):
        return int(token, 16), ""
    if event.startswith("mm_") and token.isdigit():
        return int(token, 10), f"pfn={token} is decimal (kmem tracepoints printed %lu before 0x%lx)"
    return int(token, 16), f"pfn={token} read as hex"


class Kmem(Format):
    name = "kmem"
    anchors = ("pfn=",)

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        m = TRACE_EVENT.search(text)
        if not m:
            return None
        pm = KMEM_PFN.search(text, m.end())
        if not pm:
            return None
        ev = m["ev"]
        layout = ctx.layout
        pg = KMEM_PAGE.search(text, m.end())
        page = None
        notes = []
        if pg and pg["page"] == "(null)":
            return [ctx.finding(Kind.KMEM, type=ev, note=f"page=(null): no page, pfn={pm['pfn']} is not a page frame")]
        pfn, how = kmem_pfn(ev, pm["pfn"])
        if pg:
            tok = pg["page"][2:] if pg["page"].startswith("0x") else pg["page"]
            page, status = classify_pointer(tok, layout)
            if page is not None and len(tok) == 16:
                ctx.saw(Kind.KMEM, page, pfn)
            if status == "hashed":
                notes.append("page= hashed by %p")
            elif page is not None and layout.bits == 64 and not layout.in_vmemmap(layout.untag(page)):
                notes.append(f"page={pg['page']} is not a vmemmap address")
                page = None
        notes.insert(0, how)
        if page is not None:
            got = pointer_pfn(page, layout)
            if got is not None and got[0] != pfn:
                notes.append(f"page= would give pfn {hx(got[0])} under {layout.vmemmap_how()}")
        om = _KMEM_ORDER.search(text, m.end())
        start = end = None
        if om:
            order = int(om["o"])
            start = pfn << layout.page_shift
            end = start + (layout.page_size << order) - 1
        return [ctx.finding(Kind.KMEM, pfn=pfn, phys=ctx.phys(pfn), page=page, start=start, end=end,
                            type=ev, note=join_notes(*notes))]
