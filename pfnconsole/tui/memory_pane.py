"""Physical memory & memmap: the e820 map, the section grid with zoom, a struct page card."""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from ..core.units import size_at

GRID_ROWS_MIN = 2

LEGEND = [Content.assemble(("█", "$success"), " RAM (P M O E)"),
          Content.assemble(("▓", "$primary-lighten-2"), " pmem, no memmap"),
          Content.assemble(("D", "bold $secondary"), " ZONE_DEVICE (memremap_pages)"),
          Content.assemble(("▣", "$warning"), " kmap range"),
          Content.assemble(("░", "$text-muted"), " reserved"),
          Content.assemble(("·", "$text-muted"), " hole")]


CARD_HINT = Content.styled("Enter on a cell, or `page PFN`, shows its struct page", "dim")


def pack(items: list[Content], width: int) -> list[Content]:
    """Items two spaces apart, a new line wherever the next would not fit in ``width``."""
    lines: list[Content] = []
    line = Content("")
    for item in items:
        if line.cell_length and line.cell_length + 2 + item.cell_length > width:
            lines.append(line)
            line = Content("")
        line = line + "  " + item if line.cell_length else item
    return lines + [line]


def _short(n: int) -> str:
    """4G, 639K, 3.0G, 0: sizes and addresses at a glance."""
    for unit, shift in (("T", 40), ("G", 30), ("M", 20), ("K", 10)):
        if n >= 1 << shift:
            v = n / (1 << shift)
            return f"{v:.0f}{unit}" if v >= 10 or v == int(v) else f"{v:.1f}{unit}"
    return str(n)


class MemoryPane(VerticalScroll, can_focus=True):
    """Shows `info`, `e820`, `sections` and `ranges` data; posts Selected for a pfn."""

    BINDINGS = [
        Binding("plus,equals_sign", "zoom(1)", "zoom in", show=False),
        Binding("minus", "zoom(-1)", "zoom out", show=False),
        Binding("0", "zoom(0)", "fit", show=False),
        Binding("left", "move(-1)", show=False), Binding("right", "move(1)", show=False),
        Binding("up", "move_row(-1)", show=False), Binding("down", "move_row(1)", show=False),
        Binding("enter", "select", "select pfn", show=False),
    ]

    HELP = """\
# Physical memory & memmap

The top line is the e820 map. Below it every cell is one or more **memory
sections** (128 MiB on x86_64): green where sections are present with a memmap
(flags P M O E), **D** where `memremap_pages` put them in ZONE_DEVICE (present,
with a memmap, never online), blue where persistent memory has no struct pages,
orange where a kmap range is registered, dim for reserved ranges and holes.

* Focus the pane (click it) and use **+ / -** to zoom down to one section per
  cell, **0** to fit the whole address space, arrows to move the cursor.
* **Enter** selects the cell's first pfn: its struct page card appears below and
  the pfn decoder takes it.
"""

    class Selected(Message):
        def __init__(self, pfn: int) -> None:
            super().__init__()
            self.pfn = pfn

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.border_title = "Physical memory & memmap"
        self.info: dict[str, Any] = {}
        self.e820: list[dict[str, Any]] = []
        self.runs: list[dict[str, Any]] = []
        self.kranges: list[dict[str, Any]] = []
        self.spc = 0
        """Sections per cell; 0 = fit everything."""
        self.view_start = 0
        self.cursor = 0

    def compose(self) -> ComposeResult:
        yield Static(id="mem-e820")
        yield Static(id="mem-grid")
        yield Static(id="mem-legend")
        yield Static(CARD_HINT, id="mem-card")

    # --- data in -------------------------------------------------------------------------
    def show_machine(self, info: dict[str, Any], e820: dict[str, Any], sections: dict[str, Any]) -> None:
        self.info, self.e820, self.runs = info, e820.get("ranges", []), sections.get("runs", [])
        self.spc, self.view_start, self.cursor = 0, 0, 0
        self._redraw()

    def show_sections(self, info: dict[str, Any], sections: dict[str, Any]) -> None:
        """The sections as they are now (memremap_pages adds some), keeping the zoom."""
        if sections.get("runs", []) != self.runs:
            self.info, self.runs = info, sections.get("runs", [])
            self._redraw()

    def show_ranges(self, data: dict[str, Any]) -> None:
        self.kranges = [r for r in data.get("ranges", []) if r["state"] != "freed"]
        self._redraw()

    def show_card(self, page: dict[str, Any], lookup: dict[str, Any] | None) -> None:
        parts = [Content.assemble(("pfn ", "bold"), (f"{page['pfn']:#x}", "$accent"),
                                  f"  phys {page['phys']:#x}  ", (page["e820"], "dim"))]
        if page["pfn_valid"]:
            parts.append(Content.assemble(
                ("struct page ", "bold"), f"{page['page']:#x}",
                f"  section {page['section']} [{page['section_flags']}]"))
            if page.get("pgmap"):
                parts.append(Content.assemble(("zone Device ", "bold $secondary"),
                                              ("dev_pagemap ", "dim"), page["pgmap"]))
            va = "none (device private)" if page["direct"] is None else f"{page['direct']:#x}"
            parts.append(Content.assemble(("__va ", "dim"), va,
                                          ("  kmaps ", "dim"), str(page["kmaps"]),
                                          ("  touched ", "dim"), str(page["touches"])))
        else:
            parts.append(Content.styled("no struct page (PFN_DEV): not pfn_valid()",
                                        "bold $warning"))
            if lookup and lookup.get("list_range"):
                parts.append(Content.assemble(
                    ("device range ", "dim"), (lookup["list_range"], "bold"),
                    f"  kva {lookup['list_kva']:#x}"))
        self.query_one("#mem-card", Static).update(Content("\n").join(parts))
        self._redraw()  # the grid gives the card the rows it now takes

    def clear_card(self) -> None:
        """No pfn chosen (or it is gone): the card says how to choose one."""
        self.query_one("#mem-card", Static).update(CARD_HINT)
        self._redraw()

    # --- geometry ------------------------------------------------------------------------
    def _ssb(self) -> int:
        bits: int = self.info.get("section_size_bits", 27)
        return bits

    def _top_nr(self) -> int:
        top: int = max([r["end"] for r in self.e820] + [r["end"] for r in self.kranges] + [0])
        return top >> self._ssb()

    def _cols(self) -> int:
        return max(8, self.scrollable_content_region.width)

    def _lines(self, selector: str) -> int:
        content = self.query_one(selector, Static).content
        text = content.plain if isinstance(content, Content) else str(content)
        return text.count("\n") + 1

    @property
    def grid_rows(self) -> int:
        """As many rows as the pane has room for below the map, above legend and card."""
        others = sum(self._lines(s) for s in ("#mem-e820", "#mem-legend", "#mem-card"))
        spare = self.scrollable_content_region.height - others - 2  # two top margins
        return max(GRID_ROWS_MIN, spare)

    def _fit_spc(self) -> int:
        cells = self._cols() * self.grid_rows
        need = self._top_nr() + 1
        spc = 1
        while spc * cells < need:
            spc *= 2
        return spc

    def on_resize(self) -> None:
        self._redraw()

    def action_zoom(self, direction: int) -> None:
        spc = self.spc or self._fit_spc()
        first_nr = self.view_start + self.cursor * spc
        if direction == 0:
            self.spc = 0
            self.view_start = 0
            self.cursor = 0
        else:
            spc = max(1, spc // 2) if direction > 0 else min(self._fit_spc(), spc * 2)
            self.spc = spc
            self.view_start = max(0, first_nr - (self._cols() * self.grid_rows // 2) * spc)
            self.view_start -= self.view_start % spc
            self.cursor = (first_nr - self.view_start) // spc
        self._redraw()

    def action_move(self, delta: int) -> None:
        self._move(delta)

    def action_move_row(self, delta: int) -> None:
        self._move(delta * self._cols())

    def _move(self, delta: int) -> None:
        spc = self.spc or self._fit_spc()
        cells = self._cols() * self.grid_rows
        cur = self.cursor + delta
        if cur < 0:
            self.view_start = max(0, self.view_start - cells * spc // 2)
            cur = 0
        elif cur >= cells:
            self.view_start += cells * spc // 2
            cur = cells - 1
        self.cursor = cur
        self._redraw()

    def action_select(self) -> None:
        spc = self.spc or self._fit_spc()
        nr = self.view_start + self.cursor * spc
        self.post_message(self.Selected(nr << (self._ssb() - self.info.get("page_shift", 12))))

    # --- drawing -------------------------------------------------------------------------
    def _redraw(self) -> None:
        if not self.info or not self.is_mounted:
            return
        e820: list[Content] = []
        for r in self.e820:
            label = r["label"].replace("persistent (type ", "pmem(").replace(")", ")")
            style = {"usable": "$success", "reserved": "$text-muted"}.get(
                r["label"], "$primary-lighten-2" if "persistent" in r["label"] else "$text-muted")
            e820.append(Content.styled(
                f"{label} {size_at(r['end'] - r['start'] + 1, r['start'])}", style))
        cols = self._cols()
        head = [Content.styled(self.info["arch"], "bold"),
                Content.styled(f"{self.info['sections_present']} present sections of "
                               f"{_short(1 << self._ssb())} each", "dim"),
                Content.styled(f"zoom {self.spc or self._fit_spc()} section(s)/cell", "dim")]
        self.query_one("#mem-e820", Static).update(
            Content("\n").join(pack(head, cols) + pack(e820, cols)))
        self.query_one("#mem-legend", Static).update(Content("\n").join(pack(LEGEND, cols)))
        self.query_one("#mem-grid", Static).update(self._grid())

    def _grid(self) -> Content:
        spc = self.spc or self._fit_spc()
        cols = self._cols()
        ssb = self._ssb()
        run_starts = [r["first"] for r in self.runs]
        rows = []
        shown = self.grid_rows
        if not self.spc:  # fitted: no rows wholly past the top of the address space
            shown = min(shown, -(-(self._top_nr() + 1) // (spc * cols)))
        for row in range(shown):
            cells = []
            for col in range(cols):
                i = row * cols + col
                a = self.view_start + i * spc
                b = a + spc - 1
                char, style = self._cell(a, b, ssb, run_starts)
                if i == self.cursor and self.has_focus:
                    style = f"reverse {style}"
                cells.append((char, style))
            rows.append(Content.assemble(*cells))
        return Content("\n").join(rows)

    def _cell(self, a: int, b: int, ssb: int, run_starts: list[int]) -> tuple[str, str]:
        lo, hi = a << ssb, ((b + 1) << ssb) - 1
        for r in self.kranges:
            if r["start"] <= hi and r["end"] >= lo:
                return "▣", "$warning"
        k = bisect_right(run_starts, b) - 1
        if k >= 0 and self.runs[k]["last"] >= a:
            run = self.runs[k]
            if run.get("zone_device") and not run.get("early", True):
                return "D", "bold $secondary"
            whole = run["first"] <= a and run["last"] >= b
            return ("█" if whole else "▆"), "$success"
        kind = None
        for r in self.e820:
            if r["start"] <= hi and r["end"] >= lo:
                if "persistent" in r["label"]:
                    return "▓", "$primary-lighten-2"
                kind = "░"
        return (kind, "$text-muted") if kind else ("·", "$text-muted")
