"""The memory model: which cache level each dependent load hits, and what it costs.

Each structure a path reads (the ``ranges`` list head, every ``struct kmap`` and
``struct resource``, the ``mem_section`` roots and slots, the KASLR base variables) sits
on its own 64-byte line at a simulated kernel address (`lines`).  A level is fully
associative and least-recently-used: a load is an L1 hit when fewer than L1's capacity
of other lines were used since that line, and so on down to DRAM.  Every load fills
every level (inclusive caches).  Nothing but the modelled paths uses the caches:
`cache cold` stands for everything else the kernel did in between.

Each path runs on a cache of its own (`Caches` per `CostPath`), as if the kernel had been
built that way: the list walk's misses never evict the section table's lines, and
the reverse.  All changes go through an `UndoLog`, so undo restores the exact state.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import NamedTuple

from .cpu_profiles import LINE, CpuProfile
from .undo import UndoLog


class Level(StrEnum):
    L1 = "L1"
    L2 = "L2"
    L3 = "L3"
    DRAM = "DRAM"


class Load(NamedTuple):
    """One dependent load: what it reads, where, and where it was found."""

    what: str
    """The C expression, e.g. ``kmap->res``."""
    addr: int
    """Simulated kernel virtual address of the field."""
    level: Level
    cycles: float
    ns: float


_HEAD = -1
"""The sentinel of each level's ring; line addresses are never negative."""


class LruLevel:
    """One cache level: at most ``capacity`` lines, the least recently used evicted first.

    A ring of line numbers through two dicts; every change returns what takes it back
    exactly (the neighbours a moved line had, the line an insertion evicted).
    """

    __slots__ = ("capacity", "nxt", "prv")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.nxt: dict[int, int] = {_HEAD: _HEAD}
        self.prv: dict[int, int] = {_HEAD: _HEAD}

    def __contains__(self, line: int) -> bool:
        return line in self.nxt

    def __len__(self) -> int:
        return len(self.nxt) - 1

    def order(self) -> list[int]:
        """Lines, most recently used first."""
        out, x = [], self.nxt[_HEAD]
        while x != _HEAD:
            out.append(x)
            x = self.nxt[x]
        return out

    def _unlink(self, x: int) -> None:
        p, n = self.prv.pop(x), self.nxt.pop(x)
        self.nxt[p], self.prv[n] = n, p

    def _link_after(self, p: int, x: int) -> None:
        n = self.nxt[p]
        self.nxt[p], self.prv[x] = x, p
        self.nxt[x], self.prv[n] = n, x

    def touch(self, x: int) -> tuple[int, int, int] | None:
        """Make ``x`` the most recent; the record that undoes it (None if nothing moved).

        The record is (x, a, b): for a line that was there, its old neighbours a → x → b;
        for a new line, a = -2 and b the line evicted (or -2 for none).
        """
        if x in self.nxt:
            p = self.prv[x]
            if p == _HEAD:
                return None
            n = self.nxt[x]
            self._unlink(x)
            self._link_after(_HEAD, x)
            return (x, p, n)
        self._link_after(_HEAD, x)
        evicted = -2
        if len(self.nxt) - 1 > self.capacity:
            evicted = self.prv[_HEAD]
            self._unlink(evicted)
        return (x, -2, evicted)

    def untouch(self, rec: tuple[int, int, int]) -> None:
        """Take back the `touch` that returned ``rec`` (the newest change not yet undone)."""
        x, p, n = rec
        self._unlink(x)
        if p != -2:
            self._link_after(p, x)
        elif n != -2:
            self._link_after(self.prv[_HEAD], n)


class Caches:
    """One CPU's cache hierarchy under one profile."""

    def __init__(self, profile: CpuProfile) -> None:
        self.profile = profile
        self.levels = [LruLevel(lv.size // LINE) for lv in profile.levels]
        self._hits = [(Level(lv.name), float(lv.cycles)) for lv in profile.levels]
        self._miss = (Level.DRAM, profile.dram_cycles())

    def warm_lines(self) -> int:
        """Lines held anywhere (in the last level, as the caches are inclusive)."""
        return len(self.levels[-1])

    def load(self, what: str, addr: int, undo: UndoLog) -> Load:
        """A dependent load of ``addr``: where it hits, what it costs; its line is then
        the most recent at every level."""
        return self.run([(what, addr)], undo)[0]

    def run(self, trace: Iterable[tuple[str, int]], undo: UndoLog) -> list[Load]:
        """Each (what, address) of ``trace`` loaded in order; one undo step for them all.

        `LruLevel.touch` written out for every level, as this runs once per load of a
        walk (a list of 10^5 ranges is 3 * 10^5 loads)."""
        miss, ghz = self._miss, self.profile.ghz
        rings = [(lv.nxt, lv.prv, lv.capacity) for lv in self.levels]
        probe = [(lv.nxt, hit) for lv, hit in zip(self.levels, self._hits, strict=True)]
        out: list[Load] = []
        recs: list[list[tuple[int, int, int] | None]] = []
        head = _HEAD
        l1_prv = self.levels[0].prv
        unchanged: list[tuple[int, int, int] | None] = [None] * len(rings)
        l1_hit = self._hits[0]
        for what, addr in trace:
            x = addr // LINE
            if l1_prv.get(x) == head:
                # already the most recent line of L1, so of every level (they all see the
                # same loads): a hit that changes nothing
                recs.append(unchanged)
                out.append(Load(what, addr, l1_hit[0], l1_hit[1], l1_hit[1] / ghz))
                continue
            level, cycles = miss
            for nxt, hit in probe:
                if x in nxt:
                    level, cycles = hit
                    break
            per: list[tuple[int, int, int] | None] = []
            for nxt, prv, cap in rings:
                if x in nxt:
                    p = prv[x]
                    if p == head:
                        per.append(None)
                        continue
                    n = nxt[x]
                    nxt[p], prv[n] = n, p
                    rec = (x, p, n)
                else:
                    rec = (x, -2, -2)
                first = nxt[head]
                nxt[head], prv[x], nxt[x], prv[first] = x, head, first, x
                if rec[1] == -2 and len(nxt) - 1 > cap:
                    y = prv[head]
                    py = prv.pop(y)
                    del nxt[y]
                    nxt[py], prv[head] = head, py
                    rec = (x, -2, y)
                per.append(rec)
            recs.append(per)
            out.append(Load(what, addr, level, cycles, cycles / ghz))
        undo.push(self._untouch_all, recs)
        return out

    def _untouch_all(self, recs: list[list[tuple[int, int, int] | None]]) -> None:
        """Take back a `run`, newest load first (`LruLevel.untouch` written out)."""
        rings = [(lv.nxt, lv.prv) for lv in self.levels]
        rings.reverse()
        head = _HEAD
        for per in reversed(recs):
            for (nxt, prv), rec in zip(rings, reversed(per), strict=True):
                if rec is None:
                    continue
                x, a, b = rec
                p, n = prv.pop(x), nxt.pop(x)  # x is the most recent line: p is the head
                nxt[p], prv[n] = n, p
                if a != -2:  # back between its old neighbours
                    after = a
                    x_next = nxt[after]
                    nxt[after], prv[x], nxt[x], prv[x_next] = x, after, x_next, x
                elif b != -2:  # the line it evicted returns as the least recent
                    last = prv[head]
                    nxt[last], prv[b], nxt[b], prv[head] = b, last, head, b

    def clear(self, undo: UndoLog) -> None:
        """Every line evicted: the next load of anything goes to DRAM."""
        old = self.levels
        self.levels = [LruLevel(lv.capacity) for lv in old]
        undo.push(setattr, self, "levels", old)

    def digest(self) -> tuple[tuple[int, ...], ...]:
        """The LRU order of every level, for the state's fingerprint."""
        return tuple(tuple(lv.order()) for lv in self.levels)
