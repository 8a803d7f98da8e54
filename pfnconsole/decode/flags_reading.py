"""A ``flags:`` word of a page report, decoded with the page->flags layout of its kernel.

When the kernel printed the names and ``node=|zone=|lastcpupid=`` itself (``%pGp``, v5.13
and later), those solve the configuration: the first configuration of the modelled tables
(`pfnconsole.core.page_flags`) that reproduces every printed field and name is taken, and
the reading says so.  Otherwise the word is split with a typical distribution kernel of the
log's version, and every value taken by default is listed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

from ..core.errors import EngineError
from ..core.page_flags import ARCHES, KVER_MAX, KVER_MIN
from ..core.page_flags_decode import PageFlags, decode, make_config

MAX_SOLVES = 256
"""Flags words solved per log; later ones are decoded with the defaults (bounded work)."""


@dataclass(frozen=True)
class FlagsReading:
    """``page->flags`` (``unsigned long``) as the report shows it."""

    value: int
    names: tuple[str, ...]
    """Flag names: the kernel's printed ones when it printed any, else decoded."""
    node: int | None
    zone: str | None
    zone_nr: int | None
    section: int | None
    last_cpupid: int | None
    how: str
    """How node and zone are known: printed, solved from the printed fields, or decoded."""
    assumed: tuple[str, ...] = ()
    assumed_place: bool = False
    """True when node and zone rest on an assumed layout, not on what the kernel printed."""
    pgp: str = ""
    """The word as ``%pGp`` prints it under the layout read with ("" when not split)."""

    def to_json(self) -> dict[str, object]:
        return {"value": self.value, "names": list(self.names), "node": self.node, "zone": self.zone,
                "zone_nr": self.zone_nr, "section": self.section, "last_cpupid": self.last_cpupid,
                "how": self.how, "assumed": list(self.assumed), "assumed_place": self.assumed_place,
                "pgp": self.pgp}


def printed_fields(fields: str) -> dict[str, int]:
    """"node=0 zone=2 lastcpupid=0x7ff" -> {"node": 0, "zone": 2, "lastcpupid": 0x7ff}."""
    out: dict[str, int] = {}
    for item in fields.split():
        key, _, val = item.partition("=")
        try:
            out[key] = int(val, 0)
        except ValueError:
            continue
    return out


def _kver(kver: tuple[int, int] | None) -> tuple[str | None, str]:
    """The version to read the layout at, and a note when it is not the log's own."""
    if kver is None:
        return None, ""
    hi = KVER_MAX[:2]
    if kver > hi:
        return f"{hi[0]}.{hi[1]}", f"read with the v{hi[0]}.{hi[1]} layout, the newest modelled"
    return f"{kver[0]}.{kver[1]}", ""


def _fits(got: PageFlags, names: tuple[str, ...], fields: dict[str, int]) -> bool:
    want = {"node": got.node, "zone": got.zone_nr, "section": got.section,
            "lastcpupid": got.last_cpupid, "kasantag": got.kasan_tag}
    for key, value in fields.items():
        if key in want and want[key] != value:
            return False
    named = {n for n in names if n.isidentifier()}
    return not named or named == set(got.flags)


@lru_cache(maxsize=512)
def _solve(value: int, arch: str, kv: str | None, names: tuple[str, ...],
           fields: tuple[tuple[str, int], ...]) -> tuple[PageFlags, str] | None:
    """The first modelled configuration that reproduces what the kernel printed."""
    given = dict(fields)
    base = make_config(kv, arch)
    shifts = dict.fromkeys((base.nodes_shift, *range(11)))
    devices = (base.zone_device, not base.zone_device)
    gens = (base.lru_gen, not base.lru_gen) if base.kver >= (6, 1, 0) else (False,)
    kasans = ("sw", "hw") if "kasantag" in given else ("none",)
    cpus = [base.nr_cpus]
    none = given.get("lastcpupid", 0) + 1
    if none > 256 and none & (none - 1) == 0:  # all ones: the field's width, 8 pid bits + cpu bits
        cpus.insert(0, 1 << (none.bit_length() - 1 - 8))
    found: list[tuple[PageFlags, str]] = []
    for ns, zd, lg, km, nc in itertools.product(shifts, devices, gens, kasans, dict.fromkeys(cpus)):
        try:
            cfg = make_config(kv, arch, nodes_shift=ns, zone_device="y" if zd else "n",
                              nr_cpus=nc if "lastcpupid" in given else None,
                              lru_gen="y" if lg else "n", kasan=km,
                              numa_balancing="y" if ns and "lastcpupid" in given else
                              ("n" if ns == 0 or base.kver >= (5, 13, 0) else None))
            got = decode(value, cfg)
        except EngineError:
            continue
        if _fits(got, names, given):
            knobs = f"nodes_shift={ns} zone_device={'y' if zd else 'n'}"
            if base.kver >= (6, 1, 0):
                knobs += f" lru_gen={'y' if lg else 'n'}"
            if km != "none":
                knobs += f" kasan={km}"
            if nc != base.nr_cpus:
                knobs += f" nr_cpus={nc}"
            found.append((got, knobs))
    if not found:
        return None
    got, knobs = found[0]
    if len(found) > 1:
        knobs += f" (and {len(found) - 1} other configuration(s): the printed fields do not pin one)"
    return got, knobs


def read_flags(value: int, names: tuple[str, ...], fields: str, arch: str,
               kver: tuple[int, int] | None, solve: bool = True) -> FlagsReading:
    """Decode a printed flags word; ``names`` and ``fields`` are what the kernel printed."""
    given = printed_fields(fields)
    kv, kv_note = _kver(kver)
    zone_nr = given.get("zone")
    old = kver is not None and kver < KVER_MIN[:2]
    if arch not in ARCHES or old:
        where = (f"for v{KVER_MIN[0]}.{KVER_MIN[1]} and later" if old
                 else f"for {' and '.join(ARCHES)} only")
        how = (f"node and zone as the kernel printed them; the page->flags layout is modelled {where}"
               if given else f"not split: the page->flags layout is modelled {where}")
        return FlagsReading(value, names, given.get("node"), None, zone_nr, given.get("section"),
                            given.get("lastcpupid"), how)
    layout_name = f"v{kv} {arch}" if kv else f"{arch} (no kernel version in the log)"
    if solve and given:
        got = _solve(value, arch, kv, names, tuple(sorted(given.items())))
        if got is not None:
            flags, knobs = got
            printed = " and ".join(p for p in ("names" if names else "", fields.replace(" ", "|")) if p)
            how = f"the kernel printed {printed}; the {layout_name} layout with {knobs} reproduces them"
            assumed = tuple(a for a in flags.assumed if a.split("=")[0] in ("kver", "nr_cpus", "memmodel"))
            return FlagsReading(value, names or flags.flags, flags.node, flags.zone, flags.zone_nr,
                                flags.section, flags.last_cpupid, _join(how, kv_note), assumed,
                                pgp=flags.pgp())
        else:
            return FlagsReading(value, names, given.get("node"), None, zone_nr, given.get("section"),
                                given.get("lastcpupid"),
                                _join("node and zone as the kernel printed them; no modelled "
                                      f"{layout_name} configuration reproduces the whole word", kv_note))
    if kv is None:
        # %pGp prints zone= (and node=, section= as the layout has them) from v5.13 on: a
        # word without them comes from an older kernel, whose version this log does not give
        return FlagsReading(value, names, None, None, None, None, None,
                            "not split: the kernel printed no node= or zone=, so it is older than "
                            "v5.13, and the log does not say which version it is")
    try:
        flags = decode(value, make_config(kv, arch))
    except EngineError as e:
        return FlagsReading(value, names, None, None, None, None, None, f"not decoded: {e}")
    how = (f"node and zone decoded with the {layout_name} layout of a typical distribution kernel "
           "(assumed, see below): the kernel printed no node= or zone=")
    return FlagsReading(value, names or flags.flags, flags.node, flags.zone, flags.zone_nr, flags.section,
                        flags.last_cpupid, _join(how, kv_note), flags.assumed, assumed_place=True,
                        pgp=flags.pgp())


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


__all__ = ["MAX_SOLVES", "FlagsReading", "printed_fields", "read_flags"]
