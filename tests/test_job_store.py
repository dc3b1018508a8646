"""The job store against a real SQLite file: schema versions, transactions, statuses, history."""
from __future__ import annotations

import sqlite3
import threading

import pytest

from peregrine_desktop.jobs import statuses, store as store_module
from peregrine_desktop.jobs.store import (DB_FILENAME, DuplicateJobError, JobNotFoundError,
                                          JobStore, JobValidationError, SchemaTooNewError)


@pytest.fixture
def store(tmp_path):
    s = JobStore(tmp_path / "jobs.sqlite3")
    yield s
    s.close()


def test_new_file_is_at_the_latest_schema_in_wal_mode(store):
    assert store.schema_version == len(store_module.MIGRATIONS)
    with store.connection() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.integrity_check() == []


def test_default_store_lives_in_the_data_dir(data_dir):
    s = JobStore.open_default()
    try:
        assert s.path == data_dir / DB_FILENAME and s.path.exists()
    finally:
        s.close()


def test_a_job_round_trips_with_every_field(store):
    job = store.add_job({
        "title": "  Backend   Engineer ", "company": "Acme", "url": "https://jobs.acme.test/1",
        "source": "Referral", "location": "Berlin", "remote": "yes", "salary": "EUR 80k",
        "description": "Line one\nLine two", "notes": "call Sam", "date_found": "2026-03-01",
        "status": "Phone screen", "interview_at": "2026-03-14T15:00:00+01:00",
        "interview_tz": "Europe/Berlin"})
    again = store.get(job["id"])
    assert again == job
    assert job["title"] == "Backend Engineer" and job["remote"] is True
    assert job["status"] == statuses.PHONE_SCREEN
    assert job["interview_at"] == "2026-03-14T15:00+01:00"
    assert job["updated_at"].endswith("+00:00")
    assert [h["status"] for h in job["status_history"]] == ["phone_screen"]
    assert set(job) == set(store_module.JOB_FIELDS) | {"status_history"}


@pytest.mark.parametrize("values, problem", [
    ({"title": ""}, "needs a title"),
    ({"title": "x", "url": "ftp://nope"}, "web address"),
    ({"title": "x", "status": "synced"}, "not a pipeline status"),
    ({"title": "x", "interview_at": "2026-03-14T15:00"}, "UTC offset"),
    ({"title": "x", "interview_at": "2026-03-14T15:00Z", "interview_tz": "Mars/Olympus"},
     "time zone"),
    ({"title": "x", "date_found": "yesterday"}, "not a date"),
    ({"title": "x", "colour": "red"}, "Unknown job field"),
])
def test_invalid_values_are_refused_with_a_sentence(store, values, problem):
    with pytest.raises(JobValidationError, match=problem):
        store.add_job(values)
    assert store.count() == 0


def test_urls_are_unique_but_empty_urls_are_not(store):
    store.add_job({"title": "A", "url": "https://x.test/1"})
    store.add_job({"title": "B"})
    store.add_job({"title": "C", "url": ""})
    with pytest.raises(DuplicateJobError, match="“A”"):
        store.add_job({"title": "D", "url": "https://x.test/1"})
    other = store.add_job({"title": "E", "url": "https://x.test/2"})
    with pytest.raises(DuplicateJobError):
        store.update_job(other["id"], {"url": "https://x.test/1"})
    assert store.count() == 4


def test_status_changes_follow_the_pipeline_and_are_recorded(store):
    job = store.add_job({"title": "A"})
    for status in ("approved", "applied", "interviewing"):      # skipping phone screen is fine
        job = store.set_status(job["id"], status)
    with pytest.raises(JobValidationError, match="cannot go from Interviewing back to Pending"):
        store.set_status(job["id"], "pending")
    job = store.set_status(job["id"], "rejected")               # from any stage
    assert store.allowed_statuses(job["id"]) == ["interviewing"]  # back where it was
    with pytest.raises(JobValidationError, match="only go back to Interviewing"):
        store.set_status(job["id"], "offer")
    store.set_status(job["id"], "interviewing")
    assert [h["status"] for h in store.history(job["id"])] == [
        "pending", "approved", "applied", "interviewing", "rejected", "interviewing"]


def test_an_update_that_changes_nothing_writes_nothing(store):
    job = store.add_job({"title": "A", "company": "B"})
    with store.connection() as conn:
        conn.execute("UPDATE jobs SET updated_at = '2000-01-01T00:00:00+00:00'")
    same = store.update_job(job["id"], {"title": "A", "company": "B", "status": "pending"})
    assert same["updated_at"] == "2000-01-01T00:00:00+00:00"
    changed = store.update_job(job["id"], {"company": "C"})
    assert changed["company"] == "C" and changed["updated_at"] > "2000"


def test_clearing_the_interview_clears_its_zone(store):
    job = store.add_job({"title": "A", "interview_at": "2026-03-14T15:00+01:00",
                         "interview_tz": "Europe/Berlin"})
    job = store.update_job(job["id"], {"interview_at": None})
    assert job["interview_at"] is None and job["interview_tz"] is None


def test_add_many_is_one_transaction_and_reports_skips(store):
    store.add_job({"title": "Existing", "url": "https://x.test/0"})
    report = store.add_many([
        {"title": "A", "url": "https://x.test/1"},
        {"title": "", "url": "https://x.test/2"},
        {"title": "B", "url": "https://x.test/0"},
        {"title": "C", "url": "https://x.test/1"},
        {"title": "D", "status": "offer"},
    ])
    assert report.added == 2
    assert report.skipped == [(1, "A job needs a title."),
                              (2, "already in your pipeline (same URL)"),
                              (3, "same URL as an earlier row in this import")]
    assert store.count() == 3


def test_a_failure_inside_a_transaction_leaves_nothing_behind(store):
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.add_job({"title": "A"})
            store.add_job({"title": "B"})
            raise RuntimeError("crash between writes")
    assert store.count() == 0
    assert store.list_jobs() == []


def test_other_threads_read_while_a_bulk_insert_is_open(store):
    store.add_job({"title": "Before"})
    seen = []
    inside = threading.Event()
    release = threading.Event()

    def bulk() -> None:
        with store.transaction():
            store.add_job({"title": "During"})
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=bulk)
    worker.start()
    assert inside.wait(5)
    seen.append([j["title"] for j in store.list_jobs()])     # WAL: the committed state
    release.set()
    worker.join()
    assert seen == [["Before"]]
    assert [j["title"] for j in store.list_jobs()] == ["Before", "During"]


def test_list_filters_counts_and_deletes(store):
    a = store.add_job({"title": "Python developer", "company": "Acme", "notes": "50% remote"})
    b = store.add_job({"title": "Designer", "company": "Globex", "status": "applied"})
    store.add_job({"title": "Data engineer", "company": "Acme"})
    assert [j["id"] for j in store.list_jobs(text="acme python")] == [a["id"]]
    assert [j["id"] for j in store.list_jobs(text="50%")] == [a["id"]]
    assert [j["id"] for j in store.list_jobs(status="applied")] == [b["id"]]
    assert store.counts_by_status()["pending"] == 2
    assert store.counts_by_status()["applied"] == 1
    removed = store.delete_job(a["id"])
    assert removed["title"] == "Python developer" and removed["status_history"]
    assert store.get(a["id"]) is None and store.history(a["id"]) == []
    with pytest.raises(JobNotFoundError):
        store.set_status(a["id"], "approved")
    assert store.integrity_check() == []


def test_set_status_many_moves_what_it_can_in_one_go(store):
    ids = [store.add_job({"title": t})["id"] for t in "ABC"]
    store.set_status(ids[2], "approved")
    store.set_status(ids[2], "applied")
    store.set_status(ids[2], "interviewing")
    changed, refused = store.set_status_many(ids, "approved")
    assert [new["id"] for new, _old in changed] == ids[:2]
    assert refused[0][0] == ids[2] and "back" in refused[0][1]


def test_older_files_are_migrated_forward(tmp_path, monkeypatch):
    path = tmp_path / "jobs.sqlite3"
    JobStore(path).close()
    monkeypatch.setattr(store_module, "MIGRATIONS", [
        *store_module.MIGRATIONS, "ALTER TABLE jobs ADD COLUMN contact TEXT NOT NULL DEFAULT '';"])
    s = JobStore(path)
    try:
        assert s.schema_version == len(store_module.MIGRATIONS)
        with s.connection() as conn:
            columns = [r[1] for r in conn.execute("PRAGMA table_info(jobs)")]
        assert "contact" in columns
    finally:
        s.close()


def test_the_pipelines_first_read_comes_from_one_index_already_in_order(store):
    """The first paint reads FIRST_FIELDS of every job in the opening order: from the covering
    index, without a sort and without the rows (and their long descriptions)."""
    with store.connection() as conn:
        plan = " ".join(row[-1] for row in conn.execute(
            "EXPLAIN QUERY PLAN " + store_module.summaries_query(store_module.FIRST_FIELDS, True)))
    assert "COVERING INDEX jobs_first_screen" in plan
    assert "TEMP B-TREE" not in plan


def test_a_file_without_the_reading_index_gets_it_and_keeps_its_version(tmp_path):
    path = tmp_path / "jobs.sqlite3"
    JobStore(path).close()
    conn = sqlite3.connect(path)          # as an older Peregrine, which had no such index, left it
    conn.execute("DROP INDEX jobs_first_screen")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.close()
    s = JobStore(path)
    try:
        with s.connection() as conn:
            names = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "jobs_first_screen" in names
        assert s.schema_version == version     # an older Peregrine can still open the file
        assert s.integrity_check() == []
    finally:
        s.close()


def test_schema_1_jobs_get_a_global_identity_and_their_applied_date(tmp_path):
    path = tmp_path / "jobs.sqlite3"
    conn = sqlite3.connect(path)      # a file as the first release wrote it
    for statement in store_module.split_statements(store_module.MIGRATIONS[0]):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.executemany("INSERT INTO jobs(id, title, date_found, status, updated_at) "
                     "VALUES (?, ?, '2026-02-01', ?, '2026-03-01T09:00:00+00:00')",
                     [(1, "Engineer", "applied"), (2, "Designer", "pending")])
    conn.executemany("INSERT INTO status_history(job_id, status, at) VALUES (?, ?, ?)",
                     [(1, "pending", "2026-02-01T09:00:00+00:00"),
                      (1, "applied", "2026-03-01T09:00:00+00:00"),
                      (2, "pending", "2026-02-01T09:00:00+00:00")])
    conn.commit()
    conn.close()
    first, second = {"id": 1}, {"id": 2}

    s = JobStore(path)
    try:
        a, b = s.get(first["id"]), s.get(second["id"])
        assert a["applied_on"] == "2026-03-01" and b["applied_on"] is None
        assert a["uid"] and b["uid"] and a["uid"] != b["uid"]
        assert s.find_by_uid(a["uid"])["id"] == first["id"]
        assert a["status_history"][-1]["status"] == "applied"   # history untouched
    finally:
        s.close()


def test_a_job_keeps_its_identity_and_records_when_it_was_applied_for(store):
    job = store.add_job({"title": "Engineer"})
    assert job["applied_on"] is None
    store.set_status(job["id"], "approved")
    moved = store.set_status(job["id"], "applied")
    assert moved["uid"] == job["uid"] and moved["applied_on"] == moved["updated_at"][:10]
    adopted = store.add_job({"title": "From another computer",
                             "uid": "0b5e8f6c-4f0e-4d55-9b8e-1f7e2b9a6c11"})
    assert adopted["uid"] == "0b5e8f6c-4f0e-4d55-9b8e-1f7e2b9a6c11"
    with pytest.raises(DuplicateJobError):
        store.add_job({"title": "Twice", "uid": adopted["uid"]})


def test_a_file_from_a_newer_app_is_not_touched(tmp_path):
    path = tmp_path / "jobs.sqlite3"
    JobStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(SchemaTooNewError, match="newer version"):
        JobStore(path)


def test_other_components_version_their_own_tables(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "_registered", {})
    store_module.register_schema("sync_map", [
        """CREATE TABLE sync_map (integration TEXT, job_id INTEGER REFERENCES jobs(id)
               ON DELETE CASCADE, remote_id TEXT, PRIMARY KEY (integration, job_id));"""])
    s = JobStore(tmp_path / "jobs.sqlite3")
    try:
        job = s.add_job({"title": "A"})
        with s.transaction() as conn:
            conn.execute("INSERT INTO sync_map VALUES ('notion', ?, 'page-1')", (job["id"],))
        # a second migration runs once, later, without touching the jobs schema version
        assert s.ensure_schema("sync_map", [
            store_module._registered["sync_map"][0],
            "CREATE INDEX sync_map_remote ON sync_map(remote_id);"]) == 2
        assert s.schema_version == len(store_module.MIGRATIONS)
        s.delete_job(job["id"])
        with s.connection() as conn:
            assert conn.execute("SELECT COUNT(*) FROM sync_map").fetchone()[0] == 0
    finally:
        s.close()


def test_transitions_table_matches_the_product_pipeline():
    assert statuses.allowed_transitions("pending") == ["approved", "applied", "phone_screen",
                                                       "interviewing", "offer", "hired",
                                                       "rejected"]
    assert statuses.allowed_transitions("hired") == ["offer", "rejected"]
    for status in statuses.PIPELINE:
        assert "rejected" in statuses.allowed_transitions(status)
    assert statuses.label("phone_screen") == "Phone screen"
    assert statuses.normalise("Phone Screen") == "phone_screen"
