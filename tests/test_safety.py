"""Nothing the console does destroys a file or loses accepted work.

Every file-system test works on nodes and links of its own in a temporary directory, never
on real devices.  Device nodes need root (os.mknod); those cases skip without it.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pfnconsole.cli import main as cli_main
from pfnconsole.commands import Session
from pfnconsole.commands.journal import Journal, list_sessions, read_journal
from pfnconsole.lessons import LessonError, check_lesson, parse_lesson

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="mknod needs root")
REGISTER = "register pmem0 0x440000000 4G"


def special_nodes(tmp_path: Path) -> dict[str, Path]:
    """A FIFO, a socket and (as root) character devices like null and zero, all ours."""
    nodes = {}
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    nodes["fifo"] = fifo
    sock_path = tmp_path / "sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    sock.close()
    nodes["socket"] = sock_path
    if ROOT:
        for name, minor in (("null", 3), ("zero", 5)):
            os.mknod(tmp_path / name, stat.S_IFCHR | 0o666, os.makedev(1, minor))
            nodes[name] = tmp_path / name
    return nodes


def run_cli(args: list[str], stdin: str = "", env: dict | None = None, cwd=None,
            timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pfnconsole", *args], input=stdin,
                          capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env={**os.environ, **(env or {})})


# --- save ----------------------------------------------------------------------------------

def test_save_refuses_every_node_that_is_not_a_regular_file(tmp_path):
    nodes = special_nodes(tmp_path)
    s = Session()
    assert s.execute(REGISTER).ok
    for name, path in nodes.items():
        before = os.lstat(path)
        r = s.execute(f"save --force {path}")
        assert not r.ok and "not a regular file" in r.error, name
        after = os.lstat(path)
        assert (after.st_mode, after.st_ino, after.st_rdev) == \
            (before.st_mode, before.st_ino, before.st_rdev), name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in nodes.values())


@needs_root
def test_save_to_a_null_device_through_run_leaves_the_device(tmp_path):
    """The reported defect: `printf 'save /dev/null' | pfnconsole run -`, on a node of ours."""
    (tmp_path / "null").unlink(missing_ok=True)
    os.mknod(tmp_path / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    p = run_cli(["run", "-"], f"{REGISTER}\nsave {tmp_path / 'null'}\n")
    assert p.returncode == 1 and "character device, not a regular file" in p.stderr
    assert stat.S_ISCHR(os.lstat(tmp_path / "null").st_mode)


def test_save_never_follows_a_planted_link(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    os.symlink(victim, tmp_path / "s.pfn.tmp")  # where the old code put its temporary file
    s = Session()
    assert s.execute(REGISTER).ok
    assert s.execute(f"save {tmp_path / 's.pfn'}").ok
    assert victim.read_text() == "precious\n"
    assert (tmp_path / "s.pfn").read_text().splitlines()[1:] == [REGISTER]
    os.symlink(victim, tmp_path / "link.pfn")  # a link as the target itself is refused
    r = s.execute(f"save --force {tmp_path / 'link.pfn'}")
    assert not r.ok and "symbolic link" in r.error
    assert victim.read_text() == "precious\n" and os.path.islink(tmp_path / "link.pfn")


def test_save_needs_force_to_replace_and_keeps_the_file_mode(tmp_path):
    target = tmp_path / "s.pfn"
    target.write_text("mine\n")
    os.chmod(target, 0o640)
    s = Session()
    assert s.execute(REGISTER).ok
    r = s.execute(f"save {target}")
    assert not r.ok and "exists" in r.error and "--force" in r.error
    assert r.to_json()["exists"] == str(target)
    assert target.read_text() == "mine\n"
    assert s.execute(f"save --force {target}").ok
    assert target.read_text().splitlines()[1:] == [REGISTER]
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.pfn"]
    r = s.execute(f"save --forse {target}")
    assert not r.ok and "unknown switch --forse" in r.error


@pytest.mark.parametrize("broken", ["replace", "link", "fsync"])
def test_a_failed_save_leaves_no_temporary_file_and_the_old_file(tmp_path, monkeypatch, broken):
    target = tmp_path / "s.pfn"
    target.write_text("mine\n")
    fresh = tmp_path / "new.pfn"
    s = Session()
    assert s.execute(REGISTER).ok

    def fail(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, broken, fail)
    r = s.execute(f"save --force {target}" if broken != "link" else f"save {fresh}")
    assert not r.ok and "No space left on device" in r.error and "nothing written" in r.error
    monkeypatch.undo()
    assert target.read_text() == "mine\n" and not fresh.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.pfn"]


@pytest.mark.parametrize("where", ["/", ".", "..", "somedir/"])
def test_save_to_a_directory_is_an_error_in_every_front_end(tmp_path, where, monkeypatch):
    (tmp_path / "somedir").mkdir()
    monkeypatch.chdir(tmp_path)
    s = Session()
    r = s.execute(f"save {where}")
    assert not r.ok and "directory" in r.error
    p = run_cli(["run", "-"], f"save {where}\ninfo\n", cwd=tmp_path)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert p.stderr.startswith("<stdin>:1: error: save:") and "directory" in p.stderr
    p = run_cli(["repl"], f"save {where}\ninfo\n", cwd=tmp_path)  # piped REPL
    assert "Traceback" not in p.stderr and "directory" in p.stderr and "x86_64" in p.stdout


def test_replays_write_no_files(tmp_path, monkeypatch):
    """`save` inside a loaded script, a lesson or a journal being resumed writes nothing."""
    out = tmp_path / "written.pfn"
    script = tmp_path / "a.pfn"
    script.write_text(f"{REGISTER}\nsave {out}\n")
    s = Session()
    r = s.execute(f"load {script}")
    assert r.ok and not out.exists()
    assert s.accepted == [REGISTER]
    lesson = parse_lesson(textwrap.dedent(f"""\
        # Saves
        ## One
        ```pfn
        {REGISTER}
        save {out}
        ```
        ```expect
        written = false
        ```
        """), str(tmp_path / "l.md"))
    assert check_lesson(lesson) == [] and not out.exists()
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    j = Journal()
    j.append([{"c": REGISTER}, {"c": f"save {out}"}])  # as an older or edited journal might
    j.close()
    t = Session()
    assert t.resume(read_journal(j.path).commands) == [] and not out.exists()
    assert t.machine.fingerprint() == s.machine.fingerprint()


# --- load ----------------------------------------------------------------------------------

def assert_load_refused(script: Path, *words: str) -> None:
    """`load script` on a fresh session is refused, says ``words``, and changes nothing."""
    s = Session()
    before = s.machine.fingerprint()
    r = s.execute(f"load {script}")
    assert not r.ok and all(w in r.error for w in words), r.error
    assert s.machine.fingerprint() == before and s.accepted == []


def test_a_script_that_loads_itself_is_a_clear_error_everywhere(tmp_path):
    script = tmp_path / "self.pfn"
    script.write_text(f"{REGISTER}\nload {script}\n")
    assert_load_refused(script, "cannot load another script", "nothing was loaded")
    p = run_cli(["run", str(script)])
    assert p.returncode == 1 and "Traceback" not in p.stderr and "RecursionError" not in p.stderr
    p = run_cli(["repl"], f"load {script}\ninfo\n")
    assert "Traceback" not in p.stderr and "cannot load another script" in p.stderr
    lesson = parse_lesson(f"# L\n## S\n```pfn\nload {script}\n```\n", str(tmp_path / "l.md"))
    errors = check_lesson(lesson)
    assert errors and "not run inside a lesson" in errors[0]


def test_a_load_that_fails_leaves_machine_journal_save_and_undo_as_they_were(tmp_path,
                                                                             monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    inner = tmp_path / "inner.pfn"
    inner.write_text("register a 0x640000000 4G\n")
    outer = tmp_path / "outer.pfn"
    outer.write_text(f"register b 0x740000000 4G\nload {inner}\nbogus\n")
    undos = tmp_path / "undos.pfn"
    undos.write_text("undo\nundo\nbogus\n")
    s = Session(journal=Journal())
    for line in [REGISTER, "register pmem1 0x540000000 4G"]:
        assert s.execute(line).ok
    before = (s.machine.fingerprint(), s.machine.history_len, list(s.accepted),
              s.journal.path.read_bytes())
    for script in (outer, undos):
        r = s.execute(f"load {script}")
        assert not r.ok and "nothing was loaded" in r.error, r.error
        assert (s.machine.fingerprint(), s.machine.history_len, list(s.accepted),
                s.journal.path.read_bytes()) == before, script
    assert s.execute(f"save {tmp_path / 'out.pfn'}").ok
    assert (tmp_path / "out.pfn").read_text().splitlines()[1:] == before[2]
    assert s.execute("undo").ok and s.execute("undo").ok  # both ranges, both undoable
    assert not s.execute("undo").ok


def test_a_load_is_one_journal_record_and_resume_does_not_read_the_script(tmp_path,
                                                                         monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    script = tmp_path / "a.pfn"
    script.write_text(f"{REGISTER}\nkmap 0x440600 dev\n")
    s = Session(journal=Journal())
    assert s.execute(f"load {script}").ok
    j = read_journal(s.journal.path)
    assert [r["c"] for r in j.records] == [f"load {script}"]
    assert j.records[0]["r"] == [REGISTER, "kmap 0x440600 dev"]
    script.unlink()
    t = Session()
    assert t.resume(j.commands) == []
    assert t.machine.fingerprint() == s.machine.fingerprint()


def test_load_run_and_from_log_refuse_nodes_without_blocking(tmp_path):
    """In a child with a time limit: a FIFO with no writer would block a plain open()."""
    nodes = special_nodes(tmp_path)
    for name, path in nodes.items():
        p = run_cli(["run", "-", "--keep-going"], f"load {path}\nmachine from-log {path}\n",
                    timeout=20)
        errors = p.stderr.splitlines()
        assert len(errors) == 2 and all("not a regular file" in e for e in errors), (name, errors)
        p = run_cli(["run", str(path)], timeout=20)
        assert p.returncode == 2 and "not a regular file" in p.stderr, name


def test_load_is_bounded(tmp_path):
    from pfnconsole.commands.verbs.session import MAX_LOAD_BYTES, MAX_LOAD_COMMANDS
    many = tmp_path / "many.pfn"
    many.write_text("info\n" * (MAX_LOAD_COMMANDS + 1))
    big = tmp_path / "big.pfn"
    big.write_text(("# " + "x" * 1000 + "\n") * (MAX_LOAD_BYTES // 1000 + 10))
    long_line = tmp_path / "long.pfn"
    long_line.write_text("info " + "x" * 10_000_000)
    s = Session()
    for path, words in ((many, "at most"), (big, "larger than"), (long_line, "longer than")):
        r = s.execute(f"load {path}")
        assert not r.ok and words in r.error, r.error


def test_a_load_that_runs_too_long_is_taken_back(tmp_path, monkeypatch):
    from pfnconsole.commands.verbs import session as table
    monkeypatch.setattr(table, "MAX_LOAD_SECONDS", 0.0)
    script = tmp_path / "slow.pfn"
    script.write_text(f"{REGISTER}\ninfo\n")
    assert_load_refused(script, "still running after", "line 1")


def test_run_reads_an_endless_line_in_flat_memory():
    """`pfnconsole run -` fed one 64 MB line: a clear error, memory stays small."""
    code = textwrap.dedent("""\
        import io, resource, sys
        from pfnconsole.cli import run_script
        class Endless(io.TextIOBase):
            left = 64 << 20
            def readable(self): return True
            def readline(self, size=-1):
                n = min(size if size > 0 else 1 << 16, self.left)
                self.left -= n
                return "\\0" * n
        status = run_script(Endless(), "<zero>", as_json=False, keep_going=True,
                            out=sys.stdout, err=sys.stderr)
        hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")]
        print(status, hwm[0].split()[1])  # this process's own peak (ru_maxrss would
        # include the forking parent's, carried over exec)
        """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120)
    status, rss_kb = p.stdout.split()
    assert status == "1" and "<zero>:1: error: the line is longer than" in p.stderr
    assert int(rss_kb) < 150_000


# --- the journal ---------------------------------------------------------------------------

def _child(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env})


@pytest.mark.parametrize("room", [0, 10], ids=["at-the-limit", "a-few-bytes-left"])
def test_a_journal_write_that_fails_refuses_the_command_and_changes_nothing(tmp_path, room):
    """RLIMIT_FSIZE in a child: the command is refused in words, the state and the journal
    are as before, and the session goes on; --resume gives the state that was kept."""
    code = f"""\
        import os, resource, sys
        from pfnconsole.cli import console_session
        s = console_session(None)
        for line in ["{REGISTER}", "kmap 0x440600 dev"]:
            assert s.execute(line).ok
        size = os.path.getsize(s.journal.path)
        before = s.machine.fingerprint(), list(s.accepted)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + {room}, resource.RLIM_INFINITY))
        r = s.execute("teardown pmem0")
        resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)
        assert not r.ok and "File too large" in r.error and "nothing changed" in r.error, r.error
        assert (s.machine.fingerprint(), list(s.accepted)) == before
        assert os.path.getsize(s.journal.path) == size
        assert s.execute("cpu 1").ok
        print(s.machine.fingerprint())
        """
    env = {"XDG_STATE_HOME": str(tmp_path)}
    p = _child(code, env)
    assert p.returncode == 0, p.stderr
    check = """\
        from pfnconsole.cli import console_session
        s = console_session("")
        print(s.machine.fingerprint())
        print(s.accepted)
        """
    q = _child(check, env)
    assert q.returncode == 0, q.stderr
    assert q.stdout.splitlines()[0] == p.stdout.strip()
    assert "teardown" not in q.stdout


def break_journal(j: Journal) -> None:
    """From now on every write to the journal fails (its descriptor is read-only)."""
    fd = os.open(j.path, os.O_RDONLY)
    os.dup2(fd, j._fd)
    os.close(fd)


def test_a_full_disk_keeps_the_repl_running(tmp_path, monkeypatch):
    from prompt_toolkit.history import InMemoryHistory
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from pfnconsole.repl import Repl
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    s = Session(journal=Journal())
    assert s.execute(REGISTER).ok
    break_journal(s.journal)
    with create_pipe_input() as inp:
        repl = Repl(s, input=inp, output=DummyOutput(), history=InMemoryHistory())
        inp.send_text("register pmem1 0x540000000 4G\rinfo\r")
        inp.close()
        assert repl.run() == 0
    assert repl.prompts == 3  # it asked for a line after each refusal, then saw EOF
    assert list(s.machine.state.ranges) == ["pmem0"] and s.accepted == [REGISTER]


async def test_a_full_disk_keeps_the_console_running(tmp_path, monkeypatch):
    from pfnconsole.tui.app import PfnApp
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    s = Session(journal=Journal())
    app = PfnApp(s)
    async with app.run_test(size=(160, 48)) as pilot:
        assert app.run_line(REGISTER).ok
        break_journal(s.journal)
        r = app.run_line("register pmem1 0x540000000 4G")
        assert not r.ok and "Bad file descriptor" in r.error and "nothing changed" in r.error
        await pilot.pause()
        assert app.is_running
        fd = os.open(s.journal.path, os.O_WRONLY | os.O_APPEND)  # room again
        os.dup2(fd, s.journal._fd)
        os.close(fd)
        assert app.run_line("register pmem1 0x540000000 4G").ok
    assert list(s.machine.state.ranges) == ["pmem0", "pmem1"]
    assert [c for _, c in read_journal(s.journal.path).commands] == \
        [REGISTER, "register pmem1 0x540000000 4G"]


def test_a_torn_last_record_is_reported_and_dropped(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    s = Session(journal=Journal())
    for line in [REGISTER, "kmap 0x440600 dev"]:
        assert s.execute(line).ok
    want = s.machine.fingerprint()
    assert s.execute("cpu 3").ok
    data = s.journal.path.read_bytes()
    s.journal.path.write_bytes(data[:-7])  # a crash in the middle of the last write
    j = read_journal(s.journal.path)
    assert [c for _, c in j.commands] == [REGISTER, "kmap 0x440600 dev"]
    assert len(j.problems) == 1 and "torn record" in j.problems[0]
    t = Session()
    assert t.resume(j.commands) == [] and t.machine.fingerprint() == want
    corrupt = data.replace(b"kmap 0x440600", b"kmap 0x440601")  # a flipped bit mid-file
    s.journal.path.write_bytes(corrupt)
    j = read_journal(s.journal.path)
    assert [c for _, c in j.commands] == [REGISTER] and "corrupt record" in j.problems[0]


def test_resume_replays_only_what_is_accepted_this_time(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    log = tmp_path / "boot.log"
    log.write_text("BIOS-e820: [mem 0x0000000000000000-0x000000043fffffff] usable\n")
    s = Session(journal=Journal())
    for line in [f"machine from-log {log}", "info"]:
        assert s.execute(line).ok
    log.unlink()  # the file is gone when the session is resumed
    t = Session(journal=Journal())
    problems = t.resume(read_journal(s.journal.path).commands)
    assert len(problems) == 1 and "from-log" in problems[0] and "left out" in problems[0]
    assert t.accepted == ["info"]
    assert [c for _, c in read_journal(t.journal.path).commands] == ["info"]


def test_every_console_has_its_own_journal_and_none_is_moved(tmp_path, monkeypatch):
    from pfnconsole.cli import console_session
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    first = console_session(None)
    assert first.execute(REGISTER).ok
    first_bytes = first.journal.path.read_bytes()
    second = console_session(None)
    assert second.execute("cpu 1").ok
    third = console_session(None)
    assert len({first.journal.path, second.journal.path, third.journal.path}) == 3
    assert first.journal.path.read_bytes() == first_bytes
    third.journal.close(discard_empty=True)  # a console that ran nothing leaves nothing
    assert not third.journal.path.exists()
    found = list_sessions()
    assert [(x.commands, x.last) for x in found] == [(1, REGISTER), (1, "cpu 1")]
    newest = console_session("")
    assert newest.accepted == ["cpu 1"]
    assert newest.notices == [f"resumed session {found[1].id} (1 command(s))"]
    back = console_session(found[0].id)
    assert back.accepted == [REGISTER] and list(back.machine.state.ranges) == ["pmem0"]
    assert first.journal.path.read_bytes() == first_bytes


def test_the_sessions_command_lists_them(tmp_path, capsys, monkeypatch):
    from pfnconsole.cli import console_session
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    s = console_session(None)
    assert s.execute(REGISTER).ok and s.execute("cpu 2").ok
    assert cli_main(["sessions"]) == 0
    out = capsys.readouterr().out
    assert s.journal.id in out and "cpu 2" in out and " 2  " in out
    with pytest.raises(SystemExit):
        console_session("no-such-session")


async def test_a_lesson_step_back_is_journaled_so_resume_comes_back_to_it(tmp_path,
                                                                          monkeypatch):
    from pfnconsole.lessons import Player, load
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    s = Session(journal=Journal())
    player = Player(load("4"), s)
    player.next()
    at_one = s.machine.fingerprint()
    player.next()
    assert s.machine.fingerprint() != at_one
    player.previous()
    assert s.machine.fingerprint() == at_one
    t = Session()
    t.resume(read_journal(s.journal.path).commands)
    assert t.machine.fingerprint() == at_one and t.accepted == s.accepted


# --- the console ---------------------------------------------------------------------------

async def test_the_decoder_value_box_takes_any_text(tmp_path):
    from textual.widgets import Input

    from pfnconsole.tui.app import PfnApp
    app = PfnApp(Session())
    async with app.run_test(size=(160, 48)) as pilot:
        box = app.query_one("#decoder-value", Input)
        box.focus()
        for keys in (["l", "enter"], ["backspace", "x", "y", "z", "enter"],
                     ["backspace"] * 3 + list("0x100600004") + ["enter"]):
            await pilot.press(*keys)
            await pilot.pause()
            assert app.is_running
        body = str(app.query_one("#decoder-body").render())
        assert "0x100600" in body


async def test_forty_commands_typed_with_no_pause_are_forty_journal_records(tmp_path,
                                                                           monkeypatch):
    from pfnconsole.tui.app import PfnApp
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    lines = []
    for i in range(10):
        start = 0x10000000000 + (i << 32)
        lines += [f"register r{i} {start:#x} 4G", f"kmap {start >> 12:#x} dev", "rcu",
                  f"cpu {i % 4}"]
    s = Session(journal=Journal())
    app = PfnApp(s)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        type_ahead(app, [k for line in lines for k in (*line, "enter")])
        for _ in range(100):
            await pilot.pause(0.05)
            if len(s.accepted) == len(lines):
                break
    assert [c for _, c in read_journal(s.journal.path).commands] == lines


async def test_a_pasted_block_of_commands_runs_every_line(tmp_path, monkeypatch):
    from textual import events

    from pfnconsole.tui.app import PfnApp
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    s = Session(journal=Journal())
    app = PfnApp(s)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        cmd = app.query_one("#cmd")
        cmd.post_message(events.Paste(f"{REGISTER}\nkmap 0x440600 dev\nrcu\ncpu"))
        await pilot.pause()
        assert cmd.value == "cpu"  # the unfinished last line waits for Enter
        await pilot.press("space", "1", "enter")
        await pilot.pause()
    assert [c for _, c in read_journal(s.journal.path).commands] == \
        [REGISTER, "kmap 0x440600 dev", "rcu", "cpu 1"]


def type_ahead(app, keys: list[str]) -> None:
    """Queue every key at once, as a fast typist or a paste in a real terminal does
    (Pilot.press waits for the app to go idle after each key)."""
    from textual import events
    for key in keys:
        char = key if len(key) == 1 else ("\r" if key == "enter" else None)
        name = {" ": "space", "-": "minus", "_": "underscore", ".": "full_stop"}.get(key, key)
        app.post_message(events.Key(name, char))


async def test_save_over_a_file_asks_in_the_console(tmp_path):
    from pfnconsole.tui.app import PfnApp
    from pfnconsole.tui.confirm_screen import ConfirmScreen
    target = tmp_path / "s.pfn"
    target.write_text("mine\n")
    app = PfnApp(Session())
    async with app.run_test(size=(160, 48)) as pilot:
        app.run_line(REGISTER)
        app.run_line(f"save {target}")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert target.read_text() == "mine\n"
        app.run_line(f"save {target}")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
    assert target.read_text().splitlines()[1:] == [REGISTER]


# --- the rest ------------------------------------------------------------------------------

def test_a_closed_pipe_ends_quietly(tmp_path):
    script = "".join(f"register r{i} {0x10000000000 + (i << 32):#x} 4G\n" for i in range(300))
    p = subprocess.Popen([sys.executable, "-m", "pfnconsole", "run", "-"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdin.write(script.encode())
    p.stdin.close()
    p.stdout.readline()
    p.stdout.close()  # like `| head -1`
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) == 141 and "Traceback" not in err and "BrokenPipe" not in err


def test_a_lesson_nested_too_deep_is_a_lesson_error():
    text = ("# Deep\n## S\n```pfn\ninfo\n```\n```expect\narch = "
            + "[" * 5000 + "]" * 5000 + "\n```\n")
    with pytest.raises(LessonError) as e:
        parse_lesson(text, "deep.md")
    assert str(e.value).startswith("deep.md:7: error:") and "nest" in str(e.value)


def test_a_lesson_file_that_is_a_node_is_refused(tmp_path):
    from pfnconsole.lessons import load
    os.mkfifo(tmp_path / "x.md")
    with pytest.raises(LessonError) as e:
        load(str(tmp_path / "x.md"))
    assert "not a regular file" in str(e.value)


async def test_the_console_says_what_resume_did(tmp_path, monkeypatch):
    from textual.widgets import RichLog

    from pfnconsole.cli import console_session
    from pfnconsole.tui.app import PfnApp
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    first = console_session(None)
    assert first.execute(REGISTER).ok
    app = PfnApp(console_session(""))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        text = "\n".join(line.text for line in app.query_one("#log", RichLog).lines)
    assert f"resumed session {first.journal.id} (1 command(s))" in text
