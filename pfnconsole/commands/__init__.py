"""The command language shared by every front end."""

from .result import Result
from .table import ALIASES, COMMANDS, Command, Session

__all__ = ["ALIASES", "COMMANDS", "Command", "Result", "Session"]
