"""Building widgets when they are first shown, not when their window is made.

A window's first paint waits for everything built before it, including pages, tabs and panes the
user has not opened yet.  :class:`BuildOnShow` stands in for such a widget: an empty container
that calls its factory the first time it is shown (or when :meth:`BuildOnShow.content` is asked
for), so what the user sees is always the real widget, and what they do not see costs nothing.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QVBoxLayout, QWidget


class BuildOnShow(QWidget):
    """Holds the widget ``factory()`` makes, made on first show or first :meth:`content`."""

    def __init__(self, factory: Callable[[], QWidget], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._factory = factory
        self._content: QWidget | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    @property
    def built(self) -> bool:
        return self._content is not None

    def content(self) -> QWidget:
        if self._content is None:
            self._content = self._factory()
            self._layout.addWidget(self._content)
            if self.isVisible():    # a child added to a shown widget is not shown by itself
                self._content.show()
            self._layout.activate()     # laid out now, not at the next event: its geometry is real
        return self._content

    def showEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        self.content()
        super().showEvent(event)
