"""Playing a lesson: run its steps through the same command path as a user, check them,
and step back by restoring the engine snapshot taken before the step."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..commands import Result, Session
from ..commands.files import FileError, read_text
from ..commands.session import Mark
from .lesson import MAX_LESSON_BYTES, Expectation, Lesson, LessonError, Step, parse_lesson

_MISSING = object()


def lessons_dir() -> Path:
    """The course: ``lessons/`` in a checkout, ``pfnconsole/course`` when installed."""
    here = Path(__file__).resolve()
    checkout = here.parents[2] / "lessons"
    if checkout.is_dir() and any(checkout.glob("*.md")):
        return checkout
    return here.parents[1] / "course"


def list_lessons() -> list[Path]:
    return sorted(p for p in lessons_dir().glob("*.md") if p.name[0].isdigit())


def load(name: str) -> Lesson:
    """A lesson by file name, stem, number (`4`) or the part after the number."""
    for p in list_lessons():
        stem = p.stem
        number, _, rest = stem.partition("-")
        if name in (stem, p.name, rest) or (name.isdigit() and int(name) == int(number)):
            return parse_lesson(read_lesson(p), str(p), stem)
    path = Path(name)
    if path.suffix == ".md" and path.exists():
        return parse_lesson(read_lesson(path), str(path))
    names = ", ".join(p.stem for p in list_lessons())
    raise LessonError(name, 0, f"no lesson {name!r}; lessons: {names}")


def read_lesson(path: Path) -> str:
    """A lesson file's text: a regular file of at most MAX_LESSON_BYTES (a little more is
    read, so that parse_lesson can say how big it is)."""
    try:
        return read_text(path, MAX_LESSON_BYTES + 1, "lesson")
    except FileError as e:
        raise LessonError(str(path), 0, str(e)) from None


def lookup(data: object, path: str) -> object:
    """``steps.0.name`` in a JSON-like value; _MISSING when absent."""
    for part in path.split("."):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.lstrip("-").isdigit() and -len(data) <= int(part) \
                < len(data):
            data = data[int(part)]
        else:
            return _MISSING
    return data


def check(exp: Expectation, result: Result) -> str | None:
    """None when the result meets the expectation, else what was wrong."""
    doc = result.to_json()
    # compared as Python compares: values of kinds that do not order raise TypeError, below
    actual: Any
    if exp.path == "text":
        actual = result.text()
    elif exp.path == "error":
        actual = result.error or ""
    else:
        actual = lookup(doc, exp.path)
    if actual is _MISSING:
        return f"{exp.describe()}: the result has no {exp.path!r} (keys: " \
               f"{', '.join(sorted(doc))})"
    v = exp.value
    ok = False
    try:
        if exp.op == "=":
            ok = actual == v
        elif exp.op == "!=":
            ok = actual != v
        elif exp.op == "~":
            ok = (v in actual) if isinstance(actual, list) else (str(v) in str(actual))
        else:
            ok = {"<": actual < v, "<=": actual <= v, ">": actual > v,
                  ">=": actual >= v}[exp.op]
    except TypeError:
        return f"{exp.describe()}: cannot compare {actual!r} with {v!r}"
    if ok:
        return None
    shown = hex(actual) if isinstance(actual, int) and not isinstance(actual, bool) \
        and actual > 9 else repr(actual)
    return f"{exp.describe()}: got {shown}"


@dataclass
class StepOutcome:
    index: int
    results: list[tuple[str, Result]] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)
    """(lesson line, message)."""

    @property
    def ok(self) -> bool:
        return not self.failures


class Player:
    """Where a student is in a lesson; `done` steps have run on ``session``."""

    def __init__(self, lesson: Lesson, session: Session | None = None) -> None:
        self.lesson = lesson
        self.session = session or Session()
        self.session.base_dir = Path(lesson.path).resolve().parent  # logs/ beside the lesson
        self.done = 0
        self._marks: list[Mark] = []
        """The session as it was before each step that has run."""
        self.outcomes: list[StepOutcome] = []

    @property
    def finished(self) -> bool:
        return self.done >= len(self.lesson.steps)

    def next(self) -> StepOutcome | None:
        """Run the next step; None at the end."""
        if self.finished:
            return None
        step = self.lesson.steps[self.done]
        self._marks.append(self.session.mark())
        outcome = StepOutcome(self.done)
        self.session.replaying = "a lesson"
        try:
            self._run_blocks(step, outcome)
        finally:
            self.session.replaying = None
        self.done += 1
        self.outcomes.append(outcome)
        return outcome

    def _run_blocks(self, step: Step, outcome: StepOutcome) -> None:
        for block in step.blocks:
            block_results: list[Result] = []
            for line, text in block.commands:
                result = self.session.execute(text)
                if result is None:
                    continue
                outcome.results.append((text, result))
                block_results.append(result)
                if not result.ok and not any(e.path in ("error", "ok") for e in block.expects):
                    outcome.failures.append((line, f"`{text}` failed: {result.error}"))
            for exp in block.expects:
                target = block_results[exp.index - 1] if exp.index else \
                    (block_results[-1] if block_results else None)
                if target is None:
                    outcome.failures.append((exp.line, "no command ran before this check"))
                    continue
                problem = check(exp, target)
                if problem:
                    outcome.failures.append((exp.line, problem))

    def previous(self) -> bool:
        """Undo the last step exactly (the session as it was before it, journaled so that
        --resume comes back to the same place); False at the start.  EngineError, and
        nothing changed, if the journal cannot be written."""
        if not self._marks:
            return False
        self.session.rewind(self._marks[-1])
        self._marks.pop()
        self.outcomes.pop()
        self.done -= 1
        return True

    def run_to(self, index: int) -> list[StepOutcome]:
        """Make steps 0..index done (back or forward)."""
        while self.done > index + 1:
            self.previous()
        out = []
        while self.done <= index and not self.finished:
            outcome = self.next()
            assert outcome is not None
            out.append(outcome)
        return out


def check_lesson(lesson: Lesson) -> list[str]:
    """Play a lesson on a fresh console; ``FILE:LINE: error: …`` for each failure."""
    player = Player(lesson)
    errors = []
    while not player.finished:
        outcome = player.next()
        assert outcome is not None
        for line, message in outcome.failures:
            errors.append(f"{lesson.path}:{line}: error: {message}")
    # stepping back must restore the engine exactly
    prints = []
    fresh = Player(lesson)
    while not fresh.finished:
        prints.append(fresh.session.machine.fingerprint())
        fresh.next()
    while fresh.previous():
        if fresh.session.machine.fingerprint() != prints[fresh.done]:
            errors.append(f"{lesson.path}:{lesson.steps[fresh.done].line}: error: stepping "
                          "back did not restore the engine state")
    return errors
