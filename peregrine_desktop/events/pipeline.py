"""Pipeline events: what a change to a job means, in words a notifier can send and in the
interview form a calendar stores.  Pure functions of the job dicts, so they are easy to test and
cannot disagree between subscribers.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from peregrine_sdk.calendar_events import CalendarPreferences, event_uid, event_url
from peregrine_sdk.capabilities import InterviewEvent
from peregrine_desktop.jobs import statuses

JOB_ADDED = "job_added"
STATUS_CHANGED = "status_changed"
JOB_REJECTED = "job_rejected"
INTERVIEW_SCHEDULED = "interview_scheduled"
INTERVIEW_MOVED = "interview_moved"
INTERVIEW_CLEARED = "interview_cleared"
INTERVIEW_UPDATED = "interview_updated"     # title, company, link or notes of a booked interview
JOB_REMOVED = "job_removed"
DATES_CHANGED = "dates_changed"         # deadline or next action (or the title they show)

#: Event kind → the choice in the wizard (UserProfile.notify_events) that announces it.
NOTIFY_CHOICE: dict[str, str] = {
    JOB_ADDED: "job_added",
    STATUS_CHANGED: "status_changed",
    INTERVIEW_SCHEDULED: "interview_scheduled",
    INTERVIEW_MOVED: "interview_scheduled",
}
#: Job fields a deadline's or next action's all-day calendar entry is made of.
DATE_FIELDS: tuple[str, ...] = ("deadline", "next_action_on", "next_action_note", "title",
                                "company", "url")
#: Job fields an interview's calendar event is made of.
EVENT_FIELDS: tuple[str, ...] = ("title", "company", "url", "notes", "interview_at",
                                 "interview_tz", "status")


@dataclass(frozen=True)
class PipelineEvent:
    """One thing that happened to a job; ``old`` is the job before (None when it was added)."""

    kind: str
    job: Mapping[str, Any]
    old: Mapping[str, Any] | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def job_id(self) -> int:
        return int(self.job.get("id") or 0)


def has_interview(job: Mapping[str, Any] | None) -> bool:
    """True when the job has an interview a calendar should show."""
    return bool(job and job.get("interview_at") and job.get("status") != statuses.REJECTED)


def events_for_change(new: Mapping[str, Any] | None,
                      old: Mapping[str, Any] | None) -> list[PipelineEvent]:
    """The pipeline events of one repository change (added: old None; removed: new None)."""
    if new is None:
        return [PipelineEvent(JOB_REMOVED, old or {}, old)]
    if old is None:
        found = [PipelineEvent(JOB_ADDED, new)]
        if new.get("interview_at"):
            found.append(PipelineEvent(INTERVIEW_SCHEDULED, new))
        return found
    found = []
    if new.get("status") != old.get("status"):
        found.append(PipelineEvent(STATUS_CHANGED, new, old))
        if new.get("status") == statuses.REJECTED:
            found.append(PipelineEvent(JOB_REJECTED, new, old))
    at, was = new.get("interview_at"), old.get("interview_at")
    if at and not was:
        found.append(PipelineEvent(INTERVIEW_SCHEDULED, new, old))
    elif was and not at:
        found.append(PipelineEvent(INTERVIEW_CLEARED, new, old))
    elif at and (at != was or new.get("interview_tz") != old.get("interview_tz")):
        found.append(PipelineEvent(INTERVIEW_MOVED, new, old))
    elif at and any(new.get(k) != old.get(k) for k in ("title", "company", "url", "notes")):
        found.append(PipelineEvent(INTERVIEW_UPDATED, new, old))
    dated = any(j.get(k) for j in (new, old) for k in ("deadline", "next_action_on"))
    if dated and any(new.get(k) != old.get(k) for k in DATE_FIELDS):
        found.append(PipelineEvent(DATES_CHANGED, new, old))
    return found


# -- interviews ------------------------------------------------------------------------------------
def interview_zone(job: Mapping[str, Any]) -> str:
    """The IANA zone the interview is in: the job's own, else UTC (the stored offset stays)."""
    name = str(job.get("interview_tz") or "")
    try:
        ZoneInfo(name)
        return name
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"


def interview_start(job: Mapping[str, Any]) -> datetime:
    start = datetime.fromisoformat(str(job["interview_at"]))
    if start.tzinfo is None:
        raise ValueError(f"interview time {job['interview_at']!r} has no offset")
    return start.astimezone(ZoneInfo(interview_zone(job)))


def job_phrase(job: Mapping[str, Any]) -> str:
    """"SRE at ACME" (or just the title when the company is unknown)."""
    title = str(job.get("title") or "A job")
    company = str(job.get("company") or "")
    return f"{title} at {company}" if company else title


def interview_title(job: Mapping[str, Any]) -> str:
    return f"Interview: {job.get('title') or 'Job'} @ {job.get('company') or 'unknown company'}"


def interview_description(job: Mapping[str, Any]) -> str:
    """The posting link, then the user's notes."""
    parts = [str(job.get("url") or "").strip(), str(job.get("notes") or "").strip()]
    return "\n\n".join(p for p in parts if p)


def interview_event(job: Mapping[str, Any],
                    preferences: CalendarPreferences = CalendarPreferences(),
                    uid: str | None = None) -> InterviewEvent:
    """The calendar form of a job's interview, at its real time in its own zone (``uid``: an
    existing event's, when the job has one from before; see ``events/event_links``)."""
    start = interview_start(job)
    return InterviewEvent(
        uid=uid or event_uid(job.get("uid") or job["id"]), title=interview_title(job),
        start=start,        end=start + timedelta(minutes=preferences.duration_minutes),
        timezone=interview_zone(job), description=interview_description(job),
        url=event_url(job.get("url")), reminder_minutes=preferences.reminder_minutes)


def event_to_payload(event: InterviewEvent) -> dict[str, Any]:
    return {"uid": event.uid, "title": event.title, "start": event.start.isoformat(),
            "end": event.end.isoformat(), "timezone": event.timezone,
            "description": event.description, "url": event.url,
            "reminder_minutes": event.reminder_minutes,
            **({"all_day": True} if event.all_day else {})}


def event_from_payload(payload: Mapping[str, Any]) -> InterviewEvent:
    parse = date.fromisoformat if payload.get("all_day") else datetime.fromisoformat
    return InterviewEvent(
        uid=payload["uid"], title=payload["title"],
        start=parse(payload["start"]), end=parse(payload["end"]), timezone=payload["timezone"],
        description=payload.get("description", ""), url=payload.get("url", ""),
        reminder_minutes=payload.get("reminder_minutes"),
        all_day=bool(payload.get("all_day")))


def when_text(job: Mapping[str, Any]) -> str:
    """"Sat 14 Mar 2026, 15:00 (Europe/Berlin)": the interview time as people read it."""
    start = interview_start(job)
    return f"{start:%a %d %b %Y, %H:%M} ({interview_zone(job)})"


# -- notifications ---------------------------------------------------------------------------------
def notification_text(event: PipelineEvent) -> str | None:
    """One short line for a notifier, or None when this kind is not announced."""
    job = event.job
    if event.kind == JOB_ADDED:
        where = f" ({job['location']})" if job.get("location") else ""
        return f"New job: {job_phrase(job)}{where}"
    if event.kind == STATUS_CHANGED:
        before = statuses.label(str((event.old or {}).get("status") or ""))
        return (f"{job_phrase(job)}: {before} → "
                f"{statuses.label(str(job.get('status') or ''))}")
    if event.kind == INTERVIEW_SCHEDULED:
        return f"Interview scheduled: {job_phrase(job)}, {when_text(job)}"
    if event.kind == INTERVIEW_MOVED:
        return f"Interview moved: {job_phrase(job)}, now {when_text(job)}"
    return None
