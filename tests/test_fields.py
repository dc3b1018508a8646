"""The field widget factory: each type renders the widget a person expects, and enforces it."""
from __future__ import annotations

import logging

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QPushButton

from peregrine_desktop.ui.fields import FieldForm, FieldWidgetFactory, url_problem
from tests.fakes.ping import PingIntegration


@pytest.fixture
def form(qtbot):
    widget = FieldForm(PingIntegration().fields())
    qtbot.addWidget(widget)
    widget.show()
    return widget


def visible_errors(form: FieldForm) -> list[str]:
    return [label.text() for label in form.findChildren(QLabel, "fieldError")
            if label.isVisible()]


def test_each_type_gets_its_widget(form):
    editors = form.editors
    assert isinstance(editors["base_url"].focus_widget(), QLineEdit)
    assert editors["api_token"].focus_widget().echoMode() == QLineEdit.EchoMode.Password
    assert isinstance(editors["verbose"].widget, QCheckBox)
    assert isinstance(editors["region"].widget, QComboBox)
    assert any(b.text() == "Browse…" for b in editors["key_file"].widget.findChildren(QPushButton))


def test_placeholder_help_and_required_marker_are_shown(form):
    labels = [label.text() for label in form.findChildren(QLabel)]
    assert "&Server address *" in labels          # required marked, mnemonic set
    assert "&Workspace" in labels                 # optional: no star
    assert "Where the service runs" in labels      # help line under the field
    url = form.editors["base_url"].focus_widget()
    assert url.placeholderText() == "https://ping.example"
    assert url.toolTip() == "Where the service runs"


def test_password_show_hide_toggle(form, qtbot):
    editor = form.editors["api_token"]
    qtbot.keyClicks(editor.focus_widget(), "s3cret")
    assert editor.focus_widget().echoMode() == QLineEdit.EchoMode.Password
    qtbot.mouseClick(editor.toggle, Qt.MouseButton.LeftButton)
    assert editor.focus_widget().echoMode() == QLineEdit.EchoMode.Normal
    assert editor.toggle.text() == "Hide"
    assert editor.value() == "s3cret"


def test_required_fields_are_enforced_with_visible_messages(form):
    problems = form.problems(show=True)
    assert set(problems) == {"base_url", "api_token"}
    assert "Server address is required" in visible_errors(form)


def test_a_bad_url_is_marked_with_its_message_until_fixed(form, qtbot):
    line = form.editors["base_url"].focus_widget()
    qtbot.keyClicks(line, "ftp://files.example")
    assert form.problems(show=True)["base_url"].startswith("Enter a web address")
    assert line.property("invalid") is True
    assert "Enter a web address starting with https:// (like https://example.com)." in \
        visible_errors(form)
    qtbot.keyClick(line, Qt.Key.Key_Home)
    for _ in "ftp":
        qtbot.keyClick(line, Qt.Key.Key_Delete)
    assert line.property("invalid") is True                   # "://files.example": still wrong
    qtbot.keyClicks(line, "https")                           # fixed: mark and message go
    assert line.property("invalid") is False
    assert not any("web address" in text for text in visible_errors(form))
    assert "base_url" not in form.problems(show=False)


@pytest.mark.parametrize("text,ok", [("https://a.example/x", True), ("http://127.0.0.1:8123", True),
                                     ("javascript:alert(1)", False), ("https://", False),
                                     ("example.com", False), ("https://a b.example", False)])
def test_url_problem(text, ok):
    assert (url_problem(text) is None) is ok


def test_values_are_trimmed_and_typed(form, qtbot):
    qtbot.keyClicks(form.editors["workspace"].focus_widget(), "  ws-1  ")
    box = form.editors["verbose"].widget
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    form.editors["region"].widget.setCurrentIndex(2)
    values = form.values()
    assert values["workspace"] == "ws-1"
    assert values["verbose"] is True
    assert values["region"] == "us"


def test_unknown_type_falls_back_to_text_with_a_warning(qtbot, caplog):
    with caplog.at_level(logging.WARNING):
        editor = FieldWidgetFactory.create({"key": "colour", "label": "Colour",
                                            "type": "colour-picker", "required": False})
    assert isinstance(editor.focus_widget(), QLineEdit)
    assert "unknown type 'colour-picker'" in caplog.text


def test_absurd_lengths_are_cut(form, qtbot):
    line = form.editors["workspace"].focus_widget()
    line.setText("x" * 100_000)
    assert len(form.values()["workspace"]) == 4096


DEFAULTED = [
    {"key": "region", "label": "Region", "type": "choice", "required": True,
     "choices": ["eu", {"value": "us", "label": "United States"}], "default": "us"},
    {"key": "archive", "label": "Archive", "type": "checkbox", "required": False,
     "default": True},
    {"key": "folder", "label": "Folder", "type": "text", "required": False, "default": "Jobs"},
]


def test_a_new_form_starts_with_the_defaults_and_saved_values_replace_them(qtbot):
    form = FieldForm(DEFAULTED)
    qtbot.addWidget(form)
    assert form.findChild(QComboBox).currentText() == "United States"
    assert form.values() == {"region": "us", "archive": True, "folder": "Jobs"}
    form.set_values({"region": "eu", "archive": False})
    assert form.values() == {"region": "eu", "archive": False, "folder": "Jobs"}


@pytest.mark.parametrize("field,problem", [
    ({"key": "k", "label": "K", "type": "checkbox", "required": False, "default": "yes"},
     "'default' of a checkbox must be True or False"),
    ({"key": "k", "label": "K", "type": "choice", "required": True, "choices": ["a"],
      "default": "b"}, "'default' 'b' is not one of its choices"),
    ({"key": "k", "label": "K", "type": "password", "required": True, "default": "x"},
     "a password field takes no 'default'"),
    ({"key": "k", "label": "K", "type": "choice", "required": True, "choices": [{"label": "A"}]},
     "choice #1 is a dict without 'value'"),
])
def test_a_default_the_editor_cannot_hold_is_refused(field, problem):
    from peregrine_sdk.validation import field_problems

    assert any(problem in p for p in field_problems(field, 0))
    assert field_problems(DEFAULTED[0], 0) == []
