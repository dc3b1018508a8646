"""What every calendar integration shares: the event-settings fields, their parsing, the stable
event UID per job, and the iCalendar (RFC 5545) form of an interview.

A private module (leading underscore), so discovery does not take it for a plugin.  ``icalendar``
is imported inside :func:`as_vcalendar` only, keeping discovery cheap.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from peregrine_sdk.capabilities import InterviewEvent

DEFAULT_DURATION_MINUTES = 60
DEFAULT_REMINDER_MINUTES = 30
UID_DOMAIN = "peregrine.app"
PRODID = "-//Peregrine Desktop//Interviews//EN"

#: The first entry is what a new card shows.
DURATION_CHOICES: list[dict[str, Any]] = [
    {"value": 60, "label": "1 hour"}, {"value": 30, "label": "30 minutes"},
    {"value": 45, "label": "45 minutes"}, {"value": 90, "label": "1½ hours"},
    {"value": 120, "label": "2 hours"}]
REMINDER_CHOICES: list[dict[str, Any]] = [
    {"value": 30, "label": "30 minutes before"}, {"value": 10, "label": "10 minutes before"},
    {"value": 60, "label": "1 hour before"}, {"value": 1440, "label": "1 day before"},
    {"value": 0, "label": "No reminder"}]


def event_fields() -> list[dict[str, Any]]:
    """The settings every calendar card shows below its connection fields."""
    return [
        {"key": "duration_minutes", "label": "Interview length", "type": "choice",
         "required": True, "choices": DURATION_CHOICES,
         "help": "How long the calendar event lasts."},
        {"key": "reminder_minutes", "label": "Reminder", "type": "choice", "required": True,
         "choices": REMINDER_CHOICES, "help": "When the calendar reminds you."},
        {"key": "keep_events", "label": "Keep events when an interview is cleared or the job "
                                        "rejected", "type": "checkbox", "required": False,
         "help": "Otherwise Peregrine removes the event it created."},
    ]


@dataclass(frozen=True)
class CalendarPreferences:
    """How a calendar wants its interview events: length, reminder, and whether to keep them."""

    duration_minutes: int = DEFAULT_DURATION_MINUTES
    reminder_minutes: int | None = DEFAULT_REMINDER_MINUTES
    keep_events: bool = False


def _minutes(value: Any, default: int, allowed: Iterable[int]) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number in set(allowed) else default


def calendar_preferences(config: Mapping[str, Any]) -> CalendarPreferences:
    """Read the event settings from a saved config; anything unusable falls back to defaults."""
    duration = _minutes(config.get("duration_minutes"), DEFAULT_DURATION_MINUTES,
                        (c["value"] for c in DURATION_CHOICES))
    reminder = _minutes(config.get("reminder_minutes"), DEFAULT_REMINDER_MINUTES,
                        (c["value"] for c in REMINDER_CHOICES))
    keep = config.get("keep_events")
    keep = keep if isinstance(keep, bool) else str(keep).lower() in {"true", "yes", "1"}
    return CalendarPreferences(duration, reminder or None, keep)


def event_uid(job_id: int | str) -> str:
    """The one UID a job's interview has in every calendar, so a later change finds it again."""
    return f"peregrine-job-{job_id}@{UID_DOMAIN}"


def event_url(url: str | None) -> str:
    """``url`` when a calendar can carry it; "" for one with whitespace or control characters
    (a line break would end the iCalendar line and start a property of its own)."""
    text = str(url or "")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        return ""
    return text


def as_vcalendar(events: Iterable[InterviewEvent], *, name: str = "") -> bytes:
    """A VCALENDAR holding ``events`` (one VEVENT each, with a display alarm when asked for),
    times in their own zone with the VTIMEZONE definitions a calendar needs."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    import icalendar

    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    if name:
        calendar.add("x-wr-calname", name)
    stamp = datetime.now(timezone.utc).replace(microsecond=0)
    for event in events:
        zone = ZoneInfo(event.timezone) if event.timezone else None
        vevent = icalendar.Event()
        vevent.add("uid", event.uid)
        vevent.add("dtstamp", stamp)
        vevent.add("dtstart", event.start.astimezone(zone) if zone else event.start)
        vevent.add("dtend", event.end.astimezone(zone) if zone else event.end)
        vevent.add("summary", event.title)
        if event.description:
            vevent.add("description", event.description)
        if event_url(event.url):
            vevent.add("url", event_url(event.url))
        if event.reminder_minutes:
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", event.title)
            alarm.add("trigger", timedelta(minutes=-event.reminder_minutes))
            vevent.add_component(alarm)
        calendar.add_component(vevent)
    calendar.add_missing_timezones()
    return calendar.to_ical()
