"""Kernel versions as the user writes them ('4.16', 'v6.9', '5.10.3', '6.17-rc1')."""

from __future__ import annotations

import re

from .errors import EngineError

_KVER_RE = re.compile(r"^v?(\d{1,2})\.(\d{1,3})(?:\.(\d{1,4}))?(?:-rc\d{1,2})?$")


def parse_kver(kver: str) -> tuple[int, int, int]:
    """Parse "X.Y", "vX.Y", "X.Y.Z" or "X.Y-rcN" into ``(X, Y, Z)`` (Z = 0 when absent)."""
    if not isinstance(kver, str):
        raise EngineError(f"kernel version must be text like 4.16, not {kver!r}")
    m = _KVER_RE.match(kver.strip())
    if not m:
        raise EngineError(f"kernel version {kver!r} not understood; write it as X.Y, e.g. 4.16")
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
