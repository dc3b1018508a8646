"""Plugins from outside the source tree: installed packages and the user's plugins folder.

Two origins, each yielding one :class:`~peregrine_sdk.discovery.DiscoveryRecord` per candidate
(the class, or the reason it could not load), for ``integrations.rediscover(extra=...)``:

* entry points of the group ``peregrine_desktop.integrations``; the entry point's name is the
  integration's name and its value is a module (``pkg.mod``) or a class (``pkg.mod:Cls``);
* single-module plugins ``<config dir>/plugins/<name>.py``, imported under the private package
  ``_peregrine_user_plugins`` so that a file called ``http.py`` can never replace a built-in or
  a module of the standard library.

A third-party plugin never shadows a built-in silently: ``build_registry`` refuses the duplicate.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
import logging
import sys
import types
from collections.abc import Iterable
from pathlib import Path

from peregrine_sdk.base import IntegrationBase
from peregrine_sdk.discovery import DiscoveryRecord, import_error_text, record_for_module
from peregrine_sdk.validation import IntegrationDefinitionError, validate_class

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "peregrine_desktop.integrations"
#: Folder below the config directory that holds single-module plugins.
PLUGINS_FOLDER = "plugins"
#: The private package user-folder modules are imported under.
USER_NAMESPACE = "_peregrine_user_plugins"

#: path → (mtime_ns, size, module): unchanged files are not executed again on rediscovery.
_loaded: dict[Path, tuple[int, int, types.ModuleType]] = {}


def plugins_dir(config_dir: Path) -> Path:
    """Where a user drops single-module plugins."""
    return Path(config_dir) / PLUGINS_FOLDER


def entry_point_origin(dist_name: str) -> str:
    return f"entry point {dist_name}"


def user_folder_origin(folder: Path) -> str:
    return f"user folder {folder}"


# -- the user's plugins folder -------------------------------------------------------------------
def _namespace() -> types.ModuleType:
    """The private parent package of every user-folder module (created once, path-less)."""
    package = sys.modules.get(USER_NAMESPACE)
    if package is None:
        package = types.ModuleType(USER_NAMESPACE, "Single-module plugins from the user's folder.")
        package.__path__ = []
        sys.modules[USER_NAMESPACE] = package
    return package


def load_user_module(path: Path) -> types.ModuleType:
    """Import one plugin file as ``_peregrine_user_plugins.<stem>``; a changed file is re-run.

    Raises whatever the module raises; the caller turns it into a record.
    """
    path = Path(path).resolve()
    stat = path.stat()
    cached = _loaded.get(path)
    if cached and cached[:2] == (stat.st_mtime_ns, stat.st_size):
        return cached[2]
    package = _namespace()
    qualified = f"{USER_NAMESPACE}.{path.stem}"
    spec = importlib.util.spec_from_file_location(qualified, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module  # dataclasses and pickling look the module up by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(qualified, None)
        _loaded.pop(path, None)
        raise
    setattr(package, path.stem, module)
    _loaded[path] = (stat.st_mtime_ns, stat.st_size, module)
    return module


def scan_user_folder(folder: Path) -> list[DiscoveryRecord]:
    """One record per ``*.py`` in ``folder`` (files starting with ``_`` are helpers, skipped)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    origin = user_folder_origin(folder)
    records = []
    for path in sorted(folder.glob("*.py")):
        name = path.stem
        if name.startswith("_"):
            continue
        qualified = f"{USER_NAMESPACE}.{name}"
        if not name.isidentifier() or name != name.lower():
            records.append(DiscoveryRecord(
                name, origin, qualified,
                error=f"the file name {path.name!r} is not a lower_snake_case Python name; "
                      f"rename it (the name is also its config file name)"))
            continue
        try:
            module = load_user_module(path)
        except BaseException as exc:  # noqa: BLE001 - SyntaxError, ImportError, anything
            if isinstance(exc, KeyboardInterrupt):
                raise
            log.warning("user plugin %s %s", path, import_error_text(exc))
            records.append(DiscoveryRecord(name, origin, qualified,
                                           error=import_error_text(exc)))
            continue
        records.append(record_for_module(module, name, origin))
    return records


# -- installed packages --------------------------------------------------------------------------
def _distribution_name(entry_point: importlib.metadata.EntryPoint) -> str:
    dist = getattr(entry_point, "dist", None)
    if dist is not None:
        try:
            return dist.name or dist.metadata["Name"]
        except Exception:  # noqa: BLE001 - damaged metadata still deserves an origin
            pass
    return entry_point.value.split(":", 1)[0]


def record_for_entry_point(entry_point: importlib.metadata.EntryPoint) -> DiscoveryRecord:
    """Load one entry point (a module or a class) and validate what it offers."""
    name = entry_point.name
    origin = entry_point_origin(_distribution_name(entry_point))
    module_name = entry_point.value.split(":", 1)[0].strip()
    try:
        loaded = entry_point.load()
    except BaseException as exc:  # noqa: BLE001
        if isinstance(exc, KeyboardInterrupt):
            raise
        log.warning("entry point %s (%s) %s", name, entry_point.value, import_error_text(exc))
        return DiscoveryRecord(name, origin, module_name, error=import_error_text(exc))
    if isinstance(loaded, types.ModuleType):
        return record_for_module(loaded, name, origin)
    record = DiscoveryRecord(name, origin, module_name)
    if not (inspect.isclass(loaded) and issubclass(loaded, IntegrationBase)):
        record.error = (f"the entry point points at {entry_point.value!r}, which is not an "
                        f"IntegrationBase subclass or a module")
        return record
    try:
        validate_class(loaded, name)
    except IntegrationDefinitionError as exc:
        record.error = str(exc)
    else:
        record.cls = loaded
    return record


def entry_points() -> list[importlib.metadata.EntryPoint]:
    """The group's entry points, one per name (the first installed wins, as importlib orders)."""
    seen: dict[str, importlib.metadata.EntryPoint] = {}
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        seen.setdefault(entry_point.name, entry_point)
    return sorted(seen.values(), key=lambda ep: ep.name)


def scan_entry_points() -> list[DiscoveryRecord]:
    return [record_for_entry_point(ep) for ep in entry_points()]


# -- both ----------------------------------------------------------------------------------------
def discover_external(config_dir: Path | None = None,
                      extra_folders: Iterable[Path] = ()) -> list[DiscoveryRecord]:
    """Records of every plugin outside the package: entry points, then the user folder(s).

    ``config_dir`` defaults to the host's settings folder.
    """
    if config_dir is None:
        from peregrine_sdk import host

        config_dir = host.current().locations.config_dir()
    records = scan_entry_points()
    for folder in (plugins_dir(config_dir), *extra_folders):
        records += scan_user_folder(Path(folder))
    return records


def module_file(record: DiscoveryRecord) -> Path | None:
    """The source file behind a record, when there is one on disk."""
    module = sys.modules.get(record.module)
    path = getattr(module, "__file__", None) if module is not None else None
    if path:
        return Path(path)
    if record.origin.startswith("user folder "):
        return Path(record.origin[len("user folder "):]) / f"{record.name}.py"
    spec = None
    try:
        spec = importlib.util.find_spec(record.module)
    except (ImportError, ValueError):
        pass
    return Path(spec.origin) if spec is not None and spec.origin else None


__all__ = ["ENTRY_POINT_GROUP", "PLUGINS_FOLDER", "USER_NAMESPACE", "discover_external",
           "entry_points", "load_user_module", "module_file", "plugins_dir",
           "record_for_entry_point", "scan_entry_points", "scan_user_folder"]
