"""The Textual console: six areas on one machine, driven by the command line.

Panes never touch the engine: the app runs command text through the shared Session, hands
each pane the data of read-only commands (`ranges`, `rcu`, `e820`, …) and forwards the
engine's events (scan steps, costs) to the panes that animate them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pygments.lexer import Lexer
from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.dom import DOMNode
from textual.events import Key, Resize
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, Tab, Tabs

from .. import __version__
from ..commands import Result, Session
from ..core import events as ev
from ..core.errors import EngineError
from ..highlight import PfnCommandLexer, PfnOutputLexer
from ..lessons import Lesson, Player, progress
from ..lessons.exercise import prompt as exercise_prompt
from . import log_text
from .command_line import CommandLine
from .confirm_screen import ConfirmScreen
from .cost_pane import CostPane
from .decoder_pane import DecoderPane
from .help_screen import APP_HELP, HelpScreen
from .lesson_pane import LessonPane
from .memory_pane import MemoryPane
from .palette import CommandsProvider
from .pane_data import data_of, decoder_abi, profile_line
from .paste_screen import PasteMemo, PasteScreen
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
        Binding("f5", "no_lesson", show=False),  # only without a lesson: says so
        Binding("f8", "no_lesson", show=False),
        Binding("ctrl+q", "quit", "quit"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # the lesson keys are hidden from the footer without a lesson (and then say why)
        if action == "no_lesson":
            return self.player is None
        return not (action in ("lesson_next", "lesson_back") and self.player is None)

    def __init__(self, session: Session | None = None, lesson: Lesson | None = None,
                 resume_lesson: bool = False) -> None:
        super().__init__()
        self.session = session or Session()
        self.player = Player(lesson, self.session) if lesson else None
        self._resume_lesson = resume_lesson
        """Go to where the student left the lesson last time (`--lesson N`)."""
        self._events: list[ev.Event] = []
        self._shown_value: tuple[int, str] | None = None
        self._paste_memo: PasteMemo | None = None
        """F4's text and findings, kept between openings until cleared."""
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
        # min_width: RichLog wraps at 78 columns at least, wider than the log at 80x24
        log = log_text.ConsoleLog(id="log", wrap=True, markup=False, max_lines=2000, min_width=20)
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
            if self._resume_lesson:
                self._resume()

    def _resume(self) -> None:
        """Back to the step the progress file says, the steps before run again."""
        assert self.player
        entry = progress.of(self.player.lesson.name)
        steps = entry["steps"] if entry else 0
        if 0 < steps < len(self.player.lesson.steps):
            self.player.run_to(steps - 1)
            self.refresh_all(machine=True)
            self.log_text(f"lesson: resumed at step {steps} of {len(self.player.lesson.steps)} "
                          f"(where you left it; F8 steps back)", _OUT)
            self._show_lesson()

    def _progress(self) -> None:
        if self.player is not None and (problem := progress.record(self.player)):
            self.log_text(f"lesson progress not saved: {problem}", _OUT)

    def on_resize(self, event: Resize) -> None:
        self._layout_for(event.size.width, event.size.height)

    def _layout_for(self, width: int, height: int) -> None:
        narrow = width < NARROW_WIDTH or height < NARROW_HEIGHT
        self.screen.set_class(narrow, "narrow")
        # under 45 rows the panes keep the 24 they need and the log gets the rest
        self.screen.set_class(not narrow and height < 45, "short")
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
        if not self._exercise_word(event.line.strip()):
            self.run_line(event.line)

    def _exercise_word(self, line: str) -> bool:
        """`answer VALUE`, `hint` and `show` while a lesson's exercise is open."""
        player = self.player
        if player is None or player.pending is None:
            return False
        word, _, rest = line.partition(" ")
        ran_before = player.pending.run_result
        self._events.clear()
        if word == "answer" and rest.strip():
            self.log_text(f"pfn> {line}", _CMD)
            reply = player.answer(rest)
            self.log_text(("✓ " if reply.ok else "✗ ") + reply.message, _OUT)
        elif line in ("hint", "show"):
            self.log_text(f"pfn> {line}", _CMD)
            self.log_text(player.hint() if line == "hint" else player.show(), _OUT)
        else:
            return False
        ran = player.pending.run_result if player.pending else None
        if ran is not None and ran is not ran_before and ran.ok:  # the exercise's command ran
            events = list(self._events)
            self._events.clear()
            self._after(ran, events)
        self._show_lesson()
        self._progress()
        return True

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
        if self.player is not None and (reply := self.player.observe(result)) is not None:
            self.log_text(("✓ " if reply.ok else "✗ ") + reply.message, _OUT)
            self._show_lesson()
            self._progress()
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
        self.query_one("#log", log_text.ConsoleLog).add(
            log_text.render(text, lexer, self.get_css_variables()))

    def _after(self, result: Result, events: list[ev.Event]) -> None:
        """Redraw every pane from the session's view, then animate what just happened."""
        rebuilt = any(isinstance(e, (ev.MachineBuilt, ev.Restored)) for e in events) \
            or result.cmd in ("undo", "reset")
        self.refresh_all(machine=rebuilt)
        if self.session.view.walk is result and any(isinstance(e, ev.ScanStep) for e in events):
            self.query_one(RangesPane).replay()

    def refresh_all(self, machine: bool = False) -> None:
        """Every pane as a view of (current state, last answer): after any command, undo,
        load, resume, machine rebuild or lesson step."""
        q = self.session.query
        view = self.session.view
        ranges = q("ranges").data
        if machine:
            self.query_one(MemoryPane).show_machine(q("info").data, q("e820").data,
                                                    q("sections").data)
        else:
            self.query_one(MemoryPane).show_sections(q("info").data, q("sections").data)
        self.query_one(MemoryPane).show_ranges(ranges)
        self.query_one(RangesPane).show(ranges, data_of(view.walk), q("pgmaps").data)
        self.query_one(RcuPane).show(q("rcu").data)
        st = self.session.machine.state
        self.query_one(CostPane).show(data_of(view.cost), profile_line(st.profile))
        if view.value is not None and view.value != self._shown_value:
            self._shown_value = view.value
            self.query_one(DecoderPane).set_value(view.value[0], decoder_abi(view.value[1]))
        self._card(view.pfn)
        self._update_subtitle()

    def _update_subtitle(self) -> None:
        st = self.session.query("info").data
        self.sub_title = (f"v{__version__} · {st['arch']} v{st['kver']} · "
                          f"radix {self.session.radix} · cost on {self.session.machine.state.profile}")

    def _card(self, pfn: int | None) -> None:
        page = self.session.query(f"page {pfn:#x}") if pfn is not None else None
        if page is None or not page.ok:
            self.query_one(MemoryPane).clear_card()
            return
        look = self.session.query(f"lookup {pfn:#x}")
        self.query_one(MemoryPane).show_card(page.data, look.data if look.ok else None)

    @on(MemoryPane.Selected)
    def _selected(self, event: MemoryPane.Selected) -> None:
        self.run_line(f"page {event.pfn:#x}")  # through the command path, so the view follows

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
        """F3: show and focus the next pane; from the first pane, the command line."""
        tabs = self.query_one("#pane-tabs", Tabs)
        names = ([] if not self.player else ["lesson"]) + [n for n, _ in PANES]
        cmd = self.query_one("#cmd", CommandLine)
        pane = next((n for n in names if self.query_one(f"#{n}").has_focus_within), None)
        if pane == names[0] or (pane is None and not cmd.has_focus):
            cmd.focus()  # once round the panes, back to the line
            return
        current = pane or (tabs.active or f"tab-{names[0]}").removeprefix("tab-")
        nxt = names[(names.index(current) + 1) % len(names)]
        tabs.active = f"tab-{nxt}"
        self._show_only(nxt)
        self.query_one(f"#{nxt}").focus()

    def on_key(self, event: Key) -> None:
        """Keys typed where nothing takes them go to the command line: a printable one is
        typed there, Escape and `:` just go back to it.

        Inputs keep their printable keys, so one that gets here came from a pane, even
        when the focus has already gone to the line (a burst typed faster than it moves).
        """
        cmd = self.query_one("#cmd", CommandLine)
        if len(self.screen_stack) > 1 or event.key in self.active_bindings:
            return  # a dialog's key, or one the focused widget binds (zoom, arrows)
        if event.key != "escape" and not (event.is_printable and event.character):
            return  # F-keys, arrows, Enter: not text
        event.stop()
        event.prevent_default()
        self.screen.set_focus(cmd)  # now, so that the keys after this one follow it
        if event.key not in ("escape", "colon"):
            cmd.insert_text_at_cursor(event.character or "")

    # --- lessons ---------------------------------------------------------------------------
    def action_no_lesson(self) -> None:
        self.notify("F5 and F8 step through a lesson: none is loaded. Start one with "
                    "pfnconsole --lesson N (`lesson list` shows them).")

    def action_lesson_next(self) -> None:
        if not self.player:
            self.action_no_lesson()
            return
        if self.player.waiting:
            self.notify("first the exercise in the lesson pane: `answer VALUE` or the commands; "
                        "`hint`, `show`")
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
            if self.player.waiting:  # the open exercise first
                break
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
            if self.player.waiting and self.player.pending is not None:
                self.log_text(exercise_prompt(self.player.pending.exercise), _OUT)
        self._show_lesson()
        self._progress()

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
        p = self.player.pending
        if p is not None:
            lines.append("✓ exercise done" if p.solved else "exercise shown" if p.shown
                         else exercise_prompt(p.exercise))
        self.query_one(LessonPane).show(self.player.done, lines)

    def action_paste(self) -> None:
        # the pasted text and its findings stay between openings of F4, until cleared
        screen = PasteScreen(self.session, self._paste_memo)
        self._paste_memo = screen.memo
        self.push_screen(screen, self._pasted)

    def _pasted(self, outcome: tuple[str, object] | None) -> None:
        if not outcome:
            return
        what, value = outcome
        if what == "pfn" and isinstance(value, int):
            # through the command path, so the memory pane's view follows (and undo too)
            self.run_line(f"page {value:#x}")
        elif what == "machine" and isinstance(value, tuple):
            # through the command path, so that save, the journal and --resume see it;
            # the arch is the one the log names, else the session's
            text, arch = value  # arch None: a /proc or tool file, whose format says it
            self.run_line(f"machine from - arch={arch}\n{text}" if arch else f"machine from -\n{text}")

    def action_undo(self) -> None:
        self.run_line("undo")

    def action_speed(self) -> None:
        speed = self.query_one(RangesPane).cycle_speed()
        self.notify(f"scan animation: {speed}")

    def action_sweep(self) -> None:
        """F6: the `sweep` command (scratch machines; this one is not touched)."""
        self.run_line("sweep")

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Sweep", "cost against the number of ranges", self.action_sweep)
        yield SystemCommand("Scan speed", "instant / fast / slow", self.action_speed)


def main(lesson: str | None = None, session: Session | None = None, resume_lesson: bool = False) -> int:
    from ..lessons import load
    PfnApp(session, lesson=load(lesson) if lesson else None, resume_lesson=resume_lesson).run()
    return 0
