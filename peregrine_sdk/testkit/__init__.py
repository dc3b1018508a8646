"""The plugin test kit: what a plugin's own tests need, installed with the SDK.

Importing it never imports pytest; only :mod:`peregrine_sdk.testkit.pytest_plugin` does.
"""
from peregrine_sdk.testkit.endpoints import pointed_at

__all__ = ["pointed_at"]
