"""JobDialog: add a job by hand, or edit one; the store's verdict is shown in the dialog.

Editing a job with document storage running adds a Documents tab (its changes apply at once).
The fields scroll when the screen is short (an 800×600 screen holds the dialog whole)."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTabWidget, QVBoxLayout, QWidget

from peregrine_desktop.jobs.store import StoreError
from peregrine_desktop.ui.dialog_keys import confirm_discard
from peregrine_desktop.ui.pipeline.job_form import JobForm, fitting_size, scrolling

if TYPE_CHECKING:  # pragma: no cover
    from peregrine_desktop.events.documents import DocumentUploads


class JobDialog(QDialog):
    """Calls ``save(values)`` on Save; closes only when it succeeds (its error stays visible).

    Escape, Cancel or closing the window asks before edited details are thrown away."""

    def __init__(self, save: Callable[[dict[str, Any]], Any], job: dict[str, Any] | None = None,
                 allowed_statuses: list[str] | None = None,
                 parent: QWidget | None = None,
                 documents: "DocumentUploads | None" = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit job" if job else "Add job")
        self.job = job
        self._save = save
        self.form = JobForm(self)
        if job:
            self.form.set_status_choices(allowed_statuses or [], job["status"])
            self.form.set_values(job)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.buttons.accepted.connect(self.try_save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        self.tabs = self.documents_panel = None
        self.fields = fields = scrolling(self.form, self)
        if job and documents is not None:
            from peregrine_desktop.ui.pipeline.documents_panel import DocumentsPanel

            self.documents_panel = DocumentsPanel(documents, job["id"], self)
            self.tabs = QTabWidget(self)
            self.tabs.addTab(fields, "Details")
            self.tabs.addTab(self.documents_panel, "Documents")
            layout.addWidget(self.tabs)
        else:
            layout.addWidget(fields)
        layout.addWidget(self.buttons)
        self.form.changed.connect(lambda: self.form.show_problem(None))
        self.resize(fitting_size(self, QSize(620, 640), parent))
        self.form.title.setFocus()
        self._unedited = self.form.values()

    def has_unsaved_changes(self) -> bool:
        """The details differ from what the dialog opened with (documents apply at once)."""
        return self.form.values() != self._unedited

    def reject(self) -> None:
        if self.has_unsaved_changes() and not confirm_discard(self):
            return
        super().reject()

    def try_save(self) -> None:
        wrong = self.form.mark_problems()
        if wrong is not None:
            self._reveal(wrong)
            wrong.setFocus()
            return
        try:
            self._save(self.form.values())
        except StoreError as exc:
            self.form.show_problem(str(exc))
            self._reveal(self.form.problem_label)
            return
        self.accept()

    def _reveal(self, widget: QWidget) -> None:
        """The Details tab, scrolled to ``widget`` (on a short screen it may be out of view)."""
        if self.tabs is not None:
            self.tabs.setCurrentIndex(0)
        self.form.layout().activate()
        self.fields.ensureWidgetVisible(widget)
