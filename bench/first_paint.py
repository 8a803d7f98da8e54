"""First paint in a real terminal: how long `pfnconsole` takes to show its command line in tmux.

    python bench/first_paint.py [RUNS] [COMMAND]

Starts COMMAND (default: the checkout's ``python -m pfnconsole``) in a detached 160x48
tmux session, polls the screen every 5 ms until the command line's placeholder
("type a command") is drawn, and reports the median and spread of RUNS starts (default
10).  Needs tmux.  To compare two versions, run it with each one's interpreter, one
after the other, on an idle machine.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

MARK = "type a command"
TIMEOUT = 30.0


def once(command: str, name: str) -> float:
    subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
    t0 = time.perf_counter()
    subprocess.run(["tmux", "new", "-d", "-s", name, "-x", "160", "-y", "48", command], check=True)
    try:
        while time.perf_counter() - t0 < TIMEOUT:
            screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", name],
                                    capture_output=True, text=True).stdout
            if MARK in screen:
                return time.perf_counter() - t0
            time.sleep(0.005)
        raise SystemExit(f"first_paint: no command line after {TIMEOUT:.0f} s")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def main() -> None:
    if shutil.which("tmux") is None:
        raise SystemExit("first_paint: needs tmux")
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    command = sys.argv[2] if len(sys.argv) > 2 else f"{sys.executable} -m pfnconsole"
    once(command, "first-paint-warm")  # the first start fills the OS file cache
    times = [once(command, f"first-paint-{i}") for i in range(runs)]
    print(f"first paint of `{command}` in tmux 160x48, {runs} runs: median "
          f"{statistics.median(times):.3f} s, min {min(times):.3f} s, max {max(times):.3f} s")


if __name__ == "__main__":
    main()
