"""The cost of a kmap against the number of registered ranges: the 2015 list walk
against the section lookup, on a scratch machine.

One layout for every sweep (the console's F6 and `pfnconsole bench`): an x86_64-5level
machine, ``n`` ranges of one 128 MiB section each from `BASE` (16 TiB, far above its
RAM), registered oldest first, so the list walk to the oldest visits all ``n`` nodes
and the one to the newest only the head.  A row holds the model's figures (nodes
visited, dependent loads, modelled time under the machine's CPU profile) and this
simulator's own time for each path, as the engine's `PathCost` measured them in one kmap;
repeating and taking medians is the caller's business.  A fresh machine's caches are
cold; ``warm=True`` maps the same page once first, so the row is a second, warm kmap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .machine import Machine, MachineSpec

MiB = 1 << 20
GiB = 1 << 30
BASE = 0x100000000000
"""Physical address of the oldest range: 16 TiB."""
RANGE_SIZE = 128 * MiB
"""One x86_64 memory section per range."""
OFFSET_PAGES = 0x600
"""The page inside a range that a sweep maps."""
ARCH = "x86_64-5level"
RAM = 16 * GiB
COUNTS = (1, 4, 16, 64, 256)
"""The console's sweep: 1…256 ranges."""

Target = Literal["oldest", "newest"]


@dataclass(frozen=True)
class SweepRow:
    """One kmap_atomic_pfn_t() into the oldest or newest of ``n`` ranges, and its cost."""

    n: int
    """Ranges registered."""
    target: Target
    """Which range the kmap went into: ``oldest`` (the whole list walked) or ``newest``."""
    list_steps: int
    """List nodes the 2015 walk visited."""
    list_loads: int
    """Modeled dependent loads of the list walk: 3 for each node visited, 2 more on the hit."""
    list_ns: int
    """This simulator's time for the list walk, in nanoseconds (not the kernel's)."""
    section_loads: int
    """Modeled dependent loads of the section lookup (2, whatever ``n`` is)."""
    section_ns: int
    """This simulator's time for the section lookup, in nanoseconds."""
    agree: bool
    """Both paths found the same address."""
    list_model_ns: float = 0.0
    """Modelled time of the list walk under the machine's CPU profile."""
    section_model_ns: float = 0.0
    page_loads: int = 0
    """The page path's loads: what a pfn with a struct page pays (the baseline)."""
    page_model_ns: float = 0.0


def machine_with_ranges(n: int, profile: str | None = None) -> Machine:
    """A scratch machine with ``n`` ranges registered, ``r0`` (the oldest) at `BASE`,
    costed with CPU ``profile`` (the default one if None)."""
    m = Machine(MachineSpec(arch=ARCH, ram=RAM))
    if profile is not None:
        m.cache("profile", profile)
    for i in range(n):
        m.register(f"r{i}", BASE + i * RANGE_SIZE, RANGE_SIZE)
    return m


def range_pfn(m: Machine, i: int) -> int:
    """The pfn a sweep maps inside range ``i`` (0 is the oldest)."""
    return ((BASE + i * RANGE_SIZE) >> m.state.arch.page_shift) + OFFSET_PAGES


def target_pfn(m: Machine, n: int, target: Target) -> int:
    """The pfn of the oldest or newest of ``n`` ranges."""
    return range_pfn(m, 0 if target == "oldest" else n - 1)


def kmap_cost(m: Machine, n: int, target: Target = "oldest") -> SweepRow:
    """kmap_atomic_pfn_t() into the ``target`` of the ``n`` ranges of ``m``, then kunmap.

    The machine is left as it was apart from its undo history (two more operations).
    """
    value = m.encode_v5(target_pfn(m, n, target), ["dev"])
    r = m.kmap_atomic_pfn_t(value)
    if r.addr is not None:
        m.kunmap_atomic_pfn_t(r.addr)
    lc, sc, pc = r.list_cost, r.section_cost, r.page_cost
    return SweepRow(n=n, target=target, list_steps=lc.steps, list_loads=lc.loads,
                    list_ns=lc.sim_ns, section_loads=sc.loads, section_ns=sc.sim_ns, agree=r.agree,
                    list_model_ns=lc.model_ns, section_model_ns=sc.model_ns, page_loads=pc.loads,
                    page_model_ns=pc.model_ns)


def sweep(counts: tuple[int, ...] = COUNTS, target: Target = "oldest", warm: bool = False,
          profile: str | None = None) -> list[SweepRow]:
    """One row per count: a fresh machine with that many ranges, one kmap into ``target``
    (the second one when ``warm``)."""
    rows = []
    for n in counts:
        if n < 1:
            raise ValueError(f"a sweep needs at least one range, not {n}")
        m = machine_with_ranges(n, profile)
        if warm:
            kmap_cost(m, n, target)
        rows.append(kmap_cost(m, n, target))
    return rows


__all__ = ["ARCH", "BASE", "COUNTS", "OFFSET_PAGES", "RAM", "RANGE_SIZE", "SweepRow", "Target", "kmap_cost",
           "machine_with_ranges", "range_pfn", "sweep", "target_pfn"]
