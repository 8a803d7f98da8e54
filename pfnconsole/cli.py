"""The ``pfnconsole`` command: the console, and ``run`` for scripts."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from . import __version__
from .commands import Session


def run_script(stream: TextIO, name: str, *, as_json: bool, keep_going: bool,
               out: TextIO, err: TextIO, session: Session | None = None) -> int:
    """Run one command per line; errors go to ``err`` as ``FILE:LINE: error: …``."""
    session = session or Session()
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


def decode_log(name: str, *, as_json: bool, arch: str, out: TextIO, err: TextIO) -> int:
    """Two passes over the log (calibrate, then decode), streaming, in bounded memory."""
    import shutil
    import tempfile

    from .commands.logs import finding_line
    from .core.arch import ARCH_NAMES
    from .decode import calibrate, decode_lines

    if arch not in ARCH_NAMES:
        err.write(f"pfnconsole decode: unknown arch {arch!r}; known: {' '.join(ARCH_NAMES)}\n")
        return 2
    try:
        if name == "-":
            # stdin cannot be read twice: spool it (to disk past 16 MiB)
            f = tempfile.SpooledTemporaryFile(max_size=16 << 20, mode="w+", encoding="utf-8",
                                              errors="replace")
            shutil.copyfileobj(sys.stdin, f, 1 << 18)
            f.seek(0)
        else:
            f = open(name, encoding="utf-8", errors="replace")
    except OSError as e:
        err.write(f"pfnconsole decode: cannot read {name}: {e.strerror}\n")
        return 2
    with f:
        cal = calibrate(f, arch=arch)
        f.seek(0)
        count = 0
        for finding in decode_lines(f, arch=arch, calibration=cal):
            count += 1
            if as_json:
                out.write(json.dumps(finding.to_json()) + "\n")
            else:
                out.write(finding_line(finding) + "\n")
    if not as_json:
        for source in cal.sources:
            out.write(f"calibration: {source}\n")
        out.write(f"{count} finding(s)\n")
    return 0


def console_session(resume: bool) -> Session:
    """A session that journals every accepted command; with ``resume``, the last one back."""
    from .commands.journal import Journal, journal_path, read_commands

    session = Session()
    path = journal_path()
    lines = []
    if resume:
        try:
            lines = read_commands(path)
        except OSError:
            sys.stderr.write(f"pfnconsole: no session to resume ({path} missing)\n")
    try:
        session.journal = Journal(path, fresh=not resume)
    except OSError as e:
        sys.stderr.write(f"pfnconsole: no journal ({path}: {e.strerror}); "
                         "this session will not be resumable\n")
    if lines:
        problems = session.resume(lines)
        session.accepted = [text for _, text in lines]
        for p in problems:
            sys.stderr.write(f"pfnconsole: resume: {path}: {p}\n")
    return session


def lesson_command(action: str, names: list[str], *, out: TextIO, err: TextIO) -> int:
    from .lessons import LessonError, check_lesson, list_lessons, load, parse_lesson

    if action == "list":
        for p in list_lessons():
            try:
                lesson = parse_lesson(p.read_text(encoding="utf-8"), str(p), p.stem)
                out.write(f"{p.stem:<32} {lesson.title}  ({len(lesson.steps)} steps)\n")
            except LessonError as e:
                out.write(f"{p.stem:<32} BROKEN: {e.message}\n")
        return 0
    if action == "show":
        if len(names) != 1:
            err.write("pfnconsole lesson show: name one lesson\n")
            return 2
        try:
            lesson = load(names[0])
        except LessonError as e:
            err.write(f"{e}\n")
            return 2
        out.write(f"# {lesson.title}\n\n{lesson.intro}\n")
        for i, step in enumerate(lesson.steps, 1):
            out.write(f"\n## {i}. {step.title}\n\n{step.narration}\n")
            for cmd in step.commands:
                out.write(f"    pfn> {cmd}\n")
        return 0
    paths = [str(p) for p in list_lessons()] if not names else names
    failed = 0
    for name in paths:
        try:
            lesson = load(name)
        except LessonError as e:
            err.write(f"{e}\n")
            failed += 1
            continue
        errors = check_lesson(lesson)
        for e in errors:
            err.write(e + "\n")
        failed += bool(errors)
        out.write(f"{'ok  ' if not errors else 'FAIL'} {lesson.name} "
                  f"({len(lesson.steps)} steps)\n")
    out.write(f"{len(paths) - failed} passed, {failed} failed\n")
    return 1 if failed or not paths else 0


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
    dec = sub.add_parser("decode", help="find pfns, struct pages and memory maps in a kernel log")
    dec.add_argument("file", nargs="?", default="-", help="log file, or - for stdin")
    dec.add_argument("--json", action="store_true", help="one JSON object per finding")
    dec.add_argument("--arch", default="x86_64",
                     help="arch profile for pointers and addresses (default x86_64)")
    ben = sub.add_parser("bench", help="measure list walk vs section lookup and the rest")
    ben.add_argument("--json", action="store_true", help="one JSON object with every figure")
    ben.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    les = sub.add_parser("lesson", help="list, show or check the lessons")
    les.add_argument("action", choices=("list", "show", "check"))
    les.add_argument("names", nargs="*", help="lesson names or numbers (check: all if none)")
    repl = sub.add_parser("repl", help="the line-mode console (prompt_toolkit)")
    repl.add_argument("--lesson", help="play a lesson step by step")
    tui = sub.add_parser("tui", help="the full-screen console (Textual); the default")
    tui.add_argument("--lesson", help="play a lesson step by step")
    parser.add_argument("--lesson", help="open the console playing a lesson")
    parser.add_argument("--resume", action="store_true",
                        help="restore the last session from its journal (after a crash too)")
    repl.add_argument("--resume", action="store_true", help="restore the last session")
    tui.add_argument("--resume", action="store_true", help="restore the last session")
    args = parser.parse_args(argv)
    for stream in (sys.stdin, sys.stdout):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")  # pasted junk is reported, never a crash
    if args.command == "bench":
        from .bench import main as bench_main
        return bench_main(args.quick, args.json, sys.stdout)
    if args.command == "lesson":
        return lesson_command(args.action, args.names, out=sys.stdout, err=sys.stderr)
    lesson_name = getattr(args, "lesson", None)
    if lesson_name:
        from .lessons import LessonError, load
        try:
            load(lesson_name)
        except LessonError as e:
            sys.stderr.write(f"{e}\n")
            return 2
    if args.command == "decode":
        return decode_log(args.file, as_json=args.json, arch=args.arch,
                          out=sys.stdout, err=sys.stderr)
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
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if args.command == "repl" or not interactive:
        from .repl import main as repl_main  # prompt_toolkit loads only for the console
        session = console_session(args.resume) if interactive else None
        return repl_main(lesson=lesson_name, session=session)
    from .tui.app import main as tui_main
    return tui_main(lesson=lesson_name, session=console_session(args.resume))
