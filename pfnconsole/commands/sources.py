"""Machine sources: what each kind of saved file says of a machine, and one machine from
several of them (`machine from FILE…`, `machine from-host`).

Each text is tried against the formats in `read_source`'s order (the most particular first,
a boot log last, since almost any text might be a log); a text none of them takes is refused
with why each did not fit. A `Source` holds what one file gave: a memory map, ranked (a
saved /proc/iomem is exact to the byte, a boot log's e820 map nearly so, memory blocks only
to the block), and facts for the machine's spec. `combine` makes one `MachineSpec` of them
all or refuses the lot: the session's machine changes only once the new one is built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..core.arch import ARCH_NAMES
from ..core.errors import EngineError
from ..core.machine import MachineSpec
from ..core.physmap import E820Type, e820_type_from_label
from ..core.units import hx
from ..decode import Finding, Kind
from ..decode.iomem import Iomem
from ..decode.reading import read_text as read_log_text
from ..decode.zoneinfo import Zone
from .parse import ParseError

MAP_RANK = {"iomem": 4, "boot log": 3, "lsmem": 2, "sysfs memory": 2}
"""Which source's memory map the machine takes when several have one."""

BLOCK_SIZE_LINE = re.compile(r"x86/mm: Memory block size: (\d{1,6})MB")
"""arch/x86/mm/init_64.c: ``pr_info("x86/mm: Memory block size: %ldMB\\n", bz >> 20)``."""

SPEC_KEYS = ("kver", "page_shift", "struct_page", "page_offset_base", "vmemmap_base", "phys_offset",
             "nodes", "block_size", "offline_blocks", "pg_bits", "nodes_shift", "managed")
"""The `MachineSpec` fields a source may give, besides the arch and the map."""


@dataclass
class Source:
    """What one file (or the host) says of its machine."""

    origin: str
    format: str
    ranges: tuple[tuple[int, int, int], ...] = ()
    """(start, end inclusive, e820 type): the memory map, when the source has one."""
    where: str = ""
    arch: str | None = None
    arch_how: str = ""
    kw: dict[str, Any] = field(default_factory=dict)
    """`MachineSpec` fields (``SPEC_KEYS``) the source gives."""
    said: list[str] = field(default_factory=list)
    """What was taken from it, in words."""
    notes: list[str] = field(default_factory=list)
    """What it lacks or what was skipped, in words."""
    zones: list[Zone] | None = None
    """/proc/zoneinfo's zones, to check the machine's against."""
    pmem: tuple[tuple[int, int], ...] = ()
    """(start, end inclusive) persistent memory the source names without a whole map (ndctl)."""
    data: dict[str, Any] = field(default_factory=dict)
    what: str = ""
    """What the file is, in words, when it has no map: "VMCOREINFO (kernel v6.12): layout numbers"."""

    @property
    def rank(self) -> int:
        return MAP_RANK.get(self.format, 0) if self.ranges else 0


def iomem_source(iomem: Iomem, origin: str) -> Source:
    """A saved /proc/iomem: its top-level memory ranges and the namespaces inside pmem."""
    if iomem.zeroed:
        raise ParseError(f"{origin}: /proc/iomem read without CAP_SYS_ADMIN: the kernel prints "
                         "every address as 0 (since v4.6), so there is no map to build; save it "
                         "as root (`sudo cat /proc/iomem`)")
    ranges = iomem.ranges()
    if not ranges:
        raise ParseError(f"{origin}: /proc/iomem with no System RAM, Reserved or Persistent "
                         "Memory at the top level: nothing to build a memory map from")
    tops = {(a, b) for a, b, _ in ranges}
    lines = [r.line for r in iomem.resources if r.depth == 0 and (r.start, r.end) in tops]
    src = Source(origin, "iomem", ranges, f"/proc/iomem lines {lines[0]}-{lines[-1]}")
    spaces = iomem.namespaces()
    src.notes += [f"{r.name} [{hx(r.start)}-{hx(r.end)}] in persistent memory" for r in spaces]
    if iomem.skipped:
        src.notes.append(f"{len(iomem.skipped)} line(s) not in r_show()'s format skipped "
                         f"(first: line {iomem.skipped[0]})")
    src.data = {"skipped": list(iomem.skipped),
                "namespaces": [{"name": r.name, "start": r.start, "end": r.end} for r in spaces]}
    return src


def zoneinfo_source(zones: list[Zone], origin: str) -> Source:
    """A saved /proc/zoneinfo: no map, but the zones to check against and the node count."""
    nodes = sorted({z.nid for z in zones})
    src = Source(origin, "zoneinfo", zones=zones,
                 what=f"/proc/zoneinfo ({len(zones)} zone(s) on {len(nodes)} node(s)): zone sizes")
    src.kw["managed"] = tuple((z.nid, z.name, z.managed) for z in zones if z.populated)[:4096]
    src.said.append(f"{len([z for z in zones if z.populated])} populated zone(s) on {len(nodes)} "
                    "node(s), to check the machine's zones against")
    return src


def log_source(text: str, arch: str | None, fallback: str, origin: str) -> Source | None:
    """A boot log with a memory map, and what it shows of its kernel: the arch, version,
    page size, struct page size, the x86_64 KASLR bases and the node ranges. None when the
    log has no map (the caller says which formats were tried)."""
    got = read_log_text(text, arch, fallback=fallback)
    assert got is not None  # never cancelled
    findings = list(got.findings)
    ranges, where = layout_from_findings(findings, text.splitlines())
    if not ranges:
        return None
    src = Source(origin, "boot log", ranges, where, got.arch, got.arch_how)
    src.said.append(f"arch {got.arch} ({got.arch_how})")
    cal, kw = got.calibration, src.kw
    if got.kver:
        kw["kver"] = f"{got.kver[0]}.{got.kver[1]}"
        src.said.append(f"kernel v{kw['kver']}")
    solved = " ".join(cal.sources)
    if cal.page_shift and "page size" in solved:
        kw["page_shift"] = cal.page_shift
    if cal.struct_page_size and "vmemmap" in solved:
        kw["struct_page"] = cal.struct_page_size
        src.said.append(f"{cal.struct_page_size}-byte struct page (from the log)")
    if got.arch == "x86_64" and "KASLR" in solved:
        if "direct map" in solved and cal.page_offset is not None:
            kw["page_offset_base"] = cal.page_offset
        if "vmemmap" in solved and cal.vmemmap_base is not None:
            kw["vmemmap_base"] = cal.vmemmap_base
    if m := BLOCK_SIZE_LINE.search(text):  # arch/x86/mm/init_64.c probe_memory_block_size()
        kw["block_size"] = int(m[1]) << 20
        src.said.append(f"memory block size {m[1]} MiB (from the log)")
    nodes = tuple((f.start, f.end, int(f.type[5:])) for f in findings
                  if f.kind == Kind.NODE_RANGE and f.start is not None and f.end is not None
                  and f.type and f.type[5:].isdigit())[:1024]
    if nodes:
        kw["nodes"] = nodes
        src.said.append(f"node ids from the memory node ranges ({len({n for _, _, n in nodes})} node(s))")
    return src


def layout_from_findings(findings: list[Finding], lines: list[str]
                         ) -> tuple[tuple[tuple[int, int, int], ...], str]:
    """The final memory map in a log: the `user:` map if any, else the firmware's, else
    the memory node ranges. Returns (ranges, where they came from)."""
    e820 = [f for f in findings if f.kind == "e820" and f.start is not None]
    user = [f for f in e820 if 0 < f.line <= len(lines) and "user:" in lines[f.line - 1]]
    chosen = user or [f for f in e820 if not _is_update(lines, f)]
    if chosen:
        ranges = []
        for f in chosen:
            try:
                t = e820_type_from_label(f.type or "")
            except EngineError:
                continue
            assert f.start is not None and f.end is not None  # e820 findings carry both
            ranges.append((f.start, f.end, int(t)))
        where = "user-defined map (memmap=)" if user else "firmware e820 map"
        return tuple(ranges), f"{where}, lines {chosen[0].line}-{chosen[-1].line}"
    nodes = [(f.line, f.start, f.end) for f in findings
             if f.kind == "node_range" and f.start is not None and f.end is not None]
    if nodes:
        return (tuple((start, end, int(E820Type.RAM)) for _, start, end in nodes),
                f"memory node ranges, lines {nodes[0][0]}-{nodes[-1][0]}")
    return (), ""


def _is_update(lines: list[str], f: Finding) -> bool:
    text = lines[f.line - 1] if 0 < f.line <= len(lines) else ""
    return "update [mem" in text or "remove [mem" in text


def block_ranges(blocks: list[tuple[int, str]], block_size: int) -> tuple[tuple[int, int, int], ...]:
    """System RAM at block granularity from (block id, state) pairs: online blocks, merged."""
    out: list[tuple[int, int, int]] = []
    for block, state in sorted(blocks):
        if state != "online":
            continue
        start, end = block * block_size, (block + 1) * block_size - 1
        if out and out[-1][1] + 1 == start:
            out[-1] = (out[-1][0], end, int(E820Type.RAM))
        else:
            out.append((start, end, int(E820Type.RAM)))
    return tuple(out)


def node_ranges(blocks: list[tuple[int, int]], block_size: int) -> tuple[tuple[int, int, int], ...] | None:
    """(start, end, nid) node ranges from (block id, nid) pairs; None for one node."""
    if len({nid for _, nid in blocks}) < 2:
        return None
    out: list[tuple[int, int, int]] = []
    for block, nid in sorted(blocks):
        start, end = block * block_size, (block + 1) * block_size - 1
        if out and out[-1][2] == nid and out[-1][1] + 1 == start:
            out[-1] = (out[-1][0], end, nid)
        else:
            out.append((start, end, nid))
    return tuple(out)


@dataclass(frozen=True)
class Combined:
    """One machine's spec from several sources, and what the answer says of it."""

    spec: MachineSpec
    fallback: MachineSpec
    """The same map and arch without the other facts, if the model refuses those."""
    head: list[str]
    zones: list[Zone] | None
    data: dict[str, Any]
    who: str
    """The map's source, as the answer's e820-style lines name it."""


def combine(sources: list[Source], arch: str | None, session_arch: str, origin: str) -> Combined:
    """One spec from ``sources``: the best-ranked map, the facts of all; ParseError when
    they disagree on the arch or none has a map."""
    named = {s.arch for s in sources if s.arch}
    if arch is None and len(named) > 1:
        raise ParseError(f"{origin}: the sources name different arches ("
                         + ", ".join(f"{s.origin}: {s.arch}" for s in sources if s.arch)
                         + "); give arch= to choose")
    from_source = arch is None and bool(named)
    arch = arch or (named.pop() if named else session_arch)
    if arch not in ARCH_NAMES:
        raise ParseError(f"{origin}: arch {arch!r}: the simulator models {', '.join(ARCH_NAMES)}")
    best = max(sources, key=lambda s: s.rank)
    if not best.rank:
        what = "; ".join(f"{s.origin} is {s.what or s.format}" for s in sources)
        if len(sources) == 1:
            what = f"this is {sources[0].what or sources[0].format}"
        names = " ".join(s.origin for s in sources)
        raise ParseError(f"{origin}: {what}, not a memory map. Give a saved /proc/iomem, a boot "
                         f"log or lsmem as well: `machine from iomem.txt {names}`")
    ranges = list(best.ranges)
    kw: dict[str, Any] = {}
    for key in SPEC_KEYS:  # the best map's own facts first, then the others' in order
        for s in [best, *(x for x in sources if x is not best)]:
            if key in s.kw and key not in kw:
                kw[key] = s.kw[key]
    for s in sources:  # pmem named apart from a map (ndctl) that the map lacks
        for a, b in s.pmem:
            if not any(r[0] <= a and b <= r[1] for r in ranges):
                ranges.append((a, b, int(E820Type.PRAM)))
    ranges.sort()
    who = f"{origin}: {best.where}" if best.where else origin
    spec = MachineSpec(arch=arch, e820=tuple(ranges), origin=who, **kw)
    fallback = MachineSpec(arch=arch, e820=tuple(ranges), origin=who)
    head = [f"{arch} from {origin}: {best.where or best.format}"
            + ("" if from_source or arch != session_arch else " (arch not in the sources: the session's)")]
    for s in sources:  # what each gave, then what each lacks or skipped
        label = f"{s.origin} ({s.format})" if len(sources) > 1 else f"from the {s.format}"
        if s.said:
            head.append(f"  {label}: " + "; ".join(s.said))
    for s in sources:
        head += [f"  {n}" for n in s.notes]
    zones = next((s.zones for s in sources if s.zones), None)
    data: dict[str, Any] = {"format": best.format if len(sources) == 1 else "+".join(s.format for s in sources),
                            "sources": [{"origin": s.origin, "format": s.format, "where": s.where}
                                        for s in sources]}
    for s in sources:
        data.update(s.data)
    return Combined(spec, fallback, head, zones, data, best.format)


__all__ = ["MAP_RANK", "SPEC_KEYS", "Combined", "Source", "block_ranges", "combine", "iomem_source",
           "layout_from_findings", "log_source", "node_ranges", "zoneinfo_source"]
