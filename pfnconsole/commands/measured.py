"""Measured figures beside the modelled ones: what the native probe times on this CPU for
the walk an answer just modelled (N ranges on the list, the hit at node k).

Measured only where the probe is built and ``PFNCONSOLE_MEASURE`` is not ``0`` (the test
suite sets it to 0, so that answers and screenshots stay the same from run to run); each
(N, k) is timed once per process and kept, so a repeated kmap costs nothing more.
"""

from __future__ import annotations

import os
from typing import Any

from ..core.cpu_profiles import DEFAULT_PROFILE, PROFILES, CacheLevel, CpuProfile
from ..native import probe
from ..native.measure import BASE_PHYS, RANGE_BYTES, Cpu, pfn_in, time_path

HOT_REPS = 31
COLD_REPS = 31
MAX_N = 4096
_cache: dict[tuple[int, int], dict[str, Any]] = {}
_built: list[int] = []


def enabled() -> bool:
    return os.environ.get("PFNCONSOLE_MEASURE", "1") != "0" and probe() is not None


def measure_walk(n: int, k: int) -> dict[str, Any] | None:
    """Median ns, hot and cold, of the list walk reaching node ``k`` of ``n`` (``k`` = 0: no
    hit, the page path), the section table and the page path; None when not measured."""
    p = probe()
    if p is None or not enabled() or not 1 <= n <= MAX_N or not 0 <= k <= n:
        return None
    key = (n, k)
    if key not in _cache:
        if _built != [n]:
            p.build(n, RANGE_BYTES, BASE_PHYS)
            _built[:] = [n]
        pfn = pfn_in(n, k) if k else pfn_in(n, n)
        out: dict[str, Any] = {"n": n, "k": k}
        for path in ("list", "section", "page"):
            for cold in (False, True):
                f = time_path(p, path, pfn, COLD_REPS if cold else HOT_REPS, cold)
                out[f"{path}_ns_{'cold' if cold else 'hot'}"] = round(f.median, 1)
        p.build(n, RANGE_BYTES, BASE_PHYS, scatter=True)  # the same pages, no stride to prefetch
        out["list_ns_cold_scattered"] = round(time_path(p, "list", pfn, COLD_REPS, True).median, 1)
        p.build(n, RANGE_BYTES, BASE_PHYS)
        _cache[key] = out
    return dict(_cache[key])


def slope(lo: dict[str, Any], hi: dict[str, Any], cold: bool) -> float:
    """ns per list node between two walks into the oldest range (N = lo["n"] and hi["n"])."""
    key = f"list_ns_{'cold' if cold else 'hot'}"
    return max(0.0, (hi[key] - lo[key]) / max(1, hi["n"] - lo["n"]))


def host_profile(cpu: Cpu) -> CpuProfile | None:
    """A CPU profile for this host: its cache sizes (sysfs), its clock (/proc/cpuinfo), and
    the L1 and DRAM latencies from the probe. Hot, the walk's critical chain is one load a
    node (``pos->next``; the CPU runs the range checks beside it, the branch predicted), so
    L1 = hot ns per node. DRAM is the cold page path: its two base variables share one line, flushed, so one
    miss (the cold walk itself is no measure of DRAM: the nodes' constant stride lets the
    prefetcher run ahead). L2 and L3 latencies are not measured: the default profile's
    cycles are kept. None without the probe."""
    one, many = measure_walk(1, 1), measure_walk(16, 16)
    if one is None or many is None:
        return None
    ghz = (cpu.mhz or 2000.0) / 1000
    l1_ns = max(slope(one, many, False), 0.25)
    dram_ns = max(float(one["page_ns_cold"]), 1.0)
    base = PROFILES[DEFAULT_PROFILE]
    sizes = {lv: size for lv, kind, size in cpu.caches if kind in ("Data", "Unified")}
    levels = tuple(CacheLevel(level.name, sizes.get(int(level.name[1]), level.size),
                              max(1, round(l1_ns * ghz)) if level.name == "L1" else level.cycles)
                   for level in base.levels)
    return CpuProfile("host", f"{cpu.model} (this host, measured)", 0, round(ghz, 2), levels,
                      round(dram_ns, 1), "pfnconsole._probe on this CPU: L1 and DRAM measured, "
                      f"L2/L3 cycles kept from {base.name}")


def measured_lines(m: dict[str, Any] | None) -> list[str]:
    """The answer's lines for a measurement: beside the modelled cost, never instead."""
    if not m:
        return []
    return [f"  measured on this CPU (a user-space replica of the loop and layout, not the kernel; "
            f"{m['n']} range(s), node {m['k'] or '-'}):",
            f"    list    {m['list_ns_hot']:.1f} ns hot, {m['list_ns_cold']:.0f} ns cold "
            f"({m['list_ns_cold_scattered']:.0f} scattered);  "
            f"section {m['section_ns_hot']:.1f} / {m['section_ns_cold']:.0f} ns;  "
            f"page {m['page_ns_hot']:.1f} / {m['page_ns_cold']:.0f} ns"]


__all__ = ["enabled", "host_profile", "measure_walk", "measured_lines", "slope"]
