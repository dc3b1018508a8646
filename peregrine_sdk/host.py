"""What the SDK needs from the application that hosts it, handed over at start-up.

The SDK never imports the app.  The app calls :func:`install` once with what the SDK needs from
it — where settings and data live, a secret store, a clock, and which plugin files the user has
allowed to run — and everything in the SDK reaches them through :func:`current`.  Tests and
plugin authors outside the app get a plain default: settings and data under the platform's usual
folders, secrets in the YAML file, the system clock, and no plugin file allowed (pass
``allowed=`` to the scanners to run your own).
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from peregrine_sdk.base import IntegrationBase


class SecretStore(Protocol):
    """Saves and loads an integration's config, keeping its password fields somewhere safe."""

    def save(self, cls: "type[IntegrationBase]", config: dict[str, Any]) -> Any: ...

    def load(self, cls: "type[IntegrationBase]") -> dict[str, Any]: ...


class Locations(Protocol):
    """Where the app keeps settings (``integrations/<name>.yaml``, ``plugins/``) and data."""

    def config_dir(self) -> Path: ...

    def data_dir(self) -> Path: ...


def utc_now() -> datetime:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


def no_plugin_allowed(path: Path, digest: str) -> bool:
    return False


class Host(NamedTuple):
    """The app's side of the contract; see :func:`install`.  (A named tuple, not a dataclass:
    the app makes one as it starts, and ``dataclasses`` with ``datetime`` would cost its first
    window ~3 ms.)"""

    locations: Locations
    #: Builds the secret store for a config folder (the guide's ``save_config(config, dir)``).
    secret_store: Callable[[Path], SecretStore]
    clock: Callable[[], datetime] = utc_now
    #: (resolved path, SHA-256 of the content) → may this plugin file run?  Default: none may.
    plugin_allowed: Callable[[Path, str], bool] = no_plugin_allowed


class _PlatformLocations:
    """Without an app: ``PEREGRINE_CONFIG_DIR`` / ``PEREGRINE_DATA_DIR`` or the XDG folders."""

    def config_dir(self) -> Path:
        env = os.environ.get("PEREGRINE_CONFIG_DIR")
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        return Path(env) if env else base / "Peregrine"

    def data_dir(self) -> Path:
        env = os.environ.get("PEREGRINE_DATA_DIR")
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
        return Path(env) if env else base / "Peregrine"


class YamlSecretStore:
    """Without an app: the whole config, secrets included, in the owner-only YAML file."""

    def __init__(self, config_dir: Path) -> None:
        self.config_dir = Path(config_dir)

    def save(self, cls: "type[IntegrationBase]", config: dict[str, Any]) -> Path:
        import yaml

        path = cls.config_path(self.config_dir)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yaml.safe_dump(dict(config), handle, sort_keys=False, allow_unicode=True)
        return path

    def load(self, cls: "type[IntegrationBase]") -> dict[str, Any]:
        import yaml

        path = cls.config_path(self.config_dir)
        if not path.exists():
            return {}
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return dict(data) if isinstance(data, dict) else {}


_lock = threading.Lock()
_host: Host | None = None


def install(host: Host) -> None:
    """Called by the application once, before any plugin is used."""
    global _host
    with _lock:
        _host = host


def current() -> Host:
    """The installed host, or the stand-alone default."""
    global _host
    with _lock:
        if _host is None:
            _host = Host(locations=_PlatformLocations(), secret_store=YamlSecretStore)
        return _host


def reset() -> None:
    """Forget the installed host (tests)."""
    global _host
    with _lock:
        _host = None


__all__ = ["Host", "Locations", "SecretStore", "YamlSecretStore", "current", "install", "reset"]
