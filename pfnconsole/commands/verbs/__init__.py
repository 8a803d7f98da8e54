"""The verbs, by subject; importing this package declares them all."""

from ..registry import order_by_subject
from . import encodings, folios, kmap_pfn, logs, machine, measure, memory, pagetables, session, views, zone_device

order_by_subject()  # `help` and completion list them by subject, whatever the import order

__all__ = ["encodings", "folios", "kmap_pfn", "logs", "machine", "measure", "memory", "pagetables", "session", "views",
           "zone_device"]
