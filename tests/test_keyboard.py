"""The keyboard alone: Tab never traps the focus, Escape asks before edits are lost, Ctrl+,
opens Settings, and Help → Keyboard shortcuts lists what the keys really do."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox

from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.settings.profile import UserProfile
from peregrine_desktop.ui.main_window import MainWindow
from peregrine_desktop.ui.pipeline.job_dialog import JobDialog
from tests.ui_helpers import answer_next_message_box, running_app

JOBS = [{"title": "Site Reliability Engineer", "company": "ACME"},
        {"title": "Platform Engineer", "company": "Hooli"}]


@pytest.fixture
def repository(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    repository = JobRepository(store)
    for job in JOBS:
        repository.add_job(job)
    yield repository
    store.close()


def activate(qtbot, window) -> None:
    window.show()
    with qtbot.waitActive(window):
        window.activateWindow()


def focused():
    return QApplication.focusWidget()


@pytest.fixture
def window(qtbot, config_dir, repository) -> MainWindow:
    window = MainWindow(UserProfile(config_dir / "user.yaml", read=False), config_dir,
                        repository)
    qtbot.addWidget(window)
    window.resize(1000, 700)
    activate(qtbot, window)
    return window


def press_tab_until(qtbot, target, limit: int = 40) -> int:
    """Tab from the focused widget until ``target`` has the focus; how many presses it took."""
    for presses in range(1, limit + 1):
        qtbot.keyClick(focused(), Qt.Key.Key_Tab)
        if focused() is target:
            return presses
    raise AssertionError(f"Tab never reached {target!r} (stuck at {focused()!r})")


def test_tab_goes_from_the_filter_into_the_table_and_out_again(qtbot, window):
    view = window.pipeline
    view.search.setFocus()
    press_tab_until(qtbot, view.table)
    row_before = view.table.currentIndex().row()
    qtbot.keyClick(view.table, Qt.Key.Key_Tab)
    assert focused() is not view.table                       # not kept inside the table
    assert view.table.currentIndex().row() == row_before
    press_tab_until(qtbot, view.search)                      # and round to the filter again
    qtbot.keyClick(view.search, Qt.Key.Key_Tab, Qt.KeyboardModifier.ShiftModifier)
    assert focused() is not view.search


def test_tab_in_the_job_notes_moves_on_instead_of_typing_a_tab(qtbot):
    dialog = JobDialog(lambda values: None)
    qtbot.addWidget(dialog)
    activate(qtbot, dialog)
    dialog.form.notes.setFocus()
    qtbot.keyClicks(dialog.form.notes, "Call Sam")
    qtbot.keyClick(dialog.form.notes, Qt.Key.Key_Tab)
    assert focused() is not dialog.form.notes
    assert dialog.form.notes.toPlainText() == "Call Sam"
    answer_next_message_box(QMessageBox.StandardButton.Discard)
    qtbot.keyClick(focused(), Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_escape_closes_an_unedited_job_dialog_at_once(qtbot, repository):
    job = repository.store.list_jobs()[0]
    dialog = JobDialog(lambda values: None, job, repository.allowed_statuses(job["id"]))
    qtbot.addWidget(dialog)
    activate(qtbot, dialog)
    qtbot.keyClick(dialog.form.title, Qt.Key.Key_Escape)
    assert not dialog.isVisible() and dialog.result() == JobDialog.DialogCode.Rejected


def test_escape_on_an_edited_job_dialog_asks_first(qtbot, repository):
    job = repository.store.list_jobs()[0]
    saved = []
    dialog = JobDialog(saved.append, job, repository.allowed_statuses(job["id"]))
    qtbot.addWidget(dialog)
    activate(qtbot, dialog)
    qtbot.keyClicks(dialog.form.title, " (remote)")
    asked: list[str] = []
    answer_next_message_box(QMessageBox.StandardButton.Cancel, asked)     # Keep editing
    qtbot.keyClick(dialog.form.title, Qt.Key.Key_Escape)
    assert asked == ["Discard your changes?"]
    assert dialog.isVisible() and dialog.form.title.text().endswith(" (remote)")
    answer_next_message_box(QMessageBox.StandardButton.Discard, asked)
    qtbot.keyClick(dialog.form.title, Qt.Key.Key_Escape)
    assert not dialog.isVisible() and saved == []


def test_the_discard_question_names_its_buttons_and_keeps_editing_on_escape(qtbot,
                                                                             repository):
    dialog = JobDialog(lambda values: None)
    qtbot.addWidget(dialog)
    activate(qtbot, dialog)
    qtbot.keyClicks(dialog.form.title, "SRE")
    seen = {}

    def answer_with_escape() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer_with_escape)
            return
        seen["buttons"] = sorted(b.text() for b in box.buttons())
        seen["default"] = box.defaultButton().text()
        qtbot.keyClick(box, Qt.Key.Key_Escape)

    QTimer.singleShot(0, answer_with_escape)
    qtbot.keyClick(dialog.form.title, Qt.Key.Key_Escape)
    assert seen == {"buttons": ["&Discard", "&Keep editing"], "default": "&Keep editing"}
    assert dialog.isVisible()
    answer_next_message_box(QMessageBox.StandardButton.Discard)
    dialog.reject()


@pytest.fixture
def app(qtbot, config_dir, data_dir):
    with running_app(qtbot, config_dir, data_dir) as application:
        yield application


def test_ctrl_comma_opens_settings(qtbot, app):
    from peregrine_desktop.ui.settings_dialog import SettingsDialog

    activate(qtbot, app.window)
    app.window.pipeline.table.setFocus()
    qtbot.keyClick(app.window.pipeline.table, Qt.Key.Key_Comma,
                   Qt.KeyboardModifier.ControlModifier)
    dialogs = app.window.findChildren(SettingsDialog)
    assert len(dialogs) == 1 and dialogs[0].isVisible()
    qtbot.keyClick(dialogs[0], Qt.Key.Key_Escape)            # nothing edited: closes at once
    assert not dialogs[0].isVisible()


@pytest.mark.qt_log_ignore("This plugin does not support grabbing the keyboard")  # the menu
def test_help_lists_the_shortcuts_the_window_really_has(qtbot, window):
    qtbot.keyClick(window.pipeline.table, Qt.Key.Key_H, Qt.KeyboardModifier.AltModifier)
    menu = QApplication.activePopupWidget()
    assert isinstance(menu, QMenu) and menu.title() == "&Help"
    qtbot.keyClick(menu, Qt.Key.Key_K)
    qtbot.waitUntil(lambda: getattr(window, "shortcuts_dialog", None) is not None
                    and window.shortcuts_dialog.isVisible())
    rows = window.shortcuts_dialog.rows()
    assert ("Edit", "Find…", "Ctrl+F") in rows
    assert ("Settings", "Settings…", "Ctrl+,") in rows
    assert ("File", "Add job…", "Ctrl+N") in rows
    assert ("Job list", "Edit…", "F2") in rows              # no menu holds it: still listed
    # What the list says is what the actions hold: change one and the list follows.
    window.pipeline.find_action.setShortcut("Ctrl+Shift+F")
    window.shortcuts_dialog.close()
    window.show_shortcuts()
    assert ("Edit", "Find…", "Ctrl+Shift+F") in window.shortcuts_dialog.rows()
