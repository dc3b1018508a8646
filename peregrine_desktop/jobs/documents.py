"""A job's documents (résumé, cover letter, any file) and where each copy of them lives.

``documents`` holds one row per file attached to a job: its path on this computer, its name,
SHA-256 and size.  ``revision`` grows each time its content changes or the user asks to upload it
again, so every request is a distinct, replay-safe delivery in the outbox.  ``document_copies``
records, per document and store, the last revision that arrived there (with its location) and the
latest reason a newer one has not.  Both live in the job database, in their own versioned tables.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peregrine_desktop.jobs.store import JobNotFoundError, JobStore, StoreError, utc_now

COMPONENT = "documents"
MIGRATIONS = [
    """
    CREATE TABLE documents (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        local_path  TEXT NOT NULL,
        name        TEXT NOT NULL,
        sha256      TEXT NOT NULL,
        size        INTEGER NOT NULL,
        mtime       REAL NOT NULL DEFAULT 0,
        revision    INTEGER NOT NULL DEFAULT 1,
        added_at    TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        UNIQUE (job_id, name)
    );
    CREATE INDEX documents_job ON documents(job_id);
    CREATE TABLE document_copies (
        document_id    INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        integration    TEXT NOT NULL,
        location       TEXT NOT NULL DEFAULT '',
        sha256         TEXT NOT NULL DEFAULT '',
        revision       INTEGER NOT NULL DEFAULT 0,
        uploaded_at    TEXT,
        error          TEXT,
        error_revision INTEGER NOT NULL DEFAULT 0,
        gave_up        INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (document_id, integration)
    );
    """,
]


class DocumentError(StoreError):
    """A document request that cannot be done; the message says why, for the user."""


@dataclass(frozen=True)
class FileFacts:
    """What a file is now: measured on a worker, since hashing a large file takes a while."""

    sha256: str
    size: int
    mtime: float


def measure(path: Path) -> FileFacts:
    """Hash and stat ``path`` (worker thread); OSError when it cannot be read."""
    from peregrine_sdk.content_hashes import file_hashes

    path = Path(path)
    if not path.is_file():
        raise DocumentError(f"There is no file at {path}.")
    stat = path.stat()
    return FileFacts(file_hashes(path, "sha256")["sha256"], stat.st_size, stat.st_mtime)


def looks_unchanged(path: Path, size: int, mtime: float) -> bool:
    """True when the file still has the size and modification time recorded with its hash."""
    try:
        stat = os.stat(path)
    except OSError:
        return False
    return stat.st_size == size and stat.st_mtime == mtime


@dataclass(frozen=True)
class DocumentCopy:
    """One store's copy: the last revision that arrived (0: none yet) and why a newer one has
    not (``error`` of ``error_revision``; ``gave_up`` when the outbox stopped trying)."""

    integration: str
    location: str = ""
    sha256: str = ""
    revision: int = 0
    uploaded_at: str | None = None
    error: str | None = None
    error_revision: int = 0
    gave_up: bool = False


@dataclass(frozen=True)
class JobDocument:
    id: int
    job_id: int
    local_path: Path
    name: str
    sha256: str
    size: int
    mtime: float
    revision: int
    added_at: str
    updated_at: str
    copies: dict[str, DocumentCopy] = field(default_factory=dict)

    def is_stored_at(self, integration: str) -> bool:
        """True when ``integration`` holds this document's latest requested revision."""
        copy = self.copies.get(integration)
        return bool(copy and copy.revision >= self.revision and copy.location)


def _document(row: Any, copies: dict[str, DocumentCopy]) -> JobDocument:
    return JobDocument(row["id"], row["job_id"], Path(row["local_path"]), row["name"],
                       row["sha256"], row["size"], row["mtime"], row["revision"],
                       row["added_at"], row["updated_at"], copies)


def _copy(row: Any) -> DocumentCopy:
    return DocumentCopy(row["integration"], row["location"], row["sha256"], row["revision"],
                        row["uploaded_at"], row["error"], row["error_revision"],
                        bool(row["gave_up"]))


class JobDocuments:
    """The documents and document_copies tables; safe from the UI thread and workers."""

    def __init__(self, store: JobStore) -> None:
        self.store = store
        store.ensure_schema(COMPONENT, MIGRATIONS)

    # -- reading ------------------------------------------------------------------------------------
    def get(self, document_id: int) -> JobDocument | None:
        with self.store.connection() as conn:
            row = conn.execute("SELECT * FROM documents WHERE id = ?", (document_id,)).fetchone()
            return None if row is None else _document(row, self._copies(conn, [document_id])
                                                      .get(document_id, {}))

    def list_for_job(self, job_id: int) -> list[JobDocument]:
        """The job's documents, by name, each with its copies."""
        with self.store.connection() as conn:
            rows = conn.execute("SELECT * FROM documents WHERE job_id = ? "
                                "ORDER BY name COLLATE NOCASE, id", (job_id,)).fetchall()
            copies = self._copies(conn, [r["id"] for r in rows])
        return [_document(row, copies.get(row["id"], {})) for row in rows]

    @staticmethod
    def _copies(conn: Any, ids: list[int]) -> dict[int, dict[str, DocumentCopy]]:
        found: dict[int, dict[str, DocumentCopy]] = {}
        if not ids:
            return found
        marks = ",".join("?" * len(ids))
        for row in conn.execute(f"SELECT * FROM document_copies WHERE document_id IN ({marks}) "
                                f"ORDER BY integration", ids):
            found.setdefault(row["document_id"], {})[row["integration"]] = _copy(row)
        return found

    # -- changing -----------------------------------------------------------------------------------
    def attach(self, job_id: int, path: Path, facts: FileFacts) -> tuple[JobDocument, bool]:
        """Attach the file at ``path``; a document of the same name on this job is updated
        instead (it is the same file in the stores).  Returns the document and whether its
        content is new (so it must be uploaded)."""
        path = Path(path).absolute()
        stamp = utc_now()
        with self.store.transaction() as conn:
            if conn.execute("SELECT 1 FROM jobs WHERE id = ?", (job_id,)).fetchone() is None:
                raise JobNotFoundError(job_id)
            row = conn.execute("SELECT * FROM documents WHERE job_id = ? AND name = ?",
                               (job_id, path.name)).fetchone()
            if row is None:
                cursor = conn.execute(
                    "INSERT INTO documents(job_id, local_path, name, sha256, size, mtime, "
                    "revision, added_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)",
                    (job_id, str(path), path.name, facts.sha256, facts.size, facts.mtime,
                     stamp, stamp))
                document_id, changed = int(cursor.lastrowid), True
            else:
                document_id = row["id"]
                changed = self._update(conn, row, path, facts, stamp, bump=False)
        return self._require(document_id), changed

    def replace(self, document_id: int, path: Path,
                facts: FileFacts) -> tuple[JobDocument, bool]:
        """Put another file in this document's place (a newer résumé with another name, say)."""
        path = Path(path).absolute()
        with self.store.transaction() as conn:
            row = self._row(conn, document_id)
            clash = conn.execute("SELECT id FROM documents WHERE job_id = ? AND name = ? "
                                 "AND id <> ?", (row["job_id"], path.name, document_id)
                                 ).fetchone()
            if clash is not None:
                raise DocumentError(f"This job already has a document named {path.name}; "
                                    f"replace that one instead.")
            changed = self._update(conn, row, path, facts, utc_now(), bump=False)
        return self._require(document_id), changed

    def refresh(self, document_id: int, facts: FileFacts,
                force: bool = False) -> tuple[JobDocument, bool]:
        """Record the file's current content (re-hashed on a worker); with ``force`` a new
        revision is made even when nothing changed ("Upload again")."""
        with self.store.transaction() as conn:
            row = self._row(conn, document_id)
            changed = self._update(conn, row, Path(row["local_path"]), facts, utc_now(),
                                   bump=force)
        return self._require(document_id), changed

    def remove(self, document_id: int) -> JobDocument:
        """Forget a document (its copies in the stores stay); returns it as it was."""
        document = self._require(document_id)
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM documents WHERE id = ?", (document_id,))
        return document

    @staticmethod
    def _update(conn: Any, row: Any, path: Path, facts: FileFacts, stamp: str,
                bump: bool) -> bool:
        """Write new facts; the revision grows when the content or the name changed (or
        ``bump``).  Returns whether it grew."""
        changed = bump or facts.sha256 != row["sha256"] or path.name != row["name"]
        conn.execute("UPDATE documents SET local_path = ?, name = ?, sha256 = ?, size = ?, "
                     "mtime = ?, revision = revision + ?, updated_at = ? WHERE id = ?",
                     (str(path), path.name, facts.sha256, facts.size, facts.mtime,
                      1 if changed else 0, stamp if changed else row["updated_at"], row["id"]))
        return changed

    @staticmethod
    def _row(conn: Any, document_id: int) -> Any:
        row = conn.execute("SELECT * FROM documents WHERE id = ?", (document_id,)).fetchone()
        if row is None:
            raise DocumentError("This document was removed from the job.")
        return row

    def _require(self, document_id: int) -> JobDocument:
        document = self.get(document_id)
        if document is None:
            raise DocumentError("This document was removed from the job.")
        return document

    # -- copies -------------------------------------------------------------------------------------
    def record_copy(self, document_id: int, integration: str, revision: int, location: str,
                    sha256: str) -> bool:
        """A revision arrived at a store; an older one arriving late changes nothing.  Returns
        whether anything was recorded (False also when the document is gone)."""
        with self.store.transaction() as conn:
            if conn.execute("SELECT 1 FROM documents WHERE id = ?",
                            (document_id,)).fetchone() is None:
                return False
            cursor = conn.execute(
                "INSERT INTO document_copies(document_id, integration, location, sha256, "
                "revision, uploaded_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(document_id, integration) DO UPDATE SET "
                "location = excluded.location, sha256 = excluded.sha256, "
                "revision = excluded.revision, uploaded_at = excluded.uploaded_at, "
                "error = CASE WHEN error_revision > excluded.revision THEN error END, "
                "gave_up = CASE WHEN error_revision > excluded.revision THEN gave_up ELSE 0 END "
                "WHERE excluded.revision > document_copies.revision",
                (document_id, integration, location, sha256, revision, utc_now()))
            return bool(cursor.rowcount)

    def record_problem(self, document_id: int, integration: str, revision: int, error: str,
                       gave_up: bool = False) -> bool:
        """Why ``revision`` has not reached a store yet (ignored once it or a newer one has)."""
        with self.store.transaction() as conn:
            if conn.execute("SELECT 1 FROM documents WHERE id = ?",
                            (document_id,)).fetchone() is None:
                return False
            cursor = conn.execute(
                "INSERT INTO document_copies(document_id, integration, error, error_revision, "
                "gave_up) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(document_id, integration) DO UPDATE SET error = excluded.error, "
                "error_revision = excluded.error_revision, gave_up = excluded.gave_up "
                "WHERE excluded.error_revision > document_copies.revision "
                "AND excluded.error_revision >= document_copies.error_revision "
                "AND (document_copies.error IS NOT excluded.error "
                "OR document_copies.gave_up <> excluded.gave_up "
                "OR document_copies.error_revision <> excluded.error_revision)",
                (document_id, integration, error, revision, int(gave_up)))
            return bool(cursor.rowcount)
