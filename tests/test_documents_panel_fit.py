"""The job dialog's Documents tab at its size: its row buttons fit, Enter in the path field
attaches without closing the dialog, files dropped on the tab are attached, and "Upload again"
is offered only with a store connected."""
from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from tests.test_document_uploads import (ACME, dav, dav_server, hub,  # noqa: F401 - fixtures
                                         one_try_per_delivery, repository, settle, uploads)
from tests.test_job_dialog_documents import files, job, open_documents  # noqa: F401
from tests.ui_helpers import type_into


def test_enter_in_the_path_field_attaches_and_keeps_the_dialog_open(qtbot, repository, uploads,
                                                                     job, files):
    resume, _ = files
    dialog = open_documents(qtbot, repository, uploads, job)
    panel = dialog.documents_panel
    panel.path_edit.setFocus()
    with qtbot.waitSignal(uploads.documents_changed, timeout=10_000):
        type_into(qtbot, panel.path_edit, str(resume))
        qtbot.keyClick(panel.path_edit, Qt.Key.Key_Return)
    settle(qtbot, uploads.hub, uploads)
    assert dialog.isVisible() and dialog.result() == 0
    assert [row.status.document.name for row in panel.rows] == ["resume.pdf"]


def test_files_dropped_on_the_tab_are_attached(qtbot, repository, uploads, job, files):
    resume, letter = files
    dialog = open_documents(qtbot, repository, uploads, job)
    panel = dialog.documents_panel
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(resume)), QUrl.fromLocalFile(str(letter))])
    point = QPointF(panel.rect().center())
    enter = QDragEnterEvent(point.toPoint(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(panel, enter)
    assert enter.isAccepted()
    drop = QDropEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(panel, drop)
    qtbot.waitUntil(lambda: len(panel.rows) == 2, timeout=10_000)
    assert sorted(row.status.document.name for row in panel.rows) == ["cover letter.txt",
                                                                      "resume.pdf"]


def test_row_buttons_fit_and_upload_again_needs_a_store(qtbot, repository, uploads, job, files,
                                                        dav):
    resume, _ = files
    long_name = resume.with_name("a-really-long-document-name-for-the-application-2026.pdf")
    resume.rename(long_name)
    dialog = open_documents(qtbot, repository, uploads, job)
    panel = dialog.documents_panel
    with qtbot.waitSignal(uploads.documents_changed, timeout=10_000):
        type_into(qtbot, panel.path_edit, str(long_name))
        qtbot.keyClick(panel.path_edit, Qt.Key.Key_Return)
    settle(qtbot, uploads.hub, uploads)
    row = panel.rows[0]
    for button in (row.replace_button, row.again_button, row.remove_button):
        assert button.isVisible()
        assert button.width() >= button.sizeHint().width(), button.text()
        assert button.geometry().right() <= row.width()


def test_without_a_store_upload_again_is_not_offered(qtbot, repository, uploads, job, files):
    resume, _ = files
    dialog = open_documents(qtbot, repository, uploads, job)
    panel = dialog.documents_panel
    with qtbot.waitSignal(uploads.documents_changed, timeout=10_000):
        type_into(qtbot, panel.path_edit, str(resume))
        qtbot.keyClick(panel.path_edit, Qt.Key.Key_Return)
    row = panel.rows[0]
    assert not row.again_button.isVisible()
    assert row.replace_button.isVisible() and row.remove_button.isVisible()
