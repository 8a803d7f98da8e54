"""The simulated machine: one facade over every part of the core.

``Machine`` owns the arch profile, the e820 map, the sparse sections, the lazy memmap, the
2015 kmap_pfn list with its RCU state, and the section table beside it.  Each mutating
method is a transaction: it validates first, raises ``EngineError`` before changing
anything, and on success records itself in the history and emits its events.  Undo
rebuilds the state by replaying the history without the last entry (the operations are
deterministic), so a snapshot is just a history length.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from . import events as ev
from .arch import DEFAULT_KVER, U64, ArchProfile, arch_profile, parse_kver
from .cost import PathCost
from .encodings import Decoded, V5PfnT, codec_for
from .errors import EngineError
from .kmap_pfn import IntervalIndex, KmapList, KmapRange, Step, check_new_range
from .memmap import MemMap
from .physmap import E820Type, GiB, PhysMap, default_physmap, physmap_from_ranges
from .rcu import Rcu
from .section_table import SectionTable
from .sparse import MemSection, SparseMem


@dataclass(frozen=True)
class MachineSpec:
    """What ``machine ARCH key=value...`` asked for."""

    arch: str = "x86_64"
    ram: int = 16 * GiB
    pmem: tuple[tuple[int, int], ...] | None = None
    """(start, size) carved like memmap=SIZE!START; None = two 4 GiB ranges after RAM."""
    kver: str | None = None
    page_shift: int | None = None
    struct_page: int | None = None
    memmodel: str = "vmemmap"
    """'vmemmap' (SPARSEMEM_VMEMMAP) or 'sparse' (classic SPARSEMEM)."""
    cpus: int = 4
    e820: tuple[tuple[int, int, int], ...] | None = None
    """Explicit (start, end inclusive, e820 type) ranges, e.g. from a boot log; overrides
    ram= and pmem=."""
    origin: str = ""
    """Where the layout came from, for display (e.g. 'boot.log lines 3-17')."""


@dataclass
class Mapping:
    """One open kmap_atomic_pfn_t() result: the reader stays in RCU until kunmap."""

    id: int
    cpu: int
    addr: int
    pfn: int
    value: int
    path: str
    """'page' (kmap_atomic of a struct page) or 'list' (device range)."""
    range: str | None
    reader: int


@dataclass
class State:
    """Everything undo restores."""

    spec: MachineSpec
    arch: ArchProfile
    kver: tuple[int, int]
    physmap: PhysMap
    sparse: SparseMem
    memmap: MemMap
    kmap: KmapList
    ranges: dict[str, KmapRange]
    """Every range ever registered on this machine, freed ones included (for UAF reports)."""
    table: SectionTable
    rcu: Rcu
    mappings: dict[int, Mapping] = field(default_factory=dict)
    """Open mappings by id, oldest first."""
    by_addr: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    """(cpu, address) -> ids of the open mappings there, newest last."""
    phys_index: IntervalIndex = field(default_factory=IntervalIndex)
    """Physical extents of the ranges not yet freed."""
    kva_index: IntervalIndex = field(default_factory=IntervalIndex)
    """Their [base, base+size) extents."""
    cpu: int = 0
    next_seq: int = 1
    next_mapping: int = 1
    next_base: int = 0


# --- results --------------------------------------------------------------------------------

@dataclass(frozen=True)
class RegisterResult:
    range: KmapRange
    position: int
    list_len: int
    sections: tuple[int, int]
    shared: dict[int, list[str]]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class KmapResult:
    value: int
    decoded: Decoded
    cpu: int
    path: str
    """'page', 'list' or 'none' (NULL returned, lock dropped)."""
    addr: int | None
    range: str | None
    mapping: int | None
    list_cost: PathCost
    section_cost: PathCost
    steps: tuple[Step, ...]
    agree: bool
    rcu_readers: int
    nesting: int
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class KunmapResult:
    addr: int
    cpu: int
    mapping: int
    kind: str
    """'device' when the scan recognised the address, else 'page' (kunmap_atomic called)."""
    range: str | None
    list_cost: PathCost
    steps: tuple[Step, ...]
    rcu_readers: int
    gps_ended: tuple[int, ...]
    freed: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class TeardownResult:
    name: str
    state: str
    """'freed' (no reader was in the way) or 'waiting' (grace period in flight)."""
    gp: int
    waiting_cpus: tuple[int, ...]
    waiting_readers: tuple[int, ...]
    cpu: int
    """Where the unbind ran: the current CPU unless it was inside a reader."""


@dataclass(frozen=True)
class LookupResult:
    pfn: int
    phys: int
    e820: str
    section: MemSection | None
    section_nr: int
    pfn_valid: bool
    page: int | None
    direct: int | None
    list_range: str | None
    section_range: str | None
    list_cost: PathCost
    section_cost: PathCost
    steps: tuple[Step, ...]
    agree: bool


@dataclass(frozen=True)
class PageResult:
    pfn: int
    phys: int
    page: int | None
    e820: str
    section: MemSection | None
    section_nr: int
    pfn_valid: bool
    direct: int | None
    kmaps: int
    touches: int
    last: str


@dataclass(frozen=True)
class Identity:
    """identify(addr): what a kernel virtual address points at."""

    addr: int
    kind: str
    """'struct page', 'direct map', 'device mapping' or 'unknown'."""
    pfn: int | None
    phys: int | None
    range: str | None
    range_state: str | None
    verdict: str
    """'ok', 'unprotected', 'use-after-free' or '' where no device range is involved."""
    detail: str


def _build_state(spec: MachineSpec) -> State:
    from .physmap import ram_end
    if spec.memmodel not in ("vmemmap", "sparse"):
        raise EngineError(f"memmodel={spec.memmodel!r}: use vmemmap or sparse")
    if not 1 <= spec.cpus <= 64:
        raise EngineError(f"cpus={spec.cpus}: the model has 1 to 64 CPUs")
    kver = parse_kver(spec.kver) if spec.kver else DEFAULT_KVER
    arch = arch_profile(spec.arch, page_shift=spec.page_shift, kver=spec.kver,
                        struct_page_size=spec.struct_page)
    limit = 1 << arch.max_physmem_bits
    hint = "; x86_64-5level allows 52 bits" if arch.name == "x86_64" else ""
    beyond = (f"beyond MAX_PHYSMEM_BITS={arch.max_physmem_bits} on {arch.name} (highest "
              f"physical address {limit - 1:#x}){hint}")
    if spec.e820 is not None:
        physmap = physmap_from_ranges(spec.e820)
    else:
        # refuse before building: RAM is rounded down to pages, which would hide a last
        # partial page beyond the limit
        low_layout = spec.arch.startswith("x86_64")
        need = ram_end(spec.ram, low_layout=low_layout)
        if need > limit:
            raise EngineError(f"ram={spec.ram:#x} needs physical memory up to {need - 1:#x}, "
                              + beyond)
        for start, size in spec.pmem or ():
            if size > 0 and start + size > limit:  # carve() words the other refusals
                raise EngineError(f"pmem={size:#x}@{start:#x} ends at {start + size - 1:#x}, "
                                  + beyond)
        physmap = default_physmap(spec.ram, spec.pmem, low_layout=low_layout)
    if physmap.top > limit:
        raise EngineError(f"the memory map reaches {physmap.top - 1:#x}, " + beyond)
    sparse = SparseMem(arch, physmap, kver=kver, vmemmap=spec.memmodel == "vmemmap")
    return State(spec=spec, arch=arch, kver=kver, physmap=physmap, sparse=sparse,
                 memmap=MemMap(), kmap=KmapList([]), ranges={}, table=SectionTable(arch),
                 rcu=Rcu(ncpus=spec.cpus), next_base=arch.vmalloc_base)


class Snapshot(NamedTuple):
    """What ``Machine.snapshot()`` returns: a prefix of the operation history."""

    history: list[tuple[str, tuple, dict]]
    length: int


class Machine:
    """The simulated machine and the operations the console performs on it."""

    def __init__(self, spec: MachineSpec | None = None) -> None:
        self._listeners: list[ev.Listener] = []
        self._pending: list[ev.Event] | None = None
        self._history: list[tuple[str, tuple, dict]] = []
        self._base_spec = spec or MachineSpec()
        self.state = _build_state(self._base_spec)

    # --- events and transactions ---------------------------------------------------------
    def subscribe(self, listener: ev.Listener) -> Callable[[], None]:
        """Call ``listener(event)`` after each successful operation; returns unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _emit(self, event: ev.Event) -> None:
        if self._pending is not None:
            self._pending.append(event)

    def _run(self, op: str, *args: Any, **kw: Any) -> Any:
        """Run ``_op_<op>`` as a transaction and record it for undo."""
        self._pending = [] if self._listeners else None
        try:
            result = getattr(self, "_op_" + op)(*args, **kw)
        except EngineError:
            self._pending = None
            raise
        except Exception:
            self._pending = None
            self._replay(self._history)  # never leave a half-applied operation behind
            raise
        self._history.append((op, args, kw))
        pending, self._pending = self._pending, None
        for event in pending or ():
            for listener in list(self._listeners):
                listener(event)
        return result

    def _replay(self, history: list[tuple[str, tuple, dict]]) -> None:
        self._pending = None
        self.state = _build_state(self._base_spec)
        for op, args, kw in history:
            getattr(self, "_op_" + op)(*args, **kw)
        self._history = list(history)

    @property
    def history_len(self) -> int:
        return len(self._history)

    def snapshot(self) -> Snapshot:
        """A token for ``restore``, in O(1): the history list and how much of it counts.

        The history is only ever appended to in place; undo and restore replace it with a
        new list, so the first ``length`` entries of a snapshot's list never change and it
        stays valid after any later undo, restore or rebuild.
        """
        return Snapshot(self._history, len(self._history))

    def restore(self, token: Snapshot) -> None:
        """Put the machine back exactly as it was when ``token`` was taken."""
        if not isinstance(token, Snapshot) or not 0 <= token.length <= len(token.history):
            raise EngineError(f"not a snapshot: {token!r}")
        self._replay(token.history[:token.length])
        self._notify(ev.Restored("restore"))

    def undo(self) -> str:
        """Take back the last successful operation; returns its name."""
        if not self._history:
            raise EngineError("nothing to undo")
        op = self._history[-1][0]
        self._replay(self._history[:-1])
        self._notify(ev.Restored("undo"))
        return op

    def _notify(self, event: ev.Event) -> None:
        for listener in list(self._listeners):
            listener(event)

    def history(self) -> list[tuple[str, tuple, dict]]:
        return list(self._history)

    # --- public operations -----------------------------------------------------------------
    def machine(self, spec: MachineSpec) -> State:
        return self._run("machine", spec)

    def reset(self) -> State:
        return self._run("machine", self.state.spec)

    def register(self, name: str, start: int, size: int, base: int | None = None
                 ) -> RegisterResult:
        return self._run("register", name, start, size, base)

    def kmap_atomic_pfn_t(self, value: int) -> KmapResult:
        return self._run("kmap", value)

    def kunmap_atomic_pfn_t(self, addr: int) -> KunmapResult:
        return self._run("kunmap", addr)

    def teardown_kmap(self, name: str) -> TeardownResult:
        return self._run("teardown", name)

    def set_cpu(self, cpu: int) -> int:
        return self._run("cpu", cpu)

    # --- operation bodies (validate, then apply) ---------------------------------------------
    def _op_machine(self, spec: MachineSpec) -> State:
        state = _build_state(spec)
        self.state = state
        self._emit(ev.MachineBuilt(state.arch.name, state.physmap.ram_bytes,
                                   state.sparse.nr_present))
        self._emit(ev.Restored("machine"))
        return state

    def _op_cpu(self, cpu: int) -> int:
        self.state.rcu.check_cpu(cpu)
        self.state.cpu = cpu
        self._emit(ev.CpuChanged(cpu))
        return cpu

    def _op_register(self, name: str, start: int, size: int, base: int | None
                     ) -> RegisterResult:
        s = self.state
        if base is None:
            base = s.next_base
        check_new_range(name, start, size, base, s.ranges, s.arch.max_physmem_bits,
                        s.phys_index, s.kva_index)
        warnings = self._e820_warnings(start, start + size - 1)
        node = KmapRange(name, start, start + size - 1, base, s.next_seq)
        s.next_seq += 1
        s.next_base = max(s.next_base, _align_up(base + size, GiB))
        s.ranges[name] = node
        s.phys_index.add(node.start, node.end, name)
        s.kva_index.add(base, base + size - 1, name)
        s.kmap.list_add_rcu(node)
        s.table.insert(node)
        ssb = s.arch.section_size_bits
        shared = s.table.shared_with(node)
        self._emit(ev.RangeRegistered(name, node.start, node.end, base))
        return RegisterResult(node, 1, len(s.kmap.nodes), (node.start >> ssb, node.end >> ssb),
                              shared, tuple(warnings))

    def _forget(self, r: KmapRange) -> None:
        """kfree(): the range's physical and virtual extents are free for reuse."""
        self.state.phys_index.remove(r.start)
        self.state.kva_index.remove(r.base)

    def _e820_warnings(self, start: int, end: int) -> list[str]:
        out = []
        met = self.state.physmap.overlapping(start, end)
        if any(r.type is E820Type.RAM for r in met):
            out.append("overlaps usable RAM: those pfns have struct pages, and a PFN_DEV "
                       "__pfn_t for them bypasses the memmap (the 2015 code does not check)")
        covered = sum(min(end, r.end) - max(start, r.start) + 1 for r in met)
        if covered < end - start + 1:
            out.append("part of the range is not in the e820 map (a hole)")
        return out

    def _v5(self) -> V5PfnT:
        return V5PfnT(page_shift=self.state.arch.page_shift,
                      max_physmem_bits=self.state.arch.max_physmem_bits, rfc_pfn_map=True)

    def _op_kmap(self, value: int) -> KmapResult:
        s = self.state
        decoded = self._v5().decode(value)  # raises EngineError for what v5 cannot hold
        pfn = decoded.pfn
        assert pfn is not None
        phys = s.arch.PFN_PHYS(pfn)
        cpu = s.cpu
        warnings: list[str] = []
        why = f"kmap_atomic_pfn_t({pfn:#x})"
        # 1. page = __pfn_t_to_page(pfn); 2. rcu_read_lock() whatever the answer
        reader = s.rcu.rcu_read_lock(cpu, why)
        self._emit(ev.ReaderEnter(cpu, reader.id, s.rcu.nesting(cpu), s.rcu.nr_readers, why))
        steps: tuple[Step, ...] = ()
        if decoded.has_page:
            # 3. return kmap_atomic(page): on 64-bit that is page_address(), the direct map
            addr = s.arch.va(phys)
            list_cost = PathCost("list", 0, 0, 0, addr, ("page path: no list walk",))
            section_cost, valid = self._section_page_path(pfn)
            if not valid:
                warnings.append(f"pfn {pfn:#x} is not pfn_valid(): __pfn_t_to_page() still "
                                "computes a struct page pointer and kmap_atomic() maps it")
            agree = section_cost.answer == addr or not valid
            path, rng = "page", None
            page = s.memmap.touch(pfn, f"kmap cpu{cpu}")
            page.kmaps += 1
            self._emit(ev.PageTouched(pfn, "kmap"))
        else:
            node, step_list, list_cost = s.kmap.scan_phys(phys)
            steps = tuple(step_list)
            for st in steps:
                self._emit(ev.ScanStep("kmap", st.index, st.name, st.hit, st.loads, st.ns))
            snode, section_cost = s.table.lookup(phys)
            agree = section_cost.answer == list_cost.answer
            if not agree:
                warnings.append(self._disagreement(phys, node, snode))
            if node is None:
                # 5. "only unlock in the error case": rcu_read_unlock(); return NULL
                s.rcu.rcu_read_unlock(reader.id)
                self._emit(ev.ReaderExit(cpu, reader.id, s.rcu.nesting(cpu), s.rcu.nr_readers))
                self._emit(ev.CostMeasured("kmap", list_cost.steps, list_cost.loads,
                                           list_cost.ns, section_cost.loads, section_cost.ns))
                return KmapResult(value, decoded, cpu, "none", None, None, None, list_cost,
                                  section_cost, steps, agree, s.rcu.nr_readers,
                                  s.rcu.nesting(cpu), tuple(warnings))
            addr, path, rng = list_cost.answer, "list", node.name
        mapping = Mapping(s.next_mapping, cpu, addr, pfn, value, path, rng, reader.id)
        s.next_mapping += 1
        s.mappings[mapping.id] = mapping
        s.by_addr.setdefault((cpu, addr), []).append(mapping.id)
        self._emit(ev.MappingOpened(addr, pfn, cpu, path, rng))
        self._emit(ev.CostMeasured("kmap", list_cost.steps, list_cost.loads, list_cost.ns,
                                   section_cost.loads, section_cost.ns))
        return KmapResult(value, decoded, cpu, path, addr, rng, mapping.id, list_cost,
                          section_cost, steps, agree, s.rcu.nr_readers, s.rcu.nesting(cpu),
                          tuple(warnings))

    def _section_page_path(self, pfn: int) -> tuple[PathCost, bool]:
        """The section path for a page-backed pfn: mem_section[root][idx] then __va()."""
        import time
        s = self.state
        t0 = time.perf_counter_ns()
        nr = s.sparse.pfn_to_section_nr(pfn)
        valid = s.sparse.pfn_valid(pfn)
        addr = s.arch.va(s.arch.PFN_PHYS(pfn)) if valid else None
        ns = time.perf_counter_ns() - t0
        root, idx = divmod(nr, s.arch.sections_per_root)
        return PathCost("section", 0, 2, ns, addr,
                        (f"section {nr} -> mem_section[{root}][{idx}]",)), valid

    def _disagreement(self, phys: int, lnode: KmapRange | None,
                      snode: KmapRange | None) -> str:
        nr = phys >> self.state.arch.section_size_bits
        return (f"the paths disagree at phys {phys:#x}: list -> "
                f"{lnode.name if lnode else 'NULL'}, section {nr} -> "
                f"{snode.name if snode else 'nothing'}")

    def _find_mapping(self, addr: int) -> Mapping:
        s = self.state
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
            "rcu_read_unlock() with no matching lock" + self._open_hint())

    def _open_hint(self) -> str:
        open_ = [f"{a:#x}" for (cpu, a) in self.state.by_addr if cpu == self.state.cpu]
        return f" (open on cpu{self.state.cpu}: {', '.join(open_[-4:])})" if open_ else ""

    def _op_kunmap(self, addr: int) -> KunmapResult:
        s = self.state
        mapping = self._find_mapping(addr)
        node, step_list, list_cost = s.kmap.scan_kva(addr)
        steps = tuple(step_list)
        for st in steps:
            self._emit(ev.ScanStep("kunmap", st.index, st.name, st.hit, st.loads, st.ns))
        notes = []
        if node is not None:
            kind = "device"
        else:
            kind = "page"
            if mapping.path == "list":
                notes.append(
                    f"{mapping.range} is no longer on the list (teardown in progress), so "
                    "kunmap_atomic_pfn_t() does not recognise this device address and calls "
                    "kunmap_atomic() on it; on 64-bit that re-enables page faults and "
                    "preemption this device mapping never disabled, unbalancing both counts")
        if mapping.path == "page":
            page = s.memmap.get(mapping.pfn)
            if page is not None and page.kmaps:
                page.kmaps -= 1
        del s.mappings[mapping.id]
        ids = s.by_addr[(mapping.cpu, mapping.addr)]
        ids.pop()  # _find_mapping() took the newest: O(1), not a scan from the front
        if not ids:
            del s.by_addr[(mapping.cpu, mapping.addr)]
        self._emit(ev.MappingClosed(addr, mapping.cpu))
        ended = s.rcu.rcu_read_unlock(mapping.reader)
        self._emit(ev.ReaderExit(mapping.cpu, mapping.reader, s.rcu.nesting(mapping.cpu),
                                 s.rcu.nr_readers))
        freed = []
        for gp in ended:
            self._emit(ev.GracePeriodEnd(gp.id, gp.who))
            for r in s.ranges.values():
                if r.gp == gp.id and r.state == "unlinked":
                    r.state = "freed"  # kfree(kmap)
                    self._forget(r)
                    freed.append(r.name)
                    self._emit(ev.RangeFreed(r.name))
        self._emit(ev.CostMeasured("kunmap", list_cost.steps, list_cost.loads, list_cost.ns,
                                   0, 0))
        return KunmapResult(addr, mapping.cpu, mapping.id, kind, mapping.range, list_cost, steps,
                            s.rcu.nr_readers, tuple(g.id for g in ended), tuple(freed),
                            tuple(notes))

    def _op_teardown(self, name: str) -> TeardownResult:
        s = self.state
        node = s.ranges.get(name)
        if node is None:
            known = [r.name for r in s.kmap.nodes]
            raise EngineError(f"no range named {name!r}"
                              + (f"; registered: {', '.join(known)}" if known else ""))
        if node.state == "unlinked":
            raise EngineError(f"{name} is already being torn down (grace period {node.gp} "
                              "waiting for readers)")
        if node.state == "freed":
            raise EngineError(f"{name} was already torn down and freed")
        # teardown_kmap() runs in the driver-unbind task; synchronize_rcu() sleeps, so it
        # cannot run inside a read-side section: use the current CPU if it is outside one
        runner = next((c for c in [s.cpu, *range(s.rcu.ncpus)] if not s.rcu.nesting(c)), None)
        if runner is None:
            raise EngineError("every CPU is inside an RCU read-side section: no context can "
                              "sleep in synchronize_rcu(); kunmap something first")
        # mutex_lock(register_lock); list_del_rcu(); mutex_unlock(); then, outside the lock,
        # synchronize_rcu() and kfree() (mm/kmap_pfn.c)
        s.kmap.list_del_rcu(node)
        s.table.remove(node)
        node.state = "unlinked"
        self._emit(ev.RangeUnlinked(name))
        gp = s.rcu.synchronize_rcu(f"teardown {name}")
        node.gp = gp.id
        waiting = tuple(r.id for r in s.rcu.blocking_readers(gp))
        self._emit(ev.GracePeriodStart(gp.id, gp.who, tuple(sorted(gp.waiting_cpus))))
        if gp.done:
            node.state = "freed"
            self._forget(node)
            self._emit(ev.GracePeriodEnd(gp.id, gp.who))
            self._emit(ev.RangeFreed(name))
        return TeardownResult(name, node.state if node.state == "freed" else "waiting",
                              gp.id, tuple(sorted(gp.waiting_cpus)), waiting, runner)

    # --- queries (no state change, no history) -------------------------------------------------
    def lookup(self, pfn: int) -> LookupResult:
        """Where is this pfn: memmap, e820, list path and section path; takes no mapping."""
        s = self.state
        self._check_pfn(pfn)
        phys = s.arch.PFN_PHYS(pfn)
        node, step_list, list_cost = s.kmap.scan_phys(phys)
        snode, section_cost = s.table.lookup(phys)
        nr = s.sparse.pfn_to_section_nr(pfn)
        valid = s.sparse.pfn_valid(pfn)
        e = s.physmap.find(phys)
        result = LookupResult(
            pfn=pfn, phys=phys, e820=e.type.label if e else "hole",
            section=s.sparse.nr_to_section(nr), section_nr=nr, pfn_valid=valid,
            page=s.sparse.pfn_to_page(pfn) if valid else None,
            direct=s.arch.va(phys) if valid else None,
            list_range=node.name if node else None, section_range=snode.name if snode else None,
            list_cost=list_cost, section_cost=section_cost, steps=tuple(step_list),
            agree=list_cost.answer == section_cost.answer)
        self._notify(ev.CostMeasured("lookup", list_cost.steps, list_cost.loads, list_cost.ns,
                                     section_cost.loads, section_cost.ns))
        return result

    def list_path(self, pfn: int) -> PathCost:
        """Only the 2015 list walk for a device pfn (no lock, no mapping): for benchmarks."""
        return self.state.kmap.scan_phys(self.state.arch.PFN_PHYS(pfn))[2]

    def section_path(self, pfn: int) -> PathCost:
        """Only the section-table lookup for a device pfn: for benchmarks."""
        return self.state.table.lookup(self.state.arch.PFN_PHYS(pfn))[1]

    def _check_pfn(self, pfn: int) -> None:
        if pfn < 0 or pfn >= self.state.arch.max_pfn:
            raise EngineError(f"pfn {pfn:#x} is beyond MAX_PHYSMEM_BITS="
                              f"{self.state.arch.max_physmem_bits} (max pfn "
                              f"{self.state.arch.max_pfn - 1:#x})")

    def page(self, pfn: int) -> PageResult:
        s = self.state
        self._check_pfn(pfn)
        phys = s.arch.PFN_PHYS(pfn)
        nr = s.sparse.pfn_to_section_nr(pfn)
        valid = s.sparse.pfn_valid(pfn)
        e = s.physmap.find(phys)
        st = s.memmap.get(pfn)
        return PageResult(pfn, phys, s.sparse.pfn_to_page(pfn), e.type.label if e else "hole",
                          s.sparse.nr_to_section(nr), nr, valid,
                          s.arch.va(phys) if valid else None,
                          st.kmaps if st else 0, st.touches if st else 0, st.last if st else "")

    def identify(self, addr: int) -> Identity:
        """Classify a kernel virtual address, and judge an access to a device mapping."""
        s = self.state
        a = s.arch
        if not 0 <= addr <= U64:
            raise EngineError(f"{addr:#x} is not a 64-bit address")
        for r in sorted(s.ranges.values(), key=lambda r: -r.seq):
            if r.holds_kva(addr):
                phys = r.start + (addr - r.base)
                return Identity(addr, "device mapping", phys >> a.page_shift, phys, r.name,
                                r.state, *self._verdict(addr, r))
        lo, hi = s.sparse.memmap_bounds() if s.sparse.vmemmap else (0, 0)
        if lo <= addr < hi:
            pfn = s.sparse.page_to_pfn(addr)
            if pfn is not None:
                return Identity(addr, "struct page", pfn, pfn << a.page_shift, None, None, "",
                                f"struct page of pfn {pfn:#x}"
                                + ("" if s.sparse.pfn_valid(pfn) else " (not pfn_valid)"))
            return Identity(addr, "struct page", None, None, None, None, "",
                            f"inside the vmemmap but not at a struct page boundary "
                            f"(sizeof(struct page) = {a.struct_page_size})")
        if not s.sparse.vmemmap:
            pfn = s.sparse.page_to_pfn(addr)
            if pfn is not None:
                return Identity(addr, "struct page", pfn, pfn << a.page_shift, None, None, "",
                                f"struct page of pfn {pfn:#x} (classic SPARSEMEM mem_map)")
        phys = a.pa(addr)
        if phys is not None:
            e = s.physmap.find(phys)
            return Identity(addr, "direct map", phys >> a.page_shift, phys, None, None, "",
                            f"__va({phys:#x}), {e.type.label if e else 'a hole in e820'}")
        return Identity(addr, "unknown", None, None, None, None, "",
                        "not in the direct map, the memmap or any registered range")

    def _verdict(self, addr: int, r: KmapRange) -> tuple[str, str]:
        s = self.state
        held = [m for m in s.mappings.values() if m.range == r.name and m.cpu == s.cpu
                and r.holds_kva(addr)]
        if r.state == "freed":
            return ("use-after-free",
                    f"{r.name} was freed after grace period {r.gp}: this address no longer "
                    "maps anything")
        if held:
            return "ok", f"protected by reader {held[-1].reader} on cpu{s.cpu}"
        if r.state == "unlinked":
            return ("unprotected", f"{r.name} is being torn down (grace period {r.gp}) and "
                    f"cpu{s.cpu} holds no mapping in it: it may be freed at any moment")
        return ("unprotected", f"cpu{s.cpu} holds no kmap in {r.name}: nothing stops a "
                "teardown from freeing it during this access")

    def encode_v5(self, pfn: int, flags: list[str]) -> int:
        """The __pfn_t kmap_atomic_pfn_t() takes (v5 layout, RFC PFN_MAP allowed)."""
        return self._v5().encode(pfn, flags)

    def encode(self, abi: str, pfn: int, flags: list[str], kver: str | None = None) -> int:
        return self._codec(abi, kver).encode(pfn, flags)

    def decode(self, abi: str, value: int, kver: str | None = None) -> Decoded:
        return self._codec(abi, kver).decode(value)

    def _codec(self, abi: str, kver: str | None):
        """v5 is the patch as posted; v5rfc adds the companion RFC's PFN_MAP (bit 3)."""
        a = self.state.arch
        return codec_for(abi, kver=kver, page_shift=a.page_shift,
                         max_physmem_bits=a.max_physmem_bits, vmemmap_base=a.vmemmap_base,
                         struct_page_size=a.struct_page_size)

    # --- integrity ---------------------------------------------------------------------------
    def check_invariants(self) -> list[str]:
        """Problems with the state (empty when sound): used after every test command."""
        s = self.state
        bad = []
        listed = {r.name for r in s.kmap.nodes}
        for r in s.ranges.values():
            if (r.state == "live") != (r.name in listed):
                bad.append(f"{r.name} is {r.state} but {'' if r.name in listed else 'not '}"
                           "on the list")
        alive = {r.name for r in s.ranges.values() if r.state != "freed"}
        if {n for _, n in s.phys_index.items.values()} != alive or \
                {n for _, n in s.kva_index.items.values()} != alive:
            bad.append("the overlap indexes and the ranges not yet freed disagree")
        tabled = {r.name for r in s.table.ranges}  # O(ranges), never per section
        if tabled != listed:
            bad.append(f"list {sorted(listed)} and section table {sorted(tabled)} disagree")
        for m in s.mappings.values():
            if m.reader not in s.rcu.readers:
                bad.append(f"mapping {m.addr:#x} has no RCU reader")
            if m.range and s.ranges[m.range].state == "freed":
                bad.append(f"mapping {m.addr:#x} outlived {m.range}")
        if len(s.rcu.readers) != sum(len(c) for c in s.rcu.cpu_readers):
            bad.append("reader count and per-CPU nesting disagree")
        if {m.reader for m in s.mappings.values()} != set(s.rcu.readers):
            bad.append("an RCU reader exists with no open mapping")
        if sorted(i for ids in s.by_addr.values() for i in ids) != sorted(s.mappings):
            bad.append("the address index and the open mappings disagree")
        return bad

    def fingerprint(self) -> str:
        """A digest of the whole state, to prove a refused command changed nothing."""
        s = self.state
        doc = {
            "spec": repr(s.spec),
            "list": [(r.name, r.start, r.end, r.base) for r in s.kmap.nodes],
            "ranges": sorted((r.name, r.state, r.gp, r.seq) for r in s.ranges.values()),
            "table": [(r.name, r.start, r.end) for r in s.table.ranges],  # O(ranges)
            "rcu": [s.rcu.cpu_readers, sorted(s.rcu.readers),
                    sorted((g.id, sorted(g.waiting_cpus)) for g in s.rcu.gps.values()),
                    s.rcu.next_reader, s.rcu.next_gp, s.rcu.completed],
            "mappings": [(m.id, m.cpu, m.addr, m.reader) for m in s.mappings.values()],
            "pages": sorted((p.pfn, p.kmaps, p.touches) for p in s.memmap.pages.values()),
            "cpu": s.cpu, "seq": [s.next_seq, s.next_mapping, s.next_base],
        }
        return hashlib.sha256(json.dumps(doc, default=str).encode()).hexdigest()


def _align_up(x: int, a: int) -> int:
    return -(-x // a) * a


__all__ = ["Machine", "MachineSpec", "State", "replace"]
