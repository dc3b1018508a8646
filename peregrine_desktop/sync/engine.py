"""SyncEngine: keeps the pipeline and one tracker in step, both ways, never duplicating.

Each sync lists the tracker's records (all of them, or only those edited since the last listing)
and merges every linked job field by field, with the forms last synced as the base (a three-way
merge, see :mod:`peregrine_sdk.tracker`): a field changed only in the tracker is taken into the
job (a status change adds a status-history entry), one changed only here is written there, one
changed on both sides becomes a conflict kept with both values until the user chooses.  A pull
moves the base, so it never causes a write back.  Records are found by the job's global ``uid``;
links made by an older version (integer keys) are re-keyed in place.  Records the tracker holds
that are not linked jobs — rows added there, another computer's jobs, records deleted there,
jobs deleted here — are listed for the user, never acted on silently.

Runs on a worker thread; ``progress(done, total)`` and ``cancel`` (a ``threading.Event``) connect
it to the UI.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import Any

from peregrine_sdk.capabilities import JobSync
from peregrine_sdk.errors import ErrorKind, IntegrationError
from peregrine_sdk.job_columns import FIELD_LABELS, job_value
from peregrine_sdk.tracker import RecordGone, RemoteRecord, digest, job_change, looks_like_uid
from peregrine_desktop.breather import Breather
from peregrine_desktop.jobs.store import StoreError
from peregrine_desktop.settings import paths
from peregrine_desktop.sync.report import PulledChange, SyncReport, job_title
from peregrine_desktop.sync.settings import DEFAULT_STATUSES, SyncOptions
from peregrine_desktop.sync.state import (Conflict, RemoteEntry, SyncedRecord, SyncState,
                                          Tombstone)

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
#: Kinds that mean "the service is struggling", as opposed to "this job's values were refused".
TRANSIENT_KINDS = frozenset({ErrorKind.CANNOT_CONNECT, ErrorKind.TIMEOUT, ErrorKind.RATE_LIMITED})
#: Pause after each written job so the UI thread gets the GIL (0.5 s per 1,000 writes).
YIELD_SECONDS = 0.0005
#: Fields of a job dict that say nothing about the job itself.
_BOOKKEEPING = ("updated_at", "status_history")


def reason_for(exc: BaseException) -> str:
    """The sentence shown next to a failed job; never a traceback, never a secret."""
    if isinstance(exc, IntegrationError):
        return exc.hint
    return f"The integration failed ({type(exc).__name__}); {paths.see_the_log()}."


class SyncEngine:
    """Syncs jobs to integrations; one engine can serve several integrations in turn."""

    def __init__(self, state: SyncState, statuses: Collection[str] = DEFAULT_STATUSES, *,
                 failure_streak_limit: int = 5, options: SyncOptions | None = None) -> None:
        self.state = state
        self.options = options or SyncOptions()
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
            self.state.save_run(name, {**report.counts, "pulled": report.taken_in,
                                       "conflicts": len(report.conflicts)},
                                report.cancelled, report.error, report.finished_at)
        step.finish()
        return report

    # -- built-ins: the batch protocol --------------------------------------------------------------
    def _run_batch(self, integration: Any, selected: list[dict], report: SyncReport,
                   step: "_Progress", cancel: threading.Event | None) -> None:
        name = integration.name
        state, options = self.state, self.options
        links = state.records(name)
        conflicts = state.conflicts(name)
        tombstones = state.tombstones(name)
        uids = state.store_uids()
        selected_ids = {int(job["id"]) for job in selected}
        unlinked = [i for i in selected_ids if i not in links]
        cursor = state.meta(name, "cursor")
        full = (options.full or not cursor or self._census_due(name)
                or any(link.base is None for link in links.values())
                or any(e.import_asked for e in state.remote_entries(name, "new"))
                or (bool(unlinked) and not integration.upserts_by_key))
        listing = integration.list_records(None if full else cursor)
        breathe = Breather()

        # -- whose is each record? ------------------------------------------------------------
        by_remote = {link.remote_id: job_id for job_id, link in links.items() if link.remote_id}
        present = {r.remote_id for r in listing.records}
        matched: dict[int, RemoteRecord] = {}
        new_rows: list[RemoteRecord] = []
        foreign: list[RemoteRecord] = []
        for record in listing.records:
            breathe()
            job_id = by_remote.get(record.remote_id)
            if job_id is None and record.key in uids:
                job_id = uids[record.key]
                link = links.get(job_id)
                if link is not None and link.remote_id != record.remote_id and (
                        link.remote_id in present or not listing.complete):
                    continue         # a copy of a linked record (duplicated there): left alone
            if job_id is not None:
                matched.setdefault(job_id, record)
            elif record.key in tombstones:
                continue
            elif not record.key:
                new_rows.append(record)
            elif looks_like_uid(record.key):
                foreign.append(record)
        gone = {e.job_id: e for e in state.remote_entries(name, "gone")}
        if listing.complete and not report.dry_run:
            back = [e.remote_id for j, e in gone.items() if j in matched]
            state.drop_remote(name, back, "gone")
            newly = [RemoteEntry(link.remote_id, "gone", job_id, link.uid, link.base or {})
                     for job_id, link in links.items()
                     if job_id not in matched and job_id not in gone and link.remote_id]
            state.save_remote(name, newly)
            gone = {e.job_id: e for e in state.remote_entries(name, "gone")}
        elif listing.complete:
            gone = {**{j: e for j, e in gone.items() if j not in matched},
                    **{j: RemoteEntry(link.remote_id, "gone", j) for j, link in links.items()
                       if j not in matched and link.remote_id}}
        report.remote_gone = sorted(gone)

        # -- the records that are not linked jobs ------------------------------------------------
        for job_id, record, uid in self._take_in_rows(integration, new_rows, foreign,
                                                      listing.complete, report):
            links[job_id] = SyncedRecord(record.remote_id, "", uid, dict(record.values))
            matched[job_id] = record      # merged below: a row added there gets its key

        # -- merge every linked job ---------------------------------------------------------------
        ids = (set(links) | set(matched) | selected_ids) - set(gone)
        jobs = {int(job["id"]): job for job in selected}
        missing = [i for i in ids if i not in jobs]
        for job in state.store.get_many(missing):
            jobs[int(job["id"])] = job
        report.titles.update({i: job_title(j) for i, j in jobs.items()})
        writes: list[JobSync.Write] = []
        bases: dict[int, dict[str, str]] = {}
        for job_id in sorted(ids):
            breathe()
            job = jobs.get(job_id)
            if job is None:
                continue
            link = links.get(job_id)
            record = matched.get(job_id)
            if link is None and record is None:
                if job_id in selected_ids:          # never synced: create it
                    try:
                        record_out = integration.record_for(job)
                        bases[job_id] = integration.local_forms(job)
                    except Exception as exc:  # noqa: BLE001 - one job's bad values
                        report.fail(job_id, reason_for(exc))
                        step.advance()
                        continue
                    writes.append(JobSync.Write(job, record_out, None))
                continue
            try:
                write, base = self._merge(integration, job, link, record, conflicts, report)
            except Exception as exc:  # noqa: BLE001 - one job's bad values must not stop the rest
                log.info("%s: merging job %s failed", name, job_id, exc_info=True)
                report.fail(job_id, reason_for(exc))
                step.advance()
                continue
            bases[job_id] = base
            if write is not None:
                writes.append(write)
            elif job_id in selected_ids:
                report.unchanged.append(job_id)
                step.advance()
        if _cancelled(cancel):
            report.cancelled, report.not_synced = True, len(writes)
            return
        if report.dry_run:
            for write in writes:
                job_id = int(write.job["id"])
                (report.updated if write.remote_id else report.created).append(job_id)
            self._deletes(integration, tombstones, report)
            return
        self._push(integration, writes, bases, report, step, cancel)
        self._deletes(integration, tombstones, report)
        if listing.cursor and not report.error and not report.cancelled:
            state.set_meta(name, "cursor", listing.cursor)
        if listing.complete and not report.error:
            state.set_meta(name, "listed_all_at", datetime.now().isoformat(timespec="seconds"))

    def _census_due(self, name: str) -> bool:
        """A complete listing (the only way to see records deleted in the tracker) at most
        every ``census_seconds``; the pulls between ask only for what was edited."""
        last = self.state.meta(name, "listed_all_at")
        if not last:
            return True
        try:
            return (datetime.now() - datetime.fromisoformat(last)).total_seconds() \
                >= self.options.census_seconds
        except ValueError:
            return True

    def _merge(self, integration: Any, job: dict, link: SyncedRecord | None,
               record: RemoteRecord | None, conflicts: dict[tuple[int, str], Conflict],
               report: SyncReport) -> tuple[JobSync.Write | None, dict[str, str]]:
        """Three-way merge of one linked job; applies what the tracker changed (unless a dry
        run) and returns the write of what changed here, if any, and the new base."""
        name = integration.name
        job_id, uid = int(job["id"]), str(job["uid"])
        local = integration.local_forms(job)
        remote = record.values if record is not None else None
        if link is not None and link.base is not None:
            base = dict(link.base)
        elif link is not None and integration.legacy_digest(job) == link.pushed_hash:
            base = dict(local)              # unchanged here since an older version pushed it
        else:
            base = dict(remote if remote is not None else local)
        remote_id = record.remote_id if record is not None else link.remote_id  # type: ignore
        new_base = dict(base)
        pulled: dict[str, str] = {}
        to_push: set[str] = set()
        for field_name, mine in local.items():
            theirs = base.get(field_name) if remote is None else remote.get(field_name)
            if theirs is None:
                continue                    # the tracker has no such column
            was = base.get(field_name)
            known = conflicts.get((job_id, field_name))
            if known is not None:
                if mine == theirs:          # both sides agree again
                    new_base[field_name] = theirs
                    if not report.dry_run:
                        self.state.drop_conflict(name, job_id, field_name)
                    continue
                if (known.local, known.remote) != (mine, theirs) and not report.dry_run:
                    self.state.save_conflict(name, Conflict(job_id, field_name, mine, theirs))
                report.conflicts.append(Conflict(job_id, field_name, mine, theirs))
                continue
            if mine == theirs:
                new_base[field_name] = theirs
            elif was is None and not theirs:
                to_push.add(field_name)     # a column mapped since: fill it
            elif theirs == was:
                to_push.add(field_name)
            elif mine == was or (was is None and not mine):
                pulled[field_name] = theirs
            else:
                conflict = Conflict(job_id, field_name, mine, theirs)
                if not report.dry_run:
                    self.state.save_conflict(name, conflict)
                report.conflicts.append(conflict)
        if pulled:
            job = self._apply_pull(integration, job, pulled, remote_id, link, new_base, report)
        needs_key = link is None or link.uid != uid
        if not to_push and not needs_key:
            if new_base != base and not report.dry_run:
                self.state.link(name, job_id, remote_id, uid, new_base)
            return None, new_base
        for field_name in to_push:
            new_base[field_name] = local[field_name]
        record = integration.record_for(job, to_push, key=needs_key)
        return JobSync.Write(job, record, remote_id), new_base

    def _apply_pull(self, integration: Any, job: dict, pulled: dict[str, str], remote_id: str,
                    link: SyncedRecord | None, new_base: dict[str, str],
                    report: SyncReport) -> dict:
        """Take the tracker's values into the job, with the new base, in one transaction."""
        job_id = int(job["id"])
        changes: dict[str, Any] = {}
        for field_name, theirs in pulled.items():
            try:
                changes[field_name] = job_change(field_name, theirs)
            except ValueError as exc:
                report.notes.append(f"{job_title(job)}: {FIELD_LABELS.get(field_name, field_name)}"
                                    f" in {integration.label} is {exc}; it was left as it is.")
        for field_name in changes:
            report.pulled.append(PulledChange(job_id, field_name,
                                              str(job_value(job, field_name) or ""),
                                              pulled[field_name]))
        if report.dry_run or not changes:
            return job
        base = {**new_base, **{f: pulled[f] for f in changes}}
        try:
            old, job = job, self.state.apply_pull(integration.name, job_id, changes, remote_id,
                                                  link.uid if link is not None else "", base)
            report.changed_jobs.append((job, old))
        except StoreError as exc:
            del report.pulled[-len(changes):]
            report.fail(job_id, f"The change made in {integration.label} could not be taken: "
                                f"{exc}")
            return job
        new_base.update({f: pulled[f] for f in changes})
        return job

    def _take_in_rows(self, integration: Any, new_rows: list[RemoteRecord],
                      foreign: list[RemoteRecord], complete: bool, report: SyncReport
                      ) -> list[tuple[int, RemoteRecord, str]]:
        """Rows added in the tracker (imported, or listed to import: a setting) and another
        computer's jobs (imported once the user joined, else listed for the question).
        Returns (job id, record, key written there) of each job imported."""
        imported: list[tuple[int, RemoteRecord, str]] = []
        name, state = integration.name, self.state
        waiting = {e.remote_id: e for e in state.remote_entries(name, "new")}
        if not report.dry_run:
            if complete:
                state.drop_remote(name, [r for r in waiting
                                         if r not in {x.remote_id for x in new_rows}], "new")
                state.drop_remote(name, [e.remote_id for e in
                                         state.remote_entries(name, "foreign")], "foreign")
            state.save_remote(name, [RemoteEntry(r.remote_id, "new", None, "", r.values)
                                     for r in new_rows])
        joined = state.meta(name, "join")
        for record in new_rows:
            asked = waiting.get(record.remote_id)
            if self.options.remote_rows == "import" or (asked and asked.import_asked):
                job_id = self._import(integration, record, None, report)
                if job_id is not None:
                    imported.append((job_id, record, ""))
            else:
                report.remote_new.append(RemoteEntry(record.remote_id, "new", None, "",
                                                     record.values))
        for record in foreign:
            if joined == "yes":
                job_id = self._import(integration, record, record.key, report)
                if job_id is not None:
                    imported.append((job_id, record, record.key))
            elif joined != "no":
                entry = RemoteEntry(record.remote_id, "foreign", None, record.key, record.values)
                report.foreign.append(entry)
        if report.foreign and not report.dry_run:
            state.save_remote(name, report.foreign)
        return imported

    def _import(self, integration: Any, record: RemoteRecord, uid: str | None,
                report: SyncReport) -> int | None:
        values: dict[str, Any] = {}
        for field_name, theirs in record.values.items():
            if theirs in ("", None) and field_name != "remote":
                continue
            try:
                values[field_name] = job_change(field_name, theirs)
            except ValueError:
                continue
        values.setdefault("title", "Untitled job")
        if report.dry_run:
            report.imported.append(0)
            return None
        try:
            job = self.state.import_job(integration.name, values, record.remote_id, uid,
                                        dict(record.values))
        except StoreError as exc:
            title = record.values.get("title") or "A record"
            report.notes.append(f"{title} in {integration.label} was not imported: {exc}")
            return None
        report.imported.append(int(job["id"]))
        report.added_jobs.append(job)
        report.titles[int(job["id"])] = job_title(job)
        return int(job["id"])

    def _deletes(self, integration: Any, tombstones: dict[str, Tombstone],
                 report: SyncReport) -> None:
        """Records of jobs deleted here: removed when the user said so, else listed."""
        name = integration.name
        choice = self.options.local_deletes
        doomed = [t for t in tombstones.values()
                  if t.state == "delete" or (t.state == "ask" and choice == "delete")]
        report.deleted_here = [t for t in tombstones.values()
                               if t.state == "ask" and choice == "ask"]
        if report.dry_run:
            return
        if choice == "keep":
            self.state.set_tombstones(name, "done")
        if not doomed:
            return
        by_remote = {t.remote_id: t for t in doomed}
        try:
            for remote_id, error in integration.delete_records(list(by_remote)):
                tomb = by_remote.get(remote_id)
                if tomb is None:
                    continue
                if error is None:
                    self.state.set_tombstones(name, "done", [tomb.uid])
                    report.deleted_there.append(tomb.title)
                else:
                    report.notes.append(f"{tomb.title}: its record in {integration.label} was "
                                        f"not deleted: {reason_for(error)}")
        except IntegrationError as exc:
            report.notes.append(f"Records of deleted jobs were not removed: {exc.hint}")

    def _push(self, integration: Any, writes: list[JobSync.Write],
              bases: dict[int, dict[str, str]], report: SyncReport, step: "_Progress",
              cancel: threading.Event | None) -> None:
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
                    self.state.link(name, outcome.job_id, outcome.remote_id,
                                    str(write.job["uid"]), bases[outcome.job_id])
                    created = outcome.created or write.remote_id is None
                    (report.created if created else report.updated).append(outcome.job_id)
                    streak.clear()
                elif isinstance(outcome.error, RecordGone):
                    self.state.save_remote(name, [RemoteEntry(
                        write.remote_id or "", "gone", outcome.job_id, str(write.job["uid"]))])
                    report.remote_gone.append(outcome.job_id)
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
        breathe = Breather()
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
