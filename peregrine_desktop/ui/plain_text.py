"""Text from the user, a web page, a file or a service is shown as the characters it holds.

Qt guesses: a label, tooltip or message box whose text *looks* like HTML is rendered as HTML, so
a job titled ``<img src=x><h1>big</h1>`` would show an image and a 28 pt heading.  Every widget
that shows such text goes through these helpers, which fix the format instead of letting Qt guess.
"""
from __future__ import annotations

# QtCore.Qt where used: importing Qt makes PySide6 create its 93 enums (~35 ms), which a first
# paint may not need (see lifecycle/appearance.py).
from PySide6 import QtCore
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

Button = QMessageBox.StandardButton


def plain_label(text: str = "", parent: QWidget | None = None, *,
                word_wrap: bool = False) -> QLabel:
    """A QLabel that never interprets its text as HTML."""
    label = QLabel(parent)
    label.setTextFormat(QtCore.Qt.TextFormat.PlainText)
    label.setWordWrap(word_wrap)
    label.setText(text)
    return label


def make_plain(label: QLabel) -> QLabel:
    """Fix an existing label to plain text (for labels made elsewhere)."""
    label.setTextFormat(QtCore.Qt.TextFormat.PlainText)
    return label


def escape(text: str) -> str:
    """``text`` for a rich-text context, shown literally (``html.escape`` without quotes,
    without importing ``html``, whose entity table costs ~2 ms before the first window)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def tooltip(text: str | None) -> str:
    """A tooltip string that shows ``text`` literally (Qt renders tooltips that look like HTML
    as HTML, and shows ``&lt;`` as it is in those that do not, so escaping alone is not enough:
    the text is escaped and marked as rich text)."""
    if not text:
        return ""
    escaped = escape(text).replace("\n", "<br>")
    return f"<qt>{escaped}</qt>"


def bold_heading(text: str) -> str:
    """Rich text for a bold heading holding ``text`` literally (a plugin's or a service's name)."""
    return f"<b>{escape(text)}</b>"


def message_box(parent: QWidget | None, icon: QMessageBox.Icon, title: str, text: str,
                informative: str = "", buttons: Button = Button.Ok,
                default: Button = Button.NoButton) -> QMessageBox:
    """A QMessageBox whose text and informative text are plain (not yet shown)."""
    box = QMessageBox(icon, title, "", buttons, parent)
    box.setTextFormat(QtCore.Qt.TextFormat.PlainText)
    box.setText(text)
    if informative:
        box.setInformativeText(informative)
        for label in box.findChildren(QLabel, "qt_msgbox_informativelabel"):
            label.setTextFormat(QtCore.Qt.TextFormat.PlainText)
    if default != Button.NoButton:
        box.setDefaultButton(default)
    return box


def ask(parent: QWidget | None, title: str, text: str,
        buttons: Button = Button.Yes | Button.No, default: Button = Button.No, *,
        informative: str = "", icon: QMessageBox.Icon = QMessageBox.Icon.Question) -> Button:
    """Show a plain-text question and return the button pressed (as QMessageBox.question)."""
    return Button(message_box(parent, icon, title, text, informative, buttons, default).exec())


def warn(parent: QWidget | None, title: str, text: str, informative: str = "") -> None:
    message_box(parent, QMessageBox.Icon.Warning, title, text, informative).exec()


def inform(parent: QWidget | None, title: str, text: str, informative: str = "") -> None:
    message_box(parent, QMessageBox.Icon.Information, title, text, informative).exec()
