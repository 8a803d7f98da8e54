"""The ``pfnconsole`` command: the console, and ``run`` for scripts."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from . import __version__
from .commands import Session


def run_script(stream: TextIO, name: str, *, as_json: bool, keep_going: bool,
               out: TextIO, err: TextIO) -> int:
    """Run one command per line; errors go to ``err`` as ``FILE:LINE: error: …``."""
    session = Session()
    status = 0
    for lineno, line in enumerate(stream, 1):
        result = session.execute(line.rstrip("\n"))
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="pfnconsole",
        description="Simulate and debug how Linux names physical memory.")
    parser.add_argument("--version", action="version", version=f"pfnconsole {__version__}")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run a script of console commands")
    run.add_argument("file", nargs="?", default="-", help="script file, or - for stdin")
    run.add_argument("--json", action="store_true", help="one JSON object per command")
    run.add_argument("--keep-going", action="store_true", help="go on after an error")
    sub.add_parser("repl", help="the line-mode console (prompt_toolkit)")
    sub.add_parser("tui", help="the full-screen console (Textual); the default")
    args = parser.parse_args(argv)
    for stream in (sys.stdin, sys.stdout):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")  # pasted junk is reported, never a crash
    if args.command == "run":
        if args.file == "-":
            return run_script(sys.stdin, "<stdin>", as_json=args.json,
                              keep_going=args.keep_going, out=sys.stdout, err=sys.stderr)
        try:
            with open(args.file, encoding="utf-8", errors="replace") as f:
                return run_script(f, args.file, as_json=args.json,
                                  keep_going=args.keep_going, out=sys.stdout, err=sys.stderr)
        except OSError as e:
            sys.stderr.write(f"pfnconsole run: cannot read {args.file}: {e.strerror}\n")
            return 2
    if args.command == "repl" or not (sys.stdin.isatty() and sys.stdout.isatty()):
        from .repl import main as repl_main  # prompt_toolkit loads only for the console
        return repl_main()
    from .tui.app import main as tui_main
    return tui_main()
