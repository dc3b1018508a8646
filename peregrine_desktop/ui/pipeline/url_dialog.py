"""UrlImportDialog: paste a posting's address, let the page be read in the background, review the
filled-in form, save.  Nothing is stored until the user presses Save."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSize
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QMessageBox, QPushButton, QVBoxLayout, QWidget)

from peregrine_desktop.jobs.page_fetch import PageFetch
from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import StoreError
from peregrine_desktop.jobs.targets import Targets
from peregrine_desktop.jobs.url_import import PostingDraft, PostingFetchError, fetch_posting
from peregrine_desktop.ui.fields import url_problem
from peregrine_desktop.ui.pipeline.job_form import JobForm, fitting_size, scrolling
from peregrine_desktop.ui.plain_text import message_box, plain_label
from peregrine_desktop.workers import TaskRunner
from peregrine_desktop.ui import colours
from peregrine_desktop.ui.colours import text_style


class UrlImportDialog(QDialog):
    def __init__(self, repository: JobRepository, url: str = "",
                 fetch_timeout: float | tuple[float, float] = (5.0, 15.0),
                 fetch_deadline: float = 30.0, parent: QWidget | None = None, *,
                 targets: Targets | None = None,
                 add: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
        super().__init__(parent)
        #: The person's targets: a posting with an excluded keyword is questioned before Save.
        self.targets = targets or Targets()
        self._add = add or repository.add_job
        self.setWindowTitle("Import a job from its posting")
        self.repository = repository
        self.fetch_timeout = fetch_timeout
        self.fetch_deadline = fetch_deadline
        #: The download in flight; cancelled (its socket shut) by Cancel, a new fetch or closing.
        self.page_fetch: PageFetch | None = None
        self.saved_job: dict | None = None
        self.runner = TaskRunner(self)

        self.url_edit = QLineEdit(url, self)
        self.url_edit.setPlaceholderText("Paste the posting's address: https://…")
        self.url_edit.returnPressed.connect(self.fetch)
        self.fetch_button = QPushButton("Fetc&h", self)
        self.fetch_button.clicked.connect(self.fetch)
        url_row = QHBoxLayout()
        url_row.addWidget(self.url_edit, 1)
        url_row.addWidget(self.fetch_button)
        self.status_label = plain_label(
            "The page is read on this computer; the details fill in below for you to check.",
            self)
        self.status_label.setWordWrap(True)
        self.form = JobForm(self)
        self.form.setEnabled(False)
        self.fields = scrolling(self.form, self)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setEnabled(False)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.form.changed.connect(self._refresh_save)

        layout = QVBoxLayout(self)
        layout.addLayout(self._address_rows(url_row))
        layout.addWidget(self.fields, 1)
        layout.addWidget(self.buttons)
        self.resize(fitting_size(self, QSize(640, 700), parent))

    def _address_rows(self, url_row: QHBoxLayout) -> QFormLayout:
        """The address and the status line as rows lined up with the form's own columns."""
        rows = QFormLayout()
        inner = self.form.layout()
        margins = inner.contentsMargins()
        rows.setContentsMargins(margins.left(), 0, margins.right(), 0)
        rows.setLabelAlignment(inner.labelAlignment())
        rows.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.url_label = QLabel("&Web address", self)
        self.url_label.setBuddy(self.url_edit)
        width = max(self.form.label_width(), self.url_label.sizeHint().width())
        self.url_label.setMinimumWidth(width)
        self.form.widen_labels(width)
        rows.addRow(self.url_label, url_row)
        rows.addRow("", self.status_label)
        return rows

    def _say(self, text: str, error: bool = False) -> None:
        self.status_label.setStyleSheet(text_style(colours.PROBLEM if error else None))
        self.status_label.setText(text)

    def fetch(self) -> None:
        url = self.url_edit.text().strip()
        problem = url_problem(url) if url else "Paste the posting's web address first."
        if problem:
            self._say(problem, error=True)
            return
        existing = self.repository.find_by_url(url)
        if existing:
            self._say(f"You already have this job: “{existing['title']}”"
                      f"{' at ' + existing['company'] if existing['company'] else ''}.",
                      error=True)
            return
        self.fetch_button.setEnabled(False)
        self.form.setEnabled(False)
        self.save_button.setEnabled(False)
        self._say("Reading the page…")
        self.stop_fetch()
        connect, read = self.fetch_timeout if isinstance(self.fetch_timeout, tuple) else \
            (self.fetch_timeout, self.fetch_timeout)
        self.page_fetch = PageFetch(deadline=self.fetch_deadline, connect_timeout=connect,
                                    read_timeout=read)
        self.runner.start(fetch_posting, url, fetch=self.page_fetch, key="fetch", lane="network",
                          on_success=self._fetched, on_failure=self._failed)

    def stop_fetch(self) -> None:
        """Close the connection of a fetch in flight and drop its result."""
        if self.page_fetch is not None:
            self.page_fetch.cancel()
            self.page_fetch = None
        self.runner.invalidate("fetch")

    def done(self, result: int) -> None:  # Cancel, Escape, closing, Save: nothing left running
        self.stop_fetch()
        super().done(result)

    def _fetched(self, draft: PostingDraft) -> None:
        self.page_fetch = None
        self.fetch_button.setEnabled(True)
        self.form.set_values(draft.values)
        self.form.setEnabled(True)
        word = self.targets.excluded_word(self.form.values())
        if word:
            self._say(f"{draft.message} It contains “{word}”, one of your excluded keywords.",
                      error=True)
        else:
            self._say(draft.message)
        self._refresh_save()
        self.form.title.setFocus()

    def _failed(self, error: BaseException) -> None:
        self.page_fetch = None
        self.fetch_button.setEnabled(True)
        message = str(error) if isinstance(error, PostingFetchError) else \
            "The page could not be read. Fill in the details by hand, or try again."
        self._say(message + " You can also fill in the details below by hand.", error=True)
        if not self.form.url.text():
            self.form.url.setText(self.url_edit.text().strip())
        self.form.setEnabled(True)
        self._refresh_save()

    def _refresh_save(self) -> None:
        self.save_button.setEnabled(self.form.isEnabled() and bool(self.form.title.text().strip()))

    def save(self) -> None:
        wrong = self.form.mark_problems()
        if wrong is not None:
            self.fields.ensureWidgetVisible(wrong)
            wrong.setFocus()
            return
        values = self.form.values()
        word = self.targets.excluded_word(values)
        if word and not self._add_anyway(word):
            return
        try:
            self.saved_job = self._add(values)
        except StoreError as exc:
            self.form.show_problem(str(exc))
            return
        self.accept()

    def _add_anyway(self, word: str) -> bool:
        box = message_box(self, QMessageBox.Icon.Warning, "Excluded keyword",
                          f"This posting contains “{word}”, one of the keywords you excluded.",
                          "Add it to your pipeline anyway?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                          QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Yes).setText("Add anyway")
        box.exec()
        return box.standardButton(box.clickedButton()) == QMessageBox.StandardButton.Yes
