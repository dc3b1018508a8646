"""Loading plugins into the app: the SDK is told where things live, then every origin is scanned."""
from __future__ import annotations

from pathlib import Path

from peregrine_sdk.base import IntegrationBase


def rediscover_all(config_dir: Path | None = None) -> dict[str, type[IntegrationBase]]:
    """Rebuild the registry from built-ins plus every external plugin (the app's start-up)."""
    import integrations
    from peregrine_sdk.external import discover_external

    return integrations.rediscover(extra=discover_external(config_dir))
