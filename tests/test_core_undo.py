"""Undo in the python-chess manner: each operation takes back only what it changed.

Fingerprints prove exactness (dict orders included); call counts, never timings, prove
that an undo does the same work after 10 operations and after thousands.
"""

from __future__ import annotations

import gc
import json
import random
import sys
from functools import partial

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pfnconsole.core import events as ev
from pfnconsole.core.cost import CostPath
from pfnconsole.core.encodings import ABIS, all_flag_names, all_flag_spellings, codec_for, flag_names
from pfnconsole.core.errors import EngineError
from pfnconsole.core.kmap_pfn import KmapPath, RangeState
from pfnconsole.core.machine import Machine, MachineSpec
from pfnconsole.core.physmap import GiB
from pfnconsole.core.undo import Op

BASE = 0x1000000000
NAMES = ["a", "b", "c", "d"]

OPS = st.one_of(
    st.tuples(st.just("register"), st.sampled_from(NAMES), st.integers(0, 7), st.integers(1, 3)),
    st.tuples(st.just("kmap"), st.integers(0, 8 * 4096 * 256), st.booleans()),
    st.tuples(st.just("kunmap"), st.integers(0, 7)),
    st.tuples(st.just("teardown"), st.sampled_from(NAMES)),
    st.tuples(st.just("cpu"), st.integers(0, 3)),
    st.tuples(st.just("machine"), st.sampled_from(["x86_64", "arm64"])),
)


def apply(m: Machine, op: tuple) -> bool:
    """Run one generated operation; False when the machine refused it."""
    try:
        if op[0] == "register":
            m.register(op[1], BASE + op[2] * GiB, op[3] * GiB // 2)
        elif op[0] == "kmap":
            m.kmap_atomic_pfn_t(m.encode_v5((BASE >> 12) + op[1], ["dev"] if op[2] else []))
        elif op[0] == "kunmap":  # any open mapping of this CPU, not only the newest
            mine = [x for x in m.state.mappings.values() if x.cpu == m.state.cpu]
            m.kunmap_atomic_pfn_t(mine[op[1] % len(mine)].addr if mine else 0x5)
        elif op[0] == "teardown":
            m.teardown_kmap(op[1])
        elif op[0] == "cpu":
            m.set_cpu(op[1])
        else:
            m.machine(MachineSpec(arch=op[1]))
    except EngineError:
        return False
    return True


SLOW = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


OUT_OF_ORDER = [("register", "a", 0, 2), ("kmap", 0, False), ("kmap", 1, True), ("kmap", 2, False),
                ("cpu", 1), ("kmap", 3, True), ("teardown", "a"), ("cpu", 0), ("kunmap", 0),
                ("kunmap", 0), ("cpu", 1), ("kunmap", 0)]


@SLOW
@given(st.lists(OPS, max_size=40))
@example([("kmap", 0, False), ("kmap", 1, False), ("kunmap", 0)])
@example(OUT_OF_ORDER)
def test_undo_back_one_by_one_restores_every_fingerprint(ops):
    m = Machine()
    prints = [m.fingerprint()]
    for op in ops:
        before = (m.fingerprint(), m.history_len)
        if apply(m, op):
            prints.append(m.fingerprint())
        else:
            assert (m.fingerprint(), m.history_len) == before
        assert m.check_invariants() == []
    assert m.history_len == len(prints) - 1
    while m.history_len:
        prints.pop()
        m.undo()
        assert m.fingerprint() == prints[-1]
        assert m.check_invariants() == []
    assert m.fingerprint() == Machine().fingerprint()
    with pytest.raises(EngineError, match="nothing to undo"):
        m.undo()


@SLOW
@given(st.lists(st.one_of(OPS, st.just(("undo",)), st.just(("snap",))), max_size=40),
       st.randoms(use_true_random=False))
@example([*OUT_OF_ORDER[:6], ("snap",), *OUT_OF_ORDER[6:], ("snap",), ("undo",), ("undo",),
          ("register", "b", 4, 1), ("snap",)], random.Random(1))
def test_restore_reaches_every_snapshot_even_after_undo(ops, rnd):
    m = Machine()
    snaps = [(m.snapshot(), m.fingerprint())]
    for op in ops:
        if op[0] == "undo":
            if m.history_len:
                m.undo()
        elif op[0] == "snap":
            snaps.append((m.snapshot(), m.fingerprint()))
        else:
            apply(m, op)
    rnd.shuffle(snaps)
    for token, want in snaps:
        m.restore(token)
        assert m.fingerprint() == want
        assert not m.changed_since(token)
        assert m.check_invariants() == []


def test_restore_after_undo_redoes_what_was_undone():
    m = Machine()
    m.register("pmem0", BASE, 4 * GiB)
    r = m.kmap_atomic_pfn_t(m.encode_v5((BASE >> 12) + 0x600, ["dev"]))
    token, want = m.snapshot(), m.fingerprint()
    m.teardown_kmap("pmem0")
    m.kunmap_atomic_pfn_t(r.addr)
    for _ in range(4):
        m.undo()  # below the token, down to the bare machine
    assert m.history_len == 0 and m.changed_since(token)
    m.register("other", BASE + 8 * GiB, GiB)  # a different branch
    m.restore(token)
    assert m.fingerprint() == want and m.history_len == 2 and not m.changed_since(token)
    assert [op for op, _, _ in m.history()] == ["register", "kmap"]
    assert m.undo() == "kmap"  # the redone records undo like any other


def test_changed_since_follows_operations_and_undo():
    m = Machine()
    token = m.snapshot()
    assert not m.changed_since(token)
    with pytest.raises(EngineError):
        m.teardown_kmap("nothing")
    assert not m.changed_since(token)  # a refused command changes nothing
    m.set_cpu(1)
    assert m.changed_since(token)
    m.undo()
    assert not m.changed_since(token)
    m.set_cpu(1)
    assert m.changed_since(token)  # the same state by another path still counts as changed
    with pytest.raises(EngineError, match="not a snapshot"):
        m.changed_since("yesterday")


def test_clear_stack_keeps_the_state_and_forgets_the_records():
    m = Machine()
    m.register("pmem0", BASE, 4 * GiB)
    token, want = m.snapshot(), m.fingerprint()
    m.clear_stack()
    assert m.history_len == 0 and m.fingerprint() == want and m.history() == []
    with pytest.raises(EngineError, match="nothing to undo"):
        m.undo()
    with pytest.raises(EngineError, match="clear_stack"):
        m.restore(token)
    with pytest.raises(EngineError, match="another machine"):
        Machine().restore(m.snapshot())
    m.set_cpu(2)
    assert m.undo() == "cpu" and m.fingerprint() == want


def test_undo_and_restore_emit_what_they_did_before():
    m = Machine()
    m.register("pmem0", BASE, 4 * GiB)
    token = m.snapshot()
    m.set_cpu(1)
    seen: list[ev.Event] = []
    m.subscribe(seen.append)
    m.undo()
    assert seen == [ev.Restored("undo")]
    seen.clear()
    m.restore(token)
    assert seen == [ev.Restored("restore")]


def test_a_failure_half_way_through_an_operation_is_rolled_back(monkeypatch):
    m = Machine()
    m.register("pmem0", BASE, 4 * GiB)
    before, n = m.fingerprint(), m.history_len

    def boom(*_a: object) -> None:
        raise RuntimeError("a bug after every change was made")

    # shared_with() runs after register has changed the list, the table and the indexes
    monkeypatch.setattr(m.state.table, "shared_with", boom)
    with pytest.raises(RuntimeError):
        m.register("pmem1", BASE + 8 * GiB, 4 * GiB)
    assert m.fingerprint() == before and m.history_len == n and m.check_invariants() == []


def test_undoing_an_out_of_order_kunmap_keeps_every_order():
    """Views list mappings, readers and grace periods in dict order: undo keeps it."""
    m = Machine()
    m.register("pmem0", BASE, 4 * GiB)
    opened = [m.kmap_atomic_pfn_t(m.encode_v5((BASE >> 12) + i, ["dev"])) for i in range(4)]
    m.set_cpu(1)
    m.teardown_kmap("pmem0")  # waits for cpu0's readers
    m.set_cpu(0)
    orders = (list(m.state.mappings), list(m.state.by_addr), list(m.state.rcu.readers),
              m.state.rcu.cpu_readers[0][:])
    want = m.fingerprint()
    for r in opened:  # oldest first: each is in the middle of every order
        m.kunmap_atomic_pfn_t(r.addr)
    assert m.state.ranges["pmem0"].state == RangeState.FREED
    for _ in opened:
        m.undo()
    assert m.state.ranges["pmem0"].state == RangeState.UNLINKED
    assert (list(m.state.mappings), list(m.state.by_addr), list(m.state.rcu.readers),
            m.state.rcu.cpu_readers[0]) == orders
    assert m.fingerprint() == want and m.check_invariants() == []


# --- the work one undo does does not grow with the history ----------------------------------------

def _calls(fn) -> int:
    """Python-level function calls made while ``fn()`` runs (sys.setprofile), with the
    cyclic garbage collector held off: a collection would run finalizers of objects earlier
    tests left, and count their calls."""
    n = 0

    def count(_frame: object, event: str, _arg: object) -> None:
        nonlocal n
        if event in ("call", "c_call"):
            n += 1

    gc.collect()
    gc.disable()
    sys.setprofile(count)
    try:
        fn()
    finally:
        sys.setprofile(None)
        gc.enable()
    return n


def _machine_after(pairs: int) -> tuple[Machine, int]:
    m = Machine()
    for i in range(3):
        m.register(f"pmem{i}", BASE + i * 4 * GiB, 4 * GiB)
    dev = m.encode_v5((BASE >> 12) + 0x600, ["dev"])
    ram = m.encode_v5(0x100600, [])
    for i in range(pairs):
        r = m.kmap_atomic_pfn_t(dev if i % 2 else ram)
        m.kunmap_atomic_pfn_t(r.addr)
    return m, dev


@pytest.mark.parametrize("last", ["kmap", "kunmap", "teardown"])
def test_one_undo_costs_the_same_after_10_and_after_5000_operations(last):
    counts = []
    for pairs in (5, 2500):
        m, dev = _machine_after(pairs)
        r = m.kmap_atomic_pfn_t(dev)
        if last == "kunmap":
            m.kunmap_atomic_pfn_t(r.addr)
        elif last == "teardown":
            m.set_cpu(1)
            m.teardown_kmap("pmem0")
        assert m.history_len > 2 * pairs
        counts.append(_calls(m.undo))
    assert counts[0] == counts[1]


def test_snapshot_restore_and_changed_since_cost_the_same_at_any_depth():
    counts = []
    for pairs in (5, 2500):
        m, dev = _machine_after(pairs)
        token = m.snapshot()
        r = m.kmap_atomic_pfn_t(dev)
        m.kunmap_atomic_pfn_t(r.addr)
        counts.append((_calls(m.snapshot), _calls(partial(m.changed_since, token)),
                       _calls(partial(m.restore, token))))
    assert counts[0] == counts[1]


# --- the closed sets are StrEnums: every comparison, f-string and JSON output unchanged ----------

def test_enums_read_as_the_strings_they_replace():
    m = Machine()
    m.register("pmem0", BASE, 4 * GiB)
    k = m.kmap_atomic_pfn_t(m.encode_v5((BASE >> 12) + 0x600, ["dev"]))
    assert k.path == "list" and k.path is KmapPath.LIST and f"{k.path}" == "list"
    assert k.list_cost.path == CostPath.LIST == "list"
    u = m.kunmap_atomic_pfn_t(k.addr)
    assert json.dumps({"kind": u.kind}) == '{"kind": "device"}'
    t = m.teardown_kmap("pmem0")
    assert t.state == "freed" and m.state.ranges["pmem0"].state == "freed"
    assert m.undo() == "teardown" and m.undo() is Op.KUNMAP
    ident = m.identify(m.state.ranges["pmem0"].base)
    assert (ident.kind, ident.range_state, ident.verdict) == ("device mapping", "live", "ok")


def test_every_op_has_its_body():
    assert set(Machine._OPS) == set(Op)


# --- flag names, defined once by the codecs ------------------------------------------------------

def test_all_flag_names_is_the_union_of_every_codec_in_a_stable_order():
    names = all_flag_names()
    # dma_bus / swiotlb are sg->dma_flags words (scatterlist.h v6.2 / v6.5), not page_link bits
    assert names == ("sg_chain", "sg_last", "dev", "map", "special", "chain", "end", "dma_bus", "swiotlb")
    for abi in ABIS:
        assert set(flag_names(abi)) <= set(names)
    assert flag_names("pfn_t", "4.5") == ("sg_chain", "sg_last", "dev", "map")
    spellings = all_flag_spellings()
    assert set(names) <= set(spellings)
    assert {"pfn_dev", "pfn_special", "last", "sg_end"} <= set(spellings)
    geometry = dict(page_shift=12, max_physmem_bits=46, vmemmap_base=0xFFFFEA0000000000,
                    struct_page_size=64)
    for abi in ABIS:  # every spelling is one some codec takes
        for kver in (None, "4.5", "6.2"):
            try:
                codec = codec_for(abi, kver=kver, **geometry)
            except EngineError:
                continue
            for word in codec.flag_spellings():
                codec.encode(1, [word])
