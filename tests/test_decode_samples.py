"""The real-log corpus: every sample in ../shared/samples/dmesg must decode as INDEX.md says.

The samples are read in place (never copied into the project) and the test skips when the
folder is absent.  Header lines (``# source:`` ...) are blanked so that line numbers stay
those of the file.  Each table entry lists findings that must exist (a kind plus field
values), findings that must not, and what calibration must infer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pfnconsole.decode import Finding, calibrate, decode_text

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "dmesg"

E820_01 = [
    (0xA0000, 0xBFFFF, "reserved"), (0x100000, 0x8AD00FFF, "usable"), (0x8AD01000, 0x8AD48FFF, "ACPI NVS"),
    (0x8AD49000, 0x8AD60FFF, "usable"), (0x8AD61000, 0x8AD8EFFF, "ACPI data"), (0x8AD8F000, 0x8AE39FFF, "usable"),
    (0x8AE3A000, 0x8AE8EFFF, "reserved"), (0x8AE8F000, 0x8AECBFFF, "usable"), (0x8AECC000, 0x8AEFEFFF, "reserved"),
    (0x8AEFF000, 0x8AFA9FFF, "usable"), (0x8AFAA000, 0x8AFDEFFF, "reserved"), (0x8AFDF000, 0x8AFFFFFF, "usable"),
    (0x8B000000, 0x8FFFFFFF, "reserved"), (0xE00F8000, 0xE00F8FFF, "reserved"),
]

# name: (arch, [must-have (kind, fields)], [must-not-have (kind, fields)], calibration fields or None)
CASES: dict[str, tuple[str, list, list, dict | None]] = {
    "bad_page-01": ("arm", [
        ("bad_page", dict(line=5, pfn=0x2E44, phys=0x2E44000)),
        ("dump_page", dict(line=6, pfn=0x2E44, page=0xBA409190, note_has="corrupted")),
        ("dump_page", dict(type="flags", pfn=0x2E44, flags=("uptodate", "dirty", "lru", "active", "private",
                                                             "private_2", "writeback", "head", "unevictable", "mlocked"))),
        ("dump_page", dict(type="page still charged to cgroup", pfn=0x2E44)),
        ("bad_page", dict(type="bad flags", pfn=0x2E44, note_has="0x187878")),
    ], [], None),
    "bad_page-03": ("arm64", [
        ("bad_page", dict(pfn=0x11BF4C)),
        ("dump_page", dict(line=6, pfn=0x11BF4C, page=None, note_has="hashed")),
        ("dump_page", dict(type="flags", flags=("referenced", "uptodate", "private"), note_has="lastcpupid=0x7ff")),
        ("dump_page", dict(type="page_type", pfn=0x11BF4C)),
        ("struct_page", dict(page=0xFFFFFDFFC33FC608, pfn=None)),
    ], [("dump_page", dict(page=0x92899E71))], None),
    "bad_page-05": ("x86_64", [
        ("bad_page", dict(line=5, pfn=0x135DDD)),
        ("dump_page", dict(line=6, pfn=0x135DDD, page=0xFFFFEA00043C8858, note_has="PAGE_MAPPING_ANON")),
        ("bad_page", dict(type="bad flags", flags=("lru", "active", "private"))),
        ("direct_map", dict(virt=0xFFFF888139AAF641, pfn=0x139AAF)),
        ("calibration", dict(type="vmemmap", virt=0xFFFFEA0000000000, note_has="56 bytes")),
    ], [], dict(struct_page_size=56, vmemmap_base=0xFFFFEA0000000000)),
    "bad_page-06": ("arm", [
        ("bad_page", dict(pfn=0x14256)),
        ("dump_page", dict(pfn=0x14256, page=0xDB6D8418)),
        ("dump_page", dict(type="flags", flags=(), pfn=0x14256)),
    ], [], None),
    "bad_page-07": ("x86_64", [
        ("bad_page", dict(pfn=0x309D22)),
        ("dump_page", dict(pfn=0x309D22, page=0xFFFFEA000C274880)),
        ("dump_page", dict(type="flags", flags=("mappedtodisk",))),
        ("dump_page", dict(type="non-NULL mapping")),
        ("struct_page", dict(line=13, page=0xFFFFEA000C274880, pfn=0x309D22)),
        ("struct_page", dict(line=14, page=0xFFFFEA000C274880, pfn=0x309D22)),
    ], [], dict(struct_page_size=64, vmemmap_base=0xFFFFEA0000000000)),
    "bad_page-09": ("x86_64", [
        ("bad_page", dict(line=5, pfn=0x2D3C14)),
        ("dump_page", dict(pfn=0x2D3C14, page=0xFFFFEA000B4F0500)),
        ("dump_page", dict(type="flags", flags=("tail",))),
        ("dump_page", dict(type="nonzero mapcount")),
    ], [], dict(struct_page_size=64, vmemmap_base=0xFFFFEA0000000000)),
    "bad_page_map-02": ("arm", [
        ("bad_page_map", dict(type="pte", pfn=0x4A44E, phys=0x4A44E000, flags=("USER",))),
        ("bad_page_map", dict(type="pmd", phys=0x4DFC8800)),
        ("bad_page_map", dict(type="vma", virt=0xB6A00000, note_has="index b6a00")),
    ], [], None),
    "boot_mmu-01": ("ppc64", [
        ("mem_size", dict(type="phys_mem_size", note_has="2 GiB")),
        ("direct_map", dict(virt=0xC000000003C00000, phys=0x3C00000, pfn=0x3C0)),
        ("calibration", dict(type="page_shift")),
    ], [], dict(page_shift=16)),
    "dax-01": ("x86_64", [
        ("resource", dict(line=6, start=0x850000000, end=0x284FFFFFFF, flags=("MEM", "BUSY"))),
        ("resource", dict(type="range", start=0x850000000, end=0x284FFFFFFF)),
        ("resource", dict(line=13, start=0x850000000, end=0x284FFFFFFF, flags=("MEM",))),
        ("resource", dict(type="dax0.0 mapping0", start=0x850000000, end=0x284FFFFFFF)),
    ], [], None),
    "dump_page-01": ("x86_64", [
        ("dump_page", dict(line=5, pfn=0x100200, page=None, note_has="hidden")),
        ("dump_page", dict(type="head", note_has="order 9")),
        ("dump_page", dict(type="flags", flags=("head",), pfn=0x100200)),
        ("dump_page", dict(type="VM_BUG_ON_PAGE(page_ref_count(page))", pfn=0x100200)),
    ], [], None),
    "dump_page-03": ("x86_64", [
        ("dump_page", dict(pfn=0x106224, page=None)),
        ("dump_page", dict(type="compound_head", pfn=0x106224, page=0xFFFFEA0004188900)),
        ("dump_page", dict(type="page_type", flags=("slab",))),
        ("direct_map", dict(virt=0xFFFF888106224000, pfn=0x106224, phys=0x106224000)),
        ("calibration", dict(type="direct_map", virt=0xFFFF888000000000)),
    ], [], dict(page_offset=0xFFFF888000000000)),
    "dump_page-04": ("arm64", [
        ("dump_page", dict(pfn=0x8B308B, page=None)),
        ("dump_page", dict(type="flags", flags=(), note_has="kasantag=0xbe")),
        ("dump_page", dict(type="kasan: bad access detected", pfn=0x8B308B)),
    ], [("struct_page", {}), ("direct_map", {})], None),
    "dump_page-05": ("x86_64", [
        ("dump_page", dict(pfn=0x27C5F)),
        ("dump_page", dict(type="page_type", flags=("slab",))),
        ("direct_map", dict(virt=0xFFFF888027C5F0F0, pfn=0x27C5F)),
    ], [], dict(page_offset=0xFFFF888000000000)),
    "dump_page-08": ("x86_64", [
        ("dump_page", dict(pfn=0x22F74, page=0xFFFFEA00008BDD00)),
        ("dump_page", dict(type="head", pfn=0x22F74)),
        ("direct_map", dict(virt=0xFFFF888022F74758, pfn=0x22F74)),
    ], [], dict(struct_page_size=64)),
    "dump_page-09": ("x86_64", [
        ("dump_page", dict(pfn=0x107, page=0xFFFFEA00000041C0, note_has="pfn from the struct page pointer")),
        ("direct_map", dict(virt=0xFFFF888000107EC0, phys=0x107EC0, pfn=0x107)),
        ("dump_page", dict(type="flags", flags=(), pfn=0x107)),
    ], [], None),
    "dump_page-12": ("ppc64", [
        ("pfn", dict(pfn=0x77501, type="pfn")),
        ("dump_page", dict(pfn=0x77501, page=0xC00C000001DD4040)),
        ("dump_page", dict(type="soft_offline", pfn=0x77501)),
    ], [], dict(struct_page_size=64, vmemmap_base=0xC00C000000000000)),
    "e820-01": ("x86_64", [("e820", dict(start=a, end=b, type=t)) for a, b, t in E820_01], [], None),
    "e820-02": ("x86_64", [
        ("e820", dict(start=0x0, end=0x57FFF, type="usable")),
        ("e820", dict(start=0xAD853000, end=0xAD859FFF, type="ACPI NVS")),
        ("e820", dict(start=0xBEFFF000, end=0xBEFFFFFF, type="usable")),
    ], [("e820", dict(line=6))], None),
    "e820_pmem-02": ("x86_64", [
        ("e820", dict(start=0x240000000, end=0x33FFFFFFF, type="persistent (type 12)")),
        ("e820", dict(start=0x380000000, end=0x5BFFFFFFF, type="persistent (type 12)")),
        ("cmdline", dict(start=0x240000000, end=0x33FFFFFFF, type="persistent (type 12)")),
        ("cmdline", dict(start=0x380000000, end=0x5BFFFFFFF, type="persistent (type 12)")),
        ("pmem", dict(type="pmem0", end=4294967296 - 1)),
        ("pmem", dict(type="pmem1", end=9663676416 - 1)),
    ], [], None),
    "e820_pmem-03": ("x86_64", [
        ("e820", dict(start=0x100000000, end=0x23FFFFFFF, type="usable", note_has="BIOS-e820")),
        ("e820", dict(start=0x100000000, end=0x13FFFFFFF, type="persistent (type 12)", note_has="user")),
        ("e820", dict(start=0x140000000, end=0x23FFFFFFF, type="usable")),
    ], [], None),
    "fs_dax_trace-01": ("x86_64", [
        ("fs_dax", dict(type="dax_pmd_insert_mapping", pfn=0x100600, phys=0x100600000, flags=("DEV", "MAP"),
                        start=0x100600000, end=0x1007FFFFF, virt=0x10505000)),
        ("fs_dax", dict(type="dax_pmd_fault", virt=0x10505000, note_has="pgoff 0x200")),
        ("fs_dax", dict(type="dax_pmd_fault_done", virt=0x10505000)),
    ], [], None),
    "ftrace_pfn-02": ("arm64", [
        ("kmem", dict(pfn=0xECFF8, type="mm_page_alloc", page=None, note_has="decimal")),
        ("kmem", dict(pfn=970745)), ("kmem", dict(pfn=970278)), ("kmem", dict(pfn=970197)),
        ("kmem", dict(pfn=None, note_has="(null)")),
    ], [("kmem", dict(pfn=0))], None),
    "ftrace_pfn-03": ("x86_64", [
        ("kmem", dict(pfn=0x1D1AC1)), ("kmem", dict(pfn=0x122233)),
    ], [], None),
    "mce-01": ("x86_64", [
        ("mce", dict(type="ADDR", phys=0xEE30A0000, pfn=0xEE30A0)),
        ("mce", dict(type="EDAC CE", pfn=0xEE30A0, phys=0xEE30A0000)),
    ], [], None),
    "mce-02": ("x86_64", [("mce", dict(phys=0xFEF4C9E0, pfn=0xFEF4C))], [], None),
    "memory_failure-01": ("x86_64", [
        *[("memory_failure", dict(pfn=p)) for p in range(0x30A6A8F, 0x30A6A99)],
        ("memory_failure", dict(pfn=0x30A6A90, type="unhandlable page")),
        ("memory_failure", dict(pfn=0x30A6A8F, type="Ignored", note_has="unknown page")),
    ], [], None),
    "memory_failure-02": ("ppc64", [
        ("memory_failure", dict(pfn=0x0, type="Failed")),
        ("memory_failure", dict(pfn=0x0, type="already hardware poisoned")),
        ("memory_failure", dict(pfn=0x1, phys=0x10000)),
    ], [], None),
    "memory_failure-04": ("i386", [
        ("hwpoison_inject", dict(type="inject", pfn=0x19D0, virt=0xB77D2000)),
        ("memory_failure", dict(pfn=0x19D0, type="Ignored")),
        ("hwpoison_inject", dict(type="unpoison", pfn=0x19D0)),
        ("bad_page", dict(pfn=0x19D0)),
        ("dump_page", dict(pfn=0x19D0, page=0xF3461A00)),
        ("dump_page", dict(type="flags", flags=("referenced", "reserved"))),
    ], [], None),
    "memory_failure-06": ("x86_64", [
        ("mce", dict(phys=0xAF34214200, pfn=0xAF34214, type="user-access")),
        ("memory_failure", dict(pfn=0xAF34214, type="Failed")),
        ("hwpoison_inject", dict(pfn=0x20CB00, virt=0x7F763DD00000)),
        ("memory_failure", dict(pfn=0x20CB00, type="Recovered", note_has="dax page")),
    ], [], None),
    "memory_info-02": ("arm", [
        ("vm_layout", dict(type="lowmem", virt=0xC0000000, note_has="0xdfead000")),
        ("vm_layout", dict(type="vmalloc", virt=0xE0000000)),
        ("mem_size", dict(type="Memory")),
    ], [], dict(page_offset=0xC0000000, page_shift=12)),
    "page_fault-01": ("x86_64", [
        ("page_fault", dict(virt=0xFFFF8A08A90AB128, pfn=0x1290AB)),
        ("pte", dict(type="PTE", pfn=0x1290AB, phys=0x1290AB128, note_has="L1TF")),
        ("pte", dict(type="PGD", phys=0x290E01000)),
        ("pte", dict(type="PUD", phys=0x46DA41000)),
        ("pte", dict(type="PMD", phys=0x46D8F8000)),
        ("calibration", dict(type="direct_map", virt=0xFFFF8A0780000000)),
    ], [], dict(page_offset=0xFFFF8A0780000000)),
    "page_fault-03": ("x86_64", [
        ("page_fault", dict(virt=0x40000040, pfn=None)),
        ("pte", dict(type="PGD", pfn=None, note_has="empty")),
        ("pte", dict(type="P4D", pfn=None)),
    ], [], None),
    "pmem-01": ("x86_64", [
        ("pmem", dict(type="mixed region", start=0x200000000, end=0x2FBFFFFFF, flags=("MEM",))),
    ], [("resource", {})], None),
    "pmem-02": ("x86_64", [
        ("pmem", dict(type="alignment collision", note_has="64 MiB")),
        ("pmem", dict(type="conflicting mapping", note_has="pfn1.0")),
    ], [], None),
    "pmem-03": ("x86_64", [("pmem", dict(type="conflicting mapping", note_has="pfn6.1"))], [], None),
    "zones-01": ("x86_64", [
        ("zone", dict(type="DMA", start=0x1000, end=0xFFFFFF)),
        ("zone", dict(type="DMA32", start=0x1000000, end=0xFFFFFFFF)),
        ("zone", dict(type="Normal", start=0x100000000, end=0x12C22FFFF)),
        ("zone", dict(type="Device", start=None, note_has="empty")),
        ("node_range", dict(type="node 0", start=0x1000, end=0x9FFFF)),
        ("node_range", dict(type="node 0", start=0x129A00000, end=0x12C22FFFF)),
        ("node_range", dict(start=0x1000, end=0x12C22FFFF, note_has="Initmem")),
        ("node_data", dict(start=0x7FF02DC0, end=0x7FF2CFFF)),
        ("reserved_mem", dict(type="ACPI BGRT", start=0x7F772000, end=0x7F772037)),
    ], [], None),
    "zones-03": ("arm64", [
        ("zone", dict(type="Normal", start=0x100000000, end=0x1FFFFFFFF)),
        ("node_range", dict(start=0x0, end=0x1FFFFFFF)),
        ("node_range", dict(start=0x40000000, end=0xFBFFFFFF)),
        ("node_range", dict(start=0x100000000, end=0x1FFFFFFFF, note_has="early")),
        ("reserved_mem", dict(type="CMA", start=0xFC00000, end=0xFC00000 + (256 << 20) - 1)),
        ("reserved_mem", dict(type="linux,cma")),
    ], [], None),
    "zones-05": ("ppc64", [
        ("zone", dict(type="DMA", start=0x0, end=0x1FFFFFFFFF)),
        ("zone", dict(type="DMA32", note_has="empty")),
        ("zone", dict(type="Normal", note_has="empty")),
        ("direct_map", dict(virt=0xC000001FFC000000, pfn=0x1FFC00)),
    ], [], None),
}

_MISSING = object()


def matches(f: Finding, kind: str, fields: dict) -> bool:
    if f.kind != kind:
        return False
    for key, want in fields.items():
        if key == "note_has":
            if want not in f.note:
                return False
        elif getattr(f, key, _MISSING) != want:
            return False
    return True


def sample_text(name: str) -> str:
    """The file with its three header lines blanked, so numbering matches the file."""
    lines = (SAMPLES / f"{name}.txt").read_text().splitlines()
    return "\n".join("" if line.startswith("# ") and i < 3 else line for i, line in enumerate(lines))


@pytest.fixture(scope="module")
def corpus() -> Path:
    if not (SAMPLES / "INDEX.md").is_file():
        pytest.skip(f"sample corpus not found at {SAMPLES}")
    return SAMPLES


def test_every_sample_has_a_case(corpus):
    names = {p.stem for p in corpus.glob("*.txt")}
    assert names == set(CASES), "samples and the table disagree"


@pytest.mark.parametrize("name", sorted(CASES))
def test_sample(corpus, name):
    arch, must, must_not, cal = CASES[name]
    text = sample_text(name)
    findings = decode_text(text, arch=arch)
    for kind, fields in must:
        assert any(matches(f, kind, fields) for f in findings), (
            f"{name}: no {kind} with {fields}\n" + "\n".join(str(f.to_json()) for f in findings))
    for kind, fields in must_not:
        bad = [f for f in findings if matches(f, kind, fields)]
        assert not bad, f"{name}: unexpected {bad}"
    if cal:
        got = calibrate(text.splitlines(), arch)
        for key, want in cal.items():
            assert getattr(got, key) == want, f"{name}: calibration {key} = {getattr(got, key)!r}"
    # Output order: calibration first, then by line; every finding serialises.
    rest = [f.line for f in findings if f.kind != "calibration"]
    assert rest == sorted(rest)
    n_lines = len(text.splitlines())
    for f in findings:
        assert 1 <= f.line <= n_lines
        js = f.to_json()
        assert js["line"] == f.line and js["kind"] == f.kind


def test_ppc64_log_read_as_x86_finds_the_ppc64_vmemmap(corpus):
    """Under the wrong arch, the (pointer, pfn) pair still pins the vmemmap it came from."""
    text = sample_text("dump_page-12")
    cal = calibrate(text.splitlines(), "x86_64")
    assert (cal.vmemmap_base, cal.struct_page_size) == (0xC00C000000000000, 64)
    assert "ppc64" in cal.sources[0]
    page = [f for f in decode_text(text) if f.kind == "dump_page" and f.page]
    assert page[0].pfn == 0x77501


def test_page_fault_online_mode_reports_calibration_inline(corpus):
    """Without a prior pass the KASLR base is learnt at the walk line and reported there."""
    from pfnconsole.decode import decode_lines

    text = sample_text("page_fault-01")
    out = list(decode_lines(text.splitlines()))
    cal = [f for f in out if f.kind == "calibration"]
    assert len(cal) == 1 and cal[0].line == 8 and cal[0].virt == 0xFFFF8A0780000000
    assert [f.line for f in out] == sorted(f.line for f in out)
