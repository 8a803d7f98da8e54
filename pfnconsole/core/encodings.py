"""Codecs for the three ways the kernel has packed "a pfn plus a few flag bits" into one word.

* ``v5``    -- ``__pfn_t`` of the Aug-2015 "[PATCH v5 2/5]" series: the pfn shifted up by
  PAGE_SHIFT, flags in the freed low bits (pfn_v5.py; reference §0.2, §0.4, RFC PFN_MAP §0.5).
* ``pfn_t`` -- the merged ``pfn_t`` (v4.5 .. v6.16, u64 form): the pfn unshifted, flags in the
  top PAGE_SHIFT bits (pfn_t.py; §1.1 - §1.3), plus the ``PFN_FLAGS_TRACE`` rendering (§2.2).
* ``sg``    -- the scatterlist ``page_link``: a ``struct page *`` with chain/end bits in the
  pointer's alignment bits, plus (v6.2+) the separate ``sg->dma_flags`` word (page_link.py; §6).

This module picks a codec by abi and kernel version, and names every flag once for the
front ends.  Everything is 64-bit.  Every codec raises :class:`EngineError` (never anything
else) for a request it cannot honour: a bad pfn, a flag the ABI/version lacks, a value with
undefined bits.  Round trips are exact: ``decode(encode(pfn, flags))`` gives back ``pfn``
and the flag set, and ``reencode(decode(value)) == value`` for every value that decodes.
"""

from __future__ import annotations

from .codec import BITS_PER_LONG_LONG, PAGE_SHIFT_MAX, PAGE_SHIFT_MIN, U64_MAX, Abi, Decoded, Field
from .errors import EngineError
from .page_flags_decode import PageFlags, make_config
from .page_flags_decode import decode as _decode_page_flags
from .page_link import (
    SG_DMA_BUS_FIRST,
    SG_DMA_SWIOTLB_FIRST,
    SG_PAGE_LINK_FIRST,
    PageLink,
    SgDmaFlag,
    SgFlag,
    is_dma_flag_word,
)
from .pfn_t import (
    FS_DAX_PFN_EVENT_GONE,
    PFN_FLAGS_TRACE_FIRST,
    PFN_SPECIAL_FIRST,
    PFN_T_FIRST,
    PFN_T_REMOVED,
    MergedPfnT,
    PfnTFlag,
)
from .pfn_v5 import V5Flag, V5PfnT

ABIS: tuple[str, ...] = tuple(a.value for a in Abi)

#: ``page->flags`` (page_flags.py) decodes but does not encode a pfn; ``flags`` is its alias.
PAGE_FLAGS_ABIS: tuple[str, ...] = ("page_flags", "flags")
#: What ``decode VALUE abi=`` takes: the pfn codecs and page->flags.
DECODE_ABIS: tuple[str, ...] = ABIS + PAGE_FLAGS_ABIS


def decode_page_flags(value: int, *, kver: str | None = None, arch: str | None = None,
                      **options: str | None) -> PageFlags:
    """Split a 64-bit ``page->flags`` word for ``kver``/``arch`` and the configuration
    ``options`` (nodes_shift, nr_cpus, zone_device, memmodel, numa_balancing, kasan, lru_gen);
    every value not given is a distribution kernel's and is listed in ``assumed``."""
    return _decode_page_flags(value, make_config(kver, arch, **options))

Codec = V5PfnT | MergedPfnT | PageLink


def codec_for(
    abi: str,
    *,
    kver: str | None,
    page_shift: int,
    max_physmem_bits: int,
    vmemmap_base: int,
    struct_page_size: int,
    rfc_pfn_map: bool = False,
    arch: str = "x86_64",
) -> Codec:
    """The codec for ``abi`` (one of :data:`ABIS`).

    ``kver`` None picks the codec's default (pfn_t 4.16, sg 6.2); v5 ignores it.
    ``rfc_pfn_map`` applies to v5 only; ``vmemmap_base``/``struct_page_size`` to sg only;
    ``arch`` to pfn_t only (whether ``pfn_t_devmap`` can be true there).
    """
    key = abi.strip().lower() if isinstance(abi, str) else None
    if key in (Abi.V5, Abi.V5RFC):
        return V5PfnT(page_shift=page_shift, max_physmem_bits=max_physmem_bits,
                      rfc_pfn_map=rfc_pfn_map or key == Abi.V5RFC)
    if key == Abi.PFN_T:
        if kver:
            return MergedPfnT(kver=kver, page_shift=page_shift, max_physmem_bits=max_physmem_bits, arch=arch)
        return MergedPfnT(page_shift=page_shift, max_physmem_bits=max_physmem_bits, arch=arch)
    if key == Abi.SG:
        if kver:
            return PageLink(kver=kver, page_shift=page_shift, max_physmem_bits=max_physmem_bits,
                            vmemmap_base=vmemmap_base, struct_page_size=struct_page_size)
        return PageLink(page_shift=page_shift, max_physmem_bits=max_physmem_bits,
                        vmemmap_base=vmemmap_base, struct_page_size=struct_page_size)
    raise EngineError(f"unknown abi {abi!r}; choose {' | '.join(ABIS)}")


# --- flag names, defined by the codecs, for completers and lexers ---------------------------

def _ver(v: tuple[int, ...]) -> str:
    return ".".join(str(x) for x in v)


def _every_era() -> tuple[Codec, ...]:
    """One codec (default geometry) per abi and per kernel version where its flags change."""
    return (V5PfnT(), V5PfnT(rfc_pfn_map=True),
            MergedPfnT(kver=_ver(PFN_T_FIRST)), MergedPfnT(kver=_ver(PFN_SPECIAL_FIRST)),
            PageLink(kver=_ver(SG_PAGE_LINK_FIRST)), PageLink(kver=_ver(SG_DMA_BUS_FIRST)),
            PageLink(kver=_ver(SG_DMA_SWIOTLB_FIRST)))


def _names(c: Codec) -> tuple[str, ...]:
    """Flag words ``encode`` takes for a codec: its own, then (sg) the dma_flags ones."""
    return c.flag_names() + (c.dma_flag_names() if isinstance(c, PageLink) else ())


def flag_names(abi: str, kver: str | None = None) -> tuple[str, ...]:
    """The flag names ``encode`` takes for ``abi`` at ``kver`` (None: the codec's default,
    which has every flag of that abi), in bit order."""
    return codec_for(abi, kver=kver, page_shift=PAGE_SHIFT_MIN, max_physmem_bits=46,
                     vmemmap_base=PageLink.vmemmap_base,
                     struct_page_size=PageLink.struct_page_size).flag_names()


def all_flag_names() -> tuple[str, ...]:
    """Every flag name over every abi and kernel version, first seen first (ABIS order,
    then bit order): what a completer offers."""
    return tuple(dict.fromkeys(n for c in _every_era() for n in _names(c)))


def all_flag_spellings() -> tuple[str, ...]:
    """Every word any codec takes as a flag (names, aliases such as ``last``, and the kernel
    names in lower case such as ``pfn_dev``), first seen first: what a lexer highlights."""
    return tuple(dict.fromkeys(w for c in _every_era() for w in c.flag_spellings() + _names(c)))


__all__ = [
    "ABIS",
    "BITS_PER_LONG_LONG",
    "DECODE_ABIS",
    "FS_DAX_PFN_EVENT_GONE",
    "PAGE_FLAGS_ABIS",
    "PAGE_SHIFT_MAX",
    "PAGE_SHIFT_MIN",
    "PFN_FLAGS_TRACE_FIRST",
    "PFN_SPECIAL_FIRST",
    "PFN_T_FIRST",
    "PFN_T_REMOVED",
    "SG_DMA_BUS_FIRST",
    "SG_DMA_SWIOTLB_FIRST",
    "SG_PAGE_LINK_FIRST",
    "U64_MAX",
    "Abi",
    "Codec",
    "Decoded",
    "Field",
    "MergedPfnT",
    "PageFlags",
    "PageLink",
    "PfnTFlag",
    "SgDmaFlag",
    "SgFlag",
    "V5Flag",
    "V5PfnT",
    "all_flag_names",
    "all_flag_spellings",
    "codec_for",
    "decode_page_flags",
    "flag_names",
    "is_dma_flag_word",
]
