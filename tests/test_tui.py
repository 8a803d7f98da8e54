"""The Textual console, driven as a person would: type commands, look at the panes."""

from __future__ import annotations

import itertools
import time

import pytest
from textual.widgets import Static

from pfnconsole.commands import Session
from pfnconsole.tui.app import HelpScreen, PfnApp
from pfnconsole.tui.memory_pane import MemoryPane


def text(app, selector: str) -> str:
    """The plain text of every Static inside the widget ``selector``."""
    return "\n".join(str(s.content.plain if hasattr(s.content, "plain") else s.content)
                     for s in app.query_one(selector).query(Static))


async def type_line(pilot, line: str) -> None:
    await pilot.press(*line, "enter")
    await pilot.pause()


async def test_the_issue_walkthrough_at_160x48():
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        app.query_one("#ranges").speed = "instant"
        assert not app.screen.has_class("narrow")
        for pane in ("#memory", "#ranges", "#decoder", "#rcu", "#cost", "#log", "#cmd"):
            assert app.query_one(pane).display, pane
        await type_line(pilot, "register pmem0 0x100000000 4G")
        await type_line(pilot, "kmap 0x100600 dev")
        await pilot.pause()
        ranges = text(app, "#ranges")
        assert "pmem0" in ranges and "◀ 1 hit 5 ld" in ranges and "walk: 1 node(s), 5 loads" in ranges
        assert "readers 1" in text(app, "#rcu")
        cost = text(app, "#cost")
        assert "5 ld" in cost.splitlines()[1] and "2 ld" in cost.splitlines()[2]
        decoder = text(app, "#decoder")
        assert "pfn 0x100600" in decoder and "PFN_DEV" in decoder and "no struct page" in decoder
        await type_line(pilot, "teardown pmem0")
        rcu = text(app, "#rcu")
        assert "GP#1" in rcu and "waiting on cpu 0" in rcu
        assert "unlinked" in text(app, "#ranges")
        await type_line(pilot, "kunmap 0xffffc90000600000")
        assert "no grace period in flight" in text(app, "#rcu")
        assert "freed" in text(app, "#ranges")


async def test_bad_command_is_logged_and_changes_nothing():
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        await type_line(pilot, "register pmem0 0x100000000 4G")
        before = app.session.machine.fingerprint()
        await type_line(pilot, "kmap 0xzz dev")
        assert app.session.machine.fingerprint() == before
        log_text = "\n".join(line.text for line in app.query_one("#log").lines)
        assert "error: PFN '0xzz' is not a number" in log_text


async def test_ctrl_z_undoes_and_panes_follow():
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        await type_line(pilot, "register pmem0 0x100000000 4G")
        assert "pmem0" in text(app, "#ranges")
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert "pmem0" not in text(app, "#ranges")


async def test_narrow_terminal_uses_tabs_and_f3():
    app = PfnApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen.has_class("narrow")
        visible = [p.id for p in app.query(".pane") if p.has_class("-active")]
        assert visible == ["memory"]
        seen = []
        for _ in range(5):
            await pilot.press("f3")
            await pilot.pause()
            seen += [p.id for p in app.query(".pane") if p.has_class("-active")]
        assert seen == ["ranges", "decoder", "rcu", "cost", "memory"]
        await pilot.resize_terminal(160, 48)
        await pilot.pause()
        assert not app.screen.has_class("narrow")


async def test_f1_shows_help_for_the_focused_pane():
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        app.query_one(MemoryPane).focus()
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert app.screen.text.startswith("# Physical memory & memmap")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_memory_grid_selects_a_pfn_and_shows_its_struct_page():
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        mem = app.query_one(MemoryPane)
        mem.focus()
        await pilot.press("plus", "plus")  # zoom in: fewer sections per cell
        await pilot.press("enter")
        await pilot.pause()
        card = text(app, "#memory")
        assert "struct page 0xffffea" in card


async def test_palette_offers_commands_and_runs_examples():
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        app.action_command_palette()
        await pilot.pause()
        await pilot.press(*"run: register pmem1")
        await app.screen.workers.wait_for_complete()
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert "pmem1" in app.session.machine.state.ranges


def test_sweep_is_flat_for_the_section_path():
    rows = Session().execute("sweep").data["rows"]
    loads = [r["list_loads"] for r in rows]
    assert loads == sorted(loads) and loads[-1] > loads[0]
    assert len({r["section_loads"] for r in rows}) == 1  # section loads do not depend on N
    assert len({round(r["section_model_ns"], 6) for r in rows}) == 1  # nor its modelled time


from pfnconsole.lessons import list_lessons as _course  # noqa: E402


@pytest.mark.parametrize("path", _course(), ids=[p.stem for p in _course()])
async def test_every_lesson_plays_to_the_end_in_the_console(path):
    from pfnconsole.lessons import load
    lesson = load(str(path))
    app = PfnApp(lesson=lesson)
    async with app.run_test(size=(160, 48)) as pilot:
        start = app.session.machine.fingerprint()
        while not app.player.finished:
            if app.player.waiting:  # an exercise: the student asks for the answer
                app.query_one("#cmd").focus()
                await pilot.press(*"show", "enter")
            await pilot.press("f5")
        await pilot.pause()
        assert all(o.ok for o in app.player.outcomes), [o.failures for o in app.player.outcomes]
        assert "End of the lesson" in text(app, "#lesson")
        app.player.run_to(-1)  # all the way back, as F8 would
        assert app.session.machine.fingerprint() == start


async def test_lesson_playback_steps_forward_and_back():
    from pfnconsole.lessons import load
    lesson = load("1")
    app = PfnApp(lesson=lesson)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        start = app.session.machine.fingerprint()
        await pilot.press("f5")
        await pilot.pause()
        assert app.player.done == 1 and app.player.outcomes[0].ok
        assert "step 1/" in text(app, "#lesson")
        while not app.player.finished:
            if app.player.waiting:
                app.query_one("#cmd").focus()
                await pilot.press(*"show", "enter")
            await pilot.press("f5")
            await pilot.pause()
        assert all(o.ok for o in app.player.outcomes)
        for _ in range(len(lesson.steps)):
            await pilot.press("f8")
            await pilot.pause()
        assert app.player.done == 0 and app.session.machine.fingerprint() == start


async def test_paste_screen_decodes_and_jumps_to_a_pfn():
    from textual.widgets import OptionList, TextArea

    from pfnconsole.tui.paste_screen import PasteScreen
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        assert isinstance(app.screen, PasteScreen)
        app.screen.query_one(TextArea).text = (
            "[ 1.0] BUG: Bad page state in process a.out  pfn:100600\n"
            "[ 1.0] page:ffffea0004018000 refcount:0 mapcount:0 mapping:0000000000000000 "
            "index:0x0 pfn:0x100600\n")
        await pilot.press("ctrl+r")
        await pilot.pause()
        findings = app.screen.query_one(OptionList)
        assert findings.option_count >= 2
        await pilot.press("enter")  # the first finding with a pfn is highlighted
        await pilot.pause()
        assert not isinstance(app.screen, PasteScreen)
        assert "pfn 0x100600" in text(app, "#memory")
        assert "pfn 0x100600" in text(app, "#decoder")


async def test_machine_from_a_pasted_boot_log_shows_in_the_memory_pane():
    from textual.widgets import TextArea
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        app.screen.query_one(TextArea).text = (
            "BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
            "BIOS-e820: [mem 0x0000000000100000-0x00000000bfffffff] usable\n"
            "BIOS-e820: [mem 0x0000000100000000-0x000000013fffffff] persistent (type 12)\n")
        await pilot.click("#paste-machine")
        await pilot.pause()
        assert "pmem(12) 1G@4G" in text(app, "#memory")
        assert app.session.machine.state.spec.e820 is not None


SAMPLES = __import__("pathlib").Path(__file__).resolve().parents[1].parent / "shared/samples/dmesg"


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/samples absent")
@pytest.mark.parametrize("name,label", [("e820_pmem-02.txt", "pmem(12) 4G@9G"),
                                        ("e820_pmem-03.txt", "pmem(12) 1G@4G")])
async def test_machine_from_the_pmem_samples_in_the_memory_pane(name, label):
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        app.run_line(f"machine from-log {SAMPLES / name}")
        await pilot.pause()
        assert label in text(app, "#memory")


# --- snapshots (plain def: snap_compare runs the app itself) ---------------------------------

@pytest.fixture
def steady_clock(monkeypatch):
    """Simulator time is in the data, never on screen; a counting clock keeps it so anyway."""
    counter = itertools.count(0, 250)
    monkeypatch.setattr(time, "perf_counter_ns", lambda: next(counter))


async def _walkthrough(pilot):
    pilot.app.query_one("#ranges").speed = "instant"
    for line in ("register pmem0 0x100000000 4G", "register pmem1 0x440000000 4G",
                 "kmap 0x100600 dev", "teardown pmem0"):
        await pilot.press(*line, "enter")
        await pilot.pause()


def test_snapshot_wide(snap_compare, steady_clock):
    assert snap_compare(PfnApp(), terminal_size=(160, 48), run_before=_walkthrough)


def test_snapshot_medium(snap_compare, steady_clock):
    assert snap_compare(PfnApp(), terminal_size=(120, 40), run_before=_walkthrough)


def test_snapshot_narrow(snap_compare, steady_clock):
    assert snap_compare(PfnApp(), terminal_size=(80, 24), run_before=_walkthrough)


async def test_decode_then_a_pasted_log_is_one_command_with_its_reports():
    """`decode`, then a log pasted into the command line: one decode of the whole paste
    (page reports first), not one command per pasted line."""
    from textual import events
    app = PfnApp()
    log = ("[ 1.0] BUG: Bad page state in process a.out  pfn:100600\n"
           "[ 1.0] page:ffffea0004018000 refcount:0 mapcount:0 mapping:0000000000000000 "
           "index:0x0 pfn:0x100600\n"
           "[ 1.0] page dumped because: nonzero mapcount\n")
    async with app.run_test(size=(160, 48)) as pilot:
        cmd = app.query_one("#cmd")
        await pilot.press(*"decode")
        cmd.post_message(events.Paste(log))
        await pilot.pause()
        assert cmd.value == ""
        assert app.session.last is not None and app.session.last.cmd == "decode"
        assert app.session.last.data["pages"][0]["pfn"] == 0x100600
        shown = "\n".join(line.text for line in app.query_one("#log").lines)
        assert "page 0x100600" in shown and "unknown command" not in shown
