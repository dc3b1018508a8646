"""Loading plugins into the app: the SDK is told where things live, then every origin is scanned."""
from __future__ import annotations

from pathlib import Path

from peregrine_sdk.base import IntegrationBase


def rediscover_all(config_dir: Path | None = None) -> dict[str, type[IntegrationBase]]:
    """Rebuild the registry from built-ins plus every external plugin (the app's start-up); a
    plugin-folder file runs only if this config folder's allow-list has its fingerprint."""
    import integrations
    from peregrine_desktop.settings import paths
    from peregrine_desktop.settings.plugin_permissions import PluginPermissions
    from peregrine_sdk.external import discover_external

    config_dir = Path(config_dir) if config_dir is not None else paths.config_dir()
    allowed = PluginPermissions(config_dir).checker()
    return integrations.rediscover(extra=discover_external(config_dir, allowed=allowed))


def waiting_plugins(config_dir: Path) -> list:
    """A note per plugin file that is not allowed (yet, or since it changed), for the window."""
    from peregrine_desktop.settings.config_recovery import ConfigProblem
    from peregrine_desktop.settings.plugin_permissions import ALLOWED, CHANGED, PluginPermissions

    notes = []
    for plugin, status in PluginPermissions(config_dir).files():
        if status == ALLOWED:
            continue
        what = plugin.label or plugin.name or plugin.stem
        why = ("changed since you allowed it" if status == CHANGED
               else "has not been allowed to run")
        notes.append(ConfigProblem(
            plugin.path, f"{what} {why}, so it was not loaded. Allow it in Settings → Plugins "
            f"only if you trust where it came from.", f"Plugin {plugin.path.name}",
            resettable=False, severity="warning",
            detail="A plugin runs with your rights: it can read and change your files."))
    return notes
