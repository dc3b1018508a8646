"""BoardView: the pipeline as a column per stage, each job a card; drag a card to another column
to move the job there.

One ``QListView`` per stage over a small list model holding the source rows of that stage (split
from the filtered rows in one pass), with a delegate that paints each card: thousands of jobs are
thousands of rows, not thousands of widgets.  The board only rebuilds while it is shown.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import (QItemSelectionModel, QModelIndex, QPersistentModelIndex, QPoint,
                            QRect, QSize, QStringListModel, Qt, QTimer, Signal)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import (QAbstractItemView, QFrame, QHBoxLayout, QLabel, QListView,
                               QScrollArea, QStyle, QStyledItemDelegate, QStyleOptionViewItem,
                               QVBoxLayout, QWidget)

from peregrine_desktop.jobs import statuses
from peregrine_desktop.jobs.dates import DEADLINE, INTERVIEW, NEXT_ACTION
from peregrine_desktop.ui.pipeline.model import (JOB_IDS_MIME, OVERDUE_COLOUR, ExcludedRole,
                                                 JobFilterProxy, JobIdRole, JobRole,
                                                 JobTableModel, NextDueRole, TargetRole,
                                                 job_ids_from_mime, short_interview_text)

#: A card at the usual font size; a larger font makes cards and columns grow (card_size).
CARD_HEIGHT = 78
#: (job, next due, matches targets, excluded keyword, due window) of a card.
CardRole = Qt.ItemDataRole.UserRole + 20
_SHORT_KIND = {NEXT_ACTION: "Next", DEADLINE: "Deadline"}
COLUMN_WIDTH = 210
#: Room a card's text needs, in average characters ("Senior Product Designer" and a date line).
_CARD_CHARACTERS = 26


def card_size(metrics: QFontMetrics) -> QSize:
    """(column width, card height) for a font: three lines and the card's margins, never smaller
    than at the usual size, so a 12 pt font still reads "Lead Product Designer" whole."""
    width = max(COLUMN_WIDTH, _CARD_CHARACTERS * metrics.averageCharWidth() + 48)
    height = max(CARD_HEIGHT, 3 * metrics.height() + 24)
    return QSize(width, height)
_ROLES_FROM_SOURCE = (JobIdRole, JobRole, NextDueRole, TargetRole, ExcludedRole,
                      Qt.ItemDataRole.ToolTipRole)


class StageModel(QStringListModel):
    """The jobs of one stage: indexes into the table model's rows.

    A string list model underneath (of empty strings), so that the list view's layout — which
    asks for the row count once or twice per row, 20,000 calls for a full board — is answered
    in C++; ``data`` answers from the table model."""

    def __init__(self, source: JobTableModel, status: str, parent=None) -> None:
        super().__init__(parent)
        self.source = source
        self.status = status
        self.rows: list[int] = []

    def set_rows(self, rows: list[int]) -> None:
        self.rows = rows
        self.setStringList([""] * len(rows))    # the count; data() answers the rest

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == CardRole:            # everything a card shows, in one call
            row = self.rows[index.row()]
            source = self.source
            return (source.job_at(row), source.data_at(row, 0, NextDueRole),
                    source.data_at(row, 0, TargetRole), source.data_at(row, 0, ExcludedRole),
                    source.window)
        if role == Qt.ItemDataRole.DisplayRole:
            return self.source.job_at(self.rows[index.row()])["title"]
        if role == Qt.ItemDataRole.EditRole:
            return None
        if role in _ROLES_FROM_SOURCE:
            return self.source.data_at(self.rows[index.row()], 0, role)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            job = self.source.job_at(self.rows[index.row()])
            return f"{job['title']}, {job.get('company') or ''}"
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        return self.source.flags(index) if index.isValid() else Qt.ItemFlag.ItemIsDropEnabled

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        return False        # cards are not edited in place (the detail pane does that)

    def mimeTypes(self) -> list[str]:
        return [JOB_IDS_MIME]

    def mimeData(self, indexes):
        return self.source.mimeData([self.source.index(self.rows[i.row()], 0)
                                     for i in indexes if i.isValid()])

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def row_of_job(self, job_id: int) -> int | None:
        row = self.source.row_of(job_id)
        try:
            return self.rows.index(row) if row is not None else None
        except ValueError:
            return None


class CardDelegate(QStyledItemDelegate):
    """Paints a card: title, company and place, the next date due or the interview time.

    Columns have a fixed width, so each card's three elided lines are worked out once per
    version of the job (and per day, for "today"/"overdue") and kept: a repaint only draws."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lines: dict[tuple, tuple[str, str, str, bool]] = {}
        self._font_key = None

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        self._fonts(option)
        return QSize(self.card.width() - 24, self.card.height())

    def _fonts(self, option: QStyleOptionViewItem) -> None:
        key = option.font.key()
        if key != self._font_key:
            self._font_key = key
            self.font = QFont(option.font)
            self.bold = QFont(option.font)
            self.bold.setBold(True)
            self.metrics = QFontMetrics(self.font)
            self.bold_metrics = QFontMetrics(self.bold)
            self.line = self.metrics.height()
            self.card = card_size(self.metrics)
            self._lines.clear()

    def lines(self, card: tuple, width: int) -> tuple[str, str, str, bool]:
        """(title, company · place, date line, overdue) for a card, elided to ``width``."""
        job, due, target, excluded, window = card
        key = (job["id"], job.get("updated_at"), window.today, target, excluded, width)
        found = self._lines.get(key)
        if found is None:
            mark = "⚠ " if excluded else ("★ " if target else "")
            company = " · ".join(part for part in (job.get("company"), job.get("location"))
                                 if part)
            bottom, overdue = "", False
            if due is not None:
                kind, day = due
                bottom = (short_interview_text(job) if kind == INTERVIEW
                          else f"{_SHORT_KIND[kind]}: {window.describe(day)}")
                overdue = day < window.today
            elif job.get("interview_at"):
                bottom = short_interview_text(job)
            elide = Qt.TextElideMode.ElideRight
            found = (self.bold_metrics.elidedText(mark + job["title"], elide, width),
                     self.metrics.elidedText(company, elide, width),
                     self.metrics.elidedText(bottom, elide, width), overdue)
            if len(self._lines) > 20_000:
                self._lines.clear()
            self._lines[key] = found
        return found

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        card = index.data(CardRole)
        if card is None:
            return
        self._fonts(option)
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        rect = option.rect.adjusted(3, 3, -3, -3)
        text_rect = rect.adjusted(12, 6, -8, -6)
        title, company, bottom, overdue = self.lines(card, text_rect.width())
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight) if selected
                            else palette.color(QPalette.ColorRole.Mid), 2 if selected else 1))
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(rect, 6, 6)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_stage_colour(card[0]["status"]))
        painter.drawRect(QRect(rect.left() + 1, rect.top() + 4, 3, rect.height() - 8))
        line = self.line
        left, top, width = text_rect.left(), text_rect.top(), text_rect.width()
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        text = palette.color(QPalette.ColorRole.Text)
        painter.setPen(text)
        painter.setFont(self.bold)
        painter.drawText(QRect(left, top, width, line), align, title)
        painter.setFont(self.font)
        painter.setPen(palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
        painter.drawText(QRect(left, top + line, width, line), align, company)
        if bottom:
            painter.setPen(OVERDUE_COLOUR if overdue else text)
            painter.drawText(QRect(left, top + 2 * line, width, line), align, bottom)
        painter.restore()


_colours: dict[str, QColor] = {}


def _stage_colour(status: str) -> QColor:
    if status not in _colours:
        _colours[status] = QColor(statuses.COLOURS.get(status, "#9e9e9e"))
    return _colours[status]


class StageList(QListView):
    """One column's cards.  Drops of jobs from another column ask the board to move them."""

    dropped = Signal(list)
    neighbour_requested = Signal(int)    # -1 left, +1 right

    def __init__(self, model: StageModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setItemDelegate(CardDelegate(self))
        self.setUniformItemSizes(True)
        # Thousands of cards are laid out a few hundred per event-loop pass, not in one stall.
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(300)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAccessibleName(f"{statuses.label(model.status)} jobs")
        self.viewport().setAutoFillBackground(False)

    @property
    def status(self) -> str:
        return self.model().status

    def _wanted(self, event) -> bool:
        mime = event.mimeData()
        return mime is not None and mime.hasFormat(JOB_IDS_MIME) and event.source() is not self

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self._wanted(event):
            event.setDropAction(Qt.DropAction.MoveAction)
            event.accept()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        if not self._wanted(event):
            event.ignore()
            return
        ids = job_ids_from_mime(event.mimeData())
        event.setDropAction(Qt.DropAction.CopyAction)   # the source list removes nothing
        event.accept()
        if ids:
            self.dropped.emit(ids)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Right) \
                and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self.neighbour_requested.emit(-1 if event.key() == Qt.Key.Key_Left else 1)
            return
        super().keyPressEvent(event)


class StageColumn(QFrame):
    def __init__(self, model: StageModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFixedWidth(card_size(self.fontMetrics()).width())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 6, 4, 4)
        layout.setSpacing(4)
        self.header = QLabel(self)
        self.header.setTextFormat(Qt.TextFormat.PlainText)
        font = self.header.font()
        font.setBold(True)
        self.header.setFont(font)
        self.header.setContentsMargins(6, 0, 0, 0)
        self.list = StageList(model, self)
        self.header.setBuddy(self.list)
        layout.addWidget(self.header)
        layout.addWidget(self.list, 1)

    def set_count(self, count: int) -> None:
        self.header.setText(f"{statuses.label(self.list.status)}  {count:,}")


class BoardView(QWidget):
    """All stages side by side over ``proxy`` (so the text, due and target filters apply; a
    stage chip shows that stage's column alone)."""

    selection_changed = Signal()
    move_requested = Signal(list, str)       # job ids, status
    activated = Signal(int)                  # job id (double click, Enter)
    context_menu_requested = Signal(QPoint)  # global position

    def __init__(self, proxy: JobFilterProxy, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.proxy = proxy
        self.source: JobTableModel = proxy.sourceModel()
        self._active = False
        self._dirty = True
        self._last_list: StageList | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget(self.scroll)
        row = QHBoxLayout(inner)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(8)
        self.columns: dict[str, StageColumn] = {}
        for status in statuses.STATUSES:
            column = StageColumn(StageModel(self.source, status, self), inner)
            column.list.dropped.connect(lambda ids, s=status: self.move_requested.emit(ids, s))
            column.list.neighbour_requested.connect(
                lambda step, s=status: self._focus_neighbour(s, step))
            column.list.selectionModel().selectionChanged.connect(
                lambda *_a, lst=column.list: self._on_selection(lst))
            column.list.activated.connect(lambda index: self.activated.emit(index.data(JobIdRole)))
            column.list.customContextMenuRequested.connect(
                lambda position, lst=column.list: self._context_menu(lst, position))
            self.columns[status] = column
            row.addWidget(column)
        row.addStretch(1)
        self.scroll.setWidget(inner)
        layout.addWidget(self.scroll)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.rebuild)
        for signal in (proxy.modelReset, proxy.rowsInserted, proxy.rowsRemoved,
                       proxy.layoutChanged, proxy.dataChanged):
            signal.connect(self._schedule)

    # -- keeping current ----------------------------------------------------------------------------
    def set_active(self, active: bool) -> None:
        self._active = active
        if active and self._dirty:
            self.rebuild()

    def _schedule(self, *_args: Any) -> None:
        self._dirty = True
        if self._active:
            self._timer.start(0)

    def rebuild(self) -> None:
        """Split the filtered rows by stage (one pass) and refill the columns."""
        self._timer.stop()
        self._dirty = False
        keep = self.selected_ids()
        buckets: dict[str, list[int]] = {status: [] for status in statuses.STATUSES}
        status_of = self.source._status
        for row in self.proxy.source_rows():
            buckets[status_of[row]].append(row)
        only = self.proxy.status
        for status, column in self.columns.items():
            column.list.blockSignals(True)
            column.list.model().set_rows(buckets[status])
            column.list.blockSignals(False)
            column.set_count(len(buckets[status]))
            column.setVisible(only is None or status == only)
        had_focus = any(lst.hasFocus() for lst in self.lists())
        for job_id in keep:
            self.select_job(job_id, add=True)
        if had_focus and keep and self._last_list is not None:
            self._last_list.setFocus(Qt.FocusReason.OtherFocusReason)   # focus follows the card
        self.selection_changed.emit()

    # -- selection ----------------------------------------------------------------------------------
    def lists(self) -> list[StageList]:
        return [column.list for column in self.columns.values()]

    def current_list(self) -> StageList:
        for lst in self.lists():
            if lst.hasFocus():
                return lst
        return self._last_list or self.columns[statuses.PENDING].list

    def selected_ids(self) -> list[int]:
        ids = []
        for lst in self.lists():
            for index in sorted(lst.selectionModel().selectedIndexes(), key=QModelIndex.row):
                ids.append(index.data(JobIdRole))
        return ids

    def select_job(self, job_id: int, add: bool = False) -> bool:
        if self._dirty:
            self.rebuild()
        row = self.source.row_of(job_id)
        if row is None:
            return False
        column = self.columns.get(self.source.job_at(row)["status"])
        at = column.list.model().row_of_job(job_id) if column else None
        if at is None or not column.isVisible() and self.isVisible():
            return False
        index = column.list.model().index(at, 0)
        if not add:
            for lst in self.lists():
                if lst is not column.list:
                    lst.selectionModel().clearSelection()
        flags = (QItemSelectionModel.SelectionFlag.Select if add
                 else QItemSelectionModel.SelectionFlag.ClearAndSelect)
        column.list.selectionModel().setCurrentIndex(index, flags)
        column.list.scrollTo(index)
        self._last_list = column.list
        return True

    def _on_selection(self, lst: StageList) -> None:
        if lst.signalsBlocked():
            return
        if lst.selectionModel().hasSelection():
            self._last_list = lst
            if lst.hasFocus():      # a click in one column clears the others
                for other in self.lists():
                    if other is not lst and other.selectionModel().hasSelection():
                        other.selectionModel().clearSelection()
        self.selection_changed.emit()

    def _focus_neighbour(self, status: str, step: int) -> None:
        visible = [s for s, c in self.columns.items() if c.isVisible()]
        if status not in visible:
            return
        at = visible.index(status) + step
        if not 0 <= at < len(visible):
            return
        source_list = self.columns[status].list
        target = self.columns[visible[at]].list
        row = min(source_list.currentIndex().row(), target.model().rowCount() - 1)
        target.setFocus(Qt.FocusReason.OtherFocusReason)
        if row >= 0:
            source_list.selectionModel().clearSelection()
            target.selectionModel().setCurrentIndex(
                target.model().index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.scroll.ensureWidgetVisible(self.columns[visible[at]])

    def _context_menu(self, lst: StageList, position: QPoint) -> None:
        index = lst.indexAt(position)
        if index.isValid() and not lst.selectionModel().isSelected(index):
            for other in self.lists():
                other.selectionModel().clearSelection()
            lst.selectionModel().setCurrentIndex(index,
                                                 QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if self.selected_ids():
            self.context_menu_requested.emit(lst.viewport().mapToGlobal(position))
