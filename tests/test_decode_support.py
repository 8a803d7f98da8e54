"""Issue 17, "No pfn the log does not support": one test per rule.

A finding carries a pfn only when the log gives it, or when the address is translated
with a layout the log confirms (a (pointer, pfn) pair, a page-table walk), or with the
default layout when the log shows no sign of randomisation and the result lies inside its
memory map (below `layout.PLAUSIBLE_RAM` without one).  Everything else is an ``address``
finding: a kind, a reason, no pfn.

Every log here is composed from kernel format strings (named beside each), with numbers
of our own; none is copied from a real log.
"""

from __future__ import annotations

from pathlib import Path

from pfnconsole.decode import Calibration, Kind, calibrate, decode_lines, decode_text
from pfnconsole.decode.layout import KASLR_UNKNOWN, PLAUSIBLE_RAM, make_layout

FIXTURE = Path(__file__).parent / "fixtures" / "decode" / "issue17_support.log"
DEFAULT_PO = 0xFFFF888000000000  # __PAGE_OFFSET_BASE_L4
VMEMMAP = 0xFFFFEA0000000000  # __VMEMMAP_BASE_L4
TS = "[  100.000000] "

# arch/x86/kernel/e820.c e820__print_table(): "%s: [mem %#018Lx-%#018Lx] " + e820_print_type()
E820_8G = (f"{TS}BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
           f"{TS}BIOS-e820: [mem 0x0000000000100000-0x000000007fffffff] usable\n"
           f"{TS}BIOS-e820: [mem 0x0000000100000000-0x000000027fffffff] usable\n")
# arch/x86/kernel/setup.c dump_kernel_offset():
# "Kernel Offset: 0x%lx from 0x%lx (relocation range: 0x%lx-0x%lx)"
KERNEL_OFFSET = (f"{TS}Kernel Offset: 0x2a400000 from 0xffffffff81000000 "
                 "(relocation range: 0xffffffff80000000-0xffffffffbfffffff)\n")


def log_text(path: Path) -> str:
    return "\n".join(ln for ln in path.read_text().splitlines() if not ln.startswith("#")) + "\n"


def pfns(out):
    return [f for f in out if f.pfn is not None]


def one(out, kind, **fields):
    got = [f for f in out if f.kind == kind and all(getattr(f, k) == v for k, v in fields.items())]
    assert len(got) == 1, (kind, fields, out)
    return got[0]


def l1tf(pfn: int, low: int = 0x060) -> int:
    """A not-present x86 PTE as the L1TF mitigation stores it: pfn field inverted."""
    return (1 << 63) | ((~(pfn << 12)) & 0x000FFFFFFFFFF000) | low


# --- where a pfn may come from -------------------------------------------------------------

def test_the_log_gives_the_pfn_even_in_a_randomised_log():
    # mm/debug.c __dump_page(): "page:%p refcount:%d mapcount:%d mapping:%p index:%#lx pfn:%#lx"
    text = KERNEL_OFFSET + (f"{TS}page:000000006b1c2d3e refcount:0 mapcount:0 mapping:0000000000000000 "
                            "index:0x0 pfn:0x13a57\n")
    out = decode_text(text)
    assert one(out, Kind.DUMP_PAGE, line=2).pfn == 0x13A57
    assert calibrate(text.splitlines()).randomised.startswith("'Kernel Offset: 0x2a400000")


def test_a_pointer_pfn_pair_confirms_a_randomised_vmemmap():
    base = 0xFFFFD3A1C0000000  # vmemmap_base: 1 GiB aligned inside the KASLR window
    text = KERNEL_OFFSET + (
        f"{TS}page:{base + 0x2B1C4 * 64:016x} refcount:1 mapcount:0 mapping:0000000000000000 "
        "index:0x7 pfn:0x2b1c4\n"
        # mm/debug.c __dump_page(): "head:%p order:%u ..." (a compound tail, its head two pages back)
        f"{TS}head:{base + 0x2B1C2 * 64:016x} order:2 entire_mapcount:0 nr_pages_mapped:0 pincount:0\n")
    cal = calibrate(text.splitlines())
    assert cal.vmemmap_base == base and "KASLR" in cal.sources[0]
    out = decode_text(text)
    head = [f for f in out if f.page == base + 0x2B1C2 * 64 and f.pfn is not None]
    assert head and all(f.pfn == 0x2B1C2 for f in head)


def test_a_walk_with_a_present_leaf_gives_the_pfn():
    base = 0xFFFF9F2C80000000
    pfn = 0x7E3D1
    addr = base + (pfn << 12) + 0x48
    # arch/x86/mm/fault.c show_fault_oops() and dump_pagetable()
    text = (f"{TS}BUG: unable to handle page fault for address: {addr:016x}\n"
            f"{TS}#PF: supervisor write access in kernel mode\n"
            f"{TS}#PF: error_code(0x0003) - permissions violation\n"
            f"{TS}PGD 2c01067 P4D 2c01067 PUD 1bfe3c063 PMD 1bfe3b063 PTE 800000007e3d1161\n")
    out = decode_text(text)
    assert one(out, Kind.PAGE_FAULT).pfn == pfn
    assert one(out, Kind.PTE, type="PTE").pfn == pfn
    # under the default base the address is 6.0 TiB into the direct map: beyond the bound
    assert (addr - DEFAULT_PO) >= PLAUSIBLE_RAM
    assert make_layout("x86_64", None).va_to_phys(addr) is None


def test_default_layout_no_sign_inside_the_memory_map():
    text = E820_8G + (f"{TS}some_driver: buffer at ffff888201c4a0c0, page {VMEMMAP + 0x201C4 * 64:016x}\n")
    out = decode_text(text)
    dm = one(out, Kind.DIRECT_MAP)
    assert (dm.pfn, dm.phys) == (0x201C4A, 0x201C4A0C0)
    assert "inside the log's memory map" in dm.note and "0x280000000" in dm.note
    assert one(out, Kind.STRUCT_PAGE).pfn == 0x201C4
    assert calibrate(text.splitlines()).phys_end == 0x280000000


def test_default_layout_without_a_map_below_the_bound():
    text = f"{TS}some_driver: buffer at ffff88a3c01a9000\n"  # 0x23c01a9000: 143 GiB
    out = decode_text(text)
    dm = one(out, Kind.DIRECT_MAP)
    assert dm.pfn == 0x23C01A9
    assert "below 4 TiB with no memory map" in dm.note and "no sign of randomisation" in dm.note


# --- refusals -------------------------------------------------------------------------------

def test_refused_when_the_log_shows_randomisation():
    text = KERNEL_OFFSET + f"{TS}some_driver: buffer at ffff88a3c01a9000\n"
    out = decode_text(text)
    assert not pfns(out)
    addr = one(out, Kind.ADDRESS)
    assert addr.virt == 0xFFFF88A3C01A9000 and addr.type == KASLR_UNKNOWN
    assert "randomised" in addr.note and "Kernel Offset" in addr.note


def test_refused_outside_the_memory_map():
    text = E820_8G + f"{TS}some_driver: buffer at ffff888a40010000\n"  # 41 GiB: past 10 GiB of RAM
    out = decode_text(text)
    assert not [f for f in pfns(out) if f.kind != Kind.E820]
    addr = one(out, Kind.ADDRESS)
    assert "beyond the log's memory map" in addr.note and "0xa40010000" in addr.note


def test_refused_beyond_the_plausible_bound_without_a_map():
    # a heap pointer of a randomised direct map read with the default base: 22.5 TiB
    text = f"{TS}some_driver: object ffff9e2b17c3a400 freed twice\n"
    out = decode_text(text)
    assert not pfns(out)
    addr = one(out, Kind.ADDRESS)
    assert addr.type == KASLR_UNKNOWN and "4 TiB" in addr.note


def test_refused_stack_pointer_register():
    # arch/x86/kernel/dumpstack.c show_iret_regs(): "%sRSP: %04x:%016lx EFLAGS: %08lx"; the value
    # would be 19 GiB into the default direct map, below the bound: refused as a stack pointer
    text = (f"{TS}RSP: 0018:ffff8884c0f3bd08 EFLAGS: 00010282\n"
            # arch/arm64/kernel/process.c __show_regs(): "sp : %016llx"
            f"{TS}sp : ffff8884c0f3bd10\n")
    out = decode_text(text)
    assert not pfns(out)
    assert [f.type for f in out if f.kind == Kind.ADDRESS] == ["stack", "stack"]
    assert "register RSP" in out[0].note


def test_refused_arm64_stack_pointer_and_unknown_linear_map():
    vmemmap_start, linear = 0xFFFFFDFFC0000000, 0xFFFF000000000000  # arm64 48-bit VA, 4K pages
    base = vmemmap_start - 0x40000 * 64  # memstart_addr 0x40000000
    text = (f"{TS}page:{base + 0x43210 * 64:016x} refcount:1 mapcount:0 mapping:0000000000000000 "
            "index:0x0 pfn:0x43210\n"
            # arch/arm64/kernel/process.c __show_regs(): "sp : %016llx", "x%-2d: %016llx"
            f"{TS}sp : {linear + 0x3C0F3BD10:016x}\n"
            f"{TS}x29: {linear + 0x3C0F3BD20:016x} x28: {base + 0x43211 * 64:016x}\n")
    out = decode_text(text, arch="arm64")
    assert one(out, Kind.ADDRESS, line=2).type == "stack"
    x29 = one(out, Kind.ADDRESS, line=3)
    assert x29.type == "direct map (base unknown)" and "PHYS_OFFSET" in x29.note
    assert one(out, Kind.STRUCT_PAGE, line=3).pfn == 0x43211  # memstart solved by the pair


def test_a_log_with_no_page_in_it_yields_no_pfn():
    # an oops with only registers and a call trace (arch/x86/kernel/dumpstack.c, process_64.c)
    text = (f"{TS}general protection fault, probably for non-canonical address 0xdead000000000122: 0000 [#1] SMP PTI\n"
            f"{TS}CPU: 3 PID: 2718 Comm: kworker/3:1 Not tainted 6.6.12 #1\n"
            f"{TS}RIP: 0010:list_del_entry_valid+0x2c/0xb0\n"
            f"{TS}RSP: 0018:ffffb3d2c1a37c58 EFLAGS: 00010246\n"
            f"{TS}RAX: dead000000000122 RBX: ffff9d8e4a7f1c00 RCX: dead000000000100\n"
            f"{TS}RDX: ffff9d8e4a7f1c08 RSI: ffffb3d2c1a37c60 RDI: ffff9d8e4a7f1c00\n"
            f"{TS}RBP: ffffb3d2c1a37c70 R08: 0000000000000000 R09: ffffffffc0a43b20\n"
            f"{TS}FS:  0000000000000000(0000) GS:ffff9d95dfcc0000(0000) knlGS:0000000000000000\n"
            f"{TS}Call Trace:\n"
            f"{TS} <TASK>\n"
            f"{TS} process_one_work+0x174/0x340\n"
            f"{TS} worker_thread+0x27b/0x3a0\n"
            f"{TS} </TASK>\n")
    for out in (decode_text(text), list(decode_lines(text.splitlines()))):
        assert not [f for f in out if f.pfn is not None or f.phys is not None], out
        assert {f.type for f in out if f.kind == Kind.ADDRESS} >= {"stack", KASLR_UNKNOWN}


def test_kaslr_base_inferred_from_the_walk_and_stated():
    base = 0xFFFF8B1240000000  # page_offset_base: 2.6 TiB above the default, under the bound
    pfn = 0x2468AC
    addr = base + (pfn << 12) + 0x3B0
    text = (f"{TS}BUG: unable to handle page fault for address: {addr:016x}\n"
            f"{TS}#PF: supervisor read access in kernel mode\n"
            f"{TS}#PF: error_code(0x0000) - not-present page\n"
            f"{TS}PGD 1f4a01067 P4D 1f4a01067 PUD 23ff3e067 PMD 23ff3d067 PTE {l1tf(pfn):x}\n")
    wrong = (addr - DEFAULT_PO) >> 12  # what the default base would say
    assert wrong << 12 < PLAUSIBLE_RAM
    cal = calibrate(text.splitlines())
    assert cal.page_offset == base and base % (1 << 30) == 0
    assert "1 GiB aligned" in cal.sources[0] and f"{base:#x}" in cal.sources[0]
    assert "solved at" in cal.randomised
    out = decode_text(text)
    assert one(out, Kind.PAGE_FAULT).pfn == pfn
    assert one(out, Kind.CALIBRATION).virt == base
    assert wrong not in {f.pfn for f in out}
    # read as it streams: the fault line waits for its walk rather than take the default
    online = list(decode_lines(text.splitlines()))
    assert one(online, Kind.PAGE_FAULT).pfn is None
    assert wrong not in {f.pfn for f in online}


def test_the_fixture_a_randomised_oops():
    out = decode_text(log_text(FIXTURE))
    cal = calibrate(log_text(FIXTURE).splitlines())
    assert cal.page_offset == 0xFFFF8B1240000000 and cal.phys_end == 0x440000000
    assert "Kernel Offset" in cal.randomised
    assert one(out, Kind.PAGE_FAULT).pfn == 0x2468AC
    assert one(out, Kind.ADDRESS, type="stack").virt == 0xFFFFB4E1C0C17D28
    assert one(out, Kind.DIRECT_MAP, virt=0xFFFF8B1245E1F800).pfn == 0x5E1F  # RBX, confirmed base
    assert one(out, Kind.ADDRESS, virt=0xFFFFEA0009D1A2C0).pfn is None  # default vmemmap: randomised
    assert all(f.phys < cal.phys_end for f in out if f.pfn is not None and f.kind in
               (Kind.DIRECT_MAP, Kind.STRUCT_PAGE, Kind.PAGE_FAULT))


# --- pass 1: the memory map's extent and the signs ----------------------------------------

def test_memory_extent_from_each_kind_of_line():
    cases = {
        # mm/mm_init.c free_area_init(): "  %-8s " "[mem %#018Lx-%#018Lx]\n"
        f"{TS}  Normal   [mem 0x0000000100000000-0x000000047fffffff]\n": 0x480000000,
        # mm/mm_init.c: "  node %3d: [mem %#018Lx-%#018Lx]\n"
        f"{TS}  node   1: [mem 0x0000000880000000-0x0000000fffffffff]\n": 0x1000000000,
        # arch/x86/kernel/e820.c e820_end_pfn(): "last_pfn = %#lx max_arch_pfn = %#lx"
        f"{TS}e820: last_pfn = 0x2c0000 max_arch_pfn = 0x400000000\n": 0x2C0000000,
        # e820__print_table() of the user-defined map, a pmem range
        f"{TS}user: [mem 0x0000000280000000-0x00000002bfffffff] persistent (type 12)\n": 0x2C0000000,
        # mm/mm_init.c mem_init_print_info(): "Memory: %luK/%luK available" (a size: plus 4 GiB)
        f"{TS}Memory: 8000000K/8388608K available (16384K kernel code)\n": (8 << 30) + (4 << 30),
    }
    for line, end in cases.items():
        cal = calibrate([line])
        assert cal.phys_end == end, (line, cal)
        assert "line 1" in cal.phys_end_how
    # not RAM: drivers/acpi/numa/srat.c "SRAT: Node %u PXM %u [mem %#010Lx-%#010Lx]%s%s" with
    # " hotplug"; arch/x86/kernel/e820.c e820__range_remove() "e820: remove [mem %#010Lx-%#010Lx] "
    assert calibrate([f"{TS}ACPI: SRAT: Node 1 PXM 1 [mem 0x100000000-0xfffffffff] hotplug\n"]).phys_end is None
    assert calibrate([f"{TS}e820: remove [mem 0x100000000-0x1ffffffff] usable\n"]).phys_end is None
    # ppc64 arch/powerpc/kernel/setup-common.c: "phys_mem_size     = 0x%llx"
    assert calibrate([f"{TS}phys_mem_size     = 0x200000000\n"], "ppc64").phys_end == 0x300000000


def test_signs_of_randomisation_and_of_none():
    assert calibrate([f"{TS}Kernel Offset: disabled\n"]).nokaslr
    assert calibrate([f"{TS}Command line: BOOT_IMAGE=/vmlinuz root=/dev/sda1 nokaslr\n"]).nokaslr
    assert not calibrate([f"{TS}Command line: BOOT_IMAGE=/vmlinuz nokaslrx=1\n"]).nokaslr
    # arch/arm64/kernel/kaslr.c kaslr_init(): "KASLR enabled", "KASLR disabled on command line"
    assert calibrate([f"{TS}KASLR enabled\n"], "arm64").randomised == "'KASLR enabled', line 1"
    assert calibrate([f"{TS}KASLR disabled on command line\n"], "arm64").nokaslr
    assert calibrate([KERNEL_OFFSET]).randomised
    assert not calibrate([f"{TS}Kernel Offset: 0x0 from 0xffffffff81000000\n"]).randomised
    # nokaslr: an address in the KASLR window is read by the fixed table
    lay = make_layout("x86_64", calibrate([f"{TS}Command line: ro nokaslr\n"]))
    assert lay.address_kind(0xFFFFC90000123000) == "vmalloc"
    assert make_layout("x86_64", None).address_kind(0xFFFFC90000123000) == KASLR_UNKNOWN


def test_address_kinds_outside_the_window():
    lay = make_layout("x86_64", None)
    assert lay.address_kind(0xFFFFFFFF8123ABCD) == "kernel text"
    assert lay.address_kind(0xFFFFFFFFC0A43B20) == "modules"
    assert lay.address_kind(0x00007FFD1C2B3A40) == "user"
    assert lay.address_kind(0x0000900000000000) == "unknown"
    assert "not in the direct map" in lay.no_pfn_reason(0xFFFFFFFF8123ABCD)


def test_calibration_still_builds_positionally():
    cal = Calibration(VMEMMAP, 64, DEFAULT_PO, 12, ("vmemmap: x",))
    assert (cal.phys_end, cal.randomised, cal.nokaslr, cal.walks) == (None, "", False, ())
    assert make_layout("x86_64", cal).vmemmap_confirmed


def test_refused_when_the_walk_names_another_page():
    # the walk's leaf gives a base no layout has (not 1 GiB aligned): it confirms nothing,
    # and it vetoes the default base's pfn 0x123456 for this address
    text = (f"{TS}BUG: unable to handle page fault for address: ffff888123456789\n"
            f"{TS}#PF: supervisor read access in kernel mode\n"
            f"{TS}PGD 3a01067 P4D 3a01067 PUD 3a02067 PMD 1123c2063 PTE 800000007a3b1061\n"
            # arch/x86/kernel/process_64.c __show_regs(): "CR2: %016lx CR3: %016lx CR4: %016lx"
            f"{TS}CR2: ffff888123456789 CR3: 0000000003a0a000 CR4: 00000000003706f0\n")
    cal = calibrate(text.splitlines())
    assert not cal.sources and cal.walks == ((0xFFFF888123456789, 0x7A3B1789, True),)
    out = decode_text(text)
    assert one(out, Kind.PAGE_FAULT).pfn is None
    assert one(out, Kind.PTE, type="PTE").pfn == 0x7A3B1  # the log gives this one
    cr2 = one(out, Kind.ADDRESS, line=4)
    assert "page-table walk" in cr2.note and "0x7a3b1789" in cr2.note
    assert 0x123456 not in {f.pfn for f in out}
