"""Job documents end to end: a real job database → DocumentUploads → EventHub's outbox → the
worker pool → the real Nextcloud integration against WsgiDAV and the real Dropbox integration
against its loopback emulator (and OneDrive against Graph + identity emulators for the saved
token cache).  What a person would notice: how many uploads each store got, where the copies
live, and what the job shows while a store is down."""
from __future__ import annotations

import pytest

from integrations.dropbox import DropboxIntegration
from peregrine_sdk.http import RetryPolicy
from integrations.nextcloud import NextcloudIntegration
from integrations.onedrive import OneDriveIntegration
from peregrine_desktop.events import EventHub, Outbox
from peregrine_desktop.events.documents import DocumentUploads
from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import JobStore
from tests.fakes.loopback import LoopbackServer, Reply
from tests.fakes.storage_services import DropboxService, NextcloudServer
from tests.test_onedrive import certificate, microsoft, settings as onedrive_settings, \
    sign_in  # noqa: F401 - fixtures

REGISTRY = {"nextcloud": NextcloudIntegration, "dropbox": DropboxIntegration,
            "onedrive": OneDriveIntegration}
ACME = {"title": "SRE / Platform", "company": "ACME Corp", "url": "https://jobs.example/sre"}


@pytest.fixture(autouse=True)
def one_try_per_delivery(monkeypatch):
    """The outbox does the retrying here; the stores' own retries would only slow tests."""
    for cls in (NextcloudIntegration, DropboxIntegration, OneDriveIntegration):
        monkeypatch.setattr(cls, "upload_policy", RetryPolicy(attempts=1))


@pytest.fixture(scope="module")
def dav_server(tmp_path_factory):
    server = NextcloudServer(tmp_path_factory.mktemp("dav-root"))
    yield server
    server.stop()


@pytest.fixture
def dav(dav_server, config_dir):
    dav_server.reset()
    NextcloudIntegration.save_config(
        {"server_url": dav_server.url, "username": dav_server.user,
         "app_password": dav_server.password, "folder": "Peregrine"}, config_dir)
    return dav_server


@pytest.fixture
def dropbox(config_dir):
    with LoopbackServer() as rpc, LoopbackServer() as content:
        service = DropboxService(rpc, content)
        DropboxIntegration.save_config(
            service.settings(service.issue_refresh_token(), folder="/Jobs"), config_dir)
        with service.pointed():
            yield service


@pytest.fixture
def repository(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    yield JobRepository(store)
    store.close()


@pytest.fixture
def hub(qtbot, repository, config_dir):
    # Retries wait a minute unless a test asks for them: "waiting" stays visible until then.
    event_hub = EventHub(repository, config_dir, registry=REGISTRY,
                         outbox=Outbox(repository.store, base_delay=60, max_delay=60))
    yield event_hub
    event_hub.shutdown()


@pytest.fixture
def uploads(hub):
    return DocumentUploads(hub)


@pytest.fixture
def resume(tmp_path):
    path = tmp_path / "resume.pdf"
    path.write_bytes(b"%PDF-1.7 resume v1")
    return path


def settle(qtbot, hub: EventHub, uploads: DocumentUploads) -> None:
    """Wait until hashing is done and nothing is being or due to be delivered."""
    qtbot.waitUntil(lambda: not uploads.runner._running and not hub.scheduler.busy()
                    and not hub.outbox.due_integrations(), timeout=15_000)


def attach(qtbot, hub, uploads, job_id, path) -> None:
    with qtbot.waitSignal(uploads.documents_changed, timeout=10_000):
        uploads.start_attach(job_id, path)
    settle(qtbot, hub, uploads)


def nextcloud_puts(dav: NextcloudServer) -> list[str]:
    """Files written (a PUT answered 409 only says the folder was missing, then made)."""
    return [r.path for r in dav.methods("PUT") if r.status in (201, 204)]


def dropbox_uploads(dropbox: DropboxService) -> list[str]:
    import json
    return [json.loads(r.header("Dropbox-API-Arg"))["path"]
            for r in dropbox.content.matching("POST", "/2/files/upload")]


def copies(uploads: DocumentUploads, job_id: int) -> dict[str, dict[str, tuple[str, str]]]:
    """Document name → store → (state, location or problem)."""
    return {status.document.name: {c.integration: (c.state, c.location or c.problem)
                                   for c in status.copies}
            for status in uploads.statuses(job_id)}


def test_attach_uploads_once_to_each_store_under_company_and_title(qtbot, hub, uploads, dav,
                                                                   dropbox, repository, resume):
    job = repository.add_job(ACME)
    attach(qtbot, hub, uploads, job["id"], resume)

    assert nextcloud_puts(dav) == [
        "/remote.php/dav/files/alice/Peregrine/ACME Corp/SRE - Platform/resume.pdf"]
    assert (dav.root / "Peregrine" / "ACME Corp" / "SRE - Platform" / "resume.pdf"
            ).read_bytes() == b"%PDF-1.7 resume v1"
    assert dropbox_uploads(dropbox) == ["/Jobs/ACME Corp/SRE - Platform/resume.pdf"]
    assert dropbox.file("/Jobs/ACME Corp/SRE - Platform/resume.pdf").content == \
        b"%PDF-1.7 resume v1"
    shown = copies(uploads, job["id"])["resume.pdf"]
    assert shown["nextcloud"][0] == "stored"
    assert shown["nextcloud"][1].startswith(f"{dav.url}/index.php/apps/files/?dir=")
    assert "SRE%20-%20Platform" in shown["nextcloud"][1]
    assert shown["dropbox"] == (
        "stored", "https://www.dropbox.com/home/Jobs/ACME%20Corp/SRE%20-%20Platform"
                  "?preview=resume.pdf")


def test_reattaching_unchanged_uploads_nothing_and_a_change_uploads_once_each(
        qtbot, hub, uploads, dav, dropbox, repository, resume):
    job = repository.add_job(ACME)
    attach(qtbot, hub, uploads, job["id"], resume)
    dav.requests.clear()
    dropbox.content.clear()
    dropbox.rpc.clear()

    attach(qtbot, hub, uploads, job["id"], resume)
    uploads.start_refresh(job["id"])      # the dialog opening again
    settle(qtbot, hub, uploads)
    assert dav.requests == [] and dropbox.content.requests == [] and dropbox.rpc.requests == []

    resume.write_bytes(b"%PDF-1.7 resume v2, with the new job")
    attach(qtbot, hub, uploads, job["id"], resume)
    assert len(nextcloud_puts(dav)) == 1 and len(dropbox_uploads(dropbox)) == 1
    assert dropbox.file("/Jobs/ACME Corp/SRE - Platform/resume.pdf").content.endswith(
        b"new job")
    assert {state for state, _ in copies(uploads, job["id"])["resume.pdf"].values()} == \
        {"stored"}
    assert len(uploads.documents.list_for_job(job["id"])) == 1


def test_a_file_changed_on_disk_is_uploaded_when_the_job_is_opened(qtbot, hub, uploads, dav,
                                                                   dropbox, repository,
                                                                   resume):
    job = repository.add_job(ACME)
    attach(qtbot, hub, uploads, job["id"], resume)
    resume.write_bytes(b"%PDF-1.7 edited in place, longer than before")
    dav.requests.clear()
    uploads.start_refresh(job["id"])
    settle(qtbot, hub, uploads)
    assert len(nextcloud_puts(dav)) == 1 and len(dropbox_uploads(dropbox)) == 2
    assert (dav.root / "Peregrine/ACME Corp/SRE - Platform/resume.pdf").read_bytes() == \
        resume.read_bytes()


def test_a_store_that_is_down_shows_waiting_then_succeeds_on_retry_without_duplicates(
        qtbot, hub, uploads, dav, dropbox, repository, resume):
    job = repository.add_job(ACME)
    dropbox.rpc.inject(Reply(503, "upstream unavailable"), times=20, path="/2/files/")
    attach(qtbot, hub, uploads, job["id"], resume)

    shown = copies(uploads, job["id"])["resume.pdf"]
    assert shown["nextcloud"][0] == "stored"
    state, problem = shown["dropbox"]
    assert state == "waiting" and "Could not reach" in problem
    assert dropbox_uploads(dropbox) == []
    assert hub.card_note("dropbox").startswith("1 waiting")

    uploads.publish_job(job["id"])          # replaying the same revision queues nothing
    assert hub.waiting_count("dropbox") == 1

    dropbox.rpc.clear()                     # the service is back
    with qtbot.waitSignal(uploads.documents_changed, timeout=10_000):
        hub.retry_now("dropbox")
    settle(qtbot, hub, uploads)
    assert dropbox_uploads(dropbox) == ["/Jobs/ACME Corp/SRE - Platform/resume.pdf"]
    assert len(nextcloud_puts(dav)) == 1
    assert copies(uploads, job["id"])["resume.pdf"]["dropbox"][0] == "stored"
    assert hub.card_note("dropbox") == ""
    hub.retry_now()
    settle(qtbot, hub, uploads)
    assert len(dropbox_uploads(dropbox)) == 1 and len(nextcloud_puts(dav)) == 1


def test_upload_again_sends_the_file_again_and_stores_skip_what_they_hold(
        qtbot, hub, uploads, dav, dropbox, repository, resume):
    job = repository.add_job(ACME)
    attach(qtbot, hub, uploads, job["id"], resume)
    [document] = uploads.documents.list_for_job(job["id"])
    (dav.root / "Peregrine/ACME Corp/SRE - Platform/resume.pdf").unlink()  # deleted remotely
    dav.requests.clear()
    with qtbot.waitSignal(uploads.documents_changed, timeout=10_000):
        uploads.start_upload_again(document.id)
    settle(qtbot, hub, uploads)
    assert len(nextcloud_puts(dav)) == 1                  # the missing copy is back
    assert len(dropbox_uploads(dropbox)) == 1             # Dropbox already had these bytes
    assert (dav.root / "Peregrine/ACME Corp/SRE - Platform/resume.pdf").exists()


def test_removing_a_document_cancels_its_waiting_uploads(qtbot, hub, uploads, dav, dropbox,
                                                        repository, resume):
    job = repository.add_job(ACME)
    dropbox.rpc.inject(Reply(503, "down"), times=20, path="/2/files/")
    attach(qtbot, hub, uploads, job["id"], resume)
    [document] = uploads.documents.list_for_job(job["id"])
    uploads.remove(document.id)
    assert uploads.statuses(job["id"]) == []
    assert hub.waiting_count("dropbox") == 0
    dropbox.rpc.clear()
    hub.retry_now()
    settle(qtbot, hub, uploads)
    assert dropbox_uploads(dropbox) == []
    assert "removed from the job" in hub.outbox.activity()[0]["message"]


def test_a_missing_file_is_reported_not_attached(qtbot, uploads, dav, repository, tmp_path):
    job = repository.add_job(ACME)
    with qtbot.waitSignal(uploads.problem, timeout=10_000) as said:
        uploads.start_attach(job["id"], tmp_path / "nowhere.pdf")
    assert said.args[0] == job["id"] and "There is no file at" in said.args[1]
    assert uploads.statuses(job["id"]) == []


def test_copies_delivered_while_nobody_listened_are_recorded_on_start(
        qtbot, hub, uploads, dav, repository, resume, config_dir):
    job = repository.add_job(ACME)
    attach(qtbot, hub, uploads, job["id"], resume)
    with repository.store.transaction() as conn:      # as if the app died before the note
        conn.execute("DELETE FROM document_copies")
    again = DocumentUploads(hub)
    assert copies(again, job["id"])["resume.pdf"]["nextcloud"][0] == "stored"


def test_onedrive_renewed_sign_in_is_saved_after_an_upload(qtbot, hub, uploads, repository,
                                                           resume, microsoft, config_dir):
    identity, drive = microsoft
    cache = sign_in(microsoft)
    OneDriveIntegration.save_config(onedrive_settings(microsoft, cache), config_dir)
    identity.expire_access_tokens()     # the upload must renew it, which rotates the cache
    job = repository.add_job(ACME)
    attach(qtbot, hub, uploads, job["id"], resume)
    assert drive.item("Peregrine/ACME Corp/SRE - Platform/resume.pdf") is not None
    saved = OneDriveIntegration.load_config(config_dir)["token_cache"]
    assert saved and saved != cache
    assert copies(uploads, job["id"])["resume.pdf"]["onedrive"][0] == "stored"
