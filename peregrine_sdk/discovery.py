"""Finding integrations: every module of the package, no list to keep.

Each candidate module yields a record — the class it registers, or the reason it could not — so
a broken plugin is listed as unavailable instead of vanishing or taking the others down.
"""
from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType

from peregrine_sdk.base import IntegrationBase
from peregrine_sdk.validation import IntegrationDefinitionError, validate_class

log = logging.getLogger(__name__)

BUILT_IN = "built-in"
#: The one module of a plugin package that is not a plugin: the guide's import path for the base
#: class (``from integrations.base import IntegrationBase``).
GUIDE_MODULES = frozenset({"base"})


@dataclass
class DiscoveryRecord:
    """One candidate plugin: the class it registered, or why it could not."""

    name: str                     # config name: the module's file name
    origin: str                   # "built-in", "entry point …", "user folder …"
    module: str
    cls: type[IntegrationBase] | None = None
    error: str | None = None

    @property
    def label(self) -> str:
        if self.cls is not None:
            return self.cls.label
        return self.name.replace("_", " ").title()

    @property
    def third_party(self) -> bool:
        return self.origin != BUILT_IN


def classes_in(module: ModuleType) -> list[type[IntegrationBase]]:
    """IntegrationBase subclasses defined (not merely imported) in ``module``."""
    return [obj for _, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, IntegrationBase) and obj is not IntegrationBase
            and obj.__module__ == module.__name__]


def record_for_module(module: ModuleType, name: str, origin: str) -> DiscoveryRecord:
    """Validate the one integration class a module defines."""
    record = DiscoveryRecord(name=name, origin=origin, module=module.__name__)
    found = [c for c in classes_in(module) if not c.__name__.startswith("_")]
    concrete = [c for c in found if c.name or len(found) == 1]
    if not concrete:
        record.error = "the module defines no IntegrationBase subclass"
    elif len(concrete) > 1:
        record.error = ("the module defines several integrations ("
                        + ", ".join(c.__name__ for c in concrete) + "); keep one per module")
    else:
        try:
            validate_class(concrete[0], name)
        except IntegrationDefinitionError as exc:
            record.error = str(exc)
        else:
            record.cls = concrete[0]
    return record


def import_error_text(exc: BaseException) -> str:
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        return f"needs the Python package {exc.name!r}, which is not installed"
    if isinstance(exc, SyntaxError):
        return f"has a syntax error at line {exc.lineno}: {exc.msg}"
    if isinstance(exc, SystemExit):
        return "tried to end the program while loading (it calls sys.exit() or exit())"
    return f"failed to load ({type(exc).__name__}: {exc})"


def scan_package(package: ModuleType) -> list[DiscoveryRecord]:
    """Import every plugin of ``package``: each module or sub-package, except the guide's
    ``base``.  Anything else placed there is a plugin, or is listed as unavailable with why."""
    records = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name in GUIDE_MODULES:
            continue
        qualified = f"{package.__name__}.{info.name}"
        try:
            module = sys.modules.get(qualified) or importlib.import_module(qualified)
        except BaseException as exc:  # noqa: BLE001 - SyntaxError, ImportError, anything
            if isinstance(exc, KeyboardInterrupt):
                raise
            log.warning("integration module %s %s", qualified, import_error_text(exc))
            records.append(DiscoveryRecord(info.name, BUILT_IN, qualified,
                                           error=import_error_text(exc)))
            continue
        records.append(record_for_module(module, info.name, BUILT_IN))
    return records


def build_registry(records: Iterable[DiscoveryRecord]) -> dict[str, type[IntegrationBase]]:
    """Registered classes by name.  A third-party plugin never silently replaces a built-in:
    the later duplicate gets an error on its record instead."""
    registry: dict[str, type[IntegrationBase]] = {}
    owners: dict[str, DiscoveryRecord] = {}
    for record in sorted(records, key=lambda r: r.third_party):
        if record.cls is None:
            continue
        key = record.cls.name
        if key in registry:
            record.error = (f"name {key!r} is already used by {owners[key].label} "
                            f"({owners[key].origin}); rename the plugin")
            record.cls = None
            continue
        registry[key] = record.cls
        owners[key] = record
    return dict(sorted(registry.items(), key=lambda kv: kv[1].label.lower()))
