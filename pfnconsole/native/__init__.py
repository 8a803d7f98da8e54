"""Measured on this CPU: the optional native probe (`pfnconsole._probe`, C) and the code
that times it (`measure`). The probe is a user-space replica of the 2015 loop and layout,
not the kernel; without a C compiler at install time it is absent and `available()` says so."""

from __future__ import annotations

import importlib
from types import ModuleType


def probe() -> ModuleType | None:
    """The built probe module, or None."""
    try:
        return importlib.import_module("pfnconsole._probe")
    except ImportError:
        return None


def unavailable() -> str:
    """Why the probe is missing, in words ("" when it is there)."""
    if probe() is not None:
        return ""
    return ("the native probe is not built (pfnconsole._probe: no C compiler when pfnconsole "
            "was installed); reinstall with a C compiler to measure on this CPU")


__all__ = ["probe", "unavailable"]
