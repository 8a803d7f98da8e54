"""kmap_pfn under RCU: ordering, grace periods, costs, and transactions (mm/kmap_pfn.c)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfnconsole.core.errors import EngineError
from pfnconsole.core.machine import Machine
from pfnconsole.core.physmap import GiB

DEV = ["dev"]


def three_ranges(m: Machine) -> None:
    """pmem0 registered first (so scanned last), pmem2 last (scanned first)."""
    m.register("pmem0", 0x1000000000, 4 * GiB)
    m.register("pmem1", 0x1100000000, 4 * GiB)
    m.register("pmem2", 0x1200000000, 4 * GiB)
    assert not m.check_invariants()


def kmap(m: Machine, pfn: int, flags=()):
    r = m.kmap_atomic_pfn_t(m.encode_v5(pfn, list(flags)))
    assert not m.check_invariants()
    return r


def test_scan_order_is_newest_first_and_section_path_is_flat():
    m = Machine()
    three_ranges(m)
    oldest = kmap(m, 0x1000600, DEV)
    newest = kmap(m, 0x1200600, DEV)
    assert [s.name for s in oldest.steps] == ["pmem2", "pmem1", "pmem0"]
    assert oldest.list_cost.steps == 3 and newest.list_cost.steps == 1
    assert oldest.list_cost.loads > newest.list_cost.loads
    assert oldest.section_cost.loads == newest.section_cost.loads == 2
    assert oldest.agree and newest.agree
    assert oldest.range == "pmem0" and oldest.path == "list"
    # base + (addr - start): the first range got the start of vmalloc space
    base0 = m.state.ranges["pmem0"].base
    assert oldest.addr == base0 + 0x600000
    assert m.state.rcu.nr_readers == 2


def test_list_loads_follow_the_c_code():
    m = Machine()
    three_ranges(m)
    r = kmap(m, 0x1000600, DEV)
    # nodes pmem2, pmem1 miss with addr < start (next, res, start = 3 loads);
    # pmem0 hits: next, res, start, end, base = 5 loads
    assert [s.loads for s in r.steps] == [3, 3, 5]
    assert r.list_cost.loads == 11
    miss = kmap(m, 0x1300600, DEV)  # above all three: start and end loaded each time, +1 to end
    assert miss.path == "none" and miss.addr is None
    assert miss.list_cost.loads == 3 * 4 + 1


def test_ram_pfn_takes_page_path_and_still_is_a_reader():
    m = Machine()
    three_ranges(m)
    r = kmap(m, 0x100600)  # usable RAM, no PFN_DEV
    assert r.path == "page"
    assert r.list_cost.steps == 0
    assert r.addr == 0xFFFF888100600000  # kmap_atomic(page) == __va on 64-bit
    assert r.rcu_readers == 1 and r.nesting == 1
    # the page path answers; no section lookup is needed for a pfn with a struct page
    assert r.page_cost.answer == r.addr and r.page_cost.needed
    assert not r.section_cost.needed and r.section_cost.loads == 0
    assert m.page(0x100600).kmaps == 1


def test_miss_returns_null_and_drops_the_lock():
    m = Machine()
    three_ranges(m)
    r = kmap(m, 0x5000, DEV)  # PFN_DEV but no range holds it
    assert r.path == "none" and r.addr is None and r.mapping is None
    assert r.list_cost.steps == 3
    assert m.state.rcu.nr_readers == 0


def test_end_is_inclusive():
    m = Machine()
    m.register("tiny", 0x1000000000, 0x2000)  # pfns 0x1000000 and 0x1000001
    assert kmap(m, 0x1000001, DEV).path == "list"
    assert kmap(m, 0x1000002, DEV).path == "none"


def test_teardown_waits_for_earlier_readers_only():
    m = Machine()
    three_ranges(m)
    r = kmap(m, 0x1000600, DEV)                    # reader on cpu0 holds pmem0
    m.set_cpu(3)                                   # the teardown runs elsewhere
    t = m.teardown_kmap("pmem0")
    assert t.state == "waiting" and t.waiting_cpus == (0,) and len(t.waiting_readers) == 1
    assert m.state.ranges["pmem0"].state == "unlinked"
    # a reader that starts after list_del_rcu cannot find the range
    m.set_cpu(1)
    late = kmap(m, 0x1000700, DEV)
    assert late.path == "none" and late.list_cost.steps == 2
    # another reader on cpu1 does not hold up the grace period
    other = kmap(m, 0x1100000, DEV)
    assert other.path == "list"
    m.set_cpu(0)
    u = m.kunmap_atomic_pfn_t(r.addr)
    assert u.freed == ("pmem0",) and u.gps_ended == (t.gp,)
    assert u.kind == "page"  # range already off the list: kunmap_atomic() is called on it
    assert m.state.ranges["pmem0"].state == "freed"
    assert m.state.rcu.nr_readers == 1  # the cpu1 reader is still open
    assert not m.check_invariants()


def test_nested_reader_on_the_same_cpu_delays_the_grace_period():
    m = Machine()
    three_ranges(m)
    a = kmap(m, 0x1000600, DEV)
    m.set_cpu(3)
    t = m.teardown_kmap("pmem0")
    m.set_cpu(0)
    b = kmap(m, 0x1100600, DEV)  # same CPU, nested inside a: no quiescent state yet
    u = m.kunmap_atomic_pfn_t(a.addr)
    assert u.freed == () and m.state.ranges["pmem0"].state == "unlinked"
    u = m.kunmap_atomic_pfn_t(b.addr)
    assert u.freed == ("pmem0",) and u.gps_ended == (t.gp,)


def test_teardown_with_no_reader_frees_at_once():
    m = Machine()
    three_ranges(m)
    t = m.teardown_kmap("pmem1")
    assert t.state == "freed" and t.waiting_readers == ()
    r = kmap(m, 0x1000600, DEV)
    assert [s.name for s in r.steps] == ["pmem2", "pmem0"]


def test_use_after_free_is_reported():
    m = Machine()
    three_ranges(m)
    r = kmap(m, 0x1000600, DEV)
    assert m.identify(r.addr).verdict == "ok"
    m.kunmap_atomic_pfn_t(r.addr)
    assert m.identify(r.addr).verdict == "unprotected"
    m.teardown_kmap("pmem0")  # no reader left: freed at once
    ident = m.identify(r.addr)
    assert ident.verdict == "use-after-free" and ident.range == "pmem0"


@pytest.mark.parametrize("op,needle", [
    (lambda m: m.register("pmem0", 0x1000000000, GiB), "already registered"),
    (lambda m: m.register("x", 0x1000100000, GiB), "overlaps pmem0"),
    (lambda m: m.register("x", 0x2000000000, 0), "more than 0"),
    (lambda m: m.register("x", 1 << 46, GiB), "MAX_PHYSMEM_BITS"),
    (lambda m: m.register("9x", 0x2000000000, GiB), "range name"),
    (lambda m: m.kunmap_atomic_pfn_t(0xFFFFC90000000000), "no open mapping"),
    (lambda m: m.teardown_kmap("nope"), "no range named"),
    (lambda m: m.set_cpu(9), "cpu 9 does not exist"),
    (lambda m: m.kmap_atomic_pfn_t(1 << 64), ""),
    (lambda m: m.kmap_atomic_pfn_t(0x100600 << 12 | 0x20), "bit"),
])
def test_refusals_change_nothing(op, needle):
    m = Machine()
    three_ranges(m)
    kmap(m, 0x1000600, DEV)
    before, n = m.fingerprint(), m.history_len
    with pytest.raises(EngineError) as exc:
        op(m)
    assert needle in str(exc.value)
    assert m.fingerprint() == before and m.history_len == n


def test_register_lock_is_dropped_before_the_grace_period():
    # mm/kmap_pfn.c unlocks register_lock right after list_del_rcu(): registering and
    # tearing down go on while synchronize_rcu() waits
    m = Machine()
    three_ranges(m)
    kmap(m, 0x1000600, DEV)
    m.set_cpu(1)
    assert m.teardown_kmap("pmem0").state == "waiting"
    m.register("pmem3", 0x1300000000, GiB)
    assert m.teardown_kmap("pmem1").state == "waiting"  # cpu0 still in its reader
    with pytest.raises(EngineError, match="already being torn down"):
        m.teardown_kmap("pmem0")
    assert len(m.state.rcu.gps) == 2
    assert not m.check_invariants()


def test_teardown_runs_outside_any_reader():
    m = Machine()
    three_ranges(m)
    kmap(m, 0x1000600, DEV)
    t = m.teardown_kmap("pmem1")  # cpu0 is in a reader: the unbind runs on cpu1
    assert t.cpu == 1 and t.state == "waiting" and t.waiting_cpus == (0,)
    for cpu in (1, 2, 3):
        m.set_cpu(cpu)
        kmap(m, 0x1200600, DEV)
    with pytest.raises(EngineError, match="every CPU is inside"):
        m.teardown_kmap("pmem2")


def test_kunmap_on_the_wrong_cpu_is_refused():
    m = Machine()
    three_ranges(m)
    r = kmap(m, 0x1000600, DEV)
    m.set_cpu(2)
    with pytest.raises(EngineError, match="taken on cpu0"):
        m.kunmap_atomic_pfn_t(r.addr)


def test_events_follow_the_operation_and_none_on_failure():
    m = Machine()
    seen = []
    m.subscribe(seen.append)
    three_ranges(m)
    seen.clear()
    r = kmap(m, 0x1000600, DEV)
    kinds = [e.kind for e in seen]
    assert kinds[0] == "reader_enter"
    assert kinds.count("scan_step") == 3
    assert "mapping_opened" in kinds and kinds[-1] == "cost_measured"
    seen.clear()
    m.teardown_kmap("pmem0")
    assert [e.kind for e in seen] == ["range_unlinked", "grace_period_start"]
    seen.clear()
    m.kunmap_atomic_pfn_t(r.addr)
    assert {"grace_period_end", "range_freed", "reader_exit"} <= {e.kind for e in seen}
    seen.clear()
    with pytest.raises(EngineError):
        m.teardown_kmap("pmem0")
    assert seen == []


def test_undo_restores_every_step():
    m = Machine()
    prints = [m.fingerprint()]
    three_ranges(m)
    prints += [None] * 3
    r = kmap(m, 0x1000600, DEV)
    m.teardown_kmap("pmem0")
    m.kunmap_atomic_pfn_t(r.addr)
    final = m.fingerprint()
    assert m.undo() == "kunmap"
    assert m.state.ranges["pmem0"].state == "unlinked"
    assert m.undo() == "teardown"
    assert m.state.ranges["pmem0"].state == "live"
    for _ in range(4):
        m.undo()
    assert m.fingerprint() == prints[0]
    with pytest.raises(EngineError, match="nothing to undo"):
        m.undo()
    assert final != prints[0]


# --- random operation sequences: invariants hold, refusals change nothing -----------------------

OPS = st.one_of(
    st.tuples(st.just("register"), st.sampled_from(["a", "b", "c", "d"]),
              st.integers(0, 7), st.integers(1, 3)),
    st.tuples(st.just("kmap"), st.integers(0, 8 * 4096 * 256), st.booleans()),
    st.tuples(st.just("kunmap"), st.integers(0, 5)),
    st.tuples(st.just("teardown"), st.sampled_from(["a", "b", "c", "d"])),
    st.tuples(st.just("cpu"), st.integers(0, 4)),
    st.tuples(st.just("undo")),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(OPS, max_size=25))
def test_random_sequences_keep_invariants(ops):
    m = Machine()
    base = 0x1000000000
    for op in ops:
        before, n = m.fingerprint(), m.history_len
        try:
            if op[0] == "register":
                m.register(op[1], base + op[2] * GiB, op[3] * GiB // 2)
            elif op[0] == "kmap":
                m.kmap_atomic_pfn_t(m.encode_v5((base >> 12) + op[1], ["dev"] if op[2] else []))
            elif op[0] == "kunmap":
                mine = [x for x in m.state.mappings.values() if x.cpu == m.state.cpu]
                addr = mine[op[1] % len(mine)].addr if mine else 0xFFFFC90000000000 + op[1]
                m.kunmap_atomic_pfn_t(addr)
            elif op[0] == "teardown":
                m.teardown_kmap(op[1])
            elif op[0] == "cpu":
                m.set_cpu(op[1])
            else:
                m.undo()
        except EngineError:
            assert m.fingerprint() == before and m.history_len == n
        assert m.check_invariants() == []
        assert all(n >= 0 for n in map(len, m.state.rcu.cpu_readers))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(1, 20)), max_size=30),
       st.integers(0, 220), st.integers(0, 30))
def test_interval_index_matches_brute_force(items, qstart, qlen):
    from pfnconsole.core.kmap_pfn import IntervalIndex
    idx, kept = IntervalIndex(), []
    for i, (start, size) in enumerate(items):
        end = start + size - 1
        if idx.overlapping(start, end) is None:
            assert not any(s <= end and e >= start for s, e, _ in kept)
            idx.add(start, end, f"r{i}")
            kept.append((start, end, f"r{i}"))
        else:
            assert any(s <= end and e >= start for s, e, _ in kept)
    qend = qstart + qlen
    hits = sorted((s, n) for s, e, n in kept if s <= qend and e >= qstart)
    assert idx.overlapping(qstart, qend) == (hits[0][1] if hits else None)
