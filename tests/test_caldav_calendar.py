"""Apple Calendar / CalDAV against a real Radicale server (from PyPI) on 127.0.0.1, started by a
fixture with an htpasswd user; faults a real server cannot be asked for (a slow answer) come
from a LoopbackServer."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from integrations.caldav_calendar import CaldavCalendarIntegration
from peregrine_sdk.capabilities import InterviewEvent
from peregrine_sdk.errors import ErrorKind
from tests.fakes.loopback import LoopbackServer, Reply, refused_url

pytest.importorskip("radicale")
USER, PASSWORD = "jane", "correct horse"
BERLIN = ZoneInfo("Europe/Berlin")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def radicale(tmp_path_factory):
    """A Radicale server with one user (plain htpasswd, no delay after a wrong password)."""
    folder = tmp_path_factory.mktemp("radicale")
    (folder / "users").write_text(f"{USER}:{PASSWORD}\n")
    port = _free_port()
    config = folder / "config"
    config.write_text(f"""
[server]
hosts = 127.0.0.1:{port}
timeout = 5
[auth]
type = htpasswd
htpasswd_filename = {folder / "users"}
htpasswd_encryption = plain
delay = 0
[storage]
filesystem_folder = {folder / "collections"}
[web]
type = none
[logging]
level = error
""")
    process = subprocess.Popen([sys.executable, "-m", "radicale", "--config", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("Radicale did not start: " + process.stderr.read().decode()[-500:])
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    process.terminate()
    process.wait(timeout=10)


def caldav_for(url: str, **extra) -> CaldavCalendarIntegration:
    integration = CaldavCalendarIntegration()
    assert integration.connect({"url": url, "username": USER, "app_password": PASSWORD,
                                "calendar_name": "Interviews", "create_calendar": False,
                                "duration_minutes": 60, "reminder_minutes": 30,
                                "keep_events": False, **extra})
    integration.timeout = 5.0
    return integration


@pytest.fixture
def calendar_name() -> str:
    return f"Interviews {uuid.uuid4().hex[:8]}"


@pytest.fixture
def connected(radicale, calendar_name) -> CaldavCalendarIntegration:
    creator = caldav_for(radicale, calendar_name=calendar_name, create_calendar=True)
    assert creator.check().ok
    return caldav_for(radicale, calendar_name=calendar_name)


def interview(hour: int, uid: str = "peregrine-job-7@peregrine.app") -> InterviewEvent:
    start = datetime(2026, 3, 14, hour, 0, tzinfo=BERLIN)
    return InterviewEvent(uid=uid, title="Interview: SRE @ ACME", start=start,
                          end=start + timedelta(hours=1), timezone="Europe/Berlin",
                          description="https://jobs.example/7\n\nAsk about on-call.",
                          url="https://jobs.example/7", reminder_minutes=30)


def server_events(radicale: str, calendar_name: str) -> list:
    """What another CalDAV client (a phone) sees in that calendar."""
    import caldav
    import icalendar

    client = caldav.DAVClient(url=radicale, username=USER, password=PASSWORD, timeout=5)
    calendar = client.principal().calendar(name=calendar_name)
    return [icalendar.Calendar.from_ical(e.data).walk("VEVENT")[0] for e in calendar.events()]


def test_missing_calendar_is_not_found_with_an_offer_to_create_it(radicale, calendar_name):
    result = caldav_for(radicale, calendar_name=calendar_name).check()
    assert result.kind is ErrorKind.NOT_FOUND
    assert calendar_name in result.hint and "Create this calendar" in result.hint
    # The user accepts the offer: tick the box and test again.
    assert caldav_for(radicale, calendar_name=calendar_name, create_calendar=True).check().ok
    assert caldav_for(radicale, calendar_name=calendar_name).check().ok
    assert server_events(radicale, calendar_name) == []


def test_wrong_password_is_invalid_auth_and_never_shown(radicale):
    result = caldav_for(radicale, app_password="wrong horse").check()
    assert result.kind is ErrorKind.INVALID_AUTH
    assert "app-specific password" in result.hint
    assert "wrong horse" not in result.message


def test_create_move_and_delete_an_event(radicale, connected, calendar_name):
    location = connected.upsert_event(interview(15))
    assert location.endswith(".ics")
    (event,) = server_events(radicale, calendar_name)
    assert str(event["SUMMARY"]) == "Interview: SRE @ ACME"
    assert str(event["UID"]) == "peregrine-job-7@peregrine.app"
    assert event.decoded("DTSTART") == datetime(2026, 3, 14, 15, 0, tzinfo=BERLIN)
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert "Ask about on-call." in str(event["DESCRIPTION"])
    assert event.walk("VALARM")[0].decoded("TRIGGER") == timedelta(minutes=-30)

    connected.upsert_event(interview(17))
    (moved,) = server_events(radicale, calendar_name)
    assert moved.decoded("DTSTART") == datetime(2026, 3, 14, 17, 0, tzinfo=BERLIN)

    connected.delete_event("peregrine-job-7@peregrine.app")
    assert server_events(radicale, calendar_name) == []
    connected.delete_event("peregrine-job-7@peregrine.app")   # already gone: fine


def test_each_job_gets_its_own_event(radicale, connected, calendar_name):
    connected.upsert_event(interview(9, uid="peregrine-job-1@peregrine.app"))
    connected.upsert_event(interview(11, uid="peregrine-job-2@peregrine.app"))
    connected.upsert_event(interview(10, uid="peregrine-job-1@peregrine.app"))
    starts = sorted(e.decoded("DTSTART").hour for e in server_events(radicale, calendar_name))
    assert starts == [10, 11]


def test_unreachable_server_is_cannot_connect():
    result = caldav_for(refused_url() + "/").check()
    assert result.kind is ErrorKind.CANNOT_CONNECT


def test_a_server_that_does_not_answer_in_time_is_a_timeout():
    with LoopbackServer() as slow:
        slow.inject(Reply(delay=1.0, reset=True), times=3)
        integration = caldav_for(slow.url + "/")
        integration.timeout = 0.3
        assert integration.check().kind is ErrorKind.TIMEOUT


def raw_calendar(radicale: str, calendar_name: str):
    import caldav

    client = caldav.DAVClient(url=radicale, username=USER, password=PASSWORD, timeout=5)
    return client, client.principal().calendar(name=calendar_name)


def test_a_summer_interview_is_right_through_the_events_own_time_zone(radicale, connected,
                                                                       calendar_name):
    import icalendar

    start = datetime(2026, 7, 14, 15, 0, tzinfo=BERLIN)          # CEST, UTC+2
    connected.upsert_event(InterviewEvent(
        uid="peregrine-job-8@peregrine.app", title="Interview: SRE @ ACME", start=start,
        end=start + timedelta(hours=1), timezone="Europe/Berlin", description="", url="",
        reminder_minutes=None))
    _client, calendar = raw_calendar(radicale, calendar_name)
    (stored,) = calendar.events()
    parsed = icalendar.Calendar.from_ical(stored.data)       # as Radicale kept it
    (zone,) = parsed.walk("VTIMEZONE")
    event = parsed.walk("VEVENT")[0]
    assert event["DTSTART"].params["TZID"] == str(zone["TZID"])
    # A client that knows no zone names reads the wall time through the VTIMEZONE sent along.
    own_zone = zone.to_tz()
    wall = event["DTSTART"].dt.replace(tzinfo=None)
    seen = own_zone.localize(wall) if hasattr(own_zone, "localize") else \
        wall.replace(tzinfo=own_zone)
    assert seen.astimezone(ZoneInfo("UTC")) == datetime(2026, 7, 14, 13, 0,
                                                        tzinfo=ZoneInfo("UTC"))


def test_an_event_with_the_jobs_uid_under_another_name_is_updated_and_deleted_where_it_is(
        radicale, connected, calendar_name):
    import caldav

    from peregrine_sdk.calendar_events import as_vcalendar

    # The user imported our .ics export into this calendar: same UID, the server's own name.
    client, calendar = raw_calendar(radicale, calendar_name)
    elsewhere = calendar.url.join("imported-by-the-user.ics")
    caldav.Event(client=client, url=elsewhere, parent=calendar,
                 data=as_vcalendar([interview(15)]).decode()).save()

    location = connected.upsert_event(interview(17))
    assert location.endswith("imported-by-the-user.ics")
    (moved,) = server_events(radicale, calendar_name)        # updated, not duplicated
    assert moved.decoded("DTSTART") == datetime(2026, 3, 14, 17, 0, tzinfo=BERLIN)
    assert [str(e.url).rsplit("/", 1)[-1] for e in calendar.events()] == [
        "imported-by-the-user.ics"]

    connected.delete_event("peregrine-job-7@peregrine.app")   # the interview was cleared
    assert server_events(radicale, calendar_name) == []
