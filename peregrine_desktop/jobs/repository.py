"""JobRepository: the store as the UI sees it, and the one place pipeline events come from.

Every change made through it is announced after it is committed: ``job_added(job)``,
``job_changed(new, old)``, ``job_removed(job)``, and ``jobs_reset()`` after bulk changes (an import
of thousands of rows) when listeners should re-read.  Calendars, notifiers and the sync engine
subscribe here instead of polling.  Call it from the UI thread; bulk work goes to the pool through
:meth:`start_add_many`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal

from peregrine_desktop.jobs.store import SUMMARY_FIELDS, BulkReport, JobStore
from peregrine_desktop.workers import TaskRunner


class JobRepository(QObject):
    job_added = Signal(object)            # dict
    job_changed = Signal(object, object)  # new dict, old dict
    job_removed = Signal(object)          # dict, as it was
    jobs_reset = Signal()
    #: After a bulk insert (an import), with the new ids: what undoing the import removes.
    jobs_imported = Signal(object)        # list[int]

    def __init__(self, store: JobStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._runner = TaskRunner(self)

    # -- reading (no signals) ---------------------------------------------------------------------
    def get(self, job_id: int) -> dict[str, Any] | None:
        return self.store.get(job_id)

    def list_jobs(self, status: str | None = None, text: str | None = None,
                  with_history: bool = True) -> list[dict[str, Any]]:
        return self.store.list_jobs(status, text, with_history)

    def summaries(self, newest_first: bool = False,
                  fields: Sequence[str] = SUMMARY_FIELDS) -> list[dict[str, Any]]:
        return self.store.summaries(newest_first, fields)

    def summary_columns(self, fields: Sequence[str]) -> dict[int, tuple]:
        return self.store.summary_columns(fields)

    def counts_by_status(self) -> dict[str, int]:
        return self.store.counts_by_status()

    def history(self, job_id: int) -> list[dict[str, str]]:
        return self.store.history(job_id)

    def find_by_url(self, url: str) -> dict[str, Any] | None:
        return self.store.find_by_url(url)

    def allowed_statuses(self, job_id: int) -> list[str]:
        return self.store.allowed_statuses(job_id)

    # -- changing (announced) ---------------------------------------------------------------------
    def add_job(self, values: Mapping[str, Any]) -> dict[str, Any]:
        job = self.store.add_job(values)
        self.job_added.emit(job)
        return job

    def update_job(self, job_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        old = self.store.get(job_id)
        new = self.store.update_job(job_id, changes)
        if old is not None and new != old:
            self.job_changed.emit(new, old)
        return new

    def set_status(self, job_id: int, status: str) -> dict[str, Any]:
        return self.update_job(job_id, {"status": status})

    def set_status_many(self, ids: Sequence[int], status: str) -> list[tuple[int, str]]:
        """Move several jobs in one transaction; returns (id, reason) for each that could not."""
        changed, refused = self.store.set_status_many(ids, status)
        for new, old in changed:
            new["status_history"] = self.store.history(new["id"])
            self.job_changed.emit(new, old)
        return refused

    def delete_job(self, job_id: int) -> dict[str, Any]:
        return self.delete_many([job_id])[0]

    def delete_many(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        removed = self.store.delete_many(ids)
        for job in removed:
            self.job_removed.emit(job)
        return removed

    def changed_elsewhere(self, job: dict[str, Any], old: dict[str, Any] | None = None) -> None:
        """Announce a change already committed by someone else (a sync taking in a tracker's
        edit: ``old`` the job before; or a job it added: ``old`` None)."""
        if old is None:
            self.job_added.emit(job)
        elif job != old:
            self.job_changed.emit(job, old)

    def add_many(self, jobs: Sequence[Mapping[str, Any]]) -> BulkReport:
        report = self.store.add_many(jobs)
        if report.added:
            self.jobs_reset.emit()
            self.jobs_imported.emit(list(report.added_ids))
        return report

    def announce_import(self, ids: Sequence[int]) -> None:
        """Jobs were inserted straight into the store (an import on the worker pool): listeners
        re-read, and the import becomes one step to undo."""
        if ids:
            self.jobs_reset.emit()
            self.jobs_imported.emit(list(ids))

    def get_many(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        """Full jobs with their history, in the order of ``ids`` (missing ones left out)."""
        return self.store.get_many(ids, with_history=True)

    def restore_jobs(self, jobs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Put jobs back exactly as they were (undo): deleted ones return with their id, uid
        and history.  Announced like any change."""
        results = self.store.restore_jobs(jobs)
        for new, old in results:
            if old is None:
                self.job_added.emit(new)
            else:
                self.job_changed.emit(new, old)
        return [new for new, _old in results]

    def start_add_many(self, jobs: Sequence[Mapping[str, Any]], *,
                       on_finished: Callable[[BulkReport], None],
                       on_failed: Callable[[BaseException], None],
                       on_progress: Callable[[int, int], None] | None = None) -> None:
        """Insert ``jobs`` on the worker pool (one transaction); listeners hear ``jobs_reset``
        before ``on_finished(report)`` runs on the UI thread."""
        def finished(report: BulkReport) -> None:
            if report.added:
                self.jobs_reset.emit()
                self.jobs_imported.emit(list(report.added_ids))
            on_finished(report)

        self._runner.start(self.store.add_many, list(jobs), key=f"add_many-{id(jobs)}",
                           on_success=finished, on_failure=on_failed, on_progress=on_progress)
