"""Every pane is a view of (current state, last answer): after commands, undo and lesson
steps both ways, what stays on screen is the engine's answer, drawn on one scale."""

from __future__ import annotations

from textual.widgets import Static

from pfnconsole.commands.costs import model_ns_text
from pfnconsole.lessons import load
from pfnconsole.tui.app import PfnApp


def text(app, selector: str) -> str:
    return "\n".join(str(s.content.plain if hasattr(s.content, "plain") else s.content)
                     for s in app.query_one(selector).query(Static))


def log(app) -> str:
    return "\n".join(line.text for line in app.query_one("#log").lines)


def bar_cells(cost_text: str, path: str) -> int:
    """The █ run on the line that names ``path`` in the cost pane."""
    line = next(ln for ln in cost_text.splitlines() if ln.startswith(path))
    return line.count("█")


async def run(app, pilot, line: str) -> None:
    app.run_line(line)
    await pilot.pause()


def assert_panes_match(app) -> None:
    """Ranges, cost and decoder panes against the session: nothing stale, nothing missing."""
    s = app.session
    live = [r["name"] for r in s.query("ranges").data["ranges"] if r["state"] == "live"]
    ranges = text(app, "#ranges")
    for name in live:
        assert name in ranges
    walk = s.view.walk
    cost = text(app, "#cost")
    if walk is None:
        assert "◀" not in ranges and "walk:" not in ranges
    else:
        d = walk.data
        for st in d["steps"]:
            assert f"◀ {st['index']} {'hit' if st['hit'] else 'miss'} {st['loads']} ld " \
                   f"{model_ns_text(st['model_ns'])}" in ranges
        if d.get("list_needed", True):
            assert f"{d['list_loads']} loads, {model_ns_text(d['list_model_ns'])}" in ranges
    if s.view.cost is None:
        assert "no walk to show: kmap, kunmap, lookup or sweep" in cost
    else:
        d = s.view.cost.data
        for path in ("list", "section", "page"):
            if f"{path}_loads" in d and d.get(f"{path}_needed", True):
                line = next(ln for ln in cost.splitlines() if ln.startswith(path))
                assert f"{d[path + '_loads']} ld" in line
                assert model_ns_text(d[f"{path}_model_ns"]) in line


async def test_a_scripted_session_keeps_every_pane_true():
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        app.query_one("#ranges").speed = "instant"
        assert_panes_match(app)
        for i in range(3):
            await run(app, pilot, f"register r{i} 0x{0x10 + i:x}00000000 4G")
            assert_panes_match(app)
        await run(app, pilot, "kmap 0x1000600 dev")  # the oldest: three nodes
        assert_panes_match(app)
        d = app.session.view.walk.data
        assert d["list_steps"] == 3 and d["list_loads"] == 11
        # one scale: the list bar is longer than the section bar by the loads ratio
        cost = text(app, "#cost")
        lst, sec = bar_cells(cost, "list"), bar_cells(cost, "section")
        assert lst > sec and abs(lst * d["section_loads"] / d["list_loads"] - sec) <= 1
        # the same figure in the ranges pane, the cost pane and the log
        figure = model_ns_text(d["list_model_ns"])
        assert figure in text(app, "#ranges") and figure in cost and figure in log(app)
        assert "(simulator)" not in text(app, "#ranges") and "sim_ns" not in cost
        await run(app, pilot, "undo")
        assert app.session.view.walk is None
        assert_panes_match(app)
        assert "◀" not in text(app, "#ranges")
        await run(app, pilot, "lookup 0x1100600")  # lookup updates the walk too
        assert app.session.view.walk.cmd == "lookup"
        assert_panes_match(app)
        await run(app, pilot, "encode 0xe0000 abi=pfn_t kver=6.1")  # and encode the decoder
        await pilot.pause()
        assert "pfn 0xe0000" in text(app, "#decoder")


async def test_lesson_steps_back_and_the_panes_follow():
    app = PfnApp(lesson=load("06-cost"))
    async with app.run_test(size=(160, 48)) as pilot:
        app.query_one("#ranges").speed = "instant"
        seen = []
        for _ in range(6):
            await pilot.press("f5")
            await pilot.pause()
            if app.player.waiting:  # the step's exercise: the student asks for the answer
                app.query_one("#cmd").focus()
                await pilot.press(*"show", "enter")
                await pilot.pause()
            assert_panes_match(app)
            seen.append((text(app, "#ranges"), text(app, "#cost")))
        for back in range(3):
            await pilot.press("f8")
            await pilot.pause()
            assert_panes_match(app)
            # the panes are those of the step we are back at, not of the one we left
            assert (text(app, "#ranges"), text(app, "#cost")) == seen[-2 - back]


async def test_a_ram_page_shows_the_page_path_and_no_walk():
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        await run(app, pilot, "register r0 0x1000000000 4G")
        await run(app, pilot, "kmap 0x100600")
        cost = text(app, "#cost")
        assert "list    not taken" in cost and "section not taken" in cost
        assert bar_cells(cost, "page") >= 1 and "× loads" not in cost
        assert "no list walk" in text(app, "#ranges")
