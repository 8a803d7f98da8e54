"""Nothing a user types can crash the console or half-change the machine."""

from __future__ import annotations

import random
import subprocess
import sys

from hypothesis import HealthCheck, given, settings, strategies as st

from pfnconsole.commands import COMMANDS, Session
from pfnconsole.commands import table

NUMBERS = ["0", "1", "0x100600", "0x1000600", "4G", "16G", "1T", "64T", "-1", "0x",
           "0x" + "f" * 20, "9" * 40, "0xffffc90000600000", "0xffffea0004018000", "4K",
           "0x1000000000", "1_000", "0b101", "12zz", "1e9", "0x1E", "4096"]
WORDS = ["dev", "map", "special", "sg_chain", "sg_last", "end", "pmem0", "pmem1", "x86_64",
         "arm64", "ppc64", "riscv64", "x86_64-5level", "radix", "10", "16", "from-log",
         "abi=v5", "abi=pfn_t", "abi=sg", "abi=v5rfc", "kver=4.5", "kver=6.17", "kver=x",
         "ram=4G", "ram=0", "pmem=4G@0x500000000", "pmem=none", "base=0x1", "raw=0x100600004",
         "cpus=0", "cpus=64", "page=64K", "memmodel=sparse", "struct_page=56", "=", "==",
         "a=", "#", "\t", "ü", "\x7f"]


def line_strategy():
    verb = st.sampled_from(sorted(COMMANDS) + ["bogus", "", "KMAP", "?", "whatis"])
    arg = st.one_of(st.sampled_from(NUMBERS), st.sampled_from(WORDS),
                    st.text(max_size=12).filter(lambda t: "\n" not in t and "\r" not in t))
    return st.builds(lambda v, a: " ".join([v, *a]), verb, st.lists(arg, max_size=6))


def test_the_suite_checks_invariants_after_every_command():
    assert table.CHECK_INVARIANTS


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line_strategy(), min_size=1, max_size=12))
def test_fuzzed_lines_give_results_and_refusals_change_nothing(lines):
    s = Session()
    s.execute("register pmem0 0x1000000000 4G")
    for line in lines:
        if line.split()[:1] in (["save"], ["load"]):
            continue  # they touch files; covered by their own tests
        before = s.machine.fingerprint()
        r = s.execute(line)  # invariants are checked inside (PFNCONSOLE_CHECK_INVARIANTS)
        if r is None:
            continue
        if not r.ok:
            assert r.error and "Traceback" not in r.error
            assert s.machine.fingerprint() == before, line


def fuzz_script(n: int, seed: int) -> str:
    rng = random.Random(seed)
    verbs = [v for v in COMMANDS if v not in ("save", "load", "machine")] + ["bogus"]
    out = []
    for _ in range(n):
        words = [rng.choice(verbs)] + [rng.choice(NUMBERS + WORDS)
                                       for _ in range(rng.randint(0, 4))]
        if rng.random() < 0.05:
            words.append("".join(chr(rng.randint(1, 0x2FF)) for _ in range(rng.randint(1, 30))))
        out.append(" ".join(w for w in words if w not in ("\n", "\r")))
    return "\n".join(line.replace("\r", "").replace("\n", " ") for line in out) + "\n"


def test_3000_fuzzed_lines_through_run_keep_going():
    script = fuzz_script(3000, seed=2015)
    p = subprocess.run([sys.executable, "-m", "pfnconsole", "run", "-", "--keep-going"],
                       input=script.encode(), capture_output=True, timeout=300)
    err = p.stderr.decode(errors="replace")
    assert p.returncode in (0, 1)
    assert "Traceback" not in err and "AssertionError" not in err
    for line in err.splitlines():
        assert line.startswith("<stdin>:") and ": error: " in line, line
