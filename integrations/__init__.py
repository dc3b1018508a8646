"""The integration registry: every module in this package is a plugin, found at import time.

``REGISTRY`` maps a name to its class; ``RECORDS`` holds every candidate, including the ones that
failed (shown in Settings as "X is unavailable: reason").  ``rediscover()`` rebuilds both in place
(after a plugin was added, or to include plugins from outside the package).
"""
from __future__ import annotations

import sys
from collections.abc import Iterable

from integrations.base import IntegrationBase
from integrations.discovery import DiscoveryRecord, build_registry, scan_package

REGISTRY: dict[str, type[IntegrationBase]] = {}
RECORDS: list[DiscoveryRecord] = []


def rediscover(extra: Iterable[DiscoveryRecord] = ()) -> dict[str, type[IntegrationBase]]:
    """Scan the package again (plus ``extra`` records from other origins); update in place."""
    records = scan_package(sys.modules[__name__]) + list(extra)
    registry = build_registry(records)
    RECORDS[:] = records
    REGISTRY.clear()
    REGISTRY.update(registry)
    return REGISTRY


def unavailable() -> list[DiscoveryRecord]:
    return [r for r in RECORDS if r.cls is None]


rediscover()

__all__ = ["REGISTRY", "RECORDS", "DiscoveryRecord", "IntegrationBase", "rediscover",
           "unavailable"]
