"""The .ics export of every interview: what a calendar app reads back from the file."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar

from peregrine_sdk.calendar_events import CalendarPreferences
from peregrine_desktop.events.ics_export import export_interviews
from peregrine_desktop.jobs.store import JobStore

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")


def read_events(path) -> list:
    return icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")


def test_every_interview_is_exported_in_its_own_time_zone(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    store.add_job({"title": "SRE", "company": "ACME", "url": "https://jobs.example/1",
                   "notes": "Bring the portfolio.", "status": "interviewing",
                   "interview_at": "2026-03-14T15:00:00+01:00", "interview_tz": "Europe/Berlin"})
    store.add_job({"title": "Dev", "company": "Initech", "status": "phone_screen",
                   "interview_at": "2026-03-10T10:00:00-04:00",
                   "interview_tz": "America/New_York"})
    store.add_job({"title": "No interview", "company": "Globex"})
    store.add_job({"title": "Gone", "company": "Hooli", "status": "rejected",
                   "interview_at": "2026-03-12T10:00:00+00:00"})
    target = tmp_path / "interviews.ics"
    count = export_interviews(target, store.list_jobs(),
                              CalendarPreferences(duration_minutes=90, reminder_minutes=60))
    store.close()

    assert count == 2
    first, second = read_events(target)                 # sorted by time
    assert str(first["SUMMARY"]) == "Interview: Dev @ Initech"
    assert first.decoded("DTSTART") == datetime(2026, 3, 10, 10, 0, tzinfo=NEW_YORK)
    assert str(second["SUMMARY"]) == "Interview: SRE @ ACME"
    assert second["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert second.decoded("DTEND") - second.decoded("DTSTART") == timedelta(minutes=90)
    assert str(second["DESCRIPTION"]) == "https://jobs.example/1\n\nBring the portfolio."
    assert str(second["UID"]).startswith("peregrine-job-")
    assert second.walk("VALARM")[0].decoded("TRIGGER") == timedelta(minutes=-60)
    assert b"\r\n" in target.read_bytes()                # RFC 5545 line endings


def test_exporting_again_keeps_each_interviews_uid(tmp_path):
    job = {"id": 4, "title": "SRE", "company": "ACME", "status": "interviewing",
           "interview_at": "2026-03-14T15:00:00+01:00", "interview_tz": "Europe/Berlin"}
    export_interviews(tmp_path / "a.ics", [job])
    export_interviews(tmp_path / "b.ics", [{**job, "interview_at": "2026-03-15T11:00:00+01:00"}])
    (a,), (b,) = read_events(tmp_path / "a.ics"), read_events(tmp_path / "b.ics")
    assert str(a["UID"]) == str(b["UID"]) == "peregrine-job-4@peregrine.app"
    assert b.decoded("DTSTART") == datetime(2026, 3, 15, 11, 0, tzinfo=BERLIN)


def test_an_interview_without_a_zone_keeps_its_instant(tmp_path):
    job = {"id": 5, "title": "SRE", "company": "ACME", "status": "applied",
           "interview_at": "2026-03-14T15:00:00+01:00", "interview_tz": None}
    assert export_interviews(tmp_path / "c.ics", [job]) == 1
    (event,) = read_events(tmp_path / "c.ics")
    assert event.decoded("DTSTART") == datetime(2026, 3, 14, 14, 0, tzinfo=ZoneInfo("UTC"))


def test_no_interviews_gives_an_empty_calendar(tmp_path):
    assert export_interviews(tmp_path / "d.ics", [{"id": 1, "title": "x"}]) == 0
    assert read_events(tmp_path / "d.ics") == []
