"""`explain`: the kernel code path behind the last result, step by step.

Modelled on drgn's habit of showing the code behind an answer.  The text paraphrases the
kernel in our own words and names the source file each step comes from (see
../shared/reference/kernel-facts.md for the citations).
"""

from __future__ import annotations

import textwrap

from ..core.arch import ArchProfile
from ..core.cost import PathCost
from ..core.kmap_pfn import Step
from ..core.machine import KmapResult, KunmapResult, LookupResult, PageResult, TeardownResult
from ..core.units import hx
from .costs import model_ns_text
from .result import PathContext

KMAP_PFN_C = "mm/kmap_pfn.c (v5 patch 2/5, Aug 2015, never merged)"
MM_H = "include/linux/mm.h (same patch)"
MMZONE_H = "include/linux/mmzone.h"
MEMORY_MODEL_H = "include/asm-generic/memory_model.h"
RCULIST_H = "include/linux/rculist.h"


WIDTH = 78
"""Explanations fit an 80-column terminal."""


def _row(code: str, comment: str, width: int = 34) -> str:
    """``code`` with its comment beside it, or below it when the two do not fit."""
    if not comment:
        return f"  {code}"
    if len(code) <= width and 2 + width + 1 + len(comment) <= WIDTH:
        return f"  {code:<{width}} {comment}"
    return f"  {code}\n" + textwrap.fill(comment, WIDTH, initial_indent=" " * 6,
                                          subsequent_indent=" " * 6)


def section_macros(arch: ArchProfile, pfn: int, what: str) -> list[str]:
    """pfn_to_section_nr -> root/index, the loads the section path makes."""
    nr = pfn >> arch.pfn_section_shift
    root, idx = divmod(nr, arch.sections_per_root)
    return [
        f"section path ({what}), {MMZONE_H}",
        _row(f"pfn_to_section_nr({hx(pfn)})", f"= pfn >> PFN_SECTION_SHIFT ({arch.pfn_section_shift})"
             f" = {nr}"),
        _row(f"SECTION_NR_TO_ROOT({nr})", f"= {nr} / SECTIONS_PER_ROOT ({arch.sections_per_root})"
             f" = {root}, index {idx}"),
        _row(f"load mem_section[{root}]", "load 1: the root page of sections"),
        _row(f"load mem_section[{root}][{idx}]", "load 2: the section word (one cache line)"),
    ]


def _scan_rows(steps: tuple[Step, ...], ranges: dict[str, tuple[int, int, int]],
               addr: int, kva: bool) -> list[str]:
    out = []
    for st in steps:
        start, end, base = ranges.get(st.name, (0, -1, 0))
        if kva:
            test = (f"base {hx(base)} <= addr < base+size" if st.hit else
                    ("addr < kmap->base" if addr < base else "addr >= base + resource_size"))
        elif st.hit:
            test = f"res->start <= {hx(addr)} <= res->end"
        elif addr < start:
            test = "addr < res->start"
        else:
            test = "addr > res->end"
        out.append(_row(f"  {st.index}. {st.name} [{hx(start)}-{hx(end)}]",
                        f"{'HIT ' if st.hit else 'miss'} {test}; {st.loads} loads"))
    return out


def explain_kmap(r: KmapResult, arch: ArchProfile, ranges: dict[str, tuple[int, int, int]],
                 page: int | None = None) -> list[str]:
    d = r.decoded
    pfn = d.pfn or 0
    phys = pfn << arch.page_shift
    lines = [f"kmap_atomic_pfn_t(__pfn_t {hx(r.value)})", f"  {KMAP_PFN_C}",
             _row(f"pfn = val >> PAGE_SHIFT = {hx(pfn)}, flags {'|'.join(d.flags) or '0'}",
                  MM_H)]
    if d.has_page:
        lines += [
            _row("page = __pfn_t_to_page(pfn)", "PFN_DEV clear: there is a struct page"),
            _row(f"     = pfn_to_page({hx(pfn)})", f"= {hx(page)}   {MEMORY_MODEL_H}"),
            _row("rcu_read_lock()", f"taken even here: reader on cpu{r.cpu}, "
                 f"nesting {r.nesting}"),
            _row("return kmap_atomic(page)", f"64-bit: page_address() = __va({hx(phys)}) = "
                 f"{hx(r.addr)}"),
            "  the lock stays held until kunmap_atomic_pfn_t(): this is the cost on every",
            "  page-backed access that the 2015 review objected to",
        ]
    else:
        lines += [_row("page = __pfn_t_to_page(pfn)", "PFN_DEV set: NULL, no struct page"),
                  _row("rcu_read_lock()", f"reader on cpu{r.cpu}"),
                  _row(f"addr = __pfn_t_to_phys(pfn) = {hx(phys)}", ""),
                  _row("list_for_each_entry_rcu(kmap, &ranges, list)",
                       f"newest first; {RCULIST_H}")]
        lines += _scan_rows(r.steps, ranges, phys, kva=False)
        if r.path == "list":
            lines += [_row(f"return kmap->base + (addr - res->start) = {hx(r.addr)}",
                           "still inside the RCU read-side section"),
                      f"  list path total: {r.list_cost.steps} node(s), {r.list_cost.loads} "
                      "dependent loads",
                      "    (per node: the pointer that reached it, kmap->res, res->start,",
                      "    res->end when addr >= start; kmap->base on the hit)"]
        else:
            lines += [_row("rcu_read_unlock(); return NULL", "no range: the only unlock in kmap"),
                      f"  list path total: {r.list_cost.steps} node(s), {r.list_cost.loads} loads"]
    lines.append("")
    if d.has_page:
        lines.append("  section path: not needed, a pfn with a struct page has page_address()")
    else:
        lines += section_macros(arch, pfn, "device table")
        lines.append(_row("kva = slot base + (addr - slot start)",
                          f"= {hx(r.section_cost.answer)}"))
        lines.append(f"  section path total: {r.section_cost.loads} loads, whatever the number "
                     "of ranges" + ("" if r.agree else "  -- the two paths DISAGREE"))
    return lines + model_rows(r.list_cost, r.section_cost, r.page_cost)


MAX_TRACE = 12
"""Loads listed one by one per path; a longer walk is summed up after them."""


def model_rows(*costs: PathCost | None) -> list[str]:
    """Each path's loads with the cache level each hit, and the simulator's own time."""
    out = ["", "modelled cost, load by load (each path on caches of its own):"]
    for c in costs:
        if c is None or not c.needed:
            continue
        out.append(f"  {c.path}: {c.loads} loads, {c.cycles:.0f} cycles = "
                   f"{model_ns_text(c.model_ns)}; sim_ns {c.sim_ns} (simulator time)")
        for ld in c.trace[:MAX_TRACE]:
            out.append(_row(f"    {ld.what}", f"{hx(ld.addr)}  {ld.level:<4} {ld.cycles:.0f} cycles"))
        if len(c.trace) > MAX_TRACE:
            rest = c.trace[MAX_TRACE:]
            out.append(f"    … {len(rest)} more loads, {sum(x.cycles for x in rest):.0f} cycles")
        if c.path == "page":
            out.append(_row("    the arithmetic", "4 cycles (subtract, shift, shift, add)"))
    return out


def explain_kunmap(r: KunmapResult, ranges: dict[str, tuple[int, int, int]]) -> list[str]:
    lines = [f"kunmap_atomic_pfn_t({hx(r.addr)})", f"  {KMAP_PFN_C}",
             _row("list_for_each_entry_rcu(kmap, &ranges, list)",
                  "no new rcu_read_lock: the kmap's is still held")]
    lines += _scan_rows(r.steps, ranges, r.addr, kva=True)
    if r.kind == "device":
        lines.append(_row("found: a device address", "nothing to unmap"))
    else:
        lines.append(_row(f"kunmap_atomic({hx(r.addr)})", "not on the list: treated as a page"))
    lines.append(_row("rcu_read_unlock()", f"{r.rcu_readers} reader(s) left"))
    for gp in r.gps_ended:
        lines.append(_row(f"grace period {gp} ends", "this CPU reached a quiescent state"))
    for name in r.freed:
        lines.append(_row(f"kfree({name})", "teardown_kmap() returns from synchronize_rcu()"))
    return lines + model_rows(r.list_cost)


def explain_teardown(r: TeardownResult) -> list[str]:
    lines = [f"teardown_kmap({r.name}): the devres action run on driver unbind,",
             f"  {KMAP_PFN_C}",
             _row("mutex_lock(&register_lock)", "serialises list updates"),
             _row("list_del_rcu(&kmap->list)", f"readers starting now miss it; {RCULIST_H}"),
             _row("mutex_unlock(&register_lock)", "others may register or tear down now"),
             _row("synchronize_rcu()", f"grace period {r.gp}: waits for every CPU that was in "
                  "a read-side section")]
    if r.state == "freed":
        lines.append(_row("kfree(kmap)", "no reader was in the way: done at once"))
    else:
        lines.append(_row(f"  blocked on cpu {', '.join(map(str, r.waiting_cpus))}",
                          f"readers {', '.join(map(str, r.waiting_readers))} hold it"))
        lines.append(_row("kfree(kmap)", "after the last of them calls kunmap"))
    return lines


def explain_lookup(r: LookupResult, arch: ArchProfile,
                   ranges: dict[str, tuple[int, int, int]]) -> list[str]:
    lines = [f"lookup {hx(r.pfn)}: phys = PFN_PHYS(pfn) = {hx(r.phys)}",
             _row("list path: list_for_each_entry_rcu over ranges", KMAP_PFN_C)]
    lines += _scan_rows(r.steps, ranges, r.phys, kva=False)
    lines.append(f"  -> {r.list_range or 'no range'}, {r.list_cost.loads} loads")
    lines.append("")
    lines += section_macros(arch, r.pfn, "device table")
    lines.append(f"  -> {r.section_range or 'no range'}, {r.section_cost.loads} loads")
    lines.append("")
    lines += explain_page_memmap(arch, r.pfn, r.pfn_valid, r.page)
    return lines + model_rows(r.list_cost, r.section_cost, r.page_cost) + [
        "  (a lookup runs its loads on the caches and takes them back: nothing changes)"]


def explain_page_memmap(arch: ArchProfile, pfn: int, valid: bool, page: int | None
                        ) -> list[str]:
    nr = pfn >> arch.pfn_section_shift
    return [
        f"pfn_valid({hx(pfn)}), {MMZONE_H}",
        _row(f"__nr_to_section({nr})", "NULL if the root was never allocated"),
        _row("valid_section(ms)", "SECTION_HAS_MEM_MAP set?"),
        _row("early_section(ms) || pfn_section_valid()", f"-> {valid}"),
        _row(f"pfn_to_page({hx(pfn)})", f"{MEMORY_MODEL_H}: vmemmap + pfn, or "
             f"__section_mem_map_addr() + pfn -> {hx(page)}"),
    ]


def explain_page(r: PageResult, arch: ArchProfile) -> list[str]:
    return explain_page_memmap(arch, r.pfn, r.pfn_valid, r.page) + [
        _row(f"__va(PFN_PHYS({hx(r.pfn)}))", f"PAGE_OFFSET + phys = {hx(r.direct)}")]


def explain(ctx: PathContext) -> list[str]:
    """Lines for the kernel path behind a result."""
    r, arch, ranges = ctx.answer, ctx.arch, ctx.ranges
    if isinstance(r, KmapResult):
        return explain_kmap(r, arch, ranges, ctx.page)
    if isinstance(r, KunmapResult):
        return explain_kunmap(r, ranges)
    if isinstance(r, TeardownResult):
        return explain_teardown(r)
    if isinstance(r, LookupResult):
        return explain_lookup(r, arch, ranges)
    return explain_page(r, arch)
