"""Device ranges: %pr/%pR resources anywhere, CXL ranges, dax kmem mappings, pmem messages.

Format strings: lib/vsprintf.c resource printing (``[mem %#010llx-%#010llx flags %#lx]``),
drivers/cxl, drivers/dax/kmem.c, drivers/nvdimm and mm/memremap.c.
"""

from __future__ import annotations

import re

from ..core.units import human_size
from .base import MEM_RANGE, Context, Format, h, join_notes, range_note
from .model import Finding, Kind

_RESOURCE = re.compile(r"\[mem (?P<a>0x[0-9a-fA-F]{1,16})(?:-(?P<b>0x[0-9a-fA-F]{1,16}))?"
                       r"(?P<attrs>(?: (?:flags 0x[0-9a-fA-F]{1,8}|[\w]{1,16})){0,6})\]")
_RANGE = re.compile(r"\brange: ?(?P<a>0x[0-9a-fA-F]{1,16})-(?P<b>0x[0-9a-fA-F]{1,16})\b")
_DAX_KMEM = re.compile(r"\bkmem (?P<dev>dax[\w.]{1,16}): mapping(?P<n>\d{1,3}): "
                       r"(?P<a>0x[0-9a-fA-F]{1,16})-(?P<b>0x[0-9a-fA-F]{1,16})")
_IORES = ((0x100, "IO"), (0x200, "MEM"), (0x400, "IRQ"), (0x800, "DMA"), (0x1000, "BUS"), (0x2000, "PREFETCH"),
          (0x4000, "READONLY"), (0x8000, "CACHEABLE"), (0x100000, "MEM_64"), (0x200000, "WINDOW"),
          (0x400000, "MUXED"), (0x1000000, "SYSRAM"), (0x2000000, "SYSRAM_DRIVER_MANAGED"),
          (0x4000000, "SYSRAM_MERGEABLE"), (0x8000000, "EXCLUSIVE"), (0x10000000, "DISABLED"),
          (0x20000000, "UNSET"), (0x40000000, "AUTO"), (0x80000000, "BUSY"))


def ioresource_names(value: int) -> tuple[str, ...]:
    """IORESOURCE_* names (include/linux/ioport.h); the type field is one value, not bits."""
    names = []
    kind = value & 0x1F00
    for bit, name in _IORES:
        if bit <= 0x1000:
            if kind == bit:
                names.append(name)
        elif value & bit:
            names.append(name)
    return tuple(names)


class Resources(Format):
    """%pr / %pR ``[mem a-b flags f]`` anywhere, plus CXL ``range:`` and dax kmem mappings.

    Last in `formats.FORMATS`: a range another format reported on the line is not repeated.
    """

    name = "resource"
    anchors = ("[mem ", "range:", "kmem dax")

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        out = []
        shift = ctx.layout.page_shift
        if "[mem " in text:
            for m in _RESOURCE.finditer(text):
                a = h(m["a"])
                b = h(m["b"]) if m["b"] else a
                if (a, b) in ctx.taken:
                    continue
                attrs = m["attrs"].strip()
                names: tuple[str, ...] = ()
                fm = re.search(r"flags (0x[0-9a-fA-F]{1,8})", attrs)
                if fm:
                    names = ioresource_names(h(fm[1]))
                elif attrs:
                    names = tuple(attrs.split())
                out.append(ctx.finding(Kind.RESOURCE, start=a, end=b, flags=names,
                                       note=join_notes(attrs, range_note(a, b, shift))))
        if "range:" in text:
            for m in _RANGE.finditer(text):
                a, b = h(m["a"]), h(m["b"])
                if (a, b) not in ctx.taken:
                    out.append(ctx.finding(Kind.RESOURCE, start=a, end=b, type="range",
                                           note=join_notes("decoder/region range", range_note(a, b, shift))))
        if "kmem dax" in text:
            for m in _DAX_KMEM.finditer(text):
                a, b = h(m["a"]), h(m["b"])
                if (a, b) not in ctx.taken:
                    out.append(ctx.finding(Kind.RESOURCE, start=a, end=b, type=f"{m['dev']} mapping{m['n']}",
                                           note=join_notes("dax kmem hotplug range", range_note(a, b, shift))))
        return out


_CAPACITY = re.compile(r"\b(?P<dev>pmem[\w.]{0,16}|dax[\w.]{1,16}): detected capacity change "
                       r"from (?P<old>\d{1,20}) to (?P<new>\d{1,20})")
_COLLISION = re.compile(r"\bnd_pmem (?P<dev>[\w.]{1,24}): (?P<ns>[\w.]{1,24}) alignment collision, "
                        r"truncate (?P<n>\d{1,20}) bytes")
_MIXED = re.compile(r"\bdevm_memremap_pages attempted on mixed region "
                    + MEM_RANGE.replace(r"\]", r"(?: flags (?P<f>0x[0-9a-fA-F]{1,8}))?\]"))
_CONFLICT = re.compile(r"(?:\b(?P<drv>nd_pmem|dax_pmem|nd_pfn|[\w]{1,16}) (?P<dev>[\w.]{1,24}): )?"
                       r"Conflicting mapping in same section")
_NO_RESERVE = re.compile(r"could not reserve region \[0x(?:0x)?(?P<a>[0-9a-fA-F]{1,16}):0x(?P<n>[0-9a-fA-F]{1,16})\]")
_PERSIST = re.compile(r"\bnd_pmem (?P<dev>[\w.]{1,24}): unable to guarantee persistence of writes")


class Pmem(Format):
    name = "pmem"
    # capacity changes count only on pmem/dax devices; the other messages name nd_pmem
    anchors = ("pmem", "dax", "mixed region", "Conflicting mapping", "could not reserve region")

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        shift = ctx.layout.page_shift
        m = _CAPACITY.search(text) if "capacity change" in text else None
        if m:
            size = int(m["new"])
            return [ctx.finding(Kind.PMEM, start=0, end=size - 1 if size else None, type=m["dev"],
                                note=f"capacity {size} bytes ({human_size(size)}); start/end are offsets in the "
                                     "device, not physical addresses")]
        m = _COLLISION.search(text) if "alignment collision" in text else None
        if m:
            n = int(m["n"])
            return [ctx.finding(Kind.PMEM, type="alignment collision",
                                note=f"{m['dev']} on {m['ns']}: {human_size(n)} truncated to keep sections whole")]
        m = _MIXED.search(text) if "mixed region" in text else None
        if m:
            a, b = h(m["a"]), h(m["b"])
            names = ioresource_names(h(m["f"])) if m["f"] else ()
            return [ctx.finding(Kind.PMEM, start=a, end=b, type="mixed region", flags=names,
                                note=join_notes("devm_memremap_pages refused a range that overlaps System RAM",
                                           range_note(a, b, shift)))]
        m = _CONFLICT.search(text) if "Conflicting mapping" in text else None
        if m:
            dev = m["dev"] or ""
            return [ctx.finding(Kind.PMEM, type="conflicting mapping",
                                note=join_notes(dev, "devm_memremap_pages refused: another mapping "
                                                     "shares the memory section"))]
        m = _NO_RESERVE.search(text) if "could not reserve region" in text else None
        if m:
            a, n = h(m["a"]), h(m["n"])
            return [ctx.finding(Kind.PMEM, start=a, end=a + n - 1, type="could not reserve region",
                                note=range_note(a, a + n - 1, shift))]
        m = _PERSIST.search(text) if "persistence of writes" in text else None
        if m:
            return [ctx.finding(Kind.PMEM, type="no persistence guarantee", note=m["dev"])]
        return None


