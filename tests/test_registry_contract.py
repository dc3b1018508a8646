"""One contract suite over every registered integration: adding a module adds its coverage."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import integrations
from peregrine_sdk.base import TIERS, IntegrationBase
from peregrine_sdk.capabilities import capabilities_of, unimplemented
from peregrine_sdk.validation import FIELD_TYPES, SECRET_NAME, field_problems

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "config" / "integrations"
BUILT_INS = sorted(integrations.REGISTRY)


def test_built_ins_all_load():
    assert integrations.unavailable() == [], [r.error for r in integrations.unavailable()]
    assert BUILT_INS, "no integration was discovered"


@pytest.fixture(params=BUILT_INS)
def cls(request) -> type[IntegrationBase]:
    return integrations.REGISTRY[request.param]


def test_metadata(cls):
    module = cls.__module__.rsplit(".", 1)[-1]
    assert cls.name == module
    assert cls.label.strip() and cls.tier in TIERS
    assert cls.description, f"{cls.name}: a one-sentence description helps people choose"


def test_field_dicts_are_well_formed(cls):
    fields = cls().fields()
    assert fields
    for index, field in enumerate(fields):
        assert field_problems(field, index) == []
        assert field["type"] in FIELD_TYPES
        assert isinstance(field.get("help", ""), str)


def test_secret_fields_are_typed_password(cls):
    for field in cls().fields():
        if SECRET_NAME.search(field["key"]):
            assert field["type"] == "password", f"{cls.name}.{field['key']} would be shown"


def test_example_file_keys_equal_field_keys(cls):
    example = EXAMPLES / f"{cls.name}.yaml.example"
    assert example.is_file(), f"missing {example.relative_to(ROOT)}"
    data = yaml.safe_load(example.read_text()) or {}
    assert list(data) == [f["key"] for f in cls().fields()]


def test_capabilities_are_declared_and_implemented(cls):
    assert capabilities_of(cls), f"{cls.name} declares no capability"
    assert unimplemented(cls) == []


def test_connect_rejects_an_empty_config(cls):
    required = [f for f in cls().fields() if f["required"]]
    if required:
        assert cls().connect({}) is False


def test_test_never_raises_and_says_why(cls, config_dir):
    """With nothing reachable, test() is False and check() names a category (no traceback)."""
    instance = cls()
    config = {f["key"]: ("http://127.0.0.1:9/" if f["type"] == "url" else "x")
              for f in instance.fields() if f["type"] != "checkbox"}
    instance.connect(config)
    assert instance.test() is False
    assert instance.check().kind.value != "ok"


def test_live_config_files_are_gitignored():
    ignore = (ROOT / ".gitignore").read_text()
    assert "config/integrations/*.yaml" in ignore
