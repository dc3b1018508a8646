"""Text from users and web pages is shown as the characters it holds, never rendered as HTML:
a job whose every field holds markup, looked at everywhere the app shows it."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import Qt as GuiQt, QTextDocument
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.ui.pipeline.model import FIELD_COLUMN
from peregrine_desktop.ui.pipeline.url_dialog import UrlImportDialog
from peregrine_desktop.ui.pipeline.view import PipelineView
from peregrine_desktop.ui.plain_text import tooltip
from tests.ui_helpers import click, type_into

MARKUP = "<img src=x><h1>big</h1>"
TEXT_FIELDS = ("title", "company", "location", "salary", "source", "notes", "description",
               "next_action_note")


@pytest.fixture
def repository(tmp_path, qtbot):
    store = JobStore(tmp_path / "jobs.sqlite3")
    yield JobRepository(store)
    store.close()


@pytest.fixture
def hostile_job(repository):
    values = {name: f"{name} {MARKUP}" for name in TEXT_FIELDS}
    values.update(url="https://jobs.test/<b>1</b>", interview_at="2026-07-01T10:00:00+02:00",
                  interview_tz="Europe/Berlin")
    return repository.add_job(values)


def shown_by_tooltip(text: str) -> str:
    """What Qt shows for a tooltip string (rich text when it looks like HTML)."""
    if not GuiQt.mightBeRichText(text):
        return text
    document = QTextDocument()
    document.setHtml(text)
    return document.toPlainText()


def test_the_tooltip_helper_shows_text_literally():
    for text in (MARKUP, "a &lt;b&gt; c", "two\nlines", "<qt>x</qt>", "plain"):
        assert shown_by_tooltip(tooltip(text)).replace("\u2028", "\n") == text


def test_markup_in_every_field_is_shown_as_written(qtbot, repository, hostile_job):
    view = PipelineView(repository)
    qtbot.addWidget(view)
    view.show()
    for name in ("title", "company", "location", "salary", "source"):
        index = view.proxy.index(0, FIELD_COLUMN[name])
        assert index.data() == hostile_job[name]        # item text is always plain
    title_tip = view.proxy.index(0, FIELD_COLUMN["title"]).data(Qt.ItemDataRole.ToolTipRole)
    assert shown_by_tooltip(title_tip) == "\n".join(
        [hostile_job["title"], hostile_job["company"], hostile_job["url"], hostile_job["notes"]])

    # The delete confirmation names the job in plain text.
    view.table.selectRow(0)
    seen: list[QMessageBox] = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        seen.append((box.text(), box.textFormat(),
                     [label.textFormat() for label in box.findChildren(QLabel)
                      if label.text() and label.objectName().startswith("qt_msgbox")]))
        box.button(QMessageBox.StandardButton.Yes).click()

    QTimer.singleShot(0, answer)
    view.delete_action.trigger()
    text, text_format, label_formats = seen[0]
    assert text == f"Delete “{hostile_job['title']}” at {hostile_job['company']}?"
    assert text_format == Qt.TextFormat.PlainText
    assert label_formats and set(label_formats) == {Qt.TextFormat.PlainText}
    # ... and so does the message that says it happened, with its tooltip.
    assert view.message_label.text() == f"Deleted “{hostile_job['title']}”."
    assert view.message_label.textFormat() == Qt.TextFormat.PlainText
    assert shown_by_tooltip(view.message_label.toolTip()) == view.message_label.text()


def shown_by_label(label: QLabel) -> str:
    """What a QLabel shows: its text, or the text its HTML renders to."""
    text = label.text()
    rich = label.textFormat() == Qt.TextFormat.RichText or (
        label.textFormat() == Qt.TextFormat.AutoText and GuiQt.mightBeRichText(text))
    if not rich:
        return text
    document = QTextDocument()
    document.setHtml(text)
    return document.toPlainText()


def test_the_detail_pane_and_the_board_show_markup_as_written(qtbot, repository, hostile_job):
    view = PipelineView(repository)
    qtbot.addWidget(view)
    view.resize(1200, 700)
    view.show()
    view.details_action.trigger()
    view.table.selectRow(0)
    qtbot.waitUntil(lambda: view.detail is not None and view.detail.job is not None,
                    timeout=5000)
    labels = [label for label in view.detail.findChildren(QLabel) if label.text()]
    shown = [shown_by_label(label) for label in labels]
    assert f"{hostile_job['title']}" in shown                # the heading, as written
    for label, text in zip(labels, shown):     # no label rendered the markup as an image
        if "big" in text:
            assert MARKUP in text, label.text()
    click(qtbot, view.mode_buttons["board"])
    pending = view.board.columns["pending"].list
    card = pending.model().index(0, 0)
    assert card.data() == hostile_job["title"]
    assert MARKUP in shown_by_tooltip(card.data(Qt.ItemDataRole.ToolTipRole))


def test_the_url_dialog_names_a_known_job_in_plain_text(qtbot, repository, hostile_job):
    dialog = UrlImportDialog(repository)
    qtbot.addWidget(dialog)
    dialog.show()
    type_into(qtbot, dialog.url_edit, hostile_job["url"])
    click(qtbot, dialog.fetch_button)
    assert dialog.status_label.text() == (f"You already have this job: “{hostile_job['title']}”"
                                          f" at {hostile_job['company']}.")
    assert dialog.status_label.textFormat() == Qt.TextFormat.PlainText


def test_the_job_form_problem_is_plain(qtbot, repository, hostile_job):
    from peregrine_desktop.ui.pipeline.job_dialog import JobDialog
    dialog = JobDialog(lambda values: None)
    qtbot.addWidget(dialog)
    dialog.form.show_problem(f"“{MARKUP}” is not a web address (one starts with https://).")
    assert dialog.form.problem_label.textFormat() == Qt.TextFormat.PlainText
