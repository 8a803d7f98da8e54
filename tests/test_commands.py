"""The command table: numbers, the issue's exact forms, help examples, clear errors."""

import pytest

from pfnconsole.commands import COMMANDS, Session
from pfnconsole.commands.parse import ParseError, parse_number, tokenize

NUMBERS = [
    ("0x100600", 0x100600), ("1050112", 1050112), ("4K", 4096), ("16G", 16 << 30),
    ("1T", 1 << 40), ("0x10G", 0x10 << 30), ("4KiB", 4096), ("2MB", 2 << 20),
    ("0xEB", 0xEB), ("0x1E", 0x1E), ("1_000", 1000), ("0X1f", 0x1F),
]


@pytest.mark.parametrize("text,value", NUMBERS, ids=[n[0] for n in NUMBERS])
def test_parse_number(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text,needle", [
    ("-1", "negative"), ("abc", "0x prefix"), ("0xZZ", "not a number"), ("", "empty"),
    ("4Q", "not a number"),
])
def test_parse_number_errors(text, needle):
    with pytest.raises(ParseError, match=needle):
        parse_number(text)


def test_tokenize_comment_and_options():
    w = tokenize("kmap 0x100600 dev   # a comment")
    assert (w.verb, w.args, w.options) == ("kmap", ["0x100600", "dev"], {})
    w = tokenize("machine x86_64-5level ram=64T pmem=4G@0x500000000 pmem=1G@0x800000000")
    assert w.options == {"ram": ["64T"], "pmem": ["4G@0x500000000", "1G@0x800000000"]}
    assert tokenize("   # only a comment") is None


# The forms issue 2 requires to work exactly as written, in order, on one session.
ISSUE_FORMS = [
    ("machine x86_64", {"arch": "x86_64"}),
    ("machine x86_64-5level ram=64T pmem=4G@0x500000000", {"arch": "x86_64-5level"}),
    ("machine x86_64", {}),
    ("register pmem0 0x100000000 4G", {"name": "pmem0", "base": 0xFFFFC90000000000}),
    ("kmap 0x100600 dev", {"addr": 0xFFFFC90000600000, "path": "list", "list_steps": 1,
                           "value": 0x100600004}),
    ("kunmap 0xffffc90000600000", {"kind": "device", "rcu_readers": 0}),
    ("kmap raw=0x100600004", {"addr": 0xFFFFC90000600000}),
    ("kunmap 0xffffc90000600000", {}),
    ("lookup 0x100600", {"list_range": "pmem0", "section_range": "pmem0", "agree": True,
                         "page": 0xFFFFEA0004018000, "section": 32}),
    ("encode 0x100600 dev abi=v5", {"value": 0x100600004}),
    ("encode 0x100600 dev map abi=pfn_t kver=4.16", {"value": 0x3000000000100600}),
    ("encode 0x100600 dev map abi=pfn_t kver=4.5", {"value": 0x3000000000100600}),
    ("encode 0x100600 dev abi=pfn_t kver=6.16", {"value": 0x2000000000100600}),
    ("decode 0x3000000000100600 abi=pfn_t", {"pfn": 0x100600, "flags": ["PFN_DEV", "PFN_MAP"],
                                             "has_page": True}),
    ("decode 0x100600004", {"pfn": 0x100600, "flags": ["PFN_DEV"], "has_page": False}),
    ("encode 0x100600 abi=sg", {"value": 0xFFFFEA0004018000}),
    ("teardown pmem0", {"state": "freed", "waiting_for": 0}),
    ("ranges", {}),
    ("sections", {}),
    ("page 0x100600", {"page": 0xFFFFEA0004018000, "pfn_valid": True}),
    ("rcu", {"rcu_readers": 0}),
    ("cpu 1", {"cpu": 1}),
    ("undo", {"undone": "cpu"}),
    ("reset", {}),
    ("help", {}),
    ("help kmap", {"command": "kmap"}),
    ("e820", {}),
    ("identify 0xffffea0004018000", {"kind": "struct page", "pfn": 0x100600}),
]


def test_issue_forms_in_sequence():
    s = Session()
    for line, expect in ISSUE_FORMS:
        r = s.execute(line)
        assert r.ok, f"{line}: {r.error}"
        data = r.to_json()
        for key, value in expect.items():
            assert data[key] == value, f"{line}: {key}={data[key]!r}, expected {value!r}"


def test_every_help_example_runs():
    for cmd in COMMANDS.values():
        # as `help` says: in order, on a machine with pmem0 registered and mapped
        s = Session()
        s.execute("register pmem0 0x100000000 4G")
        s.execute("kmap 0x100600 dev")
        for example in cmd.examples:
            r = s.execute(example)
            assert r is not None and r.ok, f"help {cmd.name}: {example!r} -> {r.error}"


@pytest.mark.parametrize("line,needle", [
    ("bogus 1", "unknown command 'bogus'"),
    ("kmap", "missing PFN"),
    ("kmap 0x100600 banana", "banana"),
    ("kmap 0x100600 special", "PFN_SPECIAL"),
    ("register pmem0 0x100000000", "missing SIZE"),
    ("register pmem0 0x100000000 4G extra", "unexpected 'extra'"),
    ("register pmem0 0x100000000 4G colour=red", "unknown option colour="),
    ("encode 0x100600 abi=xyz", "abi=xyz is not one of"),
    ("encode 0x100600 special abi=pfn_t kver=4.5", "4.16"),
    ("encode 0x100600 dev abi=pfn_t kver=6.17", "6.17"),
    ("encode 0x400000000 abi=v5", "MAX_PHYSMEM_BITS"),
    ("decode 0x10000000000000000", ""),
    ("machine sparc", "unknown arch"),
    ("machine x86_64 ram=64T", "MAX_PHYSMEM_BITS"),
    ("machine x86_64 pmem=4G", "SIZE@START"),
    ("kunmap 0x1234", "no open mapping"),
    ("teardown pmem9", "no range named"),
    ("page 0x10000000000000", "MAX_PHYSMEM_BITS"),
    ("lookup -5", "negative"),
    ("help nosuch", "no command"),
    ("kmap " + "1" * 5000, "limit"),
])
def test_bad_lines_give_clear_errors_and_change_nothing(line, needle):
    s = Session()
    s.execute("register pmem0 0x100000000 4G")
    before = s.machine.fingerprint()
    r = s.execute(line)
    assert r is not None and not r.ok
    assert needle in r.error
    assert "Traceback" not in r.error
    assert s.machine.fingerprint() == before


def test_done_when_scenario_through_commands():
    s = Session()
    for i, start in enumerate(("0x1000000000", "0x1100000000", "0x1200000000")):
        assert s.execute(f"register pmem{i} {start} 4G").ok
    first = s.execute("kmap 0x1000600 dev").to_json()
    newest = s.execute("kmap 0x1200600 dev").to_json()
    assert (first["list_steps"], newest["list_steps"]) == (3, 1)
    assert first["section_loads"] == newest["section_loads"]
    ram = s.execute("kmap 0x100600").to_json()
    assert ram["path"] == "page" and ram["rcu_readers"] == 3
    td = s.execute("teardown pmem0").to_json()
    assert td["state"] == "waiting" and td["waiting_for"] == 3
    for addr in (newest["addr"], ram["addr"]):
        assert s.execute(f"kunmap {addr:#x}").to_json()["freed"] == []
    last = s.execute(f"kunmap {first['addr']:#x}").to_json()
    assert last["freed"] == ["pmem0"]
    assert s.execute("ranges").to_json()["ranges"][-1]["state"] == "freed"


def test_set_radix_changes_pfn_output_not_addresses():
    s = Session()
    s.execute("register pmem0 0x1000000000 4G")
    assert s.execute("set radix 10").ok
    r = s.execute("kmap 0x1000600 dev")
    assert "pfn=16778752" in r.echo and "0xffffc90000600000" in r.text()
    assert r.to_json()["pfn"] == 0x1000600  # JSON stays numeric
    assert not s.execute("set radix 8").ok
    assert s.execute("set").to_json()["radix"] == 10


@pytest.mark.parametrize("setup,must", [
    (["register pmem0 0x1000000000 4G", "register pmem1 0x1100000000 4G",
      "kmap 0x1000600 dev"],
     ["list_for_each_entry_rcu", "1. pmem1", "2. pmem0", "HIT", "SECTION_NR_TO_ROOT(512)",
      "mem_section[2][0]", "mm/kmap_pfn.c"]),
    (["kmap 0x100600"], ["PFN_DEV clear", "rcu_read_lock()", "0xffffea0004018000",
                         "0xffff888100600000"]),
    (["register pmem0 0x1000000000 4G", "kmap 0x1000600 dev", "teardown pmem0"],
     ["list_del_rcu", "synchronize_rcu()", "blocked on cpu 0"]),
    (["register pmem0 0x1000000000 4G", "kmap 0x1000600 dev",
      "kunmap 0xffffc90000600000"], ["found: a device address", "rcu_read_unlock()"]),
    (["lookup 0x100600"], ["pfn_valid(0x100600)", "-> True"]),
])
def test_explain_shows_the_kernel_path(setup, must):
    s = Session()
    for line in setup:
        assert s.execute(line).ok, line
    text = s.execute("explain").text()
    for needle in must:
        assert needle in text, f"{needle!r} missing from:\n{text}"


def test_explain_with_nothing_to_explain():
    r = Session().execute("explain")
    assert not r.ok and "nothing to explain" in r.error
