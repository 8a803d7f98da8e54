"""Reports of failing memory: memory failure, hwpoison injection, machine checks, APEI.

Patterns follow the kernel's own format strings: mm/memory-failure.c (the "Memory
failure: %#lx: " prefix and its older "MCE %#lx: "), madvise hwpoison injection and
unpoison, x86 mce / EDAC records and APEI GHES records.
"""

from __future__ import annotations

import re

from .base import Context, Format, h, join_notes
from .model import Finding, Kind

_MF = re.compile(r"\b(?:Memory failure|MCE|memory_failure_event: pfn|[Ss]oft[ _]offline):? "
                 r"(?P<pfn>0x[0-9a-fA-F]{1,16}|[0-9a-fA-F]{1,16}):(?: (?P<msg>.{0,200}))?")
_RESULT = re.compile(r"\brecovery(?: action for (?P<what>[^:]{1,64}))?: (?P<res>Ignored|Failed|Delayed|Recovered)\b")


class MemoryFailure(Format):
    name = "memory_failure"
    anchors = ("Memory failure", "MCE ", "memory_failure_event", "oft offline", "oft_offline")

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        m = _MF.search(text)
        if not m:
            return None
        pfn = h(m["pfn"])
        msg = (m["msg"] or "").strip()
        r = _RESULT.search(msg)
        if r:
            what = r["what"] or msg[: r.start()].strip()
            kind_note = f"recovery action for {what}" if what else "recovery action"
            typ = r["res"]
        else:
            typ, kind_note = msg.rstrip(".")[:120] or None, ""
        if "ffline" in m.group(0)[:24]:
            kind_note = join_notes("soft offline", kind_note)
        return [ctx.finding(Kind.MEMORY_FAILURE, pfn=pfn, phys=ctx.phys(pfn), type=typ, note=kind_note)]


_INJECT = re.compile(
    r"\b(?P<verb>Injecting memory failure (?:for|at)|Soft offlining) (?:pfn|page) (?P<pfn>0x[0-9a-fA-F]{1,16})"
    r"(?: at (?:process virtual address )?(?P<va>0x[0-9a-fA-F]{1,16}))?"
)
_UNPOISON = re.compile(r"\bSoftware-unpoisoned (?:free )?page (?P<pfn>0x[0-9a-fA-F]{1,16})")


class Hwpoison(Format):
    name = "hwpoison_inject"
    anchors = ("Injecting memory failure", "Soft offlining", "unpoisoned")

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        m = _INJECT.search(text)
        if m:
            pfn = h(m["pfn"])
            va = h(m["va"]) if m["va"] else None
            typ = "soft_offline" if m["verb"].startswith("Soft") else "inject"
            return [ctx.finding(Kind.HWPOISON_INJECT, pfn=pfn, phys=ctx.phys(pfn), virt=va, type=typ,
                                note="user virtual address" if va is not None else "")]
        m = _UNPOISON.search(text)
        if m:
            pfn = h(m["pfn"])
            return [ctx.finding(Kind.HWPOISON_INJECT, pfn=pfn, phys=ctx.phys(pfn), type="unpoison")]
        return None


_MCE_ADDR = re.compile(r"(?<![\w-])ADDR (?:0x)?(?P<addr>[0-9a-fA-F]{1,16})(?![\w])")
_MCE_USER = re.compile(r"Uncorrected hardware memory error in (?P<where>[\w-]{1,32}) "
                       r"at (?:0x)?(?P<addr>[0-9a-fA-F]{1,16})\b")
_EDAC_PAGE = re.compile(r"\bpage:0x(?P<page>[0-9a-fA-F]{1,16}) offset:0x(?P<off>[0-9a-fA-F]{1,16})")
_EDAC_KIND = re.compile(r"\b\d{1,10} (?P<k>CE|UE)\b")


_EDAC_OLD = re.compile(r"\b(?P<k>CE|UE) page 0x(?P<page>[0-9a-fA-F]{1,16}), offset 0x(?P<off>[0-9a-fA-F]{1,16}),")
_RAS_ADDRESS = re.compile(r"\baddress: 0x(?P<addr>[0-9a-fA-F]{1,16}) grain: ")
_RAS_CTL_MC = re.compile(r"\blocation: [-\d:]{1,40}, addr (?P<addr>\d{1,20}), grain ")
_RAS_KV = re.compile(r"(?<![\w])(?P<key>addr|hpa)=0x(?P<addr>[0-9a-fA-F]{1,16})(?![\w])")


class MachineCheck(Format):
    """x86 mce, EDAC and rasdaemon records of a memory error, each giving a physical address.

    * arch/x86/kernel/cpu/mce: ``ADDR %llx`` of MCi_ADDR; "Uncorrected hardware memory error
      in user-access at %llx".
    * drivers/edac/edac_mc.c (v3.5+): ``"%d CE %s%son %s (%s page:0x%lx offset:0x%lx
      grain:%ld syndrome:0x%lx%s%s)"`` and its UE twin; before v3.5 edac_mc_handle_ce()
      printed ``"CE page 0x%lx, offset 0x%lx, grain %d, syndrome 0x%lx, row %d, channel %d,
      label \"%s\": %s"`` and edac_mc_handle_ue() ``"UE page 0x%lx, offset 0x%lx, grain %d,
      row %d, labels \"%s\": %s"``: a page frame number and the offset in it.
    * rasdaemon ras-mc-handler.c, the mc_event it logs: ``" address: 0x%08llx"`` then
      ``" grain: %lld"``.
    * rasdaemon util/ras-mc-ctl ``--errors``: memory controller events ``"... location:
      $mc:$top:$mid:$low, addr $addr, grain $grain, ..."`` (the address in decimal, as
      stored), MCE events ``", addr=0x%08x"``, CXL events ``"hpa=0x%llx, "``.
    """

    name = "mce"
    anchors = ("ADDR ", "Uncorrected hardware memory error", "offset:0x", ", offset 0x", "address: 0x",
               ", addr ", "addr=0x", "hpa=0x")

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        out = []
        shift = ctx.layout.page_shift
        m = _MCE_ADDR.search(text)
        if m:
            addr = h(m["addr"])
            src = "EDAC" if "EDAC" in text else "mce"
            out.append(ctx.finding(Kind.MCE, pfn=addr >> shift, phys=addr, type="ADDR",
                                   note=f"{src}: physical address from the MCi_ADDR register"))
        m = _MCE_USER.search(text)
        if m:
            addr = h(m["addr"])
            out.append(ctx.finding(Kind.MCE, pfn=addr >> shift, phys=addr, type=m["where"],
                                   note="physical address of the uncorrected error"))
        m = _EDAC_PAGE.search(text)
        if m:
            page, off = h(m["page"]), h(m["off"])
            k = _EDAC_KIND.search(text)
            out.append(ctx.finding(Kind.MCE, pfn=page, phys=(page << shift) + off,
                                   type=f"EDAC {k['k']}" if k else "EDAC",
                                   note="EDAC page frame and offset"))
        m = _EDAC_OLD.search(text)
        if m:
            page, off = h(m["page"]), h(m["off"])
            out.append(ctx.finding(Kind.MCE, pfn=page, phys=(page << shift) + off, type=f"EDAC {m['k']}",
                                   note="EDAC page frame and offset (pre-3.5 format)"))
        m = _RAS_ADDRESS.search(text)
        if m:
            addr = h(m["addr"])
            out.append(ctx.finding(Kind.MCE, pfn=addr >> shift, phys=addr, type="mc_event",
                                   note="rasdaemon mc_event: physical address of the error"))
        m = _RAS_CTL_MC.search(text)
        if m:
            addr = int(m["addr"])
            out.append(ctx.finding(Kind.MCE, pfn=addr >> shift, phys=addr, type="mc_event",
                                   note="ras-mc-ctl memory controller event: address printed in decimal"))
        for kv in _RAS_KV.finditer(text):
            addr = h(kv["addr"])
            typ, how = (("MCE addr", "ras-mc-ctl MCE event: physical address from MCi_ADDR") if kv["key"] == "addr"
                        else ("CXL hpa", "ras-mc-ctl CXL event: host physical address"))
            out.append(ctx.finding(Kind.MCE, pfn=addr >> shift, phys=addr, type=typ, note=how))
        return out or None


_APEI = re.compile(r"\bphysical(?:_address| fault address| addr(?:ess)?): (?P<addr>0x[0-9a-fA-F]{1,16})\b")


class Apei(Format):
    name = "apei"
    anchors = ("physical",)

    def match(self, text: str, ctx: Context) -> list[Finding] | None:
        m = _APEI.search(text)
        if not m:
            return None
        addr = h(m["addr"])
        return [ctx.finding(Kind.APEI, pfn=addr >> ctx.layout.page_shift, phys=addr,
                            type="GHES" if "Hardware Error" in text or "GHES" in text else None,
                            note="firmware-reported physical address")]
