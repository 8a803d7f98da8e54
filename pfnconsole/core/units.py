"""How the console writes numbers: addresses in hex, sizes in binary units.

One place for every front end and the decoder, so a size reads the same everywhere it is
printed.  ``size_text`` is the short form of tables (``4G``); ``human_size`` the long form of
sentences (``4 GiB``); ``size_at`` a range as ``16K@0xfeffc000``.
"""

from __future__ import annotations

_SHORT = (("E", 60), ("P", 50), ("T", 40), ("G", 30), ("M", 20), ("K", 10))
_LONG = ((60, "EiB"), (50, "PiB"), (40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB"))
_UNITS = {10: "KiB", 20: "MiB", 30: "GiB", 40: "TiB", 50: "PiB"}


def hx(value: int | None) -> str:
    """0x-prefixed lower-case hex, the way the kernel's ``%#lx`` prints; NULL for None."""
    return "NULL" if value is None else f"{value:#x}"


def size_text(n: int) -> str:
    """4G for exact sizes, ~16.0G for others (RAM around the EBDA is not page-exact)."""
    for unit, shift in _SHORT:
        if n >= 1 << shift:
            if n % (1 << shift) == 0:
                return f"{n >> shift}{unit}"
            return f"~{n / (1 << shift):.1f}{unit}"
    return f"{n}B"


def place_text(addr: int) -> str:
    """An address at a glance, never rounded: ``1M``, ``4G`` when it is a whole unit
    (fewer than 1024 of it), else exact hex (``0xfeffc000``)."""
    for unit, shift in _SHORT:
        if addr >= 1 << shift and addr % (1 << shift) == 0 and addr >> shift < 1024:
            return f"{addr >> shift}{unit}"
    return "0" if addr == 0 else hx(addr)


def size_at(size: int, start: int) -> str:
    """A range as SIZE@START (``16K@0xfeffc000``, ``13G@4G``): the start is exact."""
    return f"{size_text(size)}@{place_text(start)}"


def human_size(nbytes: int) -> str:
    """Bytes in the largest binary unit that fits: "4 GiB", "636 KiB", "~4.7 GiB"."""
    if nbytes < 1024:
        return f"{nbytes} bytes"
    for shift, unit in _LONG:
        if nbytes >= 1 << shift:
            if nbytes % (1 << shift) == 0:
                return f"{nbytes >> shift} {unit}"
            if shift > 10 and nbytes % (1 << (shift - 10)) == 0 and nbytes >> (shift - 10) < 10240:
                return f"{nbytes >> (shift - 10)} {_UNITS[shift - 10]}"
            return f"~{nbytes / (1 << shift):.1f} {unit}"
    return f"{nbytes} bytes"  # pragma: no cover


def ns_text(ns: int) -> str:
    """Modelled nanoseconds: ``85 ns``, or microseconds from 10 us up."""
    return f"{ns} ns" if ns < 10_000 else f"{ns / 1000:.1f} us"
