"""`pfnconsole bench native`: the 2015 list walk, the section table, the pgmap lookup and the
page path timed in native code on this CPU, beside the model's figures for the same N."""

from __future__ import annotations

import json
from typing import Any, TextIO

from .commands import Session
from .native import probe, unavailable
from .native.measure import NS, Row, measure_n, per_node, per_step, pfn_in, read_cpu

CAVEAT = ("measured on this CPU with a user-space replica of the 2015 loop and layout "
          "(pfnconsole._probe), not the kernel: no RCU read-side cost (preempt_count only, in a "
          "non-preemptible kernel), no TLB effects of the kernel's mappings, no other CPU "
          "touching the lines")


def model_row(n: int, profile: str) -> dict[str, float]:
    """The simulator's modelled ns for kmap into the oldest of ``n`` 1 GiB ranges, cold
    (`cache cold` first) and hot (the same kmap again), under ``profile``."""
    s = Session()
    top = 0x440000000 + n * (1 << 30)
    lines = [f"machine x86_64 ram=16G pmem={n}G@0x440000000", f"cache profile {profile}",
             *(f"register r{i} {0x440000000 + i * (1 << 30):#x} 1G" for i in range(n))]
    for line in lines:
        r = s.execute(line)
        assert r is not None and r.ok, (line, r and r.error)
    out: dict[str, float] = {}
    pfn = pfn_in(n, n)
    assert pfn << 12 < top
    for cold in (True, False):
        if cold:
            s.execute("cache cold")
        r = s.execute(f"kmap {pfn:#x} dev")
        assert r is not None and r.ok, r and r.error
        s.execute("teardown")  # unmap, so that the next kmap walks again
        tag = "cold" if cold else "hot"
        for path in ("list", "section", "page"):
            out[f"{path}_model_ns_{tag}"] = float(r.data.get(f"{path}_model_ns") or 0.0)
    return out


def run(as_json: bool, quick: bool, out: TextIO, err: TextIO, profile: str = "haswell-ep") -> int:
    p = probe()
    if p is None:
        err.write(unavailable() + "\n")
        return 2
    reps, cold_reps = (30, 30) if quick else (300, 600)
    cpu = read_cpu()
    rows: list[Row] = [measure_n(p, n, reps, cold_reps) for n in NS]
    steps = per_step(p, 16, reps, cold_reps)
    models = {n: model_row(n, profile) for n in NS}
    hot_node, cold_node = per_node(rows, False), per_node(rows, True)
    scattered_node = per_node(rows, True, "scattered")
    if as_json:
        out.write(json.dumps({**cpu.to_json(), "caveat": CAVEAT, "profile": profile,
                              "per_node_ns_hot": hot_node, "per_node_ns_cold": cold_node,
                              "per_node_ns_cold_scattered": scattered_node,
                              "steps_n16": [{"k": k, "hot_ns": h, "cold_ns": c} for k, h, c in steps]}) + "\n")
        for row in rows:
            out.write(json.dumps({**row.to_json(), **models[row.n]}) + "\n")
        return 0
    for line in table(cpu.model, rows, models, (hot_node, cold_node, scattered_node), profile,
                      cpu.to_json()):
        out.write(line + "\n")
    return 0


def table(model: str, rows: list[Row], models: dict[int, dict[str, float]],
          nodes: tuple[float | None, float | None, float | None], profile: str,
          cpu: dict[str, Any]) -> list[str]:
    caches = ", ".join(f"L{c['level']} {c['type'].lower()} {c['bytes'] >> 10} KiB" for c in cpu["caches"])
    out = [f"{model} ({caches or 'caches unknown'}); cold = {'clflush' if cpu['clflush'] else 'eviction'}",
           CAVEAT, "",
           f"{'N':>4}  {'list hot':>9} {'cold':>8}  {'section':>8} {'cold':>7}  {'page':>6} {'cold':>6}  "
           f"{'pgmap':>6} {'cold':>6}  {'list/page':>9} {'list/sect':>9}  {'scattered':>9}"
           f"  model cold ({profile})"]
    for r in rows:
        lp = r.ns("list", False) / max(r.ns("page", False), 0.01)
        ls = r.ns("list", True) / max(r.ns("section", True), 0.01)
        out.append(f"{r.n:>4}  {r.ns('list', False):>7.1f}ns {r.ns('list', True):>6.0f}ns  "
                   f"{r.ns('section', False):>6.1f}ns {r.ns('section', True):>5.0f}ns  "
                   f"{r.ns('page', False):>4.1f}ns {r.ns('page', True):>4.0f}ns  "
                   f"{r.ns('pgmap', False):>4.1f}ns {r.ns('pgmap', True):>4.0f}ns  "
                   f"{lp:>8.1f}x {ls:>8.1f}x  {r.ns('scattered', True):>7.0f}ns"
                   f"  {models[r.n]['list_model_ns_cold']:.0f} ns")
    hot_node, cold_node, scattered = nodes
    if hot_node is not None and cold_node is not None and scattered is not None:
        out += ["", f"per list node (slope N={rows[0].n}..{rows[-1].n}): {hot_node:.2f} ns hot, "
                f"{cold_node:.1f} ns cold, {scattered:.1f} ns cold with the pages scattered"]
    out += ["list/page is hot, list/sect cold, scattered the cold list walk with the pages of the",
            "kmaps and resources shuffled (no stride for a prefetcher to follow); medians of many",
            "samples (--json adds the spread)"]
    return out


__all__ = ["CAVEAT", "model_row", "run", "table"]
