"""The decoder's shape: one arch table, kinds as an enum, the search chosen by input size,
calibration read through the formats."""

from __future__ import annotations

import json
from unittest import mock

import pytest

from bench import logs as bench_log
from pfnconsole.core.arch import (
    ARCH_ALIASES,
    ARCH_NAMES,
    LOG_ARCH_NAMES,
    arch_layout,
    arch_profile,
    canonical_arch,
)
from pfnconsole.core.errors import EngineError
from pfnconsole.decode import Finding, Kind, calibrate, decode_text, skim
from pfnconsole.decode.calibrate import CALIBRATION_FORMATS, Calibrator
from pfnconsole.decode.formats import FORMATS
from pfnconsole.decode.layout import make_layout


@pytest.mark.parametrize("arch", LOG_ARCH_NAMES)
def test_every_log_arch_has_one_row_and_the_decoder_reads_it(arch):
    row = arch_layout(arch)
    layout = make_layout(arch, None)
    assert (layout.bits, layout.page_shift, layout.page_offset, layout.vmemmap_base) == (
        row.bits, row.page_shift, row.page_offset, row.vmemmap_base)
    assert layout.is_x86 == arch.startswith(("x86", "i386"))
    if arch in ARCH_NAMES:  # the 64-bit rows are the simulator's profiles
        prof = arch_profile(arch)
        assert (row.page_offset, row.vmemmap_base, row.max_physmem_bits) == (
            prof.page_offset, prof.vmemmap_base, prof.max_physmem_bits)
    else:
        assert row.bits == 32 and row.vmemmap_base is None


def test_aliases_name_known_arches_and_unknown_ones_are_refused():
    assert set(ARCH_ALIASES.values()) <= set(LOG_ARCH_NAMES)
    assert canonical_arch(" AArch64 ") == "arm64" and arch_layout("amd64").name == "x86_64"
    with pytest.raises(EngineError, match="unknown arch 'vax'"):
        arch_layout("vax")


def test_arm64_vmemmap_history_is_the_profile_of_each_release():
    regions = arch_layout("arm64").vmemmap_regions
    for (start, _), kver in zip(regions, ("4.6", "5.4", "5.11", "6.9"), strict=True):
        assert start == arch_profile("arm64", kver=kver).vmemmap_base
    assert arch_layout("x86_64").kaslr_window == (0xFFFF880000000000, 0xFFFFFE0000000000)


def test_finding_kinds_are_an_enum_that_reads_as_its_string():
    f = Finding(1, Kind.E820, start=0, end=1)
    assert f.kind == "e820" and f"{f.kind}" == "e820" and Finding(1, "e820", start=0, end=1) == f
    assert json.dumps(f.to_json()) == '{"line": 1, "kind": "e820", "start": 0, "end": 1}'
    out = decode_text("BUG: Bad page state in process a.out  pfn:7fe84\nBIOS-e820: [mem 0x0-0xfff] usable")
    assert [type(f.kind) for f in out] == [Kind, Kind]


def test_a_paste_is_read_line_by_line_and_a_big_log_skimmed(tmp_path):
    """The search is set up (Hyperscan compiles) only for a log of `SKIM_FROM` characters."""
    path = tmp_path / "g.log"
    bench_log.generate(str(path), 3 * skim.SKIM_FROM, 0.01, seed=4)
    big = path.read_text()
    paste = big[:skim.SKIM_FROM // 2]
    paste = paste[:paste.rfind("\n") + 1]
    with mock.patch.object(skim, "make_interest", wraps=skim.make_interest) as made:
        decode_text(paste)
        assert made.call_count == 0
        assert decode_text(big) == decode_text(big, skim=False)
        assert made.call_count == 2  # the calibration pass and the decoding pass


def test_calibration_reads_the_formats_findings_not_their_regexes():
    """Every calibration format is one the decoder runs; the calibrator's keys are their
    anchors plus what it parses itself."""
    assert {type(f) for f in CALIBRATION_FORMATS} <= {type(f) for f in FORMATS}
    keys = Calibrator().keys()
    assert all(a in keys for fmt in CALIBRATION_FORMATS for a in fmt.anchors)
    # a pointer the formats saw, paired with the pfn of the report: the pair calibrates
    base = 0xFFFFD4A1C0000000
    text = ("BUG: Bad page state in process a.out  pfn:1234\n"
            f"page:{base + 0x1234 * 64:016x} count:0 mapcount:0 mapping:0000000000000000 index:0x0\n")
    cal = calibrate(text.splitlines())
    assert cal.vmemmap_base == base and "lines 1-2" in cal.sources[0]
