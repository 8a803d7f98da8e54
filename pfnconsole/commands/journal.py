"""Session journals: each console's accepted commands, written ahead and fsync'd.

Every console session has its own file, ``$XDG_STATE_HOME/pfnconsole/sessions/ID.journal``
(ID is the start time and the process id, e.g. ``20261201-192605-4242``); starting a
console never moves or deletes another session's journal.  Line 1 is a header, a JSON
object (``id``, ``started``, ``resumed``).  Each later line is one record::

    CRC32 JSON

``CRC32`` is eight hex digits over the JSON text; the JSON object holds ``c``, the command
as typed, and where replaying that text would not redo what it did, ``r``, the commands
that do (a ``load`` records the commands it ran, so ``--resume`` never reads the script
again), or ``keep``: N (a lesson step back: only the first N commands stand).

A record is written whole, by one write, and fsync'd before the command's effect is kept
(``Session.execute``); a write that fails is cut off again and the command is refused.  A
torn or corrupt record can only be the last one (a crash mid-write): reading reports it
and stops there.
"""

from __future__ import annotations

import io
import json
import os
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .files import FileError, bounded_lines, open_regular
from .parse import MAX_LINE, script_commands

MAX_RECORD = 8 << 20
"""The longest record line read back (a `load` of a 1 MiB script fits)."""


def state_dir() -> Path:
    """$XDG_STATE_HOME/pfnconsole (default ~/.local/state/pfnconsole)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(Path.home(), ".local", "state")
    return Path(base) / "pfnconsole"


def sessions_dir() -> Path:
    return state_dir() / "sessions"


class JournalError(OSError):
    """A journal write failed; the OS error is kept, the journal is as it was."""


def _frame(record: dict[str, Any]) -> bytes:
    body = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    data = body.encode("utf-8", errors="replace")
    return b"%08x " % zlib.crc32(data) + data + b"\n"


class Journal:
    """One session's append-only journal (see the module docstring)."""

    def __init__(self, directory: Path | None = None, *, resumed: str | None = None) -> None:
        directory = directory if directory is not None else sessions_dir()
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for n in range(100):
            self.id = f"{stamp}-{os.getpid()}" + (f"-{n}" if n else "")
            self.path = directory / f"{self.id}.journal"
            try:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                                   | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
                break
            except FileExistsError:
                continue
        else:
            raise JournalError(17, "no free journal name", str(directory))
        self.records = 0
        header = {"pfnconsole_journal": 1, "id": self.id, "t": time.time(),
                  "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "resumed": resumed}
        try:
            self._write(json.dumps(header).encode() + b"\n")
        except JournalError:
            self.close()
            raise

    def _write(self, data: bytes) -> None:
        """All of ``data`` and an fsync, or the file cut back and JournalError."""
        size = os.fstat(self._fd).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]
            os.fsync(self._fd)
        except OSError as e:
            try:
                os.ftruncate(self._fd, size)
            except OSError:
                pass  # the torn tail is found and dropped when the journal is read
            raise JournalError(e.errno, e.strerror, str(self.path)) from None

    def append(self, records: list[dict[str, Any]]) -> None:
        """Write ``records`` (one command's, or a whole replay's) in one write + fsync."""
        if records:
            self._write(b"".join(_frame(r) for r in records))
            self.records += len(records)

    def close(self, *, discard_empty: bool = False) -> None:
        """Close; with ``discard_empty`` a journal that holds no command is removed."""
        try:
            os.close(self._fd)
        except OSError:
            pass
        if discard_empty and self.records == 0:
            try:
                self.path.unlink()
            except OSError:
                pass


@dataclass
class JournalRead:
    """What a journal holds: its header, its commands in order, and what was wrong."""

    path: Path
    header: dict[str, Any] = field(default_factory=dict)
    commands: list[tuple[int, str]] = field(default_factory=list)
    """(journal line, command) to replay, after any ``keep``."""
    records: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.header.get("id") or self.path.stem)


def read_journal(path: Path) -> JournalRead:
    """Read and check a journal; FileError when it cannot be read at all."""
    out = JournalRead(path)
    with open_regular(path, "resume") as raw:
        stream = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="\n")
        lines = bounded_lines(stream, MAX_RECORD)
        first = next(lines, None)
        try:
            out.header = json.loads(first[1]) if first else {}
        except ValueError:
            out.header = {}
        if not isinstance(out.header, dict) or "pfnconsole_journal" not in out.header:
            raise FileError(f"resume: {path} is not a pfnconsole journal")
        for number, text, cut in lines:
            record = None if cut else _unframe(text)
            if record is None:
                rest = sum(1 for _ in lines)
                out.problems.append(
                    f"line {number}: " + ("torn record (the session ended mid-write)"
                                          if rest == 0 else
                                          f"corrupt record; it and the {rest} after it "
                                          "were not replayed") + ", dropped")
                break
            out.records.append(record)
            if "keep" in record:
                del out.commands[max(0, int(record["keep"])):]
                continue
            for cmd in record.get("r", [record.get("c", "")]):
                out.commands.append((number, str(cmd)))
    return out


def _unframe(text: str) -> dict[str, Any] | None:
    crc, _, body = text.partition(" ")
    try:
        if len(crc) != 8 or int(crc, 16) != zlib.crc32(body.encode("utf-8")):
            return None
        record = json.loads(body)
    except ValueError:
        return None
    if not isinstance(record, dict) or not ("c" in record or "keep" in record):
        return None
    return record


@dataclass(frozen=True)
class SessionInfo:
    id: str
    path: Path
    started: str
    commands: int
    last: str
    problems: int
    t: float
    """Start time, seconds since the epoch (what orders the sessions)."""


def list_sessions(directory: Path | None = None) -> list[SessionInfo]:
    """Every readable journal, oldest first."""
    directory = directory if directory is not None else sessions_dir()
    out = []
    for path in directory.glob("*.journal"):
        try:
            j = read_journal(path)
        except (FileError, OSError):
            continue
        t = j.header.get("t")
        out.append(SessionInfo(j.id, path, str(j.header.get("started", "")),
                               len(j.commands), j.commands[-1][1] if j.commands else "",
                               len(j.problems), t if isinstance(t, (int, float)) else 0.0))
    return sorted(out, key=lambda s: (s.t, s.id))


def read_commands(path: Path, limit: int, what: str) -> list[tuple[int, str]]:
    """(line number, command) for each command line of a script (`load`).

    A line too long to be a command is an error naming it; so is a file over ``limit``
    bytes or one that is not a regular file.
    """
    out = []
    with open_regular(path, what) as raw:
        stream = io.TextIOWrapper(raw, encoding="utf-8", errors="replace")

        def within_limit() -> Iterator[tuple[int, str, bool]]:
            for item in bounded_lines(stream, MAX_LINE):
                if not item[2] and raw.tell() > limit:  # a cut line is its own error
                    raise FileError(f"{what}: {path} is larger than {limit >> 20} MiB; "
                                    "nothing was loaded")
                yield item

        for number, text, problem in script_commands(within_limit(), limit):
            if problem:
                raise FileError(f"{path}:{number}: error: {problem} (nothing was loaded)")
            if text.strip() and not text.lstrip().startswith("#"):
                out.append((number, text))
    return out
