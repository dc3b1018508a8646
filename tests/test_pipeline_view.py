"""The pipeline view as a person uses it, over a real SQLite store: read the table, filter, sort,
add and edit through the dialog, move jobs along the pipeline by menu and shortcut, delete."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox

from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.ui.pipeline.job_dialog import JobDialog
from peregrine_desktop.ui.pipeline.model import FIELD_COLUMN
from peregrine_desktop.ui.pipeline.url_dialog import UrlImportDialog
from peregrine_desktop.ui.pipeline.csv_dialogs import CsvImportDialog
from peregrine_desktop.ui.pipeline.view import PipelineView
from tests.ui_helpers import answer_next_message_box, buttons_shown, click, type_into


@pytest.fixture
def repository(tmp_path, qtbot):
    store = JobStore(tmp_path / "jobs.sqlite3")
    yield JobRepository(store)
    store.close()


@pytest.fixture
def jobs(repository):
    rows = [
        {"title": "Backend Engineer", "company": "Acme", "location": "Berlin",
         "date_found": "2026-03-01", "notes": "recruiter Sam"},
        {"title": "Designer", "company": "Globex", "remote": True, "date_found": "2026-03-03",
         "status": "applied"},
        {"title": "Data Engineer", "company": "Initech", "date_found": "2026-03-02",
         "status": "approved"},
    ]
    return [repository.add_job(row) for row in rows]


def make_view(qtbot, repository) -> PipelineView:
    view = PipelineView(repository)
    qtbot.addWidget(view)
    view.resize(1100, 600)
    view.show()
    activate(qtbot, view)     # shortcuts only reach the active window
    return view


def activate(qtbot, view: PipelineView) -> None:
    with qtbot.waitActive(view):
        view.activateWindow()


def column(view: PipelineView, name: str) -> list[str]:
    """The text shown in one column, top to bottom."""
    col = FIELD_COLUMN[name]
    return [view.proxy.index(row, col).data() for row in range(view.proxy.rowCount())]


def row_of(view: PipelineView, title: str) -> int:
    return column(view, "title").index(title)


def select(qtbot, view: PipelineView, title: str) -> None:
    index = view.proxy.index(row_of(view, title), 0)
    rect = view.table.visualRect(index)
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.selected_ids() and view.repository.get(view.selected_ids()[0])["title"] == title


def chip_texts(view: PipelineView) -> list[str]:
    return [chip.text() for chip in view.status_chips.values()]


def test_empty_pipeline_says_what_to_do(qtbot, repository):
    view = make_view(qtbot, repository)
    assert view.empty_page.isVisible() and not view.table.isVisible()
    assert "No jobs yet" in view.empty_page.findChildren(type(view.empty_label))[0].text()
    assert view.empty_label.text() == "Add one, paste a posting URL, or import a CSV."
    assert buttons_shown(view.empty_page) == ["Add a job", "Paste a posting URL",
                                              "Import a CSV file"]
    assert not view.search.isVisible() and not view.chip_bar.isVisible()
    click(qtbot, view.empty_buttons[1])
    assert isinstance(view.active_dialog, UrlImportDialog)
    view.active_dialog.reject()
    click(qtbot, view.empty_buttons[2])
    assert isinstance(view.active_dialog, CsvImportDialog)
    view.active_dialog.reject()


def test_the_first_job_brings_the_filters_in_place_and_in_tab_order(qtbot, repository):
    """An empty pipeline paints without its search field, chips and table (built with the
    first job); they then appear where they always are, counted, and Tab reaches them in
    order."""
    view = make_view(qtbot, repository)
    assert not view._filters_built and view._table is None
    assert not view.export_csv_action.isEnabled()
    assert not view.table.isVisible()       # asked for first: built, and still not shown
    repository.add_job({"title": "Backend Engineer", "company": "Acme"})   # e.g. from a sync
    qtbot.waitUntil(lambda: view.table.isVisible())
    qtbot.waitUntil(lambda: chip_texts(view)[:2] == ["All 1", "Pending 1"])
    assert view.search.isVisible() and view.chip_bar.isVisible()
    assert view.export_csv_action.isEnabled()
    toolbar = view.toolbar.geometry()
    assert view.search.geometry().right() <= toolbar.right()
    assert toolbar.bottom() < view.chip_bar.geometry().top()
    assert view.chip_bar.geometry().bottom() < view.splitter.geometry().top()
    view.mode_buttons["board"].setFocus()
    order = []
    for _ in range(3):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        order.append(QApplication.focusWidget())
    # The status chips are one exclusive group: Tab enters it at the checked chip (arrows move
    # within it) and leaves it for the due chips.
    assert order == [view.search, view.status_chips[None], view.due_chips["overdue"]]


def test_filters_asked_for_in_an_empty_pipeline_stay_hidden(qtbot, repository):
    view = make_view(qtbot, repository)
    assert view.status_chips[None].text() == "All 0"     # built on request
    qtbot.wait(50)                                       # a deferred show would have run
    assert not view.search.isVisible() and not view.chip_bar.isVisible()
    assert view.empty_page.isVisible()


def test_table_shows_jobs_newest_first_with_counts(qtbot, repository, jobs):
    view = make_view(qtbot, repository)
    assert column(view, "title") == ["Designer", "Data Engineer", "Backend Engineer"]
    assert column(view, "status") == ["Applied", "Approved", "Pending"]
    assert column(view, "location") == ["Remote", "", "Berlin"]
    assert column(view, "date_found")[0] == "03 Mar 2026"
    assert chip_texts(view)[:4] == ["All 3", "Pending 1", "Approved 1", "Applied 1"]
    assert view.count_label.text() == "3 jobs"


def test_the_opening_order_is_the_found_column_sorted_newest_first(qtbot, repository):
    """The rows arrive sorted by SQLite; re-sorting by Found (newest first) in the table gives the
    very same order, ties on the same day included."""
    for number, day in enumerate(("2026-03-02", "2026-03-05", "2026-03-02", "2026-02-27",
                                  "2026-03-05", "2026-03-02")):
        repository.add_job({"title": f"Job {number}", "date_found": day})
    view = make_view(qtbot, repository)
    opening = column(view, "title")
    assert opening[:2] == ["Job 4", "Job 1"] and opening[-1] == "Job 3"
    view.table.sortByColumn(FIELD_COLUMN["company"], Qt.SortOrder.AscendingOrder)
    view.table.sortByColumn(FIELD_COLUMN["date_found"], Qt.SortOrder.DescendingOrder)
    assert column(view, "title") == opening


def test_sorting_by_clicking_a_header(qtbot, repository, jobs):
    view = make_view(qtbot, repository)
    header = view.table.horizontalHeader()
    x = header.sectionViewportPosition(FIELD_COLUMN["company"]) + 10
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
    assert column(view, "company") == ["Acme", "Globex", "Initech"]
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
    assert column(view, "company") == ["Initech", "Globex", "Acme"]


def test_filter_by_status_chip_and_by_text(qtbot, repository, jobs):
    view = make_view(qtbot, repository)
    click(qtbot, view.status_chips["applied"])
    assert column(view, "title") == ["Designer"]
    assert view.count_label.text() == "Showing 1 of 3 jobs"
    click(qtbot, view.status_chips[None])
    type_into(qtbot, view.search, "engineer")
    qtbot.waitUntil(lambda: view.proxy.rowCount() == 2)
    assert sorted(column(view, "title")) == ["Backend Engineer", "Data Engineer"]
    type_into(qtbot, view.search, "SAM berlin")                  # notes count; words AND
    qtbot.waitUntil(lambda: column(view, "title") == ["Backend Engineer"])
    type_into(qtbot, view.search, "nothing like this")
    qtbot.waitUntil(lambda: view.proxy.rowCount() == 0)
    assert view.no_match_label.text() == "No jobs match “nothing like this”."
    click(qtbot, view.show_all_button)
    assert view.proxy.rowCount() == 3 and view.search.text() == ""


def test_add_a_job_through_the_dialog(qtbot, repository, jobs):
    view = make_view(qtbot, repository)
    added = []
    repository.job_added.connect(added.append)
    view.add_action.trigger()
    dialog = view.active_dialog
    assert isinstance(dialog, JobDialog) and dialog.windowTitle() == "Add job"
    click(qtbot, dialog.save_button)                               # nothing typed yet
    assert dialog.form.problem_under(dialog.form.title) == "Enter the job's title."
    assert dialog.focusWidget() is dialog.form.title
    type_into(qtbot, dialog.form.title, "Platform Engineer")
    assert dialog.form.problem_under(dialog.form.title) == ""     # fixed: gone as it is typed
    type_into(qtbot, dialog.form.company, "Hooli")
    type_into(qtbot, dialog.form.url, "not a url")
    click(qtbot, dialog.save_button)
    assert "web address starting with https://" in dialog.form.problem_under(dialog.form.url)
    type_into(qtbot, dialog.form.url, "https://hooli.test/jobs/1")
    assert dialog.form.problem_under(dialog.form.url) == ""
    click(qtbot, dialog.form.remote)
    type_into(qtbot, dialog.form.notes, "Applied via Sam")
    click(qtbot, dialog.save_button)
    assert not dialog.isVisible()
    assert [job["title"] for job in added] == ["Platform Engineer"]
    assert added[0]["remote"] is True and added[0]["notes"] == "Applied via Sam"
    assert "Platform Engineer" in column(view, "title")
    assert view.selected_ids() == [added[0]["id"]]
    qtbot.waitUntil(lambda: chip_texts(view)[:2] == ["All 4", "Pending 2"])
    assert view.message_label.text() == "Added “Platform Engineer”."


def test_every_problem_shows_under_its_own_field_and_goes_when_that_one_is_fixed(
        qtbot, repository):
    from peregrine_desktop.ui.field_problems import is_marked

    view = make_view(qtbot, repository)
    view.add_action.trigger()
    dialog = view.active_dialog
    form = dialog.form
    type_into(qtbot, form.url, "not a url")
    click(qtbot, form.has_interview)
    type_into(qtbot, form.interview_tz.lineEdit(), "Mars/Olympus")
    qtbot.keyClick(form.title, Qt.Key.Key_Return)                  # Enter saves
    assert dialog.isVisible()
    assert form.problem_under(form.title) == "Enter the job's title."
    assert "web address" in form.problem_under(form.url)
    assert "time zone" in form.problem_under(form.interview_tz)
    assert all(is_marked(f) for f in (form.title, form.url, form.interview_tz))
    assert not form.problem_label.isVisible()          # nothing about the job as a whole
    assert dialog.focusWidget() is form.title          # the first one to fix
    type_into(qtbot, form.interview_tz.lineEdit(), "Europe/Berlin")
    assert form.problem_under(form.interview_tz) == "" and not is_marked(form.interview_tz)
    assert form.problem_under(form.title) and form.problem_under(form.url)   # still to fix
    type_into(qtbot, form.title, "SRE")
    type_into(qtbot, form.url, "https://x.test/sre")
    assert not any(is_marked(f) for f in (form.title, form.url))
    click(qtbot, dialog.save_button)
    assert not dialog.isVisible()
    assert repository.get(view.selected_ids()[0])["interview_tz"] == "Europe/Berlin"


def test_a_duplicate_url_keeps_the_dialog_open_with_the_reason(qtbot, repository):
    repository.add_job({"title": "First", "url": "https://x.test/1"})
    view = make_view(qtbot, repository)
    view.add_action.trigger()
    dialog = view.active_dialog
    type_into(qtbot, dialog.form.title, "Second")
    type_into(qtbot, dialog.form.url, "https://x.test/1")
    click(qtbot, dialog.save_button)
    assert dialog.isVisible()
    assert dialog.form.problem_label.text() == "You already have a job with this address (“First”)."


def test_edit_by_double_click_with_an_interview(qtbot, repository, jobs):
    view = make_view(qtbot, repository)
    changes = []
    repository.job_changed.connect(lambda new, old: changes.append((new, old)))
    index = view.proxy.index(row_of(view, "Data Engineer"), 0)
    rect = view.table.visualRect(index)
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    dialog = view.active_dialog
    assert dialog.windowTitle() == "Edit job" and dialog.form.title.text() == "Data Engineer"
    statuses_offered = [dialog.form.status.itemText(i) for i in range(dialog.form.status.count())]
    assert statuses_offered == ["Pending", "Approved", "Applied", "Phone screen", "Interviewing",
                                "Offer", "Hired", "Rejected"]
    type_into(qtbot, dialog.form.company, "Initech GmbH")
    click(qtbot, dialog.form.has_interview)
    dialog.form.interview_tz.setCurrentText("America/New_York")
    dialog.form.interview_at.setFocus()
    click(qtbot, dialog.save_button)
    assert not dialog.isVisible()
    new, old = changes[-1]
    assert (old["company"], new["company"]) == ("Initech", "Initech GmbH")
    assert new["interview_tz"] == "America/New_York"
    assert new["interview_at"].endswith(("-05:00", "-04:00"))
    shown = column(view, "interview_at")[row_of(view, "Data Engineer")]
    assert shown.endswith("10:00 New York")
    assert column(view, "company")[row_of(view, "Data Engineer")] == "Initech GmbH"


def open_context_menu(qtbot, view: PipelineView, title: str) -> QMenu:
    select(qtbot, view, title)
    rect = view.table.visualRect(view.proxy.index(row_of(view, title), 0))
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, rect.center(),
                              view.table.viewport().mapToGlobal(rect.center()))
    QApplication.sendEvent(view.table.viewport(), event)
    qtbot.waitUntil(lambda: any(m.isVisible() for m in view.findChildren(QMenu)))
    return next(m for m in view.findChildren(QMenu) if m.isVisible())


@pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing the keyboard)")
def test_change_status_from_the_context_menu(qtbot, repository, jobs):
    view = make_view(qtbot, repository)
    menu = open_context_menu(qtbot, view, "Designer")
    actions = {a.text(): a for a in menu.actions() if a.text()}
    assert actions["Applied"].isChecked() and not actions["Applied"].isEnabled()
    assert not actions["Pending"].isEnabled()          # two steps back is not a move
    assert actions["Interviewing"].isEnabled() and actions["Rejected"].isEnabled()
    rect = menu.actionGeometry(actions["Phone screen"])
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=rect.center())
    assert column(view, "status")[row_of(view, "Designer")] == "Phone screen"
    assert view.message_label.text() == "Moved “Designer” to Phone screen."
    history = repository.history(jobs[1]["id"])
    assert [h["status"] for h in history] == ["applied", "phone_screen"]
    qtbot.waitUntil(lambda: "Phone screen 1" in chip_texts(view))


def test_change_status_with_the_keyboard_shortcut(qtbot, repository, jobs):
    view = make_view(qtbot, repository)
    select(qtbot, view, "Backend Engineer")
    qtbot.keyClick(view.table, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)   # Approved
    assert column(view, "status")[row_of(view, "Backend Engineer")] == "Approved"
    qtbot.keyClick(view.table, Qt.Key.Key_8, Qt.KeyboardModifier.ControlModifier)   # Rejected
    assert repository.get(jobs[0]["id"])["status"] == "rejected"
    assert view.status_actions["approved"].isEnabled()       # back to where it was rejected
    assert not view.status_actions["applied"].isEnabled()


def test_several_jobs_move_together(qtbot, repository, jobs):
    view = make_view(qtbot, repository)
    view.table.selectAll()
    view.status_actions["rejected"].trigger()
    assert column(view, "status") == ["Rejected"] * 3
    assert view.message_label.text() == "Moved 3 jobs to Rejected."


def test_delete_asks_first(qtbot, repository, jobs):
    view = make_view(qtbot, repository)
    select(qtbot, view, "Designer")
    seen: list[str] = []
    answer_next_message_box(QMessageBox.StandardButton.Cancel, seen)
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    assert seen == ["Delete “Designer” at Globex?"]
    assert view.proxy.rowCount() == 3
    activate(qtbot, view)          # offscreen, closing a modal box does not reactivate the window
    removed = []
    repository.job_removed.connect(removed.append)
    answer_next_message_box(QMessageBox.StandardButton.Yes, seen)
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    assert seen[-1] == "Delete “Designer” at Globex?", seen
    assert "Designer" not in column(view, "title")
    assert [job["title"] for job in removed] == ["Designer"]
    assert repository.get(jobs[1]["id"]) is None
    assert view.message_label.text() == "Deleted “Designer”."
    qtbot.waitUntil(lambda: chip_texts(view)[0] == "All 2")


def test_deleting_the_last_job_brings_back_the_empty_state(qtbot, repository):
    repository.add_job({"title": "Only"})
    view = make_view(qtbot, repository)
    select(qtbot, view, "Only")
    answer_next_message_box(QMessageBox.StandardButton.Yes)
    view.delete_action.trigger()
    assert view.model.rowCount() == 0, (view.delete_action.isEnabled(), view.selected_ids())
    assert view.empty_page.isVisible()


def test_changes_made_elsewhere_show_up(qtbot, repository, jobs):
    view = make_view(qtbot, repository)
    repository.update_job(jobs[0]["id"], {"title": "Backend Engineer II"})
    assert "Backend Engineer II" in column(view, "title")
    repository.add_many([{"title": f"Imported {i}"} for i in range(5)])
    assert view.proxy.rowCount() == 8
    qtbot.waitUntil(lambda: chip_texts(view)[0] == "All 8")


def test_actions_are_exposed_for_the_main_window(qtbot, repository):
    view = make_view(qtbot, repository)
    names = [a.text().replace("&", "") for a in (view.add_action, view.import_url_action,
                                                  view.import_csv_action, view.export_csv_action)]
    assert names == ["Add job…", "Import from URL…", "Import CSV…", "Export CSV…"]
    assert not view.export_csv_action.isEnabled()        # nothing to export yet


def test_notes_and_addresses_read_after_the_first_paint_are_there_when_asked_for(
        qtbot, repository, jobs):
    from types import SimpleNamespace

    from peregrine_desktop.jobs.targets import Targets
    from peregrine_desktop.ui.pipeline.model import ExcludedRole

    repository.update_job(jobs[0]["id"], {"url": "https://acme.example/jobs/1"})
    view = PipelineView(repository)        # not shown: nothing after a first paint has run
    qtbot.addWidget(view)
    title = view.proxy.index(row_of(view, "Backend Engineer"), FIELD_COLUMN["title"])
    tip = title.data(Qt.ItemDataRole.ToolTipRole)
    assert "recruiter Sam" in tip and "https://acme.example/jobs/1" in tip
    type_into(qtbot, view.search, "recruiter")
    qtbot.keyClick(view.search, Qt.Key.Key_Return)
    assert column(view, "title") == ["Backend Engineer"]
    view.model.set_targets(Targets.from_profile(SimpleNamespace(exclude_keywords=["sam"])))
    assert view.proxy.index(0, FIELD_COLUMN["title"]).data(ExcludedRole) == "sam"


def test_an_edit_made_before_the_later_columns_are_read_is_not_overwritten_by_them(
        qtbot, repository, jobs):
    view = PipelineView(repository)        # not shown: the later columns are not read yet
    qtbot.addWidget(view)
    other = view.model.row_of(jobs[1]["id"])
    assert view.model.job_at(other)["title"] == "Designer"    # reads them, as they were
    repository.update_job(jobs[0]["id"], {"notes": "called back on Monday"})
    row = view.model.row_of(jobs[0]["id"])
    assert view.model.job_at(row)["notes"] == "called back on Monday"
    assert repository.get(jobs[0]["id"])["notes"] == "called back on Monday"
