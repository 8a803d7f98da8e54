"""The cache model: exact LRU per level, undo to the bit, and the figures each path gets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfnconsole.commands import Session
from pfnconsole.core.cache import Caches, Level, LruLevel
from pfnconsole.core.cpu_profiles import PROFILES, CacheLevel, CpuProfile
from pfnconsole.core.machine import Machine, MachineSpec
from pfnconsole.core.undo import UndoLog

HSW = PROFILES["haswell-ep"]
DRAM = HSW.dram_ns * HSW.ghz  # cycles of one DRAM load at 2.3 GHz


def lru_reference(seq: list[int], capacity: int) -> list[int]:
    """The plain-list LRU the ring must equal: most recent first."""
    out: list[int] = []
    for x in seq:
        if x in out:
            out.remove(x)
        out.insert(0, x)
        del out[capacity:]
    return out


@given(st.lists(st.integers(0, 12), max_size=60), st.integers(1, 6))
def test_a_level_is_exactly_lru_and_every_touch_comes_back(seq, capacity):
    lv = LruLevel(capacity)
    orders, recs = [lv.order()], []
    for i, x in enumerate(seq):
        recs.append(lv.touch(x))
        assert lv.order() == lru_reference(seq[: i + 1], capacity)
        orders.append(lv.order())
    for rec, before in zip(reversed(recs), reversed(orders[:-1]), strict=True):
        if rec is not None:
            lv.untouch(rec)
        assert lv.order() == before


def tiny() -> CpuProfile:
    """Two lines of L1, four of L2, no L3: small enough to count by hand."""
    return CpuProfile("tiny", "test", 2026, 1.0, (CacheLevel("L1", 128, 4), CacheLevel("L2", 256, 10)),
                      100.0, "test")


def test_levels_follow_reuse_distance():
    c, log = Caches(tiny()), UndoLog()
    a, b, cc, d = (i * 64 for i in range(4))
    assert [c.load("x", x, log).level for x in (a, b, a)] == [Level.DRAM, Level.DRAM, Level.L1]
    c.load("x", cc, log)                     # L1 now holds c, a: b fell to L2
    assert c.load("x", b, log).level == Level.L2
    for x in (cc, d, a):                     # b is now the fourth most recent line: still L2
        c.load("x", x, log)
    assert c.load("x", b, log).level == Level.L2
    for x in (a, cc, d, a + 4 * 64):         # four other lines since b: out of L2 too
        c.load("x", x, log)
    assert c.load("x", b, log).level == Level.DRAM
    assert c.load("x", b + 8, log).level == Level.L1  # the same line
    log.rollback()
    assert c.digest() == ((), ())


def machine(kver: str | None = None, ranges: int = 1) -> Machine:
    m = Machine(MachineSpec(kver=kver) if kver else None)
    for i in range(ranges):
        m.register(f"r{i}", 0x1000000000 + i * 0x100000000, 4 << 30)
    return m


def kmap_dev(m: Machine, pfn: int = 0x1000600):
    return m.kmap_atomic_pfn_t(m.encode_v5(pfn, ["dev"]))


def test_one_node_cold_then_warm_by_hand():
    m = machine()
    r = kmap_dev(m)
    # ranges.next, kmap->res, res->start miss everything; res->end, kmap->base share lines
    assert [x.level for x in r.list_cost.trace] == [Level.DRAM] * 3 + [Level.L1] * 2
    assert r.list_cost.cycles == pytest.approx(3 * DRAM + 2 * 4)
    assert r.list_cost.model_ns == pytest.approx(r.list_cost.cycles / HSW.ghz)
    assert r.section_cost.cycles == pytest.approx(2 * DRAM)
    again = kmap_dev(m)
    assert again.list_cost.cycles == 5 * 4 and again.section_cost.cycles == 2 * 4
    assert sum(s.cycles for s in again.steps) == again.list_cost.cycles


def test_the_page_path_loads_the_kaslr_bases_only_where_they_are_variables():
    old, new = machine("4.2"), machine("6.16")
    ram = 0x100600
    o = old.kmap_atomic_pfn_t(old.encode_v5(ram, []))
    n = new.kmap_atomic_pfn_t(new.encode_v5(ram, []))
    assert o.page_cost.loads == 0 and o.page_cost.cycles == 4  # arithmetic on constants
    assert n.page_cost.loads == 2 and [x.what for x in n.page_cost.trace] == ["vmemmap_base",
                                                                              "page_offset_base"]
    for r in (o, n):  # a RAM page takes neither the list nor the section table
        assert not r.list_cost.needed and not r.section_cost.needed
        assert r.list_cost.loads == r.section_cost.loads == 0


def test_undo_puts_the_caches_back_exactly():
    m = machine(ranges=3)
    kmap_dev(m)
    before = m.fingerprint()
    second = kmap_dev(m)
    assert m.fingerprint() != before  # the walk moved lines to the front
    m.undo()
    assert m.fingerprint() == before
    assert kmap_dev(m).list_cost.trace == second.list_cost.trace


def test_a_lookup_costs_what_the_next_kmap_will_and_changes_nothing():
    m = machine(ranges=4)
    kmap_dev(m, 0x1100600)
    before = m.fingerprint()
    look = m.lookup(0x1000600)
    assert m.fingerprint() == before
    r = kmap_dev(m)
    assert look.list_cost.cycles == r.list_cost.cycles
    assert look.section_cost.cycles == r.section_cost.cycles


@pytest.mark.parametrize("pfn,what", [(0x1000600, "hit"), (0x5000000, "miss past every node")])
def test_every_counted_load_is_placed_on_a_line(pfn, what):
    m = machine(ranges=5)
    r = kmap_dev(m, pfn)
    assert len(r.list_cost.trace) == r.list_cost.loads, what
    assert sum(s.loads for s in r.steps) + (0 if r.addr else 1) == r.list_cost.loads
    if r.addr:
        u = m.kunmap_atomic_pfn_t(r.addr)
        assert len(u.list_cost.trace) == u.list_cost.loads == 5 * u.list_cost.steps


def test_cache_commands_change_the_model_and_refusals_change_nothing():
    s = Session()
    for line in ("register r0 0x1000000000 4G", "kmap 0x1000600 dev"):
        assert s.execute(line).ok
    before = s.machine.fingerprint()
    bad = s.execute("cache profile pentium")
    assert not bad.ok and "known profiles are" in bad.error and s.machine.fingerprint() == before
    assert s.execute("cache").data["profile"] == "haswell-ep"
    assert s.execute("cache cold").ok
    cold = s.execute("kmap 0x1000600 dev").data
    assert cold["list_model_ns"] > 250  # DRAM again
    assert s.execute("cache profile zen2-rome").ok
    zen = s.execute("kmap 0x1000600 dev").data
    assert zen["profile"] == "zen2-rome"
    assert zen["list_model_ns"] == pytest.approx((3 * 122 * 3.4 + 8) / 3.4)
    assert s.execute("machine x86_64").ok  # a new machine keeps the profile, caches cold
    assert s.execute("cache").data["warm_lines"] == {"list": 0, "section": 0, "page": 0, "pgmap": 0}
    assert s.execute("cache").data["profile"] == "zen2-rome"


def test_cache_warm_makes_a_long_walk_all_l1():
    m = machine(ranges=64)
    m.cache("warm")
    r = kmap_dev(m)
    assert {x.level for x in r.list_cost.trace} == {Level.L1}
    assert r.list_cost.cycles == 4 * r.list_cost.loads == 4 * (3 * 64 + 2)


def test_the_session_view_follows_undo_and_queries_leave_it():
    s = Session()
    s.execute("register r0 0x1000000000 4G")
    s.execute("kmap 0x1000600 dev")
    kmap = s.view.walk
    assert kmap is not None and kmap.cmd == "kmap"
    s.query("lookup 0x1000700")
    assert s.view.walk is kmap
    s.execute("register r1 0x1100000000 4G")
    assert s.view.walk is None  # the walk was over the old list
    s.execute("undo")
    assert s.view.walk is kmap
    s.execute("undo")
    assert s.view.walk is None and s.view.value is None


@given(st.lists(st.lists(st.integers(0, 9), max_size=12), max_size=8))
def test_runs_match_single_loads_and_roll_back_in_any_nesting(batches):
    """`Caches.run` (the written-out loop) gives what one `LruLevel` per level would, and
    undoing the batches newest first gives back every earlier state."""
    c, ref = Caches(tiny()), [LruLevel(2), LruLevel(4)]
    logs, digests = [], [c.digest()]
    for batch in batches:
        log = UndoLog()
        got = c.run([("x", a * 64) for a in batch], log)
        for a, ld in zip(batch, got, strict=True):
            want = next((Level(n) for n, lv in zip(("L1", "L2"), ref, strict=True) if a in lv), Level.DRAM)
            assert ld.level == want
            for lv in ref:
                lv.touch(a)
        assert c.digest() == tuple(tuple(lv.order()) for lv in ref)
        logs.append(log)
        digests.append(c.digest())
    for log, before in zip(reversed(logs), reversed(digests[:-1]), strict=True):
        log.rollback()
        assert c.digest() == before
