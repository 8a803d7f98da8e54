"""A machine built from a pasted log goes through the command path: save, load and
--resume all rebuild the same machine (issue 14)."""

from __future__ import annotations

from pathlib import Path

from pfnconsole.commands import Session
from pfnconsole.commands.journal import Journal, read_journal

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "decode"
BOOT = (FIXTURES / "boot_x86.log").read_text()
PASTED = ("BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
          "BIOS-e820: [mem 0x0000000000100000-0x00000000bfffffff] usable\n"
          "EOF\n"  # a log line that happens to be the usual here-document terminator
          "BIOS-e820: [mem 0x0000000100000000-0x000000013fffffff] persistent (type 12)\n")


async def test_build_machine_from_a_paste_is_saved_and_resumed(tmp_path, monkeypatch):
    from textual.widgets import TextArea

    from pfnconsole.cli import console_session
    from pfnconsole.tui.app import PfnApp
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    session = console_session(None)
    app = PfnApp(session)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        app.screen.query_one(TextArea).text = PASTED
        await pilot.click("#paste-machine")
        await pilot.pause()
        app.run_line("register pmem0 0x100000000 1G")
        await pilot.pause()
    built = session.machine.fingerprint()
    assert session.machine.state.spec.e820 is not None
    assert session.accepted[0].startswith("machine from - arch=x86_64\n")
    assert "persistent (type 12)" in session.accepted[0]

    script = tmp_path / "pasted.pfn"
    assert session.execute(f"save {script}").ok
    text = script.read_text()
    assert "machine from - arch=x86_64 <<EOF1\n" in text and "\nEOF1\n" in text
    again = Session()
    r = again.execute(f"load {script}")
    assert r.ok, r.error
    assert again.machine.fingerprint() == built

    resumed = console_session("")  # the newest session: the one the app ran
    assert resumed.notices and "resumed session" in resumed.notices[0]
    assert resumed.machine.fingerprint() == built
    assert resumed.accepted == session.accepted


def test_from_log_dash_reads_the_lines_after_it_and_is_journaled(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    s = Session(journal=Journal())
    r = s.execute("machine from-log -\n" + BOOT)
    assert r.ok, r.error
    assert r.data["origin"] == "pasted text"
    fingerprint = s.machine.fingerprint()
    t = Session(journal=Journal())
    assert t.resume(read_journal(s.journal.path).commands) == []
    assert t.machine.fingerprint() == fingerprint


def test_from_log_dash_without_a_log_is_refused_and_changes_nothing():
    s = Session()
    before = s.machine.fingerprint()
    for line, needle in (("machine from-log -", "lines after the command"),
                         ("machine from-log -\n\n  \n", "lines after the command"),
                         ("machine from-log -\nno memory map here\n", "no e820"),
                         ("machine from-log /nonexistent\nBIOS-e820: x", "only read by")):
        r = s.execute(line)
        assert not r.ok and needle in r.error, (line, r.error)
        assert s.machine.fingerprint() == before and s.accepted == []


def test_a_script_with_an_unended_here_document_is_refused_whole(tmp_path):
    script = tmp_path / "broken.pfn"
    script.write_text("info\nmachine from-log - <<EOF\nBIOS-e820: [mem 0x0-0x9fbff] usable\n")
    s = Session()
    r = s.execute(f"load {script}")
    assert not r.ok and "no line `EOF`" in r.error and ":2:" in r.error
    assert s.accepted == []
