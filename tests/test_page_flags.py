"""decode VALUE abi=page_flags: page->flags split by kernel version and configuration.

The vectors are words from real kernel logs (dump_page / bad_page `flags:` lines); from v5.13 the
kernel prints node=/zone=/lastcpupid= itself, so the whole printed text is checked.  Before v5.13
it printed the names only: there the names are checked, and the zone the layout gives is checked
against the pfn of the same log (above 4 GiB: NORMAL).
"""

from __future__ import annotations

import pytest

from pfnconsole.commands import Session
from pfnconsole.core.errors import EngineError
from pfnconsole.core.page_flags import enum_names, layout
from pfnconsole.core.page_flags_decode import decode, make_config

# (id, word, options, printed by the kernel, expected JSON values)
REAL = [
    ("v6.8-arm64-syzbot-bad_page", 0x5FFC0000000800C,
     "kver=6.8 arch=arm64 nr_cpus=8 zone_device=y",
     "0x5ffc0000000800c(referenced|uptodate|private|node=0|zone=2|lastcpupid=0x7ff)",
     {"node": 0, "zone": "NORMAL", "zone_nr": 2, "last_cpupid": 0x7FF,
      "flags": ["referenced", "uptodate", "private"]}),
    ("v6.11-next-x86_64-qemu-dump_page-slab", 0xFFFFFC0000000, "kver=6.11",
     "0xfffffc0000000(node=0|zone=1|lastcpupid=0x1fffff)",
     {"node": 0, "zone": "DMA32", "zone_nr": 1, "last_cpupid": 0x1FFFFF, "flags": []}),
    ("v6.2-x86_64-xfs-kasan-dump_page", 0x1FFFFF80010200, "kver=6.2 zone_device=n",
     "0x1fffff80010200(slab|head|node=0|zone=1|lastcpupid=0x1fffff)",
     {"node": 0, "zone": "DMA32", "zone_nr": 1, "flags": ["slab", "head"]}),
    ("v6.2-x86_64-pGt-patch-anon", 0x2FFFF0000080024,
     "kver=6.2 nodes_shift=6 nr_cpus=256 zone_device=n",
     "0x2ffff0000080024(uptodate|active|swapbacked|node=0|zone=2|lastcpupid=0xffff)",
     {"node": 0, "zone": "NORMAL", "last_cpupid": 0xFFFF,
      "flags": ["uptodate", "active", "swapbacked"]}),
    ("v6.10-x86_64-kasan-kunit-dump_page", 0x200000000000040,
     "kver=6.10 nodes_shift=6 zone_device=n numa_balancing=n",
     "0x200000000000040(head|node=0|zone=2)",
     {"node": 0, "zone": "NORMAL", "last_cpupid": None, "flags": ["head"]}),
    ("v6.18-arm64-android-swtags-dump_page", 0x6F80000000000000,
     "kver=6.18 arch=arm64 nodes_shift=0 kasan=sw zone_device=n",
     "0x6f80000000000000(zone=1|kasantag=0xbe)",
     {"node": None, "zone_nr": 1, "kasan_tag": 0xBE, "flags": []}),
    # Before v5.13: names only in the log; the zone is checked against the log's pfn.
    ("v5.10.35-x86_64-tempesta-dump_page-pfn0x100200", 0x17FFFFC0010000, "kver=5.10.35",
     "0x17ffffc0010000(head)",
     {"node": 0, "zone": "NORMAL", "last_cpupid": 0x1FFFFF, "flags": ["head"]}),
    ("v4.20-x86_64-popcorn-bad_page-pfn0x135ddd", 0x8000000000082034,
     "kver=4.20 nodes_shift=0 zone_device=n",
     "0x8000000000082034(uptodate|lru|active|private|swapbacked)",
     {"node": None, "zone": "NORMAL", "last_cpupid": None,
      "flags": ["uptodate", "lru", "active", "private", "swapbacked"]}),
]


def _run(line: str):
    s = Session()
    before = s.machine.fingerprint()
    r = s.execute(line)
    assert s.machine.fingerprint() == before
    return r


@pytest.mark.parametrize("word,opts,printed,expect", [r[1:] for r in REAL], ids=[r[0] for r in REAL])
def test_real_log_lines(word, opts, printed, expect):
    r = _run(f"decode {word:#x} abi=page_flags {opts}")
    assert r.ok, r.error
    for key, value in expect.items():
        assert r.data[key] == value, key
    assert r.data["printed"] == printed
    assert r.data["unknown_bits"] == []
    assert r.data["section"] is None
    assert printed in "\n".join(r.lines)


# Debian configurations (bounds.h NR_PAGEFLAGS, MAX_NR_ZONES) and where their fields sit.
DISTRO = [
    ("debian-6.1-amd64", "kver=6.1", 25,
     {"node": (54, 10), "zone": (51, 3), "last_cpupid": (30, 21), "lru_gen": (27, 3), "lru_refs": (25, 2)}),
    ("debian-6.1-arm64", "kver=6.1 arch=arm64", 24,
     {"node": (60, 4), "zone": (58, 2), "last_cpupid": (42, 16), "lru_gen": (39, 3), "lru_refs": (37, 2)}),
    ("debian-6.12-amd64", "kver=6.12", 24,
     {"node": (54, 10), "zone": (51, 3), "last_cpupid": (30, 21), "lru_gen": (27, 3), "lru_refs": (25, 2)}),
    ("debian-7.2-amd64", "kver=7.2", 25,
     {"node": (54, 10), "zone": (51, 3), "last_cpupid": (30, 21), "lru_gen": (27, 3), "lru_refs": (25, 2)}),
    ("debian-7.2-arm64", "kver=7.2 arch=arm64", 26,
     {"node": (60, 4), "zone": (57, 3), "last_cpupid": (40, 17), "lru_gen": (37, 3), "lru_refs": (35, 2)}),
]


@pytest.mark.parametrize("opts,nr,fields", [d[1:] for d in DISTRO], ids=[d[0] for d in DISTRO])
def test_distro_layouts(opts, nr, fields):
    r = _run(f"decode 0 abi=page_flags {opts}")
    assert r.ok, r.error
    assert r.data["nr_pageflags"] == nr
    assert {f["name"]: (f["lo"], f["hi"] - f["lo"] + 1) for f in r.data["fields"]} == fields


def test_enum_members_by_version():
    c612 = make_config("6.12")
    assert enum_names(c612)[19:] == ("mlocked", "hwpoison", "young", "idle", "arch_2")
    assert enum_names(make_config("7.2", "arm64"))[19:] == (
        "dropbehind", "mlocked", "hwpoison", "young", "idle", "arch_2", "arch_3")
    assert enum_names(make_config("6.1"))[21:] == ("mlocked", "uncached", "hwpoison", "arch_2")
    assert enum_names(make_config("4.14"))[7] == "waiters" and "workingset" not in enum_names(make_config("4.14"))


def test_print_order_is_table_order():
    # locked (bit 0) and waiters (bit 7) with v6.1's mmflags.h order: waiters right after locked,
    # error (8) before referenced (1).
    d = decode((1 << 0) | (1 << 1) | (1 << 7) | (1 << 8), make_config("6.1"))
    assert d.flags == ("locked", "waiters", "error", "referenced")
    d = decode((1 << 21) | (1 << 22), make_config("6.12"))      # young 21, idle 22
    assert d.flags == ("idle", "young")


def test_assumed_lists_every_default():
    r = _run("decode 0x17ffffc0000014 abi=page_flags")
    keys = {a.split("=")[0] for a in r.data["assumed"]}
    assert keys == {"kver", "arch", "nodes_shift", "nr_cpus", "zone_device", "memmodel",
                    "numa_balancing", "kasan", "lru_gen"}
    assert "assumed:" in "\n".join(r.lines)
    r = _run("decode 0x17ffffc0000014 abi=flags kver=5.10 arch=x86_64 nodes_shift=10 nr_cpus=8192"
             " zone_device=y memmodel=vmemmap numa_balancing=y kasan=none")
    assert r.ok and r.data["assumed"] == ["lru_gen=n (MGLRU starts with v6.1)"]
    assert r.data["flags"] == ["uptodate", "lru"]


def test_classic_sparse_has_a_section_field():
    # x86_64 classic SPARSEMEM: SECTIONS_SHIFT 46 - 27 = 19 at bits 45..63.
    word = (0x1234 << 45) | (1 << 42)
    r = _run(f"decode {word:#x} abi=page_flags kver=5.4 memmodel=sparse nodes_shift=6")
    assert r.ok, r.error
    assert r.data["section"] == 0x1234
    assert r.data["fields"][0] == {"name": "section", "hi": 63, "lo": 45, "value": 0x1234}
    assert r.data["printed"].startswith(f"{word:#x}(")


def test_unused_bits_are_reported():
    # v6.12 x86_64: NR_PAGEFLAGS 24, so bit 24 is neither a flag nor a field.
    r = _run("decode 0x1000000 abi=page_flags kver=6.12")
    assert r.ok and r.data["unknown_bits"] == [24]


def test_node_not_in_page_flags_is_a_note():
    lay = layout(make_config("6.1", memmodel="sparse", nodes_shift="10", nr_cpus="8192"))
    assert lay.field("last_cpupid") is None
    assert any("LAST_CPUPID_NOT_IN_PAGE_FLAGS" in n for n in lay.notes)


@pytest.mark.parametrize("line,needle", [
    ("decode 0x10000000000000000 abi=page_flags", "64 bits"),
    ("decode 0x1 abi=page_flags kver=3.10", "v4.14 .. v7.2"),
    ("decode 0x1 abi=page_flags kver=banana", "not understood"),
    ("decode 0x1 abi=page_flags kasan=sw", "arm64 only"),
    ("decode 0x1 abi=page_flags arch=arm64 kver=4.19 kasan=sw", "v5.0"),
    ("decode 0x1 abi=page_flags nodes_shift=11", "impossible"),
    ("decode 0x1 abi=page_flags nr_cpus=0", "impossible"),
    ("decode 0x1 abi=page_flags kver=5.4 lru_gen=y", "v6.1"),
    ("decode 0x1 abi=page_flags nodes_shift=0 numa_balancing=y", "NUMA"),
    ("decode 0x1 abi=page_flags arch=sparc", "not one of"),
    ("decode 0x1 abi=page_flags zone_device=maybe", "not one of"),
    ("decode 0x1 abi=page_flags dma_flags=1", "abi=sg"),
    ("decode 0x1 abi=pfn_t nodes_shift=3", "abi=page_flags"),
])
def test_bad_input_is_refused_and_changes_nothing(line, needle):
    r = _run(line)
    assert not r.ok
    assert needle in r.error
    assert "Traceback" not in r.error


def test_core_rejects_non_words():
    with pytest.raises(EngineError):
        decode(-1, make_config())
    with pytest.raises(EngineError):
        decode(True, make_config())
