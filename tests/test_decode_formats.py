"""Formats the decoder used to miss or misread (issue 17, point 5).

Every line here is composed for this project from the format string named beside it, with
numbers of our own choosing; none is copied from a real log.
"""

from __future__ import annotations

import pytest

from pfnconsole.decode import Kind, decode_text

TS = "[    0.000000] "

# (id, line, kind, expected fields, kinds that must not appear)
CASES = [
    # kernel/dma/swiotlb.c "mapped [mem %pa-%pa] (%luMB)", end = start + bytes
    pytest.param(TS + "software IO TLB: mapped [mem 0x00000000a0000000-0x00000000a4000000] (64MB)",
                 Kind.SWIOTLB, {"start": 0xA0000000, "end": 0xA3FFFFFF}, {Kind.RESOURCE},
                 id="swiotlb-pa-exclusive"),
    # lib/swiotlb.c "mapped [mem %#010llx-%#010llx] (%luMB)" of io_tlb_start, io_tlb_end
    pytest.param(TS + "software IO TLB: mapped [mem 0x7c000000-0x80000000] (64MB)",
                 Kind.SWIOTLB, {"start": 0x7C000000, "end": 0x7FFFFFFF}, {Kind.RESOURCE},
                 id="swiotlb-010llx-exclusive"),
    # lib/swiotlb.c "software IO TLB [mem %#010llx-%#010llx] (%luMB) mapped at [%p-%p]", pend - 1
    pytest.param(TS + "software IO TLB [mem 0x7c000000-0x7fffffff] (64MB) mapped at "
                 "[ffff88007c000000-ffff88007fffffff]",
                 Kind.SWIOTLB, {"start": 0x7C000000, "end": 0x7FFFFFFF}, {Kind.RESOURCE},
                 id="swiotlb-old-inclusive"),
    # the same older string when io_tlb_end was printed unchanged
    pytest.param(TS + "software IO TLB [mem 0x7c000000-0x80000000] (64MB) mapped at "
                 "[ffff88007c000000-ffff88007fffffff]",
                 Kind.SWIOTLB, {"start": 0x7C000000, "end": 0x7FFFFFFF}, {Kind.RESOURCE},
                 id="swiotlb-old-exclusive"),
    # arch/x86/kernel/e820.c "last_pfn = %#lx max_arch_pfn = %#lx" (pr_fmt "e820: ")
    pytest.param(TS + "e820: last_pfn = 0x240000 max_arch_pfn = 0x400000000",
                 Kind.RAM_END, {"pfn": None, "end": 0x23FFFFFFF, "type": "last_pfn"}, {Kind.PFN},
                 id="last-pfn"),
    pytest.param(TS + "last_pfn = 0xbffdf max_arch_pfn = 0x100000",
                 Kind.RAM_END, {"pfn": None, "end": 0xBFFDEFFF, "type": "last_pfn (low)"}, {Kind.PFN},
                 id="last-pfn-low"),
    # arch/x86/mm/init.c alloc_low_pages() "BRK [%#010lx, %#010lx] PGTABLE"
    pytest.param(TS + "BRK [0x03a01000, 0x03a03fff] PGTABLE",
                 Kind.PAGE_TABLE, {"pfn": 0x3A01, "start": 0x3A01000, "end": 0x3A03FFF}, set(),
                 id="brk-pgtable"),
    # drivers/edac/edac_mc.c before v3.5: "CE page 0x%lx, offset 0x%lx, grain %d, ..."
    pytest.param(TS + 'EDAC MC1: CE page 0x2a51c, offset 0x3c0, grain 8, syndrome 0x41, row 2, '
                 'channel 1, label "DIMM_B2": amd64_edac',
                 Kind.MCE, {"pfn": 0x2A51C, "phys": 0x2A51C3C0, "type": "EDAC CE"}, set(), id="edac-old-ce"),
    pytest.param(TS + 'EDAC MC0: UE page 0x1f00d, offset 0x80, grain 8, row 0, labels "DIMM_A1": i5000',
                 Kind.MCE, {"pfn": 0x1F00D, "phys": 0x1F00D080, "type": "EDAC UE"}, set(), id="edac-old-ue"),
    # rasdaemon ras-mc-handler.c: " address: 0x%08llx" " grain: %lld"
    pytest.param("rasdaemon: mc_event: 2024-03-02 10:11:12 +0000 1 Corrected error: read error on DIMM_C1 "
                 "(mc: 0 location: 1:0:2 address: 0x1a2b3c40 grain: 6 syndrome: 0x00000011)",
                 Kind.MCE, {"pfn": 0x1A2B3, "phys": 0x1A2B3C40, "type": "mc_event"}, set(), id="rasdaemon-mc-event"),
    # util/ras-mc-ctl --errors, memory controller events: ", addr $addr, grain" (decimal)
    pytest.param("7 2024-03-02 10:11:12 +0000 1 Corrected error(s): read error at DIMM_C1 location: 0:1:0:-1, "
                 "addr 439041088, grain 6, syndrome 17 ch0",
                 Kind.MCE, {"pfn": 439041088 >> 12, "phys": 439041088, "type": "mc_event"}, set(),
                 id="ras-mc-ctl-mc-decimal"),
    # util/ras-mc-ctl --errors, MCE events: ", addr=0x%08x"
    pytest.param("3 2024-03-02 10:11:12 +0000 error: MEMORY CONTROLLER MS_CHANNEL1_ERR, bank Memory Controller, "
                 "mcgstatus=0x00000000, status=0x8c00004000010091, addr=0x4f3e2d100, misc=0x000000a0",
                 Kind.MCE, {"pfn": 0x4F3E2D, "phys": 0x4F3E2D100, "type": "MCE addr"}, set(),
                 id="ras-mc-ctl-mce-addr"),
    # util/ras-mc-ctl --errors, CXL events: "hpa=0x%llx, "
    pytest.param("4 2024-03-02 10:11:12 +0000 error: memdev=mem0, host=0000:0d:00.0, dpa=0x1000, "
                 "hpa=0x1050001000, region=region0, ",
                 Kind.MCE, {"pfn": 0x1050001, "phys": 0x1050001000, "type": "CXL hpa"}, set(),
                 id="ras-mc-ctl-cxl-hpa"),
    # kernel/vmcore_info.c "SYMBOL(%s)=%lx": a symbol address, not a direct-map address
    pytest.param("SYMBOL(mem_section)=ffff88827ffd2000",
                 Kind.VMCOREINFO, {"pfn": None, "virt": 0xFFFF88827FFD2000, "type": "SYMBOL(mem_section)"},
                 {Kind.DIRECT_MAP}, id="vmcoreinfo-symbol"),
    # "OFFSET(%s.%s)=%lu", "SIZE(%s)=%lu", "NUMBER(%s)=%ld", "PAGESIZE=%ld", "KERNELOFFSET=%lx"
    pytest.param("OFFSET(page.compound_head)=8", Kind.VMCOREINFO,
                 {"pfn": None, "type": "OFFSET(page.compound_head)", "note": "offsetof(page.compound_head) = 8"},
                 set(), id="vmcoreinfo-offset"),
    pytest.param("SIZE(page)=64", Kind.VMCOREINFO,
                 {"pfn": None, "note": "sizeof(struct page) = 64"}, set(), id="vmcoreinfo-size"),
    pytest.param("NUMBER(PG_hwpoison)=23", Kind.VMCOREINFO,
                 {"pfn": None, "type": "NUMBER(PG_hwpoison)", "note": "value of PG_hwpoison = 23"}, set(),
                 id="vmcoreinfo-number"),
    pytest.param("PAGESIZE=4096", Kind.VMCOREINFO, {"pfn": None, "type": "PAGESIZE"}, set(),
                 id="vmcoreinfo-pagesize"),
    pytest.param("KERNELOFFSET=2e800000", Kind.VMCOREINFO,
                 {"pfn": None, "type": "KERNELOFFSET", "note": "0x2e800000"}, set(), id="vmcoreinfo-kerneloffset"),
]


@pytest.mark.parametrize(("line", "kind", "want", "absent"), CASES)
def test_format(line, kind, want, absent):
    found = decode_text(line + "\n", arch="x86_64")
    hits = [f for f in found if f.kind == kind]
    assert len(hits) == 1, found
    got = hits[0]
    for key, value in want.items():
        if key == "note":
            assert value in got.note, got
        else:
            assert getattr(got, key) == value, (key, got)
    assert not [f for f in found if f.kind in absent], found


def test_arm64_hex_number_is_not_a_pointer():
    # arm64 arch_crash_save_vmcoreinfo(): "NUMBER(kimage_voffset)=0x%llx"
    found = decode_text("NUMBER(kimage_voffset)=0xffff80007fe00000\n", arch="arm64")
    assert [f.kind for f in found if f.kind != Kind.CALIBRATION] == [Kind.VMCOREINFO]
    assert "0xffff80007fe00000" in found[-1].note
