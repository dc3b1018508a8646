"""InfoBanner: the Qt equivalent of the guide's ``st.info(...)`` — a calm, readable note shown
where a gated action or an explanation belongs."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QWidget

from peregrine_desktop.ui.plain_text import plain_label
from peregrine_desktop.ui import colours


class InfoBanner(QFrame):
    LEVELS = {"info": ("ℹ", colours.INFO), "warning": ("⚠", colours.WARNING),
              "error": ("✖", colours.PROBLEM)}

    def __init__(self, text: str, parent: QWidget | None = None, level: str = "info") -> None:
        super().__init__(parent)
        icon, colour = self.LEVELS.get(level, self.LEVELS["info"])
        self.setObjectName("infoBanner")
        self.setStyleSheet(f"QFrame#infoBanner {{ border: 1px solid {colour}; border-radius: 4px;"
                           f" }} QLabel#bannerIcon {{ color: {colour}; }}")
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 10, 6)
        mark = QLabel(icon, self)
        mark.setObjectName("bannerIcon")
        mark.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.label = plain_label(text, self, word_wrap=True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(mark)
        row.addWidget(self.label, 1)
        self.setAccessibleName(text)

    def text(self) -> str:
        return self.label.text()


def info(text: str, parent: QWidget | None = None) -> InfoBanner:
    """``st.info(text)`` for Qt: returns the banner to add to a layout."""
    return InfoBanner(text, parent, "info")
