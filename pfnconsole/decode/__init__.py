"""Decode pasted kernel log text into findings about physical pages.

Two passes over the same lines: `calibrate` infers the layout numbers the log implies
(sizeof(struct page), the vmemmap and direct-map bases, the page size); `decode_lines`
streams `Finding` values, one per fact, in line order.  `decode_text` does both on a
string.  Pure Python and standard library only: no UI library is imported here.

Output order: with a `Calibration` (as `decode_text` passes one), the ``calibration``
findings come first, then everything else by line number.

Layout of the package: the formats, an ordered tuple (`formats.FORMATS`) of small
classes by subject (`pages`, `traces`, `boot`, `devices`, `tables`) on the base class of
`base`; the scanners of `scan`; `clean` (prefixes, quotes, wrapped lines); `source` (the
log as blocks of lines); `skim` (which lines of a big log are worth reading); `layout`
(address arithmetic from `pfnconsole.core.arch`); `calibrate` (pass 1, with `solve`) and
`stream` (pass 2).  Above them: `detect` (the machine a log came from, clues in
`detect_clues`), `reading` (both passes over a whole log), `report` and `page_report` (a
report per page, with `flags_reading` for page->flags and `meaning` for what it means).
"""

from __future__ import annotations

from .calibrate import Calibrator, calibrate
from .model import LIMIT_LINE, Calibration, Finding, Kind
from .source import blocks_of, blocks_of_text
from .stream import decode_lines, decode_text

__all__ = [
    "LIMIT_LINE",
    "Calibration",
    "Calibrator",
    "Finding",
    "Kind",
    "blocks_of",
    "blocks_of_text",
    "calibrate",
    "decode_lines",
    "decode_text",
]
