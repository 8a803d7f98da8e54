"""The ordered list of formats, and the interest keys that decide which of them to try.

Order matters only where two formats could both claim a line: the bad-page and
dump_page formats come first (they open the record the detail lines rely on), the
structured boot maps before the generic resource scan (which then skips ranges already
reported).  The keys (`INTEREST_KEYS`) are a cover of every format's literal anchors
and the resource scan's: a line with none of them skips straight to the pointer
scanners, and the ones it holds name the formats worth trying.
"""

from __future__ import annotations

from .base import Context, Format
from .boot import E820, Cmdline, MemSize, Pmem, ReservedMem, VmLayout, Xen, Zones, scan_resources
from .model import Finding
from .pages import (
    Apei,
    BadPage,
    DumpPage,
    HeadLine,
    Hwpoison,
    MachineCheck,
    MemoryFailure,
    PageDetail,
    RawWords,
)
from .scan import scan_loose_pfns, scan_pointers
from .tables import BadPageMap, PageFault
from .traces import FsDax, Kmem

FORMATS: tuple[Format, ...] = (
    BadPage(), DumpPage(), HeadLine(), PageDetail(), RawWords(), MemoryFailure(), Hwpoison(),
    MachineCheck(), Apei(), FsDax(), Kmem(), E820(), Cmdline(), Zones(), ReservedMem(), Xen(),
    PageFault(), BadPageMap(), Pmem(), VmLayout(), MemSize(),
)

RESOURCE_ANCHORS = ("[mem ", "range:", "kmem dax")

LITERALS: tuple[str, ...] = tuple(
    dict.fromkeys([lit for fmt in FORMATS for lit in fmt.literals] + list(RESOURCE_ANCHORS)))
"""Every format's literal anchors and the resource scan's, once each."""

SKIM_KEYS = ("pfn", "flags", "head:", "mem", "Memory", "offlin", "phys", "dax", "Reserv", "*pd",
             "region", ": 0x", "e820")
"""Short strings that between them occur in many literals (``mem`` is in ``memcg:``,
``[mem ``, ``Injecting memory failure`` ...): fewer alternatives to search for.  Not
``page``: ``hugepage`` and friends are common in ordinary logs."""


def cover(literals, keys) -> tuple[str, ...]:
    """The ``keys`` some literal contains, plus every literal that contains none of them.

    A line holding any of ``literals`` holds one of the result, so skimming for the
    result never misses a line a format would read.
    """
    used = [k for k in keys if any(k in lit for lit in literals)]
    rest = [lit for lit in literals if not any(k in lit for k in used)]
    return tuple(dict.fromkeys(used + rest))


INTEREST_KEYS: tuple[str, ...] = cover(
    [lit for fmt in FORMATS for lit in (fmt.literals if fmt.skim is None else fmt.skim)]
    + list(RESOURCE_ANCHORS) + ["pfn"], SKIM_KEYS)
"""What the decoder skims for: every literal it acts on (a format's ``skim`` strings
instead where it has them; ``pfn`` for the loose-pfn scan), covered by `SKIM_KEYS`."""


_NOTHING: list[Finding] = []  # shared, never mutated: the common "no anchor" answer

_BY_KEY: dict[str, tuple[int, ...]] = {
    key: tuple(i for i, fmt in enumerate(FORMATS)
               if any(key in s for s in (fmt.literals if fmt.skim is None else fmt.skim)))
    for key in INTEREST_KEYS}
"""For each interest key, the formats (indices into `FORMATS`) that may act on a line
holding it: a literal of theirs holds it, or for a format with ``skim`` strings (which
reports only on lines holding one of those) one of them does."""

_PLANS: dict[tuple[str, ...], tuple[Format, ...]] = {}
"""The formats to try, in `FORMATS` order, for each set of keys seen on a line."""


def match_structured(text: str, ctx: Context) -> list[Finding]:
    """Run every format whose anchors occur in ``text``, then the resource scan.

    Which formats to try comes from the interest keys the line holds (38 substring tests,
    against 75 for the literals themselves): every literal holds a key, so a format none
    of whose keys occur has none of its literals there either, or for a format with
    ``skim`` strings none of those, and it would report nothing.
    """
    present = tuple(k for k in INTEREST_KEYS if k in text)
    if not present:
        return _NOTHING
    plan = _PLANS.get(present)
    if plan is None:
        plan = tuple(FORMATS[i] for i in sorted({i for k in present for i in _BY_KEY[k]}))
        if len(_PLANS) < 4096:
            _PLANS[present] = plan
    found: list[Finding] = []
    for fmt in plan:
        for lit in fmt.literals:
            if lit in text:
                got = fmt.match(text, ctx)
                if got:
                    found.extend(got)
                break
    taken = {(f.start, f.end) for f in found if f.start is not None and f.end is not None}
    found.extend(scan_resources(text, ctx, taken))
    return found


__all__ = ["FORMATS", "INTEREST_KEYS", "LITERALS", "match_structured", "scan_loose_pfns",
           "scan_pointers"]
