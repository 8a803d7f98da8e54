"""Bars on one axis: every path compared in a pane is drawn against the same scale.

Lengths are runs of full blocks (█), so they can be counted.  The axis is linear while the
largest value is at most ``width`` times the smallest non-zero one (then a bar's length is
its value's share of the widest, to the nearest cell); past that it is log10, and the
axis label says so.  Zero draws no block.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Axis:
    top: float
    """The value the full width stands for."""
    width: int
    log: bool

    def cells(self, value: float) -> int:
        if value <= 0 or self.top <= 0:
            return 0
        if self.log:
            # 1 maps to one cell, top to the full width
            span = math.log10(self.top) or 1.0
            return max(1, round(1 + (self.width - 1) * math.log10(max(value, 1)) / span))
        return max(1, round(self.width * value / self.top))

    def label(self, unit: str) -> str:
        top = f"{self.top:.0f}" if self.top >= 10 else f"{self.top:.2g}"
        return (f"log scale: 1 to {top} {unit}" if self.log
                else f"one scale: 0 to {top} {unit}")


def axis(values: Sequence[float], width: int) -> Axis:
    """The one axis for ``values`` in ``width`` cells."""
    width = max(width, 4)
    nonzero = [v for v in values if v > 0]
    top = max(nonzero, default=0.0)
    low = min(nonzero, default=0.0)
    return Axis(top, width, bool(nonzero) and top / low > width)


def bar(value: float, ax: Axis) -> str:
    """The blocks for ``value``, padded to the axis width."""
    n = ax.cells(value)
    return "█" * n + " " * (ax.width - n)
