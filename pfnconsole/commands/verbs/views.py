"""Read-only views: lookup, page, identify, ranges, sections, and explain."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise
from typing import Any

from ...core.blocks import memory_block_size, section_places
from ...core.sparse import SectionFlags, SectionRun, SparseMem, flag_letters
from ...core.sweep import COUNTS, sweep
from ...core.zones import node_zones
from ..costs import COSTS, PAGE_COSTS, PGMAP_COSTS, SECTION_COSTS, cost_lines, model_ns_text, profile_text
from ..explain import explain
from ..measured import measured_lines
from ..parse import ParseError, Words, parse_number
from ..registry import Kind, Param, Subject, command
from ..render import hx, json_view, ok, size_text, to_data
from ..result import Result
from ..session import Session


@command("lookup", Subject.VIEWS, "where is this pfn: memmap, list path and section path",
         help="Answer without taking a mapping: e820 type, section, pfn_valid, struct page, "
         "and the\nrange each path finds with its cost.",
         examples=("lookup 0x100600",), params=(Param("PFN", Kind.NUMBER),))
def run_lookup(s: Session, w: Words) -> Result:
    pfn = parse_number(w.args[0], "PFN")
    r = s.machine.lookup(pfn)
    lc, sc = r.list_cost, r.section_cost
    spr = s.machine.state.arch.sections_per_root
    data = to_data(r, "pfn", "phys", "e820", "pfn_valid", "page", "direct", "list_range",
                   "section_range", "agree", "steps", section="section_nr", list_kva="list_cost.answer",
                   section_kva="section_cost.answer", **COSTS, **SECTION_COSTS, **PAGE_COSTS,
                   **PGMAP_COSTS)
    data["pgmap"] = r.pgmap
    data["profile"] = s.machine.state.profile
    data["root"] = r.section.root if r.section else r.section_nr // spr
    lines = [f"phys {hx(r.phys)} ({r.e820}); section {r.section_nr} "
             f"(root {r.section_nr // spr}, idx {r.section_nr % spr})",
             "  memmap: " + (f"pfn_valid, struct page {hx(r.page)}, __va {hx(r.direct)}"
                              if r.pfn_valid else "no struct page (not pfn_valid)"),
             f"  list path:    {r.list_range or 'no range'} -> {hx(lc.answer)}",
             f"  section path: {r.section_range or 'no range'} -> {hx(sc.answer)}"
             + ("" if r.agree else "   DISAGREE")]
    if r.pgmap:
        lines.insert(2, f"  ZONE_DEVICE: dev_pagemap {r.pgmap}")
    lines += cost_lines(s.machine.state.profile, lc, sc, *([r.page_cost] if r.page_cost else []),
                        *([r.pgmap_cost] if r.pgmap_cost else []))
    lines.append("  (a lookup leaves the caches as they were)")
    res = ok("lookup", f"lookup pfn={s.num(pfn)}", data, lines, {"pfn": pfn})
    res.source = s.context(r, [st.name for st in r.steps])
    return res


@command("page", Subject.VIEWS, "the struct page of a pfn",
         help="pfn_to_page(), the section and its flags, __va, and what the simulator did to it.",
         examples=("page 0x100600",), params=(Param("PFN", Kind.NUMBER),))
def run_page(s: Session, w: Words) -> Result:
    pfn = parse_number(w.args[0], "PFN")
    r = s.machine.page(pfn)
    spr = s.machine.state.arch.sections_per_root
    sec = r.section
    data = to_data(r, "pfn", "phys", "page", "e820", "pfn_valid", "direct", "kmaps", "touches", "node",
                   section="section_nr", section_mem_map="section.section_mem_map")
    data["section_flags"] = flag_letters(sec.flags) if sec else None
    lines = [f"pfn {s.num(pfn)}: phys {hx(r.phys)} ({r.e820})",
             f"  struct page {hx(r.page)}" + ("" if r.pfn_valid else "  (not pfn_valid: "
                                              "nothing backs this struct page)"),
             f"  section {r.section_nr} (root {r.section_nr // spr}, idx {r.section_nr % spr}): "
             + (f"section_mem_map {hx(sec.section_mem_map)} [{flag_letters(sec.flags)}]"
                if sec else "root not allocated")]
    if r.direct is not None:
        lines.append(f"  __va {hx(r.direct)}")
    lines += [f"  {line}" for line in r.compound]
    lines += [f"  {line}" for line in r.zone_device]
    data["head"], data["order"] = r.head, r.order
    data["pgmap"] = r.pgmap
    data["zone"] = "Device" if r.pgmap else None
    data["pgmap_set"] = r.pgmap_set
    if s.machine.state.spec.nodes is not None:
        lines.append(f"  node {r.node}" if r.node is not None else "  in no node's memory range")
    lines.append(f"  simulator: {r.kmaps} kmap(s) open, touched {r.touches} time(s)"
                 + (f", last by {r.last}" if r.last else ""))
    res = ok("page", f"page pfn={s.num(pfn)}", data, lines, {"pfn": pfn})
    res.source = s.context(r)
    return res


@command("identify", Subject.VIEWS, "what a kernel virtual address points at",
         help="Direct map, struct page in the memmap, or a device mapping; for a device mapping\n"
         "also whether this CPU's access is protected, racy or a use-after-free. Any other\n"
         "address is named by the arch's layout: vmalloc/ioremap, modules, kernel text,\n"
         "fixmap, user, non-canonical (`region` in --json).",
         examples=("identify 0xffffea0004018000", "identify 0xffff888100600000"),
         params=(Param("ADDR", Kind.ADDR),))
def run_identify(s: Session, w: Words) -> Result:
    addr = parse_number(w.args[0], "ADDR")
    r = s.machine.identify(addr)
    region = s.machine.state.arch.region_of(addr)
    data = to_data(r, "addr", "kind", "pfn", "phys", "range", "range_state", "verdict")
    data["region"] = str(region.kind)
    data["region_name"] = region.name
    kind = region.kind if r.kind == "unknown" else r.kind
    lines = [f"{hx(addr)}: {kind}" + (f" ({r.range}, {r.range_state})" if r.range else ""),
             f"  {r.detail}"]
    if r.pfn is not None:
        lines.append(f"  pfn {s.num(r.pfn)}, phys {hx(r.phys)}")
    warnings = [f"{r.verdict}: {r.detail}"] if r.verdict not in ("", "ok") else []
    return ok("identify", f"identify addr={hx(addr)}", data, lines, {"addr": addr}, warnings)


@command("ranges", Subject.VIEWS, "the kmap list in scan order, and ranges being torn down",
         help="Newest first, as list_for_each_entry_rcu() walks it.", examples=("ranges",))
def run_ranges(s: Session, w: Words) -> Result:
    st = s.machine.state
    rows: list[dict[str, Any]] = []
    lines = ["head" if st.kmap.nodes else "head (empty list)"]
    held: dict[str, int] = {}
    for m in st.mappings.values():
        if m.range:
            held[m.range] = held.get(m.range, 0) + 1
    for i, r in enumerate(st.kmap.nodes, 1):
        holders = held.get(r.name, 0)
        rows.append({**to_data(r, "name", "start", "end", "base", "state"), "position": i,
                     "mappings": holders})
        lines.append(f"  {i}. {r.name:<10} [{hx(r.start)}-{hx(r.end)}] base {hx(r.base)}  "
                     f"{holders} mapping(s)")
    for r in st.ranges.values():
        if r.state != "live":
            rows.append({**to_data(r, "name", "start", "end", "base", "state", "gp"),
                         "position": None})
            lines.append(f"     {r.name:<10} [{hx(r.start)}-{hx(r.end)}] {r.state}"
                         + (f" (grace period {r.gp})" if r.state == "unlinked" else ""))
    return ok("ranges", "", {"ranges": rows}, lines, {})


def _split_hot(sp: SparseMem) -> list[tuple[SectionRun, bool]]:
    """Runs of one section_mem_map word, cut where hotplug (memremap_pages) began or ended,
    so that a run says ZONE_DEVICE of all its sections or of none. O(runs + hot ranges)."""
    pss = sp.arch.pfn_section_shift
    spans = [(lo >> pss, hi >> pss) for lo, hi in sp.hot]
    out: list[tuple[SectionRun, bool]] = []
    for run in sp.iter_runs():
        cuts = sorted({run.first, run.last + 1}
                      | {n for a, b in spans for n in (a, b + 1) if run.first < n <= run.last})
        for lo, nxt in pairwise(cuts):
            out.append((replace(run, first=lo, last=nxt - 1), sp.hot_section(lo)))
    return out


@command("sections", Subject.VIEWS, "present mem_sections and the device section table",
         help="Runs of present sections with their section_mem_map word and P/M/O/E/D flags\n"
    "(D: SECTION_TAINT_ZONE_DEVICE); sections memremap_pages added say ZONE_DEVICE. Each\n"
    "row names its memory blocks (`blocks`), node and zones, like crash's kmem -n; --json the data.",
         examples=("sections", "sections --json"), switches=("json",))
def run_sections(s: Session, w: Words) -> Result:
    st = s.machine.state
    sp, a = st.sparse, st.arch
    runs: list[dict[str, Any]] = []
    lines = [f"{sp.nr_present} present sections of {size_text(1 << a.section_size_bits)} each "
             f"({sp.era.name} flags, SECTION_MAP_MASK {hx(sp.era.map_mask)}); "
             f"{len(sp.roots)} root(s) allocated"]
    full = (1 << a.subsections_per_section) - 1
    has_subsections = bool(sp.era.flags & SectionFlags.IS_EARLY)  # subsection hotplug era
    bz, _ = memory_block_size(st)
    per = max(1, bz >> a.section_size_bits)
    boot = [(r.first, r.last) for r in sp.boot_runs]
    spans = node_zones(st)  # once: every run's places read them
    for run, hot in _split_hot(sp):
        ms = sp.nr_to_section(run.first)
        assert ms is not None
        places = []
        for lo, hi, nid, zones in section_places(st, run.first, run.last, spans):
            blocks = (lo // per, hi // per) if any(f <= lo <= last for f, last in boot) else None
            where = ("no memory block" if blocks is None else f"block {blocks[0]}"
                     + (f"-{blocks[1]}" if blocks[1] != blocks[0] else ""))
            places.append(({"first": lo, "last": hi, "blocks": list(blocks) if blocks else None,
                            "nid": nid, "zone": zones or ("Device" if hot else "")},
                           f"{where}  node {nid}  {zones or '-'}"))
        runs.append({"first": run.first, "last": run.last, "section_mem_map": run.word,
                     "flags": flag_letters(ms.flags), "mem_map": ms.mem_map, "zone_device": hot,
                     "early": ms.early, "places": [p for p, _ in places]})
        one = places[0][1] + "  " if len(places) == 1 else ""
        lines.append((f"  {run.first}..{run.last}  [{flag_letters(ms.flags)}]  "
                      f"section_mem_map {hx(run.word)}  mem_map {hx(ms.mem_map)}  {one}"
                      + ("ZONE_DEVICE" if hot else "")).rstrip())
        if len(places) > 1:
            lines += [f"    {p['first']}..{p['last']}  {text}" for p, text in places]
        for nr in sorted({run.first, run.last}) if has_subsections else ():
            bits = sp.subsection_map(nr, st.physmap)
            if bits != full:
                runs[-1].setdefault("partial", {})[str(nr)] = bits
                n = f"{bin(bits).count('1')} of {a.subsections_per_section} x 2M"
                lines.append(f"    section {nr}: subsection_map {bits:#x} " + (
                    f"(RAM and hotplug in {n}; early section, so pfn_valid() holds for all of it)"
                    if ms.early else f"(hot-added {n}: pfn_valid() only there)"))
    table = st.table.runs()  # O(ranges), however many sections
    device = [{"first": lo, "last": hi, "ranges": list(names)} for lo, hi, names in table]
    if device:
        slots = sum(hi - lo + 1 for lo, hi, _ in table)
        lines.append(f"section table (device ranges): {slots} slot(s) in {len(device)} run(s)")
        for lo, hi, names in table[:8]:
            lines.append(f"  {lo}..{hi}: {', '.join(names)}")
        if len(device) > 8:
            lines.append(f"  … {len(device) - 8} more run(s)")
    return json_view(ok("sections", "", {"runs": runs, "device_runs": device, "block_size": bz},
                        lines, {}), w.switches)


@command("explain", Subject.VIEWS, "the kernel code path behind the last result",
         help="Step by step, with the nodes the list walk touched, the section macros beside\n"
         "them, and the kernel source file each step comes from.", examples=("explain",))
def run_explain(s: Session, w: Words) -> Result:
    last = s.last_path
    if last is None or last.source is None:
        raise ParseError("explain: nothing to explain yet; run kmap, kunmap, teardown, lookup "
                         "or page first")
    return ok("explain", f"explain {last.echo or last.cmd}", {"explains": last.cmd},
              explain(last.source) + measured_lines(last.data.get("measured")), {})


@command("sweep", Subject.VIEWS, "kmap cost against the number of ranges, on scratch machines",
         words="[cold|warm]",
         help="Build machines with 1, 4, 16, 64 and 256 ranges (x86_64-5level, one section\n"
         "each) and kmap into the oldest: the list walk visits every node, the section\n"
         "lookup stays at two loads. Costed with this session's CPU profile; `warm` maps\n"
         "the page once first, so the figures are a second kmap's. Changes nothing here.",
         examples=("sweep", "sweep warm"), params=(Param("CACHE", Kind.WORD, optional=True),))
def run_sweep(s: Session, w: Words) -> Result:
    mode = w.args[0] if w.args else "cold"
    if mode not in ("cold", "warm") or len(w.args) > 1:
        raise ParseError(f"sweep {' '.join(w.args)}: use sweep, sweep cold or sweep warm")
    rows = sweep(COUNTS, warm=mode == "warm", profile=s.machine.state.profile)
    data: dict[str, Any] = {"cache": mode, "profile": s.machine.state.profile,
                            "rows": [to_data(r, "n", "list_steps", "list_loads", "list_model_ns",
                                             "section_loads", "section_model_ns", "page_loads",
                                             "page_model_ns", "agree", list_sim_ns="list_ns",
                                             section_sim_ns="section_ns") for r in rows]}
    lines = [f"kmap into the oldest of N ranges, {mode} caches ({profile_text(s.machine.state.profile)})",
             f"{'N':>5} {'list loads':>10} {'list':>9} {'section loads':>13} {'section':>9} {'page':>8}"]
    lines += [f"{r.n:>5} {r.list_loads:>10} {model_ns_text(r.list_model_ns):>9} "
              f"{r.section_loads:>13} {model_ns_text(r.section_model_ns):>9} "
              f"{model_ns_text(r.page_model_ns):>8}" for r in rows]
    return ok("sweep", f"sweep {mode}", data, lines, {"cache": mode})
