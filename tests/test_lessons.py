"""Lessons: the format's errors, the player's steps, and every lesson in lessons/ checked."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pfnconsole.lessons import LessonError, Player, check_lesson, list_lessons, load, parse_lesson

GOOD = """\
# Lesson T: a test

Intro text.

## Register

Narration.

```pfn
register pmem0 0x1000000000 4G
kmap 0x1000600 dev
```

```expect
[1] name = pmem0
path = list
list_steps = 1
addr = 0xffffc90000600000
flags ~ PFN_DEV
text ~ "pmem0 at node 1"
rcu_readers >= 1
```

## Fail on purpose

```pfn
kunmap 0x1234
```

```expect
ok = false
error ~ "no open mapping"
```
"""


def test_a_good_lesson_parses_and_plays():
    lesson = parse_lesson(GOOD, "t.md")
    assert lesson.title == "Lesson T: a test" and lesson.intro == "Intro text."
    assert [s.title for s in lesson.steps] == ["Register", "Fail on purpose"]
    assert lesson.steps[0].commands == ["register pmem0 0x1000000000 4G", "kmap 0x1000600 dev"]
    assert check_lesson(lesson) == []


@pytest.mark.parametrize("text,line,needle", [
    ("no title\n## s\n```pfn\nrcu\n```\n", 1, "# Title"),
    ("# T\n", 1, "at least one"),
    ("# T\n## s\nnarration only\n", 2, "no ```pfn block"),
    ("# T\n## s\n```pfn\nrcu\n", 3, "never closed"),
    ("# T\n```pfn\nrcu\n```\n", 2, "before the first ## step"),
    ("# T\n## s\n```expect\nok = true\n```\n", 3, "must follow"),
    ("# T\n## s\n```pfn\nrcu\n```\n```expect\nthis is not a check\n```\n", 7, "path OP value"),
    ("# T\n## s\n```pfn\nrcu\n```\n```expect\n[3] ok = true\n```\n", 7, "1 command"),
    ("# T\n## s\n```pfn\nrcu\n```\n```expect\nx = 12zz\n```\n", 7, "not a number"),
    ("# T\n## s\n```pfn\nrcu\n```\n```expect\nx = \"open\n```\n", 7, "quoted string"),
    ("# T\n## s\n```pfn\n```\n", 3, "empty"),
])
def test_broken_lessons_name_file_and_line(text, line, needle):
    with pytest.raises(LessonError) as exc:
        parse_lesson(text, "bad.md")
    assert exc.value.line == line and needle in exc.value.message
    assert str(exc.value).startswith(f"bad.md:{line}: error: ")


def test_failed_expectations_are_reported_with_their_line():
    text = GOOD.replace("list_steps = 1", "list_steps = 3")
    errors = check_lesson(parse_lesson(text, "t.md"))
    assert len(errors) == 1
    line = text.splitlines().index("list_steps = 3") + 1
    assert errors[0].startswith(f"t.md:{line}: error: list_steps = 3: got 1")


def test_nothing_in_a_lesson_is_evaluated():
    text = GOOD.replace("path = list", "path = __import__('os').system('false')")
    with pytest.raises(LessonError):
        parse_lesson(text, "t.md")


def test_stepping_back_restores_the_engine_exactly():
    player = Player(parse_lesson(GOOD, "t.md"))
    start = player.session.machine.fingerprint()
    player.next()
    after_one = player.session.machine.fingerprint()
    player.next()
    assert player.finished and player.previous()
    assert player.session.machine.fingerprint() == after_one
    assert player.previous() and player.session.machine.fingerprint() == start
    assert not player.previous()
    player.run_to(1)
    assert player.done == 2
    player.run_to(0)
    assert player.done == 1 and player.session.machine.fingerprint() == after_one


COURSE = list_lessons()


def test_the_course_is_there():
    assert COURSE, "lessons/ holds no lesson"
    for p in COURSE:
        assert p.name[:2].isdigit()


@pytest.mark.parametrize("path", COURSE, ids=[p.stem for p in COURSE])
def test_every_lesson_checks(path):
    lesson = load(str(path))
    assert 5 <= len(lesson.steps) <= 15, f"{path.stem}: {len(lesson.steps)} steps"
    assert check_lesson(lesson) == []


def test_lesson_cli_list_show_check():
    def run(*args):
        return subprocess.run([sys.executable, "-m", "pfnconsole", "lesson", *args],
                              capture_output=True, text=True, timeout=120)
    p = run("list")
    assert p.returncode == 0 and COURSE[0].stem in p.stdout
    p = run("show", "1")
    assert p.returncode == 0 and "pfn> info" in p.stdout
    p = run("check", "1")
    assert p.returncode == 0 and "1 passed, 0 failed" in p.stdout
    p = run("check", "no-such-lesson")
    assert p.returncode == 1 and "no lesson 'no-such-lesson'" in p.stderr


def test_repl_plays_a_lesson_when_piped(tmp_path):
    p = subprocess.run([sys.executable, "-m", "pfnconsole", "repl", "--lesson", "1"],
                       input="", capture_output=True, text=True, timeout=120,
                       env={"XDG_STATE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, p.stderr
    steps = len(load("1").steps)
    assert p.stdout.count("── step ") == steps and "✗" not in p.stdout
