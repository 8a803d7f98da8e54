"""The help screen: Markdown help for the app or one pane (F1)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static

APP_HELP = """\
# pfnconsole

Type commands in the line at the bottom (**Tab** completes, **Up/Down** recall,
the grey suggestion is accepted with **→**). `help` lists every command, `help CMD`
shows one, `explain` shows the kernel path behind the last answer. When an answer is
taller than the log, the log's lower border says how many lines are above.

| key | action |
|---|---|
| F1 | help for the focused pane |
| Ctrl+P | command palette: every command and example |
| Ctrl+Z | undo the last change |
| F2 | scan animation speed |
| F3 | next pane (on narrow terminals the tabs switch panes); once round, the command line |
| Escape or `:` | back to the command line; typing in a pane types there too |
| PageUp / PageDown | scroll the log, from the command line; **Ctrl+End** the newest line |
| Ctrl+F | search the log: type text, **Enter** or **Up** the next older match, **Down** a newer one, **Escape** ends |
| F4 | paste a kernel log: decode it, jump to its pfns, build the machine from it |
| F6 | sweep: cost against the number of ranges |
| Ctrl+Q | quit |

Try: `register pmem0 0x440000000 4G`, `kmap 0x440600 dev`, `teardown pmem0`,
`kunmap 0xffffc90000600000`.
"""


class HelpScreen(ModalScreen[None]):
    """Markdown help for one pane; Escape or F1 closes it."""

    BINDINGS = [Binding("escape,f1,q", "dismiss", "close")]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Markdown(self.text)
            yield Static("[dim]Escape closes[/]")
