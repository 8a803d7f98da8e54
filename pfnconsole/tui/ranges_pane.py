"""kmap ranges: the RCU list in scan order, and the scan animated node by node."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from ..commands.costs import model_ns_text

SPEEDS = {"instant": 0.0, "fast": 0.25, "slow": 0.8}
"""Seconds per scan step for the animation."""


class RangesPane(VerticalScroll):
    """A view of the `ranges` data and the session's last walk; a new walk is animated."""

    HELP = """\
# kmap ranges

The 2015 `mm/kmap_pfn.c` keeps every registered device range on one RCU list.
`devm_register_kmap_pfn_range()` adds at the **head** (`list_add_rcu`), so a scan
meets the **newest** range first and the first-registered one last.

* `register NAME START SIZE` adds a range; `teardown NAME` unlinks it
  (`list_del_rcu`), waits for a grace period and frees it.
* The last `kmap`, `kunmap` or `lookup` marks each node its walk visited: hit or
  miss, the loads it cost and their **modelled time** (the cache levels they hit
  under the CPU profile; `cache` shows it). A new walk is replayed node by node;
  **F2** cycles the speed: instant, fast, slow. Any other change clears the marks,
  and `undo` brings back the walk of the state it returns to.
* States: *live* (on the list), *unlinked* (waiting for readers), *freed*.
* Below the list, marked **D**, the `dev_pagemap`s `memremap_pages` made: what
  the kernel merged instead; nothing walks them, `get_dev_pagemap` looks them up.
"""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.border_title = "kmap ranges — RCU list, scan order"
        self.rows: list[dict[str, Any]] = []
        self.walk: dict[str, Any] | None = None
        self.pgmaps: list[dict[str, Any]] = []
        """The dev_pagemaps (memremap_pages): what the kernel merged, beside the list."""
        """The last walk's data (a kmap, kunmap or lookup answer), or None."""
        self.speed = "fast"
        self.shown = 0
        """Steps of the walk revealed so far (all of them once an animation ends)."""
        self._generation = 0

    def compose(self) -> ComposeResult:
        yield Static(id="ranges-body")

    def show(self, data: dict[str, Any], walk: dict[str, Any] | None,
             pgmaps: dict[str, Any] | None = None) -> None:
        """The state and the last walk, whole: what stays on screen."""
        self._generation += 1  # a replay still running is over
        self.rows = data.get("ranges", [])
        self.pgmaps = (pgmaps or {}).get("pgmaps", [])
        self.walk = walk
        self.shown = len(walk["steps"]) if walk else 0
        self._redraw()

    def replay(self) -> None:
        """Replay the walk shown: node 1, then 2, … at the chosen speed, ending whole."""
        steps = self.walk["steps"] if self.walk else []
        delay = SPEEDS[self.speed]
        if not steps or delay == 0:
            return
        self._generation += 1
        gen = self._generation
        self.shown = 0
        self._redraw()
        for i in range(1, len(steps) + 1):
            self.set_timer(delay * i, lambda i=i: self._step(gen, i))

    def _step(self, gen: int, i: int) -> None:
        if gen == self._generation:
            self.shown = i
            self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def cycle_speed(self) -> str:
        names = list(SPEEDS)
        self.speed = names[(names.index(self.speed) + 1) % len(names)]
        self.border_subtitle = f"scan speed: {self.speed}"
        return self.speed

    def _redraw(self) -> None:
        live = [r for r in self.rows if r["state"] == "live"]
        gone = [r for r in self.rows if r["state"] != "live"]
        steps = self.walk["steps"] if self.walk else []
        marks = {st["name"]: st for st in steps[: self.shown]}
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
                style = "bold $success" if st["hit"] else "$warning"
                tag = Content.styled(f" ◀ {st['index']} {'hit' if st['hit'] else 'miss'} "
                                     f"{st['loads']} ld {model_ns_text(st['model_ns'])}", style)
            maps = r.get("mappings", 0)
            head = Content.assemble(
                (arrow + " ", "dim"), (f"{r['name']:<8}", style or "bold $text-primary"),
                f" {r['start']:#x}–{r['end']:#x}")
            base = Content.assemble(
                ("         base ", "dim"), (f"{r['base']:#x}", "dim"),
                (f"  {maps} mapping{'s' if maps != 1 else ''} open" if maps else "",
                 "$accent"))
            # the walk's mark goes where it fits whole: beside the range, else beside the base
            width = self.scrollable_content_region.width or 80
            if len(head.plain) + len(tag.plain) <= width:
                parts += [head + tag, base]
            elif len(base.plain) + len(tag.plain) <= width:
                parts += [head, base + tag]
            else:
                parts += [head, base, Content("        ") + tag]
        for r in gone:
            state = r["state"]
            gp = f", grace period {r['gp']}" if state == "unlinked" else ""
            parts.append(Content.assemble(
                ("   ✗   ", "dim"), (f"{r['name']:<8}", "$error" if state == "unlinked" else "dim"),
                (f" {r['start']:#x}–{r['end']:#x} {state}{gp}", "dim")))
        if self.pgmaps:
            parts.append(Content.styled(f"ZONE_DEVICE, found by {self.pgmaps[0]['lookup']}:", "dim"))
        for p in self.pgmaps:
            parts.append(Content.assemble(
                ("   D   ", "bold $secondary"), (f"{p['name']:<8}", "bold $secondary"),
                f" {p['start']:#x}–{p['end']:#x}", (f" {p['type'] or ''}"
                                                    + (" map=dev" if p.get("altmap") else ""), "dim")))
        if self.walk is not None:
            parts.append(self._summary(self.walk, steps))
        self.query_one("#ranges-body", Static).update(Content("\n").join(parts))

    def _summary(self, w: dict[str, Any], steps: list[dict[str, Any]]) -> Content:
        """The walk's totals: the engine's own figures, once the replay has ended."""
        what = w.get("cmd", "")
        if self.shown < len(steps):
            return Content.styled(f"   {what}: step {self.shown}/{len(steps)} …", "dim")
        if what == "kmap":
            target = f"kmap {w['pfn']:#x}: {w['path']} path → " + (
                f"{w['addr']:#x}" if w.get("addr") else "NULL")
        elif what == "kunmap":
            target = f"kunmap {w['addr']:#x}: {w.get('kind', '')}"
        else:
            target = f"lookup {w['pfn']:#x}: " + (w.get("list_range") or "no range")
        if not w.get("list_needed", True):
            return Content.styled(f"   {target}; no list walk", "dim")
        return Content.styled(
            f"   {target}\n   walk: {w['list_steps']} node(s), {w['list_loads']} loads, "
            f"{model_ns_text(w['list_model_ns'])} (modelled)", "dim")
