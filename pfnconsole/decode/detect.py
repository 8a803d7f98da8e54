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
from typing import Any

from ..core.arch import LOG_ARCH_NAMES
from .detect_clues import (
    _ADDRESS_GATES,
    _ALL,
    _ARCH_WORD,
    _ARM_PTE,
    _BAD_MAP,
    _BANNER,
    _BOOT_GATES,
    _BRACKET,
    _HARDWARE_GATES,
    _LPAE_GATES,
    _LPAE_WORD,
    _PAGE_PTR,
    _PATH,
    _PATH_ARCH,
    _PI_ARCH,
    _PI_RELEASE,
    _RAW,
    _REGISTER_GATES,
    _RELEASE,
    _SYMBOL_PREFIXES,
    _SYMBOLS,
    _TAINT,
    _WIDTH_GATES,
    _WORD16,
    _WORD_ARCH,
    _X86_WALK,
    BITS32,
    BITS64,
    Rank,
    _names,
    _one,
    address_range,
    board,
    boot_hits,
    is_word,
    pick_word,
    register_hits,
)

__all__ = ["Detected", "Detector", "detect_lines", "detect_text"]


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


# --- the detector --------------------------------------------------------------------------

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
        arch = pick_word(words)
        if arch:
            self._add(Rank.BANNER, "release", _one(arch), f"release '{release}' in the {where}", n)

    def _read_banner(self, n: int, text: str) -> None:
        m = _BANNER.search(text)
        if m is None:
            return
        release, rest = m[1], m[2]
        if _RELEASE.match(release):
            self._add_release(n, release, "banner")
        arch = pick_word({_WORD_ARCH[w] for w in _ARCH_WORD.findall(rest)})
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
        for rank_kind, arch, what in register_hits(text):
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
            if sym in text and is_word(text, sym, prefix=False):
                self._add(Rank.CODE, "symbol", arches, f"symbol {sym} in a trace", n)
        for pre, arches in _SYMBOL_PREFIXES.items():
            if pre in text and is_word(text, pre, prefix=True):
                self._add(Rank.CODE, "symbol", arches, f"syscall wrapper {pre}* in a trace", n)

    def _read_boot_lines(self, n: int, text: str) -> None:
        for arches, kind, what in boot_hits(text):
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
                arches, why = board(name, label)
                if arches:
                    self._add(Rank.HARDWARE, "hardware", arches, f"'{label}{name[:60]}' {why}", n)
                return

    def _read_addresses(self, n: int, text: str) -> None:
        for i, m in enumerate(_WORD16.finditer(text)):
            if i >= 8:
                break
            hit = address_range(m[1])
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
