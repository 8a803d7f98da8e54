"""ZONE_DEVICE: memremap_pages() by kernel version, the altmap arithmetic, get_dev_pagemap()'s
walk, and the merged pfn_t's kmap; test vectors are the kernel's own worked numbers."""

from __future__ import annotations

from collections import Counter

import pytest

from pfnconsole.commands import Session
from pfnconsole.core.errors import EngineError
from pfnconsole.core.machine import Machine, MachineSpec
from pfnconsole.core.memremap import VmemAltmap, nvdimm_altmap
from pfnconsole.core.pgmap_lookup import order_entries, section_entries, walk, xa_range_entries
from pfnconsole.core.sparse import SectionFlags as F

GiB = 1 << 30
PMEM = 0x440000000
"""The default machine's first pmem range (4 GiB, sections 136..167)."""


def at_4g(kver: str = "6.16") -> Machine:
    """RAM below 3 GiB and a 16 GiB pmem namespace at 4 GiB (pfn 0x100000-0x4fffff)."""
    return Machine(MachineSpec(kver=kver, e820=((0x100000, 0xBFFFFFFF, 1), (0x100000000, 0x4FFFFFFFF, 12))))


# --- struct vmem_altmap: the nvdimm layout and the allocator --------------------------------

def test_altmap_of_a_16g_fsdax_namespace_is_the_nvdimm_worked_example():
    m = at_4g()
    pg = m.memremap_pages("ns0", 0x100000000, 16 * GiB, None, True)
    a = pg.altmap
    assert a is not None
    assert pg.dataoff == 0x10200000  # ALIGN(8K + 64 x 4,194,302, 2M) = 258 MiB
    assert (a.base_pfn, a.reserve, a.free, a.offset) == (0x100000, 2, 66046, 66048)
    assert pg.first_block == 0x100200  # next pfn 0x100002 aligned up to 512: align 510
    assert (a.alloc, a.align, a.nr_free) == (65536, 510, 0)  # 128 blocks: exactly exhausted
    assert pg.first_pfn == 0x110200 and pg.nr_pages == 4128256
    assert pg.device_sections == (32, 159)


def test_altmap_allocator_aligns_to_the_lowest_set_bit_and_refuses_what_does_not_fit():
    a = VmemAltmap(0x100000, 0x4FFFFF, 2, 1022)
    got = a.alloc_block(512)
    assert got is not None
    b, pfn = got
    assert pfn == 0x100200 and (b.alloc, b.align, b.next_pfn) == (512, 510, 0x100400)
    assert b.nr_free == 0 and b.alloc_block(512) is None
    assert a.alloc_block(8)[1] == 0x100008  # 8 pfns align to 8


def test_map_mem_and_the_namespace_formula_for_4g():
    altmap, dataoff = nvdimm_altmap(PMEM, 4 * GiB, 12)
    assert (dataoff, altmap.free) == (66 << 20, 16894)
    pg = Machine().memremap_pages("p", PMEM, 4 * GiB)
    assert pg.altmap is None and pg.first_pfn == PMEM >> 12 and pg.device_sections is None


# --- sections, flags and pfn_valid per version ---------------------------------------------

@pytest.mark.parametrize(("kver", "flags", "early_bit"), [
    ("4.10", F.MARKED_PRESENT | F.HAS_MEM_MAP, False),  # no IS_ONLINE yet: both bits are all
    ("5.3", F.MARKED_PRESENT | F.HAS_MEM_MAP, True),
    ("6.16", F.MARKED_PRESENT | F.HAS_MEM_MAP, True),
])
def test_a_pgmap_makes_its_sections_present_never_online_nor_early(kver, flags, early_bit):
    m = Machine(MachineSpec(kver=kver))
    assert not m.state.sparse.pfn_valid(0x440600)
    m.memremap_pages("p", PMEM, 4 * GiB)
    ms = m.state.sparse.nr_to_section(136)
    assert ms is not None and ms.flags == flags and ms.mem_map is not None
    assert bool(m.state.sparse.era.flags & F.IS_EARLY) == early_bit
    assert m.state.sparse.pfn_valid(0x440600) and m.state.sparse.pfn_valid(0x53FFFF)
    assert not m.state.sparse.pfn_valid(0x540000)  # the next pmem range has no memmap
    assert m.page(0x440600).pgmap == "p" and m.page(0x540000).pgmap is None


def test_before_v5_3_the_range_is_widened_to_whole_sections():
    m = Machine(MachineSpec(kver="4.10"))
    pg = m.memremap_pages("p", 0x540000000 + (64 << 20), 32 << 20)
    assert pg.hot == (0x540000, 0x547FFF)  # section 168, whole
    assert m.state.sparse.pfn_valid(0x540000)  # outside the resource, inside the section


def test_from_v5_3_subsections_and_from_v5_12_the_zone_device_taint():
    for kver, tainted in (("5.11", ()), ("5.12", (168, 176)), ("6.16", (168, 176))):
        m = Machine(MachineSpec(kver=kver))
        pg = m.memremap_pages("p", 0x540200000, GiB)  # pfn 0x540200-0x5801ff: both ends mid-section
        assert pg.tainted == tainted
        sp = m.state.sparse
        assert [nr for nr in (167, 168, 169, 176, 177)
                if (ms := sp.nr_to_section(nr)) is not None and ms.flags & F.TAINT_ZONE_DEVICE] == list(tainted)
        assert not sp.pfn_valid(0x5401FF) and sp.pfn_valid(0x540200)  # subsection 0 of 168 not added
        assert sp.pfn_valid(0x5801FF) and not sp.pfn_valid(0x580200)
        assert sp.subsection_map(168, m.state.physmap) == (1 << 64) - 2
    aligned = Machine().memremap_pages("q", PMEM, 4 * GiB)
    assert aligned.tainted == ()  # whole sections: nothing shared, no taint


def test_a_pgmap_beside_ram_in_one_section_taints_the_early_section():
    m = Machine(MachineSpec(e820=((0x100000, 0x43FFFFFFF, 1), (0x440000000, 0x44FFFFFFF, 12))))
    m.memremap_pages("p", 0x442000000, 32 << 20)  # section 136 is whole pmem; nothing shared
    m2 = Machine(MachineSpec(e820=((0x100000, 0x441FFFFFF, 1), (0x442000000, 0x44FFFFFFF, 12))))
    pg = m2.memremap_pages("p", 0x442000000, 32 << 20)
    ms = m2.state.sparse.nr_to_section(136)
    assert pg.tainted == (136,) and ms is not None and ms.early and ms.flags & F.TAINT_ZONE_DEVICE


# --- what the kernel refuses, with its reason; nothing changes -------------------------------

@pytest.mark.parametrize(("kver", "start", "size", "kw", "message"), [
    ("6.16", 0x43FE00000, 4 << 20, {}, "attempted on mixed region 0x43fe00000-0x4401fffff"),
    ("5.3", 0x43FE00000, 4 << 20, {}, "devm_memremap_pages attempted on mixed region [mem 0x000000043fe00000"),
    ("6.16", 0x100000000, GiB, {}, "attempted on ram region"),
    ("4.10", 0x100000000, GiB, {}, "returns __va(start)"),
    ("4.10", 0x440000000 - (64 << 20), 128 << 20, {}, "mixed region"),
    ("5.3", 0x440100000, 4 << 20, {}, "Misaligned __add_pages start: 0x440100 end: #4404ff"),
    ("6.18", 0x440100000, 4 << 20, {}, "Misaligned __add_pages start: 0x440100 end: 0x4404ff"),
    ("6.16", PMEM, GiB, {"type": "devdax"}, "type=generic"),
    ("5.3", PMEM, GiB, {"type": "generic"}, "type=devdax"),
    ("4.16", PMEM, GiB, {"type": "fsdax"}, "MEMORY_DEVICE_HOST"),
    ("4.10", PMEM, GiB, {"type": "fsdax"}, "no type"),
    ("6.16", PMEM, GiB, {"type": "p2pdma", "map_dev": True}, "only nvdimm namespaces"),
    ("4.10", PMEM + (2 << 20), GiB, {"map_dev": True}, "invalid altmap"),
])
def test_refusals_name_the_kernel_reason_and_change_nothing(kver, start, size, kw, message):
    m = Machine(MachineSpec(kver=kver))
    before = m.fingerprint()
    with pytest.raises(EngineError) as e:
        m.memremap_pages("p", start, size, kw.get("type"), kw.get("map_dev", False))
    assert message in str(e.value)
    assert m.fingerprint() == before


@pytest.mark.parametrize(("kver", "message"), [
    ("4.10", "collides with mapping for a"), ("4.16", "Conflicting mapping in same section")])
def test_two_devices_in_one_section_collide_before_v5_3(kver, message):
    m = Machine(MachineSpec(kver=kver))
    m.memremap_pages("a", PMEM, 64 << 20)
    before = m.fingerprint()
    with pytest.raises(EngineError, match=message):
        m.memremap_pages("b", PMEM + (64 << 20), 64 << 20)
    assert m.fingerprint() == before
    fine = Machine()  # v5.3+: subsections tell them apart
    fine.memremap_pages("a", PMEM, 64 << 20)
    fine.memremap_pages("b", PMEM + (64 << 20), 64 << 20)
    assert fine.page(PMEM + (64 << 20) >> 12).pgmap == "b"


def test_config_and_memory_model_refusals():
    for spec, message in ((MachineSpec(zone_device=False), "CONFIG_ZONE_DEVICE"),
                          (MachineSpec(memmodel="sparse"), "SPARSEMEM_VMEMMAP"),
                          (MachineSpec(struct_page=80), "Memory debug options")):
        m = Machine(spec)
        with pytest.raises(EngineError, match=message):
            m.memremap_pages("p", PMEM, GiB, None, True)


def test_undo_and_memunmap_put_back_exactly_what_was_there():
    m = Machine()
    empty = m.fingerprint()
    m.memremap_pages("p", 0x540200000, GiB)
    one = m.fingerprint()
    m.memremap_pages("q", PMEM, 4 * GiB, None, True)
    m.memunmap_pages("q")
    assert m.state.sparse.nr_to_section(150) is None or not m.state.sparse.nr_to_section(150).present
    assert m.page(0x540200).pgmap == "p"
    m.undo()
    assert m.page(0x444200).pgmap == "q"
    m.undo()
    assert m.fingerprint() == one
    m.undo()
    assert m.fingerprint() == empty and not m.state.sparse.pfn_valid(0x540200)


# --- get_dev_pagemap(): the lookup and its loads per version ----------------------------------

def test_xa_store_range_of_the_16g_example_is_one_entry_of_16_slots():
    assert [(e.index, e.shift, e.sibs) for e in xa_range_entries(0x100000, 0x4FFFFF, "p")] == \
        [(0x100000, 18, 15)]
    entries = xa_range_entries(0x100200, 0x4FFFFF, "p")  # an altmap-offset start
    slots = Counter()
    for e in entries:
        slots[e.shift] += e.sibs + 1
    assert slots == {6: 56, 12: 63, 18: 15}


def test_xa_load_loads_head_then_shift_and_slot_per_level_and_one_more_for_a_sibling():
    entries = xa_range_entries(0x100000, 0x4FFFFF, "p")
    hit = walk(entries, 0x100600)
    assert hit.owner == "p" and len(hit.loads) == 3 and not hit.sibling
    sib = walk(entries, 0x300000)
    assert sib.owner == "p" and len(sib.loads) == 4 and sib.sibling
    miss = walk(entries, 0x600000)
    assert miss.owner is None and len(miss.loads) == 3
    deep = walk(xa_range_entries(0x100200, 0x4FFFFF, "p"), 0x100200)
    assert deep.owner == "p" and len(deep.loads) == 7  # three levels down


def test_the_v4_5_radix_by_section_and_the_v4_14_multi_order_entries():
    w = walk(section_entries(32, 159, "p"), 100, root="pgmap_radix.rnode", siblings=False)
    assert w.owner == "p" and w.height == 2 and len(w.loads) == 5
    assert [(e.index, e.shift, e.sibs) for e in order_entries(0x100000, 0x4FFFFF, "p")] == \
        [(0x100000, 18, 3), (0x200000, 18, 7), (0x400000, 18, 3)]  # orders 20, 21, 20


@pytest.mark.parametrize(("kver", "tree", "total"), [
    ("4.4", 0, 0), ("4.10", 5, 8), ("4.16", 3, 6), ("5.3", 3, 6), ("6.16", 3, 5)])
def test_get_dev_pagemap_loads_per_version(kver, tree, total):
    m = Machine(MachineSpec(kver=kver))
    m.memremap_pages("p", PMEM, 4 * GiB)
    pg, w, cost = m.get_dev_pagemap(0x444200)
    if kver == "4.4":
        assert w is None and not cost.needed
        return
    assert pg is not None and pg.name == "p" and w is not None
    assert len(w.loads) == tree and cost.loads == total  # + percpu_ref_tryget_live()
    assert cost.answer == m.state.arch.va(0x444200 << 12)


# --- through the commands: kmap of a merged pfn_t, JSON, the panes' data ------------------------

def test_kmap_of_a_merged_pfn_t_takes_the_page_path_with_no_reader():
    s = Session()
    assert s.execute("memremap_pages pmem0 0x440000000 4G map=dev").ok
    r = s.execute("kmap 0x444200 dev map abi=pfn_t")
    assert r.ok and r.data["path"] == "page" and r.data["value"] == 0x3000000000444200
    assert r.data["list_needed"] is False and r.data["pgmap_loads"] == 5
    assert s.machine.state.rcu.nr_readers == 0 and not s.machine.state.mappings
    before = s.machine.fingerprint()
    bad = s.execute("kmap 0x444200 dev abi=pfn_t")
    assert not bad.ok and "PFN_DEV without PFN_MAP" in bad.error and s.machine.fingerprint() == before
    v2015 = s.execute("register r1 0x440000000 4G") and s.execute("kmap 0x444200 dev")
    assert v2015.ok and v2015.data["path"] == "list" and v2015.data["pgmap_needed"] is True


def test_commands_give_json_and_the_sections_view_marks_zone_device():
    s = Session()
    r = s.execute("memremap_pages p1 0x540200000 1G type=generic")
    assert r.ok and r.data["c_type"] == "MEMORY_DEVICE_GENERIC" and r.data["type_value"] == 4
    assert r.data["tainted"] == [168, 176] and r.data["altmap"] is None
    runs = s.execute("sections").data["runs"]
    assert [(x["first"], x["flags"]) for x in runs if x["zone_device"]] == \
        [(168, "PM..D"), (169, "PM..."), (176, "PM..D")]
    page = s.execute("page 0x540200").data
    assert page["pgmap"] == "p1" and page["zone"] == "Device"
    look = s.execute("lookup 0x540200").data
    assert look["pgmap"] == "p1" and look["pgmap_needed"] is True
    ram = s.execute("lookup 0x100600").data
    assert ram["pgmap_needed"] is False
    assert s.execute("pgmaps").data["pgmaps"][0]["name"] == "p1"
    got = s.execute("get_dev_pagemap 0x540200").data
    assert got["pgmap"] == "p1" and got["pgmap_loads"] == got["tree_loads"] + 2 > 3
    assert not s.execute("memremap_pages p1 0x640000000 1G").ok  # the name is taken


@pytest.mark.parametrize("kver", ["4.10", "6.8"])
def test_sections_view_says_zone_device_of_exactly_the_added_sections(kver):
    s = Session()
    assert s.execute(f"machine kver={kver}").ok
    assert s.execute("memremap_pages pmem0 0x440000000 1G").ok  # sections 136..143
    runs = s.execute("sections").data["runs"]
    device = [(x["first"], x["last"]) for x in runs if x["zone_device"]]
    assert device == [(136, 143)]
    ram = [x for x in runs if not x["zone_device"]]
    assert ram and max(x["last"] for x in ram) == 135  # before v4.13 one word covers 32..143


def test_page_pgmap_is_set_from_pfn_first_on_and_only_from_v4_5():
    s = Session()
    assert s.execute("memremap_pages pmem0 0x440000000 1G map=dev").ok
    first = s.machine.state.pgmaps["pmem0"].first_pfn
    assert first == 0x441200  # 2 reserved + 4606 free pfns of memmap, aligned to 2 MiB blocks
    below, at = s.execute(f"page {first - 1:#x}").data, s.execute(f"page {first:#x}").data
    assert below["pgmap"] == at["pgmap"] == "pmem0"  # both inside the resource
    assert (below["pgmap_set"], at["pgmap_set"]) == (False, True)
    warned = s.execute(f"kmap {first - 1:#x} dev map abi=pfn_t")
    assert warned.ok and any("never initialised" in x for x in warned.warnings)
    assert not any("never initialised" in x for x in s.execute(f"kmap {first:#x} dev map abi=pfn_t").warnings)
    old = Session()
    assert old.execute("machine kver=4.4").ok and old.execute("memremap_pages pmem0 0x440000000 1G").ok
    page = old.execute("page 0x440000").data
    assert page["zone"] == "Device" and page["pgmap_set"] is False


def test_ptov_and_vtop_know_the_zone_device_direct_map_and_the_altmap_memmap():
    s = Session()
    assert s.execute("memremap_pages pmem0 0x440000000 4G map=dev").ok
    st = s.machine.state
    kinds = {m["kind"]: m["va"] for m in s.execute("ptov 0x444200000").data["mappings"]}
    assert kinds == {"direct map (ZONE_DEVICE pmem0)": st.arch.va(0x444200000)}
    # the struct page of pfn 0x444200 lives in section 136's 2 MiB block at pfn 0x440200
    page = st.arch.vmemmap_base + 0x444200 * 64
    walk = s.execute(f"vtop {page:#x}").data
    assert walk["phys"] == 0x440200000 + (0x444200 - 0x440000) * 64
    back = {m["kind"]: m["va"] for m in s.execute(f"ptov {walk['phys']:#x}").data["mappings"]}
    assert back["vmemmap (pmem0's altmap)"] == page
    leaf = s.execute(f"vtop {st.arch.va(0x444200000):#x}").data
    assert leaf["phys"] == 0x444200000 and leaf["leaf_size"] == 1 << 30  # 1 GiB-aligned range
    assert leaf["mapping"] == "direct map (ZONE_DEVICE pmem0)"
    assert s.execute("memremap_pages dp 0x540000000 1G type=private").ok
    private = s.execute("ptov 0x540000000")
    assert private.data["mappings"] == [] and any("MEMORY_DEVICE_PRIVATE" in x for x in private.lines)
    assert s.execute(f"vtop {st.arch.va(0x540000000):#x}").data["phys"] is None  # not present
