"""Page-table walks one level a line, 32-bit ARM (classic and LPAE), swap entries (issue 17).

Every log line here is composed for this project from the kernel format string named beside
it, with numbers of our own choosing; none is copied from a real log.  The fixture
tests/fixtures/decode/issue17_walks.log is checked at the end.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from pfnconsole.decode import Finding, arm_tables, decode_text
from pfnconsole.decode.layout import make_layout
from pfnconsole.decode.tables import _lpae, generic_pte

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "decode" / "issue17_walks.log"
SYSLOG = "Mar  3 11:20:01 lab3 kernel: "


def one(findings: list[Finding], kind: str, **fields) -> Finding:
    """The single finding of ``kind`` whose fields match (note_has: substring of note)."""
    hits = [f for f in findings if f.kind == kind and all(
        (want in f.note) if key == "note_has" else getattr(f, key) == want for key, want in fields.items())]
    assert len(hits) == 1, f"{kind} {fields}: {len(hits)} hits in\n" + "\n".join(str(f) for f in findings)
    return hits[0]


def ptes(findings: list[Finding]) -> list[tuple]:
    """The walk's entries without their line numbers."""
    return [(f.type, f.pfn, f.phys, f.virt, f.flags, f.note) for f in findings if f.kind == "pte"]


# ======================================================================================
# x86: one level a line
# ======================================================================================

# arch/x86/mm/fault.c show_fault_oops() "BUG: unable to handle page fault for address: %px";
# dump_pagetable() pr_info("PGD %lx "), pr_cont("P4D %lx "), "PUD %lx ", "PMD %lx ", "PTE %lx".
FAULT = "BUG: unable to handle page fault for address: ffff88813a5c7e40"
LEVELS = ["PGD 3c801067 ", "P4D 3c801067 ", "PUD 3c802067 ", "PMD 13a6f3063 ", "PTE 800ffffec5a38060"]


def test_per_level_walk_with_syslog_prefixes_reads_as_the_one_line_walk():
    one_line = decode_text(f"{SYSLOG}{FAULT}\n{SYSLOG}{''.join(LEVELS)}\n")
    per_line = decode_text("\n".join(SYSLOG + x for x in [FAULT, *LEVELS]) + "\n")
    assert len(ptes(one_line)) == 5
    assert ptes(per_line) == ptes(one_line)
    # the leaf carries the fault address and the byte it faulted on: pfn 0x13a5c7 inverted (L1TF)
    leaf = one(per_line, "pte", type="PTE")
    assert (leaf.line, leaf.virt, leaf.pfn, leaf.phys) == (6, 0xFFFF88813A5C7E40, 0x13A5C7, 0x13A5C7E40)
    assert "P4D folded" in one(per_line, "pte", type="P4D", line=3).note
    assert [f.line for f in per_line if f.kind == "pte"] == [2, 3, 4, 5, 6]


def test_pieces_of_two_levels_a_line_and_a_bad_tail():
    # pr_cont pieces may land two to a record; an unreadable entry ends with pr_info("BAD\n"),
    # a plain printk("BAD\n") (same line) in older kernels
    text = "\n".join(SYSLOG + x for x in [FAULT, "PGD 3c801067 P4D 3c801067 ", "PUD 3c802067 PMD 13a6f3063 BAD"])
    out = decode_text(text)
    assert [f.type for f in out if f.kind == "pte"] == ["PGD", "P4D", "PUD", "PMD"]
    assert one(out, "pte", type="PMD").phys == 0x13A6F3000


def test_an_empty_entry_ends_the_walk():
    # "PMD 0": dump_pagetable() stops at a not-present entry; a later level line is not the walk's
    text = "\n".join(SYSLOG + x for x in [
        "BUG: unable to handle page fault for address: ffffc90000a3f000",
        "PGD 100000067 ", "P4D 100000067 ", "PUD 1001e6067 ", "PMD 0 ", "PTE 5123"])
    out = decode_text(text)
    assert one(out, "pte", type="PMD", line=5).note == "PMD 0; empty"
    assert [f for f in out if f.line == 6] == []


def test_pgd_zero_leaves_room_for_the_folded_p4d():
    # pgd_present() is 1 on 4-level paging, so "PGD 0" is followed by "P4D 0"; the v5.1+
    # "BUG: kernel NULL pointer dereference, address: %px" opens the walk too
    text = "\n".join(SYSLOG + x for x in [
        "BUG: kernel NULL pointer dereference, address: 0000000000000018", "PGD 0 ", "P4D 0 ", "PUD 1067"])
    out = decode_text(text)
    pf = one(out, "page_fault")
    assert (pf.virt, pf.type) == (0x18, "kernel NULL pointer dereference")
    assert [(f.line, f.type, f.note) for f in out if f.kind == "pte"] == [(2, "PGD", "PGD 0; empty"),
                                                                         (3, "P4D", "P4D 0; empty")]


@pytest.mark.parametrize("line", [
    "PTE 12 was rewritten by mydrv",        # prose after a level word and a number
    "mydrv: remapping PTE 1f00 failed",     # "PTE " inside a sentence
    "PTE entries look corrupted",           # no value
    "PMD 1234067 PTE",                      # a level word with no value
    "PUD 2067 PGD 1067",                    # levels out of order
])
def test_prose_with_level_words_is_not_claimed(line):
    text = "\n".join(SYSLOG + x for x in [FAULT, "PGD 3c801067 ", "P4D 3c801067 ", line])
    assert [f for f in decode_text(text) if f.line == 4] == []


def test_a_level_line_without_a_fault_is_not_claimed():
    assert decode_text("PTE 800000012345f067\nPMD 1234067 \n") == []
    # a line that begins with "PGD " is a walk on its own, as before
    assert one(decode_text("PGD 1067 PUD 2067 PMD 3067 PTE 8000000123456063"), "pte", type="PTE").pfn == 0x123456


def test_32bit_walk_one_entry_a_line():
    # arch/x86/mm/fault.c dump_pagetable() (32-bit): pr_info("*pdpt = %016Lx ") with PAE, then
    # "*pde = %0*Lx " (pr_cont with PAE, pr_info without), pr_cont("*pte = %0*Lx ")
    text = ("[  310.100000] BUG: unable to handle kernel paging request at f7e1c010\n"
            "[  310.100011] *pde = 36a1d067 \n"
            "[  310.100012] *pte = 1a2b3163 \n")
    out = decode_text(text, arch="i386")
    assert one(out, "pte", type="PDE").phys == 0x36A1D000
    leaf = one(out, "pte", type="PTE")
    assert (leaf.line, leaf.pfn, leaf.phys, leaf.virt) == (3, 0x1A2B3, 0x1A2B3010, 0xF7E1C010)
    pae = decode_text("BUG: unable to handle kernel paging request at 00000000f7e1c000\n"
                      "*pdpt = 0000000002d4f001 *pde = 0000000036a1d067 *pte = 0000000000000000 \n")
    assert [f.type for f in pae if f.kind == "pte"] == ["PDPT", "PDE", "PTE"]


def test_a_megabyte_of_level_words_stays_linear():
    line = "P4D 1 " * 170_000
    started = time.perf_counter()
    decode_text(f"{FAULT}\nPGD 1067\n{line}\n{line}")
    assert time.perf_counter() - started < 3.0


# ======================================================================================
# 32-bit ARM: print_bad_pte() and show_pte()
# ======================================================================================

# mm/memory.c print_bad_pte(): "BUG: Bad page map in process %s  pte:%08llx pmd:%08llx"

def test_arm_classic_bad_page_map_still_decodes():
    # the values of the arm32 4.3 sample's kind: Linux PTE 4a44e100 (L_PTE_USER only), L1 coarse table
    out = decode_text("BUG: Bad page map in process sysmgr  pte:4a44e100 pmd:4dfc8831", arch="arm")
    pte = one(out, "bad_page_map", type="pte")
    assert (pte.pfn, pte.phys, pte.flags) == (0x4A44E, 0x4A44E000, ("USER",))
    assert one(out, "bad_page_map", type="pmd").phys == 0x4DFC8800


def test_arm_lpae_bad_page_map():
    # pgtable-3level.h: 0x00c0000123456f4f = DIRTY(55) XN(54), phys 0x123456000 (bits 39:12),
    # nG(11) YOUNG(10) SHARED(9:8) USER(6) AttrIndx 3 (3:2) PRESENT/VALID (1:0); %08llx prints
    # it in 14 digits; pmd 1f5e2d003 is a table descriptor (0b11) at 0x1f5e2d000
    out = decode_text("BUG: Bad page map in process dd  pte:c0000123456f4f pmd:1f5e2d003", arch="arm")
    pte = one(out, "bad_page_map", type="pte")
    assert (pte.pfn, pte.phys) == (0x123456, 0x123456000)
    assert pte.flags == ("VALID", "PRESENT", "USER", "SHARED", "YOUNG", "NG", "XN", "DIRTY")
    assert "LPAE" in pte.note
    pmd = one(out, "bad_page_map", type="pmd")
    assert pmd.phys == 0x1F5E2D000 and "table descriptor" in pmd.note


def test_arm_lpae_said_by_the_caller_and_blocks():
    layout = make_layout("arm", None)
    # 8 digits: classic unless told
    assert generic_pte(0x93A4E743, layout, 8)[3].startswith("ARM Linux PTE")
    assert generic_pte(0x93A4E743, layout, 8, lpae=True)[3].startswith("ARM LPAE PTE")
    assert _lpae(SimpleNamespace(lpae=True), None) is True  # type: ignore[arg-type]
    assert _lpae(layout, None) is None
    # a 2 MiB block (0b01) at the PMD level: output address bits 39:21
    block = arm_tables.lpae_table("PMD", 0x0060000140200711)
    assert (block.phys, block.flags[0]) == (0x140200000, "BLOCK") and "2 MiB" in block.how
    # v3.17+ read-only is bit 58; bit 7 is the hardware AP[2]
    assert arm_tables.lpae_pte((1 << 58) | 0x80 | 0x3).flags == ("VALID", "PRESENT", "AP2", "RDONLY")


# arch/arm/mm/fault.c __do_kernel_fault() "Unable to handle kernel %s at virtual address %08lx";
# show_pte(): "pgd = %p", "[%08lx] *pgd=%08llx", pr_cont(", *pmd=%08llx") (LPAE),
# pr_cont(", *pte=%08llx"), pr_cont(", *ppte=%08llx") (classic)
ARM_FAULT = "Unable to handle kernel paging request at virtual address e0b31004"


def test_arm_classic_show_pte():
    text = f"{ARM_FAULT}\npgd = c3f44000\n[e0b31004] *pgd=2f1ad811, *pte=2e0e465f, *ppte=2e0e445f\n"
    out = decode_text(text, arch="arm")
    assert one(out, "pte", type="pgd pointer").virt == 0xC3F44000
    assert one(out, "pte", type="PGD").phys == 0x2F1AD800  # coarse table: & ~0x3ff
    # Linux PTE 0x2e0e465f: XN(9) SHARED(10) DIRTY(6) YOUNG(1) VALID(0), the faulting byte 0x004
    pte = one(out, "pte", type="PTE")
    assert (pte.pfn, pte.phys, pte.virt) == (0x2E0E4, 0x2E0E4004, 0xE0B31004)
    assert pte.flags == ("VALID", "YOUNG", "DIRTY", "XN", "SHARED")
    # hardware small page 0x2e0e445f: XN(0) B(2) C(3) AP0(4) S(10)
    hw = one(out, "pte", type="PPTE")
    assert (hw.phys, hw.flags, hw.virt) == (0x2E0E4000, ("XN", "B", "C", "AP0", "S"), None)


def test_arm_show_pte_pieces_on_their_own_lines():
    pre = "Mar  3 12:00:00 board kernel: "
    whole = decode_text(f"{pre}{ARM_FAULT}\n{pre}[e0b31004] *pgd=2f1ad811, *pte=2e0e465f, *ppte=2e0e445f\n",
                        arch="arm")
    split = decode_text(f"{pre}{ARM_FAULT}\n{pre}[e0b31004] *pgd=2f1ad811\n{pre}, *pte=2e0e465f\n"
                        f"{pre}, *ppte=2e0e445f\n", arch="arm")
    assert ptes(split) == ptes(whole) and len(ptes(whole)) == 3
    # a piece with no show_pte() open is not read
    assert decode_text(", *pte=2e0e465f", arch="arm") == []


def test_arm_lpae_show_pte():
    # "*pmd=" is printed only when PTRS_PER_PMD != 1, i.e. with LPAE; pte 0x00c0000093a4ef5f
    text = ("Unable to handle kernel paging request at virtual address b6f2e000\n"
            "[b6f2e000] *pgd=bfd0b003, *pmd=bf4a1003, *pte=c0000093a4ef5f\n")
    out = decode_text(text, arch="arm")
    assert one(out, "pte", type="PGD").phys == 0xBFD0B000
    assert one(out, "pte", type="PMD").phys == 0xBF4A1000
    pte = one(out, "pte", type="PTE")
    assert (pte.pfn, pte.phys, pte.virt) == (0x93A4E, 0x93A4E000, 0xB6F2E000)
    assert pte.flags == ("VALID", "PRESENT", "USER", "SHARED", "YOUNG", "NG", "XN", "DIRTY")


# ======================================================================================
# Swap entries after "Bad swap file entry"
# ======================================================================================

# mm/swapfile.c: pr_err("%s: %s%08lx\n", __func__, Bad_file, entry.val) (v5.x/v6.x __swap_info_get,
# get_swap_device ...), "swap_info_get: %s%08lx" (later v4.x), "swap_free: %s%08lx" (before);
# then print_bad_pte() of the same pte (zap_pte_range: free_swap_and_cache() failed).

def test_x86_64_swap_entry():
    # type 15, offset 0xa1b2.  swp_entry_t (v4.20+, SWP_TYPE_SHIFT 63 - 5 = 58):
    # 15 << 58 | 0xa1b2 = 0x3c0000000000a1b2.  L1TF pte: type << 59 | (~offset & (2^50 - 1)) << 9
    # = 0x7800000000000000 | 0x3ffffffff5e4d << 9 = 0x7ffffffffebc9a00 (P, PROTNONE clear)
    text = ("[ 5120.000001] __swap_info_get: Bad swap file entry 3c0000000000a1b2\n"
            "[ 5120.000010] BUG: Bad page map in process kworker/u8:2  pte:7ffffffffebc9a00 pmd:12f4e3067\n")
    out = decode_text(text)
    bad = one(out, "bad_page_map", type="Bad swap file entry")
    assert bad.pfn is None and "type 15, offset 0xa1b2" in bad.note
    swap = one(out, "bad_page_map", type="swap entry")
    assert (swap.line, swap.pfn, swap.phys) == (2, None, None)
    assert swap.note.startswith("process kworker/u8:2; pte:7ffffffffebc9a00; swap entry: type 15, offset 0xa1b2 (")
    assert swap.note.endswith("linked to the 'Bad swap file entry' on line 1")
    assert "L1TF" in swap.note and "agrees with swp_entry_t" in swap.note
    assert one(out, "bad_page_map", type="pmd").phys == 0x12F4E3000
    assert not any(f.type == "pte" for f in out)


def test_x86_64_pre_l1tf_swap_entry_is_picked_by_the_printed_value():
    # v4.x before v4.18: swp_entry_t SWP_TYPE_SHIFT 64 - (5 + 2) = 57: type 1, offset 0x3f21 ->
    # 0x200000000003f21; the pte (pgtable_64.h before L1TF): 1 << 9 | 0x3f21 << 14 = 0xfc84200
    text = ("swap_info_get: Unused swap offset entry 200000000003f21\n"
            "BUG: Bad page map in process java  pte:0fc84200 pmd:1d0a2f067\n")
    swap = one(decode_text(text), "bad_page_map", type="swap entry")
    assert "swap entry: type 1, offset 0x3f21 (x86_64 before v4.18" in swap.note
    assert "linked to the 'Unused swap offset entry' on line 1" in swap.note


def test_arm64_swap_entries():
    # v6.10+ (__SWP_TYPE_SHIFT 6, __SWP_OFFSET_SHIFT 12): type 3, offset 0x1c4 -> pte
    # 3 << 6 | 0x1c4 << 12 = 0x1c40c0; swp_entry_t 3 << 58 | 0x1c4 = 0xc000000000001c4
    text = ("get_swap_device: Bad swap file entry c000000000001c4\n"
            "BUG: Bad page map in process a.out  pte:001c40c0 pmd:81f2c003\n")
    swap = one(decode_text(text, arch="arm64"), "bad_page_map", type="swap entry")
    assert "swap entry: type 3, offset 0x1c4 (arm64 v6.10+" in swap.note
    # v6.0-v6.9 (__SWP_TYPE_SHIFT 3, __SWP_TYPE_BITS 5, __SWP_OFFSET_SHIFT 8): 3 << 3 | 0x1c4 << 8 = 0x1c418
    text = text.replace("001c40c0", "0001c418")
    swap = one(decode_text(text, arch="arm64"), "bad_page_map", type="swap entry")
    assert "swap entry: type 3, offset 0x1c4 (arm64 v6.0-v6.9" in swap.note


def test_arm_classic_swap_entry():
    # arch/arm pgtable.h v4.0-v6.2 (__SWP_TYPE_SHIFT 2, __SWP_TYPE_BITS 5, __SWP_OFFSET_SHIFT 7):
    # type 2, offset 0x5a3 -> 2 << 2 | 0x5a3 << 7 = 0x2d188; swp_entry_t on 32 bits (v4.20+,
    # SWP_TYPE_SHIFT 31 - 5 = 26): 2 << 26 | 0x5a3 = 0x080005a3
    text = ("__swap_info_get: Bad swap file entry 080005a3\n"
            "BUG: Bad page map in process sh  pte:0002d188 pmd:2f1ad811\n")
    out = decode_text(text, arch="arm")
    assert "type 2, offset 0x5a3" in one(out, "bad_page_map", type="Bad swap file entry").note
    swap = one(out, "bad_page_map", type="swap entry")
    assert swap.pfn is None and "swap entry: type 2, offset 0x5a3 (arm v4.0-v6.2" in swap.note
    # v6.3+ keeps the exclusive marker in bit 7: offset from bit 8 (0x2d1 here) is listed too
    assert "v6.3+: type 2, offset 0x2d1" in swap.note


def test_a_pte_far_from_the_swap_line_or_present_is_a_page():
    far = ("swap_free: Bad swap file entry 3c0000000000a1b2\n" + "x\n" * 6
           + "BUG: Bad page map in process a  pte:7ffffffffebc9a00 pmd:12f4e3067\n")
    out = decode_text(far)
    assert "L1TF" in one(out, "bad_page_map", type="pte").note
    assert not any(f.type == "swap entry" for f in out)
    present = ("swap_free: Bad swap file entry 3c0000000000a1b2\n"
               "BUG: Bad page map in process a  pte:800000011a2b3067 pmd:1c0de067\n")
    out = decode_text(present)
    assert one(out, "bad_page_map", type="pte").pfn == 0x11A2B3
    assert not any(f.type == "swap entry" for f in out)


# ======================================================================================
# The fixture
# ======================================================================================


def test_fixture_issue17_walks():
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    out = decode_text("\n".join(ln for ln in lines if not ln.startswith("#")) + "\n")
    leaf = one(out, "pte", type="PTE", line=8)
    assert (leaf.virt, leaf.pfn, leaf.phys) == (0xFFFF88813A5C7E40, 0x13A5C7, 0x13A5C7E40)
    assert "P4D folded" in one(out, "pte", type="P4D", line=5).note
    assert one(out, "pte", type="PMD", line=13).note == "PMD 0; empty"
    assert one(out, "page_fault", line=14).type == "kernel NULL pointer dereference"
    assert [f.type for f in out if f.kind == "pte" and 18 <= f.line <= 20] == ["PDPT", "PDE", "PTE"]
    assert "type 15, offset 0xa1b2" in one(out, "bad_page_map", type="swap entry", line=22).note
    assert "type 1, offset 0x3f21" in one(out, "bad_page_map", type="swap entry", line=25).note
    assert one(out, "bad_page_map", type="Bad swap offset entry", line=26).pfn is None


def test_arm_lpae_below_4gib_is_told_by_the_pmd_type_bits():
    # an LPAE pte of a page under 4 GiB with no high flags prints in 8 digits; its pmd, a
    # table descriptor, has type bits 0b11, which a classic L1 descriptor never has in Linux
    out = decode_text("BUG: Bad page map in process dd  pte:93a4ef5f pmd:bf4a1003", arch="arm")
    assert one(out, "bad_page_map", type="pmd").phys == 0xBF4A1000
    pte = one(out, "bad_page_map", type="pte")
    assert pte.phys == 0x93A4E000 and "LPAE" in pte.note and "NG" in pte.flags
    # show_pte(): a lone "*pgd=" of type 0b11, then ", *pmd=" and ", *pte=" on lines of their own
    split = decode_text("Unable to handle kernel paging request at virtual address b6f2e000\n"
                        "[b6f2e000] *pgd=bfd0b003\n, *pmd=bf4a1003\n, *pte=93a4ef5f\n", arch="arm")
    assert one(split, "pte", type="PGD").phys == 0xBFD0B000
    assert one(split, "pte", type="PTE", line=4).virt == 0xB6F2E000


def test_32bit_pde_huge_pages():
    # non-PAE "*pde = %08Lx" with PSE: a 4 MiB page, bits 31:22; PAE (16 digits): 2 MiB
    out = decode_text("BUG: unable to handle kernel paging request at c8123456\n*pde = 080001e3 \n", arch="i386")
    pde = one(out, "pte", type="PDE")
    assert (pde.pfn, pde.phys, pde.virt) == (0x8000, 0x8123456, 0xC8123456) and "4 MiB" in pde.note
    out = decode_text("BUG: unable to handle kernel paging request at c8123456\n"
                      "*pdpt = 0000000001b4e001 *pde = 00000000082000e3 \n", arch="i386")
    assert one(out, "pte", type="PDE").phys == 0x8323456
