"""`pfnconsole repl`: a line-mode console on prompt_toolkit.

History persists in the XDG state directory (read in a background thread, so start-up does
not wait for it), suggestions come from that history, completion and highlighting from the
one command table and the Pygments lexers.  Ctrl-C drops the line, Ctrl-D leaves.  A paste
of several lines after `decode` (or after a line `decode` alone) is decoded as one text;
other pastes run a line at a time.  With stdin not a terminal it reads commands line by
line like ``pfnconsole run --keep-going``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import FormattedText, PygmentsTokens, to_formatted_text
from prompt_toolkit.history import FileHistory, History, InMemoryHistory, ThreadedHistory
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.keys import Keys
from prompt_toolkit.lexers import PygmentsLexer
from prompt_toolkit.output import Output
from prompt_toolkit.shortcuts import print_formatted_text
from prompt_toolkit.styles import Style, merge_styles, style_from_pygments_cls
from pygments.styles import get_style_by_name
from pygments.token import Error, Generic

from . import __version__
from .commands import Result, Session
from .commands.complete import complete
from .commands.parse import MAX_LINE, heredoc_word, script_commands
from .core.errors import EngineError
from .core.units import size_text
from .highlight import PfnCommandLexer, PfnOutputLexer
from .lessons import Lesson, Player, StepOutcome
from .lessons import progress as lesson_progress
from .lessons.exercise import prompt as exercise_prompt
from .lessons.markdown import fill, plain, spans


def history_path() -> Path:
    """$XDG_STATE_HOME/pfnconsole/history (default ~/.local/state)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(Path.home(), ".local", "state")
    return Path(base) / "pfnconsole" / "history"


def open_history() -> History:
    """A file history loaded in a thread; memory only if the state dir is unusable."""
    path = history_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
    except OSError:
        return InMemoryHistory()
    return ThreadedHistory(FileHistory(str(path)))


class CommandCompleter(Completer):
    """prompt_toolkit face of commands.complete."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get_completions(self, document: Document, complete_event: CompleteEvent
                        ) -> Iterable[Completion]:
        for c in complete(self.session, document.text_before_cursor):
            yield Completion(c.text, start_position=c.start, display_meta=c.meta)


STYLE = merge_styles([
    style_from_pygments_cls(get_style_by_name("monokai")),
    Style.from_dict({"bottom-toolbar": "noreverse bg:#303030 #d0d0d0",
                     "pygments.error": "bold #ff5f5f bg:default",
                     "pygments.name.variable": "#66d9ef",
                     "pygments.name.constant": "#fd971f",
                     "pygments.name.attribute": "#a6e22e",
                     "pygments.generic.emph": "#ffaf00",
                     "lesson.code": "#e6db74"}),
])

_OUT_LEXER = PfnOutputLexer()


def print_result(result: Result, output: Output | None = None) -> None:
    """Print a result highlighted with the output lexer."""
    text = result.text() + "\n"
    tokens = list(_OUT_LEXER.get_tokens(text))
    if not result.ok:
        tokens = [(Error, text)]
    print_formatted_text(PygmentsTokens(tokens), end="", style=STYLE, output=output)


LESSON_KEYS = ("Enter: next step · p: step back · g N: go to step N · l: list steps\n"
               "answer VALUE · hint · show: in an exercise\n"
               "q: leave the lesson · any command runs as usual")


def markdown(text: str, width: int | None = None) -> FormattedText:
    """Lesson Markdown for the terminal: code spans styled, without their backticks, and
    the prose refilled to ``width`` columns when given."""
    return FormattedText([("class:lesson.code" if code else "", piece)
                          for code, piece in spans(text if width is None else fill(text, width))])


def step_parts(player: Player, outcome: StepOutcome) -> tuple[str, str]:
    """A step as the REPL prints it: its heading and narration (Markdown), then each
    command with its result, and the checks."""
    lesson = player.lesson
    step = lesson.steps[outcome.index]
    head = f"── step {outcome.index + 1}/{len(lesson.steps)}: {step.title} ──\n\n{step.narration}"
    out = []
    for text, result in outcome.results:
        out.append(f"pfn> {text}")
        out.append(result.text())
    checks = sum(len(b.expects) for b in step.blocks)
    if outcome.ok:
        out.append(f"✓ {checks} check(s) hold")
    out += [f"✗ {lesson.path}:{line}: {msg}" for line, msg in outcome.failures]
    if step.exercise is not None and player.waiting:
        out += ["", exercise_prompt(step.exercise)]
    return head, "\n".join(out)


def step_text(player: Player, outcome: StepOutcome) -> str:
    """A step as plain text (a pipe): the narration without its backticks."""
    head, rest = step_parts(player, outcome)
    return f"{plain(head)}\n\n{rest}"


def reads_text(line: str) -> bool:
    """Does ``line`` start a command that reads the lines after it: `decode` alone or
    `machine from -` / `machine from-log -` (without ``<<EOF``, which makes it a script's)?"""
    first = line.split("\n", 1)[0]
    words = first.lower().split()
    return (words == ["decode"] or words[:3] in (["machine", "from-log", "-"], ["machine", "from", "-"])) \
        and heredoc_word(first) is None


class Repl:
    """One interactive session: a Session plus a PromptSession."""

    def __init__(self, session: Session | None = None, *, input: Input | None = None,
                 output: Output | None = None, history: History | None = None,
                 lesson: Lesson | None = None, resume_lesson: bool = False) -> None:
        self.session = session or Session()
        self.player = Player(lesson, self.session) if lesson else None
        self.resume_lesson = resume_lesson
        """Go to where the student left the lesson last time (`--lesson N`)."""
        self.output = output
        self.prompts = 0
        """How many prompts have been shown (tests wait on it)."""
        self.awaiting_paste = False
        """A line `decode` alone was entered: the next paste is the text it decodes."""
        keys = KeyBindings()
        keys.add(Keys.BracketedPaste)(self.on_paste)
        self.prompt: PromptSession[str] = PromptSession(
            history=history if history is not None else open_history(),
            auto_suggest=AutoSuggestFromHistory(),
            completer=CommandCompleter(self.session),
            complete_while_typing=True,
            lexer=PygmentsLexer(PfnCommandLexer),
            style=STYLE,
            bottom_toolbar=self.toolbar,
            key_bindings=keys,
            input=input, output=output,
        )

    def toolbar(self) -> str:
        st = self.session.status()
        gps = st["grace_periods"]
        return (f" {st['arch']}  cpu{st['cpu']}  readers {st['readers']}  "
                f"ranges {st['ranges']}" + (f"  GP waiting {gps}" if gps else "")
                + f"  radix {st['radix']}   Tab completes, Ctrl-D quits ")

    def banner(self) -> None:
        st = self.session.status()
        print_formatted_text(
            PygmentsTokens([(Generic.Heading, f"pfnconsole {__version__}"),
                            (Generic.Output, f" on {st['arch']} with "
                             f"{size_text(st['ram_bytes'])} of RAM\n"
                             "`help` lists commands, `help CMD` shows one, `explain` shows "
                             "the kernel path\n")]),
            style=STYLE, output=self.output)

    def say(self, text: str) -> None:
        print_formatted_text(PygmentsTokens(list(_OUT_LEXER.get_tokens(text + "\n"))),
                             end="", style=STYLE, output=self.output)

    def width(self) -> int:
        """The terminal's columns, which lesson narration is refilled to."""
        return self.prompt.output.get_size().columns

    def say_step(self, outcome: StepOutcome) -> None:
        """A lesson step: the narration as Markdown, the results highlighted."""
        assert self.player is not None
        head, rest = step_parts(self.player, outcome)
        rest_tokens = to_formatted_text(PygmentsTokens(list(_OUT_LEXER.get_tokens(rest + "\n"))))
        print_formatted_text(FormattedText([*markdown(head, self.width()), ("", "\n\n"),
                                            *rest_tokens]),
                             end="", style=STYLE, output=self.output)

    def on_paste(self, event: KeyPressEvent) -> None:
        """A bracketed paste: after `decode` (or a line `decode` alone) it goes on the lines
        after the command, as the text it reads; anywhere else it goes in as typed."""
        buf: Buffer = event.current_buffer
        data = event.data.replace("\r\n", "\n").replace("\r", "\n")
        before = buf.document.text_before_cursor.rstrip()
        after = buf.document.text_after_cursor.strip()
        if self.awaiting_paste and not buf.text.strip():
            before = "decode"
        elif after or "\n" not in data.strip("\n") or not reads_text(before):
            buf.insert_text(data)
            return
        text = f"{before}\n{data}"
        buf.document = Document(text, len(text))

    def prompt_text(self) -> str:
        cpu = self.session.status()["cpu"]
        if self.player:
            return f"lesson {self.player.done}/{len(self.player.lesson.steps)} pfn[cpu{cpu}]> "
        return f"pfn[cpu{cpu}]> "

    def run(self) -> int:
        self.banner()
        if self.player:
            print_formatted_text(markdown(f"# {self.player.lesson.title}\n\n"
                                          f"{self.player.lesson.intro}\n", self.width()),
                                 style=STYLE, output=self.output)
            self.say(LESSON_KEYS)
            if self.resume_lesson:
                self.resume()
        while True:
            self.prompts += 1
            try:
                line = self.prompt.prompt(self.prompt_text())
            except KeyboardInterrupt:
                continue
            except EOFError:
                return 0
            finally:
                self.awaiting_paste = False
            if line.strip() in ("quit", "exit"):
                return 0
            try:
                if self.player and self.lesson_key(line.strip()):
                    continue
            except EngineError as e:  # a step back the journal could not record
                self.say(f"error: {e}")
                continue
            if line.strip().lower() == "decode":
                self.awaiting_paste = True
                self.say("decode: paste the log now and press Enter "
                         "(`decode VALUE` takes a value apart)")
            elif "\n" in line.strip("\n") and not reads_text(line):
                self.run_lines(line)
            else:
                self.run_line(line)

    def run_line(self, line: str) -> bool:
        """Run one command and print its result; False when it was refused."""
        result = self.session.execute(line)
        if result is None:
            return True
        print_result(result, self.output)
        if self.player is not None and (reply := self.player.observe(result)) is not None:
            self.say(("✓ " if reply.ok else "✗ ") + reply.message)
            self.progress()
        if not result.ok and result.cmd == "save" and result.data.get("exists"):
            self.offer_replace(result.data["exists"])
        return result.ok

    def run_lines(self, text: str) -> None:
        """Pasted lines: one command a line (here-documents too), stopping at an error."""
        lines = text.strip("\n").split("\n")
        numbered = ((n, line, len(line) > MAX_LINE) for n, line in enumerate(lines, 1))
        for number, command, problem in script_commands(numbered):
            if not problem and (not command.strip() or command.lstrip().startswith("#")):
                continue
            if not problem:
                self.say(f"{self.prompt_text()}{command}")
                if self.run_line(command):
                    continue
            else:
                self.say(f"error: pasted line {number}: {problem}")
            rest = len(lines) - number
            if rest:
                self.say(f"the {rest} pasted line(s) after line {number} were not run")
            return

    def offer_replace(self, path: str) -> None:
        """`save` to an existing file: ask, and replace it only on y (`save --force`)."""
        try:
            ask: PromptSession[str] = PromptSession(input=self.prompt.input,
                                                     output=self.prompt.output)
            answer = ask.prompt(f"{path} exists; replace it? [y/N] ")
        except (KeyboardInterrupt, EOFError):
            answer = ""
        if answer.strip().lower() in ("y", "yes"):
            result = self.session.execute(f"save --force {path}")
            if result is not None:
                print_result(result, self.output)
        else:
            self.say("not replaced")

    def progress(self) -> None:
        if self.player is not None and (problem := lesson_progress.record(self.player)):
            self.say(f"lesson progress not saved: {problem}")

    def resume(self) -> None:
        """Back to the step the progress file says (the steps before run again)."""
        player = self.player
        assert player is not None
        entry = lesson_progress.of(player.lesson.name)
        steps = entry["steps"] if entry else 0
        if 0 < steps < len(player.lesson.steps):
            player.run_to(steps - 1)
            self.say(f"resumed at step {steps} of {len(player.lesson.steps)}, where you left it "
                     "(p steps back, g 1 starts again)")

    def lesson_key(self, line: str) -> bool:
        """Handle a lesson key; False when the line is an ordinary command."""
        player = self.player
        assert player is not None
        word, _, rest = line.partition(" ")
        if word in ("answer", "a") and rest.strip() and player.pending is not None:
            self.say(player.answer(rest).message)
            self.progress()
        elif line in ("hint", "show") and player.pending is not None:
            self.say(player.hint() if line == "hint" else player.show())
            self.progress()
        elif line in ("", "n", "next") and player.waiting:
            assert player.pending is not None
            self.say(exercise_prompt(player.pending.exercise))
        elif line in ("", "n", "next"):
            outcome = player.next()
            if outcome:
                self.say_step(outcome)
                self.progress()
            else:
                self.say("End of the lesson: q leaves it, p steps back.")
        elif line in ("p", "prev", "back"):
            self.say(f"back to step {player.done}" if player.previous() else
                     "already at the start")
        elif line in ("l", "list"):
            self.say("\n".join(f"{'▶' if i == player.done else ' '} {i + 1}. {plain(s.title)}"
                               for i, s in enumerate(player.lesson.steps)))
        elif line.startswith("g ") and line[2:].strip().isdigit():
            target = int(line[2:]) - 1
            if not 0 <= target < len(player.lesson.steps):
                self.say(f"error: steps are 1..{len(player.lesson.steps)}")
            else:
                for outcome in player.run_to(target):
                    self.say_step(outcome)
                self.say(f"at step {player.done}")
        elif line == "q":
            self.player = None
            self.say("left the lesson; the machine stays as it is")
        else:
            return False
        return True


def run_piped(stream: TextIO, out: TextIO, err: TextIO, lesson: Lesson | None = None) -> int:
    """Non-interactive: play the lesson through, then as ``pfnconsole run - --keep-going``."""
    from .commands.script import run_script
    session = Session()
    status = 0
    if lesson is not None:
        player = Player(lesson, session)
        out.write(plain(f"# {lesson.title}\n\n{lesson.intro}") + "\n\n")
        while not player.finished:
            if player.waiting:  # nobody to answer in a pipe: the answer is shown
                out.write(player.show() + "\n\n")
                continue
            outcome = player.next()
            assert outcome is not None
            out.write(step_text(player, outcome) + "\n\n")
            status |= not outcome.ok
    return run_script(stream, "<stdin>", as_json=False, keep_going=True, out=out, err=err,
                      session=session) or int(status)


def main(lesson: str | None = None, session: Session | None = None, resume_lesson: bool = False) -> int:
    loaded = None
    if lesson:
        from .lessons import load
        loaded = load(lesson)
    if not sys.stdin.isatty():
        return run_piped(sys.stdin, sys.stdout, sys.stderr, loaded)
    return Repl(session, lesson=loaded, resume_lesson=resume_lesson).run()
