"""Verbs on ZONE_DEVICE: memremap_pages, memunmap_pages, get_dev_pagemap, pgmaps."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from ...core.memremap import TYPE_NAMES, DevPagemap
from ..costs import PGMAP_COSTS, cost_lines
from ..parse import ParseError, Words, parse_number
from ..registry import Kind, Option, Param, Subject, command, opt
from ..render import hx, ok, size_text, to_data
from ..result import Result
from ..session import Session


def pgmap_data(pg: DevPagemap) -> dict[str, Any]:
    """One dev_pagemap as --json and the panes give it."""
    data = to_data(pg, "name", "type", "c_type", "type_value", "start", "end", "nid", "first_pfn", "last_pfn",
                   "nr_pages", "dataoff", "device_sections", "first_block", "tainted", "lookup", "notes")
    data["hot_first"], data["hot_last"] = pg.hot
    a = pg.altmap
    data["altmap"] = None if a is None else {**to_data(a, "base_pfn", "end_pfn", "reserve", "free", "align",
                                                        "alloc"), "offset": a.offset, "nr_free": a.nr_free}
    return data


def pgmap_lines(pg: DevPagemap, page_shift: int, section_shift: int) -> list[str]:
    kind = f"{pg.c_type} ({pg.type_value})" if pg.c_type else "no type field (before v4.14)"
    size = pg.end - pg.start + 1
    lines = [f"{pg.name}: [{hx(pg.start)}-{hx(pg.end)}] ({size_text(size)}) in ZONE_DEVICE, node {pg.nid}, {kind}"]
    lo, hi = pg.hot[0] << page_shift, ((pg.hot[1] + 1) << page_shift) - 1
    nr_lo, nr_hi = lo >> section_shift, hi >> section_shift
    if (lo, hi) != (pg.start, pg.end):
        lines.append(f"  hot-added [{hx(lo)}-{hx(hi)}]: widened to whole sections (before v5.3)")
    lines.append(f"  sections {nr_lo}..{nr_hi} present, with a mem_map, not online"
                 + (f"; SECTION_TAINT_ZONE_DEVICE on {', '.join(map(str, pg.tainted))}" if pg.tainted else ""))
    a = pg.altmap
    if a is None:
        lines.append("  memmap in RAM (no altmap)")
    else:
        lines.append(f"  altmap: base_pfn {hx(a.base_pfn)} reserve {a.reserve} free {a.free} -> "
                     f"vmem_altmap_offset {a.offset}; used alloc {a.alloc} + align {a.align}, "
                     f"{a.nr_free} left")
        if pg.device_sections and pg.first_block is not None:
            s_lo, s_hi = pg.device_sections
            lines.append(f"  memmap of sections {s_lo}..{s_hi} in the device: {s_hi - s_lo + 1} x 2 MiB "
                         f"from pfn {hx(pg.first_block)} (dataoff {hx(pg.dataoff)})")
    if pg.nr_pages > 0:
        lines.append(f"  page->pgmap for pfns {hx(pg.first_pfn)}..{hx(pg.last_pfn)} ({pg.nr_pages} pages)")
    lines.append(f"  lookup: {pg.lookup}")
    lines += [f"  {n}" for n in pg.notes]
    return lines


@command(
    "memremap_pages", Subject.ZONE_DEVICE, "give a device range struct pages in ZONE_DEVICE (what was merged)",
    help="memremap_pages() (devm_memremap_pages() before v5.4) for physical [START, START+SIZE-1], as the\n"
    "machine's kernel version does it: the pgmap type that version has (type=fsdax|devdax|generic|\n"
    "private|coherent|p2pdma|host|public), the collision and System RAM checks with the kernel's\n"
    "messages, sections widened to 128 MiB before v5.3 and 2 MiB subsections after, the sections made\n"
    "present (never online; D = SECTION_TAINT_ZONE_DEVICE from v5.12), page->pgmap from pfn_first().\n"
    "map=dev keeps the memmap in the device (an nvdimm namespace's altmap: 8 KiB info block, 64 bytes\n"
    "per page, 2 MiB aligned); map=mem (the default) takes it from RAM. nid= the node. `undo` or\n"
    "`memunmap_pages NAME` takes it back; `page PFN`, `lookup PFN`, `get_dev_pagemap PFN` then see it.",
    examples=("memremap_pages pmem0 0x440000000 4G map=dev", "memremap_pages gpu 0x540000000 256M type=private",
              "machine x86_64 kver=4.10", "memremap_pages pmem0 0x440000000 4G"),
    params=(Param("NAME", Kind.NAME), Param("START", Kind.NUMBER), Param("SIZE", Kind.NUMBER)),
    options=(Option("type", Kind.WORD, TYPE_NAMES), Option("map", Kind.WORD, ("mem", "dev")),
             Option("nid", Kind.NUMBER, meta="NODE")), mutates=True)
def run_memremap(s: Session, w: Words) -> Result:
    name = w.args[0]
    start = parse_number(w.args[1], "START")
    size = parse_number(w.args[2], "SIZE")
    kind = opt(w, "type")
    where = (opt(w, "map") or "mem").lower()
    if where not in ("mem", "dev"):
        raise ParseError(f"memremap_pages: map={where}: use map=mem (memmap in RAM) or map=dev (in the device)")
    nid_text = opt(w, "nid")
    nid = parse_number(nid_text, "nid") if nid_text is not None else 0
    pg = s.machine.memremap_pages(name, start, size, kind, where == "dev", nid)
    a = s.machine.state.arch
    echo = (f"memremap_pages {name} start={hx(start)} size={size_text(size)}" + (f" type={kind}" if kind else "")
            + (" map=dev" if where == "dev" else "") + (f" nid={nid}" if nid else ""))
    return ok("memremap_pages", echo, pgmap_data(pg), pgmap_lines(pg, a.page_shift, a.section_size_bits),
              {"name": name, "start": start, "size": size, "type": kind, "map": where, "nid": nid})


@command("memunmap_pages", Subject.ZONE_DEVICE, "take a dev_pagemap's range out of ZONE_DEVICE",
         help="memunmap_pages(): the sections memremap_pages added are removed (those it shared with\n"
         "RAM keep their boot memmap) and the lookup entry is dropped.",
         examples=("memremap_pages pmem0 0x440000000 4G", "memunmap_pages pmem0"),
         params=(Param("NAME", Kind.NAME),), mutates=True)
def run_memunmap(s: Session, w: Words) -> Result:
    pg = s.machine.memunmap_pages(w.args[0])
    return ok("memunmap_pages", f"memunmap_pages {pg.name}", pgmap_data(pg),
              [f"{pg.name}: [{hx(pg.start)}-{hx(pg.end)}] left ZONE_DEVICE; its sections are gone"],
              {"name": pg.name})


@command("get_dev_pagemap", Subject.ZONE_DEVICE, "find a pfn's dev_pagemap, costed (the merged lookup)",
         help="get_dev_pagemap(pfn, NULL) on this kernel version: the v4.5 radix tree keyed by section,\n"
         "the v4.14 multi-order radix tree keyed by pfn, or from v4.20 the xarray pgmap_array; each\n"
         "node level is two dependent loads (its shift, then the slot), a sibling slot one more, then\n"
         "percpu_ref_tryget_live(). Costed in the caches as they are, which it leaves unchanged.",
         examples=("memremap_pages pmem0 0x440000000 4G", "get_dev_pagemap 0x440600"),
         params=(Param("PFN", Kind.NUMBER),))
def run_get_dev_pagemap(s: Session, w: Words) -> Result:
    pfn = parse_number(w.args[0], "PFN")
    pg, walk, cost = s.machine.get_dev_pagemap(pfn)
    st = s.machine.state
    data: dict[str, Any] = {"pfn": pfn, "pgmap": pg.name if pg else None,
                            "lookup": str(pg.lookup) if pg else None, "path": "pgmap",
                            "tree_loads": len(walk.loads) if walk else 0,
                            "height": walk.height if walk else None, "sibling": walk.sibling if walk else False,
                            "trace": [x.what for x in cost.trace],
                            **to_data(SimpleNamespace(pgmap_cost=cost), **PGMAP_COSTS)}
    data["profile"] = st.profile
    lines = [f"get_dev_pagemap({hx(pfn)}) -> " + (f"{pg.name}" if pg else "NULL")
             + (f"  ({pg.c_type})" if pg and pg.c_type else "")]
    if walk is None:
        lines.append("  v4.3/v4.4 keep no dev_pagemap: nothing to look up")
    else:
        lines += [f"    {i}. {x.what:<30} {x.level}" for i, x in enumerate(cost.trace, 1)]
    lines += cost_lines(st.profile, cost)
    lines.append("  (a lookup leaves the caches as they were)")
    return ok("get_dev_pagemap", f"get_dev_pagemap pfn={s.num(pfn)}", data, lines, {"pfn": pfn})


@command("pgmaps", Subject.ZONE_DEVICE, "the dev_pagemaps memremap_pages made, oldest first",
         help="Each ZONE_DEVICE range: type, sections, altmap arithmetic, pfns with page->pgmap.",
         examples=("pgmaps",))
def run_pgmaps(s: Session, w: Words) -> Result:
    st = s.machine.state
    rows = [pgmap_data(pg) for pg in st.pgmaps.values()]
    lines = [f"{len(rows)} dev_pagemap(s); lookup: "
             + ("none before v4.5" if st.kver < (4, 5) else str(next(iter(st.pgmaps.values())).lookup)
                if st.pgmaps else "(empty)")]
    for pg in st.pgmaps.values():
        lines += pgmap_lines(pg, st.arch.page_shift, st.arch.section_size_bits)
    return ok("pgmaps", "", {"pgmaps": rows}, lines, {})
