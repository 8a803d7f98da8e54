"""Undo the damage pasted logs carry: prefixes, quotes, and lines a mailer wrapped.

`clean_line` peels what tools and mail clients put in front of a kernel message
(timestamps, syslog and journal headers, printk caller ids, Android console tags,
ftrace task/cpu columns, ``>`` quoting).  `logical_lines` then glues a line back onto
the one before it when the pair is clearly one record cut in two, keeping the first
line's number.  Both work one line at a time, so memory stays flat.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from .model import LIMIT_LINE

# Mail quoting, any depth, with or without spaces: "> ", ">>", "> > ".
_QUOTE = re.compile(r"[ \t]{0,16}(?:>[ \t]{0,8}){1,32}")  # every level must consume a ">": linear

# Prefixes that stamp the start of one kernel record ("markers").  Each is tried at the
# current position; all repetitions are bounded so a hostile line costs linear time.
_MARKERS: tuple[re.Pattern[str], ...] = (
    # [  12.345678]  and the relative form  [  +0.001002]
    re.compile(r"\[\s{0,12}\+?\d{1,10}[.,]\d{1,9}\]"),
    # dmesg -d:  [  12.345678 <    0.000123>]
    re.compile(r"\[\s{0,12}\d{1,10}[.,]\d{1,9}\s{0,4}<\s{0,12}\d{1,10}[.,]\d{1,9}>\]"),
    # dmesg -T:  [Mon Jun 14 18:57:45 2021]
    re.compile(r"\[[A-Z][a-z]{2} [A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d:\d\d \d{4}\]"),
    # printk caller ids  [T1234]  [ C3]
    re.compile(r"\[\s{0,6}[TC]\d{1,7}\]"),
    # Android console:  [4:     netbpfload:  825]
    re.compile(r"\[\d{1,4}:\s{0,16}[^\[\]]{1,64}?:\s{0,16}\d{1,7}\]"),
    # RFC 3339 syslog / journalctl -o short-iso, with or without "host kernel:"
    re.compile(
        r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?"
        r"(?:\s{1,8}[^\s:\[\]]{1,64}\s{1,8}kernel:)?(?=\s|$)"
    ),
    # BSD syslog / journalctl short:  "Jan  2 03:04:05 host kernel: ", "Feb 23 03:28:16 kernel:"
    re.compile(
        r"[A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d:\d\d(?:\.\d{1,9})?"
        r"(?: {1,4}[^\s:\[\]]{1,64})?? {1,4}[^\s:\[\]]{1,64}(?:\[\d{1,10}\])?:(?=\s|$)"
    ),
    # ftrace text:  "big-1504  [001] ....   326.960743: "  (task-pid, optional tgid, cpu, flags)
    re.compile(
        r"\S{1,40}?-\d{1,8}\s{1,12}(?:\(\s{0,8}[\d-]{1,8}\)\s{1,4})?\[\d{1,4}\]\s{1,8}"
        r"(?:[\w.\-]{2,8}\s{1,8})?\d{1,10}\.\d{1,9}:(?=\s)"
    ),
)
_MARKER = re.compile(r"[ \t]{0,64}(?:" + "|".join(f"(?:{p.pattern})" for p in _MARKERS) + ")")
"""All markers in one anchored alternation: one ``match`` call per prefix peeled."""
# Not a record marker, just noise: console log level "<4>".
_LOGLEVEL = re.compile(r"[ \t]{0,64}<\d{1,3}>")

# Lines that only say "something was cut here".
_ELISION_START = frozenset(".…[<")
_ELISION = re.compile(r"(?:\.{2,64}|…{1,16}|\[\s?\.{2,8}\s?\]|\[?\s?snip\s?\]?|<\w{1,16}>)")

# A line starting like this opens a new record even when it carries no timestamp.
_OPENER = re.compile(
    r"(?:BUG[: ]|WARNING:|Oops|Call Trace|Modules linked|CPU: |RIP:|Hardware name|"
    r"-{3}|\[<|[#$] |\[\w{1,32}@|Kernel panic|INFO:|Unable to handle|Internal error)"
)

# The end of a line that cannot be the end of its record.
_OPEN_TAIL = re.compile(
    r"(?:\[mem|__GFP_|\||\(|\b(?:ino|address|vm_start|vm_end|pgoff|max_pgoff|length|pfn|"
    r"radix_entry|zero_page|zero_folio|gfp_mask|range:?|flags))$"
)
_HEXWORDS = re.compile(r"(?:(?:raw|head): )?[0-9a-fA-F]{8,16}(?: [0-9a-fA-F]{8,16}){0,7}")


class Cleaned(NamedTuple):
    """One physical line with its prefixes removed."""

    text: str
    marked: bool
    """A timestamp, syslog header, caller id or ftrace column said "a record starts here"."""
    indented: bool
    """The message itself began with blanks (after the prefixes were removed)."""
    elision: bool
    """The line is only an elision mark such as ``...`` or ``[..]``."""


def clean_line(raw: str) -> Cleaned:
    """Strip one physical line down to the kernel's own message text."""
    text = raw[:LIMIT_LINE].rstrip()
    pos = 0
    if ">" in text[:80]:
        m = _QUOTE.match(text)
        if m and ">" in m.group(0):
            pos = m.end()
    marked = False
    for _ in range(8):
        m = _MARKER.match(text, pos)
        if m is None:
            m = _LOGLEVEL.match(text, pos)
            if m is None:
                break
        else:
            marked = True
        pos = m.end()
    body = text[pos:].lstrip()
    lead = len(text) - pos - len(body)
    # Unmarked: any blank lead is indentation.  Marked: one blank separates the prefix
    # from the message, a second one is the kernel's own indentation (stack words, zones).
    indented = lead > 1 if marked else lead > 0
    elision = body[:1] in _ELISION_START and _ELISION.fullmatch(body) is not None
    return Cleaned(body, marked, indented, elision)


def _continues(prev_text: str, prev_marked: bool, parts: int, cur: Cleaned) -> bool:
    """Is ``cur`` the second half of ``prev``, cut by a mail client or a terminal?

    Conservative: the continuation must be non-empty, not an elision, not indented,
    and not open a record of its own; and either the log marks every record (so an
    unmarked line inside it is a fragment) or the first half visibly stops mid-record.
    """
    if not cur.text or cur.elision or cur.indented or cur.marked or parts >= 5:
        return False
    if len(prev_text) + len(cur.text) + 1 > LIMIT_LINE:
        return False
    if _OPENER.match(cur.text):
        return False
    if prev_marked:
        return True
    if _OPEN_TAIL.search(prev_text):
        return True
    # A hex dump line cut after a few words, continued by a line of words only.
    return (prev_text.startswith(("raw: ", "head: ")) and _HEXWORDS.fullmatch(prev_text) is not None
            and prev_text.count(" ") < 4 and _HEXWORDS.fullmatch(cur.text) is not None)


def _glue(first: str, second: str) -> str:
    """Join two halves; no blank when a flag name or identifier was split."""
    if first.endswith(("_", "|", "(")) and second[:1].isalnum():
        return first + second
    return first + " " + second


class Joiner:
    """Glue physical lines into logical ones, holding back at most one logical line.

    `push` takes the next physical line and returns the logical line it completed, if
    any; `flush` hands over the one held back.  Blank lines and elision marks are dropped
    (they also stop a join); a logical line has at most five physical pieces.
    """

    __slots__ = ("marked", "number", "parts", "text")

    def __init__(self) -> None:
        self.number = 0
        self.text = ""
        self.marked = False
        self.parts = 0

    def push(self, number: int, raw: str) -> tuple[int, str] | None:
        cur = clean_line(raw)
        if self.parts and _continues(self.text, self.marked, self.parts, cur):
            self.text = _glue(self.text, cur.text)
            self.parts += 1
            return None
        done = (self.number, self.text) if self.parts else None
        self.parts = 0
        if cur.text and not cur.elision:
            self.number, self.text, self.marked, self.parts = number, cur.text, cur.marked, 1
        return done

    def flush(self) -> tuple[int, str] | None:
        if not self.parts:
            return None
        self.parts = 0
        return self.number, self.text


def logical_lines(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """Yield ``(first line number, cleaned text)`` per logical line, one line at a time."""
    joiner = Joiner()
    for number, raw in enumerate(lines, 1):
        done = joiner.push(number, raw)
        if done is not None:
            yield done
    done = joiner.flush()
    if done is not None:
        yield done


def _in_block(pattern: str) -> str:
    """A marker pattern rewritten to run inside a block of lines joined by newlines.

    Nothing may cross the newline, and the lookaheads that `clean_line` evaluates on a
    right-stripped line keep their meaning: "followed by a blank" there means followed
    by blanks and then something else on the same line.
    """
    keep = {r"(?=\s|$)": r"(?=[^\S\n]|\n|\Z)", r"(?=\s)": r"(?=[^\S\n]+\S)",
            r"[^\s:\[\]]": r"[^\s:\[\]]", r"[^\[\]]": r"[^\[\]\n]"}
    for i, old in enumerate(keep):
        pattern = pattern.replace(old, f"\0{i}\0")
    pattern = pattern.replace(r"\s", r"[^\S\n]")
    for i, new in enumerate(keep.values()):
        pattern = pattern.replace(f"\0{i}\0", new)
    return pattern


UNMARKED = re.compile(
    # the plain dmesg stamp first: most lines of most logs, and the cheapest to accept
    r"\n(?!\[ {0,12}\d{1,10}\.\d{1,9}\] |(?:[ \t]{0,64}<\d{1,3}>){0,7}[ \t]{0,64}(?:"
    + "|".join(f"(?:{_in_block(p.pattern)})" for p in _MARKERS)
    + r")|[^\S\n]{0,64}(?:\n|\Z))"
)
"""In a block of lines, the newline before a line that may continue the one above.

A line it does not stop at starts with a record marker (so `clean_line` calls it
marked) or is blank: either way no join reaches into it.  It may stop at lines that
are in fact marked (a quoted log, an exotic prefix); that only costs speed.
"""
