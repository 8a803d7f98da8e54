"""Commands on kernel logs: `decode LOG TEXT…` and `machine from-log FILE|-`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.errors import EngineError
from ...core.machine import MachineSpec
from ...core.physmap import E820Type, e820_type_from_label
from ...decode import Finding, decode_text
from ..files import read_text
from ..parse import MAX_BODY, ParseError, Words
from ..result import Result

if TYPE_CHECKING:
    from ..session import Session

MAX_LOG_BYTES = 64 << 20
"""`machine from-log` reads at most this much; `pfnconsole decode` streams any size."""


def finding_line(f: Finding) -> str:
    """One aligned, readable line per finding."""
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
    text = "  ".join(parts)
    return text + (f"\n{'':>22}{f.note}" if f.note else "")


def run_decode_log(s: Session, text: str) -> Result:
    if not text.strip():
        raise ParseError("decode: give a VALUE, or paste kernel log text after `decode`")
    arch = s.machine.state.arch.name
    findings = decode_text(text, arch=arch)
    lines = [finding_line(f) for f in findings] or ["no page, pfn or memory-map facts found"]
    with_pfn = sorted({f.pfn for f in findings if f.pfn is not None})
    return Result(cmd="decode", ok=True,
                  data={"findings": [f.to_json() for f in findings], "pfns": with_pfn},
                  lines=lines, parsed={"text": text[:200]},
                  echo=f"decode log text ({len(findings)} finding(s), arch {arch})")


def layout_from_findings(findings: list[Finding], lines: list[str]
                         ) -> tuple[tuple[tuple[int, int, int], ...], str]:
    """The final memory map in a log: the `user:` map if any, else the firmware's, else
    the memory node ranges. Returns (ranges, where they came from)."""
    e820 = [f for f in findings if f.kind == "e820" and f.start is not None]
    user = [f for f in e820 if 0 < f.line <= len(lines) and "user:" in lines[f.line - 1]]
    chosen = user or [f for f in e820 if not _is_update(lines, f)]
    if chosen:
        ranges = []
        for f in chosen:
            try:
                t = e820_type_from_label(f.type or "")
            except EngineError:
                continue
            assert f.start is not None and f.end is not None  # e820 findings carry both
            ranges.append((f.start, f.end, int(t)))
        where = "user-defined map (memmap=)" if user else "firmware e820 map"
        return tuple(ranges), f"{where}, lines {chosen[0].line}-{chosen[-1].line}"
    nodes = [(f.line, f.start, f.end) for f in findings
             if f.kind == "node_range" and f.start is not None and f.end is not None]
    if nodes:
        return (tuple((start, end, int(E820Type.RAM)) for _, start, end in nodes),
                f"memory node ranges, lines {nodes[0][0]}-{nodes[-1][0]}")
    return (), ""


def _is_update(lines: list[str], f: Finding) -> bool:
    text = lines[f.line - 1] if 0 < f.line <= len(lines) else ""
    return "update [mem" in text or "remove [mem" in text


PASTED = "pasted log"
"""The origin `machine from-log -` reports: the log came on the lines after the command."""


def run_machine_from_log(s: Session, w: Words) -> Result:
    usage = "machine from-log: usage: machine from-log FILE|- [arch=ARCH]"
    if len(w.args) != 2 or set(w.options) - {"arch"} or w.switches:
        raise ParseError(usage)
    arch = (w.options.get("arch") or [s.machine.state.arch.name])[0]
    if w.args[1] == "-":
        if not w.body or not w.body.strip():
            raise ParseError("machine from-log -: the log goes on the lines after the command "
                             "(in a script: `machine from-log - <<EOF`, the log, then `EOF`)")
        if len(w.body) > MAX_BODY:
            raise ParseError(f"machine from-log -: the log is larger than {MAX_BODY >> 20} MiB")
        return machine_from_text(s, w.body, arch, PASTED)
    if w.body is not None:
        raise ParseError("machine from-log FILE reads the file: text after it is only "
                         "read by `machine from-log -`")
    path = s.resolve(w.args[1])
    text = read_text(path, MAX_LOG_BYTES, "machine from-log")
    result = machine_from_text(s, text, arch, str(path))
    if " " not in str(path.resolve()):  # replayed from anywhere: a lesson's logs/ too
        result.replay = [f"machine from-log {path.resolve()} arch={arch}"]
    return result


def machine_from_text(s: Session, text: str, arch: str, origin: str) -> Result:
    """Build the session's machine from a log's memory map."""
    lines = text.splitlines()
    findings = decode_text(text, arch=arch)
    ranges, where = layout_from_findings(findings, lines)
    if not ranges:
        raise ParseError(f"{origin}: no e820, `user:` or memory node ranges found; "
                         "paste the boot log's memory map")
    spec = MachineSpec(arch=arch, e820=ranges, origin=f"{origin}: {where}")
    st = s.machine.machine(spec)
    pm = st.physmap
    out = [f"{arch} from {origin}: {where}",
           f"  {len(pm.ranges)} ranges, RAM {pm.ram_bytes >> 20} MiB, "
           f"{st.sparse.nr_present} present sections"]
    for r in pm.ranges:
        out.append("  " + r.e820_line("log"))
    pmem = [[r.start, r.end] for r in pm.ranges if r.type.is_pmem]
    return Result(cmd="machine", ok=True,
                  data={"arch": arch, "origin": origin, "source": where,
                        "ranges": [[r.start, r.end, int(r.type)] for r in pm.ranges],
                        "pmem": pmem, "ram_bytes": pm.ram_bytes,
                        "sections_present": st.sparse.nr_present},
                  lines=out, parsed={"from_log": origin, "arch": arch},
                  echo=f"machine from-log {origin}")
