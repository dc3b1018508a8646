"""The detail pane edits in place; targets mark, flag and filter jobs (and URL import asks before
adding an excluded one); the pipeline fits 800×600 without cut chips or sideways scrolling, the
Interview column reads whole at 1440×900, and column widths are remembered."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.jobs.targets import Targets
from peregrine_desktop.settings.profile import UserProfile
from peregrine_desktop.ui.main_window import MainWindow
from peregrine_desktop.ui.pipeline.model import FIELD_COLUMN, ExcludedRole, TargetRole
from peregrine_desktop.ui.pipeline.url_dialog import UrlImportDialog
from tests.test_pipeline_view import column, row_of, select
from tests.test_url_import import fetch, site  # noqa: F401 - the loopback job site fixture
from tests.ui_helpers import answer_next_message_box, click, type_into, visible_text


@pytest.fixture
def repository(tmp_path, qtbot):
    store = JobStore(tmp_path / "jobs.sqlite3")
    repository = JobRepository(store)
    repository.add_job({"title": "Senior Python Developer", "company": "Acme",
                        "location": "Berlin, Germany", "date_found": "2026-03-01"})
    repository.add_job({"title": "Python Developer", "company": "Globex", "remote": True,
                        "date_found": "2026-03-02", "notes": "Crypto trading desk"})
    job = repository.add_job({"title": "Designer", "company": "Initech", "status": "approved",
                              "location": "Paris", "date_found": "2026-03-03",
                              "interview_at": "2026-03-20T15:00:00+01:00",
                              "interview_tz": "Europe/Berlin"})
    repository.set_status(job["id"], "applied")
    yield repository
    store.close()


def profile(tmp_path, **targets) -> UserProfile:
    profile = UserProfile(tmp_path / "user.yaml", read=False)
    profile.update(**targets)
    return profile


def open_window(qtbot, repository, tmp_path, size=(1100, 700), **targets) -> MainWindow:
    window = MainWindow(profile(tmp_path, **targets), tmp_path, repository)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    with qtbot.waitActive(window):
        window.activateWindow()
    return window


def test_the_detail_pane_shows_and_edits_in_place(qtbot, repository, tmp_path):
    window = open_window(qtbot, repository, tmp_path)
    view = window.pipeline
    view.details_action.trigger()
    select(qtbot, view, "Designer")
    qtbot.waitUntil(lambda: view.detail is not None and view.detail.job is not None)
    pane = view.detail
    text = visible_text(pane)
    assert "Designer" in text and "Initech · Paris" in text
    timeline = pane.timeline.text().splitlines()
    assert [line.split(" — ")[1] for line in timeline] == ["Applied", "Approved"]
    assert "Only here so far" in pane.places_label.text()

    qtbot.mouseClick(pane.company, Qt.MouseButton.LeftButton)
    type_into(qtbot, pane.company, "Initech Labs")
    qtbot.keyClick(pane.company, Qt.Key.Key_Tab)            # leaving the field saves it
    assert repository.get(row_id := view.selected_ids()[0])["company"] == "Initech Labs"
    assert "Initech Labs" in column(view, "company")
    click(qtbot, pane.next_action_on.check)
    qtbot.mouseClick(pane.next_action_note, Qt.MouseButton.LeftButton)
    type_into(qtbot, pane.next_action_note, "Send references")
    qtbot.keyClick(pane.next_action_note, Qt.Key.Key_Return)
    saved = repository.get(row_id)
    assert saved["next_action_on"] and saved["next_action_note"] == "Send references"
    qtbot.mouseClick(pane.title, Qt.MouseButton.LeftButton)
    type_into(qtbot, pane.title, "")
    qtbot.keyClick(pane.title, Qt.Key.Key_Tab)
    assert pane.problem.isVisible() and pane.problem.text() == "A job needs a title."
    assert repository.get(row_id)["title"] == "Designer"
    # Each save is one undo step.
    view.undo_action.trigger()
    view.undo_action.trigger()
    assert repository.get(row_id)["next_action_on"] is None
    qtbot.waitUntil(lambda: not pane.next_action_on.check.isChecked())


def test_the_detail_pane_changes_status_from_its_list(qtbot, repository, tmp_path):
    window = open_window(qtbot, repository, tmp_path)
    view = window.pipeline
    view.details_action.trigger()
    select(qtbot, view, "Designer")
    qtbot.waitUntil(lambda: view.detail is not None and view.detail.job is not None)
    pane = view.detail
    choices = [pane.status.itemText(i) for i in range(pane.status.count())]
    assert "Pending" not in choices and "Phone screen" in choices
    pane.status.setCurrentIndex(pane.status.findText("Phone screen"))
    pane.status.activated.emit(pane.status.currentIndex())
    assert repository.get(view.selected_ids()[0])["status"] == "phone_screen"
    assert pane.timeline.text().splitlines()[0].endswith("— Phone screen")


def test_targets_mark_flag_and_filter(qtbot, repository, tmp_path):
    window = open_window(qtbot, repository, tmp_path,
                         target_titles=["python developer"], target_locations=["Berlin",
                                                                                "Remote"],
                         exclude_keywords=["crypto"])
    view = window.pipeline
    title = FIELD_COLUMN["title"]
    marks = {view.proxy.index(r, title).data(): (view.proxy.index(r, title).data(TargetRole),
                                                  view.proxy.index(r, title).data(ExcludedRole))
             for r in range(view.proxy.rowCount())}
    assert marks == {"Senior Python Developer": (True, None), "Python Developer": (True, "crypto"),
                     "Designer": (False, None)}
    tip = view.proxy.index(row_of(view, "Python Developer"), title).data(
        Qt.ItemDataRole.ToolTipRole)
    assert "Contains “crypto”, one of your excluded keywords." in tip
    assert view.targets_chip.isVisible() and view.targets_chip.text() == "Matches my targets 2"
    click(qtbot, view.targets_chip)
    assert sorted(column(view, "title")) == ["Python Developer", "Senior Python Developer"]
    # The profile changes (Settings → OK): marks and filter follow at once.
    window.profile.update(target_titles=["designer"], target_locations=[])
    window.apply_profile()
    assert column(view, "title") == ["Designer"]
    window.profile.update(target_titles=[])
    window.apply_profile()
    assert not view.targets_chip.isVisible() and view.proxy.rowCount() == 3


def test_url_import_asks_before_adding_an_excluded_posting(qtbot, tmp_path, site):  # noqa: F811
    store = JobStore(tmp_path / "jobs.sqlite3")
    repository = JobRepository(store)
    dialog = UrlImportDialog(repository, fetch_timeout=(1.0, 0.5),
                             targets=Targets.from_profile(profile(tmp_path,
                                                                  exclude_keywords=["robots"])))
    qtbot.addWidget(dialog)
    dialog.show()
    fetch(qtbot, dialog, site.url + "/graph")
    assert "one of your excluded keywords" in dialog.status_label.text()
    seen: list[str] = []
    answer_next_message_box(QMessageBox.StandardButton.Cancel, seen)
    click(qtbot, dialog.save_button)
    assert seen == ["This posting contains “robots”, one of the keywords you excluded."]
    assert store.count() == 0 and dialog.isVisible()
    answer_next_message_box(QMessageBox.StandardButton.Yes)
    click(qtbot, dialog.save_button)
    assert store.count() == 1
    store.close()


def test_nothing_is_cut_or_scrolled_sideways_at_800_by_600(qtbot, repository, tmp_path):
    window = open_window(qtbot, repository, tmp_path, size=(800, 600),
                         target_titles=["python developer"])
    view = window.pipeline
    qtbot.waitUntil(lambda: view.table.isVisible())
    for chip in [*view.status_chips.values(), *view.due_chips.values(), view.targets_chip]:
        assert chip.isVisible()
        assert chip.width() >= chip.sizeHint().width(), chip.text()     # never elided
        assert chip.geometry().right() <= view.chip_bar.width(), chip.text()
    assert view.chip_bar.height() > view.status_chips[None].height() * 1.5   # wrapped
    header = view.table.horizontalHeader()
    shown = [c for c in range(header.count()) if not header.isSectionHidden(c)]
    assert header.length() <= view.table.viewport().width() + 1
    assert not view.table.horizontalScrollBar().isVisible()
    assert FIELD_COLUMN["title"] in shown and FIELD_COLUMN["status"] in shown
    assert view.toolbar.sizeHint().width() <= view.toolbar.width() + 1
    title = FIELD_COLUMN["title"]
    assert header.sectionSize(title) >= 150


def test_interview_column_reads_whole_at_1440_and_widths_are_remembered(qtbot, repository,
                                                                         tmp_path):
    window = open_window(qtbot, repository, tmp_path, size=(1440, 900))
    view = window.pipeline
    header = view.table.horizontalHeader()
    interview = FIELD_COLUMN["interview_at"]
    assert not header.isSectionHidden(interview)
    text = column(view, "interview_at")[row_of(view, "Designer")]
    assert text == "Fri 20 Mar 2026, 15:00 Berlin"
    needed = view.table.fontMetrics().horizontalAdvance(text) + 12
    assert header.sectionSize(interview) >= needed
    view.table.setColumnWidth(FIELD_COLUMN["company"], 222)
    view.set_column_shown("source", False)
    window.close()
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    assert settings.value("pipeline/columns") == "source=0"
    again = open_window(qtbot, repository, tmp_path, size=(1440, 900))
    assert again.pipeline.table.columnWidth(FIELD_COLUMN["company"]) == 222
    assert again.pipeline.table.isColumnHidden(FIELD_COLUMN["source"])
