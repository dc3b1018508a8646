"""ActivityLogDialog: what Peregrine sent to which service, what is still waiting and why, in
plain words — the place a "needs attention" card points to."""
from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

import integrations
from peregrine_desktop.events.hub import EventHub
from peregrine_desktop.settings.tiers import joined
from peregrine_desktop.ui.plain_text import plain_label, tooltip
from peregrine_desktop.ui import colours

OUTCOME_COLOURS = {"failed": colours.PROBLEM, "waiting": colours.WARNING}
OUTCOME_WORDS = {"delivered": "Done", "waiting": "Waiting", "failed": "Failed"}


def service_label(name: str) -> str:
    cls = integrations.REGISTRY.get(name)
    return cls.label if cls is not None else name.replace("_", " ").title()


def local_time(stamp: str) -> str:
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%d %b %H:%M")
    except ValueError:
        return stamp


class ActivityLogDialog(QDialog):
    """Recent deliveries and failures, newest first, with a Retry now button."""

    def __init__(self, hub: EventHub, parent: QWidget | None = None, limit: int = 200) -> None:
        super().__init__(parent)
        self.hub = hub
        self.limit = limit
        self.setWindowTitle("Activity log")
        self.resize(900, 420)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(8)
        self.summary = QLabel(self)
        self.summary.setObjectName("activitySummary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.entries = QTreeWidget(self)
        self.entries.setRootIsDecorated(False)
        self.entries.setAlternatingRowColors(True)
        self.entries.setHeaderLabels(["When", "Service", "Result", "What happened"])
        self.entries.setAccessibleName("Recent deliveries")
        header = self.entries.header()
        for column in range(3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        layout.addWidget(self.entries, 1)
        self.details = plain_label(parent=self)  # the selected entry in full: reasons wrap
        self.details.setObjectName("activityDetails")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.details)
        self.entries.currentItemChanged.connect(self._show_details)
        self.empty = self._empty_state()
        layout.addWidget(self.empty, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.retry_button = QPushButton("&Retry now", self)
        self.retry_button.setToolTip("Try every waiting delivery again now instead of at its "
                                     "scheduled time.")
        buttons.addButton(self.retry_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.retry_button.clicked.connect(self.retry)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        hub.outbox_changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        waiting = self.hub.outbox.waiting_counts()
        problems = self.hub.outbox.problems()
        if waiting:
            parts = []
            for name, count in sorted(waiting.items()):
                reason = f" — {problems[name]}" if name in problems else ""
                parts.append(f"<b>{service_label(name)}</b>: {count} waiting{reason}")
            self.summary.setText("<br>".join(parts) + "<br>Peregrine keeps trying; "
                                 "nothing you did in Peregrine is lost.")
        else:
            self.summary.setText("Everything was delivered.")
        self.retry_button.setEnabled(bool(waiting))
        self.entries.clear()
        rows = self.hub.outbox.activity(self.limit)
        for row in rows:
            item = QTreeWidgetItem([local_time(row["at"]), service_label(row["integration"]),
                                    OUTCOME_WORDS.get(row["outcome"], row["outcome"]),
                                    row["message"]])
            item.setToolTip(3, tooltip(row["message"]))
            colour = OUTCOME_COLOURS.get(row["outcome"])
            if colour:
                item.setForeground(2, QBrush(QColor(colour)))
            self.entries.addTopLevelItem(item)
        if rows:
            self.entries.setCurrentItem(self.entries.topLevelItem(0))
        self._show_details(self.entries.currentItem())
        self.entries.setVisible(bool(rows))
        self.empty.setVisible(not rows)
        self.summary.setVisible(bool(waiting or rows))   # "Everything was delivered" needs rows
        if not rows:
            self._explain_empty()

    def _empty_state(self) -> QWidget:
        """What the list's place shows while nothing was sent: a heading and what to expect,
        centred in the space the list takes."""
        box = QWidget(self)
        column = QVBoxLayout(box)
        column.setContentsMargins(24, 0, 24, 0)
        column.addStretch(1)
        self.empty_heading = QLabel("Nothing has been sent yet", box)
        font = self.empty_heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.empty_heading.setFont(font)
        self.empty_text = plain_label(parent=box, word_wrap=True)
        self.empty_text.setStyleSheet("color: palette(placeholder-text);")
        self.empty_text.setFixedWidth(self.fontMetrics().averageCharWidth() * 70)   # 2 lines
        column.setSpacing(6)
        for label in (self.empty_heading, self.empty_text):
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            row = QHBoxLayout()              # centred, and as tall as its wrapped lines
            row.addStretch(1)
            row.addWidget(label)
            row.addStretch(1)
            column.addLayout(row)
        column.addStretch(1)
        return box

    def _explain_empty(self) -> None:
        connected = self.hub.connected_labels()
        if connected:
            verb = "is" if len(connected) == 1 else "are"
            self.empty_text.setText(f"{joined(connected)} {verb} connected: what Peregrine "
                                    "sends as your jobs change is listed here.")
        else:
            self.empty_text.setText("Connect a calendar, a notifier or a document store in "
                                    "Settings → Integrations; what Peregrine sends as your "
                                    "jobs change is listed here.")

    def _show_details(self, item: QTreeWidgetItem | None, _previous: object = None) -> None:
        self.details.setText(f"{item.text(0)} · {item.text(1)}: {item.text(3)}" if item else "")
        self.details.setVisible(item is not None)

    def retry(self) -> None:
        self.hub.retry_now()
        self.refresh()

    def visible_entries(self) -> list[str]:
        """Each row as a person reads it: "Service · Result · What happened"."""
        return [" · ".join(self.entries.topLevelItem(i).text(c) for c in (1, 2, 3))
                for i in range(self.entries.topLevelItemCount())]

    def done(self, result: int) -> None:  # noqa: N802 - Qt override
        try:
            self.hub.outbox_changed.disconnect(self.refresh)
        except (RuntimeError, TypeError):
            pass
        super().done(result)

