"""Airtable against its loopback emulator: batches of ten, performUpsert by Peregrine ID, the
documented 30 s wait on 429 (shortened here), and errors that say what to fix."""
from __future__ import annotations

import pytest

from integrations.airtable import AirtableIntegration, base_and_table_from
from peregrine_sdk.errors import ErrorKind
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.sync.choices import push_again
from peregrine_desktop.sync.engine import SyncEngine
from peregrine_desktop.sync.state import SyncState
from peregrine_sdk.testkit import pointed_at
from tests.fakes.loopback import LoopbackServer, Reply
from tests.fakes.tracker_services import AirtableService, add_jobs


@pytest.fixture
def waits(monkeypatch):
    taken: list[float] = []
    monkeypatch.setattr(AirtableIntegration, "per_second", None)
    monkeypatch.setattr(AirtableIntegration, "rate_limit_wait", 0.25)
    monkeypatch.setattr(AirtableIntegration, "retry_delay", 0.01)
    monkeypatch.setattr(AirtableIntegration, "sleep", staticmethod(taken.append))
    return taken


@pytest.fixture
def airtable(waits):
    with LoopbackServer() as server, pointed_at(AirtableIntegration, server.url):
        yield AirtableService(server)


@pytest.fixture
def store(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    yield store
    store.close()


def client(service: AirtableService, **extra) -> AirtableIntegration:
    integration = AirtableIntegration()
    integration.connect({"token": service.token, "base_id": service.base_id,
                         "table": service.table, "key_column": "Peregrine ID", **extra})
    return integration


def sync(store, service, **extra):
    return SyncEngine(SyncState(store)).run(client(service, **extra), store.list_jobs())


def test_base_and_table_come_from_a_pasted_address():
    assert base_and_table_from("https://airtable.com/appAbc123/tblXyz789/viwQ?blocks=hide") == \
        ("appAbc123", "tblXyz789")
    assert base_and_table_from("appAbc123") == ("appAbc123", "")


def test_connection_test_passes_and_reads_the_columns(airtable):
    integration = client(airtable)
    assert integration.check().ok
    assert "Company" in integration.columns()
    assert integration.field_choices()["key_column"][0] == "Peregrine ID"


@pytest.mark.parametrize("change, kind, words", [
    ({"token": "patWrong"}, ErrorKind.INVALID_AUTH, "airtable.com/create/tokens"),
    ({"table": "Jobz"}, ErrorKind.NOT_FOUND, "check the base ID and the table name"),
    ({"base_id": "appNope"}, ErrorKind.NOT_FOUND, "check the base ID and the table name"),
])
def test_wrong_settings_say_what_to_fix(airtable, change, kind, words):
    result = client(airtable, **change).check()
    assert result.kind is kind and words in result.hint


def test_first_sync_upserts_in_batches_of_ten_merged_on_the_key(store, airtable):
    jobs = add_jobs(store, 25)
    report = sync(store, airtable)
    assert len(report.created) == 25 and not report.failed
    writes = airtable.writes()
    assert [len(r.json["records"]) for r in writes] == [10, 10, 5]
    assert all(r.method == "PATCH" for r in writes)
    assert {tuple(r.json["performUpsert"]["fieldsToMergeOn"]) for r in writes} == \
        {("Peregrine ID",)}
    record = airtable.record_for(jobs[3]["uid"])["fields"]
    assert record["Name"] == jobs[3]["title"] and record["Status"] == "Approved"
    assert record["Remote"] is False and record["Date found"] == "2026-11-02"


def test_unchanged_resync_writes_nothing_and_one_edit_writes_once(store, airtable):
    jobs = add_jobs(store, 25)
    sync(store, airtable)
    airtable.server.clear()
    assert sync(store, airtable).writes == 0 and airtable.writes() == []
    store.update_job(jobs[20]["id"], {"notes": "Second interview booked"})
    report = sync(store, airtable)
    assert report.updated == [jobs[20]["id"]]
    assert [len(r.json["records"]) for r in airtable.writes()] == [1]


def test_a_record_deleted_in_airtable_is_listed_and_created_again_only_when_asked(store,
                                                                                   airtable):
    jobs = add_jobs(store, 4)
    sync(store, airtable)
    airtable.delete(airtable.record_for(jobs[1]["uid"])["id"])
    store.update_job(jobs[1]["id"], {"notes": "edited after the record went"})
    report = sync(store, airtable)
    assert report.remote_gone == [jobs[1]["id"]] and not report.created
    assert len(airtable.records) == 3 and store.get(jobs[1]["id"]) is not None

    push_again(SyncState(store), "airtable", jobs[1]["id"])
    report = sync(store, airtable)
    assert report.created == [jobs[1]["id"]] and len(airtable.records) == 4


def test_a_refused_batch_is_retried_record_by_record(store, airtable):
    add_jobs(store, 10)
    refused = Reply(422, {"error": {"type": "INVALID_VALUE_FOR_COLUMN",
                                    "message": 'Field "Salary" cannot accept the provided value'}})
    airtable.server.inject(refused, times=2, method="PATCH")   # the batch, then the first job
    report = sync(store, airtable)
    assert len(report.created) == 9 and len(report.failed) == 1
    assert report.failed[0].reason == \
        'Airtable refused it: Field "Salary" cannot accept the provided value'
    assert len(airtable.records) == 9


def test_a_429_storm_waits_airtables_fixed_pause_and_completes(store, airtable, waits):
    add_jobs(store, 20)
    airtable.rate_limit(times=3)
    report = sync(store, airtable)
    assert len(report.created) == 20 and not report.failed
    assert waits == [0.25, 0.25, 0.25]              # no Retry-After: the documented wait
    assert AirtableIntegration.__dict__["rate_limit_wait"] == 0.25


def test_the_documented_limits_are_the_defaults():
    integration = AirtableIntegration()
    integration.connect({"token": "t", "base_id": "appX"})
    assert integration.policy.rate_limit_wait == 30.0
    assert integration._http().pacer.interval == pytest.approx(0.2)


def test_pacing_keeps_under_five_requests_a_second(store, monkeypatch):
    monkeypatch.setattr(AirtableIntegration, "per_second", 5.0)
    with LoopbackServer() as server, pointed_at(AirtableIntegration, server.url):
        service = AirtableService(server, max_per_second=5)
        add_jobs(store, 45)
        report = sync(store, service)
    assert len(report.created) == 45 and service.too_fast == 0


def test_a_table_without_the_key_column_explains_what_to_add(store, airtable):
    del airtable.fields["Peregrine ID"]
    add_jobs(store, 2)
    report = sync(store, airtable)
    assert len(report.failed) == 2
    assert "Add a single-line text field" in report.error


def test_an_unmapped_optional_column_is_skipped_not_fatal(store, airtable):
    del airtable.fields["Salary"]
    add_jobs(store, 3)
    report = sync(store, airtable, column_location="-")
    assert len(report.created) == 3
    fields = next(iter(airtable.records.values()))["fields"]
    assert "Salary" not in fields and "Location" not in fields


def test_a_schema_read_in_one_test_is_not_taken_for_the_next_tests_table(loopback_server):
    """The schema caches live for the process and are keyed by address; the test kit empties
    them before each test, as the next emulator may get this one's port."""
    from integrations.airtable import SCHEMAS
    from peregrine_sdk.tracker import SchemaCache, cache_key

    key = cache_key(loopback_server.url, "appBase", "Jobs", "patGood.123")
    SCHEMAS.put(key, {"Job Title": "singleLineText"})       # a table without "Salary"
    other = SchemaCache()
    other.put(key, {"Name": "singleLineText"})
    SchemaCache.clear_all()
    assert SCHEMAS.get(key) is None and other.get(key) is None
