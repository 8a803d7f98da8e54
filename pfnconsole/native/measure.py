"""Timing the native probe: medians and spread per path, N ranges, hot and cold caches.

The layout is the probe's (`pfnconsole._probe`): N ranges of 1 GiB from 0x440000000, linked
newest first, so the k-th node of the walk is range N - k in registration order and "kmap
into the oldest range" walks all N. A figure is the median of many samples (ns per lookup
and, where the CPU has a cycle counter, cycles) with the 10th-90th percentile spread; hot
means the structures are in cache (back-to-back lookups), cold means every line the paths
touch was flushed (clflush) or evicted before the one lookup timed. The probe places each
``struct kmap`` and ``struct resource`` on a page of its own; in page order those pages are a
constant stride apart, which the CPU's stride prefetcher follows, so the cold walk is also
timed "scattered", the same pages in a shuffled order (``build(..., scatter=True)``).

This measures a user-space replica of the kernel's loop and layout, not the kernel: no RCU
read-side cost (rcu_read_lock() in a non-preemptible kernel only bumps preempt_count), no
TLB effects of the kernel's own mappings (the replica's pages are user pages), no other
cores sharing the lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from types import ModuleType
from typing import Any

RANGE_BYTES = 1 << 30
BASE_PHYS = 0x440000000
NS = (1, 2, 4, 8, 10, 16, 64, 256)
"""The N of `bench native`'s table (10 for the ratio the 2015 review argued about)."""
PATHS = ("list", "unlist", "section", "pgmap", "page")


@dataclass(frozen=True)
class Figure:
    """One path's time per lookup: median and 10th/90th percentiles (ns), median cycles."""

    median: float
    p10: float
    p90: float
    cycles: float | None
    samples: int

    @property
    def spread(self) -> float:
        """p90 - p10 (ns)."""
        return self.p90 - self.p10


def figure(samples: list[tuple[float, int | None]]) -> Figure:
    ns = sorted(s for s, _ in samples)
    cyc = [c for _, c in samples if c is not None]
    at = lambda q: ns[min(len(ns) - 1, int(q * len(ns)))]  # noqa: E731
    return Figure(median(ns), at(0.1), at(0.9), median(cyc) if cyc else None, len(ns))


@dataclass(frozen=True)
class Cpu:
    """The host CPU as /proc/cpuinfo and sysfs describe it."""

    model: str
    mhz: float | None
    caches: tuple[tuple[int, str, int], ...]
    """(level, type, bytes) of cpu0's caches."""
    clflush: bool

    @property
    def llc(self) -> int:
        """Bytes of the last-level cache (0 if unknown)."""
        return max((size for _, kind, size in self.caches if kind != "Instruction"), default=0)

    def to_json(self) -> dict[str, Any]:
        return {"kind": "cpu", "model": self.model, "mhz": self.mhz, "clflush": self.clflush,
                "caches": [{"level": lv, "type": t, "bytes": b} for lv, t, b in self.caches],
                "llc_bytes": self.llc}


def _size(text: str) -> int:
    m = re.fullmatch(r"(\d{1,9})([KMG]?)", text.strip())
    if not m:
        return 0
    return int(m[1]) << {"": 0, "K": 10, "M": 20, "G": 30}[m[2]]


def read_cpu(root: Path = Path("/")) -> Cpu:
    """cpu0's model, clock and caches; what cannot be read stays empty."""
    try:
        info = (root / "proc/cpuinfo").read_text(errors="replace")[:1 << 20]
    except OSError:
        info = ""
    model = re.search(r"^model name\s*:\s*(.{1,120})$", info, re.M)
    mhz = re.search(r"^cpu MHz\s*:\s*([\d.]{1,12})$", info, re.M)
    flags = re.search(r"^flags\s*:(.*)$", info, re.M)
    caches = []
    base = root / "sys/devices/system/cpu/cpu0/cache"
    for d in sorted(base.glob("index[0-9]*")) if base.is_dir() else ():
        try:
            level = int((d / "level").read_text())
            kind = (d / "type").read_text().strip()
            size = _size((d / "size").read_text())
        except (OSError, ValueError):
            continue
        caches.append((level, kind, size))
    return Cpu(model[1].strip() if model else "unknown CPU", float(mhz[1]) if mhz else None,
               tuple(caches), bool(flags and " clflush" in flags[1] + " "))


def pfn_in(n: int, k: int) -> int:
    """A pfn one page into the k-th range of the walk (1 = newest) of ``n``."""
    return ((BASE_PHYS + (n - k) * RANGE_BYTES) >> 12) + 1


def time_path(p: ModuleType, path: str, pfn: int, reps: int, cold: bool, evict: int = 0) -> Figure:
    """``reps`` samples of one path for ``pfn`` on the structures ``p.build()`` made."""
    return figure(p.time(path, pfn, reps, cold, evict))


@dataclass(frozen=True)
class Row:
    """Every path's figure for one N, kmap into the oldest range."""

    n: int
    figures: dict[tuple[str, bool], Figure]

    def ns(self, path: str, cold: bool) -> float:
        return self.figures[(path, cold)].median

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "n", "n": self.n}
        for (path, cold), f in self.figures.items():
            key = f"{path}_ns_{'cold' if cold else 'hot'}"
            out[key] = round(f.median, 2)
            out[key.replace("_ns_", "_spread_ns_")] = round(f.spread, 2)
            out[key.replace("_ns_", "_cycles_")] = f.cycles
        return out


def measure_n(p: ModuleType, n: int, reps: int, cold_reps: int, evict: int = 0) -> Row:
    """All paths for ``n`` ranges, into the oldest (the walk's last node)."""
    p.build(n, RANGE_BYTES, BASE_PHYS)
    pfn = pfn_in(n, n)
    figs: dict[tuple[str, bool], Figure] = {}
    for cold in (False, True):
        for path in PATHS:
            figs[(path, cold)] = time_path(p, path, pfn, cold_reps if cold else reps, cold, evict)
    p.build(n, RANGE_BYTES, BASE_PHYS, scatter=True)  # no stride for a prefetcher to follow
    figs[("scattered", True)] = time_path(p, "list", pfn, cold_reps, True, evict)
    p.build(n, RANGE_BYTES, BASE_PHYS)
    return Row(n, figs)


def per_step(p: ModuleType, n: int, reps: int, cold_reps: int) -> list[tuple[int, float, float]]:
    """(k, hot ns, cold ns) of the time to reach node k minus that to reach node k-1."""
    p.build(n, RANGE_BYTES, BASE_PHYS)
    hot = [time_path(p, "list", pfn_in(n, k), reps, False).median for k in range(1, n + 1)]
    cold = [time_path(p, "list", pfn_in(n, k), cold_reps, True).median for k in range(1, n + 1)]
    return [(k, hot[k - 1] - (hot[k - 2] if k > 1 else 0.0), cold[k - 1] - (cold[k - 2] if k > 1 else 0.0))
            for k in range(1, n + 1)]


def per_node(rows: list[Row], cold: bool, path: str = "list") -> float | None:
    """ns per list node: the slope of the oldest-range walk from the smallest to the largest N
    (``path`` "scattered": the cold walk with the pages shuffled)."""
    if len(rows) < 2 or rows[-1].n == rows[0].n:
        return None
    a, b = rows[0], rows[-1]
    return (b.ns(path, cold) - a.ns(path, cold)) / (b.n - a.n)


__all__ = ["BASE_PHYS", "NS", "PATHS", "RANGE_BYTES", "Cpu", "Figure", "Row", "figure", "measure_n",
           "per_node", "per_step", "pfn_in", "read_cpu", "time_path"]
