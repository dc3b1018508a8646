"""One way to say a field is wrong, everywhere: the message right under the field, the field
outlined, and both gone the moment the value is fixed.

The connection cards (``ui/fields.py``) and the profile sections (``ui/profile_forms.py``) both
mark their fields through :func:`mark_field`, so a wizard page, a Settings tab and a card look
and behave the same.
"""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QLayout, QVBoxLayout, QWidget

from peregrine_desktop.ui.plain_text import plain_label
from peregrine_desktop.ui import colours

PROBLEM_COLOUR = colours.PROBLEM
#: Applies to the marked widget only: its children do not carry the property.
_OUTLINE = f'*[invalid="true"] {{ border: 1px solid {PROBLEM_COLOUR}; border-radius: 2px; }}'


def problem_label(parent: QWidget | None = None) -> QLabel:
    """The (hidden) line under a field that says what is wrong with it."""
    label = plain_label(parent=parent, word_wrap=True)
    label.setObjectName("fieldError")
    label.setStyleSheet(f"color: {PROBLEM_COLOUR}; font-size: 9pt;")
    label.hide()
    return label


def field_column(parent: QWidget, field: QWidget, row: QLayout | None = None,
                 checked: bool = True) -> tuple[QVBoxLayout, QLabel | None]:
    """A form row's field (or the ``row`` holding it) over its problem line (``checked``): the
    column to put in the form, and the line for :func:`mark_field`."""
    column = QVBoxLayout()
    column.setSpacing(2)
    if row is not None:
        column.addLayout(row)
    else:
        column.addWidget(field)
    label = problem_label(parent) if checked else None
    if label is not None:
        column.addWidget(label)
    return column, label


def mark_field(field: QWidget, label: QLabel, problem: str | None) -> None:
    """Show ``problem`` under ``field`` and outline the field; ``None`` clears both."""
    label.setText(problem or "")
    label.setVisible(bool(problem))
    outline(field, problem)


def outline(field: QWidget, problem: str | None) -> None:
    """Outline ``field`` as wrong (``problem`` also becomes its accessible description), or
    clear it: for a field whose line underneath says more than problems (the licence key)."""
    field.setProperty("invalid", bool(problem))
    field.setStyleSheet(_OUTLINE if problem else "")
    field.setAccessibleDescription(problem or "")


def is_marked(field: QWidget) -> bool:
    return bool(field.property("invalid"))
