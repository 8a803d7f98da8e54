"""The clues `detect` looks for: which arches each one names, how strong it is, and the
literal gates and bounded patterns that find it (kernel sources cited beside each)."""

from __future__ import annotations

import re
from enum import IntEnum

from ..core.arch import LOG_ARCH_NAMES

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


# --- reading one line for clues -----------------------------------------------------------

def pick_word(arches: set[str]) -> str | None:
    """Of the arches words name, a 64-bit one first (a build host called arm-01 says little)."""
    return next((a for a in _ORDER if a in arches), None)


def is_word(text: str, word: str, *, prefix: bool) -> bool:
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


def register_hits(text: str) -> list[tuple[str, frozenset[str], str]]:
    """(kind, arches, what) for each register a line shows."""
    hits: list[tuple[str, frozenset[str], str]] = []
    x86 = [(p, name) for p, name in ((_RIP, "RIP: cs:"), (_RSP, "RSP: ss:"), (_RAX, "RAX:")) if p.search(text)]
    if x86:
        hits.append(("regs", _one("x86_64"), "registers " + ", ".join(f"'{w}'" for _, w in x86)))
    if ("EAX: " in text and _EAX.search(text)) or ("EIP: " in text and _EIP.search(text)):
        hits.append(("regs", _one("i386"), "registers 'EIP:' / 'EAX:'"))
    if "epc : " in text or "badaddr: " in text:
        hits.extend(riscv_regs(text))
    elif "pc : " in text or "lr : " in text:
        hits.extend(arm_pc(text))
    if "x29: " in text and _X29.search(text):
        hits.append(("regs", _one("arm64"), "register 'x29:' with 64-bit value"))
    if "pstate: " in text and _PSTATE.search(text):
        hits.append(("regs", _one("arm64"), "register 'pstate:'"))
    if ("psr: " in text and _PSR.search(text)) or ("r10: " in text and _ARM_R10.search(text)) or (
            "ip : " in text and _ARM_FP.search(text)):
        hits.append(("regs", _one("arm"), "registers 'psr:' / 'r10:' / 'fp :' with 32-bit values"))
    if "NIP:" in text or "MSR:" in text:
        hits.extend(ppc_regs(text))
    return hits


def arm_pc(text: str) -> list[tuple[str, frozenset[str], str]]:
    """'pc : [<c0...>]' (8 digits) is arm; 'pc : [<16 digits>]' or 'pc : symbol' is arm64."""
    m = _PC_BRACKET.search(text)
    if m:
        arch = "arm" if len(m[2]) == 8 else "arm64" if len(m[2]) == 16 else None
        if arch:
            return [("regs", _one(arch), f"register '{m[1]} : [<{m[2]}>]'")]
        return []
    m = _PC_SYMBOL.search(text)
    return [("regs", _one("arm64"), f"register '{m[1]} : ' with a symbol")] if m else []


def riscv_regs(text: str) -> list[tuple[str, frozenset[str], str]]:
    """'epc :' / 'status: … badaddr:': riscv64 with 16-digit values, riscv32 with 8."""
    m = _EPC.search(text) if "epc : " in text else None
    if m is None and "badaddr: " in text:
        m = _BADADDR.search(text)
    if m is None:
        return []
    digits = m[1] or ""
    arches = {16: _one("riscv64"), 8: _one("riscv32")}.get(len(digits), RISCV)
    return [("regs", arches, "registers 'epc :' / 'status: … badaddr:'")]


def ppc_regs(text: str) -> list[tuple[str, frozenset[str], str]]:
    m = _NIP.search(text) or _MSR.search(text)
    if m is None or len(m[1]) not in (8, 16):
        return []
    return [("regs", _one("ppc64" if len(m[1]) == 16 else "ppc32"), f"registers 'NIP:' / 'MSR:' ({len(m[1])} digits)")]


def boot_hits(text: str) -> list[tuple[frozenset[str], str, str]]:
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
    hits.extend(ppc_riscv_boot(text))
    if "Pointer tag: [" in text:
        hits.append((_one("arm64"), "kasan tags", "'Pointer tag:' (tag-based KASAN, arm64 only)"))
    if "vector  : 0x" in text:
        hits.append((_one("arm"), "arm layout", "'vector  :' in the virtual kernel memory layout"))
    hits.extend(fault_hits(text))
    if "DMA " in text and "0x0000000000ffffff]" in text and _X86_DMA.search(text):
        hits.append((X86, "x86 dma", "a DMA zone ending at 16 MiB (x86 ISA DMA)"))
    return hits


def ppc_riscv_boot(text: str) -> list[tuple[frozenset[str], str, str]]:
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


def fault_hits(text: str) -> list[tuple[frozenset[str], str, str]]:
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


def board(name: str, label: str) -> tuple[frozenset[str] | None, str]:
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


def address_range(word: str) -> tuple[frozenset[str], str] | None:
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
