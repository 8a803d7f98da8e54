"""A whole log read: the machine it came from, its layout, its findings and its pages.

Pass 1 reads what tells the machine (`detect.Detector`, on the first `DETECT_CHARS` of the
log), then the layout numbers for that arch (`calibrate`, on all of it).  Pass 2 streams the findings
(`stream.decode_with_lines`) into a `report.Reporter`.  ``blocks`` is a function that gives
the log's blocks afresh for each pass (a file is rewound, a text re-split).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from ..core.arch import LOG_ARCH_NAMES, canonical_arch
from .calibrate import calibrate_blocks
from .detect import Detected, Detector
from .model import Calibration, Finding
from .page_report import PageReport
from .report import Reporter
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


DETECT_CHARS = 4 << 20
"""How much of a log the machine is detected from: all of a paste, the first 4 Mi
characters of a big log (its boot lines and first reports), less once the detector is
settled; the layout is calibrated on all of it."""


def _head(blocks: Iterable[Block], limit: int) -> Iterator[Block]:
    """The blocks up to and including the one that reaches ``limit`` characters."""
    seen = 0
    for block in blocks:
        yield block
        seen += len(block) if isinstance(block, str) else sum(map(len, block))
        if seen >= limit:
            return


def first_pass(blocks: Callable[[], Iterable[Block]], arch: str | None, skim: bool = True,
               fallback: str = DEFAULT_ARCH) -> tuple[str, str, Detected, Calibration]:
    """(arch, why that arch, what the log shows of its machine, its calibration); ``arch``
    given wins, else the detected one, else ``fallback``."""
    det = Detector()
    for number, text in skim_lines(_head(blocks(), DETECT_CHARS), Anchors(det.keys()) if skim else None,
                                   lambda: True):
        det.feed(number, text)
        if det.settled():
            break
    found = det.result()
    if arch:
        chosen = canonical_arch(arch)
        how = f"given: {chosen}"
        if found.arch and found.arch != chosen:
            how += f" (the log looks like {found.arch}: " + "; ".join(_distinct(found.evidence, found.arch)[:2]) + ")"
    else:
        chosen = found.arch if found.arch in LOG_ARCH_NAMES else fallback
        how = ("detected: " + "; ".join(_distinct(found.evidence, found.arch)[:2])) if found.arch else \
            "assumed: nothing in the log names its arch"
    return chosen, how, found, calibrate_blocks(blocks(), chosen, skim=skim)


def _distinct(evidence: tuple[str, ...], arch: str | None) -> list[str]:
    """The clues, one per kind: first those that name ``arch`` alone, in the detector's order."""
    seen: dict[str, str] = {}
    for e in sorted(evidence, key=lambda e: not e.startswith(f"{arch}:")):
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
