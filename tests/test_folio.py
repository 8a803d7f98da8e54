"""Compound pages and folios (issue 18, point 4): alloc_pages, page and identify of a tail.

The encodings are include/linux/page-flags.h's: from v4.4 a tail's compound_head is the
head's struct page + 1; before, PG_tail and page->first_page.  The order lives in
page[1].compound_order up to v6.0 and in folio->_flags_1 & 0xff from v6.8.
"""

from __future__ import annotations

import pytest

from pfnconsole.commands import Session
from pfnconsole.core.folio import order_home


def session(kver: str = "6.16") -> Session:
    s = Session()
    assert s.execute(f"machine x86_64 kver={kver}").ok
    return s


def test_a_tail_names_its_head_as_the_kernel_encodes_it() -> None:
    s = session("6.8")
    r = s.execute("alloc_pages 9")
    assert r.ok and r.data["order"] == 9 and r.data["pages"] == 512
    head = r.data["head"]
    assert head % 512 == 0  # naturally aligned
    tail = s.execute(f"page {head + 5:#x}")
    head_page = tail.data["page"] - 5 * 64
    assert tail.data["head"] == head and tail.data["order"] == 9
    assert f"compound_head = {head_page + 1:#x}" in "\n".join(tail.lines)  # bit 0 set: a tail
    assert "page_folio()" in "\n".join(tail.lines)
    who = s.execute(f"identify {tail.data['page']:#x}")
    assert f"tail 5 of the order-9 folio at pfn {head:#x}" in "\n".join(who.lines)
    head_view = "\n".join(s.execute(f"page {head:#x}").lines)
    assert "head page" in head_view and "_flags_1 & 0xff" in head_view


@pytest.mark.parametrize("kver,home,tail_text", [
    ("4.2", "page[1].compound_order", "PG_tail set, page->first_page"),
    ("5.10", "page[1].compound_order", "compound_head()"),
    ("6.16", "_flags_1 & 0xff", "page_folio()"),
])
def test_each_era_keeps_the_order_and_the_head_its_own_way(kver: str, home: str, tail_text: str) -> None:
    s = session(kver)
    head = s.execute("alloc_pages 1").data["head"]
    assert home in "\n".join(s.execute(f"page {head:#x}").lines)
    assert tail_text in "\n".join(s.execute(f"page {head + 1:#x}").lines)
    assert "_folio_order" in order_home((6, 3))


def test_gfp_kernel_takes_zone_normal_first_and_zone_narrows_it() -> None:
    s = session()
    normal = s.execute("alloc_pages 3").data
    assert normal["zone"] == "Normal" and normal["start"] >= 4 << 30
    dma = s.execute("alloc_pages 0 zone=DMA").data
    assert dma["zone"] == "DMA" and dma["start"] < 16 << 20
    dma32 = s.execute("alloc_pages 4 zone=DMA32").data
    assert 16 << 20 <= dma32["start"] < 4 << 30
    again = s.execute("alloc_pages 3").data  # never the same pages twice
    assert again["start"] >= normal["end"] + 1 or again["end"] < normal["start"]


def test_refusals_change_nothing_and_undo_frees() -> None:
    s = session()
    before = s.machine.fingerprint()
    for line, needle in [("alloc_pages 11", "orders 0 to 10"), ("alloc_pages 2 zone=Foo", "zone"),
                         ("alloc_pages", "ORDER")]:
        r = s.execute(line)
        assert not r.ok and needle in r.error
    assert s.machine.fingerprint() == before
    assert s.execute("alloc_pages 5").ok and s.machine.fingerprint() != before
    assert s.execute("undo").ok and s.machine.fingerprint() == before
    arm = Session()
    assert arm.execute("machine arm64").ok
    r = arm.execute("alloc_pages 1 zone=DMA")
    assert not r.ok and "x86_64 only" in r.error
    assert arm.execute("alloc_pages 1").ok
