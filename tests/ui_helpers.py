"""Helpers that make GUI tests read like what a person does: type, click, read, answer."""
from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QMessageBox, QWidget


def click(qtbot, button: QAbstractButton) -> None:
    assert button.isVisible(), f"{button.text()!r} is not visible"
    assert button.isEnabled(), f"{button.text()!r} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def type_into(qtbot, widget: QWidget, text: str, replace: bool = True) -> None:
    if replace and hasattr(widget, "clear"):
        widget.clear()
    qtbot.keyClicks(widget, text)


def visible_text(widget: QWidget) -> str:
    """All text a person can read in ``widget`` (visible labels and buttons), one per line."""
    texts = []
    for child in [widget, *widget.findChildren(QWidget)]:
        if not child.isVisibleTo(widget.window()) and child is not widget:
            continue
        if isinstance(child, QLabel) and child.text():
            texts.append(child.text())
        elif isinstance(child, QAbstractButton) and child.text():
            texts.append(child.text().replace("&", ""))
    # Zero-width spaces (break points in long paths and links) are not seen.
    return "\n".join(texts).replace("\u200b", "")


def answer_next_message_box(button: QMessageBox.StandardButton, seen: list[str] | None = None,
                            within_s: float = 10.0) -> None:
    """Press ``button`` on the next message box that opens (recording its text in ``seen``).

    Polling stops after ``within_s`` seconds, so a box that never came cannot be answered by
    accident in a later test."""
    deadline = time.monotonic() + within_s

    def poll() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.button(button) is not None:
            if seen is not None:
                seen.append(box.text())
            box.button(button).click()
        elif time.monotonic() < deadline:
            QTimer.singleShot(20, poll)
    QTimer.singleShot(0, poll)


def buttons_shown(widget: QWidget) -> list[str]:
    return [b.text().replace("&", "") for b in widget.findChildren(QAbstractButton)
            if b.isVisibleTo(widget)]


def press_in_next_message_box(text: str, seen: list[str] | None = None) -> None:
    """Press the button labelled ``text`` on the next message box that opens (recording the
    box's text, then its buttons' labels, in ``seen``)."""
    def poll() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            labels = [b.text().replace("&", "") for b in box.buttons()]
            if seen is not None:
                seen.extend([box.text(), box.informativeText(), *labels])
            next(b for b in box.buttons() if b.text().replace("&", "") == text).click()
        else:
            QTimer.singleShot(20, poll)
    QTimer.singleShot(0, poll)


def press_alt(qtbot, window, key: Qt.Key) -> None:
    """Alt+letter as a person presses it, in the active window."""
    if QApplication.activeWindow() is not window:
        with qtbot.waitActive(window):
            window.activateWindow()
    qtbot.keyClick(QApplication.focusWidget() or window, key, Qt.KeyboardModifier.AltModifier)


def mnemonics(window) -> list[str]:
    """The Alt+letter of every visible button, label and tab in ``window``."""
    widgets = window.findChildren(QAbstractButton) + window.findChildren(QLabel)
    texts = [w.text() for w in widgets if w.isVisibleTo(window) and w.text()]
    tabs = getattr(window, "tabs", None)
    if tabs is not None:
        texts += [tabs.tabText(i) for i in range(tabs.count())]
    return [m.group(1).lower() for t in texts if (m := re.search(r"&([^&\s])", t))]


def close_discarding(dialog: QWidget) -> None:
    """Close an edited form, answering Discard to "Discard your changes?" (a test that leaves
    edits behind would otherwise wait on that question when its widgets are closed)."""
    answer_next_message_box(QMessageBox.StandardButton.Discard)
    dialog.reject()


@contextmanager
def running_app(qtbot, config_dir, data_dir) -> Iterator:
    """The assembled app over these folders, setup finished (Ada, targets SRE), from the
    moment its plugins have loaded until it shuts down."""
    from peregrine_desktop.app import Application
    from peregrine_desktop.settings import paths
    from peregrine_desktop.settings.profile import UserProfile

    paths.set_overrides(config_dir, data_dir)
    profile = UserProfile(config_dir / "user.yaml")
    profile.update(name="Ada", target_titles=["SRE"], wizard_complete=True)
    profile.save()
    application = Application()
    qtbot.addWidget(application.window)
    application.start()
    try:
        qtbot.waitUntil(lambda: application.hub is not None, timeout=10_000)
        yield application
    finally:
        application.shutdown()
        paths.set_overrides()
