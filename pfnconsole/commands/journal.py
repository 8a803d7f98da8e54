"""The session journal: every accepted command, appended and fsync'd as it happens.

``pfnconsole --resume`` replays it after a crash or ``kill -9``; ``save FILE`` writes the
same lines as a script and ``load FILE`` plays a script into the current session.
"""

from __future__ import annotations

import os
from pathlib import Path

HEADER = "# pfnconsole session journal: one accepted command a line, replayed by --resume\n"


def state_dir() -> Path:
    """$XDG_STATE_HOME/pfnconsole (default ~/.local/state/pfnconsole)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(Path.home(), ".local", "state")
    return Path(base) / "pfnconsole"


def journal_path() -> Path:
    return state_dir() / "session.journal"


class Journal:
    """An append-only file of command lines; each append is one write plus fsync."""

    def __init__(self, path: Path, *, fresh: bool) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        if fresh and path.exists():
            path.replace(path.with_name(path.name + ".prev"))  # keep the last session
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if os.fstat(self._fd).st_size == 0:
            self._write(HEADER)

    def _write(self, text: str) -> None:
        data = text.encode("utf-8", errors="replace")
        os.write(self._fd, data)
        os.fsync(self._fd)

    def append(self, line: str) -> None:
        line = line.replace("\n", " ").strip()
        if line:
            self._write(line + "\n")

    def close(self) -> None:
        try:
            os.close(self._fd)
        except OSError:
            pass


def read_commands(path: Path) -> list[tuple[int, str]]:
    """(line number, command) for each command line of a journal or script."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            text = line.rstrip("\n")
            if text.strip() and not text.lstrip().startswith("#"):
                out.append((n, text))
    return out
