"""Undo in the python-chess manner: every operation records what takes it back.

A mutating operation writes an ``UndoLog`` while it changes the state: one step (a
function and its arguments) per change, pushed just after the change.  Running the steps
backwards takes the operation back, so undo costs what the operation changed, never what
came before it.  A half-done operation that fails is rolled back the same way.

The applied operations form a path of ``Record`` nodes from a root (python-chess's move
stack).  An undone record keeps its name and arguments but drops its steps, so a snapshot
taken on it can still be reached: ``restore`` undoes back to the common ancestor and
re-runs the records on the snapshot's side (the operations are deterministic).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from .errors import EngineError

K = TypeVar("K")
V = TypeVar("V")


class Op(StrEnum):
    """The machine's mutating operations, as ``Machine.undo()`` names them."""

    MACHINE = "machine"
    REGISTER = "register"
    KMAP = "kmap"
    KUNMAP = "kunmap"
    TEARDOWN = "teardown"
    CPU = "cpu"
    CACHE = "cache"
    ALLOC_PAGES = "alloc_pages"
    MEMREMAP = "memremap_pages"
    MEMUNMAP = "memunmap_pages"


Steps = tuple[tuple[Any, ...], ...]
"""A finished operation's undo steps, ``(fn, *args)`` each: compact, as a long history
keeps one per operation."""


class UndoLog:
    """The steps that take one operation back, in the order the changes were made."""

    __slots__ = ("steps",)

    def __init__(self) -> None:
        self.steps: list[tuple[Any, ...]] = []

    def push(self, fn: Callable[..., object], *args: Any) -> None:
        """Record that ``fn(*args)`` undoes the change just made."""
        self.steps.append((fn, *args))

    def rollback(self) -> None:
        """Run the steps newest first; the log is empty afterwards."""
        run_backwards(self.steps)
        self.steps.clear()

    def freeze(self) -> Steps:
        return tuple(self.steps)

    def __len__(self) -> int:
        return len(self.steps)


def run_backwards(steps: Sequence[tuple[Any, ...]]) -> None:
    """Take an operation back: its undo steps, newest first."""
    for fn, *args in reversed(steps):
        fn(*args)


class Record:
    """One applied (or undone) operation: a node of the tree of operations."""

    __slots__ = ("args", "depth", "op", "parent", "root", "steps")

    def __init__(self, op: Op | None, args: tuple[Any, ...], steps: Steps | None,
                 parent: Record | None) -> None:
        self.op = op
        """None for a root (the machine as built, or as ``clear_stack()`` left it)."""
        self.args = args
        self.steps = steps
        """What takes the operation back while it is applied; None once undone."""
        self.parent = parent
        self.depth: int = 0 if parent is None else parent.depth + 1
        self.root: Record = self if parent is None else parent.root

    @classmethod
    def new_root(cls) -> Record:
        return cls(None, (), None, None)


@dataclass(frozen=True)
class Snapshot:
    """What ``Machine.snapshot()`` returns: the record that was on top, in O(1)."""

    record: Record


Apply = Callable[[Op, UndoLog, tuple[Any, ...]], object]
"""Run operation ``op`` with these arguments on the machine, logging its changes."""


class UndoStack:
    """python-chess's move stack, kept as a tree so that snapshots outlive undo.

    ``top`` is the last operation applied and its ancestors the rest of the stack; the
    records of undone operations stay reachable from the snapshots taken on them.
    """

    def __init__(self) -> None:
        self.top = Record.new_root()

    @property
    def depth(self) -> int:
        """Operations that ``pop`` can take back."""
        return self.top.depth

    def push(self, op: Op, args: tuple[Any, ...], log: UndoLog) -> None:
        self.top = Record(op, args, log.freeze(), self.top)

    def pop(self) -> Op:
        """Take back the operation on top; EngineError when there is none."""
        rec = self.top
        if rec.parent is None or rec.steps is None or rec.op is None:
            raise EngineError("nothing to undo")
        run_backwards(rec.steps)
        rec.steps = None
        self.top = rec.parent
        return rec.op

    def _redo(self, rec: Record, apply: Apply) -> None:
        """Apply an undone record again on top of its parent."""
        assert rec.parent is self.top and rec.op is not None
        log = UndoLog()
        try:
            apply(rec.op, log, rec.args)
        except BaseException:
            log.rollback()
            raise
        rec.steps = log.freeze()
        self.top = rec

    def snapshot(self) -> Snapshot:
        return Snapshot(self.top)

    def check(self, token: Snapshot) -> None:
        """EngineError unless ``token`` is a snapshot this stack can go back to."""
        if not isinstance(token, Snapshot):
            raise EngineError(f"not a snapshot: {token!r}")
        if token.record.root is not self.top.root:
            raise EngineError("that snapshot is of another machine, or from before "
                              "clear_stack()")

    def changed_since(self, token: Snapshot) -> bool:
        self.check(token)
        return token.record is not self.top

    def restore(self, token: Snapshot, apply: Apply) -> None:
        """Undo back to the last record ``token`` shares with the stack, then re-apply the
        token's side with ``apply``: O(operations since the token), and valid after undo."""
        self.check(token)
        ancestor, path = common_ancestor(self.top, token.record)
        while self.top is not ancestor:
            self.pop()
        for rec in reversed(path):
            self._redo(rec, apply)

    def clear(self) -> None:
        """Forget every record; older snapshots are refused from now on."""
        self.top = Record.new_root()

    def history(self) -> list[tuple[Op, tuple[Any, ...]]]:
        """The operations ``pop`` can take back, oldest first."""
        out: list[tuple[Op, tuple[Any, ...]]] = []
        rec = self.top
        while rec.op is not None and rec.parent is not None:
            out.append((rec.op, rec.args))
            rec = rec.parent
        return out[::-1]


def common_ancestor(a: Record, b: Record) -> tuple[Record, list[Record]]:
    """The deepest record on both paths, and the records from ``b`` up to it (b first).

    Both must share a root.  Costs the distance from each to the ancestor.
    """
    path: list[Record] = []
    while a.depth > b.depth:
        assert a.parent is not None
        a = a.parent
    while b.depth > a.depth:
        assert b.parent is not None
        path.append(b)
        b = b.parent
    while a is not b:
        assert a.parent is not None and b.parent is not None
        path.append(b)
        a, b = a.parent, b.parent
    return a, path


def reinsert(d: dict[K, V], key: K, value: V, rank: Callable[[K, V], int]) -> None:
    """Put ``key`` back into ``d``, kept in ascending ``rank(key, value)`` order.

    The undo of a deletion: O(1) when ``key`` ranks last, else O(entries ranked after it),
    which are moved behind it again so the dict iterates as it did before the deletion.
    """
    r = rank(key, value)
    later: list[K] = []
    for k in reversed(d):
        if rank(k, d[k]) < r:
            break
        later.append(k)
    if not later:
        d[key] = value
        return
    moved = [(k, d.pop(k)) for k in reversed(later)]
    d[key] = value
    d.update(moved)


def by_key(key: int, _value: object) -> int:
    """``rank`` for a dict whose int keys were inserted in ascending order."""
    return key
