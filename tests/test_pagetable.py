"""Kernel page tables (issue 18, point 3): `vtop`, `ptov`, `pte`.

Worked examples: the index fields of arch/x86/include/asm/pgtable_64_types.h
(__va(0x100600000) = 0xffff888100600000 -> PGD 273, PUD 4, PMD 3, PTE 0; 5-level
0xff11000100600000 -> PGD 273, P4D 0, PUD 4, PMD 3, PTE 0; the struct page of pfn 0x100600,
0xffffea0004018000 -> PGD 468, PUD 0, PMD 32, PTE 24), the entry bits of pgtable_types.h,
the L1TF inversion of pgtable-invert.h on the PTE of a real DEBUG_PAGEALLOC oops
(0x800ffffed6f54060 -> pfn 0x1290ab), and arm64's ARM64_HW_PGTABLE_LEVELS.
"""

from __future__ import annotations

import pytest

from pfnconsole.commands import Session
from pfnconsole.core.errors import EngineError
from pfnconsole.core.machine import Machine, MachineSpec
from pfnconsole.core.pagetable import decode_entry, geometry, vtop


def indexes(arch: str, page_shift: int, va: int) -> list[tuple[str, int]]:
    return [(lv.name, (va >> lv.shift) & ((1 << lv.bits) - 1)) for lv in geometry(arch, page_shift).levels]


def test_x86_index_fields_are_the_kernels_worked_examples() -> None:
    assert indexes("x86_64", 12, 0xFFFF888100600000) == [("PGD", 273), ("PUD", 4), ("PMD", 3), ("PTE", 0)]
    assert indexes("x86_64-5level", 12, 0xFF11000100600000) == [
        ("PGD", 273), ("P4D", 0), ("PUD", 4), ("PMD", 3), ("PTE", 0)]
    assert indexes("x86_64", 12, 0xFFFFEA0004018000) == [("PGD", 468), ("PUD", 0), ("PMD", 32), ("PTE", 24)]
    assert geometry("x86_64", 12).folded == ("P4D",)


@pytest.mark.parametrize("shift,levels,top_bits", [(12, 4, 9), (14, 4, 1), (16, 3, 6)])
def test_arm64_levels_follow_arm64_hw_pgtable_levels(shift: int, levels: int, top_bits: int) -> None:
    # ARM64_HW_PGTABLE_LEVELS(48) = (48 - 4) / (PAGE_SHIFT - 3): 4K -> 4, 16K -> 4, 64K -> 3
    g = geometry("arm64", shift)
    assert len(g.levels) == levels == (48 - 4) // (shift - 3)
    assert g.levels[0].bits == top_bits and g.levels[-1].shift == shift
    assert sum(lv.bits for lv in g.levels) + shift == 48


def test_the_direct_map_uses_the_biggest_leaf_that_fits_the_ram() -> None:
    m = Machine(MachineSpec())  # x86_64: RAM from 1 MiB to ~3 GiB, then from 4 GiB
    s = m.state
    big = vtop(s, 0xFFFF888100600000)
    assert [x.what for x in big.steps] == ["table", "leaf"] and big.leaf == 1 << 30
    assert big.phys == 0x100600000 and big.pfn == 0x100600
    assert big.steps[-1].entry == 0x100000000 | 0x80000000000001E3  # __PAGE_KERNEL_LARGE | NX
    mid = vtop(s, s.arch.va(0x200000))  # [0, 1 GiB) holds the hole below 1 MiB: 2 MiB leaves
    assert mid.leaf == 2 << 20 and [x.level for x in mid.steps] == ["PGD", "PUD", "PMD"]
    small = vtop(s, s.arch.va(0x100000))  # [0, 2 MiB) holds the hole too: 4 KiB pages
    assert small.leaf == 4096 and small.steps[-1].index == 256
    assert small.steps[-1].entry == 0x100000 | 0x8000000000000163
    hole = vtop(s, s.arch.va(0xA0000))
    assert hole.phys is None and hole.steps[-1].what == "none" and hole.steps[-1].level == "PTE"
    assert all(x.entry & 0xFFF == 0x063 for x in small.steps[:-1])  # _KERNPG_TABLE


def test_the_vmemmap_of_present_sections_in_2_mib_leaves() -> None:
    s = Machine(MachineSpec()).state
    w = vtop(s, 0xFFFFEA0004018000)  # struct page of pfn 0x100600
    assert [(x.level, x.index, x.what) for x in w.steps] == [("PGD", 468, "table"), ("PUD", 0, "table"),
                                                            ("PMD", 32, "leaf")]
    assert w.mapping is not None and w.mapping.kind == "vmemmap" and w.leaf == 2 << 20
    far = vtop(s, 0xFFFFEA7000000000)  # the memmap of a section far beyond RAM
    assert far.phys is None and far.steps[-1].what == "none"


def test_kmap_ranges_map_with_huge_leaves_when_aligned() -> None:
    sess = Session()
    assert sess.execute("register pmem0 0x440000000 1G").ok
    base = sess.machine.state.ranges["pmem0"].base
    w = vtop(sess.machine.state, base + 0x1234)
    assert w.leaf == 1 << 30 and w.phys == 0x440001234 and w.mapping and w.mapping.kind == "kmap range pmem0"
    assert sess.execute("register tiny 0x4c0000000 64K").ok
    base = sess.machine.state.ranges["tiny"].base
    assert vtop(sess.machine.state, base + 0x2000).leaf == 4096
    r = sess.execute("ptov 0x440001234")
    assert r.ok and [m["kind"] for m in r.data["mappings"]] == ["kmap range pmem0"]


@pytest.mark.parametrize("shift,leaf_levels", [(12, 4), (16, 3)])
def test_arm64_linear_map_is_page_by_page_and_the_vmemmap_follows_the_granule(shift: int,
                                                                              leaf_levels: int) -> None:
    s = Machine(MachineSpec(arch="arm64", page_shift=shift)).state
    a = s.arch
    w = vtop(s, a.va(a.phys_offset + 0x100000 + 0x42))
    assert w.leaf == a.page_size and len(w.steps) == leaf_levels and w.phys == a.phys_offset + 0x100042
    assert w.steps[-1].entry & 3 == 3 and w.steps[-1].entry >> 10 & 1  # page descriptor, AF
    vm = vtop(s, a.vmemmap_base + ((a.phys_offset >> a.page_shift) + 5) * a.struct_page_size)
    assert vm.leaf == ((2 << 20) if shift == 12 else a.page_size)


def test_riscv64_sv39_walks_three_levels() -> None:
    s = Machine(MachineSpec(arch="riscv64", kver="6.12")).state
    a = s.arch
    w = vtop(s, a.va(a.phys_offset + (1 << 30) + 0x5000))
    assert w.steps[0].level == "PGD" and len(geometry("riscv64", 12).levels) == 3
    assert w.phys == a.phys_offset + (1 << 30) + 0x5000
    leaf = w.steps[-1].entry
    assert leaf & 0xFF == 0xE7 and (leaf >> 10) << 12 == w.phys & ~(w.leaf - 1)  # PPN at bit 10
    assert decode_entry(leaf, "riscv64")[:2] == (w.phys & ~(w.leaf - 1), True)


def test_a_64_tib_machine_walks_without_building_anything() -> None:
    m = Machine(MachineSpec(arch="x86_64-5level", ram=64 << 40))
    s = m.state
    w = vtop(s, s.arch.va((40 << 40) + 0x1000))
    assert w.leaf == 1 << 30 and w.phys == (40 << 40) + 0x1000 and len(w.steps) == 3


def test_raw_entries_decode_as_the_kernel_reads_them() -> None:
    # the real DEBUG_PAGEALLOC oops' PTE: not present, pfn stored inverted
    addr, leaf, flags, how = decode_entry(0x800FFFFED6F54060, "x86_64")
    assert addr == 0x1290AB000 and "PRESENT" not in flags and "inverted" in how
    addr, leaf, flags, _ = decode_entry(0x80000001000001E3, "x86_64", "PUD")
    assert (addr, leaf) == (0x100000000, True) and "PSE" in flags
    addr, leaf, _, how = decode_entry(0x0000000246000063, "x86_64", "PMD")
    assert (addr, leaf) == (0x246000000, False) and "table" in how
    assert decode_entry(0, "x86_64")[3].startswith("empty")
    addr, leaf, flags, how = decode_entry(0x0060000040200701, "arm64", "PMD")
    assert (addr, leaf) == (0x40200000, True) and "block" in how and {"AF", "PXN", "UXN"} <= set(flags)


def test_commands_answer_in_json_and_refuse_clearly() -> None:
    s = Session()
    before = s.machine.fingerprint()
    r = s.execute("vtop 0xffff888100600000")
    assert r.ok and r.data["pfn"] == 0x100600 and [x["level"] for x in r.data["levels"]] == ["PGD", "PUD"]
    assert r.data["loads"] == 2 and r.data["folded"] == ["P4D"]
    r = s.execute("pte 0x800ffffed6f54060")
    assert r.ok and r.data["pfn"] == 0x1290AB and r.data["level"] == "PTE"
    for line, needle in [("vtop 0xffffffff81000000", "kernel text"), ("pte 5 level=P4D", "no P4D"),
                         ("pte 5 level=XYZ", "level"), ("vtop", "VADDR"), ("ptov 0x7fffffffffffffff", "MAX_PHYSMEM")]:
        r = s.execute(line)
        assert not r.ok and needle in r.error, (line, r.error)
    assert s.machine.fingerprint() == before
    with pytest.raises(EngineError, match="not modelled"):
        geometry("ppc64", 16)
