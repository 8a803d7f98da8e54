"""Nothing a user types can crash the console or half-change the machine."""

from __future__ import annotations

import random
import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pfnconsole.commands import COMMANDS, Session
from pfnconsole.commands import session as table

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


def test_100000_open_mappings_then_all_closed():
    from pfnconsole.core.machine import Machine
    m = Machine()
    m.register("pmem0", 0x1000000000, 4 << 30)
    value = m.encode_v5(0x1000600, ["dev"])
    addrs = [m.kmap_atomic_pfn_t(value).addr for _ in range(100_000)]
    assert m.state.rcu.nr_readers == 100_000 and m.check_invariants() == []
    assert m.teardown_kmap("pmem0").state == "waiting"  # runs on an idle CPU
    for addr in reversed(addrs):
        m.kunmap_atomic_pfn_t(addr)
    assert m.state.rcu.nr_readers == 0 and m.state.ranges["pmem0"].state == "freed"
    assert m.check_invariants() == []


def test_a_killed_session_resumes_from_its_journal(tmp_path):
    """A console killed with SIGKILL mid-session comes back with --resume, state and all."""
    code = (
        "import os, signal\n"
        "from pfnconsole.cli import console_session\n"
        "s = console_session(False)\n"
        "for line in ['register pmem0 0x1000000000 4G', 'kmap 0x1000600 dev', 'cpu 2',\n"
        "             'bogus', 'teardown pmem0', 'set radix 10']:\n"
        "    s.execute(line)\n"
        "print(s.machine.fingerprint(), flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")
    env = {"XDG_STATE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=120)
    assert p.returncode == -9
    before = p.stdout.strip()
    (path,) = (tmp_path / "pfnconsole" / "sessions").glob("*.journal")
    journal = path.read_text()
    assert "bogus" not in journal and journal.count("\n") == 6  # header + 5 accepted
    check = ("from pfnconsole.cli import console_session\n"
             "s = console_session(True)\n"
             "print(s.machine.fingerprint(), s.radix, s.machine.state.cpu)\n")
    p = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, env=env,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == [before, "10", "2"]


def test_save_and_load_round_trip(tmp_path):
    s = Session()
    for line in ["register pmem0 0x1000000000 4G", "kmap 0x1000600 dev", "cpu 1"]:
        assert s.execute(line).ok
    want = s.machine.fingerprint()
    assert s.execute(f"save {tmp_path / 's.pfn'}").ok
    t = Session()
    assert t.execute(f"load {tmp_path / 's.pfn'}").ok
    assert t.machine.fingerprint() == want
    bad = tmp_path / "bad.pfn"
    bad.write_text("register pmem1 0x2000000000 4G\nkunmap 0x5\n")
    before = t.machine.fingerprint()
    r = t.execute(f"load {bad}")
    assert not r.ok and f"{bad}:2: error:" in r.error and "nothing was loaded" in r.error
    assert t.machine.fingerprint() == before


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_as_a_lesson_is_a_lesson_or_a_lesson_error(text):
    from pfnconsole.lessons import LessonError, parse_lesson
    try:
        parse_lesson(text, "fuzz.md")
    except LessonError as e:
        assert str(e).startswith("fuzz.md:")


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_as_a_boot_log_build_a_machine_or_say_why(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("log") / "boot.log"
    path.write_bytes(data)
    s = Session()
    before = s.machine.fingerprint()
    r = s.execute(f"machine from-log {path}")
    assert r.ok or ("no e820" in r.error or "range" in r.error or "type" in r.error)
    if not r.ok:
        assert s.machine.fingerprint() == before
