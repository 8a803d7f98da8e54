"""Tests for pfnconsole.decode on synthesised log text.

Every fixture here is written for this project from the kernel's format strings (see
../shared/reference/kernel-facts.md §2, §3, §5, §7) with numbers of our own choosing;
none is copied from a real log.  The real-log corpus is exercised by
test_decode_samples.py.
"""

from __future__ import annotations

import inspect
import itertools
import subprocess
import sys
import time
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pfnconsole.decode import (
    LIMIT_LINE,
    Calibration,
    Finding,
    calibrate,
    decode_lines,
    decode_text,
)
from pfnconsole.decode.clean import clean_line, logical_lines

VMEMMAP = 0xFFFFEA0000000000
DIRECT = 0xFFFF888000000000
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def one(findings: list[Finding], kind: str, **fields) -> Finding:
    """The single finding of ``kind`` whose fields match (note_has: substring of note)."""
    hits = [f for f in findings if f.kind == kind and all(
        (want in f.note) if key == "note_has" else getattr(f, key) == want for key, want in fields.items())]
    assert len(hits) == 1, f"{kind} {fields}: {len(hits)} hits in\n" + "\n".join(str(f) for f in findings)
    return hits[0]


def kinds(findings: list[Finding]) -> list[str]:
    return [f.kind for f in findings]


# ======================================================================================
# The value types
# ======================================================================================


def test_finding_to_json_keeps_ints_and_drops_unset_fields():
    f = Finding(3, "fs_dax", pfn=0x2C0200, phys=0x2C0200000, flags=("DEV", "MAP"), note="n")
    assert f.to_json() == {"line": 3, "kind": "fs_dax", "pfn": 0x2C0200, "phys": 0x2C0200000,
                           "flags": ["DEV", "MAP"], "note": "n"}
    assert Finding(1, "zone", type="Device").to_json() == {"line": 1, "kind": "zone", "type": "Device"}
    assert Finding(2, "memory_failure", pfn=0).to_json()["pfn"] == 0


def test_findings_and_calibrations_are_frozen():
    f = Finding(1, "pfn", pfn=1)
    with pytest.raises(AttributeError):
        f.pfn = 2  # type: ignore[misc]
    cal = calibrate([])
    assert isinstance(cal, Calibration)
    assert (cal.vmemmap_base, cal.struct_page_size, cal.page_offset, cal.page_shift) == (VMEMMAP, 64, DIRECT, 12)
    assert cal.sources == ()


# ======================================================================================
# Damage: prefixes, quotes, wrapping
# ======================================================================================

MESSAGE = "Memory failure: 0x4c1d2: recovery action for free buddy page: Recovered"


@pytest.mark.parametrize("prefix", [
    pytest.param("[  742.118204] ", id="timestamp"),
    pytest.param("[  +0.000517] ", id="relative"),
    pytest.param("[  742.118204][ T4711] ", id="caller-thread"),
    pytest.param("[  742.118204][    C2] ", id="caller-cpu"),
    pytest.param("Mar  7 21:14:09 buildhost kernel: ", id="syslog"),
    pytest.param("Mar  7 21:14:09 kernel: ", id="syslog-no-host"),
    pytest.param("Oct 30 08:00:01 lab-07 kernel: [  742.118204] ", id="journal+timestamp"),
    pytest.param("2024-03-07T21:14:09.123456+00:00 buildhost kernel: [  742.118204] ", id="iso-syslog"),
    pytest.param("2024-03-07T21:14:09.123456-05:00   [  742.118204] ", id="iso-bare"),
    pytest.param("[  742.118204] [2:   kworker/2:1H:  311] ", id="android"),
    pytest.param("> ", id="quote"),
    pytest.param("> > ", id="quote2"),
    pytest.param(">>> ", id="quote3-tight"),
    pytest.param(" >  > [  742.118204] ", id="quote-spaced+ts"),
    pytest.param("<3>[  742.118204] ", id="loglevel"),
    pytest.param("[Thu Mar  7 21:14:09 2024] ", id="dmesg-T"),
])
def test_prefixes_are_stripped(prefix):
    cleaned = clean_line(prefix + MESSAGE + "   \r\n")
    assert cleaned.text == MESSAGE
    (f,) = decode_text(prefix + MESSAGE)
    assert (f.kind, f.pfn, f.type) == ("memory_failure", 0x4C1D2, "Recovered")


def test_markers_and_indentation():
    assert clean_line("[    5.000001] x").marked
    assert not clean_line("x").marked
    assert clean_line("[    5.000001]  ffff888100200000 0000000000000000").indented
    assert not clean_line("[    5.000001] page:ffffea0000000040 refcount:1").indented
    assert clean_line("    ...").elision and clean_line("[..]").elision and clean_line("<snip>").elision


def test_wrapped_dump_page_line_is_joined_under_the_first_line_number():
    text = ("[   88.100001][ T2121] page:ffffea0000a1b280 refcount:0 mapcount:0\n"
            "mapping:0000000000000000 index:0x7 pfn:0x286ca\n"
            "[   88.100002][ T2121] flags: 0x200000000000000()\n")
    assert list(logical_lines(text.splitlines())) == [
        (1, "page:ffffea0000a1b280 refcount:0 mapcount:0 mapping:0000000000000000 index:0x7 pfn:0x286ca"),
        (3, "flags: 0x200000000000000()"),
    ]
    f = one(decode_text(text), "dump_page", line=1)
    assert (f.pfn, f.page) == (0x286CA, 0xFFFFEA0000A1B280)


def test_identifier_split_mid_token_is_glued_without_a_blank():
    text = ("[   88.1] page last allocated via order 2, migratetype Unmovable, gfp_mask\n"
            "0x52cc0(GFP_KERNEL|__GFP_NOWARN|__GFP_\n"
            "NORETRY|__GFP_COMP)\n")
    ((n, joined),) = list(logical_lines(text.splitlines()))
    assert n == 1 and joined.endswith("gfp_mask 0x52cc0(GFP_KERNEL|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP)")


def test_wrapped_trace_line_is_joined_and_blank_lines_separate_records():
    text = ("cp-3301  [005] ....  1201.500100: dax_pmd_insert_mapping: dev 8:16 ino\n"
            "0x2a shared write address 0x7f5a00200000 length 0x200000 pfn 0x2c0200 DEV|MAP\n"
            "radix_entry 0x580400e\n"
            "\n"
            "cp-3301  [005] ....  1201.500107: dax_pmd_fault_done: dev 8:16 ino 0x2a\n")
    out = decode_text(text)
    f = one(out, "fs_dax", type="dax_pmd_insert_mapping")
    assert (f.line, f.pfn, f.flags, f.virt) == (1, 0x2C0200, ("DEV", "MAP"), 0x7F5A00200000)
    assert one(out, "fs_dax", type="dax_pmd_fault_done").line == 5


def test_unmarked_wrap_is_joined_only_when_the_first_half_is_open():
    # No timestamps at all: "[mem" left open is a sure sign of a cut.
    text = "claimed region [mem\n0x0000000840000000-0x000000087fffffff flags 0x200]\nnext line\n"
    assert [n for n, _ in logical_lines(text.splitlines())] == [1, 3]
    f = one(decode_text(text), "resource")
    assert (f.line, f.start, f.end, f.flags) == (1, 0x840000000, 0x87FFFFFFF, ("MEM",))
    # A complete line followed by an unrelated one is left alone.
    plain = "usb 2-1: new device\nlp0: using parport0\n"
    assert [n for n, _ in logical_lines(plain.splitlines())] == [1, 2]


@pytest.mark.parametrize("second", [
    pytest.param("", id="blank"),
    pytest.param("...", id="elision"),
    pytest.param("  indented continuation", id="indented"),
    pytest.param("BUG: Bad page state in process a  pfn:00001", id="opener"),
    pytest.param("[   88.2] another record", id="marked"),
])
def test_no_join(second):
    lines = ["[   88.1] page:ffffea0000000040 refcount:1 mapcount:0", second]
    got = list(logical_lines(lines))
    assert got[0] == (1, "page:ffffea0000000040 refcount:1 mapcount:0")


def test_elisions_are_ignored():
    text = "[   1.0] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n[..]\n    ....\n"
    assert kinds(decode_text(text)) == ["e820"]


def test_long_lines_are_cut_at_limit():
    line = "Memory failure: 0x77: unhandlable page." + " " * (LIMIT_LINE * 3) + "pfn:0x123"
    assert len(clean_line(line).text) <= LIMIT_LINE
    assert [f.pfn for f in decode_text(line)] == [0x77]


# ======================================================================================
# bad_page() and dump_page(), every era
# ======================================================================================


def test_bad_page_then_old_dump_page_pairs_pfn_and_pointer():
    text = ("BUG: Bad page state in process kswapd0  pfn:0a1b2\n"
            "page:ffffea0000286c80 count:0 mapcount:0 mapping:          (null) index:0x0\n"
            "page flags: 0x100000000000400(reserved)\n"
            "page dumped because: PAGE_FLAGS_CHECK_AT_FREE flag(s) set\n"
            "bad because of flags: 0x400(reserved)\n"
            "Modules linked in: loop\n"
            "flags: 0x0()\n")
    out = decode_text(text)
    assert one(out, "bad_page", line=1).pfn == 0xA1B2
    dp = one(out, "dump_page", line=2)
    assert (dp.pfn, dp.page, dp.phys) == (0xA1B2, 0xFFFFEA0000286C80, 0xA1B2000)
    assert "Bad page state line 1" in dp.note and "would give" not in dp.note
    assert one(out, "dump_page", type="flags", line=3).flags == ("reserved",)
    assert one(out, "dump_page", line=4).type == "PAGE_FLAGS_CHECK_AT_FREE flag(s) set"
    assert one(out, "bad_page", type="bad flags").flags == ("reserved",)
    # The record ended with "Modules linked in": a later stray flags line has no pfn.
    assert one(out, "dump_page", line=7).pfn is None
    assert one(out, "calibration").note.startswith("vmemmap: struct page is 64 bytes")


@pytest.mark.parametrize("line, pfn, page, note", [
    pytest.param("page:ffffea0000ec0040 refcount:2 mapcount:1 mapping:ffff888104e6c001 index:0x7f3c1",
                 0x3B001, 0xFFFFEA0000EC0040, "struct page pointer", id="v5.2-px"),
    pytest.param("page:00000000c0ffee11 refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x3b002",
                 0x3B002, None, "hashed", id="v5.9-hashed"),
    pytest.param("page:(____ptrval____) refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x3b003",
                 0x3B003, None, "hidden", id="ptrval"),
    pytest.param("page:(ptrval) refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x3b004",
                 0x3B004, None, "hidden", id="ptrval-short"),
    pytest.param("page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x3b005",
                 0x3B005, None, "", id="v6.9-no-pointer"),
    pytest.param("page:ffffea0000ec0180 flags:0x0000000000000400 count:0 mapcount:0 mapping:(null) index:0",
                 0x3B006, 0xFFFFEA0000EC0180, "struct page pointer", id="2009-flags-first"),
    pytest.param("page:ffffea0000ec01c0 is uninitialized and poisoned",
                 0x3B007, 0xFFFFEA0000EC01C0, "poisoned", id="poisoned"),
    pytest.param("page:ffffea0000ec0200 refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x3b008",
                 0x3B008, 0xFFFFEA0000EC0200, "", id="px-and-pfn"),
])
def test_dump_page_first_line(line, pfn, page, note):
    (f,) = [f for f in decode_text(line) if f.kind == "dump_page"]
    assert (f.pfn, f.page, f.phys) == (pfn, page, pfn << 12)
    assert note in f.note


def test_dump_page_counters_and_mapping_bits():
    out = decode_text("page:ffffea0000ec0040 count:-9 mapcount:-1 mapping:ffff888104e6c003 index:0x2\n"
                      "page:ffffea0000ec0080 refcount:2 mapcount:-1 mapping:ffff888104e6c000 index:0x2\n")
    bad = one(out, "dump_page", line=1).note
    assert "count:-9 is implausible" in bad and "PAGE_MAPPING_KSM" in bad and "ffff888104e6c000" in bad
    # mapcount: prints _mapcount + 1, so -1 is an underflow (a 2015 "nonzero mapcount" report), not "unmapped"
    assert one(out, "dump_page", line=2).note == ("pfn from the struct page pointer: vmemmap 0xffffea0000000000, "
                                                  "64-byte struct page; mapcount:-1 is no map count and no page "
                                                  "type: _mapcount -2 has underflowed; the struct page looks corrupted")


def test_dump_page_pointer_that_disagrees_with_pfn_is_flagged():
    line = "page:ffffea0000ec0040 refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x3b100"
    # One self-contradicting pair cannot calibrate anything, and the note says so.
    f = one(decode_text(line), "dump_page")
    assert f.pfn == 0x3B100 and "would give pfn 0x3b001" in f.note


def test_inline_head_of_v5_7_and_head_line_of_v5_9():
    text = ("page:ffffea0000ec0040 refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 "
            "head:ffffea0000ec0000 order:2 compound_mapcount:0\n"
            "page:00000000aa55aa55 refcount:3 mapcount:0 mapping:0000000000000000 index:0x1 pfn:0x51201\n"
            "head:00000000bb66bb66 order:9 compound_mapcount:0 compound_pincount:0\n"
            "page: refcount:512 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x51400\n"
            "head: order:9 mapcount:0 entire_mapcount:0 nr_pages_mapped:0 pincount:0\n")
    out = decode_text(text)
    h = one(out, "dump_page", type="head", line=1)
    assert (h.pfn, h.page, h.start, h.end) == (0x3B000, 0xFFFFEA0000EC0000, 0x3B000000, 0x3B003FFF)
    assert one(out, "dump_page", type="head", line=3).pfn is None
    assert "2 MiB" in one(out, "dump_page", type="head", line=5).note


def test_flags_page_type_and_memcg_lines_inherit_the_record_pfn():
    text = ("page:0000000012345678 refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x8a0c3\n"
            "memcg:ffff888104a2c000\n"
            "anon flags: 0x17ffffc0080068(uptodate|lru|active|swapbacked|node=0|zone=2|lastcpupid=0x1fffff) CMA\n"
            "page_type: f5(slab)\n"
            "page dumped because: kasan: bad access detected\n")
    out = decode_text(text)
    fl = one(out, "dump_page", type="flags")
    assert fl.flags == ("uptodate", "lru", "active", "swapbacked") and fl.pfn == 0x8A0C3
    assert "anon flags 0x17ffffc0080068" in fl.note and "zone=2" in fl.note and "CMA" in fl.note
    pt = one(out, "dump_page", type="page_type")
    assert pt.flags == ("slab",) and pt.pfn == 0x8A0C3
    assert one(out, "dump_page", type="kasan: bad access detected").pfn == 0x8A0C3
    assert one(out, "direct_map", line=2).pfn == 0x104A2C


def test_raw_and_head_words_compound_head_decodes_to_the_head_pfn():
    head_ptr = VMEMMAP + 0x2468A0 * 64
    text = ("page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x1 pfn:0x2468a1\n"
            f"raw: 0200000000000000 {head_ptr + 1:016x} dead000000000122 0000000000000000\n"
            f"head: 0200000000000040 ffff888100042400 {head_ptr + 0x50:016x} 0000000000000000\n")
    out = decode_text(text)
    ch = one(out, "dump_page", type="compound_head")
    assert (ch.pfn, ch.page, ch.line) == (0x2468A0, head_ptr, 2)
    # The odd word itself is not reported a second time as a pointer into a struct page.
    assert not [f for f in out if f.kind == "struct_page" and f.line == 2]
    inner = one(out, "struct_page", line=3)
    assert inner.pfn == 0x2468A1 and "16 bytes into" in inner.note


# ======================================================================================
# Memory failure, hwpoison, machine checks, APEI
# ======================================================================================


@pytest.mark.parametrize("line, pfn, typ, note", [
    ("Memory failure: 0x4c1d2: recovery action for dirty LRU page: Delayed", 0x4C1D2, "Delayed", "dirty LRU page"),
    ("Memory failure: 0x4c1d3: Sending SIGBUS to stress:4242 due to hardware memory corruption", 0x4C1D3,
     "Sending SIGBUS to stress:4242 due to hardware memory corruption", ""),
    ("Memory failure: 0x4c1d4: already hardware poisoned", 0x4C1D4, "already hardware poisoned", ""),
    ("MCE 0x4c1d5: clean LRU page recovery: Recovered", 0x4C1D5, "Recovered", "clean LRU page"),
    ("memory_failure_event: pfn 0x4c1d6: recovery action for huge page: Failed", 0x4C1D6, "Failed", "huge page"),
    ("soft offline: 0x4c1d7: migration failed 1, type 0x2fffff00020018", 0x4C1D7,
     "migration failed 1, type 0x2fffff00020018", "soft offline"),
])
def test_memory_failure(line, pfn, typ, note):
    f = one(decode_text(line), "memory_failure")
    assert (f.pfn, f.phys, f.type) == (pfn, pfn << 12, typ)
    assert note in f.note


@pytest.mark.parametrize("line, pfn, virt, typ", [
    ("Injecting memory failure for pfn 0x5e000 at process virtual address 0x7f0000201000", 0x5E000, 0x7F0000201000, "inject"),
    ("Injecting memory failure at pfn 0x5e001", 0x5E001, None, "inject"),
    ("Injecting memory failure for page 0x5e002 at 0xb7701000", 0x5E002, 0xB7701000, "inject"),
    ("Soft offlining pfn 0x5e003 at process virtual address 0x7f0000203000", 0x5E003, 0x7F0000203000, "soft_offline"),
    ("Unpoison: Software-unpoisoned page 0x5e004", 0x5E004, None, "unpoison"),
])
def test_hwpoison_injection(line, pfn, virt, typ):
    f = one(decode_text(line), "hwpoison_inject")
    assert (f.pfn, f.virt, f.type) == (pfn, virt, typ)


def test_machine_checks_and_apei():
    text = ("mce: [Hardware Error]: TSC 0 ADDR 7a1b2c3d4 MISC 8c\n"
            "EDAC MC0: 1 UE memory read error on CPU_SrcID#0_Ha#0_Chan#1_DIMM#0 "
            "(channel:1 slot:0 page:0x7a1b2c offset:0x3d4 grain:32 syndrome:0x0)\n"
            "mce: Uncorrected hardware memory error in user-access at 7a1b2c3d4\n"
            "{3}[Hardware Error]:   physical_address: 0x00000007a1b2c3c0\n"
            "{3}[Hardware Error]:   physical_address_mask: 0xffffffffffffffc0\n"
            "HANDLING MCE MEMORY ERROR\n")
    out = decode_text(text)
    assert one(out, "mce", type="ADDR").phys == 0x7A1B2C3D4
    e = one(out, "mce", type="EDAC UE")
    assert (e.pfn, e.phys) == (0x7A1B2C, 0x7A1B2C3D4)
    assert one(out, "mce", type="user-access").pfn == 0x7A1B2C
    a = one(out, "apei")
    assert (a.line, a.phys, a.pfn, a.type) == (4, 0x7A1B2C3C0, 0x7A1B2C, "GHES")
    assert len(out) == 4


# ======================================================================================
# Tracepoints
# ======================================================================================


def test_fs_dax_events():
    text = ("dax_pmd_insert_mapping: dev 8:16 ino 0x2a private read address 0x7f5a00400000 length 0x200000 "
            "pfn 0x2c0400  radix_entry 0x580800e\n"
            "dax_pmd_insert_mapping_fallback: dev 8:16 ino 0x2a shared write address 0x7f5a00600000 "
            "length 0x200000 pfn 0x2c0600 SPECIAL|DEV|MAP radix_entry 0x0\n"
            f"dax_pmd_load_hole: dev 8:16 ino 0x2a shared address 0x7f5a00800000 zero_page {VMEMMAP + 0x3A340 * 64:x} "
            "radix_entry 0x1d\n"
            "dax_pte_fault: dev 8:16 ino 0x2a shared WRITE|ALLOW_RETRY address 0x7f5a00201000 pgoff 0x201 \n"
            "dax_writeback_range: dev 8:16 ino 0x2a pgoff 0x0-0x3ff\n")
    out = decode_text(text)
    a = one(out, "fs_dax", line=1)
    assert (a.pfn, a.flags, a.start, a.end) == (0x2C0400, (), 0x2C0400000, 0x2C05FFFFF)
    b = one(out, "fs_dax", line=2)
    assert b.flags == ("SPECIAL", "DEV", "MAP") and "PFN_SPECIAL|PFN_DEV|PFN_MAP" in b.note
    z = one(out, "fs_dax", type="dax_pmd_load_hole")
    assert (z.page, z.pfn) == (VMEMMAP + 0x3A340 * 64, 0x3A340)
    assert one(out, "fs_dax", type="dax_pte_fault").virt == 0x7F5A00201000
    assert one(out, "fs_dax", type="dax_writeback_range").pfn is None


def test_kmem_decimal_and_hex_pfns():
    old_ptr = VMEMMAP + 245761 * 64
    text = (f"  bash-812   [001] d..2   311.000100: mm_page_free: page={old_ptr:x} pfn=245761 order=0\n"
            "  bash-812   [001] d..2   311.000200: mm_page_alloc: page=00000000abcdef12 pfn=0x3c002 order=2 "
            "migratetype=0 gfp_flags=GFP_KERNEL\n"
            "  bash-812   [001] d..2   311.000300: mm_page_alloc: page= (null) pfn=0 order=3 migratetype=0 "
            "gfp_flags=GFP_ATOMIC\n"
            "  bash-812   [001] d..2   311.000400: cma_alloc: name=reserved pfn=3c100 page=00000000aabbccdd count=4\n"
            "  bash-812   [001] d..2   311.000500: page_ref_mod: pfn=0x3c200 flags=uptodate count=2 mapcount=0\n")
    out = decode_text(text)
    old = one(out, "kmem", line=1)
    assert (old.pfn, old.page) == (245761, old_ptr) and "decimal" in old.note
    new = one(out, "kmem", line=2)
    assert (new.pfn, new.page, new.start, new.end) == (0x3C002, None, 0x3C002000, 0x3C005FFF)
    assert "hashed" in new.note
    assert one(out, "kmem", line=3).pfn is None
    assert one(out, "kmem", type="cma_alloc").pfn == 0x3C100
    assert one(out, "kmem", type="page_ref_mod").pfn == 0x3C200


# ======================================================================================
# Boot maps
# ======================================================================================


@pytest.mark.parametrize("label", ["usable", "reserved", "ACPI data", "ACPI NVS", "unusable",
                                   "persistent (type 7)", "persistent (type 12)", "soft reserved", "type 20"])
@pytest.mark.parametrize("who", ["BIOS-e820", "user", "Xen", "reserve setup_data"])
def test_e820_every_type_and_source(label, who):
    line = f"[    0.000000] {who}: [mem 0x0000000480000000-0x00000004bfffffff] {label}"
    f = one(decode_text(line), "e820")
    assert (f.start, f.end, f.type) == (0x480000000, 0x4BFFFFFFF, label)
    assert f.note.startswith(who)


def test_e820_headers_edits_and_old_format():
    text = ("BIOS-provided physical RAM map:\n"
            "e820: BIOS-provided physical RAM map:\n"
            "user-defined physical RAM map:\n"
            "extended physical RAM map:\n"
            "e820: update [mem 0x7d2b1018-0x7d2c1057] usable ==> usable\n"
            "e820: update [mem 0x00000000-0x00000fff] usable ==> reserved\n"
            "e820: remove [mem 0x000a0000-0x000fffff] usable\n"
            " BIOS-e820: 0000000000000000 - 000000000009f000 (usable)\n"
            "e820: [mem 0xc0000000-0xfebfffff] available for PCI devices\n")
    out = decode_text(text)
    assert [f.line for f in out] == [5, 6, 7, 8, 9]
    assert one(out, "e820", line=6).type == "reserved"
    assert "remove" in one(out, "e820", line=7).note
    old = one(out, "e820", line=8)
    assert (old.start, old.end, old.type) == (0, 0x9EFFF, "usable")
    assert one(out, "e820", line=9).type == "PCI gap"


def test_memmap_and_mem_on_the_command_line():
    line = (r"Command line: BOOT_IMAGE=/vmlinuz ro memmap=2G!6G memmap=64M\$0x7c000000 "
            "memmap=1M#0x7ff00000,512K@0x100000 mem=12G quiet")
    out = decode_text(line)
    pm = one(out, "cmdline", type="persistent (type 12)")
    assert (pm.start, pm.end) == (6 << 30, (8 << 30) - 1)
    rs = one(out, "cmdline", type="reserved")
    assert (rs.start, rs.end) == (0x7C000000, 0x7C000000 + (64 << 20) - 1)
    assert one(out, "cmdline", type="ACPI data").start == 0x7FF00000
    assert one(out, "cmdline", type="usable").end == 0x100000 + (512 << 10) - 1
    assert one(out, "cmdline", type="mem=").end == (12 << 30) - 1


def test_zones_nodes_and_node_data():
    text = ("Zone ranges:\n"
            "  DMA      [mem 0x0000000000001000-0x0000000000ffffff]\n"
            "  DMA32    [mem 0x0000000001000000-0x00000000ffffffff]\n"
            "  Normal   [mem 0x0000000100000000-0x000000083fffffff]\n"
            "  Device   empty\n"
            "  HighMem  empty\n"
            "Movable zone start for each node\n"
            "  Node 1: 0x0000000440000000\n"
            "Early memory node ranges\n"
            "  node   0: [mem 0x0000000000001000-0x000000000009efff]\n"
            "  node   1: [mem 0x0000000440000000-0x000000083fffffff]\n"
            "Initmem setup node 1 [mem 0x0000000440000000-0x000000083fffffff]\n"
            "NODE_DATA(1) allocated [mem 0x83ffd5000-0x83fffffff]\n"
            "Faking a node at [mem 0x0000000000000000-0x000000083fffffff]\n"
            "ACPI: SRAT: Node 1 PXM 1 [mem 0x440000000-0x83fffffff]\n"
            "  DMA      0x00000010 -> 0x00001000\n"
            "Initmem setup node 0 0000000000000000-0000000440000000\n"
            "DMA zone: 64 pages used for memmap\n")
    out = decode_text(text)
    assert kinds(out).count("zone") == 7
    assert one(out, "zone", type="Normal").end == 0x83FFFFFFF
    assert one(out, "zone", type="HighMem").note == "empty"
    mv = one(out, "zone", type="Movable")
    assert (mv.start, mv.pfn) == (0x440000000, 0x440000)
    assert one(out, "node_range", line=11).type == "node 1"
    assert "Initmem" in one(out, "node_range", line=12).note
    assert one(out, "node_data").start == 0x83FFD5000
    assert "fake" in one(out, "node_range", line=14).note
    assert "SRAT" in one(out, "node_range", line=15).note
    old = one(out, "zone", line=16)
    assert (old.start, old.end) == (0x10000, 0xFFFFFF)
    assert one(out, "node_range", line=17).end == 0x43FFFFFFF
    assert not [f for f in out if f.line in (1, 7, 9, 18)]


def test_reserved_memory_lines():
    text = ("OF: reserved mem: 0x0000000090000000..0x00000000903fffff (4096 KiB) nomap non-reusable secure@90000000\n"
            "OF: reserved mem: initialized node ramoops@a0000000, compatible id ramoops\n"
            "Reserved memory: created DMA memory pool at 0x00000000a8000000, size 32 MiB\n"
            "cma: Reserved 64 MiB at 0x00000000b8000000\n"
            "Reserving 256MB of memory at 640MB for crashkernel (System RAM: 16254MB)\n"
            "ACPI: Reserving FACP table memory at [mem 0xbffe1000-0xbffe10f3]\n")
    out = decode_text(text)
    a = one(out, "reserved_mem", line=1)
    assert (a.start, a.end) == (0x90000000, 0x903FFFFF) and "secure@90000000" in a.type
    assert one(out, "reserved_mem", line=2).type == "ramoops@a0000000"
    assert one(out, "reserved_mem", type="DMA").end == 0xA8000000 + (32 << 20) - 1
    assert one(out, "reserved_mem", type="CMA").end == 0xB8000000 + (64 << 20) - 1
    assert one(out, "reserved_mem", type="crashkernel").start == 640 << 20
    assert one(out, "reserved_mem", type="ACPI FACP").end == 0xBFFE10F3
    assert "resource" not in kinds(out)


def test_xen_pfn_ranges():
    text = ("Xen: [mem 0x0000000000000000-0x000000000009dfff] usable\n"
            "Freeing  9e-100 pfn range: 98 pages freed\n"
            "1-1 mapping on 9e->100\n"
            "Remapped 98 page(s), last_pfn=2097152\n")
    out = decode_text(text)
    assert one(out, "e820").note.startswith("Xen")
    fr = one(out, "xen", type="freeing")
    assert (fr.pfn, fr.start, fr.end) == (0x9E, 0x9E000, 0xFFFFF)
    assert one(out, "xen", type="1-1 mapping").end == 0xFFFFF
    assert one(out, "xen", type="last_pfn").pfn == 2097152


# ======================================================================================
# Page tables
# ======================================================================================


def l1tf(pfn: int, low: int = 0x060) -> int:
    """A not-present x86 PTE as the L1TF mitigation stores it: pfn field inverted."""
    return (1 << 63) | ((~(pfn << 12)) & 0x000FFFFFFFFFF000) | low


def test_page_fault_walk_present_entries_and_huge_pmd():
    text = ("BUG: unable to handle page fault for address: ffff888123456789\n"
            "#PF: supervisor write access in kernel mode\n"
            "PGD 3a01067 P4D 3a01067 PUD 3a02067 PMD 1123c2063 PTE 8000000123456061\n"
            "BUG: unable to handle kernel paging request at ffff8881ff654321\n"
            "PGD 3a01067 PUD 3a02067 PMD 80000001ff6000e3 \n")
    out = decode_text(text)
    pf = one(out, "page_fault", line=1)
    assert (pf.virt, pf.pfn, pf.phys) == (0xFFFF888123456789, 0x123456, 0x123456789)
    pte = one(out, "pte", type="PTE")
    assert (pte.pfn, pte.phys, pte.virt) == (0x123456, 0x123456789, 0xFFFF888123456789)
    assert pte.flags == ("PRESENT", "ACCESSED", "DIRTY", "NX")
    assert one(out, "pte", type="PMD", line=3).phys == 0x1123C2000
    assert "P4D folded" in one(out, "pte", type="P4D").note
    huge = one(out, "pte", type="PMD", line=5)
    assert (huge.pfn, huge.phys) == (0x1FF600, 0x1FF654321) and "2 MiB page" in huge.note


def test_page_fault_l1tf_inverted_pte_and_kaslr_direct_map():
    pfn = 0x2B3C4D
    base = 0xFFFF9D1240000000  # a PUD-aligned KASLR page_offset_base
    addr = base + (pfn << 12) + 0x7C8
    text = (f"BUG: unable to handle page fault for address: {addr:016x}\n"
            "#PF: error_code(0x0000) - not-present page\n"
            f"PGD 5201067 P4D 5201067 PUD 5206067 PMD 7a1d3063 PTE {l1tf(pfn):x}\n")
    cal = calibrate(text.splitlines())
    assert cal.page_offset == base and "KASLR" in cal.sources[0]
    out = decode_text(text)
    pte = one(out, "pte", type="PTE")
    assert (pte.pfn, pte.phys) == (pfn, (pfn << 12) + 0x7C8) and "L1TF" in pte.note
    assert one(out, "page_fault").pfn == pfn
    assert one(out, "calibration").virt == base


def test_page_fault_other_shapes():
    text = ("BUG: unable to handle kernel NULL pointer dereference at 0000000000000008\n"
            "PGD 0 P4D 0 \n"
            "*pdpt = 0000000031f3d001 *pde = 0000000000000000 \n"
            "Unable to handle kernel paging request at virtual address ffff00003f201000\n"
            "[ffff00003f201000] pgd=0000000000000000, p4d=0000000081ff7003, pud=0000000081ff7003, "
            "pmd=00e800013f200711, pte=0000000000000000\n")
    out = decode_text(text, arch="x86_64")
    assert one(out, "page_fault", line=1).type == "kernel NULL pointer dereference"
    assert [f.note for f in out if f.line == 2] == ["PGD 0; empty", "P4D 0; empty"]
    assert one(out, "pte", type="PDPT").phys == 0x31F3D000
    arm = decode_text(text, arch="arm64")
    assert one(arm, "page_fault", line=4).type == "paging request"
    assert one(arm, "pte", type="PMD").phys == 0x13F200000
    assert one(arm, "pte", type="PGD", line=5).note == "empty"


def test_bad_page_map_x86_and_arm():
    text = ("BUG: Bad page map in process a.out  pte:800000011a2b3067 pmd:1c0de067\n"
            "addr:00007f11a2000000 vm_flags:08100073 anon_vma:ffff888100301e00 mapping:0000000000000000 index:7f11a2000\n")
    out = decode_text(text)
    pte = one(out, "bad_page_map", type="pte")
    assert (pte.pfn, pte.phys) == (0x11A2B3, 0x11A2B3000)
    assert one(out, "bad_page_map", type="pmd").phys == 0x1C0DE000
    assert one(out, "bad_page_map", type="vma").virt == 0x7F11A2000000
    arm = decode_text("BUG: Bad page map in process sh  pte:3f2e1343 pmd:3f9d0811", arch="arm")
    p = one(arm, "bad_page_map", type="pte")
    assert (p.pfn, p.phys, p.flags) == (0x3F2E1, 0x3F2E1000, ("VALID", "YOUNG", "DIRTY", "USER", "XN"))
    assert one(arm, "bad_page_map", type="pmd").phys == 0x3F9D0800


# ======================================================================================
# Resources, pmem, layout tables
# ======================================================================================


def test_resources_anywhere():
    text = ("nd_region region0: claimed [mem 0x0000000840000000-0x000000087fffffff flags 0x200]\n"
            "pci 0000:00:02.0: BAR 2: assigned [mem 0x4000000000-0x400fffffff 64bit pref]\n"
            "hpet0: at MMIO 0xfed00000, IRQs 2, 8, 0 [mem 0xfed00000 flags 0x200]\n"
            "dax_hmem: hmem range [mem 0x1080000000-0x10ffffffff flags 0x81000200] busy\n"
            "cxl_port port2: decoder2.0: range: 0x1080000000-0x10ffffffff iw: 2 ig: 4096\n"
            "kmem dax1.0: mapping0: 0x1080000000-0x10ffffffff could not reserve region\n")
    out = decode_text(text)
    assert one(out, "resource", line=1).flags == ("MEM",)
    assert one(out, "resource", line=2).flags == ("64bit", "pref")
    single = one(out, "resource", line=3)
    assert single.start == single.end == 0xFED00000
    assert one(out, "resource", line=4).flags == ("MEM", "SYSRAM", "BUSY")
    assert one(out, "resource", line=5).type == "range"
    assert one(out, "resource", line=6).type == "dax1.0 mapping0"


def test_pmem_messages():
    text = ("pmem2: detected capacity change from 0 to 34359738368\n"
            "nd_pmem pfn3.0: namespace3.0 alignment collision, truncate 33554432 bytes\n"
            "nd_pmem pfn3.1: Conflicting mapping in same section\n"
            "devm_memremap_pages attempted on mixed region [mem 0x0c0000000-0x13fffffff flags 0x200]\n"
            "pmem0: could not reserve region [0x0x0000000440000000:0x40000000]\n"
            "nd_pmem namespace3.0: unable to guarantee persistence of writes\n")
    out = decode_text(text)
    cap = one(out, "pmem", type="pmem2")
    assert (cap.start, cap.end) == (0, (32 << 30) - 1) and "32 GiB" in cap.note
    assert "32 MiB" in one(out, "pmem", type="alignment collision").note
    assert "pfn3.1" in one(out, "pmem", type="conflicting mapping").note
    assert one(out, "pmem", type="mixed region").start == 0xC0000000
    assert one(out, "pmem", type="could not reserve region").end == 0x47FFFFFFF
    assert one(out, "pmem", type="no persistence guarantee").note == "namespace3.0"
    assert "resource" not in kinds(out)


def test_layout_table_and_sizes_calibrate_a_32bit_direct_map():
    text = ("Virtual kernel memory layout:\n"
            "    vmalloc : 0xf0800000 - 0xff800000   ( 240 MB)\n"
            "    lowmem  : 0xc0000000 - 0xf0000000   ( 768 MB)\n"
            "Memory: 761212K/786432K available (6144K kernel code)\n"
            "phys_mem_size     = 0x100000000\n")
    out = decode_text(text, arch="arm")
    assert one(out, "vm_layout", type="lowmem").virt == 0xC0000000
    assert "4 GiB" in one(out, "mem_size", type="phys_mem_size").note
    assert calibrate(text.splitlines(), "arm").page_offset == 0xC0000000


# ======================================================================================
# Pointers and addresses anywhere
# ======================================================================================


def test_struct_page_and_direct_map_scanning():
    ptr = VMEMMAP + 0x1F00A * 64
    text = (f" {ptr:016x} ffffc90000c3bd48 ffffffff8123abcd ffff8881f00a0c40\n"
            "RAX: ffff8881f00a0c40 RBX: 0000000000000000 RCX: 0000000000000000\n"
            f"mapping:{ptr:016x}\n")
    out = decode_text(text)
    sp = one(out, "struct_page", line=1)
    assert (sp.page, sp.pfn) == (ptr, 0x1F00A)
    dm = one(out, "direct_map", line=1)
    assert (dm.virt, dm.phys, dm.pfn) == (0xFFFF8881F00A0C40, 0x1F00A0C40, 0x1F00A0)
    assert one(out, "direct_map", line=2).pfn == 0x1F00A0
    assert len([f for f in out if f.line == 1]) == 2  # vmalloc and text addresses are not reported


def test_a_pointer_already_reported_is_not_repeated():
    ptr = VMEMMAP + 0x1F00A * 64
    out = decode_text(f"page:{ptr:016x} refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x1f00a")
    assert kinds(out) == ["calibration", "dump_page"]


def test_loose_pfn_mentions():
    out = decode_text("migrating pfn 1f46d failed\nstart_pfn=0x80000 end_pfn = 88000\npfn range add\n")
    assert [(f.type, f.pfn) for f in out] == [("pfn", 0x1F46D), ("start_pfn", 0x80000), ("end_pfn", 0x88000)]


def test_arm64_pointers_need_calibration_and_tags_are_stripped():
    # v5.4-v6.8 layout, RAM from 1 GiB: vmemmap = VMEMMAP_START - memstart_pfn * 64
    start, memstart_pfn = 0xFFFFFC0000000000, 0x40000
    base = start - memstart_pfn * 64
    ptr = base + 0x48000 * 64
    other = base + 0x48123 * 64
    tagged_linear = (0xB4 << 56) | (0xFFFF000000000000 + 0x8123000 - (memstart_pfn << 12) + (0x48123 << 12) - 0x8123000)
    text = ("BUG: Bad page state in process app  pfn:48000\n"
            f"page:{ptr:016x} refcount:0 mapcount:0 mapping:0000000000000000 index:0x0\n"
            f"raw: 0000000000000000 {other:016x} {tagged_linear:016x} 0000000000000000\n")
    bare = decode_text(f"raw: 0000000000000000 {other:016x}", arch="arm64")
    assert one(bare, "struct_page").pfn is None
    cal = calibrate(text.splitlines(), "arm64")
    assert (cal.vmemmap_base, cal.struct_page_size) == (base, 64)
    assert "memstart_addr 0x40000000" in cal.sources[0]
    out = decode_text(text, arch="arm64")
    assert one(out, "struct_page", line=3).pfn == 0x48123


# ======================================================================================
# Calibration
# ======================================================================================


def bad_page(pfn: int, ptr: int, comm: str = "a.out") -> str:
    return (f"BUG: Bad page state in process {comm}  pfn:{pfn:05x}\n"
            f"page:{ptr:016x} count:0 mapcount:0 mapping:          (null) index:0x0\n"
            "page flags: 0x200000000000000()\n"
            "page dumped because: nonzero mapcount\n")


@pytest.mark.parametrize("size", [64, 56, 72, 80])
def test_one_pair_picks_the_struct_page_size_that_hits_the_base(size):
    pfn = 0x2468AC
    cal = calibrate(bad_page(pfn, VMEMMAP + pfn * size).splitlines())
    assert (cal.vmemmap_base, cal.struct_page_size) == (VMEMMAP, size)
    assert "lines 1-2" in cal.sources[0]


def test_56_byte_page_decodes_every_other_pointer():
    text = bad_page(0x2468AC, VMEMMAP + 0x2468AC * 56) + f" {VMEMMAP + 0x13579 * 56:016x} 0000000000000000\n"
    out = decode_text(text)
    assert one(out, "calibration").note.startswith("vmemmap: struct page is 56 bytes")
    assert one(out, "struct_page").pfn == 0x13579


def test_kaslr_vmemmap_from_one_pair():
    base = 0xFFFFD4A1C0000000
    cal = calibrate(bad_page(0x1234, base + 0x1234 * 64).splitlines())
    assert (cal.vmemmap_base, cal.struct_page_size) == (base, 64)
    assert "KASLR" in cal.sources[0]


def test_two_pairs_solve_exactly_even_for_an_odd_layout():
    base, size = 0xFFFFF3C080000000, 88
    text = bad_page(0x40001, base + 0x40001 * size) + bad_page(0x52222, base + 0x52222 * size, "b.out")
    cal = calibrate(text.splitlines())
    assert (cal.vmemmap_base, cal.struct_page_size) == (base, 88)
    assert "solved exactly from 2" in cal.sources[0]


def test_a_bad_pair_among_good_ones_is_outvoted():
    base, size = 0xFFFFEA0000000000, 56
    text = (bad_page(0x100, base + 0x100 * size) + bad_page(0x200, base + 0x200 * 64 + 8, "x")
            + bad_page(0x300, base + 0x300 * size, "y"))
    cal = calibrate(text.splitlines())
    assert (cal.vmemmap_base, cal.struct_page_size) == (base, 56)
    assert "do not fit" in cal.sources[0]


def test_pairs_from_kmem_raw_pointers():
    base = 0xFFFFE30240000000
    text = "\n".join(f"mm_page_free: page={base + p * 64:016x} pfn={p} order=0" for p in (4096, 9000))
    cal = calibrate(text.splitlines())
    assert (cal.vmemmap_base, cal.struct_page_size) == (base, 64)


def test_kasan_address_and_dump_pfn_calibrate_the_direct_map():
    base = 0xFFFFA04F80000000
    text = (f"BUG: KASAN: slab-out-of-bounds in foo+0x1f/0x40\nRead of size 4 at addr {base + 0x7F3A1234:016x} by task t/1\n"
            "The buggy address belongs to the physical page:\n"
            "page: refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x7f3a1\n")
    cal = calibrate(text.splitlines())
    assert cal.page_offset == base
    out = decode_text(text)
    assert one(out, "direct_map").pfn == 0x7F3A1


def test_page_size_from_the_log():
    ppc = calibrate(["Page orders: linear mapping = 24, virtual = 16, io = 16, vmemmap = 24"], "ppc64")
    assert ppc.page_shift == 16
    arm = calibrate(["Dentry cache hash table entries: 262144 (order: 5, 2097152 bytes, linear)"], "arm64")
    assert arm.page_shift == 16
    assert arm.vmemmap_base != calibrate([], "arm64").vmemmap_base  # the 64K layout
    assert calibrate(["PAGE_SIZE=16384"], "arm64").page_shift == 14
    assert calibrate(["mount hash: (order: 0, 4096 bytes)"]).sources == ()


def test_no_pairs_keep_the_arch_defaults():
    for arch in ("x86_64", "x86_64-5level", "arm64", "ppc64", "riscv64", "arm", "i386"):
        cal = calibrate(["nothing to see"], arch)
        assert cal.sources == ()
    assert calibrate([], "x86_64-5level").vmemmap_base == 0xFFD4000000000000
    assert calibrate([], "ppc64").page_shift == 16
    assert calibrate([], "i386").vmemmap_base is None


def test_calibration_findings_come_first_in_decode_text_and_inline_when_streaming():
    text = "boot\n" + bad_page(0x2468AC, VMEMMAP + 0x2468AC * 56)
    first = decode_text(text)
    assert first[0].kind == "calibration" and first[0].line == 3
    streamed = list(decode_lines(text.splitlines()))
    assert [f.kind for f in streamed].index("calibration") == 1
    assert [f.line for f in streamed] == sorted(f.line for f in streamed)
    given_cal = list(decode_lines(text.splitlines(), calibration=calibrate(text.splitlines())))
    assert given_cal == first


# ======================================================================================
# Streaming, performance, robustness
# ======================================================================================

BLOCK = [
    "[   12.000001] usb 1-1: new high-speed USB device number 4 using xhci_hcd",
    "[   12.000002] RIP: 0010:do_thing+0x12/0x200 [loop]",
    "[   12.000003] Call Trace:",
    "[   12.000004]  dump_stack+0x86/0xc3",
    "[   12.000005] EXT4-fs (sda1): mounted filesystem with ordered data mode",
] * 19 + [
    "[   12.000006] BUG: Bad page state in process cc1  pfn:1a2b3",
    "[   12.000007] page:ffffea000068acc0 refcount:0 mapcount:0 mapping:0000000000000000 index:0x0",
    "[   12.000008] flags: 0x17ffffc0000000(lru|node=0|zone=2)",
    "[   12.000009] page dumped because: nonzero mapcount",
    "[   12.000010] Modules linked in: ext4",
]


def test_decode_lines_is_a_lazy_generator():
    gen = decode_lines(itertools.cycle(BLOCK))
    assert inspect.isgenerator(gen)
    first = list(itertools.islice(gen, 40))  # an endless input still yields
    assert {"bad_page", "dump_page"} <= {f.kind for f in first} <= {"bad_page", "dump_page", "calibration"}


def test_streaming_200k_lines_in_bounded_memory():
    lines = itertools.islice(itertools.cycle(BLOCK), 200_000)
    tracemalloc.start()
    try:
        count = sum(1 for _ in decode_lines(lines))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200_000 // len(BLOCK) * 4 + 1  # four per report, and one calibration
    assert peak < 1 << 20, f"peak {peak} bytes"


PATHOLOGICAL = {
    "page:": "page:" * 200_000,
    "[mem ": "[mem " * 200_000,
    "digits": "7" * 1_000_000,
    "hex": "f" * 1_000_000,
    "half-range": "[mem 0x1-" * 110_000,
    "bad-page": "BUG: Bad page state in process " + " " * 1_000_000 + "pfn:1",
    "pfn": "pfn " * 250_000,
    "quotes": "> " * 500_000,
    "timestamps": "[ 1.0]" * 170_000,
    "raw": "raw: " + "ffffea0000000001 " * 60_000,
    "dax": "dax_x: pfn 0x1 " * 70_000,
    "flags": "flags: 0x1(" + "a|" * 500_000,
    "walk": "PGD 1 " * 170_000,
    "memmap": "Command line: memmap=" + "1" * 1_000_000,
    "syslog": "Jan  1 00:00:00 " * 60_000,
    "ftrace": "a-1 [001] .... 1.0: " * 50_000,
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_one_megabyte_pathological_lines(name):
    line = PATHOLOGICAL[name]
    started = time.perf_counter()
    decode_text("\n".join([line, line, "x" + line]))
    list(decode_lines([line] * 3))
    assert time.perf_counter() - started < 5.0


def test_regexes_stay_linear_on_every_line_shape_at_the_cap():
    """The same shapes cut at LIMIT_LINE, run through every format directly."""
    from pfnconsole.decode.base import Context
    from pfnconsole.decode.formats import FORMATS
    from pfnconsole.decode.layout import make_layout
    from pfnconsole.decode.scan import scan_loose_pfns, scan_pointers

    ctx = Context(make_layout("x86_64", None))
    started = time.perf_counter()
    for line in PATHOLOGICAL.values():
        text = line[:LIMIT_LINE]
        for fmt in FORMATS:
            fmt.match(text, ctx)
        scan_pointers(text, ctx)
        scan_loose_pfns(text, ctx)
    assert time.perf_counter() - started < 5.0


VOCAB = ["page:", "pfn:", "pfn=", " pfn ", "[mem ", "0x", "ffffea00", "ffff8881", "00000000", "refcount:",
         "flags: ", "(", ")", "|", "]", "-", " ", "\n", "BUG: Bad page state in process ", "Memory failure: ",
         "raw: ", "head: ", "order:", "PGD ", "PTE ", "dax_pmd_insert_mapping: ", "mm_page_alloc: ", "user: ",
         "BIOS-e820: ", "node ", "DMA", "Normal", "usable", "persistent (type 12)", "[  1.000000] ", "> ",
         "Jan  2 03:04:05 h kernel: ", "Command line: memmap=", "!", "G", "0", "1", "f", "a", "9"]


@FAST
@given(st.text(max_size=400))
def test_random_unicode_never_raises(text):
    out = decode_text(text)
    n = len(text.splitlines())
    assert all(1 <= f.line <= max(n, 1) for f in out)


@FAST
@given(st.binary(max_size=400))
def test_random_bytes_never_raise(data):
    decode_text(data.decode("latin-1"))
    list(decode_lines(data.decode("utf-8", errors="replace").split("\n"), arch="arm64"))


@FAST
@given(st.lists(st.sampled_from(VOCAB), max_size=60), st.sampled_from(["x86_64", "arm64", "ppc64", "arm", "i386"]))
def test_random_log_shaped_text_never_raises_and_stays_ordered(words, arch):
    text = "".join(words)
    out = decode_text(text, arch=arch)
    rest = [f.line for f in out if f.kind != "calibration"]
    assert rest == sorted(rest)
    for f in out:
        js = f.to_json()
        assert all(isinstance(js[k], int) for k in ("pfn", "phys", "page", "virt", "start", "end") if k in js)


@FAST
@given(st.integers(0, (1 << 34) - 1), st.sampled_from([56, 64, 72, 80]))
def test_any_pfn_round_trips_through_a_bad_page_report(pfn, size):
    ptr = VMEMMAP + pfn * size
    out = decode_text(bad_page(pfn, ptr))
    dp = one(out, "dump_page", line=2)
    assert (dp.pfn, dp.page) == (pfn, ptr)


@FAST
@given(st.integers(1, (1 << 40) - 1))
def test_any_l1tf_entry_inverts_back(pfn):
    out = decode_text(f"PGD 1067 PUD 2067 PMD 3067 PTE {l1tf(pfn & ((1 << 34) - 1)):x}")
    assert one(out, "pte", type="PTE").pfn == pfn & ((1 << 34) - 1)


def test_decode_loads_no_ui_library():
    code = ("import sys, pfnconsole.decode; "
            "print(','.join(m for m in ('textual', 'prompt_toolkit', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_unknown_arch_is_an_error():
    with pytest.raises(Exception, match="unknown arch"):
        decode_text("x", arch="vax")
