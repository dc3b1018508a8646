"""MEGA, tested at the library boundary.

MEGA encrypts everything on the client (keys derived from the password) and answers logins with
a proof-of-work challenge, so an HTTP emulator would have to re-implement the protocol.  These
tests instead give the store a test double of async-mega-py's ``MegaNzClient``
(tests/fakes/storage_services.py: same method names and signatures, the library's own exception
classes and error codes) and check what the store asks of it and what a person sees.
"""
from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import aiohttp
import pytest
from mega.errors import RequestError

from peregrine_sdk.base import check_config
from peregrine_sdk.capabilities import Document
from peregrine_sdk.errors import ErrorKind, IntegrationError
from integrations.mega import MegaIntegration
from tests.fakes.storage_services import MegaCloud


@pytest.fixture
def cloud(monkeypatch, data_dir) -> MegaCloud:
    account = MegaCloud()
    monkeypatch.setattr(MegaIntegration, "client_factory", account.client)
    return account


def settings(cloud: MegaCloud, **changes) -> dict:
    config = {"email": cloud.email, "password": cloud.password, "folder": "Peregrine"}
    config.update(changes)
    return config


def connected(cloud: MegaCloud, **changes) -> MegaIntegration:
    store = MegaIntegration()
    assert store.connect(settings(cloud, **changes))
    return store


def document(path: Path, company="Initech", title="TPS Reports / Analyst") -> Document:
    return Document(path, (company, title), hashlib.sha256(path.read_bytes()).hexdigest())


@pytest.fixture
def resume(tmp_path) -> Path:
    path = tmp_path / "resume.pdf"
    path.write_bytes(b"%PDF resume v1")
    return path


def methods(cloud: MegaCloud) -> list[str]:
    return [name for name, _args in cloud.calls]


def test_test_logs_in_reads_the_account_and_creates_the_folder(cloud):
    result, _ = check_config(MegaIntegration, settings(cloud, folder="Jobs/2026"))
    assert result.ok, result.message
    assert [n.name for n in cloud.at("Jobs/2026")] == ["2026"]
    assert methods(cloud)[:2] == ["login", "get_user"]
    assert [args for name, args in cloud.calls if name == "mkdir"] == [
        ("Jobs", MegaCloud.ROOT), ("2026", cloud.at("Jobs")[0].id)]
    assert methods(cloud)[-1] == "close"


def test_wrong_password_is_invalid_auth(cloud):
    result, _ = check_config(MegaIntegration, settings(cloud, password="wrong"))
    assert result.kind is ErrorKind.INVALID_AUTH and "e-mail or password" in result.hint
    assert methods(cloud) == ["login", "close"]


def test_two_factor_accounts_are_explained(cloud):
    cloud.mfa = True
    result = connected(cloud).check()
    assert result.kind is ErrorKind.INVALID_AUTH and "two-factor" in result.hint


def test_not_an_email_is_caught_before_any_call(cloud):
    result, _ = check_config(MegaIntegration, settings(cloud, email="alice"))
    assert result.kind is ErrorKind.INVALID_AUTH and "e-mail address" in result.hint
    assert cloud.calls == []


def test_network_failure_is_cannot_connect(cloud):
    cloud.fail_next("login", aiohttp.ClientConnectionError("Cannot connect to host"))
    assert connected(cloud).check().kind is ErrorKind.CANNOT_CONNECT


def test_rate_limit_code_is_rate_limited(cloud):
    cloud.fail_next("get_user", RequestError(-4))
    assert connected(cloud).check().kind is ErrorKind.RATE_LIMITED


def test_a_hung_service_times_out(cloud, monkeypatch):
    monkeypatch.setattr(MegaIntegration, "operation_timeout", 0.2)

    async def hang(*_args, **_kwargs):
        await asyncio.sleep(5)

    client = cloud.client()
    client.get_user = hang
    monkeypatch.setattr(MegaIntegration, "client_factory", lambda: client)
    assert connected(cloud).check().kind is ErrorKind.TIMEOUT


def test_upload_creates_nested_folders_and_returns_the_folder_link(cloud, resume):
    location = connected(cloud).upload_document(document(resume))
    [stored] = cloud.at("Peregrine/Initech/TPS Reports - Analyst/resume.pdf")
    assert stored.content == resume.read_bytes()
    assert location == f"https://mega.nz/fm/{stored.parent_id}"


def test_unchanged_reupload_is_skipped(cloud, resume):
    assert connected(cloud).store(document(resume)).uploaded is True
    again = connected(cloud).store(document(resume))
    assert again.uploaded is False
    assert methods(cloud).count("upload") == 1


def test_changed_content_replaces_and_bins_the_old_copy(cloud, resume):
    connected(cloud).store(document(resume))
    [first] = cloud.at("Peregrine/Initech/TPS Reports - Analyst/resume.pdf")
    resume.write_bytes(b"%PDF resume v2")
    assert connected(cloud).store(document(resume)).uploaded is True
    [current] = cloud.at("Peregrine/Initech/TPS Reports - Analyst/resume.pdf")
    assert current.content == b"%PDF resume v2"
    assert [n.id for n in cloud.trashed()] == [first.id]


def test_a_copy_deleted_in_mega_is_uploaded_again(cloud, resume):
    connected(cloud).store(document(resume))
    [first] = cloud.at("Peregrine/Initech/TPS Reports - Analyst/resume.pdf")
    first.parent_id = MegaCloud.TRASH          # the person deleted it in the MEGA app
    assert connected(cloud).store(document(resume)).uploaded is True
    assert len(cloud.at("Peregrine/Initech/TPS Reports - Analyst/resume.pdf")) == 1


def test_duplicates_left_by_an_interrupted_upload_are_cleaned_up(cloud, resume):
    connected(cloud).store(document(resume))
    folder = cloud.at("Peregrine/Initech/TPS Reports - Analyst")[0]
    cloud.add(folder.id, "resume.pdf", False, b"stray duplicate")
    assert connected(cloud).store(document(resume)).uploaded is True
    [kept] = cloud.at("Peregrine/Initech/TPS Reports - Analyst/resume.pdf")
    assert kept.content == resume.read_bytes() and len(cloud.trashed()) == 2


def test_unsafe_local_file_names_are_uploaded_under_the_safe_name(cloud, tmp_path):
    odd = tmp_path / "cv: final?.pdf"
    odd.write_bytes(b"%PDF odd")
    connected(cloud).store(document(odd))
    assert cloud.at("Peregrine/Initech/TPS Reports - Analyst/cv - final.pdf")
    assert connected(cloud).store(document(odd)).uploaded is False


def test_full_account_says_so(cloud, resume):
    cloud.fail_next("upload", RequestError(-24))
    with pytest.raises(IntegrationError) as caught:
        connected(cloud).upload_document(document(resume))
    assert "out of storage" in caught.value.hint
