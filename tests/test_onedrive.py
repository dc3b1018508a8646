"""OneDrive against loopback emulators of Microsoft Graph and the identity platform.

MSAL (the real library) talks to the identity emulator over https with a certificate made for
127.0.0.1, because MSAL only accepts https authorities; Graph is plain http on loopback.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from peregrine_sdk.base import check_config
from peregrine_sdk.capabilities import Document
from peregrine_sdk.errors import ErrorKind, IntegrationError
from integrations.onedrive import OneDriveIntegration
from peregrine_sdk.testkit import pointed_at
from tests.fakes.loopback import LoopbackServer, Reply, refused_url
from tests.fakes.storage_services import (GraphDrive, MicrosoftIdentity, self_signed_certificate,
                                          serve_tls)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def microsoft(certificate, monkeypatch):
    cert, key = certificate
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    login = LoopbackServer()
    base = serve_tls(login, cert, key)
    with login, LoopbackServer() as graph_server:
        identity = MicrosoftIdentity(login, base)
        drive = GraphDrive(graph_server, identity)
        with pointed_at(OneDriveIntegration, authority_url=identity.base_url,
                        graph_url=drive.graph_url):
            yield identity, drive


def settings(microsoft, token_cache: str = "", **changes) -> dict:
    identity, _drive = microsoft
    config = {"client_id": identity.client_id, "account_type": "consumers",
              "folder": "Peregrine", "token_cache": token_cache}
    config.update(changes)
    return config


def sign_in(microsoft, **changes) -> str:
    identity, _drive = microsoft
    store = OneDriveIntegration()
    store.connect(settings(microsoft, **changes))
    prompt = store.begin_sign_in()
    identity.approve_on_poll(prompt.user_code, polls=1)
    return store.finish_sign_in()["token_cache"]


@pytest.fixture
def signed_in(microsoft) -> str:
    return sign_in(microsoft)


def connected(microsoft, token_cache: str, **changes) -> OneDriveIntegration:
    store = OneDriveIntegration()
    assert store.connect(settings(microsoft, token_cache, **changes))
    return store


def document(path: Path, company="Contoso", title="Platform Engineer") -> Document:
    return Document(path, (company, title), hashlib.sha256(path.read_bytes()).hexdigest())


@pytest.fixture
def resume(tmp_path) -> Path:
    path = tmp_path / "resume.docx"
    path.write_bytes(b"PK\x03\x04 resume v1")
    return path


def test_device_code_prompt_shows_the_code_and_the_link(microsoft):
    identity, _ = microsoft
    store = OneDriveIntegration()
    store.connect(settings(microsoft))
    prompt = store.begin_sign_in()
    assert prompt.url == "https://microsoft.com/devicelogin"
    assert prompt.user_code and prompt.user_code in prompt.message
    identity.approve_on_poll(prompt.user_code, polls=2)
    cache = store.finish_sign_in()["token_cache"]
    assert identity.polls == 3                       # two "pending" answers, then tokens
    assert "refresh_token" in cache.lower() or "RefreshToken" in cache
    device = identity.server.matching("POST", r"/consumers/oauth2/v2.0/devicecode")[0]
    assert "Files.ReadWrite" in device.body.decode()


def test_declined_device_code_is_invalid_auth(microsoft):
    identity, _ = microsoft
    store = OneDriveIntegration()
    store.connect(settings(microsoft))
    prompt = store.begin_sign_in()
    identity.decline(prompt.user_code)
    with pytest.raises(IntegrationError) as caught:
        store.finish_sign_in()
    assert caught.value.kind is ErrorKind.INVALID_AUTH and "declined" in caught.value.hint


def test_unknown_client_id_is_explained_before_any_code_is_shown(microsoft):
    store = OneDriveIntegration()
    store.connect(settings(microsoft, client_id="not-registered"))
    with pytest.raises(IntegrationError) as caught:
        store.begin_sign_in()
    assert caught.value.kind is ErrorKind.INVALID_AUTH
    assert "public client flows" in caught.value.hint


def test_test_reads_the_drive_and_creates_the_folder(microsoft, signed_in):
    _, drive = microsoft
    result, _ = check_config(OneDriveIntegration, settings(microsoft, signed_in,
                                                           folder="Jobs/2026"))
    assert result.ok, result.message
    paths = [(r.method, r.path) for r in drive.server.requests]
    assert paths == [("GET", "/v1.0/me/drive"), ("GET", "/v1.0/me/drive/root:/Jobs/2026"),
                     ("GET", "/v1.0/me/drive/root:/Jobs"), ("POST", "/v1.0/me/drive/root/children"),
                     ("GET", "/v1.0/me/drive/root:/Jobs/2026"),
                     ("POST", "/v1.0/me/drive/root:/Jobs:/children")]
    assert drive.item("Jobs/2026").folder


def test_not_signed_in_asks_to_sign_in(microsoft):
    result, _ = check_config(OneDriveIntegration, settings(microsoft, ""))
    assert result.kind is ErrorKind.INVALID_AUTH and "Sign in with Microsoft" in result.hint


def test_revoked_sign_in_is_invalid_auth(microsoft, signed_in):
    identity, _ = microsoft
    identity.revoke()
    result = connected(microsoft, signed_in).check()
    assert result.kind is ErrorKind.INVALID_AUTH and "sign in again" in result.hint


def test_damaged_token_cache_is_invalid_auth_without_network(microsoft):
    identity, drive = microsoft
    result, _ = check_config(OneDriveIntegration, settings(microsoft, "{not json"))
    assert result.kind is ErrorKind.INVALID_AUTH and "damaged" in result.hint
    assert drive.server.requests == []


def test_graph_unreachable_cannot_connect(microsoft, signed_in):
    with pointed_at(OneDriveIntegration, graph_url=refused_url()):
        result = connected(microsoft, signed_in).check()
    assert result.kind is ErrorKind.CANNOT_CONNECT


def test_small_upload_is_one_put_with_replace_and_returns_the_web_url(microsoft, signed_in,
                                                                       resume):
    _, drive = microsoft
    location = connected(microsoft, signed_in).upload_document(document(resume))
    put = drive.server.matching("PUT")[0]
    assert put.path == "/v1.0/me/drive/root:/Peregrine/Contoso/Platform%20Engineer/resume.docx:/content"
    assert put.query["@microsoft.graph.conflictBehavior"] == ["replace"]
    item = drive.item("Peregrine/Contoso/Platform Engineer/resume.docx")
    assert item.content == resume.read_bytes()
    assert location == f"https://onedrive.live.com/?id={item.id}"


@pytest.mark.parametrize("hashes", ["personal", "business"])
def test_unchanged_reupload_is_skipped_by_graph_hash(microsoft, signed_in, resume, hashes):
    _, drive = microsoft
    drive.hashes = hashes
    store = connected(microsoft, signed_in)
    assert store.store(document(resume)).uploaded is True
    again = store.store(document(resume))
    assert again.uploaded is False and again.location.startswith("https://onedrive.live.com/")
    assert len(drive.server.matching("PUT")) == 1
    resume.write_bytes(b"PK\x03\x04 resume v2, longer")
    assert store.store(document(resume)).uploaded is True
    assert drive.item("Peregrine/Contoso/Platform Engineer/resume.docx").content.endswith(
        b"longer")


def test_large_file_goes_through_an_upload_session(microsoft, signed_in, tmp_path):
    _, drive = microsoft
    big = tmp_path / "portfolio.pdf"
    big.write_bytes(os.urandom(5 * 1024 * 1024 + 123))
    connected(microsoft, signed_in).upload_document(document(big))
    assert drive.item("Peregrine/Contoso/Platform Engineer/portfolio.pdf").content == \
        big.read_bytes()
    session = next(iter(drive.sessions.values()))
    assert session["chunks"][0] % (320 * 1024) == 0 and len(session["chunks"]) == 2
    assert drive.server.matching("PUT", "/v1.0/") == []   # no simple upload


def test_an_expired_access_token_is_renewed_once_and_the_cache_updated(microsoft, signed_in,
                                                                      resume):
    identity, drive = microsoft
    store = connected(microsoft, signed_in)
    store.store(document(resume))
    identity.expire_access_tokens()
    resume.write_bytes(b"changed")
    assert store.store(document(resume)).uploaded is True
    refreshes = [r for r in identity.server.matching("POST", "/oauth2/v2.0/token")
                 if b"refresh_token" in r.body]
    assert len(refreshes) == 1
    updated = store.updated_settings()["token_cache"]
    assert updated != signed_in
    assert connected(microsoft, updated).test() is True   # the rotated refresh token works


def test_throttling_is_waited_out(microsoft, signed_in, resume):
    _, drive = microsoft
    drive.server.inject(Reply(429, {"error": {"code": "activityLimitReached",
                                              "message": "The request has been throttled"}},
                              headers={"Retry-After": "0"}), method="PUT")
    assert connected(microsoft, signed_in).store(document(resume)).uploaded is True
    assert len(drive.server.matching("PUT")) == 2


def test_full_drive_says_so(microsoft, signed_in, resume):
    _, drive = microsoft
    drive.server.inject(Reply(507, {"error": {"code": "quotaLimitReached",
                                              "message": "Insufficient Space Available"}}),
                        method="PUT")
    with pytest.raises(IntegrationError) as caught:
        connected(microsoft, signed_in).upload_document(document(resume))
    assert "full" in caught.value.hint


def test_work_accounts_use_the_organizations_authority(microsoft):
    identity, _ = microsoft
    sign_in(microsoft, account_type="organizations")
    assert identity.server.matching("POST", "/organizations/oauth2/v2.0/devicecode")


@pytest.mark.parametrize("data_b64, expected", [
    ("", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
    ("Sg==", "SgAAAAAAAAAAAAAAAQAAAAAAAAA="),
    ("0pZP", "0rDEEwAAAAAAAAAAAwAAAAAAAAA="),
    ("/aNzzCFPS/A=", "/RjFHJgRgicsAR4ACAAAAAAAAAA="),
])
def test_quickxorhash_matches_published_vectors(data_b64, expected):
    """Vectors from rclone's QuickXorHash tests (checked there against Microsoft's C#)."""
    import base64

    from peregrine_sdk.content_hashes import QuickXorHash

    quick = QuickXorHash()
    quick.update(base64.b64decode(data_b64))
    assert quick.b64digest() == expected


def test_quickxorhash_is_the_same_however_the_data_is_split():
    from peregrine_sdk.content_hashes import QuickXorHash

    data = os.urandom(100_003)
    whole, pieces = QuickXorHash(), QuickXorHash()
    whole.update(data)
    for start in range(0, len(data), 7_777):
        pieces.update(data[start:start + 7_777])
    assert whole.digest() == pieces.digest()
