"""What the benchmark's figures share: sizes, medians, a rate, and the child process."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

MiB, GiB, TiB = 1 << 20, 1 << 30, 1 << 40
ROOT = Path(__file__).resolve().parent.parent
"""The checkout: the child processes run from here."""

Json = dict[str, Any]


def median(xs: Iterable[float]) -> float:
    xs = list(xs)
    return statistics.median(xs) if xs else 0.0


def rate(fn: Callable[[], None], seconds: float) -> float:
    """Calls per second of ``fn`` over about ``seconds``."""
    n, t0 = 0, time.perf_counter()
    while True:
        for _ in range(100):
            fn()
        n += 100
        dt = time.perf_counter() - t0
        if dt >= seconds:
            return n / dt



def run_child(name: str, *args: str, env: dict[str, str] | None = None,
              timeout: float = 3600) -> Json:
    """``python -m bench.child NAME ARGS...`` from the checkout; its JSON line."""
    p = subprocess.run([sys.executable, "-m", "bench.child", name, *args], cwd=ROOT,
                       capture_output=True, text=True, timeout=timeout,
                       env=None if env is None else {**os.environ, **env})
    if p.returncode != 0:
        raise RuntimeError(f"bench.child {name} failed (status {p.returncode}): {p.stderr[-2000:]}")
    out: Json = json.loads(p.stdout)
    return out
