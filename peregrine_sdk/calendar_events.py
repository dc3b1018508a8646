"""What every calendar integration shares: the event-settings fields, their parsing, the stable
event UID per job, and the iCalendar (RFC 5545) form of an interview.

A private module (leading underscore), so discovery does not take it for a plugin.  ``icalendar``
is imported inside :func:`as_vcalendar` only, keeping discovery cheap.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
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


def event_uid(job_uid: str) -> str:
    """The one UID a job's interview has in every calendar, so a later change finds it again:
    made of the job's global identity (an older version used its local integer id)."""
    return f"peregrine-job-{job_uid}@{UID_DOMAIN}"


#: A job's dated entries that may go to a calendar as all-day events (besides its interview).
DATE_ENTRIES: tuple[str, ...] = ("deadline", "next_action")


def entry_uid(job_uid: str, entry: str) -> str:
    """The UID of a job's all-day ``entry`` ("deadline", "next_action"): one per job and kind,
    the same on every computer, and never the interview's (that one starts "peregrine-job-")."""
    if entry not in DATE_ENTRIES:
        raise ValueError(f"unknown calendar entry {entry!r}")
    return f"peregrine-{entry.replace('_', '-')}-{job_uid}@{UID_DOMAIN}"


def event_url(url: str | None) -> str:
    """``url`` when a calendar can carry it; "" for one with whitespace or control characters
    (a line break would end the iCalendar line and start a property of its own)."""
    text = str(url or "")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        return ""
    return text


def as_vcalendar(events: Iterable[InterviewEvent], *, name: str = "") -> bytes:
    """A VCALENDAR holding ``events`` (one VEVENT each, with a display alarm when asked for),
    times in their own zone with a VTIMEZONE of yearly rules (see below), or in UTC when the
    zone's rule does not describe the event's date."""
    from zoneinfo import ZoneInfo

    import icalendar

    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    if name:
        calendar.add("x-wr-calname", name)
    stamp = datetime.now(timezone.utc).replace(microsecond=0)
    zones: dict[str, Any] = {}
    for event in events:
        if event.all_day:
            calendar.add_component(_all_day_vevent(event, stamp))
            continue
        zone = ZoneInfo(event.timezone) if event.timezone else None
        rule = _posix_rule(event.timezone) if zone else None
        if zone and rule and _rule_fits(rule, zone, (event.start, event.end)):
            zones.setdefault(event.timezone, _vtimezone(event.timezone, rule))
            start, end = event.start.astimezone(zone), event.end.astimezone(zone)
        else:
            start, end = event.start.astimezone(timezone.utc), event.end.astimezone(timezone.utc)
        vevent = icalendar.Event()
        vevent.add("uid", event.uid)
        vevent.add("dtstamp", stamp)
        vevent.add("dtstart", start)
        vevent.add("dtend", end)
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
    for part in zones.values():
        calendar.subcomponents.insert(0, part)
    return calendar.to_ical()


def _all_day_vevent(event: InterviewEvent, stamp: datetime) -> Any:
    """A date-only VEVENT (``DTSTART;VALUE=DATE``, DTEND the next day) that does not mark the
    person busy: a deadline is a reminder of a day, not an appointment."""
    import icalendar

    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", stamp)
    vevent.add("dtstart", _as_date(event.start))
    vevent.add("dtend", _as_date(event.end))
    vevent.add("summary", event.title)
    vevent.add("transp", "TRANSPARENT")
    if event.description:
        vevent.add("description", event.description)
    if event_url(event.url):
        vevent.add("url", event_url(event.url))
    return vevent


def _as_date(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


# -- time zones that survive any server ---------------------------------------------------------------
# A VTIMEZONE lists its zone's transitions.  icalendar writes every past and future change as long
# comma-separated RDATE lists, which some servers (Radicale among them) cut to the first value, so
# clients that use the event's own VTIMEZONE put a summer interview an hour off.  The zone's
# current rule (the POSIX TZ string at the end of its tzdata file, "CET-1CEST,M3.5.0,M10.5.0/3")
# says the same thing as two yearly RRULEs, which is what Apple Calendar, Outlook and Thunderbird
# send.  When that rule does not give the zone's real offset at the event (a zone whose future
# changes are listed one by one, like Morocco's), the event's times are sent in UTC instead.

@dataclass(frozen=True)
class _Rule:
    """One yearly change: in ``month``, the ``week``-th (5 = last) ``weekday`` (0 = Sunday) at
    ``at`` local time, the offset becomes ``offset`` (named ``name``)."""

    month: int
    week: int
    weekday: int
    at: timedelta
    offset: timedelta
    name: str

    def moment(self, year: int) -> datetime:
        """The local wall time of the change in ``year`` (before it happens)."""
        first = date(year, self.month, 1)
        shift = (self.weekday - (first.isoweekday() % 7)) % 7
        day = first + timedelta(days=shift + 7 * (self.week - 1))
        while day.month != self.month:                     # "5th" = last
            day -= timedelta(days=7)
        return datetime(day.year, day.month, day.day) + self.at


@dataclass(frozen=True)
class _ZoneRule:
    standard: tuple[str, timedelta]
    changes: tuple[_Rule, _Rule] | None     # (to daylight, to standard), or None: no DST

    def offset_at(self, local: datetime) -> timedelta:
        if self.changes is None:
            return self.standard[1]
        to_dst, to_std = self.changes
        start, end = to_dst.moment(local.year), to_std.moment(local.year)
        inside = start <= local < end if start < end else not end <= local < start
        return to_dst.offset if inside else to_std.offset


_POSIX_NAME = r"(<[^>]+>|[A-Za-z]{3,})"
_POSIX_OFFSET = r"([+-]?\d{1,2}(?::\d{2}){0,2})"
_POSIX = re.compile(rf"^{_POSIX_NAME}{_POSIX_OFFSET}(?:{_POSIX_NAME}{_POSIX_OFFSET}?"
                    r",M(\d+)\.(\d)\.(\d)(?:/([+-]?\d+(?::\d{2}){0,2}))?"
                    r",M(\d+)\.(\d)\.(\d)(?:/([+-]?\d+(?::\d{2}){0,2}))?)?$")


def _duration(text: str) -> timedelta:
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("+-").split(":")] + [0, 0]
    return sign * timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2])


def _posix_rule(zone: str) -> _ZoneRule | None:
    """The zone's current rule from its tzdata file, or None when it cannot be read."""
    import zoneinfo
    from importlib import resources

    data = None
    for folder in zoneinfo.TZPATH:
        try:
            data = (Path(folder) / zone).read_bytes()
            break
        except OSError:
            continue
    if data is None:
        try:
            data = resources.files("tzdata.zoneinfo").joinpath(*zone.split("/")).read_bytes()
        except (ModuleNotFoundError, OSError, ValueError):
            return None
    footer = data.rstrip(b"\n").rsplit(b"\n", 1)[-1].decode("ascii", "replace")
    match = _POSIX.match(footer)
    if not match:
        return None
    std_name, std_off, dst_name, dst_off, *rules = match.groups()
    standard = (std_name.strip("<>"), -_duration(std_off))   # POSIX counts west as positive
    if not dst_name:
        return _ZoneRule(standard, None)
    daylight = -_duration(dst_off) if dst_off else standard[1] + timedelta(hours=1)
    to_dst_at = _duration(rules[3]) if rules[3] else timedelta(hours=2)
    to_std_at = _duration(rules[7]) if rules[7] else timedelta(hours=2)
    if not (timedelta(0) <= to_dst_at < timedelta(hours=24)
            and timedelta(0) <= to_std_at < timedelta(hours=24)):
        return None                          # "M3.5.0/-1": no RRULE says that simply
    return _ZoneRule(standard, (
        _Rule(int(rules[0]), int(rules[1]), int(rules[2]), to_dst_at, daylight,
              dst_name.strip("<>")),
        _Rule(int(rules[4]), int(rules[5]), int(rules[6]), to_std_at, standard[1],
              standard[0])))


def _rule_fits(rule: _ZoneRule, zone: Any, moments: Iterable[datetime]) -> bool:
    return all(rule.offset_at(m.astimezone(zone).replace(tzinfo=None))
               == m.astimezone(zone).utcoffset() for m in moments)


_DAYS = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")


def _vtimezone(name: str, rule: _ZoneRule) -> Any:
    """A VTIMEZONE with one STANDARD (and one DAYLIGHT) part, each repeating yearly."""
    import icalendar

    timezone_part = icalendar.Timezone()
    timezone_part.add("tzid", name)
    if rule.changes is None:
        part = icalendar.TimezoneStandard()
        part.add("dtstart", datetime(1970, 1, 1))
        part.add("tzoffsetfrom", rule.standard[1])
        part.add("tzoffsetto", rule.standard[1])
        part.add("tzname", rule.standard[0])
        timezone_part.add_component(part)
        return timezone_part
    to_dst, to_std = rule.changes
    for change, before, kind in ((to_dst, to_std.offset, icalendar.TimezoneDaylight),
                                 (to_std, to_dst.offset, icalendar.TimezoneStandard)):
        part = kind()
        part.add("dtstart", change.moment(1970))
        part.add("tzoffsetfrom", before)
        part.add("tzoffsetto", change.offset)
        part.add("tzname", change.name)
        week = -1 if change.week == 5 else change.week
        part.add("rrule", {"freq": "yearly", "bymonth": change.month,
                           "byday": f"{week}{_DAYS[change.weekday]}"})
        timezone_part.add_component(part)
    return timezone_part
