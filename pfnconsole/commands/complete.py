"""Completion candidates from the command table and the session's state.

Shared by the REPL and the TUI: given the text before the cursor, what could come next.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.arch import ARCH_NAMES, PAGE_SIZES
from ..core.encodings import flag_names
from ..core.errors import EngineError
from .registry import ALIASES, COMMANDS, Command
from .session import Session

KVERS = ("4.2", "4.5", "4.6", "4.8", "4.11", "4.16", "4.18", "4.20", "5.0", "5.2", "5.3", "5.4",
         "5.11", "5.12", "5.14", "5.16", "5.18", "6.0", "6.2", "6.5", "6.9", "6.16")
"""Versions where a modelled constant changes (the era tables of core/ and decode/), offered
for kver=."""



@dataclass(frozen=True)
class Candidate:
    text: str
    """What replaces the word being typed."""
    start: int
    """Negative offset where the replacement starts (prompt_toolkit's start_position)."""
    meta: str = ""


def _current(text: str) -> tuple[list[str], str]:
    parts = text.split()
    if not text or text[-1].isspace():
        return parts, ""
    return parts[:-1], parts[-1]


def complete(session: Session, text: str) -> list[Candidate]:
    """Candidates for the word under the cursor at the end of ``text``."""
    if "#" in text:
        return []
    done, word = _current(text)
    if not done:
        names = sorted(set(COMMANDS) | {a for a in ALIASES if a.isalpha()})
        return [Candidate(n, -len(word), _summary(n)) for n in names if n.startswith(word.lower())]
    cmd = COMMANDS.get(done[0].lower()) or COMMANDS.get(ALIASES.get(done[0].lower(), ""))
    if cmd is None:
        return []
    if "=" in word:
        key, _, prefix = word.partition("=")
        return [Candidate(v, -len(prefix), meta) for v, meta in _option_values(cmd, key)
                if v.lower().startswith(prefix.lower())]
    given_opts = {w.split("=", 1)[0].lower() for w in done[1:] if "=" in w}
    positional = [w for w in done[1:] if "=" not in w]
    out = [Candidate(c, -len(word), meta) for c, meta in
           _positional(session, cmd, positional, done) if c.lower().startswith(word.lower())]
    for o in cmd.options:
        if (o.repeat or o.key not in given_opts) and (o.key + "=").startswith(word.lower()):
            out.append(Candidate(o.key + "=", -len(word), "option"))
    return out


def _summary(name: str) -> str:
    cmd = COMMANDS.get(name) or COMMANDS.get(ALIASES.get(name, ""))
    return cmd.summary if cmd else ""


def _option_values(cmd: Command, key: str) -> list[tuple[str, str]]:
    opt = next((o for o in cmd.options if o.key == key.lower()), None)
    if opt is None:
        return []
    if key == "abi":
        known = [("v5", "2015 __pfn_t"), ("v5rfc", "__pfn_t + the RFC's PFN_MAP"),
                 ("pfn_t", "merged v4.5-v6.16"), ("sg", "page_link"),
                 ("page_flags", "page->flags by version")]
        return [(v, why) for v, why in known if v in opt.choices]
    if key == "kver":
        return [(v, "kernel version") for v in KVERS]
    if key == "page":
        return [(p, "page size") for p in PAGE_SIZES]
    if key == "pmem":
        return [("none", "no persistent memory"), ("4G@0x500000000", "SIZE@START")]
    return [(c, "") for c in opt.choices]


def _positional(session: Session, cmd: Command, positional: list[str], done: list[str]
                ) -> list[tuple[str, str]]:
    params = cmd.params
    if not params:
        return []
    idx = len(positional)
    param = params[min(idx, len(params) - 1)]
    if idx >= len(params) and not param.variadic:
        return []
    st = session.machine.state
    if param.kind == "arch":
        return [(a, "arch profile") for a in ARCH_NAMES]
    if param.kind == "flag":
        abi = next((w.split("=", 1)[1].lower() for w in done if w.lower().startswith("abi=")),
                   "v5")
        used = {w.lower() for w in positional}
        try:
            names = flag_names(abi)
        except EngineError:  # an abi= no codec has: nothing to offer
            names = ()
        return [(f, f"{abi} flag") for f in names if f not in used]
    if param.kind == "range":
        return [(r.name, f"[{r.start:#x}-{r.end:#x}]") for r in st.kmap.nodes]
    if param.kind == "mapping":
        return [(f"{m.addr:#x}", f"pfn {m.pfn:#x} {m.range or 'page'}") for m in st.mappings.values()
                if m.cpu == st.cpu]
    if param.kind == "addr":
        out = [(f"{m.addr:#x}", f"mapping, pfn {m.pfn:#x}") for m in st.mappings.values()]
        out += [(f"{r.base:#x}", f"base of {r.name} ({r.state})") for r in st.ranges.values()]
        return out
    if param.kind == "command":
        return [(n, c.summary) for n, c in COMMANDS.items()]
    if param.kind == "setting":
        return [("radix", "output radix")]
    if param.kind == "radix":
        return [("10", "decimal"), ("16", "hex")]
    return []
