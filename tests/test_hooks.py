"""Declared hooks: the app calls a hook method only on a plugin that declares the hook, and
registration refuses a plugin whose hook methods and declarations disagree."""
from __future__ import annotations

import pytest

import integrations
from peregrine_sdk.base import IntegrationBase, check_config
from peregrine_sdk.hooks import FieldChoices, RenewedSettings, SignIn, has_hook
from peregrine_sdk.validation import IntegrationDefinitionError, validate_class


class Offline(IntegrationBase):
    name = "offline"
    label = "Offline"

    def fields(self):
        return [{"key": "region", "label": "Region", "type": "choice", "required": False,
                 "choices": ["eu"]}]

    def connect(self, config):
        return True

    def test(self):
        return True


class WithChoices(Offline, FieldChoices):
    def field_choices(self):
        return {"region": ["eu", {"value": "us", "label": "United States"}]}


def test_choices_after_a_passing_test_come_only_from_a_declared_hook():
    result, choices = check_config(WithChoices, {})
    assert result.ok and choices == {"region": ["eu", {"value": "us", "label": "United States"}]}
    plain, none = check_config(Offline, {})
    assert plain.ok and none == {}


@pytest.mark.parametrize("method,hook", [("field_choices", "FieldChoices"),
                                         ("updated_settings", "RenewedSettings"),
                                         ("begin_sign_in", "SignIn"),
                                         ("cancel_sign_in", "SignIn")])
def test_a_hook_method_without_its_declaration_is_refused(method, hook):
    undeclared = type("Undeclared", (Offline,), {"name": "undeclared", method: lambda self: {}})
    with pytest.raises(IntegrationDefinitionError, match=f"does not declare the hook {hook}"):
        validate_class(undeclared, "undeclared")


def test_a_declared_hook_without_its_methods_is_refused():
    half = type("Half", (Offline, SignIn), {"name": "half", "begin_sign_in": lambda self: None})
    with pytest.raises(IntegrationDefinitionError,
                       match=r"finish_sign_in\(\) is required by the declared hook SignIn"):
        validate_class(half, "half")


def test_the_built_ins_declare_what_they_implement():
    registry = integrations.REGISTRY
    signs_in = {name for name, cls in registry.items() if has_hook(cls, SignIn)}
    assert signs_in == {"dropbox", "google_drive", "onedrive"}
    assert {n for n, c in registry.items() if has_hook(c, RenewedSettings)} == {"onedrive"}
    assert {n for n, c in registry.items() if has_hook(c, FieldChoices)} >= {"notion",
                                                                             "airtable"}
