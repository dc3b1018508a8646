"""The job dialog's Documents tab as a person uses it: type a file's path, attach it, read where
each store keeps its copy (real Nextcloud over WsgiDAV and the Dropbox emulator), see a store
that is down as waiting, replace, upload again, remove."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from peregrine_desktop.ui.pipeline.documents_panel import NO_DOCUMENTS, NO_STORES
from peregrine_desktop.ui.pipeline.job_dialog import JobDialog
from peregrine_desktop.ui.pipeline.view import PipelineView
from tests.fakes.loopback import Reply
from tests.test_document_uploads import (ACME, dav, dav_server, dropbox,  # noqa: F401 - fixtures
                                         dropbox_uploads, hub, nextcloud_puts,
                                         one_try_per_delivery, repository, settle, uploads)
from tests.ui_helpers import answer_next_message_box, click, type_into, visible_text


@pytest.fixture
def job(repository):
    return repository.add_job(ACME)


@pytest.fixture
def files(tmp_path):
    resume = tmp_path / "resume.pdf"
    resume.write_bytes(b"%PDF-1.7 resume v1")
    letter = tmp_path / "cover letter.txt"
    letter.write_text("Dear ACME, ...")
    return resume, letter


def open_documents(qtbot, repository, uploads, job) -> JobDialog:
    dialog = JobDialog(lambda values: repository.update_job(job["id"], values), job,
                       repository.allowed_statuses(job["id"]), documents=uploads)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.tabs.setCurrentWidget(dialog.documents_panel)
    settle(qtbot, uploads.hub, uploads)
    return dialog


def attach_typed(qtbot, dialog: JobDialog, path) -> None:
    panel = dialog.documents_panel
    with qtbot.waitSignal(panel.uploads.documents_changed, timeout=10_000):
        type_into(qtbot, panel.path_edit, str(path))
        click(qtbot, panel.attach_button)
    settle(qtbot, panel.uploads.hub, panel.uploads)


def row_text(dialog: JobDialog, name: str) -> str:
    for row in dialog.documents_panel.rows:
        if row.status.document.name == name:
            return visible_text(row)
    raise AssertionError(f"{name} is not listed: {visible_text(dialog.documents_panel)}")


def test_attached_documents_show_where_each_store_keeps_them(qtbot, repository, uploads, dav,
                                                             dropbox, job, files, tmp_path):
    resume, letter = files
    dialog = open_documents(qtbot, repository, uploads, job)
    assert dialog.tabs.tabText(1) == "Documents"
    assert NO_DOCUMENTS in visible_text(dialog.documents_panel)
    assert NO_STORES not in visible_text(dialog.documents_panel)
    assert not dialog.documents_panel.attach_button.isEnabled()

    attach_typed(qtbot, dialog, resume)
    attach_typed(qtbot, dialog, letter)

    assert [row.status.document.name for row in dialog.documents_panel.rows] == [
        "cover letter.txt", "resume.pdf"]
    text = row_text(dialog, "resume.pdf")
    assert "18 bytes" in text and f"On this computer: {resume}" in text
    assert "✓ <b>Nextcloud</b>: <a href=\"" + dav.url in text
    assert "Peregrine/ACME Corp/SRE - Platform&amp;scrollto=resume.pdf" in text
    assert ("✓ <b>Dropbox</b>: <a href=\"https://www.dropbox.com/home/Jobs/ACME%20Corp/"
            "SRE%20-%20Platform?preview=resume.pdf\">") in text
    assert "cover letter.txt" in row_text(dialog, "cover letter.txt")
    assert len(nextcloud_puts(dav)) == 2 and len(dropbox_uploads(dropbox)) == 2
    assert NO_DOCUMENTS not in visible_text(dialog.documents_panel)
    dialog.resize(680, 600)
    QApplication.processEvents()
    dialog.grab().save(str(tmp_path / "documents.png"))


def test_a_store_that_is_down_shows_waiting_with_the_reason(qtbot, repository, uploads, dav,
                                                            dropbox, job, files):
    resume, _ = files
    dropbox.rpc.inject(Reply(503, "down"), times=20, path="/2/files/")
    dialog = open_documents(qtbot, repository, uploads, job)
    attach_typed(qtbot, dialog, resume)
    text = row_text(dialog, "resume.pdf")
    assert "✓ <b>Nextcloud</b>" in text
    assert "… <b>Dropbox</b>: waiting to upload — Could not reach" in text

    dropbox.rpc.clear()
    with qtbot.waitSignal(uploads.documents_changed, timeout=10_000):
        uploads.hub.retry_now("dropbox")
    settle(qtbot, uploads.hub, uploads)
    assert "✓ <b>Dropbox</b>" in row_text(dialog, "resume.pdf")
    assert len(dropbox_uploads(dropbox)) == 1


def test_a_missing_file_is_said_in_the_dialog(qtbot, repository, uploads, dav, job, tmp_path):
    dialog = open_documents(qtbot, repository, uploads, job)
    panel = dialog.documents_panel
    with qtbot.waitSignal(uploads.problem, timeout=10_000):
        type_into(qtbot, panel.path_edit, str(tmp_path / "nowhere.pdf"))
        click(qtbot, panel.attach_button)
    assert f"There is no file at {tmp_path / 'nowhere.pdf'}" in visible_text(panel)
    type_into(qtbot, panel.path_edit, "relative/resume.pdf")
    click(qtbot, panel.attach_button)
    assert "Type the file's full path" in visible_text(panel)


def test_replace_upload_again_and_remove(qtbot, repository, uploads, dav, dropbox, job, files,
                                         tmp_path):
    resume, _ = files
    dialog = open_documents(qtbot, repository, uploads, job)
    attach_typed(qtbot, dialog, resume)
    panel = dialog.documents_panel

    newer = tmp_path / "resume-2026.pdf"
    newer.write_bytes(b"%PDF-1.7 resume 2026")
    panel.choose_file = lambda _title: str(newer)    # a file dialog cannot be driven
    with qtbot.waitSignal(uploads.documents_changed, timeout=10_000):
        click(qtbot, panel.rows[0].replace_button)
    settle(qtbot, uploads.hub, uploads)
    assert "resume-2026.pdf" in row_text(dialog, "resume-2026.pdf")
    assert (dav.root / "Peregrine/ACME Corp/SRE - Platform/resume-2026.pdf").exists()

    dav.requests.clear()
    with qtbot.waitSignal(uploads.documents_changed, timeout=10_000):
        click(qtbot, panel.rows[0].again_button)
    settle(qtbot, uploads.hub, uploads)
    assert nextcloud_puts(dav) == []            # Nextcloud already holds these bytes
    assert "✓ <b>Nextcloud</b>" in row_text(dialog, "resume-2026.pdf")

    seen: list[str] = []
    answer_next_message_box(QMessageBox.StandardButton.Yes, seen)
    click(qtbot, panel.rows[0].remove_button)
    qtbot.waitUntil(lambda: not panel.rows)
    assert "copies already in your stores are kept" in seen[0]
    assert NO_DOCUMENTS in visible_text(panel)


def test_without_a_store_the_tab_says_how_to_connect_one(qtbot, repository, uploads, job,
                                                         files):
    resume, _ = files
    dialog = open_documents(qtbot, repository, uploads, job)
    assert NO_STORES in visible_text(dialog.documents_panel)
    attach_typed(qtbot, dialog, resume)
    assert "resume.pdf" in row_text(dialog, "resume.pdf")


def test_the_pipeline_opens_edit_dialogs_with_documents(qtbot, repository, uploads, dav, job):
    view = PipelineView(repository)
    qtbot.addWidget(view)
    view.documents = uploads
    view.show()
    view.table.selectRow(0)
    view.edit_selected()
    dialog = view.active_dialog
    assert isinstance(dialog, JobDialog) and dialog.documents_panel is not None
    dialog.reject()
    view.documents = None
    view.add_job()
    assert view.active_dialog.documents_panel is None
    view.active_dialog.reject()
