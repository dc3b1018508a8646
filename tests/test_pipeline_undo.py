"""Undo and redo as a person uses them: Edit → Undo after a delete brings the job back with the
same id, uid, history and documents; edits, moves and imports undo and redo; Ctrl+F finds."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from peregrine_desktop.jobs.documents import FileFacts, JobDocuments
from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.settings.profile import UserProfile
from peregrine_desktop.ui.main_window import MainWindow
from tests.test_pipeline_view import column, select
from tests.ui_helpers import answer_next_message_box


@pytest.fixture
def store(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    yield store
    store.close()


@pytest.fixture
def window(qtbot, store, tmp_path):
    repository = JobRepository(store)
    repository.add_job({"title": "Backend Engineer", "company": "Acme",
                        "date_found": "2026-03-01", "notes": "recruiter Sam"})
    designer = repository.add_job({"title": "Designer", "company": "Globex",
                                   "date_found": "2026-03-03", "status": "approved"})
    repository.set_status(designer["id"], "applied")
    window = MainWindow(UserProfile(tmp_path / "user.yaml", read=False), tmp_path, repository)
    qtbot.addWidget(window)
    window.resize(1100, 700)
    window.show()
    with qtbot.waitActive(window):
        window.activateWindow()
    return window


def menu_texts(window: MainWindow, menu) -> list[str]:
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def test_delete_then_undo_restores_the_same_job(qtbot, window, store):
    view = window.pipeline
    designer = next(j for j in store.list_jobs() if j["title"] == "Designer")
    documents = JobDocuments(store)
    document, _ = documents.attach(designer["id"], store.path.parent / "cv.pdf",
                                   FileFacts(size=10, mtime=1.0, sha256="ab" * 32))
    select(qtbot, view, "Designer")
    seen: list[str] = []
    answer_next_message_box(QMessageBox.StandardButton.Yes, seen)
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    assert "Designer" not in column(view, "title")
    assert store.get(designer["id"]) is None and documents.list_for_job(designer["id"]) == []
    assert menu_texts(window, window.edit_menu)[0] == "&Undo Delete “Designer”"

    with qtbot.waitActive(window):
        window.activateWindow()
    qtbot.keyClick(view.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "Designer" in column(view, "title")
    back = store.get(designer["id"])
    assert back["uid"] == designer["uid"] and back["id"] == designer["id"]
    assert back["status_history"] == designer["status_history"]
    assert back["applied_on"] == designer["applied_on"]
    assert [d.name for d in documents.list_for_job(designer["id"])] == [document.name]
    assert view.message_label.text() == "Undid: Delete “Designer”."
    # Redo deletes again; undo again restores again (documents too).
    window.pipeline.redo_action.trigger()
    assert store.get(designer["id"]) is None
    window.pipeline.undo_action.trigger()
    assert [d.name for d in documents.list_for_job(designer["id"])] == [document.name]


def test_an_edit_through_the_dialog_undoes_and_redoes(qtbot, window, store):
    view = window.pipeline
    select(qtbot, view, "Backend Engineer")
    view.edit_selected()
    dialog = view.active_dialog
    dialog.form.company.setText("Acme Robotics")
    dialog.form.deadline.check.setChecked(True)
    dialog.try_save()
    assert "Acme Robotics" in column(view, "company")
    job = next(j for j in store.list_jobs() if j["title"] == "Backend Engineer")
    assert job["deadline"] is not None
    view.undo_action.trigger()
    job = store.get(job["id"])
    assert job["company"] == "Acme" and job["deadline"] is None
    assert "Acme" in column(view, "company")
    view.redo_action.trigger()
    assert store.get(job["id"])["company"] == "Acme Robotics"


def test_a_csv_import_is_one_step_to_undo(qtbot, window, store):
    view = window.pipeline
    report = view.repository.add_many([{"title": f"Imported {n}"} for n in range(5)])
    assert report.added == 5
    assert view.undo_action.text() == "&Undo Import 5 jobs"
    view.undo_action.trigger()
    assert store.count() == 2
    view.redo_action.trigger()
    assert store.count() == 7
    assert sorted(j["id"] for j in store.list_jobs())[-5:] == report.added_ids


def test_edit_menu_lists_undo_redo_and_find_with_their_shortcuts(qtbot, window):
    assert menu_texts(window, window.edit_menu) == ["&Undo", "&Redo", "&Find…"]
    shortcuts = {a.text(): a.shortcut().toString() for a in window.edit_menu.actions()}
    assert shortcuts["&Undo"] == "Ctrl+Z" and shortcuts["&Find…"] == "Ctrl+F"
    assert not window.pipeline.undo_action.isEnabled()
    window.pipeline.table.setFocus()
    qtbot.keyClick(window.pipeline.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is window.pipeline.search
