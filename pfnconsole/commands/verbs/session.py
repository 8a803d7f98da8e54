"""Verbs on the session: set, save, load, undo, reset, help."""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

from ..files import write_file
from ..journal import read_commands
from ..parse import ParseError, Words, as_script_lines
from ..registry import Command, Kind, Param, Subject, by_subject, command, find
from ..render import ok
from ..result import Result
from ..session import ReplayStopped, Session

MAX_LOAD_BYTES = 1 << 20
"""`load` reads scripts of at most this size (`pfnconsole run` takes any size)."""
MAX_LOAD_COMMANDS = 10_000
"""… and at most this many commands, so that one `load` stays about a second long."""
MAX_LOAD_SECONDS = 5.0
"""A `load` still running after this long is taken back whole (walks can be slow)."""


@command("set", Subject.SESSION, "show or change console settings", words="[radix 10|16]",
         help="radix: how pfns and values print (like crash's `set radix`); addresses stay\n"
         "hex and input keeps its own syntax (0x for hex).",
         examples=("set radix 10", "set radix 16", "set"),
         params=(Param("NAME", Kind.SETTING, optional=True),
                 Param("VALUE", Kind.RADIX, optional=True)))
def run_set(s: Session, w: Words) -> Result:
    if not w.args:
        return ok("set", "", {"radix": s.radix}, [f"radix {s.radix}"], {})
    if w.args[0].lower() != "radix" or len(w.args) != 2:
        raise ParseError("set: usage: set radix 10|16  (or `set` to show the settings)")
    if w.args[1] not in ("10", "16"):
        raise ParseError(f"set radix: {w.args[1]!r} is not 10 or 16")
    s.radix = int(w.args[1])
    return ok("set", f"set radix {s.radix}", {"radix": s.radix},
              [f"output radix {s.radix} (pfns and values; addresses stay hex)"],
              {"radix": s.radix})


@command("save", Subject.SESSION, "write this session's commands to a script",
         help="Every accepted command so far, one a line; `load FILE` or `pfnconsole run FILE`\n"
         "replays it. Writes regular files only, never through a symbolic link; an\n"
         "existing file is replaced (atomically) only with --force. Inside a replay\n"
         "(load, a lesson, --resume) it writes nothing. A machine built from a pasted log\n"
         "is saved with its log, as a here-document (`machine from-log - <<EOF` … `EOF`).",
         examples=("save --force /tmp/pfn-session.pfn",), params=(Param("FILE", Kind.WORD),),
         switches=("force",))
def run_save(s: Session, w: Words) -> Result:
    path = Path(w.args[0]).expanduser()
    if s.replaying is not None:
        return ok("save", f"save {path}", {"path": str(path), "commands": 0, "written": False},
                  [f"not written: `save` inside {s.replaying} writes no file"],
                  {"path": str(path)})
    body = "# pfnconsole session: `pfnconsole run FILE` or `load FILE` replays it\n" + \
        "".join(line + "\n" for c in s.accepted for line in as_script_lines(c))
    write_file(os.path.expanduser(w.args[0]), body.encode("utf-8", errors="replace"),
               force="force" in w.switches)
    return ok("save", f"save {path}", {"path": str(path), "commands": len(s.accepted),
                                       "written": True},
              [f"wrote {len(s.accepted)} command(s) to {path}"], {"path": str(path)})


@command("load", Subject.SESSION, "replay a script into this session, all or nothing",
         help="Runs each line of FILE as a command. If one fails, the machine goes back to\n"
         "how it was before `load` and the error names the file and line. FILE must be\n"
         f"a regular file of at most {MAX_LOAD_BYTES >> 20} MiB and {MAX_LOAD_COMMANDS} "
         f"commands\n(one still running after {MAX_LOAD_SECONDS:g} s is taken back whole); "
         "a script cannot load\nanother one.",
         examples=("save --force /tmp/pfn-session.pfn", "reset", "load /tmp/pfn-session.pfn"),
         params=(Param("FILE", Kind.WORD),), mutates=True)
def run_load(s: Session, w: Words) -> Result:
    if s.replaying is not None:
        raise ParseError(f"load: not run inside {s.replaying}: a script cannot load "
                         "another script (put that script's lines in its place)")
    path = s.resolve(w.args[0])
    lines = read_commands(path, MAX_LOAD_BYTES, "load")
    if len(lines) > MAX_LOAD_COMMANDS:
        raise ParseError(f"load: {path} holds {len(lines)} commands; load takes at most "
                         f"{MAX_LOAD_COMMANDS} (`pfnconsole run {path}` takes any number)")
    try:
        ran = s.replay_all(lines, f"load {path}", MAX_LOAD_SECONDS)
    except ReplayStopped as e:
        if e.error is not None:
            raise ParseError(f"{path}:{e.line}: error: {e.error} (nothing was loaded)") from None
        raise ParseError(f"load: {path} was still running after {MAX_LOAD_SECONDS:g} s "
                         f"(line {e.line}); nothing was loaded. `pfnconsole run {path}` "
                         "runs long scripts") from None
    res = ok("load", f"load {path}", {"path": str(path), "commands": len(lines)},
             [f"ran {len(lines)} command(s) from {path}"], {"path": str(path)})
    res.replay = ran
    return res


@command("undo", Subject.SESSION, "take back the last change",
         help="Restores the whole machine as it was before the last command that changed it.",
         examples=("undo",), mutates=True)
def run_undo(s: Session, w: Words) -> Result:
    op = s.machine.undo()
    left = [name for name, _, _ in s.machine.history()][::-1]  # newest first
    return ok("undo", "", {"undone": op, "history": len(left), "next": left[:UNDO_SHOWN]},
              [f"undid {op}; {remaining(left)}"], {})


UNDO_SHOWN = 3
"""`undo` names this many of the operations still to undo."""


def remaining(left: list[str]) -> str:
    """'3 more to undo: kmap, kmap, register' (newest first), or 'nothing more to undo'."""
    if not left:
        return "nothing more to undo"
    names = ", ".join(left[:UNDO_SHOWN]) + (", …" if len(left) > UNDO_SHOWN else "")
    return f"{len(left)} more to undo: {names}"


@command("reset", Subject.SESSION, "rebuild the current machine empty",
         help="Same arch and memory, no ranges, no readers; undo brings the old state back.",
         examples=("reset",), mutates=True)
def run_reset(s: Session, w: Words) -> Result:
    s.machine.reset()
    return ok("reset", "", {"arch": s.machine.state.arch.name},
              [f"{s.machine.state.arch.name}: no ranges, no readers, cpu0 (undo brings the "
               "previous state back)"], {})


@command("help", Subject.SESSION, "list commands, or show one in detail",
         help="With a command name: NAME, SYNOPSIS, DESCRIPTION and EXAMPLES.",
         examples=("help", "help kmap"), params=(Param("CMD", Kind.COMMAND, optional=True),))
def run_help(s: Session, w: Words) -> Result:
    if w.args:
        name = w.args[0].lower()
        cmd = find(name)
        if cmd is None:
            raise ParseError(f"help: no command {name!r}; `help` lists them")
        return ok("help", "", {"command": cmd.name, "synopsis": cmd.synopsis,
                               "examples": list(cmd.examples)}, help_page(cmd),
                  {"command": name})
    lines = []
    for subject, cmds in by_subject().items():
        lines.append(str(subject))
        for c in cmds:
            lines += list_entry(c)
    lines.append("Numbers: 0x100600, 1050112, 4K, 16G, 1T.  `help CMD` for details.")
    from ..registry import COMMANDS
    return ok("help", "", {"commands": list(COMMANDS)}, lines, {})


EXAMPLE_SETUP = ("register pmem0 0x440000000 4G", "kmap 0x440600 dev")
"""What the examples of SET_UP_FIRST need first (`help` shows it before them): the range
pmem0, mapped at 0xffffc90000600000."""
SET_UP_FIRST = ("kunmap", "teardown", "explain", "undo")
"""Commands whose examples act on what earlier commands did."""
NUMBER_UNIT = re.compile(r"(\d) (?=[KMGTPE]iB\b|s\b|ns\b|bytes\b)")
"""A number and its unit, which `help` keeps on one line."""
HELP_WIDTH = 80
"""`help` fits its lines in an 80-column terminal."""
SUMMARY_COLUMN = 21
"""Where the summaries of `help` start; a longer synopsis gets a line of its own."""


def wrap(text: str, indent: int, more: int) -> list[str]:
    """``text`` in lines of at most HELP_WIDTH: ``indent`` spaces first, ``more`` after."""
    text = NUMBER_UNIT.sub("\\1\u00a0", text)  # keep "4 GiB" on one line
    return [line.replace("\u00a0", " ") for line in textwrap.wrap(
        text, HELP_WIDTH, initial_indent=" " * indent, subsequent_indent=" " * more,
        break_on_hyphens=False, break_long_words=False)] or [""]


def list_entry(cmd: Command) -> list[str]:
    """A command in `help`: synopsis and summary side by side, or the summary below."""
    summary = wrap(cmd.summary, SUMMARY_COLUMN, SUMMARY_COLUMN)
    first = f"  {cmd.synopsis}"
    if len(first) <= SUMMARY_COLUMN - 2:
        return [first.ljust(SUMMARY_COLUMN) + summary[0].lstrip(), *summary[1:]]
    return wrap(cmd.synopsis, 2, 6) + summary


def help_page(cmd: Command) -> list[str]:
    """`help CMD`: a manual page made from the command's declaration."""
    lines = ["NAME", *wrap(f"{cmd.name} - {cmd.summary}", 4, 8), "", "SYNOPSIS",
             *wrap(cmd.synopsis, 4, 8), "", "DESCRIPTION"]
    for paragraph in cmd.description.split("\n\n"):
        lines += wrap(" ".join(paragraph.split()), 4, 4)
    examples = list(cmd.examples)
    lines += ["", "EXAMPLES (run in order)"]
    if cmd.name in SET_UP_FIRST:
        lines[-1] = "EXAMPLES (run in order; the first two set up pmem0)"
        examples[:0] = EXAMPLE_SETUP
    return lines + [f"    {e}" for e in examples]
