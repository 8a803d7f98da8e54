"""Highlighted log lines as Rich Text, coloured from the current Textual theme.

RichLog renders through Rich, which does not resolve Textual's ``$variables``; so the
Pygments tokens are mapped to the theme's concrete colours when each line is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pygments.lexer import Lexer
from pygments.token import Comment, Error, Generic, Keyword, Name, Number, Operator, String, Token, is_token_subtype
from rich.style import Style
from rich.text import Text

if TYPE_CHECKING:
    from pygments.token import _TokenType

# token type -> (css variable, extra rich style)
_MAP = (
    (Error, "error", "bold"),
    (Generic.Emph, "warning", "italic"),
    (Comment, "text-muted", ""),
    (Keyword, "primary", "bold"),
    (Name.Function, "warning", "underline"),
    (Name.Constant, "accent", "bold"),
    (Name.Variable, "success", "bold"),
    (Name.Attribute, "success", ""),
    (Name.Builtin, "accent", ""),
    (Number, "warning", ""),
    (String, "success", ""),
    (Operator, "text-muted", ""),
)


def _colour(variables: dict[str, str], name: str) -> str | None:
    value = variables.get(name) or variables.get("foreground")
    if not value or value.startswith("$") or " " in value:
        return variables.get("foreground")
    return value


def render(text: str, lexer: Lexer, variables: dict[str, str]) -> Text:
    """``text`` highlighted by ``lexer`` with colours from ``App.get_css_variables()``."""
    base = Style(color=_colour(variables, "foreground"))
    styles: dict[_TokenType, Style] = {}
    out = Text(style=base)
    for ttype, value in lexer.get_tokens(text):
        style = styles.get(ttype)
        if style is None:
            style = base
            for t, var, extra in _MAP:
                # `ttype in t`, which mypy's strict equality misreads as a test on a tuple of str
                if is_token_subtype(ttype, t):
                    style = Style.parse(extra) if extra else Style()
                    style += Style(color=_colour(variables, var))
                    break
            styles[ttype] = style
        out.append(value, style)
    out.rstrip()
    return out


__all__ = ["Token", "render"]
