"""`pfnconsole bench --quick --json`: every figure is there (a smoke test; no timing asserts)."""

import json
import subprocess
import sys


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
    for key in ("list_path_pairs_per_s", "page_path_pairs_per_s",
                "event_overhead_no_subscriber_pct"):
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
