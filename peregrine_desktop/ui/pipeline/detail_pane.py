"""DetailPane: the selected job beside the list — its fields editable in place, its status
timeline, its documents and where it lives remotely (tracker records, calendar events, stored
copies).

Each field is saved when it is left (a line edited, a date ticked, the status chosen, the notes
left), through the pipeline's editor, so every change is one step for Edit → Undo.
"""
from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFormLayout, QFrame, QLabel, QLineEdit,
                               QPlainTextEdit, QScrollArea, QVBoxLayout, QWidget)

from peregrine_desktop.jobs import statuses
from peregrine_desktop.jobs.dates import Clock, system_clock
from peregrine_desktop.jobs.documents import JobDocuments
from peregrine_desktop.jobs.remote_links import remote_places
from peregrine_desktop.jobs.store import StoreError
from peregrine_desktop.jobs.targets import Targets
from peregrine_desktop.ui.pipeline.job_form import DateChoice
from peregrine_desktop.ui.pipeline.model import interview_text
from peregrine_desktop.ui.pipeline.undo import PipelineEditor
from peregrine_desktop.ui import colours
from peregrine_desktop.ui.colours import text_style

NOTHING_SELECTED = "Select a job to see its details here."


def _section(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    label.setContentsMargins(0, 10, 0, 2)
    return label


def _moment_text(stamp: str) -> str:
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%d %b %Y, %H:%M")
    except ValueError:
        return stamp


class DetailPane(QScrollArea):
    """Shows one job (``show_job``); ``message`` reports saves and refusals in words."""

    message = Signal(str)

    def __init__(self, editor: PipelineEditor, *, clock: Clock = system_clock,
                 targets: Callable[[], Targets] = Targets,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.targets = targets
        self.repository = editor.repository
        self.clock = clock
        self.job: dict[str, Any] | None = None
        self.documents = None
        self._loading = False
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(280)
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(10, 4, 6, 10)
        self.placeholder = QLabel(NOTHING_SELECTED, body)
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.placeholder)

        self.content = QWidget(body)
        content = QVBoxLayout(self.content)
        content.setContentsMargins(0, 0, 0, 0)
        self.heading = QLabel(self.content)
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.heading.setWordWrap(True)
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.heading.setFont(font)
        self.subheading = QLabel(self.content)
        self.subheading.setTextFormat(Qt.TextFormat.PlainText)
        self.subheading.setWordWrap(True)
        self.marks = QLabel(self.content)
        self.marks.setTextFormat(Qt.TextFormat.PlainText)
        self.marks.setWordWrap(True)
        self.posting = QLabel(self.content)
        self.posting.setOpenExternalLinks(True)
        self.posting.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        for widget in (self.heading, self.subheading, self.marks, self.posting):
            content.addWidget(widget)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.title = QLineEdit(self.content)
        self.company = QLineEdit(self.content)
        self.location = QLineEdit(self.content)
        self.url = QLineEdit(self.content)
        self.url.setPlaceholderText("https://…")
        self.status = QComboBox(self.content)
        self.applied_on = DateChoice("Set", self.content)
        self.deadline = DateChoice("Set", self.content)
        self.next_action_on = DateChoice("Set", self.content)
        self.next_action_note = QLineEdit(self.content)
        self.next_action_note.setPlaceholderText("What to do, e.g. Follow up with the recruiter")
        self.next_action_note.setMaxLength(200)
        self.interview = QLabel(self.content)
        self.interview.setTextFormat(Qt.TextFormat.PlainText)
        self.notes = QPlainTextEdit(self.content)
        self.notes.setPlaceholderText("Contacts, follow-ups, impressions…")
        self.notes.setFixedHeight(90)
        self.notes.setTabChangesFocus(True)
        self.notes.installEventFilter(self)
        form.addRow(self._buddy("&Title", self.title), self.title)
        form.addRow(self._buddy("Co&mpany", self.company), self.company)
        form.addRow(self._buddy("Locat&ion", self.location), self.location)
        form.addRow(self._buddy("Posti&ng", self.url), self.url)
        form.addRow(self._buddy("St&atus", self.status), self.status)
        form.addRow(self._buddy("A&pplied on", self.applied_on), self.applied_on)
        form.addRow(self._buddy("&Deadline", self.deadline), self.deadline)
        form.addRow(self._buddy("Ne&xt action", self.next_action_on), self.next_action_on)
        form.addRow("", self.next_action_note)
        form.addRow("Interview", self.interview)
        form.addRow(self._buddy("N&otes", self.notes), self.notes)
        content.addLayout(form)
        self.problem = QLabel(self.content)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(text_style(colours.PROBLEM))
        self.problem.hide()
        content.addWidget(self.problem)

        content.addWidget(_section("Timeline", self.content))
        self.timeline = QLabel(self.content)
        self.timeline.setTextFormat(Qt.TextFormat.PlainText)
        self.timeline.setWordWrap(True)
        content.addWidget(self.timeline)
        content.addWidget(_section("Documents", self.content))
        self.documents_label = QLabel(self.content)
        self.documents_label.setWordWrap(True)
        self.documents_label.setOpenExternalLinks(True)
        self.documents_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextBrowserInteraction)
        content.addWidget(self.documents_label)
        content.addWidget(_section("Elsewhere", self.content))
        self.places_label = QLabel(self.content)
        self.places_label.setWordWrap(True)
        self.places_label.setOpenExternalLinks(True)
        self.places_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        content.addWidget(self.places_label)
        content.addStretch(1)
        layout.addWidget(self.content)
        layout.addStretch(1)
        self.setWidget(body)
        self.content.hide()

        for edit, field in ((self.title, "title"), (self.company, "company"),
                            (self.location, "location"), (self.url, "url"),
                            (self.next_action_note, "next_action_note")):
            edit.editingFinished.connect(lambda e=edit, f=field: self._save(f, e.text().strip()))
        for choice, field in ((self.applied_on, "applied_on"), (self.deadline, "deadline"),
                              (self.next_action_on, "next_action_on")):
            choice.changed.connect(lambda c=choice, f=field: self._save(f, c.value()))
        self.status.activated.connect(
            lambda _i: self._save("status", self.status.currentData()))
        self.repository.job_changed.connect(self._on_changed)
        self.repository.job_removed.connect(self._on_removed)

    def _buddy(self, text: str, widget: QWidget) -> QLabel:
        label = QLabel(text, self.content)
        label.setBuddy(widget)
        return label

    def set_sources(self, documents: Any = None) -> None:
        """Document uploads (once the event hub runs) show where each copy lives."""
        self.documents = documents

    # -- showing ------------------------------------------------------------------------------------
    def show_job(self, job_id: int | None, selected: int = 1) -> None:
        """Show ``job_id`` (None: nothing or several selected)."""
        self._commit_notes()
        job = self.repository.get(job_id) if job_id is not None else None
        self.job = job
        self.content.setVisible(job is not None)
        self.placeholder.setVisible(job is None)
        if job is None:
            self.placeholder.setText(f"{selected:,} jobs selected." if selected > 1
                                     else NOTHING_SELECTED)
            return
        self._fill(job)

    def _fill(self, job: dict[str, Any]) -> None:
        self._loading = True
        self.problem.hide()
        self.heading.setText(job["title"])
        where = [job.get("company") or "", job.get("location") or "",
                 "Remote" if job.get("remote") else ""]
        self.subheading.setText(" · ".join(w for w in where if w))
        targets = self.targets()
        marks = []
        excluded = targets.excluded_word(job)
        if excluded:
            marks.append(f"⚠ Contains “{excluded}”, one of your excluded keywords.")
        elif targets.matches(job):
            marks.append("★ Matches your job-search targets.")
        self.marks.setText("\n".join(marks))
        self.marks.setVisible(bool(marks))
        url = job.get("url") or ""
        self.posting.setText(f'<a href="{html.escape(url, quote=True)}">Open the posting</a>'
                             if url else "")
        self.posting.setVisible(bool(url))
        for edit, field in ((self.title, "title"), (self.company, "company"),
                            (self.location, "location"), (self.url, "url"),
                            (self.next_action_note, "next_action_note")):
            if not edit.hasFocus() or edit.text().strip() == (job.get(field) or ""):
                edit.setText(job.get(field) or "")
                edit.setCursorPosition(0)       # the start of a long address, not its end
        self.status.clear()
        allowed = self.repository.allowed_statuses(job["id"])
        for status in statuses.STATUSES:
            if status == job["status"] or status in allowed:
                self.status.addItem(statuses.label(status), status)
        self.status.setCurrentIndex(max(0, self.status.findData(job["status"])))
        self.applied_on.set_value(job.get("applied_on"))
        self.deadline.set_value(job.get("deadline"))
        self.next_action_on.set_value(job.get("next_action_on"))
        self.interview.setText(interview_text(job) or "None scheduled")
        if not self.notes.hasFocus():
            self.notes.setPlainText(job.get("notes") or "")
        self.timeline.setText("\n".join(
            f"{_moment_text(entry['at'])} — {statuses.label(entry['status'])}"
            for entry in reversed(job.get("status_history") or [])) or "No changes yet.")
        self._fill_documents(job["id"])
        self._fill_places(job["id"])
        self._loading = False

    def _fill_documents(self, job_id: int) -> None:
        if self.documents is not None:
            from peregrine_desktop.ui.pipeline.documents_panel import copy_html   # same lines
            lines = []
            for status in self.documents.statuses(job_id):
                lines.append(f"<b>{html.escape(status.document.name)}</b>")
                lines.extend(f"&nbsp;&nbsp;{copy_html(copy)}" for copy in status.copies)
            text = "<br>".join(lines)
        else:
            text = "<br>".join(f"<b>{html.escape(document.name)}</b>" for document in
                               JobDocuments(self.repository.store).list_for_job(job_id))
        self.documents_label.setText(text or "None attached (Edit… → Documents to add one).")

    def _fill_places(self, job_id: int) -> None:
        lines = []
        for place in remote_places(self.repository.store, job_id):
            text = html.escape(place.text)
            shown = f'<a href="{html.escape(place.url, quote=True)}">{text}</a>' if place.url \
                else text
            lines.append(f"{html.escape(place.what)} in {html.escape(place.integration)}: "
                         f"{shown}")
        self.places_label.setText("<br>".join(lines) or "Only here so far: no tracker, "
                                  "calendar or store has it yet.")

    # -- saving -------------------------------------------------------------------------------------
    def _save(self, field: str, value: Any) -> None:
        if self._loading or self.job is None:
            return
        current = self.job.get(field)
        if (current or None) == (value or None):
            return
        try:
            job = self.editor.edit(self.job["id"], {field: value})
        except StoreError as exc:
            self.problem.setText(str(exc))
            self.problem.show()
            return
        self.problem.hide()
        self.message.emit(f"Saved “{job['title']}”.")

    def _commit_notes(self) -> None:
        if self.job is not None and not self._loading:
            text = self.notes.toPlainText().strip()
            if text != (self.job.get("notes") or ""):
                self._save("notes", text)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self.notes and event.type() == QEvent.Type.FocusOut:
            self._commit_notes()
        return super().eventFilter(watched, event)

    def _on_changed(self, new: dict[str, Any], _old: dict[str, Any]) -> None:
        if self.job is not None and new["id"] == self.job["id"]:
            self.job = self.repository.get(new["id"])
            if self.job is not None:
                self._fill(self.job)

    def _on_removed(self, job: dict[str, Any]) -> None:
        if self.job is not None and job["id"] == self.job["id"]:
            self.job = None
            self.show_job(None)
