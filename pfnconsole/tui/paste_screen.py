"""Paste a kernel log, see what it says about pages, jump to a pfn or adopt its memory map.

The log is read in a worker thread by `read_log`, which is pure: the thread gets the text
and a copy of what it needs of the session (its arch and machine spec, both read here on
the main thread) and never touches the Session, which is not thread safe.  A newer Decode
cancels the older one; only the newest answer is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, OptionList, Static, TextArea
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from ..commands import Session
from ..commands.tool_sources import source_format
from ..commands.verbs.logs import LogReport, describe, finding_line, read_log, version_facts
from ..core.arch import ARCH_NAMES
from ..core.machine import MachineSpec

MAX_SHOWN = 2000
"""Findings listed at most (`pfnconsole decode FILE` prints them all)."""
GROUP = "paste-decode"


@dataclass
class PasteMemo:
    """What F4 keeps between openings (the app holds one): the text and its last reading."""

    text: str = ""
    report: LogReport | None = None
    decoded: str | None = None
    """The text ``report`` was read from."""
    key: tuple[str, MachineSpec] | None = None
    """The session's arch and machine spec the report was read with."""


class PasteScreen(ModalScreen[tuple[str, object] | None]):
    """Dismisses with ("pfn", n), ("machine", (text, arch)) or None."""

    BINDINGS = [Binding("escape", "leave", "close"),
                Binding("ctrl+r", "decode", "decode", priority=True),
                Binding("ctrl+b", "build", "build machine", priority=True),
                Binding("ctrl+l", "clear", "clear", priority=True)]

    HELP = """\
# Paste a kernel log

Paste dmesg, a trace or a mail-quoted report into the box (timestamps, syslog
prefixes and `> ` quotes are fine) and press **Decode** (Ctrl+R). Every fact found
is listed with its line: dump_page, Bad page state, Memory failure, fs_dax traces,
e820 maps, page-fault walks and more.

* When the log shows its memory map (e820, `user:` or memory node ranges), each pfn
  is judged against the machine the log describes (RAM, pmem or a hole, and its
  section); otherwise against the session's machine. The line above the findings
  says which.
* **Enter** on a finding with a pfn closes this and shows that pfn in the panes.
* **Build machine** (Ctrl+B) turns the log's memory map into the simulated machine,
  persistent memory included, so the memory pane shows the real layout.
* The text stays when you close and reopen this, until **Clear** (Ctrl+L).
"""

    def __init__(self, session: Session, memo: PasteMemo | None = None) -> None:
        super().__init__()
        self._session = session
        self.memo = self._memo = memo or PasteMemo()
        """What to hand the next opening: the text stays until cleared."""
        self._pfns: dict[str, int] = {}
        self._current: Worker[tuple[str, tuple[str, MachineSpec], LogReport | None]] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="paste-box"):
            yield Static("[b]Paste a kernel log[/] or a machine's /proc/iomem, VMCOREINFO, lsmem, "
                         "ndctl JSON  (^R decode, ^B build, ^L clear, Esc close)")
            yield TextArea(self._memo.text, id="paste-text", soft_wrap=False,
                           show_line_numbers=True)
            with Horizontal(id="paste-buttons"):
                yield Button("Decode", id="paste-decode", variant="primary")
                yield Button("Build machine", id="paste-machine")
                yield Button("Clear", id="paste-clear")
                yield Button("Close", id="paste-close")
            yield Static("", id="paste-about", markup=False)
            yield Static("", id="paste-summary", markup=False)
            yield OptionList(id="paste-findings")

    def on_mount(self) -> None:
        self.query_one("#paste-text", TextArea).focus()
        memo = self._memo
        if memo.report is not None and memo.decoded == memo.text and memo.key == self._key():
            self._show(memo.report)
        elif memo.text.strip():
            self.action_decode()

    def _key(self) -> tuple[str, MachineSpec]:
        st = self._session.machine.state
        return st.arch.name, st.spec

    def _text(self) -> str:
        return self.query_one("#paste-text", TextArea).text

    def _say(self, summary: str, about: str = "") -> None:
        self.query_one("#paste-summary", Static).update(summary)
        self.query_one("#paste-about", Static).update(about)

    # --- decoding in a worker ------------------------------------------------------------------
    def action_decode(self) -> None:
        text = self._text()
        self._memo.text = text
        if not text.strip():
            self._say("nothing to decode: paste a kernel log first")
            return
        findings = self.query_one("#paste-findings", OptionList)
        findings.clear_options()
        self._pfns.clear()
        findings.loading = True
        self._say(f"decoding {text.count(chr(10)) + 1} line(s)…")
        self._current = self._read(text, self._key())

    @work(thread=True, exclusive=True, group=GROUP, exit_on_error=False)
    def _read(self, text: str, key: tuple[str, MachineSpec]
              ) -> tuple[str, tuple[str, MachineSpec], LogReport | None]:
        worker = get_current_worker()
        return text, key, read_log(text, key[0], key[1], lambda: worker.is_cancelled)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._current or event.state not in (
                WorkerState.SUCCESS, WorkerState.ERROR):
            return
        self._current = None
        self.query_one("#paste-findings", OptionList).loading = False
        if event.state is WorkerState.ERROR:
            self._say(f"could not decode this text: {event.worker.error}")
            return
        result = event.worker.result
        if result is None or result[2] is None:  # cancelled as it finished
            return
        text, key, report = result
        self._memo.report, self._memo.decoded, self._memo.key = report, text, key
        self._show(report)
        kind = source_format(text)
        if kind in ("/proc/iomem", "lsmem"):
            self._say(f"this is {kind}: Build machine (Ctrl+B) builds the session's machine from "
                      f"it (`machine from -`); {len(report.findings)} finding(s) below")
        elif kind is not None:
            self._say(f"this is {kind}: no memory map to build from; `machine from iomem.txt "
                      f"FILE` combines a saved copy with /proc/iomem. {len(report.findings)} finding(s) below")

    def _show(self, report: LogReport) -> None:
        findings = self.query_one("#paste-findings", OptionList)
        findings.clear_options()
        self._pfns.clear()
        pages = report.reading.pages if report.reading is not None else ()
        for i, page in enumerate(pages[:MAX_SHOWN // 4]):
            key = f"p{i}"
            if page.pfn is not None:
                self._pfns[key] = page.pfn
            head = page.text()[0]
            meaning = f"\n    {page.meaning[0]}" if page.meaning else ""
            findings.add_option(Option(Content(head + meaning), id=key))
        shown = report.findings[:MAX_SHOWN]
        for i, f in enumerate(shown):
            key = f"f{i}"
            verdict = report.verdicts.get(f.pfn, "") if f.pfn is not None else ""
            if f.pfn is not None:
                self._pfns[key] = f.pfn
            line = "  ".join(part.strip() for part in finding_line(f, verdict).split("\n"))
            findings.add_option(Option(Content(line), id=key))
        more = len(report.findings) - len(shown)
        summary = ((f"{len(pages)} page report(s) first, then " if pages else "")
                   + f"{len(report.findings)} finding(s), {len(report.pfns)} distinct pfn(s)"
                   + (f", the first {MAX_SHOWN} listed" if more > 0 else "")
                   + ("; Enter on one shows it" if report.pfns else ""))
        if report.pfns and report.against != "log":  # else the lines above say so
            summary += "\n" + report.summary()
        self._say(summary, self._about(report))
        if shown:
            findings.focus()
            firsts = [i for i, f in enumerate(shown) if f.pfn is not None]
            findings.highlighted = 0 if pages else firsts[0] if firsts else 0

    def _about(self, report: LogReport) -> str:
        """describe() of the log, with what Build machine would do."""
        about = describe(report)
        if about and report.against == "log":
            spec = self._session.machine.state.spec
            if spec.e820 == report.ranges and spec.arch == report.arch:
                about[-1] += "; it is the session's machine now"
            else:
                about[-1] += "; Build machine (Ctrl+B) makes it the session's machine"
        return "\n".join(about)

    # --- the other actions -----------------------------------------------------------------------
    def action_build(self) -> None:
        text = self._text()
        if not text.strip():
            self._say("nothing to build from: paste a boot log with its memory map first")
            return
        memo = self._memo
        if source_format(text) is not None:  # /proc/iomem, VMCOREINFO, ndctl JSON, …
            self._leave(("machine", (text, None)))
            return
        report = memo.report if memo.decoded == text else None
        if report is not None and not report.ranges:
            self._say("this log shows no memory map (e820, `user:` or memory node ranges) "
                      "to build a machine from", self._about(report))
            return
        if report is not None and report.against != "log":
            self._say(f"this log's machine {report.problem}", self._about(report))
            return
        named = version_facts(text)[0]
        arch = report.arch if report else named if named in ARCH_NAMES else self._key()[0]
        self._leave(("machine", (text, arch)))

    def action_clear(self) -> None:
        self.workers.cancel_group(self, GROUP)
        self._current = None
        self._memo.text, self._memo.report, self._memo.decoded = "", None, None
        self.query_one("#paste-text", TextArea).text = ""
        findings = self.query_one("#paste-findings", OptionList)
        findings.loading = False
        findings.clear_options()
        self._pfns.clear()
        self._say("")
        self.query_one("#paste-text", TextArea).focus()

    def action_leave(self) -> None:
        self._leave(None)

    def _leave(self, outcome: tuple[str, object] | None) -> None:
        """Close, keeping the text for the next opening."""
        self._memo.text = self._text()
        self.dismiss(outcome)

    @on(Button.Pressed, "#paste-decode")
    def _decode_pressed(self) -> None:
        self.action_decode()

    @on(Button.Pressed, "#paste-machine")
    def _machine(self) -> None:
        self.action_build()

    @on(Button.Pressed, "#paste-clear")
    def _clear(self) -> None:
        self.action_clear()

    @on(Button.Pressed, "#paste-close")
    def _close(self) -> None:
        self._leave(None)

    @on(OptionList.OptionSelected, "#paste-findings")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        pfn = self._pfns.get(event.option.id or "")
        if pfn is not None:
            self._leave(("pfn", pfn))
        else:
            self.notify("this finding has no pfn")
