"""Machine sources from the tools' outputs: VMCOREINFO (`decode.vmcoreinfo`), ndctl and
daxctl list JSON (`decode.ndctl`) and lsmem (`decode.lsmem`), each as a `sources.Source`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..core.units import human_size, hx
from ..decode.iomem import read_iomem
from ..decode.lsmem import Lsmem, read_lsmem
from ..decode.ndctl import DaxDevice, Nvdimm, read_daxctl, read_ndctl
from ..decode.vmcoreinfo import CoreInfo, read_vmcoreinfo
from ..decode.zoneinfo import read_zoneinfo
from .parse import ParseError
from .sources import Source, block_ranges, iomem_source, log_source, node_ranges, zoneinfo_source

FORMATS = (
    ("ndctl list JSON", "no regions or namespaces in JSON"),
    ("daxctl list JSON", "no device-dax instances in JSON"),
    ("VMCOREINFO", "not mostly KEY=value lines such as OSRELEASE= and SYMBOL(x)="),
    ("/proc/iomem", "no `start-end : name` lines"),
    ("/proc/zoneinfo", "no `Node N, zone NAME` blocks"),
    ("lsmem", "no RANGE/BLOCK table or `Memory block size:` line"),
    ("boot log", "no e820, `user:` or memory node ranges"),
)
"""The formats `read_source` tries, in order, and why a text that is none of them is not."""


def _size(n: int | None) -> str:
    return "size ?" if n is None else human_size(n)


def vmcoreinfo_source(c: CoreInfo, origin: str) -> Source:
    """VMCOREINFO: no memory map, but the kernel's version, page and struct page sizes, the
    x86_64 vmemmap base (SYMBOL(vmemmap) is vmemmap_base), arm64's PHYS_OFFSET and the
    page-flag bits, so that `decode … abi=page_flags` reads that kernel's words."""
    arch = c.arch
    if arch == "x86_64" and c.l5:
        arch = "x86_64-5level"
    src = Source(origin, "vmcoreinfo", arch=arch, arch_how=c.arch_how)
    kw = src.kw
    said = [f"arch {arch or '?'} ({c.arch_how})"]
    if c.kver:
        kw["kver"] = f"{c.kver[0]}.{c.kver[1]}"
        said.append(f"kernel v{kw['kver']} ({c.osrelease})")
    if c.page_size and c.page_size & (c.page_size - 1) == 0:
        kw["page_shift"] = c.page_size.bit_length() - 1
    if c.struct_page_size:
        kw["struct_page"] = c.struct_page_size
        said.append(f"SIZE(page) {c.struct_page_size}")
    if arch and arch.startswith("x86_64") and c.vmemmap is not None:
        kw["vmemmap_base"] = c.vmemmap
        said.append(f"vmemmap_base {hx(c.vmemmap)} (SYMBOL(vmemmap), KASLR)")
    if arch in ("arm64", "riscv64") and c.phys_offset is not None:
        kw["phys_offset"] = c.phys_offset
        said.append(f"PHYS_OFFSET {hx(c.phys_offset)}")
    if c.kernel_offset is not None:
        said.append(f"KERNELOFFSET {hx(c.kernel_offset)} (the image's KASLR slide)")
    if c.pg:
        kw["pg_bits"] = tuple(sorted(c.pg.items()))
        said.append(f"{len(c.pg)} page-flag bit(s) for decode abi=page_flags")
    nodes = c.lengths.get("node_data")
    if nodes and nodes & (nodes - 1) == 0:
        kw["nodes_shift"] = nodes.bit_length() - 1
    src.said += said
    if c.missing:
        src.notes.append(f"{origin}: not in it: " + ", ".join(c.missing))
    if c.skipped:
        src.notes.append(f"{len(c.skipped)} line(s) not VMCOREINFO skipped (first: line {c.skipped[0]})")
    src.what = (f"VMCOREINFO ({arch or 'arch ?'}, kernel {c.osrelease or '?'}): layout numbers "
                "and struct page offsets")
    src.data["vmcoreinfo"] = {"section_size_bits": c.section_size_bits,
                              "max_physmem_bits": c.max_physmem_bits, "kernel_offset": c.kernel_offset,
                              "phys_base": c.phys_base, "va_bits": c.va_bits, "pg": dict(c.pg)}
    return src


def ndctl_source(n: Nvdimm, origin: str) -> Source:
    """ndctl list JSON: regions and namespaces with sizes and modes, but no physical
    addresses (ndctl never prints them): matched to the map's pmem by size once built."""
    src = Source(origin, "ndctl")
    spaces = n.namespaces()
    src.said.append(f"{len(n.regions)} region(s), {len(spaces)} namespace(s)")
    for r in n.regions:
        src.notes.append(f"{r.dev}: {r.type} {_size(r.size)}"
                         + (f" at {hx(r.start)}" if r.start is not None else ""))
        for ns in r.namespaces:
            src.notes.append(f"  {ns.dev}: {ns.mode}" + (f" map={ns.map}" if ns.map else "")
                             + f", {_size(ns.size)}" + (f", /dev/{ns.blockdev}" if ns.blockdev else "")
                             + (f", /dev/{ns.chardev}" if ns.chardev else ""))
        if r.start is not None and r.size:
            src.pmem += ((r.start, r.start + r.size - 1),)
    rounded = [p for p in n.problems if "rounded" in p]
    if rounded:
        src.notes.append(f"  {len(rounded)} size(s) in -u form are rounded to 1/100 of a unit; "
                         "`ndctl list` without -u gives bytes")
    src.notes += [f"ndctl: {p}" for p in n.problems if p not in rounded][:4]
    src.data["ndctl"] = {"regions": [{"dev": r.dev, "size": r.size, "type": r.type, "start": r.start,
                                      "namespaces": [{"dev": ns.dev, "mode": ns.mode, "map": ns.map,
                                                      "size": ns.size} for ns in r.namespaces]}
                                     for r in n.regions]}
    src.what = (f"ndctl list JSON ({len(n.regions)} region(s), {len(spaces)} namespace(s)): "
                "sizes and modes, no physical addresses")
    src.data["region_sizes"] = [r.size for r in n.regions if r.type == "pmem" and r.size]
    return src


def daxctl_source(devs: list[DaxDevice], origin: str) -> Source:
    """daxctl list JSON: device-dax instances (addresses only with -M's mappings)."""
    src = Source(origin, "daxctl")
    src.said.append(f"{len(devs)} device-dax instance(s)")
    for d in devs:
        src.notes.append(f"{d.chardev}: {d.mode or '?'}, {_size(d.size)}"
                         + "".join(f", [{hx(m.start)}-{hx(m.end)}]" for m in d.mappings))
        src.pmem += tuple((m.start, m.end) for m in d.mappings if m.start is not None and m.end is not None)
    src.what = f"daxctl list JSON ({len(devs)} device(s)): device-dax instances"
    src.data["daxctl"] = [{"chardev": d.chardev, "mode": d.mode, "size": d.size} for d in devs]
    return src


def lsmem_source(m: Lsmem, origin: str) -> Source:
    """lsmem: online memory as System RAM to the block, the block size, offline blocks and
    the blocks' nodes."""
    bz = m.block_size
    src = Source(origin, "lsmem")
    if not bz:
        src.notes.append(f"{origin}: no memory block size (no summary and no BLOCK column)")
        return src
    states: list[tuple[int, str]] = []
    nodes: list[tuple[int, int]] = []
    for r in m.ranges:
        if r.blocks is None:
            continue
        for b in range(r.blocks[0], min(r.blocks[1], r.blocks[0] + (1 << 20)) + 1):
            states.append((b, r.state or "online"))
            if r.node is not None:
                nodes.append((b, r.node))
    src.ranges = block_ranges(states, bz)
    src.where = f"lsmem, {len(states)} blocks of {bz >> 20} MiB (RAM to the block)"
    src.kw["block_size"] = bz
    src.kw["offline_blocks"] = tuple(b for b, st in states if st != "online")
    if (got := node_ranges(nodes, bz)) is not None:
        src.kw["nodes"] = got
    src.said.append(f"block size {bz >> 20} MiB, {len(states)} block(s); holes inside a block "
                    "and reserved ranges are not in lsmem")
    return src


READERS: tuple[tuple[str, Callable[[str], Any], Callable[[Any, str], Source]], ...] = (
    (FORMATS[0][0], read_ndctl, ndctl_source),
    (FORMATS[1][0], read_daxctl, daxctl_source),
    (FORMATS[2][0], read_vmcoreinfo, vmcoreinfo_source),
    (FORMATS[3][0], read_iomem, iomem_source),
    (FORMATS[4][0], read_zoneinfo, zoneinfo_source),
    (FORMATS[5][0], read_lsmem, lsmem_source),
)
"""(format, reader, adapter) for every format but a boot log, in ``FORMATS`` order."""


def _reading(text: str) -> tuple[str, Any, Callable[[Any, str], Source]] | None:
    """(format, what its reader made of ``text``, its adapter) for the first that takes it."""
    json_like = text.lstrip()[:1] in ("{", "[")
    for name, reader, adapter in READERS:
        if reader in (read_ndctl, read_daxctl) and not json_like:
            continue
        if (got := reader(text)) is not None:
            return name, got, adapter
    return None


def source_format(text: str) -> str | None:
    """The name of the non-log format ``text`` is in (``FORMATS``), or None: a log, or nothing."""
    got = _reading(text)
    return got[0] if got else None


def read_source(text: str, origin: str, arch: str | None, fallback: str) -> Source:
    """The first format in ``FORMATS`` that takes ``text``; ParseError naming each one tried
    and why it did not fit."""
    if (got := _reading(text)) is not None:
        return got[2](got[1], origin)
    if (src := log_source(text, arch, fallback, origin)) is not None:
        return src
    raise ParseError(f"{origin}: not a format the console reads. Tried "
                     + "; ".join(f"{name} ({why})" for name, why in FORMATS))


__all__ = ["FORMATS", "daxctl_source", "lsmem_source", "ndctl_source", "read_source", "source_format",
           "vmcoreinfo_source"]
