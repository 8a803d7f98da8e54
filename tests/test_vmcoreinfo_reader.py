"""read_vmcoreinfo() on VMCOREINFO texts written in the order and formats of v6.12
kernel/vmcore_info.c, kernel/printk/printk.c and the arch vmcore_info.c files
(tests/fixtures/machines/VMCOREINFO.md), on broken and foreign texts, and on random text."""

from __future__ import annotations

import ctypes
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfnconsole.core.arch_tables import arm64_profile
from pfnconsole.core.page_flags import Config, enum_names
from pfnconsole.decode.iomem import read_iomem
from pfnconsole.decode.vmcoreinfo import MAX_LINES, read_vmcoreinfo

FIXTURES = Path(__file__).parent / "fixtures" / "machines"
X86 = (FIXTURES / "vmcoreinfo-x86_64-kaslr.txt").read_text()
ARM64 = (FIXTURES / "vmcoreinfo-arm64.txt").read_text()
U64 = (1 << 64) - 1
START_KERNEL = 0xFFFFFFFF81000000   # __START_KERNEL: __START_KERNEL_map + CONFIG_PHYSICAL_START
START_KERNEL_MAP = 0xFFFFFFFF80000000


def _read(text: str):
    got = read_vmcoreinfo(text)
    assert got is not None
    return got


def test_x86_64_fixture_gives_the_machine_facts():
    c = _read(X86)
    assert c.arch == "x86_64" and "SYMBOL(init_top_pgt)" in c.arch_how
    assert c.osrelease == "6.12.38+deb13-amd64" and c.kver == (6, 12)
    assert (c.page_size, c.struct_page_size, c.page_flags_offset) == (4096, 64, 0)
    assert (c.section_size_bits, c.max_physmem_bits) == (27, 46)
    assert c.kernel_offset == 0xA200000 and c.phys_base == 0xCA00000 and c.l5 is False
    assert c.vmemmap == 0xFFFFE3A1C0000000 and c.numbers["VMALLOC_START"] == 0xFFFFB1E6C0000000
    assert c.page_offset is None  # x86_64 exports no page_offset_base
    assert (c.va_bits, c.phys_offset, c.kimage_voffset) == (None, None, None)
    assert c.skipped == () and c.missing == ()
    assert c.lines == len([line for line in X86.splitlines() if line.strip()])
    assert c.lengths["node_data"] == 1024 and c.sizes["nodemask_t"] == 1024 // 8
    assert c.symbols["swapper_pg_dir"] == c.symbols["init_top_pgt"]  # swapper_pg_dir is init_top_pgt


def test_x86_64_kaslr_numbers_agree_with_each_other_and_with_the_iomem_fixture():
    c = _read(X86)
    # kaslr_offset() = _text - __START_KERNEL; on x86_64 _stext == _text
    assert c.symbols["_stext"] == START_KERNEL + c.kernel_offset
    # __pa_symbol(x) = x - __START_KERNEL_map + phys_base: the "Kernel code" resource of the same machine
    iomem = read_iomem((FIXTURES / "iomem-x86_64-pmem.txt").read_text())
    assert iomem is not None
    code = next(r for r in iomem.resources if r.name == "Kernel code")
    assert c.symbols["_stext"] - START_KERNEL_MAP + c.phys_base == code.start
    assert c.numbers["KERNEL_IMAGE_SIZE"] == 1 << 30  # KERNEL_IMAGE_SIZE with RANDOMIZE_BASE


def _keys(text: str) -> list[str]:
    return [line.split("=", 1)[0] for line in text.splitlines()]


def test_both_fixtures_share_the_generic_lines_then_end_with_their_arch_function():
    x86, arm = _keys(X86), _keys(ARM64)
    generic = len(x86) - 9
    assert x86[:generic] == arm[:generic] and x86[:3] == ["OSRELEASE", "BUILD-ID", "PAGESIZE"]
    # arch/x86/kernel/vmcore_info_64.c, then crash_save_vmcoreinfo()'s CRASHTIME at the crash
    assert x86[generic:] == ["NUMBER(phys_base)", "SYMBOL(init_top_pgt)", "NUMBER(pgtable_l5_enabled)",
                             "SYMBOL(node_data)", "LENGTH(node_data)", "KERNELOFFSET",
                             "NUMBER(KERNEL_IMAGE_SIZE)", "NUMBER(sme_mask)", "CRASHTIME"]
    # arch/arm64/kernel/vmcore_info.c
    assert arm[generic:] == ["NUMBER(VA_BITS)", "NUMBER(MODULES_VADDR)", "NUMBER(MODULES_END)",
                             "NUMBER(VMALLOC_END)", "NUMBER(VMEMMAP_START)", "NUMBER(VMEMMAP_END)",
                             "NUMBER(kimage_voffset)", "NUMBER(PHYS_OFFSET)", "NUMBER(TCR_EL1_T1SZ)",
                             "KERNELOFFSET", "NUMBER(KERNELPACMASK)"]
    assert max(len(line) for line in X86.splitlines() + ARM64.splitlines()) < 0x50  # vmcoreinfo_append_str buf


@pytest.mark.parametrize("text", [X86, ARM64], ids=["x86_64", "arm64"])
def test_mem_section_roots_fit_the_section_numbers(text):
    c = _read(text)
    # NR_SECTION_ROOTS = NR_MEM_SECTIONS / SECTIONS_PER_ROOT (PAGE_SIZE / sizeof(struct mem_section))
    per_root = c.page_size // c.sizes["mem_section"]
    assert c.lengths["mem_section"] * per_root == 1 << (c.max_physmem_bits - c.section_size_bits)


def test_arm64_fixture_gives_the_machine_facts():
    c = _read(ARM64)
    assert c.arch == "arm64" and "NUMBER(kimage_voffset)" in c.arch_how
    assert c.osrelease == "6.12.38+deb13-arm64" and c.kver == (6, 12)
    assert (c.page_size, c.struct_page_size, c.page_flags_offset) == (4096, 64, 0)
    assert (c.section_size_bits, c.max_physmem_bits, c.va_bits) == (27, 48, 48)
    assert c.kernel_offset == 0x3B1F4C600000 and c.phys_offset == 0x40000000
    assert c.kimage_voffset == 0xFFFFBB1E15800000
    assert (c.phys_base, c.l5, c.page_offset) == (None, None, None)
    assert c.skipped == () and c.missing == ()
    assert not any(line.startswith("CRASHTIME=") for line in ARM64.splitlines())  # live: /proc/kcore
    assert c.numbers["TCR_EL1_T1SZ"] == 64 - c.va_bits


def test_arm64_layout_numbers_follow_memory_h_and_pgtable_h():
    c = _read(ARM64)
    n = c.numbers
    page_end = (-(1 << (c.va_bits - 1))) & U64                                   # _PAGE_END(VA_BITS_MIN)
    assert n["MODULES_VADDR"] == page_end and n["MODULES_END"] == page_end + (2 << 30)
    assert n["VMALLOC_START"] == n["MODULES_END"]                                # VMALLOC_START
    assert n["VMEMMAP_END"] == (-(1 << 30)) & U64                                # -SZ_1G
    vmemmap_size = ((1 << (c.va_bits - 1)) >> 12) * c.struct_page_size           # VMEMMAP_SIZE
    assert n["VMEMMAP_START"] == n["VMEMMAP_END"] - vmemmap_size
    assert n["VMALLOC_END"] == n["VMEMMAP_START"] - (8 << 20)                    # VA_BITS == VA_BITS_MIN
    # vmemmap = (struct page *)VMEMMAP_START - (memstart_addr >> PAGE_SHIFT)
    assert c.vmemmap == n["VMEMMAP_START"] - (c.phys_offset >> 12) * c.struct_page_size
    # the simulator's own arm64 v6.12 profile puts vmemmap and vmalloc at the same places
    prof = arm64_profile(12, c.kver, c.struct_page_size, c.phys_offset)
    assert (prof.vmemmap_base, prof.vmemmap_start, prof.vmalloc_base) == (
        c.vmemmap, n["VMEMMAP_START"], n["VMALLOC_START"])


@pytest.mark.parametrize(("text", "arch"), [(X86, "x86_64"), (ARM64, "arm64")], ids=["x86_64", "arm64"])
def test_pg_bits_are_the_v6_12_enum_pageflags_of_page_flags_py(text, arch):
    c = _read(text)
    cfg = Config(kver=(6, 12, 38), arch=arch, nodes_shift=10, nr_cpus=8192, zone_device=True,
                 memmodel="vmemmap", numa_balancing=True, kasan="none", lru_gen=True)
    names = enum_names(cfg)  # pfnconsole/core/page_flags.py BASE_612 and its members, bit order
    # PG_swapcache = PG_owner_priv_1 (an alias); PG_head from PG_head_mask = 1UL << PG_head
    want = {"PG_lru": "lru", "PG_private": "private", "PG_swapcache": "owner_priv_1",
            "PG_swapbacked": "swapbacked", "PG_hwpoison": "hwpoison", "PG_head": "head"}
    assert c.pg == {key: names.index(name) for key, name in want.items()}
    assert c.numbers["PG_head_mask"] == 1 << c.pg["PG_head"]
    assert "PG_slab" not in c.numbers  # slab is a page type since v6.10


@pytest.mark.parametrize("text", [X86, ARM64], ids=["x86_64", "arm64"])
def test_page_type_values_are_pgty_shifted_as_a_c_int(text):
    n = _read(text).numbers
    # kernel/vmcore_info.c: #define PAGE_BUDDY_MAPCOUNT_VALUE (PGTY_buddy << 24), an int, printed %ld
    pgty = {"PAGE_BUDDY_MAPCOUNT_VALUE": 0xF0, "PAGE_OFFLINE_MAPCOUNT_VALUE": 0xF1,
            "PAGE_HUGETLB_MAPCOUNT_VALUE": 0xF4, "PAGE_SLAB_MAPCOUNT_VALUE": 0xF5}
    assert {k: n[k] for k in pgty} == {k: ctypes.c_int32(v << 24).value for k, v in pgty.items()}


def test_dmesg_and_iomem_are_not_vmcoreinfo():
    assert read_vmcoreinfo((FIXTURES / "iomem-x86_64-pmem.txt").read_text()) is None
    assert read_vmcoreinfo((Path(__file__).parent / "fixtures" / "decode" / "boot_x86.log").read_text()) is None
    # makedumpfile echoes the note into the kdump kernel's log: timestamps are not VMCOREINFO
    dmesg = "".join(f"[   13.{i:06d}]   {line}\n" for i, line in enumerate(X86.splitlines()))
    assert read_vmcoreinfo(dmesg) is None
    assert read_vmcoreinfo("") is None and read_vmcoreinfo("PAGESIZE=4096\nSIZE(page)=64\n") is None


def test_first_five_lines_parse_and_name_what_is_missing():
    c = _read("\n".join(X86.splitlines()[:5]))
    assert c.lines == 5 and c.arch is None and c.page_size == 4096 and c.kver == (6, 12)
    assert c.struct_page_size is None and c.section_size_bits is None and c.vmemmap is None
    for key in ("SIZE(page)", "OFFSET(page.flags)", "NUMBER(SECTION_SIZE_BITS)", "NUMBER(MAX_PHYSMEM_BITS)"):
        assert key in c.missing
    assert "OSRELEASE" not in c.missing and "PAGESIZE" not in c.missing
    assert not any("phys_base" in m or "VA_BITS" in m for m in c.missing)  # no arch, no arch keys
    assert any("arch" in m for m in c.missing)


@pytest.mark.parametrize(("text", "drop", "arch"), [
    (X86, "NUMBER(pgtable_l5_enabled)=", "x86_64"),
    (ARM64, "NUMBER(PHYS_OFFSET)=", "arm64"),
    (ARM64, "SIZE(page)=", "arm64"),
], ids=["x86_64-l5", "arm64-phys-offset", "arm64-struct-page"])
def test_missing_names_only_the_arch_s_own_absent_key(text, drop, arch):
    c = _read("\n".join(line for line in text.splitlines() if not line.startswith(drop)))
    assert c.arch == arch and c.missing == (drop.rstrip("="),)


def test_garbage_lines_are_counted_in_skipped_by_line_number():
    lines = X86.splitlines()
    bad = {2: "hello world", 10: "SYMBOL(_stext)=zz", 20: "NUMBER(VA_BITS)=ff",
           30: "SIZE(page)=" + "1" * 300, 40: "OFFSET(page.flags)", 50: "Symbol(x)=1"}
    for at in sorted(bad):
        lines.insert(at - 1, bad[at])
    c = _read("\n".join(lines))
    assert c.skipped == tuple(sorted(bad)) and c.lines == len(X86.splitlines())
    assert c.struct_page_size == 64 and c.va_bits is None  # the bad copies were not taken
    assert read_vmcoreinfo("\n".join(["junk"] * 110 + X86.splitlines())) is None  # more junk than keys


def test_crlf_trailing_blanks_and_crash_indent_read_the_same():
    plain = _read(X86)
    assert _read(X86.replace("\n", "\r\n")) == plain
    assert _read("".join(f"{line}   \n" for line in X86.splitlines())) == plain
    assert _read("".join(f"                      {line}\n" for line in X86.splitlines())) == plain  # crash help -D


def test_reading_stops_at_max_lines():
    assert read_vmcoreinfo("x\n" * MAX_LINES + ARM64) is None
    assert read_vmcoreinfo("NUMBER(VA_BITS)=48\n" * 3 + "A" * 5_000_000) is not None  # one long line skipped


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_random_text_never_raises(text):
    got = read_vmcoreinfo(text)
    assert got is None or (got.lines >= 3 and got.lines > len(got.skipped))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(ARM64.splitlines()),
                         st.text(st.characters(blacklist_characters="\n"), max_size=90)), max_size=150),
       st.sampled_from(["\n", "\r\n"]))
def test_fixture_lines_mixed_with_random_lines_never_raise(lines, sep):
    got = read_vmcoreinfo(sep.join(lines))
    if got is not None:
        assert got.arch in (None, "arm64") and got.lines + len(got.skipped) <= len(lines)
