"""The Add/Edit job dialog on a short screen: it fits 800×600 with its buttons in view, its fields
scroll (never sideways) as Tab moves down them, and a reason for not saving is scrolled into
view."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.ui.pipeline.job_dialog import JobDialog
from tests.ui_helpers import click, close_discarding, type_into

FRAME = (16, 48)       # what a window manager's frame and title bar take


@pytest.fixture
def repository(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    yield JobRepository(store)
    store.close()


def shown_in(widget, area) -> bool:
    """True when ``widget`` lies inside the part of the scroll ``area`` a person sees."""
    top = widget.mapTo(area.viewport(), widget.rect().topLeft())
    bottom = widget.mapTo(area.viewport(), widget.rect().bottomRight())
    return top.y() >= 0 and bottom.y() <= area.viewport().height() \
        and bottom.x() <= area.viewport().width()


def small_dialog(qtbot, repository) -> JobDialog:
    dialog = JobDialog(repository.add_job)
    qtbot.addWidget(dialog)
    assert dialog.minimumSizeHint().width() <= 800 - FRAME[0]
    assert dialog.minimumSizeHint().height() <= 600 - FRAME[1]
    dialog.show()
    dialog.resize(dialog.minimumSizeHint().width(), 600 - FRAME[1] - 200)   # shorter still
    qtbot.waitUntil(lambda: dialog.height() == 600 - FRAME[1] - 200)
    QApplication.processEvents()
    return dialog


def test_on_a_short_screen_the_fields_scroll_and_the_buttons_stay(qtbot, repository):
    dialog = small_dialog(qtbot, repository)
    area = dialog.fields
    assert dialog.save_button.isVisible()
    assert dialog.save_button.geometry().bottom() < dialog.height()
    assert not area.horizontalScrollBar().isVisible()
    assert area.verticalScrollBar().isVisible()
    assert not shown_in(dialog.form.notes, area)
    dialog.form.title.setFocus()
    for _ in range(40):                      # Tab down to the notes, as a person would
        if dialog.focusWidget() is dialog.form.notes:
            break
        qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Tab)
    notes = dialog.form.notes
    assert dialog.focusWidget() is notes
    caret = notes.cursorRect()            # where the person types is in view
    top = notes.viewport().mapTo(area.viewport(), caret.topLeft())
    assert 0 <= top.y() and top.y() + caret.height() <= area.viewport().height()
    type_into(qtbot, notes, "Met Dana")
    assert notes.toPlainText() == "Met Dana"
    close_discarding(dialog)


def test_a_reason_not_to_save_is_scrolled_into_view(qtbot, repository):
    """The person has scrolled down to the notes; Save brings the wrong field back into view,
    with its problem under it and the keyboard in it."""
    from peregrine_desktop.ui.field_problems import is_marked

    dialog = small_dialog(qtbot, repository)
    type_into(qtbot, dialog.form.title, "Platform Engineer")
    type_into(qtbot, dialog.form.url, "not a url")
    dialog.fields.ensureWidgetVisible(dialog.form.notes)
    assert not shown_in(dialog.form.url, dialog.fields)
    click(qtbot, dialog.save_button)
    assert dialog.isVisible()
    assert "web address" in dialog.form.problem_under(dialog.form.url)
    assert is_marked(dialog.form.url) and dialog.focusWidget() is dialog.form.url
    assert shown_in(dialog.form.url, dialog.fields)
    close_discarding(dialog)
