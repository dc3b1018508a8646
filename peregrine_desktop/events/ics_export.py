"""An .ics file of every interview, for people who connect no calendar: any calendar app can
import it, and importing it again updates the same events (their UIDs are stable per job)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from peregrine_sdk.calendar_events import CalendarPreferences, as_vcalendar
from peregrine_desktop.settings.configfiles import atomic_write_text
from peregrine_desktop.events.pipeline import has_interview, interview_event

CALENDAR_NAME = "Peregrine interviews"


def interviews_ics(jobs: Iterable[Mapping[str, Any]],
                   preferences: CalendarPreferences = CalendarPreferences()) -> tuple[bytes, int]:
    """The iCalendar text of the interviews among ``jobs`` (rejected jobs left out), and how
    many it holds."""
    events = [interview_event(job, preferences) for job in jobs if has_interview(job)]
    events.sort(key=lambda e: e.start)
    return as_vcalendar(events, name=CALENDAR_NAME), len(events)


def export_interviews(path: Path, jobs: Iterable[Mapping[str, Any]],
                      preferences: CalendarPreferences = CalendarPreferences()) -> int:
    """Write the interviews to ``path`` (replacing it whole, never half-written); returns the
    number of interviews written."""
    data, count = interviews_ics(jobs, preferences)
    atomic_write_text(Path(path), data.decode("utf-8"), mode=0o644)
    return count
