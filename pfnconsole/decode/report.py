"""A report per page: the findings of one page (or run of pages) gathered into a diagnosis.

`Reporter` reads what the decoder streams, one logical line at a time with that line's
findings (`stream.decode_with_lines`).  A bad_page / dump_page / Bad page map record, or a
pfn named by memory-failure, machine-check, trace or ad-hoc lines, opens a page; lines and
pointers about the same pfn close by join it.  At the end each page is placed with what
the rest of the log says (its memory map, zones, nodes, calibration) and consecutive pfns
with the same story become one run.  Memory stays bounded: at most `MAX_PAGES` pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..core.arch import arch_layout
from ..core.units import human_size, hx
from .flags_reading import MAX_SOLVES, FlagsReading, read_flags
from .meaning import STORY_TITLE, failure_meaning, flags_meaning, reason_meaning
from .model import Calibration, Finding, Kind
from .pages import mapcount_note, page_type_note, split_flag_names

MAX_PAGES = 4096
"""Pages kept per log; past it the report says how many more pages were named."""
JOIN_LINES = 60
"""An event line joins the page of the same pfn opened at most this many lines before."""

RECORD = frozenset({Kind.BAD_PAGE, Kind.DUMP_PAGE, Kind.BAD_PAGE_MAP})
EVENT = frozenset({Kind.MEMORY_FAILURE, Kind.HWPOISON_INJECT, Kind.MCE, Kind.APEI, Kind.FS_DAX,
                   Kind.KMEM, Kind.PFN})
EVIDENCE = frozenset({Kind.STRUCT_PAGE, Kind.DIRECT_MAP, Kind.PTE, Kind.PAGE_FAULT})

_COUNT = re.compile(r"(?<![\w])(?P<k>refcount|count|mapcount|compound_mapcount|entire_mapcount|"
                    r"nr_pages_mapped|pincount|compound_pincount|subpages_mapcount):(?P<v>-?\d{1,12})\b")
_MAPPING = re.compile(r"\bmapping:\s{0,12}(?P<v>[0-9a-fA-F]{8,16}|\(null\))")
_INDEX = re.compile(r"\bindex:(?P<v>0x[0-9a-fA-F]{1,16}|[0-9a-fA-F]{1,16})\b")
_MEMCG = re.compile(r"\b(?:memcg|page->mem_cgroup):(?P<v>[0-9a-fA-F]{8,16})\b")
_AOPS = re.compile(r"\b(?:aops|a_ops|mapping->a_ops):(?P<aops>[\w.]{1,64}(?:\+0x[0-9a-f]{1,8}/0x[0-9a-f]{1,8})?)"
                   r"(?: ino:(?P<ino>[0-9a-fA-F]{1,16}))?"
                   r"(?: dentry name(?:\(\?\))?:\"(?P<dentry>[^\"]{0,64})\")?")
_FLAGS = re.compile(r"^(?:(?P<pre>page|anon|ksm|anon ksm|file) )?flags: ?(?P<val>0x[0-9a-fA-F]{1,16})"
                    r"(?:\((?P<names>[^)]{0,512})\)?)?")
_BAD_FLAGS = re.compile(r"^bad because of flags: (?P<val>0x[0-9a-fA-F]{1,16})\((?P<names>[^)]{0,512})\)?")
_PROCESS = re.compile(r"in process (?P<comm>[^\n]{1,64}?) {1,2}(?:pfn|pte):")
_MAPPING_KIND = {0: "file or none", 1: "anon", 2: "movable (non-LRU)", 3: "KSM"}
_RECORD_LINE = re.compile(r"^(?:memcg:|page->mem_cgroup:|mapping->a_?ops|a_?ops:|page_owner|anon |ksm |file |"
                          r"raw: |head: )")
"""dump_page lines no format reports on, read for the page they describe (mm/debug.c)."""
_ORDER = re.compile(r"\b(?:head:\S{0,24} {1,4})?order:(?P<o>\d{1,2})\b")
CHECK_AT_FREE = frozenset({"lru", "locked", "private", "private_2", "writeback", "reserved", "slab",
                           "active", "unevictable", "mlocked"})
"""include/linux/page-flags.h PAGE_FLAGS_CHECK_AT_FREE (v6.x; LRU_GEN_MASK too, not a name)."""
_RECORD_TITLES = {STORY_TITLE[str(k)] for k in RECORD}
ZONE_NAMES = {"NORMAL": "Normal", "MOVABLE": "Movable", "DEVICE": "Device"}
"""mm/page_alloc.c zone_names[] spelling of enum zone_type."""


@dataclass
class _Draft:
    """A page being gathered."""

    story: Kind
    first: int
    last: int
    pfn: int | None
    phys: int | None = None
    lines: list[int] = field(default_factory=list)
    stories: list[str] = field(default_factory=list)
    process: str = ""
    reason: str = ""
    page: int | None = None
    page_note: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    mapping: str = ""
    index: str = ""
    memcg: str = ""
    aops: str = ""
    ino: str = ""
    dentry: str = ""
    flags: tuple[int, tuple[str, ...], str, str] | None = None
    """(value, printed names, printed fields, prefix) of the flags: line."""
    bad_flags: tuple[str, tuple[str, ...]] | None = None
    page_type: tuple[str, str] | None = None
    head: tuple[int | None, int] | None = None
    """(head pfn, order) of the compound page (order -1: not known)."""
    order: int = -1
    outcomes: list[str] = field(default_factory=list)
    results: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    record_open: bool = True

    def add_line(self, line: int) -> None:
        if not self.lines or self.lines[-1] != line:
            self.lines.append(line)
        self.last = line


@dataclass(frozen=True)
class PageReport:
    """One page (or ``count`` consecutive pages with the same story) and what the log says of it."""

    pfn: int | None
    count: int
    phys: int | None
    title: str
    lines: tuple[int, ...]
    section: int | None
    zone: str | None
    node: int | None
    map_type: str | None
    where: str
    """How zone, node and map type are known."""
    struct_page: str
    counts: str
    flags: FlagsReading | None
    page_type: str
    compound: str
    mapping: str
    memcg: str
    outcome: str
    meaning: tuple[str, ...]
    notes: tuple[str, ...]
    bad_flags: str = ""

    @property
    def last_pfn(self) -> int | None:
        return None if self.pfn is None else self.pfn + self.count - 1

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "page_report", "pfn": self.pfn, "count": self.count, "last_pfn": self.last_pfn,
            "phys": self.phys, "title": self.title, "section": self.section, "zone": self.zone,
            "node": self.node, "map_type": self.map_type, "where": self.where,
            "meaning": " ".join(self.meaning), "lines": list(self.lines)}
        for name in ("struct_page", "counts", "page_type", "compound", "mapping", "memcg", "outcome",
                     "bad_flags"):
            value = getattr(self, name)
            if value:
                out[name] = value
        if self.flags is not None:
            out["flags"] = self.flags.to_json()
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    def text(self) -> list[str]:
        """The report as the console prints it: a heading, then one labelled row per fact."""
        if self.pfn is None:
            head = "page (pfn not in the log)"
        elif self.count > 1:
            head = f"pages {hx(self.pfn)}-{hx(self.pfn + self.count - 1)} ({self.count} pages)"
        else:
            head = f"page {hx(self.pfn)}"
        if self.phys is not None:
            head += f"  phys {hx(self.phys)}"
        span = _span(self.lines)
        out = [f"{head}  — {self.title}, {span}"]
        place = [p for p in (f"section {self.section}" if self.section is not None else "",
                             f"zone {self.zone}" if self.zone else "",
                             f"node {self.node}" if self.node is not None else "",
                             self.map_type or "") if p]
        rows = [("where", " · ".join(place) + (f"  ({self.where})" if self.where else "")),
                ("struct page", self.struct_page), ("counts", self.counts)]
        if self.flags is not None:
            f = self.flags
            names = "|".join(f.names) if f.names else "no flags"
            place = [p for p in (f"node {f.node}" if f.node is not None else "",
                                 f"zone {ZONE_NAMES.get(f.zone or '', f.zone)}" if f.zone else "") if p]
            under = "; under the assumed layout " if f.assumed_place else "; "
            rows.append(("flags", f"{hx(f.value)} = {names}" + (under + ", ".join(place) if place else "")))
            rows.append(("", f.how))
            if f.assumed:
                rows.append(("", "assumed: " + ", ".join(f.assumed)))
        if self.bad_flags:
            rows.append(("bad flags", self.bad_flags))
        rows += [("page_type", self.page_type), ("compound", self.compound), ("mapping", self.mapping),
                 ("memcg", self.memcg), ("outcome", self.outcome)]
        out += [f"  {k:<12} {v}" for k, v in rows if v]
        out += [f"  {'meaning' if i == 0 else '':<12} {m}" for i, m in enumerate(self.meaning)]
        out += [f"  {'note':<12} {n}" for n in self.notes]
        return out


def _span(lines: tuple[int, ...]) -> str:
    if not lines:
        return "no line"
    if len(lines) == 1:
        return f"line {lines[0]}"
    return f"lines {lines[0]}-{lines[-1]}" if len(lines) > 3 else "lines " + ", ".join(map(str, lines))


class Reporter:
    """Feed it each logical line with its findings; `reports()` at the end."""

    def __init__(self, arch: str, calibration: Calibration | None = None,
                 kver: tuple[int, int] | None = None) -> None:
        self.arch = arch
        self.calibration = calibration
        self.kver = kver
        self._layout = arch_layout(arch, calibration.page_shift if calibration else None)
        self._shift = calibration.page_shift if calibration and calibration.page_shift else \
            self._layout.page_shift
        self._user_map = False
        self.drafts: list[_Draft] = []
        self.more = 0
        self._record: _Draft | None = None
        self._by_pfn: dict[int, _Draft] = {}
        self.e820: list[tuple[int, int, str, bool]] = []
        self.zones: list[tuple[int, int, str]] = []
        self.nodes: list[tuple[int, int, int]] = []
        self.pmem: list[tuple[int, int]] = []

    # --- reading -------------------------------------------------------------------------
    def feed(self, line: int, text: str, findings: list[Finding]) -> None:
        for f in findings:
            if f.kind in RECORD:
                self._record_finding(line, f)
            elif f.kind in EVENT:
                self._event(line, f)
            elif f.kind in EVIDENCE:
                self._evidence(line, f)
            else:
                self._context(text, f)
        rec = self._record
        if rec is not None and rec.record_open and rec.last != line and line - rec.last <= 2 \
                and _RECORD_LINE.match(text):
            rec.add_line(line)
        if rec is not None and rec.record_open and rec.last == line:
            self._details(rec, text)
        elif rec is not None and line - rec.last > 3:
            rec.record_open = False
            self._record = None

    def _open(self, story: Kind, line: int, pfn: int | None) -> _Draft | None:
        if len(self.drafts) >= MAX_PAGES:
            self.more += 1
            return None
        d = _Draft(story, line, line, pfn)
        self.drafts.append(d)
        if pfn is not None:
            self._by_pfn[pfn] = d
        return d

    def _near(self, pfn: int | None, line: int) -> _Draft | None:
        d = self._by_pfn.get(pfn) if pfn is not None else None
        return d if d is not None and line - d.last <= JOIN_LINES else None

    def _record_finding(self, line: int, f: Finding) -> None:
        rec = self._record
        opens = (f.kind is Kind.BAD_PAGE and f.type is None) or (f.kind is Kind.BAD_PAGE_MAP and f.type == "pte")
        page_line = f.kind is Kind.DUMP_PAGE and f.type is None
        if page_line and rec is not None and rec.record_open and rec.page is None and not rec.counts \
                and line - rec.last <= 3 and (f.pfn is None or rec.pfn in (None, f.pfn)):
            opens = False  # the page: line of the Bad page state just read
        elif page_line:
            opens = True
        if opens:
            near = self._near(f.pfn, line)
            rec = near if near is not None and near.story not in RECORD else self._open(f.kind, line, f.pfn)
            if rec is None:
                return
            rec.record_open = True
            self._record = rec
        if rec is None:
            rec = self._near(f.pfn, line)
            if rec is None:
                return
        if rec.pfn is None and f.pfn is not None:
            rec.pfn = f.pfn
            self._by_pfn[f.pfn] = rec
        rec.add_line(line)
        self._story(rec, f.kind)
        if f.kind is Kind.BAD_PAGE_MAP and f.type in ("pte", "pmd"):
            rec.notes.append(f.note.split("; ", 1)[1] if f.note.startswith("process ") else f.note)
        if f.kind is Kind.DUMP_PAGE and f.type == "head":
            order = f.end - f.start + 1 if f.start is not None and f.end is not None else 0
            pages = order >> self._shift if order else 0
            rec.head = (f.pfn, pages.bit_length() - 1 if pages else rec.order)
        elif f.kind is Kind.DUMP_PAGE and f.type == "compound_head" and rec.head is None:
            rec.head = (f.pfn, -1)
        if page_line:
            rec.page = f.page
            rec.page_note = f.note
        if f.kind is Kind.DUMP_PAGE and f.type not in (None, "flags", "page_type", "head", "compound_head"):
            rec.reason = f.type or ""

    def _story(self, d: _Draft, kind: Kind) -> None:
        title = STORY_TITLE.get(str(kind), str(kind))
        if title not in d.stories:
            if kind in RECORD:  # the record tells the story; the events that led to it follow
                d.stories.insert(sum(1 for t in d.stories if t in _RECORD_TITLES), title)
            else:
                d.stories.append(title)

    def _event(self, line: int, f: Finding) -> None:
        if f.pfn is None or (f.kind is Kind.PFN and f.type not in ("pfn", "head_pfn")):
            return  # start_pfn=, end_pfn= … bound ranges: they are not pages
        d = self._near(f.pfn, line) or self._open(f.kind, line, f.pfn)
        if d is None:
            return
        d.add_line(line)
        self._story(d, f.kind)
        if d.phys is None and f.phys is not None:
            d.phys = f.phys
        if f.kind is Kind.MEMORY_FAILURE:
            what = f.note.removeprefix("soft offline; ").removeprefix("recovery action for ")
            if f.type in ("Ignored", "Failed", "Delayed", "Recovered"):
                d.outcomes.append(f"{what or 'page'}: {f.type}")
                d.results.append(failure_meaning(f.type, ""))
            elif f.type:
                d.notes.append(f.type)
        elif f.type or f.note:
            d.notes.append(join(f.type or "", f.note))

    def _evidence(self, line: int, f: Finding) -> None:
        fault = f.kind is Kind.PAGE_FAULT or (f.kind is Kind.PTE and f.virt is not None)
        if fault and f.pfn is not None and f.virt is not None:
            d = self._near(f.pfn, line) or self._open(Kind.PAGE_FAULT, line, f.pfn)
            if d is None:
                return
            self._story(d, Kind.PAGE_FAULT)
            d.add_line(line)
            d.phys = f.phys
            if f.kind is Kind.PAGE_FAULT:
                d.notes.append(f"line {line}: {f.type} at {hx(f.virt)}; {f.note}")
            else:
                d.notes.append(f"line {line}: {f.type} of the walk for {hx(f.virt)}: {f.note}")
            return
        d = self._near(f.pfn, line)
        if d is None or f.pfn is None:
            return
        d.add_line(line)
        what = {Kind.STRUCT_PAGE: "struct page pointer", Kind.DIRECT_MAP: "direct-map address"}.get(f.kind)
        addr = f.page if f.kind is Kind.STRUCT_PAGE else f.virt
        if what and addr is not None and len(d.notes) < 12:
            d.notes.append(f"line {line}: {what} {addr:x} names this page")

    def _context(self, text: str, f: Finding) -> None:
        if f.start is None or f.end is None or len(self.e820) + len(self.zones) + len(self.nodes) > 4096:
            return
        if f.kind is Kind.E820:
            self.e820.append((f.start, f.end, f.type or "", "user:" in text))
            self._user_map = self._user_map or "user:" in text
        elif f.kind is Kind.ZONE and f.type:
            self.zones.append((f.start, f.end, f.type))
        elif f.kind is Kind.NODE_RANGE and f.type and f.type.startswith("node "):
            self.nodes.append((f.start, f.end, int(f.type[5:])))
        elif f.kind in (Kind.PMEM, Kind.RESOURCE) and ("pmem" in text or "persistent" in text.lower()):
            self.pmem.append((f.start, f.end))

    def _details(self, d: _Draft, text: str) -> None:
        """What a record line says about its page beyond the findings."""
        m = _PROCESS.search(text)
        if m and not d.process:
            d.process = m["comm"].strip()
        for c in _COUNT.finditer(text):
            d.counts.setdefault(c["k"], int(c["v"]))
        for rx, name in ((_MAPPING, "mapping"), (_INDEX, "index"), (_MEMCG, "memcg")):
            mm = rx.search(text)
            if mm and not getattr(d, name):
                setattr(d, name, mm["v"])
        a = _AOPS.search(text)
        if a:
            d.aops, d.ino, d.dentry = a["aops"], a["ino"] or "", a["dentry"] or ""
        om = _ORDER.search(text) if "order:" in text else None
        if om:
            d.order = int(om["o"])
            if d.head is not None and d.head[1] < 0:
                d.head = (d.head[0], d.order)
        fm = _FLAGS.match(text)
        if fm and d.flags is None:
            names, fields = split_flag_names(fm["names"] or "")
            d.flags = (int(fm["val"], 16), names, fields, fm["pre"] or "")
        bm = _BAD_FLAGS.match(text)
        if bm:
            d.bad_flags = (bm["val"], split_flag_names(bm["names"])[0])
        if text.startswith("page_type:"):
            val, _, rest = text[10:].strip().partition("(")
            d.page_type = (val, rest.rstrip(")").strip())
        if text.startswith("page dumped because:"):
            d.reason = text.split(":", 1)[1].strip()[:160]
        if "page_owner tracks the page as " in text:
            d.notes.append("page_owner: the page is " + text.split("tracks the page as ", 1)[1].strip()[:60])

    # --- the reports -----------------------------------------------------------------------
    def reports(self) -> list[PageReport]:
        out: list[PageReport] = []
        for i, d in enumerate(self.drafts):
            rep = self._report(d, solve=i < MAX_SOLVES)
            prev = out[-1] if out else None
            if prev is not None and _same_story(prev, rep):
                out[-1] = _extend(prev, rep)
            else:
                out.append(rep)
        return out

    def _report(self, d: _Draft, solve: bool) -> PageReport:
        layout = self._layout
        shift = layout.page_shift
        phys = d.phys if d.pfn is None or (d.phys is not None and d.phys >> shift == d.pfn) else None
        if phys is None and d.pfn is not None:
            phys = d.pfn << shift
        flags = None
        if d.flags is not None:
            flags = read_flags(d.flags[0], d.flags[1], d.flags[2], layout.name, self.kver, solve)
        section = phys >> layout.section_size_bits if phys is not None else None
        if flags is not None and flags.section is not None:
            section = flags.section
        zone, node, map_type, where = self._place(phys, flags)
        stories = [t for t in d.stories if not (t == "dump_page" and "Bad page state" in d.stories)]
        title = " + ".join(stories) or STORY_TITLE.get(str(d.story), str(d.story))
        if d.process:
            title += f" in process {d.process}"
        meaning = self._meaning(d)
        return PageReport(
            pfn=d.pfn, count=1, phys=phys, title=title, lines=tuple(d.lines), section=section, zone=zone,
            node=node, map_type=map_type, where=where, struct_page=self._struct_page(d),
            counts=self._counts(d), flags=flags,
            page_type=page_type_note(*d.page_type) if d.page_type else "",
            compound=self._compound(d), mapping=self._mapping(d),
            memcg=d.memcg, outcome="; ".join(dict.fromkeys(d.outcomes)),
            meaning=meaning, notes=tuple(dict.fromkeys(d.notes)),
            bad_flags=f"{d.bad_flags[0]} = {'|'.join(d.bad_flags[1])}" if d.bad_flags else "")

    def _place(self, phys: int | None, flags: FlagsReading | None
               ) -> tuple[str | None, int | None, str | None, str]:
        how: list[str] = []
        zone = node = None
        if flags is not None and not flags.assumed_place:
            zone, node = ZONE_NAMES.get(flags.zone or "", flags.zone), flags.node
            if zone or node is not None:
                how.append("zone and node from page->flags as the kernel printed them")
        if phys is None:
            return zone, node, None, "; ".join(how)
        if zone is None:
            zone = next((z for a, b, z in self.zones if a <= phys <= b), None)
            if zone:
                how.append("zone from the log's Zone ranges")
        if node is None:
            node = next((n for a, b, n in self.nodes if a <= phys <= b), None)
            if node is not None:
                how.append("node from the log's memory node ranges")
        map_type = None
        user = self._user_map
        for a, b, typ, from_user in reversed(self.e820):
            if user and not from_user:
                continue
            if a <= phys <= b:
                what = "RAM" if typ == "usable" else "pmem" if typ.startswith(("persistent", "pmem")) else ""
                map_type = f"{what} (e820 {typ})" if what else f"e820 {typ}"
                break
        if map_type is None and any(a <= phys <= b for a, b in self.pmem):
            map_type = "pmem"
        if map_type is not None:
            how.append("map type from the log's " + ("user-defined (memmap=) map" if user else "e820 map"))
        elif self.e820:
            map_type = "outside the log's memory map"
        else:
            how.append("no memory map in this log")
        return zone, node, map_type, "; ".join(how)

    def _struct_page(self, d: _Draft) -> str:
        cal = self.calibration
        size = cal.struct_page_size if cal else None
        base = cal.vmemmap_base if cal else None
        solved = cal is not None and any(s.startswith("vmemmap") for s in cal.sources)
        how = "solved from the log's (pointer, pfn) pairs" if solved else f"the {self.arch} default"
        if d.page is not None:
            text = f"{d.page:x}"
            if size and base is not None:
                text += f": {size}-byte struct page, vmemmap {hx(base)} ({how})"
            return text
        printed = ("pointer hashed by %p (not an address); " if "hashed" in d.page_note else
                   "pointer hidden by the kernel; " if "hidden" in d.page_note else "")
        if self.arch == "arm64" and not solved:
            return printed + "its address depends on memstart_addr, which this log does not show"
        if RECORD & {d.story} and size and base is not None and d.pfn is not None:
            return (f"{printed}at {hx(base + d.pfn * size)} if the layout is {how}: "
                    f"{size}-byte struct page, vmemmap {hx(base)}")
        return printed.rstrip("; ")

    def _counts(self, d: _Draft) -> str:
        parts = []
        for key, value in d.counts.items():
            parts.append(f"{key} {value}")
        mc = d.counts.get("mapcount")
        note = mapcount_note(mc, "count" in d.counts) if mc is not None else ""
        rc = d.counts.get("refcount", d.counts.get("count"))
        if rc == 0 and mc == 0:
            note = note or "no references and not mapped: a free (or being freed) page"
        return "  ".join(parts) + (f"  ({note})" if note and parts else "")

    def _compound(self, d: _Draft) -> str:
        names = d.flags[1] if d.flags is not None else ()
        if "head" in names and d.order >= 0:
            d.head = (d.pfn, d.order)
        if d.head is None:
            return "tail page of a compound page (flags: tail)" if "tail" in names else ""
        head, order = d.head
        if head is not None and head == d.pfn and order >= 0:
            return (f"head page of a compound page, order {order}: a folio of {1 << order} pages "
                    f"({human_size((1 << self._shift) << order)})")
        where = f"head pfn {hx(head)}" if head is not None else "head pointer not an address"
        if order < 0:
            return f"tail page of a compound page: {where}"
        pages = 1 << order
        size = human_size((1 << self._shift) << order)
        return f"{where}, order {order}: a folio of {pages} pages ({size})"

    def _mapping(self, d: _Draft) -> str:
        parts = []
        kind = ""
        if d.mapping and not d.mapping.startswith("("):
            v = int(d.mapping, 16)
            kind = "none" if v == 0 else _MAPPING_KIND[v & 3]
            if v and v & 3 == 0:
                parts.append(f"file: address_space {v:x}")
            elif v:
                parts.append(f"{kind}: {'anon_vma' if v & 3 == 1 else 'address_space' if v & 3 == 0 else 'at'} "
                             f"{v & ~3:x}")
            else:
                parts.append("none (page->mapping NULL)")
        elif d.mapping:
            parts.append("none (page->mapping NULL)")
        if d.flags is not None and d.flags[3] in ("anon", "ksm", "anon ksm", "file") and not kind.startswith("anon"):
            parts.append(f"{d.flags[3]} (the kernel said so)")
        if d.aops:
            parts.append(f"a_ops {d.aops}")
        if d.ino:
            parts.append(f"inode {d.ino}")
        if d.dentry:
            parts.append(f'dentry "{d.dentry}"')
        if d.index:
            parts.append(f"index {d.index}")
        return "  ".join(parts)

    def _meaning(self, d: _Draft) -> tuple[str, ...]:
        out: list[str] = []
        if d.bad_flags is not None:
            out.append(flags_meaning(d.bad_flags[1]))
        elif "PAGE_FLAGS_CHECK_AT_FREE" in d.reason and d.flags is not None:
            checked = tuple(n for n in d.flags[1] if n in CHECK_AT_FREE)
            if checked:
                out.append(flags_meaning(checked))
        if d.reason:
            why = reason_meaning(d.reason)
            if why and not (out and "PAGE_FLAGS_CHECK" in d.reason):
                out.append(why)
            elif not why:
                out.append(f"dumped because: {d.reason}")
        mc = d.counts.get("mapcount")
        if mc is not None and mc < 0:
            note = mapcount_note(mc, "count" in d.counts)
            if note:
                out.append(note)
        bad = [f"{k}:{v}" for k, v in d.counts.items() if k != "mapcount" and not 0 <= v < 1 << 24]
        broken = [f"{', '.join(bad)} cannot be a count: the struct page itself looks overwritten"] if bad else []
        fill = _fill_pattern(d)
        if fill:
            broken.append(fill)
        if broken and out:
            broken.append("so the flags and reasons that follow describe garbage, not the page's history:")
        out[:0] = broken
        out += list(dict.fromkeys(d.results))
        if not out:
            if d.story is Kind.MCE or "machine check / memory error" in d.stories:
                out.append("a memory error was reported at this physical address")
            elif d.story is Kind.PAGE_FAULT and any("not present" in n for n in d.notes):
                out.append("the faulting address is not mapped: its PTE is not present and names this pfn "
                           "only as a non-present (L1TF-inverted) entry does — the page was unmapped "
                           "(freed and unmapped, as DEBUG_PAGEALLOC does, or swapped/migrated out)")
            elif d.story is Kind.PAGE_FAULT:
                out.append("the faulting address's page-table walk ends at this page")
            elif d.story is Kind.BAD_PAGE_MAP:
                out.append("a page-table entry maps this pfn, but the page it names is not in a state "
                           "that can be mapped (or the entry itself is corrupt)")
        return tuple(o for o in out if o)


def _fill_pattern(d: _Draft) -> str:
    """A struct page word made of one repeated byte (0x78787878, e3e3e3e3): memory overwritten
    by a fill or poison pattern rather than by the kernel's own updates."""
    words = [w for w in (d.mapping, d.memcg, f"{d.flags[0]:x}" if d.flags else "") if len(w) >= 8]
    for w in words:
        w = w.lower()
        if len({w[i:i + 2] for i in range(0, len(w) - 1, 2)}) == 1 and w[:2] not in ("00", "ff"):
            return (f"the word {w} is one byte repeated: the struct page was overwritten by a fill "
                    "or poison pattern (a stray write or use-after-free of the memory map)")
    return ""


def _same_story(a: PageReport, b: PageReport) -> bool:
    """Consecutive pfns told the same way (no record of their own) form one run."""
    if a.pfn is None or b.pfn is None or b.pfn != a.pfn + a.count:
        return False
    return (a.title, a.outcome, a.meaning, a.map_type, a.zone, a.node, a.struct_page, a.counts,
            a.flags) == (b.title, b.outcome, b.meaning, b.map_type, b.zone, b.node, b.struct_page,
                         b.counts, b.flags) and not a.counts and not a.struct_page


def _extend(a: PageReport, b: PageReport) -> PageReport:
    notes = a.notes if len(a.notes) > 8 else tuple(dict.fromkeys(a.notes + b.notes))[:9]
    section = a.section if a.section == b.section else None
    return PageReport(a.pfn, a.count + b.count, a.phys, a.title, a.lines + b.lines, section, a.zone, a.node,
                      a.map_type, a.where, a.struct_page, a.counts, a.flags, a.page_type, a.compound,
                      a.mapping, a.memcg, a.outcome, a.meaning, notes, a.bad_flags)


def join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


__all__ = ["MAX_PAGES", "PageReport", "Reporter"]
