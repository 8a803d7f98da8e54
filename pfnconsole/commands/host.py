"""What the running host says of its memory: the files `machine from-host` reads.

Every file is read as a regular file of bounded size (`files.read_text`), under ``root``
(``/`` on the host; a test gives a tree of its own). A source that is missing or cannot be
read is named in ``missing`` with the reason, never an error.

- ``/proc/iomem``: kernel/resource.c r_show() (see `decode.iomem`);
- ``/proc/zoneinfo``: mm/vmstat.c zoneinfo_show_print() (see `decode.zoneinfo`);
- ``/sys/devices/system/memory/``: drivers/base/memory.c: ``block_size_bytes`` (``%lx``,
  hex without 0x), each ``memoryN/phys_index`` (``%08lx``, the block's first section),
  ``state`` ("online", "offline", "going-offline") and ``valid_zones``;
- ``/sys/devices/system/node/nodeN/memoryM``: the blocks of each node (register_memory_
  block_under_node() links them there);
- ``/sys/bus/nd/devices/``: nvdimm regions and namespaces (``resource`` "%#llx", ``size``
  "%llu", a namespace's ``mode``) from drivers/nvdimm/region_devs.c and namespace_devs.c;
- ``/proc/cmdline``: ``memmap=`` carve-outs (they show in /proc/iomem as persistent memory);
- ``/proc/cpuinfo``: on x86_64 the ``la57`` flag is kept only when the kernel runs 5-level
  paging (arch/x86/kernel/cpu/common.c clears X86_FEATURE_LA57 otherwise);
- ``os.uname()`` for the arch and release, ``os.sysconf("SC_PAGE_SIZE")`` for the page size.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import EngineError
from .files import read_text

MAX_BLOCKS = 1 << 17
"""At most this many memoryN directories are read (16 TiB of 128 MiB blocks)."""

UNAME_ARCH = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64", "riscv64": "riscv64",
              "ppc64le": "ppc64", "ppc64": "ppc64"}
"""``uname -m`` -> the simulator's arch."""


@dataclass(frozen=True)
class SysBlock:
    """/sys/devices/system/memory/memoryN: id, phys_index (first section), state, zones."""

    id: int
    phys_index: int
    state: str
    valid_zones: str
    nid: int | None


@dataclass
class HostFiles:
    """The texts and facts read from the host, and what could not be read."""

    release: str = ""
    machine: str = ""
    page_size: int = 0
    iomem: str | None = None
    zoneinfo: str | None = None
    cmdline: str | None = None
    la57: bool = False
    block_size: int | None = None
    blocks: list[SysBlock] = field(default_factory=list)
    nd: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    """(device name, {attribute: value}) for each nvdimm region and namespace."""
    missing: list[str] = field(default_factory=list)
    """One line per source not read: the path and why."""

    @property
    def memmap(self) -> list[str]:
        """The ``memmap=`` words of the kernel command line."""
        return re.findall(r"(?<!\S)memmap=\S{1,80}", self.cmdline or "")


def _read(root: Path, rel: str, limit: int, out: HostFiles) -> str | None:
    path = root / rel
    try:
        return read_text(path, limit, "machine from-host")
    except EngineError as e:
        out.missing.append(f"/{rel}: {str(e).removeprefix('machine from-host: ')}")
        return None


def _small(path: Path) -> str | None:
    """A sysfs attribute's one line, or None when it cannot be read."""
    try:
        return read_text(path, 4096, "sysfs").strip()
    except EngineError:
        return None


def _node_of_blocks(root: Path) -> dict[int, int]:
    """memory block id -> node, from the memoryM entries under each nodeN."""
    base = root / "sys/devices/system/node"
    out: dict[int, int] = {}
    try:
        nodes = [n for n in os.listdir(base) if re.fullmatch(r"node\d{1,4}", n)]
    except OSError:
        return out
    for node in nodes:
        try:
            names = os.listdir(base / node)
        except OSError:
            continue
        for name in names[:MAX_BLOCKS]:
            if re.fullmatch(r"memory\d{1,9}", name):
                out[int(name[6:])] = int(node[4:])
    return out


def _read_blocks(root: Path, out: HostFiles) -> None:
    base = root / "sys/devices/system/memory"
    size = _small(base / "block_size_bytes")
    if size is None or not re.fullmatch(r"[0-9a-fA-F]{1,16}", size):
        out.missing.append("/sys/devices/system/memory/block_size_bytes: "
                           + ("not there (no CONFIG_MEMORY_HOTPLUG?)" if size is None else f"{size[:40]!r} is not hex"))
        return
    out.block_size = int(size, 16)
    try:
        names = sorted((n for n in os.listdir(base) if re.fullmatch(r"memory\d{1,9}", n)),
                       key=lambda n: int(n[6:]))
    except OSError as e:
        out.missing.append(f"/sys/devices/system/memory: {e.strerror}")
        return
    if len(names) > MAX_BLOCKS:
        out.missing.append(f"/sys/devices/system/memory: {len(names)} blocks, only the first "
                           f"{MAX_BLOCKS} read")
    nodes = _node_of_blocks(root)
    for name in names[:MAX_BLOCKS]:
        d = base / name
        index, state = _small(d / "phys_index"), _small(d / "state")
        if index is None or state is None or not re.fullmatch(r"[0-9a-fA-F]{1,16}", index):
            continue
        block = int(name[6:])
        out.blocks.append(SysBlock(block, int(index, 16), state, _small(d / "valid_zones") or "",
                                   nodes.get(block)))


def _read_nd(root: Path, out: HostFiles) -> None:
    base = root / "sys/bus/nd/devices"
    try:
        names = sorted(n for n in os.listdir(base) if re.fullmatch(r"(region|namespace)[\d.]{1,12}", n))
    except OSError:
        out.missing.append("/sys/bus/nd/devices: not there (no nvdimm bus: no persistent memory "
                           "driver loaded)")
        return
    for name in names[:256]:
        attrs = {a: v for a in ("resource", "size", "mode", "nstype", "numa_node", "align")
                 if (v := _small(base / name / a)) is not None}
        out.nd.append((name, attrs))


def read_host(root: Path = Path("/")) -> HostFiles:
    """Everything `machine from-host` uses, read once; nothing here raises."""
    out = HostFiles()
    if root == Path("/"):
        u = os.uname()
        out.release, out.machine = u.release, u.machine
        out.page_size = os.sysconf("SC_PAGE_SIZE")
    else:  # a test's tree says what uname and sysconf would
        out.release = _small(root / "proc/sys/kernel/osrelease") or ""
        out.machine = _small(root / "uname-m") or ""
        out.page_size = int(_small(root / "pagesize") or 4096)
    out.iomem = _read(root, "proc/iomem", 4 << 20, out)
    out.zoneinfo = _read(root, "proc/zoneinfo", 32 << 20, out)
    out.cmdline = _read(root, "proc/cmdline", 64 << 10, out)
    cpuinfo = _read(root, "proc/cpuinfo", 16 << 20, out) if out.machine == "x86_64" else None
    out.la57 = bool(cpuinfo and re.search(r"^flags\s*:.*\bla57\b", cpuinfo, re.M))
    _read_blocks(root, out)
    _read_nd(root, out)
    return out


__all__ = ["MAX_BLOCKS", "UNAME_ARCH", "HostFiles", "SysBlock", "read_host"]
