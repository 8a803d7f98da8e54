"""F4 knows whose log it is (issue 15): findings judged on the log's own machine, the
paste kept between openings, decoding in a worker that never freezes the screen."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from textual.widgets import OptionList, Static, TextArea

from pfnconsole.commands import Session
from pfnconsole.commands.verbs import logs
from pfnconsole.commands.verbs.logs import version_facts
from pfnconsole.tui import paste_screen
from pfnconsole.tui.app import PfnApp
from pfnconsole.tui.paste_screen import PasteScreen

# Written from the kernel's format strings (init/version.c linux_banner, arch/x86/kernel/
# e820.c e820__print_table, mm/mm_init.c, mm/page_alloc.c bad_page), numbers our own.
X86 = """\
[    0.000000] Linux version 6.8.0-31-generic (buildd@lcy02-amd64-080) (x86_64-linux-gnu-gcc-13 (Ubuntu 13.2.0-23ubuntu4) 13.2.0, GNU ld 2.42) #31-Ubuntu SMP PREEMPT_DYNAMIC
[    0.000000] BIOS-provided physical RAM map:
[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009ffff] usable
[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x00000000bfffffff] usable
[    0.000000] BIOS-e820: [mem 0x00000000c0000000-0x00000000ffffffff] reserved
[    0.000000] BIOS-e820: [mem 0x0000000100000000-0x000000103fffffff] usable
[    0.000000] BIOS-e820: [mem 0x0000001040000000-0x000000143fffffff] persistent (type 7)
[  120.000000] BUG: Bad page state in process a.out  pfn:1040600
[  120.000001] page:ffffea0041018000 refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x1040600
[  122.000000] Memory failure: 0x100600: recovery action for clean LRU page: Recovered
"""
ARM64 = """\
[    0.000000] Linux version 6.1.0-18-arm64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP Debian 6.1.76-1
[    0.000000] Zone ranges:
[    0.000000]   DMA      [mem 0x0000000040000000-0x00000000ffffffff]
[    0.000000]   Normal   [mem 0x0000000100000000-0x000000023fffffff]
[    0.000000] Early memory node ranges
[    0.000000]   node   0: [mem 0x0000000040000000-0x000000023fffffff]
[   10.000000] BUG: Bad page state in process a.out  pfn:80000
"""
BAD_PAGE = "[   12.345678] BUG: Bad page state in process a.out  pfn:{pfn:x}\n"
SAMPLES = Path(__file__).resolve().parents[1].parent / "shared/samples/dmesg"


# --- the decode command: which machine a verdict is against --------------------------------

@pytest.mark.parametrize("banner,arch,kver", [
    ("Linux version 6.8.0-31-generic (buildd@lcy02-amd64-080) (x86_64-linux-gnu-gcc-13)", "x86_64", "6.8"),
    ("Linux version 4.16.3-301.fc28.ppc64 (mockbuild@buildvm-ppc64-06) (gcc version 8.0.1)", "ppc64", "4.16"),
    ("Linux version 5.10.17-v8+ (dom@buildbot) (aarch64-linux-gnu-gcc-8 (Ubuntu/Linaro 8.4.0))", "arm64", "5.10"),
    ("Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14))", "x86_64", "6.1"),
    ("Linux version 5.15.0 (me@arm-box) (aarch64-linux-gnu-gcc 11.2)", "arm64", "5.15"),
    ("Linux version 5.7.0-rc4-xfstests (tytso@lambda) (gcc version 9.3.0 (Debian 9.3.0-11))", None, "5.7"),
    ("BIOS-e820: [mem 0x0000000000000000-0x000000000009ffff] usable", None, None),
], ids=["ubuntu", "fedora-ppc64", "linaro-aarch64", "debian-amd64", "host-named-arm", "no-arch", "no-banner"])
def test_the_linux_version_banner_names_arch_and_version(banner, arch, kver):
    assert version_facts(f"[    0.000000] {banner}\n") == (arch, kver)


def test_decode_judges_pfns_against_the_machine_the_log_describes():
    s = Session()
    before = s.machine.fingerprint()
    r = s.execute("decode\n" + X86)
    assert r.ok, r.error
    log = r.data["log"]
    assert log["against"] == "log" and log["kver"] == "6.8" and log["arch"] == "x86_64"
    verdicts = {f["pfn"]: f["verdict"] for f in r.data["findings"] if "pfn" in f}
    assert verdicts[0x1040600] == "in pmem, section 520, no struct page"
    assert verdicts[0x100600] == "in RAM, section 32"
    assert r.lines[0].startswith("findings judged against the machine this log describes")
    assert "16 GiB pmem" in r.lines[0]
    assert s.machine.fingerprint() == before  # decode stays read-only


def test_decode_without_a_map_judges_against_the_session_machine_and_says_so():
    s = Session()
    text = "decode " + BAD_PAGE.format(pfn=0x100600)
    r = s.execute(text)
    assert r.data["log"]["against"] == "session"
    assert r.data["findings"][0]["verdict"] == "in RAM, section 32"
    assert "the session's machine" in r.lines[0] and "no memory map" in r.lines[0]
    assert s.execute("machine x86_64 ram=2G").ok  # its pmem starts at 4 GiB, where RAM was
    r = s.execute(text)
    assert r.data["findings"][0]["verdict"] == "in pmem, section 32, no struct page"
    assert "(x86_64, 2 GiB RAM, 8 GiB pmem)" in r.lines[0]


def test_a_log_machine_the_simulator_cannot_build_falls_back_and_says_why():
    s = Session()
    before = s.machine.fingerprint()
    arm32 = ("[ 0.0] Linux version 5.4.0 (me@host) (arm-linux-gnueabihf-gcc 9.3)\n"
             "[ 0.0]   node   0: [mem 0x0000000060000000-0x000000007fffffff]\n"
             + BAD_PAGE.format(pfn=0x60100))
    r = s.execute("decode\n" + arm32)
    assert r.ok, r.error
    assert r.data["log"]["against"] == "session" and r.data["log"]["arch"] == "arm"
    assert "cannot build the log's machine" in r.lines[0]
    assert s.machine.fingerprint() == before


def test_machine_from_log_builds_the_arch_the_log_names_unless_told():
    s = Session()
    r = s.execute("machine from-log -\n" + ARM64)
    assert r.ok, r.error
    assert s.machine.state.arch.name == "arm64"
    r = s.execute("machine from-log - arch=x86_64\n" + ARM64)
    assert r.ok, r.error
    assert s.machine.state.arch.name == "x86_64"


# --- the F4 screen --------------------------------------------------------------------------

def plain(widget: Static) -> str:
    content = widget.content
    return str(content.plain if hasattr(content, "plain") else content)


def about(app: PfnApp) -> str:
    return plain(app.screen.query_one("#paste-about", Static))


def summary(app: PfnApp) -> str:
    return plain(app.screen.query_one("#paste-summary", Static))


def listed(app: PfnApp) -> list[str]:
    findings = app.screen.query_one("#paste-findings", OptionList)
    return [str(findings.get_option_at_index(i).prompt) for i in range(findings.option_count)]


async def open_and_decode(app: PfnApp, pilot, text: str) -> None:
    await pilot.press("f4")
    await pilot.pause()
    assert isinstance(app.screen, PasteScreen)
    app.screen.query_one(TextArea).text = text
    await pilot.press("ctrl+r")
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_f4_says_whose_log_it_is_and_judges_on_that_machine():
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        await open_and_decode(app, pilot, X86)
        assert ("this log describes an x86_64 v6.8 machine with ~64.0 GiB RAM and 16 GiB pmem"
                in about(app))
        assert "Build machine (Ctrl+B)" in about(app)
        assert "vmemmap at 0xffffea0000000000" in about(app)
        assert "findings are judged against it (firmware e820 map, lines 3-7)" in about(app)
        pmem = [line for line in listed(app) if "pfn 0x1040600  phys" in line]
        assert pmem and all("in pmem, section 520, no struct page" in line for line in pmem)
        assert app.session.machine.state.spec.e820 is None  # decoding built nothing


async def test_f4_builds_the_logs_machine_with_its_arch_through_the_command_path():
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        await open_and_decode(app, pilot, ARM64)
        assert "this log describes an arm64 v6.1 machine with 8 GiB RAM" in about(app)
        assert any("in RAM, section 16" in line for line in listed(app))
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert not isinstance(app.screen, PasteScreen)
        assert app.session.machine.state.arch.name == "arm64"
        assert app.session.last is not None and app.session.last.cmd == "machine"
        await pilot.press("f4")  # the text and its reading are still there
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.query_one(TextArea).text == ARM64
        assert "it is the session's machine now" in about(app)


async def test_build_machine_from_a_log_without_a_map_is_refused_on_the_screen():
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        before = app.session.machine.fingerprint()
        await open_and_decode(app, pilot, BAD_PAGE.format(pfn=0x100600))
        assert "judged against the session's machine" in summary(app)
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert isinstance(app.screen, PasteScreen)
        assert "no memory map" in summary(app)
        assert app.session.machine.fingerprint() == before


async def test_empty_text_gets_a_message_and_changes_nothing():
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        before = app.session.machine.fingerprint()
        await open_and_decode(app, pilot, "  \n")
        assert "paste a kernel log first" in summary(app)
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert isinstance(app.screen, PasteScreen) and "paste a boot log" in summary(app)
        assert app.session.machine.fingerprint() == before


async def test_the_paste_and_its_findings_stay_until_cleared(monkeypatch):
    reads: list[str] = []
    real = paste_screen.read_log

    def counting(text, *args, **kwargs):
        reads.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(paste_screen, "read_log", counting)
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        await open_and_decode(app, pilot, X86)
        shown = listed(app)
        assert shown and len(reads) == 1
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("f4")
        await pilot.pause()
        assert app.screen.query_one(TextArea).text == X86
        assert listed(app) == shown and len(reads) == 1  # kept, not read again
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert app.screen.query_one(TextArea).text == "" and listed(app) == []
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("f4")
        await pilot.pause()
        assert app.screen.query_one(TextArea).text == "" and listed(app) == []


async def test_text_closed_before_decoding_is_decoded_when_reopened():
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        app.screen.query_one(TextArea).text = BAD_PAGE.format(pfn=0x100600)
        await pilot.click("#paste-close")
        await pilot.pause()
        await pilot.press("f4")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert any("pfn 0x100600" in line for line in listed(app))


async def test_decoding_runs_in_a_worker_and_a_second_decode_supersedes_the_first(monkeypatch):
    gate = threading.Event()
    real = paste_screen.read_log
    seen: list[str] = []

    def held(text, *args, **kwargs):
        seen.append(text)
        if len(seen) == 1:
            assert gate.wait(10)  # the first decode is slow until the test lets it go
        return real(text, *args, **kwargs)

    monkeypatch.setattr(paste_screen, "read_log", held)
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        area = app.screen.query_one(TextArea)
        findings = app.screen.query_one("#paste-findings", OptionList)
        area.text = BAD_PAGE.format(pfn=0x100600)
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert findings.loading and "decoding 2 line(s)" in summary(app)
        area.text = BAD_PAGE.format(pfn=0x200600)  # the screen still answers
        await pilot.click("#paste-decode")
        while len(seen) < 2 or findings.loading:
            await pilot.pause(0.01)
        assert any("pfn 0x200600" in line for line in listed(app))
        gate.set()  # the first one finishes late: its answer is dropped
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)
        assert not any("pfn 0x100600" in line for line in listed(app))
        assert any("pfn 0x200600" in line for line in listed(app))


async def test_a_decoder_failure_is_a_message_not_a_traceback(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(paste_screen, "read_log", broken)
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        await open_and_decode(app, pilot, BAD_PAGE.format(pfn=0x100600))
        assert isinstance(app.screen, PasteScreen)
        assert "could not decode this text: boom" in summary(app)
        assert not app.screen.query_one("#paste-findings", OptionList).loading


async def test_the_screen_fits_at_80x24():
    app = PfnApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_and_decode(app, pilot, X86)
        for button in app.screen.query("#paste-buttons Button"):
            assert button.region.right <= app.screen.query_one("#paste-box").region.right
        assert app.screen.query_one("#paste-findings", OptionList).region.height > 0


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/samples absent")
async def test_a_real_pmem_boot_log_describes_its_machine():
    app = PfnApp()
    async with app.run_test(size=(160, 48)) as pilot:
        await open_and_decode(app, pilot, (SAMPLES / "e820_pmem-03.txt").read_text())
        assert "this log describes" in about(app) and "1 GiB pmem" in about(app)


def test_read_log_stops_when_cancelled():
    text = X86 * 200
    assert logs.read_log(text, "x86_64", Session().machine.state.spec, lambda: True) is None
