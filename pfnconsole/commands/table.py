"""The one command table: every front end (REPL, TUI, lessons, scripts) runs these.

Each ``Command`` carries its synopsis, help text and runnable examples, the words and
``key=value`` options it takes (for checking and completion), and the function that
parses its arguments, calls the engine and builds a ``Result``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.arch import ARCH_NAMES, PAGE_SIZES
from ..core.encodings import ABIS, Decoded
from ..core.errors import EngineError
from ..core.machine import Machine, MachineSpec, Snapshot
from ..core.sparse import SectionFlags, flag_letters
from .journal import JournalError
from .parse import ParseError, Words, parse_number, parse_size_at, tokenize
from .result import Result, error

if TYPE_CHECKING:
    from .journal import Journal


CHECK_INVARIANTS = bool(os.environ.get("PFNCONSOLE_CHECK_INVARIANTS"))
"""Set by the test suite: check the engine's invariants after every command."""


@dataclass(frozen=True)
class Param:
    """A positional word: ``NAME`` in the synopsis."""

    name: str
    kind: str
    """What completes it: 'number', 'name' (a new name), 'arch', 'flag' (variadic),
    'range' (a registered range), 'mapping' (an open mapping's address), 'addr',
    'command', 'setting', 'radix' or 'word'."""
    optional: bool = False
    variadic: bool = False


@dataclass(frozen=True)
class Option:
    """A ``key=value`` option."""

    key: str
    kind: str
    choices: tuple[str, ...] = ()
    repeat: bool = False


@dataclass(frozen=True)
class Command:
    name: str
    category: str
    summary: str
    synopsis: str
    description: str
    examples: tuple[str, ...]
    run: Callable[[Session, Words], Result]
    params: tuple[Param, ...] = ()
    options: tuple[Option, ...] = ()
    mutates: bool = False
    raw_text: bool = False
    """The command reads pasted text itself (no word or option checks)."""
    switches: tuple[str, ...] = ()
    """The ``--name`` words it takes (``save --force``)."""


def hx(n: int | None) -> str:
    return "NULL" if n is None else f"{n:#x}"


def size_text(n: int) -> str:
    """4G for exact sizes, ~16.0G for others (RAM around the EBDA is not page-exact)."""
    for unit, shift in (("E", 60), ("P", 50), ("T", 40), ("G", 30), ("M", 20), ("K", 10)):
        if n >= 1 << shift:
            if n % (1 << shift) == 0:
                return f"{n >> shift}{unit}"
            return f"~{n / (1 << shift):.1f}{unit}"
    return f"{n}B"


def ns_text(ns: int) -> str:
    return f"{ns} ns" if ns < 10_000 else f"{ns / 1000:.1f} us"


@dataclass(frozen=True)
class Mark:
    """Everything a session would need to go back to this point (``Session.rewind``)."""

    machine: Snapshot
    radix: int
    last: Result | None
    last_path: Result | None
    accepted: int


@dataclass
class Session:
    """A machine plus what a console remembers between commands."""

    machine: Machine = field(default_factory=Machine)
    last: Result | None = None
    last_path: Result | None = None
    """The last result with a kernel code path behind it, for `explain`."""
    radix: int = 16
    """Output radix for pfns and values (`set radix`); addresses always print in hex."""
    journal: Journal | None = None
    """Where accepted commands are written ahead (fsync'd) for --resume."""
    accepted: list[str] = field(default_factory=list)
    """Every accepted command of this session, in order (what `save` writes)."""
    replaying: str | None = None
    """What is being replayed ('load FILE', 'resume', 'a lesson'): while set, `save`
    writes nothing and `load` is refused, so a replay never reads or writes a script."""
    _collect: list[str] | None = None
    """While a `load` or a resume runs: the commands accepted so far, journaled as one."""
    notices: list[str] = field(default_factory=list)
    """What the front end should tell the user on start (a resume and its problems)."""
    base_dir: Path | None = None
    """Where relative file names resolve when not found from the current directory (a
    lesson's own folder while it plays)."""

    def resolve(self, name: str) -> Path:
        path = Path(name).expanduser()
        if not path.is_absolute() and not path.exists() and self.base_dir is not None:
            candidate = self.base_dir / path
            if candidate.exists():
                return candidate
        return path

    def num(self, n: int | None) -> str:
        if n is None:
            return "NULL"
        return f"{n:#x}" if self.radix == 16 else str(n)

    def execute(self, line: str) -> Result | None:
        """Run one command line; None for blank/comment lines. Never raises for bad input.

        The command's journal record is written and fsync'd before its effect is kept: if
        that write fails, the session goes back to how it was and the command is refused.
        """
        try:
            words = tokenize(line)
        except ParseError as e:
            return error("?", str(e))
        if words is None:
            return None
        cmd = COMMANDS.get(words.verb) or COMMANDS.get(ALIASES.get(words.verb, ""))
        if cmd is None:
            near = [n for n in COMMANDS if n.startswith(words.verb[:2])]
            hint = f"; did you mean {' or '.join(near)}?" if near else "; `help` lists commands"
            return error(words.verb, f"unknown command {words.verb!r}{hint}")
        mark = self.mark()
        try:
            if not cmd.raw_text:
                check_words(cmd, words)
            result = cmd.run(self, words)
        except EngineError as e:
            self._restore(mark)
            refused = error(cmd.name, str(e))
            refused.data = dict(getattr(e, "data", None) or {})
            return refused
        except RecursionError:
            self._restore(mark)
            return error(cmd.name, "the input is nested too deeply to read")
        if CHECK_INVARIANTS:
            problems = self.machine.check_invariants()
            if problems:  # a bug in the engine, never the user's fault: fail loudly in tests
                raise AssertionError(f"after {line!r}: " + "; ".join(problems))
        if result.ok:
            try:
                self._record(cmd.name, line, result)
            except JournalError as e:
                self._restore(mark)
                return error(cmd.name, f"not done: the session journal {e.filename} could "
                             f"not be written ({e.strerror}); nothing changed")
            self.last = result
            if result.source is not None:
                self.last_path = result
            elif cmd.mutates:
                self.last_path = None  # the state it explained is gone
        else:
            self._restore(mark)
        return result

    def _record(self, verb: str, line: str, result: Result) -> None:
        """Journal an accepted command (what redoes it), then count it as accepted."""
        if verb == "save":
            return  # it changed nothing here, and a replay must never write a file
        redo = result.replay if result.replay is not None else [line.strip()]
        if self._collect is not None:
            self._collect.extend(redo)
            return
        if self.journal is not None:
            record: dict = {"c": line.strip()}
            if redo != [line.strip()]:
                record["r"] = redo
            self.journal.append([record])
        self.accepted.extend(redo)

    def mark(self) -> Mark:
        """The point to come back to, in O(1)."""
        return Mark(self.machine.snapshot(), self.radix, self.last, self.last_path,
                    len(self.accepted))

    def _restore(self, mark: Mark) -> None:
        """Back to ``mark`` in memory (nothing journaled); a no-op when nothing changed."""
        now = self.machine.snapshot()
        if now.history is not mark.machine.history or now.length != mark.machine.length:
            self.machine.restore(mark.machine)
        self.radix, self.last, self.last_path = mark.radix, mark.last, mark.last_path
        del self.accepted[mark.accepted:]

    def rewind(self, mark: Mark) -> None:
        """Go back to ``mark`` for good (a lesson step back), journaled so that --resume
        goes back too; EngineError, and nothing changed, if the journal cannot be written."""
        if self.journal is not None:
            try:
                self.journal.append([{"keep": mark.accepted}])
            except JournalError as e:
                raise EngineError(f"not done: the session journal {e.filename} could not "
                                  f"be written ({e.strerror}); nothing changed") from None
        self.machine.restore(mark.machine)  # always, so that the panes redraw
        self.radix, self.last, self.last_path = mark.radix, mark.last, mark.last_path
        del self.accepted[mark.accepted:]

    def resume(self, commands: list[tuple[int, str]]) -> list[str]:
        """Replay a journal's commands into this session; what was refused this time.

        The commands that are accepted again become this session's, and its own journal
        gets them as one write.
        """
        problems = []
        self.replaying, self._collect = "resume", []
        try:
            for n, text in commands:
                r = self.execute(text)
                if r is not None and not r.ok:
                    problems.append(f"line {n}: `{text}` was refused this time, so it is "
                                    f"left out: {r.error}")
            done = self._collect
        finally:
            self.replaying, self._collect = None, None
        if self.journal is not None:
            try:
                self.journal.append([{"c": text} for text in done])
            except JournalError as e:
                problems.append(f"the new journal could not be written ({e.strerror}); "
                                "this session will not be resumable")
                self.journal.close()
                self.journal = None
        self.accepted.extend(done)
        return problems

    def status(self) -> dict:
        """What a prompt or a status bar shows, cheap enough for every keystroke."""
        st = self.machine.state
        return {"arch": st.arch.name, "cpu": st.cpu, "readers": st.rcu.nr_readers,
                "ranges": len(st.kmap.nodes), "grace_periods": len(st.rcu.gps),
                "ram_bytes": st.physmap.ram_bytes, "radix": self.radix}

    def query(self, line: str) -> Result:
        """Run a read-only command for a view: the answer, without becoming `last`."""
        last, last_path, journal, accepted = self.last, self.last_path, self.journal, self.accepted
        self.journal, self.accepted = None, []
        try:
            result = self.execute(line)
        finally:
            self.last, self.last_path = last, last_path
            self.journal, self.accepted = journal, accepted
        assert result is not None
        return result

    def context(self, source, names=()) -> tuple:
        """What explain needs later: the result, the arch, the ranges it touched."""
        st = self.machine.state
        ranges = {n: (r.start, r.end, r.base) for n in names
                  if (r := st.ranges.get(n)) is not None}
        return (source, st.arch, ranges)


def check_words(cmd: Command, w: Words) -> None:
    """Arity, switches and option names, before the command looks at the values."""
    for name in w.switches:
        if name not in cmd.switches:
            accepted = " ".join(f"--{n}" for n in cmd.switches) or "none"
            raise ParseError(f"{cmd.name}: unknown switch --{name} (accepts {accepted})")
    known = {o.key: o for o in cmd.options}
    for key, values in w.options.items():
        opt = known.get(key)
        if opt is None:
            accepted = " ".join(f"{k}=" for k in known) or "no options"
            raise ParseError(f"{cmd.name}: unknown option {key}= (accepts {accepted})")
        if len(values) > 1 and not opt.repeat:
            raise ParseError(f"{cmd.name}: option {key}= given {len(values)} times")
        if opt.choices:
            for v in values:
                if v.lower() not in opt.choices and v not in opt.choices:
                    raise ParseError(f"{cmd.name}: {key}={v} is not one of "
                                     f"{' | '.join(opt.choices)}")
    required = [p for p in cmd.params if not p.optional]
    variadic = any(p.variadic for p in cmd.params)
    if len(w.args) < len(required):
        missing = required[len(w.args)].name
        raise ParseError(f"{cmd.name}: missing {missing} (usage: {cmd.synopsis})")
    if not variadic and len(w.args) > len(cmd.params):
        extra = w.args[len(cmd.params)]
        raise ParseError(f"{cmd.name}: unexpected {extra!r} (usage: {cmd.synopsis})")


def opt(w: Words, key: str) -> str | None:
    values = w.options.get(key)
    return values[0] if values else None


def ok(cmd: str, echo: str, data: dict, lines: list[str], parsed: dict,
       warnings: list[str] | tuple[str, ...] = ()) -> Result:
    return Result(cmd=cmd, ok=True, data=data, lines=lines, parsed=parsed, echo=echo,
                  warnings=list(warnings))


# --- machine -------------------------------------------------------------------------------

def run_machine(s: Session, w: Words) -> Result:
    if w.args and w.args[0].lower() == "from-log":
        from .logs import run_machine_from_log
        return run_machine_from_log(s, w)
    arch = w.args[0] if w.args else "x86_64"
    if len(w.args) > 1:
        raise ParseError(f"machine: unexpected {w.args[1]!r} (usage: machine [ARCH] key=value…"
                         " or machine from-log FILE)")
    if "arch" in w.options:
        raise ParseError("machine: arch= goes with `machine from-log FILE`; "
                         "otherwise name the arch first: machine arm64 …")
    parsed: dict = {"arch": arch}
    kw: dict = {"arch": arch}
    if (v := opt(w, "ram")) is not None:
        kw["ram"] = parsed["ram"] = parse_number(v, "ram")
    if "pmem" in w.options:
        values = w.options["pmem"]
        if values == ["none"]:
            kw["pmem"] = ()
        else:
            kw["pmem"] = tuple(parse_size_at(v, "pmem") for v in values)
        parsed["pmem"] = [list(p) for p in kw["pmem"]]
    if (v := opt(w, "kver")) is not None:
        kw["kver"] = parsed["kver"] = v
    if (v := opt(w, "page")) is not None:
        kw["page_shift"] = PAGE_SIZES[v.upper()]
        parsed["page"] = v.upper()
    if (v := opt(w, "struct_page")) is not None:
        kw["struct_page"] = parsed["struct_page"] = parse_number(v, "struct_page")
    if (v := opt(w, "memmodel")) is not None:
        kw["memmodel"] = parsed["memmodel"] = v.lower()
    if (v := opt(w, "cpus")) is not None:
        kw["cpus"] = parsed["cpus"] = parse_number(v, "cpus")
    st = s.machine.machine(MachineSpec(**kw))
    a = st.arch
    data, lines = _machine_data(st)
    echo = "machine " + " ".join(f"{k}={v}" for k, v in parsed.items() if k != "arch")
    return ok("machine", f"machine {arch} " + echo[8:], data, lines, parsed,
              [n for n in a.notes if "not in kernel-facts" in n])


def _machine_data(st) -> tuple[dict, list[str]]:
    """The machine's profile and memory, for `machine` and `info`."""
    a = st.arch
    data = {
        "arch": a.name, "kver": f"{st.kver[0]}.{st.kver[1]}", "page_shift": a.page_shift,
        "section_size_bits": a.section_size_bits, "max_physmem_bits": a.max_physmem_bits,
        "page_offset": a.page_offset, "vmemmap_base": a.vmemmap_base,
        "struct_page_size": a.struct_page_size, "sections_per_root": a.sections_per_root,
        "nr_mem_sections": a.nr_mem_sections, "nr_section_roots": a.nr_section_roots,
        "ram_bytes": st.physmap.ram_bytes, "sections_present": st.sparse.nr_present,
        "roots_allocated": len(st.sparse.roots), "memmodel": st.spec.memmodel,
        "cpus": st.rcu.ncpus,
        "pmem": [[r.start, r.end] for r in st.physmap.ranges if r.type.is_pmem],
    }
    lines = [
        f"{a.name} v{data['kver']}: PAGE_SHIFT {a.page_shift}, SECTION_SIZE_BITS "
        f"{a.section_size_bits}, MAX_PHYSMEM_BITS {a.max_physmem_bits}",
        f"  sizeof(struct page) {a.struct_page_size}, memmodel {st.spec.memmodel}, "
        f"cpus {st.rcu.ncpus}",
        f"  direct map {hx(a.page_offset)}  vmemmap {hx(a.vmemmap_base)}",
        f"  RAM {size_text(st.physmap.ram_bytes)} in {st.sparse.nr_present} present sections "
        f"of {size_text(1 << a.section_size_bits)}",
        f"  mem_section roots: {len(st.sparse.roots)} of {a.nr_section_roots} allocated, "
        f"{a.sections_per_root} sections each",
    ]
    for r in st.physmap.ranges:
        if r.type.is_pmem:
            lines.append(f"  pmem [{hx(r.start)}-{hx(r.end)}] {size_text(r.size)} "
                         f"{r.type.label}: no struct pages")
    return data, lines


def run_info(s: Session, w: Words) -> Result:
    st = s.machine.state
    data, lines = _machine_data(st)
    return ok("info", "", data, lines, {})


def run_e820(s: Session, w: Words) -> Result:
    st = s.machine.state
    pm = st.physmap
    if st.spec.pmem:  # carved like memmap=SIZE!START: the kernel prints the edited map
        lines = ["user-defined physical RAM map:"] + [r.e820_line("user") for r in pm.ranges]
    else:
        lines = ["BIOS-provided physical RAM map:"] + [r.e820_line() for r in pm.ranges]
    data = {"ranges": [{"start": r.start, "end": r.end, "type": int(r.type),
                        "label": r.type.label} for r in pm.ranges]}
    return ok("e820", "", data, lines, {})


# --- the kmap_pfn registry ---------------------------------------------------------------------

def run_register(s: Session, w: Words) -> Result:
    name = w.args[0]
    start = parse_number(w.args[1], "START")
    size = parse_number(w.args[2], "SIZE")
    base_text = opt(w, "base")
    base = parse_number(base_text, "base") if base_text is not None else None
    r = s.machine.register(name, start, size, base)
    node = r.range
    parsed = {"name": name, "start": start, "size": size, "base": base}
    data = {"name": node.name, "start": node.start, "end": node.end, "size": node.size,
            "base": node.base, "position": r.position, "list_len": r.list_len,
            "first_section": r.sections[0], "last_section": r.sections[1],
            "shared_sections": {str(k): v for k, v in r.shared.items()}}
    lines = [f"{name}: res [{hx(node.start)}-{hx(node.end)}] ({size_text(node.size)}) "
             f"base {hx(node.base)}",
             f"  list_add_rcu: first of {r.list_len} (scans go newest first)",
             f"  section table: sections {r.sections[0]}..{r.sections[1]}"]
    warnings = list(r.warnings)
    if r.shared:
        warnings.append("not section aligned: sections "
                        + ", ".join(f"{nr} ({'/'.join(n)})" for nr, n in r.shared.items())
                        + " hold more than one range, so the section path checks each")
    return ok("register", f"register {name} start={hx(start)} size={size_text(size)}"
              + (f" base={hx(base)}" if base is not None else ""), data, lines, parsed, warnings)


def _pfn_and_flags(s: Session, w: Words, what: str) -> tuple[int, list[str]]:
    if not w.args:
        raise ParseError(f"{what}: missing PFN")
    return parse_number(w.args[0], "PFN"), list(w.args[1:])


def _decoded_data(s: Session, d: Decoded) -> dict:
    """The decoded value plus what the kernel helpers would return on this machine."""
    has_page = bool(d.has_page) and d.pfn is not None
    return {"pfn": d.pfn, "flags": list(d.flags), "has_page": d.has_page,
            "devmap": d.devmap, "special": d.special, "phys": d.phys,
            "to_page": s.machine.state.sparse.pfn_to_page(d.pfn) if has_page else None,
            "fields": [{"name": f.name, "hi": f.hi, "lo": f.lo, "value": f.value,
                        "meaning": f.meaning} for f in d.fields],
            "notes": list(d.notes)}


def run_kmap(s: Session, w: Words) -> Result:
    raw = opt(w, "raw")
    if raw is not None:
        if w.args:
            raise ParseError("kmap: give either PFN [FLAG...] or raw=VALUE, not both")
        value = parse_number(raw, "raw")
        parsed: dict = {"raw": value}
    else:
        pfn, flags = _pfn_and_flags(s, w, "kmap")
        value = s.machine.encode_v5(pfn, flags)
        parsed = {"pfn": pfn, "flags": flags}
    r = s.machine.kmap_atomic_pfn_t(value)
    d = r.decoded
    flags_text = "|".join(d.flags) or "0"
    echo = f"kmap pfn={s.num(d.pfn)} flags={flags_text} -> __pfn_t {s.num(value)}  (cpu{r.cpu})"
    lc, sc = r.list_cost, r.section_cost
    data = {"value": value, "pfn": d.pfn, "flags": list(d.flags), "has_page": d.has_page,
            "cpu": r.cpu, "addr": r.addr, "path": r.path, "range": r.range,
            "list_steps": lc.steps, "list_loads": lc.loads, "list_ns": lc.ns,
            "section_loads": sc.loads, "section_ns": sc.ns, "agree": r.agree,
            "rcu_readers": r.rcu_readers, "nesting": r.nesting,
            "steps": [{"index": st.index, "name": st.name, "hit": st.hit, "loads": st.loads,
                       "ns": st.ns} for st in r.steps]}
    lines = []
    if r.path == "page":
        lines.append(f"page path: kmap_atomic(pfn_to_page) = {hx(r.addr)}")
        lines.append("  rcu_read_lock() taken anyway (held until kunmap)")
    elif r.path == "list":
        lines.append(f"list path: {r.range} at node {lc.steps} -> {hx(r.addr)}")
        lines.append("  returns holding rcu_read_lock() (kunmap releases it)")
    else:
        lines.append(f"list path: no range holds phys {hx(d.phys)} -> NULL")
        lines.append("  rcu_read_unlock(): the only unlock inside kmap")
    for st in r.steps:
        lines.append(f"    {st.index}. {st.name:<12} {'hit ' if st.hit else 'miss'}  "
                     f"{st.loads} loads")
    lines.append(f"  cost  list {lc.steps} node(s), {lc.loads} loads, {ns_text(lc.ns)}"
                 f"  |  section {sc.loads} loads, {ns_text(sc.ns)}")
    lines.append(f"  rcu   {r.rcu_readers} reader(s) open, cpu{r.cpu} nesting {r.nesting}"
                 + ("" if r.agree else "   PATHS DISAGREE"))
    res = ok("kmap", echo, data, lines, parsed, r.warnings)
    page = s.machine.state.sparse.pfn_to_page(d.pfn) if d.has_page and d.pfn is not None \
        else None
    res.source = s.context(r, [st.name for st in r.steps]) + (page,)
    return res


def run_kunmap(s: Session, w: Words) -> Result:
    addr = parse_number(w.args[0], "KVA")
    r = s.machine.kunmap_atomic_pfn_t(addr)
    data = {"addr": addr, "cpu": r.cpu, "kind": r.kind, "range": r.range,
            "list_steps": r.list_cost.steps, "list_loads": r.list_cost.loads,
            "list_ns": r.list_cost.ns, "rcu_readers": r.rcu_readers,
            "gps_ended": list(r.gps_ended), "freed": list(r.freed)}
    what = f"device address in {r.range}" if r.kind == "device" else "not a device address"
    lines = [f"{what} (scan: {r.list_cost.steps} node(s))"
             + ("" if r.kind == "device" else ": kunmap_atomic()"),
             f"  rcu_read_unlock() -> {r.rcu_readers} reader(s) open"]
    for gp in r.gps_ended:
        lines.append(f"  grace period {gp} ended")
    for name in r.freed:
        lines.append(f"  {name}: kfree() - teardown complete")
    res = ok("kunmap", f"kunmap kva={hx(addr)} (cpu{r.cpu})", data, lines + [
        f"  note: {n}" for n in r.notes], {"kva": addr})
    res.source = s.context(r, [st.name for st in r.steps])
    return res


def run_teardown(s: Session, w: Words) -> Result:
    name = w.args[0]
    r = s.machine.teardown_kmap(name)
    data = {"name": name, "state": r.state, "gp": r.gp, "waiting_for": len(r.waiting_readers),
            "waiting_cpus": list(r.waiting_cpus), "waiting_readers": list(r.waiting_readers),
            "cpu": r.cpu}
    lines = []
    if r.cpu != s.machine.state.cpu:
        lines.append(f"cpu{s.machine.state.cpu} is inside a reader and synchronize_rcu() "
                     f"sleeps, so the unbind runs on cpu{r.cpu}")
    lines += [f"list_del_rcu({name}): new readers can no longer find it",
             f"synchronize_rcu(): grace period {r.gp}"]
    if r.state == "freed":
        lines.append("  no CPU was in a reader: grace period over, kfree() done")
    else:
        lines.append(f"  waiting for {len(r.waiting_readers)} reader(s) "
                     f"({', '.join(map(str, r.waiting_readers))}) on cpu "
                     f"{', '.join(map(str, r.waiting_cpus))}")
        lines.append("  kfree() once they have all called kunmap")
    res = ok("teardown", f"teardown {name}", data, lines, {"name": name})
    res.source = s.context(r)
    return res


def run_lookup(s: Session, w: Words) -> Result:
    pfn = parse_number(w.args[0], "PFN")
    r = s.machine.lookup(pfn)
    sec = r.section
    lc, sc = r.list_cost, r.section_cost
    data = {"pfn": pfn, "phys": r.phys, "e820": r.e820, "section": r.section_nr,
            "root": sec.root if sec else r.section_nr // s.machine.state.arch.sections_per_root,
            "pfn_valid": r.pfn_valid, "page": r.page, "direct": r.direct,
            "list_range": r.list_range, "list_kva": lc.answer, "list_steps": lc.steps,
            "list_loads": lc.loads, "list_ns": lc.ns, "section_range": r.section_range,
            "section_kva": sc.answer, "section_loads": sc.loads, "section_ns": sc.ns,
            "agree": r.agree}
    spr = s.machine.state.arch.sections_per_root
    lines = [f"phys {hx(r.phys)} ({r.e820}); section {r.section_nr} "
             f"(root {r.section_nr // spr}, idx {r.section_nr % spr})",
             "  memmap: " + (f"pfn_valid, struct page {hx(r.page)}, __va {hx(r.direct)}"
                              if r.pfn_valid else "no struct page (not pfn_valid)"),
             f"  list path:    {r.list_range or 'no range'} -> {hx(lc.answer)} "
             f"({lc.steps} nodes, {lc.loads} loads, {lc.ns} ns)",
             f"  section path: {r.section_range or 'no range'} -> {hx(sc.answer)} "
             f"({sc.loads} loads, {sc.ns} ns)" + ("" if r.agree else "   DISAGREE")]
    res = ok("lookup", f"lookup pfn={s.num(pfn)}", data, lines, {"pfn": pfn})
    res.source = s.context(r, [st.name for st in r.steps])
    return res


def run_page(s: Session, w: Words) -> Result:
    pfn = parse_number(w.args[0], "PFN")
    r = s.machine.page(pfn)
    spr = s.machine.state.arch.sections_per_root
    sec = r.section
    data = {"pfn": pfn, "phys": r.phys, "page": r.page, "e820": r.e820,
            "section": r.section_nr, "pfn_valid": r.pfn_valid, "direct": r.direct,
            "section_mem_map": sec.section_mem_map if sec else None,
            "section_flags": flag_letters(sec.flags) if sec else None,
            "kmaps": r.kmaps, "touches": r.touches}
    lines = [f"pfn {s.num(pfn)}: phys {hx(r.phys)} ({r.e820})",
             f"  struct page {hx(r.page)}" + ("" if r.pfn_valid else "  (not pfn_valid: "
                                              "nothing backs this struct page)"),
             f"  section {r.section_nr} (root {r.section_nr // spr}, idx {r.section_nr % spr}): "
             + (f"section_mem_map {hx(sec.section_mem_map)} [{flag_letters(sec.flags)}]"
                if sec else "root not allocated")]
    if r.direct is not None:
        lines.append(f"  __va {hx(r.direct)}")
    lines.append(f"  simulator: {r.kmaps} kmap(s) open, touched {r.touches} time(s)"
                 + (f", last by {r.last}" if r.last else ""))
    res = ok("page", f"page pfn={s.num(pfn)}", data, lines, {"pfn": pfn})
    res.source = s.context(r)
    return res


def run_identify(s: Session, w: Words) -> Result:
    addr = parse_number(w.args[0], "ADDR")
    r = s.machine.identify(addr)
    data = {"addr": addr, "kind": r.kind, "pfn": r.pfn, "phys": r.phys, "range": r.range,
            "range_state": r.range_state, "verdict": r.verdict}
    lines = [f"{hx(addr)}: {r.kind}" + (f" ({r.range}, {r.range_state})" if r.range else ""),
             f"  {r.detail}"]
    if r.pfn is not None:
        lines.append(f"  pfn {s.num(r.pfn)}, phys {hx(r.phys)}")
    warnings = [f"{r.verdict}: {r.detail}"] if r.verdict not in ("", "ok") else []
    return ok("identify", f"identify addr={hx(addr)}", data, lines, {"addr": addr}, warnings)


def run_ranges(s: Session, w: Words) -> Result:
    st = s.machine.state
    rows = []
    lines = ["head" if st.kmap.nodes else "head (empty list)"]
    held: dict[str, int] = {}
    for m in st.mappings.values():
        if m.range:
            held[m.range] = held.get(m.range, 0) + 1
    for i, r in enumerate(st.kmap.nodes, 1):
        holders = held.get(r.name, 0)
        rows.append({"name": r.name, "start": r.start, "end": r.end, "base": r.base,
                     "state": r.state, "position": i, "mappings": holders})
        lines.append(f"  {i}. {r.name:<10} [{hx(r.start)}-{hx(r.end)}] base {hx(r.base)}  "
                     f"{holders} mapping(s)")
    for r in st.ranges.values():
        if r.state != "live":
            rows.append({"name": r.name, "start": r.start, "end": r.end, "base": r.base,
                         "state": r.state, "position": None, "gp": r.gp})
            lines.append(f"     {r.name:<10} [{hx(r.start)}-{hx(r.end)}] {r.state}"
                         + (f" (grace period {r.gp})" if r.state == "unlinked" else ""))
    return ok("ranges", "", {"ranges": rows}, lines, {})


def run_sections(s: Session, w: Words) -> Result:
    st = s.machine.state
    sp, a = st.sparse, st.arch
    runs = []
    lines = [f"{sp.nr_present} present sections of {size_text(1 << a.section_size_bits)} "
             f"({sp.era.name} flags, SECTION_MAP_MASK {hx(sp.era.map_mask)}); "
             f"{len(sp.roots)} root(s) allocated"]
    for run in sp.iter_runs():
        ms = sp.nr_to_section(run.first)
        assert ms is not None
        runs.append({"first": run.first, "last": run.last, "section_mem_map": run.word,
                     "flags": flag_letters(ms.flags), "mem_map": ms.mem_map})
        lines.append(f"  {run.first}..{run.last}  [{flag_letters(ms.flags)}]  "
                     f"section_mem_map {hx(run.word)}  mem_map {hx(ms.mem_map)}")
        full = (1 << a.subsections_per_section) - 1
        has_subsections = bool(sp.era.flags & SectionFlags.IS_EARLY)  # subsection hotplug era
        for nr in sorted({run.first, run.last}) if has_subsections else ():
            bits = sp.subsection_map(nr, st.physmap)
            if bits != full:
                runs[-1].setdefault("partial", {})[str(nr)] = bits
                lines.append(f"    section {nr}: subsection_map {bits:#x} (RAM in "
                             f"{bin(bits).count('1')} of {a.subsections_per_section} x 2M; "
                             "early section, so pfn_valid() holds for all of it)")
    device = [{"first": lo, "last": hi, "ranges": list(names)}
              for lo, hi, names in st.table.runs()]  # O(ranges), however many sections
    if device:
        slots = sum(d["last"] - d["first"] + 1 for d in device)
        lines.append(f"section table (device ranges): {slots} slot(s) in {len(device)} run(s)")
        for d in device[:8]:
            lines.append(f"  {d['first']}..{d['last']}: {', '.join(d['ranges'])}")
        if len(device) > 8:
            lines.append(f"  … {len(device) - 8} more run(s)")
    return ok("sections", "", {"runs": runs, "device_runs": device}, lines, {})


def run_rcu(s: Session, w: Words) -> Result:
    st = s.machine.state
    rcu = st.rcu
    cpus = [{"cpu": c, "nesting": len(stack), "readers": list(stack)}
            for c, stack in enumerate(rcu.cpu_readers)]
    gps = [{"gp": g.id, "who": g.who, "waiting_cpus": sorted(g.waiting_cpus)}
           for g in rcu.gps.values()]
    maps = [{"addr": m.addr, "cpu": m.cpu, "pfn": m.pfn, "path": m.path, "range": m.range,
             "reader": m.reader} for m in st.mappings.values()]
    lines = [f"{rcu.nr_readers} reader(s) open; {len(gps)} grace period(s) in flight, "
             f"{rcu.completed} completed; current cpu{st.cpu}"]
    for c in cpus:
        lines.append(f"  cpu{c['cpu']}: nesting {c['nesting']}"
                     + (f"  readers {c['readers']}" if c["readers"] else ""))
    for g in gps:
        lines.append(f"  GP {g['gp']} ({g['who']}) waiting on cpu {g['waiting_cpus']}")
    for m in maps:
        lines.append(f"  mapping {hx(m['addr'])} cpu{m['cpu']} pfn {s.num(m['pfn'])} "
                     f"{m['path']}{' ' + m['range'] if m['range'] else ''} reader {m['reader']}")
    return ok("rcu", "", {"rcu_readers": rcu.nr_readers, "cpus": cpus, "grace_periods": gps,
                          "completed": rcu.completed, "mappings": maps, "cpu": st.cpu},
              lines, {})


def run_cpu(s: Session, w: Words) -> Result:
    if not w.args:
        cpu = s.machine.state.cpu
        return ok("cpu", "", {"cpu": cpu}, [f"current cpu{cpu}"], {})
    cpu = parse_number(w.args[0], "N")
    s.machine.set_cpu(cpu)
    return ok("cpu", f"cpu {cpu}", {"cpu": cpu},
              [f"now on cpu{cpu} (nesting {s.machine.state.rcu.nesting(cpu)})"], {"cpu": cpu})


# --- encodings ---------------------------------------------------------------------------------

def run_encode(s: Session, w: Words) -> Result:
    pfn, flags = _pfn_and_flags(s, w, "encode")
    abi = (opt(w, "abi") or "v5").lower()
    kver = opt(w, "kver")
    value = s.machine.encode(abi, pfn, flags, kver)
    d = s.machine.decode(abi, value, kver)
    data = {"value": value, "abi": abi, "kver": kver, **_decoded_data(s, d)}
    lines = [f"{s.num(value)}  ({abi}{' v' + kver if kver else ''})"] + _field_lines(s, d)
    lines += [f"  note: {n}" for n in d.notes]
    return ok("encode", f"encode pfn={s.num(pfn)} flags={'|'.join(d.flags) or '0'} abi={abi}",
              data, lines, {"pfn": pfn, "flags": flags, "abi": abi, "kver": kver})


def run_decode(s: Session, w: Words) -> Result:
    if not _is_value_decode(w):
        from .logs import run_decode_log
        return run_decode_log(s, w.raw)
    check_words(COMMANDS["decode"], w)
    value = parse_number(w.args[0], "VALUE")
    abi = (opt(w, "abi") or "v5").lower()
    kver = opt(w, "kver")
    d = s.machine.decode(abi, value, kver)
    data = {"value": value, "abi": abi, "kver": kver, **_decoded_data(s, d)}
    lines = [f"pfn {s.num(d.pfn)}  flags {'|'.join(d.flags) or '(none)'}  "
             f"has_page {d.has_page}" + ("  devmap" if d.devmap else "")
             + ("  special" if d.special else "")] + _field_lines(s, d)
    lines += [f"  note: {n}" for n in d.notes]
    return ok("decode", f"decode value={s.num(value)} abi={abi}", data, lines,
              {"value": value, "abi": abi, "kver": kver})


def _is_value_decode(w: Words) -> bool:
    """`decode 0x… [abi=…]` takes a value apart; anything else is pasted log text."""
    if len(w.args) != 1 or set(w.options) - {"abi", "kver"}:
        return False
    try:
        parse_number(w.args[0])
    except ParseError:
        return False
    return True


def _field_lines(s: Session, d: Decoded) -> list[str]:
    out = []
    for f in d.fields:
        bits = f"{f.hi}" if f.hi == f.lo else f"{f.hi}..{f.lo}"
        out.append(f"  bits {bits:>6}  {f.name:<26} {s.num(f.value):<10} {f.meaning}")
    return out


# --- session ------------------------------------------------------------------------------------

def run_undo(s: Session, w: Words) -> Result:
    op = s.machine.undo()
    return ok("undo", "", {"undone": op, "history": s.machine.history_len},
              [f"undid {op}; {s.machine.history_len} operation(s) remain"], {})


def run_reset(s: Session, w: Words) -> Result:
    s.machine.reset()
    return ok("reset", "", {"arch": s.machine.state.arch.name},
              [f"{s.machine.state.arch.name}: no ranges, no readers, cpu0 (undo brings the "
               "previous state back)"], {})


def run_set(s: Session, w: Words) -> Result:
    if not w.args:
        return ok("set", "", {"radix": s.radix}, [f"radix {s.radix}"], {})
    if w.args[0].lower() != "radix" or len(w.args) != 2:
        raise ParseError("set: usage: set radix 10|16  (or `set` to show the settings)")
    if w.args[1] not in ("10", "16"):
        raise ParseError(f"set radix: {w.args[1]!r} is not 10 or 16")
    s.radix = int(w.args[1])
    return ok("set", f"set radix {s.radix}", {"radix": s.radix},
              [f"output radix {s.radix} (pfns and values; addresses stay hex)"],
              {"radix": s.radix})


def run_explain(s: Session, w: Words) -> Result:
    from .explain import explain
    last = s.last_path
    if last is None:
        raise ParseError("explain: nothing to explain yet; run kmap, kunmap, teardown, lookup "
                         "or page first")
    source, arch, ranges, *extra = last.source
    lines = explain(source, arch, ranges, *extra) or []
    return ok("explain", f"explain {last.echo or last.cmd}", {"explains": last.cmd},
              lines, {})


MAX_LOAD_BYTES = 1 << 20
"""`load` reads scripts of at most this size (`pfnconsole run` takes any size)."""
MAX_LOAD_COMMANDS = 10_000
"""… and at most this many commands, so that one `load` stays about a second long."""
MAX_LOAD_SECONDS = 5.0
"""A `load` still running after this long is taken back whole (walks can be slow)."""


def run_save(s: Session, w: Words) -> Result:
    from .files import write_file
    path = Path(w.args[0]).expanduser()
    if s.replaying is not None:
        return ok("save", f"save {path}", {"path": str(path), "commands": 0, "written": False},
                  [f"not written: `save` inside {s.replaying} writes no file"],
                  {"path": str(path)})
    body = "# pfnconsole session: `pfnconsole run FILE` or `load FILE` replays it\n" + \
        "".join(line + "\n" for line in s.accepted)
    write_file(os.path.expanduser(w.args[0]), body.encode("utf-8", errors="replace"),
               force="force" in w.switches)
    return ok("save", f"save {path}", {"path": str(path), "commands": len(s.accepted),
                                       "written": True},
              [f"wrote {len(s.accepted)} command(s) to {path}"], {"path": str(path)})


def run_load(s: Session, w: Words) -> Result:
    from .journal import read_commands
    if s.replaying is not None:
        raise ParseError(f"load: not run inside {s.replaying}: a script cannot load "
                         "another script (put that script's lines in its place)")
    path = s.resolve(w.args[0])
    lines = read_commands(path, MAX_LOAD_BYTES, "load")
    if len(lines) > MAX_LOAD_COMMANDS:
        raise ParseError(f"load: {path} holds {len(lines)} commands; load takes at most "
                         f"{MAX_LOAD_COMMANDS} (`pfnconsole run {path}` takes any number)")
    mark = s.mark()
    s.replaying, s._collect = f"load {path}", []
    deadline = time.monotonic() + MAX_LOAD_SECONDS
    try:
        for n, text in lines:
            r = s.execute(text)
            if r is not None and not r.ok:
                s._restore(mark)
                raise ParseError(f"{path}:{n}: error: {r.error} (nothing was loaded)")
            if time.monotonic() > deadline:
                s._restore(mark)
                raise ParseError(f"load: {path} was still running after {MAX_LOAD_SECONDS:g} s "
                                 f"(line {n}); nothing was loaded. `pfnconsole run {path}` "
                                 "runs long scripts")
        ran = s._collect
    finally:
        s.replaying, s._collect = None, None
    res = ok("load", f"load {path}", {"path": str(path), "commands": len(lines)},
             [f"ran {len(lines)} command(s) from {path}"], {"path": str(path)})
    res.replay = ran
    return res


def run_help(s: Session, w: Words) -> Result:
    if w.args:
        name = w.args[0].lower()
        cmd = COMMANDS.get(name) or COMMANDS.get(ALIASES.get(name, ""))
        if cmd is None:
            raise ParseError(f"help: no command {name!r}; `help` lists them")
        lines = ["NAME", f"    {cmd.name} - {cmd.summary}", "", "SYNOPSIS",
                 f"    {cmd.synopsis}", "", "DESCRIPTION"]
        lines += [f"    {ln}" for ln in cmd.description.splitlines()]
        lines += ["", "EXAMPLES (run in order, on a machine with pmem0 registered and "
                  "mapped)"] + [f"    {e}" for e in cmd.examples]
        return ok("help", "", {"command": cmd.name, "synopsis": cmd.synopsis,
                               "examples": list(cmd.examples)}, lines, {"command": name})
    cats: dict[str, list[Command]] = {}
    for c in COMMANDS.values():
        cats.setdefault(c.category, []).append(c)
    lines = []
    for cat, cmds in cats.items():
        lines.append(cat)
        lines += [f"  {c.synopsis:<44} {c.summary}" for c in cmds]
    lines.append("Numbers: 0x100600, 1050112, 4K, 16G, 1T.  `help CMD` for details.")
    return ok("help", "", {"commands": list(COMMANDS)}, lines, {})


# --- the table ---------------------------------------------------------------------------------

N, NAME, FLAG = "number", "name", "flag"
M = "Machine"
K = "kmap_pfn (2015) and RCU"
E = "Encodings"
V = "Views"
S = "Session"

_COMMANDS = [
    Command(
        "machine", M, "build a machine (arch, RAM, pmem, kernel version)",
        "machine [ARCH] [ram=SIZE] [pmem=SIZE@START|none ...] [kver=X.Y] [page=4K|16K|64K] "
        "[struct_page=N] [memmodel=vmemmap|sparse] [cpus=N] | machine from-log FILE [arch=A]",
        "Replace the machine with a new one. ARCH is one of " + ", ".join(ARCH_NAMES) + ".\n"
        "ram= is usable RAM (x86 adds the usual holes below 4 GiB); pmem= carves persistent\n"
        "memory like memmap=SIZE!START (e820 type 12); without it two 4 GiB type-7 ranges\n"
        "follow RAM. kver= picks era-dependent constants (direct-map base, section flags,\n"
        "arm64 SECTION_SIZE_BITS). No per-page state is allocated, so 64 TiB is cheap.\n"
        "`machine from-log FILE` builds the machine from a boot log's e820/`user:` map (or\n"
        "its memory node ranges), persistent-memory ranges included.",
        ("machine x86_64", "machine x86_64-5level ram=64T pmem=4G@0x500000000",
         "machine arm64 page=64K kver=5.10", "machine x86_64 kver=4.2 memmodel=sparse"),
        run_machine, (Param("ARCH", "arch", optional=True), Param("FILE", "word", optional=True)),
        (Option("arch", "word"), Option("ram", N), Option("pmem", "sizeat", repeat=True), Option("kver", "word"),
         Option("page", "word", tuple(PAGE_SIZES)), Option("struct_page", N),
         Option("memmodel", "word", ("vmemmap", "sparse")), Option("cpus", N)),
        mutates=True),
    Command("info", M, "the current machine: profile, RAM, sections, pmem", "info",
            "What `machine` printed when it built this machine; changes nothing.",
            ("info",), run_info),
    Command("e820", M, "print the physical memory map as the kernel does", "e820",
            "The e820 table in arch/x86/kernel/e820.c's format (inclusive ends).",
            ("e820",), run_e820),
    Command(
        "register", K, "devm_register_kmap_pfn_range(): add a device range",
        "register NAME START SIZE [base=KVA]",
        "Register physical [START, START+SIZE-1] with the kernel virtual address it is\n"
        "mapped at (default: the next free spot in vmalloc space). list_add_rcu() puts it at\n"
        "the head, so it is scanned first. Overlapping ranges and duplicate names are refused.",
        ("register pmem1 0x440000000 4G", "register pmem2 0x540000000 4G base=0xffffc90400000000"),
        run_register, (Param("NAME", NAME), Param("START", N), Param("SIZE", N)),
        (Option("base", N),), mutates=True),
    Command(
        "kmap", K, "kmap_atomic_pfn_t(): map a __pfn_t, list path or page path",
        "kmap PFN [dev|map|sg_chain|sg_last ...] | kmap raw=VALUE",
        "Build a 2015 __pfn_t (pfn << PAGE_SHIFT | flags) or take a raw one, and map it on the\n"
        "current CPU. rcu_read_lock() is always taken. Without PFN_DEV the page path returns\n"
        "kmap_atomic(page); with it the RCU list is scanned newest first for a range holding\n"
        "the address. A hit returns base + offset still holding the lock (kunmap releases it);\n"
        "a miss unlocks and returns NULL. Both the list and the section path are costed.",
        ("kmap 0x100600 dev", "kmap raw=0x100600004", "kmap 0x1000"),
        run_kmap, (Param("PFN", N, optional=True), Param("FLAG", FLAG, optional=True,
                                                          variadic=True)),
        (Option("raw", N),), mutates=True),
    Command(
        "kunmap", K, "kunmap_atomic_pfn_t(): drop a mapping and its RCU read lock",
        "kunmap KVA",
        "Scan the list again to tell a device address from a kmap_atomic() page, then\n"
        "rcu_read_unlock(). When that was the last reader a grace period waited for, the\n"
        "teardown behind it completes and the range is freed.",
        ("kunmap 0xffffc90000600000",), run_kunmap, (Param("KVA", "mapping"),), mutates=True),
    Command(
        "teardown", K, "teardown_kmap(): list_del_rcu, synchronize_rcu, kfree",
        "teardown NAME",
        "Unlink the range (new readers cannot find it), start a grace period and free the\n"
        "range once every CPU that was in a read-side section has left it. Answers 'freed'\n"
        "at once when no reader is open, else 'waiting'. The unbind runs on the current CPU,\n"
        "or on an idle one when the current CPU is inside a reader (synchronize_rcu() sleeps).",
        ("teardown pmem0",), run_teardown, (Param("NAME", "range"),), mutates=True),
    Command("cpu", K, "show or switch the current CPU", "cpu [N]",
            "kmap/kunmap run on the current CPU; each CPU has its own RCU nesting.",
            ("cpu 1", "cpu"), run_cpu, (Param("N", N, optional=True),), mutates=True),
    Command("rcu", K, "readers, grace periods and open mappings", "rcu",
            "Per-CPU read-side nesting, grace periods in flight and who holds them up.",
            ("rcu",), run_rcu),
    Command(
        "lookup", V, "where is this pfn: memmap, list path and section path",
        "lookup PFN",
        "Answer without taking a mapping: e820 type, section, pfn_valid, struct page, and the\n"
        "range each path finds with its cost.",
        ("lookup 0x100600",), run_lookup, (Param("PFN", N),)),
    Command("page", V, "the struct page of a pfn", "page PFN",
            "pfn_to_page(), the section and its flags, __va, and what the simulator did to it.",
            ("page 0x100600",), run_page, (Param("PFN", N),)),
    Command("identify", V, "what a kernel virtual address points at", "identify ADDR",
            "Direct map, struct page in the memmap, or a device mapping; for a device mapping\n"
            "also whether this CPU's access is protected, racy or a use-after-free.",
            ("identify 0xffffea0004018000", "identify 0xffff888100600000"), run_identify,
            (Param("ADDR", "addr"),)),
    Command("ranges", V, "the kmap list in scan order, and ranges being torn down", "ranges",
            "Newest first, as list_for_each_entry_rcu() walks it.", ("ranges",), run_ranges),
    Command("sections", V, "present mem_sections and the device section table", "sections",
            "Runs of present sections with their section_mem_map word and P/M/O/E/D flags.",
            ("sections",), run_sections),
    Command(
        "encode", E, "build a pfn value in one of the encodings",
        "encode PFN [FLAG...] [abi=v5|v5rfc|pfn_t|sg] [kver=X.Y]",
        "v5: the 2015 __pfn_t (flags in the low PAGE_SHIFT bits); v5rfc adds the same\n"
        "night's RFC PFN_MAP (bit 3). pfn_t: the merged type,\n"
        "flags in the top bits (v4.5 .. v6.16; SPECIAL from v4.16). sg: scatterlist\n"
        "page_link, a struct page pointer with SG_CHAIN/SG_END in bits 0-1.",
        ("encode 0x100600 dev abi=v5", "encode 0x100600 dev map abi=pfn_t kver=4.16",
         "encode 0x100600 end abi=sg"),
        run_encode, (Param("PFN", N), Param("FLAG", FLAG, optional=True, variadic=True)),
        (Option("abi", "word", ABIS), Option("kver", "word"))),
    Command("decode", E, "take a pfn value apart, or decode pasted kernel log text",
            "decode VALUE [abi=v5|v5rfc|pfn_t|sg] [kver=X.Y] | decode LOG TEXT…",
            "With one number: the pfn, the flags and what they mean, with every bit field of\n"
            "the layout. With anything else: the text is read as kernel log lines (dump_page,\n"
            "Bad page state, Memory failure, fs_dax traces, e820 maps, page faults …) and each\n"
            "fact found is listed with its pfn. `pfnconsole decode FILE` does whole logs.",
            ("decode 0x3000000000100600 abi=pfn_t", "decode 0x100600004",
             "decode BUG: Bad page state in process a.out  pfn:7fe84"),
            run_decode, (Param("VALUE", N),),
            (Option("abi", "word", ABIS), Option("kver", "word")), raw_text=True),
    Command("explain", V, "the kernel code path behind the last result", "explain",
            "Step by step, with the nodes the list walk touched, the section macros beside\n"
            "them, and the kernel source file each step comes from.",
            ("explain",), run_explain),
    Command("set", S, "show or change console settings", "set [radix 10|16]",
            "radix: how pfns and values print (like crash's `set radix`); addresses stay\n"
            "hex and input keeps its own syntax (0x for hex).",
            ("set radix 10", "set radix 16", "set"), run_set,
            (Param("NAME", "setting", optional=True), Param("VALUE", "radix", optional=True))),
    Command("save", S, "write this session's commands to a script", "save [--force] FILE",
            "Every accepted command so far, one a line; `load FILE` or `pfnconsole run FILE`\n"
            "replays it. Writes regular files only, never through a symbolic link; an\n"
            "existing file is replaced (atomically) only with --force. Inside a replay\n"
            "(load, a lesson, --resume) it writes nothing.",
            ("save --force /tmp/pfn-session.pfn",), run_save, (Param("FILE", "word"),),
            switches=("force",)),
    Command("load", S, "replay a script into this session, all or nothing", "load FILE",
            "Runs each line of FILE as a command. If one fails, the machine goes back to\n"
            "how it was before `load` and the error names the file and line. FILE must be\n"
            f"a regular file of at most {MAX_LOAD_BYTES >> 20} MiB and {MAX_LOAD_COMMANDS} commands\n"
            f"(one still running after {MAX_LOAD_SECONDS:g} s is taken back whole); a script "
            "cannot load\nanother one.",
            ("save --force /tmp/pfn-session.pfn", "reset", "load /tmp/pfn-session.pfn"), run_load,
            (Param("FILE", "word"),), mutates=True),
    Command("undo", S, "take back the last change", "undo",
            "Restores the whole machine as it was before the last command that changed it.",
            ("undo",), run_undo, mutates=True),
    Command("reset", S, "rebuild the current machine empty", "reset",
            "Same arch and memory, no ranges, no readers; undo brings the old state back.",
            ("reset",), run_reset, mutates=True),
    Command("help", S, "list commands, or show one in detail", "help [CMD]",
            "With a command name: NAME, SYNOPSIS, DESCRIPTION and EXAMPLES.",
            ("help", "help kmap"), run_help, (Param("CMD", "command", optional=True),)),
]

COMMANDS: dict[str, Command] = {c.name: c for c in _COMMANDS}
ALIASES = {"whatis": "identify", "?": "help", "map": "kmap", "unmap": "kunmap"}
