"""The benchmark's result as text: the table, the plot and one line per figure."""

from __future__ import annotations

from typing import TextIO

from .common import Json
from .decoding import anchors


def plot(rows: list[Json], width: int = 50) -> list[str]:
    """A text plot of list and section loads against N (log scale)."""
    import math
    top = max(math.log10(max(r["oldest"]["list_loads"], 1)) for r in rows) or 1
    out = ["loads per kmap into the oldest range (log scale): L = list walk, S = section"]
    for r in rows:
        ll, sl = r["oldest"]["list_loads"], r["oldest"]["section_loads"]
        lb = "L" * max(1, round(width * math.log10(max(ll, 1)) / top))
        sb = "S" * max(1, round(width * math.log10(max(sl, 1)) / top))
        out.append(f"N={r['n']:>7}  {lb:<{width}} {ll}")
        out.append(f"{'':>9}  {sb:<{width}} {sl}")
    return out


def _power(n: int) -> str:
    """10^5 for a power of ten from 100 up, else the number."""
    return f"10^{len(str(n)) - 1}" if n >= 100 and str(n).rstrip("0") == "1" else str(n)


def _grouped(n: int) -> str:
    """40 000."""
    return f"{n:,}".replace(",", " ")


def report(res: Json, out: TextIO) -> None:
    out.write(f"pfnconsole bench ({'quick' if res['quick'] else 'full'}), Python "
              f"{res['python']}, {res['machine']}\n\n")
    out.write("1. kmap into the oldest / newest of N ranges (ns: simulator, median)\n")
    out.write(f"{'N':>8} {'steps':>7} {'list loads':>10} {'list ns':>10} {'sect loads':>10} "
              f"{'sect ns':>8} {'alone: list ns':>14} {'sect ns':>8} {'newest steps':>12}\n")
    for r in res["scan_vs_section"]:
        o, nw, iso = r["oldest"], r["newest"], r["isolated"]
        out.write(f"{r['n']:>8} {o['list_steps']:>7} {o['list_loads']:>10} {o['list_ns']:>10} "
                  f"{o['section_loads']:>10} {o['section_ns']:>8} {iso['list_ns']:>14} "
                  f"{iso['section_ns']:>8} {nw['list_steps']:>12}\n")
    out.write(f"   section path alone, N=max vs N=1: {res['section_flatness']}x (inside kmap, "
              f"right after the walk: {res['section_flatness_in_kmap']}x); list loads grew "
              f"{res['list_growth']}x\n\n")
    if all("model_ns" in r for r in res["scan_vs_section"]):
        out.write("   modelled (the kernel's cost on the CPU profile; cold = first kmap of a fresh "
                  "machine, warm = the last):\n")
        out.write(f"{'N':>8} {'list cold':>12} {'list warm':>12} {'sect cold':>10} {'sect warm':>10}\n")
        for r in res["scan_vs_section"]:
            mo = r["model_ns"]
            out.write(f"{r['n']:>8} {mo['list_cold']:>10} ns {mo['list_warm']:>10} ns "
                      f"{mo['section_cold']:>7} ns {mo['section_warm']:>7} ns\n")
        out.write("\n")
    out.write("\n".join(plot(res["scan_vs_section"])) + "\n\n")
    t = res["throughput"]
    if "noop_command_ns" in t:
        machinery = (f"one no-op subscriber adds {t['event_overhead_one_subscriber_pct']}% to a "
                     f"pair ({t['pair_ns']} ns); a command that changes nothing (`cpu N` on cpu N) "
                     f"takes {t['noop_command_ns']} ns, {t['noop_command_share_pct']}% of a pair's two")
    else:  # a result saved before the benchmark kept to the public API
        machinery = (f"event machinery with no subscriber {t['event_overhead_no_subscriber_pct']}% "
                     f"(one no-op subscriber {t['event_overhead_one_subscriber_pct']}%)")
    out.write(f"2. kmap+kunmap pairs/s: list path {t['list_path_pairs_per_s']}, page path "
              f"{t['page_path_pairs_per_s']}; {machinery}\n")
    s = res["scale"]
    out.write(f"3. 64 TiB x86_64-5level + 16 TiB pmem: build {s['build_s']} s, machine "
              f"{s['machine_rss_mb']} MB over a {s['baseline_rss_mb']} MB interpreter "
              f"(peak {s['peak_rss_mb']} MB); pfn_to_page {s['pfn_to_page_per_s']}/s, "
              f"pfn_valid {s['pfn_valid_per_s']}/s\n")
    d = res["decoder"]
    big, dense = d["large"], d["dense"]
    anchors_part = (f"; (a per-line regex of all {d.get('anchors') or len(anchors())} format anchors: "
                    f"{big['anchors_regex_mb_per_s']} and {dense['anchors_regex_mb_per_s']} MB/s)"
                    if "anchors_regex_mb_per_s" in big else "")
    out.write(f"4. decoder on {big['mb']} MB of everyday log ({big['incident_line_pct']}% incident "
              f"lines): {big['decoder_mb_per_s']} MB/s vs bare regex {big['bare_regex_mb_per_s']} MB/s "
              f"= {big['ratio_vs_bare']}x; on {dense['mb']} MB of incidents only "
              f"({dense['incident_line_pct']}%): {dense['decoder_mb_per_s']} MB/s vs "
              f"{dense['bare_regex_mb_per_s']} MB/s = {dense['ratio_vs_bare']}x{anchors_part}; RSS "
              f"{d['small']['peak_rss_mb']} MB at {d['small']['mb']} MB, {big['peak_rss_mb']} MB at "
              f"{big['mb']} MB; searching with {d['search']}"
              + (f" (with Python's re alone: {big['re_only_mb_per_s']} MB/s = "
                 f"{big['re_only_ratio_vs_bare']}x)" if "re_only_mb_per_s" in big else "") + "\n")
    if "huge" in d:
        h = d["huge"]
        out.write(f"   and on {h['mb']} MB of everyday log: {h['decode_s']} s ({h['decoder_mb_per_s']} MB/s), "
                  f"RSS {h['peak_rss_mb']} MB\n")
    u = res["tui"]
    out.write(f"5. TUI first paint {u['first_paint_s']} s vs bare Textual "
              f"{u['bare_first_paint_s']} s ({u['first_paint_ratio']}x); per command "
              f"{u['command_latency_ms']} ms vs bare update {u['bare_update_latency_ms']} ms\n")
    if "undo" in res:  # results saved before these figures existed have neither
        un = res["undo"]
        out.write(f"6. undo at {_power(un['many'])} vs at {_power(un['few'])} commands: "
                  f"{un['many_us']} us vs {un['few_us']} us = {un['ratio']}x (goal: {un['goal']})\n")
    if "unmap" in res:
        um = res["unmap"]
        out.write(f"7. kunmap with {_grouped(um['more'])} vs {_grouped(um['fewer'])} mappings open: "
                  f"{um['more_us']} us vs {um['fewer_us']} us = {um['ratio']}x (goal: {um['goal']})\n")

