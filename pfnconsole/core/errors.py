"""The one exception the engine raises for a request it refuses.

Every refusal carries a message that says what was wrong and, where it helps, what
would be accepted.  The engine raises it before it changes any state.
"""

from __future__ import annotations


class EngineError(Exception):
    """A request the simulated machine refuses; ``str(err)`` is the user-facing message."""
