"""Discovery: every module is a plugin; a broken one is recorded, never fatal."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

import integrations
from peregrine_sdk.base import IntegrationBase
from peregrine_sdk.discovery import DiscoveryRecord, build_registry, record_for_module
from peregrine_sdk.validation import IntegrationDefinitionError, validate_class

FIXTURES = Path(__file__).parent / "plugin_fixtures"

GOOD = '''
from peregrine_sdk.base import IntegrationBase

class {cls}(IntegrationBase):
    name = "{name}"
    label = "{label}"
    tier = "{tier}"
    def fields(self):
        return [{{"key": "api_key", "label": "API key", "type": "password", "required": True}}]
    def connect(self, config):
        self.key = config.get("api_key", "")
        return bool(self.key)
    def test(self):
        return False
'''


@pytest.fixture
def plugin_dir(tmp_path):
    """An extra folder of the integrations package, as if files were dropped into it."""
    folder = tmp_path / "extra_plugins"
    folder.mkdir()
    original = list(integrations.__path__)
    integrations.__path__.append(str(folder))
    created: list[str] = []
    yield folder, created
    integrations.__path__[:] = original
    for name in created:
        sys.modules.pop(f"integrations.{name}", None)
    integrations.rediscover()


def drop(folder_and_created, name: str, text: str) -> None:
    folder, created = folder_and_created
    (folder / f"{name}.py").write_text(text)
    created.append(name)


def record(name: str) -> DiscoveryRecord:
    return next(r for r in integrations.RECORDS if r.name == name)


def test_a_new_module_is_registered_without_any_list(plugin_dir):
    drop(plugin_dir, "acme", GOOD.format(cls="AcmeIntegration", name="acme", label="Acme",
                                         tier="free"))
    integrations.rediscover()
    assert integrations.REGISTRY["acme"].label == "Acme"


@pytest.mark.parametrize("text,reason", [
    ("def broken(:\n", "has a syntax error at line 1"),
    ("import surely_not_installed_sdk\n", "needs the Python package 'surely_not_installed_sdk'"),
    ("raise RuntimeError('boom')\n", "failed to load (RuntimeError: boom)"),
    ("x = 1\n", "defines no IntegrationBase subclass"),
])
def test_a_broken_module_is_recorded_and_the_others_still_load(plugin_dir, text, reason):
    drop(plugin_dir, "broken", text)
    before = set(integrations.REGISTRY)
    integrations.rediscover()
    assert reason in record("broken").error
    assert set(integrations.REGISTRY) == before
    assert record("broken") in integrations.unavailable()


@pytest.mark.parametrize("kwargs,message", [
    ({"name": "other"}, "name 'other' must equal its module/config file name 'bad'"),
    ({"tier": "gold"}, "tier 'gold' is not one of free, paid, premium"),
    ({"label": ""}, "'label' is not set"),
])
def test_validation_names_the_class_and_the_problem(plugin_dir, kwargs, message):
    values = {"cls": "BadIntegration", "name": "bad", "label": "Bad", "tier": "free", **kwargs}
    drop(plugin_dir, "bad", GOOD.format(**values))
    integrations.rediscover()
    assert record("bad").error.startswith("BadIntegration: ")
    assert message in record("bad").error


def make_class(fields):
    class Fielded(IntegrationBase):
        name, label = "fielded", "Fielded"

        def fields(self):
            return fields

        def connect(self, config):
            return True

        def test(self):
            return True
    return Fielded


@pytest.mark.parametrize("fields,message", [
    ([{"key": "a", "label": "A", "type": "text"}], "field 'a' lacks 'required'"),
    (["api_key"], "field #1 is a str, not a dict"),
    ([{"key": "Bad Key", "label": "A", "type": "text", "required": False}],
     "key must be lower_snake_case"),
    ([{"key": "a", "label": "A", "type": "choice", "required": False}],
     "type 'choice' needs a non-empty 'choices' list"),
    ([{"key": "a", "label": "A", "type": "text", "required": "yes"}],
     "'required' must be True or False"),
    ({"key": "a"}, "fields() returned a dict, not a list"),
])
def test_each_field_defect_is_reported(fields, message):
    with pytest.raises(IntegrationDefinitionError) as info:
        validate_class(make_class(fields), "fielded")
    assert str(info.value).startswith("Fielded: ")
    assert message in str(info.value)


def test_a_class_without_a_test_is_refused():
    class Untested(IntegrationBase):
        name, label = "untested", "Untested"

        def fields(self):
            return []

        def connect(self, config):
            return True
    with pytest.raises(IntegrationDefinitionError, match="neither test\\(\\) nor probe\\(\\)"):
        validate_class(Untested, "untested")


def test_a_third_party_plugin_cannot_shadow_a_built_in():
    builtin = DiscoveryRecord("slackish", "built-in", "integrations.slackish",
                              cls=make_class([]))
    outsider = DiscoveryRecord("slackish", "user folder /tmp/plugins", "x", cls=make_class([]))
    registry = build_registry([outsider, builtin])
    assert registry["fielded"] is builtin.cls
    assert outsider.cls is None and "already used by Fielded (built-in)" in outsider.error


def test_following_the_guide_the_plugin_appears_in_the_wizard_and_settings(
        qtbot, plugin_dir, config_dir):
    """A plugin author adds the guide's module and its example — and nothing else."""
    folder, created = plugin_dir
    shutil.copy(FIXTURES / "myservice.py", folder / "myservice.py")
    shutil.copy(FIXTURES / "myservice.yaml.example", folder / "myservice.yaml.example")
    created.append("myservice")
    integrations.rediscover()

    from peregrine_desktop.settings.profile import UserProfile
    from peregrine_desktop.ui import wizard as wiz
    from peregrine_desktop.ui.settings_dialog import SettingsDialog

    profile = UserProfile(config_dir / "user.yaml")
    profile.update(wizard_step=wiz.INTEGRATIONS, name="Ada", target_titles=["SRE"])
    wizard = wiz.SetupWizard(profile, config_dir)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.resume()
    card = wizard.page(wiz.INTEGRATIONS).panel.cards["myservice"]
    assert card.title.text() == "<b>My Service</b>" and card.status.text() == "Not set up"
    assert "API Key" in [e.label_text for e in card.form.editors.values()]

    settings = SettingsDialog(profile, config_dir)
    qtbot.addWidget(settings)
    assert "myservice" in settings.integrations.cards
