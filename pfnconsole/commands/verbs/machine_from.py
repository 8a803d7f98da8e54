"""`machine from FILE…|-`, `machine from-log FILE|-` and `machine from-host`: the session's
machine built from real ones (see `commands.sources` for the formats, `commands.host` for
what the host shows)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...core.blocks import memory_blocks
from ...core.errors import EngineError
from ...core.kver import parse_kver
from ...core.state import State
from ...core.zones import node_zones
from ...decode.iomem import read_iomem
from ...decode.zoneinfo import Zone, read_zoneinfo
from ..files import read_text
from ..host import UNAME_ARCH, HostFiles, read_host
from ..parse import MAX_BODY, ParseError, Words
from ..render import hx, size_text
from ..result import Result
from ..session import Session
from ..sources import Source, block_ranges, combine, iomem_source, node_ranges, zoneinfo_source
from ..tool_sources import read_source

MAX_LOG_BYTES = 64 << 20
"""`machine from` reads at most this much of each file; `pfnconsole decode` streams any size."""
MAX_FILES = 16

PASTED = "pasted text"
"""The origin `machine from -` reports: the text came on the lines after the command."""


def zone_check(st: State, zones: list[Zone]) -> list[str]:
    """The machine's zones against /proc/zoneinfo's: one line if they agree, else each that
    differs (start_pfn, spanned, present)."""
    ours = {(z.nid, z.name): (z.start_pfn, z.spanned, z.present) for z in node_zones(st)}
    theirs = {(z.nid, z.name): (z.start_pfn, z.spanned, z.present) for z in zones if z.populated}
    if ours == theirs:
        return [f"  zones agree with /proc/zoneinfo ({len(ours)} populated zone(s))"]
    out = ["  zones differ from /proc/zoneinfo (start_pfn/spanned/present, ours then its):"]
    for key in sorted(ours.keys() | theirs.keys()):
        if ours.get(key) != theirs.get(key):
            out.append(f"    Node {key[0]}, zone {key[1]}: {ours.get(key, '-')} vs {theirs.get(key, '-')}")
    return out


def block_check(st: State, h: HostFiles) -> list[str]:
    """The machine's memory blocks against the host's sysfs ones: id, phys_index, state and
    valid_zones of each."""
    ours = {b.id: (b.start_section, b.state, b.zones) for b in memory_blocks(st)}
    theirs = {b.id: (b.phys_index, b.state, b.valid_zones if b.state == "online" else "")
              for b in h.blocks}
    if ours == theirs:
        return [f"  memory blocks agree with /sys/devices/system/memory ({len(ours)} block(s))"]
    diff = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
    return [f"  memory blocks differ from /sys/devices/system/memory in {len(diff)} block(s) "
            "(phys_index, state, valid_zones; ours then its):",
            *(f"    memory{k}: {ours.get(k, '-')} vs {theirs.get(k, '-')}" for k in diff[:8])]


def build(s: Session, sources: list[Source], arch: str | None, origin: str) -> Result:
    """Combine ``sources`` into one machine and make it the session's, or change nothing."""
    c = combine(sources, arch or None, s.machine.state.arch.name, origin)
    notes: list[str] = []
    try:
        st = s.machine.machine(c.spec)
    except EngineError as e:  # a version or base the model does not take: the map alone
        notes.append(f"  not taken from the sources: {e}")
        st = s.machine.machine(c.fallback)
    pm = st.physmap
    tail = zone_check(st, c.zones) if c.zones else []
    blocks = memory_blocks(st)
    out = [*c.head, *notes,
           f"  {len(pm.ranges)} ranges, RAM {pm.ram_bytes >> 20} MiB, {st.sparse.nr_present} present "
           f"sections, {len(blocks)} memory block(s)",
           *("  " + r.e820_line(c.who) for r in pm.ranges), *tail]
    pmem = [r for r in pm.ranges if r.type.is_pmem]
    for i, r in enumerate(pmem[:4]):
        out.append(f"  ready: `memremap_pages pmem{i} {hx(r.start)} {size_text(r.size)}` (ZONE_DEVICE, "
                   f"what was merged) or `register pmem{i} {hx(r.start)} {size_text(r.size)}` (the 2015 list)")
    data: dict[str, Any] = {
        "arch": st.arch.name, "origin": origin, "source": c.spec.origin,
        "ranges": [[r.start, r.end, int(r.type)] for r in pm.ranges],
        "pmem": [[r.start, r.end] for r in pm.ranges if r.type.is_pmem],
        "ram_bytes": pm.ram_bytes, "sections_present": st.sparse.nr_present,
        "kver": st.spec.kver, "struct_page": st.arch.struct_page_size,
        "page_offset": st.arch.page_offset, "vmemmap_base": st.arch.vmemmap_base,
        "memory_blocks": len(blocks), "zones_agree": tail[:1] == [] or "agree" in tail[0], **c.data}
    return Result(cmd="machine", ok=True, data=data, lines=out,
                  parsed={"from": origin, "arch": st.arch.name}, echo=f"machine from {origin}")


def _texts(s: Session, w: Words, verb: str) -> list[tuple[str, str]]:
    """(text, origin) of each FILE, or of the pasted body for ``-``."""
    files = w.args[1:]
    if files == ["-"]:
        if not w.body or not w.body.strip():
            raise ParseError(f"{verb} -: the text goes on the lines after the command "
                             f"(in a script: `{verb} - <<EOF`, the text, then `EOF`)")
        if len(w.body) > MAX_BODY:
            raise ParseError(f"{verb} -: the text is larger than {MAX_BODY >> 20} MiB")
        return [(w.body, PASTED)]
    if "-" in files:
        raise ParseError(f"{verb}: `-` (the pasted text) goes alone, not with files")
    if w.body is not None:
        raise ParseError(f"{verb} FILE reads the file: text after it is only read by `{verb} -`")
    if len(files) > MAX_FILES:
        raise ParseError(f"{verb}: at most {MAX_FILES} files")
    return [(read_text(p, MAX_LOG_BYTES, verb), str(p)) for p in map(s.resolve, files)]


def run_machine_from(s: Session, w: Words) -> Result:
    """`machine from FILE… | -` (and `machine from-log`, its one-file form)."""
    verb = f"machine {w.args[0].lower()}"
    usage = f"{verb}: usage: {verb} FILE…|- [arch=ARCH]"
    if len(w.args) < 2 or set(w.options) - {"arch"} or w.switches or (
            verb == "machine from-log" and len(w.args) != 2):
        raise ParseError(usage)
    arch = (w.options.get("arch") or [""])[0] or None
    texts = _texts(s, w, verb)
    fallback = arch or s.machine.state.arch.name
    sources = [read_source(text, origin, arch, fallback) for text, origin in texts]
    origin = " + ".join(o for _, o in texts)
    result = build(s, sources, arch, origin)
    paths = [Path(o).resolve() for _, o in texts if o != PASTED]
    if paths and all(" " not in str(p) for p in paths):  # replayed from anywhere
        result.replay = [f"{verb} {' '.join(map(str, paths))} arch={result.data['arch']}"]
    return result


def host_sources(h: HostFiles) -> tuple[list[Source], str | None]:
    """The host's files as sources, and its arch (None when uname names none we model)."""
    arch = UNAME_ARCH.get(h.machine)
    if arch == "x86_64" and h.la57:
        arch = "x86_64-5level"
    host = Source("uname and sysconf", "host", arch=arch, arch_how=f"uname -m {h.machine}")
    if h.release:
        try:
            major, minor, _ = parse_kver(h.release.split("-")[0])
            host.kw["kver"] = f"{major}.{minor}"
        except EngineError:
            host.notes.append(f"kernel release {h.release!r} not understood; the default version")
    if h.page_size:
        host.kw["page_shift"] = h.page_size.bit_length() - 1
    host.said.append(f"{arch or h.machine}, kernel {h.release}, {h.page_size >> 10} KiB pages")
    sources = [host]
    iomem = read_iomem(h.iomem) if h.iomem else None
    if iomem is not None and not iomem.zeroed:
        sources.append(iomem_source(iomem, "/proc/iomem"))
    elif iomem is not None:
        host.notes.append("/proc/iomem: every address is 0 (not read as root, CAP_SYS_ADMIN); "
                          "the map comes from the memory blocks instead, to the block")
    if h.block_size:
        sysmem = Source("/sys/devices/system/memory", "sysfs memory",
                        block_ranges([(b.id, b.state) for b in h.blocks], h.block_size),
                        f"{len(h.blocks)} memory blocks of {h.block_size >> 20} MiB")
        sysmem.kw["block_size"] = h.block_size
        sysmem.kw["offline_blocks"] = tuple(b.id for b in h.blocks if b.state != "online")
        nodes = node_ranges([(b.id, b.nid) for b in h.blocks if b.nid is not None], h.block_size)
        if nodes:
            sysmem.kw["nodes"] = nodes
        sysmem.said.append(f"block size {h.block_size >> 20} MiB, {len(h.blocks)} block(s) on "
                           f"{len({b.nid for b in h.blocks})} node(s)")
        sources.append(sysmem)
    zones = read_zoneinfo(h.zoneinfo) if h.zoneinfo else None
    if zones:
        sources.append(zoneinfo_source(zones, "/proc/zoneinfo"))
    regions = [(n, a) for n, a in h.nd if n.startswith("region")]
    for name, attrs in regions:
        host.notes.append(f"nvdimm {name}: resource {attrs.get('resource', '?')}, size "
                          f"{attrs.get('size', '?')}")
    if not regions:
        host.notes.append("/sys/bus/nd/devices: no nvdimm regions")
    host.notes += [f"kernel command line {m}: carved as persistent memory (in /proc/iomem)"
                   for m in h.memmap]
    host.notes.append("KASLR bases: not exposed to user space (page_offset_base and vmemmap_base "
                      "are kernel variables); the model's fixed bases are used")
    host.notes += [f"not read: {m}" for m in h.missing]
    return sources, arch


def run_machine_from_host(s: Session, w: Words, root: Path = Path("/")) -> Result:
    """`machine from-host`: this machine, as far as its files show it."""
    if len(w.args) != 1 or w.options or w.switches or w.body is not None:
        raise ParseError("machine from-host: usage: machine from-host (no arguments)")
    h = read_host(root)
    sources, arch = host_sources(h)
    if arch is None:
        raise ParseError(f"machine from-host: this host is {h.machine!r}; the simulator models "
                         f"x86_64, arm64, ppc64 and riscv64")
    result = build(s, sources, None, "this host")  # the arch is the host source's
    if h.blocks:
        check = block_check(s.machine.state, h)
        result.lines += check
        result.data["blocks_agree"] = "agree" in check[0]
    result.data["host"] = {"release": h.release, "machine": h.machine, "page_size": h.page_size,
                           "block_size": h.block_size, "blocks": len(h.blocks),
                           "missing": list(h.missing), "memmap": h.memmap}
    return result


__all__ = ["MAX_LOG_BYTES", "PASTED", "build", "host_sources", "run_machine_from",
           "run_machine_from_host", "zone_check"]
