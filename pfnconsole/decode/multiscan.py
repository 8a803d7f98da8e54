"""Kept for old imports: the Hyperscan search now lives in `skim` (`skim.MultiScan`)."""

from __future__ import annotations

from .skim import MultiScan, backend, hs_source, hyperscan, make_interest

__all__ = ["MultiScan", "backend", "hs_source", "hyperscan", "make_interest"]
