"""`pfnconsole decode`, `decode TEXT…` in the console and `machine from-log`, end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pfnconsole.commands import Session

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "dmesg"
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/samples absent")


def decode_rows(path: Path, *extra: str) -> list[dict]:
    """Every JSON object of `pfnconsole decode --json`: findings, page reports, the log."""
    p = subprocess.run([sys.executable, "-m", "pfnconsole", "decode", str(path), "--json",
                        *extra], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    return [json.loads(line) for line in p.stdout.splitlines()]


def decode_json(path: Path, *extra: str) -> list[dict]:
    """The findings of `pfnconsole decode --json` (the page reports and the log left out)."""
    return [r for r in decode_rows(path, *extra) if r["kind"] not in ("page_report", "log")]


# (sample, what INDEX.md says must come out) -- checked through the command line
CLI_CASES = [
    ("bad_page-05.txt", lambda fs: any(f["kind"] == "calibration" and "56" in f["note"]
                                       for f in fs) and any(f.get("pfn") == 0x135DDD for f in fs)),
    ("bad_page-07.txt", lambda fs: any(f.get("pfn") == 0x309D22 for f in fs)),
    ("page_fault-01.txt", lambda fs: any(f.get("pfn") == 0x1290AB and f["kind"] == "pte"
                                         for f in fs)),
    ("fs_dax_trace-01.txt", lambda fs: any(f.get("pfn") == 0x100600 and
                                           set(f.get("flags", [])) >= {"DEV", "MAP"} for f in fs)),
    ("ftrace_pfn-02.txt", lambda fs: any(f.get("pfn") == 970744 for f in fs)),
    ("e820_pmem-02.txt", lambda fs: {(f["start"], f["end"]) for f in fs if f["kind"] == "e820"
                                     and f.get("type") == "persistent (type 12)"}
     == {(0x240000000, 0x33FFFFFFF), (0x380000000, 0x5BFFFFFFF)}),
    ("dump_page-09.txt", lambda fs: any(f.get("pfn") == 0x107 for f in fs)),
    ("memory_failure-06.txt", lambda fs: any(f.get("pfn") == 0xAF34214 for f in fs)),
]


@needs_samples
@pytest.mark.parametrize("name,check", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_samples_through_the_cli(name, check):
    findings = decode_json(SAMPLES / name)
    assert all(isinstance(f["line"], int) and f["line"] >= 1 for f in findings)
    assert check(findings), json.dumps(findings, indent=1)[:3000]


@needs_samples
def test_every_sample_decodes_cleanly_in_text_mode():
    for path in sorted(SAMPLES.glob("*.txt")):
        p = subprocess.run([sys.executable, "-m", "pfnconsole", "decode", str(path)],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0 and not p.stderr, (path.name, p.stderr)
        assert p.stdout.startswith("arch ") and "report(s) on" in p.stdout.splitlines()[-1]
        p = subprocess.run([sys.executable, "-m", "pfnconsole", "decode", str(path), "--findings"],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0 and not p.stderr, (path.name, p.stderr)
        assert "finding(s); arch " in p.stdout.splitlines()[-1]


def test_stdin_random_bytes_and_megabyte_lines_exit_cleanly():
    junk = bytes(range(256)) * 2000 + b"\n" + b"page:" * 200_000 + b"\n" + b"9" * 1_000_000
    p = subprocess.run([sys.executable, "-m", "pfnconsole", "decode", "-"], input=junk,
                       capture_output=True, timeout=120)
    assert p.returncode == 0 and b"Traceback" not in p.stderr


def test_unknown_arch_and_missing_file_are_clear():
    p = subprocess.run([sys.executable, "-m", "pfnconsole", "decode", "/nope.log"],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "cannot read /nope.log" in p.stderr
    p = subprocess.run([sys.executable, "-m", "pfnconsole", "decode", "-", "--arch", "vax"],
                       input="", capture_output=True, text=True)
    assert p.returncode == 2 and "unknown arch 'vax'" in p.stderr


def test_decode_reads_a_log_as_any_log_arch_or_its_alias():
    """The 32-bit arches a log can be read as, and their other spellings, are taken."""
    line = "[    0.000000] BUG: Bad page state in process a.out  pfn:7fe84\n"
    for arch in ("arm", "i386", "AArch64", "x86-64"):
        p = subprocess.run([sys.executable, "-m", "pfnconsole", "decode", "-", "--arch", arch, "--json"],
                           input=line, capture_output=True, text=True)
        assert p.returncode == 0, (arch, p.stderr)
        assert json.loads(p.stdout.splitlines()[0])["pfn"] == 0x7FE84, (arch, p.stdout)
        assert json.loads(p.stdout.splitlines()[-1])["arch_how"].startswith("given"), p.stdout


def test_decode_command_on_pasted_text():
    s = Session()
    r = s.execute("decode [  12.345678] BUG: Bad page state in process a.out  pfn:7fe84")
    assert r.ok and r.data["pfns"] == [0x7FE84]
    assert s.execute("decode 0x100600004").data["pfn"] == 0x100600  # a value, not text
    r = s.execute("decode page=0xffffea0004018000 pfn=0x100600 order=0")  # options-like text
    assert r.ok and 0x100600 in r.data["pfns"]


SYNTH_BOOT = """\
[    0.000000] BIOS-provided physical RAM map:
[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable
[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x00000000bffdffff] usable
[    0.000000] BIOS-e820: [mem 0x0000000100000000-0x000000023fffffff] usable
[    0.000000] user-defined physical RAM map:
[    0.000000] user: [mem 0x0000000000000000-0x000000000009fbff] usable
[    0.000000] user: [mem 0x0000000000100000-0x00000000bffdffff] usable
[    0.000000] user: [mem 0x0000000100000000-0x000000017fffffff] persistent (type 12)
[    0.000000] user: [mem 0x0000000180000000-0x000000023fffffff] usable
"""


def test_machine_from_log_prefers_the_user_map(tmp_path):
    log = tmp_path / "boot.log"
    log.write_text(SYNTH_BOOT)
    s = Session()
    r = s.execute(f"machine from-log {log}")
    assert r.ok, r.error
    assert r.data["pmem"] == [[0x100000000, 0x17FFFFFFF]]
    assert "user-defined" in r.data["source"]
    assert not s.execute("page 0x100600").data["pfn_valid"]  # pmem: no struct page
    assert s.execute("page 0x180000").data["pfn_valid"]
    assert s.execute("undo").ok and s.machine.state.spec.e820 is None


def test_machine_from_log_errors(tmp_path):
    s = Session()
    before = s.machine.fingerprint()
    empty = tmp_path / "empty.log"
    empty.write_text("nothing to see\n")
    for line, needle in [(f"machine from-log {empty}", "no e820"),
                         ("machine from-log /nope", "cannot read"),
                         ("machine from-log", "usage")]:
        r = s.execute(line)
        assert not r.ok and needle in r.error
    assert s.machine.fingerprint() == before


@needs_samples
@pytest.mark.parametrize("name,pmem", [
    ("e820_pmem-02.txt", [[0x240000000, 0x33FFFFFFF], [0x380000000, 0x5BFFFFFFF]]),
    ("e820_pmem-03.txt", [[0x100000000, 0x13FFFFFFF]]),
])
def test_machine_from_the_pmem_samples(name, pmem):
    s = Session()
    r = s.execute(f"machine from-log {SAMPLES / name}")
    assert r.ok, r.error
    assert r.data["pmem"] == pmem
    info = s.execute("e820").data["ranges"]
    assert [[x["start"], x["end"]] for x in info if x["type"] == 12] == pmem


@needs_samples
def test_cli_json_equals_the_api_for_every_sample():
    from pfnconsole.decode import decode_text
    for path in sorted(SAMPLES.glob("*.txt")):
        rows = decode_rows(path)
        arch = rows[-1]["arch"]  # the arch the CLI read it as (detected, else x86_64)
        api = [f.to_json() for f in decode_text(path.read_text(errors="replace"), arch=arch)]
        assert decode_json(path) == api, path.name
