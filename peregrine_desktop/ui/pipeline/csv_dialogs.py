"""CSV import (preview, questions asked once for all rows, import, then a report of every skipped
row and why) and CSV export of the jobs the user is looking at.  Reading, inserting and writing
run on the worker pool; the file is streamed, never held whole in memory."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDialog,
                               QDialogButtonBox, QFileDialog, QHBoxLayout, QHeaderView, QLabel,
                               QLineEdit, QPlainTextEdit, QProgressBar, QPushButton, QTableView,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from peregrine_desktop.jobs import statuses
from peregrine_desktop.jobs.csv_io import (HEADERS, CsvFormatError, CsvImportReport,
                                           ImportChoices, ImportPlan, SkippedRow, import_csv,
                                           read_csv, write_csv)
from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import JobStore, StoreError
from peregrine_desktop.ui.plain_text import plain_label
from peregrine_desktop.workers import TaskRunner
from peregrine_desktop.ui import colours
from peregrine_desktop.ui.colours import text_style

_PREVIEW_FIELDS = ("title", "company", "location", "status", "url")
#: Skipped rows listed in the dialog; a longer list is offered as a file (every row in it).
SHOWN_SKIPPED_LINES = 2000


def _plural(count: int, word: str) -> str:
    ending = "" if count == 1 else ("es" if word.endswith("s") else "s")
    return f"{count:,} {word}{ending}"


def _read_plan(store: JobStore, path: str, progress=None) -> ImportPlan:          # worker thread
    return read_csv(path, store.existing_urls(), progress)


def _export(store: JobStore, ids: list[int], path: Path, with_history: bool) -> int:  # worker
    return write_csv(path, store.get_many(ids, with_history=with_history), with_history)


def skipped_lines(skipped: list[SkippedRow]) -> list[str]:
    """One line per skipped row, runs of rows skipped for the same reason joined
    ("Rows 4–9: reason"), in file order."""
    lines: list[str] = []
    run: list[SkippedRow] = []

    def close_run() -> None:
        if len(run) > 2:
            lines.append(f"Rows {run[0].row}–{run[-1].row}: {run[0].reason}")
        else:
            lines.extend(str(item) for item in run)
        run.clear()

    for item in skipped:
        if run and (item.reason != run[-1].reason or item.row != run[-1].row + 1
                    or item.line != item.row or run[-1].line != run[-1].row):
            close_run()
        run.append(item)
    close_run()
    return lines


def _file_row(parent: QWidget, edit: QLineEdit, browse: QPushButton) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(QLabel("File:", parent))
    row.addWidget(edit, 1)
    row.addWidget(browse)
    return row


class CsvImportDialog(QDialog):
    def __init__(self, repository: JobRepository, path: str | Path | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import jobs from a CSV file")
        self.repository = repository
        self.plan: ImportPlan | None = None
        self.report: CsvImportReport | None = None
        self.runner = TaskRunner(self)

        self.path_edit = QLineEdit(self)
        self.path_edit.setPlaceholderText("A .csv file with a header row")
        self.path_edit.returnPressed.connect(self.load_preview)
        self.browse_button = QPushButton("&Browse…", self)
        self.browse_button.clicked.connect(self.browse)
        self.summary = plain_label("Choose a CSV file. Columns are matched by their header: "
                                   "Title, Company, URL, Location, Salary, Status, Date applied "
                                   "and more.", self, word_wrap=True)
        self.columns_label = plain_label(parent=self, word_wrap=True)
        self.columns_label.hide()
        self.preview_model = QStandardItemModel(0, len(_PREVIEW_FIELDS), self)
        self.preview_model.setHorizontalHeaderLabels([HEADERS[f] for f in _PREVIEW_FIELDS])
        self.preview = QTableView(self)
        self.preview.setModel(self.preview_model)
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.verticalHeader().setDefaultSectionSize(24)
        self.preview.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)

        # Questions asked once for all rows.
        self.scheme_box = QCheckBox(self)
        self.scheme_box.setChecked(True)
        self.scheme_box.toggled.connect(self._choices_changed)
        self.scheme_box.hide()
        self.status_label = plain_label("Status names this app does not use — choose what each "
                                        "becomes:", self, word_wrap=True)
        self.status_table = QTableWidget(0, 2, self)
        self.status_table.setHorizontalHeaderLabels(["In the file", "Becomes"])
        self.status_table.verticalHeader().hide()
        self.status_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.status_table.setMaximumHeight(130)
        self.status_label.hide()
        self.status_table.hide()
        self.date_order = QComboBox(self)
        self.date_order.addItem("day first (03/04/2026 is 3 April 2026)", True)
        self.date_order.addItem("month first (03/04/2026 is March 4, 2026)", False)
        self.date_order_label = plain_label(parent=self)
        self.date_order_label.setBuddy(self.date_order)
        date_row = QHBoxLayout()
        date_row.addWidget(self.date_order_label)
        date_row.addWidget(self.date_order, 1)
        self.date_order_label.hide()
        self.date_order.hide()

        self.skipped_label = plain_label("Rows that will be skipped:", self)
        self.skipped_view = QPlainTextEdit(self)
        self.skipped_view.setReadOnly(True)
        self.skipped_view.setMaximumHeight(120)
        self.save_skipped_button = QPushButton("&Save the list of skipped rows…", self)
        self.save_skipped_button.clicked.connect(self.save_skipped)
        self.skipped_label.hide()
        self.skipped_view.hide()
        self.save_skipped_button.hide()
        self.progress = QProgressBar(self)
        self.progress.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.import_button = self.buttons.addButton("&Import",
                                                    QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self.start_import)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(_file_row(self, self.path_edit, self.browse_button))
        layout.addWidget(self.summary)
        layout.addWidget(self.columns_label)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.scheme_box)
        layout.addLayout(date_row)
        layout.addWidget(self.status_label)
        layout.addWidget(self.status_table)
        layout.addWidget(self.skipped_label)
        layout.addWidget(self.skipped_view)
        layout.addWidget(self.save_skipped_button)
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)
        self.resize(760, 600)
        if path:
            self.path_edit.setText(str(path))
            self.load_preview()

    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import jobs from CSV", self.path_edit.text(),
                                              "CSV files (*.csv *.tsv *.txt);;All files (*)")
        if path:
            self.path_edit.setText(path)
            self.load_preview()

    def _say(self, text: str, error: bool = False) -> None:
        self.summary.setStyleSheet(text_style(colours.PROBLEM if error else None))
        self.summary.setText(text)

    def _show_progress(self, done: int, total: int) -> None:
        scale = max(1, total // 1_000_000)           # QProgressBar holds an int
        self.progress.setRange(0, total // scale)
        self.progress.setValue(done // scale)
        self.progress.show()

    # -- preview ------------------------------------------------------------------------------------
    def load_preview(self) -> None:
        path = self.path_edit.text().strip()
        if not path:
            return
        self.import_button.setEnabled(False)
        self._say("Reading the file…")
        self.progress.setValue(0)
        self.runner.start(_read_plan, self.repository.store, path, key="read",
                          on_success=self._show_plan, on_failure=self._read_failed,
                          on_progress=self._show_progress)

    def _read_failed(self, error: BaseException) -> None:
        self.plan = None
        self.progress.hide()
        self.preview_model.setRowCount(0)
        self.columns_label.hide()
        self.scheme_box.hide()
        for widget in (self.status_label, self.status_table, self.date_order_label,
                       self.date_order):
            widget.hide()
        self._show_skipped([])
        self._say(str(error) if isinstance(error, (CsvFormatError, StoreError)) else
                  "The file could not be read as CSV.", error=True)

    def _show_plan(self, plan: ImportPlan) -> None:
        self.plan = plan
        self.progress.hide()
        used = ", ".join(f"{HEADERS[name]} ← “{plan.headers[i].strip()}”"
                         for i, name in sorted(plan.mapping.items()))
        text = f"Columns used: {used}."
        if plan.ignored_headers:
            text += " Not imported: " + ", ".join(f"“{h}”" for h in plan.ignored_headers) + "."
        self.columns_label.setText(text)
        self.columns_label.show()
        self.preview_model.setRowCount(0)
        for _row, job in plan.preview:
            items = []
            for name in _PREVIEW_FIELDS:
                value = statuses.label(job[name]) if name == "status" else str(job.get(name, ""))
                item = QStandardItem(value)
                item.setEditable(False)
                items.append(item)
            self.preview_model.appendRow(items)
        self.scheme_box.blockSignals(True)
        self.scheme_box.setChecked(True)
        self.scheme_box.blockSignals(False)
        self.scheme_box.setText(
            f"Add “https://” to the {_plural(len(plan.schemeless), 'web address')} without it "
            f"(like {plan.schemeless_example})")
        self.scheme_box.setVisible(bool(plan.schemeless))
        self.date_order_label.setText(
            f"{_plural(plan.ambiguous_dates, 'date')} could be read either way; they are "
            "written:")
        self.date_order.setCurrentIndex(self.date_order.findData(
            plan.default_choices().day_first))
        for widget in (self.date_order_label, self.date_order):
            widget.setVisible(plan.ambiguous_dates > 0)
        self._fill_status_table(plan)
        self._choices_changed()

    def _fill_status_table(self, plan: ImportPlan) -> None:
        defaults = plan.default_choices().status_map
        self.status_table.setRowCount(0)
        for name, count in sorted(plan.unknown_statuses.items()):
            row = self.status_table.rowCount()
            self.status_table.insertRow(row)
            item = QTableWidgetItem(f"{name} ({_plural(count, 'row')})")
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.status_table.setItem(row, 0, item)
            combo = QComboBox(self.status_table)
            combo.setAccessibleName(f"Status for “{name}”")
            for status in statuses.STATUSES:
                combo.addItem(statuses.label(status), status)
            combo.setCurrentIndex(combo.findData(defaults[name]))
            self.status_table.setCellWidget(row, 1, combo)
        shown = bool(plan.unknown_statuses)
        self.status_label.setVisible(shown)
        self.status_table.setVisible(shown)

    def choices(self) -> ImportChoices:
        """What the user chose in the dialog, once for all rows."""
        mapping = {}
        for row in range(self.status_table.rowCount()):
            name = self.status_table.item(row, 0).data(Qt.ItemDataRole.UserRole)
            mapping[name] = self.status_table.cellWidget(row, 1).currentData()
        return ImportChoices(self.scheme_box.isChecked(), mapping,
                             self.date_order.currentData() is not False)

    def _choices_changed(self) -> None:
        plan = self.plan
        if plan is None:
            return
        choices = self.choices()
        ready, skipped = plan.ready_with(choices), plan.skipped_with(choices)
        text = f"{_plural(ready + len(skipped), 'row')}: {ready:,} will be imported" + \
            (f", {len(skipped):,} skipped (listed below)." if skipped else ".")
        self._say(f"{plan.encoding_note} {text}" if plan.encoding_note else text)
        self._show_skipped(skipped)
        self.import_button.setEnabled(ready > 0)
        self.import_button.setText(f"&Import {_plural(ready, 'job')}")

    def _show_skipped(self, skipped: list[SkippedRow], heading: str | None = None) -> None:
        self.skipped_label.setText(heading or "Rows that will be skipped:")
        lines = skipped_lines(skipped)
        self._all_skipped = lines
        shown = lines[:SHOWN_SKIPPED_LINES]
        if len(lines) > len(shown):
            shown.append(f"… and {len(lines) - len(shown):,} more: save the list to see them.")
        self.skipped_view.setPlainText("\n".join(shown))
        for widget in (self.skipped_label, self.skipped_view):
            widget.setVisible(bool(skipped))
        self.save_skipped_button.setVisible(len(lines) > SHOWN_SKIPPED_LINES)

    def save_skipped(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the list of skipped rows",
                                              str(Path.home() / "skipped-rows.txt"),
                                              "Text files (*.txt)")
        if path:
            try:
                Path(path).write_text("\n".join(self._all_skipped) + "\n", encoding="utf-8")
            except OSError as exc:
                self._say(f"The list could not be saved ({exc.strerror or exc}).", error=True)

    # -- import -------------------------------------------------------------------------------------
    def start_import(self) -> None:
        plan = self.plan
        if plan is None:
            return
        choices = self.choices()
        if not plan.ready_with(choices):
            return
        for widget in (self.import_button, self.path_edit, self.browse_button, self.scheme_box,
                       self.status_table, self.date_order):
            widget.setEnabled(False)
        self._show_progress(0, plan.ready_with(choices))
        self._say(f"Importing {_plural(plan.ready_with(choices), 'job')}…")
        self.runner.start(import_csv, self.repository.store, plan, choices, key="import",
                          on_success=lambda report: self._imported(report, choices),
                          on_failure=self._import_failed, on_progress=self._show_progress)

    def _imported(self, report: CsvImportReport, choices: ImportChoices) -> None:
        self.report = report
        plan = self.plan
        assert plan is not None
        if report.added:
            self.repository.announce_import(report.added_ids)
        skipped = sorted(plan.skipped_with(choices) + report.skipped, key=lambda s: s.row)
        self.progress.hide()
        text = f"Imported {_plural(report.added, 'job')}."
        if skipped:
            text += f" Skipped {_plural(len(skipped), 'row')} (listed below)."
        self._say(text)
        self._show_skipped(skipped, "Skipped rows:")
        self.import_button.hide()
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Close")

    def _import_failed(self, error: BaseException) -> None:
        self.progress.hide()
        for widget in (self.import_button, self.path_edit, self.browse_button, self.scheme_box,
                       self.status_table, self.date_order):
            widget.setEnabled(True)
        self._say(f"Nothing was imported. {error}" if isinstance(error, (StoreError,
                                                                      CsvFormatError)) else
                  f"Nothing was imported: the job database refused the change ({error}). Try "
                  "again.", error=True)


class CsvExportDialog(QDialog):
    """Exports the given job ids (the view's filtered rows, in view order)."""

    def __init__(self, repository: JobRepository, job_ids: list[int], description: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export jobs to a CSV file")
        self.repository = repository
        self.job_ids = list(job_ids)
        self.exported: int | None = None
        self.runner = TaskRunner(self)

        what = f"the {_plural(len(job_ids), 'job')} shown" if description else \
            f"all {_plural(len(job_ids), 'job')}"
        self.summary = plain_label(f"Export {what}{description}, in the order shown.", self,
                                   word_wrap=True)
        self.history_box = QCheckBox("Include each job's status history (dates of every change, "
                                     "e.g. as proof of applications)", self)
        self.path_edit = QLineEdit(self)
        self.path_edit.setText(str(Path.home() / "peregrine-jobs.csv"))
        self.browse_button = QPushButton("&Browse…", self)
        self.browse_button.clicked.connect(self.browse)
        self.result = plain_label(parent=self, word_wrap=True)
        self.result.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.export_button = self.buttons.addButton("&Export",
                                                    QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setEnabled(bool(job_ids))
        self.export_button.clicked.connect(self.start_export)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.history_box)
        layout.addLayout(_file_row(self, self.path_edit, self.browse_button))
        layout.addWidget(self.result)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.resize(560, 200)

    def browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export jobs to CSV", self.path_edit.text(),
                                              "CSV files (*.csv)")
        if path:
            self.path_edit.setText(path if path.lower().endswith(".csv") else path + ".csv")

    def _say(self, text: str, error: bool = False) -> None:
        self.result.setStyleSheet(text_style(colours.PROBLEM if error else None))
        self.result.setText(text)
        self.result.show()

    def start_export(self) -> None:
        path = Path(self.path_edit.text().strip()).expanduser()
        if not self.path_edit.text().strip():
            self._say("Choose where to save the file.", error=True)
            return
        if not path.parent.is_dir():
            self._say(f"The folder {path.parent} does not exist.", error=True)
            return
        self.export_button.setEnabled(False)
        self._say("Exporting…")
        with_history = self.history_box.isChecked()
        self.runner.start(_export, self.repository.store, self.job_ids, path, with_history,
                          key="export", on_success=lambda count: self._done(count, path),
                          on_failure=self._failed)

    def _done(self, count: int, path: Path) -> None:
        self.exported = count
        self._say(f"Exported {_plural(count, 'job')} to {path}.")
        self.export_button.hide()
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Close")

    def _failed(self, error: BaseException) -> None:
        self.export_button.setEnabled(True)
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        self._say(f"The file could not be written ({reason}). Choose another place.", error=True)
