"""PipelineView: the job pipeline as a sortable, filterable table or a board of stages, with
counts per status, due and target filters, a detail pane, and undo.

The main window embeds it and puts its actions (``add_action``, ``import_url_action``,
``import_csv_action``, ``export_csv_action``, ``undo_action``, ``redo_action``, ``find_action``,
``board_action``, ``details_action``, ``dashboard_action``) in its menus; the view's own toolbar
row can be hidden with ``toolbar.hide()`` when the window shows them elsewhere.  The board, the
detail pane and the dashboard are built the first time they are shown, never before the first
paint.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QByteArray, QEvent, QModelIndex, QPoint, QSettings, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QUndoStack
# The item-view classes and QLineEdit (~6 ms of Python types and enums) are imported where the
# table and the filter row are built: an empty pipeline paints without them.
from PySide6.QtWidgets import (QButtonGroup, QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
                               QSplitter, QStackedWidget, QToolButton, QVBoxLayout, QWidget)

from peregrine_desktop.jobs import statuses
from peregrine_desktop.jobs.dates import DUE_FILTERS, Clock, system_clock
from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.targets import Targets
from peregrine_desktop.lifecycle.first_paint import after_first_paint
from peregrine_desktop.lifecycle.qt_import import Qt, key_sequences, set_enum_property
from peregrine_desktop.ui.flow_layout import flow_container
from peregrine_desktop.ui.pipeline.columns import FIT_ORDER, default_widths
from peregrine_desktop.ui.pipeline.model import (COLUMNS, FIELD_COLUMN, JobFilterProxy, JobIdRole,
                                                 JobTableModel)
from peregrine_desktop.ui.pipeline.undo import PipelineEditor
from peregrine_desktop.ui.plain_text import message_box, plain_label, tooltip

if TYPE_CHECKING:  # pragma: no cover
    from PySide6.QtWidgets import QAbstractItemView, QMenu, QTableView

    from peregrine_desktop.ui.pipeline.board import BoardView
    from peregrine_desktop.ui.pipeline.detail_pane import DetailPane
    from peregrine_desktop.ui.pipeline.url_dialog import UrlImportDialog

EMPTY_MESSAGE = "No jobs yet — add one, paste a posting URL, or import a CSV."

_CHIP_STYLE = """
QToolButton[chip="true"] { border: 1px solid palette(mid); border-radius: 11px;
                           padding: 2px 8px; }
QToolButton[chip="true"]:checked { background: palette(highlight);
                                   color: palette(highlighted-text);
                                   border-color: palette(highlight); }
"""

class _BuiltWhenNeeded:
    """A part of the view an empty pipeline paints without (the table, the filter row): built by
    the method named ``build`` when there are first jobs to show, or when the part is first
    asked for.  ``build`` stores the part under the attribute's name with a leading ``_``."""

    def __init__(self, build: str) -> None:
        self.build = build

    def __set_name__(self, owner: type, name: str) -> None:
        self.stored = "_" + name

    def __get__(self, view: "PipelineView | None", owner: type | None = None) -> Any:
        if view is None:
            return self
        if getattr(view, self.stored, None) is None:
            getattr(view, self.build)()
        return getattr(view, self.stored)


#: Above this many rows the text filter waits for a pause in typing instead of every keystroke.
_DEBOUNCE_ROWS = 2000
TABLE, BOARD = "table", "board"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


class PipelineView(QWidget):
    """The pipeline.  ``message`` carries one-line feedback ("Moved 3 jobs to Applied")
    that the main window may also show in its status bar.  ``settings`` (the window's
    QSettings) remembers the chosen view, column widths and the detail pane's size."""

    message = Signal(str)

    def __init__(self, repository: JobRepository, parent: QWidget | None = None, *,
                 clock: Clock = system_clock, settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.repository = repository
        self.clock = clock
        self.settings = settings
        # Newest first; sorted as it loads (sorting again after would cost a second pass).
        self.model = JobTableModel(repository, self, clock=clock,
                                   sort=(FIELD_COLUMN["date_found"], True))
        self.proxy = JobFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        after_first_paint(self, self.model.start_haystacks)
        self.undo_stack = QUndoStack(self)
        self.editor = PipelineEditor(repository, self.undo_stack)
        self.active_dialog = None
        #: DocumentUploads, set once the event hub runs; edit dialogs then show documents.
        self.documents = None
        self.board: "BoardView | None" = None
        self.detail: "DetailPane | None" = None
        self._mode = TABLE
        self._keep_selection: tuple[list[int], int | None] = ([], None)
        self._user_columns: dict[str, bool] = {}
        #: Widths the person dragged a column to (remembered); the rest fit the font.
        self._user_widths: dict[str, int] = {}
        #: Each column's width in the table's font (set when the table is built).
        self._widths: dict[str, int] = {}
        self._sizing = False
        self._table: QTableView | None = None
        self._filters_built = False     # the search field and chips: _build_filters
        self._build_actions()
        self._build_ui()
        self._counts_timer = QTimer(self)
        self._counts_timer.setSingleShot(True)
        self._counts_timer.timeout.connect(self._refresh_counts)
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.timeout.connect(self._apply_text)
        self._detail_timer = QTimer(self)
        self._detail_timer.setSingleShot(True)
        self._detail_timer.timeout.connect(self._show_detail)
        # The counts, and the actions (Export follows whether there are jobs; the rest the
        # selected job's data).
        for signal in (self.model.rowsInserted, self.model.rowsRemoved, self.model.modelReset,
                       self.model.dataChanged):
            signal.connect(self._schedule_counts)
            signal.connect(lambda *_: self._update_actions())
        # The proxy drops rows before the source does, so both are watched.
        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset,
                       self.proxy.layoutChanged, self.model.rowsInserted, self.model.rowsRemoved,
                       self.model.modelReset):
            signal.connect(self._refresh_visibility)
        # A filter change resets the proxy: the selection is carried over by job id.
        self.proxy.modelAboutToBeReset.connect(self._remember_selection)
        self.proxy.modelReset.connect(self._restore_selection)
        self._refresh_counts()
        self._refresh_visibility()
        self._update_actions()
        self._restore_settings()

    # -- construction -------------------------------------------------------------------------------
    def _action(self, text: str, slot, shortcut: QKeySequence.StandardKey | str | None = None,
                local: bool = False, tip: str = "") -> QAction:
        action = QAction(text=text, parent=self)
        if shortcut is not None:
            action.setShortcuts(key_sequences(shortcut))
        if local:       # a QAction's default context is the window
            set_enum_property(action, "shortcutContext", "WidgetWithChildrenShortcut")
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
        self.undo_action = self._action("&Undo", self.undo, QKeySequence.StandardKey.Undo)
        self.redo_action = self._action("&Redo", self.redo, QKeySequence.StandardKey.Redo)
        self.undo_stack.indexChanged.connect(self._after_undo_step)
        self._after_undo_step()
        self.find_action = self._action("&Find…", self.focus_filter, QKeySequence.StandardKey.Find,
                                        tip="Filter the jobs by what you type")
        self.view_group = QActionGroup(self)
        self.table_action = self._action("&Table", lambda: self.set_mode(TABLE), "Ctrl+Shift+T",
                                         tip="Show the jobs as a table")
        self.board_action = self._action("&Board", lambda: self.set_mode(BOARD), "Ctrl+Shift+B",
                                         tip="Show the jobs as cards in a column per stage")
        for action in (self.table_action, self.board_action):
            action.setCheckable(True)
            self.view_group.addAction(action)
        self.table_action.setChecked(True)
        self.details_action = self._action("&Details pane", self._details_toggled, "F4",
                                           tip="Show the selected job's details beside the list")
        self.details_action.setCheckable(True)
        self.dashboard_action = self._action("&Numbers…", self.show_dashboard, "Ctrl+Shift+N",
                                             tip="Applications per week, response and interview "
                                                 "rates, days per stage")

    def _build_ui(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)

        self.toolbar = QWidget(self)
        bar = QHBoxLayout(self.toolbar)
        bar.setContentsMargins(0, 0, 0, 0)
        for action in (self.add_action, self.import_url_action, self.import_csv_action,
                       self.export_csv_action):
            button = QToolButton(self.toolbar)
            button.setDefaultAction(action)
            set_enum_property(button, "toolButtonStyle", "ToolButtonTextOnly")
            bar.addWidget(button)
        bar.addStretch(1)
        self.mode_buttons: dict[str, QToolButton] = {}
        for mode, action in ((TABLE, self.table_action), (BOARD, self.board_action)):
            button = QToolButton(self.toolbar)
            button.setDefaultAction(action)
            set_enum_property(button, "toolButtonStyle", "ToolButtonTextOnly")
            button.setAutoRaise(True)
            bar.addWidget(button)
            self.mode_buttons[mode] = button
        self._toolbar_row = bar
        layout.addWidget(self.toolbar)

        # Horizontal, Qt's default (naming it, or a parent, picks an overload that needs the
        # Qt namespace); the layout below makes this view its parent.
        self.splitter = QSplitter()
        self.splitter.setChildrenCollapsible(False)
        self.stack = QStackedWidget(self.splitter)
        self.empty_page = self._build_empty_page()
        self.stack.addWidget(self.empty_page)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(0, 1)
        layout.addWidget(self.splitter, 1)

        footer = QHBoxLayout()
        self.count_label = QLabel(self)
        self.message_label = plain_label(parent=self)
        set_enum_property(self.message_label, "alignment", "AlignRight|AlignVCenter")
        self.message_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                         QSizePolicy.Policy.Preferred)
        footer.addWidget(self.count_label)
        footer.addWidget(self.message_label, 1)
        layout.addLayout(footer)

    # -- the filter row: a search field and chips, built the first time there are jobs -------------
    search = _BuiltWhenNeeded("_build_filters")
    chip_bar = _BuiltWhenNeeded("_build_filters")
    chip_group = _BuiltWhenNeeded("_build_filters")
    status_chips = _BuiltWhenNeeded("_build_filters")
    due_chips = _BuiltWhenNeeded("_build_filters")
    targets_chip = _BuiltWhenNeeded("_build_filters")

    def _build_filters(self) -> None:
        """The search field (at the end of the toolbar) and the chips below it, set to the
        filters in force; an empty pipeline paints without them (they mean nothing there)."""
        from PySide6.QtWidgets import QLineEdit

        self._filters_built = True
        self._search = QLineEdit(self.toolbar)
        self._search.setPlaceholderText("Filter by title, company, location, notes…")
        # Its icon costs ~10 ms to look up, and the button shows only once there is text.
        after_first_paint(self, lambda: self._search.setClearButtonEnabled(True))
        self._search.setMinimumWidth(160)
        self._search.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._search.setMaximumWidth(360)
        self._search.setAccessibleName("Filter jobs")
        self._search.textChanged.connect(self._text_edited)
        self._search.returnPressed.connect(self._apply_text)
        self._toolbar_row.addWidget(self._search, 1)

        # Chips wrap onto a second line in a narrow window instead of being cut.
        self._chip_bar, chips = flow_container(self)
        self._chip_bar.setStyleSheet(_CHIP_STYLE)     # not on the view: a style sheet on the
        # table's parent would route every cell's painting through the slower style-sheet style
        self._chip_group = QButtonGroup(self)
        self._chip_group.setExclusive(True)
        self._status_chips: dict[str | None, QToolButton] = {}
        for status in (None, *statuses.STATUSES):
            chip = self._chip(status and statuses.label(status) or "All")
            chip.clicked.connect(lambda _c=False, s=status: self.set_status_filter(s))
            self._chip_group.addButton(chip)
            self._status_chips[status] = chip
            chips.addWidget(chip)
        separator = QFrame(self._chip_bar)
        separator.setFrameShape(QFrame.Shape.VLine)
        separator.setFixedHeight(22)
        chips.addWidget(separator)
        self._due_chips: dict[str, QToolButton] = {}
        for due, text in DUE_FILTERS.items():
            chip = self._chip(text)
            chip.setToolTip({"overdue": "Next actions and deadlines whose day has passed",
                             "today": "Next actions, deadlines and interviews today",
                             "week": "Due today or in the next six days"}[due])
            chip.clicked.connect(lambda checked, d=due: self.set_due_filter(d if checked
                                                                            else None))
            self._due_chips[due] = chip
            chips.addWidget(chip)
        self._targets_chip = self._chip("Matches my targets")
        self._targets_chip.setToolTip("Jobs whose title and place match the targets in your "
                                      "profile (Settings → Job search)")
        self._targets_chip.clicked.connect(self.set_targets_filter)
        chips.addWidget(self._targets_chip)
        layout = self.layout()
        layout.insertWidget(layout.indexOf(self.splitter), self._chip_bar)

        self._status_chips[self.proxy.status].setChecked(True)
        for due, chip in self._due_chips.items():
            chip.setChecked(due == self.proxy.due)
        self._targets_chip.setChecked(self.proxy.targets_only)
        self._targets_chip.setVisible(self.model.targets.active)
        for part in (self._search, self._chip_bar):     # asked for before there were jobs
            part.setVisible(self.model.rowCount() > 0)
        # Tab goes from the toolbar to the search field, the chips, then the list.
        chain = [self.mode_buttons[BOARD], self._search,
                 *(chip for chip in self._chip_bar.findChildren(QToolButton))]
        if self._table is not None:
            chain.append(self._table)
        for before, after in zip(chain, chain[1:]):
            QWidget.setTabOrder(before, after)
        self._fill_chip_counts()

    def _chip(self, text: str) -> QToolButton:
        chip = QToolButton(self._chip_bar)
        chip.setProperty("chip", True)
        chip.setCheckable(True)
        chip.setAutoRaise(True)
        chip.setText(text)
        return chip

    def _build_empty_page(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        heading = QLabel("<h1>No jobs yet</h1>", page)
        set_enum_property(heading, "alignment", "AlignCenter")
        self.empty_label = QLabel("Add one, paste a posting URL, or import a CSV.", page)
        self.empty_label.setAccessibleName(EMPTY_MESSAGE)
        set_enum_property(self.empty_label, "alignment", "AlignCenter")
        self.empty_label.setWordWrap(True)
        layout.addWidget(heading)
        layout.addWidget(self.empty_label)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.empty_buttons: list[QPushButton] = []
        for text, action in (("Add a job", self.add_action),
                             ("Paste a posting URL", self.import_url_action),
                             ("Import a CSV file", self.import_csv_action)):
            button = QPushButton(text=text, parent=page)
            button.clicked.connect(action.trigger)
            buttons.addWidget(button)
            self.empty_buttons.append(button)
        buttons.addStretch(1)
        layout.addSpacing(8)
        layout.addLayout(buttons)
        layout.addStretch(2)
        return page

    # -- the table page: the job table, or a "no jobs match" note under a filter ----------------
    # (The table's header would make the Qt namespace before the first paint.)
    table = _BuiltWhenNeeded("_build_table_page")
    table_page = _BuiltWhenNeeded("_build_table_page")
    no_match = _BuiltWhenNeeded("_build_table_page")
    no_match_label = _BuiltWhenNeeded("_build_table_page")
    show_all_button = _BuiltWhenNeeded("_build_table_page")

    def _build_table_page(self) -> None:
        self._table_page = QWidget(self)
        page = QVBoxLayout(self._table_page)
        page.setContentsMargins(0, 0, 0, 0)
        self._table = self._build_table()
        page.addWidget(self._table, 1)
        self._no_match = QWidget(self._table_page)
        no_match = QVBoxLayout(self._no_match)
        self._no_match_label = plain_label(parent=self._no_match, word_wrap=True)
        self._no_match_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._show_all_button = QPushButton("Show all jobs", self._no_match)
        self._show_all_button.clicked.connect(self.clear_filters)
        no_match.addStretch(1)
        no_match.addWidget(self._no_match_label)
        no_match.addWidget(self._show_all_button, 0, Qt.AlignmentFlag.AlignHCenter)
        no_match.addStretch(2)
        page.addWidget(self._no_match, 1)
        self.stack.addWidget(self._table_page)
        self._restore_columns()

    def _build_table(self) -> QTableView:
        from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

        table = QTableView(self)
        table.setModel(self.proxy)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setTabKeyNavigation(False)    # Tab leaves the table (arrows move within it)
        table.setAlternatingRowColors(True)
        table.setShowGrid(False)
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
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
        header.setSectionsMovable(True)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)
        self._widths = default_widths(table)
        header.sectionResized.connect(self._section_resized)
        header.setSortIndicator(FIELD_COLUMN["date_found"], Qt.SortOrder.DescendingOrder)
        table.setSortingEnabled(True)
        table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())
        table.installEventFilter(self)      # columns refit whenever the table's width changes
        return table

    # -- columns: fitted to the width, chosen from the header's menu, remembered ------------------
    def _header_menu(self, position: QPoint) -> None:
        self.build_header_menu().popup(self.table.horizontalHeader().mapToGlobal(position))

    def build_header_menu(self) -> QMenu:
        """Show or hide each column (Title always shows)."""
        from PySide6.QtWidgets import QMenu  # where used: each Qt class costs start-up time

        menu = QMenu(self)
        for column, (name, title) in enumerate(COLUMNS):
            if name == "title":
                continue
            action = menu.addAction(title)
            action.setCheckable(True)
            action.setChecked(not self.table.isColumnHidden(column))
            action.toggled.connect(lambda on, n=name: self.set_column_shown(n, on))
        menu.aboutToHide.connect(menu.deleteLater)
        return menu

    def set_column_shown(self, name: str, shown: bool) -> None:
        self._user_columns[name] = shown
        self._fit_columns()
        self._save_settings()

    def _width(self, name: str) -> int:
        return self._user_widths.get(name) or self._widths[name]

    def _apply_widths(self) -> None:
        """Every column (but the title, which takes what is left) at its width."""
        self._sizing = True
        try:
            for column, (name, _title) in enumerate(COLUMNS):
                if name != "title":
                    self.table.setColumnWidth(column, self._width(name))
        finally:
            self._sizing = False

    def _section_resized(self, column: int, _old: int, new: int) -> None:
        name = COLUMNS[column][0]
        if not self._sizing and name != "title" and new > 0 \
                and not self.table.isColumnHidden(column):
            self._user_widths[name] = new

    def _fit_columns(self) -> None:
        """Hide the least needed columns the width cannot hold (nothing scrolls sideways)."""
        if self._table is None:
            return
        width = self.table.width() - self.table.verticalScrollBar().sizeHint().width() - 4
        header = self.table.horizontalHeader()
        shown = {name: self._user_columns.get(name, True) for name, _ in COLUMNS}
        shown["title"] = True

        def needed() -> int:      # each column at its own width (not as squeezed for the title)
            return self._widths["title"] + sum(self._width(n) for n, on in shown.items()
                                               if on and n != "title")
        for name in FIT_ORDER:
            if needed() <= width:
                break
            if name not in self._user_columns:
                shown[name] = False
        self._sizing = True
        try:
            for name, on in shown.items():
                column = FIELD_COLUMN[name]
                if self.table.isColumnHidden(column) == on:
                    self.table.setColumnHidden(column, not on)
                    if on and name != "title" and header.sectionSize(column) < 60:
                        self.table.setColumnWidth(column, self._width(name))
            self._keep_title_width(width, [n for n, on in shown.items() if on])
        finally:
            self._sizing = False

    def _keep_title_width(self, width: int, shown: list[str]) -> None:
        """When even the fewest columns leave the title less than its width (a narrow table
        beside the detail pane), the company column gives up room (its names elide; the detail
        pane and the tooltip show them whole) down to its header's width."""
        column = FIELD_COLUMN["company"]
        if "company" not in shown:
            return
        others = sum(self._width(n) for n in shown if n not in ("title", "company"))
        room = width - self._widths["title"] - others
        wanted = self._width("company")
        fitted = max(min(wanted, room), self.table.horizontalHeader().sectionSizeHint(column))
        if self.table.columnWidth(column) != fitted:
            self.table.setColumnWidth(column, fitted)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        if watched is self._table and event.type() == QEvent.Type.Resize:
            self._fit_columns()
        elif watched is self._table and event.type() in (QEvent.Type.FontChange,
                                                         QEvent.Type.StyleChange):
            self._widths = default_widths(self.table)     # room for the text in the new font
            self._apply_widths()
            self._fit_columns()
        return super().eventFilter(watched, event)

    def _restore_settings(self) -> None:
        if self.settings is None:
            return
        if self.settings.value("pipeline/details", "false") in (True, "true"):
            self.details_action.setChecked(True)
        if self.settings.value("pipeline/view", TABLE) == BOARD:
            # Built after the first paint (the table page shows until then).
            self._mode = BOARD
            self.board_action.setChecked(True)
            QTimer.singleShot(0, lambda: self.set_mode(BOARD) if self._mode == BOARD else None)

    def _restore_columns(self) -> None:
        """The remembered column order, sort, widths and choice, as the table is built."""
        from PySide6.QtWidgets import QHeaderView

        settings = self.settings

        def remembered(key: str) -> Any:
            return settings.value(key) if settings is not None else None

        state = remembered("pipeline/header")
        if isinstance(state, QByteArray) and not state.isEmpty():   # order and sort
            self._sizing = True
            try:
                self.table.horizontalHeader().restoreState(state)
                self.table.horizontalHeader().setSectionResizeMode(
                    FIELD_COLUMN["title"], QHeaderView.ResizeMode.Stretch)
            finally:
                self._sizing = False
        for item in str(remembered("pipeline/widths") or "").split(","):
            name, _, width = item.partition("=")
            if name in FIELD_COLUMN and name != "title" and width.isdigit():
                self._user_widths[name] = max(int(width), 20)
        for item in str(remembered("pipeline/columns") or "").split(","):
            name, _, on = item.partition("=")
            if name in FIELD_COLUMN and name != "title":
                self._user_columns[name] = on == "1"
        self._apply_widths()
        self._fit_columns()

    def _save_settings(self) -> None:
        if self.settings is None:
            return
        if self._table is not None:     # else what was remembered stands
            self.settings.setValue("pipeline/header", self._table.horizontalHeader().saveState())
            self.settings.setValue("pipeline/widths", ",".join(
                f"{name}={width}" for name, width in self._user_widths.items()))
            self.settings.setValue("pipeline/columns", ",".join(
                f"{name}={int(on)}" for name, on in self._user_columns.items()))
        self.settings.setValue("pipeline/view", self._mode)
        self.settings.setValue("pipeline/details", self.details_action.isChecked())
        if self.detail is not None:
            self.settings.setValue("pipeline/splitter", self.splitter.saveState())

    def save_settings(self) -> None:
        """Remember widths, the view and the pane (the window calls this as it closes)."""
        self._save_settings()
        if self.settings is not None:
            self.settings.sync()

    # -- table or board -----------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        """Show the table or the board (built the first time it is asked for)."""
        ids = self.selected_ids()
        self._mode = mode
        (self.board_action if mode == BOARD else self.table_action).setChecked(True)
        if mode == BOARD and self.board is None:
            from peregrine_desktop.ui.pipeline.board import BoardView   # on demand
            self.board = BoardView(self.proxy, self.stack)
            self.board.selection_changed.connect(self._selection_changed)
            self.board.move_requested.connect(self.move_jobs)
            self.board.activated.connect(lambda _job_id: self.edit_selected())
            self.board.context_menu_requested.connect(
                lambda position: self.build_context_menu().popup(position))
            for action in self.actions():
                if action.shortcutContext() == Qt.ShortcutContext.WidgetWithChildrenShortcut:
                    self.board.addAction(action)
            self.stack.addWidget(self.board)
        if self.board is not None:
            self.board.set_active(mode == BOARD)
        self._refresh_visibility()
        for job_id in ids[:1]:
            self.select_job(job_id)
        self._save_settings()

    def current_list(self) -> QAbstractItemView:
        """The widget holding the selection now (the table, or the board's focused column)."""
        if self._mode == BOARD and self.board is not None:
            return self.board.current_list()
        return self.table

    # -- filtering ----------------------------------------------------------------------------------
    def set_status_filter(self, status: str | None) -> None:
        self.status_chips[status].setChecked(True)
        self.proxy.set_status(status)
        self._refresh_visibility()

    def set_due_filter(self, due: str | None) -> None:
        """Show only what is overdue, due today or due this week (None: everything)."""
        for key, chip in self.due_chips.items():
            chip.setChecked(key == due)
        self.proxy.set_due(due)
        self._refresh_visibility()

    def set_targets_filter(self, on: bool) -> None:
        self.targets_chip.setChecked(on)
        self.proxy.set_targets_only(on)
        self._refresh_visibility()

    def set_targets(self, targets: Targets) -> None:
        """The person's targets (from the profile) changed: mark and filter by them."""
        self.model.set_targets(targets)
        if self._filters_built:
            self._targets_chip.setVisible(targets.active)
        if not targets.active and self.proxy.targets_only:
            self.set_targets_filter(False)
        elif self.proxy.targets_only:
            self.proxy.refilter()
        self._refresh_counts()

    def focus_filter(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _text_edited(self, _text: str) -> None:
        self._filter_timer.start(150 if self.model.rowCount() > _DEBOUNCE_ROWS else 0)

    def _apply_text(self) -> None:
        self._filter_timer.stop()
        self.proxy.set_text(self.search.text())
        self._refresh_visibility()

    def clear_filters(self) -> None:
        self.search.clear()
        self._apply_text()
        self.set_due_filter(None)
        self.set_targets_filter(False)
        self.set_status_filter(None)

    def _schedule_counts(self, *_args: Any) -> None:
        self._counts_timer.start(0)

    def _refresh_counts(self) -> None:
        if self._filters_built:
            self._fill_chip_counts()
        self._refresh_visibility()

    def _fill_chip_counts(self) -> None:
        counts = self.model.status_counts()
        self._status_chips[None].setText(f"All {self.model.rowCount():,}")
        for status in statuses.STATUSES:
            self._status_chips[status].setText(f"{statuses.label(status)} {counts[status]:,}")
        for due, count in self.model.due_counts().items():
            self._due_chips[due].setText(f"{DUE_FILTERS[due]} {count:,}")
        if self.model.targets.active:
            self._targets_chip.setText(f"Matches my targets {self.model.target_count():,}")

    def _refresh_visibility(self, *_args: Any) -> None:
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        on_board = self._mode == BOARD and self.board is not None
        if total and not self._filters_built:
            self._build_filters()
        if total == 0:
            self.stack.setCurrentWidget(self.empty_page)
        elif on_board:
            self.stack.setCurrentWidget(self.board)
        else:
            self.table.setVisible(shown > 0)        # built now if this is its first showing
            self.stack.setCurrentWidget(self.table_page)
        if self._table is not None:
            self.no_match.setVisible(total > 0 and shown == 0)
            if total and not shown:
                self.no_match_label.setText(f"No jobs match {self._filter_description()}.")
        # Filters and counts mean nothing without jobs: the empty state stands alone.
        if self._filters_built:
            self._chip_bar.setVisible(total > 0)
            self._search.setVisible(total > 0)
        self.count_label.setVisible(total > 0)
        self.count_label.setText(f"Showing {shown:,} of {_plural(total, 'job')}"
                                 if self.proxy.is_filtered() else _plural(total, "job"))

    def _filter_description(self) -> str:
        parts = []
        if self.proxy.text:
            parts.append(f"“{self.search.text().strip()}”")
        if self.proxy.status:
            parts.append(f"in {statuses.label(self.proxy.status)}")
        if self.proxy.due:
            parts.append(DUE_FILTERS[self.proxy.due].lower())
        if self.proxy.targets_only:
            parts.append("matching your targets")
        return " ".join(parts) if parts else "the filter"

    # -- selection ----------------------------------------------------------------------------------
    def selected_ids(self) -> list[int]:
        if self._mode == BOARD and self.board is not None:
            return self.board.selected_ids()
        if self._table is None:
            return []
        rows = self._table.selectionModel().selectedRows()
        return [self.proxy.data(index, JobIdRole) for index in sorted(rows, key=QModelIndex.row)]

    def select_job(self, job_id: int) -> bool:
        """Select and reveal ``job_id``; False when the filter hides it."""
        if self._mode == BOARD and self.board is not None:
            return self.board.select_job(job_id)
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

    def _remember_selection(self) -> None:
        if self._table is None:
            return
        current = self.table.currentIndex()
        self._keep_selection = ([self.proxy.data(i, JobIdRole)
                                 for i in self.table.selectionModel().selectedRows()],
                                self.proxy.data(current, JobIdRole) if current.isValid()
                                else None)

    def _restore_selection(self) -> None:
        ids, current = self._keep_selection
        self._keep_selection = ([], None)
        if not ids and current is None:
            return
        from PySide6.QtCore import QItemSelection, QItemSelectionModel

        selection = QItemSelection()
        last = self.proxy.columnCount() - 1
        for job_id in ids:
            row = self.model.row_of(job_id)
            index = self.proxy.mapFromSource(self.model.index(row, 0)) if row is not None \
                else QModelIndex()
            if index.isValid():
                selection.select(index, self.proxy.index(index.row(), last))
        model = self.table.selectionModel()
        row = self.model.row_of(current) if current is not None else None
        index = self.proxy.mapFromSource(self.model.index(row, 0)) if row is not None \
            else QModelIndex()
        if index.isValid():
            model.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
            self.table.scrollTo(index)
        model.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def _selection_changed(self) -> None:
        self._update_actions()
        if self.details_action.isChecked():
            self._detail_timer.start(0)     # once per burst of selection changes

    def _update_actions(self) -> None:
        ids = self.selected_ids()
        single = len(ids) == 1
        self.edit_action.setEnabled(single)
        self.delete_action.setEnabled(bool(ids))
        self.export_csv_action.setEnabled(self.model.rowCount() > 0)
        row = self.model.row_of(ids[0]) if single else None
        job = self.model.job_at(row) if row is not None else None
        self.open_posting_action.setEnabled(bool(job and job.get("url")))
        allowed = set(self.repository.allowed_statuses(ids[0])) if job else set()
        for status, action in self.status_actions.items():
            action.setChecked(bool(job) and job["status"] == status)
            action.setEnabled(status in allowed if single else bool(ids))

    # -- the detail pane ----------------------------------------------------------------------------
    def _details_toggled(self) -> None:
        on = self.details_action.isChecked()
        if on:
            self._show_detail()
        elif self.detail is not None:
            self.detail.hide()
        self._save_settings()

    def _show_detail(self) -> None:
        if not self.details_action.isChecked():
            return
        if self.detail is None:
            from peregrine_desktop.ui.pipeline.detail_pane import DetailPane   # on demand
            self.detail = DetailPane(self.editor, clock=self.clock,
                                     targets=lambda: self.model.targets, parent=self.splitter)
            self.detail.message.connect(self._say)
            self.splitter.addWidget(self.detail)
            # A window made narrower or wider shares the change 3:2, as the first split does
            # (the pane alone kept its width: at 800 px the table was left three cut columns).
            self.splitter.setStretchFactor(0, 3)
            self.splitter.setStretchFactor(1, 2)
            state = self.settings.value("pipeline/splitter") if self.settings else None
            if not (isinstance(state, QByteArray) and self.splitter.restoreState(state)):
                self.splitter.setSizes(self._detail_split())
        self.detail.set_sources(documents=self.documents)
        ids = self.selected_ids()
        self.detail.show_job(ids[0] if len(ids) == 1 else None, len(ids))
        self.detail.show()

    def _detail_split(self) -> list[int]:
        """The table's and the detail pane's first widths: the pane takes up to 40% (at most
        420 px), less where the table would otherwise cut its title, company and status."""
        total = self.splitter.width() - self.splitter.handleWidth()
        view = self.table       # built first if it was not yet: its widths are read here
        table = (sum(self._widths[n] for n in ("title", "company", "status"))
                 + view.verticalScrollBar().sizeHint().width() + 4 + 2 * view.frameWidth())
        pane = min(total - table, int(total * 0.4), 420)
        pane = max(pane, self.detail.minimumSizeHint().width(), self.detail.minimumWidth())
        return [total - pane, pane]

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

    # -- commands (every change goes through the editor, so it can be undone) ---------------------
    def add_job(self) -> None:
        from peregrine_desktop.ui.pipeline.job_dialog import JobDialog  # on demand
        dialog = JobDialog(self._save_new, parent=self)
        self._open(dialog)

    def _save_new(self, values: dict[str, Any]) -> None:
        job = self.editor.add(values)
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
        job = self.editor.edit(job_id, values)
        self._say(f"Saved “{job['title']}”.")

    def set_status_of_selection(self, status: str) -> None:
        self.move_jobs(self.selected_ids(), status)

    def move_jobs(self, ids: list[int], status: str) -> None:
        """Move jobs to ``status`` (menu, Ctrl+1…8, or a drag on the board), as one undo step."""
        if not ids:
            return
        label = statuses.label(status)
        moved, refused = self.editor.move(ids, status)
        if len(ids) == 1:
            if refused:
                self._say(refused[0][1])
            else:
                job = self.model.job_at(self.model.row_of(ids[0]))
                self._say(f"Moved “{job['title']}” to {label}.")
        else:
            text = f"Moved {_plural(len(ids) - len(refused), 'job')} to {label}."
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
        undo_keys = self.undo_action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        from PySide6.QtWidgets import QMessageBox

        box = message_box(self, QMessageBox.Icon.Question, "Delete jobs", question,
                          "Their notes, status history and documents go with them. "
                          f"Edit → Undo ({undo_keys}) brings them back.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                          QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Yes).setText("Delete")
        box.exec()
        if box.standardButton(box.clickedButton()) != QMessageBox.StandardButton.Yes:
            return
        row = self.table.currentIndex().row()
        removed = self.editor.delete(ids)
        self._say(f"Deleted “{removed[0]['title']}”." if len(removed) == 1
                  else f"Deleted {_plural(len(removed), 'job')}.")
        if self._mode == TABLE and self.proxy.rowCount():
            self.table.selectRow(min(max(row, 0), self.proxy.rowCount() - 1))

    def _after_undo_step(self, _index: int = 0) -> None:
        """Undo/Redo say what they would do ("Undo Move “Designer” to Applied")."""
        stack = self.undo_stack
        if not shiboken6.isValid(stack):     # the stack clears itself as the view goes away
            return
        for action, word, able, text in ((self.undo_action, "&Undo", stack.canUndo(),
                                          stack.undoText()),
                                         (self.redo_action, "&Redo", stack.canRedo(),
                                          stack.redoText())):
            action.setEnabled(able)
            action.setText(f"{word} {text.replace('&', '&&')}" if able else word)
        self._update_actions()
        if self.detail is not None and self.detail.isVisible():
            self._detail_timer.start(0)

    def undo(self) -> None:
        text = self.undo_stack.undoText()
        if self.undo_stack.canUndo():
            self.undo_stack.undo()
            self._say(f"Undid: {text}.")

    def redo(self) -> None:
        text = self.undo_stack.redoText()
        if self.undo_stack.canRedo():
            self.undo_stack.redo()
            self._say(f"Redid: {text}.")

    def show_dashboard(self) -> None:
        from peregrine_desktop.ui.pipeline.dashboard import DashboardDialog   # on demand
        self._open(DashboardDialog(self.repository, clock=self.clock, parent=self))

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
        dialog = UrlImportDialog(self.repository, url, parent=self, targets=self.model.targets,
                                 add=self.editor.add)
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
