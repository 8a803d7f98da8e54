"""Write the README's SVG screenshots of the Textual console to docs/.

Run from the repository root: ``python tools/screenshots.py``.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

from pfnconsole.tui.app import PfnApp
from pfnconsole.tui.memory_pane import MemoryPane

OUT = Path(__file__).resolve().parent.parent / "docs"
WALK = ("register pmem0 0x100000000 4G", "register pmem1 0x440000000 4G",
        "register pmem2 0x540000000 4G", "kmap 0x100600", "kmap 0x100600 dev")
"""Three ranges, a RAM page, then a walk to the oldest range: every pane has something."""


async def shoot(name: str, size: tuple[int, int], lines=WALK, after=None) -> None:
    app = PfnApp()
    async with app.run_test(size=size) as pilot:
        app.query_one("#ranges").speed = "instant"
        for line in lines:
            await pilot.press(*line, "enter")
            await pilot.pause()
        if after:
            await after(app, pilot)
        await pilot.pause(0.5)
        app.save_screenshot(str(OUT / f"{name}.svg"))
        print("wrote", OUT / f"{name}.svg")


async def select_pmem(app, pilot) -> None:
    app.run_line("page 0x440600")
    await pilot.pause()


async def help_screen(app, pilot) -> None:
    app.query_one(MemoryPane).focus()
    await pilot.press("f1")
    await pilot.pause()


async def main() -> None:
    counter = itertools.count(0, 250)  # steady "ns" so the pictures do not churn
    time.perf_counter_ns = lambda: next(counter)
    await shoot("console-160x48", (160, 48))
    await shoot("console-120x40", (120, 40))
    await shoot("console-80x24", (80, 24), after=select_pmem)
    await shoot("help-160x48", (160, 48), lines=(), after=help_screen)


if __name__ == "__main__":
    asyncio.run(main())
