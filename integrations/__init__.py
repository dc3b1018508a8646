"""The integration registry: every module in this package is a plugin — no list to keep.

``REGISTRY`` maps a name to its class; ``RECORDS`` holds every candidate, including the ones that
failed (shown in Settings as "X is unavailable: reason").  Both are built by importing every
module of the package the first time either is used, so importing a helper such as
``integrations.http`` stays cheap; ``rediscover()`` rebuilds them in place (after a plugin was
added, or to include plugins from outside the package).
"""
from __future__ import annotations

import sys
import threading
from collections.abc import Iterable
from typing import Any

from integrations.base import IntegrationBase
from integrations.discovery import DiscoveryRecord, build_registry, scan_package

_lock = threading.RLock()


def rediscover(extra: Iterable[DiscoveryRecord] = ()) -> dict[str, type[IntegrationBase]]:
    """Scan the package again (plus ``extra`` records from other origins); update in place."""
    module = sys.modules[__name__]
    with _lock:
        records = scan_package(module) + list(extra)
        registry = build_registry(records)
        if "REGISTRY" not in module.__dict__:
            module.REGISTRY, module.RECORDS = {}, []
        module.RECORDS[:] = records
        module.REGISTRY.clear()
        module.REGISTRY.update(registry)
        return module.REGISTRY


def __getattr__(name: str) -> Any:
    """First use of REGISTRY or RECORDS: discover (PEP 562)."""
    if name in ("REGISTRY", "RECORDS"):
        with _lock:
            if name not in globals():
                rediscover()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def unavailable() -> list[DiscoveryRecord]:
    return [r for r in __getattr__("RECORDS") if r.cls is None]


REGISTRY: dict[str, type[IntegrationBase]]
RECORDS: list[DiscoveryRecord]

__all__ = ["REGISTRY", "RECORDS", "DiscoveryRecord", "IntegrationBase", "rediscover",
           "unavailable"]
