"""The values the decoder hands out: one `Finding` per fact, one `Calibration` per log.

Both are frozen dataclasses of plain ints and strings so that front ends can render
them, compare them in tests, or dump them as JSON without knowing the decoder.
"""

from __future__ import annotations

from dataclasses import dataclass

LIMIT_LINE = 8192
"""Physical lines longer than this many characters are cut before matching.

The cut keeps every regular expression's work bounded, whatever is pasted in;
a joined (mail-wrapped) logical line never grows past it either.
"""


@dataclass(frozen=True)
class Finding:
    """One fact read from the log, located at the input line where it starts.

    Addresses are plain ints.  ``start``/``end`` are an inclusive physical byte range
    unless ``note`` says otherwise (a pmem capacity is a device-offset range).
    """

    line: int
    """1-based number of the input line the fact starts on (the first of a joined pair)."""
    kind: str
    """What sort of record this came from: "dump_page", "e820", "pte", ..."""
    pfn: int | None = None
    """The page frame number the fact is about, when it names one page."""
    phys: int | None = None
    """Physical address: the page base (pfn << PAGE_SHIFT) or an exact byte address."""
    page: int | None = None
    """Address of the struct page, when the log printed a real (unhashed) pointer."""
    virt: int | None = None
    """A kernel or user virtual address that goes with the fact."""
    start: int | None = None
    end: int | None = None
    type: str | None = None
    """Label: e820 type, zone name, dump reason, memory-failure result, event name ..."""
    flags: tuple[str, ...] = ()
    """Flag names: page flags ("head",), pfn_t flags ("DEV", "MAP"), PTE or resource bits."""
    note: str = ""
    """Short human text; every derived number says here how it was derived."""

    def to_json(self) -> dict:
        """``{"line", "kind"}`` plus every field that is set; ints stay ints."""
        out: dict = {"line": self.line, "kind": self.kind}
        for name in ("pfn", "phys", "page", "virt", "start", "end", "type"):
            value = getattr(self, name)
            if value is not None and value != "":
                out[name] = value
        if self.flags:
            out["flags"] = list(self.flags)
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Calibration:
    """The address-layout numbers the decoder uses, and where they came from.

    Pass 1 (`calibrate`) fills this from (pointer, pfn) and (address, pfn) pairs found
    in the log; whatever it cannot infer keeps the architecture profile's value.
    """

    vmemmap_base: int | None
    """pfn_to_page(0): the struct page of pfn 0 (None: no virtual memmap, e.g. 32-bit)."""
    struct_page_size: int | None
    """sizeof(struct page) in bytes."""
    page_offset: int | None
    """__va(0): base of the direct (linear) map."""
    page_shift: int | None
    """log2(PAGE_SIZE)."""
    sources: tuple[str, ...] = ()
    """One human sentence per inference: what was inferred, from which lines."""
    source_lines: tuple[int, ...] = ()
    """For each entry of ``sources``: the line where that inference was completed."""


def hx(value: int) -> str:
    """0x-prefixed lower-case hex, the way the kernel's %#lx prints."""
    return f"{value:#x}"


def human_size(nbytes: int) -> str:
    """Bytes in the largest binary unit that fits: "4 GiB", "636 KiB", "~4.7 GiB"."""
    if nbytes < 1024:
        return f"{nbytes} bytes"
    for shift, unit in ((60, "EiB"), (50, "PiB"), (40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")):
        if nbytes >= 1 << shift:
            if nbytes % (1 << shift) == 0:
                return f"{nbytes >> shift} {unit}"
            if shift > 10 and nbytes % (1 << (shift - 10)) == 0 and nbytes >> (shift - 10) < 10240:
                return f"{nbytes >> (shift - 10)} {_UNITS[shift - 10]}"
            return f"~{nbytes / (1 << shift):.1f} {unit}"
    return f"{nbytes} bytes"  # pragma: no cover


_UNITS = {10: "KiB", 20: "MiB", 30: "GiB", 40: "TiB", 50: "PiB"}
