"""`pfnconsole repl`: a line-mode console on prompt_toolkit.

History persists in the XDG state directory (read in a background thread, so start-up does
not wait for it), suggestions come from that history, completion and highlighting from the
one command table and the Pygments lexers.  Ctrl-C drops the line, Ctrl-D leaves.  With
stdin not a terminal it reads commands line by line like ``pfnconsole run --keep-going``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterable, TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import PygmentsTokens
from prompt_toolkit.history import FileHistory, History, InMemoryHistory, ThreadedHistory
from prompt_toolkit.lexers import PygmentsLexer
from prompt_toolkit.output import Output
from prompt_toolkit.input import Input
from prompt_toolkit.shortcuts import print_formatted_text
from prompt_toolkit.styles import Style, merge_styles, style_from_pygments_cls
from pygments.styles import get_style_by_name
from pygments.token import Error, Generic

from . import __version__
from .commands import Result, Session
from .commands.complete import complete
from .commands.table import size_text
from .highlight import PfnCommandLexer, PfnOutputLexer


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


class Repl:
    """One interactive session: a Session plus a PromptSession."""

    def __init__(self, session: Session | None = None, *, input: Input | None = None,
                 output: Output | None = None, history: History | None = None) -> None:
        self.session = session or Session()
        self.output = output
        self.prompts = 0
        """How many prompts have been shown (tests wait on it)."""
        self.prompt = PromptSession(
            history=history if history is not None else open_history(),
            auto_suggest=AutoSuggestFromHistory(),
            completer=CommandCompleter(self.session),
            complete_while_typing=True,
            lexer=PygmentsLexer(PfnCommandLexer),
            style=STYLE,
            bottom_toolbar=self.toolbar,
            input=input, output=output,
        )

    def toolbar(self):
        st = self.session.machine.state
        gps = len(st.rcu.gps)
        return (f" {st.arch.name}  cpu{st.cpu}  readers {st.rcu.nr_readers}  "
                f"ranges {len(st.kmap.nodes)}" + (f"  GP waiting {gps}" if gps else "")
                + f"  radix {self.session.radix}   Tab completes, Ctrl-D quits ")

    def banner(self) -> None:
        st = self.session.machine.state
        print_formatted_text(
            PygmentsTokens([(Generic.Heading, f"pfnconsole {__version__}"),
                            (Generic.Output, f" on {st.arch.name} with "
                             f"{size_text(st.physmap.ram_bytes)} of RAM\n"
                             "`help` lists commands, `help CMD` shows one, `explain` shows "
                             "the kernel path\n")]),
            style=STYLE, output=self.output)

    def run(self) -> int:
        self.banner()
        while True:
            self.prompts += 1
            try:
                line = self.prompt.prompt(f"pfn[cpu{self.session.machine.state.cpu}]> ")
            except KeyboardInterrupt:
                continue
            except EOFError:
                return 0
            if line.strip() in ("quit", "exit"):
                return 0
            result = self.session.execute(line)
            if result is not None:
                print_result(result, self.output)


def run_piped(stream: TextIO, out: TextIO, err: TextIO) -> int:
    """Non-interactive: the same as ``pfnconsole run - --keep-going``."""
    from .cli import run_script
    return run_script(stream, "<stdin>", as_json=False, keep_going=True, out=out, err=err)


def main() -> int:
    if not sys.stdin.isatty():
        return run_piped(sys.stdin, sys.stdout, sys.stderr)
    return Repl().run()
