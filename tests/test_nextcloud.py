"""Nextcloud against a real WebDAV server (WsgiDAV) at /remote.php/dav/files/<user>/."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from peregrine_sdk.base import check_config
from peregrine_sdk.capabilities import Document
from peregrine_sdk.errors import ErrorKind, IntegrationError
from integrations.nextcloud import NextcloudIntegration
from tests.fakes.loopback import refused_url
from tests.fakes.storage_services import NextcloudServer


@pytest.fixture(scope="module")
def dav_server(tmp_path_factory):
    server = NextcloudServer(tmp_path_factory.mktemp("dav-root"))
    yield server
    server.stop()


@pytest.fixture
def dav(dav_server):
    """The server with an empty files folder and no recorded requests."""
    dav_server.reset()
    return dav_server


def settings(dav: NextcloudServer, **changes) -> dict:
    config = {"server_url": dav.url, "username": dav.user, "app_password": dav.password,
              "folder": "Peregrine"}
    config.update(changes)
    return config


def connected(dav: NextcloudServer, **changes) -> NextcloudIntegration:
    store = NextcloudIntegration()
    assert store.connect(settings(dav, **changes))
    return store


def document(path: Path, company="ACME Corp", title="SRE / Platform") -> Document:
    return Document(path, (company, title), hashlib.sha256(path.read_bytes()).hexdigest())


@pytest.fixture
def resume(tmp_path) -> Path:
    path = tmp_path / "resume.pdf"
    path.write_bytes(b"%PDF-1.7 my resume, version 1")
    return path


def test_test_creates_the_missing_target_folder(dav):
    result, _choices = check_config(NextcloudIntegration, settings(dav, folder="Jobs/2026"))
    assert result.ok, result.message
    assert (dav.root / "Jobs" / "2026").is_dir()
    assert [r.method for r in dav.requests] == ["PROPFIND", "MKCOL", "MKCOL"]


def test_test_of_an_existing_folder_is_one_propfind(dav):
    (dav.root / "Peregrine").mkdir()
    assert connected(dav).test() is True
    assert [(r.method, r.status) for r in dav.requests] == [("PROPFIND", 207)]


def test_wrong_password_is_invalid_auth_with_app_password_hint(dav):
    result, _ = check_config(NextcloudIntegration, settings(dav, app_password="wrong"))
    assert result.kind is ErrorKind.INVALID_AUTH
    assert "app password" in result.hint
    assert [r.status for r in dav.requests] == [401]   # no retry against brute-force protection


def test_a_file_where_the_folder_should_be_is_not_found(dav):
    (dav.root / "Peregrine").write_text("not a folder")
    result = connected(dav).check()
    assert result.kind is ErrorKind.NOT_FOUND and "not a folder" in result.hint


def test_unreachable_server_cannot_connect(dav):
    result, _ = check_config(NextcloudIntegration, settings(dav, server_url=refused_url()))
    assert result.kind is ErrorKind.CANNOT_CONNECT


def test_upload_creates_nested_folders_and_returns_the_web_location(dav, resume):
    store = connected(dav)
    location = store.upload_document(document(resume))
    stored = dav.root / "Peregrine" / "ACME Corp" / "SRE - Platform" / "resume.pdf"
    assert stored.read_bytes() == resume.read_bytes()
    assert location == (f"{dav.url}/index.php/apps/files/?dir=/Peregrine/ACME%20Corp/"
                        f"SRE%20-%20Platform&scrollto=resume.pdf")
    assert [r.method for r in dav.methods("MKCOL")] == ["MKCOL"] * 3


def test_unchanged_reupload_is_skipped(dav, resume):
    store = connected(dav)
    assert store.store(document(resume)).uploaded is True
    puts = len(dav.methods("PUT"))
    again = connected(dav).store(document(resume))
    assert again.uploaded is False
    assert len(dav.methods("PUT")) == puts
    assert again.location.endswith("scrollto=resume.pdf")


def test_changed_content_replaces_the_remote_copy(dav, resume):
    connected(dav).store(document(resume))
    resume.write_bytes(b"%PDF-1.7 my resume, version 2 with more experience")
    copy = connected(dav).store(document(resume))
    assert copy.uploaded is True
    stored = dav.root / "Peregrine" / "ACME Corp" / "SRE - Platform" / "resume.pdf"
    assert stored.read_bytes().endswith(b"more experience")
    assert [r.status for r in dav.methods("PUT")][-1] == 204   # replaced, not created


def test_a_copy_changed_on_the_server_is_uploaded_again(dav, resume):
    connected(dav).store(document(resume))
    stored = dav.root / "Peregrine" / "ACME Corp" / "SRE - Platform" / "resume.pdf"
    stored.write_bytes(b"edited in the browser")
    assert connected(dav).store(document(resume)).uploaded is True
    assert stored.read_bytes() == resume.read_bytes()


def test_second_job_reuses_existing_parent_folders(dav, resume, tmp_path):
    connected(dav).store(document(resume))
    letter = tmp_path / "cover letter.txt"
    letter.write_text("Dear ACME")
    dav.requests.clear()
    connected(dav).store(document(letter, title="Data Engineer"))
    assert (dav.root / "Peregrine" / "ACME Corp" / "Data Engineer" / "cover letter.txt").exists()
    assert [(r.method, r.status) for r in dav.methods("MKCOL")] == [
        ("MKCOL", 405), ("MKCOL", 405), ("MKCOL", 201)]


def test_upload_with_wrong_password_is_invalid_auth(dav, resume):
    with pytest.raises(IntegrationError) as caught:
        connected(dav, app_password="nope").upload_document(document(resume))
    assert caught.value.kind is ErrorKind.INVALID_AUTH
    assert not (dav.root / "Peregrine").exists()


def test_a_deleted_local_file_is_reported_not_uploaded(dav, resume):
    doc = document(resume)
    resume.unlink()
    with pytest.raises(IntegrationError) as caught:
        connected(dav).upload_document(doc)
    assert caught.value.kind is ErrorKind.NOT_FOUND and "resume.pdf" in caught.value.hint
    assert dav.requests == []


def test_recovery_after_fixing_the_password(dav, resume):
    assert connected(dav, app_password="wrong").test() is False
    assert connected(dav).test() is True


EMOJI = "🦅" * 120      # 480 bytes of UTF-8: more than a filesystem name holds (NTFS allows it)


def test_an_emoji_job_title_becomes_a_folder_name_the_server_can_store(dav, resume):
    # Job titles are text of any length; each folder name must fit the server's 255 bytes.
    title = "Ingénieur " + "👩‍💻" * 60 + EMOJI
    copy = connected(dav).store(document(resume, company="Société 🚀", title=title))
    assert copy.uploaded
    (job_folder,) = (dav.root / "Peregrine" / "Société 🚀").iterdir()
    assert (job_folder / "resume.pdf").read_bytes() == resume.read_bytes()
    assert len(job_folder.name.encode()) <= 255
    assert job_folder.name.startswith("Ingénieur 👩‍💻")
    assert not job_folder.name.endswith("\u200d")          # no half of a joined emoji
    # Uploading it again finds the same shortened folder: nothing is sent twice.
    again = connected(dav).store(document(resume, company="Société 🚀", title=title))
    assert again.uploaded is False


def test_file_names_are_shortened_in_bytes_keeping_their_extension():
    from peregrine_sdk.documents import DROPBOX, ONEDRIVE, WEBDAV, file_name, fit_path

    emoji = Document(Path(f"/docs/{EMOJI}.pdf"), ("Acme", "SRE"), "")
    for limits in (WEBDAV, DROPBOX, ONEDRIVE):
        name = file_name(emoji, limits)
        assert name.endswith(".pdf") and set(name[:-4]) == {"🦅"}
        assert len(name.encode()) <= limits.name_bytes
    long = Document(Path("/docs/Lebenslauf " + "x" * 300 + ".docx"), ("Acme", "SRE"), "")
    assert file_name(long).endswith(".docx") and len(file_name(long).encode()) == 255
    short = Document(Path("/docs/Lebenslauf " + "x" * 150 + ".docx"), ("Acme", "SRE"), "")
    assert file_name(short) == "Lebenslauf " + "x" * 150 + ".docx"     # kept whole
    # OneDrive's 400-character path: the folders give way, the file name stays whole.
    folder = fit_path(["Peregrine", "A" * 120, "B" * 120], "C" * 200 + ".pdf", ONEDRIVE)
    assert len("/".join([*folder, "C" * 200 + ".pdf"])) + 1 <= 400
    assert folder[0] == "Peregrine"
