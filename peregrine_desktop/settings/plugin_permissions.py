"""Which plugin files the user has allowed to run: each file's path and SHA-256 fingerprint.

A plugin in ``<config dir>/plugins/`` runs with the user's rights (it can read their files and
every saved secret), so nothing there is imported until the user allows it in Settings → Plugins,
having seen its path, what it claims to be and its fingerprint.  The fingerprint is of the exact
content allowed: a changed file needs allowing again.  The list lives in the config folder,
owner-only (0600), as ``plugins-allowed.yaml``.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from peregrine_desktop.settings.configfiles import ConfigFileError, read_yaml_mapping, write_yaml
from peregrine_sdk.external import PluginFile, describe_plugin_file, plugin_files, plugins_dir

log = logging.getLogger(__name__)

FILE_NAME = "plugins-allowed.yaml"
ALLOWED, CHANGED, NOT_ALLOWED = "allowed", "changed", "not allowed"


class PluginPermissions:
    """The allow-list of one config folder (read afresh each time: Settings may change it)."""

    def __init__(self, config_dir: Path) -> None:
        self.config_dir = Path(config_dir)
        self.path = self.config_dir / FILE_NAME

    def _entries(self) -> dict[str, dict]:
        try:
            data = read_yaml_mapping(self.path)
        except ConfigFileError as exc:  # a damaged list allows nothing; Settings rebuilds it
            log.warning("the plugin allow-list cannot be read (%s); no plugin file runs", exc)
            return {}
        allowed = data.get("allowed", {})
        return {str(k): v for k, v in allowed.items() if isinstance(v, dict)} \
            if isinstance(allowed, dict) else {}

    def is_allowed(self, path: Path, digest: str) -> bool:
        entry = self._entries().get(str(Path(path).resolve()))
        return entry is not None and entry.get("sha256") == digest

    def checker(self) -> Callable[[Path, str], bool]:
        """:meth:`is_allowed` over the list as it is now, read once (one scan, many files)."""
        entries = self._entries()

        def allowed(path: Path, digest: str) -> bool:
            entry = entries.get(str(Path(path).resolve()))
            return entry is not None and entry.get("sha256") == digest
        return allowed

    def status(self, plugin: PluginFile, entries: dict[str, dict] | None = None) -> str:
        entry = (self._entries() if entries is None else entries).get(str(plugin.path))
        if entry is None:
            return NOT_ALLOWED
        return ALLOWED if entry.get("sha256") == plugin.fingerprint else CHANGED

    def allow(self, plugin: PluginFile) -> None:
        entries = self._entries()
        entries[str(plugin.path)] = {"sha256": plugin.fingerprint, "claims": plugin.name}
        write_yaml(self.path, {"allowed": entries})
        log.info("plugin file %s allowed (sha256 %s)", plugin.path, plugin.fingerprint)

    def revoke(self, path: Path) -> None:
        entries = self._entries()
        if entries.pop(str(Path(path).resolve()), None) is not None:
            write_yaml(self.path, {"allowed": entries})
            log.info("plugin file %s no longer allowed", path)

    def files(self) -> list[tuple[PluginFile, str]]:
        """Every plugin file of the folder with its status, for Settings and the start-up note."""
        found = []
        entries = self._entries()
        for path in plugin_files(plugins_dir(self.config_dir)):
            try:
                plugin = describe_plugin_file(path)
            except OSError as exc:
                log.warning("plugin file %s cannot be read: %s", path, exc)
                continue
            found.append((plugin, self.status(plugin, entries)))
        return found


def allow_file(config_dir: Path, path: Path) -> PluginFile:
    """Allow one file as it is now (the developer who scaffolded it, a test's fixture)."""
    plugin = describe_plugin_file(path)
    PluginPermissions(config_dir).allow(plugin)
    return plugin
