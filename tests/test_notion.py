"""Notion against its loopback emulator: version header, data sources, mapping, no duplicates,
deletions, rate limits and the errors a person can act on."""
from __future__ import annotations

import pytest

from peregrine_sdk.errors import ErrorKind
from peregrine_sdk.http import RetryPolicy
from integrations.notion import NOTION_VERSION, NotionIntegration, database_id_from
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.sync.choices import push_again
from peregrine_desktop.sync.engine import SyncEngine
from peregrine_desktop.sync.settings import SyncOptions
from peregrine_desktop.sync.state import SyncState
from peregrine_sdk.testkit import pointed_at
from tests.fakes.loopback import LoopbackServer, Reply, refused_url
from tests.fakes.tracker_services import NotionService, add_jobs, notion_job_columns


@pytest.fixture
def waits(monkeypatch):
    """The pauses the retry policy takes (instead of sleeping through them)."""
    taken: list[float] = []
    monkeypatch.setattr(NotionIntegration, "per_second", None)
    monkeypatch.setattr(NotionIntegration, "policy", RetryPolicy(
        attempts=6, base_delay=0.01, max_wait=60.0, sleep=taken.append))
    return taken


@pytest.fixture
def notion(waits):
    with LoopbackServer() as server, pointed_at(NotionIntegration, server.url):
        yield NotionService(server)


@pytest.fixture
def store(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    yield store
    store.close()


def client(service: NotionService, **extra) -> NotionIntegration:
    integration = NotionIntegration()
    integration.connect({"token": service.token, "database_id": service.database_id,
                         "key_column": "Peregrine ID", **extra})
    return integration


def sync(store, service, full=False, **extra):
    return SyncEngine(SyncState(store), options=SyncOptions(full=full)).run(
        client(service, **extra), store.list_jobs())


def test_database_id_is_taken_from_a_pasted_address():
    assert database_id_from("https://www.notion.so/me/Job-hunt-0123456789abcdef0123456789abcdef"
                            "?v=1") == "0123456789abcdef0123456789abcdef"
    assert database_id_from("01234567-89ab-cdef-0123-456789abcdef") == \
        "0123456789abcdef0123456789abcdef"


def test_the_connection_test_passes_and_every_call_names_the_api_version(notion):
    assert client(notion).check().ok
    assert {r.header("Notion-Version") for r in notion.server.requests} == {NOTION_VERSION}
    assert [r.path for r in notion.server.requests] == [
        "/v1/users/me", f"/v1/databases/{notion.database_id}",
        f"/v1/data_sources/{notion.data_source_id}"]


def test_a_wrong_secret_is_invalid_auth(notion):
    integration = NotionIntegration()
    integration.connect({"token": "ntn_wrong", "database_id": notion.database_id,
                         "key_column": "Peregrine ID"})
    result = integration.check()
    assert result.kind is ErrorKind.INVALID_AUTH
    assert "notion.so/my-integrations" in result.hint


def test_a_database_not_shared_explains_how_to_share_it(notion):
    notion.shared = False
    result = client(notion).check()
    assert result.kind is ErrorKind.NOT_FOUND
    assert "Share it with your integration" in result.hint


def test_an_unreachable_server_is_cannot_connect():
    integration = NotionIntegration()
    with pointed_at(NotionIntegration, refused_url()):
        integration.connect({"token": "x", "database_id": "y"})
        assert integration.check().kind is ErrorKind.CANNOT_CONNECT


def test_setup_offers_the_databases_real_columns(notion):
    notion.columns["Employer"] = {"id": "emp1", "name": "Employer", "type": "rich_text"}
    notion.columns["Score"] = {"id": "sc1", "name": "Score", "type": "formula"}
    integration = client(notion)
    assert integration.check().ok
    choices = integration.field_choices()
    company = [c if isinstance(c, str) else c["label"] for c in choices["column_company"]]
    assert "Employer" in company and "Don't sync" in company
    assert "Score" not in company                 # formulas cannot be written
    assert choices["key_column"][0] == "Peregrine ID"


def test_first_sync_creates_every_page_once_in_the_data_source(store, notion):
    jobs = add_jobs(store, 30)
    report = sync(store, notion)
    assert len(report.created) == 30 and not report.failed
    creates = [r for r in notion.writes() if r.method == "POST"]
    assert len(creates) == 30
    assert {r.json["parent"]["data_source_id"] for r in creates} == {notion.data_source_id}
    page = notion.page_for(jobs[0]["uid"])
    assert notion.text_of(page, "Name") == jobs[0]["title"]
    assert page["properties"]["Remote"]["checkbox"] is True
    # the data source is resolved once per sync, not per page
    assert len(notion.server.matching("GET", "^/v1/databases/")) == 1


def test_unchanged_resync_writes_nothing_and_one_edit_writes_once(store, notion):
    jobs = add_jobs(store, 30)
    sync(store, notion)
    notion.server.clear()
    assert sync(store, notion).writes == 0
    assert notion.writes() == []

    store.update_job(jobs[7]["id"], {"salary": "€95,000"})
    report = sync(store, notion)
    assert report.updated == [jobs[7]["id"]]
    assert [r.method for r in notion.writes()] == ["PATCH"]
    assert notion.text_of(notion.page_for(jobs[7]["uid"]), "Salary") == "€95,000"


def test_a_page_deleted_in_notion_is_listed_and_created_again_only_when_asked(store, notion):
    jobs = add_jobs(store, 5)
    sync(store, notion)
    notion.trash(notion.page_for(jobs[2]["uid"])["id"])
    store.update_job(jobs[2]["id"], {"notes": "edited after the page went"})
    report = sync(store, notion, full=True)
    assert report.remote_gone == [jobs[2]["id"]] and not report.created
    assert store.get(jobs[2]["id"]) is not None            # never deleted here silently
    assert len(notion.live_pages()) == 4

    push_again(SyncState(store), "notion", jobs[2]["id"])
    report = sync(store, notion)
    assert report.created == [jobs[2]["id"]] and not report.remote_gone
    assert sorted(notion.keys()) == sorted(j["uid"] for j in jobs)


def test_mapping_renames_skips_and_tolerates_missing_columns(store, notion):
    del notion.columns["Salary"]                  # the database lacks an optional column
    notion.columns["Employer"] = {"id": "e1", "name": "Employer", "type": "rich_text"}
    jobs = add_jobs(store, 2)
    report = sync(store, notion, column_company="Employer", column_location="-")
    assert len(report.created) == 2 and not report.failed
    page = notion.page_for(jobs[0]["uid"])
    assert notion.text_of(page, "Employer") == jobs[0]["company"]
    assert notion.text_of(page, "Company") == ""
    assert notion.text_of(page, "Location") == ""


def test_a_missing_key_column_is_added_to_the_database(store, notion):
    del notion.columns["Peregrine ID"]
    add_jobs(store, 2)
    report = sync(store, notion)
    assert len(report.created) == 2
    assert notion.columns["Peregrine ID"]["type"] == "rich_text"


def test_a_create_whose_answer_is_lost_is_found_by_key_not_repeated(store, notion):
    add_jobs(store, 3)
    original = notion.server._dispatch
    lost = {"n": 0}

    def lose_first_create_answer(request):
        reply = original(request)
        if request.method == "POST" and request.path == "/v1/pages" and lost["n"] == 0:
            lost["n"] += 1
            return Reply(502, "upstream timed out")      # the page exists, the answer is gone
        return reply

    notion.server._dispatch = lose_first_create_answer
    report = sync(store, notion)
    assert len(report.created) == 3 and not report.failed
    assert len(notion.live_pages()) == 3


def test_one_refused_job_fails_with_notions_reason_and_the_others_sync(store, notion):
    add_jobs(store, 4)
    notion.server.inject(Reply(400, {"object": "error", "status": 400,
                                     "code": "validation_error",
                                     "message": "body.properties.URL.url should be ≤ 2000"}),
                         times=1, method="POST", path="^/v1/pages$")
    report = sync(store, notion)
    assert len(report.created) == 3 and len(report.failed) == 1
    assert report.failed[0].reason == "Notion refused it: body.properties.URL.url should be ≤ 2000"


def test_a_429_storm_completes_waiting_as_long_as_notion_asks(store, notion, waits):
    add_jobs(store, 6)
    notion.rate_limit(times=4, retry_after=2)
    report = sync(store, notion)
    assert len(report.created) == 6 and not report.failed
    assert waits.count(2.0) == 4
    assert len(notion.live_pages()) == 6


def test_the_rate_is_paced_to_three_requests_a_second_by_default():
    assert NotionIntegration.per_second == 3.0
    integration = NotionIntegration()
    integration.connect({"token": "t", "database_id": "d"})
    assert integration._http().pacer.interval == pytest.approx(1 / 3)


def test_an_expired_secret_during_sync_stops_with_the_hint(store, notion):
    add_jobs(store, 3)
    report = sync(store, notion, token="ntn_revoked")
    assert len(report.failed) == 3
    assert "notion.so/my-integrations" in report.error


def test_default_columns_match_a_typical_database():
    assert set(notion_job_columns()) >= {"Name", "Company", "Status", "Peregrine ID"}
