"""The machine a kernel log came from: arch, kernel release, and 32-bit ARM's LPAE.

``detect_text(text)`` or ``detect_lines(lines)`` read a whole log; `Detector` reads one
logical line at a time (``feed(number, text)``, ``result()`` whenever) in bounded memory.

Every line the kernel prints for one arch only is a clue, and clues have a strength
(`Rank`): the banner's arch words and arch-named releases beat register dumps, which beat
``arch/<name>/`` paths and arch-only symbols, then boot lines only one arch prints, then the
``Hardware name:`` board, then kernel address ranges, then pointer widths.  Each clue names
the arches it fits; the answer is what the strongest clues agree on, narrowed by weaker
ones that fit it, and a clue that fits none of that is a conflict.  When the clues leave
two arches (a ``Raspberry Pi 4`` board alone: arm or arm64), the arch is None and the
evidence says which two.

Every test on a line starts with literal ``in`` checks (`Detector.keys` lists them all);
regexes are bounded and have no nested repetition.  Kernel sources are cited beside each
pattern as file and version; "(knowledge)" marks a citation from memory, not re-read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from ..core.arch import LOG_ARCH_NAMES

__all__ = ["Detected", "Detector", "detect_lines", "detect_text"]


# --- arches --------------------------------------------------------------------------------

_OTHER = ("ppc32", "riscv32", "mips", "s390", "sparc", "loongarch")
"""Arches a log can prove that pfnconsole does not read: a clue for one makes the answer
None, never a wrong arch."""

_ALL = frozenset((*(a for a in LOG_ARCH_NAMES if a != "x86_64-5level"), *_OTHER))
_ORDER = ("x86_64", "arm64", "ppc64", "riscv64", "i386", "arm", *_OTHER)

X86 = frozenset({"x86_64", "i386"})
ARMS = frozenset({"arm", "arm64"})
PPC = frozenset({"ppc64", "ppc32"})
RISCV = frozenset({"riscv64", "riscv32"})
DEVICE_TREE = frozenset({"arm", "arm64", "ppc64", "ppc32", "riscv64", "riscv32", "mips", "loongarch"})
DMI = frozenset({"x86_64", "i386", "arm64", "riscv64", "loongarch"})
"""Machines with SMBIOS tables, whose ``Hardware name:`` is "vendor product, BIOS ..."."""
BITS32 = frozenset({"i386", "arm", "ppc32", "riscv32", "mips"})
BITS64 = frozenset({"x86_64", "arm64", "ppc64", "riscv64", "mips", "s390", "sparc", "loongarch"})


def _one(name: str) -> frozenset[str]:
    return frozenset({name})


def _names(arches: frozenset[str]) -> str:
    """{'x86_64', 'i386'} -> 'x86_64 or i386', in a fixed order."""
    return " or ".join(a for a in _ORDER if a in arches)


class Rank(IntEnum):
    """How much a kind of clue is trusted; a higher rank decides first."""

    WIDTH = 1
    ADDRESS = 2
    HARDWARE = 3
    BOOT = 4
    CODE = 5
    REGISTERS = 6
    BANNER = 7


# --- the answer ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Detected:
    """What a log says about its machine; None where it says nothing."""

    arch: str | None
    """A name from `LOG_ARCH_NAMES`; "x86_64-5level" only when the log proves 5-level paging."""
    kver: tuple[int, int] | None
    release: str | None
    lpae: bool | None
    """32-bit ARM only: True for LPAE (3-level, 64-bit entries), False for classic 2-level."""
    evidence: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSON output."""
        return {"arch": self.arch, "kver": list(self.kver) if self.kver else None,
                "release": self.release, "lpae": self.lpae,
                "evidence": list(self.evidence), "conflicts": list(self.conflicts)}


# --- what a clue is, and how they are kept -------------------------------------------------

@dataclass(frozen=True)
class _Clue:
    rank: Rank
    kind: str
    arches: frozenset[str]
    what: str
    line: int

    def sentence(self) -> str:
        return f"{_names(self.arches)}: {self.what} (line {self.line})"


@dataclass
class _Group:
    """Clues of one kind naming the same arches: how many, and the first few."""

    first: _Clue
    count: int = 0
    examples: list[_Clue] = field(default_factory=list)


@dataclass(frozen=True)
class _Vote:
    """A yes/no clue (LPAE, 5-level paging) with its strength."""

    rank: int
    value: bool
    what: str
    line: int

    def sentence(self) -> str:
        return f"{self.what} (line {self.line})"


_EXAMPLES = 3
"""Clues kept per group; more of the same are only counted."""
_RELEASES = 4
"""Distinct kernel releases kept."""


# --- patterns ------------------------------------------------------------------------------

# init/version.c (v2.6 .. v6.16) linux_banner:
#   "Linux version " UTS_RELEASE " (" LINUX_COMPILE_BY "@" LINUX_COMPILE_HOST ") (" LINUX_COMPILER ") " UTS_VERSION
_BANNER = re.compile(r"Linux version (\S{1,120})([^\n]{0,400})")
_RELEASE = re.compile(r"(?<![\w.])(\d{1,2})\.(\d{1,3})(?![\d])\S{0,120}")
# uname -m and distribution spellings (knowledge): Fedora .x86_64/.aarch64/.ppc64le/.armv7hl/.i686,
# Debian -amd64/-arm64/-armmp/-686/-686-pae, and compiler triplets (aarch64-linux-gnu-gcc)
_ARCH_WORD = re.compile(r"(?<![A-Za-z0-9])(x86_64|x86-64|amd64|aarch64|arm64|ppc64le|ppc64|powerpc64le|"
                        r"powerpc64|riscv64|i686|i586|i386|686-pae|686|armv7hl|armv7l|armv7|armv6l|armhf|"
                        r"armmp|armel|arm|ppc|powerpc|riscv32|s390x|mips64|mips)(?![A-Za-z0-9])")
_WORD_ARCH = {
    "x86_64": "x86_64", "x86-64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64",
    "ppc64le": "ppc64", "ppc64": "ppc64", "powerpc64le": "ppc64", "powerpc64": "ppc64",
    "riscv64": "riscv64", "i686": "i386", "i586": "i386", "i386": "i386", "686-pae": "i386",
    "686": "i386", "armv7hl": "arm", "armv7l": "arm", "armv7": "arm", "armv6l": "arm", "armhf": "arm",
    "armmp": "arm", "armel": "arm", "arm": "arm", "ppc": "ppc32", "powerpc": "ppc32",
    "riscv32": "riscv32", "s390x": "s390", "mips64": "mips", "mips": "mips",
}
# Raspberry Pi kernels (knowledge: raspberrypi/linux LOCALVERSION): -v7+ / -v7l+ 32-bit
# (v7l = bcm2711_defconfig, CONFIG_ARM_LPAE=y), -v8+ / rpi-v8 / rpi-2712 arm64, -v6 32-bit
_PI_RELEASE = re.compile(r"-(?:rpi-)?(v6|v7l|v7|v8|2712)(?![A-Za-z0-9])")
_PI_ARCH = {"v6": "arm", "v7": "arm", "v7l": "arm", "v8": "arm64", "2712": "arm64"}
_LPAE_WORD = re.compile(r"(?<![A-Za-z0-9])lpae(?![A-Za-z0-9])", re.IGNORECASE)

# lib/dump_stack.c (v3.12 .. v6.16) dump_stack_print_info:
#   "%sCPU: %d [UID: %u ]PID: %d Comm: %.20s %s%s %s %.*s" -- kdump, print_tainted() ("Not tainted"
#   or "Tainted: G    B   W  "), init_utsname()->release, version up to its first blank
_TAINT = re.compile(r"(?:Not tainted|Tainted: [A-Z ]{0,40})(?:-{1,20} {1,6})? {0,40}")

# x86: arch/x86/kernel/dumpstack.c (v4.9 .. v6.16) show_ip "%sRIP: %04x:%pS";
# show_iret_regs "%sRSP: %04lx:%016lx EFLAGS: %08lx"; arch/x86/kernel/process_64.c __show_regs
# "%sRAX: %016lx RBX: %016lx RCX: %016lx"; arch/x86/kernel/process_32.c __show_regs
# "%sEAX: %08lx EBX: %08lx ECX: %08lx EDX: %08lx"; show_ip 32-bit "%sEIP: %pS"
_RIP = re.compile(r"(?<![A-Za-z])RIP: [0-9a-f]{4}:")
_RSP = re.compile(r"(?<![A-Za-z])RSP: [0-9a-f]{4}:[0-9a-f]{16}")
_RAX = re.compile(r"(?<![A-Za-z])RAX: [0-9a-f]{16}")
_EAX = re.compile(r"(?<![A-Za-z])EAX: [0-9a-f]{8} EBX: ")
_EIP = re.compile(r"(?<![A-Za-z])EIP: (?:[0-9a-f]{4}:)?\S")
# arm64: arch/arm64/kernel/process.c (v4.16 .. v6.16) __show_regs "pc : %pS", "lr : %pS",
# "pstate: %08llx (%s)", "x%-2d: %016llx"; before v4.16 "pc : [<%016llx>] lr : [<%016llx>] pstate: %08llx"
# arm: arch/arm/kernel/process.c (v3.x .. v6.16) __show_regs
# "pc : [<%08lx>]    lr : [<%08lx>]    psr: %08lx", "sp : %08lx  ip : %08lx  fp : %08lx",
# "r10: %08lx  r9 : %08lx  r8 : %08lx"
_PC_BRACKET = re.compile(r"(?<![A-Za-z])(pc|lr) : \[<([0-9a-f]{8,16})>\]")
_PC_SYMBOL = re.compile(r"(?<![A-Za-z])(pc|lr) : (?!\[<)[A-Za-z_0-9.]")
_X29 = re.compile(r"(?<![\w])x29: [0-9a-f]{16}")
_PSTATE = re.compile(r"(?<![\w])pstate: [0-9a-f]{8}")
_PSR = re.compile(r"(?<![\w])psr: [0-9a-f]{8}")
_ARM_R10 = re.compile(r"(?<![\w])r10: [0-9a-f]{8}  r9 : ")
_ARM_FP = re.compile(r"(?<![\w])sp : [0-9a-f]{8}  ip : [0-9a-f]{8}  fp : ")
# ppc: arch/powerpc/kernel/process.c (v4.x .. v6.16) show_regs "NIP:  "REG" LR: "REG" CTR: "REG,
# "MSR:  "REG" ", REG = "%016lx" on 64-bit, "%08lx" on 32-bit
_NIP = re.compile(r"(?<![\w])NIP: {1,2}([0-9a-f]{8,16}) LR: [0-9a-f]{8,16} CTR: ")
_MSR = re.compile(r"(?<![\w])MSR: {1,2}([0-9a-f]{8,16}) ")
# riscv: arch/riscv/kernel/process.c (v5.x .. v6.16) __show_regs
# "epc : " REG_FMT " ra : " REG_FMT " sp : " REG_FMT, "status: " REG_FMT " badaddr: " REG_FMT " cause: ",
# REG_FMT "%016lx" on rv64, "%08lx" on rv32; and "epc : %pS" / " ra : %pS" for kernel mode
_EPC = re.compile(r"(?<![\w])epc : (?:([0-9a-f]{8,16})(?![\w]))?")
_BADADDR = re.compile(r"(?<![\w])status: ([0-9a-f]{8,16}) badaddr: ")

# arch/<name>/ in a path: WARNING: CPU: 0 PID: 1 at arch/x86/mm/ioremap.c:... (kernel/panic.c
# __warn "WARNING: CPU: %d PID: %d at %pS" / "at %s:%d"), BUG lines, KASAN file:line
_PATH = re.compile(r"(?<![\w/.-])arch/(x86|arm64|arm|powerpc|riscv|mips|s390|sparc|loongarch)/([\w/.-]{0,160})")
_PATH_ARCH = {"x86": X86, "arm64": _one("arm64"), "arm": _one("arm"), "powerpc": PPC, "riscv": RISCV,
              "mips": _one("mips"), "s390": _one("s390"), "sparc": _one("sparc"),
              "loongarch": _one("loongarch")}

_SYMBOLS: dict[str, frozenset[str]] = {
    # arch/x86/entry/entry_64.S, common.c / syscall_64.c (v4.2 .. v6.16); system_call_fastpath before v4.2
    "entry_SYSCALL_64": _one("x86_64"), "entry_SYSCALL_64_after_hwframe": _one("x86_64"),
    "do_syscall_64": _one("x86_64"),
    "system_call_fastpath": _one("x86_64"), "x64_sys_call": _one("x86_64"),
    # arch/x86/entry/entry_32.S (v4.2 .. v6.16); sysenter_past_esp before v4.2
    "entry_INT80_32": _one("i386"), "entry_SYSENTER_32": _one("i386"), "sysenter_past_esp": _one("i386"),
    # arch/arm64/kernel/entry.S, entry-common.c (v5.10 .. v6.16: el0t_64_sync; el0_sync before)
    "el0_svc": _one("arm64"), "el0t_64_sync": _one("arm64"), "el1h_64_sync": _one("arm64"),
    "el0t_64_sync_handler": _one("arm64"), "el1h_64_sync_handler": _one("arm64"),
    "el0_svc_common": _one("arm64"), "do_el0_svc": _one("arm64"), "el0_sync": _one("arm64"),
    "el1_sync": _one("arm64"), "el1_irq": _one("arm64"), "el1h_64_irq": _one("arm64"),
    # arch/arm/kernel/entry-common.S, entry-armv.S, unwind.c (v2.6 .. v6.16)
    "ret_fast_syscall": _one("arm"), "__irq_svc": _one("arm"), "__dabt_svc": _one("arm"),
    "__irq_usr": _one("arm"), "__dabt_usr": _one("arm"), "__pabt_usr": _one("arm"),
    "vector_swi": _one("arm"), "unwind_backtrace": _one("arm"),
    # arch/powerpc/kernel/interrupt.c, interrupt_64.S, entry_64.S, head_64.S (knowledge)
    "system_call_exception": PPC, "system_call_common": _one("ppc64"),
    "system_call_vectored_common": _one("ppc64"), "interrupt_return_srr": _one("ppc64"),
    "start_here_common": _one("ppc64"), ".ret_from_fork": _one("ppc64"),
    # arch/riscv/kernel/entry.S, traps.c (v5.x .. v6.16)
    "handle_exception": RISCV, "ret_from_exception": RISCV, "do_trap_ecall_u": RISCV,
}
# syscall wrappers with the arch in the name: arch/x86/include/asm/syscall_wrapper.h (v4.17+),
# arch/arm64/include/asm/syscall_wrapper.h (v4.19+), arch/riscv/include/asm/syscall_wrapper.h (v5.19+)
_SYMBOL_PREFIXES = {"__x64_sys_": _one("x86_64"), "__arm64_sys_": _one("arm64"), "__riscv_sys_": RISCV}

# arch/arm/kernel/traps.c (v3.15 .. v6.16) dump_backtrace_entry "[<%08lx>] (%ps) from [<%08lx>] (%pS)"
_ARM_FROM = ") from [<"
# arch/arm64/kernel/setup.c (v3.19 .. v6.16) smp_setup_processor_id
#   "Booting Linux on physical CPU 0x%010lx [0x%08x]"; arch/arm/kernel/setup.c "... CPU 0x%x"
_BOOTING = re.compile(r"Booting Linux on physical CPU 0x([0-9a-f]{1,16})")
# arch/arm/kernel/setup.c setup_processor "CPU: %s [%08x] revision %d (ARMv%s), cr=%08lx"
_ARM_CPU = re.compile(r"CPU: [^\[]{1,80}\[[0-9a-f]{8}\] revision \d{1,3} \(ARMv")
# arch/x86/kernel/dumpstack.c (v4.15 .. v6.16) __die_header "%s: %04lx [#%d]%s%s%s%s%s"
# (" PREEMPT", " SMP", " DEBUG_PAGEALLOC", " KASAN", " PTI"/" NOPTI")
_X86_DIE = re.compile(r": [0-9a-f]{4} \[#\d{1,4}\]")
# arch/arm/kernel/traps.c __die "Internal error: %s: %x [#%d]" S_PREEMPT S_SMP S_ISA (" ARM"/" THUMB2");
# arch/arm64/kernel/traps.c __die "Internal error: %s: %016lx [#%d] " (v6.1+; "%08x" before)
_INTERNAL = re.compile(r"Internal error: [^:]{1,60}: ([0-9a-f]{1,16}) \[#\d{1,4}\]([A-Z0-9_ ]{0,60})")
# arch/x86/mm/fault.c (v4.12 .. v6.16) dump_pagetable 64-bit "PGD %lx " "P4D %lx " "PUD %lx ";
# before v4.12 "PGD %lx PUD %lx"; 32-bit "*pdpt = %016Lx " "*pde = %0*Lx "
_X86_WALK = re.compile(r"(?<![\w*])PGD ([0-9a-f]{1,16}) (P4D|PUD) ([0-9a-f]{1,16})")
# arch/arm/mm/fault.c (v3.x .. v6.16) show_pte "[%08lx] *pgd=%08llx" ", *pmd=" ", *pte=" and, without
# CONFIG_ARM_LPAE only, ", *ppte=%08llx"; arch/arm64/mm/fault.c show_pte "[%016lx] pgd=%016llx"
_ARM_PTE = re.compile(r"\*(pgd|pmd|pte)=([0-9a-f]{8,16})")
_ARM64_PTE = re.compile(r"\] pgd=([0-9a-f]{16})")
# mm/memory.c (v2.6 .. v6.16) print_bad_pte "BUG: Bad page map in process %s  pte:%08llx pmd:%08llx"
_BAD_MAP = re.compile(r"pte:([0-9a-f]{8,16}) pmd:([0-9a-f]{8,16})")
# mm/mm_init.c (v6.3+; mm/page_alloc.c before) free_area_init "  %-8s [mem %#018Llx-%#018Llx]" per zone;
# arch/x86/include/asm/dma.h MAX_DMA_PFN: ZONE_DMA ends at 16 MiB on x86 only
_X86_DMA = re.compile(r"DMA {1,8}\[mem 0x0{12}[0-9a-f]{4}-0x0000000000ffffff\]")
# arch/x86: pr_fmt "x86/fpu: ", "x86/mm: ", "x86/PAT: ", "x86/cpu: " ... (v4.x .. v6.16)
_X86_PREFIX = re.compile(r"(?<![\w/])x86/[A-Za-z]{2,12}: ")
# arch/powerpc/kernel/traps.c (v4.x .. v6.16) __die "%s PAGE_SIZE=%luK%s%s%s%s%s%s %s" (" MMU=Hash", ...)
_PPC_DIE = re.compile(r"PAGE_SIZE=\d{1,3}K MMU=")
_RISCV_PREFIX = re.compile(r"(?<![\w/-])riscv: ")
_X86_MCE = re.compile(r"(?<![\w])mce: ")

# 16-hex-digit words, and the kernel address ranges they may fall in
_WORD16 = re.compile(r"(?<![0-9A-Za-z])(?:0x)?([0-9a-f]{16})(?![0-9A-Za-z])")
# pointer widths: mm/debug.c (v5.x .. v6.16) __dump_page "page:%p refcount:%d ..." and print_hex_dump
# "raw: " of sizeof(unsigned long) words; mm/page_alloc.c bad_page; include/trace/events/kmem.h
# mm_page_alloc "page=%p pfn=0x%lx"; [<%p>] backtrace addresses
_PAGE_PTR = re.compile(r"(?<![\w>-])page(?::|=(?:0x)?)([0-9a-f]{8,16})(?![0-9a-zA-Z])")
_RAW = re.compile(r"(?<![\w])raw: ([0-9a-f]{8,16}) ")
_BRACKET = re.compile(r"\[<([0-9a-f]{8,16})>\]")


# --- the detector --------------------------------------------------------------------------

_HARDWARE_GATES = ("Hardware name: ", "Machine model: ")
_REGISTER_GATES = ("RIP: ", "RSP: ", "RAX: ", "EAX: ", "EIP: ", "pc : ", "lr : ", "x29: ", "pstate: ",
                   "psr: ", "r10: ", "ip : ", "NIP:", "MSR:", "epc : ", "badaddr: ")
_BOOT_GATES = ("Booting Linux on physical CPU", "(ARMv", "CPU features: detected", "x86/", "BIOS-e820",
               "e820: ", "Command line: ", "Page orders:", "hash-mmu:", "radix-mmu:", "machine description",
               "ppc64_pft_size", "riscv: ", "SBI specification", "Pointer tag: [", "vector  : 0x", "PGD ",
               "*pde = ", "*pdpt = ", " [#", "Internal error: ", "PAGE_SIZE=", "DMA ", "*pgd=", "] pgd=",
               _ARM_FROM, "la57", "mce: ", "EDAC sbridge", "EDAC skx")
_ADDRESS_GATES = ("ffffea", "ffff88", "ff11", "ffd4", "c00c", "c000", "ffff0", "ffff1", "ffff2", "ffff3",
                  "ffff4", "ffff5", "ffff6", "ffff7", "fffffc", "fffffd")
_WIDTH_GATES = ("page:", "page=", "raw: ", "[<", "DMA32")
_LPAE_GATES = ("lpae", "LPAE", "Lpae", "*ppte=", "Bad page map")


class Detector:
    """Reads a log line by line and says what machine it came from (see the module doc)."""

    def __init__(self) -> None:
        self._groups: dict[tuple[Rank, str, frozenset[str]], _Group] = {}
        self._releases: list[tuple[int, str, str]] = []  # (line, release, where)
        self._lpae: dict[tuple[int, bool], _Vote] = {}
        self._five: dict[tuple[int, bool], _Vote] = {}
        self._order = 0

    @staticmethod
    def keys() -> tuple[str, ...]:
        """The literal strings a line must contain for `feed` to learn anything from it."""
        keys = ["Linux version ", "Comm: ", "Kernel: ", "arch/", *_REGISTER_GATES, *_SYMBOLS,
                *_SYMBOL_PREFIXES, *_BOOT_GATES, *_HARDWARE_GATES, *_ADDRESS_GATES, *_WIDTH_GATES, *_LPAE_GATES]
        return tuple(dict.fromkeys(keys))

    def settled(self) -> bool:
        """A release is known and a banner or register dump named one arch alone: later
        lines of a long log will not change the answer (a reader may stop feeding)."""
        return bool(self._releases) and any(
            rank >= Rank.REGISTERS and len(arches) == 1 for rank, _, arches in self._groups)

    # -- feeding --

    def feed(self, line_number: int, text: str) -> None:
        """Learn from one logical line (``line_number`` is only quoted back in the evidence)."""
        n = line_number
        if "Linux version " in text:
            self._read_banner(n, text)
        if "Comm: " in text:
            self._read_oops_header(n, text)
        if "Kernel: " in text:
            self._read_kernel_word(n, text)
        if any(g in text for g in _REGISTER_GATES):
            self._read_registers(n, text)
        if "arch/" in text:
            self._read_paths(n, text)
        self._read_symbols(n, text)
        if any(g in text for g in _BOOT_GATES):
            self._read_boot_lines(n, text)
        if any(g in text for g in _HARDWARE_GATES):
            self._read_hardware(n, text)
        if any(g in text for g in _ADDRESS_GATES):
            self._read_addresses(n, text)
        if any(g in text for g in _WIDTH_GATES):
            self._read_widths(n, text)
        if any(g in text for g in _LPAE_GATES):
            self._read_lpae(n, text)

    def _add(self, rank: Rank, kind: str, arches: frozenset[str], what: str, line: int) -> None:
        key = (rank, kind, arches)
        clue = _Clue(rank, kind, arches, what, line)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _Group(clue)
        group.count += 1
        if len(group.examples) < _EXAMPLES:
            group.examples.append(clue)

    def _vote(self, votes: dict[tuple[int, bool], _Vote], rank: int, value: bool, what: str, line: int) -> None:
        votes.setdefault((rank, value), _Vote(rank, value, what, line))

    def _add_release(self, line: int, release: str, where: str) -> None:
        known = [r for _, r, _ in self._releases]
        if release not in known:
            if len(self._releases) < _RELEASES:
                self._releases.append((line, release, where))
            elif where == "banner" and all(w != "banner" for _, _, w in self._releases):
                self._releases[-1] = (line, release, where)  # a banner outranks a header
        self._read_release_name(line, release, where)

    def _read_release_name(self, n: int, release: str, where: str) -> None:
        """Arch and LPAE words inside a release: 6.1.0-18-amd64, 5.10.17-v8+, 5.15.0-armmp-lpae."""
        words = {_WORD_ARCH[w] for w in _ARCH_WORD.findall(release)}
        pi = _PI_RELEASE.search(release)
        if pi:
            words.add(_PI_ARCH[pi[1]])
            if pi[1] == "v7l":
                self._vote(self._lpae, 2, True, f"release '{release}' is a Raspberry Pi v7l (LPAE) build", n)
        lpae = _LPAE_WORD.search(release)
        if lpae:
            words.add("arm")
            self._vote(self._lpae, 2, True, f"release '{release}' names LPAE", n)
        arch = _pick_word(words)
        if arch:
            self._add(Rank.BANNER, "release", _one(arch), f"release '{release}' in the {where}", n)

    def _read_banner(self, n: int, text: str) -> None:
        m = _BANNER.search(text)
        if m is None:
            return
        release, rest = m[1], m[2]
        if _RELEASE.match(release):
            self._add_release(n, release, "banner")
        arch = _pick_word({_WORD_ARCH[w] for w in _ARCH_WORD.findall(rest)})
        if arch:
            self._add(Rank.BANNER, "banner", _one(arch), "an arch word in the Linux version banner", n)

    def _read_oops_header(self, n: int, text: str) -> None:
        at = text.find("Comm: ")
        if "CPU: " not in text[:at] or "PID: " not in text[:at]:
            return
        taint = _TAINT.search(text, at)
        if taint is None:
            return
        m = _RELEASE.match(text, taint.end())
        if m:
            self._add_release(n, m[0], "oops header")

    def _read_kernel_word(self, n: int, text: str) -> None:
        # not a kernel print: bug-report and syzbot-style headers "Kernel: arm64" (knowledge)
        at = text.find("Kernel: ") + len("Kernel: ")
        m = _ARCH_WORD.match(text, at)
        if m and not text[m.end():m.end() + 1].isalnum():
            self._add(Rank.BANNER, "kernel word", _one(_WORD_ARCH[m[1]]), f"'Kernel: {m[1]}'", n)

    def _read_registers(self, n: int, text: str) -> None:
        for rank_kind, arch, what in _register_hits(text):
            self._add(Rank.REGISTERS, rank_kind, arch, what, n)

    def _read_paths(self, n: int, text: str) -> None:
        for m in _PATH.finditer(text):
            arches = _PATH_ARCH[m[1]]
            rest = m[2]
            if m[1] == "x86" and ("_64." in rest or "_64/" in rest):
                arches = _one("x86_64")
            elif m[1] == "x86" and ("_32." in rest or "_32/" in rest):
                arches = _one("i386")
            self._add(Rank.CODE, "path", arches, f"path arch/{m[1]}/{rest[:60]}", n)
            break

    def _read_symbols(self, n: int, text: str) -> None:
        if "_" not in text:
            return
        for sym, arches in _SYMBOLS.items():
            if sym in text and _is_word(text, sym, prefix=False):
                self._add(Rank.CODE, "symbol", arches, f"symbol {sym} in a trace", n)
        for pre, arches in _SYMBOL_PREFIXES.items():
            if pre in text and _is_word(text, pre, prefix=True):
                self._add(Rank.CODE, "symbol", arches, f"syscall wrapper {pre}* in a trace", n)

    def _read_boot_lines(self, n: int, text: str) -> None:
        for arches, kind, what in _boot_hits(text):
            self._add(Rank.BOOT, kind, arches, what, n)
        self._read_page_walks(n, text)

    def _read_page_walks(self, n: int, text: str) -> None:
        """x86 PGD/P4D (5-level when they differ) and arm *pgd= entries (LPAE when wider than 32 bits)."""
        if "PGD " in text:
            m = _X86_WALK.search(text)
            if m and m[2] == "P4D":
                five = m[1] != m[3]
                how = "differ: 5-level paging" if five else "are equal: 4-level paging (P4D folded)"
                self._vote(self._five, 3, five, f"page walk PGD {m[1]} and P4D {m[3]} {how}", n)
        if "*pgd=" in text or "*pmd=" in text or "*pte=" in text:
            wide = [v for _, v in _ARM_PTE.findall(text) if len(v) > 8]
            if wide:
                self._vote(self._lpae, 3, True, f"arm page-table entry {wide[0]} is wider than 32 bits", n)
        if "la57" in text and re.search(r"(?<![\w])la57(?![\w])", text):
            self._vote(self._five, 1, True, "'la57' (5-level paging) named", n)

    def _read_hardware(self, n: int, text: str) -> None:
        for label in _HARDWARE_GATES:
            at = text.find(label)
            if at >= 0:
                name = text[at + len(label):].strip()[:120]
                arches, why = _board(name, label)
                if arches:
                    self._add(Rank.HARDWARE, "hardware", arches, f"'{label}{name[:60]}' {why}", n)
                return

    def _read_addresses(self, n: int, text: str) -> None:
        for i, m in enumerate(_WORD16.finditer(text)):
            if i >= 8:
                break
            hit = _address_range(m[1])
            if hit is None:
                continue
            arches, region = hit
            self._add(Rank.ADDRESS, "address", arches, f"address {m[1]} in {region}", n)
            if region.startswith("the 5-level"):
                self._vote(self._five, 2, True, f"address {m[1]} in {region}", n)

    def _read_widths(self, n: int, text: str) -> None:
        for pattern, what in ((_PAGE_PTR, "page pointer"), (_RAW, "raw: word"), (_BRACKET, "[<address>]")):
            m = pattern.search(text)
            if m and len(m[1]) in (8, 16):
                bits = 4 * len(m[1])
                self._add(Rank.WIDTH, f"width{bits}", BITS64 if bits == 64 else BITS32,
                          f"{what} {m[1]} is {bits}-bit", n)
                return
        if "DMA32" in text and ("[mem " in text or "empty" in text):
            self._add(Rank.WIDTH, "width64", BITS64, "a DMA32 zone (64-bit kernels only)", n)

    def _read_lpae(self, n: int, text: str) -> None:
        if "*ppte=" in text:
            self._vote(self._lpae, 3, False, "arm show_pte prints *ppte= (classic 2-level only)", n)
        if "Bad page map" in text:
            m = _BAD_MAP.search(text)
            if m:
                self._read_bad_map(n, m[1], m[2])
        if _LPAE_WORD.search(text) and "Linux version " not in text and "Comm: " not in text:
            self._vote(self._lpae, 2, True, "'LPAE' named in a CPU or feature line", n)
            self._add(Rank.BOOT, "lpae", _one("arm"), "'LPAE' named (32-bit ARM only)", n)

    def _read_bad_map(self, n: int, pte: str, pmd: str) -> None:
        """print_bad_pte entries: 64-bit entries are LPAE; the pmd's table type bits are 01 classic, 11 LPAE."""
        if len(pte) > 8 or len(pmd) > 8:
            self._vote(self._lpae, 3, True, f"Bad page map pte:{pte} pmd:{pmd} wider than 32 bits", n)
            return
        # arch/arm/include/asm/pgtable-2level-hwdef.h PMD_TYPE_TABLE (1 << 0);
        # pgtable-3level-hwdef.h PMD_TYPE_TABLE (3 << 0) (v3.x .. v6.16)
        low = int(pmd, 16) & 3
        if low in (1, 3):
            kind = "classic table (type 01)" if low == 1 else "LPAE table (type 11)"
            self._vote(self._lpae, 1, low == 3, f"Bad page map pmd:{pmd} is a {kind}", n)

    # -- the answer --

    def result(self) -> Detected:
        """What the lines fed so far say."""
        evidence: list[str] = []
        conflicts: list[str] = []
        arch = self._decide(evidence, conflicts)
        release, kver = self._release(evidence, conflicts)
        lpae = self._decide_vote(self._lpae, "LPAE", evidence, conflicts) if arch == "arm" else None
        if arch == "x86_64" and self._decide_vote(self._five, "5-level paging", evidence, conflicts):
            arch = "x86_64-5level"
        elif arch not in (None, "x86_64") and any(v.value for v in self._five.values()):
            first = next(v for v in self._five.values() if v.value)
            conflicts.append(f"{first.sentence()} says x86_64 5-level paging, not {arch}")
        return Detected(arch, kver, release, lpae, tuple(evidence), tuple(conflicts))

    def _decide(self, evidence: list[str], conflicts: list[str]) -> str | None:
        """Narrow the arches clue by clue, strongest first; None unless one is left."""
        left = _ALL
        groups = sorted(self._groups.values(), key=lambda g: (-g.first.rank, -g.count, g.first.line))
        for g in groups:
            sentences = [c.sentence() for c in g.examples]
            if g.count > len(g.examples):
                sentences[-1] += f" (+{g.count - len(g.examples)} more like it)"
            if left & g.first.arches:
                left = left & g.first.arches
                evidence.extend(sentences)
            else:
                conflicts.extend(f"{s}, but stronger clues say {_names(left)}" for s in sentences)
        if left == _ALL:
            return None
        if len(left) > 1:
            evidence.append(f"undecided: the clues fit {_names(left)}, and nothing tells them apart")
            return None
        (arch,) = left
        if arch not in LOG_ARCH_NAMES:
            evidence.append(f"the log is from {arch}, which pfnconsole does not read")
            return None
        return arch

    def _release(self, evidence: list[str], conflicts: list[str]) -> tuple[str | None, tuple[int, int] | None]:
        """The banner's release, else the first oops header's; others are conflicts."""
        if not self._releases:
            return None, None
        best = min(self._releases, key=lambda r: (r[2] != "banner", r[0]))
        line, release, where = best
        m = _RELEASE.match(release)
        kver = (int(m[1]), int(m[2])) if m else None
        evidence.append(f"release {release} from the {where} (line {line})")
        for other_line, other, other_where in self._releases:
            if other != release:
                conflicts.append(f"another release {other} in the {other_where} (line {other_line})")
        return release, kver

    @staticmethod
    def _decide_vote(votes: dict[tuple[int, bool], _Vote], name: str,
                     evidence: list[str], conflicts: list[str]) -> bool | None:
        """The strongest yes/no vote (the first seen on a tie); the other answer's votes are conflicts."""
        if not votes:
            return None
        best = max(votes.values(), key=lambda v: (v.rank, -v.line))
        for v in sorted(votes.values(), key=lambda v: v.line):
            if v.value == best.value:
                evidence.append(f"{name} {'yes' if v.value else 'no'}: {v.sentence()}")
            else:
                conflicts.append(f"{name} {'yes' if v.value else 'no'}: {v.sentence()}, outweighed")
        return best.value


def _pick_word(arches: set[str]) -> str | None:
    """Of the arches words name, a 64-bit one first (a build host called arm-01 says little)."""
    return next((a for a in _ORDER if a in arches), None)


def _is_word(text: str, word: str, *, prefix: bool) -> bool:
    """``word`` in ``text`` not inside a longer name (a prefix may run on into one)."""
    start = 0
    while (at := text.find(word, start)) >= 0:
        before = text[at - 1] if at else " "
        after = text[at + len(word)] if at + len(word) < len(text) else " "
        lead_ok = not (before.isalnum() or before == "_" or (before == "." and not word.startswith(".")))
        if lead_ok and (prefix or not (after.isalnum() or after == "_")):
            return True
        start = at + 1
    return False


def _register_hits(text: str) -> list[tuple[str, frozenset[str], str]]:
    """(kind, arches, what) for each register a line shows."""
    hits: list[tuple[str, frozenset[str], str]] = []
    x86 = [(p, name) for p, name in ((_RIP, "RIP: cs:"), (_RSP, "RSP: ss:"), (_RAX, "RAX:")) if p.search(text)]
    if x86:
        hits.append(("regs", _one("x86_64"), "registers " + ", ".join(f"'{w}'" for _, w in x86)))
    if ("EAX: " in text and _EAX.search(text)) or ("EIP: " in text and _EIP.search(text)):
        hits.append(("regs", _one("i386"), "registers 'EIP:' / 'EAX:'"))
    if "epc : " in text or "badaddr: " in text:
        hits.extend(_riscv_regs(text))
    elif "pc : " in text or "lr : " in text:
        hits.extend(_arm_pc(text))
    if "x29: " in text and _X29.search(text):
        hits.append(("regs", _one("arm64"), "register 'x29:' with 64-bit value"))
    if "pstate: " in text and _PSTATE.search(text):
        hits.append(("regs", _one("arm64"), "register 'pstate:'"))
    if ("psr: " in text and _PSR.search(text)) or ("r10: " in text and _ARM_R10.search(text)) or (
            "ip : " in text and _ARM_FP.search(text)):
        hits.append(("regs", _one("arm"), "registers 'psr:' / 'r10:' / 'fp :' with 32-bit values"))
    if "NIP:" in text or "MSR:" in text:
        hits.extend(_ppc_regs(text))
    return hits


def _arm_pc(text: str) -> list[tuple[str, frozenset[str], str]]:
    """'pc : [<c0...>]' (8 digits) is arm; 'pc : [<16 digits>]' or 'pc : symbol' is arm64."""
    m = _PC_BRACKET.search(text)
    if m:
        arch = "arm" if len(m[2]) == 8 else "arm64" if len(m[2]) == 16 else None
        if arch:
            return [("regs", _one(arch), f"register '{m[1]} : [<{m[2]}>]'")]
        return []
    m = _PC_SYMBOL.search(text)
    return [("regs", _one("arm64"), f"register '{m[1]} : ' with a symbol")] if m else []


def _riscv_regs(text: str) -> list[tuple[str, frozenset[str], str]]:
    """'epc :' / 'status: … badaddr:': riscv64 with 16-digit values, riscv32 with 8."""
    m = _EPC.search(text) if "epc : " in text else None
    if m is None and "badaddr: " in text:
        m = _BADADDR.search(text)
    if m is None:
        return []
    digits = m[1] or ""
    arches = {16: _one("riscv64"), 8: _one("riscv32")}.get(len(digits), RISCV)
    return [("regs", arches, "registers 'epc :' / 'status: … badaddr:'")]


def _ppc_regs(text: str) -> list[tuple[str, frozenset[str], str]]:
    m = _NIP.search(text) or _MSR.search(text)
    if m is None or len(m[1]) not in (8, 16):
        return []
    return [("regs", _one("ppc64" if len(m[1]) == 16 else "ppc32"), f"registers 'NIP:' / 'MSR:' ({len(m[1])} digits)")]


def _boot_hits(text: str) -> list[tuple[frozenset[str], str, str]]:
    """(arches, kind, what) for lines only some arches print."""
    hits: list[tuple[frozenset[str], str, str]] = []
    if "Booting Linux on physical CPU" in text:
        m = _BOOTING.search(text)
        if m:
            arch = "arm64" if len(m[1]) == 10 else "arm"
            hits.append((_one(arch), "booting", f"'Booting Linux on physical CPU 0x{m[1]}'"))
    if "(ARMv" in text and _ARM_CPU.search(text):
        hits.append((_one("arm"), "arm cpu", "'CPU: … (ARMv…)' processor line"))
    if "CPU features: detected" in text:
        hits.append((_one("arm64"), "cpufeature", "'CPU features: detected' (arch/arm64/kernel/cpufeature.c)"))
    if "x86/" in text and _X86_PREFIX.search(text):
        hits.append((X86, "x86 prefix", "an 'x86/…:' boot message"))
    if "BIOS-e820" in text or "e820: " in text:
        hits.append((X86, "e820", "the BIOS-e820 memory map"))
    at = text.find("Command line: ")
    if at >= 0 and not text[max(0, at - 7):at].endswith("Kernel "):
        hits.append((_one("x86_64"), "command line", "'Command line:' (x86_64 setup_arch)"))
    hits.extend(_ppc_riscv_boot(text))
    if "Pointer tag: [" in text:
        hits.append((_one("arm64"), "kasan tags", "'Pointer tag:' (tag-based KASAN, arm64 only)"))
    if "vector  : 0x" in text:
        hits.append((_one("arm"), "arm layout", "'vector  :' in the virtual kernel memory layout"))
    hits.extend(_fault_hits(text))
    if "DMA " in text and "0x0000000000ffffff]" in text and _X86_DMA.search(text):
        hits.append((X86, "x86 dma", "a DMA zone ending at 16 MiB (x86 ISA DMA)"))
    return hits


def _ppc_riscv_boot(text: str) -> list[tuple[frozenset[str], str, str]]:
    hits: list[tuple[frozenset[str], str, str]] = []
    # arch/powerpc/mm/book3s64/hash_utils.c (pr_fmt "hash-mmu: ", "Page orders: ..."), radix_pgtable.c
    # ("radix-mmu: "), arch/powerpc/kernel/setup_64.c ("ppc64_pft_size    = 0x%llx") (v4.x .. v6.16)
    for gate in ("Page orders:", "hash-mmu:", "radix-mmu:", "ppc64_pft_size"):
        if gate in text:
            hits.append((_one("ppc64"), "ppc64 boot", f"'{gate}' (book3s64 MMU setup)"))
            break
    # arch/powerpc/kernel/setup-common.c probe_machine "Using %s machine description"
    if "machine description" in text and ("pSeries" in text or "PowerNV" in text):
        hits.append((_one("ppc64"), "ppc machine", "'Using pSeries/PowerNV machine description'"))
    if "PAGE_SIZE=" in text and _PPC_DIE.search(text):
        hits.append((PPC, "ppc die", "powerpc oops header 'PAGE_SIZE=… MMU='"))
    # arch/riscv/kernel/cpufeature.c pr_fmt "riscv: ", arch/riscv/kernel/sbi.c "SBI specification v%lu.%lu"
    if "SBI specification" in text or ("riscv: " in text and _RISCV_PREFIX.search(text)):
        hits.append((RISCV, "riscv boot", "a RISC-V boot message ('riscv:' / 'SBI specification')"))
    # arch/x86/kernel/cpu/mce/core.c pr_fmt "mce: "; drivers/edac/Kconfig EDAC_SBRIDGE and EDAC_SKX
    # depend on X86_64 (knowledge)
    if "mce: " in text and _X86_MCE.search(text):
        hits.append((X86, "x86 mce", "an x86 'mce:' machine-check message"))
    if "EDAC sbridge" in text or "EDAC skx" in text:
        hits.append((_one("x86_64"), "x86 edac", "an x86_64-only EDAC driver (sbridge / skx)"))
    return hits


def _fault_hits(text: str) -> list[tuple[frozenset[str], str, str]]:
    """Oops headers and page-table walks, which differ per arch."""
    hits: list[tuple[frozenset[str], str, str]] = []
    if "Internal error: " in text:
        m = _INTERNAL.search(text)
        if m:
            tail = m[2].rstrip()
            if tail.endswith((" ARM", " THUMB2")):
                hits.append((_one("arm"), "die", "'Internal error: … ARM' oops header"))
            elif len(m[1]) == 16:
                hits.append((_one("arm64"), "die", "'Internal error:' with a 64-bit ESR"))
            else:
                hits.append((ARMS, "die", "'Internal error:' oops header"))
    elif " [#" in text and _X86_DIE.search(text):
        hits.append((X86, "die", "x86 oops header ': %04lx [#n]'"))
    if "PGD " in text and _X86_WALK.search(text):
        hits.append((_one("x86_64"), "x86 walk", "x86_64 page walk 'PGD … P4D/PUD …'"))
    if "*pde = " in text or "*pdpt = " in text:
        hits.append((_one("i386"), "x86 walk", "i386 page walk '*pde = '"))
    if "*pgd=" in text:
        hits.append((_one("arm"), "arm walk", "arm show_pte '*pgd='"))
    if "] pgd=" in text and _ARM64_PTE.search(text):
        hits.append((_one("arm64"), "arm64 walk", "arm64 show_pte 'pgd='"))
    if _ARM_FROM in text:
        hits.append((_one("arm"), "arm trace", "arm backtrace '[<…>] (…) from [<…>]'"))
    return hits


def _board(name: str, label: str) -> tuple[frozenset[str] | None, str]:
    """The arches a ``Hardware name:`` / ``Machine model:`` fits, and why."""
    # lib/dump_stack.c "Hardware name: %s" from dump_stack_set_arch_desc: arch/arm64/kernel/setup.c
    # and arch/riscv/kernel/setup.c "%s (DT)"; arch/arm/kernel/setup.c the machine_desc name
    # (mach-bcm "BCM2835", devtree.c "Generic DT based system"); drivers/firmware/dmi_scan.c
    # "vendor product/board, BIOS version date" (v3.12 .. v6.16)
    low = name.lower()
    if name.endswith("(DT)"):
        return frozenset({"arm64", "riscv64", "riscv32"}), "is a device-tree model with '(DT)' (arm64, riscv)"
    for word in ("BCM2835", "BCM2708", "BCM2709", "Generic DT based system", "ASpeed", "AST2500", "AST2600"):
        if word.lower() in low:
            return _one("arm"), f"names a 32-bit ARM machine ({word})"
    for word in ("pSeries", "PowerNV", "POWER8", "POWER9", "POWER10"):
        if word.lower() in low:
            return _one("ppc64"), f"names a POWER machine ({word})"
    for word in ("Raspberry Pi", "Samsung", "Exynos", "Rockchip", "Allwinner", "Qualcomm"):
        if word.lower() in low:
            return ARMS, f"names an ARM board ({word}): arm or arm64"
    for word in ("Standard PC", "i440FX", "Q35", "VMware", "VirtualBox", "To be filled by O.E.M."):
        if word.lower() in low:
            return X86, f"names a PC ({word})"
    if label == "Machine model: ":
        return DEVICE_TREE, "is a device-tree model (not x86)"
    if ", BIOS " in name:
        return DMI, "is an SMBIOS (DMI) name"
    return None, ""


def _address_range(word: str) -> tuple[frozenset[str], str] | None:
    """The arch whose kernel address space ``word`` (16 hex digits) falls in, if telling."""
    # Documentation/arch/x86/x86_64/mm.rst (v4.20 .. v6.16): 4-level direct map ffff888000000000
    # (ffff880000000000 before v4.20), vmemmap ffffea0000000000; 5-level direct map ff11000000000000,
    # vmemmap ffd4000000000000.  arch/powerpc/include/asm/book3s/64/radix.h and hash.h: linear map
    # c000000000000000, vmemmap c00c000000000000.  Documentation/arch/arm64/memory.rst (v5.4 .. v6.16):
    # 48-bit VA kernel space ffff000000000000 .. ffff7fffffffffff (linear), ffff8000... (vmalloc),
    # vmemmap fffffc0000000000 .. fffffdffffffffff -- a hole or non-canonical on x86_64 4-level
    if word.startswith("ffff88"):
        return _one("x86_64"), "the x86_64 direct map (ffff88…)"
    if word.startswith("ffffea"):
        return _one("x86_64"), "the x86_64 vmemmap (ffffea…)"
    if word.startswith("ff11"):
        return _one("x86_64"), "the 5-level x86_64 direct map (ff11…)"
    if word.startswith("ffd4"):
        return _one("x86_64"), "the 5-level x86_64 vmemmap (ffd4…)"
    if word.startswith("c00c"):
        return _one("ppc64"), "the ppc64 vmemmap (c00c…)"
    if word.startswith("c000"):
        return _one("ppc64"), "the ppc64 linear map (c000…)"
    if word.startswith("ffff") and word[4] in "01234567":
        return _one("arm64"), "the arm64 48-bit linear map (ffff0…-ffff7…, not canonical on x86_64)"
    if word.startswith(("fffffc", "fffffd")):
        return _one("arm64"), "the arm64 vmemmap (fffffc…-fffffd…)"
    return None


# --- entry points --------------------------------------------------------------------------

def detect_lines(lines: Iterable[str]) -> Detected:
    """Detect from lines (numbered from 1 as given)."""
    det = Detector()
    for n, line in enumerate(lines, 1):
        det.feed(n, line)
    return det.result()


def detect_text(text: str) -> Detected:
    """Detect from a whole log."""
    return detect_lines(text.splitlines())
