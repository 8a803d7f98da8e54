"""Commands on kernel logs: `decode LOG TEXT…` and `machine from-log FILE|-`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...core.arch import ARCH_NAMES
from ...core.errors import EngineError
from ...core.machine import Machine, MachineSpec
from ...core.units import human_size, hx
from ...decode import Finding, Kind
from ...decode.detect import detect_text
from ...decode.reading import LogReading
from ...decode.reading import read_text as read_log_text
from ..parse import ParseError
from ..result import Result
from ..sources import layout_from_findings

if TYPE_CHECKING:
    from ..session import Session

MAX_LOG_BYTES = 64 << 20
"""`machine from-log` reads at most this much; `pfnconsole decode` streams any size."""


def finding_line(f: Finding, verdict: str = "") -> str:
    """One aligned, readable line per finding (and where its pfn is, when judged)."""
    parts = [f"{f.line:>5}  {f.kind:<15}"]
    if f.pfn is not None:
        parts.append(f"pfn {f.pfn:#x}")
    if f.start is not None and f.end is not None:
        parts.append(f"[{f.start:#x}-{f.end:#x}]")
    if f.phys is not None and f.start is None:
        parts.append(f"phys {f.phys:#x}")
    if f.page is not None:
        parts.append(f"page {f.page:#x}")
    if f.virt is not None:
        parts.append(f"virt {f.virt:#x}")
    if f.type:
        parts.append(f.type)
    if f.flags:
        parts.append("|".join(f.flags))
    if verdict:
        parts.append(f"→ {verdict}")
    text = "  ".join(parts)
    return text + (f"\n{'':>22}{f.note}" if f.note else "")


def reading_summary(got: LogReading) -> list[str]:
    """The head of a decode report: the machine the log came from and its layout, and how
    each is known."""
    cal = got.calibration
    out = [f"arch      {got.arch} ({got.arch_how})"]
    d = got.detected
    if d.kver:
        out.append(f"kernel    v{d.kver[0]}.{d.kver[1]}" + (f" ({d.release})" if d.release else ""))
    else:
        out.append("kernel    version not in the log")
    if d.conflicts:
        out.append("          but: " + "; ".join(d.conflicts[:2]))
    solved = [s for s in cal.sources if s.startswith(("vmemmap", "direct map", "page size"))]
    if cal.struct_page_size and cal.vmemmap_base is not None:
        how = "from the log" if any(s.startswith("vmemmap") for s in solved) else f"the {got.arch} default"
        out.append(f"layout    {cal.struct_page_size}-byte struct page, vmemmap {hx(cal.vmemmap_base)} ({how})")
    if cal.page_offset is not None:
        how = "from the log" if any(s.startswith("direct map") for s in solved) else f"the {got.arch} default"
        out.append(f"          direct map at {hx(cal.page_offset)} ({how})")
    out += [f"          {s}" for s in solved]
    return out


# --- the machine a log comes from, and where its pfns are on it ------------------------------

def version_facts(text: str) -> tuple[str | None, str | None]:
    """(arch, "major.minor") the log shows (`decode.detect`: banner, oops header, registers
    and the rest), None for what it does not show."""
    d = detect_text(text)
    return d.arch, f"{d.kver[0]}.{d.kver[1]}" if d.kver else None


@dataclass(frozen=True)
class LogReport:
    """A decoded log, with the machine it describes and each pfn judged on a machine."""

    arch: str
    """The arch the log was read as: the one it names, else the session's."""
    arch_named: bool
    kver: str | None
    findings: tuple[Finding, ...]
    ranges: tuple[tuple[int, int, int], ...]
    """The log's memory map (see `layout_from_findings`); empty when it has none."""
    where: str
    bases: tuple[tuple[str, int], ...]
    """Layout numbers the log implied: ("vmemmap", base), ("direct map", base)."""
    against: str
    """"log" when the pfns were judged on the machine the log describes, else "session"."""
    judged_arch: str
    ram: int
    pmem: int
    """The arch, RAM and pmem bytes of the machine the pfns were judged on."""
    verdicts: dict[int, str] = field(default_factory=dict)
    """pfn -> where it is on that machine ("in RAM, section 32")."""
    problem: str = ""
    """Why the log's own machine could not be built, when it has a map but was not used."""
    reading: LogReading | None = None
    """The whole reading: detection, calibration, the page reports."""

    @property
    def pfns(self) -> list[int]:
        return sorted(self.verdicts)

    @property
    def machine(self) -> str:
        """The judging machine in a few words: "x86_64 v6.8, 64 GiB RAM, 16 GiB pmem"."""
        ver = f" v{self.kver}" if self.kver and self.against == "log" else ""
        return f"{self.judged_arch}{ver}, {self.sizes(', ')}"

    def sizes(self, joint: str) -> str:
        """"64 GiB RAM" + joint + "16 GiB pmem" (or "no pmem")."""
        pmem = f"{human_size(self.pmem)} pmem" if self.pmem else "no pmem"
        return f"{human_size(self.ram)} RAM{joint}{pmem}"

    def against_words(self) -> str:
        """Which machine the pfns were judged on, and why that one."""
        if self.against == "log":
            return f"the machine this log describes ({self.machine}; {self.where})"
        why = self.problem or "the log has no memory map"
        return f"the session's machine ({self.machine}): {why}"

    def summary(self) -> str:
        """One line: which machine the findings are judged against."""
        return "findings judged against " + self.against_words()

    def to_json(self) -> dict[str, Any]:
        return {"against": self.against, "machine": self.machine, "arch": self.arch,
                "arch_named": self.arch_named, "kver": self.kver, "source": self.where,
                "ranges": [list(r) for r in self.ranges],
                "bases": dict(self.bases)}


def read_log(text: str, arch: str, session: MachineSpec,
             cancelled: Callable[[], bool] = lambda: False) -> LogReport | None:
    """Decode ``text`` and judge its pfns: on the machine the log describes when it has
    a memory map, else on a machine like the session's (built from ``session``, its spec).
    The arch is the one the log shows, else ``arch``.  Pure: touches no session, so a
    worker thread may run it.  None once ``cancelled()``."""
    got = read_log_text(text, None, fallback=arch, cancelled=cancelled)
    if got is None or cancelled():
        return None
    arch = got.arch
    findings = list(got.findings)
    kver = f"{got.kver[0]}.{got.kver[1]}" if got.kver else None
    ranges, where = layout_from_findings(findings, text.splitlines() if findings else [])
    bases = tuple((f.type.replace("_", " "), f.virt) for f in findings
                  if f.kind == Kind.CALIBRATION and f.virt is not None and f.type)
    judge, against, problem = None, "session", ""
    if ranges and arch in ARCH_NAMES:
        try:
            judge, against = Machine(MachineSpec(arch=arch, e820=ranges)), "log"
        except EngineError as e:
            problem = f"the simulator cannot build the log's machine: {e}"
    elif ranges:
        problem = f"the simulator cannot build the log's machine: it models {', '.join(ARCH_NAMES)}, not {arch}"
    if judge is None:
        judge = Machine(session)
    pfns = {f.pfn for f in findings if f.pfn is not None}
    verdicts = {pfn: pfn_verdict(judge, pfn) for pfn in pfns}
    pm = judge.state.physmap
    return LogReport(arch, got.detected.arch == arch, kver, tuple(findings), ranges, where, bases, against,
                     judge.state.arch.name, pm.ram_bytes,
                     sum(r.size for r in pm.ranges if r.type.is_pmem), verdicts, problem, got)


def pfn_verdict(m: Machine, pfn: int) -> str:
    """Where ``pfn`` is on ``m``: RAM, pmem, another e820 type or a hole, and its section."""
    try:
        p = m.page(pfn)
    except EngineError:
        return f"beyond MAX_PHYSMEM_BITS={m.state.arch.max_physmem_bits}"
    label = p.e820
    where = ("RAM" if label == "usable" else "pmem" if label.startswith("persistent")
             else "a hole" if label == "hole" else f"e820 {label}")
    return f"in {where}, section {p.section_nr}" + ("" if p.pfn_valid else ", no struct page")


def describe(report: LogReport) -> list[str]:
    """What the log says of its machine, in one or two lines; none when it says nothing."""
    if not (report.ranges or report.kver or report.arch_named or report.bases):
        return []
    an = report.arch_named and not report.arch.startswith(("ppc", "riscv"))
    kernel = f"an {report.arch}" if an else f"a {report.arch}" if report.arch_named else "a"
    kernel += f" v{report.kver}" if report.kver else ""
    bases = "".join(f", {name} at {hx(base)}" for name, base in report.bases)
    if report.against == "log":
        read_as = "" if report.arch_named else f", read as {report.arch} (the log does not name its arch)"
        return [f"this log describes {kernel} machine with {report.sizes(' and ')}{bases}",
                f"findings are judged against it ({report.where}{read_as})"]
    if report.ranges:
        return [f"this log describes {kernel} machine{bases}", f"but {report.problem}"]
    return [f"this log comes from {kernel} kernel{bases}, but shows no memory map"]


def decode_result(report: LogReport) -> Result:
    """The `decode` answer for a read log: which machine, then one line per finding."""
    findings = report.findings
    lines = [finding_line(f, report.verdicts.get(f.pfn, "") if f.pfn is not None else "")
             for f in findings] or ["no page, pfn or memory-map facts found"]
    pages = report.reading.pages if report.reading is not None else ()
    if findings:
        lines.insert(0, f"evidence: {len(findings)} finding(s), one per fact, by line")
    head: list[str] = []
    if report.reading is not None:
        head += reading_summary(report.reading)
    for page in pages:
        head += [""] + page.text()
    if pages:
        head.append("")
    lines = head + lines
    if report.verdicts or report.against == "log":
        lines.insert(0, report.summary())
    data = []
    for f in findings:
        row = f.to_json()
        if f.pfn is not None:
            row["verdict"] = report.verdicts[f.pfn]
        data.append(row)
    return Result(cmd="decode", ok=True,
                  data={"findings": data, "pfns": report.pfns, "log": report.to_json(),
                        "pages": [p.to_json() for p in pages]},
                  lines=lines, parsed={},
                  echo=f"decode log text ({len(pages)} page report(s), {len(findings)} finding(s), arch {report.arch}, "
                       f"against the {'log' if report.against == 'log' else 'session'}'s machine)")


def run_decode_log(s: Session, text: str) -> Result:
    """`decode TEXT…`: read-only, the session's machine is only read (its spec)."""
    if not text.strip():
        raise ParseError("decode: give a VALUE, or paste kernel log text after `decode`")
    report = read_log(text, s.machine.state.arch.name, s.machine.state.spec)
    assert report is not None  # never cancelled
    result = decode_result(report)
    result.parsed = {"text": text[:200]}
    return result
