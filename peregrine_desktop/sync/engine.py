"""SyncEngine: pushes the pipeline to one tracker without ever creating a duplicate.

For each job the engine compares a hash of the record the integration would write with the hash
of what it pushed last time (:class:`SyncState`).  Unchanged jobs cost no write.  Before creating,
it asks the integration which jobs already exist remotely (found by key), so a record the user
deleted is recreated, and a record written just before a crash — whose map entry never made it
to disk — is updated instead of created twice.  Jobs are never modified: syncing reads the
pipeline, it does not rewrite anyone's status.

Runs on a worker thread; ``progress(done, total)`` and ``cancel`` (a ``threading.Event``) connect
it to the UI.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import Any

from peregrine_sdk.capabilities import JobSync
from peregrine_sdk.errors import ErrorKind, IntegrationError
from peregrine_desktop.sync.report import SyncReport, job_title
from peregrine_desktop.sync.settings import DEFAULT_STATUSES
from peregrine_desktop.sync.state import ADOPTED, SyncedRecord, SyncState

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
#: Kinds that mean "the service is struggling", as opposed to "this job's values were refused".
TRANSIENT_KINDS = frozenset({ErrorKind.CANNOT_CONNECT, ErrorKind.TIMEOUT, ErrorKind.RATE_LIMITED})
#: Pause after each written job so the UI thread gets the GIL (0.5 s per 1,000 writes).
YIELD_SECONDS = 0.0005
#: Longest stretch of CPU-bound work (building and hashing records, comparing) between two such
#: pauses.  A thread waiting for the GIL otherwise gets it only after the 5 ms switch interval,
#: and the UI thread needs it several times per turn of its event loop.
BREATHE_SECONDS = 0.002
#: Fields of a job dict that say nothing about the job itself.
_BOOKKEEPING = ("updated_at", "status_history")


def digest(record: Any) -> str:
    """A stable hash of what is (or would be) written remotely."""
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def reason_for(exc: BaseException) -> str:
    """The sentence shown next to a failed job; never a traceback, never a secret."""
    if isinstance(exc, IntegrationError):
        return exc.hint
    return f"The integration failed ({type(exc).__name__}); see the log for details."


class SyncEngine:
    """Syncs jobs to integrations; one engine can serve several integrations in turn."""

    def __init__(self, state: SyncState, statuses: Collection[str] = DEFAULT_STATUSES, *,
                 failure_streak_limit: int = 5) -> None:
        self.state = state
        self.statuses = frozenset(statuses)
        #: After this many jobs in a row fail because the service struggles, stop asking it.
        self.failure_streak_limit = failure_streak_limit

    def select(self, integration: str, jobs: Iterable[dict]) -> list[dict]:
        """Jobs in a synced stage, plus every job pushed before (so a job rejected after its
        interview shows as rejected in the tracker too)."""
        pushed = self.state.records(integration)
        return [job for job in jobs
                if job.get("status") in self.statuses or int(job["id"]) in pushed]

    def run(self, integration: Any, jobs: Iterable[dict], *, dry_run: bool = False,
            progress: Progress | None = None, cancel: threading.Event | None = None
            ) -> SyncReport:
        """Sync ``jobs`` (the ones :meth:`select` keeps) to ``integration``; never raises for a
        service problem — the report says what happened."""
        name = integration.name
        report = SyncReport(name, integration.label, dry_run=dry_run)
        selected = self.select(name, jobs)
        report.titles = {int(job["id"]): job_title(job) for job in selected}
        step = _Progress(progress, len(selected))
        try:
            if JobSync.speaks_batch(integration):
                self._run_batch(integration, selected, report, step, cancel)
            else:
                self._run_plain(integration, selected, report, step, cancel)
        except IntegrationError as exc:
            log.info("%s: sync stopped: %s (%s)", name, exc.kind.value, exc.detail)
            report.error = exc.hint
            self._fail_rest(report, selected, exc.hint)
        report.finished_at = datetime.now()
        report.requests = int(getattr(integration, "request_count", 0) or 0)
        if not dry_run:
            self.state.save_run(name, report.counts, report.cancelled, report.error,
                                report.finished_at)
        step.finish()
        return report

    # -- built-ins: the batch protocol --------------------------------------------------------------
    def _run_batch(self, integration: Any, selected: list[dict], report: SyncReport,
                   step: "_Progress", cancel: threading.Event | None) -> None:
        name = integration.name
        pushed = self.state.records(name)
        records: dict[int, dict] = {}
        hashes: dict[int, str] = {}
        breathe = _Breather()
        for job in selected:
            breathe()
            job_id = int(job["id"])
            try:
                records[job_id] = integration.record_for(job)
            except Exception as exc:  # noqa: BLE001 - one job's bad values must not stop the rest
                report.fail(job_id, reason_for(exc))
                step.advance()
                continue
            hashes[job_id] = digest(records[job_id])
        if not records:
            return
        if _cancelled(cancel):
            report.cancelled, report.not_synced = True, len(records)
            return
        # A lookup is needed to verify what was pushed (deleted remotely?) and, unless creates are
        # upserts by key, to find records created just before a crash.
        lookup = bool(pushed.keys() & records.keys()) or not integration.upserts_by_key
        found: dict[int, str] = dict(integration.find_jobs(list(records))) if lookup else {}

        writes: list[JobSync.Write] = []
        relinked: list[tuple[int, str, str]] = []
        by_id = {int(job["id"]): job for job in selected}
        for job_id, record in records.items():
            breathe()
            previous: SyncedRecord | None = pushed.get(job_id)
            remote_id = found.get(job_id) if lookup else None
            if remote_id is None and previous is not None and previous.pushed_hash == ADOPTED:
                remote_id = previous.remote_id   # an imported link: its record has no key yet
            if remote_id is None:
                writes.append(JobSync.Write(by_id[job_id], record, None))
            elif previous is not None and previous.pushed_hash == hashes[job_id]:
                report.unchanged.append(job_id)
                step.advance()
                if previous.remote_id != remote_id:
                    relinked.append((job_id, remote_id, hashes[job_id]))
            else:
                writes.append(JobSync.Write(by_id[job_id], record, remote_id))
        if report.dry_run:
            for write in writes:
                job_id = int(write.job["id"])
                (report.updated if write.remote_id else report.created).append(job_id)
            return
        if relinked:
            self.state.record_many(name, relinked)
        self._push(integration, writes, hashes, report, step, cancel)

    def _push(self, integration: Any, writes: list[JobSync.Write], hashes: dict[int, str],
              report: SyncReport, step: "_Progress", cancel: threading.Event | None) -> None:
        if not writes:
            return
        name = integration.name
        waiting = {int(w.job["id"]): w for w in writes}
        streak: list[IntegrationError] = []
        outcomes = integration.push_jobs(writes)
        try:
            for outcome in outcomes:
                write = waiting.pop(outcome.job_id, None)
                if write is None:
                    continue
                if outcome.error is None:
                    # The remote write happened; record it before anything else can go wrong.
                    self.state.record(name, outcome.job_id, outcome.remote_id,
                                      hashes[outcome.job_id])
                    created = outcome.created or write.remote_id is None
                    (report.created if created else report.updated).append(outcome.job_id)
                    streak.clear()
                else:
                    report.fail(outcome.job_id, reason_for(outcome.error))
                    if (isinstance(outcome.error, IntegrationError)
                            and outcome.error.kind in TRANSIENT_KINDS):
                        streak.append(outcome.error)
                    else:
                        streak.clear()
                step.advance()
                # Against a fast server a push is CPU-bound; a short sleep per written job hands
                # the GIL to the UI thread, which would otherwise wait tens of milliseconds.
                time.sleep(YIELD_SECONDS)
                if len(streak) >= self.failure_streak_limit:
                    reason = (f"Stopped after {len(streak)} jobs in a row failed: "
                              f"{streak[-1].hint}")
                    report.error = reason
                    for job_id in waiting:
                        report.fail(job_id, reason)
                    waiting.clear()
                    break
                if waiting and _cancelled(cancel):
                    report.cancelled, report.not_synced = True, len(waiting)
                    waiting.clear()
                    break
        except IntegrationError as exc:
            report.error = exc.hint
            for job_id in waiting:
                report.fail(job_id, exc.hint)
            waiting.clear()
            log.info("%s: push stopped: %s (%s)", name, exc.kind.value, exc.detail)
        finally:
            close = getattr(outcomes, "close", None)
            if close is not None:
                close()
        for job_id in waiting:   # an integration that forgot a job must not lose it silently
            report.fail(job_id, "The integration did not report on this job; sync again.")

    # -- guide-style plugins: sync(jobs) -> int -------------------------------------------------------
    def _run_plain(self, integration: Any, selected: list[dict], report: SyncReport,
                   step: "_Progress", cancel: threading.Event | None) -> None:
        """One job per ``sync([job])`` call, so each result is known; unchanged jobs are skipped
        (the plugin cannot update, so a re-push would add a second record)."""
        name = integration.name
        pushed = self.state.records(name)
        breathe = _Breather()
        for index, job in enumerate(selected):
            breathe()
            if _cancelled(cancel):
                report.cancelled, report.not_synced = True, len(selected) - index
                return
            job_id = int(job["id"])
            fingerprint = digest({k: v for k, v in job.items() if k not in _BOOKKEEPING})
            previous = pushed.get(job_id)
            if previous is not None and previous.pushed_hash == fingerprint:
                report.unchanged.append(job_id)
            elif report.dry_run:
                report.created.append(job_id)
            else:
                try:
                    synced = integration.sync([dict(job)])
                except Exception as exc:  # noqa: BLE001 - a plugin's failure is this job's failure
                    log.info("%s: sync of job %s raised", name, job_id, exc_info=True)
                    report.fail(job_id, reason_for(exc))
                else:
                    if isinstance(synced, int) and synced >= 1:
                        self.state.record(name, job_id, "", fingerprint)
                        report.created.append(job_id)
                    else:
                        report.fail(job_id, "The integration did not sync this job and gave "
                                            "no reason.")
            step.advance()

    @staticmethod
    def _fail_rest(report: SyncReport, selected: list[dict], reason: str) -> None:
        done = {*report.created, *report.updated, *report.unchanged,
                *(f.job_id for f in report.failed)}
        for job in selected:
            if int(job["id"]) not in done:
                report.fail(int(job["id"]), reason)


def _cancelled(cancel: threading.Event | None) -> bool:
    return cancel is not None and cancel.is_set()


class _Breather:
    """Called once per job of a CPU-bound loop; pauses when the loop has run for
    ``BREATHE_SECONDS`` since the last pause, so the UI thread is never kept waiting long."""

    def __init__(self) -> None:
        self._since = time.perf_counter()

    def __call__(self) -> None:
        if time.perf_counter() - self._since >= BREATHE_SECONDS:
            time.sleep(YIELD_SECONDS)
            self._since = time.perf_counter()


class _Progress:
    """Counts finished jobs and tells the UI, at most once per percent (no signal flood)."""

    def __init__(self, callback: Progress | None, total: int) -> None:
        self.callback, self.total, self.done, self._last = callback, total, 0, -1

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.callback is None:
            return
        percent = self.done * 100 // max(1, self.total)
        if percent != self._last:
            self._last = percent
            self.callback(self.done, self.total)

    def finish(self) -> None:
        if self.callback is not None:
            self.callback(self.total, self.total)
