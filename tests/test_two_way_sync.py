"""Two-way sync against each tracker's emulator: one identity per job, edits made in the tracker
taken in field by field, conflicts kept until the user chooses, two computers on one tracker, rows
added or deleted on either side — and nothing a person typed ever lost or overwritten silently."""
from __future__ import annotations

from datetime import datetime

import pytest

from peregrine_sdk.tracker import LEGACY_FIELDS
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.sync import choices
from peregrine_desktop.sync.run import tracker_status
from peregrine_desktop.sync.state import SyncState
from tests.fakes.tracker_harness import NAMES, tracker
from tests.fakes.tracker_services import add_jobs


@pytest.fixture(params=NAMES)
def service(request, tmp_path, monkeypatch):
    with tracker(request.param, tmp_path, monkeypatch) as emulated:
        yield emulated


@pytest.fixture
def store(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    yield store
    store.close()


@pytest.fixture
def other(tmp_path):
    """A second install: its own database, the same tracker."""
    store = JobStore(tmp_path / "other.sqlite3")
    yield store
    store.close()


def remote_edits(name: str) -> dict[str, object]:
    """A person's edits of every mapped column, as that tracker holds them."""
    edits: dict[str, object] = {
        "Name": "Lead Platform Engineer", "Company": "ACME Labs", "Status": "Interviewing",
        "URL": "https://jobs.example/acme-lead", "Location": "Lisbon", "Salary": "€95,000",
        "Date found": "2026-11-20", "Notes": "Called on Tuesday 📞\nSecond line",
        "Description": "We build rockets.\n\nRemote friendly.", "Source": "referral",
        "Applied on": "2026-11-25", "Deadline": "2026-12-24", "Next action": "2026-12-05",
        "Next action note": "Send the portfolio", "Remote": False,
        "Interview": "2026-12-10T14:00:00.000Z"}
    if name == "google_sheets":
        edits["Remote"] = "No"
    return edits


def expected_job(job: dict) -> dict:
    return {"title": "Lead Platform Engineer", "company": "ACME Labs", "status": "interviewing",
            "url": "https://jobs.example/acme-lead", "location": "Lisbon",
            "salary": "€95,000", "date_found": "2026-11-20",
            "notes": "Called on Tuesday 📞\nSecond line",
            "description": "We build rockets.\n\nRemote friendly.", "source": "referral",
            "applied_on": "2026-11-25", "deadline": "2026-12-24",
            "next_action_on": "2026-12-05", "next_action_note": "Send the portfolio",
            "remote": False}


# -- pulling ----------------------------------------------------------------------------------
def test_every_mapped_field_edited_there_is_taken_in_and_not_written_back(store, service):
    jobs = add_jobs(store, 6)
    service.sync(store)
    uid = jobs[0]["uid"]
    for column, value in remote_edits(service.name).items():
        service.edit(uid, column, value)
    writes_before = len(service.writes())

    report = service.sync(store)

    job = store.get(jobs[0]["id"])
    assert {k: job[k] for k in expected_job(job)} == expected_job(job)
    assert datetime.fromisoformat(job["interview_at"]) == \
        datetime.fromisoformat("2026-12-10T14:00:00+00:00")
    assert job["status_history"][-1]["status"] == "interviewing"    # a history entry
    assert {c.field for c in report.pulled} >= {"status", "notes", "salary", "interview_at",
                                                "location", "description", "deadline"}
    assert len(service.writes()) == writes_before                    # no ping-pong
    assert not report.conflicts and not report.failed
    again = service.sync(store)
    assert again.writes == 0 and not again.pulled
    assert len(service.writes()) == writes_before


def test_a_change_here_and_one_there_in_different_fields_both_survive(store, service):
    jobs = add_jobs(store, 3)
    service.sync(store)
    service.edit(jobs[1]["uid"], "Salary", "€120,000")
    store.update_job(jobs[1]["id"], {"notes": "Recruiter is Ana"})

    report = service.sync(store)

    assert store.get(jobs[1]["id"])["salary"] == "€120,000"
    assert report.updated == [jobs[1]["id"]]
    assert service.cell(jobs[1]["uid"], "Notes") == "Recruiter is Ana"
    assert service.cell(jobs[1]["uid"], "Salary") == "€120,000"


@pytest.mark.parametrize("keep", [choices.MINE, choices.THEIRS])
def test_both_sides_changed_is_a_conflict_kept_with_both_values_until_resolved(store, service,
                                                                               keep):
    jobs = add_jobs(store, 3)
    service.sync(store)
    uid, job_id = jobs[2]["uid"], jobs[2]["id"]
    service.edit(uid, "Notes", "Theirs: phone screen on Friday")
    store.update_job(job_id, {"notes": "Mine: waiting for the recruiter"})

    report = service.sync(store)

    assert [(c.job_id, c.field, c.local, c.remote) for c in report.conflicts] == [
        (job_id, "notes", "Mine: waiting for the recruiter", "Theirs: phone screen on Friday")]
    assert store.get(job_id)["notes"] == "Mine: waiting for the recruiter"     # nothing lost
    assert service.cell(uid, "Notes") == "Theirs: phone screen on Friday"
    assert tracker_status(store, service.name).conflicts == 1
    assert service.sync(store).conflicts                       # still there until resolved

    choices.resolve_conflict(SyncState(store), service.name, job_id, "notes", keep)
    report = service.sync(store)

    winner = ("Mine: waiting for the recruiter" if keep == choices.MINE
              else "Theirs: phone screen on Friday")
    assert store.get(job_id)["notes"] == winner
    assert service.cell(uid, "Notes") == winner
    assert not report.conflicts and tracker_status(store, service.name).conflicts == 0
    assert service.sync(store).writes == 0


def test_a_conflict_both_sides_settle_alike_resolves_itself(store, service):
    jobs = add_jobs(store, 2)
    service.sync(store)
    service.edit(jobs[0]["uid"], "Location", "Porto")
    store.update_job(jobs[0]["id"], {"location": "Lisbon"})
    assert service.sync(store).conflicts
    store.update_job(jobs[0]["id"], {"location": "Porto"})
    report = service.sync(store)
    assert not report.conflicts and report.writes == 0


# -- identity ---------------------------------------------------------------------------------
def test_two_installs_on_one_tracker_never_touch_each_others_records(store, other, service):
    mine = add_jobs(store, 4)
    theirs = add_jobs(other, 3, start=50)
    service.sync(store)
    before = {j["uid"]: service.cell(j["uid"], "Name") for j in mine}

    report = service.sync(other)

    assert len(report.created) == 3 and len(report.foreign) == 4
    assert sorted(service.keys()) == sorted(j["uid"] for j in mine + theirs)
    assert {j["uid"]: service.cell(j["uid"], "Name") for j in mine} == before
    assert other.count() == 3                           # nothing imported without asking
    report = service.sync(store)
    assert len(report.foreign) == 3 and report.writes == 0
    assert store.count() == 4


def test_a_reinstall_with_an_empty_database_writes_nothing_and_can_join(store, other, service):
    jobs = add_jobs(store, 5)
    service.sync(store)
    writes = len(service.writes())

    report = service.sync(other)                       # the same person, a fresh install
    assert len(report.foreign) == 5 and report.writes == 0
    assert len(service.writes()) == writes

    choices.join(SyncState(other), service.name, yes=True)
    report = service.sync(other)
    assert len(report.imported) == 5 and report.writes == 0
    assert sorted(j["uid"] for j in other.list_jobs()) == sorted(j["uid"] for j in jobs)
    assert len(service.keys()) == 5


def test_joining_a_second_computer_converges_both_through_the_tracker(store, other, service):
    add_jobs(store, 3)
    add_jobs(other, 2, start=20)
    service.sync(store)
    service.sync(other)
    choices.join(SyncState(other), service.name, yes=True)
    assert len(service.sync(other).imported) == 3
    assert len(service.sync(store).foreign) == 2
    choices.join(SyncState(store), service.name, yes=True)
    assert len(service.sync(store).imported) == 2
    assert sorted(j["uid"] for j in store.list_jobs()) == \
        sorted(j["uid"] for j in other.list_jobs())
    assert len(service.keys()) == 5

    shared = store.list_jobs()[0]
    here = store.update_job(shared["id"], {"notes": "Edited on the laptop"})
    service.sync(store)
    service.later()
    report = service.sync(other)
    there = other.find_by_uid(here["uid"])
    assert there["notes"] == "Edited on the laptop" and report.writes == 0


def test_keeping_another_computers_jobs_apart_is_not_asked_again(store, other, service):
    add_jobs(store, 2)
    service.sync(store)
    assert service.sync(other).foreign
    choices.join(SyncState(other), service.name, yes=False)
    report = service.sync(other)
    assert not report.foreign and other.count() == 0
    assert tracker_status(other, service.name).other_computer == 0


def test_records_an_older_version_keyed_by_integer_ids_are_rekeyed_in_place(store, service,
                                                                            monkeypatch):
    jobs = add_jobs(store, 4)
    service.sync(store)
    # What an older version left: integer keys there, links without a base in the map.
    state = SyncState(store)
    client = service.client()
    with store.transaction() as conn:
        for job in jobs:
            service.edit(job["uid"], "Peregrine ID", str(job["id"]))
            legacy_remote = str(job["id"]) if service.name == "google_sheets" else None
            conn.execute("UPDATE sync_records SET uid = '', base = NULL, pushed_hash = ?, "
                         "remote_id = COALESCE(?, remote_id) WHERE job_id = ?",
                         (client.legacy_digest(job), legacy_remote, job["id"]))
    service.edit(str(jobs[1]["id"]), "Notes", "Typed in the tracker before the update")
    store.update_job(jobs[2]["id"], {"salary": "€101,000"})

    report = service.sync(store)

    assert sorted(service.keys()) == sorted(j["uid"] for j in jobs)      # re-keyed, no copies
    assert store.get(jobs[1]["id"])["notes"] == "Typed in the tracker before the update"
    assert service.cell(jobs[2]["uid"], "Salary") == "€101,000"
    assert not report.created and not report.failed
    assert all(link.uid and link.base for link in state.records(service.name).values())
    assert service.sync(store).writes == 0
    assert "salary" in LEGACY_FIELDS


# -- rows added and deleted -----------------------------------------------------------------
def test_a_row_added_there_is_listed_and_imported_when_asked(store, service):
    add_jobs(store, 2)
    service.sync(store)
    service.add_row(**{"Name": "Data Engineer", "Company": "Initech", "Status": "Applied",
                       "URL": "https://jobs.example/initech-de"})
    service.later()

    report = service.sync(store)
    assert [e.title for e in report.remote_new] == ["Data Engineer — Initech"]
    assert store.count() == 2
    assert tracker_status(store, service.name).new_rows == 1

    state = SyncState(store)
    choices.import_rows(state, service.name, [report.remote_new[0].remote_id])
    report = service.sync(store)
    job = store.find_by_url("https://jobs.example/initech-de")
    assert job is not None and job["status"] == "applied" and job["company"] == "Initech"
    assert report.imported == [job["id"]] and not report.remote_new
    assert job["uid"] in service.keys() and len(service.keys()) == 3   # its key written there
    assert service.sync(store).writes == 0


def test_rows_added_there_are_imported_at_once_when_the_setting_says_so(store, service):
    service.sync(store)
    service.add_row(**{"Name": "SRE", "Company": "Hooli"})
    report = service.sync(store, remote_rows="import")
    assert len(report.imported) == 1 and store.list_jobs()[0]["title"] == "SRE"
    assert len(service.keys()) == 1


def test_a_record_deleted_there_can_be_deleted_here_too(store, service):
    jobs = add_jobs(store, 3)
    service.sync(store)
    service.delete(jobs[0]["uid"])
    report = service.sync(store, full=True)
    assert report.remote_gone == [jobs[0]["id"]]
    assert tracker_status(store, service.name).deleted_there == 1

    state = SyncState(store)
    choices.forget_deleted_record(state, service.name, jobs[0]["id"])
    state.job_deleted(store.delete_job(jobs[0]["id"]))
    report = service.sync(store, full=True)
    assert not report.remote_gone and not report.created and not report.deleted_here
    assert sorted(service.keys()) == sorted(j["uid"] for j in jobs[1:])


@pytest.mark.parametrize("choice", ["delete", "keep"])
def test_a_job_deleted_here_asks_once_then_follows_the_choice(store, service, choice):
    jobs = add_jobs(store, 3)
    service.sync(store)
    state = SyncState(store)
    state.job_deleted(store.delete_job(jobs[1]["id"]))

    report = service.sync(store)
    assert [t.title for t in report.deleted_here] == [jobs[1]["title"]]
    assert jobs[1]["uid"] in service.keys()            # nothing deleted before the answer

    report = service.sync(store, local_deletes=choice)
    if choice == "delete":
        assert jobs[1]["uid"] not in service.keys()
        assert report.deleted_there == [jobs[1]["title"]]
    else:
        assert jobs[1]["uid"] in service.keys()
    assert not report.deleted_here and not report.foreign and not report.remote_new
    report = service.sync(store, full=True)
    assert not report.deleted_here and not report.foreign and not report.remote_new
    assert len(service.keys()) == (2 if choice == "delete" else 3)


def test_a_preview_takes_nothing_in_and_writes_nothing(store, service):
    jobs = add_jobs(store, 2)
    service.sync(store)
    service.edit(jobs[0]["uid"], "Notes", "Edited there")
    writes = len(service.writes())
    report = service.sync(store, dry_run=True)
    assert [c.field for c in report.pulled] == ["notes"]
    assert store.get(jobs[0]["id"])["notes"] == ""
    assert len(service.writes()) == writes
    assert service.sync(store).pulled                  # the real sync still takes it


# -- limits and other people's cells ---------------------------------------------------------
@pytest.fixture
def notion(tmp_path, monkeypatch):
    with tracker("notion", tmp_path, monkeypatch) as emulated:
        yield emulated


@pytest.fixture
def sheets(tmp_path, monkeypatch):
    with tracker("google_sheets", tmp_path, monkeypatch) as emulated:
        yield emulated


def test_notion_text_over_its_utf16_limits_is_cut_by_code_units_and_accepted(store, notion):
    emoji = "😀"                                          # two UTF-16 code units each
    notes = "Notes " + emoji * 1500                     # 3,006 units: two rich-text objects
    title = "Job " + emoji * 1200                       # a title holds one object of 2,000
    description = emoji * 100_001                       # over 100 objects of 2,000
    job = store.add_job({"title": title, "company": "ACME", "status": "approved",
                         "notes": notes, "description": description,
                         "url": "https://jobs.example/" + "a" * 2100})

    report = notion.sync(store)

    assert report.created == [job["id"]] and not report.failed
    page = notion.service.page_for(job["uid"])
    pieces = page["properties"]["Notes"]["rich_text"]
    assert "".join(p["plain_text"] for p in pieces) == notes      # nothing of it lost
    assert all(len(p["plain_text"].encode("utf-16-le")) // 2 <= 2000 for p in pieces)
    stored_title = notion.cell(job["uid"], "Name")
    assert len(stored_title.encode("utf-16-le")) // 2 <= 2000
    assert stored_title == title[:len(stored_title)] and not stored_title.endswith("\ud83d")
    assert len(page["properties"]["Description"]["rich_text"]) == 100
    assert len(page["properties"]["URL"]["url"]) == 2000
    assert notion.sync(store).writes == 0               # the cut text is not an edit there


def test_sheets_never_rewrites_a_users_numbers_and_formulas(store, sheets):
    from tests.fakes.tracker_services import Formula

    jobs = add_jobs(store, 3)
    sheets.sync(store)
    rows = sheets.service.rows()
    rows[0] += ["Rating", "Score x2"]
    for number, row in enumerate(rows[1:], start=2):
        row += ["", ""]
        row[-2], row[-1] = 4, Formula(f"=Q{number}*2", 8)
    store.update_job(jobs[1]["id"], {"notes": "Offer expected", "salary": "€90,000"})
    sheets.service.server.clear()

    sheets.sync(store)

    (write,) = sheets.writes()
    assert write.json["valueInputOption"] == "RAW"
    for number, row in enumerate(sheets.service.rows()[1:], start=2):
        assert row[-2] == 4 and row[-1] == Formula(f"=Q{number}*2", 8)
    assert sheets.cell(jobs[1]["uid"], "Notes") == "Offer expected"
    sent = write.json["data"][0]["values"][0]
    assert sum(v is not None for v in sent) == 2       # only the two changed cells


def test_sheets_cells_hold_at_most_50000_characters(store, sheets):
    job = store.add_job({"title": "Writer", "status": "approved", "description": "x" * 60_000})
    sheets.sync(store)
    assert len(sheets.cell(job["uid"], "Description")) == 50_000
    assert sheets.sync(store).writes == 0
