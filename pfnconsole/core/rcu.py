"""RCU as kmap_pfn uses it: read-side sections per CPU, grace periods, synchronize_rcu().

The model is non-preemptible RCU (kmap_atomic() disables preemption anyway): a grace
period that starts while a CPU is inside a read-side critical section ends only when that
CPU's nesting count drops to zero, its next quiescent state.  Readers that begin after the
grace period started on a CPU that was idle do not hold it up (kernel-facts.md §8.3).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import EngineError
from .undo import UndoLog, by_key, reinsert


@dataclass(slots=True)
class Reader:
    """One rcu_read_lock() .. rcu_read_unlock() pair."""

    id: int
    cpu: int
    why: str
    """What took the lock, e.g. ``kmap_atomic_pfn_t(0x100600)``."""


@dataclass(slots=True)
class GracePeriod:
    """One synchronize_rcu() call and the CPUs it is still waiting on."""

    id: int
    who: str
    waiting_cpus: set[int] = field(default_factory=set)
    done: bool = False


@dataclass
class Rcu:
    """The RCU state of the machine: per-CPU reader stacks and grace periods in flight."""

    ncpus: int = 4
    cpu_readers: list[list[int]] = field(default_factory=list)
    """Per CPU, the ids of its open readers, outermost first (nesting = len)."""
    readers: dict[int, Reader] = field(default_factory=dict)
    gps: dict[int, GracePeriod] = field(default_factory=dict)
    """Grace periods not yet complete, by id."""
    next_reader: int = 1
    next_gp: int = 1
    completed: int = 0
    """Number of grace periods that have ended."""

    def __post_init__(self) -> None:
        if not self.cpu_readers:
            self.cpu_readers = [[] for _ in range(self.ncpus)]

    # --- read side ---------------------------------------------------------------------
    def check_cpu(self, cpu: int) -> None:
        if not 0 <= cpu < self.ncpus:
            raise EngineError(f"cpu {cpu} does not exist (cpus 0..{self.ncpus - 1})")

    def rcu_read_lock(self, cpu: int, why: str, undo: UndoLog | None = None) -> Reader:
        """Enter a read-side section on ``cpu``; ``undo`` gets the step that takes it back."""
        self.check_cpu(cpu)
        reader = Reader(self.next_reader, cpu, why)
        self.next_reader += 1
        self.readers[reader.id] = reader
        self.cpu_readers[cpu].append(reader.id)
        if undo is not None:
            undo.push(_undo_read_lock, self, reader)
        return reader

    def rcu_read_unlock(self, reader_id: int, undo: UndoLog | None = None) -> list[GracePeriod]:
        """Leave a read-side section; returns the grace periods this completed."""
        reader = self.readers.get(reader_id)
        if reader is None:
            raise EngineError(f"rcu_read_unlock() without a matching rcu_read_lock() "
                              f"(reader {reader_id})")
        del self.readers[reader_id]
        stack = self.cpu_readers[reader.cpu]
        if stack[-1] == reader_id:  # the usual, innermost-first order
            pos = len(stack) - 1
            stack.pop()
        else:
            pos = stack.index(reader_id)
            del stack[pos]
        touched: list[GracePeriod] = []
        ended = [] if stack else self._quiescent(reader.cpu, touched)
        if undo is not None:  # tuples: () is shared, and a long history keeps many of these
            undo.push(_undo_read_unlock, self, reader, pos, tuple(touched), tuple(ended))
        return ended

    def _quiescent(self, cpu: int, touched: list[GracePeriod]) -> list[GracePeriod]:
        """``cpu`` passed a quiescent state; ``touched`` gets the grace periods it held up."""
        ended = []
        for gp in list(self.gps.values()):
            if cpu in gp.waiting_cpus:
                gp.waiting_cpus.discard(cpu)
                touched.append(gp)
            if not gp.waiting_cpus:
                gp.done = True
                del self.gps[gp.id]
                self.completed += 1
                ended.append(gp)
        return ended

    # --- update side ---------------------------------------------------------------------
    def synchronize_rcu(self, who: str, undo: UndoLog | None = None) -> GracePeriod:
        """Start a grace period; it is ``done`` at once when no CPU is in a reader."""
        gp = GracePeriod(self.next_gp, who,
                         {cpu for cpu, stack in enumerate(self.cpu_readers) if stack})
        self.next_gp += 1
        waits = bool(gp.waiting_cpus)
        if waits:
            self.gps[gp.id] = gp
        else:
            gp.done = True
            self.completed += 1
        if undo is not None:
            undo.push(_undo_synchronize_rcu, self, gp, waits)
        return gp

    # --- views ---------------------------------------------------------------------------
    @property
    def nr_readers(self) -> int:
        """Open read-side critical sections over all CPUs (nesting counted)."""
        return len(self.readers)

    def nesting(self, cpu: int) -> int:
        return len(self.cpu_readers[cpu])

    def blocking_readers(self, gp: GracePeriod) -> list[Reader]:
        """Readers on the CPUs ``gp`` still waits for."""
        return [self.readers[r] for cpu in sorted(gp.waiting_cpus)
                for r in self.cpu_readers[cpu]]


# --- what undo runs (module functions: a step holds no bound method) ------------------------

def _undo_read_lock(rcu: Rcu, reader: Reader) -> None:
    rcu.cpu_readers[reader.cpu].pop()
    del rcu.readers[reader.id]
    rcu.next_reader = reader.id


def _undo_read_unlock(rcu: Rcu, reader: Reader, pos: int, touched: tuple[GracePeriod, ...],
                      ended: tuple[GracePeriod, ...]) -> None:
    for gp in reversed(ended):
        gp.done = False
        rcu.completed -= 1
        reinsert(rcu.gps, gp.id, gp, by_key)
    for gp in touched:
        gp.waiting_cpus.add(reader.cpu)
    rcu.cpu_readers[reader.cpu].insert(pos, reader.id)
    reinsert(rcu.readers, reader.id, reader, by_key)


def _undo_synchronize_rcu(rcu: Rcu, gp: GracePeriod, waits: bool) -> None:
    if waits:
        del rcu.gps[gp.id]
    else:
        rcu.completed -= 1
    rcu.next_gp = gp.id
