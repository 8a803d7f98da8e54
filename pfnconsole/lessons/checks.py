"""The ```expect checks: a key of a command's JSON result against a value."""

from __future__ import annotations

from typing import Any

from ..commands import Result
from .lesson import Expectation

_MISSING = object()


def lookup(data: object, path: str) -> object:
    """``steps.0.name`` in a JSON-like value; _MISSING when absent."""
    for part in path.split("."):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.lstrip("-").isdigit() and -len(data) <= int(part) \
                < len(data):
            data = data[int(part)]
        else:
            return _MISSING
    return data


def check(exp: Expectation, result: Result) -> str | None:
    """None when the result meets the expectation, else what was wrong."""
    doc = result.to_json()
    # compared as Python compares: values of kinds that do not order raise TypeError, below
    actual: Any
    if exp.path == "text":
        actual = result.text()
    elif exp.path == "error":
        actual = result.error or ""
    else:
        actual = lookup(doc, exp.path)
    if actual is _MISSING:
        return f"{exp.describe()}: the result has no {exp.path!r} (keys: " \
               f"{', '.join(sorted(doc))})"
    v = exp.value
    ok = False
    try:
        if exp.op == "=":
            ok = actual == v
        elif exp.op == "!=":
            ok = actual != v
        elif exp.op == "~":
            ok = (v in actual) if isinstance(actual, list) else (str(v) in str(actual))
        else:
            ok = {"<": actual < v, "<=": actual <= v, ">": actual > v,
                  ">=": actual >= v}[exp.op]
    except TypeError:
        return f"{exp.describe()}: cannot compare {actual!r} with {v!r}"
    if ok:
        return None
    shown = hex(actual) if isinstance(actual, int) and not isinstance(actual, bool) \
        and actual > 9 else repr(actual)
    return f"{exp.describe()}: got {shown}"


__all__ = ["check", "lookup"]
