"""`measure [N…]`: the list walk, the section table and the page path timed on this CPU."""

from __future__ import annotations

from typing import Any

from ...native import unavailable
from ..measured import enabled, measure_walk
from ..parse import ParseError, Words, parse_number
from ..registry import Kind, Param, Subject, command
from ..render import json_view, ok
from ..result import Result
from ..session import Session

FLAT = 1.5
"""A path is flat when its time at the largest N is within this factor of the smallest N's."""


def shape(rows: list[dict[str, Any]]) -> tuple[bool, str]:
    """(unexpected, words): the list walk should grow with N and the others should not."""
    a, b = rows[0], rows[-1]
    grows = b["list_ns_hot"] > a["list_ns_hot"] and b["list_ns_cold"] > a["list_ns_cold"]
    flat = [p for p in ("section", "page")
            if b[f"{p}_ns_hot"] <= FLAT * max(a[f"{p}_ns_hot"], 1.0)]
    words = ("the list grows with N" if grows else "the list does NOT grow with N") + "; " + (
        " and ".join(flat) + " flat" if flat else "section and page not flat")
    return not (grows and len(flat) == 2), words


@command("measure", Subject.VIEWS, "time the list walk, section table and page path on this CPU",
         help="kmap into the oldest of N ranges timed in C by the native probe (a user-space\n"
         "replica of the 2015 loop and layout, not the kernel), hot and cold, beside nothing\n"
         "the model says: `kmap` shows both. Default N: 1 10 64 (at most 8 values, each 1 to\n"
         "256). Without the probe (no C compiler at install) it says so. `pfnconsole bench\n"
         "native` is the full table; --json the data.",
         examples=("measure", "measure 1 4 16 --json"),
         params=(Param("N", Kind.NUMBER, optional=True, variadic=True),), switches=("json",))
def run_measure(s: Session, w: Words) -> Result:
    ns = [parse_number(a, "N") for a in w.args] or [1, 10, 64]
    if len(ns) > 8 or any(not 1 <= n <= 256 for n in ns):
        raise ParseError("measure: at most 8 values of N, each from 1 to 256")
    ns = sorted(set(ns))
    if not enabled():
        why = unavailable() or "measuring is off (PFNCONSOLE_MEASURE=0)"
        return ok("measure", "measure", {"available": False, "rows": [], "unexpected": False,
                                         "shape": why}, [f"not measured: {why}"], {"n": ns})
    rows = [m for n in ns if (m := measure_walk(n, n)) is not None]
    lines = ["measured on this CPU: a user-space replica of the 2015 loop and layout, not the kernel",
             f"{'N':>4}  {'list hot':>9} {'cold':>8}  {'section':>8} {'cold':>7}  {'page':>6} {'cold':>6}"
             f"  {'list/page':>9} {'list/sect':>9}  {'scattered':>9}"]
    for r in rows:
        r["list_page_hot"] = round(r["list_ns_hot"] / max(r["page_ns_hot"], 0.01), 1)
        r["list_section_cold"] = round(r["list_ns_cold"] / max(r["section_ns_cold"], 0.01), 1)
        lines.append(f"{r['n']:>4}  {r['list_ns_hot']:>7.1f}ns {r['list_ns_cold']:>6.0f}ns  "
                     f"{r['section_ns_hot']:>6.1f}ns {r['section_ns_cold']:>5.0f}ns  "
                     f"{r['page_ns_hot']:>4.1f}ns {r['page_ns_cold']:>4.0f}ns  "
                     f"{r['list_page_hot']:>8.1f}x {r['list_section_cold']:>8.1f}x  "
                     f"{r['list_ns_cold_scattered']:>7.0f}ns")
    unexpected, words = shape(rows) if len(rows) > 1 else (False, "one N: no shape to show")
    lines += ["list/page hot, list/sect cold; scattered: the cold walk with the nodes' pages shuffled,",
              "so that no constant stride lets the CPU's prefetcher fetch them ahead",
              f"shape: {words}",
              "what it shows: the walk's cost per node on this CPU, hot and cold; what it does not: "
              "RCU read-side cost, the kernel's TLB and other CPUs sharing the lines"]
    data = {"available": True, "rows": rows, "unexpected": unexpected, "shape": words}
    return json_view(ok("measure", "measure " + " ".join(map(str, ns)), data, lines, {"n": ns}),
                     w.switches)
