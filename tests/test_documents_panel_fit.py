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


def drop_files(target, paths) -> bool:
    """Drag files from a file manager (which offers their addresses as text too) onto
    ``target`` and drop them; True when the drop was taken."""
    mime = QMimeData()
    urls = [QUrl.fromLocalFile(str(path)) for path in paths]
    mime.setUrls(urls)
    mime.setText("\n".join(url.toString() for url in urls))
    point = QPointF(target.rect().center())
    enter = QDragEnterEvent(point.toPoint(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, drop)
    return drop.isAccepted()


def test_files_dropped_on_the_tab_are_attached(qtbot, repository, uploads, job, files):
    resume, letter = files
    dialog = open_documents(qtbot, repository, uploads, job)
    panel = dialog.documents_panel
    assert drop_files(panel.empty_label, [resume, letter])     # "…or drop files here."
    qtbot.waitUntil(lambda: len(panel.rows) == 2, timeout=10_000)
    assert sorted(row.status.document.name for row in panel.rows) == ["cover letter.txt",
                                                                      "resume.pdf"]


def test_a_file_dropped_on_the_path_field_is_attached_not_pasted(qtbot, repository, uploads,
                                                                  job, files):
    resume, _ = files
    dialog = open_documents(qtbot, repository, uploads, job)
    panel = dialog.documents_panel
    assert drop_files(panel.path_edit, [resume])
    qtbot.waitUntil(lambda: len(panel.rows) == 1, timeout=10_000)
    assert panel.rows[0].status.document.name == "resume.pdf"
    assert panel.path_edit.text() == ""           # no "file:///…" left in the field
    assert dialog.isVisible()


def test_a_folder_dropped_is_refused(qtbot, repository, uploads, job, tmp_path):
    dialog = open_documents(qtbot, repository, uploads, job)
    panel = dialog.documents_panel
    assert not drop_files(panel.empty_label, [tmp_path])
    assert not panel.rows


def _buttons_fit(qtbot, dialog) -> None:
    """Every row button shows whole, inside the part of the tab a person sees."""
    panel = dialog.documents_panel
    viewport = panel.list_widget.parentWidget()      # the scroll area's viewport
    qtbot.waitUntil(lambda: panel.list_widget.width() <= viewport.width())
    for row in panel.rows:
        for button in (row.replace_button, row.again_button, row.remove_button):
            assert button.isVisible(), button.text()
            assert button.width() >= button.sizeHint().width(), button.text()
            right = button.mapTo(viewport, button.rect().topRight()).x()
            assert 0 <= right < viewport.width(), (button.text(), right, viewport.width())
        assert row.name_label.width() <= row.width()


def test_row_buttons_fit_at_the_default_and_minimum_size(qtbot, repository, uploads, job, files,
                                                          dav, tmp_path):
    resume, _ = files
    # Long names and paths without spaces once widened the rows past the tab.
    folder = tmp_path / "application_documents_for_the_big_company_2026_round_two"
    folder.mkdir()
    long_name = folder / "Resume_AlexRivera_SeniorProductDesigner_2026_final_version.pdf"
    resume.rename(long_name)
    dialog = open_documents(qtbot, repository, uploads, job)
    panel = dialog.documents_panel
    with qtbot.waitSignal(uploads.documents_changed, timeout=10_000):
        type_into(qtbot, panel.path_edit, str(long_name))
        qtbot.keyClick(panel.path_edit, Qt.Key.Key_Return)
    settle(qtbot, uploads.hub, uploads)
    assert panel.rows[0].again_button.isVisible()        # a store is connected
    _buttons_fit(qtbot, dialog)
    dialog.resize(dialog.minimumSizeHint())
    qtbot.waitUntil(lambda: dialog.size() == dialog.minimumSizeHint())
    _buttons_fit(qtbot, dialog)
    assert dialog.minimumSizeHint().width() <= 800


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
