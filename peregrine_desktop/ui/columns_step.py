"""ColumnsStep: which real column of a job tracker holds each job field, as one table.

A tracker's page (Notion, Airtable) declares one ``column_<field>`` choice per job field
(``peregrine_sdk.job_columns.mapping_fields``).  Instead of a drop-down per field repeating the
same help, the page shows this table once a test has read the tracker's real columns: each job
field with a combo of those columns and "Don't sync", filled in from the column names.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from peregrine_sdk.capabilities import JobSync
from peregrine_sdk.job_columns import FIELD_LABELS, SKIP, mapping_field_of
from peregrine_desktop.ui.fields import QuietComboBox

DONT_SYNC = "Don't sync"


def column_names(choices: list[Any]) -> list[str]:
    """The real column names among a mapping field's choices (without "Don't sync")."""
    names = []
    for choice in choices:
        value = choice.get("value") if isinstance(choice, dict) else choice
        if isinstance(value, str) and value and value != SKIP:
            names.append(value)
    return names


def best_column(field: str, current: str, columns: list[str]) -> str:
    """The column a field goes to: the one chosen before if the table still has it, else the
    column named as Peregrine names the field ("Company") or as the page labels it ("Job
    title"), else SKIP ("Don't sync")."""
    by_lower = {name.lower(): name for name in columns}
    if current == SKIP:
        return SKIP
    for wanted in (current, JobSync.JOB_COLUMNS[field], FIELD_LABELS[field]):
        if wanted and wanted.lower() in by_lower:
            return by_lower[wanted.lower()]
    return SKIP


class ColumnsStep(QWidget):
    """The mapping of a tracker's page; ``values()`` gives the ``column_<field>`` settings."""

    changed = Signal()

    def __init__(self, specs: list[dict[str, Any]], service_label: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.specs = [s for s in specs if mapping_field_of(s.get("key", ""))]
        self.service_label = service_label
        self._values: dict[str, str] = {s["key"]: "" for s in self.specs}
        self.columns: list[str] | None = None     # known once a test has read them
        self.combos: dict[str, QuietComboBox] = {}

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.heading = QLabel(f"<b>Columns</b>", self)
        layout.addWidget(self.heading)
        self.explanation = QLabel(
            f"Which column of {service_label} holds each job field. Filled in from the "
            f"columns {service_label} has; choose “{DONT_SYNC}” to leave a field out.", self)
        self.explanation.setWordWrap(True)
        self.explanation.setStyleSheet("color: palette(placeholder-text);")
        layout.addWidget(self.explanation)

        self.table = QTableWidget(len(self.specs), 2, self)
        self.table.setObjectName("columnsTable")
        self.table.setAccessibleName(f"Columns of {service_label}")
        self.table.setHorizontalHeaderLabels(["Job field", f"Column in {service_label}"])
        self.table.verticalHeader().hide()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)     # Tab goes from combo to combo
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for row, spec in enumerate(self.specs):
            field = mapping_field_of(spec["key"])
            item = QTableWidgetItem(FIELD_LABELS.get(field, field))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.table.setItem(row, 0, item)
            combo = QuietComboBox(self.table)
            combo.setAccessibleName(f"{FIELD_LABELS.get(field, field)} column")
            combo.currentIndexChanged.connect(lambda _i, key=spec["key"]: self._picked(key))
            self.table.setCellWidget(row, 1, combo)
            self.combos[spec["key"]] = combo
        self.table.resizeRowsToContents()
        self._fit_height()
        layout.addWidget(self.table)

    def _fit_height(self) -> None:
        """The whole table, no scroll bar of its own: the page around it scrolls."""
        height = self.table.horizontalHeader().sizeHint().height() + 2 * self.table.frameWidth()
        height += sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        self.table.setFixedHeight(height)

    # -- values ----------------------------------------------------------------------------------
    def set_columns(self, columns: list[str]) -> None:
        """The tracker's real columns (read by a passing test): every combo offers them, and
        each job field goes to its best match."""
        self.columns = list(columns)
        for spec in self.specs:
            key = spec["key"]
            field = mapping_field_of(key)
            self._values[key] = best_column(field, self._values.get(key, ""), self.columns)
            self._fill(key)

    def _fill(self, key: str) -> None:
        combo = self.combos[key]
        combo.blockSignals(True)
        combo.clear()
        for name in self.columns or []:
            combo.addItem(name, name)
        if self.columns:
            combo.insertSeparator(combo.count())
        combo.addItem(DONT_SYNC, SKIP)
        combo.setCurrentIndex(max(0, combo.findData(self._values[key] or SKIP)))
        combo.blockSignals(False)

    def _picked(self, key: str) -> None:
        data = self.combos[key].currentData()
        if isinstance(data, str):
            self._values[key] = data
            self.changed.emit()

    def values(self) -> dict[str, str]:
        return dict(self._values)

    def set_values(self, values: dict[str, Any]) -> None:
        """Settings saved before: kept as they are until a test reads the columns again."""
        for key in self._values:
            self._values[key] = str(values.get(key) or "")
            if self.columns is not None:
                self._fill(key)

    def clear(self) -> None:
        self.columns = None
        self.set_values({})

    def chosen(self, field: str) -> str:
        """What the table shows for a job field: a column's name or "Don't sync"."""
        combo = self.combos[f"column_{field}"]
        return combo.currentText()
