"""The speed layer: given a reader's anchors, the lines of a big log worth reading.

``skim_lines(blocks, Anchors(keys, patterns), quiet)`` yields ``(first line number,
cleaned text)`` for every logical line that can matter, as `clean.logical_lines` would.
A log shorter than `SKIM_FROM` (a paste) is read line by line; a longer one is searched
a block at a time for the keys (the formats' literal anchors) and patterns (pointer
regexes), in one Hyperscan pass (`MultiScan`) or one `re` search per first character
(`Interest`), and the lines between hits are passed over while the reader is *quiet*.

A skipped line may be glued onto the line above it (`clean.Joiner`: one blank, or none
after ``_ | (``), so the search also stops at a line ending with a key's head before a
cut, followed by a line starting with the rest or a peeled prefix (blank, ``<``, ``>``),
and at a line ending with a blank.  From a stop the skimmer walks up through the lines
that may continue the one above, and reads the line after one it read when that may
continue it: a logical line is read whole or not at all.
"""

from __future__ import annotations

import heapq
import os
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any, NamedTuple

from .clean import UNMARKED, Joiner
from .source import BLOCK, Block, blocks_of, blocks_of_text

try:
    import hyperscan
except (ImportError, OSError):  # not installed, or its library does not load
    hyperscan = None  # type: ignore[assignment]  # the re search does the same work, slower

__all__ = ["SKIM_FROM", "Anchors", "Interest", "MultiScan", "backend", "blocks_of", "blocks_of_text",
           "covering", "hs_source", "hyperscan", "make_interest", "skim_lines"]

SKIM_FROM = BLOCK // 2
"""Characters of log from which on it is skimmed (text and files come in blocks of
`BLOCK`).  A paste is read line by line: faster than setting up the search."""

_PEELED = " \t<>"
"""How a quote (``> ``) or loglevel (``<4>``) prefix that `clean_line` peels off starts."""
_BLANKS = " \t\r\x0b\x0c\x1c\x1d\x1e\x1f"
"""What `str.rstrip` strips from an ASCII line; non-ASCII blanks are searched as a blank."""
_WIDE_BLANKS = {i: " " for i in range(128, 0x3001) if chr(i).isspace()}


class Anchors(NamedTuple):
    """What a reader acts on: a line holding none of these cannot change it."""

    keys: tuple[str, ...]
    """Literal strings (the formats' anchors)."""
    patterns: tuple[str, ...] = ()
    """Regular expressions with no top-level ``|`` (`scan.pointer_patterns`)."""


def covering(anchors: Iterable[str]) -> tuple[str, ...]:
    """The anchors (leading blanks dropped) that hold no other: any anchor holds one."""
    keys = list(dict.fromkeys(a.lstrip() for a in anchors if a.strip()))
    return tuple(k for k in keys if not any(o != k and o in k for o in keys))


def wrap_literals(key: str) -> list[str]:
    """Where gluing two lines could make ``key``: its head at a line end, a newline, and
    the first character of the rest or of a peeled prefix (anything, when the rest is
    only the blank the glue adds).  A key cut twice is found at its first cut."""
    out = []
    for cut, ch in enumerate(key):
        if ch == " ":
            head, rest = key[:cut], key[cut + 1:]
        elif cut and key[cut - 1] in "_|(" and ch.isalnum():  # glued without a blank
            head, rest = key[:cut], key[cut:]
        else:
            continue
        if head and not head[-1].isspace() and not rest[:1].isspace():
            out += [f"{head}\n{c}" for c in ((rest[0], *_PEELED) if rest else ("",))]
    return out


def _literals(keys: Iterable[str]) -> dict[str, int]:
    """Every literal searched for, with how far before its end a hit counts: a wrap or
    a blank on the character before the newline (the first of the two lines)."""
    keys = covering(keys)
    lits = [*keys, *(w for k in keys for w in wrap_literals(k)), *(b + "\n" for b in _BLANKS)]
    return {lit: len(lit) - lit.index("\n") if "\n" in lit else 0 for lit in lits}


def _view(text: str) -> str:
    return text if text.isascii() else text.translate(_WIDE_BLANKS)


def _trie(words: Iterable[str]) -> str:
    """One regex for ``words`` with common prefixes factored out, so that `re` drops a
    position after a character or two; a word that starts another stands for both."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        alts = [] if "" in node else [re.escape(ch) + emit(sub) for ch, sub in node.items()]
        return "" if not alts else alts[0] if len(alts) == 1 else f"(?:{'|'.join(alts)})"

    return emit(trie)


class Interest:
    """The first place at or after a position where a line worth reading may start, by
    `re`: one regex per first character of the literals, one per pattern, each keeping
    its last answer, so a block is scanned once by each."""

    __slots__ = ("_heap", "_text", "patterns")

    def __init__(self, keys: Iterable[str], sources: Iterable[str] = ()) -> None:
        groups: dict[str, list[str]] = {}
        for lit in _literals(keys):
            groups.setdefault(lit[0], []).append(lit)
        self.patterns = tuple(re.compile(p) for p in (*map(_trie, groups.values()), *sources))
        self._text = ""
        self._heap: list[tuple[int, int]] = []

    def start(self, text: str) -> None:
        self._text = _view(text)
        self._heap = [(-1, i) for i in range(len(self.patterns))]

    def next(self, pos: int) -> int:
        """Index of the first hit at or after ``pos`` (the block's length if none)."""
        heap, text = self._heap, self._text
        while heap[0][0] < pos:
            m = self.patterns[heap[0][1]].search(text, pos)
            heapq.heapreplace(heap, (len(text) if m is None else m.start(), heap[0][1]))
        return heap[0][0]


def hs_source(src: str) -> str | None:
    """A pattern of `scan.pointer_patterns` as Hyperscan takes it (no lookaround: "no hex
    digit before" becomes a character that is not one, a final lookahead goes; both only
    widen the match), or None."""
    out = re.sub(r"^(\w+)\(\?<!\[([^\]]+)\]\1\)", r"[^\2]\1", src)
    out = re.sub(r"\(\?<!\[([^\]]+)\]\)", r"[^\1]", out)
    out = re.sub(r"\(\?!\[[^\]]+\]\)$", "", out)
    return None if "(?<" in out or "(?=" in out or "(?!" in out else out


@lru_cache(maxsize=32)
def _database(anchors: Anchors) -> tuple[Any, list[int]] | None:
    """One Hyperscan database for every literal and pattern (compiled once a process,
    about 25 ms), and where each reports its hits; None if it does not compile."""
    patterns = {re.escape(lit): back for lit, back in _literals(anchors.keys).items()}
    patterns.update(dict.fromkeys((hs_source(s) or "" for s in anchors.patterns), 0))
    try:
        db = hyperscan.Database()
        db.compile(expressions=[p.encode() for p in patterns], ids=list(range(len(patterns))),
                   elements=len(patterns), flags=[0] * len(patterns))
        return db, list(patterns.values())
    except hyperscan.error:
        return None


class MultiScan:
    """`Interest`'s contract (``start``, ``next``) with one Hyperscan pass a block."""

    __slots__ = ("_anchors", "_back", "_db", "_end", "_hits", "_scratch", "_slow")

    def __init__(self, db: Any, back: list[int], anchors: Anchors) -> None:
        self._db, self._back, self._anchors = db, back, anchors
        self._scratch = hyperscan.Scratch(db)  # one per scanner: not shared
        self._slow: Interest | None = None
        self._hits: list[int] = []
        self._end = 0

    def start(self, text: str) -> None:
        hits: list[int] = []
        add, back = hits.append, self._back
        self._slow = None
        try:
            self._db.scan(_view(text).encode("ascii", "replace"), scratch=self._scratch,
                          match_event_handler=lambda pid, _a, to, _b, _c: add(to - 1 - back[pid]))
        except hyperscan.error:  # out of memory, say: the re search still works
            self._slow = Interest(*self._anchors)
            self._slow.start(text)
        self._hits, self._end = sorted(hits), len(text)

    def next(self, pos: int) -> int:
        """Index of the first hit at or after ``pos`` (the block's length if none)."""
        if self._slow is not None:
            return self._slow.next(pos)
        i = bisect_left(self._hits, pos)
        return self._hits[i] if i < len(self._hits) else self._end


def backend() -> str:
    """``hyperscan`` or ``re``: what `make_interest` searches with."""
    if hyperscan is None or os.environ.get("PFNCONSOLE_SCAN", "") == "re":
        return "re"
    return "hyperscan"


def make_interest(keys: Iterable[str], sources: Iterable[str] = ()) -> Interest | MultiScan:
    """The search for ``keys`` and ``sources``: Hyperscan if it takes them all, else `re`."""
    anchors = Anchors(tuple(dict.fromkeys(keys)), tuple(sources))
    if backend() == "hyperscan" and all(hs_source(s) is not None for s in anchors.patterns):
        built = _database(anchors)
        try:
            return MultiScan(*built, anchors) if built is not None else Interest(*anchors)
        except hyperscan.error:  # no scratch space
            pass
    return Interest(*anchors)


def may_continue(text: str, start: int) -> bool:
    """May the line at ``start`` of a block continue the one above (unmarked, not blank)?"""
    return UNMARKED.match(text, start - 1) is not None


def skim_lines(blocks: Iterable[Block], anchors: Anchors | None,
               quiet: Callable[[], bool]) -> Iterator[tuple[int, str]]:
    """``(first line number, cleaned text)`` per logical line worth reading.

    With ``anchors`` None, or in a log shorter than `SKIM_FROM`, every line is read.
    ``quiet`` is asked between lines: True only when the reader's state would not change
    on a line holding none of the anchors.  Line numbers count every physical line.
    """
    joiner = Joiner()
    number = seen = 0
    search: Interest | MultiScan | None = None
    for block in blocks:
        if not isinstance(block, str):
            for raw in block:
                number += 1
                if (done := joiner.push(number, raw)) is not None:
                    yield done
            continue
        if not block:
            continue
        text = "\n" + block if block[-1:] == "\n" else "\n" + block + "\n"  # "\n" before each line
        end = len(text)
        seen += len(block)
        if search is None and anchors is not None and seen >= SKIM_FROM:
            search = make_interest(*anchors)
        if search is not None:
            search.start(text)
        pos = 1
        while pos < end:
            if search is not None and quiet() and not may_continue(text, pos):
                # the line at pos starts a record or is blank: the held line is whole
                if (done := joiner.flush()) is not None:
                    yield done
                if quiet():
                    hit = search.next(pos)
                    # the line holding the hit, else the block's last (the next block may continue it)
                    resume = text.rfind("\n", 0, hit + 1 if hit < end else end - 1) + 1
                    while resume > pos and may_continue(text, resume):  # and the lines it continues
                        resume = text.rfind("\n", 0, resume - 1) + 1
                    if resume > pos:
                        number += text.count("\n", pos, resume)
                        pos = resume
            nl = text.index("\n", pos)
            number += 1
            if (done := joiner.push(number, text[pos:nl])) is not None:
                yield done
            pos = nl + 1
    if (done := joiner.flush()) is not None:
        yield done
