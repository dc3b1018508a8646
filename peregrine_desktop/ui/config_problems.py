"""ConfigProblemsPanel: the banner at the top of the main window naming each damaged settings
file, its problem and the copy kept, with a button to reset just that file."""
from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QHBoxLayout, QMessageBox, QPushButton, QVBoxLayout, QWidget)

from peregrine_desktop.settings.config_recovery import ConfigProblem, reset, write_failure_message
from peregrine_desktop.ui.notices import InfoBanner
from peregrine_desktop.ui.plain_text import ask, tooltip

log = logging.getLogger(__name__)


class ConfigProblemRow(QWidget):
    """One problem: the banner text, and Reset / Dismiss buttons beside it."""

    reset_done = Signal(object)   # the ConfigProblem that was reset
    dismissed = Signal(object)

    def __init__(self, problem: ConfigProblem, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.problem = problem
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        level = "error" if problem.severity == "error" else "warning"
        self.banner = InfoBanner(problem.message, self, level)
        self.banner.setToolTip(tooltip("\n".join(filter(None, (str(problem.path),
                                                               problem.detail)))))
        row.addWidget(self.banner, 1)
        column = QVBoxLayout()
        column.setSpacing(4)
        self.reset_button = QPushButton(f"Reset {problem.path.name}…", self)
        self.reset_button.setAccessibleName(f"Reset {problem.path.name}")
        self.reset_button.setVisible(problem.resettable)
        self.reset_button.clicked.connect(self.ask_reset)
        self.dismiss_button = QPushButton("Dismiss", self)
        self.dismiss_button.setAccessibleName(f"Dismiss the note about {problem.path.name}")
        self.dismiss_button.clicked.connect(lambda: self.dismissed.emit(self.problem))
        column.addWidget(self.reset_button)
        column.addWidget(self.dismiss_button)
        column.addStretch(1)
        row.addLayout(column)

    def text(self) -> str:
        return self.banner.text()

    def ask_reset(self) -> None:
        answer = ask(
            self, f"Reset {self.problem.path.name}?",
            f"{self.problem.title} will be reset; nothing else changes."
            + (f"\n\nThe current file stays available as {self.problem.backup.name}."
               if self.problem.backup else ""),
            QMessageBox.StandardButton.Reset | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Reset:
            self.do_reset()

    def do_reset(self) -> None:
        try:
            outcome = reset(self.problem)
        except OSError as exc:
            self.banner.label.setText(write_failure_message(self.problem.path, exc))
            return
        self.banner.label.setText(outcome)
        self.reset_button.hide()
        self.reset_done.emit(self.problem)


class ConfigProblemsPanel(QWidget):
    """All problems found by :func:`peregrine_desktop.settings.config_recovery.scan`; hidden when none.

    ``file_reset`` tells the owner to reload what the file feeds (the profile, a card)."""

    file_reset = Signal(object)   # ConfigProblem

    def __init__(self, problems: list[ConfigProblem] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("configProblems")
        self.rows: list[ConfigProblemRow] = []
        self.column = QVBoxLayout(self)
        self.column.setContentsMargins(0, 0, 0, 0)
        self.column.setSpacing(6)
        self.set_problems(problems or [])

    def set_problems(self, problems: list[ConfigProblem]) -> None:
        for row in self.rows:
            row.setParent(None)
            row.deleteLater()
        self.rows = []
        for problem in problems:
            row = ConfigProblemRow(problem, self)
            row.reset_done.connect(self.file_reset.emit)
            row.dismissed.connect(lambda _p, r=row: self._remove(r))
            self.column.addWidget(row)
            self.rows.append(row)
        self.setVisible(bool(self.rows))

    def _remove(self, row: ConfigProblemRow) -> None:
        self.rows.remove(row)
        row.setParent(None)
        row.deleteLater()
        self.setVisible(bool(self.rows))

    def texts(self) -> list[str]:
        return [row.text() for row in self.rows]
