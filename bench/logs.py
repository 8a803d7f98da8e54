"""A generated kernel log for the decoder benchmark: everyday chatter with incidents.

Moved out of the package (it was ``pfnconsole/bench_log.py``): the tests that need a
generated log import it as ``bench.logs`` from the repository root.

Every incident is one of the formats the decoder reads, written as a whole report the
way the kernel prints it (a Bad page state with its call trace, a dump_page, a
memory-failure pair, an e820 map and zone list at boot, a page fault with its page-table
walk, fs_dax trace events, pmem probe lines).  ``density`` is the share of lines that
belong to incidents; everything else is ordinary driver, network, audit and systemd
chatter, with the odd call trace full of kernel text addresses.
"""

from __future__ import annotations

import random
from collections.abc import Callable

_NOISE = (
    "usb {c}-1: new high-speed USB device number {n} using xhci_hcd",
    "usb {c}-1: New USB device found, idVendor=0bda, idProduct=5411, bcdDevice= 1.{n:02d}",
    "hub {c}-1:1.0: USB hub found",
    "EXT4-fs (nvme0n1p{c}): mounted filesystem with ordered data mode. Quota mode: none.",
    "EXT4-fs (dm-{c}): re-mounted. Opts: errors=remount-ro",
    "audit: type=1400 audit({t:.3f}:{n}): apparmor=\"STATUS\" operation=\"profile_load\" "
    "profile=\"unconfined\" name=\"snap.lxd.hook\" pid={n} comm=\"apparmor_parser\"",
    "audit: type=1130 audit({t:.3f}:{n}): pid=1 uid=0 auid=4294967295 ses=4294967295 "
    "msg='unit=systemd-tmpfiles-clean comm=\"systemd\" exe=\"/usr/lib/systemd/systemd\" res=success'",
    "systemd[1]: Started Journal Service.",
    "systemd[1]: Starting Load Kernel Module drm...",
    "systemd[1]: session-{n}.scope: Deactivated successfully.",
    "systemd-journald[{n}]: Received client request to flush runtime journal.",
    "e1000e 0000:00:1f.6 eno1: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx",
    "IPv6: ADDRCONF(NETDEV_CHANGE): eno1: link becomes ready",
    "br-{n:04x}: port {c}(veth{n:x}) entered forwarding state",
    "device veth{n:x} entered promiscuous mode",
    "nvme nvme0: {c}/0/0 default/read/poll queues",
    "nvme0n1: p1 p2 p3",
    "ata{c}: SATA link up 6.0 Gbps (SStatus 133 SControl 300)",
    "sd {c}:0:0:0: [sda] 1953525168 512-byte logical blocks: (1.00 TB/932 GiB)",
    "sd {c}:0:0:0: [sda] Write cache: enabled, read cache: enabled, doesn't support DPO or FUA",
    "input: Logitech USB Receiver as /devices/pci0000:00/0000:00:14.0/usb1/1-{c}/input/input{n}",
    "hid-generic 0003:046D:C52B.{n:04X}: input,hidraw0: USB HID v1.11 Keyboard on usb-0000:00:14.0-{c}",
    "i915 0000:00:02.0: [drm] GuC firmware i915/tgl_guc_70.bin version 70.{c}.0",
    "snd_hda_intel 0000:00:1f.3: enabling device (0000 -> 0002)",
    "ACPI: \\_SB_.PCI0.LPCB.EC0_: Interrupt {c}, GPE 0x6e",
    "pci 0000:00:{c:02x}.0: [8086:9a09] type 01 class 0x060400",
    "pcieport 0000:00:1c.{c}: AER: Corrected error received: 0000:00:1c.0",
    "thermal thermal_zone{c}: failed to read out thermal zone (-61)",
    "wlp0s20f3: authenticate with 3c:37:86:{c:02x}:11:22",
    "wlp0s20f3: associated",
    "Bluetooth: hci0: Firmware revision 0.{c} build {n} week 12 2023",
    "kauditd_printk_skb: {c} callbacks suppressed",
    "perf: interrupt took too long ({n} > 2500), lowering kernel.perf_event_max_sample_rate to 79750",
    "rcu: INFO: rcu_preempt self-detected stall on CPU",
    "docker0: port {c}(veth{n:x}) entered blocking state",
    "overlayfs: upper fs does not support tmpfile.",
    "EDAC skx: ECC is disabled on imc {c}",
    "clocksource: timekeeping watchdog on CPU{c}: Marking clocksource 'tsc' as unstable",
    "TCP: request_sock_TCP: Possible SYN flooding on port 8080. Sending cookies.",
    "nf_conntrack: nf_conntrack: table full, dropping packet",
    "zram0: detected capacity change from 0 to 16777216",
    "Adding 8388604k swap on /dev/zram0.  Priority:100 extents:1 across:8388604k SSFS",
    "hugetlbfs: disabling because there are no supported hugepage sizes",
    "process '/usr/bin/fstype' started with executable stack",
    "loop{c}: detected capacity change from 0 to 8",
)

_TRACE = (
    "CPU: {c} PID: {n} Comm: kworker/{c}:1 Tainted: G        W          6.1.0-13-amd64 #1  Debian 6.1.55-1",
    "Hardware name: Dell Inc. PowerEdge R750/0PJ80M, BIOS 1.8.2 09/14/2022",
    "Call Trace:",
    " <TASK>",
    " dump_stack_lvl+0x44/0x5c",
    " __warn+0x81/0x130",
    " ? report_bug+0x171/0x1a0",
    " ? handle_bug+0x3c/0x80",
    " ? exc_invalid_op+0x17/0x70",
    " process_one_work+0x1e5/0x3b0",
    " worker_thread+0x51/0x390",
    " kthread+0xd6/0x100",
    " ? kthread_complete_and_exit+0x20/0x20",
    " ret_from_fork+0x1f/0x30",
    " </TASK>",
    "RIP: 0010:dev_watchdog+0x23a/0x250",
    "RSP: 0018:ffffb01c40003e68 EFLAGS: 00010286",
    "RAX: 0000000000000000 RBX: ffffffffc03a2000 RCX: 0000000000000027",
    "R10: ffffffff9a6bba48 R11: 0000000000000003 R12: ffffffff9b0d5e40",
)


def _bad_page(r: random.Random, t: float) -> list[str]:
    pfn = r.randrange(0x100000, 0x400000)
    ptr = 0xFFFFEA0000000000 + pfn * 64
    return [
        f"BUG: Bad page state in process kworker/{r.randrange(8)}:1  pfn:{pfn:05x}",
        f"page:{ptr:016x} refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:{pfn:#x}",
        "flags: 0x17ffffc0000000(node=0|zone=2|lastcpupid=0x1fffff)",
        "page_type: 0xffffffff()",
        "raw: 0017ffffc0000000 dead000000000100 dead000000000122 0000000000000000",
        "raw: 0000000000000000 0000000000000000 00000000ffffffff 0000000000000000",
        "page dumped because: nonzero _refcount",
        "Modules linked in: nd_pmem dax_pmem nd_btt device_dax nfit libnvdimm xfs",
        *_TRACE[:4],
        " dump_stack_lvl+0x44/0x5c",
        " bad_page.cold+0x63/0x94",
        " free_pcp_prepare+0x1b6/0x1f0",
        " free_unref_page+0x20/0x150",
        " </TASK>",
        "Disabling lock debugging due to kernel taint",
    ]


def _dump_page(r: random.Random, t: float) -> list[str]:
    pfn = r.randrange(0x100000, 0x400000)
    head = pfn & ~0x1FF
    return [
        f"page:{0xFFFFEA0000000000 + pfn * 64:016x} refcount:{r.randrange(1, 4)} mapcount:0 "
        f"mapping:ffff888{r.randrange(1 << 24):06x}f0 index:0x{r.randrange(1 << 20):x} pfn:{pfn:#x}",
        f"head:{0xFFFFEA0000000000 + head * 64:016x} order:9 entire_mapcount:0 nr_pages_mapped:0 pincount:0",
        "memcg:ffff88810a1c2000",
        "aops:xfs_address_space_operations ino:1003 dentry name:\"pmem-file\"",
        "flags: 0x2ffff800000002c(uptodate|lru|active|node=0|zone=2|lastcpupid=0xffff)",
        "raw: 02ffff800000002c ffffea0004d1a008 ffffea0004d1c008 ffff8881045f2ab0",
        "raw: 0000000000000200 0000000000000000 00000002ffffffff ffff88810a1c2000",
        "page dumped because: VM_BUG_ON_FOLIO(!folio_test_locked(folio))",
    ]


def _memory_failure(r: random.Random, t: float) -> list[str]:
    pfn = r.randrange(0x100000, 0x400000)
    return [
        "mce: [Hardware Error]: Machine check events logged",
        f"{{1}}[Hardware Error]: physical_address: 0x{pfn << 12:016x}",
        f"Memory failure: {pfn:#x}: recovery action for dax page: Recovered",
    ]


def _boot(r: random.Random, t: float) -> list[str]:
    return [
        "BIOS-provided physical RAM map:",
        "BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable",
        "BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved",
        "BIOS-e820: [mem 0x00000000000f0000-0x00000000000fffff] reserved",
        "BIOS-e820: [mem 0x0000000000100000-0x00000000bffdffff] usable",
        "BIOS-e820: [mem 0x00000000bffe0000-0x00000000bfffffff] reserved",
        "BIOS-e820: [mem 0x0000000100000000-0x000000043fffffff] usable",
        "BIOS-e820: [mem 0x0000000440000000-0x000000083fffffff] persistent (type 12)",
        "NX (Execute Disable) protection: active",
        "e820: update [mem 0x00000000-0x00000fff] usable ==> reserved",
        "last_pfn = 0x440000 max_arch_pfn = 0x400000000",
        "Zone ranges:",
        "  DMA      [mem 0x0000000000001000-0x0000000000ffffff]",
        "  DMA32    [mem 0x0000000001000000-0x00000000ffffffff]",
        "  Normal   [mem 0x0000000100000000-0x000000043fffffff]",
        "Movable zone start for each node",
        "Early memory node ranges",
        "  node   0: [mem 0x0000000000001000-0x000000000009efff]",
        "  node   0: [mem 0x0000000000100000-0x00000000bffdffff]",
        "  node   0: [mem 0x0000000100000000-0x000000043fffffff]",
        "Memory: 16281340K/16776696K available (16384K kernel code, 2340K rwdata)",
    ]


def _fault(r: random.Random, t: float) -> list[str]:
    pfn = r.randrange(0x100000, 0x400000)
    va = 0xFFFF888000000000 + (pfn << 12) + r.randrange(4096)
    return [
        f"BUG: unable to handle page fault for address: {va:016x}",
        "#PF: supervisor write access in kernel mode",
        "#PF: error_code(0x0003) - permissions violation",
        f"PGD 23801067 P4D 23801067 PUD 23802067 PMD 800000{pfn >> 9 << 9:x}0e1 PTE 0",
        "Oops: 0003 [#1] PREEMPT SMP NOPTI",
    ]


def _fs_dax(r: random.Random, t: float) -> list[str]:
    out: list[str] = []
    for _ in range(4):
        pfn = r.randrange(0x100000, 0x400000) & ~0x1FF
        out.append(f"  fio-{r.randrange(9000)}  [00{r.randrange(8)}] .....  {t:.6f}: dax_pmd_insert_mapping: "
                   f"dev 259:0 ino 0x1003 shared write address 0x{r.randrange(1 << 36) << 21:x} "
                   f"length 0x200000 pfn {pfn:#x} DEV|MAP radix_entry 0x{r.randrange(1 << 20):x}")
    return out


def _pmem(r: random.Random, t: float) -> list[str]:
    n = r.randrange(4)
    return [
        f"nd_pmem namespace{n}.0: unable to guarantee persistence of writes",
        f"pmem{n}: detected capacity change from 0 to 17179869184",
    ]


Incident = Callable[[random.Random, float], list[str]]
"""One whole report: a random source and the timestamp in, its lines out."""

INCIDENTS: tuple[Incident, ...] = (_bad_page, _dump_page, _memory_failure, _boot, _fault, _fs_dax,
                                   _pmem)


def generate(path: str, size: int, density: float, seed: int = 7) -> tuple[int, int, int]:
    """Write about ``size`` bytes; return (bytes, lines, incident lines).

    ``density`` (0..1) is the share of lines that belong to incidents.
    """
    r = random.Random(seed)
    written = total = incident_lines = 0
    t = 0.0
    with open(path, "w", encoding="utf-8") as f:
        while written < size:
            lines: list[str] = []
            while len(lines) < 4000:
                t += r.random() / 50
                if r.random() < density / 8:  # incidents average about 8 lines
                    block = r.choice(INCIDENTS)(r, t)
                    incident_lines += len(block)
                elif r.random() < 0.01:
                    block = list(_TRACE)
                else:
                    block = [r.choice(_NOISE).format(c=r.randrange(8), n=r.randrange(1, 99999), t=t)]
                for line in block:
                    if line.startswith("  fio-"):
                        lines.append(line)
                    else:
                        lines.append(f"[{t:12.6f}] {line}")
            text = "\n".join(lines) + "\n"
            f.write(text)
            written += len(text)
            total += len(lines)
    return written, total, incident_lines
