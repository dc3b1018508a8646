"""The test kit's contract suite (without its fault sweep, which tests/test_fault_sweep.py runs)
over every registered integration: adding a module adds its coverage."""
from __future__ import annotations

from pathlib import Path

import pytest

import integrations
from peregrine_sdk.capabilities import unimplemented
from peregrine_sdk.testkit.contract import run_contract

ROOT = Path(__file__).resolve().parent.parent
BUILT_INS = sorted(integrations.REGISTRY)


def test_built_ins_all_load():
    assert integrations.unavailable() == [], [r.error for r in integrations.unavailable()]
    assert BUILT_INS, "no integration was discovered"


@pytest.mark.parametrize("name", BUILT_INS)
def test_each_integration_keeps_the_contract(name):
    cls = integrations.REGISTRY[name]
    report = run_contract(cls, faults=False)
    assert report.ok, report.render()
    assert [c.name for c in report.checks] == ["metadata and fields", "config example",
                                               "connect() with nothing filled in"]
    assert unimplemented(cls) == []


def test_the_contract_finds_a_config_example_in_this_checkout():
    report = run_contract(integrations.REGISTRY["slack"], faults=False)
    assert report.checks[1].problems == []
    assert (ROOT / "config" / "integrations" / "slack.yaml.example").is_file()


def test_live_config_files_are_gitignored():
    ignore = (ROOT / ".gitignore").read_text()
    assert "config/integrations/*.yaml" in ignore
