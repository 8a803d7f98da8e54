"""``ndctl list`` and ``daxctl list``: the JSON the nvdimm tools print for regions, namespaces
and device-dax instances.

Format: pmem/ndctl v81 (commit 92d5203077553bfc9f7bf1c219563db0fc28e660). ndctl/list.c
region_to_json() prints "dev", "size", "align", "available_size", "max_available_extent",
"type" ("pmem"/"blk"), "numa_node" and "target_node" (only with -v, since v62 b2c9a47),
"iset_id", "state", "badblock_count", "persistence_domain", then filter_namespace() appends
"namespaces"; ndctl/json.c util_namespace_to_json() prints "dev", "mode", "map" ("dev"/"mem",
since v61 0ef4023; not for sector/raw), "size", "uuid", "chardev" (devdax), "sector_size",
"align" (always bytes), "blockdev", "state", "name", "numa_node"/"target_node" (-v). Before
v60 (187113c) the modes were "memory" and "dax" (v59 printed the new names only with -u).
Neither object ever has a "resource" (physical address) key, in any version, -v or not; only
``cxl list`` prints one, so :attr:`Region.start` / :attr:`Namespace.start` come from a
"resource" key only when some other producer wrote it.

list_display(): more than one of dimms/regions/namespaces -> ``{"dimms":[…],"regions":[…]}``
(namespaces nested in their region); one kind -> util/json.c util_display_json_array(): a
JSON array, except that with -u a single element is printed bare. -u
(util_json_object_size() with display_size()) prints a size below 5000 KiB as a number and a
larger one as ``"%ld.%02ld GiB (%ld.%02ld GB)"`` (MiB/MB below 2 GiB, TiB/TB from 2 TiB),
rounded to 1/100; util_json_object_hex() prints ``"%#llx"``. Without -u a u64 may come out
signed (json-c without uint64, e.g. "iset_id":-6382611090938810793).

daxctl/json.c util_daxctl_dev_to_json(): "chardev", "size", "target_node" (if >= 0), "align"
(a size), "mode" ("devdax"/"system-ram"), for system-ram "online_memblocks",
"total_memblocks", "movable", "state"; -M adds "mappings" of "page_offset", "start", "end"
(inclusive physical addresses, hex with -u), "size". util_daxctl_region_to_json() (-R):
"path", "id", "size", "available_size", "align", and "devices" with -D.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

MAX_TEXT = 8 << 20
"""Longest text looked at (bytes of str): a whole platform listing is a few KiB."""
MAX_DEPTH = 16
"""Deepest JSON nesting accepted; ndctl's own reaches 6 (platform/regions/ns/daxregion/devs)."""

MODES = {"memory": "fsdax", "dax": "devdax"}
"""Pre-v60 mode names -> the current ones."""
_REGION = re.compile(r"^region\d{1,9}\Z", re.ASCII)
_NAMESPACE = re.compile(r"^namespace(\d{1,9})\.\d{1,9}\Z", re.ASCII)
_DAX = re.compile(r"^dax\d{1,9}\.\d{1,9}\Z", re.ASCII)
_OTHER = re.compile(r"^(nmem|ndbus)\d{1,9}\Z", re.ASCII)
_HUMAN = re.compile(r"^(\d{1,16})\.(\d\d) ([MGT])iB \((\d{1,16})\.(\d\d) ([MGT])B\)\Z", re.ASCII)
_IEC = {"M": (1 << 20, 5000 << 10, 2 << 30), "G": (1 << 30, 2 << 30, 2 << 40), "T": (1 << 40, 2 << 40, 1 << 64)}
_DEC = {"M": 10**6, "G": 10**9, "T": 10**12}


def human_bounds(text: str) -> tuple[int, int] | None:
    """[lo, hi) of the byte counts display_size() prints as ``text`` (both its IEC and its
    JEDEC figure), or None when no count prints so."""
    m = _HUMAN.match(text)
    if m is None or m[3] != m[6]:
        return None
    unit, floor, ceil = _IEC[m[3]]
    c, d, step = int(m[1]) * 100 + int(m[2]), int(m[4]) * 100 + int(m[5]), _DEC[m[6]] // 200
    # cXiB = (bytes * 200 / unit + 1) / 2; cXB = (bytes / (10^k / 200) + 1) / 2
    lo = max(-(-(2 * c - 1) * unit // 200), (2 * d - 1) * step, floor)
    hi = min(-(-(2 * c + 1) * unit // 200), (2 * d + 1) * step, ceil)
    return (lo, hi) if lo < hi else None


@dataclass(frozen=True)
class Namespace:
    """``struct ndctl_namespace`` as util_namespace_to_json() prints it; sizes in bytes."""

    dev: str
    mode: str | None
    """"fsdax", "devdax", "sector" or "raw" (old names mapped)."""
    mode_name: str | None
    """The mode as printed ("memory"/"dax" before v60)."""
    map: str | None
    """Where the memmap (struct page array) lives: "dev" (in the namespace) or "mem"."""
    size: int | None
    """Usable size after the pfn/dax info block and memmap reserve (unsigned long long)."""
    start: int | None
    """A "resource" key when present: ndctl never prints one."""
    align: int | None
    blockdev: str | None
    chardev: str | None
    uuid: str | None
    numa_node: int | None
    target_node: int | None
    region: str | None
    """The containing region's dev; from the name (namespaceX.Y is in regionX) when alone."""
    sector_size: int | None = None
    state: str | None = None
    """"disabled" when printed; None = enabled."""
    rounded: tuple[str, ...] = ()
    """Fields read from rounded -u figures (the value is the nominal one, not exact)."""


@dataclass(frozen=True)
class Region:
    """``struct ndctl_region`` as region_to_json() prints it; sizes in bytes."""

    dev: str
    size: int | None
    start: int | None
    """A "resource" key when present: ndctl never prints one."""
    type: str | None
    align: int | None
    available_size: int | None
    namespaces: tuple[Namespace, ...]
    numa_node: int | None
    target_node: int | None
    iset_id: int | None = None
    """Interleave-set cookie (u64); absent for e820 (memmap=) regions."""
    persistence_domain: str | None = None
    state: str | None = None
    rounded: tuple[str, ...] = ()


@dataclass(frozen=True)
class Nvdimm:
    regions: tuple[Region, ...]
    namespaces_alone: tuple[Namespace, ...]
    """Namespaces listed without their region (``ndctl list -N``)."""
    problems: tuple[str, ...]

    def namespaces(self) -> tuple[Namespace, ...]:
        """Every namespace, those inside regions first."""
        return tuple(n for r in self.regions for n in r.namespaces) + self.namespaces_alone


@dataclass(frozen=True)
class DaxMapping:
    """One /sys/bus/dax/devices/daxX.Y/mappingN: physical [start, end] inclusive."""

    start: int | None
    end: int | None
    page_offset: int | None
    size: int | None


@dataclass(frozen=True)
class DaxDevice:
    """``struct daxctl_dev`` as util_daxctl_dev_to_json() prints it; sizes in bytes."""

    chardev: str
    size: int | None
    target_node: int | None
    align: int | None
    mode: str | None
    """"devdax" or "system-ram" (hot-plugged by dax_kmem)."""
    movable: bool | None = None
    online_memblocks: int | None = None
    total_memblocks: int | None = None
    state: str | None = None
    region: int | None = None
    """The daxctl region id when listed with -R."""
    mappings: tuple[DaxMapping, ...] = ()
    rounded: tuple[str, ...] = ()


def _values(text: object) -> tuple[list[Any], bool] | None:
    """The JSON values of a pasted text (lines before the first ``[``/``{`` line skipped,
    consecutive values allowed) and whether text follows them, or None when too long, too
    deep or not JSON."""
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        return None
    m = re.search(r"^[ \t]*[\[{]", text, re.M)
    if m is None or text.count("\n", 0, m.start()) > 20:
        return None
    # brackets counted outside strings too: conservative, and ndctl's strings have none
    brackets = re.sub(r"[^\[\]{}]+", "", text[m.start():])
    if len(brackets) > 200_000:
        return None
    depth = 0
    for ch in brackets:
        depth += 1 if ch in "[{" else -1
        if depth > MAX_DEPTH:
            return None
    out: list[Any] = []
    pos, dec = m.start(), json.JSONDecoder()
    while len(out) < 1000:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        try:
            v, pos = dec.raw_decode(text, pos)
        except (ValueError, RecursionError):
            break
        out.append(v)
    return (out, bool(text[pos:].strip())) if out else None


class _Read:
    """Number fields with the -u forms, collecting problems and rounded field names."""

    def __init__(self, obj: dict[str, Any], where: str, problems: list[str]) -> None:
        self.obj, self.where, self.problems = obj, where, problems
        self.rounded: list[str] = []

    def text(self, key: str) -> str | None:
        v = self.obj.get(key)
        return v if isinstance(v, str) else None

    def num(self, key: str, signed_u64: bool = False) -> int | None:
        v = self.obj.get(key)
        if v is None:
            return None
        if isinstance(v, int) and not isinstance(v, bool):
            if v < 0 and signed_u64 and v >= -(1 << 63):
                return v & ((1 << 64) - 1)
            if 0 <= v < 1 << 64:
                return v
        elif isinstance(v, str):
            s = v.strip()
            if re.fullmatch(r"0x[0-9a-fA-F]{1,16}|\d{1,20}", s, re.ASCII):
                return int(s, 0) if s.startswith("0x") else int(s)
            b = human_bounds(s)
            if b is not None:
                lo, hi = b
                m = _HUMAN.match(s)
                assert m is not None
                nominal = (int(m[1]) * 100 + int(m[2])) * _IEC[m[3]][0] // 100
                val = min(max(nominal, lo), hi - 1)
                if hi - lo > 1:
                    self.rounded.append(key)
                    self.problems.append(f"{self.where} {key} {s!r} is rounded (-u): "
                                         f"{lo:#x}..{hi - 1:#x}, taken as {val}")
                return val
        self.problems.append(f"{self.where} {key} {v!r}: not a number")
        return None

    def node(self, key: str) -> int | None:
        v = self.num(key)
        return v if v is None or v < 1 << 16 else None


def _namespace(o: dict[str, Any], region: str | None, problems: list[str]) -> Namespace:
    dev = o["dev"]
    r = _Read(o, dev, problems)
    name = r.text("mode")
    mode = MODES.get(name, name) if name else None
    if mode not in (None, "fsdax", "devdax", "sector", "raw"):
        problems.append(f"{dev} mode {name!r}: unknown")
    mp = r.text("map")
    chardev = r.text("chardev")
    dr = o.get("daxregion")
    if chardev is None and isinstance(dr, dict) and isinstance(dr.get("devices"), list):
        chardev = next((d["chardev"] for d in dr["devices"]
                        if isinstance(d, dict) and isinstance(d.get("chardev"), str)), None)
    if region is None:
        m = _NAMESPACE.match(dev)
        region = f"region{m[1]}" if m else None
    return Namespace(dev, mode, name, mp if mp in ("dev", "mem") else None, r.num("size"),
                     r.num("resource", True), r.num("align"), r.text("blockdev"), chardev,
                     r.text("uuid"), r.node("numa_node"), r.node("target_node"), region,
                     r.num("sector_size"), r.text("state"), tuple(r.rounded))


def _region(o: dict[str, Any], problems: list[str]) -> Region:
    dev = o["dev"]
    r = _Read(o, dev, problems)
    ns = o.get("namespaces")
    nss = tuple(_namespace(n, dev, problems) for n in (ns if isinstance(ns, list) else ())
                if isinstance(n, dict) and isinstance(n.get("dev"), str) and _NAMESPACE.match(n["dev"]))
    return Region(dev, r.num("size"), r.num("resource", True), r.text("type"), r.num("align"),
                  r.num("available_size"), nss, r.node("numa_node"), r.node("target_node"),
                  r.num("iset_id", True), r.text("persistence_domain"), r.text("state"), tuple(r.rounded))


def _walk(v: Any, regions: list[Region], alone: list[Namespace], problems: list[str], where: str) -> None:
    if isinstance(v, list):
        for i, x in enumerate(v[:10_000]):
            _walk(x, regions, alone, problems, f"{where}[{i}]")
        return
    if not isinstance(v, dict):
        problems.append(f"{where}: not an object")
        return
    dev = v.get("dev")
    dev = dev if isinstance(dev, str) else ""
    if _REGION.match(dev):
        regions.append(_region(v, problems))
    elif _NAMESPACE.match(dev):
        alone.append(_namespace(v, None, problems))
    elif _OTHER.match(dev) or (not dev and v and set(v) <= {"dimms", "regions", "namespaces"}):
        for key in ("regions", "namespaces"):  # a bus (-B) or the platform object
            if key in v:
                _walk(v[key], regions, alone, problems, f"{where}.{key}")
    else:
        problems.append(f"{where}: not an ndctl object")


def read_ndctl(text: str) -> Nvdimm | None:
    """The regions and namespaces of an ``ndctl list`` JSON text (any of -R, -N, -RN, -B, with
    or without -u/-v), or None when it has neither (not JSON, other JSON, dmesg, iomem)."""
    got = _values(text)
    if got is None:
        return None
    vals, trailing = got
    regions: list[Region] = []
    alone: list[Namespace] = []
    problems: list[str] = ["text after the JSON ignored"] if trailing else []
    for i, v in enumerate(vals):
        _walk(v, regions, alone, problems, f"value {i + 1}")
    if not regions and not alone:
        return None
    return Nvdimm(tuple(regions), tuple(alone), tuple(problems))


def _dax(o: dict[str, Any], region: int | None) -> DaxDevice:
    r = _Read(o, o["chardev"], [])
    maps = o.get("mappings")
    mappings = tuple(DaxMapping(m.num("start"), m.num("end"), m.num("page_offset"), m.num("size"))
                     for m in (_Read(x, "", r.problems) for x in (maps if isinstance(maps, list) else ())
                               if isinstance(x, dict)))
    mv = o.get("movable")
    return DaxDevice(o["chardev"], r.num("size"), r.node("target_node"), r.num("align"), r.text("mode"),
                     mv if isinstance(mv, bool) else None, r.num("online_memblocks"),
                     r.num("total_memblocks"), r.text("state"), region, mappings, tuple(r.rounded))


def read_daxctl(text: str) -> list[DaxDevice] | None:
    """The device-dax instances of a ``daxctl list`` JSON text (devices, or -R regions with
    their -D "devices"; an -R listing without devices gives []), or None when it is not one."""
    got = _values(text)
    if got is None:
        return None
    items = [x for v in got[0] for x in (v if isinstance(v, list) else [v])]
    out: list[DaxDevice] = []
    for o in items[:10_000]:
        if not isinstance(o, dict) or "dev" in o:
            return None
        if isinstance(o.get("chardev"), str) and _DAX.match(o["chardev"]):
            out.append(_dax(o, None))
        elif (isinstance(o.get("id"), int) and not isinstance(o["id"], bool)
              and set(o) <= {"path", "id", "size", "available_size", "align", "devices"}):
            devs = o.get("devices")
            out += [_dax(d, o["id"]) for d in (devs if isinstance(devs, list) else ())
                    if isinstance(d, dict) and isinstance(d.get("chardev"), str) and _DAX.match(d["chardev"])]
        else:
            return None
    return out if items else None


__all__ = ["MAX_DEPTH", "MAX_TEXT", "MODES", "DaxDevice", "DaxMapping", "Namespace", "Nvdimm", "Region",
           "human_bounds", "read_daxctl", "read_ndctl"]
