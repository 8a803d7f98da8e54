"""Boot-time maps and device ranges: e820, memmap=, zones and nodes, reserved memory,
Xen pfn ranges, %pr/%pR resources, pmem messages and the 32-bit layout table.

Format strings: arch/x86/kernel/e820.c ("%s: [mem %#018Lx-%#018Lx] " + type name),
mm/mm_init.c (zone, node and Initmem lines), drivers/of/of_reserved_mem.c,
arch/x86/xen/setup.c, lib/vsprintf.c resource printing, drivers/nvdimm and mm/memremap.c.
"""

from __future__ import annotations

import re

from .base import MEM_RANGE, Context, Format, h, join_notes, range_note
from .model import Finding, human_size, hx

_E820 = re.compile(
    r"^(?P<who>BIOS-e820|BIOS-88|BIOS-e801|user|Xen|reserve setup_data|efi|e820|extended|"
    r"modified|PCI-e820|kexec|BIOS-e820 \w{1,16}): ?" + MEM_RANGE + r" (?P<type>[^\n]{1,48})$"
)
_E820_EDIT = re.compile(r"^e820: (?P<op>update|remove) " + MEM_RANGE + r" (?P<old>[^=]{1,40}?)(?: ==> (?P<new>[^\n]{1,40}))?$")
_E820_OLD = re.compile(
    r"^(?P<who>BIOS-e820|user|Xen): (?P<a>[0-9a-fA-F]{16}) - (?P<b>[0-9a-fA-F]{16}) \((?P<type>[^)]{1,40})\)"
)
_E820_GAP = re.compile(r"^e820: " + MEM_RANGE + r" available for PCI devices")
_E820_TYPE_NOTE = {
    "usable": "E820_TYPE_RAM (1)",
    "reserved": "E820_TYPE_RESERVED (2)",
    "ACPI data": "E820_TYPE_ACPI (3)",
    "ACPI NVS": "E820_TYPE_NVS (4)",
    "unusable": "E820_TYPE_UNUSABLE (5)",
    "persistent (type 7)": "E820_TYPE_PMEM (7): ACPI 6 NVDIMM",
    "persistent (type 12)": "E820_TYPE_PRAM (12): legacy pmem, e.g. memmap=nn!ss",
    "soft reserved": "E820_TYPE_SOFT_RESERVED (0xefffffff)",
}


class E820(Format):
    name = "e820"
    literals = ("e820", "user:", "Xen:", "setup_data", "efi:", "extended:", "modified:", "kexec:")
    # every pattern but the old one needs a [mem range; the old one starts "<who>: "
    skim = ("[mem ", "e820", "user: ", "Xen: ")

    def match(self, text, ctx):
        shift = ctx.layout.page_shift
        m = _E820_GAP.match(text)
        if m:
            a, b = h(m["a"]), h(m["b"])
            return [ctx.finding("e820", start=a, end=b, type="PCI gap", note="available for PCI devices")]
        m = _E820.match(text)
        if m:
            a, b = h(m["a"]), h(m["b"])
            typ = m["type"].strip()
            return [ctx.finding("e820", start=a, end=b, type=typ,
                                note=join_notes(m["who"], _E820_TYPE_NOTE.get(typ, ""), range_note(a, b, shift)))]
        m = _E820_EDIT.match(text)
        if m:
            a, b = h(m["a"]), h(m["b"])
            old = m["old"].strip()
            new = (m["new"] or "").strip()
            typ = new if m["op"] == "update" and new else old
            note = f"e820 {m['op']}: {old} ==> {new}" if new else f"e820 {m['op']}: {old}"
            return [ctx.finding("e820", start=a, end=b, type=typ, note=join_notes(note, range_note(a, b, shift)))]
        m = _E820_OLD.match(text)
        if m:
            a, b = h(m["a"]), h(m["b"]) - 1
            return [ctx.finding("e820", start=a, end=b, type=m["type"],
                                note=join_notes(m["who"], "old format: end printed exclusive", range_note(a, b, shift)))]
        return None


_SIZE_UNITS = {"": 0, "K": 10, "M": 20, "G": 30, "T": 40, "P": 50, "E": 60}
_MEMMAP = re.compile(
    r"(?P<size>0x[0-9a-fA-F]{1,16}|\d{1,20})(?P<su>[KMGTPE]?)\\?(?P<op>[!$#@%])"
    r"(?P<start>0x[0-9a-fA-F]{1,16}|\d{1,20})(?P<ssu>[KMGTPE]?)"
)
_MEMMAP_OPS = {"!": "persistent (type 12)", "$": "reserved", "#": "ACPI data", "@": "usable"}
_CMDLINE_ARG = re.compile(r"(?:^|\s)(?P<k>memmap|mem)=(?P<v>[^\s]{1,128})")


def _size_arg(num: str, unit: str) -> int:
    return (int(num, 0) if num.startswith("0x") else int(num)) << _SIZE_UNITS[unit]


class Cmdline(Format):
    """memmap=nn!ss and friends, and mem=, on the kernel command line."""

    name = "cmdline"
    literals = ("ommand line:",)
    skim = ("memmap=", "mem=")  # match() returns nothing without one of them

    def match(self, text, ctx):
        if "memmap=" not in text and "mem=" not in text:
            return None
        out = []
        for arg in _CMDLINE_ARG.finditer(text):
            if arg["k"] == "mem":
                mm = re.fullmatch(r"(\d{1,20})([KMGTPE]?)", arg["v"])
                if mm:
                    limit = _size_arg(mm[1], mm[2])
                    out.append(ctx.finding("cmdline", start=0, end=limit - 1, type="mem=",
                                           note=f"mem={arg['v']}: memory above {hx(limit)} is not used"))
                continue
            for piece in arg["v"].split(","):
                mm = _MEMMAP.fullmatch(piece)
                if not mm or mm["op"] not in _MEMMAP_OPS:
                    continue
                size = _size_arg(mm["size"], mm["su"])
                start = _size_arg(mm["start"], mm["ssu"])
                out.append(ctx.finding("cmdline", start=start, end=start + size - 1, type=_MEMMAP_OPS[mm["op"]],
                                       note=f"memmap={piece}: {human_size(size)} at {hx(start)}"))
        return out or None


_ZONE = re.compile(r"^(?P<zone>DMA|DMA32|Normal|HighMem|Movable|Device)\s{1,12}(?:" + MEM_RANGE + r"|(?P<empty>empty))\s{0,8}$")
_ZONE_OLD = re.compile(r"^(?P<zone>DMA|DMA32|Normal|HighMem|Movable)\s{1,12}0x(?P<a>[0-9a-fA-F]{1,16}) -> 0x(?P<b>[0-9a-fA-F]{1,16})\s{0,8}$")
_MOVABLE_NODE = re.compile(r"^Node (?P<n>\d{1,4}): (?P<a>0x[0-9a-fA-F]{1,16})\s{0,8}$")
_NODE = re.compile(r"^node\s{1,4}(?P<n>\d{1,4}): " + MEM_RANGE)
_INITMEM = re.compile(r"^Initmem setup node (?P<n>\d{1,4}) (?:" + MEM_RANGE +
                      r"|(?P<oa>[0-9a-fA-F]{16})-(?P<ob>[0-9a-fA-F]{16}))")
_NODE_DATA = re.compile(r"^NODE_DATA\((?P<n>\d{1,4})\) allocated " + MEM_RANGE)
_FAKE_NODE = re.compile(r"^Faking a node at " + MEM_RANGE)
_SRAT = re.compile(r"\bSRAT: Node (?P<n>\d{1,4}) PXM (?P<pxm>\d{1,6}) " + MEM_RANGE)


class Zones(Format):
    """Zone ranges, Movable zone start, Early memory node ranges, Initmem, NODE_DATA."""

    name = "zone"
    literals = ("DMA", "Normal", "HighMem", "Movable", "Device", "Node ", "node ", "NODE_DATA")
    # every pattern below needs a [mem range, "empty", "0x.. -> 0x", "Node n: 0x" or Initmem
    # (no blank before "->": a key that starts with one would match any wrapped line)
    skim = ("[mem ", "empty", "-> 0x", ": 0x", "Initmem setup")

    def match(self, text, ctx):
        shift = ctx.layout.page_shift
        m = _ZONE.match(text)
        if m:
            if m["empty"]:
                return [ctx.finding("zone", type=m["zone"], note="empty")]
            a, b = h(m["a"]), h(m["b"])
            return [ctx.finding("zone", start=a, end=b, type=m["zone"], note=range_note(a, b, shift))]
        m = _ZONE_OLD.match(text)
        if m:
            a, b = h(m["a"]) << shift, (h(m["b"]) << shift) - 1
            return [ctx.finding("zone", start=a, end=b, type=m["zone"],
                                note=join_notes("old format: pfns, end exclusive", range_note(a, b, shift)))]
        m = _MOVABLE_NODE.match(text)
        if m:
            a = h(m["a"])
            return [ctx.finding("zone", start=a, pfn=a >> shift, phys=a, type="Movable",
                                note=f"node {m['n']}: movable zone start")]
        m = _NODE.match(text)
        if m:
            a, b = h(m["a"]), h(m["b"])
            return [ctx.finding("node_range", start=a, end=b, type=f"node {m['n']}",
                                note=join_notes("early memory node range", range_note(a, b, shift)))]
        m = _INITMEM.match(text)
        if m:
            if m["a"]:
                a, b = h(m["a"]), h(m["b"])
                how = "Initmem setup: node span"
            else:
                a, b = h(m["oa"]), h(m["ob"]) - 1
                how = "Initmem setup: node span (old format, end exclusive)"
            return [ctx.finding("node_range", start=a, end=b, type=f"node {m['n']}",
                                note=join_notes(how, range_note(a, b, shift)))]
        m = _NODE_DATA.match(text)
        if m:
            a, b = h(m["a"]), h(m["b"])
            return [ctx.finding("node_data", start=a, end=b, type=f"node {m['n']}",
                                note=f"pg_data_t of node {m['n']}, {human_size(b - a + 1)}")]
        m = _FAKE_NODE.match(text)
        if m:
            a, b = h(m["a"]), h(m["b"])
            return [ctx.finding("node_range", start=a, end=b, type="node 0",
                                note=join_notes("no NUMA: one fake node", range_note(a, b, shift)))]
        m = _SRAT.search(text)
        if m:
            a, b = h(m["a"]), h(m["b"])
            return [ctx.finding("node_range", start=a, end=b, type=f"node {m['n']}",
                                note=join_notes(f"ACPI SRAT, PXM {m['pxm']}", range_note(a, b, shift)))]
        return None


_OF_RMEM = re.compile(r"\breserved mem: (?P<a>0x[0-9a-fA-F]{1,16})\.\.(?P<b>0x[0-9a-fA-F]{1,16})"
                      r"(?: \((?P<size>[^)]{1,24})\))?(?P<rest>[^\n]{0,80})")
_OF_NODE = re.compile(r"\breserved mem: initialized node (?:(?P<name>\S{1,64}?), compatible id (?P<compat>\S{1,64})|(?P<only>\S{1,64}))")
_RMEM_POOL = re.compile(r"\bReserved memory: created (?P<what>\w{1,16}) memory pool at (?P<a>0x[0-9a-fA-F]{1,16}), "
                        r"size (?P<n>\d{1,10}) (?P<u>[KMG]i?B|bytes?)")
_CMA = re.compile(r"\bcma: Reserved (?P<n>\d{1,10}) (?P<u>[KMG]i?B) at (?P<a>0x[0-9a-fA-F]{1,16})")
_CRASH = re.compile(r"\bReserving (?P<n>\d{1,10})MB of (?:low )?memory at (?P<at>\d{1,10})MB for crashkernel")
_ACPI_TABLE = re.compile(r"\bACPI: Reserving (?P<t>\w{1,8}) table memory at " + MEM_RANGE)
_UNIT_SHIFT = {"KiB": 10, "KB": 10, "MiB": 20, "MB": 20, "GiB": 30, "GB": 30, "bytes": 0, "byte": 0}


class ReservedMem(Format):
    name = "reserved_mem"
    literals = ("eserved mem", "Reserved memory:", "cma: Reserved", "crashkernel", "ACPI: Reserving")

    def match(self, text, ctx):
        m = _OF_RMEM.search(text)
        if m:
            a, b = h(m["a"]), h(m["b"])
            rest = (m["rest"] or "").strip()
            return [ctx.finding("reserved_mem", start=a, end=b, type=rest[:64] or None,
                                note=join_notes("devicetree reserved-memory", m["size"] or "", human_size(b - a + 1)))]
        m = _OF_NODE.search(text)
        if m:
            return [ctx.finding("reserved_mem", type=m["name"] or m["only"],
                                note=join_notes("devicetree node initialized", m["compat"] or ""))]
        m = _RMEM_POOL.search(text)
        if m:
            a = h(m["a"])
            size = int(m["n"]) << _UNIT_SHIFT.get(m["u"], 0)
            return [ctx.finding("reserved_mem", start=a, end=a + size - 1, type=m["what"],
                                note=f"{m['what']} pool, {human_size(size)}")]
        m = _CMA.search(text)
        if m:
            a = h(m["a"])
            size = int(m["n"]) << _UNIT_SHIFT.get(m["u"], 0)
            return [ctx.finding("reserved_mem", start=a, end=a + size - 1, type="CMA", note=f"CMA area, {human_size(size)}")]
        m = _CRASH.search(text)
        if m:
            a, size = int(m["at"]) << 20, int(m["n"]) << 20
            return [ctx.finding("reserved_mem", start=a, end=a + size - 1, type="crashkernel",
                                note=f"kdump reservation, {human_size(size)}")]
        m = _ACPI_TABLE.search(text)
        if m:
            a, b = h(m["a"]), h(m["b"])
            return [ctx.finding("reserved_mem", start=a, end=b, type=f"ACPI {m['t']}", note="ACPI table")]
        return None


_XEN_FREE = re.compile(r"^(?P<verb>Freeing|Populating|Remapping)\s{1,2}(?P<a>[0-9a-fA-F]{1,16})-(?P<b>[0-9a-fA-F]{1,16}) pfn range")
_XEN_11 = re.compile(r"^1-1 mapping on (?P<a>[0-9a-fA-F]{1,16})->(?P<b>[0-9a-fA-F]{1,16})")
_XEN_LAST = re.compile(r"^Remapped (?P<n>\d{1,16}) page\(s\), last_pfn=(?P<last>\d{1,16})")


class Xen(Format):
    """PV guest setup (arch/x86/xen/setup.c): pfn ranges printed %lx, end exclusive."""

    name = "xen"
    literals = ("pfn range", "1-1 mapping", "last_pfn=")

    def match(self, text, ctx):
        shift = ctx.layout.page_shift
        m = _XEN_FREE.match(text) or _XEN_11.match(text)
        if m:
            a, b = h(m["a"]), h(m["b"])
            verb = m.groupdict().get("verb") or "1-1 mapping"
            return [ctx.finding("xen", pfn=a, phys=a << shift, start=a << shift, end=(b << shift) - 1,
                                type=verb.lower(), note=f"pfns {hx(a)}-{hx(b)} (end exclusive)")]
        m = _XEN_LAST.match(text)
        if m:
            last = int(m["last"])
            return [ctx.finding("xen", pfn=last, phys=last << shift, type="last_pfn",
                                note=f"last_pfn={m['last']} is decimal; {m['n']} pages remapped")]
        return None


_RESOURCE = re.compile(r"\[mem (?P<a>0x[0-9a-fA-F]{1,16})(?:-(?P<b>0x[0-9a-fA-F]{1,16}))?"
                       r"(?P<attrs>(?: (?:flags 0x[0-9a-fA-F]{1,8}|[\w]{1,16})){0,6})\]")
_RANGE = re.compile(r"\brange: ?(?P<a>0x[0-9a-fA-F]{1,16})-(?P<b>0x[0-9a-fA-F]{1,16})\b")
_DAX_KMEM = re.compile(r"\bkmem (?P<dev>dax[\w.]{1,16}): mapping(?P<n>\d{1,3}): (?P<a>0x[0-9a-fA-F]{1,16})-(?P<b>0x[0-9a-fA-F]{1,16})")
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


def scan_resources(text: str, ctx: Context, taken: set[tuple[int, int]]) -> list[Finding]:
    """%pr / %pR ``[mem a-b flags f]`` anywhere, plus CXL ``range:`` and dax kmem mappings."""
    out = []
    shift = ctx.layout.page_shift
    if "[mem " in text:
        for m in _RESOURCE.finditer(text):
            a = h(m["a"])
            b = h(m["b"]) if m["b"] else a
            if (a, b) in taken:
                continue
            taken.add((a, b))
            attrs = m["attrs"].strip()
            names: tuple[str, ...] = ()
            fm = re.search(r"flags (0x[0-9a-fA-F]{1,8})", attrs)
            if fm:
                names = ioresource_names(h(fm[1]))
            elif attrs:
                names = tuple(attrs.split())
            out.append(Finding(ctx.line, "resource", start=a, end=b, flags=names,
                               note=join_notes(attrs, range_note(a, b, shift))))
    if "range:" in text:
        for m in _RANGE.finditer(text):
            a, b = h(m["a"]), h(m["b"])
            if (a, b) in taken:
                continue
            taken.add((a, b))
            out.append(Finding(ctx.line, "resource", start=a, end=b, type="range",
                               note=join_notes("decoder/region range", range_note(a, b, shift))))
    if "kmem dax" in text:
        for m in _DAX_KMEM.finditer(text):
            a, b = h(m["a"]), h(m["b"])
            if (a, b) in taken:
                continue
            taken.add((a, b))
            out.append(Finding(ctx.line, "resource", start=a, end=b, type=f"{m['dev']} mapping{m['n']}",
                               note=join_notes("dax kmem hotplug range", range_note(a, b, shift))))
    return out


_CAPACITY = re.compile(r"\b(?P<dev>pmem[\w.]{0,16}|dax[\w.]{1,16}): detected capacity change from (?P<old>\d{1,20}) to (?P<new>\d{1,20})")
_COLLISION = re.compile(r"\bnd_pmem (?P<dev>[\w.]{1,24}): (?P<ns>[\w.]{1,24}) alignment collision, truncate (?P<n>\d{1,20}) bytes")
_MIXED = re.compile(r"\bdevm_memremap_pages attempted on mixed region " + MEM_RANGE.replace(r"\]", r"(?: flags (?P<f>0x[0-9a-fA-F]{1,8}))?\]"))
_CONFLICT = re.compile(r"(?:\b(?P<drv>nd_pmem|dax_pmem|nd_pfn|[\w]{1,16}) (?P<dev>[\w.]{1,24}): )?Conflicting mapping in same section")
_NO_RESERVE = re.compile(r"could not reserve region \[0x(?:0x)?(?P<a>[0-9a-fA-F]{1,16}):0x(?P<n>[0-9a-fA-F]{1,16})\]")
_PERSIST = re.compile(r"\bnd_pmem (?P<dev>[\w.]{1,24}): unable to guarantee persistence of writes")


class Pmem(Format):
    name = "pmem"
    literals = ("capacity change", "alignment collision", "mixed region", "Conflicting mapping",
                "could not reserve region", "persistence of writes")
    # capacity changes count only on pmem/dax devices; the other messages name nd_pmem
    skim = ("pmem", "dax", "mixed region", "Conflicting mapping", "could not reserve region")

    def match(self, text, ctx):
        shift = ctx.layout.page_shift
        m = _CAPACITY.search(text)
        if m:
            size = int(m["new"])
            return [ctx.finding("pmem", start=0, end=size - 1 if size else None, type=m["dev"],
                                note=f"capacity {size} bytes ({human_size(size)}); start/end are offsets in the "
                                     "device, not physical addresses")]
        m = _COLLISION.search(text)
        if m:
            n = int(m["n"])
            return [ctx.finding("pmem", type="alignment collision",
                                note=f"{m['dev']} on {m['ns']}: {human_size(n)} truncated to keep sections whole")]
        m = _MIXED.search(text)
        if m:
            a, b = h(m["a"]), h(m["b"])
            names = ioresource_names(h(m["f"])) if m["f"] else ()
            return [ctx.finding("pmem", start=a, end=b, type="mixed region", flags=names,
                                note=join_notes("devm_memremap_pages refused a range that overlaps System RAM",
                                           range_note(a, b, shift)))]
        m = _CONFLICT.search(text)
        if m:
            dev = m["dev"] or ""
            return [ctx.finding("pmem", type="conflicting mapping",
                                note=join_notes(dev, "devm_memremap_pages refused: another mapping shares the memory section"))]
        m = _NO_RESERVE.search(text)
        if m:
            a, n = h(m["a"]), h(m["n"])
            return [ctx.finding("pmem", start=a, end=a + n - 1, type="could not reserve region",
                                note=range_note(a, a + n - 1, shift))]
        m = _PERSIST.search(text)
        if m:
            return [ctx.finding("pmem", type="no persistence guarantee", note=m["dev"])]
        return None


VM_LAYOUT = re.compile(r"^(?P<name>\.?\w{1,12})\s{0,8}: 0x(?P<a>[0-9a-fA-F]{8,16}) - 0x(?P<b>[0-9a-fA-F]{8,16})"
                       r"\s{1,6}\(\s{0,8}(?P<size>\d{1,10}) (?P<unit>[kKMGT]B)")


class VmLayout(Format):
    """The "Virtual kernel memory layout:" table of 32-bit arm (and older arm64)."""

    name = "vm_layout"
    literals = (" : 0x", ": 0x")

    def match(self, text, ctx):
        m = VM_LAYOUT.match(text)
        if not m:
            return None
        a, b = h(m["a"]), h(m["b"])
        extra = ""
        if m["name"] in ("lowmem", "memory", "linear"):
            extra = "direct map: starts at PAGE_OFFSET (maps PHYS_OFFSET)"
        return [ctx.finding("vm_layout", virt=a, type=m["name"],
                            note=join_notes(f"{hx(a)}-{hx(b)} ({m['size']} {m['unit']})", extra))]


_PHYS_MEM = re.compile(r"^phys_mem_size\s{0,8}= (?P<v>0x[0-9a-fA-F]{1,16})")
_MEMORY = re.compile(r"^Memory: (?P<avail>\d{1,12})K/(?P<total>\d{1,12})K available")


class MemSize(Format):
    name = "mem_size"
    literals = ("phys_mem_size", "Memory: ")

    def match(self, text, ctx):
        m = _PHYS_MEM.match(text)
        if m:
            v = h(m["v"])
            return [ctx.finding("mem_size", type="phys_mem_size", note=f"{hx(v)} bytes ({human_size(v)}) of RAM")]
        m = _MEMORY.match(text)
        if m:
            total = int(m["total"]) << 10
            return [ctx.finding("mem_size", type="Memory",
                                note=f"{m['avail']}K of {m['total']}K available ({human_size(total)} managed)")]
        return None
