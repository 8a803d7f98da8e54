"""A log as blocks of whole lines, every line cut to `LIMIT_LINE`: the decoder's input.

Text, a file or any iterable of lines all become blocks of about `BLOCK` characters that
end at a line break, so memory stays within one block however long the log or any line
in it; the rest of a longer line is dropped as it streams past.  Both passes and both
ways of reading (every line, or skimming: see `skim`) read these blocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TextIO

from .model import LIMIT_LINE

BLOCK = 1 << 18
"""Characters read at a time, 256 Ki (a block ends at a newline, so it may hold up to
`LIMIT_LINE` more: the start of the line the previous read ended inside)."""

Block = str | Sequence[str]
"""Lines joined by newlines (each one ending with one), or, for lines that hold a newline
of their own, the list of them as given."""

_ODD_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
"""Characters `str.splitlines` breaks a line at, besides the newline."""


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
    """Blocks of whole lines from chunks of text, every line cut to ``limit`` characters."""
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


def _capped(line: str) -> str:
    """One line given as a string, cut to `LIMIT_LINE` characters (its newline kept)."""
    return line[:LIMIT_LINE] + ("\n" if line.endswith("\n") else "")


def _batch(batch: list[str]) -> Block:
    """Lines given one by one, as a block that breaks where they do."""
    joined = "".join(batch)
    newlines = joined.count("\n")
    if newlines == 0:
        return "\n".join(batch) + "\n"
    if newlines == len(batch) and all(e[-1:] == "\n" for e in batch):
        return joined
    bare = [e[:-1] if e[-1:] == "\n" else e for e in batch]
    if any("\n" in e for e in bare):
        return batch
    return "\n".join(bare) + "\n"


def blocks_of(lines: TextIO | Iterable[str], size: int = BLOCK) -> Iterator[Block]:
    """Blocks of text from a file (read in chunks) or any iterable of lines.

    Every line is cut to `LIMIT_LINE` characters (`clean.clean_line` reads no further),
    a file's as it is read.  A batch of lines that cannot be joined without changing
    where lines break (an element holding a newline inside it) is passed on as the
    list it is.
    """
    read = getattr(lines, "read", None)
    if read is not None:  # a file: read in chunks
        yield from _cut_lines(iter(lambda: str(read(size)), ""))
        return
    it = iter(lines)
    while batch := list(islice(it, 1024)):
        if max(map(len, batch)) > LIMIT_LINE:
            batch = [_capped(e) if len(e) > LIMIT_LINE else e for e in batch]
        yield _batch(batch)
