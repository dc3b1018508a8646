"""Noticing a window's first paint: what "started" means to a person looking at the screen.

Start-up work that the first paint does not need waits for it: :func:`after_first_paint`
(plugin discovery, listening for a second launch, the settings-folder check).  Used by
``--self-check`` (the main window really drew) and by start-up benchmarks: with
``PEREGRINE_EXIT_AFTER_FIRST_PAINT=1`` the app prints :data:`MARKER` when its first window has
painted and quits, so the installed app and the bundle are timed the same way from outside.
"""
from __future__ import annotations

import os
import sys

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import QWidget

MARKER = "peregrine: first paint"
ENV_FLAG = "PEREGRINE_EXIT_AFTER_FIRST_PAINT"


class FirstPaintWatcher(QObject):
    """Emits ``painted`` once, after the watched widget's first paint event was handled."""

    painted = Signal()

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.seen = False
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Paint and not self.seen:
            self.seen = True
            watched.removeEventFilter(self)
            # Report after this paint is done, not before it starts; not at all if the widget
            # (and this watcher with it) is gone by then.
            from PySide6.QtCore import QTimer
            QTimer.singleShot(0, self, self.painted.emit)
        return False


def after_first_paint(widget: QWidget, callback) -> FirstPaintWatcher:  # noqa: ANN001
    """Call ``callback()`` once, right after ``widget`` has painted for the first time."""
    watcher = FirstPaintWatcher(widget)
    watcher.painted.connect(callback)
    return watcher


def exit_after_first_paint_requested() -> bool:
    return os.environ.get(ENV_FLAG, "") not in ("", "0")


def exit_after_first_paint(*widgets: QWidget) -> list[FirstPaintWatcher]:
    """Print :data:`MARKER` and quit as soon as any of ``widgets`` has painted."""
    from PySide6.QtWidgets import QApplication

    def done() -> None:
        if sys.stdout is not None:  # a windowed Windows build has no stdout
            print(MARKER, flush=True)
        QApplication.instance().quit()

    watchers = [FirstPaintWatcher(w) for w in widgets]
    for watcher in watchers:
        watcher.painted.connect(done)
    return watchers
