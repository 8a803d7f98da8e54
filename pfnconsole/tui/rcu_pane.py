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
* The sparkline is the reader count after each command.
"""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.border_title = "RCU"
        self.timeline: list[float] = [0.0]

    def compose(self) -> ComposeResult:
        yield Static(id="rcu-body")
        yield Sparkline(self.timeline, id="rcu-timeline")

    def show(self, data: dict[str, Any], record: bool = True) -> None:
        readers = data.get("rcu_readers", 0)
        if record:
            self.timeline = (self.timeline + [float(readers)])[-60:]
            self.query_one("#rcu-timeline", Sparkline).data = list(self.timeline)
        parts = [Content.assemble(("readers ", "bold"), (str(readers), "bold $accent"),
                                  f"   current cpu{data.get('cpu', 0)}   ",
                                  (f"{data.get('completed', 0)} GP done", "dim"))]
        by_reader = {m["reader"]: m for m in data.get("mappings", [])}
        for c in data.get("cpus", []):
            bar = "▮" * c["nesting"] if c["nesting"] <= 12 else f"▮×{c['nesting']}"
            what = ", ".join(
                f"{by_reader[r]['range'] or 'page'}@{by_reader[r]['addr']:#x}"
                for r in c["readers"][-2:] if r in by_reader)
            parts.append(Content.assemble(
                (f"cpu{c['cpu']} ", "bold" if c["cpu"] == data.get("cpu") else "dim"),
                (f"{bar:<6}", "$success"), f" {what}"))
        for g in data.get("grace_periods", []):
            parts.append(Content.assemble(
                (f"GP#{g['gp']} ", "bold $error"), f"{g['who']}: waiting on cpu ",
                (", ".join(map(str, g["waiting_cpus"])), "bold")))
        if not data.get("grace_periods"):
            parts.append(Content.styled("no grace period in flight", "dim"))
        self.query_one("#rcu-body", Static).update(Content("\n").join(parts))
