"""Boot-time maps: e820, memmap=, zones and nodes, reserved memory, Xen pfn ranges,
the 32-bit layout table and memory sizes.

Format strings: arch/x86/kernel/e820.c ("%s: [mem %#018Lx-%#018Lx] " + type name),
mm/mm_init.c (zone, node and Initmem lines), drivers/of/of_reserved_mem.c,
arch/x86/xen/setup.c, arch/arm/mm/init.c (the "Virtual kernel memory layout" table).
"""

from __future__ import annotations

import re

from ..core.units import human_size, hx
from .base import MEM_RANGE, Context, Format, h, join_notes, range_note
from .model import Finding, Kind

_E820 = re.compile(
    r"^(?P<who>BIOS-e820|BIOS-88|BIOS-e801|user|Xen|reserve setup_data|efi|e820|extended|"
    r"modified|PCI-e820|kexec|BIOS-e820 \w{1,16}): ?" + MEM_RANGE + r" (?P<type>[^\n]{1,48})$"
)
_E820_EDIT = re.compile(r"^e820: (?P<op>update|remove) " + MEM_RANGE
                        + r" (?P<old>[^=]{1,40}?)(?: ==> (?P<new>[^\n]{1,40}))?$")
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
    # every pattern but the old one needs a [mem range; the old one starts "<who>: "
    anchors = ("[mem ", "e820", "user: ", "Xen: ")

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        shift = ctx.layout.page_shift
        m = _E820_GAP.match(text)
        if m:
            a, b = h(m["a"]), h(m["b"])
            return [ctx.finding(Kind.E820, start=a, end=b, type="PCI gap", note="available for PCI devices")]
        m = _E820.match(text)
        if m:
            a, b = h(m["a"]), h(m["b"])
            typ = m["type"].strip()
            return [ctx.finding(Kind.E820, start=a, end=b, type=typ,
                                note=join_notes(m["who"], _E820_TYPE_NOTE.get(typ, ""), range_note(a, b, shift)))]
        m = _E820_EDIT.match(text)
        if m:
            a, b = h(m["a"]), h(m["b"])
            old = m["old"].strip()
            new = (m["new"] or "").strip()
            typ = new if m["op"] == "update" and new else old
            note = f"e820 {m['op']}: {old} ==> {new}" if new else f"e820 {m['op']}: {old}"
            return [ctx.finding(Kind.E820, start=a, end=b, type=typ, note=join_notes(note, range_note(a, b, shift)))]
        m = _E820_OLD.match(text)
        if m:
            a, b = h(m["a"]), h(m["b"]) - 1
            return [ctx.finding(Kind.E820, start=a, end=b, type=m["type"],
                                note=join_notes(m["who"], "old format: end printed exclusive",
                                                range_note(a, b, shift)))]
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
    anchors = ("memmap=", "mem=")

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        if "ommand line:" not in text:
            return None
        out = []
        for arg in _CMDLINE_ARG.finditer(text):
            if arg["k"] == "mem":
                mm = re.fullmatch(r"(\d{1,20})([KMGTPE]?)", arg["v"])
                if mm:
                    limit = _size_arg(mm[1], mm[2])
                    out.append(ctx.finding(Kind.CMDLINE, start=0, end=limit - 1, type="mem=",
                                           note=f"mem={arg['v']}: memory above {hx(limit)} is not used"))
                continue
            for piece in arg["v"].split(","):
                mm = _MEMMAP.fullmatch(piece)
                if not mm or mm["op"] not in _MEMMAP_OPS:
                    continue
                size = _size_arg(mm["size"], mm["su"])
                start = _size_arg(mm["start"], mm["ssu"])
                out.append(ctx.finding(Kind.CMDLINE, start=start, end=start + size - 1, type=_MEMMAP_OPS[mm["op"]],
                                       note=f"memmap={piece}: {human_size(size)} at {hx(start)}"))
        return out or None


_ZONE = re.compile(r"^(?P<zone>DMA|DMA32|Normal|HighMem|Movable|Device)\s{1,12}(?:" + MEM_RANGE
                   + r"|(?P<empty>empty))\s{0,8}$")
_ZONE_OLD = re.compile(r"^(?P<zone>DMA|DMA32|Normal|HighMem|Movable)\s{1,12}"
                       r"0x(?P<a>[0-9a-fA-F]{1,16}) -> 0x(?P<b>[0-9a-fA-F]{1,16})\s{0,8}$")
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
    # every pattern below needs a [mem range, "empty", "0x.. -> 0x", "Node n: 0x" or Initmem
    anchors = ("[mem ", "empty", "-> 0x", ": 0x", "Initmem setup")

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        shift = ctx.layout.page_shift
        m = _ZONE.match(text)
        if m:
            if m["empty"]:
                return [ctx.finding(Kind.ZONE, type=m["zone"], note="empty")]
            a, b = h(m["a"]), h(m["b"])
            return [ctx.finding(Kind.ZONE, start=a, end=b, type=m["zone"], note=range_note(a, b, shift))]
        m = _ZONE_OLD.match(text)
        if m:
            a, b = h(m["a"]) << shift, (h(m["b"]) << shift) - 1
            return [ctx.finding(Kind.ZONE, start=a, end=b, type=m["zone"],
                                note=join_notes("old format: pfns, end exclusive", range_note(a, b, shift)))]
        m = _MOVABLE_NODE.match(text)
        if m:
            a = h(m["a"])
            return [ctx.finding(Kind.ZONE, start=a, pfn=a >> shift, phys=a, type="Movable",
                                note=f"node {m['n']}: movable zone start")]
        m = _NODE.match(text)
        if m:
            a, b = h(m["a"]), h(m["b"])
            return [ctx.finding(Kind.NODE_RANGE, start=a, end=b, type=f"node {m['n']}",
                                note=join_notes("early memory node range", range_note(a, b, shift)))]
        m = _INITMEM.match(text)
        if m:
            if m["a"]:
                a, b = h(m["a"]), h(m["b"])
                how = "Initmem setup: node span"
            else:
                a, b = h(m["oa"]), h(m["ob"]) - 1
                how = "Initmem setup: node span (old format, end exclusive)"
            return [ctx.finding(Kind.NODE_RANGE, start=a, end=b, type=f"node {m['n']}",
                                note=join_notes(how, range_note(a, b, shift)))]
        m = _NODE_DATA.match(text)
        if m:
            a, b = h(m["a"]), h(m["b"])
            return [ctx.finding(Kind.NODE_DATA, start=a, end=b, type=f"node {m['n']}",
                                note=f"pg_data_t of node {m['n']}, {human_size(b - a + 1)}")]
        m = _FAKE_NODE.match(text)
        if m:
            a, b = h(m["a"]), h(m["b"])
            return [ctx.finding(Kind.NODE_RANGE, start=a, end=b, type="node 0",
                                note=join_notes("no NUMA: one fake node", range_note(a, b, shift)))]
        m = _SRAT.search(text)
        if m:
            a, b = h(m["a"]), h(m["b"])
            return [ctx.finding(Kind.NODE_RANGE, start=a, end=b, type=f"node {m['n']}",
                                note=join_notes(f"ACPI SRAT, PXM {m['pxm']}", range_note(a, b, shift)))]
        return None


_OF_RMEM = re.compile(r"\breserved mem: (?P<a>0x[0-9a-fA-F]{1,16})\.\.(?P<b>0x[0-9a-fA-F]{1,16})"
                      r"(?: \((?P<size>[^)]{1,24})\))?(?P<rest>[^\n]{0,80})")
_OF_NODE = re.compile(r"\breserved mem: initialized node "
                      r"(?:(?P<name>\S{1,64}?), compatible id (?P<compat>\S{1,64})|(?P<only>\S{1,64}))")
_RMEM_POOL = re.compile(r"\bReserved memory: created (?P<what>\w{1,16}) memory pool at (?P<a>0x[0-9a-fA-F]{1,16}), "
                        r"size (?P<n>\d{1,10}) (?P<u>[KMG]i?B|bytes?)")
_CMA = re.compile(r"\bcma: Reserved (?P<n>\d{1,10}) (?P<u>[KMG]i?B) at (?P<a>0x[0-9a-fA-F]{1,16})")
_CRASH = re.compile(r"\bReserving (?P<n>\d{1,10})MB of (?:low )?memory at (?P<at>\d{1,10})MB for crashkernel")
_ACPI_TABLE = re.compile(r"\bACPI: Reserving (?P<t>\w{1,8}) table memory at " + MEM_RANGE)
_UNIT_SHIFT = {"KiB": 10, "KB": 10, "MiB": 20, "MB": 20, "GiB": 30, "GB": 30, "bytes": 0, "byte": 0}


class ReservedMem(Format):
    name = "reserved_mem"
    anchors = ("eserved mem", "Reserved memory:", "cma: Reserved", "crashkernel", "ACPI: Reserving")

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        m = _OF_RMEM.search(text)
        if m:
            a, b = h(m["a"]), h(m["b"])
            rest = (m["rest"] or "").strip()
            return [ctx.finding(Kind.RESERVED_MEM, start=a, end=b, type=rest[:64] or None,
                                note=join_notes("devicetree reserved-memory", m["size"] or "", human_size(b - a + 1)))]
        m = _OF_NODE.search(text)
        if m:
            return [ctx.finding(Kind.RESERVED_MEM, type=m["name"] or m["only"],
                                note=join_notes("devicetree node initialized", m["compat"] or ""))]
        m = _RMEM_POOL.search(text)
        if m:
            a = h(m["a"])
            size = int(m["n"]) << _UNIT_SHIFT.get(m["u"], 0)
            return [ctx.finding(Kind.RESERVED_MEM, start=a, end=a + size - 1, type=m["what"],
                                note=f"{m['what']} pool, {human_size(size)}")]
        m = _CMA.search(text)
        if m:
            a = h(m["a"])
            size = int(m["n"]) << _UNIT_SHIFT.get(m["u"], 0)
            return [ctx.finding(Kind.RESERVED_MEM, start=a, end=a + size - 1, type="CMA",
                                note=f"CMA area, {human_size(size)}")]
        m = _CRASH.search(text)
        if m:
            a, size = int(m["at"]) << 20, int(m["n"]) << 20
            return [ctx.finding(Kind.RESERVED_MEM, start=a, end=a + size - 1, type="crashkernel",
                                note=f"kdump reservation, {human_size(size)}")]
        m = _ACPI_TABLE.search(text)
        if m:
            a, b = h(m["a"]), h(m["b"])
            return [ctx.finding(Kind.RESERVED_MEM, start=a, end=b, type=f"ACPI {m['t']}", note="ACPI table")]
        return None


_XEN_FREE = re.compile(r"^(?P<verb>Freeing|Populating|Remapping)\s{1,2}"
                       r"(?P<a>[0-9a-fA-F]{1,16})-(?P<b>[0-9a-fA-F]{1,16}) pfn range")
_XEN_11 = re.compile(r"^1-1 mapping on (?P<a>[0-9a-fA-F]{1,16})->(?P<b>[0-9a-fA-F]{1,16})")
_XEN_LAST = re.compile(r"^Remapped (?P<n>\d{1,16}) page\(s\), last_pfn=(?P<last>\d{1,16})")


class Xen(Format):
    """PV guest setup (arch/x86/xen/setup.c): pfn ranges printed %lx, end exclusive."""

    name = "xen"
    anchors = ("pfn range", "1-1 mapping", "last_pfn=")

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        shift = ctx.layout.page_shift
        m = _XEN_FREE.match(text) or _XEN_11.match(text)
        if m:
            a, b = h(m["a"]), h(m["b"])
            verb = m.groupdict().get("verb") or "1-1 mapping"
            return [ctx.finding(Kind.XEN, pfn=a, phys=a << shift, start=a << shift, end=(b << shift) - 1,
                                type=verb.lower(), note=f"pfns {hx(a)}-{hx(b)} (end exclusive)")]
        m = _XEN_LAST.match(text)
        if m:
            last = int(m["last"])
            return [ctx.finding(Kind.XEN, pfn=last, phys=last << shift, type="last_pfn",
                                note=f"last_pfn={m['last']} is decimal; {m['n']} pages remapped")]
        return None


VM_LAYOUT = re.compile(r"^(?P<name>\.?\w{1,12})\s{0,8}: 0x(?P<a>[0-9a-fA-F]{8,16}) - 0x(?P<b>[0-9a-fA-F]{8,16})"
                       r"\s{1,6}\(\s{0,8}(?P<size>\d{1,10}) (?P<unit>[kKMGT]B)")


class VmLayout(Format):
    """The "Virtual kernel memory layout:" table of 32-bit arm (and older arm64)."""

    name = "vm_layout"
    anchors = (": 0x",)

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        m = VM_LAYOUT.match(text)
        if not m:
            return None
        a, b = h(m["a"]), h(m["b"])
        extra = ""
        if m["name"] in ("lowmem", "memory", "linear"):
            extra = "direct map: starts at PAGE_OFFSET (maps PHYS_OFFSET)"
        return [ctx.finding(Kind.VM_LAYOUT, virt=a, type=m["name"],
                            note=join_notes(f"{hx(a)}-{hx(b)} ({m['size']} {m['unit']})", extra))]


_PHYS_MEM = re.compile(r"^phys_mem_size\s{0,8}= (?P<v>0x[0-9a-fA-F]{1,16})")
_MEMORY = re.compile(r"^Memory: (?P<avail>\d{1,12})K/(?P<total>\d{1,12})K available")


class MemSize(Format):
    name = "mem_size"
    anchors = ("phys_mem_size", "Memory: ")

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        m = _PHYS_MEM.match(text)
        if m:
            v = h(m["v"])
            return [ctx.finding(Kind.MEM_SIZE, type="phys_mem_size", note=f"{hx(v)} bytes ({human_size(v)}) of RAM")]
        m = _MEMORY.match(text)
        if m:
            total = int(m["total"]) << 10
            return [ctx.finding(Kind.MEM_SIZE, type="Memory",
                                note=f"{m['avail']}K of {m['total']}K available ({human_size(total)} managed)")]
        return None


_SWIOTLB = re.compile(r"\bsoftware IO TLB: mapped " + MEM_RANGE + r" \((?P<mb>\d{1,10})MB\)")
_SWIOTLB_OLD = re.compile(r"\bsoftware IO TLB " + MEM_RANGE + r" \((?P<mb>\d{1,10})MB\) mapped at "
                          r"\[(?P<va>[0-9a-fA-F]{8,16})-")


class Swiotlb(Format):
    """The swiotlb bounce-buffer pool, printed by swiotlb_print_info().

    Newer kernels print start and ``start + size``, an exclusive end:
    lib/swiotlb.c since commit 7d63fb3af87a, ``"mapped [mem %#010llx-%#010llx] (%luMB)"``
    of io_tlb_start and io_tlb_end = io_tlb_start + bytes (pr_fmt "software IO TLB: "), and
    kernel/dma/swiotlb.c (v5 and v6 kernels), ``"mapped [mem %pa-%pa] (%luMB)"`` of mem->start and
    mem->end = mem->start + bytes.  Before that commit the line was
    ``"software IO TLB [mem %#010llx-%#010llx] (%luMB) mapped at [%p-%p]"``: in its first
    form the end was ``pend - 1`` (inclusive), later io_tlb_end itself (exclusive).  The pool
    is page aligned and a whole number of 128-slab segments, so an end ending in ...fff is
    inclusive and any other is exclusive.
    """

    name = "swiotlb"
    anchors = ("software IO TLB",)

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        m = _SWIOTLB.search(text)
        old = m is None
        if m is None:
            m = _SWIOTLB_OLD.search(text)
            if m is None:
                return None
        a, b = h(m["a"]), h(m["b"])
        inclusive = old and b & 0xFFF == 0xFFF
        end = b if inclusive else b - 1
        if end < a:
            return None
        ctx.taken.add((a, b))  # the range as printed: the resource scan must not read it again
        how = "end printed inclusive (old format)" if inclusive else "end printed exclusive: start + size"
        va = h(m["va"]) if old and m["va"] else None
        return [ctx.finding(Kind.SWIOTLB, start=a, end=end, virt=va, type="swiotlb",
                            note=join_notes(f"bounce buffer pool, {m['mb']} MB", how,
                                            range_note(a, end, ctx.layout.page_shift)))]


_LAST_PFN = re.compile(r"^(?:e820: )?last_pfn = (?P<last>0x[0-9a-fA-F]{1,16}) "
                       r"max_arch_pfn = (?P<max>0x[0-9a-fA-F]{1,16})\s{0,8}$")


class LastPfn(Format):
    """Where RAM ends: arch/x86/kernel/e820.c e820_end_pfn(),
    ``"last_pfn = %#lx max_arch_pfn = %#lx"`` (with pr_fmt "e820: " in v4.x and later).

    last_pfn is one past the highest usable RAM pfn (an exclusive end), capped at
    max_arch_pfn; it is printed for all RAM (e820__end_of_ram_pfn) and again for RAM below
    4 GiB (e820__end_of_low_ram_pfn, whose limit is 1 << (32 - PAGE_SHIFT)).
    """

    name = "last_pfn"
    anchors = ("last_pfn = ",)

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        m = _LAST_PFN.match(text)
        if not m:
            return None
        shift = ctx.layout.page_shift
        last, limit = h(m["last"]), h(m["max"])
        if last == 0:
            return None
        end = (last << shift) - 1
        low = limit == 1 << (32 - shift)
        what = "RAM below 4 GiB ends" if low else "RAM ends"
        return [ctx.finding(Kind.RAM_END, start=0, end=end, type="last_pfn (low)" if low else "last_pfn",
                            note=join_notes(f"{what} at {hx(last << shift)} ({human_size(last << shift)}): "
                                            f"last_pfn {hx(last)} is an exclusive end, not a page",
                                            f"max_arch_pfn {hx(limit)}"))]
