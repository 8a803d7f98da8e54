"""`machine from-host` and `machine from FILE…`: machines built from this host, from a host
tree the test writes, and from the project's fixtures in each format; `blocks`, `sections`
and `zones` checked against what those files say."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from pfnconsole.commands import Session
from pfnconsole.commands import host as host_mod
from pfnconsole.commands.verbs import machine_from
from pfnconsole.decode.vmcoreinfo import read_vmcoreinfo

FIXTURES = Path(__file__).parent / "fixtures" / "machines"
IOMEM = FIXTURES / "iomem-x86_64-pmem.txt"
ZONEINFO = FIXTURES / "zoneinfo-x86_64.txt"
VMCORE_X86 = FIXTURES / "vmcoreinfo-x86_64-kaslr.txt"
VMCORE_ARM = FIXTURES / "vmcoreinfo-arm64.txt"
NDCTL = FIXTURES / "ndctl-list-RNu.json"
LSMEM = FIXTURES / "lsmem-zones.txt"
SYSMEM = Path("/sys/devices/system/memory")

TOP = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) : (.+)$")
ZONE = re.compile(r"^Node (\d+), zone +(\w+)$")


# --- what the files say, read here without the project's readers ---------------------------

def iomem_top(text: str) -> list[tuple[int, int, str]]:
    """Top-level (unindented) lines of /proc/iomem: (start, end, name)."""
    return [(int(m[1], 16), int(m[2], 16), m[3]) for m in map(TOP.match, text.splitlines()) if m]


def zoneinfo_populated(text: str) -> list[tuple[int, str, int, int, int]]:
    """(nid, zone, start_pfn, spanned, present) of each zone with present pages."""
    out, cur = [], None
    for line in text.splitlines():
        if m := ZONE.match(line):
            cur = {"nid": int(m[1]), "zone": m[2]}
            out.append(cur)
        elif cur is not None and (m := re.match(r"^\s+(spanned|present|start_pfn:)\s+(\d+)$", line)):
            cur[m[1].rstrip(":")] = int(m[2])
    return [(z["nid"], z["zone"], z["start_pfn"], z["spanned"], z["present"])
            for z in out if z.get("present")]


def sysfs_blocks(base: Path) -> list[tuple[int, int, str, str]]:
    """(id, phys_index, state, valid_zones) of each memoryN under ``base``."""
    out = []
    for d in base.iterdir():
        if re.fullmatch(r"memory\d+", d.name):
            out.append((int(d.name[6:]), int((d / "phys_index").read_text(), 16),
                        (d / "state").read_text().strip(), (d / "valid_zones").read_text().strip()))
    return sorted(out)


def block_rows(s: Session) -> list[tuple[int, int, str, str]]:
    r = s.execute("blocks --all --json")
    assert r.ok, r.error
    assert json.loads("\n".join(r.lines)) == r.data  # --json prints the data itself
    return [(row["first_block"], row["phys_index"], row["state"], row["zones"]) for row in r.data["rows"]]


def present_sections(s: Session) -> set[int]:
    r = s.execute("sections --json")
    assert r.ok, r.error
    return {nr for run in r.data["runs"] for nr in range(run["first"], run["last"] + 1)}


def zone_rows(s: Session) -> list[tuple[int, str, int, int, int]]:
    r = s.execute("zones --json")
    return [(z["nid"], z["zone"], z["start_pfn"], z["spanned"], z["present"]) for z in r.data["zones"]]


def _host_ok() -> bool:
    try:
        top = iomem_top(Path("/proc/iomem").read_text())
        return (os.uname().machine == "x86_64" and bool(top) and any(a for a, _, _ in top)
                and (SYSMEM / "block_size_bytes").exists() and Path("/proc/zoneinfo").exists()
                and len(list(Path("/sys/devices/system/node").glob("node[0-9]*"))) == 1)
    except OSError:
        return False


@pytest.mark.skipif(not _host_ok(), reason="needs root-readable /proc/iomem, memory blocks, one x86_64 node")
def test_machine_from_host_agrees_with_the_hosts_own_files():
    s = Session()
    r = s.execute("machine from-host")
    assert r.ok, r.error
    ram = [(a, b) for a, b, name in iomem_top(Path("/proc/iomem").read_text()) if name == "System RAM"]
    assert [(a, b) for a, b, t in r.data["ranges"] if t == 1] == ram
    bz = int((SYSMEM / "block_size_bytes").read_text(), 16)
    assert s.execute("blocks --json").data["block_size"] == bz
    host = sysfs_blocks(SYSMEM)
    assert block_rows(s) == [(i, idx, st, z if st == "online" else "") for i, idx, st, z in host]
    assert zone_rows(s) == zoneinfo_populated(Path("/proc/zoneinfo").read_text())
    per = bz >> 27
    in_blocks = {idx + k for _, idx, _, _ in host for k in range(per)}
    sections = present_sections(s)
    assert sections <= in_blocks and all(any(idx + k in sections for k in range(per)) for _, idx, _, _ in host)
    assert r.data["zones_agree"] and r.data["blocks_agree"]


# --- a host tree of the test's own ---------------------------------------------------------

def write_host(root: Path, *, zeroed: bool = False) -> None:
    """A 16 GiB x86_64 host as its files show it: the fixtures' iomem and zoneinfo, its
    128 MiB memory blocks (0-23, 32-135), one node and an nvdimm region."""
    (root / "proc/sys/kernel").mkdir(parents=True)
    iomem = IOMEM.read_text()
    if zeroed:
        iomem = re.sub(r"[0-9a-f]+-[0-9a-f]+ :", "00000000-00000000 :", iomem)
    (root / "proc/iomem").write_text(iomem)
    (root / "proc/zoneinfo").write_text(ZONEINFO.read_text())
    (root / "proc/cmdline").write_text("root=/dev/vda1 memmap=4G!17G memmap=4G!21G\n")
    (root / "proc/sys/kernel/osrelease").write_text("6.8.0-45-generic\n")
    (root / "uname-m").write_text("x86_64\n")
    (root / "pagesize").write_text("4096\n")
    mem = root / "sys/devices/system/memory"
    node = root / "sys/devices/system/node/node0"
    mem.mkdir(parents=True)
    node.mkdir(parents=True)
    (mem / "block_size_bytes").write_text("8000000\n")
    for block in [*range(24), *range(32, 136)]:
        d = mem / f"memory{block}"
        d.mkdir()
        (d / "phys_index").write_text(f"{block:08x}\n")
        (d / "state").write_text("online\n")
        zone = "none" if block == 0 else "DMA32" if block < 32 else "Normal"
        (d / "valid_zones").write_text(zone + "\n")
        (node / f"memory{block}").mkdir()
    region = root / "sys/bus/nd/devices/region0"
    region.mkdir(parents=True)
    (region / "resource").write_text("0x440000000\n")
    (region / "size").write_text("4294967296\n")


@pytest.fixture
def fake_host(tmp_path, monkeypatch):
    def use(**kw):
        write_host(tmp_path, **kw)
        monkeypatch.setattr(machine_from, "read_host", lambda root=None: host_mod.read_host(tmp_path))
        return tmp_path
    return use


def test_from_host_reads_every_source_and_says_what_is_missing(fake_host):
    fake_host()
    s = Session()
    r = s.execute("machine from-host")
    assert r.ok, r.error
    text = "\n".join(r.lines)
    assert r.data["kver"] == "6.8" and r.data["arch"] == "x86_64"
    assert r.data["pmem"] == [[0x440000000, 0x53FFFFFFF], [0x540000000, 0x63FFFFFFF]]
    assert r.data["zones_agree"] and r.data["blocks_agree"]
    assert "nvdimm region0: resource 0x440000000" in text
    assert "memmap=4G!17G" in text and "memmap=4G!21G" in text
    assert "not read: /proc/cpuinfo" in text  # the tree has none: named, not an error
    assert "ready: `memremap_pages pmem0 0x440000000 4G`" in text
    assert s.execute("memremap_pages pmem0 0x440000000 4G").ok
    assert s.execute("blocks --json").data["block_size"] == 128 << 20


def test_from_host_without_root_builds_the_map_from_the_memory_blocks(fake_host):
    fake_host(zeroed=True)
    s = Session()
    r = s.execute("machine from-host")
    assert r.ok, r.error
    assert "every address is 0" in "\n".join(r.lines)
    assert r.data["ranges"] == [[0, 0xBFFFFFFF, 1], [0x100000000, 0x43FFFFFFF, 1]]
    assert r.data["blocks_agree"]


def test_from_host_refuses_an_arch_it_does_not_model_and_changes_nothing(fake_host):
    root = fake_host()
    (root / "uname-m").write_text("s390x\n")
    s = Session()
    before = s.machine.fingerprint()
    r = s.execute("machine from-host")
    assert not r.ok and "s390x" in r.error
    assert s.machine.fingerprint() == before


# --- saved files, alone and combined --------------------------------------------------------

def test_files_combine_into_one_machine_with_each_ones_facts():
    s = Session()
    r = s.execute(f"machine from {IOMEM} {ZONEINFO} {VMCORE_X86} {NDCTL}")
    assert r.ok, r.error
    core = read_vmcoreinfo(VMCORE_X86.read_text())
    assert core is not None
    assert r.data["format"] == "iomem+zoneinfo+vmcoreinfo+ndctl"
    assert r.data["kver"] == "6.12" and r.data["struct_page"] == core.struct_page_size
    assert r.data["vmemmap_base"] == core.vmemmap  # SYMBOL(vmemmap) is vmemmap_base
    assert r.data["zones_agree"]
    assert [z["managed"] for z in s.execute("zones").data["zones"]] == [3840, 766000, 3330000]  # the file's
    assert [ns["mode"] for reg in r.data["ndctl"]["regions"] for ns in reg["namespaces"]] == ["devdax", "fsdax"]
    got = s.execute("decode 0x17ffffc0000020 abi=page_flags")
    assert got.ok and got.data["kver"] == "6.12" and got.data["exported_mismatches"] == []
    assert "all agree" in got.lines[-1]


def test_a_vmcoreinfo_whose_bits_differ_says_which(tmp_path):
    bad = tmp_path / "vmcoreinfo"
    bad.write_text(VMCORE_X86.read_text().replace("NUMBER(PG_lru)=5", "NUMBER(PG_lru)=6"))
    s = Session()
    assert s.execute(f"machine from {IOMEM} {bad}").ok
    got = s.execute("decode 0x20 abi=page_flags")
    assert got.data["exported_mismatches"] == [["PG_lru", 6, 5]]
    assert "PG_lru is bit 6 there, 5 here" in got.lines[-1]


def test_arm64_vmcoreinfo_sets_the_arch_and_phys_offset(tmp_path):
    iomem = tmp_path / "iomem"
    iomem.write_text("40000000-43ffffffff : System RAM\n  40210000-41ffffff : Kernel code\n")
    core = read_vmcoreinfo(VMCORE_ARM.read_text())
    assert core is not None
    s = Session()
    r = s.execute(f"machine from {iomem} {VMCORE_ARM}")
    assert r.ok, r.error
    assert r.data["arch"] == "arm64" and r.data["kver"] == "6.12"
    assert s.machine.state.spec.phys_offset == core.phys_offset == 0x40000000
    assert r.data["vmemmap_base"] == core.vmemmap


def test_lsmem_alone_gives_ram_to_the_block_and_its_blocks():
    s = Session()
    r = s.execute(f"machine from {LSMEM}")
    assert r.ok, r.error
    rows = s.execute("blocks --json").data["rows"]
    table = [line.split() for line in LSMEM.read_text().splitlines()[1:4]]
    assert [(f"{row['start']:#018x}-{row['end']:#018x}", f"{row['first_block']}-{row['last_block']}"
             if row["first_block"] != row["last_block"] else str(row["first_block"]), row["zones"].lower())
            for row in rows] == [(t[0], t[3], t[5].lower()) for t in table]


def test_a_file_without_a_map_says_what_it_is_and_what_to_add():
    s = Session()
    before = s.machine.fingerprint()
    for path, words in [(VMCORE_X86, "VMCOREINFO (x86_64"), (NDCTL, "no physical addresses"),
                        (ZONEINFO, "/proc/zoneinfo (5 zone(s) on 1 node(s))")]:
        r = s.execute(f"machine from {path}")
        assert not r.ok and words in r.error and "machine from iomem.txt" in r.error
    assert s.machine.fingerprint() == before


def test_nothing_is_built_half(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\nthis is not a memory map\n")
    s = Session()
    before = s.machine.fingerprint()
    for line, words in [(f"machine from {IOMEM} {notes}", "Tried ndctl list JSON"),
                        (f"machine from {IOMEM} {tmp_path / 'gone'}", "cannot read"),
                        (f"machine from {IOMEM} {VMCORE_X86} {VMCORE_ARM}", "different arches"),
                        (f"machine from {IOMEM} -", "goes alone")]:
        r = s.execute(line)
        assert not r.ok and words in r.error, (line, r.error)
        assert s.machine.fingerprint() == before
    r = s.execute(f"machine from {notes}")
    for name in ("VMCOREINFO", "/proc/iomem", "/proc/zoneinfo", "lsmem", "boot log", "daxctl"):
        assert name in r.error


def test_machine_from_dash_reads_the_pasted_text():
    s = Session()
    r = s.execute("machine from -\n" + IOMEM.read_text())
    assert r.ok and r.data["format"] == "iomem" and r.data["origin"] == "pasted text"


# --- the views ------------------------------------------------------------------------------

def test_sections_name_their_blocks_nodes_and_zones():
    s = Session()
    assert s.execute(f"machine from {IOMEM}").ok
    runs = s.execute("sections --json").data["runs"]
    first = runs[0]["places"]
    assert first[0] == {"first": 0, "last": 0, "blocks": [0, 0], "nid": 0, "zone": "DMA+DMA32"}
    assert first[1]["zone"] == "DMA32" and first[1]["blocks"] == [1, 23]
    assert s.execute("memremap_pages pmem0 0x440000000 4G").ok
    dev = s.execute("sections --json").data["runs"][-1]
    assert dev["zone_device"] and dev["places"] == [
        {"first": 136, "last": 167, "blocks": None, "nid": 0, "zone": "Device"}]
    assert len(block_rows(s)) == 128  # ZONE_DEVICE memory gets no memory blocks


@pytest.mark.parametrize(("ram", "size"), [("16G", 128 << 20), ("96G", 1 << 30), ("127G", 2 << 30)])
def test_x86_64_block_size_follows_the_end_of_boot_memory(ram, size):
    s = Session()
    assert s.execute(f"machine x86_64 ram={ram}").ok
    r = s.execute("blocks --json")
    end = max(b for a, b, t in [(x.start, x.end, x.type) for x in s.machine.state.physmap.ranges]
              if t.is_ram) + 1
    assert r.data["block_size"] == size and (size == 128 << 20 or end % size == 0)
    assert end < 64 << 30 or end % (2 * size) or size == 2 << 30  # the largest that divides


async def test_f4_builds_a_machine_from_a_pasted_iomem():
    from textual.widgets import TextArea

    from pfnconsole.tui.app import PfnApp
    session = Session()
    app = PfnApp(session)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        app.screen.query_one(TextArea).text = IOMEM.read_text()
        await pilot.click("#paste-machine")
        await pilot.pause()
    assert session.accepted[-1].startswith("machine from -\n")
    assert session.machine.state.spec.e820 is not None
    assert [r.start for r in session.machine.state.physmap.ranges if r.type.is_pmem] == [0x440000000, 0x540000000]
