"""Pygments lexers: the command language (``pfnconsole``) and the console's output.

Registered under the ``pygments.lexers`` entry point, so after install
``pygmentize -l pfnconsole`` and Textual's ``highlight(language="pfnconsole")`` find them.
Both lexers tokenise any text without Error tokens: unknown words are plain Text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, ClassVar

from pygments.lexer import RegexLexer, default, words
from pygments.lexer import bygroups as _untyped_bygroups
from pygments.token import Comment, Error, Generic, Keyword, Name, Number, Operator, String, Text, Whitespace

from .commands.registry import ALIASES, COMMANDS
from .core.arch import ARCH_NAMES
from .core.encodings import all_flag_spellings

if TYPE_CHECKING:
    from pygments.token import _TokenType

    # what bygroups returns: RegexLexer calls it with each match of the rule
    _GroupsCallback = Callable[[RegexLexer, re.Match[str]], Iterator[tuple[int, _TokenType, str]]]

# types-Pygments leaves bygroups unannotated, and strict mypy refuses a call to that;
# this is its type: one token per group in, the callback out
_bygroups: Callable[..., _GroupsCallback] = _untyped_bygroups

VERBS = tuple(sorted(set(COMMANDS) | set(ALIASES) - {"?"}, key=len, reverse=True))
FLAGS = tuple(sorted(all_flag_spellings(), key=len, reverse=True))
"""Every word a codec takes as a flag, as the codecs define them."""
ARCHES = tuple(sorted(ARCH_NAMES, key=len, reverse=True))

_NUMBER = [
    (r"0[xX][0-9a-fA-F_]+[KMGTP]?(?![\w.])", Number.Hex),
    (r"\d[\d_]*(?:[KMGTPE](?:i?B)?)?(?![\w.])", Number.Integer),
]


class PfnCommandLexer(RegexLexer):
    """The console's command language: ``kmap 0x100600 dev``, ``encode … abi=pfn_t``."""

    name = "pfnconsole"
    aliases = ["pfnconsole", "pfn"]
    filenames = ["*.pfn"]
    mimetypes = ["text/x-pfnconsole"]

    tokens = {
        "root": [
            (r"[ \t]+", Whitespace),
            (r"\n", Whitespace),
            (r"#.*", Comment.Single),
            (r"\?(?=\s|$)", Keyword),
            (words(VERBS, prefix=r"(?i)", suffix=r"(?=\s|$|#)"), Keyword, "args"),
            (r"[^\s#]+", Text, "args"),
        ],
        "args": [
            (r"\n", Whitespace, "#pop"),
            (r"[ \t]+", Whitespace),
            (r"#.*", Comment.Single),
            (r"([A-Za-z_][\w]*)(=)", _bygroups(Name.Attribute, Operator), "value"),
            *_NUMBER,
            (words(FLAGS, prefix=r"(?i)", suffix=r"(?![\w.-])"), Name.Constant),
            (words(ARCHES, suffix=r"(?![\w.-])"), Name.Builtin),
            (r"[A-Za-z_][\w.-]*", Name.Variable),
            (r"[^\s#]+", Text),
        ],
        "value": [
            (r"(\d[\d_]*[KMGTPE]?|0[xX][0-9a-fA-F_]+[KMGTP]?)(@)",
             _bygroups(Number, Operator)),
            *_NUMBER,
            (r"[^\s#]+", String),
            default("#pop"),
        ],
    }


class PfnOutputLexer(RegexLexer):
    """What the console prints: addresses, pfns, flag names, errors and warnings."""

    name = "pfnconsole output"
    aliases = ["pfnconsole-output"]
    filenames: ClassVar[Sequence[str]] = []

    tokens = {
        "root": [
            (r"^error:.*\n?", Error),
            (r"^warning:.*\n?", Generic.Emph),
            (r"^\s*note:.*\n?", Comment),
            (r"(?<![\w])0x[0-9a-f]{9,}(?![\w])", Number.Hex),
            (r"(?<![\w])0x[0-9a-f]+(?![\w])", Number),
            (r"\b(?:PFN|SG)_[A-Z_]+\b", Name.Constant),
            (r"\b(?:DISAGREE|PATHS DISAGREE|use-after-free|unprotected|NULL)\b", Error),
            (r"\b(?:hit|HIT)\b", Keyword),
            (r"\bmiss\b", Comment),
            (r"\b(?:pmem|nvdimm|dax)\w*\b", Name.Variable),
            (r"\b(?:rcu_read_lock|rcu_read_unlock|synchronize_rcu|list_del_rcu|list_add_rcu|"
             r"kfree|kmap_atomic|kunmap_atomic)\(\)?", Name.Function),
            (r"\d+", Number.Integer),
            (r"\s+", Whitespace),
            (r"[\w]+", Text),
            (r".", Text),
        ],
    }
