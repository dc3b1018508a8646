"""The sync engine against real SQLite and loopback trackers: no duplicates, no lost jobs, no
rewritten statuses — whatever is interrupted or deleted."""
from __future__ import annotations

import threading

import pytest
import requests

from integrations.airtable import AirtableIntegration
from peregrine_sdk.base import IntegrationBase
from peregrine_sdk.http import RetryPolicy
from integrations.notion import NotionIntegration
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.sync.engine import SyncEngine
from peregrine_desktop.sync.state import SyncState
from peregrine_sdk.testkit import pointed_at
from tests.fakes.loopback import LoopbackServer, Reply
from tests.fakes.tracker_services import AirtableService, NotionService, add_jobs


@pytest.fixture
def store(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    yield store
    store.close()


@pytest.fixture
def notion(monkeypatch):
    monkeypatch.setattr(NotionIntegration, "per_second", None)
    monkeypatch.setattr(NotionIntegration, "policy", RetryPolicy(attempts=4, base_delay=0.01,
                                                                 max_wait=1.0))
    with LoopbackServer() as server, pointed_at(NotionIntegration, server.url):
        yield NotionService(server)


@pytest.fixture
def airtable(monkeypatch):
    monkeypatch.setattr(AirtableIntegration, "per_second", None)
    monkeypatch.setattr(AirtableIntegration, "rate_limit_wait", 0.0)
    monkeypatch.setattr(AirtableIntegration, "retry_delay", 0.01)
    with LoopbackServer() as server, pointed_at(AirtableIntegration, server.url):
        yield AirtableService(server)


def notion_client(service: NotionService) -> NotionIntegration:
    integration = NotionIntegration()
    assert integration.connect({"token": service.token, "database_id": service.database_id,
                                "key_column": "Peregrine ID"})
    return integration


def airtable_client(service: AirtableService) -> AirtableIntegration:
    integration = AirtableIntegration()
    assert integration.connect({"token": service.token, "base_id": service.base_id,
                                "table": service.table, "key_column": "Peregrine ID"})
    return integration


def test_pending_jobs_stay_local_and_statuses_are_never_rewritten(store, notion):
    approved = add_jobs(store, 6, "approved")
    pending = add_jobs(store, 3, "pending", start=100)
    before = {j["id"]: (j["status"], j["updated_at"]) for j in store.list_jobs()}
    engine = SyncEngine(SyncState(store))

    report = engine.run(notion_client(notion), store.list_jobs())

    assert sorted(report.created) == sorted(j["id"] for j in approved)
    assert sorted(notion.keys()) == sorted(j["uid"] for j in approved)
    assert not {j["uid"] for j in pending} & set(notion.keys())
    after = {j["id"]: (j["status"], j["updated_at"]) for j in store.list_jobs()}
    assert after == before                      # syncing never touches the pipeline


def test_a_synced_job_that_is_rejected_later_is_updated_not_dropped(store, notion):
    jobs = add_jobs(store, 3, "interviewing")
    engine = SyncEngine(SyncState(store))
    engine.run(notion_client(notion), store.list_jobs())
    store.set_status(jobs[0]["id"], "rejected")

    report = engine.run(notion_client(notion), store.list_jobs())

    assert report.updated == [jobs[0]["id"]] and len(report.unchanged) == 2
    page = notion.page_for(jobs[0]["uid"])
    assert page["properties"]["Status"]["select"]["name"] == "Rejected"


def test_dry_run_lists_changes_and_writes_nothing(store, notion):
    jobs = add_jobs(store, 4)
    state = SyncState(store)
    engine = SyncEngine(state)
    engine.run(notion_client(notion), store.list_jobs())
    store.update_job(jobs[1]["id"], {"notes": "Recruiter called"})
    new = add_jobs(store, 1, start=50)[0]
    notion.server.clear()

    preview = engine.run(notion_client(notion), store.list_jobs(), dry_run=True)

    assert preview.dry_run and preview.created == [new["id"]]
    assert preview.updated == [jobs[1]["id"]] and len(preview.unchanged) == 3
    assert notion.writes() == []
    assert state.last_run("notion").created == 4        # a preview is not a sync


@pytest.mark.parametrize("service_name", ["notion", "airtable"])
def test_crash_between_remote_write_and_map_write_leaves_no_duplicate(store, request,
                                                                        service_name,
                                                                        monkeypatch):
    service = request.getfixturevalue(service_name)
    client = notion_client if service_name == "notion" else airtable_client
    add_jobs(store, 12)
    state = SyncState(store)
    calls = {"n": 0}
    original = SyncState.link

    def crash_on_fifth(self, *args):
        calls["n"] += 1
        if calls["n"] == 5:
            raise SystemExit("power cut")      # the remote record exists, the map entry not
        return original(self, *args)

    monkeypatch.setattr(SyncState, "link", crash_on_fifth)
    with pytest.raises(SystemExit):
        SyncEngine(state).run(client(service), store.list_jobs())
    monkeypatch.setattr(SyncState, "link", original)

    report = SyncEngine(state).run(client(service), store.list_jobs())

    assert len(service.keys()) == 12 and len(set(service.keys())) == 12
    assert not report.failed
    assert len(report.created) + len(report.updated) + len(report.unchanged) == 12
    assert SyncEngine(state).run(client(service), store.list_jobs()).writes == 0


def test_cancel_stops_at_the_next_job_and_a_rerun_finishes_without_duplicates(store, notion):
    add_jobs(store, 10)
    state = SyncState(store)
    cancel = threading.Event()

    def progress(done, total):
        if done >= 3:
            cancel.set()

    report = SyncEngine(state).run(notion_client(notion), store.list_jobs(), progress=progress,
                                   cancel=cancel)

    assert report.cancelled and report.not_synced > 0
    assert len(report.created) + report.not_synced == 10
    rerun = SyncEngine(state).run(notion_client(notion), store.list_jobs())
    assert len(rerun.created) == report.not_synced
    assert sorted(notion.keys()) == sorted(j["uid"] for j in store.list_jobs())


def test_a_service_that_keeps_failing_stops_after_a_streak_with_the_reason(store, notion):
    add_jobs(store, 20)
    notion_client(notion).find_jobs([])            # create the key column first
    notion.server.inject(Reply(503, {"object": "error", "status": 503,
                                     "code": "service_unavailable", "message": "down"}),
                         times=10_000, method="POST", path="^/v1/pages$")

    report = SyncEngine(SyncState(store), failure_streak_limit=3).run(
        notion_client(notion), store.list_jobs())

    assert len(report.failed) == 20 and report.created == []
    assert report.error.startswith("Stopped after 3 jobs in a row failed")
    assert "try again later" in report.failed[-1].reason


def test_a_transient_outage_is_retried_and_the_sync_completes(store, airtable):
    add_jobs(store, 15)
    airtable.server.inject(Reply(502, "bad gateway"), times=2, method="PATCH")
    airtable.server.inject(Reply(reset=True), times=1, method="PATCH")

    report = SyncEngine(SyncState(store)).run(airtable_client(airtable), store.list_jobs())

    assert len(report.created) == 15 and not report.failed
    assert len(airtable.records) == 15


def test_last_run_is_remembered_for_the_last_synced_line(store, airtable):
    add_jobs(store, 3)
    state = SyncState(store)
    SyncEngine(state).run(airtable_client(airtable), store.list_jobs())
    SyncEngine(state).run(airtable_client(airtable), store.list_jobs())
    last = state.last_run("airtable")
    assert (last.created, last.updated, last.unchanged, last.failed) == (0, 0, 3, 0)
    reopened = SyncState(store.path)                # a fresh connection sees the same map
    assert len(reopened.records("airtable")) == 3
    reopened.close()


# -- a plugin written as the guide shows: only sync(jobs) -> int --------------------------------------
class GuidePlugin(IntegrationBase):
    name = "guidetracker"
    label = "Guide Tracker"

    def fields(self):
        return [{"key": "url", "label": "URL", "type": "url", "required": True}]

    def connect(self, config):
        self.url = config.get("url", "")
        return bool(self.url)

    def test(self):
        return requests.get(self.url, timeout=5).ok

    def sync(self, jobs):
        synced = 0
        for job in jobs:
            try:
                requests.post(f"{self.url}/records", json={"title": job["title"]},
                              timeout=5).raise_for_status()
                synced += 1
            except Exception as exc:  # the guide's plugin prints and carries on
                print(f"sync error for job {job.get('id')}: {exc}")
        return synced


def test_a_guide_style_plugin_is_counted_as_created_or_failed(store):
    jobs = add_jobs(store, 4)
    with LoopbackServer() as server:
        posted = []

        @server.route("POST", "/records")
        def records(request, _m):
            posted.append(request.json["title"])
            return Reply(201, {"ok": True})

        server.inject(Reply(500, "boom"), times=1, method="POST")
        plugin = GuidePlugin()
        plugin.connect({"url": server.url})
        engine = SyncEngine(SyncState(store))

        first = engine.run(plugin, store.list_jobs())
        assert len(first.created) == 3 and len(first.failed) == 1
        assert first.failed[0].reason == "The integration did not sync this job and gave no reason."

        second = engine.run(plugin, store.list_jobs())     # only the failed one is sent again
        assert len(second.created) == 1 and len(second.unchanged) == 3
        assert len(posted) == len(jobs)
