"""Text from the user, a web page, a file or a service is shown as the characters it holds.

Qt guesses: a label, tooltip or message box whose text *looks* like HTML is rendered as HTML, so
a job titled ``<img src=x><h1>big</h1>`` would show an image and a 28 pt heading.  Every widget
that shows such text goes through these helpers, which fix the format instead of letting Qt guess.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

# Labels on the way to a first paint make no Qt namespace (docs/architecture.md, "Start-up
# rules"); QMessageBox's type (~3 ms) waits for a message.
from PySide6.QtWidgets import QLabel, QWidget

from peregrine_desktop.lifecycle.qt_import import Qt, set_enum_property

if TYPE_CHECKING:  # pragma: no cover
    from PySide6.QtWidgets import QMessageBox

    Button = QMessageBox.StandardButton


def __getattr__(name: str):  # noqa: ANN202 - ``Button``: QMessageBox.StandardButton, when used
    if name == "Button":
        from PySide6.QtWidgets import QMessageBox

        return QMessageBox.StandardButton
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def plain_label(text: str = "", parent: QWidget | None = None, *,
                word_wrap: bool = False) -> QLabel:
    """A QLabel that never interprets its text as HTML."""
    label = QLabel(parent)
    set_enum_property(label, "textFormat", "PlainText")
    label.setWordWrap(word_wrap)
    label.setText(text)
    return label


def make_plain(label: QLabel) -> QLabel:
    """Fix an existing label to plain text (for labels made elsewhere)."""
    set_enum_property(label, "textFormat", "PlainText")
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
                informative: str = "", buttons: Button | None = None,
                default: Button | None = None) -> QMessageBox:
    """A QMessageBox whose text and informative text are plain (not yet shown); ``buttons``
    default to OK."""
    from PySide6.QtWidgets import QMessageBox

    plain = Qt.TextFormat.PlainText
    box = QMessageBox(icon, title, "", QMessageBox.StandardButton.Ok if buttons is None
                      else buttons, parent)
    box.setTextFormat(plain)
    box.setText(text)
    if informative:
        box.setInformativeText(informative)
        for label in box.findChildren(QLabel, "qt_msgbox_informativelabel"):
            label.setTextFormat(plain)
    if default is not None and default != QMessageBox.StandardButton.NoButton:
        box.setDefaultButton(default)
    return box


def ask(parent: QWidget | None, title: str, text: str, buttons: Button | None = None,
        default: Button | None = None, *, informative: str = "",
        icon: QMessageBox.Icon | None = None) -> Button:
    """Show a plain-text question and return the button pressed (as QMessageBox.question):
    Yes and No, No the default, unless given."""
    from PySide6.QtWidgets import QMessageBox

    button = QMessageBox.StandardButton
    box = message_box(parent, QMessageBox.Icon.Question if icon is None else icon, title, text,
                      informative, button.Yes | button.No if buttons is None else buttons,
                      button.No if default is None else default)
    return button(box.exec())


def warn(parent: QWidget | None, title: str, text: str, informative: str = "") -> None:
    from PySide6.QtWidgets import QMessageBox

    message_box(parent, QMessageBox.Icon.Warning, title, text, informative).exec()


def inform(parent: QWidget | None, title: str, text: str, informative: str = "") -> None:
    from PySide6.QtWidgets import QMessageBox

    message_box(parent, QMessageBox.Icon.Information, title, text, informative).exec()
