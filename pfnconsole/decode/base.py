"""What every format shares: the per-line context, the base class, pointer helpers.

A format is a small class with a few literal ``literals`` (one of them must occur in a
line before its regular expressions are tried) and ``match(text, ctx)``, which returns
the findings for one cleaned logical line or None.  `Context` carries what spans lines:
the bad-page / dump_page record being read (so a ``flags:`` line knows its pfn), the last
page-fault address (for the page-table walk that follows it), and the `Layout`.

Regular-expression rules for every module here: each repetition is bounded ({m,n}),
no repeated group contains another repetition, and a number is never matched from the
middle of a digit run, so matching costs time linear in the (length-capped) line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .layout import Layout
from .model import Finding, human_size, hx

PTR = r"[0-9a-fA-F]{8,16}|\(_{0,4}ptrval_{0,4}\)|\(null\)"
"""A %p / %px field: 8 or 16 hex digits, the (____ptrval____) placeholder, or (null)."""
MEM_RANGE = r"\[mem (?P<a>0x[0-9a-fA-F]{1,16})-(?P<b>0x[0-9a-fA-F]{1,16})\]"
"""The %pa-based ``[mem start-end]`` of e820, zone and node lines (inclusive end)."""


def h(s: str) -> int:
    """Parse hex, with or without 0x."""
    return int(s, 16)


# --------------------------------------------------------------------------------------
# Shared state
# --------------------------------------------------------------------------------------


@dataclass
class Record:
    """One bad_page / dump_page report in progress."""

    line: int
    pfn: int | None
    how: str = ""
    """How ``pfn`` was obtained, "" when the kernel printed it."""
    page: int | None = None
    has_page_line: bool = False
    after_reason: bool = False
    idle: int = 0


@dataclass
class Context:
    """Decoder state shared by the formats; one per `decode_lines` call."""

    layout: Layout
    line: int = 0
    record: Record | None = None
    touched: bool = False
    fault: tuple[int, int] | None = None
    """(line, address) of the last "unable to handle page fault" report."""
    fault_age: int = 0
    seen: set[int] = field(default_factory=set)
    """Pointers/addresses already reported on this line (the generic scanners skip them)."""

    def finding(self, kind: str, **kw) -> Finding:
        """A finding on the current line; its pointer/address is marked as reported."""
        for key in ("page", "virt"):
            if kw.get(key) is not None:
                self.seen.add(kw[key])
        return Finding(self.line, kind, **kw)

    def phys(self, pfn: int | None) -> int | None:
        return None if pfn is None else pfn << self.layout.page_shift

    def record_pfn(self) -> tuple[int | None, str]:
        rec = self.record
        if rec is None or rec.pfn is None:
            return None, ""
        return rec.pfn, rec.how

    def touch(self) -> None:
        self.touched = True


class Format:
    """One family of log lines."""

    name = ""
    literals: tuple[str, ...] = ()
    skim: tuple[str, ...] | None = None
    """Strings one of which every line this format reports on contains, when they are
    rarer in ordinary logs than ``literals`` (see `skim`); None: the literals."""

    def match(self, text: str, ctx: Context) -> list[Finding] | None:  # pragma: no cover
        raise NotImplementedError


# --------------------------------------------------------------------------------------
# Pointer helpers
# --------------------------------------------------------------------------------------


def classify_pointer(token: str | None, layout: Layout) -> tuple[int | None, str]:
    """A printed pointer -> (value, status); status is raw, hashed, hidden, null or absent.

    %p hashing on 64-bit keeps only 32 bits of a siphash, so a 16-digit value whose top
    eight digits are zero is an id, not an address.
    """
    if token is None:
        return None, "absent"
    if token.startswith("("):
        return None, "null" if "null" in token else "hidden"
    value = int(token, 16)
    if value == 0:
        return None, "null"
    if len(token) == 16 and value >> 32 == 0 and layout.bits == 64:
        return None, "hashed"
    return value, "raw"


def pointer_pfn(ptr: int, layout: Layout) -> tuple[int, str] | None:
    """pfn of the struct page at exactly ``ptr`` (not inside it), with how."""
    got = layout.page_to_pfn(layout.untag(ptr))
    if got is None or got[1] != 0:
        return None
    return got[0], f"pfn from the struct page pointer: {layout.vmemmap_how()}"


STATUS_NOTE = {
    "hashed": "pointer hashed by %p: no pfn from it",
    "hidden": "pointer hidden: no pfn from it",
    "null": "",
    "absent": "",
}


def join_notes(*parts: str) -> str:
    """Non-empty note fragments joined with "; "."""
    return "; ".join(p for p in parts if p)


def range_note(a: int, b: int, shift: int) -> str:
    """"pfn 0x100-0x8ad00, 2 GiB" for an inclusive byte range."""
    return f"pfn {hx(a >> shift)}-{hx(b >> shift)}, {human_size(b - a + 1)}"


def literal_alternation(literals) -> re.Pattern[str]:
    """One regex matching any of ``literals``, grouped by first character.

    Python's ``re`` tries alternatives one by one at every position; grouping them under
    their first character lets most positions fail after a single comparison.
    """
    groups: dict[str, list[str]] = {}
    for lit in sorted(set(literals), key=lambda s: (-len(s), s)):
        groups.setdefault(lit[0], []).append(lit[1:])
    parts = []
    for first, tails in groups.items():
        alts = "|".join(re.escape(t) for t in tails)
        parts.append(re.escape(first) + (f"(?:{alts})" if any(tails) else ""))
    return re.compile("|".join(parts))
