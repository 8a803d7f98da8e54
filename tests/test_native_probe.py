"""The optional native probe (pfnconsole._probe, pfnconsole/native/probe.c): its structure,
never its timings.

The probe is a user-space replica of the 2015 kmap_pfn loop and layout.  Here: every walk
visits the nodes the simulator visits, in the same order (newest first), every path gives
the answer the formulas give, time() returns well-formed samples and refuses bad
arguments, and a build without a C compiler still makes a wheel, without the probe.

Without the probe built the structural tests skip, unless PFNCONSOLE_REQUIRE_PROBE=1 (CI
sets it: CI has a compiler, so a missing probe is a broken build there).
"""

from __future__ import annotations

import importlib
import math
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from types import ModuleType

import pytest

from pfnconsole.commands import Session
from pfnconsole.core.pgmap_lookup import walk as xa_walk
from pfnconsole.core.pgmap_lookup import xa_range_entries

REQUIRE = os.environ.get("PFNCONSOLE_REQUIRE_PROBE") == "1"
ROOT = Path(__file__).resolve().parent.parent

GIB = 1 << 30
BASE_PHYS = 0x440000000
FAKE_KVA = 0xFFFFC90000000000
PAGE_OFFSET_BASE = 0xFFFF888000000000
PATHS = ("list", "unlist", "section", "pgmap", "page")
NS = (1, 2, 8, 64)


def load_probe() -> ModuleType:
    try:
        return importlib.import_module("pfnconsole._probe")
    except ImportError as e:
        if REQUIRE:
            pytest.fail(f"PFNCONSOLE_REQUIRE_PROBE=1 but pfnconsole._probe is not built ({e}): "
                        "`pip install -e .` needs a working C compiler and Python.h for "
                        "pfnconsole/native/probe.c; see the build output for the compiler error")
        pytest.skip(f"pfnconsole._probe is not built ({e})")


@pytest.fixture(scope="module")
def probe() -> Iterator[ModuleType]:
    p = load_probe()
    yield p
    p.build(0)


def range_start(i: int, range_bytes: int = GIB) -> int:
    return BASE_PHYS + i * range_bytes


def pfns_in(i: int, range_bytes: int = GIB) -> tuple[int, int, int]:
    """The first, a middle and the last pfn of range i."""
    first = range_start(i, range_bytes) >> 12
    last = (range_start(i, range_bytes) + range_bytes - 1) >> 12
    return first, first + (range_bytes >> 13) + 3, last


OUTSIDE = (0x1000, BASE_PHYS // 4096 - 1)
"""pfns below every range (the ranges only go up from BASE_PHYS)."""


# --- the module itself ------------------------------------------------------------------------

def test_info_and_docstring(probe: ModuleType) -> None:
    probe.build(3)
    info = probe.info()
    assert info["sizeof_kmap"] == 40
    assert info["sizeof_resource"] == 56
    assert info["sections_per_root"] == 256
    assert info["section_shift"] == 27
    assert (info["n"], info["range_bytes"], info["base_phys"]) == (3, GIB, BASE_PHYS)
    assert isinstance(info["rdtsc"], bool) and isinstance(info["clflush"], bool)
    doc = probe.__doc__ or ""
    assert "user-space replica" in doc and "NOT the kernel" in doc


# --- walks: the probe against the formulas ----------------------------------------------------

@pytest.mark.parametrize("n", NS)
def test_walk_visits_newest_first(probe: ModuleType, n: int) -> None:
    probe.build(n)
    for i in range(n):
        k = n - i  # range i was registered i-th, so list_add_rcu() put n - i - 1 before it
        for pfn in pfns_in(i):
            addr, visited = probe.walk(pfn)
            assert visited == k, (n, i, pfn)
            assert addr == FAKE_KVA + i * GIB + (pfn << 12) - range_start(i)
            assert probe.unwalk(addr) == (True, k)
    for pfn in OUTSIDE:
        assert probe.walk(pfn) == (None, n)
    # a direct-map address (kunmap of a kmap_atomic() page) is in no range: a whole walk
    assert probe.unwalk(probe.page(OUTSIDE[0])) == (False, n)
    assert probe.unwalk(FAKE_KVA + n * GIB) == (False, n)  # one past the newest range
    assert probe.unwalk(FAKE_KVA - 1) == (False, n)


@pytest.mark.parametrize("n", NS)
def test_section_and_pgmap_agree_with_the_walk(probe: ModuleType, n: int) -> None:
    probe.build(n)
    for i in range(n):
        for pfn in pfns_in(i):
            addr, _ = probe.walk(pfn)
            assert probe.section(pfn) == addr, (n, i, pfn)
            assert probe.pgmap(pfn) == i, (n, i, pfn)
    beyond = (BASE_PHYS + n * GIB) >> 12
    for pfn in (*OUTSIDE, beyond, beyond + 12345):
        assert probe.walk(pfn)[0] is None
        assert probe.section(pfn) is None
        assert probe.pgmap(pfn) is None


def test_pgmap_tree_matches_the_simulators_xarray(probe: ModuleType) -> None:
    """Ranges that take sibling slots and several levels (xa_store_range() cuts a range
    that is not a power of two into runs): the probe's tree answers as the simulator's
    model of the same stores does."""
    rb, base, n = (3 << 30) + (3 << 27), 0x28000000, 20  # 3.375 GiB from 640 MiB
    probe.build(n, rb, base)
    entries = []
    for i in range(n):
        first = (base + i * rb) >> 12
        entries += xa_range_entries(first, first + (rb >> 12) - 1, str(i))
    assert any(e.sibs for e in entries) and len({e.shift for e in entries}) > 1
    for i in range(n):
        first = (base + i * rb) >> 12
        for pfn in (first, first + 1, first + (1 << 12), first + (1 << 15) + 7, first + (1 << 18) + 5,
                    first + (rb >> 13), first + (rb >> 12) - 1):
            assert probe.pgmap(pfn) == i == int(xa_walk(entries, pfn).owner or -1)
            assert probe.section(pfn) == probe.walk(pfn)[0] == FAKE_KVA + i * rb + (pfn << 12) - base - i * rb
    for pfn in (0, (base >> 12) - 1, (base + n * rb) >> 12):
        assert probe.pgmap(pfn) is None and xa_walk(entries, pfn).owner is None


def test_page_is_the_direct_map(probe: ModuleType) -> None:
    probe.build(2)
    for pfn in (0, 1, 0x1000, 0x440000, (1 << 34) - 1):
        assert probe.page(pfn) == PAGE_OFFSET_BASE + (pfn << 12)


def test_build_zero_ranges(probe: ModuleType) -> None:
    probe.build(0)
    assert probe.info()["n"] == 0
    assert probe.walk(0x440000) == (None, 0)
    assert probe.unwalk(FAKE_KVA) == (False, 0)
    assert probe.section(0x440000) is None
    assert probe.pgmap(0x440000) is None


# --- walks: the probe against the simulator ---------------------------------------------------

@pytest.mark.parametrize("n", NS)
def test_visited_nodes_match_the_simulator(probe: ModuleType, n: int) -> None:
    probe.build(n)
    s = Session()
    for i in range(n):
        r = s.execute(f"register r{i} {range_start(i):#x} {GIB:#x}")
        assert r is not None and r.ok, r and r.error
        assert r.data["base"] == FAKE_KVA + i * GIB  # the simulator's next free KVA is the probe's
    picks = sorted({0, n // 2, n - 1})
    for i in picks:
        for pfn in pfns_in(i):
            km = s.execute(f"kmap {pfn:#x} dev")
            assert km is not None and km.ok, km and km.error
            addr, visited = probe.walk(pfn)
            assert km.data["path"] == "list" and km.data["range"] == f"r{i}"
            assert km.data["addr"] == addr
            assert visited == km.data["list_steps"] == len(km.data["steps"])
            assert [st["name"] for st in km.data["steps"]] == [f"r{j}" for j in range(n - 1, i - 1, -1)]
            ku = s.execute(f"kunmap {addr:#x}")
            assert ku is not None and ku.ok, ku and ku.error
            assert probe.unwalk(addr) == (True, ku.data["list_steps"])
    for pfn in OUTSIDE:
        km = s.execute(f"kmap {pfn:#x} dev")
        assert km is not None and km.ok and km.data["path"] == "none"
        assert probe.walk(pfn) == (None, km.data["list_steps"])


# --- time() -------------------------------------------------------------------------------------

@pytest.mark.parametrize("cold", [False, True])
@pytest.mark.parametrize("path", PATHS)
def test_time_returns_samples(probe: ModuleType, path: str, cold: bool) -> None:
    probe.build(8)
    rdtsc = probe.info()["rdtsc"]
    for pfn in (pfns_in(0)[1], OUTSIDE[0]):  # the oldest range (a whole walk), and a miss
        samples = probe.time(path, pfn, 5, cold)
        assert isinstance(samples, list) and len(samples) == 5
        for ns, cycles in samples:
            assert isinstance(ns, float) and math.isfinite(ns)
            # hot: a batch of >= ~20 us over its lookups; cold: one lookup less the empty
            # timer, which the probe clamps at 0 (a real cold lookup is far above it)
            assert ns > 0 if not cold else ns >= 0
            if rdtsc:
                assert isinstance(cycles, int) and cycles >= 0
            else:
                assert cycles is None


def test_time_with_an_eviction_buffer(probe: ModuleType) -> None:
    probe.build(2)
    samples = probe.time("list", pfns_in(0)[0], 3, True, 1 << 20)
    assert len(samples) == 3 and all(math.isfinite(ns) and ns >= 0 for ns, _ in samples)
    assert len(probe.time("page", 0x440000, 2, cold=True, evict_bytes=1 << 16)) == 2


@pytest.mark.parametrize("args", [
    ("walk", 5, 5, False),            # not a path
    ("list", -1, 5, False),           # negative pfn
    ("list", 1 << 34, 5, False),      # beyond MAX_PHYSMEM_BITS=46
    ("list", 0x440000, 0, False),     # no samples
    ("list", 0x440000, 100001, False),
    ("list", 0x440000, 5, True, -1),
    ("list", 0x440000, 5, True, (1 << 30) + 1),
])
def test_time_refuses_bad_arguments(probe: ModuleType, args: tuple) -> None:
    probe.build(1)
    with pytest.raises(ValueError):
        probe.time(*args)


@pytest.mark.parametrize("call", [
    lambda p: p.build(-1),
    lambda p: p.build(4097),
    lambda p: p.build(1, 0),
    lambda p: p.build(1, 1 << 20),               # not a whole 128 MiB section
    lambda p: p.build(1, 1 << 30, 0x440001000),
    lambda p: p.build(4096, 1 << 40),            # beyond 2^46
    lambda p: p.walk(-1),
    lambda p: p.walk(1 << 34),
    lambda p: p.walk(1 << 80),
    lambda p: p.unwalk(-1),
    lambda p: p.unwalk(1 << 64),
    lambda p: p.section(-5),
    lambda p: p.pgmap(1 << 40),
    lambda p: p.page(-1),
])
def test_bad_arguments_raise_value_error(probe: ModuleType, call) -> None:
    probe.build(2)
    with pytest.raises(ValueError):
        call(probe)
    assert probe.info()["n"] == 2  # a refused build keeps what was there
    assert probe.walk(pfns_in(0)[0])[1] == 2


def test_non_integers_raise_type_error(probe: ModuleType) -> None:
    with pytest.raises(TypeError):
        probe.walk(1.5)
    with pytest.raises(TypeError):
        probe.build("3")


# --- the build without a compiler -------------------------------------------------------------

def test_wheel_builds_without_a_compiler(tmp_path: Path) -> None:
    """CC=false: the optional extension fails to build and the wheel is made without it
    (about 2 s here: no isolation, no download)."""
    try:
        have = metadata.version("setuptools")
    except metadata.PackageNotFoundError:
        have = "0"
    if tuple(int(x) for x in have.split(".")[:2] if x.isdigit()) < (77, 0):
        msg = (f"setuptools {have} is older than the build-system's >=77 (--no-build-isolation "
               "builds with the venv's own): pip install -e '.[test]' brings it")
        if REQUIRE:
            pytest.fail(msg)
        pytest.skip(msg)
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.pyd", "*.pyc")
    shutil.copytree(ROOT / "pfnconsole", src / "pfnconsole", ignore=ignore)
    shutil.copytree(ROOT / "lessons", src / "lessons", ignore=ignore)  # ships as pfnconsole.course
    out = tmp_path / "wheels"
    env = {**os.environ, "CC": "false", "PIP_NO_INPUT": "1"}
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "-q", "-w", str(out), str(src)],
                       env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    wheels = list(out.glob("pfnconsole-*.whl"))
    assert len(wheels) == 1
    names = zipfile.ZipFile(wheels[0]).namelist()
    assert "pfnconsole/__init__.py" in names
    assert not [n for n in names if "_probe" in n and n.endswith((".so", ".pyd", ".dylib"))], names
    assert took < 120, f"the fallback build took {took:.0f} s"
