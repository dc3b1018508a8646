"""Plugins from outside the source tree: installed packages and the user's plugins folder.

Two origins, each yielding one :class:`~peregrine_sdk.discovery.DiscoveryRecord` per candidate
(the class, or the reason it could not load), for ``integrations.rediscover(extra=...)``:

* entry points of the group ``peregrine_desktop.integrations``; the entry point's name is the
  integration's name and its value is a module (``pkg.mod``) or a class (``pkg.mod:Cls``);
* single-module plugins ``<config dir>/plugins/<name>.py``, imported under the private package
  ``_peregrine_user_plugins`` so that a file called ``http.py`` can never replace a built-in or
  a module of the standard library — and only once the user has allowed that file's exact
  content: a plugin runs with the user's rights, so a file dropped into the folder (or changed
  after it was allowed) is not imported.  The allow-list is the host's (``host.plugin_allowed``)
  or the caller's (``allowed=``); :func:`describe_plugin_file` says what a file claims to be
  without running it, and its SHA-256 fingerprint.

A third-party plugin never shadows a built-in silently: ``build_registry`` refuses the duplicate.
"""
from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.metadata
import importlib.util
import inspect
import logging
import sys
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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

#: path → (fingerprint, module): an unchanged file is not executed again on rediscovery.
_loaded: dict[Path, tuple[str, types.ModuleType]] = {}

#: Decides whether a plugin file may run: (resolved path, SHA-256 of its content) → bool.
PluginAllowed = Callable[[Path, str], bool]


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


def fingerprint(content: bytes) -> str:
    """The SHA-256 of a plugin file's bytes: what the user allows, so any change shows."""
    return hashlib.sha256(content).hexdigest()


@dataclass(frozen=True)
class PluginFile:
    """A plugin file as the user is shown it before it may run: read, never imported."""

    path: Path
    fingerprint: str
    name: str = ""            # the class's ``name``, as written in the file
    label: str = ""
    description: str = ""
    problem: str = ""         # why the claims could not be read (the file is still listed)

    @property
    def stem(self) -> str:
        return self.path.stem


def _claims(tree: ast.Module) -> dict[str, str]:
    """``name``/``label``/``description`` string constants of the first class that sets one."""
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        found: dict[str, str] = {}
        for item in node.body:
            targets = (item.targets if isinstance(item, ast.Assign)
                       else [item.target] if isinstance(item, ast.AnnAssign) else [])
            value = getattr(item, "value", None)
            for target in targets:
                if (isinstance(target, ast.Name) and target.id in ("name", "label", "description")
                        and isinstance(value, ast.Constant) and isinstance(value.value, str)):
                    found[target.id] = value.value
        if found.get("name") or found.get("label"):
            return found
    return {}


def describe_plugin_file(path: Path, content: bytes | None = None) -> PluginFile:
    """What ``path`` claims to be (parsed with :mod:`ast`, not run) and its fingerprint."""
    path = Path(path).resolve()
    if content is None:
        content = path.read_bytes()
    try:
        claims = _claims(ast.parse(content, filename=str(path)))
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        return PluginFile(path, fingerprint(content),
                          problem=f"it cannot be read as Python{f' (line {line})' if line else ''}")
    return PluginFile(path, fingerprint(content), name=claims.get("name", ""),
                      label=claims.get("label", ""), description=claims.get("description", ""),
                      problem="" if claims else "it declares no integration class")


def plugin_files(folder: Path) -> list[Path]:
    """The candidate plugin files of a folder (``_helpers.py`` are not plugins)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return [p for p in sorted(folder.glob("*.py")) if not p.stem.startswith("_")]


def load_user_module(path: Path, content: bytes | None = None) -> types.ModuleType:
    """Import one plugin file as ``_peregrine_user_plugins.<stem>``; a changed file is re-run.

    ``content``: the bytes that were allowed — exactly those are run, so a file swapped after the
    check cannot slip in.  Raises whatever the module raises; the caller turns it into a record.
    """
    path = Path(path).resolve()
    if content is None:
        content = path.read_bytes()
    digest = fingerprint(content)
    cached = _loaded.get(path)
    if cached and cached[0] == digest:
        return cached[1]
    package = _namespace()
    qualified = f"{USER_NAMESPACE}.{path.stem}"
    spec = importlib.util.spec_from_file_location(qualified, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module  # dataclasses and pickling look the module up by name
    try:
        exec(compile(content, str(path), "exec"), module.__dict__)  # noqa: S102 - allowed code
    except BaseException:
        sys.modules.pop(qualified, None)
        _loaded.pop(path, None)
        raise
    setattr(package, path.stem, module)
    _loaded[path] = (digest, module)
    return module


def _host_allowed() -> PluginAllowed:
    from peregrine_sdk import host

    return host.current().plugin_allowed


def scan_user_folder(folder: Path, allowed: PluginAllowed | None = None
                     ) -> list[DiscoveryRecord]:
    """One record per allowed ``*.py`` in ``folder`` (``_helpers.py`` skipped).

    A file ``allowed`` (default: the host's allow-list) refuses is not imported and gets no
    record: it waits, listed by :func:`describe_plugin_file`, until the user allows it."""
    folder = Path(folder)
    allowed = allowed or _host_allowed()
    origin = user_folder_origin(folder)
    records = []
    for path in plugin_files(folder):
        name = path.stem
        qualified = f"{USER_NAMESPACE}.{name}"
        if not name.isidentifier() or name != name.lower():
            records.append(DiscoveryRecord(
                name, origin, qualified,
                error=f"the file name {path.name!r} is not a lower_snake_case Python name; "
                      f"rename it (the name is also its config file name)"))
            continue
        try:
            content = path.read_bytes()
        except OSError as exc:
            records.append(DiscoveryRecord(name, origin, qualified,
                                           error=f"cannot be read ({exc.strerror or exc})"))
            continue
        if not allowed(path.resolve(), fingerprint(content)):
            log.info("user plugin %s is not allowed to run (yet); not imported", path)
            continue
        try:
            module = load_user_module(path, content)
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
def discover_external(config_dir: Path | None = None, extra_folders: Iterable[Path] = (),
                      allowed: PluginAllowed | None = None) -> list[DiscoveryRecord]:
    """Records of every plugin outside the package: entry points, then the user folder(s).

    ``config_dir`` defaults to the host's settings folder; ``allowed`` to the host's allow-list.
    """
    if config_dir is None:
        from peregrine_sdk import host

        config_dir = host.current().locations.config_dir()
    records = scan_entry_points()
    for folder in (plugins_dir(config_dir), *extra_folders):
        records += scan_user_folder(Path(folder), allowed)
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


__all__ = ["ENTRY_POINT_GROUP", "PLUGINS_FOLDER", "USER_NAMESPACE", "PluginAllowed", "PluginFile",
           "describe_plugin_file", "discover_external", "entry_points", "fingerprint",
           "load_user_module", "module_file", "plugin_files", "plugins_dir",
           "record_for_entry_point", "scan_entry_points", "scan_user_folder"]
