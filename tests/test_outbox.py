"""The durable outbox in the real job database, delivered by the real worker function to a
loopback service: waiting while it is down, backoff, replay without duplicates, crash recovery,
and the activity log's plain words."""
from __future__ import annotations

import pytest

from peregrine_sdk.errors import ErrorKind
from peregrine_desktop.events.delivery import deliver_due
from peregrine_desktop.events.outbox import (FAILED, MAX_ATTEMPTS, Attempt, Delivery, Outbox)
from peregrine_desktop.jobs.store import JobStore
from tests.fakes.loopback import LoopbackServer, Reply, refused_url
from tests.fakes.ping import PingIntegration, ping_service

REGISTRY = {"ping": PingIntegration}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path):
    db = JobStore(tmp_path / "jobs.sqlite3")
    yield db
    db.close()


@pytest.fixture
def outbox(store, clock) -> Outbox:
    return Outbox(store, base_delay=10.0, max_delay=900.0, clock=clock)


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        yield ping_service(srv)


def connect_ping(config_dir, url: str, token: str = "good-token") -> None:
    PingIntegration.save_config({"base_url": url, "api_token": token}, config_dir)


def message(text: str, revision: str = "r1", job_id: int = 7) -> Delivery:
    return Delivery("ping", job_id, "status_changed", "notify",
                    {"message": text, "title": "Peregrine", "url": None, "revision": revision},
                    f"the message “{text}”")


def upsert(hour: int, job_id: int = 7) -> Delivery:
    payload = {"event": {"uid": f"peregrine-job-{job_id}@peregrine.app", "hour": hour},
               "revision": f"r{hour}"}
    return Delivery("cal", job_id, "interview_moved", "upsert_event", payload, "the interview")


def test_the_same_delivery_is_queued_once(outbox):
    assert len(outbox.enqueue([message("SRE at ACME: Applied → Offer")])) == 1
    assert outbox.enqueue([message("SRE at ACME: Applied → Offer")]) == []
    assert len(outbox.enqueue([message("SRE at ACME: Applied → Offer", revision="r2")])) == 1
    assert outbox.waiting_counts() == {"ping": 2}


def test_a_newer_calendar_change_supersedes_a_waiting_older_one(outbox):
    outbox.enqueue([upsert(15)])
    outbox.enqueue([upsert(17), upsert(9, job_id=8)])
    waiting = outbox.rows("cal")
    assert [(r["job_id"], r["payload"]["event"]["hour"]) for r in waiting] == [(7, 17), (8, 9)]


def entry(action: str, day: str, uid: str = "peregrine-deadline-7@peregrine.app",
          revision: str = "r1") -> Delivery:
    payload = ({"event": {"uid": uid, "start": day}, "entry": "deadline", "revision": revision}
               if action == "upsert_event" else {"uid": uid, "entry": "deadline",
                                                 "revision": revision})
    return Delivery("cal", 7, "dates_changed", action, payload, "the deadline")


def test_a_jobs_deadline_does_not_supersede_its_waiting_interview(outbox):
    """Each calendar event of a job (interview, deadline, next action) has its own UID: only
    operations on the same event replace each other."""
    outbox.enqueue([upsert(15), entry("upsert_event", "2026-04-10")])
    outbox.enqueue([entry("upsert_event", "2026-04-12")])
    waiting = [(r["payload"]["event"]["uid"], r["payload"]["event"].get("start"))
               for r in outbox.rows("cal")]
    assert waiting == [("peregrine-job-7@peregrine.app", None),
                       ("peregrine-deadline-7@peregrine.app", "2026-04-12")]


def test_an_operation_overtaken_by_another_is_queued_again_but_a_replay_is_not(outbox):
    """Add, delete, undo within one second: the undo's upsert equals the first one, yet must go
    out again; publishing the latest operation twice still queues it once."""
    first = entry("upsert_event", "2026-04-10")
    assert len(outbox.enqueue([first])) == 1
    assert outbox.enqueue([first]) == []                       # a replay
    outbox.enqueue([entry("delete_event", "")])
    assert len(outbox.enqueue([first])) == 1                   # the undo
    assert [r["action"] for r in outbox.rows("cal")] == ["upsert_event"]
    (standing,) = outbox.standing_events("cal")
    assert standing["payload"]["event"]["start"] == "2026-04-10"
    outbox.enqueue([entry("delete_event", "", revision="r2")])
    assert outbox.standing_events("cal") == []


def test_the_outbox_survives_closing_the_app(tmp_path, clock):
    first = JobStore(tmp_path / "jobs.sqlite3")
    Outbox(first, clock=clock).enqueue([message("New job: SRE at ACME")])
    first.close()
    again = JobStore(tmp_path / "jobs.sqlite3")
    try:
        assert Outbox(again, clock=clock).waiting_counts() == {"ping": 1}
    finally:
        again.close()


def test_waiting_while_down_then_delivered_exactly_once(outbox, clock, server, config_dir):
    down = refused_url()
    connect_ping(config_dir, down)
    outbox.enqueue([message("one"), message("two"), message("three")])
    outcomes = deliver_due(outbox, "ping", config_dir, REGISTRY)
    assert [a.kind for _row, a in outcomes] == [ErrorKind.CANNOT_CONNECT]   # stopped at once
    assert outbox.waiting_counts() == {"ping": 3}
    assert "Could not reach the service" in outbox.problems()["ping"]
    assert outbox.due_integrations() == []          # nobody hammers a service that is down
    assert outbox.next_due_at() == clock.now + 10
    (line,) = outbox.activity()
    assert line["outcome"] == "waiting" and "tries again at" in line["message"]

    connect_ping(config_dir, server.url)            # the service is back (same settings file)
    clock.now += 10
    outcomes = deliver_due(outbox, "ping", config_dir, REGISTRY)
    assert [a.ok for _row, a in outcomes] == [True, True, True]
    assert [r.json["message"] for r in server.matching("POST", "/notify")] == ["one", "two",
                                                                               "three"]
    assert outbox.waiting_counts() == {}
    # Replaying — the same events published again, the worker run again — sends nothing.
    assert outbox.enqueue([message("one"), message("two")]) == []
    assert deliver_due(outbox, "ping", config_dir, REGISTRY) == []
    assert len(server.matching("POST", "/notify")) == 3
    assert "— done." in outbox.activity()[0]["message"]


def test_backoff_doubles_and_honours_the_services_wait(outbox, clock):
    (row_id,) = outbox.enqueue([message("hello")])
    dues = []
    for _ in range(4):
        outbox.claim("ping")
        outbox.record(Attempt(row_id, False, kind=ErrorKind.CANNOT_CONNECT))
        dues.append(outbox.next_due_at() - clock.now)
        clock.now = outbox.next_due_at()
    assert dues == [10, 20, 40, 80]
    outbox.claim("ping")
    outbox.record(Attempt(row_id, False, kind=ErrorKind.RATE_LIMITED, retry_after=300))
    assert outbox.next_due_at() - clock.now == 300


def test_a_rejected_token_waits_for_the_user_and_says_why(outbox, server, config_dir):
    connect_ping(config_dir, server.url, token="revoked")
    server.inject(Reply(401, {"error": "unauthorized"}), times=2, path="/notify")
    outbox.enqueue([message("one"), message("two")])
    deliver_due(outbox, "ping", config_dir, REGISTRY)
    assert len(server.matching("POST")) == 1            # the second was not tried
    assert outbox.waiting_counts() == {"ping": 2}
    assert outbox.problems()["ping"].startswith("The service rejected these credentials")


def test_a_delivery_the_service_keeps_refusing_is_given_up(outbox, clock, server, config_dir):
    connect_ping(config_dir, server.url)
    server.inject(Reply(400, {"error": "bad payload"}), times=MAX_ATTEMPTS, path="/notify")
    outbox.enqueue([message("broken")])
    for _ in range(MAX_ATTEMPTS):
        deliver_due(outbox, "ping", config_dir, REGISTRY)
        clock.now += 10_000
    assert outbox.waiting_counts() == {}
    assert [r["state"] for r in outbox.rows(states=[FAILED])] == [FAILED]
    assert f"gave up after {MAX_ATTEMPTS} tries" in outbox.activity()[0]["message"]


def test_a_disconnected_service_fails_its_deliveries_with_the_reason(outbox, config_dir):
    outbox.enqueue([message("orphan")])
    assert deliver_due(outbox, "ping", config_dir, REGISTRY) == []
    assert outbox.waiting_counts() == {}
    assert "no longer connected" in outbox.activity()[0]["message"]


def test_after_a_crash_messages_are_not_resent_but_calendar_changes_are(store, outbox, clock):
    outbox.enqueue([message("maybe sent"), upsert(15)])
    outbox.claim("ping")
    outbox.claim("cal")                                # the app dies while both are sending
    reopened = Outbox(store, clock=clock)
    assert reopened.waiting_counts() == {"cal": 1}
    assert "may not have arrived" in reopened.activity()[0]["message"]
