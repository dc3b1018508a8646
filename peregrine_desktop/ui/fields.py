"""FieldWidgetFactory: one widget per field type, used by the wizard and Settings alike.

A field dict is the guide's (key, label, type, placeholder, required, help; plus ``choices`` for
``choice``, an optional ``default``, the value a new card starts with, and ``"format": "url"`` for a
``password`` field that holds a web address, such as a webhook).  Each editor exposes ``value()``,
``set_value()``, ``problem()`` and ``changed``.  Combo boxes are :class:`QuietComboBox`: turning
the mouse wheel over one while scrolling a page never changes a setting.
"""
from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QToolButton, QVBoxLayout, QWidget)

from peregrine_desktop.ui.field_problems import mark_field, problem_label

log = logging.getLogger(__name__)

MAX_LENGTH = 4096  # nobody pastes a longer token; longer input is a mistake or an attack


def url_problem(text: str) -> str | None:
    """Why ``text`` is not an http(s) URL a service could live at, or None."""
    if not text:
        return None
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return "This is not a valid web address; check it for typos."
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number from 1 to 65535
    except ValueError:
        return "The port number after “:” is not valid; it must be between 1 and 65535."
    if parts.scheme not in ("http", "https"):
        return "Enter a web address starting with https:// (like https://example.com)."
    if not host:
        return "The address needs a host name (like https://example.com)."
    if any(ch.isspace() for ch in text):
        return "A web address cannot contain spaces."
    return None


class QuietComboBox(QComboBox):
    """A combo box the mouse wheel changes only once it has focus (clicked or tabbed into);
    otherwise the wheel goes on to scroll the page around it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)   # the wheel does not give it focus

    def wheelEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()


class FieldEditor(QObject):
    """The editing widget for one field; ``widget`` is what goes into a layout."""

    changed = Signal()

    def __init__(self, spec: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.key: str = spec["key"]
        self.required: bool = bool(spec.get("required"))
        self.widget: QWidget = QWidget(parent)

    @property
    def label_text(self) -> str:
        return str(self.spec.get("label") or self.key)

    def value(self) -> Any:
        return ""

    def set_value(self, value: Any) -> None:
        pass

    def clear(self) -> None:
        self.set_value("")

    def is_blank(self) -> bool:
        value = self.value()
        return value is None or (isinstance(value, str) and not value.strip())

    def problem(self) -> str | None:
        """What must be fixed before Test/Save, in words; None when the value is acceptable."""
        from peregrine_desktop.settings.input_rules import field_value_problem

        if self.required and self.is_blank():
            return f"{self.label_text} is required"
        return field_value_problem(self.spec, self.value())

    def focus_widget(self) -> QWidget:
        return self.widget


class TextEditor(FieldEditor):
    echo = QLineEdit.EchoMode.Normal

    def __init__(self, spec: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.line = QLineEdit(parent)
        self.line.setEchoMode(self.echo)
        self.line.setMaxLength(MAX_LENGTH)
        self.line.setPlaceholderText(str(spec.get("placeholder") or ""))
        self.line.setAccessibleName(self.label_text)
        self.line.textEdited.connect(lambda _t: self.changed.emit())
        self.widget = self.line

    def value(self) -> str:
        return self.line.text().strip()

    def set_value(self, value: Any) -> None:
        self.line.setText("" if value is None else str(value))

    def focus_widget(self) -> QWidget:
        return self.line


class PasswordEditor(TextEditor):
    """Masked input with a Show/Hide toggle; a saved secret is never put back into the widget."""

    echo = QLineEdit.EchoMode.Password

    def __init__(self, spec: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.has_saved_value = False
        self.toggle = QToolButton(parent)
        self.toggle.setText("Show")
        self.toggle.setCheckable(True)
        self.toggle.setAccessibleName(f"Show {self.label_text}")
        self.toggle.toggled.connect(self._set_visible)
        box = QWidget(parent)
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(self.line, 1)
        row.addWidget(self.toggle)
        self.widget = box

    def _set_visible(self, shown: bool) -> None:
        self.line.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        self.toggle.setText("Hide" if shown else "Show")

    def mark_saved(self, saved: bool) -> None:
        """Editing a saved config: leave empty to keep the stored secret."""
        self.has_saved_value = saved
        self.line.clear()
        self.line.setPlaceholderText("Saved — leave empty to keep, or type a new one" if saved
                                     else str(self.spec.get("placeholder") or ""))

    def problem(self) -> str | None:
        if self.has_saved_value and self.is_blank():
            return None
        return super().problem()


class UrlEditor(TextEditor):
    """A web address: anything but an http(s) one is a problem (``settings.input_rules``)."""

    def __init__(self, spec: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.line.setInputMethodHints(Qt.InputMethodHint.ImhUrlCharactersOnly)


class CheckboxEditor(FieldEditor):
    def __init__(self, spec: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.box = QCheckBox(self.label_text, parent)
        self.box.setAccessibleName(self.label_text)
        self.box.toggled.connect(lambda _c: self.changed.emit())
        self.widget = self.box

    def value(self) -> bool:
        return self.box.isChecked()

    def set_value(self, value: Any) -> None:
        self.box.setChecked(value is True or str(value).lower() in {"true", "yes", "1"})

    def is_blank(self) -> bool:
        return False

    def clear(self) -> None:
        self.box.setChecked(False)


class FileEditor(TextEditor):
    """A path with a Browse… button (e.g. a service-account key file)."""

    def __init__(self, spec: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.browse = QPushButton("Browse…", parent)
        self.browse.setAccessibleName(f"Browse for {self.label_text}")
        self.browse.clicked.connect(self._choose)
        box = QWidget(parent)
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(self.line, 1)
        row.addWidget(self.browse)
        self.widget = box

    def _choose(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(self.widget, f"Choose {self.label_text}",
                                              self.value(), str(self.spec.get("filter") or ""))
        if path:
            self.line.setText(path)
            self.changed.emit()


class ChoiceEditor(FieldEditor):
    """A combo box; ``choices`` holds values or {"value", "label"} dicts.

    Values stay in a Python list (the combo only shows labels), so any value a plugin declares
    round-trips unchanged — Qt's item data cannot hold, say, an int beyond 64 bits.
    """

    def __init__(self, spec: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.combo = QuietComboBox(parent)
        self.combo.setAccessibleName(self.label_text)
        self._values: list[Any] = []
        self.set_choices(spec.get("choices") or [])
        self.combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.widget = self.combo

    def set_choices(self, choices: list[Any]) -> None:
        """Replace the options (e.g. a database's columns, read during setup), keeping the value."""
        current = self.value()
        self.combo.blockSignals(True)
        self.combo.clear()
        self._values = []
        if not self.required:
            self._values.append("")
            self.combo.addItem("(none)")
        for choice in choices:
            value = choice.get("value") if isinstance(choice, dict) else choice
            label = choice.get("label", value) if isinstance(choice, dict) else choice
            self._values.append(value)
            self.combo.addItem(str(label))
        self.set_value(current)
        self.combo.blockSignals(False)

    def value(self) -> Any:
        index = self.combo.currentIndex()
        return self._values[index] if 0 <= index < len(self._values) else ""

    def clear(self) -> None:
        self.combo.setCurrentIndex(0 if self.combo.count() else -1)

    def set_value(self, value: Any) -> None:
        for index, candidate in enumerate(self._values):
            if candidate == value and type(candidate) is type(value):
                self.combo.setCurrentIndex(index)
                return


class FieldWidgetFactory:
    """Field type → editor class.  An unknown type is shown as text, with a logged warning."""

    EDITORS: dict[str, type[FieldEditor]] = {
        "text": TextEditor, "password": PasswordEditor, "url": UrlEditor,
        "checkbox": CheckboxEditor, "file": FileEditor, "choice": ChoiceEditor,
    }

    @classmethod
    def create(cls, spec: dict[str, Any], parent: QWidget | None = None) -> FieldEditor:
        editor_class = cls.EDITORS.get(spec.get("type", "text"))
        if editor_class is None:
            log.warning("field %r has unknown type %r; showing it as text",
                        spec.get("key"), spec.get("type"))
            editor_class = TextEditor
        editor = editor_class(spec, parent)
        if "default" in spec:   # a new card starts with it; saved settings replace it
            editor.set_value(spec["default"])
        return editor


class FieldForm(QWidget):
    """A form of editors: label (with mnemonic, * when required), input, help line, error line."""

    changed = Signal()

    def __init__(self, specs: list[dict[str, Any]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.specs = specs
        self.editors: dict[str, FieldEditor] = {}
        self.errors: dict[str, QLabel] = {}
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setHorizontalSpacing(12)
        layout.setVerticalSpacing(6)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for spec in specs:
            editor = FieldWidgetFactory.create(spec, self)
            self.editors[editor.key] = editor
            editor.changed.connect(self._on_changed)
            column = QWidget(self)
            box = QVBoxLayout(column)
            box.setContentsMargins(0, 0, 0, 0)
            box.setSpacing(2)
            box.addWidget(editor.widget)
            help_text = str(spec.get("help") or "")
            if help_text:
                help_label = QLabel(help_text, column)
                help_label.setWordWrap(True)
                help_label.setObjectName("fieldHelp")
                help_label.setStyleSheet("color: palette(placeholder-text); font-size: 9pt;")
                box.addWidget(help_label)
                editor.focus_widget().setToolTip(help_text)
            error = problem_label(column)
            box.addWidget(error)
            self.errors[editor.key] = error
            if isinstance(editor, CheckboxEditor):
                layout.addRow("", column)
            else:
                text = f"&{editor.label_text}" + (" *" if editor.required else "")
                label = QLabel(text, self)
                label.setBuddy(editor.focus_widget())
                layout.addRow(label, column)

    def _on_changed(self) -> None:
        """A field shown as wrong is checked again on each edit: fixed, its mark goes."""
        for key, editor in self.editors.items():
            if self.errors[key].isVisible():
                mark_field(editor.focus_widget(), self.errors[key], editor.problem())
        self.changed.emit()

    def values(self) -> dict[str, Any]:
        return {key: editor.value() for key, editor in self.editors.items()}

    def set_values(self, values: dict[str, Any]) -> None:
        for key, editor in self.editors.items():
            if key in values and not isinstance(editor, PasswordEditor):
                editor.set_value(values[key])

    def problems(self, show: bool = True) -> dict[str, str]:
        """Field key → problem; with ``show``, each is displayed under its field."""
        found = {key: p for key, e in self.editors.items() if (p := e.problem())}
        if show:
            for key, label in self.errors.items():
                mark_field(self.editors[key].focus_widget(), label, found.get(key))
            if found:
                self.editors[next(iter(found))].focus_widget().setFocus()
        return found
