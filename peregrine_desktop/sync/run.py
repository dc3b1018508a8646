"""One tracker's whole sync as one call for a worker thread, and what a tracker's card shows."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from peregrine_sdk.base import IntegrationBase
from peregrine_desktop.settings import paths
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.sync.engine import SyncEngine
from peregrine_desktop.sync.report import SyncReport
from peregrine_desktop.sync.settings import SyncOptions
from peregrine_desktop.sync.state import LastRun, SyncState

log = logging.getLogger(__name__)


def run_sync(cls: type[IntegrationBase], config: dict, store: JobStore, statuses: list[str],
             jobs: list[dict], dry_run: bool, cancel: threading.Event,
             progress: Callable[[int, int], None] | None = None,
             options: SyncOptions | None = None) -> SyncReport:
    """Connect, then sync (or preview) one tracker both ways.  Never raises."""
    state = SyncState(store)
    integration = cls()
    report = SyncReport(cls.name, cls.label, dry_run=dry_run)
    try:
        if not integration.connect(dict(config)):
            report.error = ("Some required settings are missing; complete them in Settings → "
                            "Integrations.")
            report.finished_at = datetime.now()
            return report
        return SyncEngine(state, statuses, options=options).run(
            integration, jobs, dry_run=dry_run, progress=progress, cancel=cancel)
    except Exception as exc:  # noqa: BLE001 - a plugin's bug becomes a line in the summary
        log.exception("%s: sync failed", cls.name)
        report.error = (f"The sync stopped unexpectedly ({type(exc).__name__}); "
                        f"{paths.see_the_log()}.")
        report.finished_at = datetime.now()
        return report


@dataclass(frozen=True)
class TrackerStatus:
    """What a tracker's card shows about its sync: when it last ran, what it did, and what
    waits for the user (conflicts, rows added there, records deleted there)."""

    last_run: LastRun | None
    conflicts: int
    new_rows: int
    deleted_there: int
    other_computer: int

    @property
    def text(self) -> str:
        """One line, e.g. "Synced 14:02: 3 updated · 2 taken from Notion · 1 conflict"."""
        run = self.last_run
        if run is None:
            return "Never synced"
        when = run.finished_at
        stamp = f"{when:%H:%M}" if when.date() == datetime.now().date() else \
            f"{when:%d %b %H:%M}"
        parts = [f"{n} {word}" for n, word in ((run.created, "created"),
                                               (run.updated, "updated"),
                                               (run.pulled, "taken in"),
                                               (run.failed, "failed")) if n]
        waiting = [f"{n} {word}" for n, word in (
            (self.conflicts, "conflict" if self.conflicts == 1 else "conflicts"),
            (self.new_rows, "new there"), (self.deleted_there, "deleted there"),
            (self.other_computer, "from another computer")) if n]
        line = f"Synced {stamp}: " + (" · ".join(parts) if parts else "up to date")
        if run.cancelled:
            line += " (cancelled)"
        if run.error:
            line = f"Sync stopped {stamp}: {run.error}"
        if waiting:
            line += " — waiting for you: " + " · ".join(waiting)
        return line


def tracker_status(store: JobStore, name: str) -> TrackerStatus:
    """The card's read-only view of one tracker's sync (a few small queries, no network)."""
    state = SyncState(store)
    entries = state.remote_entries(name)
    return TrackerStatus(state.last_run(name), len(state.conflicts(name)),
                         sum(1 for e in entries if e.kind == "new"),
                         sum(1 for e in entries if e.kind == "gone"),
                         sum(1 for e in entries if e.kind == "foreign"))
