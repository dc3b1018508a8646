"""Dropbox against loopback emulators of its RPC host, content host and token endpoint."""
from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pytest

from peregrine_sdk.base import check_config
from peregrine_sdk.capabilities import Document
from integrations.dropbox import DropboxIntegration
from peregrine_sdk.errors import ErrorKind, IntegrationError
from tests.fakes.loopback import LoopbackServer, Reply, refused_url
from tests.fakes.storage_services import DropboxService, play_browser


@pytest.fixture
def dropbox():
    with LoopbackServer() as rpc, LoopbackServer() as content:
        service = DropboxService(rpc, content)
        with service.pointed():
            yield service


@pytest.fixture
def resume(tmp_path) -> Path:
    path = tmp_path / "resume.pdf"
    path.write_bytes(b"%PDF-1.7 resume v1")
    return path


def document(path: Path, company="ACME", title="Site Reliability Engineer") -> Document:
    return Document(path, (company, title), hashlib.sha256(path.read_bytes()).hexdigest())


def connected(dropbox: DropboxService, refresh: str | None = None, **changes) -> DropboxIntegration:
    store = DropboxIntegration()
    assert store.connect(dropbox.settings(refresh or dropbox.issue_refresh_token(), **changes))
    return store


def test_sign_in_with_pkce_saves_a_refresh_token_that_works(dropbox):
    store = DropboxIntegration()
    store.connect(dropbox.settings(""))
    prompt = store.begin_sign_in()
    assert "Dropbox" in prompt.message and prompt.url.startswith(dropbox.rpc.url)
    browser = threading.Thread(target=play_browser, args=(prompt.url,))
    browser.start()
    saved = store.finish_sign_in()
    browser.join()
    asked = dropbox.codes.authorize_params[0]
    assert asked["token_access_type"] == "offline" and asked["code_challenge_method"] == "S256"
    assert asked["redirect_uri"].startswith("http://localhost:")
    exchange = dropbox.rpc.matching("POST", "/oauth2/token")[0]
    assert "client_secret" not in exchange.body.decode()
    assert saved["refresh_token"] in dropbox.refresh_tokens
    assert connected(dropbox, saved["refresh_token"]).test() is True


def test_declined_sign_in_says_so(dropbox):
    store = DropboxIntegration()
    store.connect(dropbox.settings(""))
    prompt = store.begin_sign_in()
    browser = threading.Thread(target=play_browser, args=(prompt.url, False))
    browser.start()
    with pytest.raises(IntegrationError) as caught:
        store.finish_sign_in()
    browser.join()
    assert caught.value.kind is ErrorKind.INVALID_AUTH and "Allow" in caught.value.hint


def test_test_refreshes_then_finds_the_folder(dropbox, resume):
    connected(dropbox).store(document(resume))  # makes /Peregrine/...
    dropbox.rpc.clear()
    assert connected(dropbox).test() is True
    routes = [r.path for r in dropbox.rpc.requests]
    assert routes == ["/oauth2/token", "/2/files/get_metadata"]
    assert dropbox.rpc.requests[1].json == {"path": "/Peregrine"}


def test_test_creates_a_missing_folder(dropbox):
    assert connected(dropbox, folder="Jobs/2026").test() is True
    create = dropbox.rpc.matching("POST", "/2/files/create_folder_v2")
    assert [r.json["path"] for r in create] == ["/Jobs/2026"]
    assert dropbox.file("/jobs/2026").folder


def test_revoked_refresh_token_is_invalid_auth_asking_to_sign_in(dropbox):
    refresh = dropbox.issue_refresh_token()
    dropbox.revoke()
    result, _ = check_config(DropboxIntegration, dropbox.settings(refresh))
    assert result.kind is ErrorKind.INVALID_AUTH and "sign in again" in result.hint
    assert [r.path for r in dropbox.rpc.requests] == ["/oauth2/token"]


def test_no_refresh_token_yet_asks_to_sign_in(dropbox):
    result, _ = check_config(DropboxIntegration, dropbox.settings(""))
    assert result.kind is ErrorKind.INVALID_AUTH and "Sign in with Dropbox" in result.hint


def test_wrong_app_key_is_invalid_auth(dropbox):
    result, _ = check_config(DropboxIntegration,
                             dropbox.settings(dropbox.issue_refresh_token(), app_key="other"))
    assert result.kind is ErrorKind.INVALID_AUTH and "app key" in result.hint


def test_unreachable_api_host_cannot_connect(dropbox):
    with dropbox.pointed(api_url=refused_url()):
        result, _ = check_config(DropboxIntegration, dropbox.settings("rt"))
    assert result.kind is ErrorKind.CANNOT_CONNECT


def test_upload_goes_to_the_content_host_with_a_header_safe_argument(dropbox, resume):
    location = connected(dropbox).upload_document(document(resume, "Café Ünïcode", "Dev"))
    upload = dropbox.content.matching("POST", "/2/files/upload")[0]
    raw = upload.header("Dropbox-API-Arg")
    assert raw.isascii()
    arg = json.loads(raw)
    assert arg == {"path": "/Peregrine/Café Ünïcode/Dev/resume.pdf", "mode": "overwrite",
                   "autorename": False, "mute": True, "strict_conflict": False}
    assert upload.body == resume.read_bytes()
    assert dropbox.file("/peregrine/café ünïcode/dev/resume.pdf").content == resume.read_bytes()
    assert location == ("https://www.dropbox.com/home/Peregrine/Caf%C3%A9%20%C3%9Cn%C3%AFcode/"
                        "Dev?preview=resume.pdf")
    assert dropbox.rpc.matching("POST", "/2/files/upload") == []


def test_unchanged_reupload_is_skipped_by_content_hash(dropbox, resume):
    refresh = dropbox.issue_refresh_token()
    assert connected(dropbox, refresh).store(document(resume)).uploaded is True
    again = connected(dropbox, refresh).store(document(resume))
    assert again.uploaded is False
    assert len(dropbox.content.matching("POST", "/2/files/upload")) == 1
    resume.write_bytes(b"%PDF-1.7 resume v2")
    assert connected(dropbox, refresh).store(document(resume)).uploaded is True
    assert dropbox.file("/peregrine/acme/site reliability engineer/resume.pdf").rev == 2


def test_an_expired_access_token_is_renewed_once(dropbox, resume):
    store = connected(dropbox)
    store.store(document(resume))
    dropbox.expire_access_tokens()
    resume.write_bytes(b"changed")
    assert store.store(document(resume)).uploaded is True
    assert len(dropbox.rpc.matching("POST", "/oauth2/token")) == 2


def test_rate_limit_is_waited_out_using_retry_after(dropbox, resume):
    dropbox.content.inject(Reply(429, {"error_summary": "too_many_write_operations/..",
                                       "error": {"reason": {".tag": "too_many_write_operations"}}},
                                 headers={"Retry-After": "0"}), path="/2/files/upload")
    assert connected(dropbox).store(document(resume)).uploaded is True
    assert len(dropbox.content.matching("POST", "/2/files/upload")) == 2


def test_persistent_server_errors_surface_as_cannot_connect(dropbox, resume, monkeypatch):
    monkeypatch.setattr(DropboxIntegration.upload_policy, "sleep", lambda _seconds: None)
    dropbox.content.inject(Reply(503, "upstream"), times=3, path="/2/files/upload")
    with pytest.raises(IntegrationError) as caught:
        connected(dropbox).store(document(resume))
    assert caught.value.kind is ErrorKind.CANNOT_CONNECT
    assert len(dropbox.content.matching("POST", "/2/files/upload")) == 3


def test_missing_scope_names_the_permissions(dropbox, resume):
    dropbox.rpc.inject(Reply(401, {"error_summary": "missing_scope/..",
                                   "error": {".tag": "missing_scope",
                                             "required_scope": "files.metadata.read"}}),
                       times=2, path="/2/files/get_metadata")
    result = connected(dropbox).check()
    assert result.kind is ErrorKind.INVALID_AUTH and "files.content.write" in result.hint


def test_multi_block_files_are_recognised_as_unchanged(dropbox, tmp_path):
    """content_hash covers 4 MiB blocks; a 9 MiB file spans three."""
    import os

    big = tmp_path / "portfolio.pdf"
    big.write_bytes(os.urandom(9 * 1024 * 1024))
    refresh = dropbox.issue_refresh_token()
    assert connected(dropbox, refresh).store(document(big)).uploaded is True
    assert connected(dropbox, refresh).store(document(big)).uploaded is False
