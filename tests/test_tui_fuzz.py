"""Random keys, commands and pastes through the whole console: nothing may crash it.

`App.run_test()` re-raises any exception a handler let through when the test leaves it,
so every example below fails on an unhandled exception anywhere in the app.
"""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_robustness import line_strategy
from textual.widgets import TextArea

from pfnconsole.commands import Session
from pfnconsole.tui.app import PfnApp
from pfnconsole.tui.paste_screen import PasteScreen

KEYS = ["f1", "f2", "f3", "f5", "f6", "f8", "escape", "tab", "up", "down", "left", "right",
        "enter", "backspace", "ctrl+z", "pageup", "pagedown", "home", "end", "space", "a",
        "l", "0", "x", "1", "q", "y", "n", "ctrl+r"]
PASTES = [
    "BUG: Bad page state in process a.out  pfn:7fe84",
    "[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
    "[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x000000043fffffff] usable\n"
    "[    0.000000] BIOS-e820: [mem 0x0000000440000000-0x000000053fffffff] persistent (type 12)",
    "page:ffffea0004018000 refcount:0 mapcount:-128 mapping:0000000000000000 index:0x0 pfn:0x100600",
    "",
    "\x00\x1b[31m garbage \udcff",
]


def action():
    return st.one_of(
        st.tuples(st.just("line"), line_strategy()),
        st.tuples(st.just("keys"), st.lists(st.sampled_from(KEYS), min_size=1, max_size=6)),
        st.tuples(st.just("paste"), st.one_of(st.sampled_from(PASTES),
                                               st.text(max_size=300))),
    )


async def play(actions) -> None:
    app = PfnApp(Session())
    async with app.run_test(size=(120, 36)) as pilot:
        for kind, what in actions:
            if kind == "line":
                if what.split()[:1] in (["save"], ["load"]):
                    continue  # they touch files: tests/test_safety.py covers them
                app.run_line(what)
            elif kind == "keys":
                await pilot.press(*what)
            else:
                if not isinstance(app.screen, PasteScreen):
                    await pilot.press("f4")
                    await pilot.pause()
                if isinstance(app.screen, PasteScreen):
                    app.screen.query_one("#paste-text", TextArea).text = what
                    await pilot.press("ctrl+r")
                    await pilot.press("enter")
            await pilot.pause()
            if not app.is_running:
                break


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(action(), min_size=4, max_size=24))
def test_random_keys_commands_and_pastes_never_crash_the_console(actions):
    asyncio.run(play(actions))
