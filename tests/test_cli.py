"""`pfnconsole run` end to end, in a subprocess, as a user or a script would call it."""

import json
import subprocess
import sys

import pytest

SCRIPT = """\
# the 2015 list under RCU
register pmem0 0x1000000000 4G
register pmem1 0x1100000000 4G
register pmem2 0x1200000000 4G
kmap 0x1000600 dev          # first registered: 3 nodes
kmap 0x1200600 dev          # newest: 1 node
kmap 0x100600               # RAM: page path, still a reader
teardown pmem0
rcu
"""


def run(args, stdin: str | bytes = ""):
    raw = stdin if isinstance(stdin, bytes) else stdin.encode()
    p = subprocess.run([sys.executable, "-m", "pfnconsole", *args], input=raw,
                       capture_output=True, timeout=60)
    return subprocess.CompletedProcess(p.args, p.returncode, p.stdout.decode(errors="replace"),
                                       p.stderr.decode(errors="replace"))


def test_version():
    p = run(["--version"])
    assert p.returncode == 0 and p.stdout.startswith("pfnconsole ")


def test_run_json_has_the_required_keys(tmp_path):
    f = tmp_path / "s.pfn"
    f.write_text(SCRIPT)
    p = run(["run", str(f), "--json"])
    assert p.returncode == 0, p.stderr
    objs = [json.loads(line) for line in p.stdout.splitlines()]
    assert [o["cmd"] for o in objs] == ["register"] * 3 + ["kmap"] * 3 + ["teardown", "rcu"]
    assert all(o["ok"] for o in objs)
    kmaps = [o for o in objs if o["cmd"] == "kmap"]
    for o in kmaps:
        for key in ("addr", "path", "list_steps", "section_loads", "list_sim_ns", "section_sim_ns",
                    "list_model_ns", "section_model_ns", "page_model_ns", "profile", "rcu_readers"):
            assert key in o
        assert isinstance(o["list_sim_ns"], int) and isinstance(o["addr"], int)
    # the modelled time: a walk of three cold nodes costs more than one warm node, and a
    # RAM page takes no list walk and no section lookup (0 loads, 0 ns on both)
    assert kmaps[0]["list_model_ns"] > kmaps[1]["list_model_ns"] > 0
    assert (kmaps[2]["list_loads"], kmaps[2]["section_loads"]) == (0, 0)
    assert kmaps[2]["list_model_ns"] == kmaps[2]["section_model_ns"] == 0
    assert [o["list_steps"] for o in kmaps] == [3, 1, 0]
    assert [o["path"] for o in kmaps] == ["list", "list", "page"]
    assert kmaps[0]["section_loads"] == kmaps[1]["section_loads"]
    assert [o["rcu_readers"] for o in kmaps] == [1, 2, 3]
    td = objs[6]
    assert td["state"] == "waiting" and td["waiting_for"] == 3


def test_encode_decode_json():
    p = run(["run", "-", "--json"],
            "encode 0x100600 dev abi=v5\ndecode 0x3000000000100600 abi=pfn_t\n")
    enc, dec = (json.loads(x) for x in p.stdout.splitlines())
    assert enc["value"] == 0x100600004
    assert dec["pfn"] == 0x100600 and dec["flags"] == ["PFN_DEV", "PFN_MAP"]
    assert dec["has_page"] is True


def test_bad_line_stops_with_file_and_line(tmp_path):
    f = tmp_path / "bad.pfn"
    f.write_text("register pmem0 0x1000000000 4G\n\nkmap 0xzz dev\nrcu\n")
    p = run(["run", str(f)])
    assert p.returncode == 1
    assert p.stderr.strip() == f"{f}:3: error: PFN '0xzz' is not a number"
    assert "reader(s) open" not in p.stdout  # stopped before the rcu line
    assert "Traceback" not in p.stderr


def test_keep_going_runs_the_rest(tmp_path):
    p = run(["run", "-", "--keep-going", "--json"], "bogus 1\nkunmap 0x5\nrcu\n")
    assert p.returncode == 1
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    assert [(o["cmd"], o["ok"]) for o in lines] == [("bogus", False), ("kunmap", False),
                                                    ("rcu", True)]
    assert "error" in lines[0] and "error" not in lines[2]
    assert p.stderr.count("<stdin>:") == 2


@pytest.mark.parametrize("junk", [b"\x00\x01\x02", b"kmap " + b"9" * 300,
                                  b"machine " + b"x" * 5000, b"\xff\xfe kmap \xc3",
                                  b"register a 0x1 0x" + b"f" * 40])
def test_junk_never_tracebacks(junk):
    p = run(["run", "-", "--keep-going"], junk + b"\n")
    assert "Traceback" not in p.stderr
    assert p.returncode in (0, 1)


def test_missing_file():
    p = run(["run", "/nonexistent/script.pfn"])
    assert p.returncode == 2 and "cannot read" in p.stderr


def test_plain_console_reads_stdin():
    p = run([], "register pmem0 0x1000000000 4G\nkmap 0x1000600 dev\nbogus\n")
    assert p.returncode == 1  # like run --keep-going: a failed line makes the exit status 1
    assert "pmem0 at node 1" in p.stdout and "error: unknown command" in p.stderr
