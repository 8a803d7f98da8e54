"""``lsmem``: util-linux's table of memory block ranges from /sys/devices/system/memory.

Format: util-linux sys-utils/lsmem.c at v2.40 (commit c1c1ab8b8e67), v2.42.2 (f44509230b9f)
and master (39465c780eed); lib/strutils.c size_to_human_string(). Columns (coldescs[]): RANGE
(left-aligned), SIZE, STATE, REMOVABLE, BLOCK, NODE, ZONES, CONFIGURED, MEMMAP-ON-MEMORY
(right-aligned; libsmartcols pads each to its widest cell or header, SIZE to at least 5);
default RANGE,SIZE,STATE,REMOVABLE,BLOCK. add_scols_line(): RANGE ``"0x%016"PRIx64"-0x%016"
PRIx64`` (end inclusive), SIZE size_to_human_string(SIZE_SUFFIX_1LETTER) ("128M", "2.9G": one
decimal, rounded) or bytes with -b, STATE "online"/"offline"/"on->off"/"?", REMOVABLE
"yes"/"no" (empty unless online), BLOCK "N" or "N-M", NODE "%d", ZONES the valid_zones words
joined by "/" ("None" where Linux drivers/base/memory.c valid_zones_show() says "none": an
online block spanning two zones, e.g. DMA and DMA32). is_mergeable() joins adjacent blocks
equal in the shown (or -S) split columns; -a prints one row per block. print_summary():
``"%-23s %5s\n"`` ("%-32s" since v2.42, 68c9f5578) of "Memory block size:", "Total online
memory:", "Total offline memory:", ``%15`` bytes with -b, since v2.42 "Memmap on memory
parameter:". -J: ``{"memory":[{"range":…}]}`` (REMOVABLE boolean, NODE and with -b SIZE
numbers); -P: ``RANGE="…" SIZE="…"``; -r: cells one space apart; -J/-P/-r print no summary.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

COLUMNS = ("RANGE", "SIZE", "STATE", "REMOVABLE", "BLOCK", "NODE", "ZONES", "CONFIGURED", "MEMMAP-ON-MEMORY")
STATES = ("online", "offline", "on->off", "?")
MAX_TEXT = 8 << 20

_RANGE = re.compile(r"^0x([0-9a-fA-F]{1,16})-0x([0-9a-fA-F]{1,16})\Z", re.ASCII)
_HUMAN = re.compile(r"^(\d{1,20})(?:[.,](\d))?([BKMGTPE])\Z", re.ASCII)
_BLOCK = re.compile(r"^(\d{1,12})(?:-(\d{1,12}))?\Z", re.ASCII)
_SUMMARY = re.compile(r"^(Memory block size|Total online memory|Total offline memory|Memmap on memory parameter):"
                      r"\s+(\S{1,24})\s*$")
_BYTES = re.compile(r"^\d{1,20}\Z", re.ASCII)
_PAIR = re.compile(r'([A-Z][A-Z_-]{0,20})="([^"]*)"')


def size_to_human(n: int) -> str:
    """lib/strutils.c size_to_human_string(SIZE_SUFFIX_1LETTER, n) (uint64_t n)."""
    exp = next((s - 10 for s in range(10, 70, 10) if n < 1 << s), 60)
    dec, frac = n >> exp, n & ((1 << exp) - 1)
    if frac:
        frac = ((frac >> 10) * 1000 >> (exp - 10)) if frac >= (2**64 - 1) // 1000 else (frac * 1000 >> exp)
        frac = (frac + 50) // 100 * 10
        if frac == 100:
            dec, frac = dec + 1, 0
    return f"{dec}.{frac // 10}{'BKMGTPE'[exp // 10]}" if frac else f"{dec}{'BKMGTPE'[exp // 10]}"


def _human(s: str) -> int | None:
    """The nominal bytes of a size_to_human_string() text ("1.5G"), or of a -b byte count."""
    if _BYTES.match(s):
        return int(s)
    m = _HUMAN.match(s)
    if m is None:
        return None
    return (int(m[1]) * 10 + int(m[2] or 0)) * (1 << 10 * "BKMGTPE".index(m[3])) // 10


@dataclass(frozen=True)
class MemRange:
    """One row: a run of ``struct memory_block``s (memoryN in sysfs); addresses in bytes."""

    start: int | None
    end: int | None
    """Inclusive; None (with start) when the row has neither RANGE nor BLOCK and block size."""
    size: int | None
    """Bytes, from RANGE (or BLOCK × block size, or -b SIZE); a rounded SIZE only otherwise."""
    state: str | None
    removable: bool | None
    """None when not printed (offline blocks, column not shown)."""
    blocks: tuple[int, int] | None
    """(first, last) memory block numbers, inclusive."""
    node: int | None
    zones: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Lsmem:
    ranges: tuple[MemRange, ...]
    block_size: int | None
    """memory_block_size_bytes() (the summary, or RANGE/BLOCK of the rows)."""
    online: int | None
    offline: int | None
    columns: tuple[str, ...]
    skipped: tuple[int, ...]
    """Line numbers not read as a header, row or summary line (blank lines not counted)."""
    problems: tuple[str, ...] = ()

    def range_of_block(self, block: int) -> MemRange | None:
        """The row holding memory block ``block``."""
        return next((r for r in self.ranges if r.blocks and r.blocks[0] <= block <= r.blocks[1]), None)


def _cells(line: str, cols: list[str], spans: list[tuple[int, int]], raw: bool) -> list[str] | None:
    """A table line's cells by header position (empty cells leave gaps)."""
    toks = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", line)]
    if len(toks) == len(cols):
        return [t for _, _, t in toks]
    if raw and line.count(" ") == len(cols) - 1:
        return line.split(" ")
    out = [""] * len(cols)
    for s, e, t in toks:
        i = max(range(len(cols)), key=lambda i: (min(e, spans[i][1]) - max(s, spans[i][0]),
                                                 -max(spans[i][0] - e, s - spans[i][1], 0)))
        if out[i] or len(toks) > len(cols):
            return None
        out[i] = t
    return out


@dataclass
class _Row:
    line: int
    start: int | None = None
    end: int | None = None
    size: str | None = None
    state: str | None = None
    removable: bool | None = None
    blocks: tuple[int, int] | None = None
    node: int | None = None
    zones: tuple[str, ...] = ()


def _row(cells: dict[str, str], no: int) -> _Row | None:
    """The parsed cells of one row, or None when a cell is not of its column."""
    got = _Row(no)
    for col, val in cells.items():
        if col == "RANGE":
            m = _RANGE.match(val)
            if m is None or int(m[2], 16) < int(m[1], 16):
                return None
            got.start, got.end = int(m[1], 16), int(m[2], 16)
        elif col == "SIZE":
            if _human(val) is None:
                return None
            got.size = val
        elif col == "STATE":
            if val not in STATES:
                return None
            got.state = val
        elif col == "REMOVABLE":
            if val not in ("yes", "no", ""):
                return None
            got.removable = {"yes": True, "no": False}.get(val)
        elif col == "BLOCK":
            b = _BLOCK.match(val)
            if b is None or int(b[2] or b[1]) < int(b[1]):
                return None
            got.blocks = (int(b[1]), int(b[2] or b[1]))
        elif col == "NODE" and val:
            if not re.fullmatch(r"-?\d{1,5}", val, re.ASCII):
                return None
            got.node = int(val)
        elif col == "ZONES" and val:
            got.zones = tuple(val.split("/"))
    return got


def _finish(rows: list[_Row], summary: dict[str, str], problems: list[str]) -> tuple[list[MemRange], int | None]:
    text = summary.get("Memory block size", "-")
    bs = _human(text)
    if bs is not None and not _BYTES.match(text) and bs & (bs - 1):
        problems.append(f"block size {text!r} is rounded, not a power of two")
    if bs is None:  # -J/-P/-r print no summary: the rows' RANGE over their block count
        sizes = {(r.end - r.start + 1) // (r.blocks[1] - r.blocks[0] + 1) for r in rows
                 if r.start is not None and r.end is not None and r.blocks}
        if len(sizes) == 1:
            bs = sizes.pop()
    out: list[MemRange] = []
    for r in rows:
        start, end, blocks = r.start, r.end, r.blocks
        if start is None and blocks and bs:
            start, end = blocks[0] * bs, (blocks[1] + 1) * bs - 1
        elif blocks is None and start is not None and end is not None and bs:
            blocks = (start // bs, end // bs)
        size = end - start + 1 if start is not None and end is not None else None
        if r.size is not None:
            if size is None:
                size = _human(r.size)
                if not _BYTES.match(r.size):
                    problems.append(f"line {r.line}: size {r.size!r} is rounded")
            elif r.size != (str(size) if _BYTES.match(r.size) else size_to_human(size)):
                problems.append(f"line {r.line}: SIZE {r.size!r} disagrees with RANGE ({size} bytes)")
        out.append(MemRange(start, end, size, r.state, r.removable, blocks, r.node, r.zones, r.line))
    return out, bs


def _total(summary: dict[str, str], key: str, ranges: list[MemRange], state: str, problems: list[str]) -> int | None:
    text = summary.get(key)
    val = _human(text) if text else None
    if text is None or val is None or _BYTES.match(text):
        return val
    derived = sum(r.size or 0 for r in ranges if r.state == state)
    if ranges and all(r.state and r.size is not None for r in ranges) and size_to_human(derived) == text:
        return derived
    problems.append(f"{key} {text!r} is rounded")
    return val


def read_lsmem(text: str) -> Lsmem | None:
    """The ranges and summary of an lsmem text (any -o columns, -a, -b, -n with the default
    columns, -r, -P, -J), or None when it has no lsmem row and no "Memory block size:" line."""
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        return None
    rows: list[_Row] = []
    summary: dict[str, str] = {}
    skipped: list[int] = []
    cols: list[str] = []
    first: list[str] = []
    spans: list[tuple[int, int]] = []
    raw = False
    lines = text.splitlines()[:200_000]
    if text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError):
            return None
        mem = doc.get("memory") if isinstance(doc, dict) else None
        if not isinstance(mem, list):
            return None
        # each object as a -P line: REMOVABLE true/false -> yes/no, null -> empty
        cell = {True: "yes", False: "no", None: ""}
        lines = [" ".join(f'{str(k).upper()}="{cell.get(v, v) if isinstance(v, bool | None) else v}"'
                          for k, v in item.items()) for item in mem[:100_000] if isinstance(item, dict)]
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if len(line) > 1000:  # every column at its widest is < 200 characters
            skipped.append(no)
            continue
        s = _SUMMARY.match(line.strip())
        if s:
            summary[s[1]] = s[2]
            continue
        words = line.split()
        if all(w in COLUMNS for w in words):
            cols = words
            first = first or cols
            spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", line)]
            raw = line.strip() == " ".join(words)
            continue
        pairs = _PAIR.findall(line)
        if pairs and _PAIR.sub("", line).strip() == "":
            cells = {k.replace("_", "-"): v for k, v in pairs if k.replace("_", "-") in COLUMNS}
            first = first or list(cells)
        elif cols:
            got = _cells(line, cols, spans, raw)
            cells = dict(zip(cols, got, strict=True)) if got is not None else {}
        else:  # -n: the default columns
            cells = dict(zip(COLUMNS[:5], words, strict=False)) if len(words) == 5 else {}
            first = first or (list(COLUMNS[:5]) if cells else [])
        row = _row(cells, no) if cells else None
        if row is None:
            skipped.append(no)
        else:
            rows.append(row)
    if not rows and "Memory block size" not in summary:
        return None
    if len(rows) + len(summary) < len(skipped):
        return None
    problems: list[str] = []
    ranges, bs = _finish(rows, summary, problems)
    online = _total(summary, "Total online memory", ranges, "online", problems)
    offline = _total(summary, "Total offline memory", ranges, "offline", problems)
    return Lsmem(tuple(ranges), bs, online, offline, tuple(first), tuple(skipped), tuple(problems))


__all__ = ["COLUMNS", "STATES", "Lsmem", "MemRange", "read_lsmem", "size_to_human"]
