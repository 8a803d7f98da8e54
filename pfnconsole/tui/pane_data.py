"""What the app hands its panes: a result's data, the profile line, the decoder's choice."""

from __future__ import annotations

from typing import Any

from ..commands import Result
from ..core.arch import parse_kver
from ..core.cpu_profiles import PROFILES
from ..core.errors import EngineError
from .decoder_pane import ABI_CHOICES


def data_of(result: Result | None) -> dict[str, Any] | None:
    """A result's data for a pane, with the command that made it."""
    return None if result is None else {**result.data, "cmd": result.cmd}


def profile_line(profile: str) -> str:
    """The CPU profile the figures are modelled on, as the cost pane names it."""
    p = PROFILES[profile]
    return f"{p.name} {p.ghz:g} GHz"


def decoder_abi(abi: str) -> str:
    """The decoder pane's choice for an encoding: the era of ``pfn_t:KVER`` that holds it."""
    name, _, kver = abi.partition(":")
    if name != "pfn_t":
        return name if name in ("v5", "sg") else "v5"
    eras = [c for _, c in ABI_CHOICES if c.startswith("pfn_t:")]
    if not kver:
        return eras[-1]
    try:
        want = parse_kver(kver)
    except EngineError:
        return eras[-1]
    fit = [e for e in eras if parse_kver(e.partition(":")[2]) <= want]
    return fit[-1] if fit else eras[0]
