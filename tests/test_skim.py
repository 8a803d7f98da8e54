"""Skimming (decode/skim.py) changes how fast the decoder reads, never what it finds.

The reference is the same decoder with ``skim=False``: every line read.  Both run on the
real samples, on generated benchmark logs and on hypothesis-made logs built from the
pieces that make skimming hard (unmarked continuation lines, block edges, open records).
"""

from __future__ import annotations

import io
import os
import re
from contextlib import ExitStack, contextmanager
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bench import logs as bench_log
from pfnconsole.decode import LIMIT_LINE, calibrate, decode_lines, decode_text, skim
from pfnconsole.decode.calibrate import Calibrator, calibrate_blocks
from pfnconsole.decode.clean import UNMARKED, clean_line, logical_lines
from pfnconsole.decode.devices import Resources
from pfnconsole.decode.formats import FORMATS
from pfnconsole.decode.layout import make_layout
from pfnconsole.decode.scan import pointer_patterns
from pfnconsole.decode.skim import Anchors, MultiScan, hyperscan, make_interest, skim_lines
from pfnconsole.decode.source import blocks_of, blocks_of_text
from pfnconsole.decode.stream import INTEREST_KEYS, decode_blocks

RESOURCE_ANCHORS = Resources.anchors

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "dmesg"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "decode"
ARCHES = ("x86_64", "arm64", "ppc64", "x86_64-5level")


BACKENDS = [pytest.param("re"),
            pytest.param("hyperscan", marks=pytest.mark.skipif(hyperscan is None,
                                                               reason="hyperscan not installed"))]


@contextmanager
def scanning_with(backend: str):
    """Skim with `skim.Interest` ("re") or `skim.MultiScan` ("hyperscan"), however short
    the log (a paste would be read line by line: `skim.SKIM_FROM`)."""
    with mock.patch.dict(os.environ, {"PFNCONSOLE_SCAN": backend}), \
            mock.patch.object(skim, "SKIM_FROM", 0):
        yield


def both_ways(text: str, arch: str) -> tuple[list, list]:
    return decode_text(text, arch=arch, skim=False), decode_text(text, arch=arch)


def sample_names() -> list[str]:
    return sorted(p.stem for p in SAMPLES.glob("*.txt")) if SAMPLES.is_dir() else []


def fixture_logs() -> dict[str, tuple[str, str]]:
    """``{file name: (arch, text)}`` for the project's own logs in tests/fixtures/decode.

    Lines starting with ``#`` are comments (a ``# arch: NAME`` line sets the arch).
    """
    out = {}
    for path in sorted(FIXTURES.glob("*.log")):
        lines = path.read_text(encoding="utf-8").splitlines()
        arch = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("# arch:")),
                    "x86_64")
        out[path.name] = (arch, "\n".join(ln for ln in lines if not ln.startswith("#")) + "\n")
    return out


@pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"sample corpus not found at {SAMPLES}")
@pytest.mark.parametrize("name", sample_names() or ["none"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_every_sample_decodes_the_same_skimmed(name, backend):
    text = (SAMPLES / f"{name}.txt").read_text(errors="replace")
    with scanning_with(backend):
        for arch in ARCHES:
            ref, fast = both_ways(text, arch)
            assert fast == ref, (name, arch)
        # tiny blocks: every block edge falls somewhere inside a report
        cal = calibrate(text.splitlines())
        ref = list(decode_lines(text.splitlines(), calibration=cal, skim=False))
        assert list(decode_blocks(blocks_of_text(text, size=61), calibration=cal)) == ref
        assert calibrate_blocks(blocks_of_text(text, size=61)) == cal


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_fixture_decodes_the_same_skimmed(backend):
    logs = fixture_logs()
    assert logs, f"no fixture logs in {FIXTURES}"
    with scanning_with(backend):
        for name, (arch, text) in logs.items():
            ref, fast = both_ways(text, arch)
            assert ref and fast == ref, name
            cal = calibrate(text.splitlines(), arch)
            want = list(decode_lines(text.splitlines(), arch=arch, calibration=cal, skim=False))
            got = list(decode_blocks(blocks_of_text(text, size=61), arch=arch, calibration=cal))
            assert got == want, name


def test_every_format_reports_on_a_project_fixture():
    """Each format in FORMATS finds something in tests/fixtures/decode, read the way the
    decoder reads (records and page faults span lines): a new format needs fixture lines."""
    reported: dict[str, set[str]] = {fmt.name: set() for fmt in FORMATS}

    def spy(cls, name):
        real = cls.match

        def match(self, text, ctx):
            got = real(self, text, ctx)
            if got:
                reported[name].add(current)
            return got
        return mock.patch.object(cls, "match", match)

    with ExitStack() as stack:
        for fmt in FORMATS:
            stack.enter_context(spy(type(fmt), fmt.name))
        for current, (arch, text) in fixture_logs().items():  # noqa: B007 (read by spy)
            decode_text(text, arch=arch)
    assert [name for name, files in reported.items() if not files] == []


@pytest.mark.parametrize("density", [0.02, 0.3, 1.0])
@pytest.mark.parametrize("backend", BACKENDS)
def test_generated_logs_decode_the_same_skimmed(tmp_path, density, backend):
    path = tmp_path / "g.log"
    bench_log.generate(str(path), 120_000, density, seed=3)
    text = path.read_text()
    with scanning_with(backend):
        ref, fast = both_ways(text, "x86_64")
        assert fast == ref
        assert {"dump_page", "e820", "fs_dax", "memory_failure"} <= {f.kind for f in ref}
        with open(path) as f:  # a file is read in blocks, not lines
            cal = calibrate(f)
            f.seek(0)
            assert list(decode_lines(f, calibration=cal)) == ref


@pytest.mark.parametrize("backend", BACKENDS)
def test_skimming_skips_most_of_an_ordinary_log(tmp_path, backend):
    """The point of it: on a log of chatter, most lines never reach the decoder."""
    path = tmp_path / "g.log"
    bench_log.generate(str(path), 200_000, 0.01, seed=5)
    text = path.read_text()
    every = sum(1 for _ in logical_lines(text.splitlines()))
    with scanning_with(backend):
        interest = make_interest(INTEREST_KEYS)
        assert isinstance(interest, MultiScan) == (backend == "hyperscan")
        read = sum(1 for _ in skim_lines(blocks_of_text(text), Anchors(INTEREST_KEYS), lambda: True))
    assert every > 0.95 * text.count("\n")
    assert read < every / 3, (read, every)


# --- hypothesis: logs made of the hard pieces ----------------------------------------------

PREFIXES = ["", "", "[  12.345678] ", "[    0.000000] ", "[ +0.001002] ", "<4>[ 3.5] ", "   ",
            "Jan  2 03:04:05 host kernel: ", "2024-01-02T03:04:05.123456+00:00 host kernel: ",
            "  kworker-12  [003] ....  326.960743: ", "> ", ">> [ 1.0] ", "[T123] ", "\t", "<6>"]
BODIES = [
    "page:ffffea0004018000 refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x100600",
    "page:ffffea0004018000 refcount:0 mapcount:0", "mapping:0000000000000000 index:0x0 pfn:0x100600",
    "BUG: Bad page state in process kworker/1:1  pfn:100600", "page dumped because: nonzero _refcount",
    "flags: 0x17ffffc0000000(node=0|zone=2|lastcpupid=0x1fffff)", "flags: 0x17ffffc0000000(",
    "raw: 0017ffffc0000000 dead000000000100", "dead000000000122 0000000000000000",
    "Memory failure: 0x100600: recovery action for dax page: Recovered", "Memory", "failure: 0x100601: Recovered",
    "BIOS-e820: [mem 0x0000000100000000-0x000000043fffffff] persistent (type 12)", "BIOS-e820: [mem",
    "0x0000000100000000-0x000000043fffffff] usable", "  Normal   [mem 0x0000000100000000-0x000000043fffffff]",
    "BUG: unable to handle page fault for address: ffff888100600000",
    "PGD 23801067 P4D 23801067 PUD 23802067 PMD 8000000100600e1 PTE 0",
    "dax_pmd_insert_mapping: dev 259:0 ino 0x1003 shared write address 0x10505000 length 0x200000 pfn",
    "0x100600 DEV|MAP radix_entry 0xc000e", "migrating pfn 1f46d", "pfn", "[mem", "ino",
    "call ffffffff81234567 ffff888100600040", "object at ffff888100600040", "access at ffff888100600080",
    "usb 1-1: new high-speed USB device number 2 using xhci_hcd", "systemd[1]: Started Journal Service.",
    "Call Trace:", " <TASK>", " dump_stack_lvl+0x44/0x5c", "...", "[...]", "", "Modules linked in: x",
    "pmem0: detected capacity change from 0 to 17179869184", "head: 0017ffffc0000000",
    # anchors cut where a mail client or a terminal wraps: gluing the halves makes them
    "BUG: Bad", "page state in process kworker/1:1  pfn:100600", "Bad", "page", "state in process x",
    "DMA      0x00000000", "-> 0x00001000", "page_", "owner tracks the page as allocated",
    "Freeing unused memory (", "order: 9, 2048 pages)", "unable to handle page fault for address",
    "ffff888100600000", "BUG: unable to handle page fault for", "address: ffff888100600000",
]
LINE = st.builds(lambda p, b, tail: p + b + tail, st.sampled_from(PREFIXES), st.sampled_from(BODIES),
                 st.sampled_from(["", "", "", " ", "  x", "\r", "\xa0", " µs", "\u3000"]))
LOG = st.lists(st.one_of(LINE, st.text(alphabet="[]<>:. 0123456789abcdefx-\tµ\xa0", max_size=20)),
               min_size=1, max_size=40)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LOG, st.sampled_from(ARCHES), st.integers(min_value=8, max_value=400))
def test_made_up_logs_decode_the_same_skimmed(backend, lines, arch, size):
    with scanning_with(backend):
        _same_skimmed_or_not(lines, arch, size)


def _same_skimmed_or_not(lines: list[str], arch: str, size: int) -> None:
    text = "\n".join(lines) + "\n"
    ref = decode_text(text, arch=arch, skim=False)
    assert decode_text(text, arch=arch) == ref
    cal = calibrate(lines, arch)
    assert calibrate_blocks(blocks_of_text(text, size=size), arch) == cal
    want = list(decode_lines(lines, arch=arch, calibration=cal, skim=False))
    assert list(decode_blocks(blocks_of_text(text, size=size), arch=arch, calibration=cal)) == want
    # no calibration: the decoder calibrates as it reads, and skims for any hex word
    online = list(decode_lines(lines, arch=arch, skim=False))
    assert list(decode_lines(lines, arch=arch)) == online
    assert list(decode_lines(io.StringIO(text), arch=arch)) == online


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=400, deadline=None)
@given(LOG, st.integers(min_value=8, max_value=400))
@example(["[ 1.0] BUG: Bad", "page state in process x", *["[ 1.0] usb 1-1"] * 3], 400)
@example(["[ 1.0] BUG: Bad", "page", "state in process x", *["[ 1.0] usb 1-1"] * 3], 400)
@example(["[ 1.0] x", "-> 0x00001000", *["[ 1.0] usb 1-1"] * 3], 400)
@example(["[ 1.0] Freeing unused memory (", "order: 9, 2048 pages)", *["[ 1.0] usb 1-1"] * 3], 400)
@example(["[ 1.0] page_", "owner tracks it", *["[ 1.0] usb 1-1"] * 3], 400)
@example(["[ 1.0] page_", "<6>owner tracks it", *["[ 1.0] usb 1-1"] * 3], 400)
@example(["[ 1.0] BUG: Bad ", "page state", *["[ 1.0] usb 1-1"] * 3], 400)
@example(["[ 1.0] BUG: Bad\xa0", "page state", *["[ 1.0] usb 1-1 at 5µs"] * 3], 400)
# cut at LIMIT_LINE right after "Bad": the line's end is not where the cut text ends
@example(["[ 1.0] " + "x" * (LIMIT_LINE - 11) + " Bad" + "zzzz", "page", *["[ 1.0] usb 1-1"] * 3], 1 << 18)
@example(["[ 1.0] " + "x" * 3000 + " Bad", "page state", *["[ 1.0] usb 1-1"] * 3], 1 << 18)
@example(["[ 1.0] BUG: Bad", "> page state", *["[ 1.0] usb 1-1"] * 3], 400)
def test_every_logical_line_holding_a_key_is_read_whole(backend, lines, size):
    """The skimming contract, line by line: whatever a skipped run holds, no logical line
    with a key in it is missed or read in part, however its physical lines were cut."""
    text = "\n".join(lines) + "\n"
    keys = INTEREST_KEYS + Calibrator("x86_64").keys()
    want = [(n, t) for n, t in logical_lines(text.splitlines()) if any(k in t for k in keys)]
    with scanning_with(backend):
        got = set(skim_lines(blocks_of_text(text, size=size), Anchors(keys), lambda: True))
    assert [w for w in want if w not in got] == []


@settings(max_examples=300, deadline=None)
@given(st.builds(lambda p, t: p + t, st.sampled_from(PREFIXES),
                 st.text(alphabet="[]<>:.+ 0123456789TCJan-kernelhost\t", max_size=30)))
def test_a_line_skimming_may_pass_over_is_marked_or_blank(line):
    """UNMARKED stops before every line that could join the one above it."""
    if UNMARKED.match("\n" + line + "\n") is None:
        cleaned = clean_line(line)
        assert cleaned.marked or cleaned.text == "", line


def test_lines_of_every_shape_become_blocks_that_break_the_same_way():
    ends = ["a\n", "b\n", "c"]
    assert list(blocks_of(ends)) == ["a\nb\nc\n"]
    assert list(blocks_of(["a", "b"])) == ["a\nb\n"]
    assert list(blocks_of(["a\nb", "c"])) == [["a\nb", "c"]]  # a newline inside stays one line
    assert "".join(blocks_of_text("a\r\nb\rc\x85d", size=2)) == "a\nb\nc\nd"
    got = list(blocks_of(io.StringIO("x\n" * 5 + "long line\nend"), size=3))
    assert "".join(got) == "x\n" * 5 + "long line\nend"
    assert all(b.endswith("\n") for b in got[:-1]) and len(got) > 3


# --- the keys and patterns are supersets ------------------------------------------------------

def test_every_literal_holds_an_interest_key():
    literals = [lit for fmt in FORMATS for lit in fmt.anchors]
    literals += list(RESOURCE_ANCHORS) + ["pfn"]
    for lit in literals:
        assert any(key in lit for key in INTEREST_KEYS), lit
    assert len(INTEREST_KEYS) < len(set(literals))


@pytest.mark.parametrize("arch", ["x86_64", "x86_64-5level", "ppc64", "riscv64"])
@settings(max_examples=60, deadline=None)
@given(where=st.floats(min_value=0, max_value=1, exclude_max=True), upper=st.booleans(),
       lead=st.sampled_from(["", "0x", "page:", "memcg:", " at "]))
def test_pointer_patterns_find_every_address_the_scanner_reports(arch, where, upper, lead):
    layout = make_layout(arch, None)
    sources = pointer_patterns(layout, True)
    pats = [re.compile(p) for p in sources]
    with scanning_with("hyperscan"):
        multi = make_interest((), sources)  # the same patterns, rewritten for Hyperscan
    for lo, span in ((layout.vmemmap_base, layout.vmemmap_span), (layout.page_offset, layout.direct_map_bytes)):
        value = min(lo + int(span * where), (1 << 64) - 1)
        word = f"{value:016X}" if upper else f"{value:016x}"
        line = f"x {lead}{word} y"
        assert any(p.search(line) for p in pats), (arch, line)
        if isinstance(multi, MultiScan):
            text = f"\n{line}\n"
            multi.start(text)
            assert multi.next(1) < len(text), (arch, line)


def test_kernel_text_addresses_are_not_pointers_worth_a_look():
    pats = [re.compile(p) for p in pointer_patterns(make_layout("x86_64", None), True)]
    trace = "RBX: ffffffffc03a2000 R10: ffffffff9a6bba48 ret_from_fork+0x1f/0x30 ffffffff81234567"
    assert not any(p.search(trace) for p in pats)
    assert any(p.search("RSP: 0018:ffff888100600040") for p in pats)
    assert pointer_patterns(make_layout("x86_64", None), False) == []


def test_an_open_record_is_not_skimmed_past():
    """Lines between a report and a late detail line count: the record closes after three."""
    noise = "[ 1.000000] usb 1-1: new high-speed USB device number 2 using xhci_hcd"
    for gap in range(6):
        lines = ["[ 1.000000] BUG: Bad page state in process kworker/1:1  pfn:100600",
                 *[noise] * gap,
                 "[ 1.000000] flags: 0x17ffffc0000000(node=0|zone=2|lastcpupid=0x1fffff)",
                 *[noise] * 8,
                 "[ 1.000000] BUG: unable to handle page fault for address: ffff888100600000",
                 *[noise] * gap,
                 "[ 1.000000] PGD 23801067 P4D 23801067 PUD 23802067 PMD 8000000100600e1 PTE 0"]
        text = "\n".join(lines * 3)
        with scanning_with(skim.backend()):
            ref, fast = both_ways(text, "x86_64")
        assert fast == ref, gap
        flags = [f for f in ref if f.kind == "page_flags" or "flags" in (f.type or "")]
        assert flags, [f.kind for f in ref]


def _all_lines(tmp_path) -> list[str]:
    """Logical lines to try formats on: the project's fixtures, the real samples when
    they are there (../shared is optional), hypothesis pieces and a generated log."""
    out = list(BODIES)
    for _, text in fixture_logs().values():
        out += [text for _, text in logical_lines(text.splitlines())]
    for p in sorted(SAMPLES.glob("*.txt")) if SAMPLES.is_dir() else []:
        out += [text for _, text in logical_lines(p.read_text(errors="replace").splitlines())]
    path = tmp_path / "g.log"
    bench_log.generate(str(path), 300_000, 1.0, seed=11)
    out += [text for _, text in logical_lines(path.read_text().splitlines())]
    return out


def test_a_format_reports_only_on_lines_holding_its_anchors(tmp_path):
    from pfnconsole.decode.base import Context
    with_skim = list(FORMATS)  # every format declares the anchors it is skimmed for
    assert with_skim
    lines = _all_lines(tmp_path) + [
        "  Device   empty", "DMA      0x00000000 -> 0x00001000", "Node 0: 0x0000000100000000",
        "Initmem setup node 0 [mem 0x0000000000001000-0x000000043fffffff]",
        "pmem1: detected capacity change from 0 to 1024", "dax0.0: detected capacity change from 0 to 2",
        "nd_pmem namespace0.0: unable to guarantee persistence of writes",
        "user: 0000000000000000 - 000000000009fc00 (usable)", "Xen: [mem 0x0000000000000000-0x000000000009ffff] usable",
        "Command line: BOOT_IMAGE=/vmlinuz mem=4G memmap=4G!12G quiet",
        "Kernel command line: memmap=0x10000000\\$0x20000000",
        "raw: 0017ffffc0000000 ffffea0004018001 dead000000000122 0000000000000000",
        "raw: 0000000000000000 ffffea0004018041 0000000000000000 00000001ffffffff",
        "head: 0017ffffc0000040 ffffea0004018081 ffffea0004018008 0000000000000000",
        "BUG: Bad page map in process b.out  pte:800000011a2b3067 pmd:1c0de067"]
    for fmt in with_skim:
        reported = 0
        for text in lines:
            ctx = Context(make_layout("x86_64", None))
            if fmt.match(text, ctx):
                reported += 1
                assert any(key in text for key in fmt.anchors), (fmt.name, text)
        assert reported >= 3, fmt.name


def test_a_pattern_hyperscan_cannot_take_leaves_the_search_to_re():
    from pfnconsole.decode.skim import hs_source
    assert hs_source("ab(?=c)") is None
    assert hs_source("ff(?<![0-9a-f]ff)ea") == "[^0-9a-f]ffea"
    with scanning_with("hyperscan"):
        assert not isinstance(make_interest(("pfn",), ["ab(?=c)"]), MultiScan)
    with scanning_with("re"):
        assert not isinstance(make_interest(("pfn",)), MultiScan)
