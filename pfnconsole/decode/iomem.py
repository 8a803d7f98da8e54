"""/proc/iomem: the iomem_resource tree, one resource per line.

Format: kernel/resource.c r_show(), ``"%*s%0*llx-%0*llx : %s\\n"`` with the depth below the
root times two spaces of indent (at most MAX_IORES_LEVEL = 5 levels), the address width 8
for iomem (4 only for a root ending below 0x10000, i.e. ioports), start and end inclusive,
then the resource's name. Since v4.6 (commit 51d7b120418e) a reader without
CAP_SYS_ADMIN gets start = end = 0 on every line (r_show()'s file_ns_capable() check), so
the names survive and the addresses do not.

The top-level names the x86 e820 code gives its ranges are arch/x86/kernel/e820.c
e820_type_to_string(): "System RAM", "Reserved", "ACPI Tables", "ACPI Non-volatile
Storage", "Unusable memory", "Persistent Memory (legacy)" (type 12), "Persistent Memory"
(type 7), "Soft Reserved" (type 12 was "Persistent RAM" before commit ad5fb870c486, v4.1);
arm64 and riscv64 register memblock's memory as "System RAM", its reserved parts as
"reserved" children (arch/arm64/kernel/setup.c request_standard_resources()).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core.physmap import E820Type

LINE = re.compile(r"^(?P<indent> {0,10})(?P<start>[0-9a-f]{4,16})-(?P<end>[0-9a-f]{4,16}) : (?P<name>.{0,200})$")
"""One r_show() line: indent, %0*llx-%0*llx (lower-case hex), " : ", the name."""

MAX_IORES_LEVEL = 5
"""kernel/resource.c: r_show() stops counting depth here."""

TOP_TYPES = {
    "System RAM": E820Type.RAM,
    "Reserved": E820Type.RESERVED,
    "reserved": E820Type.RESERVED,
    "ACPI Tables": E820Type.ACPI,
    "ACPI Non-volatile Storage": E820Type.NVS,
    "Unusable memory": E820Type.UNUSABLE,
    "Persistent Memory (legacy)": E820Type.PRAM,
    "Persistent RAM": E820Type.PRAM,  # type 12's name before ad5fb870c486 (v4.1)
    "Persistent Memory": E820Type.PMEM,
    "Soft Reserved": E820Type.SOFT_RESERVED,
}
"""e820_type_to_string() (x86) and memblock's names (arm64, riscv64) -> e820 type."""


@dataclass(frozen=True)
class Resource:
    """One line: ``struct resource`` [start, end] inclusive, its depth and name."""

    depth: int
    start: int
    end: int
    name: str
    line: int
    """1-based line number in the text."""


@dataclass(frozen=True)
class Iomem:
    resources: tuple[Resource, ...]
    skipped: tuple[int, ...]
    """Line numbers that are not r_show() lines (blank lines are not counted)."""
    zeroed: bool
    """Every address is 0: read without CAP_SYS_ADMIN (v4.6+)."""

    def ranges(self) -> tuple[tuple[int, int, int], ...]:
        """(start, end inclusive, e820 type) of the top-level memory ranges, in order; the
        children (Kernel code, namespaces, PCI BARs) do not change the map."""
        out = [(r.start, r.end, int(TOP_TYPES[r.name])) for r in self.resources
               if r.depth == 0 and r.name in TOP_TYPES]
        return tuple(sorted(out))

    def children(self, of: int) -> tuple[Resource, ...]:
        """The resources nested directly under the top-level entry at index ``of``."""
        top = [i for i, r in enumerate(self.resources) if r.depth == 0]
        at = top[of]
        nxt = next((i for i in top if i > at), len(self.resources))
        return tuple(r for r in self.resources[at + 1:nxt] if r.depth == 1)

    def namespaces(self) -> tuple[Resource, ...]:
        """nvdimm namespaces and dax devices claimed inside persistent memory ranges."""
        out: list[Resource] = []
        for i, r in enumerate(r for r in self.resources if r.depth == 0):
            if r.name in ("Persistent Memory", "Persistent Memory (legacy)", "Persistent RAM",
                          "Soft Reserved"):
                out += [c for c in self.children(i) if c.name.startswith(("namespace", "dax", "btt", "pfn"))]
        return tuple(out)


def read_iomem(text: str) -> Iomem | None:
    """The resources of a /proc/iomem text, or None when fewer than half its lines (and
    fewer than one) are r_show() lines: then it is not /proc/iomem."""
    res: list[Resource] = []
    skipped: list[int] = []
    for no, raw in enumerate(text.splitlines()[:100_000], 1):
        line = raw.rstrip()
        if not line:
            continue
        m = LINE.match(line)
        if m is None or len(m["indent"]) % 2:
            skipped.append(no)
            continue
        start, end = int(m["start"], 16), int(m["end"], 16)
        depth = min(len(m["indent"]) // 2, MAX_IORES_LEVEL - 1)
        if end < start:
            skipped.append(no)
            continue
        res.append(Resource(depth, start, end, m["name"], no))
    if not res or len(res) < len(skipped):
        return None
    zeroed = all(r.start == 0 and r.end == 0 for r in res)
    return Iomem(tuple(res), tuple(skipped), zeroed)


__all__ = ["TOP_TYPES", "Iomem", "Resource", "read_iomem"]
