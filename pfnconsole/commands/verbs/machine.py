"""Verbs on the machine itself: `machine`, `info`, `e820`, `cache`."""

from __future__ import annotations

from typing import Any

from ...core.arch import ARCH_NAMES, PAGE_SIZES
from ...core.cpu_profiles import PROFILES, add_profile
from ...core.machine import MachineSpec, State
from ...native import unavailable
from ...native.measure import read_cpu
from ..measured import host_profile
from ..parse import ParseError, Words, parse_number, parse_size_at
from ..registry import Kind, Option, Param, Subject, command, opt
from ..render import hx, ok, size_text, to_data
from ..result import Result
from ..session import Session
from .machine_from import run_machine_from, run_machine_from_host


@command(
    "machine", Subject.MACHINE, "build a machine (arch, RAM, pmem, kernel version)",
    words="[ARCH] [ram=SIZE] [pmem=SIZE@START|none ...] [kver=X.Y] [page=4K|16K|64K] "
          "[struct_page=N] [memmodel=vmemmap|sparse] [cpus=N] [phys_offset=ADDR] "
          "[page_offset_base=ADDR] [vmemmap_base=ADDR] [page_ext=0|1] [zone_device=0|1]",
    forms=("machine from-host", "machine from FILE…|- [arch=A]", "machine from-log FILE|- [arch=A]"),
    help="Replace the machine with a new one. ARCH is one of " + ", ".join(ARCH_NAMES) + ".\n"
    "ram= is usable RAM (x86 adds the usual holes below 4 GiB); pmem= carves persistent\n"
    "memory like memmap=SIZE!START (e820 type 12); without it two 4 GiB type-7 ranges\n"
    "follow RAM. kver= picks era-dependent constants (direct-map base, section flags,\n"
    "arm64 SECTION_SIZE_BITS). No per-page state is allocated, so 64 TiB is cheap.\n"
    "phys_offset= is where RAM starts on arm64 (PHYS_OFFSET) or riscv64 (phys_ram_base),\n"
    "e.g. 0x40000000 or 0x80000000; from a boot log it is taken from the memory map.\n"
    "page_offset_base= and vmemmap_base= are x86_64's randomised (KASLR) bases, 1 GiB aligned.\n"
    "page_ext=1 is CONFIG_PAGE_EXTENSION (32-byte struct mem_section, off by default as\n"
    "in Kconfig); zone_device=0 drops CONFIG_ZONE_DEVICE (on by default, as pmem needs).\n"
    "`machine from-host` builds this host's machine from /proc/iomem (as root), its memory\n"
    "blocks, /proc/zoneinfo, nodes, nvdimm regions, uname and page size, naming each source\n"
    "it could not read. `machine from FILE…` builds one from saved files, each format\n"
    "recognised: /proc/iomem, /proc/zoneinfo, VMCOREINFO, ndctl/daxctl list JSON, lsmem, or\n"
    "a boot log's e820/`user:` map (or memory node ranges) with the arch, kernel version,\n"
    "page size, struct page size and bases it shows; several combine (iomem.txt\n"
    "zoneinfo.txt vmcoreinfo.txt). `machine from -` reads the text pasted after it;\n"
    "`machine from-log` is the one-file form. The old machine stays unless the new one is built.",
    examples=("machine x86_64", "machine x86_64-5level ram=64T pmem=4G@0x500000000",
              "machine arm64 page=64K kver=5.10", "machine x86_64 kver=4.2 memmodel=sparse",
              "machine arm64 kver=5.10 phys_offset=0x40000000", "machine x86_64 page_ext=1",
              "machine from-host"),
    params=(Param("ARCH", Kind.ARCH, optional=True), Param("FILE", Kind.WORD, optional=True)),
    options=(Option("arch", Kind.WORD), Option("ram", Kind.NUMBER),
             Option("pmem", Kind.SIZE_AT, repeat=True), Option("kver", Kind.WORD),
             Option("page", Kind.WORD, tuple(PAGE_SIZES)), Option("struct_page", Kind.NUMBER),
             Option("memmodel", Kind.WORD, ("vmemmap", "sparse")), Option("cpus", Kind.NUMBER),
             Option("phys_offset", Kind.NUMBER), Option("page_offset_base", Kind.NUMBER),
             Option("vmemmap_base", Kind.NUMBER), Option("page_ext", Kind.WORD, ("0", "1")),
             Option("zone_device", Kind.WORD, ("0", "1"))),
    mutates=True, raw_text=True)
def run_machine(s: Session, w: Words) -> Result:
    if w.args and w.args[0].lower() in ("from-log", "from"):
        return run_machine_from(s, w)
    if w.args and w.args[0].lower() == "from-host":
        return run_machine_from_host(s, w)
    from ..registry import COMMANDS, check_words
    check_words(COMMANDS["machine"], w)
    arch = w.args[0] if w.args else "x86_64"
    if len(w.args) > 1:
        raise ParseError(f"machine: unexpected {w.args[1]!r} (usage: machine [ARCH] key=value…"
                         " or machine from-log FILE)")
    if "arch" in w.options:
        raise ParseError("machine: arch= goes with `machine from-log FILE`; "
                         "otherwise name the arch first: machine arm64 …")
    parsed: dict[str, Any] = {"arch": arch}
    kw: dict[str, Any] = {"arch": arch}
    if (v := opt(w, "ram")) is not None:
        kw["ram"] = parsed["ram"] = parse_number(v, "ram")
    if "pmem" in w.options:
        values = w.options["pmem"]
        if values == ["none"]:
            kw["pmem"] = ()
        else:
            kw["pmem"] = tuple(parse_size_at(v, "pmem") for v in values)
        parsed["pmem"] = [list(p) for p in kw["pmem"]]
    if (v := opt(w, "kver")) is not None:
        kw["kver"] = parsed["kver"] = v
    if (v := opt(w, "page")) is not None:
        kw["page_shift"] = PAGE_SIZES[v.upper()]
        parsed["page"] = v.upper()
    if (v := opt(w, "struct_page")) is not None:
        kw["struct_page"] = parsed["struct_page"] = parse_number(v, "struct_page")
    if (v := opt(w, "memmodel")) is not None:
        kw["memmodel"] = parsed["memmodel"] = v.lower()
    if (v := opt(w, "cpus")) is not None:
        kw["cpus"] = parsed["cpus"] = parse_number(v, "cpus")
    if (v := opt(w, "phys_offset")) is not None:
        kw["phys_offset"] = parsed["phys_offset"] = parse_number(v, "phys_offset")
    for name in ("page_offset_base", "vmemmap_base"):
        if (v := opt(w, name)) is not None:
            kw[name] = parse_number(v, name)
            parsed[name] = f"{kw[name]:#x}"
    for name in ("page_ext", "zone_device"):
        if (v := opt(w, name)) is not None:
            if v not in ("0", "1"):
                raise ParseError(f"machine: {name}={v!r}: use {name}=0 or {name}=1")
            kw[name] = v == "1"
            parsed[name] = int(v)
    st = s.machine.machine(MachineSpec(**kw))
    data, lines = machine_data(st)
    echo = "machine " + " ".join(f"{k}={v}" for k, v in parsed.items() if k != "arch")
    return ok("machine", f"machine {arch} " + echo[8:], data, lines, parsed)


def machine_data(st: State) -> tuple[dict[str, Any], list[str]]:
    """The machine's profile and memory, for `machine` and `info`."""
    a = st.arch
    kver = f"{st.kver[0]}.{st.kver[1]}"
    data = {
        "arch": a.name, "kver": kver,
        **{k: getattr(a, k) for k in ("page_shift", "section_size_bits", "max_physmem_bits",
                                      "page_offset", "vmemmap_base", "vmemmap_start",
                                      "vmalloc_base", "phys_offset", "struct_page_size",
                                      "mem_section_size", "sections_per_root",
                                      "nr_mem_sections", "nr_section_roots")},
        "page_ext": int(a.page_ext), "zone_device": int(a.zone_device),
        "assumes": list(a.notes),
        "ram_bytes": st.physmap.ram_bytes, "sections_present": st.sparse.nr_present,
        "roots_allocated": len(st.sparse.roots), "memmodel": st.spec.memmodel,
        "cpus": st.rcu.ncpus,
        "pmem": [[r.start, r.end] for r in st.physmap.ranges if r.type.is_pmem],
    }
    lines = [
        f"{a.name} v{kver}: PAGE_SHIFT {a.page_shift}, SECTION_SIZE_BITS "
        f"{a.section_size_bits}, MAX_PHYSMEM_BITS {a.max_physmem_bits}",
        f"  sizeof(struct page) {a.struct_page_size}, memmodel {st.spec.memmodel}, "
        f"cpus {st.rcu.ncpus}",
        f"  direct map {hx(a.page_offset)}  vmemmap {hx(a.vmemmap_base)}  vmalloc "
        f"{hx(a.vmalloc_base)}" + (f"  PHYS_OFFSET {hx(a.phys_offset)}" if a.phys_offset else ""),
        f"  RAM {size_text(st.physmap.ram_bytes)} in {st.sparse.nr_present} present sections "
        f"of {size_text(1 << a.section_size_bits)} each",
        f"  mem_section roots: {len(st.sparse.roots)} of {a.nr_section_roots} allocated, "
        f"{a.sections_per_root} sections each"
        + (" (32-byte mem_section: CONFIG_PAGE_EXTENSION)" if a.page_ext else ""),
    ]
    for r in st.physmap.ranges:
        if r.type.is_pmem:
            lines.append(f"  pmem [{hx(r.start)}-{hx(r.end)}] {size_text(r.size)} "
                         f"{r.type.label}: no struct pages")
    lines += [f"  assumed: {n}" for n in a.notes]
    return data, lines


@command("info", Subject.MACHINE, "the current machine: profile, RAM, sections, pmem",
         help="What `machine` printed when it built this machine; changes nothing.",
         examples=("info",))
def run_info(s: Session, w: Words) -> Result:
    data, lines = machine_data(s.machine.state)
    return ok("info", "", data, lines, {})


@command("e820", Subject.MACHINE, "print the physical memory map as the kernel does",
         help="The e820 table in arch/x86/kernel/e820.c's format (inclusive ends).",
         examples=("e820",))
def run_e820(s: Session, w: Words) -> Result:
    st = s.machine.state
    pm = st.physmap
    if st.spec.pmem:  # carved like memmap=SIZE!START: the kernel prints the edited map
        lines = ["user-defined physical RAM map:"] + [r.e820_line("user") for r in pm.ranges]
    else:
        lines = ["BIOS-provided physical RAM map:"] + [r.e820_line() for r in pm.ranges]
    data = {"ranges": [{"start": r.start, "end": r.end, "type": int(r.type),
                        "label": r.type.label} for r in pm.ranges]}
    return ok("e820", "", data, lines, {})


@command(
    "cache", Subject.MACHINE, "the cache model: CPU profile, cold or warm caches",
    words="[cold|warm|profile NAME]",
    help="Loads become modelled time through a CPU profile (cache sizes and latencies, DRAM)\n"
    "and a cache per path: each struct kmap, struct resource, mem_section root and slot\n"
    "sits on its own 64-byte line, warmed by use, least recently used evicted first.\n"
    "`cache cold` evicts everything (as if the kernel did other work in between);\n"
    "`cache warm` loads every modelled structure once; `cache profile NAME` costs with\n"
    "another CPU (caches start cold). Profiles: " + ", ".join(PROFILES) + "; `cache profile\n"
    "host` makes one of this CPU: its cache sizes, and L1 and DRAM latencies measured by the\n"
    "native probe (where it is built).",
    examples=("cache", "cache cold", "cache profile zen2-rome"),
    params=(Param("ACTION", Kind.WORD, optional=True), Param("NAME", Kind.WORD, optional=True)),
    mutates=True)
def run_cache(s: Session, w: Words) -> Result:
    action = w.args[0] if w.args else "show"
    if action == "show":
        if len(w.args) > 1:
            raise ParseError("cache: `cache` alone shows the model; did you mean cache profile NAME?")
        r = s.machine.cache_state()
    elif action == "profile":
        if len(w.args) != 2:
            raise ParseError("cache profile: name one of " + ", ".join(PROFILES) + " or host")
        if w.args[1] == "host":  # calibrated from the probe's timings on this CPU
            prof = host_profile(read_cpu())
            if prof is None:
                raise ParseError("cache profile host: " + (unavailable() or "measuring is off "
                                 "(PFNCONSOLE_MEASURE=0)"))
            add_profile(prof)
        r = s.machine.cache("profile", w.args[1])
    elif action in ("cold", "warm") and len(w.args) == 1:
        r = s.machine.cache(action)
    else:
        raise ParseError(f"cache {' '.join(w.args)}: use cache, cache cold, cache warm or "
                         "cache profile NAME")
    data = to_data(r, "profile", "title", "ghz", "dram_ns", "source", "warm_lines", "action")
    data["levels"] = [{"name": n, "bytes": b, "cycles": c} for n, b, c in r.levels]
    levels = ", ".join(f"{n} {size_text(b)} {c} cycles" for n, b, c in r.levels)
    lines = [f"profile {r.profile}: {r.title}, {r.ghz:g} GHz ({r.source})",
             f"  {levels}, DRAM {r.dram_ns:g} ns; 64-byte lines, LRU, inclusive",
             "  lines held: " + ", ".join(f"{k} path {v}" for k, v in r.warm_lines.items())]
    if action == "cold":
        lines.insert(0, "caches cold: the next load of anything goes to DRAM")
    elif action == "warm":
        lines.insert(0, "caches warm: every modelled structure loaded once")
    elif action == "profile":
        lines.insert(0, f"costing with {r.profile} from now on (caches cold)")
    res = ok("cache", "cache" + (f" {' '.join(w.args)}" if w.args else ""), data, lines,
             {"action": action})
    if action == "show":
        res.replay = []  # nothing changed: nothing for save or the journal to redo
    return res
