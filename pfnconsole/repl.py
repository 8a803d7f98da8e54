"""`pfnconsole repl`: a line-mode console on prompt_toolkit.

History persists in the XDG state directory (read in a background thread, so start-up does
not wait for it), suggestions come from that history, completion and highlighting from the
one command table and the Pygments lexers.  Ctrl-C drops the line, Ctrl-D leaves.  With
stdin not a terminal it reads commands line by line like ``pfnconsole run --keep-going``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import PygmentsTokens
from prompt_toolkit.history import FileHistory, History, InMemoryHistory, ThreadedHistory
from prompt_toolkit.input import Input
from prompt_toolkit.lexers import PygmentsLexer
from prompt_toolkit.output import Output
from prompt_toolkit.shortcuts import print_formatted_text
from prompt_toolkit.styles import Style, merge_styles, style_from_pygments_cls
from pygments.styles import get_style_by_name
from pygments.token import Error, Generic

from . import __version__
from .commands import Result, Session
from .commands.complete import complete
from .core.errors import EngineError
from .core.units import size_text
from .highlight import PfnCommandLexer, PfnOutputLexer
from .lessons import Lesson, Player, StepOutcome


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
                     "pygments.generic.emph": "#ffaf00"}),
])

_OUT_LEXER = PfnOutputLexer()


def print_result(result: Result, output: Output | None = None) -> None:
    """Print a result highlighted with the output lexer."""
    text = result.text() + "\n"
    tokens = list(_OUT_LEXER.get_tokens(text))
    if not result.ok:
        tokens = [(Error, text)]
    print_formatted_text(PygmentsTokens(tokens), end="", style=STYLE, output=output)


LESSON_KEYS = ("Enter: next step · p: step back · g N: go to step N · l: list steps · "
               "q: leave the lesson · any command runs as usual")


def step_text(player: Player, outcome: StepOutcome) -> str:
    """A step as the REPL prints it: narration, each command with its result, the checks."""
    lesson = player.lesson
    step = lesson.steps[outcome.index]
    out = [f"── step {outcome.index + 1}/{len(lesson.steps)}: {step.title} ──", "",
           step.narration, ""]
    for text, result in outcome.results:
        out.append(f"pfn> {text}")
        out.append(result.text())
    checks = sum(len(b.expects) for b in step.blocks)
    if outcome.ok:
        out.append(f"✓ {checks} check(s) hold")
    out += [f"✗ {lesson.path}:{line}: {msg}" for line, msg in outcome.failures]
    return "\n".join(out)


class Repl:
    """One interactive session: a Session plus a PromptSession."""

    def __init__(self, session: Session | None = None, *, input: Input | None = None,
                 output: Output | None = None, history: History | None = None,
                 lesson: Lesson | None = None) -> None:
        self.session = session or Session()
        self.player = Player(lesson, self.session) if lesson else None
        self.output = output
        self.prompts = 0
        """How many prompts have been shown (tests wait on it)."""
        self.prompt: PromptSession[str] = PromptSession(
            history=history if history is not None else open_history(),
            auto_suggest=AutoSuggestFromHistory(),
            completer=CommandCompleter(self.session),
            complete_while_typing=True,
            lexer=PygmentsLexer(PfnCommandLexer),
            style=STYLE,
            bottom_toolbar=self.toolbar,
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

    def prompt_text(self) -> str:
        cpu = self.session.status()["cpu"]
        if self.player:
            return f"lesson {self.player.done}/{len(self.player.lesson.steps)} pfn[cpu{cpu}]> "
        return f"pfn[cpu{cpu}]> "

    def run(self) -> int:
        self.banner()
        if self.player:
            self.say(f"# {self.player.lesson.title}\n\n{self.player.lesson.intro}\n\n"
                     + LESSON_KEYS)
        while True:
            self.prompts += 1
            try:
                line = self.prompt.prompt(self.prompt_text())
            except KeyboardInterrupt:
                continue
            except EOFError:
                return 0
            if line.strip() in ("quit", "exit"):
                return 0
            try:
                if self.player and self.lesson_key(line.strip()):
                    continue
            except EngineError as e:  # a step back the journal could not record
                self.say(f"error: {e}")
                continue
            result = self.session.execute(line)
            if result is not None:
                print_result(result, self.output)
                if not result.ok and result.cmd == "save" and result.data.get("exists"):
                    self.offer_replace(result.data["exists"])

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

    def lesson_key(self, line: str) -> bool:
        """Handle a lesson key; False when the line is an ordinary command."""
        player = self.player
        assert player is not None
        if line in ("", "n", "next"):
            outcome = player.next()
            self.say(step_text(player, outcome) if outcome else
                     "End of the lesson: q leaves it, p steps back.")
        elif line in ("p", "prev", "back"):
            self.say(f"back to step {player.done}" if player.previous() else
                     "already at the start")
        elif line in ("l", "list"):
            self.say("\n".join(f"{'▶' if i == player.done else ' '} {i + 1}. {s.title}"
                               for i, s in enumerate(player.lesson.steps)))
        elif line.startswith("g ") and line[2:].strip().isdigit():
            target = int(line[2:]) - 1
            if not 0 <= target < len(player.lesson.steps):
                self.say(f"error: steps are 1..{len(player.lesson.steps)}")
            else:
                for outcome in player.run_to(target):
                    self.say(step_text(player, outcome))
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
        out.write(f"# {lesson.title}\n\n{lesson.intro}\n\n")
        while not player.finished:
            outcome = player.next()
            assert outcome is not None
            out.write(step_text(player, outcome) + "\n\n")
            status |= not outcome.ok
    return run_script(stream, "<stdin>", as_json=False, keep_going=True, out=out, err=err,
                      session=session) or int(status)


def main(lesson: str | None = None, session: Session | None = None) -> int:
    loaded = None
    if lesson:
        from .lessons import load
        loaded = load(lesson)
    if not sys.stdin.isatty():
        return run_piped(sys.stdin, sys.stdout, sys.stderr, loaded)
    return Repl(session, lesson=loaded).run()
