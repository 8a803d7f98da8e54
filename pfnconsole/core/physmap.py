"""The physical memory map: e820-like typed ranges, as the firmware reports them.

Types and their printed names follow arch/x86/kernel/e820.c (kernel-facts.md §7.1).
Ranges are inclusive ``[start, end]`` like ``struct resource`` and the e820 printout.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from enum import IntEnum

from .errors import EngineError

KiB, MiB, GiB, TiB = 1 << 10, 1 << 20, 1 << 30, 1 << 40


class E820Type(IntEnum):
    """``enum e820_type`` (arch/x86/include/asm/e820/types.h)."""

    RAM = 1
    RESERVED = 2
    ACPI = 3
    NVS = 4
    UNUSABLE = 5
    PMEM = 7
    PRAM = 12
    SOFT_RESERVED = 0xEFFFFFFF

    @property
    def label(self) -> str:
        """What e820_print_type() prints for this type."""
        return _LABELS[self]

    @property
    def is_ram(self) -> bool:
        """Does memblock get this range as memory (and so sparse sections and struct pages)?"""
        return self is E820Type.RAM

    @property
    def is_pmem(self) -> bool:
        return self in (E820Type.PMEM, E820Type.PRAM)


_LABELS = {
    E820Type.RAM: "usable",
    E820Type.RESERVED: "reserved",
    E820Type.ACPI: "ACPI data",
    E820Type.NVS: "ACPI NVS",
    E820Type.UNUSABLE: "unusable",
    E820Type.PMEM: "persistent (type 7)",
    E820Type.PRAM: "persistent (type 12)",
    E820Type.SOFT_RESERVED: "soft reserved",
}


def e820_type_from_label(label: str) -> E820Type:
    """Inverse of ``E820Type.label``; also accepts ``type N``."""
    label = label.strip()
    for t, text in _LABELS.items():
        if text == label:
            return t
    if label.startswith("type "):
        try:
            return E820Type(int(label[5:]))
        except ValueError:
            pass
    raise EngineError(f"unknown e820 type {label!r}")


@dataclass(frozen=True)
class MemRange:
    """One e820 entry: physical ``[start, end]`` inclusive (``u64``), bytes."""

    start: int
    end: int
    type: E820Type

    @property
    def size(self) -> int:
        return self.end - self.start + 1

    def __contains__(self, addr: int) -> bool:
        return self.start <= addr <= self.end

    def e820_line(self, who: str = "BIOS-e820") -> str:
        """The line e820__print_table() prints for this entry."""
        return f"{who}: [mem {self.start:#018x}-{self.end:#018x}] {self.type.label}"


# The low layout of a typical PC (QEMU/SeaBIOS style, kernel-facts.md §7.1 real log):
# 640K of base memory less the EBDA, the BIOS area, RAM up to ~3 GiB, a PCI hole to 4 GiB.
_LOW_HOLES = (
    (0x9FC00, 0x9FFFF, E820Type.RESERVED),
    (0xF0000, 0xFFFFF, E820Type.RESERVED),
    (0xBFFD7000, 0xBFFFFFFF, E820Type.RESERVED),
    (0xFEFFC000, 0xFEFFFFFF, E820Type.RESERVED),
    (0xFFFC0000, 0xFFFFFFFF, E820Type.RESERVED),
)
_LOW_RAM = ((0x0, 0x9FBFF), (0x100000, 0xBFFD6FFF))
FOUR_G = 0x100000000
LOW_RAM_SPAN = 0xC0000000
"""RAM placed below 4 GiB (3 GiB); the usable part is _LOW_RAM."""


@dataclass(frozen=True)
class PhysMap:
    """The whole e820 table, sorted by start, entries not overlapping."""

    ranges: tuple[MemRange, ...]

    def __post_init__(self) -> None:
        prev = None
        for r in self.ranges:
            if r.end < r.start:
                raise EngineError(f"e820 range {r.start:#x}-{r.end:#x} ends before it starts")
            if prev is not None and r.start <= prev.end:
                raise EngineError(
                    f"e820 ranges overlap: {prev.start:#x}-{prev.end:#x} and "
                    f"{r.start:#x}-{r.end:#x}"
                )
            prev = r

    def find(self, addr: int) -> MemRange | None:
        """The entry holding physical ``addr``, or None for a hole (binary search)."""
        lo, hi = 0, len(self.ranges)
        while lo < hi:
            mid = (lo + hi) // 2
            r = self.ranges[mid]
            if addr < r.start:
                hi = mid
            elif addr > r.end:
                lo = mid + 1
            else:
                return r
        return None

    def overlapping(self, start: int, end: int) -> tuple[MemRange, ...]:
        """The entries that meet physical ``[start, end]`` (inclusive), in order.

        O(log n + k): the entries are sorted and disjoint, so their ends are sorted too.
        """
        i = bisect_left(self.ranges, start, key=_end_of)
        j = bisect_right(self.ranges, end, key=_start_of)
        return self.ranges[i:j]

    def of_type(self, *types: E820Type) -> tuple[MemRange, ...]:
        return tuple(r for r in self.ranges if r.type in types)

    @property
    def ram_bytes(self) -> int:
        return sum(r.size for r in self.ranges if r.type.is_ram)

    @property
    def top(self) -> int:
        """One past the highest physical address described."""
        return self.ranges[-1].end + 1 if self.ranges else 0


def _start_of(r: MemRange) -> int:
    return r.start


def _end_of(r: MemRange) -> int:
    return r.end


def ram_end(ram: int, *, low_layout: bool = True, base: int = 0) -> int:
    """One past the highest physical byte (``phys_addr_t``) ``ram`` bytes of RAM would
    need in default_physmap(), before its last partial page is dropped.

    With the PC low layout RAM above 3 GiB continues at 4 GiB, past the PCI hole.
    """
    if low_layout and ram > LOW_RAM_SPAN:
        return FOUR_G + ram - LOW_RAM_SPAN
    return ram if low_layout else base + ram


def default_physmap(ram: int = 16 * GiB, pmem: tuple[tuple[int, int], ...] | None = None,
                    *, low_layout: bool = True, base: int = 0) -> PhysMap:
    """A PC-like map with ``ram`` bytes of usable RAM, then persistent memory.

    Without the PC low layout RAM starts at ``base`` (phys_addr_t), where boards whose
    DRAM starts at 0x40000000 or 0x80000000 put it.

    ``pmem`` is a tuple of ``(start, size)`` carved out the way ``memmap=SIZE!START``
    does (type 12, whatever was there before).  ``None`` means the default: two 4 GiB
    ACPI NFIT ranges (type 7) right after the end of RAM, 1 GiB aligned.
    """
    if ram <= 0:
        raise EngineError("ram= must be more than 0")
    entries: list[MemRange] = []
    if low_layout and ram > LOW_RAM_SPAN:
        for start, end in _LOW_RAM:
            entries.append(MemRange(start, end, E820Type.RAM))
        for start, end, t in _LOW_HOLES:
            entries.append(MemRange(start, end, t))
        # As QEMU does it: the first 3 GiB of RAM sit below the PCI hole (minus the
        # firmware's reserved bits), the rest starts at 4 GiB.
        rest = ram - LOW_RAM_SPAN
        rest -= rest % 4096
        if rest > 0:
            entries.append(MemRange(FOUR_G, FOUR_G + rest - 1, E820Type.RAM))
    else:
        size = ram - ram % 4096
        if size <= 0:
            raise EngineError("ram= must be at least one 4K page")
        entries.append(MemRange(base, base + size - 1, E820Type.RAM))
    entries.sort(key=lambda r: r.start)
    top = max(r.end for r in entries) + 1
    if pmem is None:
        start = -(-top // GiB) * GiB
        pmem_entries = [MemRange(start, start + 4 * GiB - 1, E820Type.PMEM),
                        MemRange(start + 4 * GiB, start + 8 * GiB - 1, E820Type.PMEM)]
        return PhysMap(tuple(entries + pmem_entries))
    table = PhysMap(tuple(entries))
    for start, size in pmem:
        table = carve(table, start, size, E820Type.PRAM)
    return table


def carve(table: PhysMap, start: int, size: int, new_type: E820Type) -> PhysMap:
    """``memmap=SIZE!START``: retype ``[start, start+size)``, splitting what it overlaps."""
    if size <= 0:
        raise EngineError(f"pmem size must be more than 0 (got {size:#x})")
    if start % 4096 or size % 4096:
        raise EngineError(f"pmem={size:#x}@{start:#x} must be 4K aligned")
    end = start + size - 1
    out: list[MemRange] = []
    for r in table.ranges:
        if r.end < start or r.start > end:
            out.append(r)
            continue
        if r.type is not E820Type.RAM:
            raise EngineError(
                f"pmem={size:#x}@{start:#x} overlaps {r.type.label} "
                f"[{r.start:#x}-{r.end:#x}]; it can only replace usable RAM or a hole"
            )
        if r.start < start:
            out.append(MemRange(r.start, start - 1, r.type))
        if r.end > end:
            out.append(MemRange(end + 1, r.end, r.type))
    out.append(MemRange(start, end, new_type))
    out.sort(key=lambda r: r.start)
    return PhysMap(tuple(out))


def physmap_from_ranges(ranges: tuple[tuple[int, int, int], ...]) -> PhysMap:
    """A map from explicit (start, end inclusive, type) entries, as a boot log prints them.

    Later entries win where they overlap earlier ones (the kernel prints updates after the
    firmware's map); an unknown type number is refused.  Each entry costs O(log n) plus
    what it covers, so a log's thousands of lines stay cheap.
    """
    if not ranges:
        raise EngineError("no memory ranges given")
    table: list[MemRange] = []
    for start, end, type_ in ranges:
        try:
            t = E820Type(type_)
        except ValueError:
            raise EngineError(f"e820 type {type_} is not one the model knows") from None
        if end < start or start < 0:
            raise EngineError(f"range {start:#x}-{end:#x} ends before it starts")
        _overlay(table, MemRange(start, end, t))
    return PhysMap(tuple(table))


def _overlay(table: list[MemRange], new: MemRange) -> None:
    """Put ``new`` into the sorted, disjoint ``table``, cutting back what it covers."""
    if not table or table[-1].end < new.start:  # a log's map comes in order
        table.append(new)
        return
    i = bisect_left(table, new.start, key=_end_of)   # first entry ending at or after it
    j = bisect_right(table, new.end, key=_start_of)  # entries [i, j) meet it
    pieces = [new]
    if i < j and table[i].start < new.start:
        pieces.insert(0, MemRange(table[i].start, new.start - 1, table[i].type))
    if i < j and table[j - 1].end > new.end:
        pieces.append(MemRange(new.end + 1, table[j - 1].end, table[j - 1].type))
    table[i:j] = pieces
