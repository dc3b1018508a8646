"""What an integration can do beyond testing a connection, declared by mixing in a class.

The app asks ``capabilities_of(cls)`` instead of guessing from method names.  A guide-style plugin
that overrides ``sync()`` counts as :class:`JobSync`, since that is how the guide declares it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import ClassVar


class Capability:
    """Marker base: ``label`` is the phrase on the card; ``methods`` must be implemented."""

    label: ClassVar[str] = ""
    methods: ClassVar[tuple[str, ...]] = ()


class JobSync(Capability):
    """Keeps the job pipeline in a tracker (Notion, Airtable, Google Sheets), both ways.

    A guide-style plugin implements only ``sync(jobs) -> int``.  Built-ins derive from
    :class:`peregrine_sdk.tracker.TrackerBase` and implement the batch protocol
    (``batch_methods``) that lets the sync engine never duplicate a record, spend few requests
    and take in what was edited in the tracker:

    - ``record_for(job, fields=None) -> dict``: what would be written for ``job`` (no network),
      keyed by the job's global ``uid``.
    - ``list_records(since) -> Listing``: every record (``since`` None) or those edited since the
      cursor of the last listing, with their values as forms (see ``peregrine_sdk.tracker``).
    - ``push_jobs(writes: list[JobSync.Write]) -> Iterator[JobSync.Outcome]``: create (no
      ``remote_id``) or update each job in as few requests as the service allows, writing only
      the columns in ``Write.record``, yielding each job's outcome as soon as its write is done.
      A failure of one job is an Outcome with an ``error``; a failure of the whole connection
      (bad token, database gone) is raised.
    - ``delete_records(remote_ids)``: removes records (a job deleted in Peregrine, if the user
      wants its record gone too).

    ``upserts_by_key`` is True when a create is itself idempotent by key (Airtable's
    performUpsert), so creating needs no complete listing first.
    """

    label = "syncs jobs"
    methods = ("sync",)
    batch_methods: ClassVar[tuple[str, ...]] = ("record_for", "list_records", "push_jobs",
                                                "delete_records")
    upserts_by_key: ClassVar[bool] = False
    #: Job fields a tracker shows, with the column name used when the user maps nothing else.
    JOB_COLUMNS: ClassVar[dict[str, str]] = {
        "title": "Name", "company": "Company", "status": "Status", "url": "URL",
        "location": "Location", "remote": "Remote", "salary": "Salary",
        "date_found": "Date found", "interview_at": "Interview", "source": "Source",
        "notes": "Notes", "description": "Description", "applied_on": "Applied on",
        "deadline": "Deadline", "next_action_on": "Next action",
        "next_action_note": "Next action note"}
    KEY_COLUMN: ClassVar[str] = "Peregrine ID"

    @dataclass(frozen=True)
    class Write:
        """One job to write: ``remote_id`` is None to create, else the record to update;
        ``record`` holds only the columns to write."""

        job: dict
        record: dict
        remote_id: str | None = None

    @dataclass(frozen=True)
    class Outcome:
        """What happened to one job: its remote id and whether it was created, or why not."""

        job_id: int
        remote_id: str = ""
        created: bool = False
        error: Exception | None = None
        #: The service's last-edited stamp of the record after this write, when it says.
        edited_at: str = ""

    @staticmethod
    def speaks_batch(obj: object) -> bool:
        """True when ``obj`` implements the whole batch protocol (else only ``sync``)."""
        return all(callable(getattr(obj, name, None)) for name in JobSync.batch_methods)


@dataclass(frozen=True)
class Document:
    """A file to store: ``folder`` is the path below the user's chosen root folder
    (``[Company, Job title]``); ``sha256`` lets a store skip unchanged content."""

    local_path: Path
    folder: tuple[str, ...]
    sha256: str


class DocumentUpload(Capability):
    """Stores a job's documents (résumé, cover letter) in a folder of the service.

    ``upload_document(doc: Document) -> str`` creates missing folders, uploads (replacing an
    older version) and returns where the copy lives (a URL or path a person can open).
    """

    label = "uploads documents"
    methods = ("upload_document",)


@dataclass(frozen=True)
class InterviewEvent:
    """One calendar event: ``uid`` is stable per job, so moving the time updates the same event.

    Normally an interview at a time of day.  With ``all_day`` (a job's deadline or next action,
    sent only to calendars that declare ``peregrine_sdk.hooks.AllDayEvents``) ``start`` and
    ``end`` are plain dates, ``end`` the day after (exclusive, as iCalendar and Google count),
    and ``timezone`` is "": the entry covers that day wherever the person is.
    """

    uid: str
    title: str
    start: datetime | date     # timezone-aware; a date when all_day
    end: datetime | date       # timezone-aware; a date when all_day
    timezone: str              # IANA name, e.g. "Europe/Berlin"; "" when all_day
    description: str = ""
    url: str = ""
    reminder_minutes: int | None = 30
    all_day: bool = False


class CalendarEvents(Capability):
    """Keeps one calendar event per interview.

    ``upsert_event(event: InterviewEvent) -> str`` creates or updates (idempotent by uid) and
    returns the event's location; ``delete_event(uid: str) -> None`` removes it (absent is fine).
    """

    label = "adds interviews to your calendar"
    methods = ("upsert_event", "delete_event")


class Notifications(Capability):
    """Announces pipeline events; ``notify(message, title=..., url=...)`` raises IntegrationError."""

    label = "sends notifications"
    methods = ("notify",)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to a service's length limit, ending in "…" so the reader sees it was cut."""
    return text if len(text) <= limit else text[:max(0, limit - 1)].rstrip() + "…"


ALL_CAPABILITIES: tuple[type[Capability], ...] = (JobSync, DocumentUpload, CalendarEvents,
                                                   Notifications)


def capabilities_of(cls: type) -> list[type[Capability]]:
    from peregrine_sdk.base import IntegrationBase

    found = [cap for cap in ALL_CAPABILITIES if issubclass(cls, cap)]
    if JobSync not in found and getattr(cls, "sync", None) is not IntegrationBase.sync:
        found.insert(0, JobSync)
    return found


def has_capability(cls_or_obj: object, capability: type[Capability]) -> bool:
    cls = cls_or_obj if isinstance(cls_or_obj, type) else type(cls_or_obj)
    return capability in capabilities_of(cls)


def unimplemented(cls: type) -> list[str]:
    """Methods a declared capability requires but the class leaves as the declaration."""
    missing = []
    for cap in ALL_CAPABILITIES:
        if not issubclass(cls, cap):
            continue
        for method in cap.methods:
            impl = getattr(cls, method, None)
            if impl is None or impl is getattr(cap, method, None):
                missing.append(f"{cap.__name__}.{method}")
            elif method == "sync":
                from peregrine_sdk.base import IntegrationBase
                if impl is IntegrationBase.sync:
                    missing.append("JobSync.sync")
    return missing
