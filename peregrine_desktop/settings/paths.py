"""Where live config and data live: the platform's locations, unless overridden.

Order: an explicit ``--config-dir`` / ``--data-dir`` (set via :func:`set_overrides`), then the
``PEREGRINE_CONFIG_DIR`` / ``PEREGRINE_DATA_DIR`` environment variables, then QStandardPaths
(``~/.config/Peregrine`` and ``~/.local/share/Peregrine`` on Linux).  The log folder follows
each platform's convention for logs (:func:`log_dir`).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from peregrine_desktop import APP_NAME

_overrides: dict[str, Path] = {}


def set_overrides(config_dir: str | os.PathLike | None = None,
                  data_dir: str | os.PathLike | None = None) -> None:
    _overrides.clear()
    if config_dir:
        _overrides["config"] = Path(config_dir).expanduser().resolve()
    if data_dir:
        _overrides["data"] = Path(data_dir).expanduser().resolve()


def _standard(kind: str) -> Path:
    """The platform's folder for us: ``<generic config|data>/Peregrine``.

    Qt's AppConfigLocation would nest organisation and application (``Peregrine/Peregrine``), so
    the generic location is used with one folder of our own.
    """
    from PySide6.QtCore import QStandardPaths

    location = (QStandardPaths.StandardLocation.GenericConfigLocation if kind == "config"
                else QStandardPaths.StandardLocation.GenericDataLocation)
    return Path(QStandardPaths.writableLocation(location)) / APP_NAME


def config_dir() -> Path:
    """The folder holding user.yaml and integrations/<name>.yaml."""
    if "config" in _overrides:
        return _overrides["config"]
    env = os.environ.get("PEREGRINE_CONFIG_DIR")
    return Path(env).expanduser() if env else _standard("config")


def window_settings_file(config: Path | None = None) -> Path:
    """The windows' remembered state (geometry, columns, the desktop's last scheme): an INI
    file for QSettings, beside the settings."""
    return (config or config_dir()) / "window.ini"


def data_dir() -> Path:
    """The folder holding the job database and the activity log."""
    if "data" in _overrides:
        return _overrides["data"]
    env = os.environ.get("PEREGRINE_DATA_DIR")
    return Path(env).expanduser() if env else _standard("data")


#: The log file's name in :func:`log_dir` (rotated copies get .1, .2, …).
LOG_FILENAME = "peregrine.log"


def log_dir() -> Path:
    """Where the log file lives: ``$XDG_STATE_HOME/Peregrine/log`` (``~/.local/state/…``) on
    Linux, ``~/Library/Logs/Peregrine`` on macOS, ``%LOCALAPPDATA%\\Peregrine\\Logs`` on Windows;
    ``PEREGRINE_LOG_DIR`` wins.  Pure path logic: no Qt needed before the first window."""
    env = os.environ.get("PEREGRINE_LOG_DIR")
    if env:
        return Path(env).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Logs" / APP_NAME
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / APP_NAME / "Logs"
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / APP_NAME / "log"


def log_file() -> Path:
    return log_dir() / LOG_FILENAME


def see_the_log() -> str:
    """The words of every message that sends the user to the log: they name the file."""
    return f"see the log file {log_file()}"
