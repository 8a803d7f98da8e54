"""Cost figures as every answer reports them: loads, modelled time, and simulator time.

One figure per path per answer: the modelled cycles and nanoseconds come from the cache
model under the CPU profile in force (`cache` shows it).  ``*_sim_ns`` is this
simulator's own Python time, kept in the data for `--json` and `explain` and never shown
as the kernel's cost.
"""

from __future__ import annotations

from collections import Counter

from ..core.cost import PathCost
from ..core.cpu_profiles import PROFILES

COSTS = dict(list_steps="list_cost.steps", list_loads="list_cost.loads",
             list_cycles="list_cost.cycles", list_model_ns="list_cost.model_ns",
             list_sim_ns="list_cost.sim_ns", list_needed="list_cost.needed")
"""The list path's cost, flattened as every result with one reports it."""
SECTION_COSTS = dict(section_loads="section_cost.loads", section_cycles="section_cost.cycles",
                     section_model_ns="section_cost.model_ns", section_sim_ns="section_cost.sim_ns",
                     section_needed="section_cost.needed")
PAGE_COSTS = dict(page_loads="page_cost.loads", page_cycles="page_cost.cycles",
                  page_model_ns="page_cost.model_ns", page_needed="page_cost.needed")
PGMAP_COSTS = dict(pgmap_loads="pgmap_cost.loads", pgmap_levels="pgmap_cost.steps",
                   pgmap_cycles="pgmap_cost.cycles", pgmap_model_ns="pgmap_cost.model_ns",
                   pgmap_sim_ns="pgmap_cost.sim_ns", pgmap_needed="pgmap_cost.needed")
"""get_dev_pagemap()'s cost (``pgmap_levels``: node levels of the tree)."""


def model_ns_text(ns: float) -> str:
    """Modelled nanoseconds: ``3.5 ns``, ``480 ns``, ``12.4 us``."""
    if ns < 10:
        return f"{ns:.1f} ns"
    if ns < 10_000:
        return f"{ns:.0f} ns"
    return f"{ns / 1000:.1f} us"


def levels_text(c: PathCost) -> str:
    """Where the loads hit: ``3 DRAM, 2 L1``."""
    n = Counter(str(x.level) for x in c.trace)
    return ", ".join(f"{n[k]} {k}" for k in ("DRAM", "L3", "L2", "L1") if n[k])


def profile_text(name: str) -> str:
    p = PROFILES[name]
    return f"{p.name}, {p.ghz:g} GHz"


def cost_lines(profile: str, *costs: PathCost) -> list[str]:
    """The cost block of an answer: one line per path, the same figures the panes show."""
    out = [f"  cost (modelled on {profile_text(profile)}; `cache` shows the caches)"]
    for c in costs:
        name = f"{c.path:<9}"
        if not c.needed:
            out.append(f"    {name}not taken: {c.detail[0] if c.detail else ''}")
            continue
        where = levels_text(c)
        nodes = f"{c.steps} node(s), " if c.path == "list" else \
            f"{c.steps} tree node(s), " if c.path == "pgmap" else ""
        out.append(f"    {name}{nodes}{c.loads} loads, {c.cycles:.0f} cycles = "
                   f"{model_ns_text(c.model_ns)}" + (f"  ({where})" if where else ""))
    return out
