"""`pfnconsole serve`: the console in a browser, one independent console per tab.

On Textualize's textual-serve (the optional extra ``pip install 'pfnconsole[serve]'``):
every browser tab that opens the page starts its own ``pfnconsole tui`` process, with a
state directory of its own (its machine, journal and lesson progress are that tab's).
Bound to 127.0.0.1 unless another address is given, and then with a warning: whoever can
reach the address gets a console that runs as the user who started the server.
"""

from __future__ import annotations

import shlex
import sys
from typing import TextIO

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def command(lesson: str | None) -> str:
    """The shell command each tab runs: a fresh state directory, then the full console."""
    cmd = f"{shlex.quote(sys.executable)} -m pfnconsole tui"
    if lesson:
        cmd += f" --lesson {shlex.quote(lesson)}"
    return f'XDG_STATE_HOME="$(mktemp -d)" exec {cmd}'


def serve(host: str, port: int, lesson: str | None, err: TextIO) -> int:
    try:
        from textual_serve.server import Server
    except ImportError:
        err.write("pfnconsole serve needs the serve extra: pip install 'pfnconsole[serve]' "
                  "(Textualize's textual-serve)\n")
        return 2
    if not 0 < port < 65536:
        err.write(f"pfnconsole serve: port {port} is not a TCP port\n")
        return 2
    if host not in LOOPBACK:
        err.write(f"warning: serving on {host}:{port}: anyone who can reach it gets a console "
                  "that runs as you on this machine; the default, 127.0.0.1, keeps it to this "
                  "machine\n")
    err.write(f"pfnconsole serve: open http://{'localhost' if host in LOOPBACK else host}:{port}/ "
              "(one console per tab; Ctrl+C stops the server)\n")
    Server(command(lesson), host=host, port=port, title="pfnconsole").serve()
    return 0


__all__ = ["LOOPBACK", "command", "serve"]
