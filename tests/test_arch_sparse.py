"""Arch profiles, the e820 map and sparse sections against kernel-facts.md worked examples."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfnconsole.core.arch import arch_profile
from pfnconsole.core.errors import EngineError
from pfnconsole.core.machine import Machine, MachineSpec
from pfnconsole.core.physmap import E820Type, GiB, TiB, default_physmap
from pfnconsole.core.sparse import SectionFlags, flag_letters

# (profile kwargs, attribute, expected) -- kernel-facts.md §4.4 derived numbers, §5 layouts
PROFILE_VECTORS = [
    ({"name": "x86_64"}, "pfn_section_shift", 15),
    ({"name": "x86_64"}, "pages_per_section", 32768),
    ({"name": "x86_64"}, "memmap_bytes_per_section", 2 << 20),
    ({"name": "x86_64"}, "nr_mem_sections", 1 << 19),
    ({"name": "x86_64"}, "sections_per_root", 256),
    ({"name": "x86_64"}, "nr_section_roots", 2048),
    ({"name": "x86_64"}, "subsections_per_section", 64),
    ({"name": "x86_64"}, "page_offset", 0xFFFF888000000000),
    ({"name": "x86_64", "kver": "4.2"}, "page_offset", 0xFFFF880000000000),
    ({"name": "x86_64-5level"}, "nr_mem_sections", 1 << 25),
    ({"name": "x86_64-5level"}, "page_offset", 0xFF11000000000000),
    ({"name": "x86_64-5level"}, "vmemmap_base", 0xFFD4000000000000),
    ({"name": "arm64"}, "page_offset", 0xFFFF000000000000),
    ({"name": "arm64", "kver": "6.6"}, "vmemmap_base", 0xFFFFFC0000000000),  # memory.rst table
    ({"name": "arm64", "kver": "6.6", "page_shift": 16}, "vmemmap_base", 0xFFFFFFC000000000),
    ({"name": "arm64", "kver": "6.6", "page_shift": 14}, "vmemmap_base", 0xFFFFFF0000000000),
    ({"name": "arm64"}, "vmemmap_base", 0xFFFFFDFFC0000000),  # VMEMMAP_END - 2^35 * 64
    ({"name": "arm64", "page_shift": 16}, "vmemmap_base", 0xFFFFFFDFC0000000),
    ({"name": "arm64", "page_shift": 14}, "vmemmap_base", 0xFFFFFF7FC0000000),
    ({"name": "ppc64"}, "vmemmap_base", 0xC00C000000000000),
    ({"name": "ppc64"}, "sections_per_root", 4096),
    ({"name": "riscv64"}, "page_offset", 0xFFFFFFD600000000),
    ({"name": "riscv64"}, "vmemmap_base", 0xFFFFFFC500000000),
    ({"name": "arm64"}, "section_size_bits", 27),
    ({"name": "arm64", "kver": "5.11"}, "section_size_bits", 30),
    ({"name": "arm64", "page_shift": 16}, "section_size_bits", 29),
    ({"name": "arm64", "page_shift": 14}, "section_size_bits", 27),
    ({"name": "arm64", "kver": "5.3"}, "page_offset", 0xFFFF800000000000),
    ({"name": "arm64", "kver": "5.3"}, "vmemmap_base", 0xFFFF7E0000000000),
    ({"name": "ppc64"}, "section_size_bits", 24),
    ({"name": "ppc64"}, "max_physmem_bits", 51),
    ({"name": "riscv64"}, "max_physmem_bits", 56),
    ({"name": "x86_64", "struct_page_size": 56}, "struct_page_size", 56),
]


@pytest.mark.parametrize("kw,attr,expected", PROFILE_VECTORS,
                         ids=[f"{v[0]}-{v[1]}" for v in PROFILE_VECTORS])
def test_profile_constants(kw, attr, expected):
    name = kw.pop("name")
    kw = dict(kw)
    spsize = kw.pop("struct_page_size", None)
    prof = arch_profile(name, struct_page_size=spsize, **kw)
    kw["name"] = name
    assert getattr(prof, attr) == expected


@pytest.mark.parametrize("kw,needle", [
    ({"name": "sparc"}, "unknown arch"),
    ({"name": "arm64", "page_shift": 13}, "4K, 16K or 64K"),
    ({"name": "x86_64", "page_shift": 16}, "page= applies to arm64"),
    ({"name": "x86_64", "kver": "banana"}, "not understood"),
    ({"name": "x86_64-5level", "kver": "4.2"}, "from v4.20"),
    ({"name": "riscv64", "kver": "5.17"}, "from v6.11"),
    ({"name": "arm64", "kver": "4.2"}, "from v4.6"),
    ({"name": "x86_64", "struct_page_size": 12}, "sizeof(struct page)"),
])
def test_profile_errors(kw, needle):
    name = kw.pop("name")
    spsize = kw.pop("struct_page_size", None)
    with pytest.raises(EngineError, match=None) as exc:
        arch_profile(name, struct_page_size=spsize, **kw)
    assert needle in str(exc.value)


def test_pfn_to_page_worked_example():
    m = Machine()
    sp = m.state.sparse
    assert sp.pfn_to_page(0x100600) == 0xFFFFEA0004018000
    assert sp.pfn_to_section_nr(0x100600) == 32
    ms = sp.nr_to_section(32)
    assert (ms.root, ms.idx) == (0, 32)
    page = m.page(0x100600)
    assert page.direct == 0xFFFF888100600000  # __va(0x100600000)


def test_vmemmap_section_mem_map_is_vmemmap_base_with_flags():
    m = Machine()
    ms = m.state.sparse.nr_to_section(32)
    # coded mem_map = mem_map - section_nr_to_pfn(32) == vmemmap itself under VMEMMAP
    assert ms.coded_mem_map == 0xFFFFEA0000000000
    assert ms.flags == (SectionFlags.MARKED_PRESENT | SectionFlags.HAS_MEM_MAP
                        | SectionFlags.IS_ONLINE | SectionFlags.IS_EARLY)
    assert flag_letters(ms.flags) == "PMOE."
    assert ms.mem_map == 0xFFFFEA0000000000 + (32 << 15) * 64


def test_2015_era_has_two_flag_bits():
    m = Machine(MachineSpec(kver="4.2"))
    ms = m.state.sparse.nr_to_section(0)
    assert ms.section_mem_map & 0x3 == 0x3
    assert m.state.sparse.era.map_mask == (1 << 64) - 4


@pytest.mark.parametrize("memmodel", ["vmemmap", "sparse"])
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_page_to_pfn_inverts_pfn_to_page(memmodel, data):
    m = _machine(memmodel)
    sp = m.state.sparse
    run = data.draw(st.sampled_from(sp.runs))
    pfn = data.draw(st.integers(sp.section_nr_to_pfn(run.first),
                                sp.section_nr_to_pfn(run.last + 1) - 1))
    page = sp.pfn_to_page(pfn)
    assert page is not None
    assert sp.page_to_pfn(page) == pfn
    ms = sp.nr_to_section(sp.pfn_to_section_nr(pfn))
    assert sp.sparse_decode_mem_map(ms.coded_mem_map, ms.nr) == \
        page - (pfn - ms.start_pfn) * m.state.arch.struct_page_size


_MACHINES = {}


def _machine(memmodel):
    if memmodel not in _MACHINES:
        _MACHINES[memmodel] = Machine(MachineSpec(memmodel=memmodel))
    return _MACHINES[memmodel]


def test_classic_sparse_encodes_per_run():
    m = _machine("sparse")
    sp = m.state.sparse
    assert sp.pfn_to_page(0x100600) != 0xFFFFEA0004018000
    # the mem_map lives in the direct map (allocated from the top of RAM)
    ms = sp.nr_to_section(32)
    assert m.state.arch.page_offset <= ms.mem_map < m.state.arch.page_offset + (1 << 46)
    # no struct page where no section is present (the PCI hole at 3-4 GiB)
    assert sp.pfn_to_page(0xE0000) is None


@pytest.mark.parametrize("pfn,valid", [
    (0x0, True),            # first page of RAM
    (0x9F, True),           # the EBDA is reserved but inside an early section
    (0xBFFFF, True),        # reserved tail of section 23: still valid (whole early section)
    (0xC0000, False),       # section 24: PCI hole, no section
    (0xFFFFF, False),
    (0x100600, True),
    (0x480000, False),      # default pmem after RAM: no struct pages
    ((1 << 34) - 1, False),  # last pfn MAX_PHYSMEM_BITS allows
    (1 << 34, False),
    (1 << 52, False),       # does not survive PFN_PHYS
])
def test_pfn_valid(pfn, valid):
    assert Machine().state.sparse.pfn_valid(pfn) is valid


def test_default_physmap_matches_the_issue():
    pm = default_physmap()
    # 3 GiB below the PCI hole less the firmware's reserved bits, 13 GiB from 4 GiB up
    low_usable = 0x9FC00 + (0xBFFD7000 - 0x100000)
    assert pm.ram_bytes == 16 * GiB - (0xC0000000 - low_usable)
    assert pm.find(0x43FFFFFFF).type is E820Type.RAM
    assert pm.find(0x440000000).type is E820Type.PMEM  # pmem right after RAM
    pmem = pm.of_type(E820Type.PMEM)
    assert [r.size for r in pmem] == [4 * GiB, 4 * GiB]
    assert pmem[0].start > max(r.end for r in pm.of_type(E820Type.RAM))
    assert pm.ranges[0].e820_line() == \
        "BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable"


def test_memmap_bang_carves_type_12():
    # kernel-facts.md §7.2: memmap=16G!4G -> persistent (type 12) at 0x100000000
    pm = default_physmap(20 * GiB, ((0x100000000, 16 * GiB),))
    r = pm.find(0x100000000)
    assert r.type is E820Type.PRAM and r.end == 0x4FFFFFFFF
    assert r.e820_line("user") == \
        "user: [mem 0x0000000100000000-0x00000004ffffffff] persistent (type 12)"


def test_64tib_machine_is_lazy():
    import tracemalloc
    tracemalloc.start()
    m = Machine(MachineSpec(arch="x86_64-5level", ram=64 * TiB,
                            pmem=((0x500000000, 4 * GiB),)))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    sp = m.state.sparse
    assert sp.nr_present > 500_000
    assert len(sp.roots) <= 2049  # 524k sections / 256 per root, plus a partial root
    assert m.state.memmap.pages == {}
    assert peak < 40 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    assert sp.pfn_valid((60 * TiB) >> 12)
    assert not sp.pfn_valid(0x500000000 >> 12)  # carved out as pmem


def test_4level_refuses_64tib():
    with pytest.raises(EngineError, match="MAX_PHYSMEM_BITS"):
        Machine(MachineSpec(arch="x86_64", ram=64 * TiB))


@pytest.mark.parametrize("arch,pfn,page,va,section", [
    # x86_64 worked example (kernel-facts.md §4.5)
    ("x86_64", 0x100600, 0xFFFFEA0004018000, 0xFFFF888100600000, 32),
    # ppc64 64K pages: phys 0x100600000 is pfn 0x10060, section 256 (derived from the
    # radix.h/hash-64k.h bases: vmemmap + pfn * 64, __va = phys | PAGE_OFFSET)
    ("ppc64", 0x10060, 0xC00C000000401800, 0xC000000100600000, 256),
])
def test_pfn_to_page_per_arch(arch, pfn, page, va, section):
    m = Machine(MachineSpec(arch=arch))
    r = m.page(pfn)
    assert (r.page, r.direct, r.section_nr) == (page, va, section)
