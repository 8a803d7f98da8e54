"""Run the full benchmark and write BENCHMARKS.md (or render a saved --json result).

    python bench/write_benchmarks.py            # runs `pfnconsole bench` in full (minutes)
    python bench/write_benchmarks.py --huge 1   # and decodes a 1 GiB log as well
    python bench/write_benchmarks.py out.json   # renders a result saved with --json
"""

from __future__ import annotations

import io
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# run as a script, sys.path[0] is bench/ itself: the checkout has to be there for
# `bench.suite` (and for the checkout's pfnconsole, when it is not installed)
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import MiB  # noqa: E402
from bench.decoding import decoder_huge  # noqa: E402
from bench.report import report  # noqa: E402
from bench.suite import run  # noqa: E402


def machine_line() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo", encoding="utf-8", errors="replace") as f:
            kb = int(next(l for l in f if l.startswith("MemTotal")).split()[1])
        mem = f", {kb / (1 << 20):.0f} GiB RAM"
    except (OSError, StopIteration):
        pass
    return (f"{os.cpu_count()} cores ({cpu}){mem}, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}")


def main() -> None:
    args = sys.argv[1:]
    huge = 0
    if args[:1] == ["--huge"]:
        huge, args = int(args[1]), args[2:]
    res: dict[str, Any]
    if args:
        with open(args[0], encoding="utf-8") as f:
            res = json.load(f)
    else:
        res = run(quick=False)
    if huge:
        res["decoder"]["huge"] = decoder_huge(huge * 1024 * MiB)
    text = io.StringIO()
    report(res, text)
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True, cwd=ROOT).stdout.strip()
    body = (ROOT / "bench" / "BENCHMARKS.template.md").read_text(encoding="utf-8")
    body = body.replace("{machine}", machine_line()).replace("{rev}", rev or "?")
    body = body.replace("{report}", text.getvalue().rstrip())
    body = body.replace("{json}", json.dumps(res, indent=1))
    (ROOT / "BENCHMARKS.md").write_text(body, encoding="utf-8")
    print("wrote", ROOT / "BENCHMARKS.md")


if __name__ == "__main__":
    main()
