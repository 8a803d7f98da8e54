"""Exercises: a ```` ```try ```` block stops the player and asks the student to predict or act.

One ``key: value`` a line (``#`` lines are comments)::

    kind: predict | act
    ask: the question, in words
    run: a command                    (predict: run once the student has answered)
    answer: PATH                      (predict: the key of run's result the answer is compared with)
    check: PATH OP VALUE              (act: what the student's own last result must meet; repeatable)
    hint: one hint                    (repeatable: given one at a time, after each wrong answer)
    solution: the reference           (predict: the value; act: a command, repeatable)
    wrong: a wrong answer             (predict: a value; act: a command, repeatable)

`lesson check` plays the reference (it must be accepted) and the wrong answer (it must be
refused), so an exercise breaks loudly when the engine changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..commands import Result
from ..commands.parse import ParseError, parse_number
from .checks import _MISSING, check, lookup
from .lesson import Exercise, Expectation


def same_value(given: str, actual: object) -> bool:
    """Does the student's answer equal the value the command gave (numbers in any radix)?"""
    if isinstance(actual, bool) or not isinstance(actual, int):
        return given.strip().casefold() == str(actual).casefold()
    try:
        return parse_number(given.strip(), "answer") == actual
    except ParseError:
        return False


def meets(checks: tuple[Expectation, ...], result: Result) -> list[str]:
    """What of the act checks ``result`` fails (empty: it meets them all)."""
    return [p for c in checks if (p := check(c, result))]




@dataclass
class Pending:
    """The exercise of the step just run, until the student has done it (or asked for it)."""

    exercise: Exercise
    hints_given: int = 0
    solved: bool = False
    shown: bool = False
    run_result: Result | None = None
    """predict: what ``run`` answered once the student had answered."""

    def next_hint(self) -> str:
        hints = self.exercise.hints
        if self.hints_given < len(hints):
            self.hints_given += 1
            return f"hint {self.hints_given}/{len(hints)}: {hints[self.hints_given - 1]}"
        return "no more hints: `show` gives the answer"

    def answer_text(self) -> str:
        """The reference, in words (what `show` says)."""
        ex = self.exercise
        if ex.kind == "predict":
            return f"the answer is {ex.solution[0]}"
        return "one way: " + "; ".join(f"`{c}`" for c in ex.solution)


@dataclass(frozen=True)
class Reply:
    """What the player says to an answer or an act: accepted or not, in words."""

    ok: bool
    message: str


def relevant(checks: tuple[Expectation, ...], result: Result) -> bool:
    """Does ``result`` carry every key the checks look at (so it is an attempt at the act)?"""
    doc = result.to_json()
    return result.ok and all(c.path in ("ok", "error", "text") or lookup(doc, c.path) is not _MISSING
                             for c in checks)




def prompt(ex: Exercise) -> str:
    """How a front end asks the exercise, and what the student can type."""
    if ex.kind == "predict":
        return (f"Exercise (predict): {ex.ask}\n  `answer VALUE` before `{ex.run}` runs; "
                "`hint` for a hint, `show` for the answer")
    return (f"Exercise (do it): {ex.ask}\n  type the commands; each answer that bears on it is "
            "checked; `hint` for a hint, `show` for one way to do it")


__all__ = ["Exercise", "Pending", "Reply", "meets", "prompt", "relevant", "same_value"]
