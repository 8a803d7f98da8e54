"""The decoder on hostile input: giant lines, files that are not files, a reader that leaves.

- memory stays flat whatever the input: a line longer than `LIMIT_LINE` is cut as it
  streams in (its first `LIMIT_LINE` characters are kept, the rest never held whole);
- ``pfnconsole decode PATH`` refuses a FIFO, a device, a directory or a socket at once
  (exit status 2), without blocking and without reading;
- ``pfnconsole decode FILE | head -1`` ends quietly with the status of SIGPIPE (141).

No test here touches a real device: the character device is made in tmp_path.
"""

from __future__ import annotations

import io
import os
import socket
import stat
import subprocess
import sys
import tracemalloc

import pytest

from bench import logs as bench_log
from pfnconsole.decode import LIMIT_LINE, calibrate, decode_lines, decode_text
from pfnconsole.decode.source import blocks_of, blocks_of_text

DECODE = [sys.executable, "-m", "pfnconsole", "decode"]
REPORT = "[ 5.000000] BUG: Bad page state in process a.out  pfn:7fe84"
MIB = 1 << 20


def bad_page_pfns(findings) -> list[tuple[int, int]]:
    return [(f.line, f.pfn) for f in findings if f.kind == "bad_page"]


# --- giant lines: flat memory -----------------------------------------------------------

# ru_maxrss carries over exec from the forking parent (a big pytest process would inflate
# it), so the child is started by a small Python of its own that reports its child's peak.
_WRAPPER = ("import resource, subprocess, sys\n"
            "rc = subprocess.call(sys.argv[2:])\n"
            "open(sys.argv[1], 'w').write(str(resource.getrusage("
            "resource.RUSAGE_CHILDREN).ru_maxrss))\n"
            "sys.exit(rc)\n")


def peak_rss_mib(argv: list[str], chunks, count: int) -> tuple[float, bytes, bytes, int]:
    """Run ``argv`` with ``count`` copies of each of ``chunks`` (bytes) on its stdin;
    return its own peak RSS in MiB, stdout, stderr, status."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "maxrss")
        p = subprocess.Popen([sys.executable, "-c", _WRAPPER, report, *argv],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        for chunk in chunks:
            for _ in range(count):
                p.stdin.write(chunk)
            count = 1
        p.stdin.close()
        out, err = p.stdout.read(), p.stderr.read()
        p.wait(timeout=120)
        with open(report) as f:
            maxrss = int(f.read())
    unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return maxrss * unit / MIB, out, err, p.returncode


def test_a_100_mib_line_on_stdin_is_decoded_in_flat_memory():
    """One 100 MiB line without a newline, then a report: under 150 MiB of RSS (it was ~550)
    and the report after the giant line is still found, on line 2."""
    giant = b"x" * MIB
    peak, out, err, status = peak_rss_mib(DECODE + ["-", "--json"],
                                          [giant, b"\n" + REPORT.encode() + b"\n"], 100)
    assert status == 0 and not err, err[-2000:]
    assert b'"line": 2, "kind": "bad_page", "pfn": 523908' in out, out[:2000]
    assert peak < 150, f"peak RSS {peak:.0f} MiB"


def test_a_giant_line_in_a_file_is_cut_and_the_next_report_found(tmp_path):
    log = tmp_path / "big.log"
    with open(log, "w") as f:
        f.write(REPORT + " " + "y" * (3 * LIMIT_LINE) + "\n")   # a report at the start of it
        for _ in range(60):
            f.write("z" * MIB)
        f.write("\n" + REPORT.replace("7fe84", "7fe85") + "\n")
    peak, out, err, status = peak_rss_mib(DECODE + [str(log), "--findings"], [], 0)
    assert status == 0 and not err, err[-2000:]
    assert b"pfn 0x7fe84" in out and b"pfn 0x7fe85" in out and b"2 finding(s)" in out, out
    assert peak < 150, f"peak RSS {peak:.0f} MiB"


def traced_peak_mib(fn) -> tuple[float, object]:
    """(peak of Python allocations while ``fn`` runs in MiB, what it returned)."""
    tracemalloc.start()
    try:
        got = fn()
        return tracemalloc.get_traced_memory()[1] / MIB, got
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_decode_text_holds_no_copy_of_a_giant_line(newline):
    text = "x" * (24 * MIB) + newline + REPORT + newline
    peak, found = traced_peak_mib(lambda: decode_text(text))
    assert bad_page_pfns(found) == [(2, 0x7FE84)]
    assert peak < 8, f"{peak:.1f} MiB allocated beside a 24 MiB text"


def test_calibrate_and_decode_lines_read_a_giant_line_in_flat_memory(tmp_path):
    log = tmp_path / "big.log"
    with open(log, "w") as f:
        for _ in range(24):
            f.write("x" * MIB)
        f.write("\n" + REPORT + "\n")

    def both_passes():
        with open(log) as f:
            cal = calibrate(f)
            f.seek(0)
            return list(decode_lines(f, calibration=cal))

    peak, found = traced_peak_mib(both_passes)
    assert bad_page_pfns(found) == [(2, 0x7FE84)]
    assert peak < 8, f"{peak:.1f} MiB allocated reading a 24 MiB line"
    lines = ["x" * (24 * MIB), REPORT]  # a list of lines: the caller holds the giant one
    peak, found = traced_peak_mib(lambda: list(decode_lines(lines)))
    assert bad_page_pfns(found) == [(2, 0x7FE84)]
    assert peak < 8, f"{peak:.1f} MiB allocated beside a 24 MiB line"


def test_a_long_line_is_cut_at_the_limit_the_same_way_everywhere(tmp_path):
    """What the decoder sees of a long line is its first LIMIT_LINE characters, whether it
    comes as text, a file, a list or unskimmed; anything past the cut is not read."""
    head = "[ 1.000000] BUG: Bad page state in process a.out  pfn:1234 "
    past = "z" * LIMIT_LINE + " BUG: Bad page state in process b.out  pfn:abcd"
    lines = [head + "y" * (2 * LIMIT_LINE), "[ 1.000001] " + past, REPORT]
    text = "\n".join(lines) + "\n"
    want = [(1, 0x1234), (3, 0x7FE84)]
    assert bad_page_pfns(decode_text(text)) == want
    assert bad_page_pfns(decode_text(text, skim=False)) == want
    assert bad_page_pfns(decode_lines(lines)) == want
    assert bad_page_pfns(decode_lines([ln + "\n" for ln in lines], skim=False)) == want
    path = tmp_path / "long.log"
    path.write_text(text)
    with open(path) as f:
        assert bad_page_pfns(decode_lines(f)) == want
    edges = ["a" * n for n in (LIMIT_LINE // 2 + 1, LIMIT_LINE, LIMIT_LINE + 1, 3 * LIMIT_LINE)]
    for sample in (lines, edges + [""] + edges):
        text = "\n".join(sample) + "\n"
        for size in (100, 4096, 1 << 18):
            for blocks in (blocks_of(io.StringIO(text), size), blocks_of_text(text, size),
                           blocks_of(sample)):
                got = "".join(blocks).splitlines()
                assert got == [ln[:LIMIT_LINE] for ln in sample], size


# --- not a regular file: refused at once ------------------------------------------------

def decode_path(path) -> subprocess.CompletedProcess:
    return subprocess.run(DECODE + [str(path)], capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)


def assert_refused(path, kind: str) -> None:
    p = decode_path(path)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert p.stderr == f"pfnconsole decode: {path} is a {kind}, not a regular file\n"
    assert p.stdout == ""


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "log.fifo"
    os.mkfifo(fifo)
    assert_refused(fifo, "FIFO")  # no writer ever opens it: a blocking open would hang


def test_a_directory_and_a_socket_are_refused(tmp_path):
    assert_refused(tmp_path, "directory")
    path = tmp_path / "s"
    if len(str(path)) > 100:
        pytest.skip("tmp_path too long for a unix socket name")
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
        assert_refused(path, "socket")


def test_a_character_device_is_refused(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    dev = tmp_path / "zero"
    try:
        os.mknod(dev, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # what /dev/zero is
    except PermissionError:
        pytest.skip("mknod not permitted here")
    assert_refused(dev, "character device")
    link = tmp_path / "link-to-zero"
    link.symlink_to(dev)
    assert_refused(link, "character device")


def test_a_symlink_to_a_regular_log_is_read(tmp_path):
    log = tmp_path / "real.log"
    log.write_text(REPORT + "\n")
    link = tmp_path / "link.log"
    link.symlink_to(log)
    p = decode_path(link)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert "page 0x7fe84" in p.stdout and p.stdout.endswith("from 1 finding(s); --findings lists every "
                                                             "finding, --json both\n"), p.stdout


# --- a reader that leaves: quiet, status 141 --------------------------------------------

@pytest.fixture(scope="module")
def busy_log(tmp_path_factory):
    """A log with a few thousand findings: far more output than a pipe holds."""
    path = tmp_path_factory.mktemp("decode") / "busy.log"
    bench_log.generate(str(path), 300_000, 1.0, seed=9)
    return path


DECODE_LOG_ALONE = (
    "import sys\n"
    "from pfnconsole.cli import decode_log\n"
    "sys.exit(decode_log(sys.argv[1], as_json=False, arch='x86_64',"
    " out=sys.stdout, err=sys.stderr))\n")


@pytest.mark.parametrize("argv", [DECODE, [sys.executable, "-c", DECODE_LOG_ALONE]],
                         ids=["cli", "decode_log"])
def test_a_closed_pipe_ends_the_decoder_quietly_with_sigpipe_status(busy_log, argv):
    """`pfnconsole decode FILE | head -1`: one line read, the pipe closed."""
    p = subprocess.Popen(argv + [str(busy_log)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read()
    p.stderr.close()
    assert p.wait(timeout=60) == 141, err.decode(errors="replace")[-2000:]
    assert first.strip() and err == b""
