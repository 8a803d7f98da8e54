"""The page report (issue 17, point 1) and page->flags inside decode (point 2).

The example log is the project's own (tests/fixtures/decode/issue17_report.log, composed
from the kernel's format strings); the %pGp test reads the real samples when present.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from pfnconsole.cli import decode_log
from pfnconsole.decode.flags_reading import read_flags
from pfnconsole.decode.page_report import PageReport
from pfnconsole.decode.reading import LogReading
from pfnconsole.decode.reading import read_text as read_or_none

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "decode" / "issue17_report.log"
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "dmesg"


def example() -> str:
    return "".join(line for line in FIXTURE.read_text().splitlines(keepends=True) if not line.startswith("#"))


def read_text(text: str) -> LogReading:
    got = read_or_none(text)
    assert got is not None
    return got


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def page(reports: tuple[PageReport, ...], pfn: int) -> PageReport:
    return next(r for r in reports if r.pfn == pfn)


def test_bad_page_report_places_and_explains_the_page() -> None:
    text = example()
    got = read_text(text)
    rep = page(got.pages, 0x2A1B3C)
    assert rep.phys == 0x2A1B3C000
    assert rep.section == 0x2A1B3C000 >> 27  # x86_64 SECTION_SIZE_BITS 27
    assert (rep.zone, rep.node) == ("Normal", 1)
    assert rep.map_type == "RAM (e820 usable)"
    assert rep.title.startswith("Bad page state in process kworker/u16:3")
    first, last = line_of(text, "Bad page state"), line_of(text, "page dumped because")
    assert rep.lines[0] == first and rep.lines[-1] == last
    assert line_of(text, "memcg:") in rep.lines and line_of(text, "aops:") in rep.lines
    assert "ext4_da_aops" in rep.mapping and '"journal.log"' in rep.mapping and "inode 3c1a2" in rep.mapping
    assert rep.memcg == "ffff88810b7c4000"
    assert rep.flags is not None and rep.flags.names == ("referenced", "uptodate", "lru", "active", "private")
    assert not rep.flags.assumed_place and "reproduces" in rep.flags.how
    assert any("LRU list" in m for m in rep.meaning)
    assert "refcount 0" in rep.counts and "free" in rep.counts


def test_consecutive_pages_with_one_story_are_one_run() -> None:
    got = read_text(example())
    run = page(got.pages, 0x3F2E10)
    assert run.count == 4 and run.last_pfn == 0x3F2E13
    assert run.outcome == "dirty LRU page: Recovered"
    assert (run.zone, run.node) == ("Normal", 1)  # from Zone ranges and node ranges: no flags here
    other = page(got.pages, 0x3F2E14)
    assert other.count == 1 and other.outcome == "reserved kernel page: Ignored"
    assert any("did not act" in m for m in other.meaning)


def test_reports_follow_the_log_and_name_every_page_once() -> None:
    got = read_text(example())
    pfns = [r.pfn for r in got.pages]
    assert pfns == [0x2A1B3C, 0x3F2E10, 0x3F2E14]
    assert got.kver == (6, 8)


def test_json_has_findings_page_reports_and_the_log() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert decode_log(str(FIXTURE), as_json=True, arch=None, out=out, err=err) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    reports = [r for r in rows if r.get("kind") == "page_report"]
    assert {r["pfn"] for r in reports} == {0x2A1B3C, 0x3F2E10, 0x3F2E14}
    for r in reports:
        for key in ("pfn", "phys", "section", "zone", "node", "map_type", "meaning", "lines"):
            assert key in r
    findings = [r for r in rows if r.get("kind") not in ("page_report", "log")]
    assert any(f.get("kind") == "bad_page" and f.get("pfn") == 0x2A1B3C for f in findings)
    assert any(f.get("kind") == "e820" and "start" in f and "end" in f for f in findings)
    assert rows[-1]["kind"] == "log" and rows[-1]["kver"] == "6.8"


def test_text_report_then_findings_on_demand() -> None:
    out = io.StringIO()
    assert decode_log(str(FIXTURE), as_json=False, arch=None, out=out, err=io.StringIO()) == 0
    text = out.getvalue()
    assert re.search(r"^page 0x2a1b3c  phys 0x2a1b3c000  — Bad page state", text, re.M)
    assert "pages 0x3f2e10-0x3f2e13 (4 pages)" in text
    assert "3 report(s) on 6 page(s)" in text
    listed = io.StringIO()
    assert decode_log(str(FIXTURE), as_json=False, arch=None, out=listed, err=io.StringIO(), findings=True) == 0
    assert "report(s)" not in listed.getvalue()
    assert re.search(r"^\s+\d+  memory_failure\s+pfn 0x3f2e12", listed.getvalue(), re.M)


def test_flags_without_printed_fields_are_labelled_assumed() -> None:
    # v5.10 %pGp printed names only: node and zone rest on an assumed configuration
    got = read_flags(0x17FFFFC0010000, ("head",), "", "x86_64", (5, 10))
    assert got.assumed_place and any(a.startswith("nodes_shift=") for a in got.assumed)
    # a kernel older than the tables is not split at all
    old = read_flags(0x2FFFFF00008000, ("tail",), "", "x86_64", (3, 10))
    assert old.zone is None and old.node is None and "v4.14 and later" in old.how
    # the arch without a modelled layout keeps what was printed
    ppc = read_flags(0x3FFFC000000000, (), "node=1 zone=0", "ppc64", (5, 4))
    assert (ppc.node, ppc.zone_nr, ppc.zone) == (1, 0, None)


def test_printed_fields_that_no_configuration_fits_are_said_so() -> None:
    # zone=7 cannot be: at most five zones
    got = read_flags(0x57FFFFC000812C, ("lru",), "node=1 zone=7", "x86_64", (6, 8))
    assert "no modelled" in got.how and got.zone_nr == 7 and got.zone is None


_PGP = re.compile(r"flags: (?P<word>0x[0-9a-f]{1,16}\((?P<names>[^)]{0,400})\))")
_KVER = re.compile(r"^# kernel: (?P<x>\d+)\.(?P<y>\d+)")
_ARCH = {"arm64": "arm64", "x86_64": "x86_64"}


def sample_pgp_lines() -> list[tuple[str, str, tuple[int, int], str]]:
    """(file, arch, kver, printed word) for every %pGp with node= or zone= in the samples."""
    if not SAMPLES.is_dir():
        return []
    out = []
    for path in sorted(SAMPLES.glob("*.txt")):
        text = path.read_text(errors="replace")
        head = text.split("\n", 3)
        kv = _KVER.match(head[1]) if len(head) > 1 else None
        arch = next((a for a in _ARCH if a in head[1]), None) if len(head) > 1 else None
        if kv is None or arch is None:
            continue
        for m in _PGP.finditer(text):
            if "zone=" in m["names"]:
                out.append((path.name, arch, (int(kv["x"]), int(kv["y"])), m["word"]))
    return out


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="the real samples are not beside the project")
def test_every_sample_pgp_line_is_reproduced_exactly() -> None:
    lines = sample_pgp_lines()
    assert len(lines) >= 4 and {a for _, a, _, _ in lines} == {"arm64", "x86_64"}
    for name, arch, kver, word in lines:
        value, _, names = word.partition("(")
        plain, fields = [], []
        for item in names.rstrip(")").split("|"):
            (fields if "=" in item else plain).append(item)
        got = read_flags(int(value, 16), tuple(p for p in plain if p), " ".join(fields), arch, kver)
        assert not got.assumed_place, name
        assert got.pgp == word, (name, got.how)


# machine from-log: arch/x86/mm/fault.c "BUG: unable to handle page fault for address: %px"
# and dump_pagetable() "PGD %lx P4D %lx PUD %lx PMD %lx PTE %lx"; init/version.c banner;
# e820__print_table() lines.  The PTE is an L1TF-inverted non-present entry naming pfn
# 0x1290ab: the fault address pins page_offset_base = 0xffff8a0780000000 (1 GiB aligned).
KASLR_LOG = """\
[    0.000000] Linux version 6.1.0-example (b@h) (gcc 12) #1 SMP x86_64
[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable
[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x00000000bffdffff] usable
[    0.000000] BIOS-e820: [mem 0x0000000100000000-0x000000047fffffff] usable
[   12.000001] BUG: unable to handle page fault for address: ffff8a08a90ab128
[   12.000002] #PF: supervisor read access in kernel mode
[   12.000003] PGD 290e01067 P4D 290e01067 PUD 46da41067 PMD 46d8f8067 PTE 800ffffed6f54060
"""


def test_machine_from_log_carries_version_and_kaslr_base(tmp_path: Path) -> None:
    from pfnconsole.commands import Session

    log = tmp_path / "kaslr.log"
    log.write_text(KASLR_LOG)
    s = Session()
    r = s.execute(f"machine from-log {log}")
    assert r.ok, r.error
    assert r.data["kver"] == "6.1" and r.data["page_offset"] == 0xFFFF8A0780000000
    who = s.execute("identify 0xffff8a08a90ab128")
    assert who.ok and who.data["pfn"] == 0x1290AB, who.lines
    # the decoder reads the same address the same way
    got = read_text(KASLR_LOG)
    assert any(f.pfn == 0x1290AB and f.virt == 0xFFFF8A08A90AB128 for f in got.findings)
    assert s.execute("undo").ok and s.machine.state.spec.page_offset_base is None


# What INDEX.md of the real samples says each one is about, as page reports:
# sample -> (pfn of each report in order, a check on the first report)
SAMPLE_REPORTS: dict[str, tuple[tuple[int, ...], object]] = {
    "bad_page-01.txt": ((0x2E44,), lambda r: any("overwritten" in m for m in r.meaning)),
    "bad_page-03.txt": ((0x11BF4C,), lambda r: (r.zone, r.node) == ("Normal", 0) and "hashed" in r.struct_page),
    "bad_page-05.txt": ((0x135DDD,), lambda r: "56-byte" in r.struct_page and "anon" in r.mapping),
    "bad_page-06.txt": ((0x14256,), lambda r: r.title.startswith("Bad page state")),
    "bad_page-07.txt": ((0x309D22,), lambda r: r.struct_page.startswith("ffffea000c274880")),
    "bad_page-09.txt": ((0x2D3C14,), lambda r: any("mapped" in m for m in r.meaning)),
    "bad_page_map-02.txt": ((0x4A44E,), lambda r: r.title.startswith("Bad page map")),
    "dump_page-01.txt": ((0x100200,), lambda r: "order 9" in r.compound),
    "dump_page-03.txt": ((0x106224,), lambda r: "order 1" in r.compound and r.zone == "Normal"),
    "dump_page-04.txt": ((0x8B308B,), lambda r: r.zone == "DMA32"),
    "dump_page-05.txt": ((0x27C5F,), lambda r: (r.zone, r.node) == ("DMA32", 0)),
    "dump_page-08.txt": ((0x22F74,), lambda r: r.struct_page.startswith("ffffea00008bdd00")),
    "dump_page-09.txt": ((0x107,), lambda r: r.struct_page.startswith("ffffea00000041c0")),
    "dump_page-12.txt": ((0x77501,), lambda r: r.struct_page.startswith("c00c000001dd4040")),
    "fs_dax_trace-01.txt": ((0x100600,), lambda r: r.phys == 0x100600000),
    "ftrace_pfn-03.txt": ((0x1D1AC1, 0x122233), lambda r: r.count == 1),
    "mce-01.txt": ((0xEE30A0,), lambda r: r.count == 1),
    "mce-02.txt": ((0xFEF4C,), lambda r: r.count == 1),
    "memory_failure-01.txt": ((0x30A6A8F, 0x30A6A98), lambda r: r.count == 9 and "Ignored" in r.outcome),
    "memory_failure-04.txt": ((0x19D0,), lambda r: "Bad page state" in r.title),
    "memory_failure-06.txt": ((0xAF34214, 0x20CB00), lambda r: "Failed" in r.outcome),
    "page_fault-01.txt": ((0x1290AB,), lambda r: r.title == "page fault"),
}
NO_PAGES = ("boot_mmu-01.txt", "dax-01.txt", "e820-01.txt", "e820-02.txt", "e820_pmem-02.txt",
            "e820_pmem-03.txt", "memory_info-02.txt", "page_fault-03.txt", "pmem-01.txt", "pmem-02.txt",
            "pmem-03.txt", "zones-01.txt", "zones-03.txt", "zones-05.txt")


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="the real samples are not beside the project")
@pytest.mark.parametrize("name", sorted(SAMPLE_REPORTS) + list(NO_PAGES))
def test_each_sample_reports_the_pages_its_index_names(name: str) -> None:
    got = read_text((SAMPLES / name).read_text(errors="replace"))
    if name in NO_PAGES:
        assert got.pages == (), [r.text() for r in got.pages]
        return
    pfns, check = SAMPLE_REPORTS[name]
    assert tuple(r.pfn for r in got.pages) == pfns, [r.text() for r in got.pages]
    assert check(got.pages[0]), got.pages[0].text()  # type: ignore[operator]


def test_machine_from_log_carries_node_ids(tmp_path: Path) -> None:
    from pfnconsole.commands import Session

    log = tmp_path / "boot.log"
    log.write_text(FIXTURE.read_text())
    s = Session()
    r = s.execute(f"machine from-log {log}")
    assert r.ok, r.error
    assert r.data["kver"] == "6.8"
    assert s.execute("page 0x2a1b3c").data["node"] == 1  # the decoder's report says node 1 too
    assert s.execute("page 0x100").data["node"] == 0
    assert s.execute("page 0x440000").data["node"] is None  # pmem: in no node's range
    got = read_text(example())
    assert page(got.pages, 0x2A1B3C).node == 1


def test_a_walk_split_one_level_per_line_calibrates_the_kaslr_base() -> None:
    """syslog splits dump_pagetable()'s pr_cont pieces: the leaf, lines later, still pins the
    direct map, and the fault address gets the walk's pfn, not the default base's."""
    prefix = "Jan  2 10:00:01 host kernel: "
    lines = KASLR_LOG.splitlines()[4:6] + [
        "[   12.000003] " + piece for piece in ("PGD 290e01067 ", "P4D 290e01067 ", "PUD 46da41067 ",
                                               "PMD 46d8f8067 ", "PTE 800ffffed6f54060")]
    got = read_text("".join(prefix + line + "\n" for line in lines))
    assert got.calibration.page_offset == 0xFFFF8A0780000000
    assert [r.pfn for r in got.pages] == [0x1290AB]
    assert not any(f.pfn == 0x188A90AB for f in got.findings)  # the default base's answer
