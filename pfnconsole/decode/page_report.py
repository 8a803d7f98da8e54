"""A page report: what one page (or a run of pages) is, where it lives and what it means.

`Draft` is what `report.Reporter` gathers while it reads; `build` turns a draft into a
`PageReport` with what the rest of the log says (`Place`: its memory map, zones, nodes,
calibration and kernel version); `same_story` and `extend` make runs of consecutive pfns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.arch import ArchLayout
from ..core.units import human_size, hx
from .flags_reading import FlagsReading, read_flags
from .meaning import STORY_TITLE, flags_meaning, reason_meaning
from .model import Calibration, Kind
from .pages import mapcount_note, page_type_note

RECORD = frozenset({Kind.BAD_PAGE, Kind.DUMP_PAGE, Kind.BAD_PAGE_MAP})
"""The kinds that open a record of several lines about one page."""
_MAPPING_KIND = {0: "file or none", 1: "anon", 2: "movable (non-LRU)", 3: "KSM"}
CHECK_AT_FREE = frozenset({"lru", "locked", "private", "private_2", "writeback", "reserved", "slab",
                           "active", "unevictable", "mlocked"})
"""include/linux/page-flags.h PAGE_FLAGS_CHECK_AT_FREE (v6.x; LRU_GEN_MASK too, not a name)."""
ZONE_NAMES = {"NORMAL": "Normal", "MOVABLE": "Movable", "DEVICE": "Device"}
"""mm/page_alloc.c zone_names[] spelling of enum zone_type."""


@dataclass
class Draft:
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



@dataclass
class Place:
    """What the whole log says that places a page: arch, layout, version, maps."""

    arch: str
    calibration: Calibration | None
    kver: tuple[int, int] | None
    layout: ArchLayout
    shift: int
    e820: list[tuple[int, int, str, bool]] = field(default_factory=list)
    """(start, end, type, from a `user:` map)."""
    zones: list[tuple[int, int, str]] = field(default_factory=list)
    nodes: list[tuple[int, int, int]] = field(default_factory=list)
    pmem: list[tuple[int, int]] = field(default_factory=list)
    user_map: bool = False


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


def build(p: Place, d: Draft, solve: bool) -> PageReport:
    layout = p.layout
    shift = layout.page_shift
    phys = d.phys if d.pfn is None or (d.phys is not None and d.phys >> shift == d.pfn) else None
    if phys is None and d.pfn is not None:
        phys = d.pfn << shift
    flags = None
    if d.flags is not None:
        flags = read_flags(d.flags[0], d.flags[1], d.flags[2], layout.name, p.kver, solve)
    section = phys >> layout.section_size_bits if phys is not None else None
    if flags is not None and flags.section is not None:
        section = flags.section
    zone, node, map_type, where = _place(p, phys, flags)
    stories = [t for t in d.stories if not (t == "dump_page" and "Bad page state" in d.stories)]
    title = " + ".join(stories) or STORY_TITLE.get(str(d.story), str(d.story))
    if d.process:
        title += f" in process {d.process}"
    meaning = _meaning(p, d)
    return PageReport(
        pfn=d.pfn, count=1, phys=phys, title=title, lines=tuple(d.lines), section=section, zone=zone,
        node=node, map_type=map_type, where=where, struct_page=_struct_page(p, d),
        counts=_counts(p, d), flags=flags,
        page_type=page_type_note(*d.page_type) if d.page_type else "",
        compound=_compound(p, d), mapping=_mapping(p, d),
        memcg=d.memcg, outcome="; ".join(dict.fromkeys(d.outcomes)),
        meaning=meaning, notes=tuple(dict.fromkeys(d.notes)),
        bad_flags=f"{d.bad_flags[0]} = {'|'.join(d.bad_flags[1])}" if d.bad_flags else "")

def _place(p: Place, phys: int | None, flags: FlagsReading | None
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
        zone = next((z for a, b, z in p.zones if a <= phys <= b), None)
        if zone:
            how.append("zone from the log's Zone ranges")
    if node is None:
        node = next((n for a, b, n in p.nodes if a <= phys <= b), None)
        if node is not None:
            how.append("node from the log's memory node ranges")
    map_type = None
    user = p.user_map
    for a, b, typ, from_user in reversed(p.e820):
        if user and not from_user:
            continue
        if a <= phys <= b:
            what = "RAM" if typ == "usable" else "pmem" if typ.startswith(("persistent", "pmem")) else ""
            map_type = f"{what} (e820 {typ})" if what else f"e820 {typ}"
            break
    if map_type is None and any(a <= phys <= b for a, b in p.pmem):
        map_type = "pmem"
    if map_type is not None:
        how.append("map type from the log's " + ("user-defined (memmap=) map" if user else "e820 map"))
    elif p.e820:
        map_type = "outside the log's memory map"
    else:
        how.append("no memory map in this log")
    return zone, node, map_type, "; ".join(how)

def _struct_page(p: Place, d: Draft) -> str:
    cal = p.calibration
    size = cal.struct_page_size if cal else None
    base = cal.vmemmap_base if cal else None
    solved = cal is not None and any(s.startswith("vmemmap") for s in cal.sources)
    how = "solved from the log's (pointer, pfn) pairs" if solved else f"the {p.arch} default"
    if d.page is not None:
        text = f"{d.page:x}"
        if size and base is not None:
            text += f": {size}-byte struct page, vmemmap {hx(base)} ({how})"
        return text
    printed = ("pointer hashed by %p (not an address); " if "hashed" in d.page_note else
               "pointer hidden by the kernel; " if "hidden" in d.page_note else "")
    if p.arch == "arm64" and not solved:
        return printed + "its address depends on memstart_addr, which this log does not show"
    if RECORD & {d.story} and size and base is not None and d.pfn is not None:
        return (f"{printed}at {hx(base + d.pfn * size)} if the layout is {how}: "
                f"{size}-byte struct page, vmemmap {hx(base)}")
    return printed.rstrip("; ")

def _counts(p: Place, d: Draft) -> str:
    parts = []
    for key, value in d.counts.items():
        parts.append(f"{key} {value}")
    mc = d.counts.get("mapcount")
    note = mapcount_note(mc, "count" in d.counts) if mc is not None else ""
    rc = d.counts.get("refcount", d.counts.get("count"))
    if rc == 0 and mc == 0:
        note = note or "no references and not mapped: a free (or being freed) page"
    return "  ".join(parts) + (f"  ({note})" if note and parts else "")

def _compound(p: Place, d: Draft) -> str:
    names = d.flags[1] if d.flags is not None else ()
    if "head" in names and d.order >= 0:
        d.head = (d.pfn, d.order)
    if d.head is None:
        return "tail page of a compound page (flags: tail)" if "tail" in names else ""
    head, order = d.head
    if head is not None and head == d.pfn and order >= 0:
        return (f"head page of a compound page, order {order}: a folio of {1 << order} pages "
                f"({human_size((1 << p.shift) << order)})")
    where = f"head pfn {hx(head)}" if head is not None else "head pointer not an address"
    if order < 0:
        return f"tail page of a compound page: {where}"
    pages = 1 << order
    size = human_size((1 << p.shift) << order)
    return f"{where}, order {order}: a folio of {pages} pages ({size})"

def _mapping(p: Place, d: Draft) -> str:
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

def _meaning(p: Place, d: Draft) -> tuple[str, ...]:
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


def _fill_pattern(d: Draft) -> str:
    """A struct page word made of one repeated byte (0x78787878, e3e3e3e3): memory overwritten
    by a fill or poison pattern rather than by the kernel's own updates."""
    words = [w for w in (d.mapping, d.memcg, f"{d.flags[0]:x}" if d.flags else "") if len(w) >= 8]
    for w in words:
        w = w.lower()
        if len({w[i:i + 2] for i in range(0, len(w) - 1, 2)}) == 1 and w[:2] not in ("00", "ff"):
            return (f"the word {w} is one byte repeated: the struct page was overwritten by a fill "
                    "or poison pattern (a stray write or use-after-free of the memory map)")
    return ""


def same_story(a: PageReport, b: PageReport) -> bool:
    """Consecutive pfns told the same way (no record of their own) form one run."""
    if a.pfn is None or b.pfn is None or b.pfn != a.pfn + a.count:
        return False
    return (a.title, a.outcome, a.meaning, a.map_type, a.zone, a.node, a.struct_page, a.counts,
            a.flags) == (b.title, b.outcome, b.meaning, b.map_type, b.zone, b.node, b.struct_page,
                         b.counts, b.flags) and not a.counts and not a.struct_page


def extend(a: PageReport, b: PageReport) -> PageReport:
    notes = a.notes if len(a.notes) > 8 else tuple(dict.fromkeys(a.notes + b.notes))[:9]
    section = a.section if a.section == b.section else None
    return PageReport(a.pfn, a.count + b.count, a.phys, a.title, a.lines + b.lines, section, a.zone, a.node,
                      a.map_type, a.where, a.struct_page, a.counts, a.flags, a.page_type, a.compound,
                      a.mapping, a.memcg, a.outcome, a.meaning, notes, a.bad_flags)


__all__ = ["CHECK_AT_FREE", "RECORD", "ZONE_NAMES", "Draft", "PageReport", "Place", "build", "extend",
           "same_story"]
