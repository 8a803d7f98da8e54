"""The command language shared by every front end.

``registry`` declares what a verb takes; ``verbs/`` holds the verbs by subject, each
declared beside its handler; ``session`` is the one way state changes.
"""

from . import verbs
from .registry import ALIASES, COMMANDS, Command
from .result import Result
from .session import Session

__all__ = ["ALIASES", "COMMANDS", "Command", "Result", "Session", "verbs"]
