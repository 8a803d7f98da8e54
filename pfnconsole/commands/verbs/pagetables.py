"""Verbs on kernel page tables: `vtop VADDR`, `ptov PHYS`, `pte VALUE`."""

from __future__ import annotations

from ...core.arch import ARCH_NAMES, canonical_arch
from ...core.errors import EngineError
from ...core.memremap import pgmap_of
from ...core.pagetable import decode_entry, geometry, ptov, vtop
from ..parse import ParseError, Words, parse_number
from ..registry import Kind, Option, Param, Subject, command
from ..render import hx, ok
from ..result import Result
from ..session import Session

LEVELS = ("PGD", "P4D", "PUD", "PMD", "PTE")


@command("vtop", Subject.VIEWS, "walk the kernel page tables from a virtual address to its pfn",
         help="Each level's index and entry (flags decoded) down to the leaf: the direct map in\n"
         "1 GiB or 2 MiB leaves as x86_64 builds it (4 KiB at the ragged ends; arm64 maps its\n"
         "linear map page by page under rodata=full), the vmemmap of present sections in 2 MiB\n"
         "leaves (4K pages) or pages, a kmap range in the vmalloc area. Nothing is built: a\n"
         "64 TiB machine walks as fast as a small one. Where a table page lives is the console's\n"
         "choice (the kernel's is memblock's), and the walk says so.",
         examples=("vtop 0xffff888100600000", "vtop 0xffffea0004018000"),
         params=(Param("VADDR", Kind.ADDR),))
def run_vtop(s: Session, w: Words) -> Result:
    va = parse_number(w.args[0], "VADDR")
    st = s.machine.state
    walk = vtop(st, va)
    lines = [f"{hx(va)}: {st.arch.name} kernel page tables, {walk.note}"]
    if walk.folded:
        lines.append(f"  folded: {', '.join(walk.folded)}")
    for step in walk.steps:
        lines.append(f"  {step.level:<4} [{step.index:>4}] {step.entry:#018x}  {step.what}")
        if step.flags:
            lines.append(f"        {'|'.join(step.flags)}")
        lines.append(f"        {step.detail}")
    if walk.phys is not None:
        kind = walk.mapping.kind if walk.mapping else ""
        lines.append(f"  = phys {hx(walk.phys)}, pfn {s.num(walk.pfn or 0)} ({kind}, {walk.loads} load(s))")
    else:
        lines.append(f"  no translation ({walk.loads} load(s))")
    data = {"va": va, "arch": st.arch.name, "phys": walk.phys, "pfn": walk.pfn, "leaf_size": walk.leaf,
            "mapping": walk.mapping.kind if walk.mapping else None, "loads": walk.loads,
            "folded": list(walk.folded),
            "levels": [{"level": x.level, "index": x.index, "entry": x.entry, "what": x.what,
                        "flags": list(x.flags), "detail": x.detail} for x in walk.steps]}
    return ok("vtop", f"vtop {hx(va)}", data, lines, {"va": va})


@command("ptov", Subject.VIEWS, "every kernel virtual address a physical address is mapped at",
         help="The direct-map address __va(phys) when the page is RAM, and the address in every\n"
         "kmap range (memremap mapping) that holds it.",
         examples=("ptov 0x100600000",), params=(Param("PHYS", Kind.ADDR),))
def run_ptov(s: Session, w: Words) -> Result:
    phys = parse_number(w.args[0], "PHYS")
    st = s.machine.state
    if not 0 <= phys < 1 << st.arch.max_physmem_bits:
        raise EngineError(f"{hx(phys)} is beyond MAX_PHYSMEM_BITS={st.arch.max_physmem_bits} on {st.arch.name}")
    where = ptov(st, phys)
    lines = [f"phys {hx(phys)} (pfn {s.num(phys >> st.arch.page_shift)}):"]
    lines += [f"  {kind:<20} {hx(va)}" for kind, va in where]
    private = pgmap_of(st, phys >> st.arch.page_shift)
    if not where and private is not None and private.type == "private":
        lines.append(f"  not mapped: {private.name} is MEMORY_DEVICE_PRIVATE, added by add_pages() "
                     "only (struct pages, no kernel mapping; the CPU cannot reach it)")
    elif not where:
        lines.append("  mapped nowhere the console models (not RAM, in no kmap range, in no dev_pagemap)")
    data = {"phys": phys, "mappings": [{"kind": k, "va": v} for k, v in where]}
    return ok("ptov", f"ptov {hx(phys)}", data, lines, {"phys": phys})


@command("pte", Subject.VIEWS, "decode a raw page-table entry",
         help="The address it holds, whether it is a leaf, and its flag bits, for x86_64 (a\n"
         "non-present entry's pfn stored inverted since the L1TF fix) or arm64 (table, block\n"
         "and page descriptors). level= says which level read it (PMD and PUD entries with\n"
         "PSE are huge leaves); arch= defaults to the machine's.",
         examples=("pte 0x8000000100600163", "pte 0x80000001000001e3 level=PUD",
                   "pte 0x60000000100703 arch=arm64"),
         params=(Param("VALUE", Kind.NUMBER),),
         options=(Option("level", Kind.WORD, LEVELS), Option("arch", Kind.WORD, ARCH_NAMES)))
def run_pte(s: Session, w: Words) -> Result:
    value = parse_number(w.args[0], "VALUE")
    arch = canonical_arch((w.options.get("arch") or [s.machine.state.arch.name])[0])
    level = (w.options.get("level") or ["PTE"])[0].upper()
    if level not in LEVELS:
        raise ParseError(f"pte: level={level!r}: use one of {' '.join(LEVELS)}")
    names = [lv.name for lv in geometry(arch, 12).levels]
    if level not in names:
        raise ParseError(f"pte: {arch} has no {level} level here (its levels: {' '.join(names)})")
    addr, leaf, flags, how = decode_entry(value, arch, level)
    lines = [f"{value:#018x} as an {arch} {level}: {how}"]
    if flags:
        lines.append(f"  flags {'|'.join(flags)}")
    if addr is not None and leaf:
        lines.append(f"  pfn {s.num(addr >> 12)}")
    data = {"value": value, "arch": arch, "level": level, "address": addr, "leaf": leaf, "flags": list(flags),
            "pfn": addr >> 12 if addr is not None and leaf else None, "how": how}
    return ok("pte", f"pte {value:#x} level={level} arch={arch}", data, lines,
              {"value": value, "level": level, "arch": arch})
