"""Enter and Escape in a form dialog: Enter presses the dialog's default button, Escape on an
edited form asks before the edits are thrown away (an unedited one closes at once).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QPushButton, QWidget

from peregrine_desktop.lifecycle.qt_import import Qt

if TYPE_CHECKING:  # pragma: no cover - the wizard's sections import this before it paints
    from PySide6.QtGui import QKeyEvent

DISCARD_QUESTION = "Discard your changes?"


def only_default(default: QPushButton, *inside: QWidget) -> None:
    """Make ``default`` the one button Enter presses: the push buttons within ``inside`` (the
    pages of a dialog, however they were made) become neither default nor auto-default, so
    neither a focused one nor one a page marked as its own default takes Enter from it."""
    for root in inside:
        for button in root.findChildren(QPushButton):
            button.setAutoDefault(False)
            button.setDefault(False)
    default.setAutoDefault(True)
    default.setDefault(True)


def side_button(text: str, parent: QWidget) -> QPushButton:
    """A push button beside a field (Browse…) that Enter never presses, even with the focus on
    it: made so, where :func:`only_default` would have to search every widget of a page for it
    (which makes PySide wrap each one, ~5 ms for Settings' first tab)."""
    button = QPushButton(text=text, parent=parent)
    button.setAutoDefault(False)
    return button


def is_enter(event: QKeyEvent) -> bool:
    """Return, or Enter on the keypad, with no other modifier (what presses a default button)."""
    modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    return event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
        modifiers == Qt.KeyboardModifier.NoModifier


def confirm_discard(parent: QWidget | None) -> bool:
    """Ask "Discard your changes?"; True for Discard.  Keep editing is the default, and Escape
    in the question keeps editing too."""
    from PySide6.QtWidgets import QMessageBox

    from peregrine_desktop.ui.plain_text import Button, message_box

    box = message_box(parent, QMessageBox.Icon.Question, "Unsaved changes", DISCARD_QUESTION,
                      "Your edits in this window have not been saved.",
                      Button.Discard | Button.Cancel, Button.Cancel)
    box.button(Button.Discard).setText("&Discard")
    box.button(Button.Cancel).setText("&Keep editing")
    box.setEscapeButton(box.button(Button.Cancel))
    return Button(box.exec()) == Button.Discard
