"""RCU: readers per CPU, what each protects, grace periods and a short timeline."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Sparkline, Static


class RcuPane(VerticalScroll):
    """Shows `rcu` data; keeps a history of the reader count for the timeline."""

    HELP = """\
# RCU

Every `kmap_atomic_pfn_t()` takes `rcu_read_lock()`, also for pfns with a
struct page, and keeps it until `kunmap_atomic_pfn_t()`.

* **readers**: open read-side critical sections per simulated CPU (`cpu N`
  switches the current CPU); each line says which mapping the reader protects.
* **grace periods**: `teardown` calls `synchronize_rcu()`, which waits until every
  CPU that was inside a reader at that moment has left it. Readers that start
  later, on other CPUs, do not hold it up.
* The bar chart at the bottom is the number of open readers after each of the
  last 60 commands, oldest on the left; its label gives the scale (0 to the most).
"""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.border_title = "RCU"
        self.timeline: list[float] = [0.0]

    def compose(self) -> ComposeResult:
        yield Static(id="rcu-body")
        yield Static(id="rcu-timeline-label")
        yield Sparkline(self.timeline, id="rcu-timeline")

    def show(self, data: dict[str, Any], record: bool = True) -> None:
        readers = data.get("rcu_readers", 0)
        if record:
            self.timeline = (self.timeline + [float(readers)])[-60:]
            self.query_one("#rcu-timeline", Sparkline).data = list(self.timeline)
        peak = int(max(self.timeline))
        self.query_one("#rcu-timeline-label", Static).update(Content.styled(
            f"open readers per command, 0–{peak}", "dim"))
        parts = [Content.assemble(("readers ", "bold"), (str(readers), "bold $accent"),
                                  f" · current cpu{data.get('cpu', 0)}")]
        by_reader = {m["reader"]: m for m in data.get("mappings", [])}
        idle = []
        for c in data.get("cpus", []):
            if not c["nesting"]:
                idle.append(f"cpu{c['cpu']}")
                continue
            bar = "▮" * c["nesting"] if c["nesting"] <= 12 else f"▮×{c['nesting']}"
            parts.append(Content.assemble(
                (f"cpu{c['cpu']} ", "bold" if c["cpu"] == data.get("cpu") else "dim"),
                (bar, "$success")))
            held = [by_reader[r] for r in c["readers"] if r in by_reader]
            for m in held[-2:]:  # what the newest readers protect, one a line
                parts.append(Content(f"  {m['range'] or 'page'} {m['addr']:#x}"))
            if len(held) > 2:
                parts.append(Content.styled(f"  and {len(held) - 2} older", "dim"))
        if idle:
            parts.append(Content.styled("no reader on " + " ".join(idle), "dim"))
        for g in data.get("grace_periods", []):
            parts.append(Content.assemble((f"GP#{g['gp']} ", "bold $error"), g["who"]))
            parts.append(Content.assemble("  waiting on cpu ",
                                          (", ".join(map(str, g["waiting_cpus"])), "bold")))
        if not data.get("grace_periods"):
            parts.append(Content.styled(
                f"no grace period in flight, {data.get('completed', 0)} done", "dim"))
        self.query_one("#rcu-body", Static).update(Content("\n").join(parts))
