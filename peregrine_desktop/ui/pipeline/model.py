"""The pipeline table's model: every job's summary in memory, sorted in Python, updated in place.

Sorting 10,000 rows through ``QSortFilterProxyModel.lessThan`` would call into Python ~250,000
times; here ``sort`` is one ``list.sort`` with a key.  The proxy only filters, and does so from a
precomputed lower-case haystack per row.  Changes arrive from :class:`JobRepository` signals and
touch only the affected row (an edited row keeps its place until the next sort).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from operator import itemgetter
from typing import Any

from PySide6.QtCore import (QAbstractTableModel, QModelIndex, QPersistentModelIndex,
                            QSortFilterProxyModel, Qt)
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from peregrine_desktop.jobs import statuses
from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.ui.plain_text import tooltip

#: (job field, header) per column.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("title", "Title"), ("company", "Company"), ("location", "Location"), ("salary", "Salary"),
    ("status", "Status"), ("date_found", "Found"), ("interview_at", "Interview"),
    ("source", "Source"),
)
FIELD_COLUMN = {name: index for index, (name, _) in enumerate(COLUMNS)}

JobIdRole = Qt.ItemDataRole.UserRole + 1
StatusRole = Qt.ItemDataRole.UserRole + 2

def haystack(job: dict[str, Any]) -> str:
    """The lower-case text the filter searches (title, company, location, salary, source, URL,
    notes, and "remote" for remote jobs); built once per row, not per keystroke."""
    return (f"{job['title']}\n{job['company']}\n{job['location']}\n{job['salary']}\n"
            f"{job['source']}\n{job['url']}\n{job['notes']}"
            f"{chr(10) + 'remote' if job['remote'] else ''}").casefold()


def interview_text(job: dict[str, Any]) -> str:
    """"Tue 14 Mar 2026, 15:00 Berlin": wall-clock time in the interview's own zone."""
    value = job.get("interview_at")
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    zone = job.get("interview_tz")
    if zone:
        try:
            from zoneinfo import ZoneInfo
            moment = moment.astimezone(ZoneInfo(zone))
        except (KeyError, ValueError):
            zone = None
    place = zone.rsplit("/", 1)[-1].replace("_", " ") if zone else f"UTC{moment:%z}"
    return f"{moment:%a %d %b %Y, %H:%M} {place}"


def found_text(value: str) -> str:
    try:
        return date.fromisoformat(value).strftime("%d %b %Y")
    except (TypeError, ValueError):
        return value or ""


def _sort_key(column: str) -> Callable[[dict[str, Any]], Any]:
    if column == "status":
        return lambda job: (statuses.rank(job["status"]), job["id"])
    if column in ("date_found", "interview_at"):
        def by_time(job: dict[str, Any]) -> Any:
            value = job.get(column)
            if column == "interview_at" and value:
                try:
                    value = datetime.fromisoformat(value).timestamp()
                except ValueError:
                    value = 0.0
                return (0, value, job["id"])
            return (0 if value else 1, value or "", job["id"])
        return by_time
    return lambda job: (0 if job.get(column) else 1, str(job.get(column) or "").casefold(),
                        job["id"])


_icons: dict[str, QIcon] = {}


def status_icon(status: str) -> QIcon:
    """A coloured dot per status (drawn once, shared by every row)."""
    if status not in _icons:
        pixmap = QPixmap(12, 12)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(statuses.COLOURS.get(status, "#9e9e9e")))
        painter.drawEllipse(1, 1, 10, 10)
        painter.end()
        _icons[status] = QIcon(pixmap)
    return _icons[status]


class JobTableModel(QAbstractTableModel):
    """All jobs (summaries) from the repository, kept current from its signals."""

    def __init__(self, repository: JobRepository, parent=None,
                 sort_by: tuple[int, Qt.SortOrder] | None = None) -> None:
        """``sort_by``: (column, order) the rows are loaded in (one sort, before any view)."""
        super().__init__(parent)
        self.repository = repository
        self._rows: list[dict[str, Any]] = []
        #: Filter haystacks per row, built on the first text filter (not for the first paint).
        self._hay: list[str] | None = None
        self._ids: dict[int, int] | None = None     # see _row_of
        self._sort_column, self._sort_order = sort_by or (-1, Qt.SortOrder.AscendingOrder)
        repository.job_added.connect(self._on_added)
        repository.job_changed.connect(self._on_changed)
        repository.job_removed.connect(self._on_removed)
        repository.jobs_reset.connect(self.reload)
        self.reload()

    # -- reading ------------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][1]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        job = self._rows[index.row()]
        column = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            if column == "status":
                return statuses.label(job["status"])
            if column == "location" and job.get("remote"):
                return f"{job['location']} · Remote" if job["location"] else "Remote"
            if column == "date_found":
                return found_text(job["date_found"])
            if column == "interview_at":
                return interview_text(job)
            return job.get(column) or ""
        if role == Qt.ItemDataRole.DecorationRole and column == "status":
            return status_icon(job["status"])
        if role == Qt.ItemDataRole.ToolTipRole and column == "interview_at" and job["interview_tz"]:
            return tooltip(f"{interview_text(job)} ({job['interview_tz']})")
        if role == Qt.ItemDataRole.ToolTipRole and column == "title":
            parts = [job["title"], job.get("company") or "", job.get("url") or ""]
            if job.get("notes"):
                parts.append(job["notes"][:300])
            return tooltip("\n".join(p for p in parts if p))
        if role == JobIdRole:
            return job["id"]
        if role == StatusRole:
            return job["status"]
        return None

    def job_at(self, row: int) -> dict[str, Any]:
        return self._rows[row]

    def row_of(self, job_id: int) -> int | None:
        return self._row_of.get(job_id)

    def status_counts(self) -> Counter:
        return Counter(map(itemgetter("status"), self._rows))

    def matches(self, row: int, status: str | None, words: list[str]) -> bool:
        if status is not None and self._rows[row]["status"] != status:
            return False
        if not words:
            return True
        if self._hay is None:
            self._hay = [haystack(job) for job in self._rows]
        hay = self._hay[row]
        return all(word in hay for word in words)

    # -- sorting ------------------------------------------------------------------------------------
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if (column, order) == (self._sort_column, self._sort_order):
            return      # already in this order (rows added since were inserted in place)
        self._sort_column, self._sort_order = column, order
        if column < 0 or not self._rows:
            return
        self.layoutAboutToBeChanged.emit()
        old_ids = [job["id"] for job in self._rows]
        self._apply_sort()
        persistent = self.persistentIndexList()
        if persistent:
            new = [self.index(self._row_of[old_ids[p.row()]], p.column()) for p in persistent]
            self.changePersistentIndexList(persistent, new)
        self.layoutChanged.emit()

    def _apply_sort(self) -> None:
        key = _sort_key(COLUMNS[self._sort_column][0])
        descending = self._sort_order == Qt.SortOrder.DescendingOrder
        if self._hay is None:
            self._rows.sort(key=key, reverse=descending)
        else:
            pairs = sorted(zip(self._rows, self._hay), key=lambda pair: key(pair[0]),
                           reverse=descending)
            self._rows = [p[0] for p in pairs]
            self._hay = [p[1] for p in pairs]
        self._reindex()

    @property
    def _row_of(self) -> dict[int, int]:
        """The row of each job id: built when first needed (a change arriving), not before the
        first paint."""
        if self._ids is None:
            self._ids = {job["id"]: row for row, job in enumerate(self._rows)}
        return self._ids

    def _reindex(self, start: int = 0) -> None:
        if self._ids is None:
            return      # built whole on first use
        if start == 0:
            self._ids = None
            return
        for row in range(start, len(self._rows)):
            self._ids[self._rows[row]["id"]] = row

    def _position_for(self, job: dict[str, Any]) -> int:
        """Where ``job`` belongs under the current sort (the end when unsorted)."""
        if self._sort_column < 0:
            return len(self._rows)
        key = _sort_key(COLUMNS[self._sort_column][0])
        mine = key(job)
        descending = self._sort_order == Qt.SortOrder.DescendingOrder
        for row, other in enumerate(self._rows):
            theirs = key(other)
            if (theirs < mine) if descending else (mine < theirs):
                return row
        return len(self._rows)

    # -- keeping current ----------------------------------------------------------------------------
    def reload(self) -> None:
        self.beginResetModel()
        # The opening order (Found, newest first) comes sorted from SQLite: no Python sort.
        presorted = (self._sort_column == FIELD_COLUMN["date_found"]
                     and self._sort_order == Qt.SortOrder.DescendingOrder)
        self._rows = self.repository.summaries(newest_first=presorted)
        self._hay = None
        self._ids = None
        if self._sort_column >= 0 and not presorted:
            self._apply_sort()
        self.endResetModel()

    @staticmethod
    def _summary(job: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in job.items() if k not in ("description", "status_history")}

    def _on_added(self, job: dict[str, Any]) -> None:
        if job["id"] in self._row_of:
            return
        summary = self._summary(job)
        row = self._position_for(summary)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.insert(row, summary)
        if self._hay is not None:
            self._hay.insert(row, haystack(summary))
        self._reindex(row)
        self.endInsertRows()

    def _on_changed(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        row = self._row_of.get(new["id"])
        if row is None:
            self._on_added(new)
            return
        summary = self._summary(new)
        self._rows[row] = summary
        if self._hay is not None:
            self._hay[row] = haystack(summary)
        # The row stays where it is until the next sort: a job jumping away from under the
        # cursor after a status change is disorienting, and bulk changes stay O(rows changed).
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def _on_removed(self, job: dict[str, Any]) -> None:
        row = self._row_of.pop(job["id"], None)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._rows[row]
        if self._hay is not None:
            del self._hay[row]
        self._reindex(row)
        self.endRemoveRows()


class JobFilterProxy(QSortFilterProxyModel):
    """Filters by status and words; sorting is delegated to the source model (see module doc)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._status: str | None = None
        self._words: list[str] = []

    @property
    def status(self) -> str | None:
        return self._status

    @property
    def text(self) -> str:
        return " ".join(self._words)

    def set_status(self, status: str | None) -> None:
        if status != self._status:
            self.beginFilterChange()
            self._status = status
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_text(self, text: str) -> None:
        words = text.casefold().split()
        if words != self._words:
            self.beginFilterChange()
            self._words = words
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def is_filtered(self) -> bool:
        return self._status is not None or bool(self._words)

    def filterAcceptsRow(self, source_row: int,
                         source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        if self._status is None and not self._words:   # called per row: keep it short
            return True
        return self.sourceModel().matches(source_row, self._status, self._words)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sourceModel().sort(column, order)

    def job_id(self, index: QModelIndex) -> int:
        return self.data(index, JobIdRole)

    def visible_ids(self) -> list[int]:
        source: JobTableModel = self.sourceModel()
        return [source.job_at(self.mapToSource(self.index(r, 0)).row())["id"]
                for r in range(self.rowCount())]
