"""The one event path end to end: real JobRepository on SQLite → EventHub → outbox → worker pool
→ the real Slack and Google Calendar integrations talking to their loopback emulators."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from peregrine_sdk.google_auth import forget_tokens
from peregrine_sdk.capabilities import InterviewEvent
from peregrine_sdk.errors import CheckResult
from integrations.google_calendar import GoogleCalendarIntegration, google_event_id
from peregrine_sdk.http import RetryPolicy
from integrations.slack import SlackIntegration
from peregrine_desktop.events import EventHub, Outbox
from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.settings.profile import UserProfile
from tests.fakes.calendar_services import GoogleCalendarService, make_service_account_key
from peregrine_sdk.testkit import pointed_at
from tests.fakes.loopback import LoopbackServer, refused_url
from tests.fakes.notifier_services import slack_service

CALENDAR = "me@example.com"


@pytest.fixture(autouse=True)
def quick_slack(monkeypatch):
    """Slack paces one message a second and retries; the outbox does the retrying here."""
    monkeypatch.setattr(SlackIntegration, "per_second", None)
    monkeypatch.setattr(SlackIntegration, "send_policy", RetryPolicy(attempts=1))
    forget_tokens()
    yield
    forget_tokens()


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        yield srv


@pytest.fixture
def slack(server):
    return slack_service(server)


@pytest.fixture
def google(server, tmp_path, config_dir):
    key = make_service_account_key(tmp_path, f"{server.url}/token")
    service = GoogleCalendarService(server, key.public_key)
    service.share(CALENDAR)
    service.key = key
    with pointed_at(GoogleCalendarIntegration, service.api_url):
        yield service


def connect_google(config_dir, google, **extra) -> None:
    GoogleCalendarIntegration.save_config(
        {"key_file": str(google.key.path), "calendar_id": CALENDAR, "duration_minutes": 45,
         "reminder_minutes": 10, "keep_events": False, **extra},
        config_dir)


def choose_notifications(config_dir, events: list[str]) -> None:
    profile = UserProfile(config_dir / "user.yaml", read=False)
    profile.update(notify_events=events)
    profile.save()


@pytest.fixture
def repository(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    repo = JobRepository(store)
    yield repo
    store.close()


@pytest.fixture
def hub(qtbot, repository, config_dir):
    choose_notifications(config_dir, ["job_added", "status_changed", "interview_scheduled"])
    event_hub = EventHub(repository, config_dir,
                         outbox=Outbox(repository.store, base_delay=0.05, max_delay=0.2))
    yield event_hub
    event_hub.shutdown()


def drain(qtbot, hub: EventHub) -> None:
    """Wait until nothing is being delivered and nothing is due."""
    qtbot.waitUntil(lambda: not hub.scheduler.busy() and not hub.outbox.due_integrations(),
                    timeout=10_000)


def texts(slack) -> list[str]:
    return [m["text"] for m in slack.delivered]


ACME = {"title": "SRE", "company": "ACME", "url": "https://jobs.example/sre",
        "notes": "Ask about on-call.", "status": "applied"}


def test_each_event_sends_one_short_message_per_notifier(qtbot, hub, repository, slack,
                                                         config_dir):
    SlackIntegration.save_config({"webhook_url": slack.url}, config_dir)
    job = repository.add_job(ACME)
    drain(qtbot, hub)
    assert texts(slack) == ["Peregrine: New job: SRE at ACME"]
    assert "https://jobs.example/sre" in slack.delivered[0]["blocks"][0]["text"]["text"]
    repository.set_status(job["id"], "interviewing")
    drain(qtbot, hub)
    assert texts(slack)[1:] == ["Peregrine: SRE at ACME: Applied → Interviewing"]


def test_interviews_follow_the_job_in_the_calendar(qtbot, hub, repository, google, slack,
                                                   config_dir):
    connect_google(config_dir, google)
    SlackIntegration.save_config({"webhook_url": slack.url}, config_dir)
    job = repository.add_job(ACME)
    events = google.calendars[CALENDAR].events
    event_id = google_event_id(f"peregrine-job-{job['uid']}@peregrine.app")

    repository.update_job(job["id"], {"interview_at": "2026-03-14T15:00:00+01:00",
                                      "interview_tz": "Europe/Berlin"})
    drain(qtbot, hub)
    event = events[event_id]
    assert event["summary"] == "Interview: SRE @ ACME"
    assert event["start"] == {"dateTime": "2026-03-14T15:00:00+01:00",
                              "timeZone": "Europe/Berlin"}
    assert event["end"]["dateTime"] == "2026-03-14T15:45:00+01:00"
    assert event["reminders"]["overrides"] == [{"method": "popup", "minutes": 10}]
    assert event["description"] == "https://jobs.example/sre\n\nAsk about on-call."
    assert texts(slack)[-1] == ("Peregrine: Interview scheduled: SRE at ACME, "
                                "Sat 14 Mar 2026, 15:00 (Europe/Berlin)")

    repository.update_job(job["id"], {"interview_at": "2026-03-16T09:30:00+01:00"})
    drain(qtbot, hub)
    assert list(google.calendars[CALENDAR].live()) == [event_id]
    assert events[event_id]["start"]["dateTime"] == "2026-03-16T09:30:00+01:00"
    assert texts(slack)[-1].startswith("Peregrine: Interview moved: SRE at ACME, now Mon 16 Mar")

    repository.update_job(job["id"], {"interview_at": None})
    drain(qtbot, hub)
    assert google.calendars[CALENDAR].live() == {}


def test_an_event_an_older_version_made_under_the_integer_id_is_replaced_not_doubled(
        qtbot, hub, repository, google, config_dir):
    connect_google(config_dir, google)
    job = repository.add_job(ACME)
    legacy = f"peregrine-job-{job['id']}@peregrine.app"
    # What an older version delivered: the interview under the job's integer id.
    older = GoogleCalendarIntegration()
    older.connect(GoogleCalendarIntegration.load_config(config_dir))
    start = datetime(2026, 3, 14, 15, tzinfo=ZoneInfo("Europe/Berlin"))
    older.upsert_event(InterviewEvent(legacy, "Interview: SRE @ ACME", start,
                                      start + timedelta(minutes=45), "Europe/Berlin"))
    with repository.store.transaction() as conn:
        conn.execute("INSERT INTO outbox(integration, job_id, kind, action, payload, "
                     "payload_hash, state, created_at, updated_at) VALUES (?, ?, 'interview', "
                     "'upsert_event', ?, 'h', 'delivered', 'now', 'now')",
                     ("google_calendar", job["id"], json.dumps({"event": {"uid": legacy}})))
    assert list(google.calendars[CALENDAR].live()) == [google_event_id(legacy)]

    repository.update_job(job["id"], {"interview_at": "2026-03-16T09:30:00+01:00",
                                      "interview_tz": "Europe/Berlin"})
    drain(qtbot, hub)

    assert list(google.calendars[CALENDAR].live()) == [
        google_event_id(f"peregrine-job-{job['uid']}@peregrine.app")]


def test_rejecting_removes_the_event_and_announces_it_once(qtbot, hub, repository, google,
                                                           slack, config_dir):
    connect_google(config_dir, google)
    SlackIntegration.save_config({"webhook_url": slack.url}, config_dir)
    job = repository.add_job({**ACME, "interview_at": "2026-03-14T15:00:00+01:00",
                              "interview_tz": "Europe/Berlin"})
    drain(qtbot, hub)
    assert len(google.calendars[CALENDAR].live()) == 1
    before = len(slack.delivered)
    repository.set_status(job["id"], "rejected")
    drain(qtbot, hub)
    assert google.calendars[CALENDAR].live() == {}
    assert texts(slack)[before:] == ["Peregrine: SRE at ACME: Applied → Rejected"]
    assert len(google.server.matching("DELETE")) == 1


def test_a_setting_keeps_events_of_rejected_jobs(qtbot, hub, repository, google, config_dir):
    connect_google(config_dir, google, keep_events=True)
    job = repository.add_job({**ACME, "interview_at": "2026-03-14T15:00:00+01:00",
                              "interview_tz": "Europe/Berlin"})
    drain(qtbot, hub)
    repository.set_status(job["id"], "rejected")
    repository.delete_job(job["id"])
    drain(qtbot, hub)
    assert len(google.calendars[CALENDAR].live()) == 1
    assert not google.server.matching("DELETE")


def test_deleting_a_job_removes_its_interview(qtbot, hub, repository, google, config_dir):
    connect_google(config_dir, google)
    job = repository.add_job({**ACME, "interview_at": "2026-03-14T15:00:00+01:00",
                              "interview_tz": "Europe/Berlin"})
    drain(qtbot, hub)
    repository.delete_job(job["id"])
    drain(qtbot, hub)
    assert google.calendars[CALENDAR].live() == {}


def test_only_the_events_the_user_chose_are_announced(qtbot, hub, repository, slack,
                                                      config_dir):
    choose_notifications(config_dir, ["status_changed"])
    SlackIntegration.save_config({"webhook_url": slack.url}, config_dir)
    job = repository.add_job(ACME)
    repository.update_job(job["id"], {"interview_at": "2026-03-14T15:00:00+01:00"})
    repository.set_status(job["id"], "offer")
    drain(qtbot, hub)
    assert texts(slack) == ["Peregrine: SRE at ACME: Applied → Offer"]


def test_a_bulk_import_announces_nothing(qtbot, hub, repository, slack, config_dir):
    SlackIntegration.save_config({"webhook_url": slack.url}, config_dir)
    repository.add_many([{"title": f"Job {i}", "company": "ACME"} for i in range(20)])
    drain(qtbot, hub)
    assert slack.delivered == []


def test_a_notifier_that_is_down_never_blocks_and_delivers_once_back(qtbot, hub, repository,
                                                                     slack, config_dir):
    SlackIntegration.save_config({"webhook_url": refused_url() + "/services/T/B/x"},
                                 config_dir)
    job = repository.add_job(ACME)
    changed = repository.set_status(job["id"], "offer")
    # The status change is saved and returned before any delivery was attempted.
    assert changed["status"] == "offer" and repository.get(job["id"])["status"] == "offer"
    assert hub.waiting_count("slack") == 2
    qtbot.waitUntil(lambda: hub.problem("slack") is not None, timeout=10_000)
    assert repository.get(job["id"])["status"] == "offer"       # nothing was undone
    assert hub.card_note("slack").startswith("2 waiting: Could not reach the service")

    SlackIntegration.save_config({"webhook_url": slack.url}, config_dir)
    hub.on_connection_tested("slack", CheckResult.success())
    qtbot.waitUntil(lambda: hub.waiting_count("slack") == 0, timeout=10_000)
    drain(qtbot, hub)
    assert texts(slack) == ["Peregrine: New job: SRE at ACME",
                            "Peregrine: SRE at ACME: Applied → Offer"]
    assert hub.card_note("slack") == ""
