"""Questions asked of a machine's state that change nothing: where is a pfn, what is an
address, which mapping does a kunmap mean.  ``Machine`` wraps them (and emits events)."""

from __future__ import annotations

from .arch import U64, RegionKind
from .errors import EngineError
from .folio import describe as describe_folio
from .folio import folio_of
from .kmap_pfn import KmapRange, RangeState
from .memremap import describe_page, pgmap_of, pgmap_set
from .physmap import E820Type
from .results import AddrKind, Identity, LookupResult, PageResult, Verdict
from .state import Mapping, State


def check_pfn(s: State, pfn: int) -> None:
    """Refuse a pfn at or beyond 1 << (MAX_PHYSMEM_BITS - PAGE_SHIFT)."""
    if pfn < 0 or pfn >= s.arch.max_pfn:
        raise EngineError(f"pfn {pfn:#x} is beyond MAX_PHYSMEM_BITS="
                          f"{s.arch.max_physmem_bits} (max pfn {s.arch.max_pfn - 1:#x})")


def lookup(s: State, pfn: int) -> LookupResult:
    """Where is this pfn: memmap, e820, list path and section path; takes no mapping."""
    check_pfn(s, pfn)
    phys = s.arch.PFN_PHYS(pfn)
    node, step_list, list_cost = s.kmap.scan_phys(phys)
    snode, section_cost = s.table.lookup(phys)
    nr = s.sparse.pfn_to_section_nr(pfn)
    valid = s.sparse.pfn_valid(pfn)
    e = s.physmap.find(phys)
    return LookupResult(
        pfn=pfn, phys=phys, e820=e.type.label if e else "hole",
        section=s.sparse.nr_to_section(nr), section_nr=nr, pfn_valid=valid,
        page=s.sparse.pfn_to_page(pfn) if valid else None,
        direct=s.arch.va(phys) if valid else None,
        list_range=node.name if node else None, section_range=snode.name if snode else None,
        list_cost=list_cost, section_cost=section_cost, steps=tuple(step_list),
        agree=list_cost.answer == section_cost.answer, pgmap=_pgmap_name(s, pfn))


def _pgmap_name(s: State, pfn: int) -> str | None:
    pg = pgmap_of(s, pfn) if s.pgmaps else None
    return pg.name if pg else None


def page(s: State, pfn: int) -> PageResult:
    """The struct page of ``pfn``: its address and what the console did to it."""
    check_pfn(s, pfn)
    phys = s.arch.PFN_PHYS(pfn)
    nr = s.sparse.pfn_to_section_nr(pfn)
    valid = s.sparse.pfn_valid(pfn)
    e = s.physmap.find(phys)
    st = s.memmap.get(pfn)
    nodes = s.spec.nodes
    node = 0 if nodes is None else next((nid for a, b, nid in nodes if a <= phys <= b), None)
    f = folio_of(s, pfn) if s.compound else None
    pg = pgmap_of(s, pfn) if s.pgmaps else None
    return PageResult(pfn, phys, s.sparse.pfn_to_page(pfn), e.type.label if e else "hole",
                      s.sparse.nr_to_section(nr), nr, valid,
                      s.arch.va(phys) if valid and not (pg and pg.type == "private") else None,
                      st.kmaps if st else 0, st.touches if st else 0, st.last if st else "", node,
                      f.head if f else None, f.order if f else None,
                      tuple(describe_folio(s, pfn, f)) if f else (), pg.name if pg else None,
                      tuple(describe_page(s, pfn, pg)) if pg else (),
                      pg is not None and pgmap_set(s, pfn, pg))


def identify(s: State, addr: int) -> Identity:
    """Classify a kernel virtual address, and judge an access to a device mapping."""
    a = s.arch
    if not 0 <= addr <= U64:
        raise EngineError(f"{addr:#x} is not a 64-bit address")
    for r in sorted(s.ranges.values(), key=lambda r: -r.seq):
        if r.holds_kva(addr):
            dev_phys = r.start + (addr - r.base)
            verdict, detail = _verdict(s, addr, r)
            return Identity(addr, AddrKind.DEVICE_MAPPING, dev_phys >> a.page_shift, dev_phys,
                            r.name, r.state, verdict, detail)
    region = a.region_of(addr)
    where = f"{region.name} [{region.start:#x}-{(region.end - 1) & U64:#x}]"
    if s.sparse.vmemmap and region.kind is RegionKind.VMEMMAP:
        pfn = s.sparse.page_to_pfn(addr)
        if pfn is not None:
            f = folio_of(s, pfn) if s.compound else None
            folio_text = "" if f is None or f.head == pfn else (
                f"; tail {pfn - f.head} of the order-{f.order} folio at pfn {f.head:#x} "
                f"(struct page {s.sparse.pfn_to_page(f.head):#x})")
            return Identity(addr, AddrKind.STRUCT_PAGE, pfn, pfn << a.page_shift, None, None,
                            Verdict.NONE, f"struct page of pfn {pfn:#x}"
                            + ("" if s.sparse.pfn_valid(pfn) else " (not pfn_valid)") + folio_text)
        return Identity(addr, AddrKind.STRUCT_PAGE, None, None, None, None, Verdict.NONE,
                        f"inside the vmemmap ({where}) but not at the start of a struct page "
                        f"of a pfn below MAX_PHYSMEM_BITS (sizeof(struct page) = "
                        f"{a.struct_page_size})")
    if not s.sparse.vmemmap and region.kind is RegionKind.DIRECT_MAP:
        pfn = s.sparse.page_to_pfn(addr)
        if pfn is not None:
            return Identity(addr, AddrKind.STRUCT_PAGE, pfn, pfn << a.page_shift, None, None,
                            Verdict.NONE,
                            f"struct page of pfn {pfn:#x} (classic SPARSEMEM mem_map)")
    if region.kind is RegionKind.DIRECT_MAP:
        phys = a.pa(addr)
        if phys is not None:
            e = s.physmap.find(phys)
            return Identity(addr, AddrKind.DIRECT_MAP, phys >> a.page_shift, phys, None, None,
                            Verdict.NONE,
                            f"__va({phys:#x}), {e.type.label if e else 'a hole in e820'}")
    # the region kinds and the answer kinds share their names (vmalloc/ioremap, modules, …)
    kind = AddrKind(region.kind) if region.kind in AddrKind._value2member_map_ else AddrKind.UNKNOWN
    return Identity(addr, kind, None, None, None, None, Verdict.NONE, f"{region.kind}: {where}")


def _verdict(s: State, addr: int, r: KmapRange) -> tuple[Verdict, str]:
    held = [m for m in s.mappings.values() if m.range == r.name and m.cpu == s.cpu
            and r.holds_kva(addr)]
    if r.state == RangeState.FREED:
        return (Verdict.USE_AFTER_FREE,
                f"{r.name} was freed after grace period {r.gp}: this address no longer "
                "maps anything")
    if held:
        return Verdict.OK, f"protected by reader {held[-1].reader} on cpu{s.cpu}"
    if r.state == RangeState.UNLINKED:
        return (Verdict.UNPROTECTED, f"{r.name} is being torn down (grace period {r.gp}) "
                f"and cpu{s.cpu} holds no mapping in it: it may be freed at any moment")
    return (Verdict.UNPROTECTED, f"cpu{s.cpu} holds no kmap in {r.name}: nothing stops a "
            "teardown from freeing it during this access")


# --- what the operations ask before they change anything ------------------------------------

def e820_warnings(s: State, start: int, end: int) -> list[str]:
    """What is odd about a device range at phys [start, end] (inclusive) in this e820 map."""
    out = []
    met = s.physmap.overlapping(start, end)
    if any(r.type is E820Type.RAM for r in met):
        out.append("overlaps usable RAM: those pfns have struct pages, and a PFN_DEV "
                   "__pfn_t for them bypasses the memmap (the 2015 code does not check)")
    covered = sum(min(end, r.end) - max(start, r.start) + 1 for r in met)
    if covered < end - start + 1:
        out.append("part of the range is not in the e820 map (a hole)")
    return out


def disagreement(s: State, phys: int, lnode: KmapRange | None, snode: KmapRange | None) -> str:
    """The warning when the list walk and the section lookup answer differently."""
    nr = phys >> s.arch.section_size_bits
    return (f"the paths disagree at phys {phys:#x}: list -> "
            f"{lnode.name if lnode else 'NULL'}, section {nr} -> "
            f"{snode.name if snode else 'nothing'}")


def find_mapping(s: State, addr: int) -> Mapping:
    """The open mapping kunmap_atomic_pfn_t(addr) on the current CPU ends: the newest."""
    mine = s.by_addr.get((s.cpu, addr))
    if mine:
        return s.mappings[mine[-1]]
    other = [s.mappings[ids[-1]] for (cpu, a), ids in s.by_addr.items() if a == addr]
    if other:
        raise EngineError(
            f"the mapping at {addr:#x} was taken on cpu{other[-1].cpu}; its RCU reader "
            "belongs to that CPU (the model is non-preemptible RCU, so the reader cannot "
            f"migrate): `cpu {other[-1].cpu}` first")
    raise EngineError(
        f"no open mapping at {addr:#x}: kunmap_atomic_pfn_t() here would call "
        "rcu_read_unlock() with no matching lock" + _open_hint(s))


def _open_hint(s: State) -> str:
    open_ = [f"{a:#x}" for (cpu, a) in s.by_addr if cpu == s.cpu]
    return f" (open on cpu{s.cpu}: {', '.join(open_[-4:])})" if open_ else ""
