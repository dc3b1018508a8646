"""The guide's import path: ``from integrations.base import IntegrationBase``.

The class lives in the plugin SDK (:mod:`peregrine_sdk.base`); this module only re-exports it so
a plugin written as the guide shows works unchanged.  It is the one module here that is not a
plugin.
"""
from peregrine_sdk.base import TIERS, IntegrationBase

__all__ = ["IntegrationBase", "TIERS"]
