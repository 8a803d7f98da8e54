"""A whole log read: the machine it came from, its layout, its findings and its pages.

Pass 1 reads, in one skim, what tells the machine (`detect.Detector`) and the layout numbers
(`calibrate.Calibrator`, for the arch asked or x86_64); when the log turns out to come from
another arch, the layout is read again for that one.  Pass 2 streams the findings
(`stream.decode_with_lines`) into a `report.Reporter`.  ``blocks`` is a function that gives
the log's blocks afresh for each pass (a file is rewound, a text re-split).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..core.arch import LOG_ARCH_NAMES, canonical_arch
from .calibrate import Calibrator, calibrate_blocks
from .detect import Detected, Detector
from .model import Calibration, Finding
from .report import PageReport, Reporter
from .skim import Anchors, skim_lines
from .source import Block, blocks_of_text
from .stream import decode_with_lines

DEFAULT_ARCH = "x86_64"


@dataclass(frozen=True)
class LogReading:
    """What `read_blocks` found."""

    arch: str
    arch_how: str
    """Why this arch: "given (--arch)", the detector's evidence, or "default"."""
    detected: Detected
    calibration: Calibration
    findings: tuple[Finding, ...]
    """Every finding, unless the caller took them as they came (``keep=False``)."""
    pages: tuple[PageReport, ...]
    more_pages: int
    """Pages named beyond `report.MAX_PAGES`."""

    @property
    def kver(self) -> tuple[int, int] | None:
        return self.detected.kver


def first_pass(blocks: Callable[[], Iterable[Block]], arch: str | None, skim: bool = True,
               fallback: str = DEFAULT_ARCH) -> tuple[str, str, Detected, Calibration]:
    """(arch, why that arch, what the log shows of its machine, its calibration); ``arch``
    given wins, else the detected one, else ``fallback``."""
    det = Detector()
    guess = canonical_arch(arch) if arch else fallback
    cal = Calibrator(guess)
    keys = tuple(dict.fromkeys(cal.keys() + det.keys()))
    for number, text in skim_lines(blocks(), Anchors(keys) if skim else None, cal.quiet):
        det.feed(number, text)
        cal.feed(number, text)
    found = det.result()
    if arch:
        how = f"given: {guess}"
        if found.arch and found.arch != guess:
            how += f" (the log looks like {found.arch}: " + "; ".join(_distinct(found.evidence)[:2]) + ")"
        return guess, how, found, cal.result()
    chosen = found.arch if found.arch in LOG_ARCH_NAMES else fallback
    how = ("detected: " + "; ".join(_distinct(found.evidence)[:2])) if found.arch else \
        f"{fallback}: nothing in the log names its arch"
    if chosen != guess:
        return chosen, how, found, calibrate_blocks(blocks(), chosen, skim=skim)
    return chosen, how, found, cal.result()


def _distinct(evidence: tuple[str, ...]) -> list[str]:
    """The clues, strongest first as the detector lists them, one per kind of clue."""
    seen: dict[str, str] = {}
    for e in evidence:
        seen.setdefault(e.split(" (line")[0], e)
    return list(seen.values())


def read_blocks(blocks: Callable[[], Iterable[Block]], arch: str | None = None, *, keep: bool = True,
                on_finding: Callable[[Finding], None] | None = None, skim: bool = True,
                fallback: str = DEFAULT_ARCH, cancelled: Callable[[], bool] = lambda: False
                ) -> LogReading | None:
    """Read a log in two passes; each finding goes to ``on_finding`` as it comes.  None once
    ``cancelled()`` (asked every 256 lines read)."""
    chosen, how, found, cal = first_pass(blocks, arch, skim, fallback)
    reporter = Reporter(chosen, cal, found.kver)
    kept: list[Finding] = []
    for i, (number, text, findings) in enumerate(
            decode_with_lines(blocks(), arch=chosen, calibration=cal, skim=skim, lpae=found.lpae)):
        if i % 256 == 255 and cancelled():
            return None
        reporter.feed(number, text, findings)
        if keep:
            kept.extend(findings)
        if on_finding is not None:
            for f in findings:
                on_finding(f)
    return LogReading(chosen, how, found, cal, tuple(kept), tuple(reporter.reports()), reporter.more)


def read_text(text: str, arch: str | None = None, *, skim: bool = True, fallback: str = DEFAULT_ARCH,
              cancelled: Callable[[], bool] = lambda: False) -> LogReading | None:
    """`read_blocks` on a string."""
    return read_blocks(lambda: blocks_of_text(text), arch, skim=skim, fallback=fallback, cancelled=cancelled)


__all__ = ["DEFAULT_ARCH", "LogReading", "first_pass", "read_blocks", "read_text"]
