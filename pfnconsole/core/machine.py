"""The simulated machine: one facade over every part of the core.

``Machine`` owns the state (arch profile, e820 map, sparse sections, lazy memmap, the 2015
kmap_pfn list with its RCU state, and the section table beside it).  Each mutating method
is a transaction: it validates first, raises ``EngineError`` before changing anything,
and on success pushes its undo record and emits its events.  Undo runs the last record
backwards (undo.py), so it costs what that operation changed, whatever came before it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar, TypeVar

from . import events as ev
from . import folio, integrity, memremap, paths, queries
from .cost import CostPath, PathCost
from .encodings import Codec, Decoded, V5PfnT, codec_for
from .errors import EngineError
from .folio import Folio
from .kmap_pfn import KmapPath, KmapRange, RangeState, Step, check_new_range
from .memremap import DevPagemap
from .pgmap_lookup import Walk
from .physmap import GiB
from .results import (
    CacheResult,
    Identity,
    KmapResult,
    KunmapKind,
    KunmapResult,
    LookupResult,
    PageResult,
    RegisterResult,
    TeardownResult,
    TeardownState,
)
from .state import MachineSpec, Mapping, State, build_state, close_mapping, open_mapping
from .undo import Op, Snapshot, UndoLog, UndoStack

R = TypeVar("R")


class Machine:
    """The simulated machine and the operations the console performs on it."""

    def __init__(self, spec: MachineSpec | None = None) -> None:
        self._listeners: list[ev.Listener] = []
        self._pending: list[ev.Event] | None = None
        self.state = build_state(spec or MachineSpec())
        self._stack = UndoStack()

    # --- events and transactions ---------------------------------------------------------
    def subscribe(self, listener: ev.Listener) -> Callable[[], None]:
        """Call ``listener(event)`` after each successful operation; returns unsubscribe."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)
        return unsubscribe

    def _emit(self, event: ev.Event) -> None:
        if self._pending is not None:
            self._pending.append(event)

    def _notify(self, event: ev.Event) -> None:
        for listener in list(self._listeners):
            listener(event)

    def _run(self, op: Op, body: Callable[..., R], *args: Any) -> R:
        """Run ``body(log, *args)`` as a transaction and push its undo record."""
        log = UndoLog()
        self._pending = [] if self._listeners else None
        try:
            result = body(log, *args)
        except BaseException:
            self._pending = None
            log.rollback()  # never leave a half-applied operation behind
            raise
        self._stack.push(op, args, log)
        pending, self._pending = self._pending, None
        for event in pending or ():
            for listener in list(self._listeners):
                listener(event)
        return result

    def _apply(self, op: Op, log: UndoLog, args: tuple[Any, ...]) -> object:
        """Run an undone operation again, silently (restore)."""
        self._pending = None
        return self._OPS[op](self, log, *args)

    # --- undo (python-chess names), snapshots -------------------------------------------------
    @property
    def history_len(self) -> int:
        """Operations that undo can take back."""
        return self._stack.depth

    def undo(self) -> str:
        """Take back the last successful operation; returns its name (an ``Op``)."""
        self._pending = None
        op = self._stack.pop()  # EngineError "nothing to undo"
        self._notify(ev.Restored("undo"))
        return op

    def snapshot(self) -> Snapshot:
        """A token for ``restore`` and ``changed_since``, in O(1)."""
        return self._stack.snapshot()

    def changed_since(self, token: Snapshot) -> bool:
        """Has any operation, undo or restore changed the machine since ``token``?"""
        return self._stack.changed_since(token)

    def restore(self, token: Snapshot) -> None:
        """Put the machine back exactly as it was when ``token`` was taken: O(operations
        since the token), and valid after undo (what was undone is applied again)."""
        self._pending = None
        self._stack.restore(token, self._apply)
        self._notify(ev.Restored("restore"))

    def clear_stack(self) -> None:
        """Forget every undo record (python-chess's name); the state stays as it is.

        Long loops (the benchmarks) call it so the records neither grow nor cost memory;
        afterwards there is nothing to undo and older snapshots are refused.
        """
        self._stack.clear()

    def history(self) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
        """The operations undo can take back, oldest first, as (name, args, {})."""
        return [(str(op), args, {}) for op, args in self._stack.history()]

    # --- public operations -----------------------------------------------------------------
    def machine(self, spec: MachineSpec) -> State:
        return self._run(Op.MACHINE, self._op_machine, spec)

    def reset(self) -> State:
        return self._run(Op.MACHINE, self._op_machine, self.state.spec)

    def register(self, name: str, start: int, size: int, base: int | None = None
                 ) -> RegisterResult:
        """devm_register_kmap_pfn_range(): phys [start, start + size) mapped at ``base``."""
        return self._run(Op.REGISTER, self._op_register, name, start, size, base)

    def kmap_atomic_pfn_t(self, value: int, abi: str = "v5") -> KmapResult:
        """``void *kmap_atomic_pfn_t(__pfn_t pfn)`` for a v5 ``__pfn_t`` value; with
        abi="pfn_t" a merged ``pfn_t``: ``kmap_atomic(pfn_t_to_page(pfn))``, no list."""
        return self._run(Op.KMAP, self._op_kmap, value, abi)

    def kunmap_atomic_pfn_t(self, addr: int) -> KunmapResult:
        """``void kunmap_atomic_pfn_t(void *addr)`` on the current CPU."""
        return self._run(Op.KUNMAP, self._op_kunmap, addr)

    def teardown_kmap(self, name: str) -> TeardownResult:
        """The devres action on unbind: list_del_rcu(), synchronize_rcu(), kfree()."""
        return self._run(Op.TEARDOWN, self._op_teardown, name)

    def set_cpu(self, cpu: int) -> int:
        return self._run(Op.CPU, self._op_cpu, cpu)

    def cache(self, action: str, profile: str | None = None) -> CacheResult:
        """``cold`` (evict everything), ``warm`` (load every modelled structure once) or
        ``profile`` (cost with another CPU profile, caches cold)."""
        return self._run(Op.CACHE, self._op_cache, action, profile)

    def alloc_pages(self, order: int, zone: str | None = None) -> Folio:
        """alloc_pages(GFP_KERNEL | __GFP_COMP, order): a compound page (see folio.py)."""
        return self._run(Op.ALLOC_PAGES, self._op_alloc_pages, order, zone)

    def _op_alloc_pages(self, log: UndoLog, order: int, zone: str | None) -> Folio:
        return folio.alloc_pages(self.state, order, zone, log)

    def memremap_pages(self, name: str, start: int, size: int, type: str | None = None,
                       map_dev: bool = False, nid: int = 0) -> DevPagemap:
        """memremap_pages(): phys [start, start + size) into ZONE_DEVICE (see memremap.py)."""
        return self._run(Op.MEMREMAP, self._op_memremap, name, start, size, type, map_dev, nid)

    def memunmap_pages(self, name: str) -> DevPagemap:
        return self._run(Op.MEMUNMAP, self._op_memunmap, name)

    def _op_memremap(self, log: UndoLog, name: str, start: int, size: int, type: str | None,
                     map_dev: bool, nid: int) -> DevPagemap:
        pg = memremap.memremap_pages(self.state, name, start, size, type, map_dev, nid, log)
        self._emit(ev.PagemapAdded(name, pg.start, pg.end, pg.type or ""))
        return pg

    def _op_memunmap(self, log: UndoLog, name: str) -> DevPagemap:
        pg = memremap.memunmap_pages(self.state, name, log)
        self._emit(ev.PagemapRemoved(name))
        return pg

    def cache_state(self) -> CacheResult:
        return paths.cache_result(self.state, "show")

    # --- operation bodies: validate, then apply, pushing each change's inverse on ``log`` -----
    def _op_machine(self, log: UndoLog, spec: MachineSpec) -> State:
        state = build_state(spec, self.state.profile)
        log.push(setattr, self, "state", self.state)
        self.state = state
        self._emit(ev.MachineBuilt(state.arch.name, state.physmap.ram_bytes,
                                   state.sparse.nr_present))
        self._emit(ev.Restored("machine"))
        return state

    def _op_cpu(self, log: UndoLog, cpu: int) -> int:
        s = self.state
        s.rcu.check_cpu(cpu)
        log.push(setattr, s, "cpu", s.cpu)
        s.cpu = cpu
        self._emit(ev.CpuChanged(cpu))
        return cpu

    def _op_cache(self, log: UndoLog, action: str, profile: str | None) -> CacheResult:
        paths.set_caches(self.state, action, profile, log)
        if action == "warm":
            memremap.warm_pgmap(self.state, log)
        return paths.cache_result(self.state, action)

    def _op_register(self, log: UndoLog, name: str, start: int, size: int, base: int | None
                     ) -> RegisterResult:
        s = self.state
        if base is None:
            base = s.next_base
        check_new_range(name, start, size, base, s.ranges, s.arch.max_physmem_bits,
                        s.phys_index, s.kva_index)
        warnings = queries.e820_warnings(s, start, start + size - 1)
        node = KmapRange(name, start, start + size - 1, base, s.next_seq)
        log.push(_set_counters, s, s.next_seq, s.next_base)
        s.next_seq += 1
        s.next_base = max(s.next_base, _align_up(base + size, GiB))
        old = s.ranges.get(name)  # a freed range of that name is forgotten here
        if old is None:
            log.push(s.ranges.pop, name)
        else:
            log.push(s.ranges.__setitem__, name, old)
        s.ranges[name] = node
        s.phys_index.add(node.start, node.end, name, log)
        s.kva_index.add(base, base + size - 1, name, log)
        s.kmap.list_add_rcu(node, log)
        s.table.insert(node, log)
        ssb = s.arch.section_size_bits
        shared = s.table.shared_with(node)
        self._emit(ev.RangeRegistered(name, node.start, node.end, base))
        return RegisterResult(node, 1, len(s.kmap.nodes), (node.start >> ssb, node.end >> ssb),
                              shared, tuple(warnings))

    def _v5(self) -> V5PfnT:
        return V5PfnT(page_shift=self.state.arch.page_shift,
                      max_physmem_bits=self.state.arch.max_physmem_bits, rfc_pfn_map=True)

    def _op_kmap(self, log: UndoLog, value: int, abi: str = "v5") -> KmapResult:
        s = self.state
        merged = abi == "pfn_t"
        if merged:
            return self._kmap_merged(log, value)
        decoded = self._v5().decode(value)  # raises EngineError for what v5 cannot hold
        pfn = decoded.pfn
        assert pfn is not None
        phys = s.arch.PFN_PHYS(pfn)
        cpu = s.cpu
        warnings: list[str] = []
        why = f"kmap_atomic_pfn_t({pfn:#x})"
        # 1. page = __pfn_t_to_page(pfn); 2. rcu_read_lock() whatever the answer
        reader = s.rcu.rcu_read_lock(cpu, why, log)
        self._emit(ev.ReaderEnter(cpu, reader.id, s.rcu.nesting(cpu), s.rcu.nr_readers, why))
        steps: tuple[Step, ...] = ()
        rng: str | None
        randomized = paths.randomized_bases(s.arch.name, s.kver)
        if decoded.has_page:
            # 3. return kmap_atomic(page): on 64-bit that is page_address(), the direct map
            addr = s.arch.va(phys)
            list_cost = paths.not_needed(CostPath.LIST, "page path: no list walk")
            section_cost = paths.not_needed(
                CostPath.SECTION, "a pfn with a struct page needs no section lookup")
            page_cost = paths.page_cost(s.caches[CostPath.PAGE], randomized, addr, log)
            if not s.sparse.pfn_valid(pfn):
                warnings.append(f"pfn {pfn:#x} is not pfn_valid(): __pfn_t_to_page() still "
                                "computes a struct page pointer and kmap_atomic() maps it")
            agree = True
            path, rng = KmapPath.PAGE, None
            page = s.memmap.touch(pfn, f"kmap cpu{cpu}", log)
            log.push(setattr, page, "kmaps", page.kmaps)
            page.kmaps += 1
            self._emit(ev.PageTouched(pfn, "kmap"))
        else:
            node, steps, list_cost, snode, section_cost = paths.model_scan_phys(s, phys, log)
            page_cost = paths.page_cost(s.caches[CostPath.PAGE], randomized, None, log,
                                        paths.BASELINE)
            for st in steps:
                self._emit(ev.ScanStep("kmap", st.index, st.name, st.hit, st.loads, st.model_ns))
            agree = section_cost.answer == list_cost.answer
            if not agree:
                warnings.append(queries.disagreement(s, phys, node, snode))
            if node is None or list_cost.answer is None:
                # 5. "only unlock in the error case": rcu_read_unlock(); return NULL
                s.rcu.rcu_read_unlock(reader.id, log)
                self._emit(ev.ReaderExit(cpu, reader.id, s.rcu.nesting(cpu), s.rcu.nr_readers))
                self._emit(ev.CostMeasured("kmap", list_cost.steps, list_cost.loads,
                                           list_cost.model_ns, section_cost.loads,
                                           section_cost.model_ns))
                return KmapResult(value, decoded, cpu, KmapPath.NONE, None, None, None,
                                  list_cost, section_cost, steps, agree, s.rcu.nr_readers,
                                  s.rcu.nesting(cpu), tuple(warnings), page_cost,
                                  self._pgmap_cost(pfn, log))
            addr, path, rng = list_cost.answer, KmapPath.LIST, node.name
        pgmap_cost = self._pgmap_cost(pfn, log)
        mapping = Mapping(s.next_mapping, cpu, addr, pfn, value, path, rng, reader.id)
        open_mapping(s, mapping, log)
        self._emit(ev.MappingOpened(addr, pfn, cpu, path, rng))
        self._emit(ev.CostMeasured("kmap", list_cost.steps, list_cost.loads, list_cost.model_ns,
                                   section_cost.loads, section_cost.model_ns))
        return KmapResult(value, decoded, cpu, path, addr, rng, mapping.id, list_cost,
                          section_cost, steps, agree, s.rcu.nr_readers, s.rcu.nesting(cpu),
                          tuple(warnings), page_cost, pgmap_cost)

    def _kmap_merged(self, log: UndoLog, value: int) -> KmapResult:
        """kmap_atomic(pfn_t_to_page(pfn)) of a merged pfn_t: on 64-bit page_address(), no
        list, no RCU reader and nothing for kunmap to find; only the caches change."""
        s = self.state
        decoded = self._codec("pfn_t", f"{s.kver[0]}.{s.kver[1]}").decode(value)
        if not decoded.has_page:
            raise EngineError("pfn_t_to_page() is NULL for PFN_DEV without PFN_MAP: the merged "
                              "kernel has no kmap for a pfn without a struct page (DAX inserts "
                              "it into page tables; the kernel reaches it through memremap())")
        pfn = decoded.pfn
        assert pfn is not None
        addr = s.arch.va(s.arch.PFN_PHYS(pfn))
        warnings = []
        if not s.sparse.pfn_valid(pfn):
            warnings.append(f"pfn {pfn:#x} is not pfn_valid(): a pfn_t with PFN_MAP promises ZONE_DEVICE "
                            "struct pages that no memremap_pages() made")
        page_cost = paths.page_cost(s.caches[CostPath.PAGE], paths.randomized_bases(s.arch.name, s.kver),
                                    addr, log)
        list_cost = paths.not_needed(CostPath.LIST, "pfn_t_to_page(): the merged kernel has no list")
        section_cost = paths.not_needed(CostPath.SECTION, "a pfn with a struct page needs no section lookup")
        pg = memremap.pgmap_of(s, pfn)
        if pg is not None and not memremap.pgmap_set(s, pfn, pg) and s.kver >= (4, 5):
            warnings.append(f"pfn {pfn:#x} is below {pg.name}'s pfn_first() {pg.first_pfn:#x}: "
                            "its struct page was never initialised (the altmap's info block and "
                            "memmap live there)")
        pgmap_cost = self._pgmap_cost(pfn, log)
        self._emit(ev.CostMeasured("kmap", 0, 0, 0.0, 0, 0.0))
        return KmapResult(value, decoded, s.cpu, KmapPath.PAGE, addr, None, None, list_cost, section_cost,
                          (), True, s.rcu.nr_readers, s.rcu.nesting(s.cpu), tuple(warnings), page_cost,
                          pgmap_cost)

    def _pgmap_cost(self, pfn: int, log: UndoLog) -> PathCost:
        """get_dev_pagemap() for ``pfn``, taken only where a dev_pagemap holds it."""
        s = self.state
        if memremap.pgmap_of(s, pfn) is None:
            return paths.not_needed(CostPath.PGMAP, "no dev_pagemap holds this pfn (memremap_pages)")
        return memremap.pgmap_cost(s, pfn, log)

    def _op_kunmap(self, log: UndoLog, addr: int) -> KunmapResult:
        s = self.state
        mapping = queries.find_mapping(s, addr)
        node, steps, list_cost = paths.model_scan_kva(s, addr, log)
        for st in steps:
            self._emit(ev.ScanStep("kunmap", st.index, st.name, st.hit, st.loads, st.model_ns))
        notes = []
        if node is not None:
            kind = KunmapKind.DEVICE
        else:
            kind = KunmapKind.PAGE
            if mapping.path == KmapPath.LIST:
                notes.append(
                    f"{mapping.range} is no longer on the list (teardown in progress), so "
                    "kunmap_atomic_pfn_t() does not recognise this device address and calls "
                    "kunmap_atomic() on it; on 64-bit that re-enables page faults and "
                    "preemption this device mapping never disabled, unbalancing both counts")
        if mapping.path == KmapPath.PAGE:
            page = s.memmap.get(mapping.pfn)
            if page is not None and page.kmaps:
                log.push(setattr, page, "kmaps", page.kmaps)
                page.kmaps -= 1
        close_mapping(s, mapping, log)
        self._emit(ev.MappingClosed(addr, mapping.cpu))
        ended = s.rcu.rcu_read_unlock(mapping.reader, log)
        self._emit(ev.ReaderExit(mapping.cpu, mapping.reader, s.rcu.nesting(mapping.cpu),
                                 s.rcu.nr_readers))
        freed = []
        for gp in ended:
            self._emit(ev.GracePeriodEnd(gp.id, gp.who))
            for r in s.ranges.values():
                if r.gp == gp.id and r.state == RangeState.UNLINKED:
                    self._kfree(r, log)
                    freed.append(r.name)
                    self._emit(ev.RangeFreed(r.name))
        self._emit(ev.CostMeasured("kunmap", list_cost.steps, list_cost.loads,
                                   list_cost.model_ns, 0, 0.0))
        return KunmapResult(addr, mapping.cpu, mapping.id, kind, mapping.range, list_cost, steps,
                            s.rcu.nr_readers, tuple(g.id for g in ended), tuple(freed),
                            tuple(notes))

    def _kfree(self, r: KmapRange, log: UndoLog) -> None:
        """kfree(kmap): the range's physical and virtual extents are free for reuse."""
        log.push(setattr, r, "state", r.state)
        r.state = RangeState.FREED
        self.state.phys_index.remove(r.start, log)
        self.state.kva_index.remove(r.base, log)

    def _op_teardown(self, log: UndoLog, name: str) -> TeardownResult:
        s = self.state
        node = s.ranges.get(name)
        if node is None:
            known = [r.name for r in s.kmap.nodes]
            raise EngineError(f"no range named {name!r}"
                              + (f"; registered: {', '.join(known)}" if known else ""))
        if node.state == RangeState.UNLINKED:
            raise EngineError(f"{name} is already being torn down (grace period {node.gp} "
                              "waiting for readers)")
        if node.state == RangeState.FREED:
            raise EngineError(f"{name} was already torn down and freed")
        # teardown_kmap() runs in the driver-unbind task; synchronize_rcu() sleeps, so it
        # cannot run inside a read-side section: use the current CPU if it is outside one
        runner = next((c for c in [s.cpu, *range(s.rcu.ncpus)] if not s.rcu.nesting(c)), None)
        if runner is None:
            raise EngineError("every CPU is inside an RCU read-side section: no context can "
                              "sleep in synchronize_rcu(); kunmap something first")
        # mutex_lock(register_lock); list_del_rcu(); mutex_unlock(); then, outside the lock,
        # synchronize_rcu() and kfree() (mm/kmap_pfn.c)
        s.kmap.list_del_rcu(node, log)
        s.table.remove(node, log)
        log.push(_set_range_state, node, node.state, node.gp)
        node.state = RangeState.UNLINKED
        self._emit(ev.RangeUnlinked(name))
        gp = s.rcu.synchronize_rcu(f"teardown {name}", log)
        node.gp = gp.id
        waiting = tuple(r.id for r in s.rcu.blocking_readers(gp))
        self._emit(ev.GracePeriodStart(gp.id, gp.who, tuple(sorted(gp.waiting_cpus))))
        if gp.done:
            self._kfree(node, log)
            self._emit(ev.GracePeriodEnd(gp.id, gp.who))
            self._emit(ev.RangeFreed(name))
        return TeardownResult(name, TeardownState.FREED if gp.done else TeardownState.WAITING,
                              gp.id, tuple(sorted(gp.waiting_cpus)), waiting, runner)

    _OPS: ClassVar[dict[Op, Callable[..., object]]] = {
        Op.MACHINE: _op_machine, Op.REGISTER: _op_register, Op.KMAP: _op_kmap,
        Op.KUNMAP: _op_kunmap, Op.TEARDOWN: _op_teardown, Op.CPU: _op_cpu, Op.CACHE: _op_cache,
        Op.ALLOC_PAGES: _op_alloc_pages, Op.MEMREMAP: _op_memremap, Op.MEMUNMAP: _op_memunmap,
    }
    """Each operation's body by name, for ``restore`` to apply an undone record again."""

    # --- queries (no state change, no undo record) ---------------------------------------------
    def lookup(self, pfn: int) -> LookupResult:
        """Where is this pfn: memmap, e820, list path and section path; takes no mapping."""
        result = paths.model_lookup(self.state, queries.lookup(self.state, pfn))
        log = UndoLog()
        try:
            s = self.state
            ram = result.e820 == "usable" and result.pgmap is None
            pc = (paths.not_needed(CostPath.PGMAP, "a RAM pfn: nothing asks for its dev_pagemap") if ram
                  else memremap.pgmap_cost(s, pfn, log))
        finally:
            log.rollback()  # a lookup leaves the caches as they were
        result = replace(result, pgmap_cost=pc)
        lc, sc = result.list_cost, result.section_cost
        self._notify(ev.CostMeasured("lookup", lc.steps, lc.loads, lc.model_ns, sc.loads,
                                     sc.model_ns))
        return result

    def get_dev_pagemap(self, pfn: int) -> tuple[DevPagemap | None, Walk | None, PathCost]:
        """get_dev_pagemap(pfn, NULL): the pgmap, the tree walk and its cost; the caches are
        left as they were."""
        queries.check_pfn(self.state, pfn)
        log = UndoLog()
        try:
            cost = memremap.pgmap_cost(self.state, pfn, log)
        finally:
            log.rollback()
        walk = memremap.lookup_walk(self.state, pfn)
        pg = self.state.pgmaps.get(walk.owner) if walk and walk.owner else None
        return pg, walk, cost

    def list_path(self, pfn: int) -> PathCost:
        """Only the 2015 list walk for a device pfn (no lock, no mapping): for benchmarks."""
        return self.state.kmap.scan_phys(self.state.arch.PFN_PHYS(pfn))[2]

    def section_path(self, pfn: int) -> PathCost:
        """Only the section-table lookup for a device pfn: for benchmarks."""
        return self.state.table.lookup(self.state.arch.PFN_PHYS(pfn))[1]

    def page(self, pfn: int) -> PageResult:
        """pfn_to_page(pfn) and what the console did to that struct page."""
        return queries.page(self.state, pfn)

    def identify(self, addr: int) -> Identity:
        """Classify a kernel virtual address, and judge an access to a device mapping."""
        return queries.identify(self.state, addr)

    def encode_v5(self, pfn: int, flags: list[str]) -> int:
        """The __pfn_t kmap_atomic_pfn_t() takes (v5 layout, RFC PFN_MAP allowed)."""
        return self._v5().encode(pfn, flags)

    def encode(self, abi: str, pfn: int, flags: list[str], kver: str | None = None) -> int:
        return self._codec(abi, kver).encode(pfn, flags)

    def decode(self, abi: str, value: int, kver: str | None = None) -> Decoded:
        return self._codec(abi, kver).decode(value)

    def _codec(self, abi: str, kver: str | None) -> Codec:
        """v5 is the patch as posted; v5rfc adds the companion RFC's PFN_MAP (bit 3)."""
        a = self.state.arch
        return codec_for(abi, kver=kver, page_shift=a.page_shift,
                         max_physmem_bits=a.max_physmem_bits, vmemmap_base=a.vmemmap_base,
                         struct_page_size=a.struct_page_size, arch=a.name)

    # --- integrity ---------------------------------------------------------------------------
    def check_invariants(self) -> list[str]:
        """Problems with the state (empty when sound): used after every test command."""
        return integrity.check_invariants(self.state)

    def fingerprint(self) -> str:
        """A digest of the whole state, to prove a refused command changed nothing."""
        return integrity.fingerprint(self.state)


# --- the inverses the operations push --------------------------------------------------------

def _set_counters(s: State, next_seq: int, next_base: int) -> None:
    s.next_seq, s.next_base = next_seq, next_base


def _set_range_state(r: KmapRange, state: RangeState, gp: int | None) -> None:
    r.state, r.gp = state, gp


def _align_up(x: int, a: int) -> int:
    return -(-x // a) * a


__all__ = [  # what the rest of the project imports from here
    "Identity", "KmapResult", "KunmapResult", "LookupResult", "Machine", "MachineSpec", "Mapping",
    "PageResult", "RegisterResult", "Snapshot", "State", "TeardownResult",
]
