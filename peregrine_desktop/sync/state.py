"""SyncState: which remote record each job is, per tracker, and the values last synced.

Kept in its own tables of the job database (``<data dir>/jobs.sqlite3``), versioned as the "sync"
component through the store's schema hook:

- ``sync_records``: job → remote record, the key written there (the job's uid; '' while an older
  version's integer key is still there), and ``base``, the forms of every field as last synced —
  the base of the three-way merge.
- ``sync_conflicts``: a field changed on both sides, with both values, until the user chooses.
- ``sync_remote``: records seen in the tracker that are not (or no longer) a local job: rows the
  user added there, another computer's jobs, records of local jobs deleted there.
- ``sync_tombstones``: jobs deleted here whose tracker record waits for the user's choice (or for
  the delete) — and, after that, so their records are never taken for another computer's jobs.
- ``sync_meta``: per tracker, the pull cursor and the user's "join" answer.

Each write is its own short transaction, committed right after the remote write it records; a job
changed by a pull and its new base are one transaction (:meth:`SyncState.apply_pull`).
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
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
    """
    ALTER TABLE sync_records ADD COLUMN uid TEXT NOT NULL DEFAULT '';
    ALTER TABLE sync_records ADD COLUMN base TEXT;
    ALTER TABLE sync_runs ADD COLUMN pulled INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sync_runs ADD COLUMN conflicts INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE IF NOT EXISTS sync_conflicts (
        integration  TEXT NOT NULL,
        job_id       INTEGER NOT NULL,
        field        TEXT NOT NULL,
        local        TEXT NOT NULL,
        remote       TEXT NOT NULL,
        PRIMARY KEY (integration, job_id, field)
    );
    CREATE TABLE IF NOT EXISTS sync_remote (
        integration  TEXT NOT NULL,
        remote_id    TEXT NOT NULL,
        kind         TEXT NOT NULL CHECK (kind IN ('new', 'foreign', 'gone')),
        job_id       INTEGER,
        key          TEXT NOT NULL DEFAULT '',
        forms        TEXT NOT NULL DEFAULT '{}',
        import       INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (integration, remote_id)
    );
    CREATE TABLE IF NOT EXISTS sync_tombstones (
        integration  TEXT NOT NULL,
        uid          TEXT NOT NULL,
        remote_id    TEXT NOT NULL,
        title        TEXT NOT NULL DEFAULT '',
        state        TEXT NOT NULL DEFAULT 'ask' CHECK (state IN ('ask', 'delete', 'done')),
        PRIMARY KEY (integration, uid)
    );
    CREATE TABLE IF NOT EXISTS sync_meta (
        integration  TEXT NOT NULL,
        name         TEXT NOT NULL,
        value        TEXT NOT NULL,
        PRIMARY KEY (integration, name)
    );
    """,
]
register_schema(COMPONENT, MIGRATIONS)


#: ``pushed_hash`` of a record linked elsewhere (an import from Peregrine) and never pushed from
#: here: the first sync merges it like an older version's link (its record gets its key then).
ADOPTED = "adopted"


@dataclass(frozen=True)
class SyncedRecord:
    """One job's link to its record: ``uid`` is the key written there ('' = an older version's
    integer key), ``base`` the forms last synced (None: linked by an older version)."""

    remote_id: str
    pushed_hash: str
    uid: str = ""
    base: dict[str, str] | None = None


@dataclass(frozen=True)
class Conflict:
    job_id: int
    field: str
    local: str
    remote: str


@dataclass(frozen=True)
class RemoteEntry:
    """A record of the tracker that is not a linked local job (see the module docstring)."""

    remote_id: str
    kind: str                   # "new" | "foreign" | "gone"
    job_id: int | None = None
    key: str = ""
    forms: dict[str, str] = field(default_factory=dict)
    import_asked: bool = False

    @property
    def title(self) -> str:
        title = self.forms.get("title") or "Untitled"
        company = self.forms.get("company")
        return f"{title} — {company}" if company else title


@dataclass(frozen=True)
class Tombstone:
    uid: str
    remote_id: str
    title: str
    state: str                  # "ask" | "delete" | "done"


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
    pulled: int = 0
    conflicts: int = 0


class SyncState:
    """The per-tracker map and what waits for the user.  Safe from any thread (the store gives
    each thread its own connection)."""

    def __init__(self, store: JobStore | str | Path) -> None:
        self.owns_store = not isinstance(store, JobStore)
        self.store = store if isinstance(store, JobStore) else JobStore(store)
        self.store.ensure_schema(COMPONENT, MIGRATIONS)

    def close(self) -> None:
        if self.owns_store:
            self.store.close()

    def store_uids(self) -> dict[str, int]:
        """Every local job's uid → id (records are matched by uid, whatever is being synced)."""
        with self.store.connection() as conn:
            return {row[0]: row[1] for row in conn.execute("SELECT uid, id FROM jobs")}

    # -- links ----------------------------------------------------------------------------------------
    def records(self, integration: str) -> dict[int, SyncedRecord]:
        with self.store.connection() as conn:
            rows = conn.execute("SELECT job_id, remote_id, pushed_hash, uid, base FROM "
                                "sync_records WHERE integration = ?", (integration,))
            return {row[0]: SyncedRecord(row[1], row[2], row[3],
                                         json.loads(row[4]) if row[4] else None)
                    for row in rows}

    def link(self, integration: str, job_id: int, remote_id: str, uid: str,
             base: dict[str, str], conn: Any = None) -> None:
        """Remember that ``job_id`` is ``remote_id``, keyed ``uid``, holding ``base``."""
        self.link_many(integration, [(job_id, remote_id, uid, base)], conn)

    def link_many(self, integration: str,
                  entries: Iterable[tuple[int, str, str, dict[str, str]]],
                  conn: Any = None) -> None:
        from peregrine_sdk.tracker import digest

        now = datetime.now().isoformat(timespec="seconds")
        rows = [(integration, job_id, remote_id, digest(base), now, uid,
                 json.dumps(base, sort_keys=True, ensure_ascii=False))
                for job_id, remote_id, uid, base in entries]
        sql = ("INSERT INTO sync_records(integration, job_id, remote_id, pushed_hash, synced_at, "
               "uid, base) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(integration, job_id) DO "
               "UPDATE SET remote_id = excluded.remote_id, pushed_hash = excluded.pushed_hash, "
               "synced_at = excluded.synced_at, uid = excluded.uid, base = excluded.base")
        if conn is not None:
            conn.executemany(sql, rows)
            return
        with self.store.transaction() as own:
            own.executemany(sql, rows)

    def record(self, integration: str, job_id: int, remote_id: str, pushed_hash: str) -> None:
        """For plugins written as the guide shows: ``job_id`` was pushed as ``pushed_hash``."""
        now = datetime.now().isoformat(timespec="seconds")
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO sync_records(integration, job_id, remote_id, pushed_hash, synced_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(integration, job_id) DO UPDATE SET "
                "remote_id = excluded.remote_id, pushed_hash = excluded.pushed_hash, "
                "synced_at = excluded.synced_at", (integration, job_id, remote_id, pushed_hash,
                                                   now))

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

    def unlink(self, integration: str, job_id: int) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM sync_records WHERE integration = ? AND job_id = ?",
                         (integration, job_id))
            conn.execute("DELETE FROM sync_remote WHERE integration = ? AND job_id = ?",
                         (integration, job_id))
            conn.execute("DELETE FROM sync_conflicts WHERE integration = ? AND job_id = ?",
                         (integration, job_id))

    def apply_pull(self, integration: str, job_id: int, changes: dict[str, Any],
                   remote_id: str, uid: str, base: dict[str, str]) -> dict:
        """Change the job as the tracker says and move its base, in one transaction: a crash
        leaves both or neither (the store records a status change in the job's history)."""
        return self.store.update_from_elsewhere(
            job_id, changes,
            also=lambda conn: self.link(integration, job_id, remote_id, uid, base, conn))

    def import_job(self, integration: str, values: dict[str, Any], remote_id: str,
                   uid: str | None, base: dict[str, str], drop_remote: bool = True) -> dict:
        """A tracker record becomes a local job (adopting ``uid`` when given), linked, in one
        transaction."""
        def also(conn: Any, job: dict) -> None:
            self.link(integration, job["id"], remote_id, uid or "", base, conn)
            if drop_remote:
                conn.execute("DELETE FROM sync_remote WHERE integration = ? AND remote_id = ?",
                             (integration, remote_id))
        return self.store.add_job_with(values if not uid else {**values, "uid": uid}, also)

    # -- conflicts --------------------------------------------------------------------------------
    def conflicts(self, integration: str) -> dict[tuple[int, str], Conflict]:
        with self.store.connection() as conn:
            rows = conn.execute("SELECT job_id, field, local, remote FROM sync_conflicts "
                                "WHERE integration = ? ORDER BY job_id, field", (integration,))
            return {(r[0], r[1]): Conflict(r[0], r[1], r[2], r[3]) for r in rows}

    def save_conflict(self, integration: str, conflict: Conflict) -> None:
        with self.store.transaction() as conn:
            conn.execute("INSERT INTO sync_conflicts(integration, job_id, field, local, remote) "
                         "VALUES (?, ?, ?, ?, ?) ON CONFLICT(integration, job_id, field) DO "
                         "UPDATE SET local = excluded.local, remote = excluded.remote",
                         (integration, conflict.job_id, conflict.field, conflict.local,
                          conflict.remote))

    def drop_conflict(self, integration: str, job_id: int, field_name: str,
                      conn: Any = None) -> None:
        sql = "DELETE FROM sync_conflicts WHERE integration = ? AND job_id = ? AND field = ?"
        if conn is not None:
            conn.execute(sql, (integration, job_id, field_name))
            return
        with self.store.transaction() as own:
            own.execute(sql, (integration, job_id, field_name))

    # -- records that are not linked jobs ---------------------------------------------------------
    def remote_entries(self, integration: str, kind: str | None = None) -> list[RemoteEntry]:
        with self.store.connection() as conn:
            rows = conn.execute("SELECT remote_id, kind, job_id, key, forms, import FROM "
                                "sync_remote WHERE integration = ? AND (? IS NULL OR kind = ?) "
                                "ORDER BY rowid", (integration, kind, kind))
            return [RemoteEntry(r[0], r[1], r[2], r[3], json.loads(r[4]), bool(r[5]))
                    for r in rows]

    def save_remote(self, integration: str, entries: Iterable[RemoteEntry]) -> None:
        with self.store.transaction() as conn:
            conn.executemany(
                "INSERT INTO sync_remote(integration, remote_id, kind, job_id, key, forms) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(integration, remote_id) DO UPDATE SET "
                "kind = excluded.kind, job_id = excluded.job_id, key = excluded.key, "
                "forms = excluded.forms",
                [(integration, e.remote_id, e.kind, e.job_id, e.key,
                  json.dumps(e.forms, ensure_ascii=False)) for e in entries])

    def drop_remote(self, integration: str, remote_ids: Iterable[str],
                    kind: str | None = None) -> None:
        with self.store.transaction() as conn:
            conn.executemany("DELETE FROM sync_remote WHERE integration = ? AND remote_id = ? "
                             "AND (? IS NULL OR kind = ?)",
                             [(integration, r, kind, kind) for r in remote_ids])

    def ask_import(self, integration: str, remote_ids: Iterable[str]) -> None:
        """The user chose to import these rows added in the tracker (done at the next sync)."""
        with self.store.transaction() as conn:
            conn.executemany("UPDATE sync_remote SET import = 1 WHERE integration = ? AND "
                             "remote_id = ?", [(integration, r) for r in remote_ids])

    # -- jobs deleted here ------------------------------------------------------------------------
    def job_deleted(self, job: dict) -> int:
        """A job deleted in Peregrine: each of its links becomes a tombstone (the record there
        waits for the user's choice); returns how many trackers held it."""
        job_id, uid = int(job["id"]), str(job.get("uid") or "")
        title = str(job.get("title") or "Untitled")
        with self.store.transaction() as conn:
            links = conn.execute("SELECT integration, remote_id, uid FROM sync_records WHERE "
                                 "job_id = ?", (job_id,)).fetchall()
            conn.executemany(
                "INSERT INTO sync_tombstones(integration, uid, remote_id, title) VALUES "
                "(?, ?, ?, ?) ON CONFLICT(integration, uid) DO NOTHING",
                [(name, key or uid or remote_id, remote_id, title)
                 for name, remote_id, key in links if remote_id])
            for table in ("sync_records", "sync_conflicts", "sync_remote"):
                conn.execute(f"DELETE FROM {table} WHERE job_id = ?", (job_id,))
        return len(links)

    def tombstones(self, integration: str) -> dict[str, Tombstone]:
        with self.store.connection() as conn:
            rows = conn.execute("SELECT uid, remote_id, title, state FROM sync_tombstones "
                                "WHERE integration = ?", (integration,))
            return {r[0]: Tombstone(r[0], r[1], r[2], r[3]) for r in rows}

    def set_tombstones(self, integration: str | None, state: str,
                       uids: Iterable[str] | None = None) -> None:
        """Mark tombstones "delete" (the record goes at the next sync) or "done" (kept there)."""
        with self.store.transaction() as conn:
            if uids is None:
                conn.execute("UPDATE sync_tombstones SET state = ? WHERE state = 'ask' AND "
                             "(? IS NULL OR integration = ?)", (state, integration, integration))
            else:
                conn.executemany("UPDATE sync_tombstones SET state = ? WHERE integration = ? "
                                 "AND uid = ?", [(state, integration, u) for u in uids])

    # -- per-tracker values ---------------------------------------------------------------------------
    def meta(self, integration: str, name: str) -> str | None:
        with self.store.connection() as conn:
            row = conn.execute("SELECT value FROM sync_meta WHERE integration = ? AND name = ?",
                               (integration, name)).fetchone()
            return row[0] if row else None

    def set_meta(self, integration: str, name: str, value: str | None) -> None:
        with self.store.transaction() as conn:
            if value is None:
                conn.execute("DELETE FROM sync_meta WHERE integration = ? AND name = ?",
                             (integration, name))
            else:
                conn.execute("INSERT INTO sync_meta(integration, name, value) VALUES (?, ?, ?) "
                             "ON CONFLICT(integration, name) DO UPDATE SET value = "
                             "excluded.value", (integration, name, value))

    # -- runs -------------------------------------------------------------------------------------
    def save_run(self, integration: str, counts: dict[str, int], cancelled: bool,
                 error: str, finished_at: datetime | None = None) -> None:
        at = (finished_at or datetime.now()).isoformat(timespec="seconds")
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO sync_runs(integration, finished_at, created, updated, unchanged, "
                "failed, cancelled, error, pulled, conflicts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
                "?) ON CONFLICT(integration) DO UPDATE SET finished_at = excluded.finished_at, "
                "created = excluded.created, updated = excluded.updated, "
                "unchanged = excluded.unchanged, failed = excluded.failed, "
                "cancelled = excluded.cancelled, error = excluded.error, "
                "pulled = excluded.pulled, conflicts = excluded.conflicts",
                (integration, at, counts["created"], counts["updated"], counts["unchanged"],
                 counts["failed"], int(cancelled), error, counts.get("pulled", 0),
                 counts.get("conflicts", 0)))

    def last_run(self, integration: str) -> LastRun | None:
        with self.store.connection() as conn:
            row: Any = conn.execute(
                "SELECT finished_at, created, updated, unchanged, failed, cancelled, error, "
                "pulled, conflicts FROM sync_runs WHERE integration = ?",
                (integration,)).fetchone()
        if row is None:
            return None
        return LastRun(datetime.fromisoformat(row[0]), row[1], row[2], row[3], row[4],
                       bool(row[5]), row[6], row[7], row[8])
