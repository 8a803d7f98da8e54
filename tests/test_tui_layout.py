"""The console's layout at every size, room for the log, and keys that always reach the line."""

from __future__ import annotations

import pytest
from textual.content import Content
from textual.widgets import Static

from pfnconsole.tui.app import PfnApp
from pfnconsole.tui.command_line import CommandLine
from pfnconsole.tui.decoder_pane import DecoderPane

SIZES = [(80, 24), (100, 30), (120, 40), (160, 48), (220, 60)]
PANES = ("#memory", "#ranges", "#decoder", "#rcu", "#cost")


def lines_of(app, selector: str) -> list[str]:
    content = app.query_one(selector, Static).content
    return (content.plain if isinstance(content, Content) else str(content)).split("\n")


def log_lines(app) -> list[str]:
    return [line.text for line in app.query_one("#log").lines]


def on_screen(app, selector: str, w: int, h: int) -> None:
    r = app.query_one(selector).region
    assert r.width and r.height, f"{selector} is not shown"
    assert r.x >= 0 and r.y >= 0 and r.right <= w and r.bottom <= h, (selector, r)


async def type_line(pilot, line: str) -> None:
    """Run a command as the command line does (typing itself is tested on its own below:
    every key typed costs a full render in the test harness)."""
    pilot.app.run_line(line)
    await pilot.pause()


@pytest.mark.parametrize(("w", "h"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_every_pane_fits_and_the_ruler_is_one_row(w, h):
    app = PfnApp()
    async with app.run_test(size=(w, h)) as pilot:
        await pilot.pause()
        narrow = app.screen.has_class("narrow")
        for selector in ("#log", "#cmd"):
            on_screen(app, selector, w, h)
        for i, selector in enumerate(PANES):
            if narrow and i:
                await pilot.press("f3")
                await pilot.pause()
            on_screen(app, selector, w, h)
            if selector == "#decoder":
                on_screen(app, "#decoder-abi", w, h)
                abi, pane = app.query_one("#decoder-abi").region, app.query_one(selector).region
                assert abi.right < pane.right, "the abi selector reaches the pane's border"
                app.query_one(DecoderPane).set_value(0x100600004, "v5")
                await pilot.pause()
                body = app.query_one("#decoder-body", Static)
                numbers, bits, labels, *rest = lines_of(app, "#decoder-body")
                assert body.region.height == 3 + len(rest)  # not one row wrapped
                assert max(map(len, (numbers, bits, labels))) <= body.size.width
                if body.size.width >= 64:
                    assert len(bits) == 64 and set(bits) == {"0", "1"}
                else:  # compact: a column a field, the pfn in hex
                    assert "0x100600" in bits and "pfn" in labels and "DEV" in labels


@pytest.mark.parametrize(("w", "h"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_rcu_and_decoder_rows_fit_their_pane(w, h):
    app = PfnApp()
    async with app.run_test(size=(w, h)) as pilot:
        await type_line(pilot, "register pmem0 0x440000000 4G")
        await type_line(pilot, "kmap 0x440600 dev")
        await type_line(pilot, "kmap 0x100600")
        await type_line(pilot, "teardown pmem0")
        if app.screen.has_class("narrow"):
            await pilot.press("f3", "f3", "f3")  # the RCU tab
            await pilot.pause()
        for selector in ("#rcu-body", "#rcu-timeline-label"):
            width = app.query_one(selector).size.width
            for line in lines_of(app, selector):
                assert len(line) <= width, (selector, line)


async def test_decoder_and_rcu_say_what_they_show_in_words():
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        app.query_one(DecoderPane).set_value(0x100600004, "v5")
        await pilot.pause()
        text = "\n".join(lines_of(app, "#decoder-body"))
        assert "no struct page" in text and "False" not in text and "True" not in text
        app.query_one(DecoderPane).set_value(0x100600, "pfn_t:6.16")
        await pilot.pause()
        text = "\n".join(lines_of(app, "#decoder-body"))
        assert "struct page 0xffffea" in text and "True" not in text
        assert "open readers per command, 0–0" in lines_of(app, "#rcu-timeline-label")


@pytest.mark.parametrize(("w", "h"), [(160, 48), (220, 60)])
async def test_the_log_gets_a_third_of_the_rows(w, h):
    app = PfnApp()
    async with app.run_test(size=(w, h)) as pilot:
        await pilot.pause()
        assert app.query_one("#log").region.height * 3 >= h
        assert app.query_one("#lower").region.height >= 12  # the panes keep their rows


async def test_pageup_in_the_line_scrolls_the_log_and_the_border_counts_what_is_above():
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        await type_line(pilot, "help")
        await pilot.pause()
        log = app.query_one("#log")
        rows = log.scrollable_content_region.height
        lines = log_lines(app)
        above = len(lines) - rows - lines.index("pfn> help")
        assert above > 0 and log.scroll_y == log.max_scroll_y
        assert log.border_subtitle == f"… PageUp for the {above} lines above"
        await pilot.press("pageup")
        await pilot.pause()
        assert log.scroll_y == log.max_scroll_y - rows
        assert app.focused is app.query_one("#cmd")
        assert "Ctrl+End" in str(log.border_subtitle)
        await pilot.press("pagedown", "pageup", "pageup", "ctrl+end")
        await pilot.pause()
        assert log.scroll_y == log.max_scroll_y


async def test_ctrl_f_finds_older_lines_and_escape_gives_the_line_back():
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        await type_line(pilot, "register pmem0 0x440000000 4G")
        await type_line(pilot, "help")
        await pilot.press(*"ranges")  # typed, not run
        await pilot.press("ctrl+f", *"REGISTER pmem", "enter")
        await pilot.pause()
        log, cmd = app.query_one("#log"), app.query_one("#cmd", CommandLine)
        lines = log_lines(app)
        first = log.match[0]
        assert "register pmem" in lines[first].lower()
        assert not any("register pmem" in t.lower() for t in lines[first + 1:])
        assert first >= log.scroll_y and first < log.scroll_y + log.scrollable_content_region.height
        await pilot.press("enter")
        await pilot.pause()
        second = log.match[0]
        assert second < first and "register pmem" in lines[second].lower()
        await pilot.press("down")
        await pilot.pause()
        assert log.match[0] == first
        await pilot.press("escape")
        await pilot.pause()
        assert log.match is None and not cmd.searching and cmd.value == "ranges"
        await pilot.press("enter")
        await pilot.pause()
        assert log_lines(app).count("pfn> ranges") == 1  # the kept line runs as typed


async def test_a_search_with_no_match_says_so_and_changes_nothing():
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        before = app.session.machine.fingerprint()
        await pilot.press("ctrl+f", *"no such text", "enter")
        await pilot.pause()
        log = app.query_one("#log")
        assert log.match is None and "no older line holds it" in str(log.border_subtitle)
        assert app.session.machine.fingerprint() == before


async def test_after_f3_typing_goes_to_the_command_line():
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("f3")
        await pilot.pause()
        assert app.focused is app.query_one("#ranges")
        await pilot.press(*"register pmem0 0x440000000 4G", "enter")  # typed, key by key
        await pilot.pause()
        assert "pmem0" in app.session.machine.state.ranges
        assert app.focused is app.query_one("#cmd")


@pytest.mark.parametrize("key", ["escape", "colon"])
async def test_escape_and_colon_return_to_the_command_line(key):
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        for pane in ("#rcu", "#decoder-value"):
            app.query_one(pane).focus()
            await pilot.pause()
            assert app.focused is app.query_one(pane)
            await pilot.press(key)
            await pilot.pause()
            if pane == "#decoder-value" and key == "colon":
                assert app.focused is app.query_one(pane)  # a pane's own input types ':'
                continue
            assert app.focused is app.query_one("#cmd")
            assert app.query_one("#cmd", CommandLine).value == ""


async def test_f3_goes_round_the_panes_and_back_to_the_line():
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        seen = []
        for _ in range(6):
            await pilot.press("f3")
            await pilot.pause()
            seen.append(app.focused.id if app.focused.id else app.focused.parent.id)
        assert seen == ["ranges", "decoder", "rcu", "cost", "memory", "cmd"]


@pytest.mark.parametrize("start", ["rcu"])  # from a pane: the first key moves focus, the rest follow
async def test_twenty_commands_typed_fast_all_run_in_order(start):
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        app.query_one(f"#{start}").focus()
        await pilot.pause()
        lines = [f"register p{i} {17 + i}G 1M" for i in range(10)]  # short: each key costs a render
        lines += [f"cpu {i % 4}" for i in range(10)]
        keys = [k for line in lines for k in (*line, "enter")]
        await pilot.press(*keys)
        await pilot.pause()
        typed = [t.removeprefix("pfn> ") for t in log_lines(app) if t.startswith("pfn> ")]
        assert typed == lines
        assert [f"p{i}" for i in range(10)] == sorted(app.session.machine.state.ranges,
                                                        key=lambda n: int(n[1:]))
