"""Architecture layouts by era (issue 16): the bases, pfn_to_page, __va, identify and
pfn_valid, each against the kernel's macros worked by hand from the source named in the id.

48-bit arm64, 4K pages, 64-byte struct page, no KASAN:
  v4.6-v5.3  PAGE_OFFSET -(1 << 47); VMEMMAP_START PAGE_OFFSET - 2^41; MODULES_VADDR
             VA_START (-(1 << 48)), from v5.0 after a 128M BPF JIT region; VMALLOC_START
             MODULES_END = MODULES_VADDR + 128M
  v5.4-v5.10 PAGE_OFFSET -(1 << 48); VMEMMAP_START -VMEMMAP_SIZE - SZ_2M = -2^41 - 2M;
             vmalloc after BPF JIT + modules: 0xffff800000000000 + 256M
  v5.11      VMEMMAP_START -(1 << (48 - 6)) = -2^42
  v5.16      no BPF JIT region: vmalloc 0xffff800000000000 + 128M
  v6.5       MODULES_VSIZE SZ_2G: vmalloc 0xffff800000000000 + 2G (memory.rst table)
  v6.9       VMEMMAP_END -SZ_1G, VMEMMAP_START VMEMMAP_END - 2^35 pages x 64
"""

import pytest

from pfnconsole.commands import Session
from pfnconsole.core.arch import RegionKind, arch_layout, arch_profile
from pfnconsole.core.errors import EngineError
from pfnconsole.core.machine import Machine, MachineSpec

M, G = 1 << 20, 1 << 30
TOP = 1 << 64

# (arch, kver, page_offset, vmemmap_base, vmalloc_base, max_physmem_bits)
BASES = [
    pytest.param("arm64", "5.3", TOP - (1 << 47), TOP - (1 << 47) - (1 << 41),
                 TOP - (1 << 48) + 256 * M, 48, id="arm64-v5.3-memory.h-pre-flip"),
    pytest.param("arm64", "4.20", TOP - (1 << 47), TOP - (1 << 47) - (1 << 41),
                 TOP - (1 << 48) + 128 * M, 48, id="arm64-v4.20-memory.h-no-bpf-jit"),
    pytest.param("arm64", "5.4", TOP - (1 << 48), TOP - (1 << 41) - 2 * M,
                 0xFFFF800010000000, 48, id="arm64-v5.4-14c127c957c1-flip"),
    pytest.param("arm64", "5.10", TOP - (1 << 48), 0xFFFFFDFFFFE00000,
                 0xFFFF800010000000, 48, id="arm64-v5.10-memory.h"),
    pytest.param("arm64", "5.11", TOP - (1 << 48), 0xFFFFFC0000000000,
                 0xFFFF800010000000, 48, id="arm64-v5.11-9ad7c6d5e75b-tidy-up"),
    pytest.param("arm64", "5.15", TOP - (1 << 48), 0xFFFFFC0000000000,
                 0xFFFF800010000000, 48, id="arm64-v5.15-memory.h-bpf-jit"),
    pytest.param("arm64", "5.16", TOP - (1 << 48), 0xFFFFFC0000000000,
                 0xFFFF800008000000, 48, id="arm64-v5.16-b89ddf4cca43-no-bpf-region"),
    pytest.param("arm64", "6.8", TOP - (1 << 48), 0xFFFFFC0000000000,
                 0xFFFF800080000000, 48, id="arm64-v6.8-memory.rst-table"),
    pytest.param("arm64", "6.9", TOP - (1 << 48), TOP - G - (1 << 35) * 64,
                 0xFFFF800080000000, 48, id="arm64-v6.9-memory.h-vmemmap-end"),
    pytest.param("ppc64", "5.1", 0xC000000000000000, 0xF000000000000000,
                 0xD000000000000000, 51, id="ppc64-v5.1-hash-64k.h-region-nibbles"),
    pytest.param("ppc64", "5.2", 0xC000000000000000, 0xC00C000000000000,
                 0xC008000000000000, 51, id="ppc64-v5.2-radix.h"),
    pytest.param("ppc64", "4.19", 0xC000000000000000, 0xF000000000000000,
                 0xD000000000000000, 46, id="ppc64-v4.19-sparsemem.h-46-bits"),
    pytest.param("ppc64", "4.20", 0xC000000000000000, 0xF000000000000000,
                 0xD000000000000000, 51, id="ppc64-v4.20-4ffe713b7587-2PB"),
    pytest.param("x86_64", "4.19", 0xFFFF880000000000, 0xFFFFEA0000000000,
                 0xFFFFC90000000000, 46, id="x86_64-v4.19-mm.txt"),
    pytest.param("x86_64", "4.20", 0xFFFF888000000000, 0xFFFFEA0000000000,
                 0xFFFFC90000000000, 46, id="x86_64-v4.20-mm.rst"),
    pytest.param("x86_64-5level", "4.20", 0xFF11000000000000, 0xFFD4000000000000,
                 0xFFA0000000000000, 52, id="x86_64-5level-mm.rst"),
    pytest.param("riscv64", "6.11", 0xFFFFFFD600000000, 0xFFFFFFC500000000,
                 0xFFFFFFC600000000, 56, id="riscv64-v6.11-vm-layout.rst-sv39"),
]


def _info(arch: str, kver: str) -> dict:
    s = Session()
    r = s.execute(f"machine {arch} kver={kver}")
    assert r.ok, r.error
    r = s.execute("info")
    assert r.ok, r.error
    return r.to_json()


@pytest.mark.parametrize("arch,kver,page_offset,vmemmap,vmalloc,bits", BASES)
def test_info_json_gives_the_kernels_bases(arch, kver, page_offset, vmemmap, vmalloc, bits):
    data = _info(arch, kver)
    got = (data["page_offset"], data["vmemmap_base"], data["vmalloc_base"],
           data["max_physmem_bits"])
    assert got == (page_offset, vmemmap, vmalloc, bits)


# pfn_to_page(0x100600) and __va(0x100600000): the x86_64 worked example, and the same
# page on the arm64 v5.10 layout (vmemmap + pfn * 64, PAGE_OFFSET + phys - PHYS_OFFSET).
@pytest.mark.parametrize("arch,kver,page,va", [
    pytest.param("x86_64", "6.6", 0xFFFFEA0004018000, 0xFFFF888100600000,
                 id="x86_64-mm.rst-worked-example"),
    pytest.param("arm64", "5.10", 0xFFFFFDFFFFE00000 + 0x100600 * 64, 0xFFFF000100600000,
                 id="arm64-v5.10-memory.h"),
    pytest.param("ppc64", "4.4", 0xF000000000000000 + 0x10060 * 64, 0xC000000100600000,
                 id="ppc64-v4.4-hash-64k.h"),
])
def test_pfn_to_page_and_va(arch, kver, page, va):
    m = Machine(MachineSpec(arch=arch, kver=kver))
    pfn = 0x100600000 >> m.state.arch.page_shift
    assert m.state.sparse.pfn_to_page(pfn) == page
    assert m.state.arch.va(0x100600000) == va


# identify: one address per region kind and profile, from each layout table.
IDENTIFY = [
    ("x86_64", "6.6", 0xFFFF888100600000, "direct map", "mm.rst"),
    ("x86_64", "6.6", 0xFFFFEA0004018000, "vmemmap", "mm.rst"),
    ("x86_64", "6.6", 0xFFFFC90000001000, "vmalloc/ioremap", "mm.rst"),
    ("x86_64", "6.6", 0xFFFFFFFFA0001000, "modules", "mm.rst"),
    ("x86_64", "6.6", 0xFFFFFFFF81000000, "kernel text", "mm.rst"),
    ("x86_64", "6.6", 0xFFFFFFFFFF5FF000, "fixmap", "mm.rst"),
    ("x86_64", "6.6", 0x00007FFFF7A00000, "user", "mm.rst"),
    ("x86_64", "6.6", 0x0000800000000000, "non-canonical", "mm.rst"),
    ("arm64", "6.6", 0xFFFF000000001000, "direct map", "memory.rst"),
    ("arm64", "6.6", 0xFFFFFC0000001000, "vmemmap", "memory.rst"),
    ("arm64", "6.6", 0xFFFF800090001000, "vmalloc/ioremap", "memory.rst"),
    ("arm64", "6.6", 0xFFFF800000001000, "modules", "memory.rst"),
    ("arm64", "6.6", 0xFFFF800080001000, "kernel text", "memory.rst"),
    ("arm64", "6.6", 0xFFFFFBFFF0001000, "fixmap", "memory.rst"),
    ("arm64", "6.6", 0x0000FFFFF7A00000, "user", "memory.rst"),
    ("arm64", "6.6", 0x0001000000000000, "non-canonical", "memory.rst"),
    ("arm64", "5.10", 0xFFFF800080001000, "vmalloc/ioremap", "memory.h-v5.10"),
    ("arm64", "5.10", 0xFFFF800008001000, "modules", "memory.h-v5.10"),
    ("riscv64", "6.11", 0xFFFFFFD600001000, "direct map", "vm-layout.rst"),
    ("riscv64", "6.11", 0xFFFFFFC500001000, "vmemmap", "vm-layout.rst"),
    ("riscv64", "6.11", 0xFFFFFFC600001000, "vmalloc/ioremap", "vm-layout.rst"),
    ("riscv64", "6.11", 0xFFFFFFFF00001000, "modules", "vm-layout.rst"),
    ("riscv64", "6.11", 0xFFFFFFFF80001000, "kernel text", "vm-layout.rst"),
    ("riscv64", "6.11", 0xFFFFFFC4FEA01000, "fixmap", "vm-layout.rst"),
    ("riscv64", "6.11", 0x0000003FF7A00000, "user", "vm-layout.rst"),
    ("riscv64", "6.11", 0x0000004000000000, "non-canonical", "vm-layout.rst"),
    ("ppc64", "5.2", 0xC000000100600000, "direct map", "radix.h"),
    ("ppc64", "5.2", 0xC00C000000401800, "vmemmap", "radix.h"),
    ("ppc64", "5.2", 0xC008000000001000, "vmalloc/ioremap", "radix.h"),
    ("ppc64", "5.1", 0xD000000000001000, "vmalloc/ioremap", "hash-64k.h"),
    ("ppc64", "5.1", 0xF000000000401800, "vmemmap", "hash-64k.h"),
    ("ppc64", "5.2", 0x00007FFFF7A00000, "user", "radix.h"),
    ("ppc64", "5.2", 0x8000000000000000, "non-canonical", "radix.h"),
]


@pytest.mark.parametrize("arch,kver,addr,region,source", [
    pytest.param(*row, id=f"{row[0]}-v{row[1]}-{row[4]}-{row[3].replace('/', '-')}")
    for row in IDENTIFY])
def test_identify_names_the_region_from_the_layout_table(arch, kver, addr, region, source):
    s = Session()
    assert s.execute(f"machine {arch} kver={kver}").ok
    r = s.execute(f"identify {addr:#x}")
    assert r.ok, r.error
    assert r.to_json()["region"] == region


def test_riscv_kernel_text_is_not_a_struct_page():
    """The vmemmap bound must not wrap past 2^64 (vm-layout.rst: the vmemmap is 4 GB)."""
    m = Machine(MachineSpec(arch="riscv64", kver="6.11"))
    r = m.identify(0xFFFFFFFF80001000)
    assert r.kind != "struct page" and r.pfn is None


def test_arm64_vmalloc_is_not_the_direct_map():
    """The arm64 linear map is 2^(VA_BITS-1) bytes: 0xffff800080001000 is beyond it."""
    m = Machine(MachineSpec(arch="arm64", kver="6.6"))
    assert m.state.arch.pa(0xFFFF800080001000) is None
    assert m.identify(0xFFFF800080001000).kind != "direct map"


# PHYS_OFFSET: arm64 memstart_addr (vmemmap = VMEMMAP_START - memstart_addr >> PAGE_SHIFT,
# __phys_to_virt = (x - PHYS_OFFSET) | PAGE_OFFSET); riscv phys_ram_base likewise.
@pytest.mark.parametrize("arch,kver,base,first_page,first_va", [
    pytest.param("arm64", "5.10", 0x40000000, 0xFFFFFDFFFFE00000, 0xFFFF000000000000,
                 id="arm64-v5.10-pgtable.h-memstart_addr"),
    pytest.param("riscv64", "6.11", 0x80000000, 0xFFFFFFC500000000, 0xFFFFFFD600000000,
                 id="riscv64-pgtable.h-phys_ram_base"),
])
def test_phys_offset_from_the_memory_map(arch, kver, base, first_page, first_va):
    e820 = ((base, base + 2 * G - 1, 1),)
    for spec in (MachineSpec(arch=arch, kver=kver, e820=e820),
                 MachineSpec(arch=arch, kver=kver, ram=2 * G, pmem=(), phys_offset=base)):
        st = Machine(spec).state
        pfn = base >> st.arch.page_shift
        assert st.arch.phys_offset == base
        assert st.sparse.pfn_to_page(pfn) == first_page
        assert st.arch.va(base) == first_va
        assert st.arch.pa(first_va) == base


def test_unaligned_phys_offset_is_refused_and_changes_nothing():
    s = Session()
    before = s.execute("info").to_json()
    r = s.execute("machine arm64 kver=5.10 phys_offset=0x1000")
    assert not r.ok and "ARM64_MEMSTART_ALIGN" in r.error
    assert s.execute("info").to_json() == before


# arm64 pfn_valid() before v5.14 (arch/arm64/mm/init.c) asks memblock: a hole inside a
# present section is not valid (the generic SPARSEMEM one, v5.14+ here, says valid).
@pytest.mark.parametrize("kver,valid", [
    pytest.param("5.10", False, id="arm64-v5.10-init.c-memblock_is_map_memory"),
    pytest.param("5.13", False, id="arm64-v5.13-init.c-memblock_is_memory"),
])
def test_arm64_pfn_valid_in_a_hole_of_a_present_section(kver, valid):
    # a 32M hole at +288M: inside one present section of 1G (v5.10) and of 128M (v6.6)
    e820 = ((0x40000000, 0x40000000 + 288 * M - 1, 1), (0x40000000 + 320 * M, 0x80000000 - 1, 1))
    st = Machine(MachineSpec(arch="arm64", kver=kver, e820=e820)).state
    hole_pfn = (0x40000000 + 300 * M) >> 12
    assert st.sparse.pfn_valid(0x40000000 >> 12)
    assert st.sparse.pfn_valid(hole_pfn) is valid


# sizeof(struct mem_section) is 32 with CONFIG_PAGE_EXTENSION (mmzone.h: + page_ext, pad):
# SECTIONS_PER_ROOT = 4096 / 32 = 128, so pfn 0x100600 (section 32) is root 0 index 32 and
# section 200 is root 1 index 72 (with 16 bytes: root 0 index 200).
@pytest.mark.parametrize("page_ext,spr,root,idx", [
    pytest.param(0, 256, 0, 200, id="mmzone.h-16-byte-mem_section"),
    pytest.param(1, 128, 1, 72, id="mmzone.h-CONFIG_PAGE_EXTENSION-32-byte"),
])
def test_page_ext_changes_root_and_index(page_ext, spr, root, idx):
    s = Session()
    assert s.execute(f"machine x86_64 page_ext={page_ext}").ok
    data = s.execute("info").to_json()
    assert data["sections_per_root"] == spr and data["mem_section_size"] == 4096 // spr
    sec = s.machine.state.sparse.nr_to_section(200)
    assert sec is not None and (sec.root, sec.idx) == (root, idx)


# SECTION_TAINT_ZONE_DEVICE exists only with CONFIG_ZONE_DEVICE in the enum form
# (mmzone.h, ~v6.0): SECTION_MAP_LAST_BIT 5 with it, 4 without.
@pytest.mark.parametrize("zone_device,last_bit", [
    pytest.param(1, 5, id="mmzone.h-v6.0-CONFIG_ZONE_DEVICE"),
    pytest.param(0, 4, id="mmzone.h-v6.0-no-ZONE_DEVICE"),
])
def test_taint_zone_device_needs_config_zone_device(zone_device, last_bit):
    s = Session()
    assert s.execute(f"machine x86_64 kver=6.6 zone_device={zone_device}").ok
    assert s.machine.state.sparse.era.map_last_bit == last_bit


def test_decoder_knows_the_v5_4_to_v5_10_vmemmap_window():
    regions = arch_layout("arm64").vmemmap_regions
    assert (0xFFFFFDFFFFE00000, 0xFFFFFDFFFFE00000 + (1 << 41)) in regions


@pytest.mark.parametrize("arch,kver", [
    pytest.param("arm64", "5.4", id="arm64-v5.4"), pytest.param("arm64", "6.16", id="arm64-v6.16"),
    pytest.param("ppc64", "4.4", id="ppc64-v4.4"), pytest.param("riscv64", "6.16", id="riscv64"),
])
def test_no_user_message_names_the_reference(arch, kver):
    s = Session()
    r = s.execute(f"machine {arch} kver={kver}")
    text = "\n".join([*r.lines, *r.warnings, *r.to_json().get("assumes", [])])
    for word in ("kernel-facts", "[U]", "[V]", "[D]", "by hand"):
        assert word not in text
    if kver < "6.9":
        assert "v6.9" not in text


def test_every_profile_table_covers_the_kinds():
    need = {RegionKind.DIRECT_MAP, RegionKind.VMEMMAP, RegionKind.VMALLOC, RegionKind.USER,
            RegionKind.NON_CANONICAL}
    for arch in ("x86_64", "x86_64-5level", "arm64", "riscv64"):
        kinds = {r.kind for r in arch_profile(arch).regions}
        assert need | {RegionKind.MODULES, RegionKind.KERNEL_TEXT, RegionKind.FIXMAP} <= kinds
    assert need <= {r.kind for r in arch_profile("ppc64").regions}


def test_phys_offset_refused_on_x86():
    with pytest.raises(EngineError, match="phys_offset= applies to arm64 and riscv64"):
        arch_profile("x86_64", phys_offset=0x40000000)
