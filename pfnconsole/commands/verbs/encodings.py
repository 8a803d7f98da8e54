"""Verbs on pfn encodings: encode and decode (a value, or pasted log text)."""

from __future__ import annotations

from typing import Any

from ...core.encodings import (
    ABIS,
    DECODE_ABIS,
    PAGE_FLAGS_ABIS,
    Decoded,
    PageFlags,
    PageLink,
    decode_page_flags,
    is_dma_flag_word,
)
from ...core.page_flags import exported_mismatches
from ...core.page_flags_decode import FIELD_MEANING
from ..parse import ParseError, Words, parse_number
from ..registry import COMMANDS, Kind, Option, Param, Subject, check_words, command, opt
from ..render import ok, to_data
from ..result import Result
from ..session import Session
from .kmap_pfn import pfn_and_flags
from .logs import run_decode_log

ABI_OPTIONS = (Option("abi", Kind.WORD, ABIS), Option("kver", Kind.WORD, meta="X.Y"))
#: page->flags configuration options (abi=page_flags only).
PAGE_FLAGS_OPTIONS = (
    Option("arch", Kind.WORD, ("x86_64", "arm64")), Option("nodes_shift", Kind.NUMBER, meta="0..10"),
    Option("nr_cpus", Kind.NUMBER, meta="N"), Option("zone_device", Kind.WORD, ("y", "n")),
    Option("memmodel", Kind.WORD, ("vmemmap", "sparse")),
    Option("numa_balancing", Kind.WORD, ("y", "n")), Option("kasan", Kind.WORD, ("none", "sw", "hw")),
    Option("lru_gen", Kind.WORD, ("y", "n")))
DECODE_OPTIONS = (Option("abi", Kind.WORD, DECODE_ABIS), Option("kver", Kind.WORD, meta="X.Y"),
                  Option("dma_flags", Kind.NUMBER, meta="N"), *PAGE_FLAGS_OPTIONS)
PAGE_FLAGS_KEYS = frozenset(o.key for o in PAGE_FLAGS_OPTIONS)


def dma_lines(s: Session, kver: str | None, value: int, data: dict[str, Any]) -> list[str]:
    """sg->dma_flags (unsigned int, v6.2+) shown as its own field, never as page_link bits."""
    names, f = (PageLink(kver=kver) if kver else PageLink()).decode_dma_flags(value)
    data["dma_flags"] = value
    data["dma_flag_names"] = list(names)
    return [f"  field  {f.name:<33} {s.num(f.value):<10} {f.meaning}"]


def decoded_data(s: Session, d: Decoded) -> dict[str, Any]:
    """The decoded value plus what the kernel helpers would return on this machine."""
    data = to_data(d, "pfn", "flags", "has_page", "devmap", "special", "phys", "notes")
    data["to_page"] = (s.machine.state.sparse.pfn_to_page(d.pfn)
                       if d.has_page and d.pfn is not None else None)
    data["fields"] = [to_data(f, "name", "hi", "lo", "value", "meaning") for f in d.fields]
    return data


def field_lines(s: Session, d: Decoded) -> list[str]:
    out = []
    for f in d.fields:
        bits = f"{f.hi}" if f.hi == f.lo else f"{f.hi}..{f.lo}"
        out.append(f"  bits {bits:>6}  {f.name:<26} {s.num(f.value):<10} {f.meaning}")
    return out + [f"  note: {n}" for n in d.notes]


@command(
    "encode", Subject.ENCODINGS, "build a pfn value in one of the encodings",
    help="v5: the 2015 __pfn_t (flags in the low PAGE_SHIFT bits); v5rfc adds the same\n"
    "night's RFC PFN_MAP (bit 3). pfn_t: the merged type,\n"
    "flags in the top bits (v4.5 .. v6.16; SPECIAL from v4.16). sg: scatterlist\n"
    "page_link, a struct page pointer with SG_CHAIN/SG_END in bits 0-1; from v6.2 the\n"
    "flags dma_bus (and swiotlb, taken to start in v6.5) go in sg->dma_flags, its own field.",
    examples=("encode 0x100600 dev abi=v5", "encode 0x100600 dev map abi=pfn_t kver=4.16",
              "encode 0x100600 end abi=sg", "encode 0x100600 end dma_bus abi=sg kver=6.2"),
    params=(Param("PFN", Kind.NUMBER), Param("FLAG", Kind.FLAG, optional=True, variadic=True)),
    options=ABI_OPTIONS)
def run_encode(s: Session, w: Words) -> Result:
    pfn, flags = pfn_and_flags(w, "encode")
    abi = (opt(w, "abi") or "v5").lower()
    kver = opt(w, "kver")
    dma = [f for f in flags if abi == "sg" and is_dma_flag_word(f)]
    link = [f for f in flags if f not in dma]
    dma_value = (PageLink(kver=kver) if kver else PageLink()).encode_dma_flags(dma) if dma else None
    value = s.machine.encode(abi, pfn, link, kver)
    d = s.machine.decode(abi, value, kver)
    data = {"value": value, "abi": abi, "kver": kver, **decoded_data(s, d)}
    lines = [f"{s.num(value)}  ({abi}{' v' + kver if kver else ''})", *field_lines(s, d)]
    if dma_value is not None:
        lines += dma_lines(s, kver, dma_value, data)
    return ok("encode", f"encode pfn={s.num(pfn)} flags={'|'.join(d.flags) or '0'} abi={abi}",
              data, lines, {"pfn": pfn, "flags": flags, "abi": abi, "kver": kver})


@command(
    "decode", Subject.ENCODINGS, "take a pfn value apart, or decode pasted kernel log text",
    forms=("decode LOG TEXT…",),
    help="With one number: the pfn, the flags and what they mean, with every bit field of\n"
    "the layout. With anything else: the text is read as kernel log lines (dump_page,\n"
    "Bad page state, Memory failure, fs_dax traces, e820 maps, page faults …) and each\n"
    "fact found is listed with its pfn. `pfnconsole decode FILE` does whole logs.\n"
    "abi=page_flags (or flags) splits a page->flags word into section, node, zone,\n"
    "last_cpupid, KASAN tag and MGLRU fields and names its flag bits, for kver= (v4.14 ..\n"
    "v7.2) and arch=; the other options set the configuration, and every value not given\n"
    "is a distribution kernel's and is listed as assumed.",
    examples=("decode 0x3000000000100600 abi=pfn_t", "decode 0x100600004",
              "decode 0x1fffff80010200 abi=page_flags kver=6.2 zone_device=n",
              "decode BUG: Bad page state in process a.out  pfn:7fe84"),
    params=(Param("VALUE", Kind.NUMBER),), options=DECODE_OPTIONS, raw_text=True)
def run_decode(s: Session, w: Words) -> Result:
    if not is_value_decode(w):
        return run_decode_log(s, w.raw if w.body is None else (f"{w.raw}\n{w.body}" if w.raw else w.body))
    check_words(COMMANDS["decode"], w)
    value = parse_number(w.args[0], "VALUE")
    abi = (opt(w, "abi") or "v5").lower()
    kver = opt(w, "kver")
    if abi in PAGE_FLAGS_ABIS:
        return run_decode_page_flags(s, w, value, kver)
    given = sorted(k for k in w.options if k in PAGE_FLAGS_KEYS)
    if given:
        raise ParseError(f"decode: {given[0]}= describes page->flags; use it with abi=page_flags")
    dma_text = opt(w, "dma_flags")
    if dma_text is not None and abi != "sg":
        raise ParseError("decode: dma_flags= is a scatterlist field; use it with abi=sg")
    dma_value = parse_number(dma_text, "dma_flags") if dma_text is not None else None
    d = s.machine.decode(abi, value, kver)
    data = {"value": value, "abi": abi, "kver": kver, **decoded_data(s, d)}
    lines = [f"pfn {s.num(d.pfn)}  flags {'|'.join(d.flags) or '(none)'}  "
             + ("has a struct page" if d.has_page else "no struct page") + ("  devmap" if d.devmap else "")
             + ("  special" if d.special else ""), *field_lines(s, d)]
    if dma_value is not None:
        lines += dma_lines(s, kver, dma_value, data)
    return ok("decode", f"decode value={s.num(value)} abi={abi}", data, lines,
              {"value": value, "abi": abi, "kver": kver})


def page_flags_data(p: PageFlags) -> dict[str, Any]:
    """The JSON form of a decoded page->flags word."""
    lay = p.layout
    return {"node": p.node, "zone": p.zone, "zone_nr": p.zone_nr, "section": p.section,
            "last_cpupid": p.last_cpupid, "kasan_tag": p.kasan_tag, "lru_gen": p.lru_gen,
            "lru_refs": p.lru_refs, "flags": list(p.flags), "unknown_bits": list(p.unknown_bits),
            "assumed": list(p.assumed), "nr_pageflags": lay.nr_pageflags, "zones": list(lay.zones),
            "printed": p.pgp(), "notes": list(lay.notes),
            "bits": [{"bit": b, "name": n} for b, n in p.bits],
            "fields": [{"name": f.name, "hi": f.hi, "lo": f.lo, "value": f.value} for f in p.fields]}


def page_flags_lines(s: Session, p: PageFlags) -> list[str]:
    c = p.layout.config
    zone = f"{p.zone_nr} ({p.zone or 'beyond the configured zones'})" if p.zone_nr is not None else "-"
    lines = [f"page->flags {c.kver_text} {c.arch}: node {'-' if p.node is None else p.node}"
             f"  zone {zone}  flags {'|'.join(p.flags) or '(none)'}",
             f"  as the kernel prints it: {p.pgp()}"]
    for f in p.fields:
        bits = f"{f.hi}" if f.hi == f.lo else f"{f.hi}..{f.lo}"
        lines.append(f"  bits {bits:>6}  {f.name:<12} {s.num(f.value):<10} {FIELD_MEANING[f.name]}")
    nr = p.layout.nr_pageflags
    lines.append(f"  bits {f'{nr - 1}..0':>6}  {'flags':<12} NR_PAGEFLAGS={nr}: "
                 + (", ".join(f"{b}={n}" for b, n in p.bits) or "none set"))
    if p.unknown_bits:
        lines.append("  unknown bits (neither a flag nor a field here): "
                     + ", ".join(str(b) for b in p.unknown_bits))
    lines += [f"  note: {n}" for n in p.layout.notes]
    if p.assumed:
        lines.append("  assumed: " + "; ".join(p.assumed))
    return lines


def run_decode_page_flags(s: Session, w: Words, value: int, kver: str | None) -> Result:
    """decode VALUE abi=page_flags: read-only, nothing on the machine changes."""
    if opt(w, "dma_flags") is not None:
        raise ParseError("decode: dma_flags= is a scatterlist field; use it with abi=sg")
    options = {k: opt(w, k) for k in PAGE_FLAGS_KEYS if k != "arch"}
    arch = opt(w, "arch")
    spec = s.machine.state.spec
    dump = bool(spec.pg_bits) and kver is None and arch is None
    if dump:  # the machine came from a VMCOREINFO: read the word as that kernel's
        kver, arch = spec.kver, spec.arch.removesuffix("-5level")
        if options.get("nodes_shift") is None and spec.nodes_shift is not None:
            options["nodes_shift"] = str(spec.nodes_shift)
    p = decode_page_flags(value, kver=kver, arch=arch if arch in ("x86_64", "arm64") else None, **options)
    data = {"value": value, "abi": "page_flags", "kver": p.layout.config.kver_text.removeprefix("v"),
            "arch": p.layout.config.arch, **page_flags_data(p)}
    lines = page_flags_lines(s, p)
    if dump:
        wrong = exported_mismatches(p.layout.config, spec.pg_bits)
        data["exported_mismatches"] = [list(m) for m in wrong]
        lines.append(f"  the machine's VMCOREINFO: {len(spec.pg_bits)} exported PG_ bit(s); "
                     + ("all agree with this layout" if not wrong else "these differ: " + ", ".join(
                         f"{n} is bit {b} there, {o if o is not None else 'absent'} here" for n, b, o in wrong)))
    return ok("decode", f"decode value={s.num(value)} abi=page_flags", data, lines,
              {"value": value, "abi": "page_flags", "kver": kver,
               **{k: opt(w, k) for k in sorted(PAGE_FLAGS_KEYS) if k in w.options}})


def is_value_decode(w: Words) -> bool:
    """`decode 0x… [abi=…]` takes a value apart; anything else is pasted log text."""
    if (len(w.args) != 1 or set(w.options) - {"abi", "kver", "dma_flags", *PAGE_FLAGS_KEYS}
            or w.body is not None):
        return False
    try:
        parse_number(w.args[0])
    except ParseError:
        return False
    return True
