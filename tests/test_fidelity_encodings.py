"""Issue 16 (items 2, 3, 6): the encodings and page state in logs, against the kernel's own text.

Each id names the kernel source the expectation comes from.  Vectors are the kernel's worked
examples where they exist: the merged pfn_t example (pfn 0x100600, DEV|MAP), real dump_page
lines (a 2015 "nonzero mapcount" report, KASAN/syzbot "mapcount:-128" with
"page_type: 0xffffff7f(buddy)") and the v6.12 page_type name table.
"""

from __future__ import annotations

import pytest

from pfnconsole.commands.session import Session
from pfnconsole.core.encodings import MergedPfnT, PageLink, flag_names
from pfnconsole.core.errors import EngineError
from pfnconsole.decode.pages import mapcount_note, page_type_note

PFN = 0x100600  # the worked-example page, phys 0x100600000


# --- item 2: scatterlist page_link has SG_CHAIN and SG_END only; DMA flags are sg->dma_flags ----

@pytest.mark.parametrize("kver", [
    pytest.param("2.6.24", id="scatterlist.h-v2.6.24-page_link"),
    pytest.param("6.2", id="scatterlist.h-v6.2-page_link"),
    pytest.param("6.5", id="scatterlist.h-v6.5-page_link"),
    pytest.param("6.12", id="scatterlist.h-v6.12-page_link"),
])
def test_page_link_has_only_chain_and_end(kver):
    c = PageLink(kver=kver)
    assert c.flag_names() == ("chain", "end")
    assert c.link_mask == 0x3  # SG_PAGE_LINK_MASK = SG_CHAIN | SG_END
    assert {f.name for f in c.layout()} == {"struct page *", "SG_END", "SG_CHAIN"}
    with pytest.raises(EngineError, match="page_link has only SG_CHAIN and SG_END"):
        c.encode(PFN, ["dma_bus"])


@pytest.mark.parametrize("kver, names, bits", [
    pytest.param("6.1", (), {}, id="scatterlist.h-v6.1-no-dma_flags"),
    pytest.param("6.2", ("dma_bus",), {"dma_bus": 1 << 0}, id="scatterlist.h-v6.2-dma_flags"),
    pytest.param("6.12", ("dma_bus", "swiotlb"), {"dma_bus": 1 << 0, "swiotlb": 1 << 1},
                 id="scatterlist.h-v6.12-dma_flags-SG_DMA_SWIOTLB"),
])
def test_dma_flags_are_their_own_field(kver, names, bits):
    c = PageLink(kver=kver)
    assert c.dma_flag_names() == names
    for name, bit in bits.items():
        assert c.encode_dma_flags([name]) == bit
        got, field = c.decode_dma_flags(bit)
        assert field.name == "sg->dma_flags" and (field.hi, field.lo, field.value) == (31, 0, bit)
        assert got == ("SG_DMA_BUS_ADDRESS" if name == "dma_bus" else "SG_DMA_SWIOTLB",)


def test_page_link_bit_2_is_not_a_flag():
    # scatterlist.h v6.2: the pointer of pfn_to_page(0x100600) with bit 2 set is a misaligned pointer.
    with pytest.raises(EngineError, match="bit 2 is not a flag"):
        PageLink(kver="6.2").decode(0xFFFFEA0004018004)


def _run(line: str):
    return Session().execute(line)


@pytest.mark.parametrize("line", [
    pytest.param("encode 0x100600 end dma_bus abi=sg kver=6.2", id="scatterlist.h-v6.2-encode-dma_flags"),
    pytest.param("decode 0xffffea0004018002 abi=sg kver=6.2 dma_flags=1", id="scatterlist.h-v6.2-decode-dma_flags"),
])
def test_console_shows_dma_flags_beside_page_link(line):
    r = _run(line)
    assert r.ok, r.error
    assert r.data["value"] == 0xFFFFEA0004018002  # pfn_to_page(0x100600) | SG_END
    assert r.data["flags"] == ["SG_END"]
    assert r.data["dma_flags"] == 1 and r.data["dma_flag_names"] == ["SG_DMA_BUS_ADDRESS"]
    assert not any(f["name"].startswith("SG_DMA") for f in r.data["fields"])


# --- item 3: mapcount is _mapcount + 1, and page types overlay _mapcount ------------------------

@pytest.mark.parametrize("value, old_format, has, lacks", [
    pytest.param(0, False, None, None, id="debug.c-page_mapcount-0-unmapped"),
    pytest.param(-128, False, "buddy", "corrupted", id="page-flags.h-v4.18-PG_buddy-0x80"),
    pytest.param(-127, True, "buddy", None, id="page-flags.h-v4.17-PAGE_BUDDY_MAPCOUNT_VALUE"),
    pytest.param(-255, True, "balloon", None, id="page-flags.h-v4.17-PAGE_BALLOON_MAPCOUNT_VALUE"),
    pytest.param(-1, True, "corrupted", "buddy", id="page_alloc.c-2015-nonzero-mapcount-underflow"),
    pytest.param(-5, False, "corrupted", None, id="page-flags.h-PAGE_MAPCOUNT_RESERVE-underflow"),
])
def test_mapcount_meaning(value, old_format, has, lacks):
    note = mapcount_note(value, old_format)
    if has is None:
        assert note == ""
    else:
        assert has in note
    if lacks is not None:
        assert lacks not in note


@pytest.mark.parametrize("val, name, has", [
    pytest.param("0xffffff7f", "buddy", "free page in the buddy allocator", id="debug.c-pGt-0xffffff7f-buddy"),
    pytest.param("f0", "buddy", "PGTY_buddy", id="page-flags.h-v6.12-PGTY_buddy-0xf0"),
    pytest.param("f5", "slab", "PGTY_slab", id="page-flags.h-v6.12-PGTY_slab-0xf5"),
    pytest.param("0xffffffff", "", "no page type", id="debug.c-pGt-0xffffffff-none"),
])
def test_page_type_meaning(val, name, has):
    assert has in page_type_note(val, name)


# --- item 6: kmap under the posted v5 ABI, and devmap only where the arch has pte_devmap --------

@pytest.mark.parametrize("line, error", [
    pytest.param("kmap 0x440600 dev map", "abi=v5rfc", id="patch-v5-2of5-no-PFN_MAP-name"),
    pytest.param("kmap raw=0x44060000c", "abi=v5rfc", id="patch-v5-2of5-bit3-undefined"),
])
def test_kmap_posted_v5_refuses_pfn_map(line, error):
    s = Session()
    s.execute("register pmem1 0x440000000 4G")
    before = s.machine.fingerprint()
    r = s.execute(line)
    assert not r.ok and error in r.error and "PFN_MAP" in r.error
    assert s.machine.fingerprint() == before


def test_kmap_rfc_pfn_map_takes_page_path():
    s = Session()
    s.execute("register pmem1 0x440000000 4G")
    r = s.execute("kmap 0x440600 dev map abi=v5rfc")  # RFC 4/7: __pfn_t_has_page() with PFN_MAP
    assert r.ok, r.error
    assert r.data["value"] == 0x44060000C and r.data["path"] == "page"


@pytest.mark.parametrize("arch, kver, devmap", [
    pytest.param("x86_64", "4.16", True, id="x86-Kconfig-ARCH_HAS_PTE_DEVMAP-if-X86_64"),
    pytest.param("arm64", "4.16", False, id="pfn_t.h-pfn_t_devmap-false-without-pte_devmap"),
])
def test_pfn_t_devmap_depends_on_arch(arch, kver, devmap):
    d = MergedPfnT(kver=kver, arch=arch).decode(0x3000000000100600)  # pfn_t §1.4 worked example
    assert (d.pfn, d.flags, d.has_page) == (PFN, ("PFN_DEV", "PFN_MAP"), True)
    assert d.devmap is devmap


def test_sg_flag_names_at_v6_2():
    assert flag_names("sg", "6.2") == ("chain", "end")
