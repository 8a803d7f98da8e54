"""CPU profiles: cache sizes and load-to-use latencies that turn dependent loads into time.

Each profile is one published measurement of one server CPU.  On-core levels are given in
cycles (they scale with the clock), DRAM in nanoseconds (it does not).  Lines are 64 bytes
on every profile here.  Sources, with what each figure is:

* ``haswell-ep``: Xeon E5-2699 v3, the server of the 2015 review's day.  L1d 32 KiB and
  4 cycles, L2 256 KiB and 12 cycles (AnandTech 11544, 11 Jul 2017, LMBench random loads
  on the same core family's E5-2699 v4); the 45 MiB last-level cache (AnandTech 8423,
  8 Sep 2014); L3 45 cycles (38-51 cycles at small footprints, AnandTech 11544); DRAM
  95 ns (AnandTech 11544, DDR4); 2.3 GHz base clock.
* ``cascadelake-sp``: Xeon Platinum 8280 at 2.7 GHz.  L1d 32 KiB 4 cycles, L2 1 MiB 14
  cycles, L3 38.5 MB about 46 cycles (AnandTech 14694, 7 Aug 2019); DRAM 90 ns
  (89-91 ns on Skylake-SP, AnandTech 11544).
* ``zen2-rome``: EPYC 7742 at 3.4 GHz.  L1d 32 KiB 4 cycles, L2 512 KiB 13 cycles, L3
  16 MiB per core complex about 34 cycles, DRAM about 122 ns (NPS1, 128 MB random),
  all AnandTech 14694.
"""

from __future__ import annotations

from dataclasses import dataclass

LINE = 64
"""Bytes per cache line (x86_64)."""


@dataclass(frozen=True)
class CacheLevel:
    name: str
    size: int
    """Bytes."""
    cycles: int
    """Load-to-use latency of a dependent load that hits here."""


@dataclass(frozen=True)
class CpuProfile:
    name: str
    title: str
    year: int
    ghz: float
    """The core clock the cycle counts are converted at."""
    levels: tuple[CacheLevel, ...]
    dram_ns: float
    """Load-to-use latency of a load that misses every cache."""
    source: str

    def ns(self, cycles: float) -> float:
        """Cycles at this profile's clock, in nanoseconds."""
        return cycles / self.ghz

    def dram_cycles(self) -> float:
        return self.dram_ns * self.ghz


PROFILES: dict[str, CpuProfile] = {p.name: p for p in (
    CpuProfile("haswell-ep", "Xeon E5-2699 v3 (Haswell-EP)", 2014, 2.3,
               (CacheLevel("L1", 32 << 10, 4), CacheLevel("L2", 256 << 10, 12),
                CacheLevel("L3", 45 << 20, 45)), 95.0,
               "AnandTech 11544 (2017) and 8423 (2014)"),
    CpuProfile("cascadelake-sp", "Xeon Platinum 8280 (Cascade Lake-SP)", 2019, 2.7,
               (CacheLevel("L1", 32 << 10, 4), CacheLevel("L2", 1 << 20, 14),
                CacheLevel("L3", 38_500_000, 46)), 90.0,
               "AnandTech 14694 (2019) and 11544 (2017)"),
    CpuProfile("zen2-rome", "EPYC 7742 (Zen 2, Rome)", 2019, 3.4,
               (CacheLevel("L1", 32 << 10, 4), CacheLevel("L2", 512 << 10, 13),
                CacheLevel("L3", 16 << 20, 34)), 122.0,
               "AnandTech 14694 (2019)"),
)}

def add_profile(p: CpuProfile) -> None:
    """Make ``p`` known by its name (`cache profile host` adds the measured one)."""
    PROFILES[p.name] = p


DEFAULT_PROFILE = "haswell-ep"
"""The review's era: the machine the 2015 patch would have run on."""

ALU_CYCLES_PAGE_ADDRESS = 4
"""page_address(pfn_to_page(pfn)) on x86_64 SPARSEMEM_VMEMMAP: subtract, shift, shift,
add — about four dependent ALU operations, one cycle each.  The only path where the
arithmetic is counted: the others are dominated by their loads."""
