"""Paste a kernel log, see what it says about pages, jump to a pfn or adopt its memory map."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from ..commands import Result


class PasteScreen(ModalScreen[tuple[str, object] | None]):
    """Dismisses with ("pfn", n), ("machine", text) or None."""

    BINDINGS = [Binding("escape", "dismiss(None)", "close"),
                Binding("ctrl+r", "decode", "decode", priority=True)]

    HELP = """\
# Paste a kernel log

Paste dmesg, a trace or a mail-quoted report into the box (timestamps, syslog
prefixes and `> ` quotes are fine) and press **Decode** (Ctrl+R). Every fact found
is listed with its line: dump_page, Bad page state, Memory failure, fs_dax traces,
e820 maps, page-fault walks and more.

* **Enter** on a finding with a pfn closes this and shows that pfn in the panes.
* **Build machine** turns the log's e820 / `user:` map into the simulated machine,
  persistent memory included, so the memory pane shows the real layout.
"""

    def __init__(self, decode: Callable[[str], Result]) -> None:
        super().__init__()
        self._decode = decode
        self._pfns: dict[str, int] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="paste-box"):
            yield Static("[b]Paste a kernel log[/]  (Ctrl+R decodes, Escape closes)")
            yield TextArea(id="paste-text", soft_wrap=False, show_line_numbers=True)
            with Horizontal(id="paste-buttons"):
                yield Button("Decode", id="paste-decode", variant="primary")
                yield Button("Build machine from log", id="paste-machine")
                yield Button("Close", id="paste-close")
            yield Static("", id="paste-summary")
            yield OptionList(id="paste-findings")

    def on_mount(self) -> None:
        self.query_one("#paste-text", TextArea).focus()

    def action_decode(self) -> None:
        text = self.query_one("#paste-text", TextArea).text
        result = self._decode(text)
        findings = self.query_one("#paste-findings", OptionList)
        findings.clear_options()
        self._pfns.clear()
        if not result.ok:
            self.query_one("#paste-summary", Static).update(f"[red]{result.error}[/]")
            return
        for i, (f, line) in enumerate(zip(result.data["findings"], result.lines, strict=False)):
            key = f"f{i}"
            if f.get("pfn") is not None:
                self._pfns[key] = f["pfn"]
            findings.add_option(Option(line.replace("\n", "  "), id=key))
        pfns = result.data["pfns"]
        self.query_one("#paste-summary", Static).update(
            f"{len(result.data['findings'])} finding(s), {len(pfns)} distinct pfn(s)"
            + ("; Enter on one shows it" if pfns else ""))
        if result.data["findings"]:
            findings.focus()
            firsts = [i for i, f in enumerate(result.data["findings"]) if f.get("pfn") is not None]
            findings.highlighted = firsts[0] if firsts else 0

    @on(Button.Pressed, "#paste-decode")
    def _decode_pressed(self) -> None:
        self.action_decode()

    @on(Button.Pressed, "#paste-machine")
    def _machine(self) -> None:
        self.dismiss(("machine", self.query_one("#paste-text", TextArea).text))

    @on(Button.Pressed, "#paste-close")
    def _close(self) -> None:
        self.dismiss(None)

    @on(OptionList.OptionSelected, "#paste-findings")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        pfn = self._pfns.get(event.option.id or "")
        if pfn is not None:
            self.dismiss(("pfn", pfn))
        else:
            self.notify("this finding has no pfn")
