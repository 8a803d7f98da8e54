"""The Textual console: six areas on one machine, driven by the command line.

Panes never touch the engine: the app runs command text through the shared Session, hands
each pane the data of read-only commands (`ranges`, `rcu`, `e820`, …) and forwards the
engine's events (scan steps, costs) to the panes that animate them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pygments.lexer import Lexer
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.dom import DOMNode
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Header, RichLog, Static, Tab, Tabs

from .. import __version__
from ..commands import COMMANDS, Result, Session
from ..core import events as ev
from ..core.errors import EngineError
from ..core.sweep import COUNTS
from ..core.sweep import sweep as core_sweep
from ..highlight import PfnCommandLexer, PfnOutputLexer
from ..lessons import Lesson, Player
from . import log_text
from .command_line import CommandLine
from .confirm_screen import ConfirmScreen
from .cost_pane import CostPane
from .decoder_pane import DecoderPane
from .help_screen import APP_HELP, HelpScreen
from .lesson_pane import LessonPane
from .memory_pane import MemoryPane
from .palette import CommandsProvider
from .paste_screen import PasteScreen
from .ranges_pane import RangesPane
from .rcu_pane import RcuPane

_CMD, _OUT = PfnCommandLexer(), PfnOutputLexer()
PANES = (("memory", "Memory"), ("ranges", "Ranges"), ("decoder", "Decoder"), ("rcu", "RCU"),
         ("cost", "Cost"))
NARROW_WIDTH = 120
NARROW_HEIGHT = 36

class PfnApp(App[None]):
    """pfnconsole's Textual front end."""

    TITLE = "pfnconsole"
    SUB_TITLE = f"v{__version__}"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {CommandsProvider}
    BINDINGS = [
        Binding("f1", "help", "help"),
        Binding("ctrl+z", "undo", "undo"),
        Binding("f2", "speed", "speed", tooltip="scan animation speed"),
        Binding("f3", "next_pane", "pane", tooltip="next pane"),
        Binding("f4", "paste", "paste", tooltip="paste a kernel log"),
        Binding("f5", "lesson_next", "step", tooltip="next lesson step"),
        Binding("f8", "lesson_back", "back", tooltip="lesson step back"),
        Binding("f6", "sweep", "sweep", tooltip="cost against the number of ranges"),
        Binding("ctrl+q", "quit", "quit"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # the lesson keys are hidden from the footer without a lesson
        return not (action in ("lesson_next", "lesson_back") and self.player is None)

    def __init__(self, session: Session | None = None, lesson: Lesson | None = None) -> None:
        super().__init__()
        self.session = session or Session()
        self.player = Player(lesson, self.session) if lesson else None
        self._events: list[ev.Event] = []
        self.session.machine.subscribe(self._events.append)

    # --- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        tabs = [Tab(label, id=f"tab-{name}") for name, label in PANES]
        if self.player:
            tabs.insert(0, Tab("Lesson", id="tab-lesson"))
        yield Tabs(*tabs, id="pane-tabs")
        with Horizontal(id="main"):
            with Vertical(id="panes"):
                with Horizontal(id="upper"):
                    yield MemoryPane(id="memory", classes="pane")
                    yield RangesPane(id="ranges", classes="pane")
                with Horizontal(id="lower"):
                    yield DecoderPane(id="decoder", classes="pane")
                    yield RcuPane(id="rcu", classes="pane")
                    yield CostPane(id="cost", classes="pane")
            if self.player:
                yield LessonPane(self.player.lesson, id="lesson", classes="pane")
        log = RichLog(id="log", wrap=True, markup=False, max_lines=2000)
        log.border_title = "log"
        yield log
        yield Static(id="hints")
        yield CommandLine(self.session, id="cmd")
        yield Footer()

    def on_mount(self) -> None:
        self._layout_for(self.size.width, self.size.height)
        self.refresh_all(machine=True)
        self.log_text("pfnconsole: `help` lists commands, F1 explains the focused pane, "
                      "F3 moves between panes, Ctrl+P opens the palette.", _OUT)
        for text in self.session.notices:
            self.log_text(f"pfnconsole: {text}", _OUT)
        self.query_one("#cmd", CommandLine).focus()
        if self.player:
            self.query_one(LessonPane).show(0, [])

    def on_resize(self, event: Resize) -> None:
        self._layout_for(event.size.width, event.size.height)

    def _layout_for(self, width: int, height: int) -> None:
        narrow = width < NARROW_WIDTH or height < NARROW_HEIGHT
        self.screen.set_class(narrow, "narrow")
        if narrow:
            active = self.query_one("#pane-tabs", Tabs).active or "tab-ranges"
            self._show_only(active.removeprefix("tab-"))

    @on(Tabs.TabActivated, "#pane-tabs")
    def _tab(self, event: Tabs.TabActivated) -> None:
        assert event.tab.id is not None  # compose gives every tab an id
        self._show_only(event.tab.id.removeprefix("tab-"))

    def _show_only(self, name: str) -> None:
        for pane in self.query(".pane"):
            pane.set_class(pane.id == name, "-active")
        for row in self.query("#upper, #lower"):
            row.set_class(any(p.id == name for p in row.children), "-holds-active")
        self.query_one("#panes").set_class(name != "lesson", "-holds-active")

    # --- running commands ----------------------------------------------------------------
    def prefill(self, text: str) -> None:
        cmd = self.query_one("#cmd", CommandLine)
        cmd.value = text
        cmd.cursor_position = len(text)
        cmd.focus()

    @on(CommandLine.Run)
    def _submitted(self, event: CommandLine.Run) -> None:
        self.run_line(event.line)

    @on(CommandLine.Hints)
    def _hints(self, event: CommandLine.Hints) -> None:
        self.query_one("#hints", Static).update("  ".join(event.items[:20]))
        self.query_one("#hints").set_class(bool(event.items), "-shown")

    def run_line(self, line: str) -> Result | None:
        """Run one command as if typed: log it, then refresh the panes from events."""
        self._events.clear()
        result = self.session.execute(line)
        if result is None:
            return None
        first, newline, body = line.partition("\n")
        self.log_text(f"pfn> {first}", _CMD)
        if newline:
            self.log_text(f"     … and the {body.count(chr(10)) + 1} pasted line(s) after it", _OUT)
        self.log_text(result.text(), _OUT)
        if result.ok:
            events = list(self._events)
            self._events.clear()  # the machine appends to this very list
            self._after(result, events)
        else:
            self._events.clear()  # a refusal changed nothing, so the panes stand
            if result.cmd == "save" and result.data.get("exists"):
                self._offer_replace(result.data["exists"])
        return result

    def _offer_replace(self, path: str) -> None:
        """`save` to an existing file: ask, and replace it only on yes (`save --force`)."""
        def answered(yes: bool | None) -> None:
            if yes:
                self.run_line(f"save --force {path}")
        self.push_screen(ConfirmScreen(f"{path} exists. Replace it with this session's "
                                       "commands?"), answered)

    def log_text(self, text: str, lexer: Lexer) -> None:
        self.query_one("#log", RichLog).write(
            log_text.render(text, lexer, self.get_css_variables()))

    def _after(self, result: Result, events: list[ev.Event]) -> None:
        rebuilt = any(isinstance(e, (ev.MachineBuilt, ev.Restored)) for e in events) \
            or result.cmd in ("undo", "reset")
        self.refresh_all(machine=rebuilt)
        steps = [e for e in events if isinstance(e, ev.ScanStep)]
        cost = self.query_one(CostPane)
        for e in events:
            if isinstance(e, ev.CostMeasured):
                cost.add(e)
        if not steps and COMMANDS[result.cmd].mutates:
            self.query_one(RangesPane).animate_scan([], "")  # the last walk is history now
        if steps:
            d = result.data
            summary = ""
            if result.cmd == "kmap":
                summary = (f"kmap {d['pfn']:#x}: {d['path']} path"
                           + (f" → {d['addr']:#x}" if d.get("addr") else " → NULL")
                           + f"; section path {d['section_loads']} loads")
            self.query_one(RangesPane).animate_scan(steps, summary)
        if result.cmd in ("kmap",) and result.data.get("value") is not None:
            self.query_one(DecoderPane).set_value(result.data["value"], "v5")
        if result.cmd in ("page", "lookup"):
            self._card(result.data["pfn"])

    def refresh_all(self, machine: bool = False) -> None:
        q = self.session.query
        ranges = q("ranges").data
        if machine:
            self.query_one(MemoryPane).show_machine(q("info").data, q("e820").data,
                                                    q("sections").data)
        self.query_one(MemoryPane).show_ranges(ranges)
        self.query_one(RangesPane).show(ranges)
        self.query_one(RcuPane).show(q("rcu").data)
        self._update_subtitle()

    def _update_subtitle(self) -> None:
        st = self.session.query("info").data
        self.sub_title = (f"v{__version__} · {st['arch']} v{st['kver']} · "
                          f"radix {self.session.radix}")

    def _card(self, pfn: int) -> None:
        page = self.session.query(f"page {pfn:#x}")
        if not page.ok:
            return
        look = self.session.query(f"lookup {pfn:#x}")
        self.query_one(MemoryPane).show_card(page.data, look.data if look.ok else None)

    @on(MemoryPane.Selected)
    def _selected(self, event: MemoryPane.Selected) -> None:
        self._card(event.pfn)
        self.query_one(DecoderPane).set_value(event.pfn,  # pfn_t keeps the pfn unshifted
                                              "pfn_t:6.16")

    @on(DecoderPane.Request)
    def _decode(self, event: DecoderPane.Request) -> None:
        abi, _, kver = event.abi.partition(":")
        line = f"decode {event.text} abi={abi}" + (f" kver={kver}" if kver else "")
        r = self.session.query(line)
        if r.ok and "value" not in r.data:  # not a number: `decode` read it as log text
            r = Result(cmd="decode", ok=False,
                       error=f"{event.text!r} is not a value: type a number (0x100600004, "
                             "1050112 or 4G); F4 decodes kernel log text")
        if event.pane.is_attached:  # not when the request arrives as the app closes
            event.pane.show(r.ok, r.data, r.error)

    # --- actions ---------------------------------------------------------------------------
    def action_help(self) -> None:
        focused = self.focused
        text = APP_HELP
        node: DOMNode | None = focused
        while node is not None:
            if hasattr(node, "HELP") and isinstance(node.HELP, str) \
                    and node is not self:
                text = node.HELP
                break
            node = node.parent
        self.push_screen(HelpScreen(text))

    def action_next_pane(self) -> None:
        """Narrow screens: show the next pane; wide ones: focus it."""
        tabs = self.query_one("#pane-tabs", Tabs)
        names = ([] if not self.player else ["lesson"]) + [n for n, _ in PANES]
        current = (tabs.active or "tab-memory").removeprefix("tab-")
        nxt = names[(names.index(current) + 1) % len(names)]
        tabs.active = f"tab-{nxt}"
        self._show_only(nxt)
        self.query_one(f"#{nxt}").focus()

    # --- lessons ---------------------------------------------------------------------------
    def action_lesson_next(self) -> None:
        if not self.player:
            self.notify("no lesson: start with pfnconsole --lesson NAME")
            return
        self._lesson_forward(self.player.done)

    def action_lesson_back(self) -> None:
        try:
            if not self.player or not self.player.previous():
                return
        except EngineError as e:  # the journal could not record the step back
            self.log_text(f"error: {e}", _OUT)
            return
        self.log_text(f"lesson: back to step {self.player.done}", _OUT)
        self.refresh_all(machine=True)
        self._show_lesson()

    @on(LessonPane.Goto)
    def _lesson_goto(self, event: LessonPane.Goto) -> None:
        assert self.player
        if event.index < self.player.done:
            try:
                self.player.run_to(event.index)
            except EngineError as e:
                self.log_text(f"error: {e}", _OUT)
            self.refresh_all(machine=True)
            self._show_lesson()
        else:
            self._lesson_forward(event.index)

    def _lesson_forward(self, index: int) -> None:
        """Run steps up to ``index`` through the log and panes, as if typed."""
        assert self.player
        while self.player.done <= index and not self.player.finished:
            step = self.player.lesson.steps[self.player.done]
            self.log_text(f"lesson step {self.player.done + 1}: {step.title}", _OUT)
            self._events.clear()
            outcome = self.player.next()
            assert outcome is not None
            events = list(self._events)
            self._events.clear()
            for text, result in outcome.results:
                self.log_text(f"pfn> {text}", _CMD)
                self.log_text(result.text(), _OUT)
            last = outcome.results[-1][1] if outcome.results else None
            if last is not None and last.ok:
                self._after(last, events)
            else:
                self.refresh_all(machine=True)
        self._show_lesson()

    def _show_lesson(self) -> None:
        assert self.player
        outcome = self.player.outcomes[-1] if self.player.outcomes else None
        lines = []
        if outcome is not None:
            checks = sum(len(b.expects) for b in
                         self.player.lesson.steps[outcome.index].blocks)
            if outcome.ok:
                lines.append(f"✓ {checks} check(s) hold")
            lines += [f"✗ line {ln}: {msg}" for ln, msg in outcome.failures]
        self.query_one(LessonPane).show(self.player.done, lines)

    def action_paste(self) -> None:
        self.push_screen(PasteScreen(lambda text: self.session.query("decode\n" + text)),
                         self._pasted)

    def _pasted(self, outcome: tuple[str, object] | None) -> None:
        if not outcome:
            return
        what, value = outcome
        if what == "pfn" and isinstance(value, int):
            self.log_text(f"paste: pfn {value:#x}", _OUT)
            self._card(value)
            self.query_one(DecoderPane).set_value(value, "pfn_t:6.16")
        elif what == "machine" and isinstance(value, str):
            # through the command path, so that save, the journal and --resume see it
            self.run_line(f"machine from-log - arch={self.session.status()['arch']}\n{value}")

    def action_undo(self) -> None:
        self.run_line("undo")

    def action_speed(self) -> None:
        speed = self.query_one(RangesPane).cycle_speed()
        self.notify(f"scan animation: {speed}")

    def action_sweep(self) -> None:
        self.notify("sweeping 1…256 ranges on a scratch machine")
        self._sweep()

    @work(thread=True, exclusive=True)
    def _sweep(self) -> None:
        rows = sweep()
        self.call_from_thread(self.query_one(CostPane).show_sweep, rows)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Sweep", "cost against the number of ranges", self.action_sweep)
        yield SystemCommand("Scan speed", "instant / fast / slow", self.action_speed)


def sweep(counts: tuple[int, ...] = COUNTS) -> list[tuple[int, int, int, int, int]]:
    """The F6 sweep (core.sweep, as `pfnconsole bench` runs it): per N, (N, list loads,
    list ns, section loads, section ns) of a kmap into the oldest of N ranges."""
    return [(r.n, r.list_loads, r.list_ns, r.section_loads, r.section_ns)
            for r in core_sweep(counts)]


def main(lesson: str | None = None, session: Session | None = None) -> int:
    from ..lessons import load
    PfnApp(session, lesson=load(lesson) if lesson else None).run()
    return 0
