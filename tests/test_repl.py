"""The prompt_toolkit REPL: sessions through a pipe, completion, history, Ctrl-C / Ctrl-D."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from pfnconsole.commands import Session
from pfnconsole.repl import CommandCompleter, Repl, history_path, open_history


def drive(keys: str, session: Session | None = None, history=None) -> tuple[Session, int]:
    """Type ``keys`` into a Repl on a pipe; returns the session and the exit code."""
    with create_pipe_input() as inp:
        inp.send_text(keys)
        with create_app_session(input=inp, output=DummyOutput()):
            repl = Repl(session, input=inp, output=DummyOutput(),
                        history=history if history is not None else InMemoryHistory())
            code = repl.run()
    return repl.session, code


def test_commands_run_and_ctrl_d_exits():
    s, code = drive("register pmem0 0x1000000000 4G\rkmap 0x1000600 dev\r\x04")
    assert code == 0
    assert s.machine.state.rcu.nr_readers == 1
    assert [r.name for r in s.machine.state.kmap.nodes] == ["pmem0"]


def test_an_error_never_leaves_the_loop_and_changes_nothing():
    s, code = drive("register pmem0 0x1000000000 4G\rbogus 1\rteardown nope\rkmap 0x1000600 dev\r"
                    "\x04")
    assert code == 0
    assert s.machine.state.rcu.nr_readers == 1
    assert s.machine.history_len == 2


def test_ctrl_c_cancels_the_line():
    # Ctrl-C while typing drops the half-typed register; the next line still runs
    s, code = drive("register pmem9 0x1000000000 4G\x03cpu 2\r\x04")
    assert code == 0
    assert s.machine.state.cpu == 2
    assert "pmem9" not in s.machine.state.ranges


def drive_paced(chunks: list[str], session: Session | None = None, history=None):
    """Like drive, but each chunk waits for its prompt and a pause, as a person types.

    History loading and completion run as background tasks in prompt_toolkit, so keys that
    arrive in the same instant as the prompt can overtake them.
    """
    import threading
    import time

    with create_pipe_input() as inp:
        with create_app_session(input=inp, output=DummyOutput()):
            repl = Repl(session, input=inp, output=DummyOutput(),
                        history=history if history is not None else InMemoryHistory())
            result = {}
            t = threading.Thread(target=lambda: result.setdefault("code", repl.run()))
            t.start()
            for n, chunk in enumerate(chunks, 1):
                deadline = time.monotonic() + 10
                while repl.prompts < n and time.monotonic() < deadline:
                    time.sleep(0.01)
                for part in chunk.split("\0"):  # \0 marks a pause inside a line
                    time.sleep(0.15)
                    inp.send_text(part)
            t.join(10)
    return repl.session, result.get("code")


def test_history_is_recalled_with_up():
    hist = InMemoryHistory()
    # run `cpu 3`, then `cpu 1`, then Up Up Enter re-runs `cpu 3`
    s, code = drive_paced(["cpu 3\r", "cpu 1\r", "\x1b[A\0\x1b[A\0\r", "\x04"], history=hist)
    assert code == 0
    assert s.machine.state.cpu == 3
    assert list(hist.get_strings())[-3:] == ["cpu 3", "cpu 1", "cpu 3"]


def test_tab_completes_a_verb():
    s, code = drive_paced(["tea\0\t\0 pmem0\r", "\x04"], session=_with_range())
    assert code == 0
    assert s.machine.state.ranges["pmem0"].state == "freed"


def _with_range() -> Session:
    s = Session()
    s.execute("register pmem0 0x1000000000 4G")
    return s


@pytest.mark.parametrize("text,expected", [
    ("km", ["kmap"]),
    ("kmap 0x100600 d", ["dev"]),
    ("encode 1 abi=p", ["pfn_t"]),
    ("encode 1 abi=sg e", ["end"]),
    ("teardown ", ["pmem0"]),
    ("machine x86", ["x86_64", "x86_64-5level"]),
    ("machine x86_64 me", ["memmodel="]),
    ("machine x86_64 memmodel=s", ["sparse"]),
    ("help ku", ["kunmap"]),
    ("set radix 1", ["10", "16"]),
    ("kmap 0x1 # comment ", []),
])
def test_completer(text, expected):
    s = _with_range()
    got = [c.text for c in CommandCompleter(s).get_completions(Document(text), CompleteEvent())]
    assert got == expected


def test_completer_offers_open_mappings_for_kunmap():
    s = _with_range()
    s.execute("kmap 0x1000600 dev")
    got = [c.text for c in CommandCompleter(s).get_completions(Document("kunmap 0xf"),
                                                                CompleteEvent())]
    assert got == ["0xffffc90000600000"]
    s.execute("cpu 1")  # mappings are per CPU
    assert list(CommandCompleter(s).get_completions(Document("kunmap "), CompleteEvent())) == []


def test_history_file_lives_in_xdg_state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert history_path() == tmp_path / "pfnconsole" / "history"
    hist = open_history()
    hist.append_string("kmap 0x100600 dev")
    assert "kmap 0x100600 dev" in (tmp_path / "pfnconsole" / "history").read_text()


def test_unwritable_state_dir_falls_back_to_memory(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))  # a file where a dir should be
    assert type(open_history()).__name__ == "InMemoryHistory"


def test_piped_repl_prints_results_and_a_clear_error(tmp_path):
    env = {"XDG_STATE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    p = subprocess.run([sys.executable, "-m", "pfnconsole", "repl"],
                       input="register pmem0 0x100000000 4G\nkmap 0x100600 dev\nbogus 1\nrcu\n",
                       capture_output=True, text=True, timeout=60, env=env)
    assert "pmem0 at node 1 -> 0xffffc90000600000" in p.stdout
    assert "1 reader(s) open" in p.stdout  # the line after the bad one ran
    assert p.stderr.strip() == "<stdin>:3: error: unknown command 'bogus'; `help` lists commands"
    assert "Traceback" not in p.stderr


# --- pastes (bracketed paste: \x1b[200~ … \x1b[201~) ----------------------------------------

LOGS = Path(__file__).resolve().parent.parent / "lessons" / "logs"
BAD_PAGE = (LOGS / "bad-page.log").read_text()


def paste(text: str) -> str:
    return f"\x1b[200~{text}\x1b[201~"


def test_a_paste_after_decode_is_one_decode_of_the_whole_text():
    # `dmesg --color` leaves escapes in the first line: a command line refuses them
    log = "\x1b[32m" + BAD_PAGE.replace("\n", "\x1b[0m\n", 1)
    s, code = drive("decode " + paste(log) + "\r\x04")
    assert code == 0
    assert s.last is not None and s.last.cmd == "decode", s.last
    expected = Session().execute("decode\n" + log)
    assert s.last.data["findings"] == expected.data["findings"]
    assert 0x12F4C1 in s.last.data["pfns"]


def test_a_line_decode_alone_then_a_paste_decodes_the_paste():
    s, code = drive("decode\r" + paste(BAD_PAGE) + "\r\x04")
    assert code == 0
    assert s.last is not None and s.last.cmd == "decode"
    assert s.last.data["findings"] == Session().execute("decode\n" + BAD_PAGE).data["findings"]
    assert s.accepted == ["decode\n" + BAD_PAGE.strip()]


def test_a_log_pasted_after_machine_from_log_dash_builds_the_machine():
    log = (LOGS / "boot-memmap.log").read_text()
    s, code = drive("machine from-log - " + paste(log) + "\r\x04")
    assert code == 0
    assert s.last is not None and s.last.cmd == "machine" and s.last.ok
    direct = Session()
    assert direct.execute("machine from-log -\n" + log).ok
    assert s.machine.state.physmap.ranges == direct.machine.state.physmap.ranges
    assert s.machine.state.physmap.ranges != Session().machine.state.physmap.ranges


def test_a_paste_of_commands_runs_each_line():
    s, code = drive(paste("cpu 1\n# a comment\ncpu 2\n\ncpu 3\n") + "\r\x04")
    assert code == 0
    assert s.machine.state.cpu == 3
    assert s.accepted == ["cpu 1", "cpu 2", "cpu 3"]


def test_a_pasted_line_that_fails_stops_the_rest():
    s, code = drive(paste("cpu 1\nbogus 1\ncpu 3") + "\r\x04")
    assert code == 0
    assert s.machine.state.cpu == 1
    assert s.accepted == ["cpu 1"]


def test_a_pasted_script_with_a_here_document_runs():
    log = (LOGS / "boot-memmap.log").read_text()
    s, code = drive(paste(f"machine from-log - <<EOF\n{log}EOF\ncpu 1\n") + "\r\x04")
    assert code == 0
    assert s.machine.state.cpu == 1
    assert s.accepted[0].startswith("machine from-log -\n")


def test_a_one_line_paste_goes_in_as_typed():
    s, code = drive("cpu " + paste("2") + "\r" + "decode " + paste("0x100600004") + "\r\x04")
    assert code == 0
    assert s.machine.state.cpu == 2
    assert s.last is not None and s.last.data["value"] == 0x100600004  # a value, not a log
