"""The typed result every command returns, whichever front end asked."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core.arch import ArchProfile
    from ..core.machine import KmapResult, KunmapResult, LookupResult, PageResult, TeardownResult

    Answer = KmapResult | KunmapResult | TeardownResult | LookupResult | PageResult


@dataclass(frozen=True)
class PathContext:
    """What `explain` needs of a result with a kernel code path behind it."""

    answer: Answer
    """The core's frozen result."""
    arch: ArchProfile
    ranges: dict[str, tuple[int, int, int]]
    """The ranges the path touched: name -> (start, end, base), as they were then."""
    page: int | None = None
    """kmap's struct page address, where the pfn has one."""


@dataclass
class Result:
    """One command's outcome: JSON-safe ``data`` plus readable ``lines``."""

    cmd: str
    ok: bool
    data: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    parsed: dict[str, Any] = field(default_factory=dict)
    """What the parser understood, echoed back (numbers as ints)."""
    echo: str = ""
    """The parsed request in words, e.g. ``kmap pfn=0x100600 flags=PFN_DEV``."""
    source: PathContext | None = None
    """What `explain` needs, when a kernel code path is behind this result."""
    replay: list[str] | None = None
    """The commands that redo what this one did, when its own text would not (a `load`:
    the commands it ran); what the journal and `save` keep.  None: the line itself."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"cmd": self.cmd, "ok": self.ok}
        out.update(self.data)
        out["parsed"] = self.parsed
        if self.warnings:
            out["warnings"] = list(self.warnings)
        if self.error is not None:
            out["error"] = self.error
        return out

    def text(self) -> str:
        if not self.ok:
            return f"error: {self.error}"
        body = ([self.echo] if self.echo else []) + [_fold(ln) for ln in self.lines]
        body += [_fold(f"warning: {w}") for w in self.warnings]
        return "\n".join(body)


def _fold(line: str, width: int = 78) -> str:
    """Wrap prose (notes and warnings) to fit 80 columns; leave tables alone."""
    stripped = line.lstrip()
    if len(line) <= width or not stripped.startswith(("note:", "warning:")):
        return line
    indent = " " * (len(line) - len(stripped))
    return textwrap.fill(stripped, width, initial_indent=indent,
                         subsequent_indent=indent + "  ")


def error(cmd: str, message: str) -> Result:
    return Result(cmd=cmd, ok=False, error=message)
