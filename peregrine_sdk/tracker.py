"""One base for the job trackers (Notion, Airtable, Google Sheets): what they share.

A tracker keeps one record per job, found by the job's global ``uid`` in its "Peregrine ID"
column.  Besides pushing (``record_for`` / ``push_jobs``) it lists its records
(``list_records``): every record, or only those edited since a cursor, each with its values as
*forms* — the text a value takes in that tracker (a salary in a Number column is "80000", a
checkbox "Yes").  The sync engine compares local forms, remote forms and the forms last synced,
field by field (a three-way merge), so a value that only changed shape never counts as an edit.

Text limits are counted the way the services count them: Notion in UTF-16 code units.
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar

from peregrine_sdk.base import IntegrationBase
from peregrine_sdk.capabilities import JobSync
from peregrine_sdk.errors import ErrorKind, IntegrationError
from peregrine_sdk.job_columns import STATUS_LABELS, job_value, parse_number, resolve_mapping

#: Job fields whose form is "Yes"/"No", a date, or a date and time.
BOOL_FIELDS = frozenset({"remote"})
DATE_FIELDS = frozenset({"date_found", "applied_on", "deadline", "next_action_on"})
DATETIME_FIELDS = frozenset({"interview_at"})
MULTILINE_FIELDS = frozenset({"notes", "description"})
#: The eleven fields trackers showed before the job's global identity (for re-keying old maps).
LEGACY_FIELDS = ("title", "company", "status", "url", "location", "remote", "salary",
                 "date_found", "interview_at", "source", "notes")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_STATUS_OF = {label.lower(): key for key, label in STATUS_LABELS.items()}
_TRUE = {"yes", "true", "1", "y", "x", "✓", "on", "checked", "remote"}


def looks_like_uid(key: str) -> bool:
    """True for a global job identity (as opposed to an old install's integer id)."""
    return bool(_UUID.match(key.strip().lower()))


# -- text limits in UTF-16 code units -----------------------------------------------------------
def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def cut_utf16(text: str, limit: int) -> str:
    """The longest start of ``text`` within ``limit`` UTF-16 units, never half an emoji."""
    if len(text) * 2 <= limit or utf16_len(text) <= limit:
        return text
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def chunks_utf16(text: str, limit: int, max_chunks: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` UTF-16 units (at most ``max_chunks`` pieces)."""
    chunks: list[str] = []
    rest = text
    while rest and len(chunks) < max_chunks:
        piece = cut_utf16(rest, limit)
        chunks.append(piece)
        rest = rest[len(piece):]
    return chunks


# -- forms ----------------------------------------------------------------------------------------
def _number_text(number: float | None) -> str:
    if number is None:
        return ""
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def _instant_text(value: str) -> str:
    """An ISO date and time in UTC ("2026-12-03T13:00:00Z"); unparseable text as it is."""
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is None:
        return text
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


Limit = int | tuple[int, int] | None


def form(field_name: str, column_kind: str, value: Any, limit: Limit = None) -> str:
    """The text ``value`` of job field ``field_name`` takes in a column of ``column_kind``
    ("text", "number", "date", "checkbox", "choice"), read from the job or from the tracker.
    ``limit``: UTF-16 units, or (units per piece, pieces) for text kept in pieces (Notion)."""
    if isinstance(value, list):           # multi-select and rich-text pieces, already plain
        value = ", ".join(str(v) for v in value if v not in (None, ""))
    if field_name in BOOL_FIELDS or column_kind == "checkbox":
        if isinstance(value, bool):
            return "Yes" if value else "No"
        return "Yes" if str(value or "").strip().lower() in _TRUE else "No"
    text = "" if value is None else str(value).strip()
    if not text:
        return ""
    if field_name == "status":
        key = _STATUS_OF.get(text.lower()) or _STATUS_OF.get(text.lower().replace("_", " "))
        return STATUS_LABELS.get(key or text, text)
    if column_kind == "number":
        return _number_text(parse_number(value))
    if field_name in DATETIME_FIELDS:
        return _instant_text(text)
    if field_name in DATE_FIELDS or column_kind == "date":
        return text[:10] if re.match(r"^\d{4}-\d\d-\d\d", text) else text
    if column_kind == "choice":
        text = text.replace(",", " ")
    if field_name not in MULTILINE_FIELDS:
        text = " ".join(text.split())       # as the job store keeps one-line text
    if isinstance(limit, tuple):
        return "".join(chunks_utf16(text, *limit))
    return cut_utf16(text, limit) if limit else text


def job_change(field_name: str, remote_form: str) -> Any:
    """The value to store in the job for a tracker's form of ``field_name``; raises ValueError
    when the tracker holds something the job cannot (a stage Peregrine does not have)."""
    if field_name in BOOL_FIELDS:
        return remote_form == "Yes"
    if field_name == "status":
        key = _STATUS_OF.get(remote_form.lower())
        if key is None:
            raise ValueError(f"“{remote_form}” is not a Peregrine stage")
        return key
    if field_name in DATE_FIELDS and remote_form and not re.match(r"^\d{4}-\d\d-\d\d$",
                                                                 remote_form):
        raise ValueError(f"“{remote_form}” is not a date")
    return remote_form or None if field_name in DATE_FIELDS | DATETIME_FIELDS else remote_form


def digest(record: Any) -> str:
    """A stable hash of a record (the sync map keeps one per job)."""
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class SchemaCache:
    """A tracker's columns, kept for a few minutes between syncs of one app session, so an
    automatic pull costs its one listing request and not the schema reads around it.  A
    connection test always reads afresh (:meth:`drop`), and so does anything after ``ttl``."""

    #: Every cache made, for :meth:`clear_all`.
    _every: ClassVar[weakref.WeakSet[SchemaCache]] = weakref.WeakSet()

    def __init__(self, ttl: float = 600.0) -> None:
        self.ttl = ttl
        self._entries: dict[tuple, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        SchemaCache._every.add(self)

    def get(self, key: tuple) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or time.monotonic() - entry[0] > self.ttl:
                self._entries.pop(key, None)
                return None
            return entry[1]

    def put(self, key: tuple, value: Any) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic(), value)

    def drop(self, key: tuple) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    @classmethod
    def clear_all(cls) -> None:
        """Forget every table in every cache.  The test kit does so before each test: emulated
        services come and go on reused loopback ports, so one test's columns (a table without
        "Salary", say) could otherwise be taken for a later test's table at the same address."""
        for cache in list(cls._every):
            cache.clear()


def cache_key(*parts: str) -> tuple:
    """A cache key naming the service address, the table and (hashed) the credential."""
    return tuple(hashlib.sha256(p.encode()).hexdigest()[:16] for p in parts)


class RecordGone(IntegrationError):
    """A record the sync map points to was deleted in the tracker: reported, never recreated
    behind the user's back (the sync summary offers "Delete here too" and "Push again")."""

    def __init__(self, where: str) -> None:
        super().__init__(ErrorKind.NOT_FOUND, f"This record was deleted in {where}.")


@dataclass(frozen=True)
class RemoteRecord:
    """One record as the tracker holds it: ``key`` is its Peregrine ID ('' for a row the user
    added there), ``values`` job field → form for every mapped column the tracker has."""

    remote_id: str
    key: str
    values: dict[str, str]
    edited_at: str = ""


@dataclass
class Listing:
    """What ``list_records`` found.  ``complete``: every record of the table was listed, so a
    linked record missing from it was deleted.  ``cursor``: pass it as ``since`` next time."""

    records: list[RemoteRecord] = field(default_factory=list)
    complete: bool = True
    cursor: str = ""


class TrackerBase(IntegrationBase, JobSync):
    """Notion, Airtable and Google Sheets: settings, mapping, forms, the guide's ``sync``."""

    config: dict
    _client: Any = None
    #: Column kind → the most UTF-16 units a value may have there (None: no limit).
    TEXT_LIMIT: int | None = None

    @property
    def api_url(self) -> str:
        return self.endpoint("api_url")

    @property
    def key_column(self) -> str:
        return str(self.config.get("key_column") or JobSync.KEY_COLUMN)

    @property
    def request_count(self) -> int:
        return self._client.request_count if self._client else 0

    # -- what a tracker describes about itself ----------------------------------------------------
    def mapping(self) -> dict[str, str]:
        """Job field → the column it goes to, among the columns the tracker really has."""
        return resolve_mapping(self.config, self.known_columns())

    def known_columns(self) -> dict[str, Any] | None:
        """The tracker's columns (name → anything), or None when it cannot tell."""
        return None

    def column_kind(self, column: str) -> tuple[str, Limit]:
        """("text" | "number" | "date" | "checkbox" | "choice", limit) of a column."""
        return "text", self.TEXT_LIMIT

    def local_forms(self, job: dict) -> dict[str, str]:
        """Field → the form the job's value takes in this tracker, for every mapped field."""
        forms = {}
        for field_name, column in self.mapping().items():
            kind, limit = self.column_kind(column)
            forms[field_name] = form(field_name, kind, job_value(job, field_name), limit)
        return forms

    def record_for(self, job: dict, fields: Any = None, key: bool = True) -> dict:
        """Column → plain value for ``job`` (only ``fields`` when given), with its uid in the
        key column unless ``key`` is False (an update of a record already keyed)."""
        record: dict[str, Any] = {self.key_column: str(job.get("uid") or job["id"])} \
            if key else {}
        for field_name, column in self.mapping().items():
            if fields is None or field_name in fields:
                record[column] = job_value(job, field_name)
        return record

    def legacy_digest(self, job: dict) -> str:
        """The hash an older version kept for ``job`` (integer key, eleven fields): equal to the
        map's hash when the job did not change since that version last pushed it."""
        record: dict[str, Any] = {self.key_column: str(job["id"])}
        for field_name, column in resolve_mapping(self.config, None).items():
            if field_name in LEGACY_FIELDS:
                record[column] = job_value(job, field_name)
        return digest(record)

    # -- the protocol every tracker implements ----------------------------------------------------
    def list_records(self, since: str | None = None) -> Listing:
        raise NotImplementedError

    def push_jobs(self, writes: list[JobSync.Write]) -> Iterator[JobSync.Outcome]:
        raise NotImplementedError

    def delete_records(self, remote_ids: list[str]) -> Iterator[tuple[str, Exception | None]]:
        """Remove these records; yields (remote_id, None) when gone, or with the error."""
        raise NotImplementedError

    # -- the guide's interface ----------------------------------------------------------------------
    def find_jobs(self, jobs: list[dict]) -> dict[int, str]:
        """The remote id of each of ``jobs`` that exists remotely, found by its uid."""
        by_key = {r.key: r.remote_id for r in reversed(self.list_records(None).records) if r.key}
        return {int(job["id"]): by_key[str(job.get("uid"))] for job in jobs
                if str(job.get("uid")) in by_key}

    def sync(self, jobs: list[dict]) -> int:
        """Update each job's record or create it (found by uid); how many were written."""
        found = self.find_jobs(jobs)
        writes = [JobSync.Write(job, self.record_for(job), found.get(int(job["id"])))
                  for job in jobs]
        return sum(1 for outcome in self.push_jobs(writes) if outcome.error is None)
