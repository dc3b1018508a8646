"""pytest fixtures of the plugin test kit.  Enable it in a plugin's ``conftest.py``::

    pytest_plugins = ["peregrine_sdk.testkit.pytest_plugin"]

- ``loopback_server``: a started :class:`~peregrine_sdk.testkit.LoopbackServer`, stopped after
  the test.
- ``plugin_contract``: ``plugin_contract(cls, example=None, faults=True, prepare=None)`` runs the
  contract suite and fails the test with every problem it found; returns the report.

Before every test the trackers' schema caches are emptied (:meth:`SchemaCache.clear_all`): each
test's emulated service starts unknown, even on a port an earlier test's emulator used.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from peregrine_sdk.testkit.contract import ContractReport, run_contract
from peregrine_sdk.testkit.loopback import LoopbackServer
from peregrine_sdk.tracker import SchemaCache


@pytest.fixture(autouse=True)
def _fresh_schema_caches() -> Iterator[None]:
    SchemaCache.clear_all()
    yield


@pytest.fixture
def loopback_server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        yield server


@pytest.fixture
def plugin_contract() -> Callable[..., ContractReport]:
    def check(cls: type, **options) -> ContractReport:
        report = run_contract(cls, **options)
        if not report.ok:
            pytest.fail(f"{report.name} breaks the plugin contract:\n" + report.render(),
                        pytrace=False)
        return report
    return check
