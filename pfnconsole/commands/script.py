"""Running a script: one command per line (here-documents included), as `pfnconsole run`."""

from __future__ import annotations

import json
from typing import TextIO

from .files import bounded_lines
from .parse import MAX_LINE, script_commands
from .result import error
from .session import Session


def run_script(stream: TextIO, name: str, *, as_json: bool, keep_going: bool,
               out: TextIO, err: TextIO, session: Session | None = None) -> int:
    """Run one command per line; errors go to ``err`` as ``FILE:LINE: error: …``.

    Lines are read in bounded pieces: one too long to be a command is an error of its
    own, and memory stays flat whatever the input.
    """
    session = session or Session()
    status = 0
    for lineno, line, problem in script_commands(bounded_lines(stream, MAX_LINE)):
        result = error("?", problem) if problem else session.execute(line)
        if result is None:
            continue
        if as_json:
            out.write(json.dumps(result.to_json()) + "\n")
        elif result.ok:
            out.write(result.text() + "\n")
        if not result.ok:
            err.write(f"{name}:{lineno}: error: {result.error}\n")
            status = 1
            if not keep_going:
                break
        out.flush()
    return status
