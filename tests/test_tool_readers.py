"""The pasted tool outputs: ``ndctl list`` / ``daxctl list`` JSON (pmem/ndctl ndctl/list.c,
ndctl/json.c, daxctl/json.c, util/json.c) and util-linux ``lsmem`` (sys-utils/lsmem.c), read
from the machine fixtures (see fixtures/machines/TOOLS.md) and from variants of them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pfnconsole.decode.lsmem import read_lsmem, size_to_human
from pfnconsole.decode.ndctl import MODES, DaxDevice, human_bounds, read_daxctl, read_ndctl

FIXTURES = Path(__file__).parent / "fixtures" / "machines"
RN = (FIXTURES / "ndctl-list-RN.json").read_text()
RNU = (FIXTURES / "ndctl-list-RNu.json").read_text()
DAX = (FIXTURES / "daxctl-list.json").read_text()
LSMEM = (FIXTURES / "lsmem.txt").read_text()
ZONES = (FIXTURES / "lsmem-zones.txt").read_text()
IOMEM = (FIXTURES / "iomem-x86_64-pmem.txt").read_text()
ZONEINFO = (FIXTURES / "zoneinfo-x86_64.txt").read_text()
DMESG = (Path(__file__).parent / "fixtures" / "decode" / "boot_x86.log").read_text()[:20_000]
GiB, MiB = 1 << 30, 1 << 20
DATA = 4 * GiB - 66 * MiB  # nd_pfn_init(): 8K info block + 64-byte struct page per 4K page, 2M-aligned


def display_size(b: int) -> str:
    """util/json.c display_size() as JSON text (the -u serializer), for the round trip."""
    if b < 5000 << 10:
        return str(b)
    iec, unit, jedec, step = (("MiB", MiB, "MB", 10**6) if b < 2 * GiB else
                              ("GiB", GiB, "GB", 10**9) if b < 2 << 40 else ("TiB", 1 << 40, "TB", 10**12))
    c, d = (b * 200 // unit + 1) // 2, (b // (step // 200) + 1) // 2
    return f'"{c // 100}.{c % 100:02d} {iec} ({d // 100}.{d % 100:02d} {jedec})"'


def bounds(text: str) -> tuple[int, int]:
    got = human_bounds(text)
    assert got is not None, text
    return got


def n(v: int | None) -> int:
    assert v is not None
    return v


def daxctl(text: str) -> list[DaxDevice]:
    got = read_daxctl(text)
    assert got is not None
    return got


# --- ndctl list ------------------------------------------------------------------------------

def test_ndctl_RN_regions_namespaces_sizes_and_modes():
    got = read_ndctl(RN)
    assert got is not None and got.problems == () and got.namespaces_alone == ()
    regions = {r.dev: r for r in got.regions}
    assert [r.dev for r in got.regions] == ["region1", "region0"]  # sysfs order, kept
    for r in regions.values():
        assert (r.size, r.align, r.available_size, r.type) == (4 * GiB, 16 * MiB, 0, "pmem")
        assert r.start is None and r.iset_id is None and r.rounded == ()  # ndctl prints no "resource"
        assert r.persistence_domain == "unknown" and r.numa_node is None  # numa_node only with -v
        assert len(r.namespaces) == 1
    fs, = regions["region0"].namespaces
    dax, = regions["region1"].namespaces
    assert (fs.dev, fs.mode, fs.map, fs.size, fs.align, fs.blockdev, fs.chardev, fs.sector_size) == (
        "namespace0.0", "fsdax", "dev", DATA, 2 * MiB, "pmem0", None, 512)
    assert (dax.dev, dax.mode, dax.map, dax.size, dax.chardev, dax.blockdev, dax.sector_size) == (
        "namespace1.0", "devdax", "dev", DATA, "dax1.0", None, None)
    assert fs.region == "region0" and dax.region == "region1"
    assert fs.uuid == "c2a4f7e9-81d3-4b6a-a5e0-7f9d3c1b2a46"
    assert got.namespaces() == (dax, fs)


def test_ndctl_RNu_agrees_with_the_byte_form_and_says_what_is_rounded():
    exact, human = read_ndctl(RN), read_ndctl(RNU)
    assert exact is not None and human is not None
    assert [r.dev for r in human.regions] == [r.dev for r in exact.regions]
    raw = json.loads(RNU)["regions"]
    for e, h, j in zip(exact.regions, human.regions, raw, strict=True):
        assert h.rounded == ("size", "align")
        assert h.size == e.size == 4 * GiB and h.align == e.align  # 4.00 GiB, 16.00 MiB: nominal = exact
        lo, hi = bounds(j["size"])
        assert lo <= n(e.size) < hi and display_size(n(e.size)) == json.dumps(j["size"])
        (en,), (hn,), (jn,) = e.namespaces, h.namespaces, j["namespaces"]
        assert hn.rounded == ("size",) and hn.size != en.size  # "3.94 GiB" is not exact
        lo, hi = bounds(jn["size"])
        assert lo <= n(en.size) < hi and lo <= n(hn.size) < hi and abs(n(hn.size) - n(en.size)) < 0.005 * GiB
        assert (hn.mode, hn.map, hn.align, hn.chardev, hn.blockdev) == (en.mode, en.map, en.align, en.chardev, en.blockdev)
    assert len(human.problems) == 6 and all("rounded" in p for p in human.problems)
    assert any("'3.94 GiB (4.23 GB)'" in p for p in human.problems)


@given(st.integers(5000 << 10, 1 << 50))
@settings(max_examples=300, deadline=None)
def test_human_bounds_hold_every_size_display_size_prints_so(b):
    text = json.loads(display_size(b))
    lo, hi = bounds(text)
    assert lo <= b < hi
    assert json.loads(display_size(lo)) == json.loads(display_size(hi - 1)) == text
    assert json.loads(display_size(lo - 1)) != text != json.loads(display_size(hi))  # and no wider


def test_human_bounds_refuse_a_disagreeing_or_misunit_figure():
    assert human_bounds("4.00 GiB (4.29 GB)") is not None
    assert human_bounds("4.00 GiB (9.99 GB)") is None   # IEC and JEDEC disagree
    assert human_bounds("4.00 GiB (4.29 MB)") is None   # units of two scales
    assert human_bounds("1.00 MiB (1.05 MB)") is None   # below 5000 KiB ndctl prints the number


def test_ndctl_N_is_a_bare_list_of_namespaces_with_their_region_from_the_name():
    ns = json.loads(RN)["regions"][1]["namespaces"]
    got = read_ndctl("# ndctl list -N\n" + json.dumps(ns, indent=2) + "\n$ ")
    assert got is not None and got.regions == () and got.problems == ("text after the JSON ignored",)
    n, = got.namespaces_alone
    assert (n.dev, n.region, n.mode, n.size) == ("namespace0.0", "region0", "fsdax", DATA)


def test_ndctl_u_with_one_element_prints_it_bare_and_R_lists_regions():
    one = json.loads(RNU)["regions"][1]["namespaces"][0]  # util_display_json_array(): -u, one -> bare
    got = read_ndctl(json.dumps(one))
    assert got is not None and got.namespaces_alone[0].dev == "namespace0.0"
    regions = [{k: v for k, v in r.items() if k != "namespaces"} for r in json.loads(RN)["regions"]]
    got = read_ndctl(json.dumps(regions))
    assert got is not None and [r.dev for r in got.regions] == ["region1", "region0"]
    assert all(r.namespaces == () for r in got.regions)


def test_ndctl_old_mode_names_verbose_nodes_iset_and_a_bus_listing():
    doc = json.loads(RN)
    r1, r0 = doc["regions"]
    r0["namespaces"][0]["mode"], r1["namespaces"][0]["mode"] = "memory", "dax"  # before v60
    r0.update(numa_node=0, target_node=1, iset_id=-6382611090938810793)
    r1["iset_id"] = "0xa76c6907811fae57"  # -u: util_json_object_hex()
    bus = [{"provider": "e820", "dev": "ndbus0", "regions": doc["regions"]}]
    got = read_ndctl(json.dumps(bus))
    assert got is not None and got.problems == ()
    g1, g0 = got.regions
    assert [n.mode for n in got.namespaces()] == ["devdax", "fsdax"]
    assert [n.mode_name for n in got.namespaces()] == ["dax", "memory"] and MODES["memory"] == "fsdax"
    assert (g0.numa_node, g0.target_node) == (0, 1)
    assert g0.iset_id == g1.iset_id == 0xA76C6907811FAE57  # signed int64 and hex name the same cookie


def test_ndctl_a_resource_key_is_read_as_the_start_when_present():
    doc = json.loads(RN)
    doc["regions"][1]["resource"] = "0x440000000"
    doc["regions"][0]["resource"] = 0x540000000
    got = read_ndctl(json.dumps(doc))
    assert got is not None and [r.start for r in got.regions] == [0x540000000, 0x440000000]


def test_ndctl_bad_values_are_problems_not_errors():
    doc = json.loads(RN)
    doc["regions"][0].update(size="lots", align=-5, available_size=1.5)
    doc["regions"].append({"foo": 1})
    got = read_ndctl(json.dumps(doc))
    assert got is not None and got.regions[0].size is None and got.regions[0].align is None
    assert len(got.problems) == 4 and any("not an ndctl object" in p for p in got.problems)


# --- daxctl list ------------------------------------------------------------------------------

def test_daxctl_list_gives_the_devdax_device():
    dev, = daxctl(DAX)
    assert (dev.chardev, dev.size, dev.target_node, dev.align, dev.mode) == ("dax1.0", DATA, 0, 2 * MiB, "devdax")
    assert dev.movable is None and dev.region is None and dev.mappings == () and dev.rounded == ()
    exact = read_ndctl(RN)
    assert exact is not None and exact.regions[0].namespaces[0].chardev == dev.chardev
    assert exact.regions[0].namespaces[0].size == dev.size


def test_daxctl_u_regions_devices_mappings_and_system_ram():
    text = """{
  "path":"\\/platform\\/e820\\/ndbus0\\/region1\\/dax1.0",
  "id":1,
  "size":"3.94 GiB (4.23 GB)",
  "align":2097152,
  "devices":[
    {
      "chardev":"dax1.0",
      "size":"3.94 GiB (4.23 GB)",
      "target_node":0,
      "align":2097152,
      "mode":"system-ram",
      "online_memblocks":31,
      "total_memblocks":31,
      "movable":true,
      "mappings":[
        {
          "page_offset":"0",
          "start":"0x544200000",
          "end":"0x63fffffff",
          "size":"3.94 GiB (4.23 GB)"
        }
      ]
    }
  ]
}"""
    dev, = daxctl(text)
    assert (dev.region, dev.mode, dev.movable, dev.online_memblocks, dev.total_memblocks) == (
        1, "system-ram", True, 31, 31)
    assert dev.rounded == ("size",) and abs(n(dev.size) - DATA) < 0.005 * GiB
    m, = dev.mappings
    assert (m.start, m.end, m.page_offset) == (0x540000000 + 66 * MiB, 0x63FFFFFFF, 0)
    assert n(m.end) - n(m.start) + 1 == DATA
    assert read_daxctl('[{"path":"\\/platform\\/e820\\/ndbus0\\/region1\\/dax1.0","id":1,"size":4225761280}]') == []


# --- lsmem -----------------------------------------------------------------------------------

def test_lsmem_default_columns_ranges_blocks_and_summary():
    got = read_lsmem(LSMEM)
    assert got is not None and got.skipped == () and got.problems == ()
    assert got.columns == ("RANGE", "SIZE", "STATE", "REMOVABLE", "BLOCK")
    assert [(r.start, r.end, r.blocks) for r in got.ranges] == [
        (0, 0xBFFFFFFF, (0, 23)), (0x100000000, 0x43FFFFFFF, (32, 135))]
    assert [r.size for r in got.ranges] == [3 * GiB, 13 * GiB]
    assert all(r.state == "online" and r.removable is True and r.node is None and r.zones == () for r in got.ranges)
    assert (got.block_size, got.online, got.offline) == (128 * MiB, 16 * GiB, 0)
    assert got.range_of_block(100) is got.ranges[1] and got.range_of_block(24) is None


def test_lsmem_zones_and_nodes_split_the_ranges():
    got = read_lsmem(ZONES)
    assert got is not None and got.skipped == () and got.problems == ()
    assert got.columns == ("RANGE", "SIZE", "STATE", "BLOCK", "NODE", "ZONES")
    assert [(r.blocks, r.zones, r.node) for r in got.ranges] == [
        ((0, 0), ("None",), 0), ((1, 23), ("DMA32",), 0), ((32, 135), ("Normal",), 0)]
    assert got.ranges[1].size == 23 * 128 * MiB and size_to_human(got.ranges[1].size) == "2.9G"  # SIZE is rounded
    assert got.ranges[0].end == 0x7FFFFFF and all(r.removable is None for r in got.ranges)
    assert got.block_size == 128 * MiB and got.online == 16 * GiB


def _table(rows: list[list[str]], header: list[str]) -> str:
    """libsmartcols: RANGE left, the rest right-aligned, one space apart, SIZE at least 5."""
    width = [max([len(h), 5 if h == "SIZE" else 0] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    fmt = lambda cells: " ".join(c.ljust(w) if h == "RANGE" else c.rjust(w)  # noqa: E731
                                 for c, w, h in zip(cells, width, header, strict=True)).rstrip()
    return "\n".join([fmt(header)] + [fmt(r) for r in rows]) + "\n"


def test_lsmem_a_b_and_an_offline_block_with_no_removable_cell():
    bs = 128 * MiB
    blocks = [*range(24), *range(32, 136)]
    rows = [[f"0x{b * bs:016x}-0x{(b + 1) * bs - 1:016x}", str(bs), "offline" if b == 135 else "online",
             "" if b == 135 else "yes", str(b)] for b in blocks]
    text = _table(rows, ["RANGE", "SIZE", "STATE", "REMOVABLE", "BLOCK"]) + "\n" + "".join(
        f"{k:<23} {v:>15}\n" for k, v in (("Memory block size:", bs), ("Total online memory:", 127 * bs),
                                          ("Total offline memory:", bs)))  # -b: "%-23s %15"PRId64
    got = read_lsmem(text)
    assert got is not None and got.skipped == () and got.problems == ()
    assert len(got.ranges) == 128 and [r.blocks for r in got.ranges] == [(b, b) for b in blocks]
    last = got.ranges[-1]
    assert (last.state, last.removable, last.blocks, last.start) == ("offline", None, (135, 135), 135 * bs)
    assert (got.block_size, got.online, got.offline) == (bs, 16 * GiB - bs, bs)


def test_lsmem_v2_42_summary_noheadings_raw_pairs_and_json():
    table = ZONES.partition("\n\n")[0]
    wide = table + "\n\n" + "".join(f"{k:<32} {v:>5}\n" for k, v in (
        ("Memory block size:", "128M"), ("Total online memory:", "16G"), ("Total offline memory:", "0B")))
    assert read_lsmem(wide) == read_lsmem(ZONES)
    plain = read_lsmem("\n".join(LSMEM.splitlines()[1:3]))  # -n, default columns, no summary
    assert plain is not None and plain.block_size == 128 * MiB and plain.ranges[1].blocks == (32, 135)
    raw = "RANGE SIZE STATE REMOVABLE BLOCK\n0x0000000440000000-0x000000044fffffff 256M offline  136-137\n"
    got = read_lsmem(raw)
    assert got is not None and got.ranges[0].removable is None and got.ranges[0].blocks == (136, 137)
    pairs = 'RANGE="0x0000000000000000-0x0000000007ffffff" SIZE="128M" STATE="online" NODE="0" ZONES="None"\n'
    got = read_lsmem(pairs)
    assert got is not None and got.ranges[0].zones == ("None",) and got.ranges[0].node == 0
    doc = {"memory": [{"range": "0x0000000100000000-0x000000043fffffff", "size": 13958643712, "state": "online",
                       "removable": True, "block": "32-135", "node": 0, "zones": "Normal"}]}
    got = read_lsmem(json.dumps(doc, indent=3))
    assert got is not None
    r, = got.ranges
    assert (r.start, r.size, r.removable, r.blocks, r.zones, got.block_size) == (
        0x100000000, 13 * GiB, True, (32, 135), ("Normal",), 128 * MiB)


def test_lsmem_a_size_that_disagrees_with_its_range_is_a_problem():
    got = read_lsmem(LSMEM.replace("   13G", "   14G"))
    assert got is not None and got.ranges[1].size == 13 * GiB
    assert len(got.problems) == 1 and "disagrees" in got.problems[0]


def test_size_to_human_string_rounding():
    assert [size_to_human(n) for n in (0, 1023, 1024, 1536 << 20, 128 * MiB, 23 * 128 * MiB, (1 << 64) - 1)] == [
        "0B", "1023B", "1K", "1.5G", "128M", "2.9G", "16E"]


# --- what is not theirs -------------------------------------------------------------------------

@pytest.mark.parametrize("text", [DMESG, IOMEM, ZONEINFO, '{"a": 1}', "", "[]", "[1, 2]", "null", "\n\n"])
def test_other_texts_are_none(text):
    assert read_ndctl(text) is None and read_daxctl(text) is None and read_lsmem(text) is None


def test_each_tool_refuses_the_others_output():
    assert read_ndctl(DAX) is None and read_ndctl(LSMEM) is None
    assert read_daxctl(RN) is None and read_daxctl(LSMEM) is None
    assert read_lsmem(RN) is None and read_lsmem(DAX) is None


def test_bounds_on_size_and_depth():
    assert read_ndctl("[" * 100_000) is None and read_daxctl("{" * 100_000 + "}" * 100_000) is None
    deep = {"regions": [{"dev": "region0", "size": 1, "x": [[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}]}
    assert read_ndctl(json.dumps(deep)) is None
    assert read_ndctl(RN + " " * (8 << 20)) is None and read_lsmem(LSMEM + " " * (8 << 20)) is None


def _json_values():
    return st.recursive(st.none() | st.booleans() | st.integers(-(1 << 70), 1 << 70) | st.floats() | st.text(max_size=20),
                        lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
                            st.sampled_from(["dev", "size", "mode", "map", "align", "regions", "namespaces", "chardev",
                                             "id", "devices", "mappings", "start", "memory", "range", "block", "x"]),
                            kids, max_size=5), max_leaves=25)


@given(st.text(max_size=400))
@example("RANGE SIZE STATE BLOCK\n0x0-0x1 \u00b2 online \u00b2\nMemory block size: \u00b2M\n")
@example('{"dev":"region0\\n","size":"\u00b2"}')
@settings(max_examples=300, deadline=None)
def test_fuzz_random_text_never_raises(text):
    read_ndctl(text)
    read_daxctl(text)
    read_lsmem(text)


@given(_json_values())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fuzz_random_json_never_raises(value):
    text = json.dumps(value)
    read_ndctl(text)
    read_daxctl(text)
    read_lsmem(text)


@given(st.sampled_from([RN, RNU, DAX, LSMEM, ZONES]), st.data())
@settings(max_examples=300, deadline=None)
def test_fuzz_damaged_fixtures_never_raise(text, data):
    lines = text.splitlines()
    i = data.draw(st.integers(0, len(lines) - 1))
    junk = data.draw(st.sampled_from(["", "x", '"size":"9.99 TiB (1.00 TB)",', "0x-0x", "  yes  ", "-1", "{", "]"]))
    lines[i] = data.draw(st.sampled_from([junk, lines[i][: len(lines[i]) // 2] + junk, re.sub(r"\d", "9", lines[i])]))
    damaged = "\n".join(lines)
    read_ndctl(damaged)
    read_daxctl(damaged)
    read_lsmem(damaged)
