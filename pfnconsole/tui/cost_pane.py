"""Cost: the list walk against the section lookup, per operation and over time."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Sparkline, Static

from ..core import events as ev


class CostPane(VerticalScroll):
    """Shows CostMeasured events; F6 asks the app for a sweep over the number of ranges."""

    HELP = """\
# Cost

For every `kmap`, `kunmap` and `lookup` the engine answers **both** ways:

* **list**: the 2015 walk. Nodes visited and modeled dependent loads (the pointer
  that reached each node, `kmap->res`, `res->start`, `res->end`, `kmap->base`).
* **section**: `pfn_to_section_nr()` → `mem_section[root][idx]`: two loads, however
  many ranges are registered.

Loads are the model of the kernel's cost; **ns** are this simulator's own Python
time (`time.perf_counter_ns`), shown for what they are. The sparklines keep the
last 60 list and section load counts. **F6** sweeps 1…N ranges on a scratch
machine and plots both paths against N.
"""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.border_title = "Cost — list vs section"
        self.list_hist: list[float] = [0.0]
        self.sect_hist: list[float] = [0.0]

    def compose(self) -> ComposeResult:
        yield Static(Content.styled("no kmap or lookup yet", "dim"), id="cost-body")
        yield Static(Content.styled("list loads", "dim"), classes="spark-label")
        yield Sparkline(self.list_hist, id="cost-list")
        yield Static(Content.styled("section loads", "dim"), classes="spark-label")
        yield Sparkline(self.sect_hist, id="cost-section")
        yield Static(id="cost-sweep")

    def add(self, e: ev.CostMeasured) -> None:
        self.list_hist = (self.list_hist + [float(e.list_loads)])[-60:]
        self.sect_hist = (self.sect_hist + [float(e.section_loads)])[-60:]
        self.query_one("#cost-list", Sparkline).data = list(self.list_hist)
        self.query_one("#cost-section", Sparkline).data = list(self.sect_hist)
        if e.section_loads:
            ratio = e.list_loads / e.section_loads
            sect = f"{e.section_loads} loads {e.section_ns} ns\n"
            verdict = Content.assemble(("loads ratio ", "dim"), (f"{ratio:.1f}×", "bold $accent"))
        else:  # kunmap: the section scheme has nothing to look up on the way out
            sect = "no lookup needed\n"
            verdict = Content.styled("the list is scanned again just to unmap", "dim")
        body = Content.assemble(
            (f"{e.op:<7}", "bold"), ("list ", "$warning"),
            f"{e.list_steps} nodes {e.list_loads} loads {e.list_ns} ns\n",
            (" " * 7, ""), ("sect ", "$success"), sect, (" " * 7, ""), verdict,
        )
        self.query_one("#cost-body", Static).update(body)

    def show_sweep(self, rows: list[tuple[int, int, int, int, int]]) -> None:
        """rows of (N, list loads, list ns, section loads, section ns)."""
        if not rows:
            return
        width = 24
        top = max(r[1] for r in rows) or 1
        lines = [Content.styled("sweep: kmap into the oldest of N ranges", "bold")]
        for n, ll, _, sl, _ in rows:
            bar = "█" * max(1, round(width * ll / top))
            sbar = "█" * max(1, round(width * sl / top))
            lines.append(Content.assemble(f"N={n:<5}", (f"{bar:<{width}}", "$warning"),
                                          f" {ll} loads"))
            lines.append(Content.assemble(" " * 7, (f"{sbar:<{width}}", "$success"),
                                          f" {sl} loads"))
        self.query_one("#cost-sweep", Static).update(Content("\n").join(lines))
