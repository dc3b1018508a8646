"""SyncPanel: "Sync now" for every connected job tracker, with progress, cancel and a summary.

Each tracker syncs both ways on the worker pool (one after another, see ``_start_next``) with its
own progress bar and Cancel button.  The summary then lists per tracker what was created, updated
and what failed (with the reason), what was taken in from the tracker, and what waits for the
user, each with its buttons: conflicts (Keep mine / Take theirs), rows added there (Import),
another computer's jobs (These are my jobs / Keep separate), records deleted there (Delete here
too / Push again) and records of jobs deleted here (Delete there too / Keep them there).
"Preview changes" runs the same comparison without writing anything.  The stages that sync, the
automatic mode (a debounced sync of the jobs just edited, and a periodic pull) and what happens
to rows added or deleted on one side are chosen here and kept in ``sync.yaml``.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFrame,
                               QGridLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                               QProgressBar, QPushButton, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

import integrations
from peregrine_sdk.base import IntegrationBase
from peregrine_sdk.capabilities import JobSync, capabilities_of
from peregrine_desktop.settings import paths
from peregrine_desktop.settings.configfiles import ConfigFileError
from peregrine_desktop.jobs import statuses as pipeline
from peregrine_desktop.jobs.store import JobStore
from peregrine_sdk.job_columns import FIELD_LABELS
from peregrine_desktop.sync import choices
from peregrine_desktop.sync.report import SyncReport
from peregrine_desktop.sync.run import run_sync, tracker_status
from peregrine_desktop.sync.settings import PULL_CHOICES, SyncSettings
from peregrine_desktop.sync.state import SyncState
from peregrine_desktop.settings.tiers import can_use, locked_reason, tier_allows
from peregrine_desktop.workers import TaskRunner
from peregrine_desktop.ui.plain_text import bold_heading, tooltip
from peregrine_desktop.ui import colours
from peregrine_desktop.ui.colours import text_style

log = logging.getLogger(__name__)

JobsLoader = Callable[[], list[dict]]
MUTED = "color: palette(placeholder-text);"
ERROR = text_style(colours.PROBLEM)
WARNING = "color: #a15c00;"


#: One action of a summary row: the button's text and what it does.
Action = tuple[str, Callable[[], None]]
Entry = tuple[str, str, list[Action]]


def quoted(form: str, limit: int = 60) -> str:
    """A value in a summary line: quoted, shortened, "empty" for nothing."""
    text = " ".join(form.split())
    if not text:
        return "empty"
    return f"“{text if len(text) <= limit else text[:limit - 1] + '…'}”"


class LineWhenSet(QLabel):
    """A label that takes no room until it has something to say (the summary's first line)."""

    def setText(self, text: str) -> None:  # noqa: N802 - Qt override
        super().setText(text)
        self.setVisible(bool(text))


class TrackerRow(QFrame):
    """One tracker: name, last-synced line, progress bar and Cancel while it runs."""

    #: The bar repaints at most this often (about 30 times a second).  QProgressBar.setValue
    #: paints at once, and an unchanged re-sync reports its 100 percent steps within a
    #: millisecond: painting each one held the event loop for ~30 ms.
    PAINT_INTERVAL_MS = 33

    def __init__(self, cls: type[IntegrationBase], locked: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.cls, self.name = cls, cls.name
        self.setObjectName("trackerRow")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName(f"{cls.label} sync")
        grid = QGridLayout(self)
        grid.setContentsMargins(12, 8, 12, 8)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(4)
        self.title = QLabel(bold_heading(cls.label), self)
        grid.addWidget(self.title, 0, 0)
        self.status = QLabel(locked or "Never synced", self)
        self.status.setObjectName("lastSynced")
        self.status.setTextFormat(Qt.TextFormat.PlainText)   # may quote a service's message
        self.status.setWordWrap(True)
        self.status.setStyleSheet(MUTED)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid.addWidget(self.status, 1, 0, 1, 3)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName(f"{cls.label} progress")
        self.progress.setTextVisible(True)
        self.progress.setFormat("%v of %m jobs")
        self.progress.setMinimumWidth(180)
        self.progress.hide()
        grid.addWidget(self.progress, 0, 1)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setAccessibleName(f"Cancel {cls.label} sync")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.hide()
        grid.addWidget(self.cancel_button, 0, 2)
        grid.setColumnStretch(0, 1)
        self.locked = bool(locked)
        self.setEnabled(not self.locked)
        self._pending: tuple[int, int] | None = None
        self._paint_timer = QTimer(self)
        self._paint_timer.setSingleShot(True)
        self._paint_timer.setInterval(self.PAINT_INTERVAL_MS)
        self._paint_timer.timeout.connect(self._show_pending)

    def start(self) -> None:
        self._pending = None
        self._paint_timer.stop()
        self.progress.setRange(0, 0)     # busy until the first count arrives
        self.progress.show()
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel")
        self.cancel_button.show()
        self.status.setText("Syncing…")

    def advance(self, done: int, total: int) -> None:
        """Show ``done`` of ``total`` now, or with the next paint if one happened just now."""
        self._pending = (done, total)
        if not self._paint_timer.isActive():
            self._show_pending()

    def _show_pending(self) -> None:
        if self._pending is None:
            return
        done, total = self._pending
        self._pending = None
        if self.progress.minimum() != 0 or self.progress.maximum() != max(1, total):
            self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self._paint_timer.start()

    def cancelling(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")

    def finish(self, text: str, stopped: bool, some_failed: bool) -> None:
        self._pending = None
        self._paint_timer.stop()
        self.progress.hide()
        self.cancel_button.hide()
        self.status.setText(text)
        self.status.setStyleSheet(ERROR if stopped else WARNING if some_failed else MUTED)


class SyncPanel(QWidget):
    """The sync controls; put it in the main window or open it as :class:`SyncDialog`."""

    #: Groups of up to this many jobs open by themselves (failures; every group of a preview).
    EXPANDED_LIMIT = 50

    sync_started = Signal(bool)          # dry run?
    sync_finished = Signal(object)       # list[SyncReport]

    def __init__(self, store: JobStore, config_dir: Path, tier: str, *,
                 load_jobs: JobsLoader | None = None, repository: Any = None,
                 registry: Mapping[str, type[IntegrationBase]] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.config_dir, self.tier = store, Path(config_dir), tier
        self.repository = repository
        self.load_jobs: JobsLoader = load_jobs or (
            lambda: repository.list_jobs(with_history=False))
        self.registry = registry if registry is not None else integrations.REGISTRY
        self.settings = SyncSettings.load(self.config_dir)
        self.state = SyncState(store)
        self.runner = TaskRunner(self)
        self._announcing = False
        self._choices = 0
        self._acting: QTreeWidgetItem | None = None
        self.rows: dict[str, TrackerRow] = {}
        self.reports: dict[str, SyncReport] = {}
        self._cancels: dict[str, threading.Event] = {}
        self._dry_run = False
        self._full = True
        self._edited: set[int] = set()
        self._auto_pending = False
        self._group_entries: dict[int, Callable[[], list[tuple[str, str]]]] = {}
        self._queue: list[tuple[TrackerRow, list[dict], bool]] = []
        self.auto_timer = QTimer(self)
        self.auto_timer.setSingleShot(True)
        self.auto_timer.timeout.connect(self._auto_sync)
        #: While automatic sync is on, the trackers are asked for their changes this often.
        self.pull_timer = QTimer(self)
        self.pull_timer.timeout.connect(self._periodic_pull)
        self._build()
        self._arm_pull_timer()
        if repository is not None:
            repository.job_added.connect(lambda job: self._on_edited(job))
            repository.job_changed.connect(lambda new, old: self._on_edited(new, old))
            repository.job_removed.connect(self.state.job_deleted)

    # -- construction -----------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(10)

        head = QHBoxLayout()
        title = QLabel("<h3 style='margin:0'>Sync to your trackers</h3>", self)
        head.addWidget(title, 1)
        self.preview_button = QPushButton("&Preview changes", self)
        self.preview_button.setToolTip("List what a sync would create or update, writing nothing")
        self.preview_button.setAutoDefault(False)
        self.preview_button.clicked.connect(lambda: self.start_sync(dry_run=True))
        head.addWidget(self.preview_button)
        self.sync_button = QPushButton("&Sync now", self)
        self.sync_button.setDefault(True)
        self.sync_button.clicked.connect(lambda: self.start_sync(dry_run=False))
        head.addWidget(self.sync_button)
        layout.addLayout(head)

        self.rows_box = QVBoxLayout()
        self.rows_box.setSpacing(6)
        layout.addLayout(self.rows_box)
        self.empty = QLabel("No job tracker is connected. Connect Notion, Airtable or Google "
                            "Sheets in Settings → Integrations, then sync here.", self)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet(MUTED)
        layout.addWidget(self.empty)

        options = QGroupBox("What syncs", self)
        grid = QGridLayout(options)
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(4)
        grid.addWidget(QLabel("Jobs in these stages:", options), 0, 0, 1, 4)
        self.status_boxes: dict[str, QCheckBox] = {}
        for index, status in enumerate(pipeline.STATUSES):
            box = QCheckBox(pipeline.label(status), options)
            box.setChecked(status in self.settings.statuses)
            box.toggled.connect(self._save_settings)
            self.status_boxes[status] = box
            grid.addWidget(box, 1 + index // 4, index % 4)
        note = QLabel("Jobs synced before are kept up to date in any stage. Edits made in a "
                      "tracker come back here; a value changed on both sides waits for you to "
                      "choose.", options)
        note.setWordWrap(True)
        note.setStyleSheet(MUTED)
        grid.addWidget(note, 3, 0, 1, 4)
        self.auto_box = QCheckBox("Sync &automatically a few seconds after I edit a job", options)
        self.auto_box.setChecked(self.settings.auto_sync)
        self.auto_box.toggled.connect(self._save_settings)
        grid.addWidget(self.auto_box, 4, 0, 1, 2)
        self.pull_combo = self._combo(options, [
            (m, "never" if m == 0 else f"every {m} minutes") for m in PULL_CHOICES],
            self.settings.pull_minutes)
        self.pull_combo.setAccessibleName("Check the trackers for changes")
        self.pull_combo.setToolTip("While automatic sync is on, how often each tracker is asked "
                                   "what changed there (one request when nothing did)")
        pull_label = QLabel("and check for changes", options)
        pull_label.setBuddy(self.pull_combo)
        grid.addWidget(pull_label, 4, 2)
        grid.addWidget(self.pull_combo, 4, 3)
        self.rows_combo = self._combo(options, [("ask", "list them for me to import"),
                                                ("import", "import them as jobs")],
                                      self.settings.remote_rows)
        rows_label = QLabel("New &rows added in a tracker:", options)
        rows_label.setBuddy(self.rows_combo)
        grid.addWidget(rows_label, 5, 0, 1, 2)
        grid.addWidget(self.rows_combo, 5, 2, 1, 2)
        self.deletes_combo = self._combo(options, [
            ("ask", "ask me what to do"), ("delete", "delete its tracker records too"),
            ("keep", "keep its tracker records")], self.settings.local_deletes)
        deletes_label = QLabel("When I &delete a job here:", options)
        deletes_label.setBuddy(self.deletes_combo)
        grid.addWidget(deletes_label, 6, 0, 1, 2)
        grid.addWidget(self.deletes_combo, 6, 2, 1, 2)
        layout.addWidget(options)

        self.summary_title = LineWhenSet(self)
        self.summary_title.setObjectName("summaryTitle")
        self.summary_title.setWordWrap(True)
        layout.addWidget(self.summary_title)
        self.summary_title.setText("")
        self.summary = QTreeWidget(self)
        self.summary.setObjectName("syncSummary")
        self.summary.setColumnCount(3)
        self.summary.setHeaderLabels(["Job", "Result", ""])
        self.summary.setRootIsDecorated(True)
        self.summary.setUniformRowHeights(False)      # rows with buttons are taller
        self.summary.setAlternatingRowColors(True)
        self.summary.header().setStretchLastSection(False)
        self.summary.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.summary.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.summary.header().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.summary.setColumnWidth(0, 300)
        self.summary.itemExpanded.connect(self._fill_group)
        self.summary.hide()
        layout.addWidget(self.summary, 1)
        # Until a summary is shown, the room left over stays below everything (with stretch 0
        # this spacer takes space only while the summary, stretch 1, is hidden): the tracker
        # rows keep their own height instead of being padded out.
        layout.addStretch(0)
        self._connect_combos()
        self.refresh()

    @staticmethod
    def _combo(parent: QWidget, items: list[tuple[Any, str]], current: Any) -> QComboBox:
        combo = QComboBox(parent)
        for value, text in items:
            combo.addItem(text, value)
        index = combo.findData(current)
        combo.setCurrentIndex(max(0, index))
        return combo

    def _connect_combos(self) -> None:
        for combo in (self.pull_combo, self.rows_combo, self.deletes_combo):
            combo.currentIndexChanged.connect(self._save_settings)

    def trackers(self) -> list[type[IntegrationBase]]:
        """Configured integrations that sync jobs, in label order."""
        found = []
        for cls in self.registry.values():
            if JobSync not in capabilities_of(cls):
                continue
            try:
                if cls.is_configured(self.config_dir):
                    found.append(cls)
            except OSError:
                continue
        return sorted(found, key=lambda c: c.label.lower())

    def locked_reason(self, cls: type[IntegrationBase]) -> str:
        if not tier_allows(self.tier, cls.tier):
            return f"{locked_reason(cls.tier)} — add a licence key in Settings → Plan."
        if not can_use(self.tier, f"{cls.name}_sync"):
            return "Syncing needs a higher plan; add a licence key in Settings → Plan."
        return ""

    def refresh(self) -> None:
        """Rebuild the tracker rows (after a connection was added or removed, or a plan change)."""
        if self.is_running():
            return
        for row in self.rows.values():
            row.setParent(None)
            row.deleteLater()
        self.rows.clear()
        for cls in self.trackers():
            locked = self.locked_reason(cls)
            row = TrackerRow(cls, locked, self)
            if not locked:
                row.status.setText(tracker_status(self.store, cls.name).text)
            row.cancel_button.clicked.connect(lambda _c=False, n=cls.name: self.cancel(n))
            self.rows[cls.name] = row
            self.rows_box.addWidget(row)
        self.empty.setVisible(not self.rows)
        auto_allowed = can_use(self.tier, "auto_sync")
        self.auto_box.setEnabled(auto_allowed)
        self.auto_box.setToolTip("" if auto_allowed else
                                 "Automatic sync needs a Paid plan; add a licence key "
                                 "in Settings → Plan.")
        self._update_buttons()

    def set_tier(self, tier: str) -> None:
        self.tier = tier
        self.refresh()

    # -- settings ---------------------------------------------------------------------------------
    def chosen_statuses(self) -> list[str]:
        return [s for s, box in self.status_boxes.items() if box.isChecked()]

    def _save_settings(self) -> None:
        self.settings.statuses = self.chosen_statuses()
        self.settings.auto_sync = self.auto_box.isChecked()
        self.settings.pull_minutes = int(self.pull_combo.currentData())
        self.settings.remote_rows = str(self.rows_combo.currentData())
        self.settings.local_deletes = str(self.deletes_combo.currentData())
        self._arm_pull_timer()
        try:
            self.settings.save(self.config_dir)
        except OSError as exc:
            self.summary_title.setText(f"Your sync choices could not be saved ({exc.strerror}); "
                                       f"check that {self.config_dir} is writable.")
            self.summary_title.setStyleSheet(ERROR)

    # -- running ----------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return bool(self._queue) or self.runner.is_running("load") or any(
            self.runner.is_running(name) for name in self.rows)

    def _runnable(self) -> list[TrackerRow]:
        return [row for row in self.rows.values() if not row.locked]

    def _update_buttons(self) -> None:
        idle = not self.is_running() and bool(self._runnable())
        self.sync_button.setEnabled(idle)
        self.preview_button.setEnabled(idle)
        self.sync_button.setText("Syncing…" if self.is_running() else "&Sync now")

    def start_sync(self, dry_run: bool = False, only_ids: set[int] | None = None,
                   full: bool = True) -> bool:
        """Sync (or preview) every connected tracker.  The jobs are read on the pool (``load_jobs``
        must be thread-safe, as JobStore is), then each tracker starts; False if nothing to do.
        ``full``: list every record (finds records deleted there), as Sync now does; automatic
        syncs ask only for what changed since the last one."""
        if self.is_running() or not self._runnable():
            return False
        self._full = full
        self._dry_run = dry_run
        self.reports.clear()
        self.summary.clear()
        self.summary.hide()
        self.summary_title.setText("Comparing with your trackers…" if dry_run else "Syncing…")
        self.summary_title.setStyleSheet("")
        for row in self._runnable():
            row.start()
        self.runner.start(self.load_jobs, key="load",
                          on_success=lambda jobs: self._start_trackers(jobs, dry_run, only_ids),
                          on_failure=lambda exc: self._load_failed(exc))
        self._update_buttons()
        self.sync_started.emit(dry_run)
        return True

    def _load_failed(self, exc: BaseException) -> None:
        log.error("reading the jobs for a sync failed: %r", exc)
        for row in self._runnable():
            row.finish(tracker_status(self.store, row.name).text, False, False)
        self.summary_title.setText(f"Your jobs could not be read for the sync; {paths.see_the_log()}.")
        self.summary_title.setStyleSheet(ERROR)
        self._update_buttons()

    def _start_trackers(self, jobs: list[dict], dry_run: bool,
                        only_ids: set[int] | None) -> None:
        if only_ids is not None:
            jobs = [job for job in jobs if int(job["id"]) in only_ids]
        self._queue = [(row, jobs, dry_run) for row in self._runnable()]
        for row in self._runnable()[1:]:
            row.status.setText("Waiting…")
        self._start_next()

    def _start_next(self) -> None:
        """Start the next tracker in the queue.  Trackers sync one after another: against a fast
        server a sync is CPU-bound, and several at once would starve the UI thread of the GIL."""
        while self._queue:
            row, jobs, dry_run = self._queue.pop(0)
            try:
                config = row.cls.load_config(self.config_dir)
            except ConfigFileError as exc:
                self._finished(row.name, SyncReport(row.name, row.cls.label, dry_run=dry_run,
                                                    error=f"Its settings file is damaged: "
                                                          f"{exc.problem}"))
                return
            cancel = threading.Event()
            self._cancels[row.name] = cancel
            row.status.setText("Syncing…")
            self.runner.start(
                run_sync, row.cls, config, self.store, self.chosen_statuses(), jobs, dry_run,
                cancel, options=self.settings.options(full=self._full), key=row.name,
                on_success=lambda report, n=row.name: self._finished(n, report),
                on_failure=lambda exc, n=row.name, label=row.cls.label: self._finished(
                    n, SyncReport(n, label, dry_run=dry_run,
                                  error=f"The sync stopped unexpectedly ({type(exc).__name__}).")),
                on_progress=lambda done, total, r=row: r.advance(done, total))
            break
        self._update_buttons()

    def cancel(self, name: str) -> None:
        waiting = next((q for q in self._queue if q[0].name == name), None)
        if waiting is not None:           # not started yet: it simply does not run
            self._queue.remove(waiting)
            report = SyncReport(name, waiting[0].cls.label, dry_run=waiting[2], cancelled=True,
                                not_synced=len(waiting[1]))
            self._finished(name, report)
            return
        event = self._cancels.get(name)
        if event is not None and self.runner.is_running(name):
            event.set()
            self.rows[name].cancelling()

    def cancel_all(self) -> None:
        for name in [q[0].name for q in self._queue] + list(self._cancels):
            self.cancel(name)

    def _finished(self, name: str, report: SyncReport) -> None:
        self._cancels.pop(name, None)
        self.reports[name] = report
        self._announce(report)
        row = self.rows.get(name)
        if row is not None:
            if report.dry_run:
                row.finish(f"{tracker_status(self.store, name).text}\n"
                           f"Preview: {report.summary_line()}", bool(report.error),
                           bool(report.failed))
            else:
                text = tracker_status(self.store, name).text
                row.finish(text, bool(report.error), bool(report.failed))
        self._start_next()
        if not self.is_running():
            self._show_summary()
            self.sync_finished.emit(list(self.reports.values()))
            if self._auto_pending:
                self._auto_pending = False
                self.auto_timer.start(0)

    # -- the summary --------------------------------------------------------------------------------
    def _show_summary(self) -> None:
        reports = sorted(self.reports.values(), key=lambda r: r.label.lower())
        dry = any(r.dry_run for r in reports)
        problems = sum(len(r.failed) for r in reports)
        waiting = sum(len(r.conflicts) + len(r.remote_new) + len(r.remote_gone)
                      + len(r.deleted_here) + bool(r.foreign) for r in reports)
        if dry:
            changes = sum(r.writes + r.taken_in for r in reports)
            self.summary_title.setText(
                "<b>Preview</b> — nothing was written. " +
                (f"A sync would change {changes} record{'s' if changes != 1 else ''} or job"
                 f"{'s' if changes != 1 else ''}." if changes else "Everything is up to date."))
        else:
            text = "<b>Sync finished</b>"
            if problems:
                text += (f" — {problems} job{'s' if problems != 1 else ''} could not be synced; "
                         f"the reasons are below.")
            if waiting:
                text += (" Some things need your choice below; they are carried out at the "
                         "next sync.")
            self.summary_title.setText(text + ("" if problems or waiting else "."))
        self.summary_title.setStyleSheet("")
        self.summary.clear()
        self._group_entries: dict[int, Callable[[], list[Entry]]] = {}
        for report in reports:
            top = QTreeWidgetItem([report.label, report.summary_line()])
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            if report.error:
                top.setText(1, f"{report.summary_line()} — {report.error}")
                top.setForeground(1, Qt.GlobalColor.darkRed)
            self.summary.addTopLevelItem(top)
            for heading, count, entries, opened in self._groups(report):
                if not count:
                    continue
                group = QTreeWidgetItem([f"{heading} ({count})", ""])
                group.setChildIndicatorPolicy(
                    QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
                self._group_entries[len(self._group_entries)] = entries   # filled when opened
                group.setData(0, Qt.ItemDataRole.UserRole, len(self._group_entries) - 1)
                top.addChild(group)
                if count <= self.EXPANDED_LIMIT and opened:
                    group.setExpanded(True)
            top.setExpanded(True)
        self.summary.setVisible(bool(reports))

    def _groups(self, report: SyncReport) -> list[tuple[str, int, Callable[[], list[Entry]],
                                                          bool]]:
        """(heading, count, entries, open at once) of one tracker's summary."""
        label, dry = report.label, report.dry_run
        verbs = ("Would create", "Would update") if dry else ("Created", "Updated")
        taken = "Would take from" if dry else "Taken from"
        name = report.integration

        def failed() -> list[Entry]:
            return [(f.title, f"Failed: {f.reason}", []) for f in report.failed]

        def pulled() -> list[Entry]:
            return [(report.title_of(c.job_id),
                     f"{FIELD_LABELS.get(c.field, c.field)}: {quoted(c.before)} → "
                     f"{quoted(c.after)}", []) for c in report.pulled] + \
                [(report.title_of(i), f"New job from {label}", []) for i in report.imported]

        def conflicts() -> list[Entry]:
            return [(report.title_of(c.job_id),
                     f"{FIELD_LABELS.get(c.field, c.field)} — here {quoted(c.local)}, in "
                     f"{label} {quoted(c.remote)}",
                     [] if dry else [
                         ("Keep mine", self._choice(lambda c=c: choices.resolve_conflict(
                             self.state, name, c.job_id, c.field, choices.MINE),
                             f"Keeping yours; {label} gets it at the next sync")),
                         ("Take theirs", self._choice(lambda c=c: choices.resolve_conflict(
                             self.state, name, c.job_id, c.field, choices.THEIRS),
                             f"Taken from {label}", announce=True))])
                    for c in report.conflicts]

        def added() -> list[Entry]:
            return [(entry.title, f"Added in {label}; not in Peregrine yet",
                     [] if dry else [("Import", self._choice(
                         lambda e=entry: choices.import_rows(self.state, name, [e.remote_id]),
                         "Imported at the next sync"))])
                    for entry in report.remote_new]

        def foreign() -> list[Entry]:
            count = len(report.foreign)
            return [(f"{count} job{'s' if count != 1 else ''} from another computer",
                     f"{label} holds jobs that Peregrine on another computer (or an earlier "
                     f"install) synced there. Are they yours?",
                     [] if dry else [
                         ("These are my jobs", self._choice(
                             lambda: choices.join(self.state, name, True),
                             "Joined: they come in with the next sync, and both computers "
                             "stay in step")),
                         ("Keep separate", self._choice(
                             lambda: choices.join(self.state, name, False),
                             "Kept apart; not asked again"))])]

        def gone() -> list[Entry]:
            return [(report.title_of(job_id), f"Deleted in {label}; still here",
                     [] if dry else [
                         ("Delete here too", lambda job_id=job_id: self._delete_here(
                             name, job_id)),
                         ("Push again", self._choice(
                             lambda job_id=job_id: choices.push_again(self.state, name, job_id),
                             f"Created in {label} again at the next sync"))])
                    for job_id in report.remote_gone]

        def deleted_here() -> list[Entry]:
            titles = ", ".join(t.title for t in report.deleted_here[:5])
            more = len(report.deleted_here) - 5
            return [(titles + (f" and {more} more" if more > 0 else ""),
                     f"Deleted here; their records are still in {label}",
                     [] if dry else [
                         ("Delete there too", lambda: self._local_deletes("delete")),
                         ("Keep them there", lambda: self._local_deletes("keep"))])]

        def entries(ids: list[int], verb: str) -> Callable[[], list[Entry]]:
            return lambda: [(report.title_of(i), verb, []) for i in ids]

        return [
            ("Failed", len(report.failed), failed, True),
            ("Conflicts: changed on both sides", len(report.conflicts), conflicts, True),
            (f"{taken} {label}", len(report.pulled) + len(report.imported), pulled, True),
            (f"Added in {label}", len(report.remote_new), added, True),
            ("From another computer", len(report.foreign), foreign, True),
            (f"Deleted in {label}", len(report.remote_gone), gone, True),
            ("Deleted here", len(report.deleted_here), deleted_here, True),
            ("Notes", len(report.notes), lambda: [("", n, []) for n in report.notes], True),
            (verbs[0], len(report.created), entries(report.created, verbs[0]), dry),
            (verbs[1], len(report.updated), entries(report.updated, verbs[1]), dry)]

    def _fill_group(self, group: QTreeWidgetItem) -> None:
        """Create a group's job rows when it is first opened: thousands of rows would stall the
        window if built up front."""
        make_entries = self._group_entries.get(group.data(0, Qt.ItemDataRole.UserRole))
        if make_entries is None or group.childCount():
            return
        failed = group.text(0).startswith("Failed")
        children = []
        actions: list[tuple[QTreeWidgetItem, list[Action]]] = []
        for title, result, buttons in make_entries():
            child = QTreeWidgetItem([title, result])
            child.setToolTip(1, tooltip(result))
            if failed:
                child.setForeground(1, Qt.GlobalColor.darkRed)
            children.append(child)
            if buttons:
                actions.append((child, buttons))
        group.addChildren(children)
        for child, buttons in actions:
            self.summary.setItemWidget(child, 2, self._buttons(child, buttons))

    def _buttons(self, item: QTreeWidgetItem, actions: list[Action]) -> QWidget:
        box = QWidget(self.summary)
        row = QHBoxLayout(box)
        row.setContentsMargins(2, 1, 2, 1)
        row.setSpacing(4)
        for text, act in actions:
            button = QPushButton(text, box)
            button.setAutoDefault(False)
            button.setAccessibleName(f"{text}: {item.text(0)}")
            button.clicked.connect(lambda _c=False, act=act, item=item: self._act(item, act))
            row.addWidget(button)
        return box

    def _act(self, item: QTreeWidgetItem, act: Callable[[], None]) -> None:
        widget = self.summary.itemWidget(item, 2)
        if widget is not None:
            widget.setEnabled(False)          # one answer per row
        self._acting = item
        act()

    def _choice(self, fn: Callable[[], Any], done: str,
                announce: bool = False) -> Callable[[], None]:
        """An action that records a choice in the sync state (on the pool), then says so in
        its row; a job changed by it is announced to the pipeline."""
        def run() -> None:
            item = self._acting
            self._choices += 1
            self.runner.start(fn, key=f"choice-{self._choices}",
                              on_success=lambda job, item=item: self._chosen(item, done,
                                                                            job if announce
                                                                            else None),
                              on_failure=lambda exc, item=item: self._choice_failed(item, exc))
        return run

    def _chosen(self, item: QTreeWidgetItem, done: str,
                job: tuple[dict, dict] | None = None) -> None:
        self.summary.removeItemWidget(item, 2)
        item.setText(1, f"{item.text(1)} — {done}")
        item.setToolTip(1, tooltip(item.text(1)))
        if isinstance(job, tuple) and self.repository is not None:
            self._announcing = True
            try:
                self.repository.changed_elsewhere(*job)
            finally:
                self._announcing = False

    def _choice_failed(self, item: QTreeWidgetItem, exc: BaseException) -> None:
        log.error("a sync choice could not be saved: %r", exc)
        widget = self.summary.itemWidget(item, 2)
        if widget is not None:
            widget.setEnabled(True)
        item.setText(1, f"{item.text(1)} — could not be saved ({type(exc).__name__}); "
                        f"try again")

    def _delete_here(self, name: str, job_id: int) -> None:
        """"Delete here too": the job goes from the pipeline (through the repository, so every
        view and the other trackers hear of it)."""
        choices.forget_deleted_record(self.state, name, job_id)
        if self.repository is not None:
            self.repository.delete_job(job_id)
        else:
            self.state.job_deleted(self.store.delete_job(job_id))
        self._chosen(self._acting, "Deleted here")

    def _local_deletes(self, choice: str) -> None:
        """Asked once: the answer becomes the setting (changeable under "What syncs")."""
        self.deletes_combo.setCurrentIndex(self.deletes_combo.findData(choice))
        self._choice(lambda: choices.deleted_jobs(self.state, None, choice == "delete"),
                     "Deleted there at the next sync" if choice == "delete"
                     else "Kept there")()

    def summary_lines(self) -> list[str]:
        """The summary as visible text, row by row (what a person reads)."""
        lines: list[str] = []

        def walk(item: QTreeWidgetItem, depth: int) -> None:
            lines.append("  " * depth + f"{item.text(0)}: {item.text(1)}".rstrip(": "))
            for j in range(item.childCount()):
                walk(item.child(j), depth + 1)

        for i in range(self.summary.topLevelItemCount()):
            walk(self.summary.topLevelItem(i), 0)
        return lines

    def _announce(self, report: SyncReport) -> None:
        """Jobs a pull changed or added are announced like any edit (the pipeline redraws,
        calendars follow an interview moved in the tracker) — without syncing them back."""
        if self.repository is None or report.dry_run:
            return
        self._announcing = True
        try:
            for new, old in report.changed_jobs:
                self.repository.changed_elsewhere(new, old)
            for job in report.added_jobs:
                self.repository.changed_elsewhere(job, None)
        finally:
            self._announcing = False

    # -- automatic mode -----------------------------------------------------------------------------
    def _arm_pull_timer(self) -> None:
        minutes = self.settings.pull_minutes
        if minutes and self.settings.auto_sync:
            self.pull_timer.start(minutes * 60_000)
        else:
            self.pull_timer.stop()

    def _periodic_pull(self) -> None:
        """Every few minutes while automatic sync is on: ask the trackers what changed."""
        if not (self.auto_box.isChecked() and self.auto_box.isEnabled()) or self.is_running():
            return
        self.start_sync(dry_run=False, full=False)

    def _on_edited(self, job: dict, old: dict | None = None) -> None:
        if self._announcing:
            return                     # taken in from a tracker: nothing to send back
        if not (self.auto_box.isChecked() and self.auto_box.isEnabled()) \
                or not isinstance(job, dict) or "id" not in job:
            return
        if old is not None and {k: v for k, v in job.items() if k != "updated_at"} == \
                {k: v for k, v in old.items() if k != "updated_at"}:
            return
        self._edited.add(int(job["id"]))
        self.auto_timer.start(int(self.settings.auto_delay * 1000))   # restarts: debounced

    def _auto_sync(self) -> None:
        if not self._edited or not self.auto_box.isChecked():
            return
        if self.is_running():
            self._auto_pending = True
            return
        ids, self._edited = self._edited, set()
        self.start_sync(dry_run=False, only_ids=ids, full=False)


class SyncDialog(QDialog):
    """The panel as a window of its own (Sync → Sync now…)."""

    def __init__(self, store: JobStore, config_dir: Path, tier: str, *,
                 load_jobs: JobsLoader | None = None, repository: Any = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sync")
        self.resize(760, 640)
        layout = QVBoxLayout(self)
        self.panel = SyncPanel(store, config_dir, tier, load_jobs=load_jobs,
                               repository=repository, parent=self)
        layout.addWidget(self.panel, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def reject(self) -> None:
        self.panel.cancel_all()     # closing stops the syncs at the next job
        super().reject()
