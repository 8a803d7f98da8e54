"""Machines built from saved host files: /proc/iomem (kernel/resource.c r_show()) and the
zones it gives, checked against /proc/zoneinfo (mm/vmstat.c zoneinfo_show_print())."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from pfnconsole.commands import Session
from pfnconsole.decode.iomem import read_iomem
from pfnconsole.decode.zoneinfo import read_zoneinfo

FIXTURES = Path(__file__).parent / "fixtures" / "machines"
IOMEM = FIXTURES / "iomem-x86_64-pmem.txt"


def test_iomem_top_level_ranges_become_the_memory_map():
    got = read_iomem(IOMEM.read_text())
    assert got is not None and not got.zeroed and not got.skipped
    assert got.ranges() == (
        (0x0, 0xFFF, 2), (0x1000, 0x9FBFF, 1), (0x9FC00, 0x9FFFF, 2), (0xF0000, 0xFFFFF, 2),
        (0x100000, 0xBFFD6FFF, 1), (0xBFFD7000, 0xBFFFFFFF, 2), (0xFEFFC000, 0xFEFFFFFF, 2),
        (0xFFFC0000, 0xFFFFFFFF, 2), (0x100000000, 0x43FFFFFFF, 1),
        (0x440000000, 0x53FFFFFFF, 12), (0x540000000, 0x63FFFFFFF, 12))
    assert [r.name for r in got.namespaces()] == ["namespace0.0", "dax1.0"]
    assert [r.depth for r in got.resources if r.name.startswith("Kernel")] == [1, 1, 1, 1]


def test_machine_from_a_saved_iomem_builds_its_map_and_pmem(tmp_path):
    s = Session()
    r = s.execute(f"machine from-log {IOMEM}")
    assert r.ok, r.error
    assert r.data["format"] == "iomem"
    assert r.data["pmem"] == [[0x440000000, 0x53FFFFFFF], [0x540000000, 0x63FFFFFFF]]
    ram = sum(b - a + 1 for a, b, t in r.data["ranges"] if t == 1)
    assert r.data["ram_bytes"] == ram
    assert s.execute("page 0x100600").data["pfn_valid"] is True
    assert s.execute("page 0x440600").data["pfn_valid"] is False  # pmem: no struct pages yet


def test_root_less_iomem_is_refused_and_changes_nothing(tmp_path):
    zeroed = re.sub(r"[0-9a-f]+-[0-9a-f]+ :", "00000000-00000000 :", IOMEM.read_text())
    path = tmp_path / "iomem-user.txt"
    path.write_text(zeroed)
    got = read_iomem(zeroed)
    assert got is not None and got.zeroed and {t for *_, t in got.ranges()} == {1, 2, 12}  # names survive
    s = Session()
    before = s.machine.fingerprint()
    r = s.execute(f"machine from-log {path}")
    assert not r.ok and "CAP_SYS_ADMIN" in r.error and "as root" in r.error
    assert s.machine.fingerprint() == before


def test_a_file_of_no_known_format_names_the_formats_tried(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\nthis is not a memory map\n")
    s = Session()
    before = s.machine.fingerprint()
    r = s.execute(f"machine from-log {path}")
    assert not r.ok and "/proc/iomem" in r.error and "boot log" in r.error
    assert s.machine.fingerprint() == before


def test_a_dmesg_is_not_taken_for_iomem():
    text = "[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
    assert read_iomem(text) is None


def test_an_iomem_from_before_v4_1_names_type_12_persistent_ram():
    text = IOMEM.read_text().replace("Persistent Memory (legacy)", "Persistent RAM")
    got = read_iomem(text)
    assert got is not None and [t for *_, t in got.ranges()][-2:] == [12, 12]
    assert len(got.namespaces()) == 2


ZONEINFO = FIXTURES / "zoneinfo-x86_64.txt"


def test_zoneinfo_blocks_give_each_zone_its_pages_and_start_pfn():
    got = read_zoneinfo(ZONEINFO.read_text())
    assert got is not None
    assert [(z.name, z.start_pfn, z.spanned, z.present, z.managed) for z in got] == [
        ("DMA", 1, 4095, 3998, 3840), ("DMA32", 4096, 1044480, 782295, 766000),
        ("Normal", 1048576, 3407872, 3407872, 3330000), ("Movable", None, 0, 0, 0), ("Device", None, 0, 0, 0)]
    assert [z.populated for z in got] == [True, True, True, False, False]
    assert read_zoneinfo(IOMEM.read_text()) is None


def _populated(zones):
    return [(z.nid, z.name, z.start_pfn, z.spanned, z.present) for z in zones if z.populated]


def test_zones_of_the_iomem_machine_are_what_the_kernel_printed_for_it():
    s = Session()
    assert s.execute(f"machine from-log {IOMEM}").ok
    r = s.execute("zones")
    mine = [(z["nid"], z["zone"], z["start_pfn"], z["spanned"], z["present"]) for z in r.data["zones"]]
    assert mine == _populated(read_zoneinfo(ZONEINFO.read_text()))


def _host_readable() -> bool:
    try:
        iomem = read_iomem(Path("/proc/iomem").read_text())
        zones = read_zoneinfo(Path("/proc/zoneinfo").read_text())
    except OSError:
        return False
    return (iomem is not None and not iomem.zeroed and zones is not None
            and len({z.nid for z in zones}) == 1 and os.uname().machine == "x86_64"
            and not any(z.populated for z in zones if z.name not in ("DMA", "DMA32", "Normal")))


@pytest.mark.skipif(not _host_readable(), reason="needs a root-readable /proc/iomem and one x86_64 node")
def test_zones_of_this_host_built_from_its_iomem_agree_with_its_zoneinfo():
    s = Session()
    assert s.execute("machine from-log /proc/iomem").ok
    mine = [(z["nid"], z["zone"], z["start_pfn"], z["spanned"], z["present"])
            for z in s.execute("zones").data["zones"]]
    assert mine == _populated(read_zoneinfo(Path("/proc/zoneinfo").read_text()))


def test_a_zoneinfo_given_as_a_machine_says_what_it_is_and_changes_nothing():
    s = Session()
    before = s.machine.fingerprint()
    r = s.execute(f"machine from-log {ZONEINFO}")
    assert not r.ok and "/proc/zoneinfo (5 zone(s) on 1 node(s))" in r.error and "/proc/iomem" in r.error
    assert s.machine.fingerprint() == before
