"""An interview Peregrine (web) had put in a CalDAV calendar stays one event after the import:
moving the interview here updates Peregrine's event on a real Radicale server, it does not add a
second one."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import yaml

from peregrine_desktop.events import EventHub, Outbox
from peregrine_desktop.importer import apply_plan, read_plan
from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import JobStore
from peregrine_sdk.capabilities import InterviewEvent
from tests.fakes import peregrine_web as web
from tests.test_caldav_calendar import (PASSWORD, USER, caldav_for, radicale,  # noqa: F401
                                        server_events)
from tests.test_secrets import file_keyring, use_keyring  # noqa: F401 - fixtures

UPSTREAM_UID = "peregrine-job-11@circuitforge.tech"


@pytest.fixture
def install(tmp_path, radicale):
    root = web.docker_install(tmp_path / "peregrine", tmp_path / "JobSearch")
    for path in (root / "config" / "integrations").glob("*.yaml"):   # only the calendar: the
        path.unlink()                                  # notifiers' addresses are not loopback
    (root / "config" / "notion.yaml").unlink()
    (root / "config" / "integrations" / "apple_calendar.yaml").write_text(yaml.dump({
        "caldav_url": radicale, "username": USER, "app_password": PASSWORD,
        "calendar_name": "Entretiens"}))
    return root


def test_an_imported_interview_moves_peregrines_own_event(qtbot, install, radicale, tmp_path,
                                                          config_dir, file_keyring):
    # What Peregrine's calendar push left in the calendar: its UID, noon UTC, one hour.
    upstream = caldav_for(radicale, calendar_name="Entretiens", create_calendar=True)
    start = datetime(2026, 3, 21, 12, 0, tzinfo=timezone.utc)
    upstream.upsert_event(InterviewEvent(uid=UPSTREAM_UID, title="Interview: Engineer 11",
                                         start=start, end=start + timedelta(hours=1),
                                         timezone="UTC"))
    store = JobStore(tmp_path / "jobs.sqlite3")
    summary = apply_plan(read_plan(install), config_dir, store)
    assert summary.calendar_links == 1
    repository = JobRepository(store)
    hub = EventHub(repository, config_dir, outbox=Outbox(store, base_delay=0.05, max_delay=0.2))
    try:
        job = store.find_by_url("https://jobs.example/11")
        repository.update_job(job["id"], {"interview_at": "2026-03-23T16:00:00+01:00",
                                          "interview_tz": "Europe/Zurich"})
        qtbot.waitUntil(lambda: not hub.scheduler.busy() and not hub.outbox.due_integrations(),
                        timeout=20_000)
        events = server_events(radicale, "Entretiens")
        assert [str(e["UID"]) for e in events] == [UPSTREAM_UID]
        assert events[0].decoded("DTSTART") == datetime(2026, 3, 23, 15, 0, tzinfo=timezone.utc)
        assert str(events[0]["SUMMARY"]) == "Interview: Engineer 11 @ Company 11"
    finally:
        hub.shutdown()
        store.close()
