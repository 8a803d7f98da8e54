"""Turning a command line into words, numbers and ``key=value`` options.

Numbers are hex (``0x…``), decimal, or either with a binary size suffix (``4K``, ``16G``,
``1T``; ``KiB``/``KB`` spellings too).  ``_`` may group digits.  ``#`` starts a comment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
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
    body: str | None = None
    """The text on the lines after the command line (a pasted log for
    ``machine from-log -``); None when the command was one line."""


def strip_comment(line: str) -> str:
    return line.split("#", 1)[0].strip()


def tokenize(text: str) -> Words | None:
    """Split a command line; None for a blank or comment-only line.

    Text after the first newline is the command's body (``Words.body``), kept as it is.
    """
    line, newline, rest = text.partition("\n")
    body = rest if newline else None
    if len(line) > MAX_LINE:
        raise ParseError(f"line is {len(line)} characters long; the limit is {MAX_LINE}")
    text = strip_comment(line)
    if not text:
        if body is not None and body.strip():
            raise ParseError("text on the lines after an empty command line")
        return None
    if any(ord(c) < 32 and c not in "\t" for c in text):
        raise ParseError("the line holds control characters")
    parts = text.split()
    words = Words(parts[0].lower(), line=text,
                  raw=line.strip()[len(parts[0]):].strip(), body=body)
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


HEREDOC = re.compile(r"\s<<([A-Z][A-Z0-9_]*)\s*$")
"""``COMMAND <<EOF``: the lines up to one that is ``EOF`` are the command's body."""


MAX_BODY = 64 << 20
"""A here-document holds at most this many characters (the largest log `from-log` reads)."""


def heredoc_word(line: str) -> tuple[str, str] | None:
    """(the command without ``<<WORD``, WORD) when ``line`` opens a here-document."""
    code = strip_comment(line)
    m = HEREDOC.search(code)
    if m is None:
        return None
    return code[:m.start()].rstrip(), m.group(1)


def script_commands(lines: Iterable[tuple[int, str, bool]], body_limit: int = MAX_BODY
                    ) -> Iterator[tuple[int, str, str | None]]:
    """A script's commands from its numbered lines ``(number, text, cut)``.

    Yields ``(number, command text, None)``, or ``(number, "", error)`` for a line that
    cannot be a command: one cut for length, or a here-document that never ends or is
    too big.  The text of a here-document's command is its line plus its body.
    """
    it = iter(lines)
    for number, text, cut in it:
        if cut:
            yield number, "", f"the line is longer than {MAX_LINE} characters"
            continue
        opened = heredoc_word(text.rstrip("\r"))
        if opened is None:
            yield number, text.rstrip("\r"), None
            continue
        first, word = opened
        body: list[str] = []
        size, problem = 0, f"the here-document opened by <<{word} has no line `{word}` to end it"
        for _, line, cut in it:
            line = line.rstrip("\r")
            if line == word:
                problem = ""
                break
            size += len(line) + 1
            if cut or size > body_limit:
                problem = (f"the here-document opened by <<{word} is larger than "
                           f"{body_limit >> 20} MiB or holds a line longer than {MAX_LINE}")
                break
            body.append(line)
        if problem:
            yield number, "", problem
            return
        yield number, with_body(first, body), None


def with_body(first: str, body_lines: list[str]) -> str:
    """One command's text: its line, then its body's lines (what Session.execute takes)."""
    return "\n".join([first, *body_lines])


def as_script_lines(command: str) -> list[str]:
    """How a script writes ``command``: as it is, or with its body as a here-document
    (the terminator is chosen so that no body line equals it)."""
    first, newline, body = command.partition("\n")
    if not newline:
        return [command]
    lines = body.split("\n")
    word, n = "EOF", 0
    while word in lines:
        n += 1
        word = f"EOF{n}"
    return [f"{first} <<{word}", *lines, word]
