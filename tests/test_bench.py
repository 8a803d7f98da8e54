"""`pfnconsole bench --quick --json`: every figure is there (a smoke test; no timing asserts)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path


def test_bench_quick_json_has_every_figure():
    p = subprocess.run([sys.executable, "-m", "pfnconsole", "bench", "--quick", "--json"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    r = json.loads(p.stdout)
    rows = r["scan_vs_section"]
    assert [x["n"] for x in rows] == [1, 10, 100]
    # the model, not the clock: list loads grow with N, section loads do not
    assert [x["oldest"]["list_steps"] for x in rows] == [1, 10, 100]
    assert {x["oldest"]["section_loads"] for x in rows} == {2}
    assert {x["newest"]["list_steps"] for x in rows} == {1}
    # the modelled time: a cold walk costs more than the same walk warm, and grows with N;
    # the section path's does not
    for x in rows:
        assert x["model_ns"]["list_cold"] > x["model_ns"]["list_warm"] > 0
    assert rows[-1]["model_ns"]["list_cold"] > rows[0]["model_ns"]["list_cold"]
    assert len({x["model_ns"]["section_cold"] for x in rows}) == 1
    for key in ("list_path_pairs_per_s", "page_path_pairs_per_s",
                "event_overhead_one_subscriber_pct", "noop_command_ns", "noop_command_share_pct"):
        assert key in r["throughput"]
    assert r["scale"]["sections_present"] > 300_000
    for log in ("small", "large", "dense"):
        assert r["decoder"][log]["findings"] > 0 and "ratio_vs_bare" in r["decoder"][log]
        assert r["decoder"][log]["anchors_regex_mb_per_s"] > 0
    assert r["decoder"]["dense"]["incident_line_pct"] > 10 * r["decoder"]["large"]["incident_line_pct"]
    # the search the figure was made with, and the same log searched with re alone
    assert r["decoder"]["search"] in ("hyperscan", "re")
    assert r["decoder"]["large"]["re_only_mb_per_s"] > 0
    assert r["tui"]["first_paint_s"] > 0
    # the same-run ratios whose goal is 1: undo after 10^5 commands vs after 10, and a
    # kunmap with 4x the mappings open (positive numbers; how near 1 is not asserted)
    undo, unmap = r["undo"], r["unmap"]
    assert (undo["few"], undo["many"]) == (10, 100_000)
    assert unmap["more"] == 4 * unmap["fewer"]
    for fig, keys in ((undo, ("few_us", "many_us", "ratio")),
                      (unmap, ("fewer_us", "more_us", "ratio"))):
        for key in keys:
            assert isinstance(fig[key], (int, float)) and not isinstance(fig[key], bool), key
            assert fig[key] > 0, key
        assert fig["goal"] == "ratio near 1"


def test_bench_without_a_checkout_is_one_line_and_status_2(tmp_path):
    """Installed without the checkout (no bench/ beside the package): a clear error, no traceback."""
    import pfnconsole
    pkg = Path(pfnconsole.__file__).resolve().parent
    shutil.copytree(pkg, tmp_path / "pfnconsole", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    p = subprocess.run([sys.executable, "-m", "pfnconsole", "bench", "--quick"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 2, p.stderr[-2000:]
    assert "Traceback" not in p.stderr
    assert p.stderr.startswith("pfnconsole bench runs from a source checkout: git clone ")
    assert p.stderr.count("\n") == 1 and "bench/ folder is not installed" in p.stderr
    assert p.stdout == ""
