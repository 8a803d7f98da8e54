"""Machines at MAX_PHYSMEM_BITS stay lazy, and one byte beyond it is refused.

Each arch profile gets a machine whose memory map reaches its MAX_PHYSMEM_BITS, a device
range over most of the physical address space, and the commands that used to cost one
Python object per section or per page (register, kmap, lookup, page, teardown, undo...).
Each case runs in a child process of its own, whose peak RSS must stay under 200 MB.
Wall-clock times are not asserted here (they belong in benchmarks); ``-s`` prints them.

The lazy structures must answer exactly as the per-section ones did: the last tests
compare them with a per-section reference on small machines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from array import array
from dataclasses import dataclass, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfnconsole.commands import Session
from pfnconsole.core.arch import arch_profile
from pfnconsole.core.kmap_pfn import KmapRange
from pfnconsole.core.physmap import GiB, physmap_from_ranges
from pfnconsole.core.section_table import SectionTable
from pfnconsole.core.sparse import SparseMem

RSS_LIMIT_KB = 200 * 1024
"""Peak resident set of one `pfnconsole run` child, in KiB."""

# The child runs under a small wrapper: ru_maxrss of a process started straight from
# pytest would include pytest's own peak (Linux keeps the parent's high-water mark across
# vfork + exec), but the wrapper is a fresh small process, so RUSAGE_CHILDREN seen from
# it is the child's own peak.  RLIMIT_AS turns a regression into a quick MemoryError
# instead of a machine-wide out-of-memory, and the timeout into a failure, not a hang.
_WRAPPER = r"""
import json, resource, subprocess, sys, time
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
script = sys.stdin.buffer.read()
t0 = time.perf_counter()
try:
    p = subprocess.run([sys.executable, "-m", "pfnconsole", "run", "-", "--json",
                        "--keep-going"], input=script, capture_output=True, timeout=120)
    rc, out, err = p.returncode, p.stdout.decode(), p.stderr.decode()
except subprocess.TimeoutExpired as e:
    rc, out, err = "timeout", (e.stdout or b"").decode(), "timed out after 120 s"
wall = time.perf_counter() - t0
print(json.dumps({"rc": rc, "stdout": out, "stderr": err[-4000:], "wall_s": wall,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def run_child(script: str) -> dict:
    """Run ``script`` through `pfnconsole run - --json --keep-going` in a child."""
    env = dict(os.environ, PFNCONSOLE_CHECK_INVARIANTS="1")
    p = subprocess.run([sys.executable, "-c", _WRAPPER], input=script.encode(),
                       capture_output=True, env=env, timeout=300, check=True)
    out = json.loads(p.stdout)
    out["results"] = [json.loads(line) for line in out["stdout"].splitlines()
                      if line.startswith("{")]
    return out


@dataclass(frozen=True)
class Big:
    """One arch profile pushed to its MAX_PHYSMEM_BITS."""

    id: str
    arch: str
    options: str = ""
    """More `machine` options (page=, kver=, memmodel=)."""
    page_shift: int | None = None
    kver: str | None = None

    @property
    def profile(self):
        return arch_profile(self.arch, page_shift=self.page_shift, kver=self.kver)


BIG = [
    Big("x86_64", "x86_64"),
    Big("x86_64-2015", "x86_64", "kver=4.2", kver="4.2"),
    Big("x86_64-5level", "x86_64-5level"),
    Big("x86_64-5level-classic", "x86_64-5level", "memmodel=sparse"),
    Big("arm64-4K", "arm64"),
    Big("arm64-16K", "arm64", "page=16K", page_shift=14),
    Big("arm64-64K", "arm64", "page=64K", page_shift=16),
    Big("arm64-64K-v5.11", "arm64", "page=64K kver=5.11", page_shift=16, kver="5.11"),
    Big("ppc64", "ppc64"),
    Big("ppc64-classic", "ppc64", "memmodel=sparse"),
    Big("riscv64", "riscv64"),
]


@dataclass(frozen=True)
class Layout:
    """Where the big case puts things (physical addresses and KVAs, bytes)."""

    limit: int
    """1 << MAX_PHYSMEM_BITS."""
    ram: int
    start_q: int
    start_p: int
    base: int
    page_shift: int
    section_size_bits: int

    @property
    def size_p(self) -> int:
        return self.limit - self.start_p  # to the very top of the physical address space

    @property
    def phys_p(self) -> int:
        return self.limit // 4 * 3 + (0x600 << self.page_shift)

    @property
    def kva_p(self) -> int:
        return self.base + (self.start_p - self.start_q) + (self.phys_p - self.start_p)


def layout(case: Big) -> Layout:
    a = case.profile
    limit = 1 << a.max_physmem_bits
    # x86_64 RAM above 3 GiB continues at 4 GiB, so 1 GiB less reaches the same top
    ram = limit - GiB if case.arch.startswith("x86_64") else limit
    start_q = limit >> 6
    # q: 16 pages at a section start; p begins right after it, in the same section
    return Layout(limit, ram, start_q, start_q + (16 << a.page_shift), (1 << 64) - limit,
                  a.page_shift, a.section_size_bits)


def big_script(case: Big) -> str:
    """Build, register, kmap, look up, tear down, undo: every line must be accepted."""
    g = layout(case)
    ps = g.page_shift
    pfn_ram = (g.limit - 2 * GiB) >> ps
    return "\n".join([
        f"machine {case.arch} ram={g.ram:#x} pmem=none {case.options}",
        f"register q {g.start_q:#x} {16 << ps:#x} base={g.base:#x}",
        f"register p {g.start_p:#x} {g.size_p:#x} base={g.base + (16 << ps):#x}",
        f"kmap {g.phys_p >> ps:#x} dev",
        f"kmap {g.start_q >> ps:#x} dev",
        f"kmap {pfn_ram:#x}",
        f"lookup {g.start_p >> ps:#x}",
        f"lookup {g.phys_p >> ps:#x}",
        f"lookup {(g.limit >> ps) - 1:#x}",
        f"page {pfn_ram:#x}",
        f"page {(g.limit >> ps) - 1:#x}",
        f"identify {g.kva_p:#x}",
        "info", "e820", "ranges", "rcu",
        "teardown p",
        "sections",  # p is off the list: the device table holds q alone
        "undo",
        f"lookup {g.phys_p >> ps:#x}",
        f"kunmap {g.kva_p:#x}",
        "teardown q",
        "undo",
    ]) + "\n"


@pytest.mark.parametrize("case", BIG, ids=[c.id for c in BIG])
def test_machine_at_max_physmem_bits_stays_lazy(case):
    g = layout(case)
    ssb = g.section_size_bits
    out = run_child(big_script(case))
    res = out["results"]
    print(f"\n{case.id}: {out['wall_s']:.2f} s, peak RSS {out['maxrss_kb'] / 1024:.1f} MB")
    assert out["rc"] == 0, out["stderr"]
    assert len(res) == big_script(case).count("\n") and all(r["ok"] for r in res), \
        [r for r in res if not r["ok"]]
    by = {}
    for r in res:
        by.setdefault(r["cmd"], []).append(r)
    assert by["machine"][0]["max_physmem_bits"] == g.limit.bit_length() - 1
    first = g.start_p >> ssb
    assert by["register"][1]["shared_sections"] == {str(first): ["q", "p"]}
    assert by["register"][1]["last_section"] == (g.limit - 1) >> ssb
    kp, kq, kram = by["kmap"]
    assert (kp["path"], kp["range"], kp["addr"], kp["agree"]) == ("list", "p", g.kva_p, True)
    assert kp["section_loads"] == 2 and kq["range"] == "q" and kq["section_loads"] == 2
    assert kram["path"] == "page"
    shared, deep, top, again = by["lookup"]
    assert (shared["section_range"], shared["section_loads"], shared["agree"]) == ("p", 3, True)
    assert deep["section_range"] == deep["list_range"] == "p" and deep["section_loads"] == 2
    assert top["section_range"] == "p" and again["section_range"] == "p"
    assert by["page"][0]["pfn_valid"] and by["page"][1]["section"] == (g.limit - 1) >> ssb
    assert by["identify"][0]["range"] == "p"
    assert by["teardown"][0]["state"] == "waiting"
    assert by["sections"][0]["device_runs"] == [{"first": first, "last": first, "ranges": ["q"]}]
    assert by["sections"][0]["runs"]
    assert [u["undone"] for u in by["undo"]] == ["teardown", "teardown"]
    assert out["maxrss_kb"] < RSS_LIMIT_KB, f"peak RSS {out['maxrss_kb'] / 1024:.0f} MB"


def test_sections_with_a_huge_device_range():
    """`sections` lists the device table as runs, so a range over 2^27 sections is cheap."""
    case = Big("ppc64", "ppc64")
    g = layout(case)
    out = run_child(f"machine ppc64 ram={g.ram:#x} pmem=none\n"
                    f"register p {g.start_p:#x} {g.size_p:#x} base={g.base:#x}\nsections\n")
    assert out["rc"] == 0 and all(r["ok"] for r in out["results"])
    assert out["maxrss_kb"] < RSS_LIMIT_KB


# --- one byte beyond MAX_PHYSMEM_BITS ---------------------------------------------------------

def _beyond_lines(case: Big) -> list[tuple[str, str]]:
    """(command, what must be said) pairs, each one byte beyond the limit."""
    g = layout(case)
    ps = g.page_shift
    return [
        (f"machine {case.arch} ram={g.ram + 1:#x} pmem=none {case.options}", "ram="),
        (f"machine {case.arch} ram=4G pmem={4096 + 1:#x}@{g.limit - 4096:#x} {case.options}",
         "pmem="),
        (f"machine {case.arch} ram=4G pmem={g.limit - (8 << 30) + 1:#x}@{8 << 30:#x} "
         f"{case.options}", "pmem="),
        (f"register y {g.limit - 4096:#x} 4097", "register y"),
        (f"register y 0x0 {g.limit + 1:#x} base=0x0", "register y"),
        (f"kmap {g.limit >> ps:#x} dev", "pfn"),
        (f"lookup {g.limit >> ps:#x}", "pfn"),
        (f"page {g.limit >> ps:#x}", "pfn"),
    ]


def _at_limit_lines(case: Big) -> list[str]:
    """The same, ending exactly at the last byte the limit allows: accepted.  (RAM right
    up to the limit is the big case's machine, built in a child.)"""
    g = layout(case)
    ps = g.page_shift
    return [
        f"machine {case.arch} ram=4G pmem=4K@{g.limit - 4096:#x} {case.options}",
        f"register x {g.limit - 4096:#x} 4096 base=0x0",
        f"lookup {(g.limit >> ps) - 1:#x}",
        f"page {(g.limit >> ps) - 1:#x}",
        f"kmap {(g.limit >> ps) - 1:#x} dev",
    ]


@pytest.mark.parametrize("case", BIG, ids=[c.id for c in BIG])
def test_one_byte_beyond_max_physmem_bits_is_refused(case):
    bits = case.profile.max_physmem_bits
    s = Session()
    for line in _at_limit_lines(case):
        r = s.execute(line)
        assert r.ok, (line, r.error)
    for line, subject in _beyond_lines(case):
        before = s.machine.fingerprint()
        r = s.execute(line)
        assert not r.ok, line
        assert subject in r.error and f"MAX_PHYSMEM_BITS={bits}" in r.error, (line, r.error)
        assert s.machine.fingerprint() == before


@pytest.mark.parametrize("end,ok", [(0x3FFFFFFFFFFF, True), (0x400000000000, False)],
                         ids=["last-byte", "one-beyond"])
def test_from_log_ranges_beyond_max_physmem_bits(tmp_path, end, ok):
    log = tmp_path / "boot.log"
    log.write_text("BIOS-provided physical RAM map:\n"
                   "BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
                   f"BIOS-e820: [mem 0x0000000100000000-{end:#018x}] usable\n")
    r = Session().execute(f"machine from-log {log} arch=x86_64")
    assert r.ok is ok, r.error
    if not ok:
        assert "MAX_PHYSMEM_BITS=46" in r.error


# --- the lazy structures answer as the per-section ones did -----------------------------------

class PerSectionTable:
    """The section table as it was: a dict slot per covered section, lists in insertion
    order.  The reference the lazy SectionTable must agree with."""

    def __init__(self, ssb: int) -> None:
        self.ssb, self.slots = ssb, {}

    def insert(self, r):
        for nr in range(r.start >> self.ssb, (r.end >> self.ssb) + 1):
            self.slots.setdefault(nr, []).append(r)

    def remove(self, r):
        for nr in range(r.start >> self.ssb, (r.end >> self.ssb) + 1):
            self.slots[nr].remove(r)
            if not self.slots[nr]:
                del self.slots[nr]

    def loads(self, addr):
        """(range, loads): 2 plus one per extra candidate checked."""
        for i, r in enumerate(self.slots.get(addr >> self.ssb, ())):
            if r.start <= addr <= r.end:
                return r, 2 + i
        return None, 2 + max(len(self.slots.get(addr >> self.ssb, ())) - 1, 0)


OPS = st.lists(st.tuples(st.booleans(), st.integers(0, 40 << 12), st.integers(1, 5 << 12)),
               min_size=1, max_size=16)


@settings(max_examples=300, deadline=None)
@given(ops=OPS, probes=st.lists(st.integers(0, 46 << 12), max_size=30))
def test_section_table_matches_a_per_section_table(ops, probes):
    arch = arch_profile("ppc64")
    ssb = arch.section_size_bits
    shift = ssb - 12  # the strategies draw in 1/4096 section units
    table, ref, live = SectionTable(arch), PerSectionTable(ssb), []
    for n, (remove, at, size) in enumerate(ops):
        if remove and live:
            r = live.pop(at % len(live))
            table.remove(r)
            ref.remove(r)
        else:
            start, end = at << shift, ((at + size) << shift) - 1
            if any(start <= x.end and x.start <= end for x in live):
                continue  # check_new_range() refuses overlaps before the table sees them
            r = KmapRange(f"r{n}", start, end, (1 << 60) + start, n)
            live.append(r)
            table.insert(r)
            ref.insert(r)
            want = {nr: [x.name for x in ref.slots[nr]]
                    for nr in (start >> ssb, end >> ssb) if len(ref.slots[nr]) > 1}
            assert table.shared_with(r) == want
        assert dict(table.slots.items()) == ref.slots and len(table.slots) == len(ref.slots)
        assert table.shared_sections() == {nr: [x.name for x in s]
                                           for nr, s in ref.slots.items() if len(s) > 1}
        flat = {nr: list(names) for lo, hi, names in table.runs() for nr in range(lo, hi + 1)}
        assert flat == {nr: [x.name for x in s] for nr, s in ref.slots.items()}
    for p in probes:
        addr = p << shift
        found, cost = table.lookup(addr)
        want, loads = ref.loads(addr)
        assert found is want and cost.loads == loads


RAM_RANGES = st.lists(st.tuples(st.integers(0, 3 << 20), st.integers(1, 1 << 21),
                                st.sampled_from([1, 1, 2, 7])), min_size=1, max_size=8)


@pytest.mark.parametrize("memmodel", ["vmemmap", "sparse"])
@settings(max_examples=150, deadline=None)
@given(ranges=RAM_RANGES, probes=st.lists(st.integers(0, 4 << 20), max_size=40))
def test_lazy_sections_match_filled_roots(memmodel, ranges, probes):
    # x86_64 with sizeof(struct mem_section) 256: 16 sections a root, so runs cross roots
    arch = replace(arch_profile("x86_64"), mem_section_size=256)
    unit = 1 << 15  # the strategies draw in 1/4096 section units (128 MiB sections)
    # and 4 GiB of RAM above them all, so that classic SPARSEMEM has room for its mem_map
    pm = physmap_from_ranges(tuple((s * unit, (s + n) * unit - 1, t) for s, n, t in ranges)
                             + ((192 * GiB, 196 * GiB - 1, 1),))
    sp = SparseMem(arch, pm, kver=(6, 16), vmemmap=memmodel == "vmemmap")
    spr = arch.sections_per_root
    filled: dict[int, array] = {}  # what sparse_init() would have written, word by word
    for run in sp.runs:
        for nr in range(run.first, run.last + 1):
            filled.setdefault(nr // spr, array("Q", bytes(8 * spr)))[nr % spr] = run.word
    assert len(sp.roots) == len(filled) and sorted(sp.roots) == sorted(filled)
    assert all(sp.roots[root] == words for root, words in filled.items())
    for p in probes:
        pfn = p * (unit >> 12) + p % (unit >> 12)
        nr = pfn >> arch.pfn_section_shift
        words = filled.get(nr // spr)
        word = None if words is None else words[nr % spr]
        ms = sp.nr_to_section(nr)
        assert (ms.section_mem_map if ms else None) == word
        assert sp.pfn_valid(pfn) == bool(word and word & 0x2)  # HAS_MEM_MAP
        page = sp.pfn_to_page(pfn)
        assert page is None or sp.page_to_pfn(page) == pfn
