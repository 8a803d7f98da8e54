"""Playing a lesson: run its steps through the same command path as a user, check them,
and step back by restoring the engine snapshot taken before the step."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..commands import Result, Session
from ..commands.files import FileError, read_text
from ..commands.session import Mark
from .checks import _MISSING, check, lookup
from .exercise import Pending, Reply, meets, relevant, same_value
from .lesson import MAX_LESSON_BYTES, Lesson, LessonError, Step, parse_lesson


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
        self.pending: Pending | None = None
        """The exercise of the step just run, while the student has not done it."""

    @property
    def finished(self) -> bool:
        return self.done >= len(self.lesson.steps) and not self.waiting

    @property
    def waiting(self) -> bool:
        """An exercise is open: the next step waits until it is done (or shown)."""
        return self.pending is not None and not (self.pending.solved or self.pending.shown)

    def next(self) -> StepOutcome | None:
        """Run the next step; None at the end. While an exercise is open the step does not
        run: the outcome's one failure says what is awaited."""
        if self.waiting:
            assert self.pending is not None
            ex = self.pending.exercise
            what = ("answer it (`answer VALUE`)" if ex.kind == "predict"
                    else "do it with console commands")
            return StepOutcome(self.done - 1, failures=[(ex.line, f"first the exercise: {ex.ask} — "
                                                         f"{what}; `hint` helps, `show` gives it")])
        if self.done >= len(self.lesson.steps):
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
        self.pending = Pending(step.exercise) if step.exercise else None
        return outcome

    # --- the open exercise ---------------------------------------------------------------
    def answer(self, text: str) -> Reply:
        """A predict exercise's answer: runs the step's command (once) and compares."""
        p = self.pending
        if p is None or p.exercise.kind != "predict":
            return Reply(False, "no question to answer here" if p is None else
                         "this exercise is done in the console: type the commands")
        result = self._run_once(p)
        actual = lookup(result.to_json(), p.exercise.answer) if result is not None else _MISSING
        if actual is _MISSING:
            return Reply(False, f"`{p.exercise.run}` did not answer {p.exercise.answer}")
        if same_value(text, actual):
            p.solved = True
            return Reply(True, f"right: {p.exercise.answer} = {actual}")
        return Reply(False, f"not {text.strip()}; " + p.next_hint())

    def _run_once(self, p: Pending) -> Result | None:
        """A predict exercise's command, run the first time it is answered or shown."""
        if p.run_result is None:
            self.session.replaying = "a lesson"
            try:
                p.run_result = self.session.execute(p.exercise.run)
            finally:
                self.session.replaying = None
        return p.run_result

    def observe(self, result: Result) -> Reply | None:
        """An act exercise looks at each of the student's results: a Reply when the result
        is an attempt (it has the keys the checks read), None otherwise."""
        p = self.pending
        if p is None or p.exercise.kind != "act" or p.solved or not relevant(p.exercise.checks, result):
            return None
        problems = meets(p.exercise.checks, result)
        if not problems:
            p.solved = True
            return Reply(True, "done: " + "; ".join(c.describe() for c in p.exercise.checks))
        return Reply(False, f"not yet ({problems[0]}); " + p.next_hint())

    def hint(self) -> str:
        return self.pending.next_hint() if self.pending else "no exercise is open"

    def show(self) -> str:
        if self.pending is None:
            return "no exercise is open"
        p = self.pending
        p.shown = True
        if p.exercise.kind == "predict":  # the same machine whether answered or shown
            result = self._run_once(p)
            if result is not None:
                return f"{p.answer_text()}: `{p.exercise.run}`\n{result.text()}"
        return p.answer_text()

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
        self.pending = None  # the step's exercise opens again when it is run again
        return True

    def run_to(self, index: int) -> list[StepOutcome]:
        """Make steps 0..index done (back or forward)."""
        while self.done > index + 1:
            self.previous()
        out = []
        while self.done <= index and self.done < len(self.lesson.steps):
            if self.waiting:
                self.show()  # going past an exercise gives its answer
            outcome = self.next()
            assert outcome is not None
            out.append(outcome)
        return out


def check_exercise(player: Player) -> list[tuple[int, str]]:
    """The open exercise's wrong answer must be refused and its reference accepted; the
    player is left with the reference done."""
    p = player.pending
    assert p is not None
    ex, session, out = p.exercise, player.session, []
    mark = session.mark()

    def attempt(answers: tuple[str, ...]) -> bool:
        if ex.kind == "predict":
            return player.answer(answers[0]).ok
        for cmd in answers:
            result = session.execute(cmd)
            if result is not None:
                player.observe(result)
        return player.pending is not None and player.pending.solved

    if attempt(ex.wrong):
        out.append((ex.line, f"the exercise accepts its wrong answer {ex.wrong!r}"))
    session.rewind(mark)
    player.pending = Pending(ex)
    if not attempt(ex.solution):
        out.append((ex.line, f"the exercise refuses its reference solution {ex.solution!r}"))
    player.pending.solved = True
    return out


def check_lesson(lesson: Lesson) -> list[str]:
    """Play a lesson on a fresh console, each exercise's wrong answer and reference too;
    ``FILE:LINE: error: …`` for each failure."""
    player = Player(lesson)
    errors = []
    while not player.finished:
        outcome = player.next()
        assert outcome is not None
        failures = list(outcome.failures)
        if player.pending is not None:
            failures += check_exercise(player)
        for line, message in failures:
            errors.append(f"{lesson.path}:{line}: error: {message}")
    # stepping back must restore the engine exactly
    prints = []
    fresh = Player(lesson)
    while not fresh.finished:
        if fresh.waiting:
            fresh.show()
            continue
        prints.append(fresh.session.machine.fingerprint())
        fresh.next()
    while fresh.previous():
        if fresh.session.machine.fingerprint() != prints[fresh.done]:
            errors.append(f"{lesson.path}:{lesson.steps[fresh.done].line}: error: stepping "
                          "back did not restore the engine state")
    return errors
