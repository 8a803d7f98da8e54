"""Verbs on compound pages and zones: `alloc_pages ORDER [zone=]`, `zones`."""

from __future__ import annotations

from ...core.folio import MAX_PAGE_ORDER, describe
from ...core.zones import node_zones
from ..parse import Words, parse_number
from ..registry import Kind, Option, Param, Subject, command
from ..render import hx, json_view, ok, size_text
from ..result import Result
from ..session import Session


@command("alloc_pages", Subject.VIEWS, "allocate a compound page (a folio) of 2^ORDER pages",
         help="alloc_pages(GFP_KERNEL | __GFP_COMP, ORDER): the head and its tails, recorded the\n"
         "way the machine's kernel version does (page->compound_head = head + 1 from v4.4,\n"
         "the order in page[1] or, from v6.8, the first tail's flags). The console takes the\n"
         f"lowest free aligned block of RAM (zone=DMA|DMA32|Normal on x86_64); ORDER 0 to {MAX_PAGE_ORDER}.\n"
         "`page PFN` and `identify` of a struct page then name the folio; `undo` frees it.",
         examples=("alloc_pages 9", "alloc_pages 0 zone=DMA32"),
         params=(Param("ORDER", Kind.NUMBER),), options=(Option("zone", Kind.WORD, ("DMA", "DMA32", "Normal")),),
         mutates=True)
def run_alloc_pages(s: Session, w: Words) -> Result:
    order = parse_number(w.args[0], "ORDER")
    zones = w.options.get("zone")
    zone = zones[0] if zones else None
    f = s.machine.alloc_pages(order, zone)
    st = s.machine.state
    shift = st.arch.page_shift
    first, last = f.head << shift, ((f.head + f.nr_pages) << shift) - 1
    what = "compound page" if order else "page (not compound)"
    lines = [f"order-{order} {what} at pfn {s.num(f.head)}: [{hx(first)}-{hx(last)}] "
             f"({size_text(last - first + 1)}, ZONE_{f.zone.upper()})",
             *(f"  {line}" for line in describe(st, f.head, f)),
             f"  struct pages {hx(st.sparse.pfn_to_page(f.head) or 0)} .. "
             f"{hx(st.sparse.pfn_to_page(f.head + f.nr_pages - 1) or 0)}",
             "  (where the buddy allocator finds a block is its own: this is the lowest free one)"]
    data = {"head": f.head, "order": order, "pages": f.nr_pages, "zone": f.zone, "start": first, "end": last,
            "head_page": st.sparse.pfn_to_page(f.head)}
    echo = f"alloc_pages {order}" + (f" zone={zone}" if zone else "")
    return ok("alloc_pages", echo, data, lines, {"order": order, "zone": zone})


@command("zones", Subject.VIEWS, "each node's zones: start_pfn, spanned and present pages",
         help="The zones free_area_init() makes from the machine's memory map, as /proc/zoneinfo\n"
         "reports them: the node's span (first to last pfn of memory) clamped to the zone's\n"
         "limits gives start_pfn and spanned (holes included); present counts the pages of\n"
         "memory. managed (present less boot reservations) is not modelled; a machine built\n"
         "with a /proc/zoneinfo shows that file's. Zone limits are x86_64's (DMA below 16 MiB,\n"
         "DMA32 below 4 GiB); other arches show one Normal zone per node.",
         examples=("zones", "zones --json", "machine ram=2G", "zones"), switches=("json",))
def run_zones(s: Session, w: Words) -> Result:
    st = s.machine.state
    got = node_zones(st)
    lines = [f"{len(got)} populated zone(s) on {len({z.nid for z in got})} node(s)"
             + ("" if st.arch.name.startswith("x86") else f" (zone limits not modelled on {st.arch.name})")]
    managed = {(nid, name): n for nid, name, n in st.spec.managed}
    for z in got:
        known = managed.get((z.nid, z.name))
        lines.append(f"  Node {z.nid}, zone {z.name:>8}  start_pfn {hx(z.start_pfn)}  spanned {z.spanned:>9}  "
                     f"present {z.present:>9}  ({size_text(z.present << st.arch.page_shift)})"
                     + (f"  managed {known} (from /proc/zoneinfo)" if known is not None else ""))
    if managed:
        lines.append("  managed (present less boot reservations) is the host's figure; the model does not compute it")
    data = {"zones": [{"nid": z.nid, "zone": z.name, "start_pfn": z.start_pfn, "spanned": z.spanned,
                       "present": z.present, "managed": managed.get((z.nid, z.name))} for z in got]}
    return json_view(ok("zones", "zones", data, lines, {}), w.switches)
