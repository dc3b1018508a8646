"""The pipeline table's model: every job's summary in memory, sorted in Python, updated in place.

Sorting 10,000 rows through ``QSortFilterProxyModel.lessThan`` would call into Python ~250,000
times; here ``sort`` is one ``list.sort`` with a key.  Filtering is one list comprehension over
precomputed per-row facts (a lower-case haystack, the open dates, the target marks) in
:class:`JobFilterProxy`, a row-subset proxy: Qt never calls back into Python per hidden row.
Changes arrive from :class:`JobRepository` signals and touch only the affected row (an edited row
keeps its place until the next sort).
"""
from __future__ import annotations

import logging
import sqlite3
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (QAbstractProxyModel, QAbstractTableModel, QByteArray, QMimeData,
                            QModelIndex, QPersistentModelIndex, QTimer)
from PySide6.QtGui import QColor

from peregrine_desktop.jobs import statuses
from peregrine_desktop.jobs.dates import DUE_FILTERS, Clock, DueWindow, open_dates, system_clock
from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import FIRST_FIELDS, LATER_FIELDS, StoreError
from peregrine_desktop.jobs.targets import Targets
from peregrine_desktop.lifecycle.qt_import import Qt
from peregrine_desktop.ui.plain_text import tooltip

if TYPE_CHECKING:  # pragma: no cover - QIcon is imported where an icon is drawn
    from PySide6.QtGui import QIcon

#: (job field, header) per column.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("title", "Title"), ("company", "Company"), ("location", "Location"), ("salary", "Salary"),
    ("status", "Status"), ("date_found", "Found"), ("applied_on", "Applied"),
    ("deadline", "Deadline"), ("next_action_on", "Next action"), ("interview_at", "Interview"),
    ("source", "Source"),
)
FIELD_COLUMN = {name: index for index, (name, _) in enumerate(COLUMNS)}
_DAY_COLUMNS = ("date_found", "applied_on", "deadline")

log = logging.getLogger(__name__)

#: Qt.ItemDataRole's numbers, as plain ints: defining the model makes no Qt namespace (a view
#: passes roles as ints, and an empty pipeline paints without the namespace).
DISPLAY_ROLE, DECORATION_ROLE, TOOLTIP_ROLE, FOREGROUND_ROLE, USER_ROLE = 0, 1, 3, 9, 0x0100
JobIdRole = USER_ROLE + 1
StatusRole = USER_ROLE + 2
#: The job's summary dict (for delegates that draw a whole card).
JobRole = USER_ROLE + 3
#: (kind, ISO day) of the date a card shows, or None.
NextDueRole = USER_ROLE + 4
#: True when the job matches the person's targets.
TargetRole = USER_ROLE + 5
#: The excluded keyword the job contains, or None.
ExcludedRole = USER_ROLE + 6

#: What a dragged job carries: its ids, one per line.
JOB_IDS_MIME = "application/x-peregrine-job-ids"

#: What a job deleted meanwhile reads as.
_NOTHING_LATER = tuple("" if field == "url" else None for field in LATER_FIELDS)


def job_ids_from_mime(mime: QMimeData) -> list[int]:
    if not mime.hasFormat(JOB_IDS_MIME):
        return []
    text = bytes(mime.data(JOB_IDS_MIME).data()).decode("ascii", "replace")
    return [int(part) for part in text.split() if part.isdigit()]

def haystack(job: dict[str, Any]) -> str:
    """The lower-case text the filter searches (title, company, location, salary, source, URL,
    notes, and "remote" for remote jobs); built once per row, not per keystroke."""
    return (f"{job['title']}\n{job['company']}\n{job['location']}\n{job['salary']}\n"
            f"{job['source']}\n{job['url']}\n{job['notes']}"
            f"{chr(10) + 'remote' if job['remote'] else ''}").casefold()


def _interview_moment(job: dict[str, Any]) -> tuple[datetime | str, str | None]:
    """The interview as a time in its own zone (and that zone), or the stored text when it
    cannot be read; ("", None) when there is none."""
    value = job.get("interview_at")
    if not value:
        return "", None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value, None
    zone = job.get("interview_tz")
    if zone:
        try:
            from zoneinfo import ZoneInfo
            return moment.astimezone(ZoneInfo(zone)), zone
        except (KeyError, ValueError):
            pass
    return moment, None


def interview_text(job: dict[str, Any]) -> str:
    """"Tue 14 Mar 2026, 15:00 Berlin": wall-clock time in the interview's own zone."""
    moment, zone = _interview_moment(job)
    if not isinstance(moment, datetime):
        return moment
    place = zone.rsplit("/", 1)[-1].replace("_", " ") if zone else f"UTC{moment:%z}"
    return f"{moment:%a %d %b %Y, %H:%M} {place}"


def short_interview_text(job: dict[str, Any]) -> str:
    """"Interview Tue 14 Mar, 15:00" (wall-clock time where it takes place), for cards."""
    moment, _zone = _interview_moment(job)
    if not isinstance(moment, datetime):
        return moment
    return f"Interview {moment:%a} {moment.day} {moment:%b, %H:%M}"


def found_text(value: str) -> str:
    try:
        return date.fromisoformat(value).strftime("%d %b %Y")
    except (TypeError, ValueError):
        return value or ""


def _sort_key(column: str) -> Callable[[dict[str, Any]], Any]:
    if column == "status":
        return lambda job: (statuses.rank(job["status"]), job["id"])
    if column in ("date_found", "interview_at", "applied_on", "deadline", "next_action_on"):
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


def _mark_icon(key: str, colour: str, glyph: str) -> QIcon:
    """A small round badge with a glyph (target match, excluded keyword), drawn once."""
    if key not in _icons:
        from PySide6.QtGui import QIcon, QPainter, QPixmap  # where drawn: types cost ~3 ms

        pixmap = QPixmap(14, 14)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(colour))
        painter.drawEllipse(0, 0, 14, 14)
        painter.setPen(QColor("white"))
        font = painter.font()
        font.setPixelSize(10)
        font.setBold(True)
        painter.setFont(font)
        painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, glyph)
        painter.end()
        _icons[key] = QIcon(pixmap)
    return _icons[key]


def target_icon() -> QIcon:
    return _mark_icon("#target", "#2e7d32", "✓")


def excluded_icon() -> QIcon:
    return _mark_icon("#excluded", "#c62828", "!")


OVERDUE_COLOUR = QColor("#c62828")
#: The roles the model answers (a view asks for a dozen per cell; the rest return None at once).
_ROLES = frozenset({DISPLAY_ROLE, DECORATION_ROLE, FOREGROUND_ROLE, TOOLTIP_ROLE, JobIdRole,
                    StatusRole, JobRole, NextDueRole, TargetRole, ExcludedRole})


@cache
def _row_flags() -> Qt.ItemFlag:
    """Every row's flags, combined once (Python enum arithmetic per cell costs milliseconds);
    when a row is first drawn, not when the model is defined."""
    return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled


def status_icon(status: str) -> QIcon:
    """A coloured dot per status (drawn once, shared by every row)."""
    if status not in _icons:
        from PySide6.QtGui import QIcon, QPainter, QPixmap

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


#: The per-row lists kept in step with the rows (sorted, inserted and removed together).
_PARALLEL = ("_rows", "_hay", "_dates", "_target", "_excluded", "_status")


class JobTableModel(QAbstractTableModel):
    """All jobs (summaries) from the repository, kept current from its signals.

    Per row it keeps what filters need precomputed: the haystack, the open dates, whether the
    job matches the person's targets and which excluded keyword it contains."""

    def __init__(self, repository: JobRepository, parent=None, *,
                 clock: Clock = system_clock,
                 sort: tuple[int, bool] = (-1, False)) -> None:
        super().__init__(parent)
        self.repository = repository
        self.clock = clock
        self.targets = Targets()
        self._rows: list[dict[str, Any]] = []
        #: LATER_FIELDS by job id, once read (see job_at).
        self._later: dict[int, tuple] | None = None
        self._hay: list[str | None] = []
        self._hay_from = 0
        self._hay_timer = QTimer(self)
        self._hay_timer.setInterval(30)     # between frames, after the table is on screen
        self._hay_timer.timeout.connect(lambda: self._fill_haystacks(2000))
        #: Until start_haystacks (the view's first paint), slices would run before that paint.
        self._hay_waits = True
        self._dates: list[tuple[tuple[str, str], ...]] = []
        self._target: list[bool] = []
        self._excluded: list[str | None] = []
        self._status: list[str] = []
        self._row_of: dict[int, int] = {}
        #: The sort column (-1: unsorted) and whether it runs descending.
        self._sort_column, self._descending = sort
        self.window = DueWindow.from_clock(clock)
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
                   role: int = DISPLAY_ROLE) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == DISPLAY_ROLE:
            return COLUMNS[section][1]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = DISPLAY_ROLE) -> Any:
        return self.data_at(index.row(), index.column(), role)

    def data_at(self, row: int, column_number: int, role: int) -> Any:
        """``data`` by row and column (the proxy calls this directly: one Python call a cell)."""
        job = self._rows[row]
        column = COLUMNS[column_number][0]
        if role == DISPLAY_ROLE:
            if column == "status":
                return statuses.label(job["status"])
            if column == "location" and job.get("remote"):
                return f"{job['location']} · Remote" if job["location"] else "Remote"
            if column in _DAY_COLUMNS:
                return found_text(job[column])
            if column == "next_action_on":
                return self.next_action_text(job)
            if column == "interview_at":
                return interview_text(job)
            return job.get(column) or ""
        if role == DECORATION_ROLE:
            if column == "status":
                return status_icon(job["status"])
            if column == "title":
                if self._excluded[row]:
                    return excluded_icon()
                if self._target[row]:
                    return target_icon()
            return None
        if role == FOREGROUND_ROLE and column in ("deadline", "next_action_on"):
            kind = "next_action" if column == "next_action_on" else "deadline"
            today = self.window.today
            if any(k == kind and day < today for k, day in self._dates[row]):
                return OVERDUE_COLOUR
            return None
        if role == TOOLTIP_ROLE:
            return self._tooltip(row, self.job_at(row), column)
        if role == JobIdRole:
            return job["id"]
        if role == StatusRole:
            return job["status"]
        if role == JobRole:
            return self.job_at(row)
        if role == NextDueRole:
            return self.window.next_due(self._dates[row])
        if role == TargetRole:
            return self._target[row]
        if role == ExcludedRole:
            return self._excluded[row]
        return None

    def _tooltip(self, row: int, job: dict[str, Any], column: str) -> str | None:
        if column == "interview_at" and job["interview_tz"]:
            return tooltip(f"{interview_text(job)} ({job['interview_tz']})")
        if column == "next_action_on" and job.get("next_action_note"):
            return tooltip(job["next_action_note"])
        if column == "title":
            parts = [job["title"], job.get("company") or "", job.get("url") or ""]
            if self._excluded[row]:
                parts.append(f"Contains “{self._excluded[row]}”, one of your excluded "
                             "keywords.")
            elif self._target[row]:
                parts.append("Matches your job-search targets.")
            if job.get("notes"):
                parts.append(job["notes"][:300])
            return tooltip("\n".join(p for p in parts if p))
        return None

    def next_action_text(self, job: dict[str, Any]) -> str:
        day = job.get("next_action_on")
        if not day:
            return ""
        note = job.get("next_action_note") or ""
        return f"{found_text(day)} · {note}" if note else found_text(day)

    def job_at(self, row: int) -> dict[str, Any]:
        """The row's summary, with LATER_FIELDS (read in one query the first time any row
        needs them, then added to each row when it is asked for)."""
        job = self._rows[row]
        if "updated_at" not in job:     # rows added or changed since the load are whole
            if self._later is None:
                self._later = self._read_later()
            job.update(zip(LATER_FIELDS, self._later.get(job["id"], _NOTHING_LATER)))
        return job

    def _read_later(self) -> dict[int, tuple]:
        try:
            return self.repository.summary_columns(LATER_FIELDS)
        except (sqlite3.Error, StoreError) as exc:   # closed while the app quits, or damaged
            log.warning("the rest of the job list could not be read: %s", exc)
            return {}

    def row_of(self, job_id: int) -> int | None:
        return self._row_of.get(job_id)

    def status_counts(self) -> Counter:
        return Counter(self._status)

    def due_counts(self) -> dict[str, int]:
        """How many jobs each due filter would show (only rows with open dates are looked at)."""
        self.refresh_window()
        dated = [dates for dates in self._dates if dates]
        return {due: sum(1 for dates in dated if self.window.matches(dates, due))
                for due in DUE_FILTERS}

    def dated_jobs(self) -> list[dict[str, Any]]:
        """The jobs with a next action, deadline or interview still open (for reminders)."""
        return [self.job_at(row) for row, dates in enumerate(self._dates) if dates]

    def target_count(self) -> int:
        return sum(self._target)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        return _row_flags() if index.isValid() else Qt.ItemFlag.NoItemFlags

    # -- dragging (the board moves jobs between stages) --------------------------------------------
    def mimeTypes(self) -> list[str]:
        return [JOB_IDS_MIME]

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        ids = list(dict.fromkeys(self._rows[index.row()]["id"] for index in indexes
                                 if index.isValid()))
        mime = QMimeData()
        mime.setData(JOB_IDS_MIME, QByteArray("\n".join(map(str, ids)).encode("ascii")))
        return mime

    # -- filtering (used by JobFilterProxy) --------------------------------------------------------
    def accepts(self, row: int, status: str | None, words: Sequence[str], due: str | None,
                targets_only: bool) -> bool:
        if status is not None and self._status[row] != status:
            return False
        if targets_only and not self._target[row]:
            return False
        if due and not self.window.matches(self._dates[row], due):
            return False
        if not words:
            return True
        hay = self._hay[row]
        if hay is None:
            hay = self._hay[row] = haystack(self.job_at(row))
        return all(word in hay for word in words)

    def start_haystacks(self) -> None:
        """Begin building the haystacks in the background (called once the view has painted;
        a text filter before then builds them at once)."""
        self._hay_waits = False
        if None in self._hay:
            self._hay_timer.start()

    def _fill_haystacks(self, budget: int | None = None) -> bool:
        """Build missing haystacks, ``budget`` rows at most (None: all); True when complete.

        They are built after the table is on screen, a slice per event-loop pass, so loading
        10,000 jobs does not wait for text only the filter reads."""
        hay, rows, job_at = self._hay, self._rows, self.job_at
        start = self._hay_from
        end = len(rows) if budget is None else min(len(rows), start + budget)
        for row in range(start, end):
            if hay[row] is None:
                hay[row] = haystack(job_at(row))
        self._mark_excluded(start, end)
        self._hay_from = end
        if end < len(rows):
            return False
        self._hay_timer.stop()
        return True

    def _mark_excluded(self, start: int, end: int) -> None:
        """Excluded keywords of rows ``start``–``end`` (whose notes are read by now); a row that
        turns out to hold one is repainted."""
        if not self.targets.excludes or start >= end:
            return
        excluded, rows, word_in = self._excluded, self._rows, self.targets.excluded_word
        found = []
        for row in range(start, end):
            if excluded[row] is None:
                excluded[row] = word_in(rows[row])
                if excluded[row]:
                    found.append(row)
        if found:
            title = FIELD_COLUMN["title"]
            self.dataChanged.emit(self.index(found[0], title), self.index(found[-1], title))

    def accepted_rows(self, status: str | None, words: Sequence[str], due: str | None,
                      targets_only: bool) -> list[int]:
        """Rows passing every filter, in row order: a few list passes, no per-row Qt calls."""
        keep: Sequence[int] = range(len(self._rows))
        if status is not None:
            keep = [r for r, s in enumerate(self._status) if s == status]
        if targets_only:
            target = self._target
            keep = [r for r in keep if target[r]]
        if due:
            self.refresh_window()
            dates, matches = self._dates, self.window.matches
            keep = [r for r in keep if dates[r] and matches(dates[r], due)]
        if words and (self._hay_timer.isActive() or None in self._hay):
            self._hay_from = 0
            self._fill_haystacks()
        hay = self._hay
        for word in words:
            keep = [r for r in keep if word in hay[r]]
        return list(keep)

    def refresh_window(self) -> None:
        """Re-read today from the clock (the app may run past midnight)."""
        window = DueWindow.from_clock(self.clock)
        if window.today != self.window.today:
            self.window = window
            if self._rows:
                self.dataChanged.emit(self.index(0, 0),
                                      self.index(len(self._rows) - 1, len(COLUMNS) - 1))

    def set_targets(self, targets: Targets) -> None:
        """The person's targets changed: mark again (one pass) and repaint."""
        if targets == self.targets:
            return
        self.targets = targets
        self._target = [targets.matches(job) for job in self._rows]
        self._excluded = [targets.excluded_word(self.job_at(row)) if targets.excludes else None
                          for row in range(len(self._rows))]
        if self._rows:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(len(self._rows) - 1, len(COLUMNS) - 1))

    # -- sorting ------------------------------------------------------------------------------------
    def sort(self, column: int, order: Qt.SortOrder | None = None) -> None:
        """Qt's override (``order`` None: ascending)."""
        descending = order is not None and order == Qt.SortOrder.DescendingOrder
        if (column, descending) == (self._sort_column, self._descending):
            return      # already in this order (rows added since were inserted in place)
        self._sort_column, self._descending = column, descending
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
        keys = [key(job) for job in self._rows]
        order = sorted(range(len(self._rows)), key=keys.__getitem__,
                       reverse=self._descending)
        for name in _PARALLEL:
            values = getattr(self, name)
            setattr(self, name, [values[r] for r in order])
        self._hay_from = 0      # the haystacks still missing moved with their rows
        self._reindex()

    def _reindex(self, start: int = 0) -> None:
        if start == 0:
            self._row_of = {job["id"]: row for row, job in enumerate(self._rows)}
            return
        for row in range(start, len(self._rows)):
            self._row_of[self._rows[row]["id"]] = row

    def _position_for(self, job: dict[str, Any]) -> int:
        """Where ``job`` belongs under the current sort (the end when unsorted)."""
        if self._sort_column < 0:
            return len(self._rows)
        key = _sort_key(COLUMNS[self._sort_column][0])
        mine = key(job)
        for row, other in enumerate(self._rows):
            theirs = key(other)
            if (theirs < mine) if self._descending else (mine < theirs):
                return row
        return len(self._rows)

    # -- keeping current ----------------------------------------------------------------------------
    def reload(self) -> None:
        self.beginResetModel()
        self.window = DueWindow.from_clock(self.clock)
        # The opening order (Found, newest first) comes sorted from SQLite: no Python sort.
        presorted = (self._sort_column == FIELD_COLUMN["date_found"]
                     and self._descending)
        self._rows = self.repository.summaries(newest_first=presorted, fields=FIRST_FIELDS)
        self._later = None                          # LATER_FIELDS arrive with the haystacks
        self._hay = [None] * len(self._rows)       # built once shown (_fill_haystacks)
        self._hay_from = 0
        if not self._hay_waits:
            self._hay_timer.start()
        self._dates = [open_dates(job) for job in self._rows]
        self._status = [job["status"] for job in self._rows]
        targets = self.targets
        self._target = [targets.matches(job) for job in self._rows] if targets.active \
            else [False] * len(self._rows)
        # Marked with the haystacks: keywords are looked for in the notes too.
        self._excluded = [None] * len(self._rows)
        self._row_of = {}
        if self._sort_column >= 0 and not presorted:
            self._apply_sort()
        else:
            self._reindex()
        self.endResetModel()

    @staticmethod
    def _summary(job: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in job.items() if k not in ("description", "status_history")}

    def _facts(self, summary: dict[str, Any]) -> tuple[str, tuple, bool, str | None, str]:
        return (haystack(summary), open_dates(summary), self.targets.matches(summary),
                self.targets.excluded_word(summary), summary["status"])

    def _on_added(self, job: dict[str, Any]) -> None:
        if job["id"] in self._row_of:
            return
        summary = self._summary(job)
        row = self._position_for(summary)
        facts = self._facts(summary)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.insert(row, summary)
        for name, value in zip(_PARALLEL[1:], facts):
            getattr(self, name).insert(row, value)
        self._reindex(row)
        self.endInsertRows()

    def _on_changed(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        row = self._row_of.get(new["id"])
        if row is None:
            self._on_added(new)
            return
        summary = self._summary(new)
        self._rows[row] = summary
        (self._hay[row], self._dates[row], self._target[row], self._excluded[row],
         self._status[row]) = self._facts(summary)
        # The row stays where it is until the next sort: a job jumping away from under the
        # cursor after a status change is disorienting, and bulk changes stay O(rows changed).
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def _on_removed(self, job: dict[str, Any]) -> None:
        row = self._row_of.pop(job["id"], None)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        for name in _PARALLEL:
            del getattr(self, name)[row]
        self._reindex(row)
        self.endRemoveRows()


class JobFilterProxy(QAbstractProxyModel):
    """The rows of a :class:`JobTableModel` that pass the filters (status, words, a due filter,
    "matches my targets"), in the source's order.

    A filter change computes the new row list in one pass and resets (views keep their selection
    through :class:`~peregrine_desktop.ui.pipeline.view.PipelineView`); single-row changes in
    the source insert, remove or repaint just that row.  Sorting is delegated to the source."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._status: str | None = None
        self._words: list[str] = []
        self._due: str | None = None
        self._targets_only = False
        self._rows: list[int] = []
        self._saved: list[tuple[QPersistentModelIndex, int, int]] = []

    # -- the filters --------------------------------------------------------------------------------
    @property
    def status(self) -> str | None:
        return self._status

    @property
    def text(self) -> str:
        return " ".join(self._words)

    @property
    def due(self) -> str | None:
        return self._due

    @property
    def targets_only(self) -> bool:
        return self._targets_only

    def set_status(self, status: str | None) -> None:
        if status != self._status:
            self._status = status
            self._refilter()

    def set_text(self, text: str) -> None:
        words = text.casefold().split()
        if words != self._words:
            self._words = words
            self._refilter()

    def set_due(self, due: str | None) -> None:
        if due != self._due:
            self._due = due
            self._refilter()

    def set_targets_only(self, on: bool) -> None:
        if on != self._targets_only:
            self._targets_only = on
            self._refilter()

    def is_filtered(self) -> bool:
        return (self._status is not None or bool(self._words) or self._due is not None
                or self._targets_only)

    def refilter(self) -> None:
        """Apply the filters again (the targets or today changed)."""
        self._refilter()

    def _accepts(self, source_row: int) -> bool:
        return self.sourceModel().accepts(source_row, self._status, self._words, self._due,
                                          self._targets_only)

    def _compute(self) -> list[int]:
        source: JobTableModel | None = self.sourceModel()
        if source is None:
            return []
        return source.accepted_rows(self._status, self._words, self._due, self._targets_only)

    def _refilter(self) -> None:
        self.beginResetModel()
        self._rows = self._compute()
        self.endResetModel()

    # -- wiring to the source -----------------------------------------------------------------------
    def setSourceModel(self, model: JobTableModel) -> None:  # noqa: N802 - Qt override
        self.beginResetModel()
        super().setSourceModel(model)
        self._source = model
        model.modelAboutToBeReset.connect(self.beginResetModel)
        model.modelReset.connect(self._source_reset)
        model.layoutAboutToBeChanged.connect(self._source_layout_about)
        model.layoutChanged.connect(self._source_layout)
        model.rowsInserted.connect(self._source_inserted)
        model.rowsAboutToBeRemoved.connect(self._source_about_to_remove)
        model.rowsRemoved.connect(self._source_removed)
        model.dataChanged.connect(self._source_data_changed)
        self._rows = self._compute()
        self.endResetModel()

    def _source_reset(self) -> None:
        self._rows = self._compute()
        self.endResetModel()

    def _source_layout_about(self, *_args: Any) -> None:
        self.layoutAboutToBeChanged.emit()
        source = self.sourceModel()
        self._saved = [(QPersistentModelIndex(p), source.job_at(self._rows[p.row()])["id"],
                        p.column()) for p in self.persistentIndexList()]

    def _source_layout(self, *_args: Any) -> None:
        source = self.sourceModel()
        self._rows = self._compute()
        position = {row: at for at, row in enumerate(self._rows)}
        old, new = [], []
        for persistent, job_id, column in self._saved:
            row = position.get(source.row_of(job_id))
            old.append(QModelIndex(persistent))
            new.append(self.index(row, column) if row is not None else QModelIndex())
        self._saved = []
        if old:
            self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    def _source_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        count = last - first + 1
        self._rows = [r + count if r >= first else r for r in self._rows]
        for source_row in range(first, last + 1):
            if self._accepts(source_row):
                at = bisect_left(self._rows, source_row)
                self.beginInsertRows(QModelIndex(), at, at)
                self._rows.insert(at, source_row)
                self.endInsertRows()

    def _source_about_to_remove(self, parent: QModelIndex, first: int, last: int) -> None:
        low, high = bisect_left(self._rows, first), bisect_left(self._rows, last + 1)
        if high > low:
            self.beginRemoveRows(QModelIndex(), low, high - 1)
            del self._rows[low:high]
            self.endRemoveRows()

    def _source_removed(self, parent: QModelIndex, first: int, last: int) -> None:
        count = last - first + 1
        self._rows = [r - count if r > last else r for r in self._rows]

    def _source_data_changed(self, top_left: QModelIndex, bottom_right: QModelIndex,
                             roles: Sequence[int] = ()) -> None:
        if bottom_right.row() - top_left.row() > 50:     # a repaint of everything
            self._refilter()
            return
        columns = self.columnCount() - 1
        for source_row in range(top_left.row(), bottom_right.row() + 1):
            at = bisect_left(self._rows, source_row)
            present = at < len(self._rows) and self._rows[at] == source_row
            wanted = self._accepts(source_row)
            if present and wanted:
                self.dataChanged.emit(self.index(at, 0), self.index(at, columns))
            elif present:
                self.beginRemoveRows(QModelIndex(), at, at)
                del self._rows[at]
                self.endRemoveRows()
            elif wanted:
                self.beginInsertRows(QModelIndex(), at, at)
                self._rows.insert(at, source_row)
                self.endInsertRows()

    # -- the model interface ------------------------------------------------------------------------
    def index(self, row: int, column: int,
              parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> QModelIndex:
        if parent.isValid() or not (0 <= row < len(self._rows)) \
                or not (0 <= column < len(COLUMNS)):
            return QModelIndex()
        return self.createIndex(row, column)

    def parent(self, child: QModelIndex | QPersistentModelIndex = QModelIndex()) -> QModelIndex:
        return QModelIndex()

    def sibling(self, row: int, column: int,
                index: QModelIndex | QPersistentModelIndex) -> QModelIndex:
        return self.index(row, column)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def hasChildren(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:
        return not parent.isValid() and bool(self._rows)

    def mapToSource(self, proxy_index: QModelIndex | QPersistentModelIndex) -> QModelIndex:
        if not proxy_index.isValid() or proxy_index.row() >= len(self._rows):
            return QModelIndex()
        return self.sourceModel().index(self._rows[proxy_index.row()], proxy_index.column())

    def mapFromSource(self, source_index: QModelIndex | QPersistentModelIndex) -> QModelIndex:
        if not source_index.isValid():
            return QModelIndex()
        at = bisect_left(self._rows, source_index.row())
        if at < len(self._rows) and self._rows[at] == source_index.row():
            return self.index(at, source_index.column())
        return QModelIndex()

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = DISPLAY_ROLE) -> Any:
        if role not in _ROLES or not index.isValid():    # most roles a view asks for: unused
            return None
        return self._source.data_at(self._rows[index.row()], index.column(), role)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = DISPLAY_ROLE) -> Any:
        return self.sourceModel().headerData(section, orientation, role)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        return _row_flags() if index.isValid() else Qt.ItemFlag.NoItemFlags

    def mimeTypes(self) -> list[str]:
        return [JOB_IDS_MIME]

    def sort(self, column: int, order: Qt.SortOrder | None = None) -> None:
        self.sourceModel().sort(column, order)

    # -- for the views ------------------------------------------------------------------------------
    def source_rows(self) -> list[int]:
        """The source rows shown, in order (the board splits these by stage)."""
        return self._rows

    def job_id(self, index: QModelIndex) -> int:
        return self.data(index, JobIdRole)

    def visible_ids(self) -> list[int]:
        source: JobTableModel = self.sourceModel()
        return [source.job_at(row)["id"] for row in self._rows]
