"""The command line at the bottom: history, suggestions and completion on the command table."""

from __future__ import annotations

from typing import Any

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Input

from ..commands import Session
from ..commands.complete import complete
from .log_text import ConsoleLog

PLACEHOLDER = "type a command: help, register, kmap, teardown …"
SEARCH_PLACEHOLDER = "search the log: type text, Enter finds an older line, Escape ends"



BODY_VERBS = ("decode", "machine from-log -", "machine from -")
"""Commands whose text may follow on the next lines: a paste after them is their body."""

class CommandSuggester(Suggester):
    """Suggest the newest history line that extends the input, else the only completion."""

    def __init__(self, session: Session, history: list[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.session = session
        self.history = history

    async def get_suggestion(self, value: str) -> str | None:
        if not value.strip():
            return None
        for line in reversed(self.history):
            if line.startswith(value) and line != value:
                return line
        cands = complete(self.session, value)
        if len(cands) == 1 and cands[0].text:
            c = cands[0]
            return value[: len(value) + c.start] + c.text + ("" if c.text.endswith("=") else " ")
        return None


class CommandLine(Input):
    """``pfn>`` input: Enter runs, Up/Down walk history, Tab completes, PageUp/PageDown
    scroll the log, Ctrl+F searches it (Enter older, Down newer, Escape ends)."""

    BINDINGS = [
        Binding("up", "history(-1)", "previous", show=False),
        Binding("down", "history(1)", "next", show=False),
        Binding("tab", "complete", "complete", show=False),
        Binding("pageup", "log_page(-1)", "log up", show=False),
        Binding("pagedown", "log_page(1)", "log down", show=False),
        Binding("ctrl+end", "log_end", "newest", show=False),
        Binding("ctrl+f", "search", "search the log", show=False),
        Binding("escape", "end_search", "end search", show=False),
    ]

    class Run(Message):
        """A command line to run."""

        def __init__(self, line: str) -> None:
            super().__init__()
            self.line = line

    class Hints(Message):
        """Completion candidates to show (empty to clear)."""

        def __init__(self, items: list[str]) -> None:
            super().__init__()
            self.items = items

    def __init__(self, session: Session, **kw: Any) -> None:
        self.history: list[str] = []
        self._pos: int | None = None
        self.session = session
        self.searching = False
        self._kept = ""
        """The command being typed when the search began, given back when it ends."""
        # no select on focus: a key typed in a pane is put here before the focus arrives
        super().__init__(placeholder=PLACEHOLDER, select_on_focus=False,
                         suggester=CommandSuggester(session, self.history), **kw)
        self._suggests = self.suggester

    def on_mount(self) -> None:
        if self.app.is_headless:
            self.cursor_blink = False  # steady snapshots and tests

    async def _on_key(self, event: events.Key) -> None:
        """Act on every key in the order it came, bound keys included.

        Textual looks up a widget's own (non-priority) bindings only once the key has
        bubbled up to the app, by which time the printable keys typed after it are already
        in the line: a fast typist or a pasted burst would see Enter, Backspace or an arrow
        take effect late, and commands merge or vanish.  So this line runs them here.
        """
        if not event.is_printable:
            for binding in self._bindings.key_to_bindings.get(event.key, ()):
                if not binding.priority:
                    event.stop()
                    event.prevent_default()
                    await self.run_action(binding.action)
                    return
        # otherwise Input's own _on_key runs next (Textual calls each class's handler)

    def _on_paste(self, event: events.Paste) -> None:
        """A paste of several lines runs each finished line in order, as if typed; the
        last, unfinished line stays in the box (Textual's Input keeps only the first)."""
        if "\n" not in event.text and "\r" not in event.text:
            return  # one line: Input's own _on_paste inserts it
        event.stop()
        event.prevent_default()  # and Input's _on_paste does not run after this one
        at = self.cursor_position
        head = self.value[:at].strip()
        if head in BODY_VERBS or head.startswith(BODY_VERBS):
            # `decode` then a pasted log: one command whose body is the whole paste
            self._pos = None
            self.post_message(self.Run(f"{head}\n{event.text}"))
            self.value = ""
            self.cursor_position = 0
            return
        text = self.value[:at] + event.text + self.value[at:]
        lines = text.splitlines()
        if text.endswith(("\n", "\r")):
            lines.append("")
        *done, rest = lines
        self._pos = None
        for line in done:
            self._run(line)
        self.value = rest
        self.cursor_position = len(rest)

    def _run(self, line: str) -> None:
        if line.strip():
            if not self.history or self.history[-1] != line:
                self.history.append(line)
            self.post_message(self.Run(line))

    async def action_submit(self) -> None:
        """Enter: take the line and clear it at once, in key order, so that keys typed
        ahead of the app land on the next line and every command reaches the engine."""
        if self.searching:
            self._log().find(self.value)
            return
        line = self.value
        self.value = ""
        self._pos = None
        self._run(line)
        self.post_message(self.Hints([]))

    def action_history(self, delta: int) -> None:
        if self.searching:
            self._log().find(self.value, older=delta < 0)
            return
        if not self.history:
            return
        pos = len(self.history) if self._pos is None else self._pos
        pos = max(0, min(len(self.history), pos + delta))
        self._pos = pos
        self.value = self.history[pos] if pos < len(self.history) else ""
        self.cursor_position = len(self.value)

    def action_complete(self) -> None:
        if self.searching:
            return
        text = self.value[: self.cursor_position]
        cands = complete(self.session, text)
        if not cands:
            if self._suggestion:
                self.value = self._suggestion
                self.cursor_position = len(self.value)
            return
        texts = [c.text for c in cands]
        start = len(text) + cands[0].start
        common = texts[0]
        for t in texts[1:]:
            while not t.startswith(common):
                common = common[:-1]
        if len(cands) == 1:
            common += "" if common.endswith("=") else " "
        if common:
            self.value = text[:start] + common + self.value[self.cursor_position:]
            self.cursor_position = start + len(common)
        self.post_message(self.Hints([] if len(cands) == 1 else texts))

    # --- the log, from the keyboard ------------------------------------------------------
    def _log(self) -> ConsoleLog:
        return self.screen.query_one(ConsoleLog)

    def action_log_page(self, pages: int) -> None:
        """PageUp/PageDown: scroll the log a page, the line keeps what is typed."""
        log = self._log()
        if pages < 0:
            log.scroll_page_up(animate=False)
        else:
            log.scroll_page_down(animate=False)

    def action_log_end(self) -> None:
        self._log().scroll_end(animate=False)

    def action_search(self) -> None:
        """Ctrl+F: search the log; again: the next older line."""
        log = self._log()
        if self.searching:
            log.find(self.value)
            return
        self.searching = True
        self._kept, self.value = self.value, ""
        self.suggester = None  # history is no help to a search
        self.placeholder = SEARCH_PLACEHOLDER
        self.add_class("-search")
        log.status = "search: type text, Enter finds an older line holding it, Escape ends"
        log.show_hint()
        self.post_message(self.Hints([]))

    def action_end_search(self) -> None:
        """Escape: leave the search, give back the command that was being typed."""
        if not self.searching:
            return
        self.searching = False
        self.remove_class("-search")
        self.placeholder = PLACEHOLDER
        self.suggester = self._suggests
        self.value = self._kept
        self.cursor_position = len(self.value)
        self._log().end_search()
