"""DocumentsPanel: a job's documents in the job dialog, with where each store keeps its copy.

Requests (attach, replace, upload again, remove) go to :class:`DocumentUploads`, which hashes on
the worker pool; the panel redraws when it hears ``documents_changed`` for its job.
"""
from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (QFileDialog, QFrame, QHBoxLayout, QLabel, QLineEdit, QMessageBox,
                               QPushButton, QScrollArea, QSizePolicy, QVBoxLayout, QWidget)

from peregrine_desktop.events.documents import CopyStatus, DocumentStatus, DocumentUploads
from peregrine_desktop.ui.plain_text import ask, tooltip

INTRO = ("Résumés, cover letters or any file for this job. Each is copied to every connected "
         "store, into <folder>/<Company>/<Job title>/; a file is sent again only when its "
         "content changed.")
NO_DOCUMENTS = ("No documents yet: type a file's path above, choose one with Browse…, or drop "
                "files here.")
NO_STORES = ("No document store is connected. Connect Nextcloud, Dropbox, Google Drive, "
             "OneDrive or MEGA in Settings → Integrations to keep copies there.")
_DRAG_EVENTS = (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop)
_STATE_MARK = {"stored": "✓", "waiting": "…", "failed": "✗"}
#: Where a path, link or file name may wrap: a long one without spaces would otherwise widen
#: the row past the tab and cut its buttons off at the right.
_BREAK_AFTER = str.maketrans({c: c + "\u200b" for c in "/\\?&=_+"})


def size_text(size: int) -> str:
    """"512 bytes", "12 KB", "3.4 MB"."""
    if size < 1024:
        return f"{size} byte{'' if size == 1 else 's'}"
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if size >= 10 else f"{size:.1f} {unit}"
    return f"{size} bytes"


def when_text(stamp: str) -> str:
    """An ISO UTC stamp as local "14 Mar 2026, 15:04"."""
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%d %b %Y, %H:%M")
    except ValueError:
        return stamp


def shorten_middle(text: str, limit: int = 120) -> str:
    """``text`` cut in the middle, keeping more of the end (where the folder and file are)."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 3
    return text[:head] + "…" + text[-(limit - 1 - head):]


def breakable(text: str) -> str:
    """``text`` with invisible break points after separators, for labels that wrap (shown
    text only: a link's address and a copied selection keep the real characters)."""
    return text.translate(_BREAK_AFTER)


def copy_html(copy: CopyStatus) -> str:
    """One store's line: "✓ Nextcloud: <link>", "… Dropbox: waiting — why"."""
    name = f"{_STATE_MARK.get(copy.state, '')} <b>{html.escape(copy.label)}</b>"
    location = ""
    if copy.location:
        readable = unquote(copy.location).removeprefix("https://").removeprefix("http://")
        shown = html.escape(breakable(shorten_middle(readable)))
        location = (f'<a href="{html.escape(copy.location, quote=True)}">{shown}</a>'
                    if copy.location.startswith(("http://", "https://")) else shown)
    if copy.state == "stored":
        return f"{name}: {location}"
    if copy.state == "failed":
        reason = html.escape(copy.problem or "Not uploaded.")
        older = f"<br>An older copy: {location}" if location else ""
        return f"{name}: not uploaded — {reason} Use Upload again to retry.{older}"
    why = f" — {html.escape(copy.problem)}" if copy.problem else ""
    older = f"<br>Until then, the older copy: {location}" if location else ""
    return f"{name}: waiting to upload{why}{older}"


class DocumentRow(QFrame):
    """One document: its name, size and file, its copies, and what can be done with it."""

    def __init__(self, status: DocumentStatus, panel: "DocumentsPanel") -> None:
        super().__init__(panel)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.status = status
        document = status.document
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)
        header = QHBoxLayout()
        self.name_label = QLabel(f"<b>{html.escape(breakable(document.name))}</b>", self)
        self.name_label.setWordWrap(True)
        self.name_label.setToolTip(tooltip(document.name))
        self.details_label = QLabel(f"{size_text(document.size)} · updated "
                                    f"{when_text(document.updated_at)}", self)
        self.details_label.setEnabled(False)    # the palette's quieter text
        header.addWidget(self.name_label, 1)
        header.addWidget(self.details_label, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(header)
        # The buttons get a row of their own: beside a long name they were squeezed to "R…".
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.replace_button = QPushButton("Replace…", self)
        self.again_button = QPushButton("Upload again", self)
        self.remove_button = QPushButton("Remove", self)
        self.again_button.setToolTip("Read the file again and send it to every store; a store "
                                     "that already has this content keeps it.")
        self.again_button.setEnabled(not status.file_missing)
        # Uploading again means something only with a store to upload to.
        self.again_button.setVisible(panel.has_stores)
        for button in (self.replace_button, self.again_button, self.remove_button):
            button.setMinimumWidth(button.sizeHint().width())
            buttons.addWidget(button)
        path = str(document.local_path)
        if status.file_missing:
            self.path_label = QLabel(f"The file is no longer at {breakable(path)}; use Replace… "
                                     f"to choose where it is now.", self)
            self.path_label.setStyleSheet("color: palette(link-visited);")
        else:
            self.path_label = QLabel(f"On this computer: {breakable(shorten_middle(path, 90))}",
                                     self)
            self.path_label.setEnabled(False)
        self.path_label.setTextFormat(Qt.TextFormat.PlainText)
        self.path_label.setToolTip(tooltip(path))
        self.path_label.setWordWrap(True)
        layout.addWidget(self.path_label)
        layout.addLayout(buttons)
        self.copy_labels: list[QLabel] = []
        for copy in status.copies:
            label = QLabel(copy_html(copy), self)
            label.setWordWrap(True)
            label.setOpenExternalLinks(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
            label.setToolTip(copy.location or copy.problem)
            layout.addWidget(label)
            self.copy_labels.append(label)
        self.replace_button.clicked.connect(lambda: panel.replace(document.id))
        self.again_button.clicked.connect(lambda: panel.upload_again(document.id))
        self.remove_button.clicked.connect(lambda: panel.remove(document.id, document.name))


class DocumentsPanel(QWidget):
    """The Documents tab of an existing job.  ``choose_file(title)`` asks for a file (a file
    dialog; tests replace it) and returns its path or None."""

    def __init__(self, uploads: DocumentUploads, job_id: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.uploads = uploads
        self.job_id = job_id
        self.rows: list[DocumentRow] = []
        self._busy = ""
        self.has_stores = bool(uploads.connected_stores())
        self.setAcceptDrops(True)       # files dropped from a file manager are attached
        layout = QVBoxLayout(self)
        intro = QLabel(INTRO, self)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        attach_row = QHBoxLayout()
        self.path_edit = QLineEdit(self)
        self.path_edit.setPlaceholderText("Path of a file to attach")
        self.path_edit.setClearButtonEnabled(True)
        self.browse_button = QPushButton("Browse…", self)
        self.attach_button = QPushButton("Attach", self)
        self.attach_button.setEnabled(False)
        attach_row.addWidget(self.path_edit, 1)
        attach_row.addWidget(self.browse_button)
        attach_row.addWidget(self.attach_button)
        layout.addLayout(attach_row)
        self.message_label = QLabel("", self)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        self.message_label.setWordWrap(True)
        self.message_label.hide()
        layout.addWidget(self.message_label)
        self.stores_label = QLabel(NO_STORES, self)
        self.stores_label.setWordWrap(True)
        layout.addWidget(self.stores_label)

        self.list_widget = QWidget(self)
        self.list_layout = QVBoxLayout(self.list_widget)
        self.list_layout.setContentsMargins(0, 0, 0, 0)
        self.empty_label = QLabel(NO_DOCUMENTS, self.list_widget)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setSizePolicy(QSizePolicy.Policy.Preferred,
                                       QSizePolicy.Policy.Minimum)
        self.list_layout.addWidget(self.empty_label)
        self.list_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.list_widget)
        scroll.viewport().setAutoFillBackground(False)   # the tab's own background
        self.list_widget.setAutoFillBackground(False)
        layout.addWidget(scroll, 1)

        self.path_edit.textChanged.connect(
            lambda text: self.attach_button.setEnabled(bool(text.strip())))
        # Enter in the path field attaches and goes no further: it must not press the
        # dialog's default button (Save) and close it.
        self.path_edit.installEventFilter(self)
        self.attach_button.clicked.connect(self.attach_typed)
        self.browse_button.clicked.connect(self.browse)
        uploads.documents_changed.connect(self._on_documents_changed)
        uploads.problem.connect(self._on_problem)
        uploads.hub.outbox_changed.connect(self.refresh)
        self.refresh()
        uploads.start_refresh(job_id)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        if watched is self.path_edit and event.type() == QEvent.Type.KeyPress \
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.attach_typed()
            return True
        # A file dropped on the path field is attached like one dropped anywhere on the tab
        # (the field itself would paste its "file://" address as text).
        if watched is self.path_edit and event.type() in _DRAG_EVENTS \
                and self._dropped_files(event):
            if event.type() == QEvent.Type.Drop:
                self.dropEvent(event)
            else:
                event.acceptProposedAction()
            return True
        return super().eventFilter(watched, event)

    # -- drag and drop ------------------------------------------------------------------------------
    @staticmethod
    def _dropped_files(event) -> list[Path]:
        mime = event.mimeData()
        if mime is None or not mime.hasUrls():
            return []
        return [Path(url.toLocalFile()) for url in mime.urls()
                if url.isLocalFile() and Path(url.toLocalFile()).is_file()]

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self._dropped_files(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        files = self._dropped_files(event)
        if not files:
            event.ignore()
            return
        event.acceptProposedAction()
        for path in files:
            self._working(f"Reading {path.name}…")
            self.uploads.start_attach(self.job_id, path)

    # -- file choice (replaceable in tests) ---------------------------------------------------------
    def choose_file(self, title: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, title, str(Path.home()))
        return path or None

    # -- actions ------------------------------------------------------------------------------------
    def browse(self) -> None:
        path = self.choose_file("Attach a document")
        if path:
            self.path_edit.setText(path)
            self.attach_typed()

    def attach_typed(self) -> None:
        text = self.path_edit.text().strip().strip('"')
        if not text:
            return
        path = Path(text).expanduser()
        if not path.is_absolute():
            self._say(f"Type the file's full path (starting with {Path.home().anchor}).")
            return
        self._working(f"Reading {path.name}…")
        self.uploads.start_attach(self.job_id, path)
        self.path_edit.clear()

    def replace(self, document_id: int) -> None:
        path = self.choose_file("Replace the document with")
        if path:
            self._working(f"Reading {Path(path).name}…")
            self.uploads.start_replace(document_id, path)

    def upload_again(self, document_id: int) -> None:
        self._working("Reading the file again…")
        self.uploads.start_upload_again(document_id)

    def remove(self, document_id: int, name: str) -> None:
        answer = ask(
            self, "Remove document",
            f"Remove {name} from this job? The copies already in your stores are kept.")
        if answer == QMessageBox.StandardButton.Yes:
            self.uploads.remove(document_id)

    # -- showing ------------------------------------------------------------------------------------
    def _working(self, text: str) -> None:
        self._busy = text
        self._say(text, problem=False)

    def _say(self, text: str, problem: bool = True) -> None:
        self.message_label.setText(text)
        self.message_label.setStyleSheet("color: #b3261e;" if problem else "")
        self.message_label.setVisible(bool(text))

    def _on_documents_changed(self, job_id: int) -> None:
        if job_id != self.job_id:
            return
        if self._busy:
            self._busy = ""
            self._say("")
        self.refresh()

    def _on_problem(self, job_id: int, message: str) -> None:
        if job_id == self.job_id:
            self._busy = ""
            self._say(message)

    def refresh(self) -> None:
        self.has_stores = bool(self.uploads.connected_stores())
        statuses = self.uploads.statuses(self.job_id)
        for row in self.rows:
            self.list_layout.removeWidget(row)
            row.hide()          # deleted later; never painted again meanwhile
            row.deleteLater()
        self.rows = [DocumentRow(status, self) for status in statuses]
        for index, row in enumerate(self.rows):
            self.list_layout.insertWidget(index, row)
            row.show()      # now, not on the next event-loop pass
        self.empty_label.setVisible(not self.rows)
        self.stores_label.setVisible(not self.has_stores)
