"""A whole VMCOREINFO text read into the facts a machine model needs.

VMCOREINFO is the ELF note (name "VMCOREINFO") a kernel fills at boot for crash-dump tools:
one ``KEY=value`` line each.  It is the note of /proc/vmcore in a kdump kernel and of
/proc/kcore on a live one, and what crash and makedumpfile print of a dump.  Of it,
/sys/kernel/vmcoreinfo shows only the physical address and size of the note (kernel/ksysfs.c
vmcoreinfo_show(), ``"%pa %x\\n"``), never the text.

Format (v6.12 text read): include/linux/vmcore_info.h ``SYMBOL(%s)=%lx`` (VMCOREINFO_SYMBOL,
the address; VMCOREINFO_SYMBOL_ARRAY, the pointer's value), ``SIZE(%s)=%lu``,
``OFFSET(%s.%s)=%lu``, ``LENGTH(%s)=%lu``, ``NUMBER(%s)=%ld``, ``PAGESIZE=%ld``,
``OSRELEASE=%s``, ``BUILD-ID=%20phN``, ``CONFIG_%s=y``; arch code appends hex numbers as
``NUMBER(%s)=0x%lx`` and ``KERNELOFFSET=%lx``; crash_save_vmcoreinfo() adds
``CRASHTIME=%lld`` at the crash.  vmcoreinfo_append_str() formats into ``char buf[0x50]``, so
no line is longer than 79 bytes.  Line order: kernel/vmcore_info.c
crash_save_vmcoreinfo_init() (kernel/crash_core.c v4.19-v6.8), log_buf_vmcoreinfo_setup() of
kernel/printk/printk.c in the middle, then arch_crash_save_vmcoreinfo():
arch/x86/kernel/vmcore_info_64.c (crash_core_64.c and machine_kexec_64.c before v6.9),
arch/arm64/kernel/vmcore_info.c (crash_core.c before), arch/riscv/kernel/vmcore_info.c,
arch/powerpc/kexec/vmcore_info.c.

Where the bases are (v6.12):

* ``SYMBOL(vmemmap)`` is ``pfn_to_page(0)`` under CONFIG_SPARSEMEM_VMEMMAP, on every arch.
  It is in v6.12 and absent from the v6.8 text (Huang Shijie, Feb 2024, "export the vmemmap
  when CONFIG_SPARSEMEM_VMEMMAP is configed").  On x86_64 it is ``vmemmap_base``
  (asm/pgtable_64_types.h ``VMEMMAP_START vmemmap_base``); on arm64 it is
  ``(struct page *)VMEMMAP_START - (memstart_addr >> PAGE_SHIFT)`` (asm/pgtable.h), whereas
  arm64 and riscv64 ``NUMBER(VMEMMAP_START)`` is only where the region starts.
* The direct map base is exported only by riscv64 (``NUMBER(PAGE_OFFSET)``).  x86_64 gives no
  key for ``page_offset_base`` (its vmalloc_base is the generic ``NUMBER(VMALLOC_START)``,
  which replaced ``SYMBOL(vmap_area_list)``).  arm64 gives none either: PAGE_OFFSET is
  ``-(1 << VA_BITS)`` (asm/memory.h ``_PAGE_OFFSET(VA_BITS)``), which tools work out from
  ``NUMBER(VA_BITS)``.
* The PG_ bits are ``NUMBER(PG_lru)``, ``PG_private``, ``PG_swapcache``, ``PG_swapbacked``,
  ``PG_hwpoison`` (CONFIG_MEMORY_FAILURE), ``PG_head_mask`` (``1UL << PG_head``) and, in
  v6.8 but no longer in v6.12, ``PG_slab``.  No NODES/ZONES shift is exported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .vmcore import _KEYED, _PLAIN, _number

MAX_LINES = 100_000
"""Lines looked at; the kernel's note is one page (VMCOREINFO_BYTES = PAGE_SIZE)."""
MAX_LINE = 200
"""Longest line taken (79 bytes of buffer plus the indent a tool may print before it)."""
U64 = (1 << 64) - 1

_BUILD_ID = re.compile(r"^BUILD-ID=[0-9a-f]{40}$")
_CONFIG = re.compile(r"^CONFIG_[A-Z0-9_]{1,64}=y$")
_RELEASE = re.compile(r"^(\d{1,4})\.(\d{1,4})")

ARCH_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("x86_64", ("SYMBOL(init_top_pgt)", "NUMBER(phys_base)", "NUMBER(pgtable_l5_enabled)",
                "SYMBOL(init_level4_pgt)", "SYMBOL(phys_base)")),
    ("arm64", ("NUMBER(kimage_voffset)", "NUMBER(TCR_EL1_T1SZ)", "NUMBER(tcr_el1_t1sz)",
               "NUMBER(KERNELPACMASK)")),
    ("riscv64", ("NUMBER(va_kernel_pa_offset)", "NUMBER(phys_ram_base)", "NUMBER(KERNEL_LINK_ADDR)")),
    ("ppc64", ("SYMBOL(mmu_psize_defs)", "SYMBOL(vmemmap_list)")),
)
"""Keys only that arch's arch_crash_save_vmcoreinfo() emits (riscv64 also needs
NUMBER(MODULES_VADDR), printed under CONFIG_64BIT only; ppc32 has neither ppc64 key)."""

WANTED = ("OSRELEASE", "PAGESIZE", "SIZE(page)", "OFFSET(page.flags)", "SYMBOL(mem_section)",
          "SIZE(mem_section)", "NUMBER(SECTION_SIZE_BITS)", "NUMBER(MAX_PHYSMEM_BITS)",
          "NUMBER(PG_head_mask)")
"""Keys of crash_save_vmcoreinfo_init() a machine model uses, on every arch."""
WANTED_ARCH = {
    "x86_64": ("NUMBER(phys_base)", "NUMBER(pgtable_l5_enabled)", "KERNELOFFSET"),
    "arm64": ("NUMBER(VA_BITS)", "NUMBER(PHYS_OFFSET)", "NUMBER(kimage_voffset)", "KERNELOFFSET"),
    "riscv64": ("NUMBER(VA_BITS)", "NUMBER(phys_ram_base)", "NUMBER(PAGE_OFFSET)"),
    "ppc64": ("KERNELOFFSET",),
}
"""Keys of each arch_crash_save_vmcoreinfo() a machine model uses (riscv64 prints no
KERNELOFFSET in v6.12)."""


@dataclass(frozen=True)
class CoreInfo:
    """The facts of one VMCOREINFO text.  Addresses are ``unsigned long`` kernel virtual
    addresses, sizes and offsets bytes, as the kernel printed them."""

    arch: str | None
    """One of "x86_64", "arm64", "riscv64", "ppc64"; None when the keys do not tell."""
    arch_how: str
    """Which keys told the arch, in words."""
    osrelease: str | None
    """``init_uts_ns.name.release``, e.g. "6.12.38+deb13-amd64"."""
    kver: tuple[int, int] | None
    """(major, minor) of osrelease."""
    page_size: int | None
    """PAGESIZE: PAGE_SIZE in bytes."""
    struct_page_size: int | None
    """SIZE(page): sizeof(struct page)."""
    page_flags_offset: int | None
    """OFFSET(page.flags): offsetof(struct page, flags)."""
    section_size_bits: int | None
    """NUMBER(SECTION_SIZE_BITS)."""
    max_physmem_bits: int | None
    """NUMBER(MAX_PHYSMEM_BITS) (evaluated at boot: 46 or 52 on x86_64)."""
    kernel_offset: int | None
    """KERNELOFFSET: kaslr_offset(), the image's virtual KASLR offset."""
    phys_base: int | None
    """x86_64 NUMBER(phys_base) (``unsigned long`` printed with %ld; taken modulo 2^64)."""
    l5: bool | None
    """x86_64 NUMBER(pgtable_l5_enabled): 5-level paging at run time."""
    va_bits: int | None
    """NUMBER(VA_BITS) (arm64, riscv64)."""
    phys_offset: int | None
    """arm64 NUMBER(PHYS_OFFSET) (memstart_addr, s64 printed as %llx), else riscv64
    NUMBER(phys_ram_base): the physical address PAGE_OFFSET maps."""
    kimage_voffset: int | None
    """arm64 NUMBER(kimage_voffset): kernel image virtual minus physical address."""
    page_offset: int | None
    """Direct map base as exported: riscv64 NUMBER(PAGE_OFFSET); None elsewhere."""
    vmemmap: int | None
    """SYMBOL(vmemmap): ``pfn_to_page(0)`` under SPARSEMEM_VMEMMAP (v6.12 yes, v6.8 no)."""
    pg: dict[str, int]
    """NUMBER(PG_x) -> bit number; PG_head_mask as its bit number under "PG_head"."""
    symbols: dict[str, int]
    numbers: dict[str, int]
    sizes: dict[str, int]
    offsets: dict[str, int]
    """OFFSET(struct.field) by "struct.field"."""
    lengths: dict[str, int]
    lines: int
    """How many VMCOREINFO lines were read."""
    skipped: tuple[int, ...]
    """1-based numbers of the non-blank lines that are not VMCOREINFO lines."""
    missing: tuple[str, ...]
    """Keys a machine model wants (for this arch) that the text lacks."""


def _lines(text: str) -> list[str]:
    """At most MAX_LINES lines split at "\\n", each cut to MAX_LINE + 1 characters, without
    copying the whole text."""
    out: list[str] = []
    start = 0
    while start < len(text) and len(out) < MAX_LINES:
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        out.append(text[start:min(end, start + MAX_LINE + 1)])
        start = end + 1
    return out


def _parse(line: str) -> tuple[str, str, int | str] | None:
    """(key, name, value) of one line, or None when it is not a VMCOREINFO line."""
    if len(line) > MAX_LINE:
        return None
    if _BUILD_ID.match(line) or _CONFIG.match(line):
        return (line.split("=", 1)[0], "", 1)
    m = _KEYED.match(line) or _PLAIN.match(line)
    if m is None:
        return None
    key, val = m["key"], m["val"]
    name = m["name"] if "name" in m.groupdict() else ""
    if key == "OSRELEASE":
        return (key, "", val)
    value = _number(key, val)
    return None if value is None else (key, name, value)


def _pg_bits(numbers: dict[str, int]) -> dict[str, int]:
    pg = {n: v for n, v in numbers.items() if n.startswith("PG_") and not n.endswith("_mask") and 0 <= v < 64}
    head = numbers.get("PG_head_mask", 0)
    if head > 0 and head & (head - 1) == 0:
        pg["PG_head"] = head.bit_length() - 1
    return pg


def _arch(seen: set[str]) -> tuple[str | None, str]:
    found = [(arch, [k for k in keys if k in seen]) for arch, keys in ARCH_KEYS]
    found = [(arch, keys) for arch, keys in found if keys]
    if not found:
        return None, "no key of an arch_crash_save_vmcoreinfo() this reader knows"
    if len(found) > 1:
        return None, "keys of more than one arch: " + ", ".join(f"{k[0]} ({a})" for a, k in found)
    arch, keys = found[0]
    told = " and ".join(keys[:2])
    if arch == "riscv64" and "NUMBER(MODULES_VADDR)" not in seen:
        return None, f"{told}: riscv, but no NUMBER(MODULES_VADDR) (printed on 64-bit only)"
    return arch, f"{told}: {arch}"


def read_vmcoreinfo(text: str) -> CoreInfo | None:
    """The facts of a VMCOREINFO text, or None unless at least 3 of its non-blank lines are
    VMCOREINFO lines and they outnumber the others.  A line may carry leading blanks (crash
    ``help -D`` indents it) and trailing blanks or a CR; nothing else is taken off.  The first
    of two lines with the same key wins.  Never raises."""
    kinds: dict[str, dict[str, int]] = {k: {} for k in ("SYMBOL", "NUMBER", "SIZE", "OFFSET", "LENGTH")}
    plain: dict[str, int | str] = {}
    seen: set[str] = set()
    skipped: list[int] = []
    count = 0
    for no, raw in enumerate(_lines(text), 1):
        line = raw.strip(" \t\r")
        if not line:
            continue
        got = _parse(line)
        if got is None:
            skipped.append(no)
            continue
        count += 1
        key, name, value = got
        if key in kinds and isinstance(value, int):
            kinds[key].setdefault(name, value)
            seen.add(f"{key}({name})")
        else:
            plain.setdefault(key, value)
            seen.add(key)
    if count < 3 or count <= len(skipped):
        return None
    numbers, symbols = kinds["NUMBER"], kinds["SYMBOL"]
    arch, how = _arch(seen)
    release = plain.get("OSRELEASE")
    osrelease = release if isinstance(release, str) else None
    m = _RELEASE.match(osrelease or "")
    kver = (int(m[1]), int(m[2])) if m else None
    wanted = WANTED + WANTED_ARCH.get(arch or "", ())
    missing = [k for k in wanted if k not in seen]
    if arch is None:
        missing.append("the arch's own keys (arch_crash_save_vmcoreinfo())")

    def num(key: str) -> int | None:
        value = plain.get(key)
        return value if isinstance(value, int) else None

    phys_base = numbers.get("phys_base")
    l5 = numbers.get("pgtable_l5_enabled")
    return CoreInfo(
        arch=arch, arch_how=how, osrelease=osrelease, kver=kver, page_size=num("PAGESIZE"),
        struct_page_size=kinds["SIZE"].get("page"), page_flags_offset=kinds["OFFSET"].get("page.flags"),
        section_size_bits=numbers.get("SECTION_SIZE_BITS"), max_physmem_bits=numbers.get("MAX_PHYSMEM_BITS"),
        kernel_offset=num("KERNELOFFSET"), phys_base=None if phys_base is None else phys_base & U64,
        l5=None if l5 is None else bool(l5), va_bits=numbers.get("VA_BITS"),
        phys_offset=numbers.get("PHYS_OFFSET", numbers.get("phys_ram_base")),
        kimage_voffset=numbers.get("kimage_voffset"),
        page_offset=numbers.get("PAGE_OFFSET") if arch == "riscv64" else None,
        vmemmap=symbols.get("vmemmap"), pg=_pg_bits(numbers), symbols=symbols, numbers=numbers,
        sizes=kinds["SIZE"], offsets=kinds["OFFSET"], lengths=kinds["LENGTH"], lines=count,
        skipped=tuple(skipped), missing=tuple(missing))


__all__ = ["ARCH_KEYS", "WANTED", "WANTED_ARCH", "CoreInfo", "read_vmcoreinfo"]
