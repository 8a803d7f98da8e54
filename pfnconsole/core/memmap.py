"""Lazy struct page state: only pages something touched have an entry.

The simulator does not model every field of ``struct page``; it records what the console
does to a page (kmaps held, touches) so views can show it.  A machine of any size starts
with an empty dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .undo import UndoLog


@dataclass(slots=True)
class PageState:
    """What the simulator knows about one ``struct page`` (by pfn)."""

    pfn: int
    kmaps: int = 0
    """kmap_atomic() mappings of this page still open."""
    touches: int = 0
    last: str = ""
    """What touched it last, e.g. ``kmap cpu0``."""


@dataclass
class MemMap:
    pages: dict[int, PageState] = field(default_factory=dict)

    def touch(self, pfn: int, why: str, undo: UndoLog | None = None) -> PageState:
        """Note that ``why`` used pfn's struct page (creating its entry on first use)."""
        page = self.pages.get(pfn)
        if page is None:
            page = self.pages[pfn] = PageState(pfn)
            if undo is not None:
                undo.push(self.pages.__delitem__, pfn)
        elif undo is not None:
            undo.push(_set_touched, page, page.touches, page.last)
        page.touches += 1
        page.last = why
        return page

    def get(self, pfn: int) -> PageState | None:
        return self.pages.get(pfn)


def _set_touched(page: PageState, touches: int, last: str) -> None:
    page.touches, page.last = touches, last


def vmemmap_pfn_to_page(vmemmap_base: int, pfn: int, struct_page_size: int) -> int:
    """SPARSEMEM_VMEMMAP ``__pfn_to_page(pfn)`` = ``vmemmap + pfn``, as a byte address.

    include/asm-generic/memory_model.h (v4.0 .. v6.17): ``vmemmap`` is a ``struct page *``,
    so the pointer arithmetic scales by ``sizeof(struct page)`` (bytes).  Not masked: the
    caller decides what an address past 2^64 means.
    """
    return vmemmap_base + pfn * struct_page_size


def vmemmap_page_to_pfn(vmemmap_base: int, page: int, struct_page_size: int) -> tuple[int, int] | None:
    """``__page_to_pfn(page)`` = ``page - vmemmap``: (pfn, byte offset inside that struct page).

    None when ``page`` lies below the vmemmap base.
    """
    if page < vmemmap_base or struct_page_size <= 0:
        return None
    pfn, off = divmod(page - vmemmap_base, struct_page_size)
    return pfn, off
