"""PipelineView: the job pipeline as a sortable, filterable table with counts per status.

The main window embeds it and puts its actions (``add_action``, ``import_url_action``,
``import_csv_action``, ``export_csv_action``) in its menus; the view's own toolbar row can be
hidden with ``toolbar.hide()`` when the window shows them elsewhere.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QButtonGroup, QHBoxLayout, QHeaderView, QLabel,
                               QLineEdit, QPushButton, QSizePolicy, QStackedWidget, QTableView,
                               QToolButton, QVBoxLayout, QWidget)

from peregrine_desktop.jobs import statuses
from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import StoreError
from peregrine_desktop.ui.pipeline.model import (COLUMNS, FIELD_COLUMN, JobFilterProxy, JobIdRole,
                                                 JobTableModel)
from peregrine_desktop.ui.plain_text import message_box, plain_label, tooltip

if TYPE_CHECKING:  # pragma: no cover - Qt classes the first paint does not use: imported
    # where used (each costs start-up time when first touched)
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QMenu

    from peregrine_desktop.ui.pipeline.url_dialog import UrlImportDialog

EMPTY_MESSAGE = "No jobs yet — add one, paste a posting URL, or import a CSV."

#: Starting widths; Title takes what is left.
#: Room for typical values; the title takes what is left (at 1100 px, about 270 px).
_COLUMN_WIDTHS = {"company": 145, "location": 115, "salary": 100, "status": 120,
                  "date_found": 100, "interview_at": 165, "source": 105}

_CHIP_STYLE = """
QToolButton[chip="true"] { border: 1px solid palette(mid); border-radius: 11px;
                           padding: 2px 10px; }
QToolButton[chip="true"]:checked { background: palette(highlight);
                                   color: palette(highlighted-text);
                                   border-color: palette(highlight); }
"""

#: Above this many rows the text filter waits for a pause in typing instead of every keystroke.
_DEBOUNCE_ROWS = 2000


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


class PipelineView(QWidget):
    """The pipeline table.  ``message`` carries one-line feedback ("Moved 3 jobs to Applied")
    that the main window may also show in its status bar."""

    message = Signal(str)

    def __init__(self, repository: JobRepository, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.repository = repository
        # Newest first, sorted as the rows load: nothing is re-sorted or re-filtered later.
        self.model = JobTableModel(repository, self, sort_by=(FIELD_COLUMN["date_found"],
                                                              Qt.SortOrder.DescendingOrder))
        self.proxy = JobFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.active_dialog = None
        #: DocumentUploads, set once the event hub runs; edit dialogs then show documents.
        self.documents = None
        self._build_actions()
        self._build_ui()
        self._counts_timer = QTimer(self)
        self._counts_timer.setSingleShot(True)
        self._counts_timer.timeout.connect(self._refresh_counts)
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.timeout.connect(self._apply_text)
        for signal in (self.model.rowsInserted, self.model.rowsRemoved, self.model.modelReset,
                       self.model.dataChanged):
            signal.connect(self._schedule_counts)
        # The proxy drops rows before the source does, so both are watched.
        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset,
                       self.proxy.layoutChanged, self.model.rowsInserted, self.model.rowsRemoved,
                       self.model.modelReset):
            signal.connect(self._refresh_visibility)
        self._refresh_counts()
        self._refresh_visibility()
        self._update_actions()

    # -- construction -------------------------------------------------------------------------------
    def _action(self, text: str, slot, shortcut: QKeySequence | str | None = None,
                local: bool = False, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut if local
                                  else Qt.ShortcutContext.WindowShortcut)
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.add_action = self._action("&Add job…", self.add_job, QKeySequence.StandardKey.New,
                                       tip="Add a job by hand")
        self.import_url_action = self._action(
            "Import from &URL…", self.import_from_url, "Ctrl+Shift+U",
            tip="Paste a job posting's address and fill in the details from the page")
        self.import_csv_action = self._action("&Import CSV…", self.open_csv_import,
                                              tip="Import jobs from a CSV file")
        self.export_csv_action = self._action("&Export CSV…", self.open_csv_export,
                                              tip="Save the jobs shown to a CSV file")
        self.edit_action = self._action("&Edit…", self.edit_selected, "F2", local=True)
        self.delete_action = self._action("&Delete…", self.delete_selected,
                                          QKeySequence.StandardKey.Delete, local=True)
        self.open_posting_action = self._action("&Open posting in browser", self.open_posting,
                                                local=True)
        self.status_actions: dict[str, QAction] = {}
        for number, status in enumerate(statuses.STATUSES, 1):
            action = self._action(statuses.label(status),
                                  lambda s=status: self.set_status_of_selection(s),
                                  f"Ctrl+{number}", local=True,
                                  tip=f"Move the selected jobs to {statuses.label(status)}")
            action.setCheckable(True)
            self.status_actions[status] = action

    def _build_ui(self) -> None:
        self.setStyleSheet(_CHIP_STYLE)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)

        self.toolbar = QWidget(self)
        bar = QHBoxLayout(self.toolbar)
        bar.setContentsMargins(0, 0, 0, 0)
        for action in (self.add_action, self.import_url_action, self.import_csv_action,
                       self.export_csv_action):
            button = QToolButton(self.toolbar)
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            bar.addWidget(button)
        bar.addStretch(1)
        self.search = QLineEdit(self.toolbar)
        self.search.setPlaceholderText("Filter by title, company, location, notes…")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(300)
        self.search.textChanged.connect(self._text_edited)
        self.search.returnPressed.connect(self._apply_text)
        bar.addWidget(self.search)
        layout.addWidget(self.toolbar)

        self.chip_bar = QWidget(self)
        chips = QHBoxLayout(self.chip_bar)
        chips.setContentsMargins(0, 0, 0, 0)
        chips.setSpacing(6)
        self.chip_group = QButtonGroup(self)
        self.chip_group.setExclusive(True)
        self.status_chips: dict[str | None, QToolButton] = {}
        for status in (None, *statuses.STATUSES):
            chip = QToolButton(self.chip_bar)
            chip.setProperty("chip", True)
            chip.setCheckable(True)
            chip.setAutoRaise(True)
            chip.clicked.connect(lambda _c=False, s=status: self.set_status_filter(s))
            self.chip_group.addButton(chip)
            self.status_chips[status] = chip
            chips.addWidget(chip)
        self.status_chips[None].setChecked(True)
        chips.addStretch(1)
        layout.addWidget(self.chip_bar)

        self.stack = QStackedWidget(self)
        self.empty_page = self._build_empty_page()
        self.stack.addWidget(self.empty_page)
        self.table_page = QWidget(self)
        page = QVBoxLayout(self.table_page)
        page.setContentsMargins(0, 0, 0, 0)
        self.table = self._build_table()
        page.addWidget(self.table, 1)
        self.no_match = QWidget(self.table_page)
        no_match = QVBoxLayout(self.no_match)
        self.no_match_label = QLabel(self.no_match)
        self.no_match_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_match_label.setWordWrap(True)
        self.show_all_button = QPushButton("Show all jobs", self.no_match)
        self.show_all_button.clicked.connect(self.clear_filters)
        no_match.addStretch(1)
        no_match.addWidget(self.no_match_label)
        no_match.addWidget(self.show_all_button, 0, Qt.AlignmentFlag.AlignHCenter)
        no_match.addStretch(2)
        page.addWidget(self.no_match, 1)
        self.stack.addWidget(self.table_page)
        layout.addWidget(self.stack, 1)

        footer = QHBoxLayout()
        self.count_label = QLabel(self)
        self.message_label = plain_label(parent=self)
        self.message_label.setAlignment(Qt.AlignmentFlag.AlignRight
                                        | Qt.AlignmentFlag.AlignVCenter)
        self.message_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                         QSizePolicy.Policy.Preferred)
        footer.addWidget(self.count_label)
        footer.addWidget(self.message_label, 1)
        layout.addLayout(footer)

    def _build_empty_page(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        heading = QLabel("<h1>No jobs yet</h1>", page)
        heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label = QLabel("Add one, paste a posting URL, or import a CSV.", page)
        self.empty_label.setAccessibleName(EMPTY_MESSAGE)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        layout.addWidget(heading)
        layout.addWidget(self.empty_label)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.empty_buttons: list[QPushButton] = []
        for text, action in (("Add a job", self.add_action),
                             ("Paste a posting URL", self.import_url_action),
                             ("Import a CSV file", self.import_csv_action)):
            button = QPushButton(text, page)
            button.clicked.connect(action.trigger)
            buttons.addWidget(button)
            self.empty_buttons.append(button)
        buttons.addStretch(1)
        layout.addSpacing(8)
        layout.addLayout(buttons)
        layout.addStretch(2)
        return page

    def _build_table(self) -> QTableView:
        table = QTableView(self)
        table.setModel(self.proxy)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setAlternatingRowColors(True)
        table.setShowGrid(False)
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._context_menu)
        table.activated.connect(lambda _index: self.edit_selected())
        vertical = table.verticalHeader()
        vertical.hide()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(26)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(FIELD_COLUMN["title"], QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(60)
        header.setHighlightSections(False)
        for column, (name, _title) in enumerate(COLUMNS):
            if name in _COLUMN_WIDTHS:
                table.setColumnWidth(column, _COLUMN_WIDTHS[name])
        header.setSortIndicator(FIELD_COLUMN["date_found"], Qt.SortOrder.DescendingOrder)
        table.setSortingEnabled(True)
        table.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self.model.dataChanged.connect(lambda *_: self._update_actions())
        return table

    # -- filtering ----------------------------------------------------------------------------------
    def set_status_filter(self, status: str | None) -> None:
        self.status_chips[status].setChecked(True)
        self.proxy.set_status(status)
        self._refresh_visibility()

    def set_text_filter(self, text: str) -> None:
        self.search.setText(text)
        self._apply_text()

    def _text_edited(self, _text: str) -> None:
        self._filter_timer.start(150 if self.model.rowCount() > _DEBOUNCE_ROWS else 0)

    def _apply_text(self) -> None:
        self._filter_timer.stop()
        self.proxy.set_text(self.search.text())
        self._refresh_visibility()

    def clear_filters(self) -> None:
        self.search.clear()
        self._apply_text()
        self.set_status_filter(None)

    def _schedule_counts(self, *_args: Any) -> None:
        self._counts_timer.start(0)

    def _refresh_counts(self) -> None:
        counts = self.model.status_counts()
        self.status_chips[None].setText(f"All {self.model.rowCount():,}")
        for status in statuses.STATUSES:
            self.status_chips[status].setText(f"{statuses.label(status)} {counts[status]:,}")
        self._refresh_visibility()

    def _refresh_visibility(self, *_args: Any) -> None:
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        self.stack.setCurrentWidget(self.empty_page if total == 0 else self.table_page)
        # Filters and counts mean nothing without jobs: the empty state stands alone.
        self.chip_bar.setVisible(total > 0)
        self.search.setVisible(total > 0)
        self.count_label.setVisible(total > 0)
        self.table.setVisible(shown > 0)
        self.no_match.setVisible(total > 0 and shown == 0)
        if total and not shown:
            self.no_match_label.setText(f"No jobs match {self._filter_description()}.")
        self.count_label.setText(f"Showing {shown:,} of {_plural(total, 'job')}"
                                 if self.proxy.is_filtered() else _plural(total, "job"))

    def _filter_description(self) -> str:
        parts = []
        if self.proxy.text:
            parts.append(f"“{self.search.text().strip()}”")
        if self.proxy.status:
            parts.append(f"in {statuses.label(self.proxy.status)}")
        return " ".join(parts) if parts else "the filter"

    # -- selection ----------------------------------------------------------------------------------
    def selected_ids(self) -> list[int]:
        rows = self.table.selectionModel().selectedRows()
        return [self.proxy.data(index, JobIdRole) for index in sorted(rows, key=QModelIndex.row)]

    def select_job(self, job_id: int) -> bool:
        """Select and reveal ``job_id``; False when the filter hides it."""
        row = self.model.row_of(job_id)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        self.table.setCurrentIndex(index)
        self.table.selectRow(index.row())
        self.table.scrollTo(index)
        return True

    def _update_actions(self) -> None:
        ids = self.selected_ids() if hasattr(self, "table") else []
        single = len(ids) == 1
        self.edit_action.setEnabled(single)
        self.delete_action.setEnabled(bool(ids))
        self.export_csv_action.setEnabled(self.model.rowCount() > 0)
        job = self.model.job_at(self.model.row_of(ids[0])) if single else None
        self.open_posting_action.setEnabled(bool(job and job.get("url")))
        allowed = set(self.repository.allowed_statuses(ids[0])) if single else set()
        for status, action in self.status_actions.items():
            action.setChecked(bool(job) and job["status"] == status)
            action.setEnabled(status in allowed if single else bool(ids))

    def _context_menu(self, position: QPoint) -> None:
        index = self.table.indexAt(position)
        if index.isValid() and not self.table.selectionModel().isRowSelected(index.row()):
            self.table.selectRow(index.row())
        if not self.selected_ids():
            return
        menu = self.build_context_menu()
        menu.popup(self.table.viewport().mapToGlobal(position))

    def build_context_menu(self) -> QMenu:
        """The row menu (edit, open, move to a status, delete) for the current selection."""
        from PySide6.QtWidgets import QMenu

        self._update_actions()
        menu = QMenu(self)
        menu.addAction(self.edit_action)
        menu.addAction(self.open_posting_action)
        menu.addSection("Move to")
        for action in self.status_actions.values():
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.delete_action)
        menu.aboutToHide.connect(menu.deleteLater)
        return menu

    def _say(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setToolTip(tooltip(text))
        self.message.emit(text)

    # -- commands -----------------------------------------------------------------------------------
    def add_job(self) -> None:
        from peregrine_desktop.ui.pipeline.job_dialog import JobDialog  # on demand
        dialog = JobDialog(self._save_new, parent=self)
        self._open(dialog)

    def _save_new(self, values: dict[str, Any]) -> None:
        job = self.repository.add_job(values)
        if self.select_job(job["id"]):
            self._say(f"Added “{job['title']}”.")
        else:
            self._say(f"Added “{job['title']}” (hidden by the current filter).")

    def edit_selected(self) -> None:
        ids = self.selected_ids()
        if len(ids) != 1:
            return
        job = self.repository.get(ids[0])
        if job is None:
            return
        from peregrine_desktop.ui.pipeline.job_dialog import JobDialog  # on demand
        dialog = JobDialog(lambda values: self._save_edit(job["id"], values), job,
                           self.repository.allowed_statuses(job["id"]), parent=self,
                           documents=self.documents)
        self._open(dialog)

    def _save_edit(self, job_id: int, values: dict[str, Any]) -> None:
        job = self.repository.update_job(job_id, values)
        self._say(f"Saved “{job['title']}”.")

    def set_status_of_selection(self, status: str) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        label = statuses.label(status)
        if len(ids) == 1:
            try:
                job = self.repository.set_status(ids[0], status)
            except StoreError as exc:
                self._say(str(exc))
            else:
                self._say(f"Moved “{job['title']}” to {label}.")
            self._update_actions()
            return
        refused = self.repository.set_status_many(ids, status)
        moved = len(ids) - len(refused)
        text = f"Moved {_plural(moved, 'job')} to {label}."
        if refused:
            text += f" {_plural(len(refused), 'job')} could not move: {refused[0][1]}"
        self._say(text)
        self._update_actions()

    def delete_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        if len(ids) == 1:
            job = self.model.job_at(self.model.row_of(ids[0]))
            at = f" at {job['company']}" if job.get("company") else ""
            question = f"Delete “{job['title']}”{at}?"
        else:
            question = f"Delete {_plural(len(ids), 'job')}?"
        from PySide6.QtWidgets import QMessageBox

        box = message_box(self, QMessageBox.Icon.Question, "Delete jobs", question,
                          "Their notes and status history are deleted too. This cannot be "
                          "undone; export a CSV first if you want a copy.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                          QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Yes).setText("Delete")
        box.exec()
        if box.standardButton(box.clickedButton()) != QMessageBox.StandardButton.Yes:
            return
        row = self.table.currentIndex().row()
        removed = self.repository.delete_many(ids)
        self._say(f"Deleted “{removed[0]['title']}”." if len(removed) == 1
                  else f"Deleted {_plural(len(removed), 'job')}.")
        if self.proxy.rowCount():
            self.table.selectRow(min(max(row, 0), self.proxy.rowCount() - 1))

    def open_posting(self) -> None:
        ids = self.selected_ids()
        if len(ids) == 1:
            url = self.model.job_at(self.model.row_of(ids[0])).get("url")
            if url:
                from PySide6.QtCore import QUrl
                from PySide6.QtGui import QDesktopServices

                QDesktopServices.openUrl(QUrl(url))

    def import_from_url(self, url: str | None = None) -> None:
        if url is None:
            from PySide6.QtGui import QGuiApplication

            from peregrine_desktop.ui.fields import url_problem

            clipboard = QGuiApplication.clipboard().text().strip()
            url = clipboard if clipboard and not url_problem(clipboard) else ""
        from peregrine_desktop.ui.pipeline.url_dialog import UrlImportDialog  # on demand
        dialog = UrlImportDialog(self.repository, url, parent=self)
        dialog.accepted.connect(lambda: self._imported_from_url(dialog))
        self._open(dialog)
        if url:
            dialog.fetch()

    def _imported_from_url(self, dialog: "UrlImportDialog") -> None:
        if dialog.saved_job:
            self.select_job(dialog.saved_job["id"])
            self._say(f"Added “{dialog.saved_job['title']}”.")

    def open_csv_import(self, path: str | None = None) -> None:
        from peregrine_desktop.ui.pipeline.csv_dialogs import CsvImportDialog  # on demand
        self._open(CsvImportDialog(self.repository, path, parent=self))

    def open_csv_export(self) -> None:
        if self._filter_timer.isActive():     # export exactly what the filter box says
            self._apply_text()
        description = f" (matching {self._filter_description()})" \
            if self.proxy.is_filtered() else ""
        from peregrine_desktop.ui.pipeline.csv_dialogs import CsvExportDialog  # on demand
        self._open(CsvExportDialog(self.repository, self.proxy.visible_ids(), description,
                                   parent=self))

    def _open(self, dialog) -> None:
        self.active_dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: setattr(self, "active_dialog", None)
                                if self.active_dialog is dialog else None)
        dialog.open()
