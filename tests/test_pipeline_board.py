"""The board as a person uses it over a real store: cards per stage with counts, a card dragged
to another column (real mime data through the column's drop handling) moves the job and records
its history, Edit → Undo puts it back exactly, the keyboard moves cards, and the filters apply."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, QSettings, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.ui.pipeline.view import BOARD, TABLE, PipelineView
from tests.ui_helpers import click, type_into


@pytest.fixture
def repository(tmp_path, qtbot):
    store = JobStore(tmp_path / "jobs.sqlite3")
    yield JobRepository(store)
    store.close()


@pytest.fixture
def jobs(repository):
    rows = [
        {"title": "Backend Engineer", "company": "Acme", "date_found": "2026-03-01"},
        {"title": "Designer", "company": "Globex", "date_found": "2026-03-03",
         "status": "applied", "next_action_on": "2026-03-10",
         "next_action_note": "Follow up with Sam"},
        {"title": "Data Engineer", "company": "Initech", "date_found": "2026-03-02",
         "status": "approved"},
    ]
    return [repository.add_job(row) for row in rows]


def make_board(qtbot, repository, settings=None) -> PipelineView:
    view = PipelineView(repository, settings=settings)
    qtbot.addWidget(view)
    view.resize(1100, 600)
    view.show()
    with qtbot.waitActive(view):
        view.activateWindow()
    click(qtbot, view.mode_buttons[BOARD])
    assert view.mode == BOARD and view.stack.currentWidget() is view.board
    return view


def cards(view: PipelineView, status: str) -> list[str]:
    lst = view.board.columns[status].list
    return [lst.model().index(row, 0).data() for row in range(lst.model().rowCount())]


def header(view: PipelineView, status: str) -> str:
    return view.board.columns[status].header.text()


def click_card(qtbot, view: PipelineView, status: str, title: str) -> None:
    lst = view.board.columns[status].list
    index = lst.model().index(cards(view, status).index(title), 0)
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=lst.visualRect(index).center())


def drag_card(view: PipelineView, source: str, title: str, target: str) -> None:
    """What a drag does: the source column's model packs the card, the target column's viewport
    gets enter, move and drop events carrying it."""
    from_list = view.board.columns[source].list
    index = from_list.model().index(cards(view, source).index(title), 0)
    mime = from_list.model().mimeData([index])
    to_list = view.board.columns[target].list
    point = QPointF(to_list.viewport().rect().center())
    actions = Qt.DropAction.MoveAction | Qt.DropAction.CopyAction
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(point.toPoint(), actions, mime, buttons, keys)
    QApplication.sendEvent(to_list.viewport(), enter)
    assert enter.isAccepted()
    move = QDragMoveEvent(point.toPoint(), actions, mime, buttons, keys)
    QApplication.sendEvent(to_list.viewport(), move)
    assert move.isAccepted()
    drop = QDropEvent(point, actions, mime, buttons, keys)
    QApplication.sendEvent(to_list.viewport(), drop)
    assert drop.isAccepted()


def test_board_shows_a_column_per_stage_with_counts_and_cards(qtbot, repository, jobs):
    view = make_board(qtbot, repository)
    assert header(view, "pending") == "Pending  1"
    assert header(view, "applied") == "Applied  1"
    assert header(view, "hired") == "Hired  0"
    assert cards(view, "approved") == ["Data Engineer"]
    assert cards(view, "applied") == ["Designer"]


def test_dragging_a_card_moves_the_job_and_undo_puts_it_back(qtbot, repository, jobs):
    view = make_board(qtbot, repository)
    designer = jobs[1]
    drag_card(view, "applied", "Designer", "phone_screen")
    qtbot.waitUntil(lambda: cards(view, "phone_screen") == ["Designer"])
    assert cards(view, "applied") == []
    assert header(view, "phone_screen") == "Phone screen  1"
    stored = repository.get(designer["id"])
    assert stored["status"] == "phone_screen"
    assert [h["status"] for h in stored["status_history"]] == ["applied", "phone_screen"]
    assert view.message_label.text() == "Moved “Designer” to Phone screen."
    assert view.undo_action.text() == "&Undo Move “Designer” to Phone screen"

    qtbot.keyClick(view.board.columns["phone_screen"].list, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: cards(view, "applied") == ["Designer"])
    stored = repository.get(designer["id"])
    assert stored["status"] == "applied"
    assert stored["status_history"] == designer["status_history"]   # no trace of the move
    assert stored["uid"] == designer["uid"]
    view.redo_action.trigger()
    qtbot.waitUntil(lambda: cards(view, "phone_screen") == ["Designer"])


def test_a_drop_the_pipeline_refuses_says_why(qtbot, repository, jobs):
    view = make_board(qtbot, repository)
    drag_card(view, "applied", "Designer", "pending")    # two steps back
    assert cards(view, "applied") == ["Designer"]
    assert view.message_label.text() == "A job cannot go from Applied back to Pending."
    assert not view.undo_action.isEnabled()


def test_keyboard_moves_a_card_as_in_the_table(qtbot, repository, jobs):
    view = make_board(qtbot, repository)
    click_card(qtbot, view, "pending", "Backend Engineer")
    assert view.selected_ids() == [jobs[0]["id"]]
    qtbot.keyClick(view.board.columns["pending"].list, Qt.Key.Key_2,
                   Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: cards(view, "approved") == ["Backend Engineer", "Data Engineer"]
                    or cards(view, "approved") == ["Data Engineer", "Backend Engineer"])
    assert repository.get(jobs[0]["id"])["status"] == "approved"
    assert view.selected_ids() == [jobs[0]["id"]]          # the card stays selected
    # Arrow keys walk between columns.
    qtbot.keyClick(view.board.current_list(), Qt.Key.Key_Right)
    assert view.board.current_list().status == "applied"
    assert view.selected_ids() == [jobs[1]["id"]]


def test_text_filter_and_stage_chip_apply_to_the_board(qtbot, repository, jobs):
    view = make_board(qtbot, repository)
    type_into(qtbot, view.search, "engineer")
    qtbot.waitUntil(lambda: cards(view, "applied") == [])
    assert cards(view, "pending") == ["Backend Engineer"]
    assert cards(view, "approved") == ["Data Engineer"]
    click(qtbot, view.status_chips["approved"])
    qtbot.waitUntil(lambda: not view.board.columns["pending"].isVisible())
    assert [s for s, c in view.board.columns.items() if c.isVisible()] == ["approved"]


def test_the_choice_of_view_is_remembered(qtbot, repository, jobs, tmp_path):
    def reopen() -> PipelineView:
        view = PipelineView(repository, settings=QSettings(str(tmp_path / "window.ini"),
                                                           QSettings.Format.IniFormat))
        qtbot.addWidget(view)
        return view

    view = make_board(qtbot, repository, QSettings(str(tmp_path / "window.ini"),
                                                   QSettings.Format.IniFormat))
    view.save_settings()
    assert reopen().mode == BOARD
    click(qtbot, view.mode_buttons[TABLE])
    view.save_settings()
    again = reopen()
    assert again.mode == TABLE and again.board is None


def test_the_board_is_not_built_until_asked_for(qtbot, repository, jobs):
    view = PipelineView(repository)
    qtbot.addWidget(view)
    view.show()
    assert view.board is None and view.detail is None
