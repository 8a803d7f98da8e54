"""Turning a command line into words, numbers and ``key=value`` options.

Numbers are hex (``0x…``), decimal, or either with a binary size suffix (``4K``, ``16G``,
``1T``; ``KiB``/``KB`` spellings too).  ``_`` may group digits.  ``#`` starts a comment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.errors import EngineError

SUFFIXES = {"K": 10, "M": 20, "G": 30, "T": 40, "P": 50, "E": 60}
MAX_LINE = 4096


class ParseError(EngineError):
    """A command line that does not parse; the message names the word at fault."""


@dataclass
class Words:
    """A tokenised line: the verb, bare words in order, and ``key=value`` options."""

    verb: str
    args: list[str] = field(default_factory=list)
    options: dict[str, list[str]] = field(default_factory=dict)
    line: str = ""
    raw: str = ""
    """Everything after the verb exactly as typed (comments included), for pasted text."""
    switches: list[str] = field(default_factory=list)
    """``--name`` words, e.g. ``save --force FILE``."""


def strip_comment(line: str) -> str:
    return line.split("#", 1)[0].strip()


def tokenize(line: str) -> Words | None:
    """Split a line; None for a blank or comment-only line."""
    if len(line) > MAX_LINE:
        raise ParseError(f"line is {len(line)} characters long; the limit is {MAX_LINE}")
    text = strip_comment(line)
    if not text:
        return None
    if any(ord(c) < 32 and c not in "\t" for c in text):
        raise ParseError("the line holds control characters")
    parts = text.split()
    words = Words(parts[0].lower(), line=text,
                  raw=line.strip()[len(parts[0]):].strip())
    for part in parts[1:]:
        if part.startswith("--") and len(part) > 2 and "=" not in part:
            words.switches.append(part[2:].lower())
        elif "=" in part:
            key, _, value = part.partition("=")
            if not key:
                raise ParseError(f"{part!r}: an option needs a name before '='")
            if not value:
                raise ParseError(f"{part!r}: option {key} needs a value after '='")
            words.options.setdefault(key.lower(), []).append(value)
        else:
            words.args.append(part)
    return words


def parse_number(text: str, what: str = "number") -> int:
    """'0x100600' / '4096' / '4K' / '0x10G' -> int; ParseError naming ``what`` otherwise."""
    raw = text
    t = text.strip().replace("_", "")
    if not t:
        raise ParseError(f"{what}: empty")
    if t[0] in "+-":
        if t[0] == "-":
            raise ParseError(f"{what} {raw!r} is negative")
        t = t[1:]
    shift = 0
    upper = t.upper()
    is_hex = upper.startswith("0X")
    # Hex digits include B and E, so hex takes only the suffixes K M G T P.
    if not is_hex:
        for spelling in ("IB", "B"):
            if len(upper) > len(spelling) and upper.endswith(spelling) \
                    and upper[-len(spelling) - 1] in SUFFIXES:
                upper = upper[: -len(spelling)]
                break
    if upper and upper[-1] in SUFFIXES and not (is_hex and upper[-1] == "E"):
        shift = SUFFIXES[upper[-1]]
        upper = upper[:-1]
    try:
        if upper.startswith("0X"):
            value = int(upper[2:], 16)
        elif upper.startswith("0B") and len(upper) > 2:
            value = int(upper[2:], 2)
        else:
            value = int(upper, 10)
    except ValueError:
        hint = " (hex needs a 0x prefix)" if any(c in "ABCDEF" for c in upper) else ""
        raise ParseError(f"{what} {raw!r} is not a number{hint}") from None
    return value << shift


def parse_size_at(text: str, what: str) -> tuple[int, int]:
    """'4G@0x500000000' -> (start, size)."""
    size_text, sep, start_text = text.partition("@")
    if not sep:
        raise ParseError(f"{what} {text!r}: write SIZE@START, e.g. 4G@0x500000000")
    return parse_number(start_text, f"{what} start"), parse_number(size_text, f"{what} size")
