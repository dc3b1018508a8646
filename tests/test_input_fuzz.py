"""Property-based: nothing typed into a field, no field declaration the validator accepts, no config
value and no YAML document on disk makes an exception escape into the UI.

``PEREGRINE_FUZZ_EXAMPLES`` sets the examples per property (benchmarks/soak.py raises it);
``FUZZ_COUNTS`` counts the inputs actually tried.
"""
from __future__ import annotations

import collections
import os
import tempfile
import unicodedata
from pathlib import Path

import keyring
import pytest
import keyring.backends.fail
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from peregrine_sdk.base import IntegrationBase
from peregrine_sdk.validation import FIELD_TYPES, IntegrationDefinitionError, validate_class
from peregrine_desktop.settings import config_recovery
from peregrine_desktop.settings import secrets
from peregrine_desktop.settings.configfiles import ConfigFileError, read_yaml_mapping
from peregrine_desktop.settings.input_rules import field_value_problem, insecure_secret_warning
from peregrine_desktop.settings.profile import load_profile

EXAMPLES = int(os.environ.get("PEREGRINE_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])
FUZZ_COUNTS: collections.Counter[str] = collections.Counter()


def qt_app():
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


# -- strategies ----------------------------------------------------------------------------------
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=40))
ANYTHING = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)
URLISH = st.builds(lambda head, tail: head + tail,
                   st.sampled_from(["", "http://", "https://", "ftp://", "http://[", "https://[::1",
                                    "javascript:", "file:///", "http://user:pw@", " https://",
                                    "http://10.0.0.1:", "HTTP://", "https://host:99999/",
                                    "http://localhost:8123/"]),
                   st.text(max_size=60))
TYPED = st.one_of(st.text(max_size=80), URLISH,
                  st.text(alphabet=st.characters(codec=None), min_size=4090, max_size=4200),
                  st.sampled_from(["\x00", "a\u200bb", "\ud800", "tok\n", "\t  x  \t", "\x1b[2J",
                                   "\u202eevil", "\ufeffbom"]))
KEYS = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True)
FIELD = st.fixed_dictionaries(
    {"key": st.one_of(KEYS, SCALARS), "label": st.one_of(st.text(max_size=30), SCALARS),
     "type": st.one_of(st.sampled_from(sorted(FIELD_TYPES)), st.text(max_size=8), SCALARS),
     "required": st.one_of(st.booleans(), SCALARS)},
    optional={"placeholder": st.one_of(st.text(max_size=30), SCALARS),
              "help": st.one_of(st.text(max_size=60), SCALARS),
              "choices": st.one_of(st.lists(st.one_of(
                  SCALARS, st.fixed_dictionaries({"value": SCALARS, "label": SCALARS})),
                  max_size=5), SCALARS),
              "filter": st.text(max_size=20)})
#: Declarations a plugin author would plausibly write (most pass the validator).
VALID_FIELD = st.fixed_dictionaries(
    {"key": KEYS, "label": st.text(max_size=30), "type": st.sampled_from(sorted(FIELD_TYPES)),
     "required": st.booleans(), "placeholder": st.text(max_size=30),
     "help": st.text(max_size=60)},
    optional={"choices": st.lists(st.one_of(st.text(max_size=10), st.integers(), st.fixed_dictionaries(
        {"value": SCALARS, "label": st.text(max_size=10)})), min_size=1, max_size=4)}
).map(lambda f: {**f, "choices": f.get("choices") or ["a", "b"]} if f["type"] == "choice" else f)
FIELDS = st.one_of(st.lists(VALID_FIELD, max_size=5, unique_by=lambda f: f["key"]),
                   st.lists(FIELD, max_size=5), ANYTHING)
CONFIG = st.dictionaries(st.one_of(KEYS, st.text(max_size=8)), st.one_of(TYPED, SCALARS),
                         max_size=6)


def _yaml_documents():
    import yaml

    dumped = ANYTHING.map(lambda d: yaml.safe_dump(d, allow_unicode=True))
    mutated = st.builds(lambda text, cut, junk: (text[:cut] + junk).encode("utf-8", "replace"),
                        dumped, st.integers(0, 200), st.text(max_size=10))
    return st.one_of(dumped.map(lambda t: t.encode("utf-8", "replace")), mutated,
                     st.binary(max_size=200), st.text(max_size=200).map(
                         lambda t: t.encode("utf-8", "replace")),
                     st.sampled_from([b"a: &a [*a]\n", b"- [unclosed", b"!!python/object:os.system",
                                      b"a: " + b"[" * 2000, b"? [1, 2]\n: x\n", b"\xef\xbb\xbfname: x",
                                      b"name: !!binary aGk=\n", b"1: 2\nnull: 3\n",
                                      b"wizard_step: 1e400\n", b"target_titles: {a: 1}\n"]))


class FuzzIntegration(IntegrationBase):
    name = "fuzz"
    label = "Fuzz"

    def fields(self) -> list[dict]:
        return [{"key": "api_token", "label": "Token", "type": "password", "required": True},
                {"key": "base_url", "label": "Server", "type": "url", "required": False},
                {"key": "flag", "label": "Flag", "type": "checkbox", "required": False}]

    def connect(self, config: dict) -> bool:
        return self.required_present(config)


# -- typed input ---------------------------------------------------------------------------------
@FUZZ
@given(spec=st.one_of(FIELD, ANYTHING), value=st.one_of(TYPED, ANYTHING))
def test_any_typed_value_gets_a_verdict_never_an_exception(spec, value):
    FUZZ_COUNTS["field values"] += 1
    verdict = field_value_problem(spec, value)
    assert verdict is None or (isinstance(verdict, str) and verdict)
    if verdict is None and isinstance(value, str):
        text = value.strip()
        assert len(text) <= 4096
        assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in text)
        if isinstance(spec, dict) and spec.get("type") == "url" and text:
            assert text.lower().startswith(("http://", "https://"))


@FUZZ
@given(fields=FIELDS, config=st.one_of(CONFIG, ANYTHING))
def test_the_plain_http_warning_never_raises(fields, config):
    FUZZ_COUNTS["http warnings"] += 1
    if not isinstance(fields, list) or not isinstance(config, dict):
        fields, config = [], {}
    warning = insecure_secret_warning(fields, config)
    assert warning is None or "http://" in warning


def test_the_warning_is_for_secrets_to_other_machines_only():
    fields = [{"key": "url", "label": "Server", "type": "url"},
              {"key": "token", "label": "Token", "type": "password"}]
    assert "Server uses plain http:// to ha.lan" in insecure_secret_warning(
        fields, {"url": "http://ha.lan:8123", "token": "t"})
    assert insecure_secret_warning(fields, {"url": "http://127.0.0.1:8123", "token": "t"}) is None
    assert insecure_secret_warning(fields, {"url": "https://ha.lan", "token": "t"}) is None
    assert insecure_secret_warning(fields, {"url": "http://ha.lan", "token": ""}) is None
    hook = [{"key": "webhook_url", "label": "Webhook URL", "type": "password"}]
    assert "Webhook URL" in insecure_secret_warning(hook, {"webhook_url": "http://x.test/h/1"})


def test_examples_of_refused_input_say_why():
    url = {"key": "u", "label": "Server", "type": "url"}
    assert field_value_problem(url, "ftp://x.test") == "Enter a web address starting with https:// (like https://example.com)."
    assert "valid web address" in field_value_problem(url, "http://[::1")
    assert field_value_problem(url, "https://x.test:99999") is not None   # port out of range
    assert "control character (U+0000)" in field_value_problem(url, "https://x\x00.test")
    assert "invisible formatting character (U+200B)" in field_value_problem(
        {"key": "t", "label": "Token", "type": "password"}, "abc\u200bdef")
    assert "too long (5,000 characters" in field_value_problem({"label": "Name"}, "x" * 5000)
    assert field_value_problem(url, "  https://x.test/path  ") is None


# -- declarations → widgets ------------------------------------------------------------------------
def _plugin_with(fields_value):
    return type("FuzzPlugin", (IntegrationBase,), {
        "name": "fuzz_plugin", "label": "Fuzz plugin", "__module__": __name__,
        "fields": lambda self: fields_value, "connect": lambda self, config: True,
        "test": lambda self: True})


@FUZZ
@given(fields=FIELDS, config=st.one_of(CONFIG, ANYTHING), typed=st.lists(TYPED, max_size=4))
def test_the_factory_renders_whatever_the_validator_accepts(fields, config, typed):
    from pytestqt.exceptions import capture_exceptions

    from peregrine_desktop.ui.fields import FieldForm

    FUZZ_COUNTS["field declarations"] += 1
    try:
        specs = validate_class(_plugin_with(fields), "fuzz_plugin")
    except IntegrationDefinitionError:
        return
    FUZZ_COUNTS["rendered forms"] += 1
    qt_app()
    with capture_exceptions() as raised:
        form = FieldForm(specs)
        try:
            form.set_values(config if isinstance(config, dict) else {})
            for editor, text in zip(form.editors.values(), typed * len(form.editors)):
                line = getattr(editor, "line", None)
                if line is not None:
                    line.setText(text)      # as if typed or pasted
                editor.problem()
                field_value_problem(editor.spec, editor.value())
            form.values()
            form.problems(show=True)
        finally:
            form.deleteLater()
    assert not raised, raised


@FUZZ
@given(kind=st.sampled_from(sorted(FIELD_TYPES)), required=st.booleans(),
       texts=st.lists(TYPED, min_size=1, max_size=3))
@example(kind="url", required=False, texts=["http://[::1"])   # urlsplit: "Invalid IPv6 URL"
@example(kind="url", required=True, texts=["https://host:99999/", "\x00"])
def test_nothing_typed_into_any_editor_raises(kind, required, texts):
    from pytestqt.exceptions import capture_exceptions

    from peregrine_desktop.ui.fields import FieldWidgetFactory

    FUZZ_COUNTS["typed into editors"] += len(texts)
    qt_app()
    spec = {"key": "value", "label": "Value", "type": kind, "required": required,
            "choices": ["a", "b"]}
    with capture_exceptions() as raised:
        editor = FieldWidgetFactory.create(spec)
        try:
            for text in texts:
                line = getattr(editor, "line", None)
                if line is not None:
                    line.setText(text)
                else:
                    editor.set_value(text)
                editor.problem()
                field_value_problem(spec, editor.value())
        finally:
            editor.widget.deleteLater()
            editor.deleteLater()
    assert not raised, raised


# -- values → disk → values ------------------------------------------------------------------------
ROUND_TRIP_TEXT = st.text(max_size=60).filter(
    lambda s: "${" not in s and not s.strip().startswith(secrets.REFERENCE_PREFIX))
ROUND_TRIP_VALUE = st.one_of(ROUND_TRIP_TEXT, st.integers(), st.booleans(), st.none(),
                             st.lists(ROUND_TRIP_TEXT, max_size=3))


@FUZZ
@given(config=st.dictionaries(st.one_of(st.sampled_from(["api_token", "base_url", "flag"]),
                                        KEYS), ROUND_TRIP_VALUE, max_size=6),
       with_keychain=st.booleans())
def test_any_config_saved_loads_back_the_same(config, with_keychain):
    from tests.test_secrets import FileKeyring

    FUZZ_COUNTS["config values"] += 1
    previous = keyring.get_keyring()
    with tempfile.TemporaryDirectory() as folder:
        keyring.set_keyring(FileKeyring(Path(folder) / "keychain.json") if with_keychain
                            else keyring.backends.fail.Keyring())
        secrets.clear_cache()
        try:
            FuzzIntegration.save_config(config, Path(folder) / "config")
            secrets.clear_cache()
            loaded = FuzzIntegration.load_config(Path(folder) / "config")
        finally:
            keyring.set_keyring(previous)
            secrets.clear_cache()
    assert loaded == {k: v.strip() if isinstance(v, str) else v for k, v in config.items()}


@FUZZ
@given(document=_yaml_documents(), which=st.sampled_from(["user.yaml", "integrations/fuzz.yaml"]))
def test_no_yaml_document_on_disk_stops_the_app(document, which):
    FUZZ_COUNTS["YAML documents"] += 1
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder)
        path = config / which
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(document)
        try:
            read_yaml_mapping(path)
            FuzzIntegration.load_config(config)
        except ConfigFileError as exc:
            assert exc.problem and str(path) in str(exc)
        profile, _sentence = load_profile(config / "user.yaml")
        profile.save()                       # what the wizard does next: must not raise
        load_profile(config / "user.yaml")
        problems = config_recovery.scan(config, {"fuzz": FuzzIntegration})
        assert all(p.problem and p.title for p in problems)


def test_a_choice_value_too_big_for_qt_is_not_a_crash(qtbot):
    from pytestqt.exceptions import capture_exceptions

    from peregrine_desktop.ui.fields import FieldForm

    specs = validate_class(_plugin_with([{"key": "size", "label": "Size", "type": "choice",
                                          "required": True, "choices": [2 ** 70, 1]}]),
                           "fuzz_plugin")
    with capture_exceptions() as raised:
        form = FieldForm(specs)
        qtbot.addWidget(form)
    assert not raised, raised
    assert form.values()["size"] == 2 ** 70
