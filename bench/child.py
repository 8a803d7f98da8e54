"""The measurements that need a fresh process, one JSON object on stdout each.

    python -m bench.child scale              # the 64 TiB machine: import, build, RSS, lookups/s
    python -m bench.child baseline           # the interpreter with the core imported: RSS
    python -m bench.child decode PATH RUNS   # the decoder over PATH, the best of RUNS

Run from the repository root (`suite.run_child` does), so ``bench`` and the checkout's
``pfnconsole`` are the ones imported.  Nothing of the project is imported at module
level: each measurement imports what it measures, and times it.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from typing import Any


def hwm() -> float:
    """VmHWM: this process's peak RSS in MB (``ru_maxrss`` would carry the parent's over exec)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def scale() -> dict[str, Any]:
    """A 64 TiB x86_64-5level machine with 16 TiB of pmem: time to import and build, peak
    RSS, and pfn_to_page / pfn_valid calls per second over random pfns."""
    t0 = time.perf_counter()
    from pfnconsole.core.machine import Machine, MachineSpec
    t1 = time.perf_counter()
    m = Machine(MachineSpec(arch="x86_64-5level", ram=64 << 40, pmem=((16 << 40, 16 << 40),)))
    t2 = time.perf_counter()
    sp = m.state.sparse
    top = m.state.physmap.top >> m.state.arch.page_shift
    rng = random.Random(1)
    pfns = [rng.randrange(top) for _ in range(200_000)]
    t3 = time.perf_counter()
    for p in pfns:
        sp.pfn_to_page(p)
    t4 = time.perf_counter()
    valid = sum(sp.pfn_valid(p) for p in pfns)
    t5 = time.perf_counter()
    return {"import_s": round(t1 - t0, 3), "build_s": round(t2 - t1, 4),
            "peak_rss_mb": hwm(),
            "sections_present": sp.nr_present, "roots": len(sp.roots),
            "pfn_to_page_per_s": round(len(pfns) / (t4 - t3)),
            "pfn_valid_per_s": round(len(pfns) / (t5 - t4)),
            "valid_fraction": round(valid / len(pfns), 3)}


def baseline() -> dict[str, Any]:
    """The interpreter with the core imported and nothing built: what `scale` adds to."""
    import pfnconsole.core.machine  # noqa: F401  (imported for its memory, not its names)
    return {"peak_rss_mb": hwm()}


def decode(path: str, runs: str = "1") -> dict[str, Any]:
    """Read ``path`` as `pfnconsole decode` does (`decode.reading.read_blocks`: pass 1 detects
    the machine and calibrates, pass 2 decodes into page reports), the best of ``runs``:
    findings, page reports, seconds for both passes and for pass 1."""
    from pfnconsole.decode.reading import first_pass
    from pfnconsole.decode.report import Reporter
    from pfnconsole.decode.skim import blocks_of
    from pfnconsole.decode.stream import decode_with_lines
    best: tuple[float, float] | None = None
    n = pages = 0
    for _ in range(int(runs)):
        t0 = time.perf_counter()
        with open(path, encoding="utf-8", errors="replace") as f:
            def blocks() -> Any:
                f.seek(0)
                return blocks_of(f)
            arch, _, found, cal = first_pass(blocks, None)
            t1 = time.perf_counter()
            reporter = Reporter(arch, cal, found.kver)
            n = 0
            for number, text, findings in decode_with_lines(blocks(), arch=arch, calibration=cal,
                                                            lpae=found.lpae):
                reporter.feed(number, text, findings)
                n += len(findings)
            pages = len(reporter.reports())
        t2 = time.perf_counter()
        if best is None or t2 - t0 < best[0]:
            best = (t2 - t0, t1 - t0)
    if best is None:
        raise SystemExit("bench.child decode: RUNS must be at least 1")
    return {"findings": n, "pages": pages, "decode_s": best[0], "calibrate_s": best[1],
            "peak_rss_mb": hwm()}


MEASUREMENTS: dict[str, Callable[..., dict[str, Any]]] = {
    "scale": scale,
    "baseline": baseline,
    "decode": decode,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in MEASUREMENTS:
        sys.stderr.write(f"usage: python -m bench.child {{{','.join(MEASUREMENTS)}}} [ARGS...]\n")
        return 2
    print(json.dumps(MEASUREMENTS[argv[0]](*argv[1:])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
