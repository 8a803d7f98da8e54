"""What a machine is made of: the spec it was built from and the state its operations change."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .arch import DEFAULT_KVER, ArchProfile, arch_memstart_align, arch_profile, parse_kver, randomised_bases
from .cache import Caches
from .cost import CostPath
from .cpu_profiles import DEFAULT_PROFILE, PROFILES
from .errors import EngineError
from .kmap_pfn import IntervalIndex, KmapList, KmapPath, KmapRange
from .memmap import MemMap
from .memremap import DevPagemap
from .physmap import E820Type, GiB, PhysMap, default_physmap, physmap_from_ranges, ram_end
from .rcu import Rcu
from .section_table import SectionTable
from .sparse import SparseMem
from .undo import UndoLog, by_key, reinsert


class MemModel(StrEnum):
    """The memory model: how pfn_to_page() finds a struct page (memory_model.h)."""

    VMEMMAP = "vmemmap"
    """CONFIG_SPARSEMEM_VMEMMAP: ``vmemmap + pfn``."""
    SPARSE = "sparse"
    """Classic CONFIG_SPARSEMEM: the section's coded mem_map + pfn."""


@dataclass(frozen=True)
class MachineSpec:
    """What ``machine ARCH key=value...`` asked for."""

    arch: str = "x86_64"
    ram: int = 16 * GiB
    pmem: tuple[tuple[int, int], ...] | None = None
    """(start, size) carved like memmap=SIZE!START; None = two 4 GiB ranges after RAM."""
    kver: str | None = None
    page_shift: int | None = None
    struct_page: int | None = None
    memmodel: str = MemModel.VMEMMAP
    """A ``MemModel`` value: 'vmemmap' (SPARSEMEM_VMEMMAP) or 'sparse' (classic SPARSEMEM)."""
    cpus: int = 4
    e820: tuple[tuple[int, int, int], ...] | None = None
    """Explicit (start, end inclusive, e820 type) ranges, e.g. from a boot log; overrides
    ram= and pmem=."""
    origin: str = ""
    """Where the layout came from, for display (e.g. 'boot.log lines 3-17')."""
    phys_offset: int | None = None
    """arm64 PHYS_OFFSET / riscv64 phys_ram_base (bytes); None: from the memory map."""
    page_ext: bool = False
    """CONFIG_PAGE_EXTENSION (Kconfig default n; PAGE_OWNER and friends select it)."""
    zone_device: bool = True
    """CONFIG_ZONE_DEVICE (needed for pmem with struct pages; Kconfig default n)."""
    page_offset_base: int | None = None
    vmemmap_base: int | None = None
    """x86_64 KASLR bases (CONFIG_RANDOMIZE_MEMORY), e.g. inferred from a log; None: fixed."""
    nodes: tuple[tuple[int, int, int], ...] | None = None
    """(start, end inclusive, nid) NUMA node ranges, e.g. a log's `Early memory node ranges`;
    None: one node, 0."""
    block_size: int | None = None
    """memory_block_size_bytes() as the source gave it (sysfs block_size_bytes, lsmem, the
    boot log's "Memory block size"); None: the kernel's rule (`core.blocks`)."""
    offline_blocks: tuple[int, ...] = ()
    """Memory block ids the source shows offline (all boot blocks are online otherwise)."""
    pg_bits: tuple[tuple[str, int], ...] = ()
    """(PG_ name, bit) the machine's kernel exported (VMCOREINFO NUMBER(PG_…)); `decode …
    abi=page_flags` checks its enum against them."""
    managed: tuple[tuple[int, str, int], ...] = ()
    """(nid, zone, managed pages) as /proc/zoneinfo printed them: present less what memblock
    reserved at boot, which the model does not compute; `zones` shows them beside its own."""
    nodes_shift: int | None = None
    """CONFIG_NODES_SHIFT when the source tells (VMCOREINFO LENGTH(node_data) = MAX_NUMNODES)."""


@dataclass(slots=True)
class Mapping:
    """One open kmap_atomic_pfn_t() result: the reader stays in RCU until kunmap."""

    id: int
    cpu: int
    addr: int
    """The ``void *`` kmap_atomic_pfn_t() returned."""
    pfn: int
    value: int
    """The ``__pfn_t`` value passed in (v5 layout)."""
    path: KmapPath
    """PAGE (kmap_atomic of a struct page) or LIST (device range)."""
    range: str | None
    reader: int


@dataclass
class State:
    """Everything the machine's operations change (and undo takes back)."""

    spec: MachineSpec
    arch: ArchProfile
    kver: tuple[int, int]
    physmap: PhysMap
    sparse: SparseMem
    memmap: MemMap
    kmap: KmapList
    ranges: dict[str, KmapRange]
    """Every range ever registered on this machine, freed ones included (for UAF reports)."""
    table: SectionTable
    rcu: Rcu
    mappings: dict[int, Mapping] = field(default_factory=dict)
    """Open mappings by id, oldest first."""
    by_addr: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    """(cpu, address) -> ids of the open mappings there, newest last; keys in the order of
    their oldest id."""
    phys_index: IntervalIndex = field(default_factory=IntervalIndex)
    """Physical extents of the ranges not yet freed."""
    kva_index: IntervalIndex = field(default_factory=IntervalIndex)
    """Their [base, base+size) extents."""
    caches: dict[CostPath, Caches] = field(default_factory=dict)
    """Each path's own cache hierarchy (cache.py), under the profile ``profile``."""
    profile: str = DEFAULT_PROFILE
    """The CPU profile the loads are costed with (cpu_profiles.PROFILES)."""
    cpu: int = 0
    compound: dict[int, int] = field(default_factory=dict)
    """Compound pages the console allocated: head pfn -> order (folio.py)."""
    pgmaps: dict[str, DevPagemap] = field(default_factory=dict)
    """memremap_pages() ranges in ZONE_DEVICE, oldest first (memremap.py)."""
    next_pgmap: int = 1
    next_seq: int = 1
    next_mapping: int = 1
    next_base: int = 0


# --- the open mappings: by id and by (cpu, address) ---------------------------------------

def open_mapping(s: State, m: Mapping, undo: UndoLog) -> None:
    """Record what kmap_atomic_pfn_t() returned; ``m.id`` is ``s.next_mapping``."""
    s.next_mapping += 1
    s.mappings[m.id] = m
    s.by_addr.setdefault((m.cpu, m.addr), []).append(m.id)
    undo.push(_unopen_mapping, s, m)


def close_mapping(s: State, m: Mapping, undo: UndoLog) -> None:
    """Forget a mapping kunmap_atomic_pfn_t() ended: the newest at its (cpu, address)."""
    _forget_mapping(s, m)
    undo.push(_reopen_mapping, s, m)


def _forget_mapping(s: State, m: Mapping) -> None:
    key = (m.cpu, m.addr)
    ids = s.by_addr[key]
    ids.pop()  # find_mapping() took the newest: O(1), not a scan from the front
    if not ids:
        del s.by_addr[key]
    del s.mappings[m.id]


def _unopen_mapping(s: State, m: Mapping) -> None:
    """Undo open_mapping(): ``m`` is the newest everywhere."""
    _forget_mapping(s, m)
    s.next_mapping = m.id


def _reopen_mapping(s: State, m: Mapping) -> None:
    """Undo close_mapping(), with both dicts back in their order."""
    reinsert(s.mappings, m.id, m, by_key)
    key = (m.cpu, m.addr)
    ids = s.by_addr.get(key)
    if ids is not None:
        ids.append(m.id)
    else:
        reinsert(s.by_addr, key, [m.id], _by_oldest)


def _by_oldest(_key: tuple[int, int], ids: list[int]) -> int:
    return ids[0]


def fresh_caches(profile: str) -> dict[CostPath, Caches]:
    """Cold caches, one hierarchy per path, under ``profile``."""
    return {path: Caches(PROFILES[profile]) for path in CostPath}


def _derived_phys_offset(spec: MachineSpec, kver: tuple[int, int]) -> int:
    """PHYS_OFFSET from the memory map: arm64 memstart_addr = round_down(start of DRAM,
    ARM64_MEMSTART_ALIGN) (arch/arm64/mm/init.c arm64_memblock_init()); riscv64
    phys_ram_base = memblock_start_of_DRAM() & PMD_MASK (arch/riscv/mm/init.c)."""
    if spec.e820 is None or spec.arch not in ("arm64", "riscv64"):
        return 0
    ram = [start for start, _end, t in spec.e820 if t == E820Type.RAM]
    if not ram:
        return 0
    if spec.arch == "riscv64":
        return min(ram) & ~((2 << 20) - 1)
    align = arch_memstart_align(spec.page_shift or 12, kver)
    return min(ram) // align * align


def build_state(spec: MachineSpec, profile: str = DEFAULT_PROFILE) -> State:
    """A freshly booted machine for ``spec``; EngineError for a spec that cannot be built."""
    try:
        memmodel = MemModel(spec.memmodel)
    except ValueError:
        raise EngineError(f"memmodel={spec.memmodel!r}: use vmemmap or sparse") from None
    if not 1 <= spec.cpus <= 64:
        raise EngineError(f"cpus={spec.cpus}: the model has 1 to 64 CPUs")
    kver = parse_kver(spec.kver) if spec.kver else DEFAULT_KVER
    phys_offset = spec.phys_offset
    if phys_offset is None:
        phys_offset = _derived_phys_offset(spec, kver)
    arch = arch_profile(spec.arch, page_shift=spec.page_shift, kver=spec.kver,
                        struct_page_size=spec.struct_page, phys_offset=phys_offset,
                        page_ext=spec.page_ext, zone_device=spec.zone_device)
    arch = randomised_bases(arch, spec.page_offset_base, spec.vmemmap_base)
    bz = spec.block_size
    if bz is not None and (bz & (bz - 1) or bz < 1 << arch.section_size_bits or bz > 1 << 40):
        raise EngineError(f"memory block size {bz:#x}: a power of two from one section "
                          f"({1 << arch.section_size_bits >> 20} MiB) up")
    if any(not 0 <= b < 1 << 40 for b in spec.offline_blocks):
        raise EngineError("offline memory block ids must be 0 or more")
    limit = 1 << arch.max_physmem_bits
    hint = "; x86_64-5level allows 52 bits" if arch.name == "x86_64" else ""
    beyond = (f"beyond MAX_PHYSMEM_BITS={arch.max_physmem_bits} on {arch.name} (highest "
              f"physical address {limit - 1:#x}){hint}")
    for a, b, nid in spec.nodes or ():
        if not (0 <= a <= b and 0 <= nid < 1 << 10):  # MAX_NUMNODES at most 1 << NODES_SHIFT(10)
            raise EngineError(f"node range [{a:#x}-{b:#x}] nid {nid}: not a node range")
    if spec.e820 is not None:
        physmap = physmap_from_ranges(spec.e820)
    else:
        # refuse before building: RAM is rounded down to pages, which would hide a last
        # partial page beyond the limit
        low_layout = spec.arch.startswith("x86_64")
        need = ram_end(spec.ram, low_layout=low_layout, base=arch.phys_offset)
        if need > limit:
            raise EngineError(f"ram={spec.ram:#x} needs physical memory up to {need - 1:#x}, "
                              + beyond)
        for start, size in spec.pmem or ():
            if size > 0 and start + size > limit:  # carve() words the other refusals
                raise EngineError(f"pmem={size:#x}@{start:#x} ends at {start + size - 1:#x}, "
                                  + beyond)
        physmap = default_physmap(spec.ram, spec.pmem, low_layout=low_layout,
                                  base=arch.phys_offset)
    if physmap.top > limit:
        raise EngineError(f"the memory map reaches {physmap.top - 1:#x}, " + beyond)
    low = min((r.start for r in physmap.ranges if r.type.is_ram), default=arch.phys_offset)
    if low < arch.phys_offset:
        raise EngineError(f"RAM at {low:#x} lies below phys_offset={arch.phys_offset:#x}: "
                          "the linear map starts at the lowest RAM")
    sparse = SparseMem(arch, physmap, kver=kver, vmemmap=memmodel is MemModel.VMEMMAP)
    return State(spec=spec, arch=arch, kver=kver, physmap=physmap, sparse=sparse,
                 memmap=MemMap(), kmap=KmapList([]), ranges={}, table=SectionTable(arch),
                 rcu=Rcu(ncpus=spec.cpus), next_base=arch.vmalloc_base,
                 caches=fresh_caches(profile), profile=profile)
