"""Checks on a machine's state: the invariants every operation keeps, and a fingerprint
that proves a refused command, an undo or a restore left exactly what was there."""

from __future__ import annotations

import dataclasses
import hashlib
import json

from .kmap_pfn import RangeState
from .state import State


def check_invariants(s: State) -> list[str]:
    """Problems with the state (empty when sound): used after every test command."""
    bad = []
    listed = {r.name for r in s.kmap.nodes}
    for r in s.ranges.values():
        if (r.state == RangeState.LIVE) != (r.name in listed):
            bad.append(f"{r.name} is {r.state} but {'' if r.name in listed else 'not '}"
                       "on the list")
    alive = {r.name for r in s.ranges.values() if r.state != RangeState.FREED}
    if {n for _, n in s.phys_index.items.values()} != alive or \
            {n for _, n in s.kva_index.items.values()} != alive:
        bad.append("the overlap indexes and the ranges not yet freed disagree")
    tabled = {r.name for r in s.table.ranges}  # O(ranges), never per section
    if tabled != listed:
        bad.append(f"list {sorted(listed)} and section table {sorted(tabled)} disagree")
    for m in s.mappings.values():
        if m.reader not in s.rcu.readers:
            bad.append(f"mapping {m.addr:#x} has no RCU reader")
        if m.range and s.ranges[m.range].state == RangeState.FREED:
            bad.append(f"mapping {m.addr:#x} outlived {m.range}")
    if len(s.rcu.readers) != sum(len(c) for c in s.rcu.cpu_readers):
        bad.append("reader count and per-CPU nesting disagree")
    if {m.reader for m in s.mappings.values()} != set(s.rcu.readers):
        bad.append("an RCU reader exists with no open mapping")
    if sorted(i for ids in s.by_addr.values() for i in ids) != sorted(s.mappings):
        bad.append("the address index and the open mappings disagree")
    # the orders undo restores (undo.reinsert relies on them)
    for what, keys in (("mappings", list(s.mappings)), ("RCU readers", list(s.rcu.readers)),
                       ("grace periods", list(s.rcu.gps)),
                       ("address index", [ids[0] for ids in s.by_addr.values() if ids])):
        if keys != sorted(keys):
            bad.append(f"the {what} are out of order")
    return bad


def fingerprint(s: State) -> str:
    """A digest of the whole state, dict orders included (views iterate in them)."""
    rcu, table = s.rcu, s.table
    doc = {
        "spec": dataclasses.asdict(s.spec),
        "list": [(r.name, r.start, r.end, r.base, r.state, r.gp, r.seq) for r in s.kmap.nodes],
        "ranges": [(r.name, r.start, r.end, r.base, r.state, r.gp, r.seq)
                   for r in s.ranges.values()],
        "table": [(r.name, r.start, r.end) for r in table.ranges],  # O(ranges)
        "table_order": [table._added, table._next],
        "indexes": [sorted(s.phys_index.items.items()), sorted(s.kva_index.items.items())],
        "rcu": [rcu.cpu_readers, [(r.id, r.cpu, r.why) for r in rcu.readers.values()],
                [(g.id, g.who, sorted(g.waiting_cpus)) for g in rcu.gps.values()],
                rcu.next_reader, rcu.next_gp, rcu.completed],
        "mappings": [dataclasses.astuple(m) for m in s.mappings.values()],
        "by_addr": list(s.by_addr.items()),
        "pages": [(p.pfn, p.kmaps, p.touches, p.last) for p in s.memmap.pages.values()],
        "cpu": s.cpu, "seq": [s.next_seq, s.next_mapping, s.next_base],
        "compound": list(s.compound.items()),
        "pgmaps": [dataclasses.astuple(p) for p in s.pgmaps.values()] + [s.next_pgmap],
        "sparse": [s.sparse.runs, s.sparse._root_spans, s.sparse.hot, sorted(s.sparse.tainted),
                   sorted(s.sparse.dev_subsections.items())],
        "caches": [s.profile, [(str(p), c.digest()) for p, c in s.caches.items()]],
    }
    return hashlib.sha256(json.dumps(doc, default=str).encode()).hexdigest()
