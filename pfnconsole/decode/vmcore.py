"""VMCOREINFO: the key=value note a kernel leaves for crash-dump tools.

Format strings: kernel/vmcore_info.c (v6.9+; kernel/crash_core.c v4.19-v6.8, kernel/kexec.c
and kernel/kexec_core.c before): ``VMCOREINFO_SYMBOL`` ``"SYMBOL(%s)=%lx"``,
``VMCOREINFO_SIZE`` ``"SIZE(%s)=%lu"``, ``VMCOREINFO_OFFSET`` ``"OFFSET(%s.%s)=%lu"``,
``VMCOREINFO_LENGTH`` ``"LENGTH(%s)=%lu"``, ``VMCOREINFO_NUMBER`` ``"NUMBER(%s)=%ld"``,
``VMCOREINFO_PAGESIZE`` ``"PAGESIZE=%ld"``, ``"OSRELEASE=%s"``, ``"CRASHTIME=%lld"``, and
arch_crash_save_vmcoreinfo()'s ``"KERNELOFFSET=%lx"`` (x86, arm64, riscv) and hex numbers
such as arm64's ``"NUMBER(kimage_voffset)=0x%llx"``.  The values are symbol addresses,
struct sizes and field offsets, never physical memory: they are reported as such, with no pfn,
and their hex words are kept from the pointer scan.
"""

from __future__ import annotations

import re

from ..core.units import hx
from .base import Context, Format
from .model import Finding, Kind

_KEYED = re.compile(r"^(?P<key>SYMBOL|SIZE|OFFSET|LENGTH|NUMBER)\((?P<name>[\w.]{1,64})\)="
                    r"(?P<val>-?(?:0x)?[0-9a-fA-F]{1,16})\s{0,8}$")
_PLAIN = re.compile(r"^(?P<key>PAGESIZE|KERNELOFFSET|CRASHTIME|OSRELEASE)=(?P<val>\S{1,64})\s{0,8}$")
_WHAT = {"SIZE": "sizeof(struct {})", "OFFSET": "offsetof({})", "LENGTH": "number of elements of {}",
         "NUMBER": "value of {}"}


def _number(key: str, val: str) -> int | None:
    """The value as the kernel printed it: SYMBOL and KERNELOFFSET in hex (%lx), the others
    in decimal unless they carry 0x."""
    try:
        if val.lower().startswith(("0x", "-0x")) or key in ("SYMBOL", "KERNELOFFSET"):
            return int(val, 16)
        return int(val, 10)
    except ValueError:
        return None


class VmcoreInfo(Format):
    name = "vmcoreinfo"
    anchors = ("SYMBOL(", "SIZE(", "OFFSET(", "LENGTH(", "NUMBER(", "PAGESIZE=", "KERNELOFFSET=",
               "CRASHTIME=", "OSRELEASE=")

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        m = _KEYED.match(text) or _PLAIN.match(text)
        if not m:
            return None
        key, val = m["key"], m["val"]
        label = f"{key}({m['name']})" if "name" in m.groupdict() and m["name"] else key
        if key == "OSRELEASE":
            return [ctx.finding(Kind.VMCOREINFO, type=label, note=f"kernel release {val}")]
        value = _number(key, val)
        if value is None:
            return None
        raw = val.lower().removeprefix("0x").removeprefix("-0x")
        if len(raw) == 16:
            ctx.seen.add(int(raw, 16))  # an address or offset, not a pointer to decode
        if key == "SYMBOL":
            return [ctx.finding(Kind.VMCOREINFO, virt=value, type=label,
                                note=f"address of the kernel symbol {m['name']}: {hx(value)}")]
        if key == "PAGESIZE":
            note = f"page size {value} bytes"
        elif key == "KERNELOFFSET":
            note = f"KASLR offset of the kernel image: {hx(value)}"
        elif key == "CRASHTIME":
            note = f"time of the crash: {value} (seconds since the epoch)"
        else:
            shown = hx(value) if val.lower().startswith(("0x", "-0x")) else str(value)
            note = f"{_WHAT[key].format(m['name'])} = {shown}"
        return [ctx.finding(Kind.VMCOREINFO, type=label, note=note)]
