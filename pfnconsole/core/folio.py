"""Compound pages and folios: alloc_pages(), compound_head(), where each kernel keeps the order.

A compound page of order N is 2^N naturally aligned pfns; the first is the head, the rest
tails.  How a tail names its head (include/linux/page-flags.h): v4.3 a PG_tail flag and
``page->first_page``; from v4.4 ``page->compound_head`` holds the head's struct page
address + 1 (bit 0 set means tail; ``compound_head()`` clears it; ``page_folio()`` is the
same pointer as a ``struct folio *`` from v5.16).  Where the order lives
(include/linux/mm_types.h): ``page[1].compound_order`` up to v6.0; the low byte of the
first tail's flags (``folio->_flags_1 & 0xff``) from v6.8; between them
``folio->_folio_order`` (the release boundaries v6.1 and v6.6 are believed, not checked).

Where the buddy allocator finds a block is its own business; the console takes the lowest
free naturally aligned block of RAM in the zone asked for, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import EngineError

if TYPE_CHECKING:
    from .state import State
    from .undo import UndoLog

MAX_PAGE_ORDER = 10
"""The largest buddy order with 4K pages: MAX_ORDER - 1 = 10 before v6.4, MAX_PAGE_ORDER
= 10 from v6.8 (include/linux/mmzone.h; arch-forced orders of other page sizes not modelled)."""
X86_ZONES = (("DMA", 0, 16 << 20), ("DMA32", 16 << 20, 4 << 30), ("Normal", 4 << 30, 1 << 64))
"""x86_64 zone boundaries: MAX_DMA_PFN (16 MiB), MAX_DMA32_PFN (4 GiB), then ZONE_NORMAL."""


@dataclass(frozen=True)
class Folio:
    """One compound page: ``1 << order`` pfns from ``head``."""

    head: int
    order: int
    zone: str

    @property
    def nr_pages(self) -> int:
        return 1 << self.order


def zone_of(s: State, phys: int) -> str:
    """The zone a RAM address falls in (x86_64 boundaries; "Normal" elsewhere)."""
    if not s.arch.name.startswith("x86"):
        return "Normal"
    return next(name for name, lo, hi in X86_ZONES if lo <= phys < hi)


def folio_of(s: State, pfn: int) -> Folio | None:
    """The compound page holding ``pfn``, if the console allocated one there."""
    for order in range(MAX_PAGE_ORDER + 1):
        head = pfn & ~((1 << order) - 1)
        got = s.compound.get(head)
        if got is not None and got >= order and pfn < head + (1 << got):
            return Folio(head, got, zone_of(s, head << s.arch.page_shift))
    return None


def alloc_pages(s: State, order: int, zone: str | None, log: UndoLog) -> Folio:
    """alloc_pages(gfp, order) with __GFP_COMP: the lowest free aligned block, made compound."""
    if not 0 <= order <= MAX_PAGE_ORDER:
        raise EngineError(f"order {order}: the buddy allocator gives orders 0 to {MAX_PAGE_ORDER} "
                          "(MAX_PAGE_ORDER with 4K pages)")
    x86 = s.arch.name.startswith("x86")
    if zone is not None:
        if not x86:
            raise EngineError(f"zone= is modelled on x86_64 only (the {s.arch.name} zone limits depend "
                              "on the platform's DMA reach)")
        got = [(lo, hi) for name, lo, hi in X86_ZONES if name.lower() == zone.lower()]
        if not got:
            raise EngineError(f"zone={zone}: use DMA, DMA32 or Normal")
        tries = got
    else:  # GFP_KERNEL's zonelist: the highest zone first, then down (ZONE_NORMAL, DMA32, DMA)
        tries = [(lo, hi) for _, lo, hi in reversed(X86_ZONES)] if x86 else [(0, 1 << 64)]
    for bounds in tries:
        got_folio = _lowest_free(s, order, bounds, log)
        if got_folio is not None:
            return got_folio
    where = f" in ZONE_{zone.upper()}" if zone else ""
    raise EngineError(f"no free naturally aligned block of {1 << order} page(s){where}: the console's "
                      "compound pages fill it")


def _lowest_free(s: State, order: int, bounds: tuple[int, int], log: UndoLog) -> Folio | None:
    shift, size = s.arch.page_shift, 1 << order
    for r in s.physmap.ranges:
        if not r.type.is_ram:
            continue
        lo = max(r.start, bounds[0], 1 << 20)  # below 1 MiB: firmware and real-mode leftovers
        hi = min(r.end + 1, bounds[1])
        pfn = -(-(lo >> shift) // size) * size
        while (pfn + size) << shift <= hi:
            clash = _overlap(s, pfn, size)
            if clash is None:
                log.push(s.compound.pop, pfn)
                s.compound[pfn] = order
                return Folio(pfn, order, zone_of(s, pfn << shift))
            pfn = -(-(clash.head + clash.nr_pages) // size) * size
    return None


def _overlap(s: State, pfn: int, size: int) -> Folio | None:
    for head, order in s.compound.items():
        if head < pfn + size and pfn < head + (1 << order):
            return Folio(head, order, "")
    return None


def describe(s: State, pfn: int, folio: Folio) -> list[str]:
    """What ``page`` shows of a pfn in a compound page, as that kernel version stores it."""
    a, kver = s.arch, s.kver
    head_page = s.sparse.pfn_to_page(folio.head) or 0  # RAM: classic SPARSEMEM has its mem_map too
    size = (1 << a.page_shift) << folio.order
    lines = [f"compound page of order {folio.order}: {folio.nr_pages} pages "
             f"({size >> 20} MiB)" if size >= 1 << 20 else
             f"compound page of order {folio.order}: {folio.nr_pages} pages ({size >> 10} KiB)"]
    if folio.order == 0:
        return [f"an order-0 page (struct page {head_page:#x}): not compound, no tails"
                + (" (a small folio)" if kver >= (5, 16) else "")]
    folios = kver >= (5, 16)
    if pfn == folio.head:
        what = f"folio {head_page:#x}" if folios else f"struct page {head_page:#x}, PG_head set"
        lines.append(f"  head page ({what}); order kept in {order_home(kver)}")
        return lines
    tail = pfn - folio.head
    if kver < (4, 4):
        lines.append(f"  tail {tail}: PG_tail set, page->first_page = {head_page:#x} (before v4.4)")
    else:
        lines.append(f"  tail {tail}: page->compound_head = {head_page + 1:#x} (the head's struct page "
                     "+ 1: bit 0 says tail; compound_head() clears it)")
    helper = "page_folio()" if folios else "compound_head()"
    lines.append(f"  {helper} = {head_page:#x}, the head (pfn {folio.head:#x})")
    return lines


def order_home(kver: tuple[int, int]) -> str:
    """Where that kernel keeps a compound page's order."""
    if kver < (6, 1):
        return "page[1].compound_order"
    if kver < (6, 6):
        return "folio->_folio_order (v6.1 to v6.5: the boundaries are believed, not checked)"
    return "the first tail's flags, folio->_flags_1 & 0xff"


__all__ = ["MAX_PAGE_ORDER", "Folio", "alloc_pages", "describe", "folio_of", "order_home", "zone_of"]
