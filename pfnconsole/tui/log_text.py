"""The console's log: highlighted lines, and the RichLog that holds and searches them.

RichLog renders through Rich, which does not resolve Textual's ``$variables``; so the
Pygments tokens are mapped to the theme's concrete colours when each line is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pygments.lexer import Lexer
from pygments.token import Comment, Error, Generic, Keyword, Name, Number, Operator, String, Token, is_token_subtype
from rich.style import Style
from rich.text import Text
from textual.events import Resize
from textual.strip import Strip
from textual.widgets import RichLog

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


class ConsoleLog(RichLog):
    """The log: says on its lower border how to see what is out of view, and finds text.

    ``find`` walks older (or newer) from the last match, one log line at a time, and
    highlights the match it lands on.
    """

    MATCH = Style(reverse=True, bold=True)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.answer_at = 0
        """Line number (counted from the first line ever written) of the last answer."""
        self.match: tuple[int, int, int] | None = None
        """(line number, start, end) of the highlighted match."""
        self.searched = ""
        self.status = ""
        """What the search said last; shown instead of the scroll hint while set."""

    def _first(self) -> int:
        """Line number of ``lines[0]`` (older lines fall off past ``max_lines``)."""
        return self._start_line

    def add(self, text: Text) -> None:
        """Write one entry; a ``pfn>`` line starts a new answer."""
        if text.plain.startswith("pfn> "):
            self.answer_at = self._first() + len(self.lines)
        self.write(text)
        if self.auto_scroll:  # the view goes to the newest line once laid out
            self.show_hint(max(0, len(self.lines) - self._rows()))

    # --- where the reader is ---------------------------------------------------------
    def _rows(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def hint(self, top: int | None = None) -> str:
        """One line on what is out of view from row ``top`` (default: where the view is):
        the rest of the last answer when at the newest line, else how to get back there."""
        total, rows = len(self.lines), self._rows()
        top = round(self.scroll_y) if top is None else top
        if total <= rows:
            return ""
        if top + rows < total:
            return (f"lines {top + 1}–{top + rows} of {total} · "
                    "PageDown, Ctrl+End for the newest")
        above = top - (self.answer_at - self._first())
        return f"… PageUp for the {above} lines above" if above > 0 else ""

    def show_hint(self, top: int | None = None) -> None:
        self.border_subtitle = self.status or self.hint(top)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.show_hint()

    def on_resize(self, event: Resize) -> None:
        super().on_resize(event)
        self.show_hint()

    # --- search ----------------------------------------------------------------------
    def find(self, query: str, older: bool = True) -> bool:
        """Highlight the next line older (or newer) than the last match holding ``query``
        (any case) and scroll to it; False, with a word on the border, when there is none."""
        needle = query.casefold()
        if not needle:
            self.status = "search: type some text first"
            self.show_hint()
            return False
        first, total = self._first(), len(self.lines)
        if query != self.searched or self.match is None:
            at = total if older else -1  # a new search starts from the newest line
        else:
            at = self.match[0] - first
        self.searched = query
        step = -1 if older else 1
        i = at + step
        while 0 <= i < total:
            start = self.lines[i].text.casefold().find(needle)
            if start >= 0:
                self.match = (first + i, start, start + len(needle))
                self.status = (f"search {query!r}: line {i + 1} of {total} · Enter older, "
                               "Down newer, Escape ends")
                self.scroll_to(y=max(0, i - self._rows() // 2), animate=False)
                self.refresh()
                self.show_hint()
                return True
            i += step
        self.match = None
        self.status = (f"search {query!r}: no {'older' if older else 'newer'} line holds it"
                       " · Enter searches again from the newest")
        self.refresh()
        self.show_hint()
        return False

    def end_search(self) -> None:
        """Drop the highlight and the search's word on the border."""
        self.match, self.searched, self.status = None, "", ""
        self.refresh()
        self.show_hint()

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        if self.match is None:
            return strip
        line, start, end = self.match
        scroll_x, scroll_y = self.scroll_offset
        if line - self._first() != scroll_y + y:
            return strip
        a, b = max(0, start - scroll_x), max(0, end - scroll_x)
        if b <= a:
            return strip
        return Strip.join([strip.crop(0, a), strip.crop(a, b).apply_style(self.MATCH),
                           strip.crop(b, strip.cell_length)])


__all__ = ["ConsoleLog", "Token", "render"]
