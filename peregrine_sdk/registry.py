"""A registry of plugins built from one plugin package, on first use.

The plugin package (``integrations``) holds only plugins; its ``__init__`` makes a
:class:`Registry` for itself and exposes ``REGISTRY`` / ``RECORDS`` through it.  Building means
importing every plugin, so it is deferred until somebody asks: importing the SDK stays cheap.
"""
from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable

from peregrine_sdk.base import IntegrationBase
from peregrine_sdk.discovery import DiscoveryRecord, build_registry, scan_package


class Registry:
    """``classes`` maps a name to its class; ``records`` holds every candidate, failed ones too
    (shown as "X is unavailable: reason").  Both are updated in place by :meth:`rediscover`."""

    def __init__(self, package: str) -> None:
        self.package = package
        self.classes: dict[str, type[IntegrationBase]] = {}
        self.records: list[DiscoveryRecord] = []
        self._built = False
        self._lock = threading.RLock()

    def rediscover(self, extra: Iterable[DiscoveryRecord] = ()) -> dict[str, type[IntegrationBase]]:
        """Scan the package again, plus ``extra`` records from other origins."""
        with self._lock:
            records = scan_package(importlib.import_module(self.package)) + list(extra)
            self.records[:] = records
            self.classes.clear()
            self.classes.update(build_registry(records))
            self._built = True
            return self.classes

    def ensure_built(self) -> None:
        with self._lock:
            if not self._built:
                self.rediscover()

    def unavailable(self) -> list[DiscoveryRecord]:
        self.ensure_built()
        return [r for r in self.records if r.cls is None]


__all__ = ["Registry"]
