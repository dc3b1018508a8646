"""Google Sheets against loopback emulators of Google's token endpoint (verifying an RS256 JWT
signed with a key generated here) and of the Sheets values API: a constant number of requests
per sync, rows found again by Peregrine ID, user columns kept."""
from __future__ import annotations

import json

import pytest

from peregrine_sdk.google_auth import forget_tokens
from peregrine_sdk.errors import ErrorKind
from integrations.google_sheets import GoogleSheetsIntegration, column_letter, spreadsheet_id_from
from peregrine_sdk.http import RetryPolicy
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.sync.choices import push_again
from peregrine_desktop.sync.engine import SyncEngine
from peregrine_desktop.sync.state import SyncState
from peregrine_sdk.testkit import pointed_at
from tests.fakes.loopback import LoopbackServer
from tests.fakes.tracker_services import GoogleService, add_jobs, make_service_account_key


@pytest.fixture
def waits(monkeypatch):
    taken: list[float] = []
    monkeypatch.setattr(GoogleSheetsIntegration, "policy", RetryPolicy(
        attempts=6, base_delay=0.01, max_wait=60.0, sleep=taken.append))
    return taken


@pytest.fixture
def google(tmp_path, waits):
    forget_tokens()
    with LoopbackServer() as server, pointed_at(GoogleSheetsIntegration, server.url):
        key_path, private_key = make_service_account_key(tmp_path, f"{server.url}/token")
        service = GoogleService(server, private_key.public_key())
        service.key_path = key_path
        yield service
    forget_tokens()


@pytest.fixture
def store(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    yield store
    store.close()


def client(service: GoogleService, **extra) -> GoogleSheetsIntegration:
    integration = GoogleSheetsIntegration()
    integration.connect({"key_file": str(service.key_path),
                         "spreadsheet_id": service.spreadsheet_id, **extra})
    return integration


def sync(store, service, **extra):
    return SyncEngine(SyncState(store)).run(client(service, **extra), store.list_jobs())


def test_addresses_and_columns():
    assert spreadsheet_id_from("https://docs.google.com/spreadsheets/d/1AbC_d-9/edit#gid=0") == \
        "1AbC_d-9"
    assert [column_letter(n) for n in (1, 12, 26, 27, 52)] == ["A", "L", "Z", "AA", "AZ"]


def test_the_key_is_exchanged_for_a_token_with_a_signed_jwt(google):
    assert client(google).check().ok
    token_request = google.server.matching("POST", "^/token$")[0]
    assert b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer" in \
        token_request.body
    sheet_call = google.server.matching("GET", "^/v4/")[0]
    assert sheet_call.header("Authorization").startswith("Bearer ya29.")


def test_a_key_google_does_not_know_is_invalid_auth(google, tmp_path):
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other_key, _ = make_service_account_key(other_dir, google.token_uri)
    result = client(google, key_file=str(other_key)).check()
    assert result.kind is ErrorKind.INVALID_AUTH
    assert "create a new JSON key" in result.hint


def test_a_missing_or_wrong_key_file_says_so(google, tmp_path):
    assert client(google, key_file=str(tmp_path / "nope.json")).check().kind is \
        ErrorKind.NOT_FOUND
    (tmp_path / "user.json").write_text(json.dumps({"type": "authorized_user"}))
    result = client(google, key_file=str(tmp_path / "user.json")).check()
    assert result.kind is ErrorKind.INVALID_AUTH and "not a service-account key" in result.hint


def test_a_sheet_not_shared_is_not_found_and_names_the_address_to_share_with(google):
    google.shared = False
    result = client(google).check()
    assert result.kind is ErrorKind.NOT_FOUND
    assert f"share it with {google.client_email} as Editor" in result.hint


def test_other_403_reasons_say_what_to_do(google):
    google.forbidden_reason = "SERVICE_DISABLED"
    result = client(google).check()
    assert result.kind is ErrorKind.INVALID_AUTH and "enable “Google Sheets API”" in result.hint
    google.forbidden_reason = "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    result = client(google).check()
    assert result.kind is ErrorKind.INVALID_AUTH and "create a new key" in result.hint


def test_a_wrong_id_or_tab_is_not_found(google):
    assert client(google, spreadsheet_id="1Other").check().kind is ErrorKind.NOT_FOUND
    result = client(google, sheet_name="Pipeline").check()
    assert result.kind is ErrorKind.NOT_FOUND and "no tab named “Pipeline”" in result.hint


def test_first_sync_adds_the_header_and_every_row_in_two_requests(store, google):
    jobs = add_jobs(store, 40)
    report = sync(store, google)
    assert len(report.created) == 40 and not report.failed
    assert [(r.method, r.path.rsplit(":", 1)[-1]) for r in google.sheet_requests()] == [
        ("GET", f"/v4/spreadsheets/{google.spreadsheet_id}/values/%27Jobs%27"),
        ("POST", "append")]
    rows = google.rows()
    assert rows[0][:4] == ["Peregrine ID", "Name", "Company", "Status"]
    assert rows[1][:4] == [jobs[0]["uid"], jobs[0]["title"], jobs[0]["company"], "Approved"]
    assert len(rows) == 41
    append = google.sheet_writes()[0]
    assert append.query["valueInputOption"] == ["RAW"]        # text is never a formula


def test_unchanged_resync_is_one_read_and_one_edit_one_batch_update(store, google):
    jobs = add_jobs(store, 40)
    sync(store, google)
    google.server.clear()
    assert sync(store, google).writes == 0
    assert [r.method for r in google.sheet_requests()] == ["GET"]

    google.server.clear()
    store.update_job(jobs[9]["id"], {"title": "Principal Engineer"})
    store.update_job(jobs[30]["id"], {"notes": "Offer expected"})
    report = sync(store, google)
    assert sorted(report.updated) == sorted([jobs[9]["id"], jobs[30]["id"]])
    writes = google.sheet_writes()
    assert len(writes) == 1 and writes[0].path.endswith("values:batchUpdate")
    assert [d["range"] for d in writes[0].json["data"]] == ["'Jobs'!B11:B11", "'Jobs'!L32:L32"]
    assert google.rows()[10][1] == "Principal Engineer"


def test_rows_are_found_by_key_after_the_user_sorts_and_adds_columns(store, google):
    jobs = add_jobs(store, 5)
    sync(store, google)
    header, *body = google.rows()
    body.reverse()                                        # the user sorted the sheet
    header.append("My rating")
    for row in body:
        row.append("★★★")
    google.rows()[:] = [header, *body]
    store.update_job(jobs[0]["id"], {"salary": "€99,000"})

    sync(store, google)

    row = next(r for r in google.rows() if r[0] == jobs[0]["uid"])
    assert row[7] == "€99,000" and row[-1] == "★★★"          # the user's column is kept
    assert len(google.rows()) == 6


def test_a_row_deleted_in_the_sheet_is_listed_and_added_again_only_when_asked(store, google):
    jobs = add_jobs(store, 5)
    sync(store, google)
    del google.rows()[3]
    report = sync(store, google)
    assert report.remote_gone == [jobs[2]["id"]] and not report.created
    assert len(google.rows()) == 5

    push_again(SyncState(store), "google_sheets", jobs[2]["id"])
    report = sync(store, google)
    assert report.created == [jobs[2]["id"]]
    assert sorted(r[0] for r in google.rows()[1:]) == sorted(j["uid"] for j in jobs)


def test_crash_after_the_append_leaves_no_duplicate_rows(store, google, monkeypatch):
    add_jobs(store, 8)
    state = SyncState(store)
    original = SyncState.link

    def crash(self, *args):
        raise SystemExit("power cut")

    monkeypatch.setattr(SyncState, "link", crash)
    with pytest.raises(SystemExit):
        SyncEngine(state).run(client(google), store.list_jobs())
    monkeypatch.setattr(SyncState, "link", original)
    SyncEngine(state).run(client(google), store.list_jobs())
    keys = [r[0] for r in google.rows()[1:]]
    assert len(keys) == 8 and len(set(keys)) == 8


def test_a_429_storm_completes_honouring_retry_after(store, google, waits):
    add_jobs(store, 6)
    google.rate_limit(times=3, retry_after=7)
    report = sync(store, google)
    assert len(report.created) == 6 and not report.failed
    assert waits.count(7.0) == 3


def test_the_token_is_reused_between_syncs(store, google):
    add_jobs(store, 3)
    sync(store, google)
    sync(store, google)
    assert google.token_requests == 1
