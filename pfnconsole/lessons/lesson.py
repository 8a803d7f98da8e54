"""The lesson format: Markdown with runnable and checkable blocks.

A lesson is a Markdown file.  ``# Title`` names it, the text before the first ``##`` is
its introduction, and every ``## Step title`` section is one step: narration, then
fenced blocks.  A ```` ```pfn ```` block holds console commands, one a line; an
```` ```expect ```` block holds what the engine must answer to the last command of the
block before it, one check a line::

    path OP value

``path`` is a key of the command's JSON result (dots for nested keys, numbers for list
items, e.g. ``steps.0.name``), or ``ok``, ``error`` or ``text`` (the printed answer);
``[N] path …`` checks the Nth command of the block instead of the last.  ``OP`` is one of
``=  !=  <  <=  >  >=  ~`` (``~``: the value occurs in the text, or in the list).
``value`` is a number (``0x100600``, ``42``, ``4G``), ``true``/``false``/``null``, a
``"quoted string"``, a ``[list, …]`` of those, or a bare word (a string).

Lessons are data: nothing in them is evaluated as code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from ..commands.parse import ParseError, parse_number
from ..core.errors import EngineError

OPS = ("!=", "<=", ">=", "=", "<", ">", "~")
_EXPECT = re.compile(r"^(?:\[(\d{1,3})\]\s+)?([A-Za-z_][\w.]*)\s*(!=|<=|>=|=|<|>|~)\s*(.*)$")
MAX_LESSON_BYTES = 1 << 20


class LessonError(EngineError):
    """A lesson file that does not follow the format; str() is ``FILE:LINE: error: …``."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: error: {message}")
        self.path, self.line, self.message = path, line, message


@dataclass(frozen=True)
class Expectation:
    line: int
    path: str
    op: str
    value: object
    index: int | None = None
    """1-based command of the block, or None for the last one."""

    def describe(self) -> str:
        target = f"[{self.index}] " if self.index else ""
        v = self.value
        shown = hex(v) if isinstance(v, int) and not isinstance(v, bool) and v > 9 \
            else json.dumps(v)
        return f"{target}{self.path} {self.op} {shown}"


@dataclass(frozen=True)
class Block:
    """The commands of one ```pfn block and the checks that follow it."""

    commands: tuple[tuple[int, str], ...]
    """(line number, command text)."""
    expects: tuple[Expectation, ...] = ()


@dataclass(frozen=True)
class Step:
    title: str
    line: int
    narration: str
    """The step's Markdown without its pfn/expect blocks."""
    blocks: tuple[Block, ...]
    exercise: Exercise | None = None
    """The step's ```try block: the player stops after the blocks until it is done."""

    @property
    def commands(self) -> list[str]:
        return [c for b in self.blocks for _, c in b.commands]


@dataclass(frozen=True)
class Lesson:
    name: str
    title: str
    path: str
    intro: str
    steps: tuple[Step, ...] = field(default_factory=tuple)


MAX_DEPTH = 16
"""How deeply lists in an expect value may nest."""


def parse_value(text: str, where: tuple[str, int], depth: int = 0) -> object:
    """A value in an expect line: numbers with sizes, JSON literals, quoted or bare words."""
    if depth > MAX_DEPTH:
        raise LessonError(*where, f"lists nest more than {MAX_DEPTH} deep")
    text = text.strip()
    if not text:
        raise LessonError(*where, "an expectation needs a value after the operator")
    if text in ("true", "false", "null"):
        return json.loads(text)
    if text[0] == '"':
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            raise LessonError(*where, f"bad quoted string {text}") from None
        if not isinstance(value, str):
            raise LessonError(*where, f"bad quoted string {text}")
        return value
    if text[0] == "[":
        if not text.endswith("]"):
            raise LessonError(*where, f"a list must end with ]: {text}")
        inner = text[1:-1].strip()
        return [parse_value(p, where, depth + 1) for p in _split_list(inner)] if inner else []
    if text[0].isdigit():
        try:
            return parse_number(text)
        except ParseError:
            raise LessonError(*where, f"{text!r} is not a number") from None
    if re.fullmatch(r"[\w.|:@/+-]+", text):
        return text
    raise LessonError(*where, f"cannot read the value {text!r}; quote strings with spaces")


def _split_list(inner: str) -> list[str]:
    parts, depth, cur, quoted = [], 0, "", False
    for ch in inner:
        if ch == '"':
            quoted = not quoted
        if not quoted and ch == "[":
            depth += 1
        if not quoted and ch == "]":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


class _StepDraft(TypedDict):
    """The step being read: its heading and the narration lines so far."""

    title: str
    line: int
    text: list[str]


def parse_lesson(text: str, path: str, name: str | None = None) -> Lesson:
    """Read a lesson; LessonError with the file and line for anything off."""
    if len(text) > MAX_LESSON_BYTES:
        raise LessonError(path, 1, f"lesson is {len(text)} bytes; the limit is "
                                   f"{MAX_LESSON_BYTES}")
    lines = text.splitlines()
    title = None
    intro: list[str] = []
    steps: list[Step] = []
    cur: _StepDraft | None = None
    fence: tuple[str, int] | None = None  # (kind, line) while inside a fenced block
    buf: list[tuple[int, str]] = []
    blocks: list[Block] = []
    exercise: list[Exercise | None] = [None]

    def finish_step() -> None:
        if cur is None:
            return
        if not blocks and exercise[0] is None:
            raise LessonError(path, cur["line"], f"step {cur['title']!r} has no ```pfn block")
        steps.append(Step(cur["title"], cur["line"], "\n".join(cur["text"]).strip(),
                          tuple(blocks), exercise[0]))

    for n, raw in enumerate(lines, 1):
        line = raw.rstrip()
        if fence is not None:
            kind, start = fence
            if line.strip() == "```":
                fence = None
                if kind == "pfn":
                    cmds = tuple((ln, t.strip()) for ln, t in buf
                                 if t.strip() and not t.strip().startswith("#"))
                    if not cmds:
                        raise LessonError(path, start, "empty ```pfn block")
                    blocks.append(Block(cmds))
                elif kind == "expect":
                    if not blocks:
                        raise LessonError(path, start, "```expect must follow a ```pfn block")
                    exps = tuple(_expectation(ln, t, path) for ln, t in buf
                                 if t.strip() and not t.strip().startswith("#"))
                    last = blocks[-1]
                    for e in exps:
                        if e.index is not None and not 1 <= e.index <= len(last.commands):
                            raise LessonError(path, e.line, f"[{e.index}]: the block has "
                                              f"{len(last.commands)} command(s)")
                    blocks[-1] = Block(last.commands, last.expects + exps)
                elif kind == "try":
                    if exercise[0] is not None:
                        raise LessonError(path, start, "one ```try block a step")
                    exercise[0] = parse_exercise(buf, path, start)
                else:
                    (cur["text"] if cur else intro).extend(["```" + kind] + [t for _, t in buf]
                                                           + ["```"])
                buf = []
            else:
                buf.append((n, line))
            continue
        if line.startswith("```"):
            kind = line[3:].strip().lower()
            if cur is None and kind in ("pfn", "expect", "try"):
                raise LessonError(path, n, f"```{kind} before the first ## step")
            fence = (kind, n)
            continue
        if line.startswith("# ") and title is None and cur is None:
            title = line[2:].strip()
            continue
        if line.startswith("## "):
            finish_step()
            cur = {"title": line[3:].strip(), "line": n, "text": []}
            blocks = []
            exercise[0] = None
            continue
        (cur["text"] if cur else intro).append(line)
    if fence is not None:
        raise LessonError(path, fence[1], f"```{fence[0]} block is never closed")
    finish_step()
    if title is None:
        raise LessonError(path, 1, "a lesson starts with a `# Title` line")
    if not steps:
        raise LessonError(path, 1, "a lesson needs at least one `## Step` section")
    return Lesson(name or Path(path).stem, title, path, "\n".join(intro).strip(), tuple(steps))


def _expectation(n: int, text: str, path: str) -> Expectation:
    m = _EXPECT.match(text.strip())
    if not m:
        raise LessonError(path, n, f"expected `path OP value` (OP one of {' '.join(OPS)}), "
                                   f"got {text.strip()!r}")
    index, key, op, value = m.groups()
    return Expectation(n, key, op, parse_value(value, (path, n)), int(index) if index else None)


# --- exercises: a ```try block (`exercise` plays them) -------------------------------------

TRY_KEYS = ("kind", "ask", "run", "answer", "check", "hint", "solution", "wrong")
TRY_REPEATABLE = ("check", "hint", "solution", "wrong")


@dataclass(frozen=True)
class Exercise:
    """One exercise of a step, as the lesson states it."""

    kind: str
    ask: str
    line: int
    run: str = ""
    answer: str = ""
    checks: tuple[Expectation, ...] = ()
    """`lesson.Expectation`s (act) the student's last result must meet."""
    hints: tuple[str, ...] = ()
    solution: tuple[str, ...] = ()
    wrong: tuple[str, ...] = ()


def parse_exercise(lines: list[tuple[int, str]], path: str, start: int) -> Exercise:
    """An Exercise from a ```try block's lines; LessonError naming the line for bad ones
    (checks are in the ```expect language)."""
    got: dict[str, list[tuple[int, str]]] = {}
    for n, text in lines:
        t = text.strip()
        if not t or t.startswith("#"):
            continue
        key, sep, value = t.partition(":")
        key = key.strip().lower()
        if not sep or key not in TRY_KEYS:
            raise LessonError(path, n, f"```try: expected `key: value` with a key of {', '.join(TRY_KEYS)}")
        if key in got and key not in TRY_REPEATABLE:
            raise LessonError(path, n, f"```try: {key}: given twice")
        got.setdefault(key, []).append((n, value.strip()))

    def one(key: str) -> str:
        return got[key][0][1] if key in got else ""

    def many(key: str) -> tuple[str, ...]:
        return tuple(v for _, v in got.get(key, []))

    kind = one("kind")
    if kind not in ("predict", "act"):
        raise LessonError(path, start, "```try: kind: predict or kind: act")
    for key in ("ask", "solution", "wrong"):
        if key not in got:
            raise LessonError(path, start, f"```try: {key}: is missing (every exercise has a "
                              "question, a reference solution and a wrong answer)")
    if kind == "predict" and not (one("run") and one("answer")):
        raise LessonError(path, start, "```try: a predict exercise needs run: and answer:")
    if kind == "act" and "check" not in got:
        raise LessonError(path, start, "```try: an act exercise needs at least one check:")
    checks = tuple(_expectation(n, v, path) for n, v in got.get("check", []))
    return Exercise(kind, one("ask"), start, one("run"), one("answer"), checks, many("hint"),
                    many("solution"), many("wrong"))
