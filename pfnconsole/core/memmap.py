"""Lazy struct page state: only pages something touched have an entry.

The simulator does not model every field of ``struct page``; it records what the console
does to a page (kmaps held, touches) so views can show it.  A machine of any size starts
with an empty dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
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

    def touch(self, pfn: int, why: str) -> PageState:
        page = self.pages.get(pfn)
        if page is None:
            page = self.pages[pfn] = PageState(pfn)
        page.touches += 1
        page.last = why
        return page

    def get(self, pfn: int) -> PageState | None:
        return self.pages.get(pfn)
