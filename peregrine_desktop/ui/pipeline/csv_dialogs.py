"""CSV import (preview, then import, then a report of what was skipped and why) and CSV export of
the jobs the user is looking at.  Reading, inserting and writing run on the worker pool."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QDialog, QDialogButtonBox,
                               QFileDialog, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QPlainTextEdit, QProgressBar, QPushButton, QTableView,
                               QVBoxLayout, QWidget)

from peregrine_desktop.jobs import statuses
from peregrine_desktop.jobs.csv_io import (HEADERS, CsvFormatError, ImportPlan, read_csv,
                                           write_csv)
from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import BulkReport, JobStore
from peregrine_desktop.workers import TaskRunner

PREVIEW_ROWS = 50
_PREVIEW_FIELDS = ("title", "company", "location", "status", "url")


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _read_plan(store: JobStore, path: str) -> ImportPlan:          # worker thread
    return read_csv(path, store.existing_urls())


def _export(store: JobStore, ids: list[int], path: Path, with_history: bool) -> int:  # worker
    return write_csv(path, store.get_many(ids, with_history=with_history), with_history)


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
        self.report: BulkReport | None = None
        self.runner = TaskRunner(self)

        self.path_edit = QLineEdit(self)
        self.path_edit.setPlaceholderText("A .csv file with a header row")
        self.path_edit.returnPressed.connect(self.load_preview)
        self.browse_button = QPushButton("&Browse…", self)
        self.browse_button.clicked.connect(self.browse)
        self.summary = QLabel("Choose a CSV file. Columns are matched by their header: Title, "
                              "Company, URL, Location, Salary, Status and more.", self)
        self.summary.setWordWrap(True)
        self.columns_label = QLabel(self)
        self.columns_label.setWordWrap(True)
        self.columns_label.hide()
        self.preview_model = QStandardItemModel(0, len(_PREVIEW_FIELDS), self)
        self.preview_model.setHorizontalHeaderLabels([HEADERS[f] for f in _PREVIEW_FIELDS])
        self.preview = QTableView(self)
        self.preview.setModel(self.preview_model)
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.verticalHeader().setDefaultSectionSize(24)
        self.preview.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.skipped_label = QLabel("Rows that will be skipped:", self)
        self.skipped_view = QPlainTextEdit(self)
        self.skipped_view.setReadOnly(True)
        self.skipped_view.setMaximumHeight(120)
        self.skipped_label.hide()
        self.skipped_view.hide()
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
        layout.addWidget(self.skipped_label)
        layout.addWidget(self.skipped_view)
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)
        self.resize(760, 560)
        if path:
            self.path_edit.setText(str(path))
            self.load_preview()

    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import jobs from CSV", self.path_edit.text(),
                                              "CSV files (*.csv *.tsv *.txt);;All files (*)")
        if path:
            self.path_edit.setText(path)
            self.load_preview()

    # -- preview ------------------------------------------------------------------------------------
    def load_preview(self) -> None:
        path = self.path_edit.text().strip()
        if not path:
            return
        self.import_button.setEnabled(False)
        self.summary.setText("Reading the file…")
        self.runner.start(_read_plan, self.repository.store, path, key="read",
                          on_success=self._show_plan, on_failure=self._read_failed)

    def _read_failed(self, error: BaseException) -> None:
        self.plan = None
        self.preview_model.setRowCount(0)
        self.columns_label.hide()
        self._show_skipped([])
        message = str(error) if isinstance(error, CsvFormatError) else \
            "The file could not be read as CSV."
        self.summary.setText(f"<span style='color:#c62828'>{message}</span>")

    def _show_plan(self, plan: ImportPlan) -> None:
        self.plan = plan
        ready, skipped = len(plan.jobs), len(plan.skipped)
        self.summary.setText(f"{_plural(plan.total_rows, 'row')}: {ready:,} will be imported"
                             + (f", {skipped:,} skipped (listed below)." if skipped else "."))
        used = ", ".join(f"{HEADERS[name]} ← “{plan.headers[i].strip()}”"
                         for i, name in sorted(plan.mapping.items()))
        text = f"Columns used: {used}."
        if plan.ignored_headers:
            text += " Not imported: " + ", ".join(f"“{h}”" for h in plan.ignored_headers) + "."
        self.columns_label.setText(text)
        self.columns_label.show()
        self.preview_model.setRowCount(0)
        for _line, job in plan.jobs[:PREVIEW_ROWS]:
            items = []
            for name in _PREVIEW_FIELDS:
                value = statuses.label(job[name]) if name == "status" else str(job.get(name, ""))
                item = QStandardItem(value)
                item.setEditable(False)
                items.append(item)
            self.preview_model.appendRow(items)
        self._show_skipped(plan.skipped)
        self.import_button.setEnabled(ready > 0)
        self.import_button.setText(f"&Import {_plural(ready, 'job')}")

    def _show_skipped(self, skipped: list[tuple[int, str]], heading: str | None = None) -> None:
        self.skipped_label.setText(heading or "Rows that will be skipped:")
        self.skipped_view.setPlainText("\n".join(f"Row {line}: {reason}"
                                                 for line, reason in sorted(skipped)))
        self.skipped_label.setVisible(bool(skipped))
        self.skipped_view.setVisible(bool(skipped))

    # -- import -------------------------------------------------------------------------------------
    def start_import(self) -> None:
        if not self.plan or not self.plan.jobs:
            return
        self.import_button.setEnabled(False)
        self.path_edit.setEnabled(False)
        self.browse_button.setEnabled(False)
        self.progress.setRange(0, len(self.plan.jobs))
        self.progress.setValue(0)
        self.progress.show()
        self.summary.setText(f"Importing {_plural(len(self.plan.jobs), 'job')}…")
        self.repository.start_add_many([job for _line, job in self.plan.jobs],
                                       on_finished=self._imported, on_failed=self._import_failed,
                                       on_progress=lambda done, _total:
                                       self.progress.setValue(done))

    def _imported(self, report: BulkReport) -> None:
        self.report = report
        plan = self.plan
        assert plan is not None
        skipped = plan.skipped + [(plan.jobs[i][0], reason) for i, reason in report.skipped]
        self.progress.hide()
        text = f"Imported {_plural(report.added, 'job')}."
        if skipped:
            text += f" Skipped {_plural(len(skipped), 'row')} (listed below)."
        self.summary.setText(text)
        self._show_skipped(skipped, "Skipped rows:")
        self.import_button.hide()
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Close")

    def _import_failed(self, error: BaseException) -> None:
        self.progress.hide()
        self.path_edit.setEnabled(True)
        self.browse_button.setEnabled(True)
        self.import_button.setEnabled(True)
        self.summary.setText("<span style='color:#c62828'>Nothing was imported: the job database "
                             f"refused the change ({error}). Try again.</span>")


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
        self.summary = QLabel(f"Export {what}{description}, in the order shown.", self)
        self.summary.setWordWrap(True)
        self.history_box = QCheckBox("Include each job's status history (dates of every change, "
                                     "e.g. as proof of applications)", self)
        self.path_edit = QLineEdit(self)
        self.path_edit.setText(str(Path.home() / "peregrine-jobs.csv"))
        self.browse_button = QPushButton("&Browse…", self)
        self.browse_button.clicked.connect(self.browse)
        self.result = QLabel(self)
        self.result.setWordWrap(True)
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
        self.result.setStyleSheet("color: #c62828;" if error else "")
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
