"""Every anchor of a block in one pass, with Hyperscan when it is installed.

`skim.Interest` runs one C search per group of keys, about 25 passes over each block,
and stops at every line without a record marker (`clean.UNMARKED`, a regex tried at
every line start, which alone costs about as much as a bare scan of the whole log).
`MultiScan` compiles the keys and the pointer patterns into one Hyperscan database and
finds them all in a single pass over the block's bytes (about 1 GB/s on this machine).

It does not stop at every unmarked line.  A line that may continue the one above only
matters to a quiet consumer when gluing the two could make an anchor that neither holds
alone, so it looks for the places where that can happen:

- a line that ends with the first part of a key, followed by a line that starts with the
  key's next character (after the blank `clean._glue` puts between them, if the key has
  one there), or with a blank, ``>`` or ``<`` (a quote or loglevel prefix that
  `clean.clean_line` peels off); pointers cannot be glued together, a blank or ``(``,
  ``_``, ``|`` always separates them;
- a line that ends with blanks (they are stripped before gluing): it is read, whatever
  follows it.

`skim.skim_lines` does the rest for both kinds of interest: it never skips the line
right after one it read when that line may continue it, and from a stop it walks up
through every line that may continue the one above.

Hyperscan reads bytes: a block is scanned as ASCII with every other character turned
into ``?`` (a blank if it is one), so offsets stay the same and no anchor is lost.
A block holding a line longer than `LIMIT_LINE` (it is cut before gluing; `skim.blocks_of`
cuts every line it hands out, so only a block made by hand can hold one) goes to
`skim.Interest`, and so does everything when a pattern does not compile, when the
``hyperscan`` package is not installed (it is a dependency where wheels exist: x86_64
Linux and Windows, macOS) or with ``PFNCONSOLE_SCAN=re``.
"""

from __future__ import annotations

import os
import re
from bisect import bisect_left
from collections.abc import Iterable
from functools import lru_cache

from .model import LIMIT_LINE
from .skim import Interest

try:
    import hyperscan
except (ImportError, OSError):  # not installed, or its library does not load
    hyperscan = None  # the pure-Python skimmer does the same work, slower

_BLANK = "[ \\t\\r\\x0b\\x0c\\x1c-\\x1f]"
"""What `str.rstrip` strips from an ASCII line, besides the newline."""

_WIDE_BLANKS = {i: " " for i in range(128, 0x3001) if chr(i).isspace()}
"""Non-ASCII blanks (`str.rstrip` strips them): a blank for the scan, where other
non-ASCII characters become ``?``."""

_LOOKBEHIND_LEAD = re.compile(r"^(\w+)\(\?<!\[([^\]]+)\]\1\)")
_LOOKBEHIND = re.compile(r"\(\?<!\[([^\]]+)\]\)")
_LOOKAHEAD = re.compile(r"\(\?!\[[^\]]+\]\)$")


def backend() -> str:
    """``hyperscan`` or ``re``: what `make_interest` searches with."""
    if hyperscan is None or os.environ.get("PFNCONSOLE_SCAN", "") == "re":
        return "re"
    return "hyperscan"


def hs_source(src: str) -> str | None:
    """A regex source from `scan.pointer_patterns` in a form Hyperscan compiles.

    Hyperscan has no lookaround: "no hex digit before the word" becomes one character
    that is not one, a lookahead at the end is dropped.  Both only widen the match (the
    decoder still checks every word), and a block always starts with a newline, so a
    word at its start has a character before it.  None when another lookaround is left.
    """
    out = _LOOKBEHIND_LEAD.sub(lambda m: f"[^{m[2]}]{m[1]}", src)
    out = _LOOKBEHIND.sub(lambda m: f"[^{m[1]}]", out)
    out = _LOOKAHEAD.sub("", out)
    return None if "(?<" in out or "(?=" in out or "(?!" in out else out


_PEELED = "[ \\t<>]"
"""How a quote (``> ``) or loglevel (``<4>``) prefix that `clean.clean_line` peels off a
line without a marker starts: such a line may go on with anything after it."""

_UNGLUED = "_|("
"""`clean._glue` puts no blank after these (when the next half starts with a letter or digit)."""


def wrap_sources(key: str) -> list[str]:
    """Patterns for a line ending with the first part of ``key`` and a line that may
    go on with the rest once `clean._glue` joins them.

    The glue is one blank, or nothing after ``_``, ``|``, ``(``, so a key can only be cut
    at a blank of its own or after one of those.  The patterns are the head, a newline,
    and the first character of the rest (any non-blank when the rest is only the blank
    the glue adds) or of a prefix `clean_line` would peel.  A head may be empty (a key
    that starts with a blank).  A key cut more than once is found at its first cut.
    """
    out = []
    for cut, ch in enumerate(key):
        if ch == " ":
            head, rest = key[:cut], key[cut + 1:]
        elif cut and key[cut - 1] in _UNGLUED and ch.isalnum():
            head, rest = key[:cut], key[cut:]
        else:
            continue
        if head[-1:].isspace() or rest[:1].isspace():
            continue  # the glue never makes two blanks
        if rest:  # two patterns, not one alternation: Hyperscan compiles these ten times faster
            out += [f"{re.escape(head)}\\n{re.escape(rest[0])}", f"{re.escape(head)}\\n{_PEELED}"]
        else:  # any non-blank, or a prefix: anything but the end of the line
            out.append(f"{re.escape(head)}\\n[^\\n]")
    return out


_LONG = 1024
"""A line this long makes the scanner measure every line of its block: a block with a
line longer than `LIMIT_LINE` goes to `skim.Interest` (such a line is cut before
gluing, so its end is not what the wrap patterns see).  Hyperscan only says whether a
line this long is there: it compiles a repeat of 1 Ki in 5 ms, of 8 Ki in 50."""


class _Compiled:
    __slots__ = ("back", "db", "long_id")

    def __init__(self, patterns: dict[str, int]) -> None:
        self.long_id = len(patterns)
        exprs = [p.encode() for p in patterns] + [f"[^\\n]{{{_LONG}}}".encode()]
        flags = [0] * len(patterns) + [hyperscan.HS_FLAG_SINGLEMATCH]
        self.db = hyperscan.Database()
        self.db.compile(expressions=exprs, ids=list(range(len(exprs))), elements=len(exprs),
                        flags=flags)
        self.back = list(patterns.values()) + [0]  # per id: report this far before the end


@lru_cache(maxsize=32)
def _compile(keys: tuple[str, ...], sources: tuple[str, ...]) -> _Compiled | None:
    """One database for ``keys`` (literals) and ``sources`` (`hs_source` forms)."""
    patterns: dict[str, int] = {}  # source -> back; a repeated pattern would report twice
    for key in keys:
        patterns[re.escape(key)] = 0
        patterns.update(dict.fromkeys(wrap_sources(key), 0))
    for src in sources:
        converted = hs_source(src)
        if converted is None:
            return None
        patterns[converted] = 0
    # a line with trailing blanks is read: the hit is its last blank, not the newline
    patterns[f"{_BLANK}\\n"] = 1
    try:
        return _Compiled(patterns)
    except hyperscan.error:
        return None


class MultiScan:
    """`skim.Interest`'s contract (``start``, ``next``), one pass a block."""

    __slots__ = ("_compiled", "_end", "_fallback", "_hits", "_scratch", "_slow")

    def __init__(self, compiled: _Compiled, fallback: Interest) -> None:
        self._compiled = compiled
        self._scratch = hyperscan.Scratch(compiled.db)  # one per scanner: not shared
        self._fallback = fallback
        self._slow = False
        self._hits: list[int] = []
        self._end = 0

    def start(self, text: str) -> None:
        self._slow = False
        if text.isascii():
            data = text.encode("ascii")
        else:  # one byte a character, so offsets stay put; anchors are ASCII
            data = text.translate(_WIDE_BLANKS).encode("ascii", "replace")
        hits: list[int] = []
        add, back, long_id = hits.append, self._compiled.back, self._compiled.long_id
        long = []

        def on_match(pid: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
            if pid == long_id:
                long.append(to)
            else:
                add(to - 1 - back[pid])

        try:
            self._compiled.db.scan(data, match_event_handler=on_match, scratch=self._scratch)
            failed = False
        except hyperscan.error:  # out of resources, say: the slow search still works
            failed = True
        if failed or (long and max(map(len, text.split("\n"))) > LIMIT_LINE):
            self._slow = True
            self._fallback.start(text)
            return
        hits.sort()
        self._hits = hits
        self._end = len(text)

    def next(self, pos: int) -> int:
        """Index of the first hit at or after ``pos`` (the block's length if none)."""
        if self._slow:
            return self._fallback.next(pos)
        hits = self._hits
        i = bisect_left(hits, pos)
        return hits[i] if i < len(hits) else self._end



def make_interest(keys: Iterable[str], sources: Iterable[str] = ()) -> Interest | MultiScan:
    """A `MultiScan` when Hyperscan is there and compiles every pattern, else an `Interest`."""
    keys = tuple(dict.fromkeys(k for k in keys if k))
    sources = tuple(sources)
    fallback = Interest(keys, sources)
    if backend() != "hyperscan":
        return fallback
    compiled = _compile(keys, sources)
    if compiled is None:
        return fallback
    try:
        return MultiScan(compiled, fallback)
    except hyperscan.error:  # no scratch space: the slow search still works
        return fallback
