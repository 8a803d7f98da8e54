"""What every format shares: the base class, the per-line context, pointer helpers.

A format is a small class in the module of its subject (toolong's ``LogFormat``)::

    class Xen(Format):
        name = "xen"
        anchors = ("pfn range", "1-1 mapping", "last_pfn=")

        def match(self, text: str, ctx: Context) -> list[Finding] | None:
            m = _XEN_FREE.match(text)
            ...
            return [ctx.finding(Kind.XEN, pfn=a, ...)] if m else None

``anchors`` are literal strings one of which occurs in every line the format reports on;
``match`` gets one cleaned logical line that holds one of them and returns its findings,
or None.  Add the instance to `formats.FORMATS` and a few lines to
tests/fixtures/decode/.  Nothing else: which lines of a big log are worth reading is
worked out from the anchors (see `skim`).  A format that reads a struct page pointer
printed beside its pfn says so with `Context.saw`: calibration solves the layout from
such pairs.

`Context` carries what spans lines: the bad-page / dump_page record being read (so a
``flags:`` line knows its pfn), the last page-fault address (for the page-table walk that
follows it), and the `Layout`.

Regular-expression rules for every module here: each repetition is bounded ({m,n}),
no repeated group contains another repetition, and a number is never matched from the
middle of a digit run, so matching costs time linear in the (length-capped) line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

from ..core.units import human_size, hx
from .layout import Layout
from .model import Finding, Kind

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


class PageSeen(NamedTuple):
    """A struct page pointer and the pfn one line printed beside it: calibration evidence."""

    line: int
    source: Kind
    """The format that saw it: `Kind.DUMP_PAGE` (a report's page: line) or `Kind.KMEM`."""
    page: int | None
    """The pointer as printed (16 hex digits, unhashed, arm64 tag kept off), else None."""
    pfn: int | None
    """The pfn printed on the same line, else None."""


@dataclass
class Context:
    """Decoder state shared by the formats; one per reader of a log."""

    layout: Layout
    line: int = 0
    record: Record | None = None
    touched: bool = False
    fault: tuple[int, int] | None = None
    """(line, address) of the last "unable to handle page fault" report."""
    fault_age: int = 0
    seen: set[int] = field(default_factory=set)
    """Pointers/addresses already reported on this line (the generic scanners skip them)."""
    taken: set[tuple[int, int]] = field(default_factory=set)
    """Ranges already reported on this line (the resource scan skips them)."""
    sightings: list[PageSeen] | None = None
    """Where formats put the `PageSeen` evidence of this line, when a calibrator reads it."""

    def start_line(self, line: int) -> None:
        """Forget what the previous line reported; ``line`` is being read."""
        self.line = line
        self.touched = False
        if self.seen:
            self.seen.clear()
        if self.taken:
            self.taken.clear()
        if self.sightings:
            self.sightings.clear()

    def finding(self, kind: Kind, *, pfn: int | None = None, phys: int | None = None,
                page: int | None = None, virt: int | None = None, start: int | None = None,
                end: int | None = None, type: str | None = None, flags: tuple[str, ...] = (),
                note: str = "") -> Finding:
        """A finding on the current line; its pointer, address and range are marked as reported."""
        for value in (page, virt):
            if value is not None:
                self.seen.add(value)
        if start is not None and end is not None:
            self.taken.add((start, end))
        return Finding(self.line, kind, pfn=pfn, phys=phys, page=page, virt=virt, start=start,
                       end=end, type=type, flags=flags, note=note)

    def saw(self, source: Kind, page: int | None, pfn: int | None) -> None:
        """Note a struct page pointer and a pfn printed together (see `PageSeen`)."""
        if self.sightings is not None:
            self.sightings.append(PageSeen(self.line, source, page, pfn))

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
    """One family of log lines: subclass it, set ``name`` and ``anchors``, write `match`."""

    name: ClassVar[str] = ""
    anchors: ClassVar[tuple[str, ...]] = ()
    """Literal strings one of which occurs in every line this format reports on."""

    def match(self, text: str, ctx: Context) -> list[Finding] | None:  # pragma: no cover
        """The findings of one cleaned logical line holding an anchor, or None."""
        raise NotImplementedError


class FormatSet:
    """Formats tried in their order on a line: those with an anchor in it (toolong's
    ``FormatParser``).  Which ones that is, is kept for each set of anchors seen."""

    def __init__(self, formats: tuple[Format, ...]) -> None:
        self.formats = formats
        self.anchors = tuple(dict.fromkeys(a for fmt in formats for a in fmt.anchors))
        self._plans: dict[tuple[str, ...], tuple[Format, ...]] = {}

    def match(self, text: str, ctx: Context) -> list[Finding]:
        """Every finding of the formats whose anchors occur in ``text``, in format order."""
        present = tuple([a for a in self.anchors if a in text])
        if not present:
            return []
        plan = self._plans.get(present)
        if plan is None:
            plan = tuple(fmt for fmt in self.formats if any(a in present for a in fmt.anchors))
            if len(self._plans) < 4096:
                self._plans[present] = plan
        found: list[Finding] = []
        for fmt in plan:
            got = fmt.match(text, ctx)
            if got:
                found.extend(got)
        return found


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
