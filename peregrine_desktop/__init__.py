"""Peregrine Desktop: a job-search companion whose integrations actually work."""

__version__ = "0.1.0"
APP_NAME = "Peregrine"
ORG_NAME = "Peregrine"


class _AppLocations:
    """The SDK's view of where the app keeps settings and data (resolved on each call, so
    ``--config-dir`` and the environment given after import still count)."""

    def config_dir(self):
        from peregrine_desktop.settings import paths

        return paths.config_dir()

    def data_dir(self):
        from peregrine_desktop.settings import paths

        return paths.data_dir()


def _secret_store(config_dir):
    from peregrine_desktop.settings.secrets import SecretStore

    return SecretStore(config_dir)


def _plugin_allowed(path, digest) -> bool:
    from peregrine_desktop.settings import paths
    from peregrine_desktop.settings.plugin_permissions import PluginPermissions

    return PluginPermissions(paths.config_dir()).is_allowed(path, digest)


def _install_host() -> None:
    """Hand the plugin SDK what it needs from the app; cheap (nothing heavy is imported)."""
    from peregrine_sdk import host

    host.install(host.Host(locations=_AppLocations(), secret_store=_secret_store,
                           plugin_allowed=_plugin_allowed))


_install_host()
