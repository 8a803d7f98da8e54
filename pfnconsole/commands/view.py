"""What the panes show besides the state: the last answer of each kind.

A pane is a function of (current state, `View`).  The session updates the view after
every accepted command, keeps one per undo record so that `undo` brings back the view of
the state it returns to, and saves it in every `Mark`, so a lesson step back or a
refused command restores it too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .result import Result

WALKS = frozenset({"kmap", "kunmap", "lookup"})
"""Answers with a list walk and path costs: the ranges and cost panes draw them."""
COSTS = WALKS | {"sweep", "get_dev_pagemap"}
"""Answers the cost pane draws."""
VALUES = frozenset({"kmap", "encode", "decode"})
"""Answers with a pfn value: the decoder pane takes it apart."""
PFNS = frozenset({"kmap", "lookup", "page", "identify", "get_dev_pagemap"})
"""Answers about one pfn: the memory pane shows its struct page."""


@dataclass(frozen=True)
class View:
    walk: Result | None = None
    """The last kmap, kunmap or lookup, while no other change came after it."""
    cost: Result | None = None
    """The last walk or `sweep`, on the same terms."""
    value: tuple[int, str] | None = None
    """(value, abi[:kver]) of the last encode, value decode or kmap."""
    pfn: int | None = None
    """The pfn of the last answer about one page."""


def after(view: View, cmd: str, result: Result, mutated: bool) -> View:
    """The view once ``result`` (accepted) is the last answer."""
    d = result.data
    walk = result if cmd in WALKS else (None if mutated else view.walk)
    cost = result if cmd in COSTS else (None if mutated else view.cost)
    value = view.value
    if cmd in VALUES and isinstance(d.get("value"), int):
        abi = str(d.get("abi") or "v5")
        kver = d.get("kver")
        value = (d["value"], f"{abi}:{kver}" if kver and cmd != "kmap" else abi)
    pfn = view.pfn
    if cmd in PFNS and isinstance(d.get("pfn"), int):
        pfn = d["pfn"]
        if cmd not in VALUES:  # a page answer: the decoder shows its pfn as a pfn_t
            value = (pfn, "pfn_t")
    return replace(view, walk=walk, cost=cost, value=value, pfn=pfn)


Stack = tuple[View, "Stack"] | None
"""The view before each undo record, newest first, as cons cells: a Mark keeps its head
in O(1)."""
