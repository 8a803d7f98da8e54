"""Measured figures beside the model: `bench native`, `measure`, kmap/explain and the cost
pane with the probe, and what each says without it. Structure and presence only: the
timings themselves are the benchmark's (BENCHMARKS.md), never a test's."""

from __future__ import annotations

import io
import json
import math
import os

import pytest

from pfnconsole import native
from pfnconsole.bench_native import run as bench_native
from pfnconsole.commands import Session
from pfnconsole.native.measure import NS

HAVE = native.probe() is not None
if not HAVE and os.environ.get("PFNCONSOLE_REQUIRE_PROBE") == "1":
    raise RuntimeError("PFNCONSOLE_REQUIRE_PROBE=1 but pfnconsole._probe is not built")
needs_probe = pytest.mark.skipif(not HAVE, reason="the native probe is not built here")

OLDEST_OF_4 = """machine x86_64 ram=16G pmem=4G@0x440000000
register r0 0x440000000 1G
register r1 0x480000000 1G
register r2 0x4c0000000 1G
register r3 0x500000000 1G"""


def session(lines: str) -> Session:
    s = Session()
    for line in lines.splitlines():
        assert s.execute(line).ok, line
    return s


@needs_probe
def test_bench_native_json_has_every_figure_for_every_n():
    out, err = io.StringIO(), io.StringIO()
    assert bench_native(True, True, out, err) == 0, err.getvalue()
    objs = [json.loads(line) for line in out.getvalue().splitlines()]
    cpu, rows = objs[0], objs[1:]
    assert cpu["kind"] == "cpu" and cpu["caches"] and "not the kernel" in cpu["caveat"]
    assert [r["n"] for r in rows] == list(NS)
    for r in rows:
        for key in ("list_ns_hot", "list_ns_cold", "section_ns_hot", "section_ns_cold",
                    "page_ns_hot", "page_ns_cold", "pgmap_ns_hot", "list_model_ns_cold"):
            assert isinstance(r[key], float) and math.isfinite(r[key]) and r[key] >= 0, key
    assert [s["k"] for s in cpu["steps_n16"]] == list(range(1, 17))


@needs_probe
def test_kmap_and_explain_show_the_measured_walk_beside_the_model(monkeypatch):
    monkeypatch.setenv("PFNCONSOLE_MEASURE", "1")
    s = session(OLDEST_OF_4)
    r = s.execute("kmap 0x440001 dev")
    m = r.data["measured"]
    assert (m["n"], m["k"]) == (4, 4)  # the oldest of four: the walk's fourth node
    assert r.data["list_model_ns"] > 0 and r.data["list_loads"] == 14  # the model stays
    assert any("measured on this CPU" in line for line in r.lines)
    assert any("measured on this CPU" in line for line in s.execute("explain").lines)


def test_no_measured_figures_when_measuring_is_off():
    s = session(OLDEST_OF_4)  # the suite runs with PFNCONSOLE_MEASURE=0
    r = s.execute("kmap 0x440001 dev")
    assert "measured" not in r.data and not any("measured" in line for line in r.lines)


@needs_probe
def test_measure_gives_one_row_per_n(monkeypatch):
    monkeypatch.setenv("PFNCONSOLE_MEASURE", "1")
    r = Session().execute("measure 1 4 16 --json")
    assert r.ok and r.data["available"] and [row["n"] for row in r.data["rows"]] == [1, 4, 16]
    assert json.loads("\n".join(r.lines)) == r.data
    assert isinstance(r.data["unexpected"], bool) and "list" in r.data["shape"]
    assert not Session().execute("measure 0").ok and not Session().execute("measure 1 2 3 4 5 6 7 8 9").ok


@needs_probe
def test_cache_profile_host_is_this_cpu(monkeypatch):
    monkeypatch.setenv("PFNCONSOLE_MEASURE", "1")
    s = Session()
    r = s.execute("cache profile host")
    assert r.ok and r.data["profile"] == "host" and "measured" in r.data["source"]
    l1 = next(lv for lv in r.data["levels"] if lv["name"] == "L1")
    with open("/sys/devices/system/cpu/cpu0/cache/index0/size") as f:
        assert l1["bytes"] == int(f.read().strip().rstrip("K")) << 10
    assert s.execute("kmap 0x100600").ok  # the model costs with it


def test_without_the_probe_every_way_in_says_so(monkeypatch):
    monkeypatch.setattr(native, "probe", lambda: None)
    monkeypatch.setattr("pfnconsole.commands.measured.probe", lambda: None)
    monkeypatch.setattr("pfnconsole.bench_native.probe", lambda: None)
    monkeypatch.setenv("PFNCONSOLE_MEASURE", "1")
    s = Session()
    before = s.machine.fingerprint()
    r = s.execute("measure")
    assert r.ok and not r.data["available"] and "not built" in r.lines[0]
    r = s.execute("cache profile host")
    assert not r.ok and "not built" in r.error and s.machine.fingerprint() == before
    out, err = io.StringIO(), io.StringIO()
    assert bench_native(False, True, out, err) == 2 and "not built" in err.getvalue()


@needs_probe
async def test_the_cost_pane_shows_the_measurement(monkeypatch):
    from pfnconsole.tui.app import PfnApp
    from pfnconsole.tui.cost_pane import CostPane
    monkeypatch.setenv("PFNCONSOLE_MEASURE", "1")
    s = session(OLDEST_OF_4)
    app = PfnApp(s)
    async with app.run_test(size=(160, 48)) as pilot:
        app.run_line("kmap 0x440001 dev")
        await pilot.pause()
        text = str(app.query_one(CostPane).query_one("#cost-body").render())
    assert "measured on this CPU" in text and "ld" in text  # beside the modelled loads


@needs_probe
def test_a_scattered_layout_walks_the_same_nodes_to_the_same_answers():
    p = native.probe()
    assert p is not None
    for scatter in (False, True):
        p.build(16, scatter=scatter)
        assert p.info()["scatter"] is scatter
        answers = [p.walk(((0x440000000 + i * (1 << 30)) >> 12) + 5) for i in range(16)]
        assert [visited for _, visited in answers] == list(range(16, 0, -1))  # newest first
        assert [a for a, _ in answers] == [0xFFFFC90000000000 + i * (1 << 30) + 5 * 4096 for i in range(16)]
    p.build(0)
