"""The ``pfnconsole`` command: the console, and ``run`` for scripts."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, TextIO

from . import __version__
from .commands import Session
from .commands.script import run_script

if TYPE_CHECKING:
    from .commands.journal import SessionInfo
    from .decode.reading import LogReading

__all__ = ["main", "run_script"]


def decode_log(name: str, *, as_json: bool, arch: str | None, out: TextIO, err: TextIO,
               findings: bool = False) -> int:
    """Two passes over the log (what machine and layout, then the findings), streaming, in
    bounded memory: a report per page, or (``findings``) one line per finding, or JSON of both.

    Exit status 2 for a file that cannot be read or is not a regular file, 141
    (128 + SIGPIPE) when the reader of ``out`` goes away, as ``head`` does.
    """
    import os
    import tempfile

    from .commands.verbs.logs import finding_line, reading_summary
    from .core.arch import LOG_ARCH_NAMES, canonical_arch
    from .decode.logfile import NotRegularFile, open_log
    from .decode.model import Finding
    from .decode.reading import read_blocks
    from .decode.skim import blocks_of
    from .decode.source import Block

    if arch is not None and canonical_arch(arch) not in LOG_ARCH_NAMES:
        err.write(f"pfnconsole decode: unknown arch {arch!r}; known: {' '.join(LOG_ARCH_NAMES)}\n")
        return 2
    try:
        if name == "-":
            # stdin cannot be read twice: spool it (to disk past 16 MiB), its lines
            # already cut to the decoder's limit, so a giant line costs neither memory nor disk
            f: IO[str] = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (closed below)
                max_size=16 << 20, mode="w+", encoding="utf-8", errors="replace")
            for block in blocks_of(sys.stdin):  # a file's blocks are strings
                f.write(block if isinstance(block, str) else "".join(block))
            f.seek(0)
        else:
            f = open_log(name)
    except NotRegularFile as e:
        err.write(f"pfnconsole decode: {e}\n")
        return 2
    except OSError as e:
        err.write(f"pfnconsole decode: cannot read {name}: {e.strerror}\n")
        return 2
    count = 0

    def rewound() -> Iterator[Block]:
        f.seek(0)
        return blocks_of(f)

    def emit(finding: Finding) -> None:
        nonlocal count
        count += 1
        if as_json:
            out.write(json.dumps(finding.to_json()) + "\n")
        elif findings:
            out.write(finding_line(finding) + "\n")

    try:
        with f:
            got = read_blocks(rewound, arch, keep=False, on_finding=emit)
            assert got is not None  # never cancelled
            if as_json:
                for page in got.pages:
                    out.write(json.dumps(page.to_json()) + "\n")
                out.write(json.dumps({"kind": "log", **got_json(got)}) + "\n")
            else:
                head = reading_summary(got)
                if findings:
                    for source in got.calibration.sources:
                        out.write(f"calibration: {source}\n")
                    out.write(f"{count} finding(s); {head[0]}\n")
                else:
                    for line in head:
                        out.write(line + "\n")
                    for page in got.pages:
                        out.write("\n" + "\n".join(page.text()) + "\n")
                    if got.more_pages:
                        out.write(f"\n… and {got.more_pages} more page(s): --findings lists them\n")
                    pages = sum(p.count for p in got.pages)
                    out.write(f"\n{len(got.pages)} report(s) on {pages} page(s) from {count} finding(s); "
                              "--findings lists every finding, --json both\n")
        out.flush()
    except BrokenPipeError:
        # the reader left: send what is still buffered, and the final flush, nowhere
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, out.fileno())
        except (OSError, ValueError, AttributeError):
            pass  # not a stream with a descriptor: nothing will flush to the pipe
        finally:
            os.close(devnull)
        return 141
    return 0


def got_json(got: LogReading) -> dict[str, object]:
    """The log-level object of `decode --json`: arch and how, kernel version, calibration."""
    cal = got.calibration
    return {"arch": got.arch, "arch_how": got.arch_how, "detected": got.detected.to_json(),
            "kver": ".".join(map(str, got.kver)) if got.kver else None,
            "vmemmap_base": cal.vmemmap_base, "struct_page_size": cal.struct_page_size,
            "page_offset": cal.page_offset, "page_shift": cal.page_shift,
            "calibration": list(cal.sources), "pages": len(got.pages), "more_pages": got.more_pages}


def console_session(resume: str | bool | None = None) -> Session:
    """A session with a journal of its own.  With ``resume`` (True or '' for the newest
    session that ran a command, else a session id) that session's commands come back
    first.  SystemExit(2) when the session asked for is not there."""
    from .commands.files import FileError
    from .commands.journal import Journal, read_journal, sessions_dir

    session = Session()
    read = None
    if resume is not None and resume is not False:
        info = find_session("" if resume is True else str(resume))
        try:
            read = read_journal(info.path)
        except (FileError, OSError) as e:
            sys.stderr.write(f"pfnconsole: cannot resume {info.id}: {e}\n")
            raise SystemExit(2) from None
    try:
        session.journal = Journal(resumed=read.id if read else None)
    except OSError as e:
        session.notices.append(f"no journal ({sessions_dir()}: {e.strerror}); this session "
                               "will not be resumable")
    if read is not None:
        problems = read.problems + session.resume(read.commands)
        session.notices += [f"resume: {read.path}: {p}" for p in problems]
        session.notices.append(f"resumed session {read.id} ({len(session.accepted)} "
                               "command(s))")
    for text in session.notices:  # the console shows them again in its log
        sys.stderr.write(f"pfnconsole: {text}\n")
    return session


def find_session(wanted: str) -> SessionInfo:
    """The newest session that ran a command, or the one whose id is ``wanted``."""
    from .commands.journal import list_sessions, sessions_dir
    found = list_sessions()
    if wanted:
        match = [s for s in found if s.id == wanted]
        if match:
            return match[0]
        hint = (f"; to resume in the {wanted}, write `pfnconsole {wanted} --resume`"
                if wanted in ("repl", "tui") else "")
        sys.stderr.write(f"pfnconsole: no session {wanted!r} in {sessions_dir()}; "
                         f"`pfnconsole sessions` lists them{hint}\n")
        raise SystemExit(2)
    with_commands = [s for s in found if s.commands]
    if not with_commands:
        sys.stderr.write(f"pfnconsole: no session to resume in {sessions_dir()}\n")
        raise SystemExit(2)
    return with_commands[-1]


def sessions_command(as_json: bool, out: TextIO) -> int:
    """`pfnconsole sessions`: every journal, oldest first."""
    from .commands.journal import list_sessions, sessions_dir
    found = list_sessions()
    if as_json:
        for s in found:
            out.write(json.dumps({"id": s.id, "started": s.started, "commands": s.commands,
                                  "last": s.last, "problems": s.problems,
                                  "path": str(s.path)}) + "\n")
        return 0
    if not found:
        out.write(f"no sessions in {sessions_dir()}\n")
        return 0
    out.write(f"{'id':<24} {'started':<25} {'commands':>8}  last command\n")
    for s in found:
        last = s.last if len(s.last) <= 60 else s.last[:59] + "…"
        note = f"  ({s.problems} damaged record)" if s.problems else ""
        out.write(f"{s.id:<24} {s.started:<25} {s.commands:>8}  {last}{note}\n")
    out.write("`pfnconsole --resume ID` brings one back; `--resume` alone the newest\n")
    return 0


def lesson_command(action: str, names: list[str], *, out: TextIO, err: TextIO) -> int:
    from .lessons import LessonError, check_lesson, list_lessons, load, parse_lesson, progress
    from .lessons.markdown import plain
    from .lessons.player import read_lesson

    if action == "list":
        for p in list_lessons():
            try:
                lesson = parse_lesson(read_lesson(p), str(p), p.stem)
                done = progress.summary(lesson.name, len(lesson.steps),
                                        sum(s.exercise is not None for s in lesson.steps))
                out.write(f"{p.stem:<32} {plain(lesson.title)}  ({len(lesson.steps)} steps)"
                          + (f"  {done}" if done else "") + "\n")
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
    paths = names or [str(p) for p in list_lessons()]
    failed = 0
    for name in paths:
        try:
            lesson = load(name)
        except LessonError as e:
            err.write(f"{e}\n")
            failed += 1
            continue
        errors = check_lesson(lesson)
        for problem in errors:
            err.write(problem + "\n")
        failed += bool(errors)
        out.write(f"{'ok  ' if not errors else 'FAIL'} {lesson.name} "
                  f"({len(lesson.steps)} steps)\n")
    out.write(f"{len(paths) - failed} passed, {failed} failed\n")
    return 1 if failed or not paths else 0


def main(argv: list[str] | None = None) -> int:
    """The `pfnconsole` command; a closed pipe or Ctrl-C end it quietly."""
    try:
        return _main(argv)
    except BrokenPipeError:
        # `pfnconsole … | head`: stop writing, and keep the final flush from failing too
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except KeyboardInterrupt:
        return 128 + signal.SIGINT


def _main(argv: list[str] | None) -> int:
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
    dec.add_argument("--json", action="store_true",
                     help="one JSON object per finding, then one per page report, then the log's")
    dec.add_argument("--findings", action="store_true",
                     help="one line per finding instead of a report per page")
    dec.add_argument("--arch", default=None,
                     help="read the log as this arch (default: detected from the log, else x86_64)")
    ben = sub.add_parser("bench", help="measure list walk vs section lookup and the rest")
    ben.add_argument("what", nargs="?", choices=("native",),
                     help="native: time the paths in C on this CPU (the optional probe)")
    ben.add_argument("--json", action="store_true", help="one JSON object with every figure")
    ben.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    les = sub.add_parser("lesson", help="list, show or check the lessons")
    les.add_argument("action", choices=("list", "show", "check"))
    les.add_argument("names", nargs="*", help="lesson names or numbers (check: all if none)")
    ses = sub.add_parser("sessions", help="list the console sessions --resume can bring back")
    ses.add_argument("--json", action="store_true", help="one JSON object per session")
    resume_help = ("bring a session back from its journal (after a crash too): the newest "
                   "that ran a command, or the session ID (`pfnconsole sessions`)")
    srv = sub.add_parser("serve", help="the console in a browser, one per tab (the serve extra)")
    srv.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1: this machine only)")
    srv.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    srv.add_argument("--lesson", help="open every tab on this lesson")
    repl = sub.add_parser("repl", help="the line-mode console (prompt_toolkit)")
    repl.add_argument("--lesson", help="play a lesson step by step")
    tui = sub.add_parser("tui", help="the full-screen console (Textual); the default")
    tui.add_argument("--lesson", help="play a lesson step by step")
    parser.add_argument("--lesson", help="open the console playing a lesson")
    for p in (parser, repl, tui):
        p.add_argument("--resume", nargs="?", const="", default=None, metavar="ID",
                       help=resume_help)
    args = parser.parse_args(argv)
    for stream in (sys.stdin, sys.stdout):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")  # pasted junk is reported, never a crash
    if args.command == "bench" and args.what == "native":
        from .bench_native import run as bench_native
        return bench_native(args.json, args.quick, sys.stdout, sys.stderr)
    if args.command == "bench":
        # the suite is the checkout's bench/, beside the package source; never in the wheel
        from pathlib import Path
        root = Path(__file__).resolve().parent.parent
        if not ((root / "bench" / "suite.py").is_file() and (root / "pyproject.toml").is_file()):
            sys.stderr.write("pfnconsole bench runs from a source checkout: git clone "
                             "https://github.com/pfnconsole/pfnconsole; the bench/ folder is "
                             "not installed\n")
            return 2
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        from bench.suite import main as bench_main
        return bench_main(args.quick, args.json, sys.stdout)
    if args.command == "lesson":
        return lesson_command(args.action, args.names, out=sys.stdout, err=sys.stderr)
    if args.command == "sessions":
        return sessions_command(args.json, sys.stdout)
    lesson_name = getattr(args, "lesson", None)
    if lesson_name:
        from .lessons import LessonError, load
        try:
            load(lesson_name)
        except LessonError as e:
            sys.stderr.write(f"{e}\n")
            return 2
    if args.command == "serve":
        from .serve import serve
        return serve(args.host, args.port, args.lesson, sys.stderr)
    if args.command == "decode":
        return decode_log(args.file, as_json=args.json, arch=args.arch,
                          out=sys.stdout, err=sys.stderr, findings=args.findings)
    if args.command == "run":
        return run_file(args.file, as_json=args.json, keep_going=args.keep_going)
    # a tab of `pfnconsole serve` talks through pipes, to Textual's web driver
    web = os.environ.get("TEXTUAL_DRIVER", "").endswith(":WebDriver") and args.command == "tui"
    interactive = (sys.stdin.isatty() and sys.stdout.isatty()) or web
    session = console_session(args.resume) if interactive else None
    try:
        if args.command == "repl" or not interactive:
            from .repl import main as repl_main  # prompt_toolkit loads only for the console
            return repl_main(lesson=lesson_name, session=session, resume_lesson=args.resume is None)
        from .tui.app import main as tui_main
        return tui_main(lesson=lesson_name, session=session, resume_lesson=args.resume is None)
    finally:
        if session is not None and session.journal is not None:
            session.journal.close(discard_empty=True)


def run_file(name: str, *, as_json: bool, keep_going: bool) -> int:
    """`pfnconsole run FILE`: a regular file or stdin, never a FIFO or device by name."""
    import io

    from .commands.files import FileError, open_regular
    if name == "-":
        return run_script(sys.stdin, "<stdin>", as_json=as_json, keep_going=keep_going,
                          out=sys.stdout, err=sys.stderr)
    try:
        raw = open_regular(name, "pfnconsole run")
    except FileError as e:
        sys.stderr.write(f"{e}\n")
        return 2
    with io.TextIOWrapper(raw, encoding="utf-8", errors="replace") as f:
        return run_script(f, name, as_json=as_json, keep_going=keep_going,
                          out=sys.stdout, err=sys.stderr)
