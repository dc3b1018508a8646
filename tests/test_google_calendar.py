"""Google Calendar against loopback emulations of Google's token endpoint and Calendar v3 API
(tests/fakes/calendar_services.py): a real RS256 JWT signed with a key the fixture generated."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from peregrine_sdk.google_auth import forget_tokens
from peregrine_sdk.capabilities import InterviewEvent
from peregrine_sdk.errors import ErrorKind, IntegrationError
from integrations.google_calendar import GoogleCalendarIntegration, google_event_id
from peregrine_sdk.http import RetryPolicy
from tests.fakes.calendar_services import (GoogleCalendarService, make_service_account_key)
from peregrine_sdk.testkit import pointed_at
from tests.fakes.loopback import LoopbackServer, Reply, refused_url

CALENDAR = "me@example.com"
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(autouse=True)
def fresh_tokens():
    """Tokens are cached per key across instances (as in the app); each test starts clean."""
    forget_tokens()
    yield
    forget_tokens()


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        yield srv


@pytest.fixture
def key(tmp_path, server):
    return make_service_account_key(tmp_path, f"{server.url}/token")


@pytest.fixture
def google(server, key) -> GoogleCalendarService:
    service = GoogleCalendarService(server, key.public_key)
    service.share(CALENDAR)
    with pointed_at(GoogleCalendarIntegration, service.api_url):
        yield service


def calendar_for(google: GoogleCalendarService, key, **extra) -> GoogleCalendarIntegration:
    integration = GoogleCalendarIntegration()
    assert integration.connect({"key_file": str(key.path), "calendar_id": CALENDAR,
                                "duration_minutes": 60, "reminder_minutes": 30,
                                "keep_events": False, **extra})
    integration.timeout = (1.0, 1.0)
    integration.delivery_policy = RetryPolicy(attempts=2, base_delay=0.01, max_wait=0.05)
    return integration


def interview(hour: int = 15, uid: str = "peregrine-job-7@peregrine.app") -> InterviewEvent:
    start = datetime(2026, 3, 14, hour, 0, tzinfo=BERLIN)
    return InterviewEvent(uid=uid, title="Interview: SRE @ ACME", start=start,
                          end=start + timedelta(minutes=45), timezone="Europe/Berlin",
                          description="https://jobs.example/7\n\nBring the portfolio.",
                          url="https://jobs.example/7", reminder_minutes=10)


def test_event_ids_are_valid_base32hex_and_stable():
    first = google_event_id("peregrine-job-7@peregrine.app")
    assert re.fullmatch(r"[a-v0-9]{5,1024}", first)
    assert first == google_event_id("peregrine-job-7@peregrine.app")
    assert first != google_event_id("peregrine-job-8@peregrine.app")


def test_connection_test_exchanges_a_signed_jwt_and_reads_the_calendar(google, key):
    result = calendar_for(google, key).check()
    assert result.ok, result.message
    token_call, calendar_call = google.server.requests
    assert token_call.path == "/token"
    assert b"grant-type%3Ajwt-bearer" in token_call.body
    assert calendar_call.path == f"/calendar/v3/calendars/{CALENDAR.replace('@', '%40')}"
    assert calendar_call.header("Authorization").startswith("Bearer ya29.")


def test_a_key_google_does_not_know_is_invalid_auth(google, tmp_path, server):
    stranger = make_service_account_key(tmp_path, f"{server.url}/token", name="other.json")
    integration = calendar_for(google, stranger)
    result = integration.check()
    assert result.kind is ErrorKind.INVALID_AUTH
    assert "new JSON key" in result.hint
    assert "PRIVATE KEY" not in result.message
    assert not google.server.matching("GET")   # no API call without a token


def test_a_calendar_not_shared_names_the_account_to_share_it_with(google, key):
    result = calendar_for(google, key, calendar_id="someone-else@example.com").check()
    assert result.kind is ErrorKind.NOT_FOUND
    assert google.client_email in result.hint and "Share it" in result.hint


def test_recovery_after_sharing_the_calendar(google, key):
    integration = calendar_for(google, key, calendar_id="team@example.com")
    assert integration.check().kind is ErrorKind.NOT_FOUND
    google.share("team@example.com")
    assert calendar_for(google, key, calendar_id="team@example.com").check().ok


def test_missing_and_wrong_key_files_say_what_to_do(google, key, tmp_path):
    missing = calendar_for(google, key, key_file=str(tmp_path / "nope.json")).check()
    assert missing.kind is ErrorKind.NOT_FOUND and "does not exist" in missing.hint
    other = tmp_path / "oauth-client.json"
    other.write_text('{"installed": {"client_id": "x"}}')
    wrong = calendar_for(google, key, key_file=str(other)).check()
    assert wrong.kind is ErrorKind.INVALID_AUTH and "not a service-account key" in wrong.hint
    assert not google.server.requests


def test_unreachable_google_is_cannot_connect(tmp_path):
    down = refused_url()
    key = make_service_account_key(tmp_path, f"{down}/token")
    integration = GoogleCalendarIntegration()
    with pointed_at(GoogleCalendarIntegration, f"{down}/calendar/v3"):
        integration.connect({"key_file": str(key.path), "calendar_id": CALENDAR})
        integration.timeout = (1.0, 1.0)
        assert integration.check().kind is ErrorKind.CANNOT_CONNECT


def test_upsert_creates_one_event_with_real_time_zone_reminder_and_link(google, key):
    integration = calendar_for(google, key)
    link = integration.upsert_event(interview())
    events = google.calendars[CALENDAR].live()
    assert list(events) == [google_event_id("peregrine-job-7@peregrine.app")]
    event = next(iter(events.values()))
    assert link == event["htmlLink"]
    assert event["summary"] == "Interview: SRE @ ACME"
    assert event["start"] == {"dateTime": "2026-03-14T15:00:00+01:00",
                              "timeZone": "Europe/Berlin"}
    assert event["end"]["dateTime"] == "2026-03-14T15:45:00+01:00"
    assert event["reminders"] == {"useDefault": False,
                                  "overrides": [{"method": "popup", "minutes": 10}]}
    assert "Bring the portfolio." in event["description"]
    assert event["source"]["url"] == "https://jobs.example/7"
    assert "attendees" not in event   # service accounts may not invite people
    assert all(r.query.get("sendUpdates") == ["none"] for r in google.server.matching("POST",
                                                                                      "events"))


def test_moving_the_time_updates_the_same_event(google, key):
    integration = calendar_for(google, key)
    integration.upsert_event(interview(15))
    integration.upsert_event(interview(17))
    events = google.calendars[CALENDAR].live()
    assert len(events) == 1
    assert next(iter(events.values()))["start"]["dateTime"] == "2026-03-14T17:00:00+01:00"
    assert len(google.server.matching("PUT")) == 1      # the 409 switched to a replace
    assert len(google.server.matching("POST", "/token")) == 1   # the token was reused


def test_delete_removes_it_and_deleting_again_is_fine(google, key):
    integration = calendar_for(google, key)
    integration.upsert_event(interview())
    integration.delete_event("peregrine-job-7@peregrine.app")
    assert google.calendars[CALENDAR].live() == {}
    integration.delete_event("peregrine-job-7@peregrine.app")      # 410: already deleted
    integration.delete_event("peregrine-job-99@peregrine.app")     # 404: never existed


def test_an_event_deleted_in_google_comes_back_when_scheduled_again(google, key):
    integration = calendar_for(google, key)
    integration.upsert_event(interview(15))
    integration.delete_event("peregrine-job-7@peregrine.app")
    integration.upsert_event(interview(16))
    events = google.calendars[CALENDAR].live()
    assert len(events) == 1 and next(iter(events.values()))["status"] == "confirmed"


def test_deleting_from_a_calendar_that_is_no_longer_shared_is_not_silently_done(google, key):
    integration = calendar_for(google, key)
    integration.upsert_event(interview())
    del google.calendars[CALENDAR]
    with pytest.raises(IntegrationError) as caught:
        integration.delete_event("peregrine-job-7@peregrine.app")
    assert caught.value.kind is ErrorKind.NOT_FOUND


def test_a_read_only_share_asks_for_make_changes_permission(google, key):
    google.share(CALENDAR, access="reader")
    with pytest.raises(IntegrationError) as caught:
        calendar_for(google, key).upsert_event(interview())
    assert caught.value.kind is ErrorKind.INVALID_AUTH
    assert "Make changes to events" in caught.value.hint


def test_rate_limits_are_retried_then_reported(google, key):
    integration = calendar_for(google, key)
    google.server.inject(Reply(429, {"error": {"code": 429}}, {"Retry-After": "0"}),
                         method="POST", path="/events")
    integration.upsert_event(interview())
    assert len(google.calendars[CALENDAR].live()) == 1
    google.server.inject(Reply(403, {"error": {"errors": [{"reason": "rateLimitExceeded"}],
                                               "code": 403}}), method="PUT")
    with pytest.raises(IntegrationError) as caught:
        integration.upsert_event(interview(18))
    assert caught.value.kind is ErrorKind.RATE_LIMITED


def test_a_slow_answer_is_a_timeout(google, key):
    integration = calendar_for(google, key)
    integration.timeout = (1.0, 0.2)
    google.server.inject(Reply(200, {}, delay=0.5), method="GET", path="/calendars/")
    assert integration.check().kind is ErrorKind.TIMEOUT


def test_revoked_token_is_invalid_auth(google, key):
    integration = calendar_for(google, key)
    integration.upsert_event(interview())
    google.revoke_tokens()
    with pytest.raises(IntegrationError) as caught:
        integration.upsert_event(interview(16))
    assert caught.value.kind is ErrorKind.INVALID_AUTH
