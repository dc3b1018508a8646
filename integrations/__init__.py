"""The built-in plugins: every module (or sub-package) here is one integration — no list to keep.

``REGISTRY`` maps a name to its class and ``RECORDS`` holds every candidate, the failed ones
too; both are built the first time either is used (importing one plugin stays cheap), and
``rediscover()`` rebuilds them in place.  The framework lives in :mod:`peregrine_sdk`;
``integrations.base`` is only the guide's import path for the base class.
"""
from __future__ import annotations

from typing import Any

from peregrine_sdk.registry import Registry

_registry = Registry(__name__)
rediscover = _registry.rediscover
unavailable = _registry.unavailable


def __getattr__(name: str) -> Any:
    """First use of REGISTRY or RECORDS: discover (PEP 562)."""
    if name in ("REGISTRY", "RECORDS"):
        _registry.ensure_built()
        return _registry.classes if name == "REGISTRY" else _registry.records
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


REGISTRY: dict
RECORDS: list

__all__ = ["REGISTRY", "RECORDS", "rediscover", "unavailable"]
