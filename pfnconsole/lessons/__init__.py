"""Lessons: Markdown files of narration, commands and expectations, and their player."""

from .lesson import Lesson, LessonError, Step, parse_lesson
from .player import Player, StepOutcome, check_lesson, lessons_dir, list_lessons, load

__all__ = ["Lesson", "LessonError", "Player", "Step", "StepOutcome", "check_lesson",
           "lessons_dir", "list_lessons", "load", "parse_lesson"]
