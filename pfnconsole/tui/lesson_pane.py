"""Lesson playback: the narration of the current step and the list of steps."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Markdown, OptionList, Static
from textual.widgets.option_list import Option

from ..lessons import Lesson


class LessonPane(Vertical):
    """Shows a lesson; posts Goto(index) when a step is chosen (run-to-here)."""

    HELP = """\
# Lesson

**F5** runs the next step through the console, exactly as if you typed its commands;
the panes follow. **F8** steps back: the engine is restored to the state before
that step. **Enter** on a step in the list runs (or rewinds) up to it.

Each step's checks are shown as ✓ or ✗: a ✗ means the engine no longer answers what
the lesson expects.
"""

    class Goto(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, lesson: Lesson, **kw: Any) -> None:
        super().__init__(**kw)
        self.lesson = lesson
        self.border_title = lesson.title

    def compose(self) -> ComposeResult:
        yield Static(id="lesson-status")
        yield Markdown(id="lesson-text")
        yield OptionList(*[Option(f"{i + 1}. {s.title}", id=f"step-{i}")
                           for i, s in enumerate(self.lesson.steps)], id="lesson-steps")

    def show(self, done: int, outcome_lines: list[str]) -> None:
        """``done`` steps have run; the narration shown is the last one run (or the intro)."""
        total = len(self.lesson.steps)
        if done == 0:
            text = f"# {self.lesson.title}\n\n{self.lesson.intro}\n\n*F5 starts the lesson.*"
        else:
            step = self.lesson.steps[done - 1]
            text = f"## {done}. {step.title}\n\n{step.narration}"
            if outcome_lines:
                text += "\n\n" + "\n".join(f"- {line}" for line in outcome_lines)
            text += ("\n\n*F5: next step*" if done < total else "\n\n*End of the lesson.*")
        self.query_one("#lesson-text", Markdown).update(text)
        self.query_one("#lesson-status", Static).update(
            f"step {done}/{total} · F5 next · F8 back · Enter on a step runs to it")
        steps = self.query_one("#lesson-steps", OptionList)
        if done:
            steps.highlighted = done - 1

    @on(OptionList.OptionSelected, "#lesson-steps")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(self.Goto(int((event.option.id or "step-0")[5:])))
