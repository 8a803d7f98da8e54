"""Cost: the last answer's paths on one axis, in loads and in modelled time."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from ..commands.costs import model_ns_text
from .bars import axis, bar

PATHS = (("list", "$warning"), ("section", "$success"), ("pgmap", "$secondary"), ("page", "$accent"))


class CostPane(VerticalScroll):
    """A view of the session's last kmap, kunmap, lookup, get_dev_pagemap or sweep."""

    HELP = """\
# Cost

The last `kmap`, `kunmap`, `lookup`, `get_dev_pagemap` or `sweep`, every path
on **one axis**:

* **list**: the 2015 walk: the pointer that reached each node, `kmap->res`,
  `res->start`, `res->end`, `kmap->base`;
* **section**: the reviewer's table: `mem_section[root]`, then the slot;
* **pgmap**: what the kernel merged, `get_dev_pagemap()`: the radix tree keyed
  by section (v4.5), by pfn (v4.14), the xarray `pgmap_array` (v4.20+); two
  loads per tree node, then `percpu_ref_tryget_live()`;
* **page**: `page_address(pfn_to_page(pfn))`, what a pfn with a struct page pays
  (arithmetic, plus `vmemmap_base` and `page_offset_base` where KASLR makes them
  variables): the baseline of "10 fold".

Bars count **dependent loads** (a run of █ per path). Beside them, the **modelled
time**: each load costed by the cache level it hit under the CPU profile in force
(`cache` shows it; `cache cold`, `cache warm`, `cache profile NAME` change it).
A path the kernel would not take for this pfn says so instead of a bar. The
simulator's own Python time is not the kernel's and is not shown here (`--json`
and `explain` keep it as `sim_ns`). **F6** runs `sweep`: 1…256 ranges.
"""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.border_title = "Cost — one axis"
        self.data: dict[str, Any] | None = None
        self.profile = ""

    def compose(self) -> ComposeResult:
        yield Static(id="cost-body")

    def on_mount(self) -> None:
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def show(self, data: dict[str, Any] | None, profile: str) -> None:
        """The last cost answer's data (or None) and the profile line."""
        self.data, self.profile = data, profile
        self._redraw()

    def _width(self) -> int:
        return max(self.scrollable_content_region.width, 24)

    def _redraw(self) -> None:
        if not self.is_mounted:
            return
        d = self.data
        if d is None:
            body = Content.assemble(
                ("no walk to show: kmap, kunmap, lookup or sweep", "dim"), "\n",
                ("profile ", "dim"), (self.profile, "bold"))
        elif d.get("rows") is not None:
            body = self._sweep(d)
        else:
            body = self._paths(d)
        self.query_one("#cost-body", Static).update(body)

    def _paths(self, d: dict[str, Any]) -> Content:
        width = self._width()
        label = 8
        figures = 18
        cells = max(4, width - label - figures)
        present = [(name, style) for name, style in PATHS if f"{name}_loads" in d]
        ax = axis([float(d[f"{n}_loads"]) for n, _ in present if d.get(f"{n}_needed", True)], cells)
        taken = d.get("path", "")
        head = f"{d.get('cmd', '')} {d.get('pfn', 0):#x}" if "pfn" in d else str(d.get("cmd", ""))
        lines = [Content.assemble((head, "bold"), (f", {taken} path" if taken else "", "dim"))]
        for name, style in present:
            if not d.get(f"{name}_needed", True):
                lines.append(Content.assemble((f"{name:<{label}}", style), ("not taken", "dim")))
                continue
            loads = d[f"{name}_loads"]
            lines.append(Content.assemble(
                (f"{name:<{label}}", style), (bar(loads, ax), style),
                f" {loads:>4} ld {model_ns_text(d.get(f'{name}_model_ns', 0.0)):>8}"))
        lines.append(Content.styled(ax.label("loads"), "dim"))
        lst, sec = d.get("list_loads", 0), d.get("section_loads", 0)
        if d.get("list_needed", True) and d.get("section_needed", True) and lst and sec:
            lines.append(Content.assemble(
                ("list÷section ", "dim"), (f"{lst / sec:.1f}× ld", "bold"), (" ", "dim"),
                (f"{d['list_model_ns'] / max(d['section_model_ns'], 1e-9):.1f}× ns", "bold")))
        lines.append(Content.assemble(("profile ", "dim"), (self.profile, "bold")))
        m = d.get("measured")
        if m:  # beside the model, never instead: a replica's time on this CPU
            lines.append(Content.styled("measured on this CPU, ns hot/cold (a replica):", "dim"))
            lines.append(Content.assemble(
                (f"list {m['list_ns_hot']:.0f}/{m['list_ns_cold']:.0f}", "bold"),
                (f"  section {m['section_ns_hot']:.0f}/{m['section_ns_cold']:.0f}", ""),
                (f"  page {m['page_ns_hot']:.0f}/{m['page_ns_cold']:.0f}", "")))
        return Content("\n").join(lines)

    def _sweep(self, d: dict[str, Any]) -> Content:
        rows = d["rows"]
        width = self._width()
        cells = max(4, width - 8 - 17)  # two columns for the scroll bar a sweep needs
        ax = axis([float(r["list_loads"]) for r in rows] + [float(r["section_loads"]) for r in rows],
                  cells)
        lines = [Content.styled(f"sweep ({d.get('cache', 'cold')}): oldest of N", "bold")]
        for r in rows:
            lines.append(Content.assemble(
                (f"N={r['n']:<5} ", ""), (bar(r["list_loads"], ax), "$warning"),
                f" {r['list_loads']:>4} {model_ns_text(r['list_model_ns']):>8}"))
            lines.append(Content.assemble(
                (" " * 8, ""), (bar(r["section_loads"], ax), "$success"),
                f" {r['section_loads']:>4} {model_ns_text(r['section_model_ns']):>8}"))
        lines.append(Content.styled(ax.label("loads"), "dim"))
        lines.append(Content.styled("per N: list, then section", "dim"))
        lines.append(Content.assemble(("profile ", "dim"), (self.profile, "bold")))
        return Content("\n").join(lines)
