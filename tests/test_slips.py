"""Small slips a new user trips over (issue 15): wording, rounding, widths, backticks."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prompt_toolkit.application import create_app_session
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from textual.widgets import Static

from pfnconsole.cli import lesson_command
from pfnconsole.commands import Session
from pfnconsole.commands.parse import parse_number
from pfnconsole.commands.registry import COMMANDS
from pfnconsole.core.units import place_text, size_at
from pfnconsole.lessons import list_lessons, load
from pfnconsole.lessons.markdown import fill, plain, spans
from pfnconsole.repl import Repl, markdown, run_piped

README = Path(__file__).resolve().parent.parent / "README.md"


# 1. the memory pane's section count -------------------------------------------------------

async def test_memory_pane_says_present_sections_of_a_size_each():
    from pfnconsole.tui.app import PfnApp
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        head = str(app.query_one("#mem-e820", Static).content)
    assert re.search(r"\b128 present sections of 128M each\b", head), head
    assert "sections present of" not in head


# 2. size@address never rounds the address ------------------------------------------------

@pytest.mark.parametrize("size,start,expected", [
    (0x4000, 0xFEFFC000, "16K@0xfeffc000"),      # was 16K@4.0G: below 4 GiB, shown above it
    (0x400, 0x9FC00, "1K@639K"),
    (0x3_4000_0000, 0x1_0000_0000, "13G@4G"),
    (0x1_0000_0000, 0x4_4000_0000, "4G@17G"),
    (0x9FC00, 0, "639K@0"),
])
def test_size_at(size, start, expected):
    assert size_at(size, start) == expected


@given(st.integers(min_value=0, max_value=(1 << 52) - 1))
def test_an_address_reads_back_exactly(addr):
    assert parse_number(place_text(addr)) == addr


def test_every_e820_range_of_the_default_machine_reads_back_exactly():
    s = Session()
    for r in s.machine.state.physmap.ranges:
        shown = size_at(r.end - r.start + 1, r.start).split("@")[1]
        assert parse_number(shown) == r.start, shown


# 3. undo says what is left -----------------------------------------------------------------

def test_undo_names_what_remains_newest_first():
    s = Session()
    for line in ("register pmem0 0x440000000 4G", "cpu 1", "kmap 0x440600 dev",
                 "kmap 0x100600", "kunmap 0xffff888100600000"):
        assert s.execute(line).ok, line
    r = s.execute("undo")
    assert r.text() == "undid kunmap; 4 more to undo: kmap, kmap, cpu, …"
    assert r.data["next"] == ["kmap", "kmap", "cpu"]
    for _ in range(3):
        r = s.execute("undo")
    assert r.text() == "undid cpu; 1 more to undo: register"
    assert s.execute("undo").text() == "undid register; nothing more to undo"
    assert not s.execute("undo").ok


# 4. lesson Markdown without backticks --------------------------------------------------------

def test_lesson_list_titles_are_plain_text():
    out, err = io.StringIO(), io.StringIO()
    assert lesson_command("list", [], out=out, err=err) == 0
    assert "Lesson 3" in out.getvalue()
    assert "`" not in out.getvalue()


def test_spans_cut_code_from_prose():
    assert spans("use `kmap` or ``a`b``, not `") == [
        (False, "use "), (True, "kmap"), (False, " or "), (True, "a`b"), (False, ", not `")]
    assert plain("x\n\n```c\nint a;\n```\nend") == "x\n\n    int a;\nend"


def test_repl_markdown_styles_code_without_backticks():
    frags = markdown("pfn `0x100600` is RAM")
    assert "".join(t for _, t in frags) == "pfn 0x100600 is RAM"
    assert ("class:lesson.code", "0x100600") in frags


def test_piped_lesson_narration_has_no_backticks():
    lesson = load("3")
    out = io.StringIO()
    run_piped(io.StringIO(""), out, io.StringIO(), lesson)
    text = out.getvalue()
    with_code = [s for s in lesson.steps if "`" in s.narration]
    assert with_code  # the lesson does use code spans
    for step in with_code:
        assert plain(step.narration) in text
        assert step.narration not in text


def test_repl_lesson_step_prints_the_narration_plain(monkeypatch):
    printed: list[str] = []
    monkeypatch.setattr("pfnconsole.repl.print_formatted_text",
                        lambda text, **kw: printed.append("".join(t for _, t, *_ in
                                                                  _fragments(text))))
    with create_pipe_input() as inp:
        inp.send_text("\r\x04")  # Enter: the first step
        with create_app_session(input=inp, output=DummyOutput()):
            Repl(input=inp, output=DummyOutput(), history=InMemoryHistory(),
                 lesson=load("3")).run()
    first = load("3").steps[0].narration
    assert "`" in first
    assert any(" ".join(plain(first).split()) in " ".join(p.split()) for p in printed)
    assert not any("`0x100600`" in p for p in printed)
    step = next(p for p in printed if "── step 1/" in p)
    narration = step.split("\n\npfn> ", 1)[0]
    assert max(len(line) for line in narration.splitlines()) <= 80  # DummyOutput's width


@pytest.mark.parametrize("lesson", [p.stem for p in list_lessons()])
def test_narration_refills_to_the_width_and_keeps_every_word(lesson):
    les = load(lesson)
    for text in [les.intro, *(s.narration for s in les.steps)]:
        filled = plain(fill(text, 80))
        assert filled.split() == plain(text).split()
        kept = set(plain(text).splitlines())  # code blocks and tables stay as they are
        assert all(len(line) <= 80 or line in kept for line in filled.splitlines())


def _fragments(text):
    from prompt_toolkit.formatted_text import to_formatted_text
    return to_formatted_text(text)


# 5. help fits 80 columns, and its examples run as shown ----------------------------------------

def test_help_lines_fit_80_columns():
    s = Session()
    for line in ["help", *[f"help {name}" for name in COMMANDS]]:
        too_long = [t for t in s.execute(line).text().splitlines() if len(t) > 80]
        assert not too_long, f"{line}: {too_long}"


def test_help_lists_every_command_with_its_summary():
    text = Session().execute("help").text()
    for cmd in COMMANDS.values():
        assert re.search(rf"^  {re.escape(cmd.name)}\b", text, re.M), cmd.name
        assert cmd.summary in " ".join(text.split()), cmd.name


@pytest.mark.parametrize("name", [n for n in COMMANDS if n not in ("save", "load")])
def test_help_examples_run_in_order_on_a_new_machine(name):
    s = Session()
    page = s.execute(f"help {name}").text()
    shown = page.split("\nEXAMPLES", 1)[1].splitlines()[1:]
    fresh = Session()
    for line in shown:
        r = fresh.execute(line.strip())
        assert r is not None and r.ok, f"help {name}: {line.strip()!r} -> {r and r.error}"


def test_help_kmap_first_dev_example_hits_on_the_default_machine():
    s = Session()
    results = [s.execute(e) for e in COMMANDS["kmap"].examples]
    assert all(r.ok for r in results)
    dev = [r for e, r in zip(COMMANDS["kmap"].examples, results, strict=True)
           if e.startswith("kmap") and ("dev" in e or "raw=" in e)]
    assert dev and all(r.data["addr"] is not None for r in dev)


# 6. the README shows the prompt the REPL prints ------------------------------------------------

def test_readme_prompt_is_the_repls():
    with create_pipe_input() as inp:
        prompt = Repl(input=inp, output=DummyOutput(), history=InMemoryHistory()).prompt_text()
    shown = [line for line in README.read_text().splitlines() if re.match(r"pfn\S*> ", line)]
    assert shown
    assert all(line.startswith(prompt) for line in shown), shown
