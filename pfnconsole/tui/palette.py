"""Command palette entries (Ctrl+P) from the command registry."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from textual.command import Hit, Hits, Provider
from textual.markup import escape

from ..commands import COMMANDS, Result


@runtime_checkable
class Console(Protocol):
    """What the palette needs of the app: put text on the command line, or run it."""

    def prefill(self, text: str) -> None: ...

    def run_line(self, line: str) -> Result | None: ...


class CommandsProvider(Provider):
    """Palette entries from the command table: each command and each runnable example."""

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        app = self.app
        if not isinstance(app, Console):
            return
        for cmd in COMMANDS.values():
            text = f"{cmd.name}: {cmd.summary}"
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text),
                          lambda c=cmd.name: app.prefill(c + " "), help=escape(cmd.synopsis))
            for example in cmd.examples:
                etext = f"run: {example}"
                score = matcher.match(etext)
                if score > 0:
                    yield Hit(score * 0.9, matcher.highlight(etext),
                              lambda e=example: app.run_line(e), help=escape(cmd.summary))
