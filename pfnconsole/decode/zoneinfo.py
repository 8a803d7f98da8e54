"""/proc/zoneinfo: one block per node and zone, populated or not.

Format: mm/vmstat.c zoneinfo_show_print(): ``"Node %d, zone %8s"``, then ``"\\n  pages free
%lu"`` and, eight spaces in, ``min``, ``low``, ``high``, ``spanned``, ``present``,
``managed`` (``"\\n        spanned  %lu"`` …, pages), later ``"\\n  start_pfn:           %lu"``
(for a populated zone; newer kernels print it for a spanned empty zone too). The counters
between them (per-node stats, vm stats, pagesets) are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

HEAD = re.compile(r"^Node (?P<nid>\d{1,4}), zone +(?P<zone>\w{1,16})\s*$")
_VALUE = re.compile(r"^\s+(?P<key>pages free|spanned|present|managed|start_pfn:)\s+(?P<val>\d{1,20})\s*$")


@dataclass
class Zone:
    """``struct zone`` as zoneinfo shows it: pages, and the first pfn when printed."""

    nid: int
    name: str
    line: int
    spanned: int = 0
    present: int = 0
    managed: int = 0
    free: int = 0
    start_pfn: int | None = None
    fields: set[str] = field(default_factory=set)

    @property
    def populated(self) -> bool:
        """populated_zone(): present pages (the kernel prints the counters only then)."""
        return self.present > 0


def read_zoneinfo(text: str) -> list[Zone] | None:
    """The zones of a /proc/zoneinfo text, or None when it has no ``Node N, zone NAME``
    block with its spanned/present/managed lines."""
    zones: list[Zone] = []
    for no, raw in enumerate(text.splitlines()[:200_000], 1):
        m = HEAD.match(raw)
        if m:
            zones.append(Zone(int(m["nid"]), m["zone"], no))
            continue
        v = _VALUE.match(raw)
        if v and zones:
            z, key, val = zones[-1], v["key"], int(v["val"])
            z.fields.add(key)
            if key == "pages free":
                z.free = val
            elif key == "start_pfn:":
                z.start_pfn = val
            else:
                setattr(z, key, val)
    got = [z for z in zones if {"spanned", "present", "managed"} <= z.fields]
    return got or None


__all__ = ["Zone", "read_zoneinfo"]
