"""Lesson Markdown as a terminal shows it: code without its backticks.

``spans`` cuts the text into prose and code (``code spans`` and fenced blocks, whose fence
lines are dropped and whose lines are indented); a front end styles the code its own way,
``plain`` just drops the backticks.  ``fill`` refills the prose to a terminal's width.
"""

from __future__ import annotations

import re

CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)((?:(?!\n[ \t]*\n).)+?)(?<!`)\1(?!`)", re.DOTALL)
"""A CommonMark code span: a run of backticks, the code (within one paragraph), a run of
the same length."""
FENCE = "```"


def spans(text: str) -> list[tuple[bool, str]]:
    """``text`` as (is_code, piece) in order; the pieces joined are ``text`` without its
    backticks and fence lines."""
    out: list[tuple[bool, str]] = []
    prose: list[str] = []
    fenced = False
    for line in text.split("\n"):
        if line.lstrip().startswith(FENCE):
            if not fenced:
                out += _prose("\n".join(prose) + "\n") if prose else []
                prose = []
            fenced = not fenced
        elif fenced:
            out.append((True, f"    {line}\n"))
        else:
            prose.append(line)
    out += _prose("\n".join(prose)) if prose else []
    if out and not text.endswith("\n") and out[-1][1].endswith("\n"):
        out[-1] = (out[-1][0], out[-1][1][:-1])
    return out


def _prose(text: str) -> list[tuple[bool, str]]:
    out: list[tuple[bool, str]] = []
    at = 0
    for m in CODE_SPAN.finditer(text):
        code = m.group(2)
        if code.startswith(" ") and code.endswith(" ") and code.strip():
            code = code[1:-1]
        out += [(False, text[at:m.start()]), (True, code)]
        at = m.end()
    out.append((False, text[at:]))
    return [(is_code, piece) for is_code, piece in out if piece]


LIST_ITEM = re.compile(r"([-*+]|\d{1,3}[.)]) +")


def fill(text: str, width: int) -> str:
    """``text`` with its prose paragraphs (and list items) refilled so that every line
    fits in ``width`` columns once its backticks are dropped; headings, indented and
    fenced lines are kept as they are."""
    out: list[str] = []
    para: list[str] = []
    fenced = False

    def flush() -> None:
        if not para:
            return
        item = LIST_ITEM.match(para[0])
        indent = " " * (item.end() if item else 0)
        line, used = "", 0
        for word in " ".join(para).split():
            size = len(word.replace("`", ""))
            if line and used + 1 + size > width:
                out.append(line)
                line, used = indent + word, len(indent) + size
            else:
                line, used = (f"{line} {word}", used + 1 + size) if line else (word, size)
        out.append(line)
        para.clear()

    for line in text.split("\n"):
        continued = bool(para) and LIST_ITEM.match(para[0]) is not None  # an item's next line
        hard = fenced or not line.strip() or line.startswith(("#", "|", ">")) \
            or (line.startswith((" ", "\t")) and not continued)
        if line.lstrip().startswith(FENCE):
            fenced, hard = not fenced, True
        if hard or LIST_ITEM.match(line):
            flush()
        if hard:
            out.append(line)
        else:
            para.append(line)
    flush()
    return "\n".join(out)


def plain(text: str) -> str:
    """``text`` without the backticks of its code spans and its fence lines."""
    return "".join(piece for _, piece in spans(text))
