"""`pfnconsole bench`: the measurements behind the project's claim, as same-run ratios.

Every figure compares two things measured in the same run on the same machine:
the list walk against the section lookup, a command with and without a subscriber, the
decoder against a bare regex scan, the console against a bare Textual app, an undo after
many commands against one after a few, a kunmap with many mappings open against one
with fewer.  Loads are the model's; nanoseconds are this simulator's own Python time.

Only the project's public API is used: `Machine` and its operations, the scratch-machine
sweep of `pfnconsole.core.sweep`, the decoder's entry points, the console's app.  This
lives in the checkout (``bench/``), not in the package: ``pfnconsole bench`` finds it
beside the package source.
"""


from __future__ import annotations

import gc
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from pfnconsole.core.machine import Machine
from pfnconsole.core.sweep import kmap_cost, machine_with_ranges, range_pfn, target_pfn

from .common import Json, MiB, median, rate, run_child
from .decoding import decoder
from .report import report

# --- 1. the list walk against the section lookup ------------------------------------------

def scan_vs_section(counts: list[int]) -> list[Json]:
    """Figure 1: kmap into the oldest and the newest of N ranges; lookup; both paths.

    The model's figures come from `pfnconsole.core.sweep` (the console's sweep too): loads,
    and the modelled time of the first (cold) and last (warm) kmap into the oldest range.
    The ns figures are this simulator's own time, medians of many repeats; each path is
    also timed on its own.
    """
    rows = []
    for n in counts:
        t0 = time.perf_counter()
        m = machine_with_ranges(n)
        build = time.perf_counter() - t0
        oldest = target_pfn(m, n, "oldest")
        reps = 200 if n <= 100 else 40 if n <= 1000 else 8 if n <= 10_000 else 3
        row: Json = {"n": n, "build_s": round(build, 3)}
        for label in ("oldest", "newest"):
            gc.disable()  # a collection inside one path's timing would charge it to that path
            try:
                got = [kmap_cost(m, n, label) for _ in range(reps)]
            finally:
                gc.enable()
            last = got[-1]
            # the model's time: the first kmap of a fresh machine is cold, the last warm
            if label == "oldest":
                row["model_ns"] = {
                    "list_cold": round(got[0].list_model_ns, 1), "list_warm": round(last.list_model_ns, 1),
                    "section_cold": round(got[0].section_model_ns, 1),
                    "section_warm": round(last.section_model_ns, 1)}
            row[label] = {"list_steps": last.list_steps, "list_loads": last.list_loads,
                          "list_ns": int(median(r.list_ns for r in got)),
                          "section_loads": last.section_loads,
                          "section_ns": int(median(r.section_ns for r in got))}
        m.clear_stack()
        gc.disable()
        try:
            look = [m.lookup(oldest) for _ in range(max(3, reps // 4))]
            # each path alone, warm, many times: what the path itself costs here
            iso_list = [m.list_path(oldest).sim_ns for _ in range(max(3, reps // 2))]
            # the lowest of five medians: a burst of noise from outside spoils one batch
            iso_sect = min(median(m.section_path(oldest).sim_ns for _ in range(400)) for _ in range(5))
        finally:
            gc.enable()
        row["isolated"] = {"list_ns": int(median(iso_list)),
                           "section_ns": int(iso_sect)}
        row["lookup"] = {"list_ns": int(median(x.list_cost.sim_ns for x in look)),
                         "section_ns": int(median(x.section_cost.sim_ns for x in look)),
                         "list_loads": look[-1].list_cost.loads,
                         "section_loads": look[-1].section_cost.loads}
        rows.append(row)
        del m
        gc.collect()
    return rows


# --- 2. throughput and the cost of a subscriber ---------------------------------------------

def _pair(m: Machine, value: int) -> Callable[[], None]:
    def go() -> None:
        r = m.kmap_atomic_pfn_t(value)
        if r.addr is not None:
            m.kunmap_atomic_pfn_t(r.addr)
    return go


def _call_against_call(first: Callable[[], None], second: Callable[[], None],
                       calls: int) -> tuple[float, float]:
    """Median ns of each, each call of ``second`` right after one of ``first`` (drift and
    a collection or an interrupt land in a few calls, not in the median)."""
    t_first, t_second = [], []
    clock = time.perf_counter_ns
    for _ in range(calls):
        t0 = clock()
        first()
        t1 = clock()
        second()
        t2 = clock()
        t_first.append(t1 - t0)
        t_second.append(t2 - t1)
    return median(t_first), median(t_second)


def throughput(seconds: float) -> Json:
    """Figure 2: kmap/kunmap pairs per second per path; what a subscriber costs; what the
    engine's per-command machinery costs, as a command that changes nothing."""
    m = machine_with_ranges(10)
    dev = m.encode_v5(target_pfn(m, 10, "newest"), ["dev"])  # the head of the list
    ram = m.encode_v5(0x100600, [])
    variants = {"list": _pair(m, dev), "page": _pair(m, ram)}
    best: dict[str, float] = dict.fromkeys(variants, 0.0)
    rounds = 12
    for _ in range(rounds):  # interleaved short rounds, best of each: noise hits all alike
        for name, fn in variants.items():
            m.clear_stack()
            best[name] = max(best[name], rate(fn, seconds / rounds))
    m.clear_stack()
    calls = max(200, int(seconds * 4000))
    # The same pair on two identical machines, one with a no-op subscriber, call against call
    heard = machine_with_ranges(10)
    unsubscribe = heard.subscribe(lambda e: None)
    t_none, t_one = _call_against_call(_pair(m, dev), _pair(heard, dev), calls)
    unsubscribe()
    # `cpu N` on cpu N: validated, recorded for undo and run through the event guards like
    # any command, and otherwise nothing: the machinery's own cost, beside a whole pair
    cpu = m.state.cpu

    def noop() -> None:
        m.set_cpu(cpu)

    t_noop, t_pair = _call_against_call(noop, _pair(m, dev), calls)
    m.clear_stack()
    heard.clear_stack()
    return {
        "list_path_pairs_per_s": round(best["list"]),
        "page_path_pairs_per_s": round(best["page"]),
        "pair_ns": round(t_none),
        "event_overhead_one_subscriber_pct": round(100 * (t_one / t_none - 1), 1) if t_none else None,
        "noop_command_ns": round(t_noop),
        "noop_command_share_pct": round(100 * 2 * t_noop / t_pair, 1) if t_pair else None,
    }


# --- 3. the 64 TiB machine, in a fresh process ----------------------------------------------

def scale() -> Json:
    """Figure 3: the 64 TiB 5-level machine in a fresh process: time, RSS, lookups/s."""
    out = run_child("scale", timeout=600)
    out["baseline_rss_mb"] = run_child("baseline", timeout=600)["peak_rss_mb"]
    out["machine_rss_mb"] = round(out["peak_rss_mb"] - out["baseline_rss_mb"], 1)
    return out


# --- 4. the decoder against a bare regex: in bench/decoding.py ---------------------------------

# --- 5. the console against a bare Textual app ------------------------------------------------

def tui(commands: int) -> Json:
    """Figure 5: first paint and per-command latency, against a bare Textual app."""
    import asyncio

    from textual.app import App, ComposeResult
    from textual.widgets import Input, Static

    from pfnconsole.tui.app import PfnApp
    from pfnconsole.tui.ranges_pane import RangesPane

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("bare")
            yield Input()

    async def first_paint(make: Callable[[], App[Any]]) -> float:
        t0 = time.perf_counter()
        app = make()
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause()
            return time.perf_counter() - t0

    async def latency() -> tuple[float, float]:
        app = PfnApp()
        async with app.run_test(size=(160, 48)) as pilot:
            app.query_one(RangesPane).speed = "instant"
            app.run_line("register pmem0 0x440000000 4G")
            await pilot.pause()
            times = []
            for _ in range(commands):
                t0 = time.perf_counter()
                r = app.run_line("kmap 0x440600 dev")
                if r is None or not r.ok:
                    raise RuntimeError(f"the console refused the benchmark's kmap: {r and r.error}")
                app.run_line(f"kunmap {r.data['addr']:#x}")
                await pilot.pause()
                times.append((time.perf_counter() - t0) / 2)
        bare = Bare()
        async with bare.run_test(size=(160, 48)) as pilot:
            inp = bare.query_one(Input)
            btimes = []
            for i in range(commands):
                t0 = time.perf_counter()
                inp.value = f"kmap 0x440600 dev {i}"
                await pilot.pause()
                btimes.append(time.perf_counter() - t0)
        return median(times), median(btimes)

    async def main() -> Json:
        ours = median([await first_paint(PfnApp) for _ in range(3)])
        bare = median([await first_paint(Bare) for _ in range(3)])
        per_cmd, bare_cmd = await latency()
        return {"first_paint_s": round(ours, 3), "bare_first_paint_s": round(bare, 3),
                "first_paint_ratio": round(ours / bare, 2),
                "command_latency_ms": round(per_cmd * 1000, 2),
                "bare_update_latency_ms": round(bare_cmd * 1000, 2),
                "latency_ratio": round(per_cmd / bare_cmd, 2) if bare_cmd else None}

    return asyncio.run(main())


# --- 6. undo after many commands against undo after a few --------------------------------------

GOAL = "ratio near 1"
"""What figures 6 and 7 aim at: the cost does not depend on how much came before."""


def _machine_after(n: int) -> tuple[Machine, int]:
    """A machine whose history holds ``n`` mutating commands (``register``, then ``cpu``
    switches, the last a kmap); the value that kmap mapped, to take it again after an undo."""
    m = machine_with_ranges(1)
    value = m.encode_v5(range_pfn(m, 0), ["dev"])
    for i in range(n - 2):  # cpu 1, cpu 0, ...: the cheapest command undo must remember
        m.set_cpu((i + 1) % 2)
    m.kmap_atomic_pfn_t(value)
    return m, value


def undo_cost(few: int, many: int, budget_s: float) -> Json:
    """Figure 6: the time of one ``undo`` after ``many`` mutating commands divided by the
    time of one after ``few`` (a kmap undone each time, then taken again).

    The commands before it are ``register`` and then ``cpu`` switches, the cheapest kind;
    undo that replays the history would pay for every one of them.  The two machines take
    turns, and each is timed until ``budget_s`` is spent on it (at least 3 times).
    """
    if not 2 <= few < many:
        raise ValueError(f"undo_cost needs 2 <= few < many, not {few}, {many}")
    built = time.perf_counter()
    machines = {few: _machine_after(few), many: _machine_after(many)}
    build_s = time.perf_counter() - built
    times: dict[int, list[float]] = {few: [], many: []}
    spent = dict.fromkeys(times, 0.0)
    gc.collect()
    while any(len(times[n]) < 3 or spent[n] < budget_s for n in times) and \
            all(len(ts) < 200 for ts in times.values()):
        for n, (m, value) in machines.items():
            if len(times[n]) >= 3 and spent[n] >= budget_s:
                continue
            gc.disable()  # collections run between the undos, not inside one
            try:
                t0 = time.perf_counter()
                m.undo()
                dt = time.perf_counter() - t0
            finally:
                gc.enable()
            m.kmap_atomic_pfn_t(value)
            times[n].append(dt)
            spent[n] += dt
    t_few, t_many = median(times[few]), median(times[many])
    return {"few": few, "many": many, "few_us": round(t_few * 1e6, 1),
            "many_us": round(t_many * 1e6, 1), "ratio": round(t_many / t_few, 2),
            "runs": [len(times[few]), len(times[many])], "build_s": round(build_s, 2),
            "goal": GOAL}


# --- 7. kunmap with many mappings open against with fewer -------------------------------------

def _open_mappings(n: int) -> tuple[Machine, list[int]]:
    """One range, ``n`` device mappings open on cpu0 (512 distinct pages in turn)."""
    m = machine_with_ranges(1)
    first = range_pfn(m, 0)
    values = [m.encode_v5(first + i, ["dev"]) for i in range(512)]
    addrs = []
    for i in range(n):
        r = m.kmap_atomic_pfn_t(values[i % len(values)])
        assert r.addr is not None
        addrs.append(r.addr)
    m.clear_stack()
    return m, addrs


def unmap_cost(fewer: int, more: int, sample: int) -> Json:
    """Figure 7: the time of one kunmap when ``more`` mappings are open divided by the time
    of one when ``fewer`` are, the newest first (kmap_atomic nests: the last taken is the
    first given back).  The two machines take turns, a batch each; the medians count."""
    if not 0 < sample <= fewer < more:
        raise ValueError(f"unmap_cost needs 0 < sample <= fewer < more, not {sample}, {fewer}, {more}")
    built = time.perf_counter()
    machines = {fewer: _open_mappings(fewer), more: _open_mappings(more)}
    build_s = time.perf_counter() - built
    times: dict[int, list[int]] = {fewer: [], more: []}
    batch = max(1, sample // 20)
    clock = time.perf_counter_ns
    gc.collect()
    while len(times[fewer]) < sample:
        for n, (m, addrs) in machines.items():
            gc.disable()
            try:
                for _ in range(min(batch, sample - len(times[n]))):
                    addr = addrs.pop()
                    t0 = clock()
                    m.kunmap_atomic_pfn_t(addr)
                    times[n].append(clock() - t0)
            finally:
                gc.enable()
    for m, _ in machines.values():
        m.clear_stack()
    t_fewer, t_more = median(times[fewer]), median(times[more])
    return {"fewer": fewer, "more": more, "sample": sample,
            "fewer_us": round(t_fewer / 1e3, 2), "more_us": round(t_more / 1e3, 2),
            "ratio": round(t_more / t_fewer, 2), "build_s": round(build_s, 2), "goal": GOAL}


# --- driver ----------------------------------------------------------------------------------

def run(quick: bool) -> Json:
    counts = [1, 10, 100] if quick else [1, 10, 100, 1_000, 10_000, 100_000]
    result: Json = {"quick": quick, "python": sys.version.split()[0],
                    "machine": f"{os.cpu_count()} cores, {sys.platform}"}
    result["scan_vs_section"] = scan_vs_section(counts)
    first, last = result["scan_vs_section"][0], result["scan_vs_section"][-1]
    result["section_flatness"] = round(
        last["isolated"]["section_ns"] / max(first["isolated"]["section_ns"], 1), 2)
    result["section_flatness_in_kmap"] = round(
        last["oldest"]["section_ns"] / max(first["oldest"]["section_ns"], 1), 2)
    result["list_growth"] = round(
        last["oldest"]["list_loads"] / max(first["oldest"]["list_loads"], 1), 1)
    result["throughput"] = throughput(0.2 if quick else 2.0)
    result["scale"] = scale()
    result["decoder"] = decoder(2 * MiB if quick else 200 * MiB)
    result["tui"] = tui(5 if quick else 50)
    # --quick: undo at the same sizes, timed fewer times; unmaps at a tenth of the sizes
    # (opening 50 000 mappings takes seconds; the ratio is what counts)
    result["undo"] = undo_cost(10, 100_000, 0.3 if quick else 3.0)
    result["unmap"] = unmap_cost(*((1_000, 4_000, 250) if quick else (10_000, 40_000, 2_000)))
    return result



def main(quick: bool, as_json: bool, out: TextIO) -> int:
    res = run(quick)
    if as_json:
        out.write(json.dumps(res) + "\n")
    else:
        report(res, out)
    return 0
