"""Google Drive against a loopback emulator of Google's token endpoint and Drive v3.

Both ways in: a service-account key with a Shared Drive (the token endpoint checks the RS256
JWT with the public half of a key made here), and My Drive through the desktop OAuth flow
(PKCE, loopback redirect, refresh token).
"""
from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from peregrine_sdk.google_auth import forget_tokens
from peregrine_sdk.base import check_config
from peregrine_sdk.capabilities import Document
from peregrine_sdk.errors import ErrorKind, IntegrationError
from integrations.google_drive import GoogleDriveIntegration
from tests.fakes.calendar_services import make_service_account_key
from peregrine_sdk.testkit import pointed_at
from tests.fakes.loopback import LoopbackServer, Reply, refused_url
from tests.fakes.storage_services import GoogleDriveService, play_browser

CLIENT_EMAIL = "peregrine-docs@peregrine-tests.iam.gserviceaccount.com"


@pytest.fixture
def google(tmp_path):
    forget_tokens()
    with LoopbackServer() as server, pointed_at(GoogleDriveIntegration, server.url):
        key = make_service_account_key(tmp_path, f"{server.url}/token",
                                       client_email=CLIENT_EMAIL)
        service = GoogleDriveService(server, key.public_key, CLIENT_EMAIL)
        service.key_path = key.path
        yield service
    forget_tokens()


@pytest.fixture
def shared(google):
    """A Shared Drive with a Jobs folder; the service account is a member."""
    drive = google.shared_drive()
    return google.folder("Jobs", drive.id)


def sa_settings(google, folder_id: str, **changes) -> dict:
    config = {"auth_mode": "shared_drive", "folder_id": folder_id,
              "key_file": str(google.key_path), "oauth_client_file": "", "refresh_token": ""}
    config.update(changes)
    return config


def user_settings(google, tmp_path, refresh_token: str, **changes) -> dict:
    config = {"auth_mode": "my_drive", "folder_id": "",
              "oauth_client_file": str(google.client_file(tmp_path)),
              "refresh_token": refresh_token}
    config.update(changes)
    return config


def connected(config: dict) -> GoogleDriveIntegration:
    store = GoogleDriveIntegration()
    assert store.connect(config)
    return store


def document(path: Path, company="Globex", title="Backend Engineer") -> Document:
    return Document(path, (company, title), hashlib.sha256(path.read_bytes()).hexdigest())


@pytest.fixture
def resume(tmp_path) -> Path:
    path = tmp_path / "resume.pdf"
    path.write_bytes(b"%PDF resume v1")
    return path


# -- service account + Shared Drive ---------------------------------------------------------------
def test_shared_drive_test_exchanges_a_signed_jwt_and_reads_the_folder(google, shared):
    result, _ = check_config(GoogleDriveIntegration, sa_settings(google, shared.id))
    assert result.ok, result.message
    token, folder = google.server.requests
    assert token.path == "/token" and "jwt-bearer" in token.body.decode()
    assert folder.path == f"/drive/v3/files/{shared.id}"
    assert folder.query["supportsAllDrives"] == ["true"]


def test_folder_not_shared_with_the_service_account_names_its_email(google):
    drive = google.shared_drive(member=False)
    result, _ = check_config(GoogleDriveIntegration, sa_settings(google, drive.id))
    assert result.kind is ErrorKind.NOT_FOUND and CLIENT_EMAIL in result.hint


def test_a_my_drive_folder_with_a_key_explains_the_quota_rule(google, resume):
    folder = google.folder("Job documents", "root")
    google.share_with_service_account(folder.id)
    result, _ = check_config(GoogleDriveIntegration, sa_settings(google, folder.id))
    assert result.kind is ErrorKind.INVALID_AUTH
    assert "Shared Drive" in result.hint and "My Drive" in result.hint
    with pytest.raises(IntegrationError) as caught:   # uploading anyway: Google's 403
        connected(sa_settings(google, folder.id)).upload_document(document(resume))
    assert "no storage of their own" in caught.value.hint
    assert "storageQuotaExceeded" in caught.value.detail


def test_deleted_key_is_invalid_auth(google, shared, tmp_path):
    other = make_service_account_key(tmp_path / "..", f"{google.server.url}/token",
                                     client_email=CLIENT_EMAIL, name="old-key.json")
    result, _ = check_config(GoogleDriveIntegration,
                             sa_settings(google, shared.id, key_file=str(other.path)))
    assert result.kind is ErrorKind.INVALID_AUTH and "new JSON key" in result.hint


def test_shared_drive_upload_makes_folders_and_returns_the_link(google, shared, resume):
    location = connected(sa_settings(google, shared.id)).upload_document(document(resume))
    stored = google.at(shared.id, "Globex", "Backend Engineer", "resume.pdf")
    assert stored.content == resume.read_bytes() and stored.drive_id == "0AShared"
    assert location == f"https://drive.google.com/file/d/{stored.id}/view"
    upload = google.server.matching("POST", "/upload/drive/v3/files")[0]
    assert upload.query["uploadType"] == ["multipart"]
    assert upload.header("Content-Type").startswith("multipart/related; boundary=")


def test_unchanged_reupload_is_skipped_by_md5(google, shared, resume):
    config = sa_settings(google, shared.id)
    assert connected(config).store(document(resume)).uploaded is True
    again = connected(config).store(document(resume))
    assert again.uploaded is False
    assert len([r for r in google.server.requests if r.path.startswith("/upload/")]) == 1
    assert len(google.children(shared.id)) == 1            # no duplicate Company folder


def test_changed_file_is_updated_in_place_keeping_its_link(google, shared, resume):
    config = sa_settings(google, shared.id)
    first = connected(config).upload_document(document(resume))
    resume.write_bytes(b"%PDF resume v2")
    second = connected(config).store(document(resume))
    assert second.uploaded is True and second.location == first
    patch = google.server.matching("PATCH")[0]
    assert "parents" not in patch.body.decode().split("\r\n\r\n", 2)[1].split("\r\n")[0]
    folder = google.at(shared.id, "Globex", "Backend Engineer")
    assert [i.content for i in google.children(folder.id)] == [b"%PDF resume v2"]


def test_large_files_use_a_resumable_upload(google, shared, tmp_path):
    big = tmp_path / "portfolio.pdf"
    big.write_bytes(os.urandom(5 * 1024 * 1024 + 10))
    connected(sa_settings(google, shared.id)).upload_document(document(big))
    assert google.at(shared.id, "Globex", "Backend Engineer", "portfolio.pdf").content == \
        big.read_bytes()
    start = google.server.matching("POST", "/upload/drive/v3/files")[0]
    assert start.query["uploadType"] == ["resumable"]


def test_rate_limit_403_is_rate_limited_for_the_outbox(google, shared, resume):
    google.server.inject(Reply(403, {"error": {"errors": [{"reason": "userRateLimitExceeded",
                                                           "message": "User rate limit"}],
                                               "code": 403}}), path="/drive/v3/files$")
    with pytest.raises(IntegrationError) as caught:
        connected(sa_settings(google, shared.id)).upload_document(document(resume))
    assert caught.value.kind is ErrorKind.RATE_LIMITED and caught.value.retry_after


def test_server_errors_are_retried(google, shared, resume, monkeypatch):
    monkeypatch.setattr(GoogleDriveIntegration.upload_policy, "sleep", lambda _s: None)
    google.server.inject(Reply(503, "backend error"), times=2, path="/drive/v3/files$")
    assert connected(sa_settings(google, shared.id)).store(document(resume)).uploaded is True


def test_unreachable_google_cannot_connect(google, shared):
    with pointed_at(GoogleDriveIntegration, refused_url()):
        result, _ = check_config(GoogleDriveIntegration, sa_settings(google, shared.id))
    assert result.kind is ErrorKind.CANNOT_CONNECT


# -- My Drive through the desktop OAuth flow ------------------------------------------------------
def test_sign_in_with_google_then_my_drive_gets_a_peregrine_folder(google, tmp_path, resume):
    store = connected(user_settings(google, tmp_path, ""))
    prompt = store.begin_sign_in()
    browser = threading.Thread(target=play_browser, args=(prompt.url,))
    browser.start()
    saved = store.finish_sign_in()
    browser.join()
    asked = google.codes.authorize_params[0]
    assert asked["access_type"] == "offline" and asked["code_challenge_method"] == "S256"
    assert asked["redirect_uri"].startswith("http://127.0.0.1:")
    assert "auth/drive" in asked["scope"]
    config = user_settings(google, tmp_path, saved["refresh_token"])
    assert connected(config).test() is True
    [folder] = google.children("root")
    assert folder.name == "Peregrine" and folder.folder
    connected(config).upload_document(document(resume))
    assert google.at("root", "Peregrine", "Globex", "Backend Engineer", "resume.pdf")


def test_revoked_google_sign_in_is_invalid_auth(google, tmp_path):
    result, _ = check_config(GoogleDriveIntegration,
                             user_settings(google, tmp_path, "1//revoked"))
    assert result.kind is ErrorKind.INVALID_AUTH and "sign in again" in result.hint


def test_my_drive_without_sign_in_asks_for_it(google, tmp_path):
    result, _ = check_config(GoogleDriveIntegration, user_settings(google, tmp_path, ""))
    assert result.kind is ErrorKind.INVALID_AUTH and "Sign in with Google" in result.hint


def test_a_web_client_file_is_refused_with_instructions(google, tmp_path):
    web = tmp_path / "web-client.json"
    web.write_text('{"web": {"client_id": "x"}}')
    result, _ = check_config(GoogleDriveIntegration,
                             user_settings(google, tmp_path, "rt", oauth_client_file=str(web)))
    assert result.kind is ErrorKind.INVALID_AUTH and "Desktop app" in result.hint


def test_expired_access_token_is_renewed_once(google, tmp_path, resume):
    store = connected(user_settings(google, tmp_path, google.issue_refresh_token()))
    store.store(document(resume))
    google.tokens.clear()
    resume.write_bytes(b"v2")
    assert store.store(document(resume)).uploaded is True
    assert len(google.server.matching("POST", "/token")) == 2
