"""A report per page: the findings of one page (or run of pages) gathered into a diagnosis.

`Reporter` reads what the decoder streams, one logical line at a time with that line's
findings (`stream.decode_with_lines`).  A bad_page / dump_page / Bad page map record, or a
pfn named by memory-failure, machine-check, trace or ad-hoc lines, opens a page; lines and
pointers about the same pfn close by join it.  At the end each page is placed with what
the rest of the log says (`page_report.build`: its memory map, zones, nodes, calibration)
and consecutive pfns with the same story become one run.  Memory stays bounded: at most
`MAX_PAGES` pages.
"""

from __future__ import annotations

import re

from ..core.arch import arch_layout
from ..core.units import hx
from .flags_reading import MAX_SOLVES
from .meaning import STORY_TITLE, failure_meaning
from .model import Calibration, Finding, Kind
from .page_report import RECORD, Draft, PageReport, Place, build, extend, same_story
from .pages import BAD_FLAGS, FLAGS_LINE, split_flag_names

MAX_PAGES = 4096
"""Pages kept per log; past it the report says how many more pages were named."""
JOIN_LINES = 60
"""An event line joins the page of the same pfn opened at most this many lines before."""

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
_PROCESS = re.compile(r"in process (?P<comm>[^\n]{1,64}?) {1,2}(?:pfn|pte):")
_RECORD_LINE = re.compile(r"^(?:memcg:|page->mem_cgroup:|mapping->a_?ops|a_?ops:|page_owner|anon |ksm |file |"
                          r"raw: |head: )")
"""dump_page lines no format reports on, read for the page they describe (mm/debug.c)."""
_ORDER = re.compile(r"\b(?:head:\S{0,24} {1,4})?order:(?P<o>\d{1,2})\b")
_RECORD_TITLES = {STORY_TITLE[str(k)] for k in RECORD}


class Reporter:
    """Feed it each logical line with its findings; `reports()` at the end."""

    def __init__(self, arch: str, calibration: Calibration | None = None,
                 kver: tuple[int, int] | None = None) -> None:
        layout = arch_layout(arch, calibration.page_shift if calibration else None)
        shift = calibration.page_shift if calibration and calibration.page_shift else layout.page_shift
        self.place = Place(arch, calibration, kver, layout, shift)
        self._shift = shift
        self.drafts: list[Draft] = []
        self.more = 0
        self._record: Draft | None = None
        self._by_pfn: dict[int, Draft] = {}

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

    def _open(self, story: Kind, line: int, pfn: int | None) -> Draft | None:
        if len(self.drafts) >= MAX_PAGES:
            self.more += 1
            return None
        d = Draft(story, line, line, pfn)
        self.drafts.append(d)
        if pfn is not None:
            self._by_pfn[pfn] = d
        return d

    def _near(self, pfn: int | None, line: int) -> Draft | None:
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

    def _story(self, d: Draft, kind: Kind) -> None:
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
        p = self.place
        if f.start is None or f.end is None or len(p.e820) + len(p.zones) + len(p.nodes) > 4096:
            return
        if f.kind is Kind.E820:
            p.e820.append((f.start, f.end, f.type or "", "user:" in text))
            p.user_map = p.user_map or "user:" in text
        elif f.kind is Kind.ZONE and f.type:
            p.zones.append((f.start, f.end, f.type))
        elif f.kind is Kind.NODE_RANGE and f.type and f.type.startswith("node "):
            p.nodes.append((f.start, f.end, int(f.type[5:])))
        elif f.kind in (Kind.PMEM, Kind.RESOURCE) and ("pmem" in text or "persistent" in text.lower()):
            p.pmem.append((f.start, f.end))

    def _details(self, d: Draft, text: str) -> None:
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
        fm = FLAGS_LINE.match(text)
        if fm and d.flags is None:
            names, fields = split_flag_names(fm["names"] or "")
            d.flags = (int(fm["val"], 16), names, fields, fm["pre"] or "")
        bm = BAD_FLAGS.match(text)
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
            rep = build(self.place, d, solve=i < MAX_SOLVES)
            prev = out[-1] if out else None
            if prev is not None and same_story(prev, rep):
                out[-1] = extend(prev, rep)
            else:
                out.append(rep)
        return out


def join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


__all__ = ["MAX_PAGES", "Reporter"]
