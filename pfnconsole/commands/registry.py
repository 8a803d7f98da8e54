"""The command registry: each verb is declared once, with ``@command``, beside its handler.

A declaration gives the verb's name, subject, one-line summary, help text, runnable
examples, and the words it takes (``Param``), its ``key=value`` options (``Option``) and
``--switches``.  The synopsis, the argument checks, ``help`` and completion are all made
from that one declaration, so they cannot disagree.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .parse import ParseError, Words

if TYPE_CHECKING:
    from .result import Result
    from .session import Session

Handler = Callable[["Session", Words], "Result"]


class Subject(enum.StrEnum):
    """The headings of `help`, in the order it lists them."""

    MACHINE = "Machine"
    KMAP_PFN = "kmap_pfn (2015) and RCU"
    ZONE_DEVICE = "ZONE_DEVICE (what was merged)"
    VIEWS = "Views"
    ENCODINGS = "Encodings"
    SESSION = "Session"


class Kind(enum.StrEnum):
    """What a word or an option value is, which is also what completes it."""

    NUMBER = "number"
    NAME = "name"
    """a new name"""
    ARCH = "arch"
    FLAG = "flag"
    RANGE = "range"
    """a registered range"""
    MAPPING = "mapping"
    """an open mapping's address"""
    ADDR = "addr"
    COMMAND = "command"
    SETTING = "setting"
    RADIX = "radix"
    SIZE_AT = "sizeat"
    WORD = "word"


@dataclass(frozen=True)
class Param:
    """A positional word: ``NAME`` in the synopsis."""

    name: str
    kind: Kind
    optional: bool = False
    variadic: bool = False

    def synopsis(self) -> str:
        text = self.name + ("..." if self.variadic else "")
        return f"[{text}]" if self.optional else text


@dataclass(frozen=True)
class Option:
    """A ``key=value`` option; ``meta`` names its value in the synopsis."""

    key: str
    kind: Kind
    choices: tuple[str, ...] = ()
    repeat: bool = False
    meta: str = ""

    def synopsis(self) -> str:
        value = "|".join(self.choices) if self.choices else (self.meta or self.kind.upper())
        return f"[{self.key}={value}{' ...' if self.repeat else ''}]"


@dataclass(frozen=True)
class Command:
    """One verb: what `help` shows, what the checks accept, and the handler that runs it."""

    name: str
    subject: Subject
    summary: str
    description: str
    examples: tuple[str, ...]
    run: Handler
    params: tuple[Param, ...] = ()
    options: tuple[Option, ...] = ()
    switches: tuple[str, ...] = ()
    """The ``--name`` words it takes (``save --force``)."""
    mutates: bool = False
    raw_text: bool = False
    """The command reads pasted text itself (no word or option checks)."""
    forms: tuple[str, ...] = ()
    """Other ways to call it, each a whole synopsis (``machine from-log FILE``)."""
    words: str = ""
    """Replaces the generated words of the first form where they say more (flag names)."""

    @property
    def category(self) -> str:
        return str(self.subject)

    @property
    def synopsis(self) -> str:
        first = self.words or " ".join(
            [f"[--{s}]" for s in self.switches] + [p.synopsis() for p in self.params]
            + [o.synopsis() for o in self.options])
        return " | ".join([f"{self.name} {first}".rstrip(), *self.forms])


COMMANDS: dict[str, Command] = {}
"""Every verb by name, in the order `help` lists them within a subject."""
ALIASES = {"whatis": "identify", "?": "help", "map": "kmap", "unmap": "kunmap"}


def command(name: str, subject: Subject, summary: str, *, help: str, examples: tuple[str, ...],
            params: tuple[Param, ...] = (), options: tuple[Option, ...] = (),
            switches: tuple[str, ...] = (), mutates: bool = False, raw_text: bool = False,
            forms: tuple[str, ...] = (), words: str = "") -> Callable[[Handler], Handler]:
    """Declare the verb ``name`` with the handler below it."""

    def declare(run: Handler) -> Handler:
        if name in COMMANDS:
            raise ValueError(f"command {name!r} declared twice")
        COMMANDS[name] = Command(name, subject, summary, help, examples, run, params, options,
                                 switches, mutates, raw_text, forms, words)
        return run

    return declare


def find(verb: str) -> Command | None:
    """The command a typed verb names (case-insensitive, aliases included)."""
    verb = verb.lower()
    return COMMANDS.get(verb) or COMMANDS.get(ALIASES.get(verb, ""))


def order_by_subject() -> None:
    """Put COMMANDS in `help`'s order: by subject, then as declared."""
    order = list(Subject)
    ranked = sorted(COMMANDS.values(), key=lambda c: order.index(c.subject))
    COMMANDS.clear()
    COMMANDS.update((c.name, c) for c in ranked)


def by_subject() -> dict[Subject, list[Command]]:
    out: dict[Subject, list[Command]] = {s: [] for s in Subject}
    for c in COMMANDS.values():
        out[c.subject].append(c)
    return {s: cs for s, cs in out.items() if cs}


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
    """The value of option ``key``, or None when it was not given."""
    values = w.options.get(key)
    return values[0] if values else None
