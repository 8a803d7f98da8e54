"""Lesson exercises (```try): the format, the player's answers and hints, `lesson check`
playing each reference and wrong answer, and a student doing them in the REPL and the app."""

from __future__ import annotations

from pathlib import Path

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from pfnconsole.lessons import Player, check_lesson, load
from pfnconsole.lessons.lesson import LessonError, parse_lesson
from pfnconsole.repl import Repl

LESSON = """# Tiny

Intro.

## Register

```pfn
register pmem0 0x440000000 4G
register pmem1 0x540000000 4G
```

```try
kind: predict
ask: How many loads for the oldest?
run: lookup 0x440600
answer: list_loads
hint: 3 a miss, 5 the hit.
hint: 3 + 5.
solution: 8
wrong: 7
```

## Do it

```pfn
ranges
```

```try
kind: act
ask: Map pmem0 through the list.
check: list_steps = 2
check: range = pmem0
hint: kmap PFN dev
solution: kmap 0x440600 dev
wrong: kmap 0x540600 dev
```

## After

```pfn
rcu
```
"""


def tiny(tmp_path: Path, text: str = LESSON):
    path = tmp_path / "tiny.md"
    path.write_text(text)
    return parse_lesson(text, str(path))


def test_a_predict_exercise_waits_gives_hints_one_at_a_time_then_accepts(tmp_path):
    p = Player(tiny(tmp_path))
    p.next()
    assert p.waiting and p.pending is not None and p.pending.exercise.kind == "predict"
    blocked = p.next()
    assert blocked is not None and "first the exercise" in blocked.failures[0][1] and p.done == 1
    r = p.answer("7")
    assert not r.ok and "hint 1/2: 3 a miss" in r.message
    assert "hint 2/2" in p.answer("0x7").message
    assert "no more hints" in p.answer("9").message
    assert p.answer("0x8").ok and not p.waiting  # any radix
    assert p.next() is not None and p.done == 2


def test_an_act_exercise_checks_the_students_own_results(tmp_path):
    p = Player(tiny(tmp_path))
    p.next()
    p.show()
    p.next()
    assert p.waiting and p.pending.exercise.kind == "act"
    assert p.observe(p.session.execute("info")) is None  # not an attempt
    wrong = p.observe(p.session.execute("kmap 0x540600 dev"))
    assert wrong is not None and not wrong.ok and "list_steps = 2" in wrong.message and "hint 1/1" in wrong.message
    right = p.observe(p.session.execute("kmap 0x440600 dev"))
    assert right is not None and right.ok and not p.waiting
    assert p.previous() and p.pending is None  # stepping back opens it again on the rerun
    p.next()
    assert p.waiting


def test_lesson_check_plays_the_reference_and_the_wrong_answer(tmp_path):
    assert check_lesson(tiny(tmp_path)) == []
    bad = check_lesson(tiny(tmp_path, LESSON.replace("solution: 8", "solution: 9")))
    assert len(bad) == 1 and "refuses its reference solution" in bad[0]
    bad = check_lesson(tiny(tmp_path, LESSON.replace("wrong: kmap 0x540600 dev", "wrong: kmap 0x440600 dev")))
    assert len(bad) == 1 and "accepts its wrong answer" in bad[0]


@pytest.mark.parametrize(("cut", "words"), [("wrong: 7\n", "wrong: is missing"), ("kind: predict", "kind: predict or kind: act"),
                                            ("answer: list_loads\n", "needs run: and answer:")])
def test_a_malformed_exercise_names_its_line(tmp_path, cut, words):
    text = LESSON.replace(cut, "kind: guess" if cut.startswith("kind") else "", 1)
    with pytest.raises(LessonError) as e:
        tiny(tmp_path, text)
    assert words in str(e.value) and ":12:" in str(e.value)  # the ```try line


def test_every_course_exercise_of_lessons_5_and_6_checks():
    for name in ("5", "6"):
        lesson = load(name)
        assert any(s.exercise for s in lesson.steps)
        assert check_lesson(lesson) == []


def drive(keys: str, lesson) -> Repl:
    with create_pipe_input() as inp:
        inp.send_text(keys)
        with create_app_session(input=inp, output=DummyOutput()):
            repl = Repl(None, input=inp, output=DummyOutput(), history=InMemoryHistory(), lesson=lesson)
            repl.run()
    return repl


def test_a_student_does_both_exercises_in_the_repl(tmp_path):
    # step 1, a wrong answer, a hint, the right one; step 2, a wrong act, then the right one
    repl = drive("\ranswer 7\rhint\ranswer 8\r\rkmap 0x540600 dev\rkmap 0x440600 dev\r\r\x04",
                 tiny(tmp_path))
    p = repl.player
    assert p is not None and p.done == 3 and not p.waiting
    assert p.pending is None  # the last step has no exercise
    assert p.session.machine.state.rcu.nr_readers == 2  # the student's own two kmaps


async def test_a_student_does_both_exercises_in_the_app(tmp_path):
    from pfnconsole.commands import Session
    from pfnconsole.tui.app import PfnApp
    from pfnconsole.tui.log_text import ConsoleLog

    app = PfnApp(Session(), lesson=tiny(tmp_path))

    async def type_line(pilot, line: str) -> None:
        app.query_one("#cmd").focus()
        await pilot.press(*line, "enter")
        await pilot.pause()

    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        player = app.player
        assert player is not None and player.waiting
        await type_line(pilot, "answer 7")
        await type_line(pilot, "hint")
        assert player.waiting
        await type_line(pilot, "answer 8")
        assert not player.waiting
        log = "\n".join(line.text for line in app.query_one(ConsoleLog).lines)
        assert "✗ not 7; hint 1/2" in log and "hint 2/2" in log and "✓ right: list_loads = 8" in log
        await pilot.press("f5")
        await pilot.pause()
        assert player.done == 2 and player.waiting
        await type_line(pilot, "kmap 0x540600 dev")
        assert player.waiting
        await type_line(pilot, "kmap 0x440600 dev")
        assert not player.waiting
        await pilot.press("f5")
        await pilot.pause()
        assert player.done == 3


def test_progress_is_saved_listed_and_resumed(tmp_path, monkeypatch):
    import io

    from pfnconsole.cli import lesson_command
    from pfnconsole.lessons import progress
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    lesson = load("6")
    repl = drive("\r" * 5 + "answer 30\ranswer 32\r\r\x04", lesson)  # to the exercise, then past it
    assert repl.player is not None and repl.player.done == 5
    entry = progress.of(lesson.name)
    assert entry == {"steps": 5, "of": 12, "solved": [3], "shown": []}
    out = io.StringIO()
    assert lesson_command("list", [], out=out, err=io.StringIO()) == 0
    assert "done 5/12, exercises 1/1" in next(line for line in out.getvalue().splitlines()
                                               if line.startswith("06-cost"))
    with create_pipe_input() as inp:  # --lesson 6 again: back where the student left it
        inp.send_text("\x04")
        with create_app_session(input=inp, output=DummyOutput()):
            again = Repl(None, input=inp, output=DummyOutput(), history=InMemoryHistory(),
                         lesson=load("6"), resume_lesson=True)
            again.run()
    assert again.player is not None and again.player.done == 5
    (tmp_path / "state" / "pfnconsole" / "progress.json").write_text("{not json")
    assert progress.of(lesson.name) is None  # a broken file is no progress, never an error


def test_progress_never_writes_through_a_planted_link(tmp_path, monkeypatch):
    from pfnconsole.lessons import progress
    state = tmp_path / "state" / "pfnconsole"
    state.mkdir(parents=True)
    target = tmp_path / "precious.txt"
    target.write_text("mine")
    (state / "progress.json").symlink_to(target)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    p = Player(load("1"))
    p.next()
    problem = progress.record(p)
    assert target.read_text() == "mine"
    assert problem is None or "link" in problem or "progress" in problem
