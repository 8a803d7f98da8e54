"""pfn decoder: a value, an ABI, and a 64-bit ruler naming every field and flag."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Select, Static

ABI_CHOICES = [
    ("__pfn_t 2015", "v5"),
    ("pfn_t v4.5", "pfn_t:4.5"),
    ("pfn_t v4.16", "pfn_t:4.16"),
    ("pfn_t v6.16", "pfn_t:6.16"),
    ("sg page_link", "sg"),
]
FIELD_STYLES = ("$accent", "$warning", "$success", "$error", "$primary", "$secondary")


RULER_WIDTH = 64
"""Columns the full ruler needs; a narrower pane gets the compact one."""


def _label(name: str) -> str:
    return name.replace("PFN_", "").replace("SG_", "")


def ruler(value: int, fields: list[dict[str, Any]], width: int = RULER_WIDTH) -> list[Content]:
    """Three lines: bit numbers, the bits coloured by field, field labels; all 64 bits
    when ``width`` allows, else one column per field (its value, headed by its top bit)."""
    if width < RULER_WIDTH:
        return compact_ruler(value, fields)
    owner = {}
    for i, f in enumerate(fields):
        for b in range(f["lo"], f["hi"] + 1):
            owner[b] = i
    bits = []
    for b in range(63, -1, -1):
        i = owner.get(b, -1)
        style = FIELD_STYLES[i % len(FIELD_STYLES)] if i >= 0 else "dim"
        if fields and i >= 0 and fields[i]["name"].startswith("("):
            style = "dim"
        bits.append((str(value >> b & 1), style))
    labels = [" "] * 64
    for f in fields:
        width = f["hi"] - f["lo"] + 1
        name = _label(f["name"])
        if name.startswith("("):
            continue
        text = name if len(name) <= width else name[:width]
        col = 63 - f["hi"]
        for k, ch in enumerate(text):
            labels[col + k] = ch
    return [Content.styled("63" + " " * 60 + " 0", "dim"), Content.assemble(*bits),
            Content("".join(labels).rstrip())]


def compact_ruler(value: int, fields: list[dict[str, Any]]) -> list[Content]:
    """The ruler in one column per field: a flag's bit, a wider field's value in hex
    (a pointer as the address it holds), unnamed bits dim."""
    tops: list[str] = []
    cells: list[tuple[str, str]] = []
    names: list[str] = []
    for i, f in enumerate(fields):
        mask = (1 << (f["hi"] - f["lo"] + 1)) - 1
        v = value >> f["lo"] & mask
        unnamed = f["name"].startswith("(")
        if f["hi"] == f["lo"] or (unnamed and not v):
            text = str(v)
        else:
            text = f"{v << f['lo'] if f['name'].endswith('*') else v:#x}"
        name = "" if unnamed else _label(f["name"])
        w = max(len(text), len(name), len(str(f["hi"])))
        tops.append(f"{f['hi']:<{w}}")
        cells.append((f"{text:<{w}}", "dim" if unnamed else FIELD_STYLES[i % len(FIELD_STYLES)]))
        names.append(f"{name:<{w}}")
    return [Content.styled(" ".join(tops).rstrip(), "dim"),
            Content(" ").join(Content.styled(t, st) for t, st in cells),
            Content(" ".join(names).rstrip())]


class DecoderPane(VerticalScroll):
    """Shows `decode` results; asks the app to decode with Request messages."""

    HELP = """\
# pfn decoder

Type or paste a value (hex with `0x`, decimal, or a size like `4G`) and pick the
ABI; selecting a pfn elsewhere, or a `kmap`, fills it in too.

* **__pfn_t v5 (2015)**: `pfn << PAGE_SHIFT | flags`, flags in the low bits:
  `PFN_SG_CHAIN` (0), `PFN_SG_LAST` (1), `PFN_DEV` (2), and the RFC's `PFN_MAP` (3).
* **pfn_t v4.5 … v6.16**: the merged type. The pfn sits unshifted in the low bits
  and the flags in the top 12: `SG_CHAIN` 63, `SG_LAST` 62, `DEV` 61, `MAP` 60,
  `SPECIAL` 59 (from v4.16). Removed in v6.17.
* **sg page_link**: a `struct page *` with `SG_CHAIN` (bit 0) and `SG_END` (bit 1).

Under the ruler: what `has_page`, `to_page` and `to_phys` would return here.
A pane narrower than 64 columns shows the ruler one column per field, each headed
by its top bit.
"""

    class Request(Message):
        def __init__(self, pane: DecoderPane, text: str, abi: str) -> None:
            super().__init__()
            self.pane = pane
            self.text = text
            self.abi = abi

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.border_title = "pfn decoder"
        self.shown: tuple[bool, dict[str, Any], str | None] | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="decoder-controls"):
            yield Input(placeholder="value, e.g. 0x100600004", id="decoder-value")
            yield Select(ABI_CHOICES, value="v5", allow_blank=False, id="decoder-abi")
        yield Static(id="decoder-body")

    def set_value(self, value: int, abi: str | None = None) -> None:
        self.query_one("#decoder-value", Input).value = f"{value:#x}"
        if abi is not None:
            self.query_one("#decoder-abi", Select).value = abi
        self._request()

    @on(Input.Submitted, "#decoder-value")
    @on(Input.Changed, "#decoder-value")
    def _typed(self, event: Input.Submitted | Input.Changed) -> None:
        event.stop()
        self._request()

    @on(Select.Changed, "#decoder-abi")
    def _abi(self, event: Select.Changed) -> None:
        event.stop()
        self._request()

    def _request(self) -> None:
        text = self.query_one("#decoder-value", Input).value.strip()
        if text:
            self.post_message(self.Request(self, text, str(self.query_one("#decoder-abi",
                                                                           Select).value)))

    def on_resize(self) -> None:
        if self.shown is not None:
            self.show(*self.shown)  # the ruler fits the new width

    def show(self, ok: bool, data: dict[str, Any], error: str | None) -> None:
        self.shown = (ok, data, error)
        body = self.query_one("#decoder-body", Static)
        if not ok:
            body.update(Content.styled(f"✗ {error}", "$error"))
            return
        lines = ruler(data["value"], data["fields"], self.scrollable_content_region.width)
        flags = "|".join(data["flags"]) or "none"
        pfn = data["pfn"]
        lines.append(Content.assemble(
            ("pfn ", "bold"), (f"{pfn:#x}" if pfn is not None else "—", "$accent"),
            ("  flags ", "bold"), (flags, "$warning")))
        to_page = data.get("to_page")
        if data["has_page"] and to_page:
            lines.append(Content.assemble(("struct page ", "bold"), f"{to_page:#x}",
                                          (" (to_page)", "dim")))
        elif data["has_page"]:
            lines.append(Content.assemble(("has a struct page", "bold"),
                                          (" (has_page); to_page gives NULL here", "dim")))
        else:
            lines.append(Content.assemble(("no struct page", "bold $warning"),
                                          (": has_page fails, to_page is NULL", "dim")))
        phys = data.get("phys")
        lines.append(Content.assemble(("phys ", "bold"), f"{phys:#x}" if phys is not None else "—",
                                      (" (to_phys)", "dim")))
        if data.get("devmap"):
            lines.append(Content.styled("devmap: ZONE_DEVICE pages (PFN_DEV|PFN_MAP)", "dim"))
        body.update(Content("\n").join(lines))
