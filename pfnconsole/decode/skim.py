"""Read a log in blocks and hand only the lines that can matter to the decoder.

Most of a real log is ordinary chatter.  The decoder and the calibrator look at a line
only when one of their literal anchors occurs in it (``page:``, ``pfn``, ``[mem `` ...)
or it holds a pointer into the vmemmap or the direct map.  `skim_lines` finds those
lines over blocks of 256 KiB, with C-speed searches (`Interest`: `str.find` and compiled
regexes; `multiscan.MultiScan`: one Hyperscan pass), and passes over everything in
between at the speed of those searches.

It yields exactly what `clean.logical_lines` yields for the lines it does not skip, and
it skips a run of lines only when skipping cannot change the result:

- the consumer says it is *quiet* (no bad-page record open, no page fault waiting for
  its page-table walk, no calibration pair half seen), so an ordinary line would only
  go past it;
- no line in the run holds an anchor, and none could be glued into one: `Interest`
  stops at every line without a record marker (`clean.UNMARKED`), `multiscan.MultiScan`
  at the places where a glued pair could complete an anchor;
- the line right after a line that was read is never skipped when it may continue it,
  and from a stop the skimmer walks up through every line that may continue the one
  above, so a logical line is read whole or not at all; the last line of a block is
  read too (the next block's first line may continue it).

Line numbers count every physical line, skipped or not.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice

from .clean import UNMARKED, Joiner
from .model import LIMIT_LINE

BLOCK = 1 << 18
"""Characters read at a time, 256 Ki (a block ends at a newline, so it may hold up to
`LIMIT_LINE` more: the start of the line the previous read ended inside)."""

_ODD_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
"""Characters `str.splitlines` breaks a line at, besides the newline."""


def _searchers(keys: Iterable[str], sources: Iterable[str] = ()
               ) -> tuple[tuple[str, ...], tuple[re.Pattern[str], ...]]:
    """Split keys and regex sources into `str.find` needles and compiled patterns.

    `re` finds a pattern that starts with one literal character by scanning for that
    character in C, so keys and sources that share a first character cost one pass
    together (``p(?:age:|fn|hys)``); a long key alone is found faster by `str.find`,
    which skips.  A source that starts with a letter or digit joins its group (it must
    have no top-level ``|``); any other is searched on its own.
    """
    groups: dict[str, list[tuple[str, str]]] = {}
    alone: list[re.Pattern[str]] = []
    for key in keys:
        groups.setdefault(key[0], []).append((key, re.escape(key[1:])))
    for src in sources:
        if src[:1].isalnum():
            groups.setdefault(src[0], []).append(("", src[1:]))
        else:
            alone.append(re.compile(src))
    finds, patterns = [], []
    for first, members in groups.items():
        if len(members) == 1 and len(members[0][0]) > 5:
            finds.append(members[0][0])
            continue
        tails = sorted({tail for _, tail in members}, key=len, reverse=True)
        body = "|".join(tails)
        patterns.append(re.compile(re.escape(first) + (f"(?:{body})" if body else "")))
    return tuple(finds), tuple(patterns) + tuple(alone)


class Interest:
    """The earliest place in a block where a line worth reading may start.

    ``keys`` are literal strings, ``sources`` regular expressions (see `_searchers`);
    `clean.UNMARKED` is always searched too, as the first pattern.  Each searcher keeps its
    last answer, so a block is scanned once per searcher however often it is asked.
    """

    __slots__ = ("_end", "_heap", "_text", "keys", "patterns")

    def __init__(self, keys: Iterable[str], sources: Iterable[str] = ()) -> None:
        finds, patterns = _searchers(dict.fromkeys(k for k in keys if k), sources)
        self.keys = finds
        self.patterns = (UNMARKED, *patterns)
        self._text = ""
        self._end = 0
        self._heap: list[tuple[int, int]] = []

    def start(self, text: str) -> None:
        self._text = text
        self._end = len(text)
        count = len(self.keys) + len(self.patterns)
        self._heap = [(-1, i) for i in range(count)]  # (next hit, searcher): a heap already

    def next(self, pos: int) -> int:
        """Index of the first hit at or after ``pos`` (the block's length if none)."""
        heap = self._heap
        if heap[0][0] >= pos:
            return heap[0][0]
        text, end, keys, nkeys = self._text, self._end, self.keys, len(self.keys)
        while heap[0][0] < pos:
            i = heap[0][1]
            if i < nkeys:
                at = text.find(keys[i], pos)
                at = end if at < 0 else at
            else:
                m = self.patterns[i - nkeys].search(text, pos)
                at = end if m is None else m.start()
            heapq.heapreplace(heap, (at, i))
        return heap[0][0]


def may_continue(text: str, start: int) -> bool:
    """May the line at ``start`` of a block continue the line above it (no record marker,
    not blank)?  The same answer whichever search found the anchors."""
    return UNMARKED.match(text, start - 1) is not None


def cut_long_lines(block: str, limit: int = LIMIT_LINE) -> str:
    """``block`` with every line cut to its first ``limit`` characters (`clean_line`
    reads no further).  Cheap when no line is that long: a line longer than ``limit``
    holds a whole aligned window of ``limit // 2`` characters without a newline."""
    step = max(limit // 2, 1)
    for at in range(0, len(block) - step + 1, step):
        if block.find("\n", at, at + step) < 0:
            return "\n".join(line[:limit] for line in block.split("\n"))
    return block


def _cut_lines(chunks: Iterable[str], limit: int = LIMIT_LINE) -> Iterator[str]:
    """Blocks of whole lines from chunks of text, every line cut to ``limit`` characters.

    The rest of a longer line is dropped chunk by chunk as it streams past, so memory
    stays within one chunk and ``limit`` characters, however long the line.
    """
    head = ""  # the start of the line the last chunk ended inside, at most limit long
    for chunk in chunks:
        cut = chunk.rfind("\n")
        if cut < 0:
            head += chunk[:limit - len(head)]
            continue
        yield cut_long_lines(head + chunk[:cut + 1], limit)
        head = chunk[cut + 1:cut + 1 + limit]
    if head:
        yield head


def _plain_breaks(chunks: Iterable[str]) -> Iterator[str]:
    """Chunks with every line break `str.splitlines` knows turned into one newline."""
    held = ""  # a "\r" that ended a chunk: a "\n" opening the next one is the same break
    for chunk in chunks:
        chunk, held = held + chunk, ""
        if _ODD_BREAKS.search(chunk):
            if chunk.endswith("\r"):
                chunk, held = chunk[:-1], "\r"
            chunk = _ODD_BREAKS.sub("\n", chunk.replace("\r\n", "\n"))
        yield chunk
    if held:
        yield "\n"


def blocks_of_text(text: str, size: int = BLOCK) -> Iterator[str]:
    """Blocks of whole lines, split the way `str.splitlines` splits ``text``, each line
    cut to `LIMIT_LINE` characters; no copy of ``text`` is made beyond one block."""
    chunks = (text[at:at + size] for at in range(0, len(text), size))
    yield from _cut_lines(_plain_breaks(chunks))


def _blocks_of_file(f, size: int) -> Iterator[str]:
    return _cut_lines(iter(lambda: f.read(size), ""))


def _capped(line: str) -> str:
    """One line given as a string, cut to `LIMIT_LINE` characters (its newline kept)."""
    return line[:LIMIT_LINE] + ("\n" if line.endswith("\n") else "")


def blocks_of(lines: Iterable[str], size: int = BLOCK) -> Iterator[str | Sequence[str]]:
    """Blocks of text from a file (read in chunks) or any iterable of lines.

    Every line is cut to `LIMIT_LINE` characters (`clean.clean_line` reads no further),
    a file's as it is read.  A batch of lines that cannot be joined without changing
    where lines break (an element holding a newline inside it) is passed on as the
    list it is.
    """
    if hasattr(lines, "read"):
        yield from _blocks_of_file(lines, size)
        return
    it = iter(lines)
    while True:
        batch = list(islice(it, 1024))
        if not batch:
            return
        if max(map(len, batch)) > LIMIT_LINE:
            batch = [_capped(e) if len(e) > LIMIT_LINE else e for e in batch]
        joined = "".join(batch)
        newlines = joined.count("\n")
        if newlines == 0:
            yield "\n".join(batch) + "\n"
        elif newlines == len(batch) and all(e[-1:] == "\n" for e in batch):
            yield joined
        else:
            bare = [e[:-1] if e[-1:] == "\n" else e for e in batch]
            if sum(e.count("\n") for e in bare):
                yield batch
            else:
                yield "\n".join(bare) + "\n"


def skim_lines(blocks: Iterable[str | Sequence[str]], interest: Interest | None,
               quiet: Callable[[], bool]) -> Iterator[tuple[int, str]]:
    """``(first line number, cleaned text)`` per logical line worth reading.

    With ``interest`` None nothing is skipped (the same output as `logical_lines`).
    ``quiet`` is asked between lines; it must say True only when the consumer's state
    would not change on a line that holds none of the interest's anchors.
    """
    joiner = Joiner()
    number = 0
    for block in blocks:
        if not isinstance(block, str):
            for raw in block:
                number += 1
                done = joiner.push(number, raw)
                if done is not None:
                    yield done
            continue
        if not block:
            continue
        # a newline before every line, so each line start follows one
        text = "\n" + block if block[-1:] == "\n" else "\n" + block + "\n"
        end = len(text)
        if interest is not None:
            interest.start(text)
        pos = 1
        while pos < end:
            if interest is not None and quiet() and not may_continue(text, pos):
                # the line at pos starts a record or is blank: the held line is whole
                done = joiner.flush()
                if done is not None:
                    yield done
                if quiet():
                    hit = interest.next(pos)
                    if hit < end:
                        resume = text.rfind("\n", 0, hit + 1) + 1  # the line holding the hit
                    else:  # read the block's last line: the next block's first may continue it
                        resume = text.rfind("\n", 0, end - 1) + 1
                    # a line that may continue the one above needs that one read too
                    while resume > pos and may_continue(text, resume):
                        resume = text.rfind("\n", 0, resume - 1) + 1
                    if resume > pos:
                        number += text.count("\n", pos, resume)
                        pos = resume
            nl = text.index("\n", pos)
            number += 1
            done = joiner.push(number, text[pos:nl])
            if done is not None:
                yield done
            pos = nl + 1
    done = joiner.flush()
    if done is not None:
        yield done
