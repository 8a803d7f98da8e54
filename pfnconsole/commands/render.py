"""Turning core answers into a Result: JSON-safe data by one generic function, and text.

``to_data(answer, "cpu", "addr", list_steps="list_cost.steps")`` picks fields of a frozen
core result (dotted paths reach into nested ones) and makes each JSON-safe: dataclasses
become dicts, tuples lists, enums their value, dict keys strings.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping
from typing import Any

from ..core.units import human_size, hx, ns_text, size_text
from .result import Result

__all__ = ["human_size", "hx", "json_view", "jsonable", "ns_text", "ok", "size_text", "to_data"]


def jsonable(value: Any) -> Any:
    """``value`` as JSON-safe data (ints stay ints: JSON has no hex)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(jsonable(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, Iterable):
        return [jsonable(v) for v in value]
    raise TypeError(f"no JSON form for {type(value).__name__}")


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if obj is not None:
            obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
    return obj


def to_data(answer: Any, *names: str, **renamed: str) -> dict[str, Any]:
    """The named fields of ``answer`` (``key="dotted.path"`` to rename), JSON-safe."""
    out = {name: jsonable(_get(answer, name)) for name in names}
    out.update((key, jsonable(_get(answer, path))) for key, path in renamed.items())
    return out


def ok(cmd: str, echo: str, data: dict[str, Any], lines: list[str], parsed: dict[str, Any],
       warnings: Iterable[str] = ()) -> Result:
    """An accepted command's Result."""
    return Result(cmd=cmd, ok=True, data=data, lines=lines, parsed=parsed, echo=echo,
                  warnings=list(warnings))


def json_view(result: Result, switches: Iterable[str]) -> Result:
    """``--json``: a view's lines become its data as indented JSON (the data is the same)."""
    if "json" in switches:
        import json
        result.lines = json.dumps(result.data, indent=1).splitlines()
    return result
