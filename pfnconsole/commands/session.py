"""The Session: one machine plus what a console remembers, and the only way state changes.

Every front end (TUI, REPL, lessons, scripts) hands command text to ``Session.execute``.
A command either happens whole, is journaled (fsync'd) before its effect is kept, and
becomes ``last``; or it is refused and the session is as it was.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import EngineError
from ..core.machine import Machine, Snapshot
from .journal import JournalError
from .parse import ParseError, tokenize
from .registry import COMMANDS, check_words, find
from .result import PathContext, Result, error
from .view import Stack, View, after

if TYPE_CHECKING:
    from .journal import Journal
    from .result import Answer


CHECK_INVARIANTS = bool(os.environ.get("PFNCONSOLE_CHECK_INVARIANTS"))
"""Set by the test suite: check the engine's invariants after every command."""


@dataclass(frozen=True)
class Mark:
    """Everything a session would need to go back to this point (``Session.rewind``)."""

    machine: Snapshot
    radix: int
    last: Result | None
    last_path: Result | None
    accepted: int
    view: View
    views: Stack


@dataclass
class Session:
    """A machine plus what a console remembers between commands."""

    machine: Machine = field(default_factory=Machine)
    last: Result | None = None
    last_path: Result | None = None
    """The last result with a kernel code path behind it, for `explain`."""
    radix: int = 16
    """Output radix for pfns and values (`set radix`); addresses always print in hex."""
    journal: Journal | None = None
    """Where accepted commands are written ahead (fsync'd) for --resume."""
    accepted: list[str] = field(default_factory=list)
    """Every accepted command of this session, in order (what `save` writes)."""
    replaying: str | None = None
    """What is being replayed ('load FILE', 'resume', 'a lesson'): while set, `save`
    writes nothing and `load` is refused, so a replay never reads or writes a script."""
    _collect: list[str] | None = None
    """While a `load` or a resume runs: the commands accepted so far, journaled as one."""
    notices: list[str] = field(default_factory=list)
    """What the front end should tell the user on start (a resume and its problems)."""
    base_dir: Path | None = None
    """Where relative file names resolve when not found from the current directory (a
    lesson's own folder while it plays)."""
    view: View = field(default_factory=View)
    """What the panes show besides the state: the last answer of each kind (view.py)."""
    _views: Stack = None
    """The view before each of the machine's undo records, newest first."""
    _executed: int = 0
    """Commands run so far, nested ones included (a `load` runs others)."""

    def resolve(self, name: str) -> Path:
        path = Path(name).expanduser()
        if not path.is_absolute() and not path.exists() and self.base_dir is not None:
            candidate = self.base_dir / path
            if candidate.exists():
                return candidate
        return path

    def num(self, n: int | None) -> str:
        """A pfn or value in the session's radix (addresses use ``hx``)."""
        if n is None:
            return "NULL"
        return f"{n:#x}" if self.radix == 16 else str(n)

    def execute(self, line: str) -> Result | None:
        """Run one command line; None for blank/comment lines. Never raises for bad input.

        The command's journal record is written and fsync'd before its effect is kept: if
        that write fails, the session goes back to how it was and the command is refused.
        """
        try:
            words = tokenize(line)
        except ParseError as e:
            return error("?", str(e))
        if words is None:
            return None
        cmd = find(words.verb)
        if cmd is None:
            near = [n for n in COMMANDS if n.startswith(words.verb[:2])]
            hint = f"; did you mean {' or '.join(near)}?" if near else "; `help` lists commands"
            return error(words.verb, f"unknown command {words.verb!r}{hint}")
        mark = self.mark()
        depth, self._executed = self.machine.history_len, self._executed + 1
        executed = self._executed
        try:
            if not cmd.raw_text:
                check_words(cmd, words)
            result = cmd.run(self, words)
        except EngineError as e:
            self._restore(mark)
            refused = error(cmd.name, str(e))
            refused.data = dict(getattr(e, "data", None) or {})  # FileExists: the path
            return refused
        except RecursionError:
            self._restore(mark)
            return error(cmd.name, "the input is nested too deeply to read")
        if CHECK_INVARIANTS:
            problems = self.machine.check_invariants()
            if problems:  # a bug in the engine, never the user's fault: fail loudly in tests
                raise AssertionError(f"after {line!r}: " + "; ".join(problems))
        if result.ok:
            try:
                self._record(cmd.name, line, result)
            except JournalError as e:
                self._restore(mark)
                return error(cmd.name, f"not done: the session journal {e.filename} could "
                             f"not be written ({e.strerror}); nothing changed")
            self.last = result
            if self._executed == executed:  # a command that ran others leaves the views to them
                self._track_view(cmd.name, result, self.machine.history_len - depth, mark.view)
            if result.source is not None:
                self.last_path = result
            elif cmd.mutates:
                self.last_path = None  # the state it explained is gone
        else:
            self._restore(mark)
        return result

    def _track_view(self, verb: str, result: Result, records: int, before: View) -> None:
        """The view after an accepted command: one saved per new undo record, one brought
        back per record undone."""
        for _ in range(records):
            self._views = (before, self._views)
        if records < 0:
            for _ in range(-records):
                if self._views is None:
                    break
                self.view, self._views = self._views
            return
        self.view = after(self.view, verb, result, records > 0)

    def _record(self, verb: str, line: str, result: Result) -> None:
        """Journal an accepted command (what redoes it), then count it as accepted."""
        if verb == "save":
            return  # it changed nothing here, and a replay must never write a file
        redo = result.replay if result.replay is not None else [line.strip()]
        if self._collect is not None:
            self._collect.extend(redo)
            return
        if self.journal is not None:
            record: dict[str, Any] = {"c": line.strip()}
            if redo != [line.strip()]:
                record["r"] = redo
            self.journal.append([record])
        self.accepted.extend(redo)

    def mark(self) -> Mark:
        """The point to come back to, in O(1)."""
        return Mark(self.machine.snapshot(), self.radix, self.last, self.last_path,
                    len(self.accepted), self.view, self._views)

    def _restore(self, mark: Mark) -> None:
        """Back to ``mark`` in memory (nothing journaled); a no-op when nothing changed."""
        if self.machine.changed_since(mark.machine):
            self.machine.restore(mark.machine)
        self.radix, self.last, self.last_path = mark.radix, mark.last, mark.last_path
        self.view, self._views = mark.view, mark.views
        del self.accepted[mark.accepted:]

    def rewind(self, mark: Mark) -> None:
        """Go back to ``mark`` for good (a lesson step back), journaled so that --resume
        goes back too; EngineError, and nothing changed, if the journal cannot be written."""
        if self.journal is not None:
            try:
                self.journal.append([{"keep": mark.accepted}])
            except JournalError as e:
                raise EngineError(f"not done: the session journal {e.filename} could not "
                                  f"be written ({e.strerror}); nothing changed") from None
        self.machine.restore(mark.machine)  # always, so that the panes redraw
        self.radix, self.last, self.last_path = mark.radix, mark.last, mark.last_path
        self.view, self._views = mark.view, mark.views
        del self.accepted[mark.accepted:]

    def replay_all(self, commands: list[tuple[int, str]], what: str,
                   seconds: float | None = None) -> list[str]:
        """Run a script's numbered lines as one command (`load`): all of them or none.

        Returns the commands accepted (what the journal keeps); raises ReplayStopped, with
        the session back where it was, when one is refused or ``seconds`` run out.
        """
        deadline = None if seconds is None else time.monotonic() + seconds
        mark = self.mark()
        self.replaying, self._collect = what, []
        try:
            for n, text in commands:
                r = self.execute(text)
                if r is not None and not r.ok:
                    self._restore(mark)
                    raise ReplayStopped(n, r.error or "refused")
                if deadline is not None and time.monotonic() > deadline:
                    self._restore(mark)
                    raise ReplayStopped(n, None)
            return self._collect
        finally:
            self.replaying, self._collect = None, None

    def resume(self, commands: list[tuple[int, str]]) -> list[str]:
        """Replay a journal's commands into this session; what was refused this time.

        The commands that are accepted again become this session's, and its own journal
        gets them as one write.
        """
        problems = []
        self.replaying, self._collect = "resume", []
        try:
            for n, text in commands:
                r = self.execute(text)
                if r is not None and not r.ok:
                    problems.append(f"line {n}: `{text}` was refused this time, so it is "
                                    f"left out: {r.error}")
            done = self._collect
        finally:
            self.replaying, self._collect = None, None
        if self.journal is not None:
            try:
                self.journal.append([{"c": text} for text in done])
            except JournalError as e:
                problems.append(f"the new journal could not be written ({e.strerror}); "
                                "this session will not be resumable")
                self.journal.close()
                self.journal = None
        self.accepted.extend(done)
        return problems

    def status(self) -> dict[str, Any]:
        """What a prompt or a status bar shows, cheap enough for every keystroke."""
        st = self.machine.state
        return {"arch": st.arch.name, "cpu": st.cpu, "readers": st.rcu.nr_readers,
                "ranges": len(st.kmap.nodes), "grace_periods": len(st.rcu.gps),
                "ram_bytes": st.physmap.ram_bytes, "radix": self.radix}

    def query(self, line: str) -> Result:
        """Run a read-only command for a view: the answer, without becoming `last`."""
        last, last_path, journal, accepted = self.last, self.last_path, self.journal, self.accepted
        view, views = self.view, self._views
        self.journal, self.accepted = None, []
        try:
            result = self.execute(line)
        finally:
            self.last, self.last_path = last, last_path
            self.journal, self.accepted = journal, accepted
            self.view, self._views = view, views
        assert result is not None
        return result

    def context(self, answer: Answer, names: list[str] | tuple[str, ...] = (),
                page: int | None = None) -> PathContext:
        """What explain needs later: the answer, the arch, the ranges it touched."""
        st = self.machine.state
        ranges = {n: (r.start, r.end, r.base) for n in names
                  if (r := st.ranges.get(n)) is not None}
        return PathContext(answer, st.arch, ranges, page)


class ReplayStopped(ParseError):
    """A replay stopped at script line ``line``: refused there (``error``) or out of time."""

    def __init__(self, line: int, error: str | None) -> None:
        super().__init__(f"line {line}: {error or 'out of time'}")
        self.line, self.error = line, error

