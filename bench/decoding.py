"""Figure 4: the decoder against a bare regex scan of the same generated log."""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Iterable

from . import logs
from .common import Json, MiB, run_child

MIXED = 0.01
"""Share of incident lines in the everyday log: about one line in a hundred."""
DENSE = 1.0
"""The dense log: incidents back to back (about half its lines, the rest their call traces)."""

BARE = re.compile(r"pfn[:= ]\s*(?:0x)?([0-9a-f]+)")


def anchors() -> list[str]:
    """Every literal the decoder's formats look for (and ``pfn``); empty when this version
    of the decoder does not publish its list (the figure is then left out)."""
    try:
        from pfnconsole.decode.formats import LITERALS
    except ImportError:
        return []
    return sorted(set(LITERALS) | {"pfn"})


def search_backend() -> str:
    """``hyperscan`` or ``re``: what the decoder searches with in this environment."""
    try:
        from pfnconsole.decode.skim import backend
    except ImportError:
        return "unknown"
    return str(backend())


def literal_alternation(literals: Iterable[str]) -> re.Pattern[str]:
    """One regex of all ``literals`` grouped by first character, as a grep for "anything
    the decoder might care about" would be written (Python's ``re`` tries alternatives
    one by one; grouping lets most positions fail after one comparison)."""
    groups: dict[str, list[str]] = {}
    for lit in sorted(set(literals), key=lambda s: (-len(s), s)):
        groups.setdefault(lit[0], []).append(lit[1:])
    parts = []
    for first, tails in groups.items():
        alts = "|".join(re.escape(t) for t in tails)
        parts.append(re.escape(first) + (f"(?:{alts})" if any(tails) else ""))
    return re.compile("|".join(parts))


def bare_scan(path: str, runs: int = 3, pattern: re.Pattern[str] = BARE) -> tuple[int, float]:
    """The yardstick: one regex over every line, in this process (the best of ``runs``)."""
    best = float("inf")
    search = pattern.search
    n = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        n = 0
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if search(line):
                    n += 1
        best = min(best, time.perf_counter() - t0)
    return n, best


def decoder(size: int) -> Json:
    """Figure 4: decoder MB/s against a bare regex scan of the same file.

    An everyday log (incidents on about 1% of the lines) at two sizes, for the ratio and
    for peak RSS against input size; and a dense one (nothing but incidents), the worst
    case for a decoder that reads every line that holds an anchor.
    """
    rounds = 1 if size <= 16 * MiB else 3
    literals = anchors()
    anchors_re = literal_alternation(literals) if literals else None
    with tempfile.TemporaryDirectory() as d:
        out: Json = {}
        for label, nbytes, density in (("small", max(size // 8, 1 * MiB), MIXED),
                                       ("large", size, MIXED),
                                       ("dense", max(size // 8, 1 * MiB), DENSE)):
            path = os.path.join(d, f"{label}.log")
            real, lines, incident = logs.generate(path, nbytes, density)
            # decoder and yardstick take turns, so a slow spell of the machine (runs on
            # this one vary by a third) falls on both; the best round of each counts
            child: Json | None = None
            bare_s = float("inf")
            for _ in range(rounds):
                got = run_child("decode", path, "1")
                if child is None or got["decode_s"] < child["decode_s"]:
                    child = got
                bare_s = min(bare_s, bare_scan(path, 1)[1])
            assert child is not None
            # the same decoder with Python's re doing the searching (no Hyperscan)
            pure = run_child("decode", path, "1", env={"PFNCONSOLE_SCAN": "re"}) \
                if label == "large" else None
            mb = real / MiB
            fig: Json = {"mb": round(mb, 1), "lines": lines,
                         "incident_line_pct": round(100 * incident / lines, 1),
                         "findings": child["findings"],
                         "decoder_mb_per_s": round(mb / child["decode_s"], 2),
                         "calibrate_share_pct": round(100 * child["calibrate_s"] / child["decode_s"], 1),
                         "bare_regex_mb_per_s": round(mb / bare_s, 2),
                         "ratio_vs_bare": round(child["decode_s"] / bare_s, 2),
                         "peak_rss_mb": round(child["peak_rss_mb"], 1)}
            if anchors_re is not None:
                _, anchors_s = bare_scan(path, 1, anchors_re)
                fig["anchors_regex_mb_per_s"] = round(mb / anchors_s, 2)
                fig["ratio_vs_anchors_regex"] = round(child["decode_s"] / anchors_s, 2)
            if pure is not None:
                if pure["findings"] != child["findings"]:
                    raise RuntimeError(f"the two searches found {pure['findings']} and "
                                       f"{child['findings']} findings in {path}")
                fig["re_only_mb_per_s"] = round(mb / pure["decode_s"], 2)
                fig["re_only_ratio_vs_bare"] = round(pure["decode_s"] / bare_s, 2)
            out[label] = fig
            os.unlink(path)
        out["rss_growth_mb"] = round(out["large"]["peak_rss_mb"] - out["small"]["peak_rss_mb"], 1)
        out["search"] = search_backend()
        out["anchors"] = len(literals)
        return out


def decoder_huge(size: int) -> Json:
    """Figure 4, once more by hand: one everyday log of ``size`` bytes (memory stays flat)."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "huge.log")
        real, lines, _ = logs.generate(path, size, MIXED)
        child = run_child("decode", path, "1")
        mb = real / MiB
        return {"mb": round(mb, 1), "lines": lines, "findings": child["findings"],
                "decoder_mb_per_s": round(mb / child["decode_s"], 2),
                "decode_s": round(child["decode_s"], 1), "peak_rss_mb": round(child["peak_rss_mb"], 1)}
