"""get_dev_pagemap(): the merged kernel's lookup from a pfn to its dev_pagemap, and its loads.

Three structures, by version (kernel/memremap.c, then mm/memremap.c):

* v4.5 to v4.13: ``RADIX_TREE(pgmap_radix)`` with one entry per memory section, keyed by
  ``phys >> PA_SECTION_SHIFT``;
* v4.14 to v4.19: the same radix tree with multi-order entries keyed by pfn
  (ab1b597ee0e4: ``order_at()`` takes the largest aligned power of two that fits);
* v4.20 on: ``DEFINE_XARRAY(pgmap_array)``, ``xa_store_range()`` of the pfn range.

Both trees have 64 slots a node (``RADIX_TREE_MAP_SHIFT`` / ``XA_CHUNK_SHIFT`` 6 without
CONFIG_BASE_SMALL).  A lookup loads the root pointer, then per node its ``shift`` and
the slot that shift selects, one after the other; a sibling slot costs one more load of
the canonical slot (lib/xarray.c xas_descend(), lib/radix-tree.c radix_tree_descend()).
A multi-index entry of 2^(6k+j) indices sits at the node of shift 6k in 2^j slots, so a
large aligned range stops the walk high in the tree.  Nothing is stored per node: the
walk is worked out from the entries, which are few.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

CHUNK_SHIFT = 6
"""XA_CHUNK_SHIFT and RADIX_TREE_MAP_SHIFT (include/linux/xarray.h, radix-tree.h)."""
CHUNK_MASK = (1 << CHUNK_SHIFT) - 1
SLOTS_OFFSET = 40
"""``offsetof(struct xa_node, slots)`` on 64-bit: shift, offset, count, nr_values (a byte
each, padded to 8), parent, array, then the 16-byte union; ``shift`` is at byte 0."""

PGMAP_ROOT = 0xFFFFFFFF82B3E240
"""Simulated ``&pgmap_array`` (``xa_head`` is its second word) or ``&pgmap_radix``."""
NODE_SLAB = 0xFFFF888140000000
"""Where the simulated radix_tree_node slab (576-byte objects) starts."""
PGMAP_SLAB = 0xFFFF888150000000
"""Where the drivers' ``struct dev_pagemap`` objects sit (one page each)."""


class Lookup(StrEnum):
    """The pgmap lookup structure of a kernel version."""

    NONE = "none"
    """v4.3, v4.4: devm_memremap_pages() keeps no pgmap and nothing finds one."""
    RADIX_SECTION = "pgmap_radix by section"
    RADIX_ORDER = "pgmap_radix multi-order by pfn"
    XARRAY = "pgmap_array (xarray) by pfn"


def lookup_kind(kver: tuple[int, int]) -> Lookup:
    if kver < (4, 5):
        return Lookup.NONE
    if kver < (4, 14):
        return Lookup.RADIX_SECTION
    if kver < (4, 20):
        return Lookup.RADIX_ORDER
    return Lookup.XARRAY


@dataclass(frozen=True)
class Entry:
    """One stored entry: slots ``[index >> shift, + sibs]`` of the node at ``shift``."""

    index: int
    """The first index it covers (low ``shift`` bits clear)."""
    shift: int
    sibs: int
    """Sibling slots after the canonical one."""
    owner: str

    @property
    def last(self) -> int:
        return self.index + ((self.sibs + 1) << self.shift) - 1


def xa_range_entries(first: int, last: int, owner: str) -> list[Entry]:
    """The entries ``xa_store_range(first, last)`` makes: each round of its loop asks
    xas_set_range() for the highest node level and slot run that starts at ``first``
    without passing ``last``, then moves ``first`` past it (lib/xarray.c)."""
    out = []
    while first <= last:
        shift, index, sibs = 0, first, last - first
        partial = CHUNK_MASK  # what xas_set_range calls offset: a lower level left over
        while index & CHUNK_MASK == 0:
            if sibs < CHUNK_MASK or (sibs == CHUNK_MASK and partial < CHUNK_MASK):
                break
            shift += CHUNK_SHIFT
            if partial == CHUNK_MASK:
                partial = sibs & CHUNK_MASK
            sibs >>= CHUNK_SHIFT
            index >>= CHUNK_SHIFT
        offset = index & CHUNK_MASK
        sibs = min(sibs, CHUNK_MASK - offset)
        if ((index + sibs + 1) << shift) - 1 > last:
            sibs -= 1
        out.append(Entry(index << shift, shift, sibs, owner))
        first += (sibs + 1) << shift
    return out


def order_entries(first: int, last: int, owner: str) -> list[Entry]:
    """v4.14's multi-order inserts: from ``first``, the largest power-of-two block aligned
    there that fits (order_at()); an order-k entry takes 2^(k mod 6) slots at shift
    k - k mod 6 (__radix_tree_insert with CONFIG_RADIX_TREE_MULTIORDER)."""
    out = []
    while first <= last:
        order = (first & -first).bit_length() - 1 if first else 63
        while (1 << order) > last - first + 1:
            order -= 1
        shift = order - order % CHUNK_SHIFT
        out.append(Entry(first, shift, (1 << (order - shift)) - 1, owner))
        first += 1 << order
    return out


def section_entries(first_nr: int, last_nr: int, owner: str) -> list[Entry]:
    """v4.5: one radix_tree_insert() per section key, each slot an entry of its own; kept
    as one run of slots per level-0 node (walk() is told there are no siblings)."""
    out, nr = [], first_nr
    while nr <= last_nr:
        end = min(last_nr, nr | CHUNK_MASK)
        out.append(Entry(nr, 0, end - nr, owner))
        nr = end + 1
    return out


@dataclass(frozen=True)
class Walk:
    """One lookup: what it found and each dependent load (C expression, simulated address)."""

    key: int
    owner: str | None
    height: int
    """Node levels in the tree (0: the entry, if any, sits in the root pointer)."""
    loads: tuple[tuple[str, int], ...]
    sibling: bool


def _node_addr(shift: int, key: int) -> int:
    """A node's simulated address: one per (level, covered index range)."""
    prefix = key >> (shift + CHUNK_SHIFT)
    return NODE_SLAB + (shift // CHUNK_SHIFT) * 0x100000 + (prefix * 0x240) % 0x100000


def walk(entries: Iterable[Entry], key: int, *, root: str = "pgmap_array.xa_head",
         siblings: bool = True) -> Walk:
    """xa_load(key) / radix_tree_lookup(key) over ``entries``: each node level loads the
    node's ``shift`` then its slot; a sibling slot adds the canonical slot's load."""
    entries = list(entries)
    loads: list[tuple[str, int]] = [(root, PGMAP_ROOT + 8)]
    top = max((e.last for e in entries), default=0)
    height = 0
    while top >> (CHUNK_SHIFT * height):
        height += 1
    if not entries or (height == 0 and key):
        return Walk(key, None, height, tuple(loads), False)
    if height == 0:
        return Walk(key, entries[0].owner, 0, tuple(loads), False)
    if key >> (CHUNK_SHIFT * height):  # beyond the tree: xas_start() stops at the root's shift
        loads.append(("node->shift", _node_addr(CHUNK_SHIFT * (height - 1), key)))
        return Walk(key, None, height, tuple(loads), False)
    shift = CHUNK_SHIFT * (height - 1)
    while True:
        node = _node_addr(shift, key)
        offset = (key >> shift) & CHUNK_MASK
        loads.append(("node->shift", node))
        loads.append((f"node->slots[{offset}]", node + SLOTS_OFFSET + 8 * offset))
        here = next((e for e in entries if e.shift == shift and e.index <= key <= e.last), None)
        if here is not None:
            canon = (here.index >> shift) & CHUNK_MASK
            if siblings and offset != canon:
                loads.append((f"sibling: node->slots[{canon}]", node + SLOTS_OFFSET + 8 * canon))
                return Walk(key, here.owner, height, tuple(loads), True)
            return Walk(key, here.owner, height, tuple(loads), False)
        lo = (key >> shift) << shift
        hi = lo + (1 << shift) - 1
        if shift == 0 or not any(e.shift < shift and e.index <= hi and e.last >= lo for e in entries):
            return Walk(key, None, height, tuple(loads), False)  # an empty slot: NULL
        shift -= CHUNK_SHIFT


def tryget_loads(kver: tuple[int, int], name: str, seq: int) -> list[tuple[str, int]]:
    """percpu_ref_tryget_live() on the pgmap found: ``pgmap->ref`` (a pointer until the
    ref was embedded, by v6.0), ``ref->percpu_count_ptr``, then the per-CPU counter."""
    pgmap = PGMAP_SLAB + seq * 0x1000
    out = [] if kver >= (6, 0) else [("pgmap->ref", pgmap + 24)]
    out += [("ref->percpu_count_ptr", pgmap + 0x200), ("this_cpu_inc(*percpu_count)", pgmap + 0x800)]
    return out
