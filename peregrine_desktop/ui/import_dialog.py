"""Import from Peregrine: choose the web app's folder or a backup zip, see what would come over,
import it with progress, and land on the summary.  Reading and writing run on the worker pool;
the original is only read.  Offered on the setup wizard's first page and under File."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QFileDialog,
                               QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPlainTextEdit,
                               QProgressBar, QPushButton, QStackedWidget, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from peregrine_desktop.importer import ImportPlan, ImportSummary, apply_plan, read_plan
from peregrine_desktop.importer.integration_map import ATTENTION, SIGN_IN
from peregrine_desktop.jobs import statuses
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.settings.profile import UserProfile
from peregrine_desktop.ui.plain_text import plain_label, tooltip
from peregrine_desktop.workers import TaskRunner
from peregrine_desktop.ui import colours
from peregrine_desktop.ui.colours import text_style

CHOOSE, PREVIEW, IMPORTING, SUMMARY = range(4)
STATE_COLOURS = {SIGN_IN: colours.WARNING, ATTENTION: colours.PROBLEM}


def _plain(text: str, parent: QWidget) -> QLabel:
    return plain_label(text, parent, word_wrap=True)


def _table(headers: list[str], parent: QWidget) -> QTableWidget:
    table = QTableWidget(0, len(headers), parent)
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(24)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    table.setWordWrap(False)
    return table


def _item(text: str, colour: str | None = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)      # table items are plain text; tooltips need escaping
    item.setToolTip(tooltip(text))
    if colour:
        item.setForeground(Qt.GlobalColor.darkYellow if colour == colours.WARNING
                           else Qt.GlobalColor.darkRed)
    return item


def _read(path: str, config_dir: Path) -> tuple[ImportPlan, set[str]]:     # worker thread
    """The plan, and which of its integrations are set up here already (kept as they are)."""
    import integrations

    plan = read_plan(path)
    kept = {item.name for item in plan.integrations
            if (cls := integrations.REGISTRY.get(item.name)) is not None
            and cls.is_configured(config_dir)}
    return plan, kept


def _import(plan: ImportPlan, config_dir: Path, store: JobStore | None,
            profile: UserProfile | None, progress=None) -> ImportSummary:     # worker thread
    own = store is None
    store = JobStore.open_default() if own else store
    try:
        return apply_plan(plan, config_dir, store, profile=profile, progress=progress)
    finally:
        if own:
            store.close()


class ImportDialog(QDialog):
    """``imported(summary)`` is emitted once the jobs and settings are written."""

    imported = Signal(object)

    def __init__(self, config_dir: Path, store: JobStore | None = None,
                 profile: UserProfile | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import from Peregrine")
        self.config_dir = Path(config_dir)
        self.store, self.profile = store, profile
        self.plan: ImportPlan | None = None
        self.summary: ImportSummary | None = None
        self.runner = TaskRunner(self)
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self._choose_page())
        self.pages.addWidget(self._preview_page())
        self.pages.addWidget(self._progress_page())
        self.pages.addWidget(self._summary_page())
        self.buttons = QDialogButtonBox(self)
        self.back_button = self.buttons.addButton("&Back", QDialogButtonBox.ButtonRole.ResetRole)
        self.next_button = self.buttons.addButton("&Preview",
                                                  QDialogButtonBox.ButtonRole.AcceptRole)
        self.close_button = self.buttons.addButton("&Close", QDialogButtonBox.ButtonRole.RejectRole)
        self.back_button.clicked.connect(lambda: self._show(CHOOSE))
        self.next_button.clicked.connect(self._next)
        self.close_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.buttons)
        self.resize(780, 560)     # fits an 800×600 screen
        self.setMinimumSize(640, 480)
        self._show(CHOOSE)

    # -- pages -------------------------------------------------------------------------------------
    def _choose_page(self) -> QWidget:
        page = QWidget(self)
        intro = _plain(
            "Already using Peregrine in your browser? Bring your profile, your connected "
            "services and your jobs over. Choose the folder you installed Peregrine in (the "
            "one with compose.yml, config/ and data/), or a backup zip made in Peregrine's "
            "Settings. It is only read, never changed.", page)
        self.path_edit = QLineEdit(page)
        self.path_edit.setPlaceholderText("The Peregrine folder or a backup .zip")
        self.path_edit.setAccessibleName("Peregrine folder or backup")
        self.path_edit.textChanged.connect(self._path_edited)
        self.path_edit.returnPressed.connect(self._next)
        self.folder_button = QPushButton("Choose &folder…", page)
        self.folder_button.clicked.connect(self.choose_folder)
        self.zip_button = QPushButton("Choose &zip…", page)
        self.zip_button.clicked.connect(self.choose_zip)
        self.path_problem = _plain("", page)
        self.path_problem.setStyleSheet(text_style(colours.PROBLEM))
        self.path_problem.hide()
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.folder_button)
        row.addWidget(self.zip_button)
        layout = QVBoxLayout(page)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.path_problem)
        layout.addStretch(1)
        return page

    def _preview_page(self) -> QWidget:
        page = QWidget(self)
        self.preview_heading = _plain("", page)
        self.preview_heading.setStyleSheet("font-weight: bold")
        self.preview_counts = _plain("", page)
        self.integrations_table = _table(["Integration", "From", "State", "What to know"], page)
        self.jobs_table = _table(["Title", "Company", "Status", "Found"], page)
        self.preview_notes = QPlainTextEdit(page)
        self.preview_notes.setReadOnly(True)
        self._show_whole_lines(self.preview_notes, 5)
        layout = QVBoxLayout(page)
        layout.addWidget(self.preview_heading)
        layout.addWidget(self.preview_counts)
        layout.addWidget(_plain("Integrations:", page))
        layout.addWidget(self.integrations_table, 2)
        layout.addWidget(_plain("Some of the jobs:", page))
        layout.addWidget(self.jobs_table, 2)
        layout.addWidget(_plain("Worth knowing: what changes, what stays behind, what could not be "
                                  "read:", page))
        layout.addWidget(self.preview_notes)
        return page

    @staticmethod
    def _show_whole_lines(edit: QPlainTextEdit, lines: int) -> None:
        """``edit`` exactly ``lines`` lines tall, the rest scrolling: never a line cut at the
        bottom edge.  The text's margin is kept outside the viewport (a document margin would
        show part of the next line below the last whole one)."""
        from PySide6.QtGui import QPalette

        margin = round(edit.document().documentMargin())
        edit.document().setDocumentMargin(0)
        edit.setViewportMargins(margin, margin, margin, margin)
        edit.setBackgroundRole(QPalette.ColorRole.Base)      # the margins in the text's colour
        edit.setAutoFillBackground(True)
        edit.setFixedHeight(lines * edit.fontMetrics().lineSpacing() + 2 * margin
                            + 2 * edit.frameWidth())

    def _progress_page(self) -> QWidget:
        page = QWidget(self)
        self.progress_label = _plain("Importing…", page)
        self.progress = QProgressBar(page)
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.progress)
        layout.addStretch(2)
        return page

    def _summary_page(self) -> QWidget:
        page = QWidget(self)
        self.summary_heading = _plain("", page)
        self.summary_heading.setStyleSheet("font-weight: bold")
        self.summary_view = QPlainTextEdit(page)
        self.summary_view.setReadOnly(True)
        layout = QVBoxLayout(page)
        layout.addWidget(self.summary_heading)
        layout.addWidget(self.summary_view, 1)
        return page

    def _show(self, page: int) -> None:
        self.pages.setCurrentIndex(page)
        self.back_button.setVisible(page == PREVIEW)
        self.next_button.setVisible(page in (CHOOSE, PREVIEW))
        self.next_button.setText("&Preview" if page == CHOOSE else "&Import")
        self.next_button.setEnabled(page == PREVIEW or bool(self.path_edit.text().strip()))
        self.next_button.setDefault(page in (CHOOSE, PREVIEW))
        self.close_button.setEnabled(page != IMPORTING)
        self.close_button.setText("&Close" if page == SUMMARY else "Cancel")
        self.close_button.setDefault(page == SUMMARY)
        if page == CHOOSE:
            self.path_edit.setFocus()
        elif page == SUMMARY:
            self.close_button.setFocus()

    # -- choosing ----------------------------------------------------------------------------------
    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose your Peregrine folder",
                                                self.path_edit.text() or str(Path.home()))
        if path:
            self.path_edit.setText(path)
            self.load_preview()

    def choose_zip(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a Peregrine backup",
                                              self.path_edit.text() or str(Path.home()),
                                              "Backups (*.zip);;All files (*)")
        if path:
            self.path_edit.setText(path)
            self.load_preview()

    def _path_edited(self, text: str) -> None:
        self.path_problem.hide()
        self.next_button.setEnabled(bool(text.strip()))

    def _next(self) -> None:
        if self.pages.currentIndex() == CHOOSE:
            self.load_preview()
        elif self.pages.currentIndex() == PREVIEW:
            self.start_import()

    def load_preview(self, path: str | None = None) -> None:
        if path is not None:
            self.path_edit.setText(path)
        text = self.path_edit.text().strip()
        if not text:
            return
        self.next_button.setEnabled(False)
        self.path_problem.setText("Reading…")
        self.path_problem.setStyleSheet("")
        self.path_problem.show()
        self.runner.start(_read, text, self.config_dir, key="read", on_success=self._plan_read,
                          on_failure=self._read_failed)

    def _read_failed(self, error: BaseException) -> None:
        self._say_problem(f"It could not be read ({type(error).__name__}). Choose the Peregrine "
                          "folder or a backup zip made in Peregrine.")

    def _say_problem(self, text: str) -> None:
        self.path_problem.setText(text)
        self.path_problem.setStyleSheet(text_style(colours.PROBLEM))
        self.path_problem.show()
        self.next_button.setEnabled(True)
        self.path_edit.setFocus()

    # -- preview -----------------------------------------------------------------------------------
    def _plan_read(self, result: tuple[ImportPlan, set[str]]) -> None:
        plan, already_here = result
        if not plan.readable:
            self._say_problem(plan.error)
            return
        self.plan = plan
        self.path_problem.hide()
        self.preview_heading.setText(f"Found {plan.kind} at {plan.path}")
        counts = ", ".join(f"{statuses.label(s)} {n:,}" for s, n in plan.status_counts().items())
        # One line per subject, each short enough not to leave a word alone on a second line.
        lines = [f"{len(plan.jobs):,} jobs to bring" + (f": {counts}" if counts else "")]
        skipped = len(plan.skipped_jobs)
        if skipped:
            lines.append(f"{skipped} job will be skipped (the reason is below)" if skipped == 1
                         else f"{skipped:,} jobs will be skipped (the reasons are below)")
        lines.append(f"{len(plan.integrations)} integrations"
                     + (f"; profile: {plan.profile_labels()}" if plan.profile else ""))
        self.preview_counts.setText("\n".join(lines))
        self.integrations_table.setRowCount(0)
        for item in plan.integrations:
            row = self.integrations_table.rowCount()
            self.integrations_table.insertRow(row)
            kept = item.name in already_here
            colour = None if kept else STATE_COLOURS.get(item.state)
            state = "Already set up here: kept" if kept else item.state_label
            for column, text in enumerate((item.label, Path(item.source_file).name, state,
                                           " ".join(item.notes))):
                self.integrations_table.setItem(row, column, _item(text, colour if column == 2
                                                                   else None))
        self.jobs_table.setRowCount(0)
        for job in plan.sample():
            row = self.jobs_table.rowCount()
            self.jobs_table.insertRow(row)
            values = job.values
            for column, text in enumerate((values["title"], values["company"],
                                           statuses.label(values["status"]),
                                           values["date_found"])):
                self.jobs_table.setItem(row, column, _item(str(text)))
        skipped = [f"{what}: {why}" for what, why in plan.skipped_jobs]
        self.preview_notes.setPlainText("\n".join(plan.problems + plan.notes + plan.not_brought
                                                  + skipped))
        self._show(PREVIEW)

    # -- importing ---------------------------------------------------------------------------------
    def start_import(self) -> None:
        if self.plan is None:
            return
        self._show(IMPORTING)
        self.progress.setRange(0, 0)
        self.progress_label.setText(f"Importing {len(self.plan.jobs):,} jobs and "
                                    f"{len(self.plan.integrations)} integrations…")
        self.runner.start(_import, self.plan, self.config_dir, self.store, self.profile,
                          key="import", on_success=self._imported,
                          on_failure=self._import_failed, on_progress=self._progressed)

    def _progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _imported(self, summary: ImportSummary) -> None:
        self.summary = summary
        brought = (len(summary.integrations_imported) + len(summary.integrations_sign_in)
                   + len(summary.integrations_attention))
        self.summary_heading.setText(
            f"Imported {summary.jobs_added:,} jobs and {brought} integrations. Test each "
            "connection in Settings → Integrations before relying on it.")
        self.summary_view.setPlainText("\n".join(summary.lines()))
        self._show(SUMMARY)
        self.imported.emit(summary)

    def _import_failed(self, error: BaseException) -> None:
        self.summary_heading.setText("The import stopped before it finished.")
        reason = str(error) if str(error) else type(error).__name__
        self.summary_view.setPlainText(
            f"{reason}\n\nJobs are written in one step, so none or all of them were added; run "
            "the import again once the problem is fixed — nothing is added twice.")
        self._show(SUMMARY)

    def reject(self) -> None:
        if self.pages.currentIndex() == IMPORTING:
            return      # the import finishes on its own; its summary follows
        super().reject()
