"""Verbs on the 2015 kmap_pfn registry and RCU: register, kmap, kunmap, teardown, cpu, rcu."""

from __future__ import annotations

from ...core.kmap_pfn import Step
from ...core.machine import KmapResult
from ..costs import COSTS, PAGE_COSTS, PGMAP_COSTS, SECTION_COSTS, cost_lines, model_ns_text
from ..measured import measure_walk, measured_lines
from ..parse import ParseError, Words, parse_number
from ..registry import Kind, Option, Param, Subject, command, opt
from ..render import hx, ok, size_text, to_data
from ..result import Result
from ..session import Session


@command(
    "register", Subject.KMAP_PFN, "devm_register_kmap_pfn_range(): add a device range",
    help="Register physical [START, START+SIZE-1] with the kernel virtual address it is\n"
    "mapped at (default: the next free spot in vmalloc space). list_add_rcu() puts it at\n"
    "the head, so it is scanned first. Overlapping ranges and duplicate names are refused.",
    examples=("register pmem1 0x440000000 4G",
              "register pmem2 0x540000000 4G base=0xffffc90400000000"),
    params=(Param("NAME", Kind.NAME), Param("START", Kind.NUMBER), Param("SIZE", Kind.NUMBER)),
    options=(Option("base", Kind.NUMBER, meta="KVA"),), mutates=True)
def run_register(s: Session, w: Words) -> Result:
    name = w.args[0]
    start = parse_number(w.args[1], "START")
    size = parse_number(w.args[2], "SIZE")
    base_text = opt(w, "base")
    base = parse_number(base_text, "base") if base_text is not None else None
    r = s.machine.register(name, start, size, base)
    node = r.range
    data = to_data(r, "position", "list_len", shared_sections="shared", name="range.name", start="range.start",
                   end="range.end", size="range.size", base="range.base",
                   first_section="sections.0", last_section="sections.1")
    lines = [f"{name}: res [{hx(node.start)}-{hx(node.end)}] ({size_text(node.size)}) "
             f"base {hx(node.base)}",
             f"  list_add_rcu: first of {r.list_len} (scans go newest first)",
             f"  section table: sections {r.sections[0]}..{r.sections[1]}"]
    warnings = list(r.warnings)
    if r.shared:
        warnings.append("not section aligned: sections "
                        + ", ".join(f"{nr} ({'/'.join(n)})" for nr, n in r.shared.items())
                        + " hold more than one range, so the section path checks each")
    return ok("register", f"register {name} start={hx(start)} size={size_text(size)}"
              + (f" base={hx(base)}" if base is not None else ""), data, lines,
              {"name": name, "start": start, "size": size, "base": base}, warnings)


KMAP_ABIS = ("v5", "v5rfc", "pfn_t")
"""The __pfn_t kmap_atomic_pfn_t() takes: the v5 patch as posted, or with the RFC's PFN_MAP;
or the merged pfn_t of the machine's kernel (kmap_atomic(pfn_t_to_page()), no list)."""


def pfn_and_flags(w: Words, what: str) -> tuple[int, list[str]]:
    """``PFN [FLAG...]``: the pfn and the flag words after it."""
    if not w.args:
        raise ParseError(f"{what}: missing PFN")
    return parse_number(w.args[0], "PFN"), list(w.args[1:])


@command(
    "kmap", Subject.KMAP_PFN, "kmap_atomic_pfn_t(): map a __pfn_t, list path or page path",
    words="PFN [dev|sg_chain|sg_last ...]", forms=("kmap raw=VALUE", "kmap PFN dev map abi=v5rfc"),
    help="Build a 2015 __pfn_t (pfn << PAGE_SHIFT | flags) or take a raw one, and map it on the\n"
    "current CPU. The posted v5 ABI has no PFN_MAP; abi=v5rfc reads bit 3 as the same night's\n"
    "RFC PFN_MAP (then dev map has a struct page). rcu_read_lock() is always taken.\n"
    "Without PFN_DEV (or with the RFC's PFN_MAP) the page path returns\n"
    "kmap_atomic(page); with it the RCU list is scanned newest first for a range holding\n"
    "the address. A hit returns base + offset still holding the lock (kunmap releases it);\n"
    "a miss unlocks and returns NULL. Both the list and the section path are costed.\n"
    "abi=pfn_t takes the merged pfn_t of the machine's kernel instead: PFN_DEV|PFN_MAP means\n"
    "ZONE_DEVICE struct pages, so kmap_atomic(pfn_t_to_page()) and no list at all; where a\n"
    "dev_pagemap holds the pfn, get_dev_pagemap() is costed beside the other paths.",
    examples=("register pmem1 0x440000000 4G", "kmap 0x440600 dev", "kmap raw=0x440600004",
              "kmap 0x1000", "memremap_pages pmem0 0x440000000 4G", "kmap 0x440600 dev map abi=pfn_t"),
    params=(Param("PFN", Kind.NUMBER, optional=True),
            Param("FLAG", Kind.FLAG, optional=True, variadic=True)),
    options=(Option("raw", Kind.NUMBER, meta="VALUE"), Option("abi", Kind.WORD, KMAP_ABIS)),
    mutates=True)
def run_kmap(s: Session, w: Words) -> Result:
    raw = opt(w, "raw")
    abi = (opt(w, "abi") or "v5").lower()
    if abi not in KMAP_ABIS:
        raise ParseError(f"kmap: abi={abi} is not a __pfn_t; use abi=v5 (as posted), abi=v5rfc or "
                         "abi=pfn_t (the merged one)")
    st = s.machine.state
    kver = f"{st.kver[0]}.{st.kver[1]}" if abi == "pfn_t" else None
    if raw is not None:
        if w.args:
            raise ParseError("kmap: give either PFN [FLAG...] or raw=VALUE, not both")
        value = parse_number(raw, "raw")
        s.machine.decode(abi, value, kver)  # the posted v5 refuses bit 3 (PFN_MAP is the RFC's)
        parsed: dict[str, object] = {"raw": value}
    else:
        pfn, flags = pfn_and_flags(w, "kmap")
        value = s.machine.encode(abi, pfn, flags, kver)  # the posted v5 has no PFN_MAP
        parsed = {"pfn": pfn, "flags": flags}
    if abi != "v5":
        parsed["abi"] = abi
    r = s.machine.kmap_atomic_pfn_t(value, "pfn_t" if abi == "pfn_t" else "v5")
    d = r.decoded
    echo = (f"kmap pfn={s.num(d.pfn)} flags={'|'.join(d.flags) or '0'} -> "
            f"{'pfn_t' if abi == 'pfn_t' else '__pfn_t'} "
            f"{s.num(value)}  (cpu{r.cpu})")
    data = to_data(r, "value", "cpu", "addr", "path", "range", "agree", "rcu_readers",
                   "nesting", "steps", pfn="decoded.pfn", flags="decoded.flags",
                   has_page="decoded.has_page", **COSTS, **SECTION_COSTS, **PAGE_COSTS,
                   **(PGMAP_COSTS if r.pgmap_cost else {}))
    data["profile"] = s.machine.state.profile
    if abi != "v5":
        data["abi"] = abi
    page = s.machine.state.sparse.pfn_to_page(d.pfn) if d.has_page and d.pfn is not None \
        else None
    lines = kmap_lines(r, s.machine.state.profile)
    if r.steps and r.steps[-1].hit:  # the list walk found it: time that walk on this CPU
        m = measure_walk(len(s.machine.state.kmap.nodes), len(r.steps))
        if m:
            data["measured"] = m
            lines += measured_lines(m)
    res = ok("kmap", echo, data, lines, parsed, r.warnings)
    res.source = s.context(r, [st.name for st in r.steps], page)
    return res


def kmap_lines(r: KmapResult, profile: str) -> list[str]:
    lc = r.list_cost
    if r.path == "page" and r.mapping is None:
        lines = [f"page path: kmap_atomic(pfn_t_to_page()) = page_address() = {hx(r.addr)}",
                 "  the merged kernel: no list and no rcu_read_lock(); on 64-bit kmap_atomic() only",
                 "  disables preemption, so there is no mapping for kunmap to find"]
    elif r.path == "page":
        lines = [f"page path: kmap_atomic(pfn_to_page) = {hx(r.addr)}",
                 "  rcu_read_lock() taken anyway (held until kunmap)"]
    elif r.path == "list":
        lines = [f"list path: {r.range} at node {lc.steps} -> {hx(r.addr)}",
                 "  returns holding rcu_read_lock() (kunmap releases it)"]
    else:
        lines = [f"list path: no range holds phys {hx(r.decoded.phys)} -> NULL",
                 "  rcu_read_unlock(): the only unlock inside kmap"]
    lines += step_lines(r.steps)
    lines += cost_lines(profile, r.list_cost, r.section_cost, r.page_cost,
                        *([r.pgmap_cost] if r.pgmap_cost else []))
    if r.pgmap_cost is not None and r.pgmap_cost.needed:
        lines += ["    (pgmap is not on kmap's path: it is what get_user_pages() pays to pin",
                  "     this ZONE_DEVICE page, shown beside the other designs)"]
    lines.append(f"  rcu   {r.rcu_readers} reader(s) open, cpu{r.cpu} nesting {r.nesting}"
                 + ("" if r.agree else "   PATHS DISAGREE"))
    return lines


def step_lines(steps: tuple[Step, ...]) -> list[str]:
    """One line per node the walk visited: hit or miss, loads, modelled time."""
    return [f"    {st.index}. {st.name:<12} {'hit ' if st.hit else 'miss'}  {st.loads} loads, "
            f"{st.cycles:.0f} cycles = {model_ns_text(st.model_ns)}"
            + (f" ({st.misses} missed L1)" if st.misses else " (all L1)")
            for st in steps]


@command(
    "kunmap", Subject.KMAP_PFN, "kunmap_atomic_pfn_t(): drop a mapping and its RCU read lock",
    help="Scan the list again to tell a device address from a kmap_atomic() page, then\n"
    "rcu_read_unlock(). When that was the last reader a grace period waited for, the\n"
    "teardown behind it completes and the range is freed.",
    examples=("kunmap 0xffffc90000600000",), params=(Param("KVA", Kind.MAPPING),),
    mutates=True)
def run_kunmap(s: Session, w: Words) -> Result:
    addr = parse_number(w.args[0], "KVA")
    r = s.machine.kunmap_atomic_pfn_t(addr)
    data = to_data(r, "addr", "cpu", "kind", "range", "rcu_readers", "gps_ended", "freed",
                   "steps", **COSTS)
    device = r.kind == "device"
    lines = [(f"device address in {r.range}" if device else "not a device address")
             + f" (scan: {r.list_cost.steps} node(s))" + ("" if device else ": kunmap_atomic()"),
             f"  rcu_read_unlock() -> {r.rcu_readers} reader(s) open"]
    lines += step_lines(r.steps)
    lines += cost_lines(s.machine.state.profile, r.list_cost)
    lines += [f"  grace period {gp} ended" for gp in r.gps_ended]
    lines += [f"  {name}: kfree() - teardown complete" for name in r.freed]
    lines += [f"  note: {n}" for n in r.notes]
    res = ok("kunmap", f"kunmap kva={hx(addr)} (cpu{r.cpu})", data, lines, {"kva": addr})
    res.source = s.context(r, [st.name for st in r.steps])
    return res


@command(
    "teardown", Subject.KMAP_PFN, "teardown_kmap(): list_del_rcu, synchronize_rcu, kfree",
    help="Unlink the range (new readers cannot find it), start a grace period and free the\n"
    "range once every CPU that was in a read-side section has left it. Answers 'freed'\n"
    "at once when no reader is open, else 'waiting'. The unbind runs on the current CPU,\n"
    "or on an idle one when the current CPU is inside a reader (synchronize_rcu() sleeps).",
    examples=("teardown pmem0",), params=(Param("NAME", Kind.RANGE),), mutates=True)
def run_teardown(s: Session, w: Words) -> Result:
    name = w.args[0]
    r = s.machine.teardown_kmap(name)
    data = to_data(r, "name", "state", "gp", "waiting_cpus", "waiting_readers", "cpu")
    data["waiting_for"] = len(r.waiting_readers)
    lines = []
    if r.cpu != s.machine.state.cpu:
        lines.append(f"cpu{s.machine.state.cpu} is inside a reader and synchronize_rcu() "
                     f"sleeps, so the unbind runs on cpu{r.cpu}")
    lines += [f"list_del_rcu({name}): new readers can no longer find it",
              f"synchronize_rcu(): grace period {r.gp}"]
    if r.state == "freed":
        lines.append("  no CPU was in a reader: grace period over, kfree() done")
    else:
        lines.append(f"  waiting for {len(r.waiting_readers)} reader(s) "
                     f"({', '.join(map(str, r.waiting_readers))}) on cpu "
                     f"{', '.join(map(str, r.waiting_cpus))}")
        lines.append("  kfree() once they have all called kunmap")
    res = ok("teardown", f"teardown {name}", data, lines, {"name": name})
    res.source = s.context(r)
    return res


@command("cpu", Subject.KMAP_PFN, "show or switch the current CPU",
         help="kmap/kunmap run on the current CPU; each CPU has its own RCU nesting.",
         examples=("cpu 1", "cpu"), params=(Param("N", Kind.NUMBER, optional=True),),
         mutates=True)
def run_cpu(s: Session, w: Words) -> Result:
    if not w.args:
        cpu = s.machine.state.cpu
        return ok("cpu", "", {"cpu": cpu}, [f"current cpu{cpu}"], {})
    cpu = parse_number(w.args[0], "N")
    s.machine.set_cpu(cpu)
    return ok("cpu", f"cpu {cpu}", {"cpu": cpu},
              [f"now on cpu{cpu} (nesting {s.machine.state.rcu.nesting(cpu)})"], {"cpu": cpu})


@command("rcu", Subject.KMAP_PFN, "readers, grace periods and open mappings",
         help="Per-CPU read-side nesting, grace periods in flight and who holds them up.",
         examples=("rcu",))
def run_rcu(s: Session, w: Words) -> Result:
    st = s.machine.state
    rcu = st.rcu
    cpus = [{"cpu": c, "nesting": len(stack), "readers": list(stack)}
            for c, stack in enumerate(rcu.cpu_readers)]
    gps = [{"gp": g.id, "who": g.who, "waiting_cpus": sorted(g.waiting_cpus)}
           for g in rcu.gps.values()]
    maps = [to_data(m, "addr", "cpu", "pfn", "path", "range", "reader")
            for m in st.mappings.values()]
    lines = [f"{rcu.nr_readers} reader(s) open; {len(gps)} grace period(s) in flight, "
             f"{rcu.completed} completed; current cpu{st.cpu}"]
    for c in cpus:
        lines.append(f"  cpu{c['cpu']}: nesting {c['nesting']}"
                     + (f"  readers {c['readers']}" if c["readers"] else ""))
    for g in gps:
        lines.append(f"  GP {g['gp']} ({g['who']}) waiting on cpu {g['waiting_cpus']}")
    for m in maps:
        lines.append(f"  mapping {hx(m['addr'])} cpu{m['cpu']} pfn {s.num(m['pfn'])} "
                     f"{m['path']}{' ' + m['range'] if m['range'] else ''} reader {m['reader']}")
    return ok("rcu", "", {"rcu_readers": rcu.nr_readers, "cpus": cpus, "grace_periods": gps,
                          "completed": rcu.completed, "mappings": maps, "cpu": st.cpu},
              lines, {})
