"""``page->flags`` decoded: the configuration a word is read with, and the word split.

`make_config` fills in what the user did not give with a typical distribution kernel of
that version (and lists every such value in ``assumed``); `decode` splits the word with the
layout of `page_flags` and names the bits.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import EngineError
from .kver import parse_kver
from .page_flags import (
    ARCH_MAX_CPUS,
    ARCHES,
    BITS_PER_LONG,
    KASAN_MODES,
    KVER_MAX,
    KVER_MIN,
    MEMMODELS,
    U64_MAX,
    Config,
    Layout,
    layout,
    print_order,
)

# --- configuration defaults -----------------------------------------------------------------

def _bool(key: str, v: object) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in ("y", "yes", "1", "true", "on"):
        return True
    if isinstance(v, str) and v.strip().lower() in ("n", "no", "0", "false", "off"):
        return False
    raise EngineError(f"{key}={v!r}: use y or n")


def _int(key: str, v: object, lo: int, hi: int, hint: str) -> int:
    if isinstance(v, str):
        try:
            v = int(v.strip(), 0)
        except ValueError:
            raise EngineError(f"{key}={v!r} is not a number; {hint}") from None
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise EngineError(f"{key}={v!r} is impossible; {hint}")
    return v


DEFAULT_KVER = "6.12"


def make_config(kver: str | None = None, arch: str | None = None, *,
                nodes_shift: object = None, nr_cpus: object = None, zone_device: object = None,
                memmodel: str | None = None, numa_balancing: object = None,
                kasan: str | None = None, lru_gen: object = None) -> Config:
    """A :class:`Config`; each value not given is a typical x86_64/arm64 distribution kernel's
    (Debian amd64/arm64 .config), and is listed in ``assumed``."""
    assumed: list[str] = []

    def take(key: str, given: object, default: object, why: str) -> object:
        if given is None or given == "":
            assumed.append(f"{key}={default} ({why})")
            return default
        return given

    kv_text = str(take("kver", kver, DEFAULT_KVER, "no kernel version given"))
    v = parse_kver(kv_text)
    if not KVER_MIN <= v <= KVER_MAX:
        raise EngineError(f"kver={kv_text}: page->flags tables cover v4.14 .. v7.2")
    a = str(take("arch", arch, "x86_64", "default arch")).strip().lower()
    if a in ("aarch64",):
        a = "arm64"
    if a in ("amd64", "x86-64"):
        a = "x86_64"
    if a not in ARCHES:
        raise EngineError(f"arch={arch!r} not supported for page->flags; use {' | '.join(ARCHES)}")
    nshift_default = 10 if a == "x86_64" else 4
    ns = _int("nodes_shift", take("nodes_shift", nodes_shift, nshift_default,
                                  "x86_64 distro MAXSMP" if a == "x86_64" else "arm64 Kconfig default"),
              0, 10, "use 0 (no NUMA) .. 10")
    cpus_default = 8192 if a == "x86_64" else (512 if v >= (7, 2, 0) else 256)
    cpus = _int("nr_cpus", take("nr_cpus", nr_cpus, cpus_default, "distro NR_CPUS"),
                1, ARCH_MAX_CPUS[a], f"use 1 .. {ARCH_MAX_CPUS[a]} on {a}")
    zd_default = "y" if a == "x86_64" or v >= (6, 12, 0) else "n"
    zd = _bool("zone_device", take("zone_device", zone_device, zd_default, "distro CONFIG_ZONE_DEVICE"))
    mm = str(take("memmodel", memmodel, "vmemmap", "distro SPARSEMEM_VMEMMAP")).strip().lower()
    if mm not in MEMMODELS:
        raise EngineError(f"memmodel={memmodel!r}: use {' | '.join(MEMMODELS)}")
    nb_default = "y" if ns > 0 else "n"
    nb = _bool("numa_balancing", take("numa_balancing", numa_balancing, nb_default,
                                      "distro NUMA_BALANCING" if ns else "no NUMA"))
    if nb and ns == 0:
        raise EngineError("numa_balancing=y needs NUMA (nodes_shift=1 or more)")
    km = str(take("kasan", kasan, "none", "no tag-based KASAN")).strip().lower()
    if km not in KASAN_MODES:
        raise EngineError(f"kasan={kasan!r}: use {' | '.join(KASAN_MODES)}")
    if km != "none" and a != "arm64":
        raise EngineError(f"kasan={km}: tag-based KASAN is arm64 only (x86_64 has generic KASAN,"
                          " which keeps no tag in page->flags)")
    if km == "sw" and v < (5, 0, 0):
        raise EngineError("kasan=sw: software tag-based KASAN starts with v5.0")
    if km == "hw" and v < (5, 12, 0):
        raise EngineError("kasan=hw: hardware tag-based KASAN (MTE) keeps a tag in page->flags from v5.12")
    lg_default = "y" if v >= (6, 1, 0) else "n"
    lg = _bool("lru_gen", take("lru_gen", lru_gen, lg_default,
                               "distro CONFIG_LRU_GEN" if v >= (6, 1, 0) else "MGLRU starts with v6.1"))
    if lg and v < (6, 1, 0):
        raise EngineError("lru_gen=y: the multi-gen LRU starts with v6.1")
    return Config(v, a, ns, cpus, zd, mm, nb, km, lg, tuple(assumed))


# --- decoding -------------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldValue:
    """One field's contents: ``(word >> lo) & ((1 << width) - 1)``."""

    name: str
    hi: int
    lo: int
    value: int


@dataclass(frozen=True)
class PageFlags:
    """A decoded ``page->flags`` word (``unsigned long``).

    ``node`` None when the layout has no node field; ``zone`` is the zone's name (None when
    the number is beyond the configured zones); ``flags`` are the set ``enum pageflags``
    names (no ``PG_`` prefix, no aliases) in the kernel's print order; ``unknown_bits`` are set
    bits that are neither a flag nor a field.
    """

    value: int
    layout: Layout
    node: int | None
    zone: str | None
    zone_nr: int | None
    section: int | None
    last_cpupid: int | None
    kasan_tag: int | None
    lru_gen: int | None
    lru_refs: int | None
    flags: tuple[str, ...]
    bits: tuple[tuple[int, str], ...]
    unknown_bits: tuple[int, ...]
    fields: tuple[FieldValue, ...]

    @property
    def assumed(self) -> tuple[str, ...]:
        return self.layout.config.assumed

    def pgp(self) -> str:
        """The word as ``%pGp`` prints it: ``0x…(names|section=|node=|zone=|lastcpupid=0x…|kasantag=0x…)``.

        Before v5.13 ``%pGp`` printed the names only.  A name-area bit with no name prints as hex.
        """
        parts = list(self.flags)
        nr = self.layout.nr_pageflags
        left = self.value & ((1 << nr) - 1)
        for bit, _ in self.bits:
            left &= ~(1 << bit)
        if left:
            parts.append(f"{left:#x}")
        if self.layout.config.kver >= (5, 13, 0):
            for f in self.fields:
                if f.name in ("section", "node", "zone"):
                    parts.append(f"{f.name}={f.value}")
                elif f.name == "last_cpupid":
                    parts.append(f"lastcpupid={f.value:#x}")
                elif f.name == "kasan_tag":
                    parts.append(f"kasantag={f.value:#x}")
        return f"{self.value:#x}(" + "|".join(parts) + ")"


def decode(value: object, cfg: Config) -> PageFlags:
    """Split ``value`` (a 64-bit ``page->flags``) by the layout of ``cfg``."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise EngineError(f"page->flags must be an integer, not {value!r}")
    if value < 0:
        raise EngineError(f"page->flags {value} is negative; it is a 64-bit unsigned word")
    if value > U64_MAX:
        raise EngineError(f"page->flags {value:#x} does not fit in 64 bits ({value.bit_length()} bits)")
    lay = layout(cfg)
    fields = tuple(FieldValue(f.name, f.hi, f.lo, (value >> f.lo) & ((1 << f.width) - 1))
                   for f in lay.fields)
    by = {f.name: f.value for f in fields}
    bits = tuple((b, n) for b, n in enumerate(lay.names) if value >> b & 1)
    set_names = tuple(n for _, n in bits)
    covered = (1 << lay.nr_pageflags) - 1
    for f in lay.fields:
        covered |= ((1 << f.width) - 1) << f.lo
    stray = value & ~covered & U64_MAX
    zone_nr = by.get("zone", 0 if not any(f.name == "zone" for f in lay.fields) else None)
    zone = lay.zones[zone_nr] if zone_nr is not None and zone_nr < len(lay.zones) else None
    return PageFlags(
        value=value, layout=lay, node=by.get("node"), zone=zone, zone_nr=zone_nr,
        section=by.get("section"), last_cpupid=by.get("last_cpupid"),
        kasan_tag=by.get("kasan_tag"), lru_gen=by.get("lru_gen"), lru_refs=by.get("lru_refs"),
        flags=print_order(cfg, set_names), bits=bits,
        unknown_bits=tuple(b for b in range(BITS_PER_LONG) if stray >> b & 1), fields=fields)


FIELD_MEANING = {
    "section": "SECTIONS_PGSHIFT: memory section number (classic SPARSEMEM)",
    "node": "NODES_PGSHIFT: NUMA node (page_to_nid)",
    "zone": "ZONES_PGSHIFT: zone number (page_zonenum)",
    "last_cpupid": "LAST_CPUPID_PGSHIFT: (cpu << 8) | (pid & 0xff) of the last NUMA fault; all ones = none",
    "kasan_tag": "KASAN_TAG_PGSHIFT: KASAN tag of the page",
    "lru_gen": "LRU_GEN_PGOFF: multi-gen LRU generation + 1 (0 = not on a generation list)",
    "lru_refs": "LRU_REFS_PGOFF: multi-gen LRU reference count",
}


__all__ = ["FIELD_MEANING", "FieldValue", "PageFlags", "decode", "make_config"]
