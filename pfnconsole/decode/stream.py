"""Pass 2: turn logical lines into findings, one line at a time.

`decode_lines` is a generator that holds one block of the log (see `source`), the line
being joined, the current bad-page record and the last page-fault address, so it runs in
flat memory on a log of any size; on a big log it reads only the lines `skim` finds
worth reading.  Findings come out in line order.  Calibration findings come first when
a `Calibration` is passed in (as `decode_text` does after its own pass 1); without one
the decoder calibrates as it goes and reports each inference on the line that completed it
(its `Calibrator` reads each line first, with the calibration formats and a context of
its own, so that line is already decoded with what it implied).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import TextIO

from ..core.arch import canonical_arch
from .base import Context, FormatSet
from .calibrate import Calibrator, calibrate_blocks
from .formats import FORMATS, LITERALS
from .layout import Layout, make_layout
from .model import Calibration, Finding, Kind
from .scan import pointer_patterns, scan_loose_pfns, scan_pointers
from .skim import Anchors, covering, skim_lines
from .source import Block, blocks_of, blocks_of_text

_FORMATS = FormatSet(FORMATS)
INTEREST_KEYS = covering(LITERALS)
"""What the decoder skims for: every literal a format or the loose-pfn scan acts on
(one that holds another, ``pfn range`` holding ``pfn``, goes without saying)."""

_CAL_TYPES = (("vmemmap", "vmemmap"), ("direct map", "direct_map"), ("page size", "page_shift"))


def calibration_findings(cal: Calibration, line: int | None = None) -> list[Finding]:
    """One ``calibration`` finding per inference in ``cal.sources``."""
    out = []
    lines = cal.source_lines or (0,) * len(cal.sources)
    for text, at in zip(cal.sources, lines, strict=True):
        typ = next((t for prefix, t in _CAL_TYPES if text.startswith(prefix)), "calibration")
        value = {"vmemmap": cal.vmemmap_base, "direct_map": cal.page_offset}.get(typ)
        out.append(Finding(line if line is not None else at, Kind.CALIBRATION, virt=value, type=typ,
                           note=text))
    return out


class _Decoder:
    def __init__(self, arch: str, calibration: Calibration | None, lpae: bool | None = None) -> None:
        self.arch = canonical_arch(arch)
        self.online = Calibrator(self.arch) if calibration is None else None
        self.calibration = calibration
        self.lpae = lpae
        self.ctx = Context(replace(make_layout(self.arch, calibration), lpae=lpae))
        self._emitted: set[str] = set()
        self._gate = self._pointer_gate(self.ctx.layout)

    @staticmethod
    def _pointer_gate(layout: Layout) -> tuple[str, ...]:
        """Leading hex digits every interesting 16-digit pointer starts with."""
        if layout.bits != 64:
            return ()
        if layout.arch == "arm64":
            # Tagged pointers can start with anything; without calibration the arm64 bases
            # depend on memstart_addr and VA_BITS, so nothing is scanned.
            return ("",) if layout.vmemmap_known or layout.direct_known else ()
        prefixes = {f"{base:016x}"[:3] for base in (layout.vmemmap_base, layout.page_offset) if base}
        return tuple(prefixes) + tuple(p.upper() for p in prefixes)

    def anchors(self) -> Anchors:
        """What a line this decoder would act on holds (see `skim`)."""
        if self.online is None:
            return Anchors(INTEREST_KEYS, tuple(pointer_patterns(self.ctx.layout, bool(self._gate))))
        # calibrating as it reads: the layout may still move, so any hex word counts
        return Anchors(INTEREST_KEYS + self.online.keys(),
                       tuple(pointer_patterns(self.ctx.layout, True, settled=False)))

    def quiet(self) -> bool:
        """No record open, no fault waiting for its walk, no calibration pair half seen."""
        ctx = self.ctx
        return ctx.record is None and ctx.fault is None and (self.online is None or self.online.quiet())

    def start(self) -> list[Finding]:
        if self.calibration is not None:
            return calibration_findings(self.calibration)
        return []

    def _relayout(self, line: int) -> list[Finding]:
        assert self.online is not None
        cal = self.online.result()
        self.ctx.layout = replace(make_layout(self.arch, cal), lpae=self.lpae)
        self._gate = self._pointer_gate(self.ctx.layout)
        fresh = [t for t in cal.sources if t not in self._emitted]
        self._emitted.update(fresh)
        if not fresh:
            return []
        only = Calibration(cal.vmemmap_base, cal.struct_page_size, cal.page_offset, cal.page_shift,
                           tuple(fresh))
        return calibration_findings(only, line)

    def feed(self, line: int, text: str) -> list[Finding]:
        out: list[Finding] = []
        if self.online is not None:
            self.online.feed(line, text)
            if self.online.dirty:
                out = self._relayout(line)
        ctx = self.ctx
        ctx.start_line(line)
        structured = _FORMATS.match(text, ctx)
        out += structured
        for prefix in self._gate:
            if prefix in text:
                out += scan_pointers(text, ctx)
                break
        if not structured and "pfn" in text:
            out += scan_loose_pfns(text, ctx)
        rec = ctx.record
        if rec is not None and not ctx.touched:
            rec.idle += 1
            if rec.after_reason or rec.idle >= 3:
                ctx.record = None
        if ctx.fault is not None:
            ctx.fault_age += 1
            if ctx.fault_age > 8:
                ctx.fault = None
        return out


def decode_lines(lines: TextIO | Iterable[str], *, arch: str = "x86_64",
                 calibration: Calibration | None = None, skim: bool = True) -> Iterator[Finding]:
    """Stream findings from raw log lines (pass 2).

    ``lines`` may be a file (read in blocks) or any iterable of lines.  With
    ``calibration`` (from `calibrate`) its findings come first, then the rest in line
    order.  Without it the decoder calibrates while it reads: lines before the first
    (pointer, pfn) pair are decoded with the arch defaults.  With ``skim`` False every
    line is read (the reference the skimming path is tested against).
    """
    return decode_blocks(blocks_of(lines), arch=arch, calibration=calibration, skim=skim)


def decode_blocks(blocks: Iterable[Block], *, arch: str = "x86_64",
                  calibration: Calibration | None = None, skim: bool = True) -> Iterator[Finding]:
    """`decode_lines` over blocks of text (see `source.blocks_of`)."""
    for _, _, found in decode_with_lines(blocks, arch=arch, calibration=calibration, skim=skim):
        yield from found


def decode_with_lines(blocks: Iterable[Block], *, arch: str = "x86_64", calibration: Calibration | None = None,
                      skim: bool = True, lpae: bool | None = None) -> Iterator[tuple[int, str, list[Finding]]]:
    """(line number, cleaned logical line, its findings) for every line read; the
    calibration findings come first with line 0 and no text.  What `report.Reporter` reads.
    ``lpae``: what the log showed of a 32-bit ARM kernel's page tables (`detect`)."""
    dec = _Decoder(arch, calibration, lpae)
    first = dec.start()
    if first:
        yield 0, "", first
    for number, text in skim_lines(blocks, dec.anchors() if skim else None, dec.quiet):
        yield number, text, dec.feed(number, text)


def decode_text(text: str, *, arch: str = "x86_64", skim: bool = True) -> list[Finding]:
    """Calibrate on the whole text, then decode it: calibration findings first."""
    cal = calibrate_blocks(blocks_of_text(text), arch, skim=skim)
    return list(decode_blocks(blocks_of_text(text), arch=arch, calibration=cal, skim=skim))
