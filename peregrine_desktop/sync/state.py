"""SyncState: which remote record each job became, per integration, and a hash of what was pushed.

Kept in its own tables of the job database (``<data dir>/jobs.sqlite3``), versioned as the "sync"
component through the store's schema hook.  Each write is its own short transaction, committed
right after the remote write it records, so a crash loses at most the entries of the batch in
flight — and the engine looks those up by key on the next run instead of creating them again.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from peregrine_desktop.jobs.store import JobStore, register_schema

COMPONENT = "sync"
MIGRATIONS: list[str] = [
    """
    CREATE TABLE IF NOT EXISTS sync_records (
        integration  TEXT NOT NULL,
        job_id       INTEGER NOT NULL,
        remote_id    TEXT NOT NULL,
        pushed_hash  TEXT NOT NULL,
        synced_at    TEXT NOT NULL,
        PRIMARY KEY (integration, job_id)
    );
    CREATE TABLE IF NOT EXISTS sync_runs (
        integration  TEXT PRIMARY KEY,
        finished_at  TEXT NOT NULL,
        created      INTEGER NOT NULL,
        updated      INTEGER NOT NULL,
        unchanged    INTEGER NOT NULL,
        failed       INTEGER NOT NULL,
        cancelled    INTEGER NOT NULL DEFAULT 0,
        error        TEXT NOT NULL DEFAULT ''
    );
    """,
]
register_schema(COMPONENT, MIGRATIONS)


#: ``pushed_hash`` of a record linked elsewhere (an import from Peregrine) and never pushed from
#: here: its remote record has no Peregrine ID yet, so the first sync updates it at this id.
ADOPTED = "adopted"


@dataclass(frozen=True)
class SyncedRecord:
    remote_id: str
    pushed_hash: str


@dataclass(frozen=True)
class LastRun:
    """The last real (not dry) sync of one integration, for the "last synced" line."""

    finished_at: datetime
    created: int
    updated: int
    unchanged: int
    failed: int
    cancelled: bool
    error: str


class SyncState:
    """The (integration, job id) → remote id + hash map.  Safe from any thread (the store gives
    each thread its own connection)."""

    def __init__(self, store: JobStore | str | Path) -> None:
        self.owns_store = not isinstance(store, JobStore)
        self.store = store if isinstance(store, JobStore) else JobStore(store)
        self.store.ensure_schema(COMPONENT, MIGRATIONS)

    def close(self) -> None:
        if self.owns_store:
            self.store.close()

    def records(self, integration: str) -> dict[int, SyncedRecord]:
        with self.store.connection() as conn:
            rows = conn.execute("SELECT job_id, remote_id, pushed_hash FROM sync_records "
                                "WHERE integration = ?", (integration,))
            return {row[0]: SyncedRecord(row[1], row[2]) for row in rows}

    def record(self, integration: str, job_id: int, remote_id: str, pushed_hash: str) -> None:
        """Remember that ``job_id`` now is ``remote_id`` holding what ``pushed_hash`` describes."""
        self.record_many(integration, [(job_id, remote_id, pushed_hash)])

    def record_many(self, integration: str, entries: Iterable[tuple[int, str, str]]) -> None:
        now = datetime.now().isoformat(timespec="seconds")
        with self.store.transaction() as conn:
            conn.executemany(
                "INSERT INTO sync_records(integration, job_id, remote_id, pushed_hash, synced_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(integration, job_id) DO UPDATE SET "
                "remote_id = excluded.remote_id, pushed_hash = excluded.pushed_hash, "
                "synced_at = excluded.synced_at",
                [(integration, job_id, remote_id, pushed_hash, now)
                 for job_id, remote_id, pushed_hash in entries])

    def adopt_many(self, integration: str, entries: Iterable[tuple[int, str]]) -> int:
        """Link jobs to remote records that already exist (job id, remote id), unless a job is
        linked already; returns how many were linked.  See :data:`ADOPTED`."""
        now = datetime.now().isoformat(timespec="seconds")
        with self.store.transaction() as conn:
            before = conn.total_changes
            conn.executemany(
                "INSERT INTO sync_records(integration, job_id, remote_id, pushed_hash, synced_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(integration, job_id) DO NOTHING",
                [(integration, job_id, remote_id, ADOPTED, now) for job_id, remote_id in entries])
            return conn.total_changes - before

    def forget_job(self, job_id: int) -> None:
        """A job deleted in Peregrine: drop its entries (its remote records stay as they are)."""
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM sync_records WHERE job_id = ?", (job_id,))

    def forget_integration(self, integration: str) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM sync_records WHERE integration = ?", (integration,))
            conn.execute("DELETE FROM sync_runs WHERE integration = ?", (integration,))

    def save_run(self, integration: str, counts: dict[str, int], cancelled: bool,
                 error: str, finished_at: datetime | None = None) -> None:
        at = (finished_at or datetime.now()).isoformat(timespec="seconds")
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO sync_runs(integration, finished_at, created, updated, unchanged, "
                "failed, cancelled, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(integration) DO UPDATE SET finished_at = excluded.finished_at, "
                "created = excluded.created, updated = excluded.updated, "
                "unchanged = excluded.unchanged, failed = excluded.failed, "
                "cancelled = excluded.cancelled, error = excluded.error",
                (integration, at, counts["created"], counts["updated"], counts["unchanged"],
                 counts["failed"], int(cancelled), error))

    def last_run(self, integration: str) -> LastRun | None:
        with self.store.connection() as conn:
            row: Any = conn.execute(
                "SELECT finished_at, created, updated, unchanged, failed, cancelled, error "
                "FROM sync_runs WHERE integration = ?", (integration,)).fetchone()
        if row is None:
            return None
        return LastRun(datetime.fromisoformat(row[0]), row[1], row[2], row[3], row[4],
                       bool(row[5]), row[6])
