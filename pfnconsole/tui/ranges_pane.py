"""kmap ranges: the RCU list in scan order, and the scan animated node by node."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from ..core import events as ev

SPEEDS = {"instant": 0.0, "fast": 0.25, "slow": 0.8}
"""Seconds per scan step for the animation."""


class RangesPane(VerticalScroll):
    """Shows `ranges` data; animates ScanStep events."""

    HELP = """\
# kmap ranges

The 2015 `mm/kmap_pfn.c` keeps every registered device range on one RCU list.
`devm_register_kmap_pfn_range()` adds at the **head** (`list_add_rcu`), so a scan
meets the **newest** range first and the first-registered one last.

* `register NAME START SIZE` adds a range; `teardown NAME` unlinks it
  (`list_del_rcu`), waits for a grace period and frees it.
* During `kmap PFN dev` the walk is replayed here node by node with the loads
  each step cost. **F2** cycles the speed: instant, fast, slow.
* States: *live* (on the list), *unlinked* (waiting for readers), *freed*.
"""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.border_title = "kmap ranges — RCU list, scan order"
        self.rows: list[dict[str, Any]] = []
        self.speed = "fast"
        self.scan: list[ev.ScanStep] = []
        self.shown = 0
        self.summary = ""

    def compose(self) -> ComposeResult:
        yield Static(id="ranges-body")

    def show(self, data: dict[str, Any]) -> None:
        self.rows = data.get("ranges", [])
        self._redraw()

    def animate_scan(self, steps: list[ev.ScanStep], summary: str) -> None:
        """Replay one walk: highlight node 1, then 2, … at the chosen speed."""
        self.scan = steps
        self.summary = summary
        delay = SPEEDS[self.speed]
        if not steps or delay == 0:
            self.shown = len(steps)
            self._redraw()
            return
        self.shown = 0
        self._redraw()
        for i in range(1, len(steps) + 1):
            self.set_timer(delay * i, lambda i=i: self._step(i))

    def _step(self, i: int) -> None:
        self.shown = max(self.shown, i)
        self._redraw()

    def cycle_speed(self) -> str:
        names = list(SPEEDS)
        self.speed = names[(names.index(self.speed) + 1) % len(names)]
        self.border_subtitle = f"scan speed: {self.speed}"
        return self.speed

    def _redraw(self) -> None:
        live = [r for r in self.rows if r["state"] == "live"]
        gone = [r for r in self.rows if r["state"] != "live"]
        marks: dict[str, ev.ScanStep] = {}
        for step in self.scan[: self.shown]:
            marks[step.name] = step
        parts: list[Content] = []
        if not live:
            parts.append(Content.from_markup("[dim]head → (empty list)  "
                                             "register NAME START SIZE adds one[/]"))
        for i, r in enumerate(live):
            arrow = "head →" if i == 0 else "     →"
            st = marks.get(r["name"])
            tag = Content("")
            style = ""
            if st is not None:
                style = "bold $success" if st.hit else "$warning"
                tag = Content.styled(f"  ◀ {st.index}. {'hit' if st.hit else 'miss'}, "
                                     f"{st.loads} loads", style)
            maps = r.get("mappings", 0)
            parts.append(Content.assemble(
                (arrow + " ", "dim"),
                (f"{r['name']:<10}", style or "bold $text-primary"),
                f" [{r['start']:#x}–{r['end']:#x}]", tag))
            parts.append(Content.assemble(
                ("         base ", "dim"), (f"{r['base']:#x}", "dim"),
                (f"  {maps} mapping{'s' if maps != 1 else ''} open" if maps else "",
                 "$accent")))
        for r in gone:
            state = r["state"]
            gp = f", grace period {r['gp']}" if state == "unlinked" else ""
            parts.append(Content.assemble(
                ("   ✗   ", "dim"), (f"{r['name']:<8}", "$error" if state == "unlinked" else "dim"),
                (f" [{r['start']:#x}–{r['end']:#x}] {state}{gp}", "dim")))
        if self.scan:
            done = min(self.shown, len(self.scan))
            loads = sum(st.loads for st in self.scan[:done])
            ns = sum(st.ns for st in self.scan[:done])
            parts.append(Content.from_markup(
                f"[dim]   step {done}/{len(self.scan)} · {loads} dependent loads · "
                f"{ns} ns (simulator)[/]"))
        if self.summary:
            parts.append(Content.styled("   " + self.summary, "dim"))
        self.query_one("#ranges-body", Static).update(Content("\n").join(parts))
