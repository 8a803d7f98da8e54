"""pfnconsole.decode.detect: the machine a log came from.

Every line here is composed from the kernel format string cited beside it; none is copied
from a posted log.  The last test reads the shared samples when they are present.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pfnconsole.core.arch import LOG_ARCH_NAMES
from pfnconsole.decode.detect import Detected, Detector, detect_lines, detect_text

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "dmesg"


def arch_of(*lines: str) -> str | None:
    return detect_lines(lines).arch


# --- the banner and the release --------------------------------------------------------------

def test_banner_arch_word_and_release():
    # init/version.c linux_banner: "Linux version %s (%s@%s) (%s) %s"
    d = detect_text("[    0.000000] Linux version 6.8.0-rc7-syzkaller-g707081b61156 (builder@host) "
                    "(aarch64-linux-gnu-gcc (GCC) 13.2.0, GNU ld 2.41) #1 SMP PREEMPT Mon Mar 4 2024\n")
    assert d.arch == "arm64"
    assert d.release == "6.8.0-rc7-syzkaller-g707081b61156"
    assert d.kver == (6, 8)
    assert any("banner" in e and "(line 1)" in e for e in d.evidence)


def test_banner_64_bit_word_beats_a_32_bit_host_name():
    d = detect_text("Linux version 6.1.0 (me@arm-builder-01) (x86_64-linux-gnu-gcc 12.2.0) #1 SMP\n")
    assert d.arch == "x86_64"


@pytest.mark.parametrize(("release", "arch"), [
    ("6.1.0-18-amd64", "x86_64"), ("6.5.6-300.fc39.aarch64", "arm64"), ("5.14.0-1.el9.ppc64le", "ppc64"),
    ("6.1.0-18-686-pae", "i386"), ("6.1.0-18-armmp", "arm"), ("5.10.17-v8+", "arm64"), ("4.9.45-v7+", "arm"),
])
def test_arch_named_in_the_release(release, arch):
    assert detect_text(f"Linux version {release} (me@host) (gcc 12) #1 SMP\n").arch == arch


def test_kver_from_an_oops_header_without_a_banner():
    # lib/dump_stack.c dump_stack_print_info "CPU: %d PID: %d Comm: %.20s %s%s %s %.*s"
    d = detect_text("CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.8.0-rc7 #1\n")
    assert (d.kver, d.release, d.arch) == ((6, 8), "6.8.0-rc7", None)
    d = detect_text("CPU: 3 PID: 77 Comm: kworker/3:1 Tainted: G    B   W         5.10.35 #1\n")
    assert (d.kver, d.release) == ((5, 10), "5.10.35")


def test_banner_release_wins_over_an_oops_header_and_the_other_is_a_conflict():
    d = detect_text("CPU: 0 PID: 1 Comm: init Not tainted 5.4.0 #1\nLinux version 6.6.1 (a@b) (gcc 13) #2 SMP\n")
    assert d.kver == (6, 6)
    assert any("5.4.0" in c for c in d.conflicts)


def test_raspberry_pi_release_in_the_oops_header():
    d = detect_text("CPU: 2 PID: 9 Comm: tv Tainted: G    B           4.19.66-v7+ #1253\n")
    assert (d.arch, d.kver) == ("arm", (4, 19))


def test_kernel_word_line():
    assert arch_of("Kernel: arm64") == "arm64"


# --- registers ---------------------------------------------------------------------------------

def test_x86_64_registers():
    # arch/x86/kernel/dumpstack.c show_ip "%sRIP: %04x:%pS", show_iret_regs "RSP: %04lx:%016lx EFLAGS: %08lx"
    d = detect_lines(["RIP: 0010:memcpy_orig+0x31/0x140",
                      "RSP: 0018:ffffc90000a4fcd8 EFLAGS: 00010246"])
    assert d.arch == "x86_64"
    assert any("RIP" in e for e in d.evidence)


def test_i386_registers():
    # arch/x86/kernel/process_32.c __show_regs "%sEAX: %08lx EBX: %08lx ECX: %08lx EDX: %08lx"
    assert arch_of("EIP: do_page_fault+0x1f/0x30", "EAX: 00000000 EBX: f3461a00 ECX: 00000001 EDX: c17cbf18") == "i386"


def test_arm64_registers():
    # arch/arm64/kernel/process.c __show_regs "pc : %pS", "lr : %pS", "x%-2d: %016llx"
    d = detect_lines(["pc : __memcpy+0x110/0x230", "lr : skb_copy_bits+0x70/0x2c0",
                      "x29: ffff800080003c90 x28: ffff000002d1c000"])
    assert d.arch == "arm64"
    assert d.evidence[0].startswith("arm64: register")


def test_arm_registers_wrap_pc_in_brackets_with_8_digits():
    # arch/arm/kernel/process.c __show_regs "pc : [<%08lx>]    lr : [<%08lx>]    psr: %08lx"
    assert arch_of("pc : [<c0310c8c>]    lr : [<c0310c50>]    psr: 200f0013",
                   "sp : d9b2fe18  ip : 00000000  fp : d9b2fe3c", "r10: 00000000  r9 : d9b2e000  r8 : 00000000") == "arm"


def test_old_arm64_registers_wrap_pc_with_16_digits():
    # arch/arm64/kernel/process.c before v4.16 "pc : [<%016llx>] lr : [<%016llx>] pstate: %08llx"
    assert arch_of("pc : [<ffffff80080855ac>] lr : [<ffffff8008085570>] pstate: 60000145") == "arm64"


def test_ppc64_registers():
    # arch/powerpc/kernel/process.c show_regs "NIP:  "REG" LR: "REG" CTR: "REG
    assert arch_of("NIP:  c0000000000a3b9c LR: c0000000000a3b94 CTR: 0000000000000000",
                   "MSR:  8000000000009033 <SF,EE,ME,IR,DR,RI,LE>  CR: 28002222  XER: 20000000") == "ppc64"


def test_riscv_registers_are_not_read_as_arm():
    # arch/riscv/kernel/process.c __show_regs "epc : " REG_FMT " ra : " REG_FMT " sp : " REG_FMT
    assert arch_of("epc : ffffffff8000a1b2 ra : ffffffff8000a190 sp : ff20000000013d40",
                   "status: 0000000200000120 badaddr: 0000000000000000 cause: 000000000000000d") == "riscv64"


# --- paths and symbols -------------------------------------------------------------------------

def test_arch_path_in_a_warning():
    # kernel/panic.c __warn "WARNING: CPU: %d PID: %d at %s:%d %pS"
    assert arch_of("WARNING: CPU: 0 PID: 1 at arch/arm64/mm/ioremap.c:18 ioremap_prot+0x40/0x80") == "arm64"
    assert arch_of("WARNING: CPU: 1 PID: 1 at arch/x86/entry/common.c:99 do_syscall_64+0x40/0x80") == "x86_64"
    d = detect_text("WARNING: CPU: 0 PID: 1 at arch/x86/mm/ioremap.c:217 __ioremap_caller+0x2c/0x330\n")
    assert d.arch is None and any("x86_64 or i386" in e for e in d.evidence)


@pytest.mark.parametrize(("frame", "arch"), [
    (" entry_SYSCALL_64_after_hwframe+0x6e/0x76", "x86_64"),
    (" el0t_64_sync+0x190/0x194", "arm64"),
    ("[<c0100e40>] (ret_fast_syscall) from [<b6e0ab2c>] (0xb6e0ab2c)", "arm"),
    ("[c000000004a3fe10] [c00000000000cd5c] system_call_common+0xec/0x250", "ppc64"),
])
def test_arch_only_symbols(frame, arch):
    assert arch_of(frame) == arch


def test_symbol_inside_a_longer_name_is_no_clue():
    assert arch_of(" my_el0_svc_helper+0x10/0x20") is None


# --- boot lines, hardware names ------------------------------------------------------------------

def test_booting_linux_line_tells_arm64_from_arm():
    # arch/arm64/kernel/setup.c "Booting Linux on physical CPU 0x%010lx [0x%08x]"; arch/arm "... 0x%x"
    assert arch_of("Booting Linux on physical CPU 0x0000000000 [0x410fd083]") == "arm64"
    assert arch_of("Booting Linux on physical CPU 0x0") == "arm"


@pytest.mark.parametrize(("line", "arch"), [
    ("CPU: ARMv7 Processor [410fc075] revision 5 (ARMv7), cr=10c5387d", "arm"),  # arch/arm/kernel/setup.c
    ("Command line: BOOT_IMAGE=/vmlinuz root=/dev/sda1", "x86_64"),  # arch/x86/kernel/setup.c
    ("hash-mmu: Initializing hash mmu with SLB", "ppc64"),  # arch/powerpc/mm/book3s64/hash_utils.c
    ("Page orders: linear mapping = 24, virtual = 16, io = 16, vmemmap = 24", "ppc64"),
    ("Pointer tag: [3a], memory tag: [fe]", "arm64"),  # mm/kasan/report_sw_tags.c
    ("    vector  : 0xffff0000 - 0xffff1000   (   4 kB)", "arm"),  # arch/arm/mm/init.c
    ("PGD 10f067 P4D 10f067 PUD 0", "x86_64"),  # arch/x86/mm/fault.c dump_pagetable
    ("Internal error: Oops: 805 [#1] SMP ARM", "arm"),  # arch/arm/kernel/traps.c __die
    ("Internal error: Oops: 0000000096000004 [#1] PREEMPT SMP", "arm64"),  # arch/arm64/kernel/traps.c
])
def test_arch_specific_boot_and_fault_lines(line, arch):
    assert arch_of(line) == arch


def test_x86_family_lines_alone_leave_x86_64_or_i386():
    # arch/x86/kernel/e820.c e820__print_table "%s: [mem %#018Lx-%#018Lx] "
    d = detect_text("BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n")
    assert d.arch is None
    assert any("undecided" in e and "x86_64 or i386" in e for e in d.evidence)


def test_riscv_boot_line():
    # arch/riscv/kernel/sbi.c "SBI specification v%lu.%lu detected"; a 64-bit width decides riscv64
    assert arch_of("SBI specification v2.0 detected", "raw: 0000000000000000 ffffffc600000000 0 0") == "riscv64"


@pytest.mark.parametrize(("name", "arch"), [
    ("BCM2835", "arm"), ("BCM2709", "arm"), ("Generic DT based system", "arm"),
    ("IBM pSeries (emulated by qemu) POWER9 (raw) 0x4e1202 0xf000005 of:SLOF,HEAD pSeries", "ppc64"),
])
def test_hardware_name_decides_when_nothing_stronger_does(name, arch):
    # lib/dump_stack.c "Hardware name: %s"
    assert arch_of(f"Hardware name: {name}") == arch


def test_raspberry_pi_4_alone_is_ambiguous():
    d = detect_text("Hardware name: Raspberry Pi 4 Model B Rev 1.4\n")
    assert d.arch is None
    assert any("arm or arm64" in e for e in d.evidence)


def test_pc_hardware_name_with_a_64_bit_pointer():
    # mm/debug.c __dump_page "page:%p refcount:%d mapcount:%d mapping:%p index:%#lx"
    assert arch_of("Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.3 04/01/2014",
                   "page:000000005f2c7a1e refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x1") == "x86_64"


def test_dmi_name_with_a_32_bit_pointer_is_i386():
    # drivers/firmware/dmi_scan.c "vendor product/board, BIOS version date"; mm/page_alloc.c bad_page
    assert arch_of("Hardware name: LENOVO 20ABC/20ABC, BIOS N1ET50W 06/01/2012",
                   "page:f3400000 count:0 mapcount:0 mapping:  (null) index:0x0") == "i386"


# --- addresses and pointer widths -------------------------------------------------------------------

@pytest.mark.parametrize(("line", "arch"), [
    ("Read of size 8 at addr ffff888012345678 by task a/1", "x86_64"),  # x86_64 direct map
    ("page:c00c000000123440 refcount:1 mapcount:0", "ppc64"),  # ppc64 vmemmap
    ("raw: 0000000000000000 fffffdffc0123408 ffff000012345000 0000000000000000", "arm64"),
])
def test_kernel_address_ranges(line, arch):
    assert arch_of(line) == arch


def test_pointer_width_alone_says_only_32_or_64_bit():
    d = detect_text("page:ba409190 count:0 mapcount:0 mapping:f8f8f8f8 index:0x1\n")
    assert d.arch is None
    assert any("32-bit" in e for e in d.evidence)


def test_five_level_paging_needs_proof():
    assert arch_of("RIP: 0010:f+0x1/0x2", "Read of size 8 at addr ff11000012345678 by task a/1") == "x86_64-5level"
    assert arch_of("RIP: 0010:f+0x1/0x2", "PGD 1a2b067 P4D 3c4d067 PUD 5e6f067 PMD 0") == "x86_64-5level"
    assert arch_of("RIP: 0010:f+0x1/0x2", "PGD 1a2b067 P4D 1a2b067 PUD 5e6f067 PMD 0") == "x86_64"


# --- ranking and conflicts --------------------------------------------------------------------------

def test_registers_beat_a_hardware_name_and_the_loser_is_a_conflict():
    d = detect_lines(["Hardware name: BCM2835", "pc : el0_svc_common+0x40/0x100", "lr : el0_svc+0x20/0x80"])
    assert d.arch == "arm64"
    assert any("BCM2835" in c for c in d.conflicts)


def test_banner_beats_registers():
    d = detect_lines(["Linux version 6.6.0 (a@b) (x86_64-pc-linux-gnu-gcc 13) #1", "pc : foo+0x1/0x2"])
    assert d.arch == "x86_64"
    assert any("arm64" in c for c in d.conflicts)


def test_weaker_clue_narrows_a_family():
    assert arch_of("WARNING: CPU: 0 PID: 1 at arch/x86/mm/ioremap.c:1 f+0x1/0x2",
                   "raw: 00000000 00000000 00000000 00000000") == "i386"


def test_nothing_says_gives_arch_none():
    d = detect_text("Memory failure: 0x1234: recovery action for dirty LRU page: Recovered\nhello\n")
    assert d == Detected(None, None, None, None, (), ())


def test_an_arch_pfnconsole_does_not_read_is_none_not_a_wrong_arch():
    d = detect_text("WARNING: CPU: 0 PID: 1 at arch/s390/mm/fault.c:1 f+0x1/0x2\n")
    assert d.arch is None and any("s390" in e for e in d.evidence)


# --- LPAE ------------------------------------------------------------------------------------------

def test_lpae_from_the_release():
    d = detect_text("Linux version 5.10.0-28-armmp-lpae (debian-kernel@lists.debian.org) (gcc-10) #1 SMP\n")
    assert (d.arch, d.lpae) == ("arm", True)


def test_lpae_from_a_wide_show_pte_entry_and_classic_from_ppte():
    # arch/arm/mm/fault.c show_pte "[%08lx] *pgd=%08llx", ", *pte=%08llx", ", *ppte=%08llx" (!LPAE only)
    assert detect_text("[e0801000] *pgd=0080000080007003, *pmd=00000000\n").lpae is True
    d = detect_text("[00000000] *pgd=00000000\n[e0801000] *pgd=6f80a811, *pte=00000000, *ppte=00000000\n")
    assert (d.arch, d.lpae) == ("arm", False)


def test_lpae_from_bad_page_map_pmd_type_bits():
    # mm/memory.c print_bad_pte "BUG: Bad page map in process %s  pte:%08llx pmd:%08llx"
    d = detect_lines(["BUG: Bad page map in process a  pte:4a44e100 pmd:4dfc8831", "Hardware name: BCM2835"])
    assert (d.arch, d.lpae) == ("arm", False)


def test_lpae_is_none_off_arm():
    d = detect_lines(["Linux version 6.6.0-armmp-lpae (a@b) (gcc) #1", "RIP: 0010:f+0x1/0x2"])
    assert d.arch == "arm" and d.lpae is True  # the banner outranks the registers
    assert detect_lines(["RIP: 0010:f+0x1/0x2", "[e0801000] *pgd=0080000080007003"]).lpae is None


# --- the streaming interface -----------------------------------------------------------------------

def test_detector_streams_and_quotes_line_numbers():
    det = Detector()
    det.feed(41, "RIP: 0010:f+0x1/0x2")
    assert det.result().arch == "x86_64"
    assert "(line 41)" in det.result().evidence[0]
    for n in range(10_000):
        det.feed(100 + n, "RIP: 0010:f+0x1/0x2")
    r = det.result()
    assert len(r.evidence) <= 3
    assert "more like it" in r.evidence[-1]


def test_keys_cover_every_clue_line():
    keys = Detector.keys()
    assert all(isinstance(k, str) and k for k in keys)
    for line in ("Linux version 6.1.0 (a@b) (gcc) #1", "RIP: 0010:f", "pc : [<c0310c8c>]", "Hardware name: x",
                 " el0t_64_sync+0x1/0x2", "page:ba409190 count:0", "BIOS-e820: [mem 0x0-0x1] usable"):
        assert any(k in line for k in keys), line


def test_to_json_round_trips():
    d = detect_text("Linux version 5.10.17-v8+ (a@b) (aarch64-linux-gnu-gcc-8) #1\n")
    data = json.loads(json.dumps(d.to_json()))
    assert data["arch"] == "arm64" and data["kver"] == [5, 10] and data["release"] == "5.10.17-v8+"


def test_bounded_patterns_stay_fast_on_long_lines():
    line = "page:" + "f" * 8000 + " Comm: " + "Tainted: " + "G " * 3000
    detect_text(line + "\n" + "x86/" * 2000 + "\n")


# --- the shared samples ----------------------------------------------------------------------------

# After reading each file: the samples whose excerpt carries a deciding clue (banner, release,
# registers, arch-only lines, boards, addresses, widths), and those that carry none -- or only a
# family (x86_64 or i386, "some 64-bit arch") -- where the answer must be None, not a wrong arch.
DECIDED = {
    "bad_page-01.txt", "bad_page-03.txt", "bad_page-05.txt", "bad_page-06.txt", "bad_page-07.txt",
    "bad_page-09.txt", "bad_page_map-02.txt", "boot_mmu-01.txt", "dump_page-01.txt", "dump_page-03.txt",
    "dump_page-04.txt", "dump_page-05.txt", "dump_page-08.txt", "dump_page-09.txt", "dump_page-12.txt",
    "e820-02.txt", "e820_pmem-02.txt", "mce-01.txt", "memory_failure-04.txt", "memory_info-02.txt",
    "page_fault-01.txt", "page_fault-03.txt", "zones-01.txt", "zones-03.txt", "zones-05.txt",
}
UNDECIDED = {
    "dax-01.txt",  # CXL / HMEM ranges only
    "e820-01.txt", "e820_pmem-03.txt",  # BIOS-e820 maps: x86, but 32 or 64 bit unsaid
    "fs_dax_trace-01.txt",  # trace events
    "ftrace_pfn-02.txt", "ftrace_pfn-03.txt",  # 64-bit hashed pointers only
    "mce-02.txt", "memory_failure-06.txt",  # x86 mce lines: 32 or 64 bit unsaid
    "memory_failure-01.txt", "memory_failure-02.txt",  # pfns only
    "pmem-01.txt", "pmem-02.txt", "pmem-03.txt",  # generic WARNINGs at kernel/memremap.c
}
_INDEX_ARCH = {"arm32": "arm", "x86_64": "x86_64", "arm64": "arm64", "ppc64le": "ppc64", "ppc64": "ppc64",
               "i386": "i386"}


def _expected_arches() -> dict[str, str | None]:
    """file -> arch from INDEX.md's "kernel / arch" column (None where it names none)."""
    out: dict[str, str | None] = {}
    for row in (SAMPLES / "INDEX.md").read_text().splitlines():
        cells = [c.strip() for c in row.split("|")]
        if len(cells) > 3 and cells[1].endswith(".txt"):
            words = re.findall(r"[a-z0-9_]+", cells[3])
            out[cells[1]] = next((_INDEX_ARCH[w] for w in words if w in _INDEX_ARCH), None)
    return out


def _body(path: Path) -> list[tuple[int, str]]:
    """The excerpt's lines with their file line numbers, past the '# source/kernel/kind' header."""
    lines = path.read_text(errors="replace").splitlines()
    start = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    return [(i + 1, line) for i, line in enumerate(lines) if i >= start]


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/samples/dmesg absent")
def test_shared_samples():
    expected = _expected_arches()
    files = sorted(p.name for p in SAMPLES.glob("*.txt"))
    assert files, "no samples"
    for name in files:
        det = Detector()
        for n, line in _body(SAMPLES / name):
            det.feed(n, line)
        got = det.result()
        assert got.arch is None or got.arch in LOG_ARCH_NAMES
        if name in DECIDED:
            assert got.arch == expected[name], (name, got.evidence, got.conflicts)
        elif name in UNDECIDED:
            assert got.arch is None, (name, got.evidence)
        else:  # a sample added since this list was written: it may be undecided, never wrong
            assert got.arch in (None, expected.get(name)), (name, got.evidence)
