"""How far the student got in each lesson: one small JSON file in the state directory,
``$XDG_STATE_HOME/pfnconsole/progress.json``, safe to delete (everything starts again).

``{"05-kmap-atomic-pfn-t": {"steps": 7, "of": 15, "solved": [14], "shown": []}}``: steps
done, the lesson's step count, and the steps whose exercise was solved or shown. It is
written whole (a new file renamed over the old, never through a link) after each step
and exercise; a file that cannot be read or parsed counts as no progress.
"""

from __future__ import annotations

import json
from typing import Any

from ..commands.files import FileError, read_text, write_file
from ..commands.journal import state_dir
from .player import Player

MAX_BYTES = 64 << 10
MAX_LESSONS = 256


def path() -> Any:
    return state_dir() / "progress.json"


def load_all() -> dict[str, dict[str, Any]]:
    """Every lesson's progress; {} when there is no file or it is not ours to read."""
    try:
        doc = json.loads(read_text(path(), MAX_BYTES, "progress"))
    except (FileError, ValueError):
        return {}
    if not isinstance(doc, dict):
        return {}
    out = {}
    for name, v in list(doc.items())[:MAX_LESSONS]:
        if isinstance(name, str) and isinstance(v, dict) and isinstance(v.get("steps"), int):
            out[name] = v
    return out


def of(name: str) -> dict[str, Any] | None:
    return load_all().get(name)


def record(player: Player) -> str | None:
    """Save where ``player`` is; the reason in words when it could not be saved (the
    lesson goes on either way)."""
    doc = load_all()
    entry = doc.get(player.lesson.name, {"solved": [], "shown": []})
    solved, shown = set(entry.get("solved", [])), set(entry.get("shown", []))
    p = player.pending
    if p is not None:
        (solved if p.solved else shown if p.shown else set()).add(player.done - 1)
    doc[player.lesson.name] = {"steps": player.done, "of": len(player.lesson.steps),
                               "solved": sorted(solved), "shown": sorted(shown - solved)}
    try:
        state_dir().mkdir(parents=True, exist_ok=True)
        write_file(path(), json.dumps(doc, indent=1).encode(), force=True, what="progress")
    except (FileError, OSError) as e:
        return str(e)
    return None


def summary(name: str, steps: int, exercises: int) -> str:
    """``done 7/15, exercises 1/1`` for `lesson list` (empty when never played)."""
    entry = of(name)
    if entry is None:
        return ""
    return (f"done {min(entry['steps'], steps)}/{steps}"
            + (f", exercises {len(entry.get('solved', []))}/{exercises}" if exercises else ""))


__all__ = ["load_all", "of", "path", "record", "summary"]
