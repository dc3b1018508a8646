"""JobStore: the job pipeline in SQLite — one file, versioned schema, every batch one transaction.

The schema of the jobs themselves is versioned with ``PRAGMA user_version`` and a list of forward
migrations.  Other parts of the app (sync map, outbox, documents) keep their own tables in the same
file, each versioned separately in ``schema_versions`` through :func:`register_schema` or
:meth:`JobStore.ensure_schema`, so nobody has to coordinate migration numbers.

Each thread gets its own connection (WAL lets the UI read while a worker imports), and
:meth:`JobStore.transaction` is the one way to change several rows at once.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from peregrine_desktop.jobs import statuses

log = logging.getLogger(__name__)

DB_FILENAME = "jobs.sqlite3"
#: SQLite's companions of a database file; they belong with it wherever it goes.
COMPANION_SUFFIXES: tuple[str, ...] = ("-wal", "-shm", "-journal")
#: How long a connection waits for another one's write transaction before "database is locked".
BUSY_TIMEOUT = 10.0

#: The job dict contract, in display/export order.
JOB_FIELDS: tuple[str, ...] = (
    "id", "uid", "title", "company", "url", "source", "location", "remote", "salary",
    "description", "notes", "date_found", "applied_on", "deadline", "next_action_on",
    "next_action_note", "status", "interview_at", "interview_tz", "updated_at")
#: What a caller may set; ``id``, ``uid`` and ``updated_at`` belong to the store (a ``uid`` may
#: be given when a job is added, to adopt an identity that already exists elsewhere).
EDITABLE_FIELDS: tuple[str, ...] = tuple(f for f in JOB_FIELDS
                                         if f not in ("id", "uid", "updated_at"))
#: Date-only fields (``YYYY-MM-DD``) besides ``date_found``; empty means not set.
OPTIONAL_DATE_FIELDS: tuple[str, ...] = ("applied_on", "deadline", "next_action_on")
#: What the table needs: everything but the long description and the history.
SUMMARY_FIELDS: tuple[str, ...] = tuple(f for f in JOB_FIELDS if f != "description")
#: Read of every job once the pipeline is on screen, not before its first paint: only the
#: filter, tooltips, excluded keywords and a job's own page use them (a fifth of the columns,
#: a third of the reading time for 10,000 jobs).
LATER_FIELDS: tuple[str, ...] = ("url", "notes", "uid", "updated_at")
#: What the pipeline's first paint reads of every job.
FIRST_FIELDS: tuple[str, ...] = tuple(f for f in SUMMARY_FIELDS if f not in LATER_FIELDS)
#: The pipeline's opening order: undated jobs, then by date found, newest first; the same date
#: by id, highest first.
_OPENING_ORDER = "COALESCE(date_found, '') = '' DESC, COALESCE(date_found, '') DESC, id DESC"
#: Indexes that only make reading faster.  Made when missing rather than by a migration: they
#: change no data, so an older Peregrine still opens the file (and SQLite keeps every index
#: current, whichever version writes).  ``jobs_first_screen`` holds FIRST_FIELDS in the opening
#: order, so the first paint reads them without touching the rows' long descriptions and
#: without a sort; rename it when FIRST_FIELDS changes (a test checks that it still covers them).
_READING_INDEXES = (
    f"CREATE INDEX IF NOT EXISTS jobs_first_screen ON jobs({_OPENING_ORDER}, "
    f"{', '.join(f for f in FIRST_FIELDS if f != 'id')})",
)
_TEXT_FIELDS = ("title", "company", "url", "source", "location", "salary", "description", "notes",
                "next_action_note")
_SEARCHED = ("title", "company", "location", "salary", "source", "url", "notes")

Migration = str | Callable[[sqlite3.Connection], None]


def _summary_columns(fields: Sequence[str]) -> str:
    """The SELECT list for summary ``fields`` (a missing URL reads as "")."""
    return ", ".join("COALESCE(url, '') AS url" if f == "url" else f for f in fields)


def summaries_query(fields: Sequence[str], newest_first: bool) -> str:
    """The SELECT behind :meth:`JobStore.summaries`."""
    return (f"SELECT {_summary_columns(fields)} FROM jobs "
            f"ORDER BY {_OPENING_ORDER if newest_first else 'id'}")


def new_uid() -> str:
    """A job's global identity: the same in every install and every service it reaches."""
    import uuid   # here, not at the top: opening the store for the first paint needs none of it

    return str(uuid.uuid4())


def _add_identity_and_dates(conn: sqlite3.Connection) -> None:
    """Schema 2: a global id per job (existing jobs get one), and the dates that matter — applied
    (filled from the history), deadline and a next action with its note."""
    for column in ("uid TEXT", "applied_on TEXT", "deadline TEXT", "next_action_on TEXT",
                   "next_action_note TEXT NOT NULL DEFAULT ''"):
        conn.execute(f"ALTER TABLE jobs ADD COLUMN {column}")
    ids = [row[0] for row in conn.execute("SELECT id FROM jobs")]
    conn.executemany("UPDATE jobs SET uid = ? WHERE id = ?", [(new_uid(), i) for i in ids])
    conn.execute("CREATE UNIQUE INDEX jobs_uid ON jobs(uid)")
    conn.execute("""UPDATE jobs SET applied_on = (
        SELECT substr(min(at), 1, 10) FROM status_history h
        WHERE h.job_id = jobs.id AND h.status = 'applied')""")

#: Forward migrations of the jobs schema; user_version N means the first N have run.
MIGRATIONS: list[Migration] = [
    f"""
    CREATE TABLE jobs (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,  -- ids are never reused
        title        TEXT NOT NULL DEFAULT '',
        company      TEXT NOT NULL DEFAULT '',
        url          TEXT,
        source       TEXT NOT NULL DEFAULT '',
        location     TEXT NOT NULL DEFAULT '',
        remote       INTEGER NOT NULL DEFAULT 0 CHECK (remote IN (0, 1)),
        salary       TEXT NOT NULL DEFAULT '',
        description  TEXT NOT NULL DEFAULT '',
        notes        TEXT NOT NULL DEFAULT '',
        date_found   TEXT NOT NULL,
        status       TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ({", ".join(repr(s) for s in statuses.STATUSES)})),
        interview_at TEXT,
        interview_tz TEXT,
        updated_at   TEXT NOT NULL
    );
    CREATE UNIQUE INDEX jobs_url ON jobs(url) WHERE url IS NOT NULL;
    CREATE INDEX jobs_status ON jobs(status);
    CREATE TABLE status_history (
        id      INTEGER PRIMARY KEY,
        job_id  INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        status  TEXT NOT NULL,
        at      TEXT NOT NULL
    );
    CREATE INDEX status_history_job ON status_history(job_id, id);
    CREATE TABLE schema_versions (
        component TEXT PRIMARY KEY,
        version   INTEGER NOT NULL
    );
    """,
    _add_identity_and_dates,
]

_registered: dict[str, list[Migration]] = {}


def register_schema(component: str, migrations: Sequence[Migration]) -> None:
    """Declare another component's tables; every store opened afterwards brings them up to date.

    ``migrations`` only ever grows: entry N runs once, in order, when the file is at version N.
    """
    _registered[component] = list(migrations)


class StoreError(Exception):
    """A problem with the job database a person can act on (the message says how)."""


DISK_FULL = ("The disk holding your job database is full, so nothing was saved. Free some "
             "space, then try again.")


def _is_disk_full(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or \
        "disk is full" in str(error)


class SchemaTooNewError(StoreError):
    pass


def make_private(path: Path) -> None:
    """The database and its companions readable by this user only (0600): notes, outbox and
    activity are nobody else's business.  SQLite gives -wal/-shm the database's mode."""
    for file in (path, *(path.with_name(path.name + s) for s in COMPANION_SUFFIXES)):
        try:
            if file.stat().st_mode & 0o077:
                os.chmod(file, 0o600)
        except OSError:
            pass


class JobValidationError(StoreError, ValueError):
    """A job's values are not acceptable; the message is a sentence for the user."""


class DuplicateJobError(JobValidationError):
    def __init__(self, url: str, existing: dict | None, same_identity: bool = False) -> None:
        self.url, self.existing = url, existing
        title = f" (“{existing['title']}”)" if existing and existing.get("title") else ""
        what = "this identity" if same_identity else "this address"
        super().__init__(f"You already have a job with {what}{title}.")


class JobNotFoundError(StoreError, LookupError):
    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        super().__init__(f"Job {job_id} no longer exists; it may have been deleted.")


@dataclass
class BulkReport:
    """What :meth:`JobStore.add_many` did: the new ids, and each skipped input with its reason."""

    added_ids: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)   # (index in input, reason)

    @property
    def added(self) -> int:
        return len(self.added_ids)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def split_statements(script: str) -> list[str]:
    """Split a SQL script into complete statements (triggers included) without executescript,
    which would commit the surrounding transaction."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL statement: {buffer.strip()[:60]}")
    return statements


def _run_migration(conn: sqlite3.Connection, migration: Migration) -> None:
    if callable(migration):
        migration(conn)
    else:
        for statement in split_statements(migration):
            conn.execute(statement)


# -- value cleaning ---------------------------------------------------------------------------------
_TRUE = {"1", "true", "yes", "y", "x", "remote", "on", "✓"}
_FALSE = {"", "0", "false", "no", "n", "off", "onsite", "on-site"}


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    text = str(value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise JobValidationError(f"“{value}” is not yes or no (for Remote).")


#: How date fields are named in messages.
DATE_LABELS = {"date_found": "Date found", "applied_on": "Applied", "deadline": "Deadline",
               "next_action_on": "Next action"}


def _as_date(value: Any, key: str = "date_found") -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value or "").strip()
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise JobValidationError(
            f"“{text}” is not a date like 2026-03-14 (for {DATE_LABELS[key]}).") from None


def _as_uid(value: Any) -> str:
    import uuid

    try:
        return str(uuid.UUID(str(value).strip()))
    except ValueError:
        raise JobValidationError(f"“{value}” is not a job identity (a UUID).") from None


def _as_instant(value: Any, timespec: str | None = None) -> str | None:
    """``value`` as ISO 8601 with its offset: to the minute when it has no seconds (an interview
    time as typed), unless ``timespec`` says otherwise."""
    if value in (None, ""):
        return None
    moment = value if isinstance(value, datetime) else None
    if moment is None:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise JobValidationError(
                f"“{value}” is not a date and time like 2026-03-14T15:00:00+01:00 "
                "(for Interview).") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise JobValidationError("The interview time needs its UTC offset or time zone.")
    return moment.isoformat(timespec=timespec or ("minutes" if moment.second == 0 else "seconds"))


def _as_zone(value: Any) -> str | None:
    if value in (None, ""):
        return None
    name = str(value).strip()
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise JobValidationError(f"“{name}” is not a known time zone (like Europe/Berlin).") \
            from None
    return name


def _as_url(value: Any) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    import unicodedata  # where used: its tables load as a 1 MB extension module

    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text):
        # a line break would end an iCalendar line or an HTTP header downstream
        raise JobValidationError("A web address cannot contain line breaks or control "
                                 f"characters (in “{text.encode('unicode_escape').decode()}”).")
    try:
        parts = urlsplit(text)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:   # "http://[::1" and other unparseable hosts
        valid = False
    if not valid or any(ch.isspace() for ch in text):
        raise JobValidationError(f"“{text}” is not a web address (one starts with https://).")
    return text


def clean_job_values(values: Mapping[str, Any], partial: bool = False) -> dict[str, Any]:
    """Check and normalise job values into their stored form (``url`` None when empty).

    With ``partial`` only the given keys are returned (for updates); otherwise missing fields get
    their defaults.  Raises :class:`JobValidationError` with a sentence naming the problem.
    """
    unknown = set(values) - set(EDITABLE_FIELDS) - {"id", "uid", "updated_at", "status_history"}
    if unknown:
        raise JobValidationError("Unknown job field(s): " + ", ".join(sorted(unknown)) + ".")
    source = dict(values) if partial else {
        "title": "", "company": "", "url": "", "source": "", "location": "", "remote": False,
        "salary": "", "description": "", "notes": "", "date_found": date.today().isoformat(),
        "applied_on": None, "deadline": None, "next_action_on": None, "next_action_note": "",
        "status": statuses.PENDING, "interview_at": None, "interview_tz": None, **values}
    out: dict[str, Any] = {}
    for key, value in source.items():
        if key not in EDITABLE_FIELDS:
            continue
        if key == "url":
            out[key] = _as_url(value)
        elif key in _TEXT_FIELDS:
            text = "" if value is None else str(value)
            if "\0" in text:
                raise JobValidationError(f"The {key.replace('_', ' ')} holds a NUL character, "
                                         "which no text can contain; the file may be damaged.")
            out[key] = text if key in ("description", "notes") else " ".join(text.split())
        elif key == "remote":
            out[key] = _as_bool(value)
        elif key == "date_found":
            out[key] = _as_date(value) if value not in (None, "") else date.today().isoformat()
        elif key in OPTIONAL_DATE_FIELDS:
            out[key] = _as_date(value, key) if value not in (None, "") else None
        elif key == "status":
            status = statuses.normalise(str(value or statuses.PENDING))
            if status is None:
                raise JobValidationError(f"“{value}” is not a pipeline status.")
            out[key] = status
        elif key == "interview_at":
            out[key] = _as_instant(value)
        elif key == "interview_tz":
            out[key] = _as_zone(value)
    if "title" in out and not out["title"]:
        raise JobValidationError("A job needs a title.")
    if not partial and out["interview_at"] is None:
        out["interview_tz"] = None
    return out


def _clean_history(entries: Any) -> list[dict[str, str]]:
    history = []
    for entry in entries or ():
        status = statuses.normalise(str(entry.get("status", "")))
        if status is None:
            raise JobValidationError(f"“{entry.get('status')}” in the status history is not a "
                                     "pipeline status.")
        # To the second, as the store writes its own (utc_now): an exported history reads back
        # the same text, a change made on the hour included.
        at = _as_instant(entry.get("at"), timespec="seconds")
        if at is None:
            raise JobValidationError("Every status history entry needs its time.")
        history.append({"status": status, "at": at})
    return history


def _job_from_row(row: sqlite3.Row) -> dict[str, Any]:
    job = dict(row)
    if "url" in job:
        job["url"] = job["url"] or ""
    if "remote" in job:
        job["remote"] = bool(job["remote"])
    return job


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class JobStore:
    """The job database.  Safe to use from several threads (one connection each)."""

    def __init__(self, path: str | Path, open_timeout: float = BUSY_TIMEOUT) -> None:
        """``open_timeout``: how long opening waits for another program's write transaction
        (start-up waits less than later work, then tells the user)."""
        self.path = Path(path)
        if not self.path.parent.is_dir():
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        make_private(self.path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        self._closed = False
        self._timeout = open_timeout
        self._version_checked = False
        try:
            self._migrate()
            for component, migrations in list(_registered.items()):
                self.ensure_schema(component, migrations)
        except BaseException:
            self.close()
            raise
        if open_timeout != BUSY_TIMEOUT:
            self._timeout = BUSY_TIMEOUT
            with self._guard:
                for conn in self._connections:
                    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")

    @classmethod
    def open_default(cls) -> "JobStore":
        """The store in the user's data folder (``--data-dir`` / PEREGRINE_DATA_DIR honoured)."""
        from peregrine_desktop.settings import paths

        return cls(paths.data_dir() / DB_FILENAME)

    # -- connections and transactions -------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError("The job database was closed.")
        conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None,
                               check_same_thread=False)
        conn.row_factory = sqlite3.Row
        if not self._version_checked:
            # Before anything may write (journal_mode changes the header): a database from a
            # newer app is refused untouched.  Read through SQLite, never by opening the file
            # ourselves: closing our own descriptor would drop SQLite's POSIX locks.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                conn.close()
                raise SchemaTooNewError(
                    f"The job database at {self.path} was written by a newer version of "
                    "Peregrine; update the app to open it.")
            self._version_checked = True
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        with self._guard:
            self._connections.append(conn)
        return conn

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection (autocommit unless inside :meth:`transaction`)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
            self._local.depth = 0
        yield conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All changes inside commit together or not at all; nested uses join the outer one."""
        with self.connection() as conn:
            if self._local.depth:
                self._local.depth += 1
                try:
                    yield conn
                finally:
                    self._local.depth -= 1
                return
            conn.execute("BEGIN IMMEDIATE")
            self._local.depth = 1
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:   # SQLite already rolled back after "disk full"
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError) and _is_disk_full(exc):
                    raise StoreError(DISK_FULL) from exc
                raise
            finally:
                self._local.depth = 0

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._guard:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
            self._closed = True

    # -- schema -------------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        with self.connection() as conn:
            return conn.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        with self.transaction() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise SchemaTooNewError(
                    f"The job database at {self.path} was written by a newer version of "
                    "Peregrine; update the app to open it.")
            for number in range(version, len(MIGRATIONS)):
                log.info("migrating %s to schema %d", self.path, number + 1)
                _run_migration(conn, MIGRATIONS[number])
                conn.execute(f"PRAGMA user_version = {number + 1}")
            for statement in _READING_INDEXES:
                conn.execute(statement)

    def ensure_schema(self, component: str, migrations: Sequence[Migration]) -> int:
        """Bring ``component``'s own tables up to date in one transaction; returns its version."""
        with self.transaction() as conn:
            row = conn.execute("SELECT version FROM schema_versions WHERE component = ?",
                               (component,)).fetchone()
            version = row[0] if row else 0
            if version > len(migrations):
                raise SchemaTooNewError(
                    f"The {component} tables in {self.path} were written by a newer version of "
                    "Peregrine; update the app to open them.")
            for number in range(version, len(migrations)):
                _run_migration(conn, migrations[number])
            conn.execute("INSERT INTO schema_versions(component, version) VALUES (?, ?) "
                         "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                         (component, len(migrations)))
            return len(migrations)

    def integrity_check(self) -> list[str]:
        """Problems SQLite finds in the file and its foreign keys; empty when all is well."""
        return self._check("integrity_check")

    def quick_check(self) -> list[str]:
        """:meth:`integrity_check` less its comparison of each index with the rows: linear in
        the file's size where the full check is N log N (about half the time for 10,000 jobs),
        so a start can afford it before the first paint."""
        return self._check("quick_check")

    def _check(self, pragma: str) -> list[str]:
        with self.connection() as conn:
            problems = [row[0] for row in conn.execute(f"PRAGMA {pragma}") if row[0] != "ok"]
            problems += [f"{row[0]} row {row[1]} points to a missing {row[2]} row"
                         for row in conn.execute("PRAGMA foreign_key_check")]
        return problems

    def rebuild_indexes(self) -> None:
        """Every index made again from the rows (which an index only mirrors)."""
        with self.transaction() as conn:
            conn.execute("REINDEX")

    # -- reading ------------------------------------------------------------------------------------
    def get(self, job_id: int, with_history: bool = True) -> dict[str, Any] | None:
        with self.connection() as conn:
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            job = _job_from_row(row)
            if with_history:
                job["status_history"] = self._history(conn, job_id)
            return job

    def _require(self, conn: sqlite3.Connection, job_id: int) -> dict[str, Any]:
        row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise JobNotFoundError(job_id)
        return _job_from_row(row)

    def find_by_uid(self, uid: str) -> dict[str, Any] | None:
        with self.connection() as conn:
            row = conn.execute("SELECT * FROM jobs WHERE uid = ?", (uid,)).fetchone()
            return None if row is None else _job_from_row(row)

    def find_by_url(self, url: str) -> dict[str, Any] | None:
        url = (url or "").strip()
        if not url:
            return None
        with self.connection() as conn:
            row = conn.execute("SELECT * FROM jobs WHERE url = ?", (url,)).fetchone()
            return _job_from_row(row) if row else None

    def existing_urls(self) -> set[str]:
        with self.connection() as conn:
            return {row[0] for row in conn.execute("SELECT url FROM jobs WHERE url IS NOT NULL")}

    def list_jobs(self, status: str | None = None, text: str | None = None,
                  with_history: bool = True) -> list[dict[str, Any]]:
        """Jobs in the order they were added, optionally one status and/or containing every word
        of ``text`` (in title, company, location, salary, source, URL or notes)."""
        where, params = self._filter(status, text)
        with self.connection() as conn:
            jobs = [_job_from_row(r) for r in
                    conn.execute(f"SELECT * FROM jobs {where} ORDER BY id", params)]
            if with_history:
                self._attach_history(conn, jobs)
        return jobs

    def summaries(self, newest_first: bool = False,
                  fields: Sequence[str] = SUMMARY_FIELDS) -> list[dict[str, Any]]:
        """Every job without description and history: what a table of thousands needs; in the
        order added, or ``newest_first`` (the pipeline's opening order: undated jobs, then by
        date found, newest first; the same date by id, highest first).  ``fields``: a part of
        SUMMARY_FIELDS (with ``id``), for a first screen that reads the rest later."""
        fields = tuple(fields)
        with self.connection() as conn:
            cursor = conn.cursor()
            cursor.row_factory = None       # plain tuples: a third of the time of sqlite3.Row
            rows = cursor.execute(summaries_query(fields, newest_first)).fetchall()
        jobs = [dict(zip(fields, row)) for row in rows]
        if "remote" in fields:
            for job in jobs:
                job["remote"] = bool(job["remote"])
        return jobs

    def summary_columns(self, fields: Sequence[str]) -> dict[int, tuple]:
        """``fields`` of every job by id: the rest of what :meth:`summaries` gave in part."""
        with self.connection() as conn:
            cursor = conn.cursor()
            cursor.row_factory = None
            return {row[0]: row[1:] for row in
                    cursor.execute(f"SELECT id, {_summary_columns(fields)} FROM jobs")}

    def summary(self, job_id: int) -> dict[str, Any] | None:
        job = self.get(job_id, with_history=False)
        if job is not None:
            del job["description"]
        return job

    def get_many(self, ids: Sequence[int], with_history: bool = False) -> list[dict[str, Any]]:
        """Full jobs for ``ids`` in that order (missing ids are left out)."""
        found: dict[int, dict[str, Any]] = {}
        with self.connection() as conn:
            for start in range(0, len(ids), 500):
                chunk = list(ids[start:start + 500])
                marks = ",".join("?" * len(chunk))
                for row in conn.execute(f"SELECT * FROM jobs WHERE id IN ({marks})", chunk):
                    found[row["id"]] = _job_from_row(row)
            jobs = [found[i] for i in ids if i in found]
            if with_history:
                self._attach_history(conn, jobs)
        return jobs

    def counts_by_status(self) -> dict[str, int]:
        counts = dict.fromkeys(statuses.STATUSES, 0)
        with self.connection() as conn:
            for status, count in conn.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status"):
                counts[status] = count
        return counts

    def count(self) -> int:
        with self.connection() as conn:
            return conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]

    def history(self, job_id: int) -> list[dict[str, str]]:
        with self.connection() as conn:
            return self._history(conn, job_id)

    @staticmethod
    def _history(conn: sqlite3.Connection, job_id: int) -> list[dict[str, str]]:
        return [{"status": r[0], "at": r[1]} for r in conn.execute(
            "SELECT status, at FROM status_history WHERE job_id = ? ORDER BY id", (job_id,))]

    @staticmethod
    def _attach_history(conn: sqlite3.Connection, jobs: list[dict[str, Any]]) -> None:
        by_id = {job["id"]: job for job in jobs}
        for job in jobs:
            job["status_history"] = []
        if not jobs:
            return
        rows = conn.execute("SELECT job_id, status, at FROM status_history ORDER BY id") \
            if len(jobs) > 500 else conn.execute(
                f"SELECT job_id, status, at FROM status_history WHERE job_id IN "
                f"({','.join('?' * len(jobs))}) ORDER BY id", list(by_id))
        for job_id, status, at in rows:
            job = by_id.get(job_id)
            if job is not None:
                job["status_history"].append({"status": status, "at": at})

    @staticmethod
    def _filter(status: str | None, text: str | None) -> tuple[str, list[Any]]:
        clauses, params = [], []
        if status:
            clauses.append("status = ?")
            params.append(status)
        for word in (text or "").split():
            clauses.append("(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in _SEARCHED) + ")")
            params.extend([_like(word)] * len(_SEARCHED))
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), params

    # -- writing ------------------------------------------------------------------------------------
    def add_job(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Insert one job (history starts with its status, unless ``status_history`` is given;
        a ``uid`` adopts an identity from elsewhere, otherwise a new one is made)."""
        job = clean_job_values(values)
        job["uid"] = _as_uid(values["uid"]) if values.get("uid") else new_uid()
        history = _clean_history(values.get("status_history"))
        with self.transaction() as conn:
            job_id = self._insert(conn, job, history)
            result = self._require(conn, job_id)
            result["status_history"] = self._history(conn, job_id)
            return result

    def _insert(self, conn: sqlite3.Connection, job: dict[str, Any],
                history: list[dict[str, str]]) -> int:
        if job["url"]:
            existing = conn.execute("SELECT * FROM jobs WHERE url = ?", (job["url"],)).fetchone()
            if existing is not None:
                raise DuplicateJobError(job["url"], _job_from_row(existing))
        uid = job.get("uid") or new_uid()
        if conn.execute("SELECT 1 FROM jobs WHERE uid = ?", (uid,)).fetchone() is not None:
            raise DuplicateJobError(job["url"] or "", self.find_by_uid(uid), same_identity=True)
        now = utc_now()
        if job["applied_on"] is None and job["status"] in statuses.APPLIED_OR_LATER:
            job["applied_on"] = next((h["at"][:10] for h in history
                                      if h["status"] == statuses.APPLIED), now[:10])
        columns = [*EDITABLE_FIELDS, "uid", "updated_at"]
        cursor = conn.execute(
            f"INSERT INTO jobs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [*(job[c] for c in EDITABLE_FIELDS), uid, now])
        job_id = cursor.lastrowid
        if not history or history[-1]["status"] != job["status"]:
            history = [*history, {"status": job["status"], "at": now}]
        conn.executemany("INSERT INTO status_history(job_id, status, at) VALUES (?, ?, ?)",
                         [(job_id, h["status"], h["at"]) for h in history])
        return job_id

    def add_many(self, jobs: Iterable[Mapping[str, Any]],
                 progress: Callable[[int, int], None] | None = None) -> BulkReport:
        """Insert many jobs in one transaction, skipping (with a reason) invalid ones and ones whose
        URL is already stored or appeared earlier in ``jobs``."""
        jobs = list(jobs)
        report = BulkReport()
        added: set[int] = set()
        with self.transaction() as conn:
            for index, values in enumerate(jobs):
                try:
                    job = clean_job_values(values)
                    job["uid"] = _as_uid(values["uid"]) if values.get("uid") else new_uid()
                    history = _clean_history(values.get("status_history"))
                    job_id = self._insert(conn, job, history)
                    report.added_ids.append(job_id)
                    added.add(job_id)
                except DuplicateJobError as exc:
                    earlier = exc.existing is not None and exc.existing["id"] in added
                    report.skipped.append((index, "same URL as an earlier row in this import"
                                           if earlier else "already in your pipeline (same URL)"))
                except JobValidationError as exc:
                    report.skipped.append((index, str(exc)))
                if progress and (index % 250 == 249 or index + 1 == len(jobs)):
                    progress(index + 1, len(jobs))
        return report

    def update_job(self, job_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Apply ``changes``; a status change is validated and recorded in the history.  Nothing
        is written (and ``updated_at`` stays) when the values are already what was asked."""
        clean = clean_job_values(changes, partial=True)
        with self.transaction() as conn:
            job = self._update(conn, job_id, clean)[0]
            job["status_history"] = self._history(conn, job_id)
            return job

    def update_from_elsewhere(self, job_id: int, changes: Mapping[str, Any],
                              also: Callable[[sqlite3.Connection], None] | None = None
                              ) -> dict[str, Any]:
        """Apply changes made to this job elsewhere (a tracker, another computer): a status
        change is recorded in the history but not checked against the moves the pipeline
        offers (it was made already).  ``also(conn)`` runs in the same transaction."""
        clean = clean_job_values(changes, partial=True)
        with self.transaction() as conn:
            job = self._update(conn, job_id, clean, check_move=False)[0]
            if also is not None:
                also(conn)
            job["status_history"] = self._history(conn, job_id)
            return job

    def add_job_with(self, values: Mapping[str, Any],
                     also: Callable[[sqlite3.Connection, dict[str, Any]], None]
                     ) -> dict[str, Any]:
        """``add_job``, with ``also(conn, job)`` in the same transaction (e.g. a sync link)."""
        job = clean_job_values(values)
        job["uid"] = _as_uid(values["uid"]) if values.get("uid") else new_uid()
        with self.transaction() as conn:
            job_id = self._insert(conn, job, _clean_history(values.get("status_history")))
            result = self._require(conn, job_id)
            also(conn, result)
            result["status_history"] = self._history(conn, job_id)
            return result

    def _update(self, conn: sqlite3.Connection, job_id: int,
                clean: dict[str, Any], check_move: bool = True
                ) -> tuple[dict[str, Any], dict[str, Any]]:
        old = self._require(conn, job_id)
        stored_old = {**old, "url": old["url"] or None}
        diff = {k: v for k, v in clean.items() if stored_old.get(k) != v}
        if "interview_at" in diff and diff["interview_at"] is None:
            diff["interview_tz"] = None
        if not diff:
            return old, old
        if "status" in diff and check_move:
            problem = statuses.transition_problem(old["status"], diff["status"],
                                                  self._rejected_from(conn, job_id))
            if problem:
                raise JobValidationError(problem)
        if diff.get("url"):
            clash = conn.execute("SELECT * FROM jobs WHERE url = ? AND id <> ?",
                                 (diff["url"], job_id)).fetchone()
            if clash is not None:
                raise DuplicateJobError(diff["url"], _job_from_row(clash))
        now = utc_now()
        if (diff.get("status") == statuses.APPLIED and old.get("applied_on") is None
                and "applied_on" not in diff):
            diff["applied_on"] = now[:10]
        diff["updated_at"] = now
        conn.execute(f"UPDATE jobs SET {', '.join(f'{k} = ?' for k in diff)} WHERE id = ?",
                     [*diff.values(), job_id])
        if "status" in diff:
            conn.execute("INSERT INTO status_history(job_id, status, at) VALUES (?, ?, ?)",
                         (job_id, diff["status"], now))
        return self._require(conn, job_id), old

    @staticmethod
    def _rejected_from(conn: sqlite3.Connection, job_id: int) -> str | None:
        """The stage held just before the latest rejection (for moving a rejected job back)."""
        rows = [r[0] for r in conn.execute(
            "SELECT status FROM status_history WHERE job_id = ? ORDER BY id DESC LIMIT 20",
            (job_id,))]
        for newer, older in zip(rows, rows[1:]):
            if newer == statuses.REJECTED and older != statuses.REJECTED:
                return older
        return None

    def allowed_statuses(self, job_id: int) -> list[str]:
        """Where this job may move next, for menus."""
        with self.connection() as conn:
            job = self._require(conn, job_id)
            return statuses.allowed_transitions(job["status"], self._rejected_from(conn, job_id))

    def set_status(self, job_id: int, status: str) -> dict[str, Any]:
        return self.update_job(job_id, {"status": status})

    def set_status_many(self, ids: Sequence[int], status: str
                        ) -> tuple[list[tuple[dict, dict]], list[tuple[int, str]]]:
        """Move several jobs in one transaction.  Returns ((new, old) per changed job,
        (id, reason) per job that could not move); the others still move."""
        clean = clean_job_values({"status": status}, partial=True)
        changed, refused = [], []
        with self.transaction() as conn:
            for job_id in ids:
                try:
                    new, old = self._update(conn, job_id, clean)
                except StoreError as exc:
                    refused.append((job_id, str(exc)))
                else:
                    if new is not old:
                        changed.append((new, old))
        return changed, refused

    def delete_job(self, job_id: int) -> dict[str, Any]:
        """Delete one job (and its history); returns it as it was."""
        return self.delete_many([job_id])[0]

    def delete_many(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        """Delete jobs; each comes back as it was, with its history and, under ``dependents``,
        the rows other components keep for it (documents…), so :meth:`restore_jobs` can put
        everything back."""
        with self.transaction() as conn:
            removed = []
            for job_id in ids:
                job = self._require(conn, job_id)
                job["status_history"] = self._history(conn, job_id)
                job["dependents"] = self._dependent_rows(conn, "jobs", [job_id])
                conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
                removed.append(job)
            return removed

    @staticmethod
    def _children(conn: sqlite3.Connection, parent: str) -> list[tuple[str, str, str]]:
        """(table, its column, the parent's column) for every table whose rows are deleted
        with ``parent``'s (ON DELETE CASCADE), the job history excepted."""
        found = []
        tables = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for table in tables:
            if table == "status_history":
                continue
            for key in conn.execute(f'PRAGMA foreign_key_list("{table}")'):
                if key["table"] == parent and key["on_delete"].upper() == "CASCADE":
                    found.append((table, key["from"], key["to"] or "id"))
        return found

    def _dependent_rows(self, conn: sqlite3.Connection, parent: str, keys: list[Any],
                        column: str = "id") -> list[tuple[str, list[dict[str, Any]]]]:
        """Rows of other tables that cascade from ``parent`` rows, parents before children."""
        out: list[tuple[str, list[dict[str, Any]]]] = []
        for table, child_column, parent_column in self._children(conn, parent):
            if parent_column != column or not keys:
                continue
            marks = ",".join("?" * len(keys))
            rows = [dict(r) for r in conn.execute(
                f'SELECT * FROM "{table}" WHERE "{child_column}" IN ({marks})', keys)]
            if rows:
                out.append((table, rows))
                child_keys = [r["id"] for r in rows if "id" in r]
                out.extend(self._dependent_rows(conn, table, child_keys))
        return out

    def restore_jobs(self, jobs: Sequence[Mapping[str, Any]]
                     ) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
        """Put jobs back exactly as ``jobs`` describe them (as :meth:`get` returned them, with
        ``status_history``): a deleted job is re-inserted with its id, uid and history; an
        existing one gets those values and that history back (undoing an edit or a move, which
        the forward-only status rules would refuse).  ``updated_at`` becomes now, so sync sees
        the change.  One transaction; returns (restored, as it was before or None) per job."""
        results = []
        with self.transaction() as conn:
            for snapshot in jobs:
                job_id = int(snapshot["id"])
                clean = clean_job_values({k: v for k, v in snapshot.items()
                                          if k in EDITABLE_FIELDS})
                uid = _as_uid(snapshot["uid"])
                history = _clean_history(snapshot.get("status_history"))
                row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
                before = None
                if row is not None:
                    before = _job_from_row(row)
                    before["status_history"] = self._history(conn, job_id)
                if clean["url"]:
                    clash = conn.execute("SELECT * FROM jobs WHERE url = ? AND id <> ?",
                                         (clean["url"], job_id)).fetchone()
                    if clash is not None:
                        raise DuplicateJobError(clean["url"], _job_from_row(clash))
                clash = conn.execute("SELECT id FROM jobs WHERE uid = ? AND id <> ?",
                                     (uid, job_id)).fetchone()
                if clash is not None:
                    raise DuplicateJobError(clean["url"] or "", self.find_by_uid(uid),
                                            same_identity=True)
                values = {**clean, "uid": uid, "updated_at": utc_now()}
                if row is None:
                    columns = ["id", *values]
                    conn.execute(f"INSERT INTO jobs ({', '.join(columns)}) "
                                 f"VALUES ({', '.join('?' * len(columns))})",
                                 [job_id, *values.values()])
                else:
                    conn.execute(f"UPDATE jobs SET {', '.join(f'{k} = ?' for k in values)} "
                                 "WHERE id = ?", [*values.values(), job_id])
                    conn.execute("DELETE FROM status_history WHERE job_id = ?", (job_id,))
                conn.executemany("INSERT INTO status_history(job_id, status, at) "
                                 "VALUES (?, ?, ?)",
                                 [(job_id, h["status"], h["at"]) for h in history])
                if row is None:
                    for table, rows in snapshot.get("dependents") or ():
                        for values in rows:
                            names = list(values)
                            conn.execute(
                                f'INSERT OR IGNORE INTO "{table}" '
                                f'({", ".join(chr(34) + n + chr(34) for n in names)}) '
                                f'VALUES ({", ".join("?" * len(names))})',
                                [values[n] for n in names])
                restored = self._require(conn, job_id)
                restored["status_history"] = self._history(conn, job_id)
                results.append((restored, before))
        return results
