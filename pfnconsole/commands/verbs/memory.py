"""Memory hotplug views: `blocks` (the memory blocks, as lsmem shows them)."""

from __future__ import annotations

from typing import Any

from ...core.blocks import MemoryBlock, memory_block_size, memory_blocks
from ..parse import Words
from ..registry import Subject, command
from ..render import json_view, ok, size_text
from ..result import Result
from ..session import Session


def _merged(blocks: list[MemoryBlock], per: int) -> list[list[MemoryBlock]]:
    """Consecutive blocks with the same state, node and zones, as lsmem merges them."""
    out: list[list[MemoryBlock]] = []
    for b in blocks:
        last = out[-1][-1] if out else None
        if (last is not None and last.id + 1 == b.id and (last.state, last.nid, last.zones)
                == (b.state, b.nid, b.zones)):
            out[-1].append(b)
        else:
            out.append([b])
    return out


def _exact(n: int) -> str:
    """A size in the largest unit that divides it: 2944M, not ~2.9G (blocks are exact)."""
    for unit, shift in (("T", 40), ("G", 30), ("M", 20), ("K", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift}{unit}"
    return f"{n}B"


@command("blocks", Subject.VIEWS, "the memory blocks (hotplug units), as lsmem lists them",
         help="The /sys/devices/system/memory/memoryN devices memory_dev_init() makes for boot\n"
         "memory: one per block of memory_block_size_bytes() with a present section\n"
         "(ZONE_DEVICE memory gets none). Rows merge consecutive blocks of one state, node and\n"
         "zone, like lsmem -o RANGE,SIZE,STATE,BLOCK,NODE,ZONES; --all gives one row per block\n"
         "(lsmem -a); --json the data. ZONES is valid_zones: \"none\" for a block that spans zones.",
         examples=("blocks", "blocks --all", "machine ram=96G", "blocks"), switches=("all", "json"))
def run_blocks(s: Session, w: Words) -> Result:
    st = s.machine.state
    bz, how = memory_block_size(st)
    per = max(1, bz >> st.arch.section_size_bits)
    blocks = memory_blocks(st)
    rows = [[b] for b in blocks] if "all" in w.switches else _merged(blocks, per)
    online = sum(b.state == "online" for b in blocks) * bz
    lines = [f"{'RANGE':<37} {'SIZE':>6} {'STATE':>7} {'BLOCK':>11} {'NODE':>4}  ZONES"]
    data_rows: list[dict[str, Any]] = []
    for row in rows[:4096]:
        first, last = row[0], row[-1]
        start, end = first.id * bz, (last.id + 1) * bz - 1
        ids = f"{first.id}" if first is last else f"{first.id}-{last.id}"
        lines.append(f"{start:#018x}-{end:#018x} {_exact(end - start + 1):>6} {first.state:>7} "
                     f"{ids:>11} {first.nid:>4}  {first.zones or '-'}")
        data_rows.append({"start": start, "end": end, "first_block": first.id, "last_block": last.id,
                          "state": first.state, "nid": first.nid, "zones": first.zones,
                          "phys_index": first.start_section})
    if len(rows) > 4096:
        lines.append(f"… {len(rows) - 4096} more row(s)")
    lines += ["", f"Memory block size:    {size_text(bz)} ({how}); {per} section(s) per block",
              f"Total online memory:  {size_text(online)} in {len(blocks)} block(s)",
              f"Total offline memory: {size_text(len(blocks) * bz - online)}"]
    data = {"block_size": bz, "block_size_how": how, "sections_per_block": per,
            "blocks": len(blocks), "online_bytes": online, "rows": data_rows}
    return json_view(ok("blocks", "blocks", data, lines, {"all": "all" in w.switches}), w.switches)
