"""Job documents on the one event path: attaching or changing a document publishes a
``document_changed`` event; :func:`document_deliveries` turns it into one ``upload_document``
delivery per connected store; the outbox sends them on the pool, retrying while a store is down;
:class:`DocumentUploads` writes where each copy arrived (or why not yet) into the job database.

A delivery's payload names the document's revision, so publishing the same revision again (the
dialog opening, a replay after a crash) queues nothing new, while a changed file or "Upload
again" is a new revision and one new upload per store.  The stores themselves also skip content
they already hold.

Wiring (main window, once the hub runs)::

    pipeline.documents = DocumentUploads(hub, parent=window)
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from peregrine_sdk.capabilities import DocumentUpload
from peregrine_desktop.events.hub import EventHub
from peregrine_desktop.events.outbox import DELIVERED, FAILED, WAITING, Delivery
from peregrine_desktop.events.pipeline import PipelineEvent, job_phrase
from peregrine_desktop.jobs.documents import (DocumentError, FileFacts, JobDocument,
                                              JobDocuments, looks_unchanged, measure)
from peregrine_desktop.jobs.store import StoreError
from peregrine_desktop.workers import TaskRunner
from peregrine_desktop.settings import paths

log = logging.getLogger(__name__)

DOCUMENT_CHANGED = "document_changed"
UPLOAD = "upload_document"


def job_folder(job: dict[str, Any]) -> list[str]:
    """``[Company, Job title]``: the folder below each store's root (made safe by the store)."""
    return [str(job.get("company") or ""), str(job.get("title") or "")]


def document_deliveries(event: PipelineEvent, hub: EventHub) -> list[Delivery]:
    """One upload of the document's current revision per connected store (or the stores named
    in ``data["integrations"]``)."""
    if event.kind != DOCUMENT_CHANGED:
        return []
    document: JobDocument = event.data["document"]
    only = event.data.get("integrations")
    payload = {"document_id": document.id, "revision": document.revision,
               "local_path": str(document.local_path), "folder": job_folder(dict(event.job)),
               "sha256": document.sha256}
    return [Delivery(target.name, event.job_id, DOCUMENT_CHANGED, UPLOAD, payload,
                     f"the document {document.name} for {job_phrase(event.job)}")
            for target in hub.targets(DocumentUpload) if only is None or target.name in only]


@dataclass(frozen=True)
class CopyStatus:
    """One store's copy of one document, as the job dialog shows it."""

    integration: str
    label: str
    state: str            # "stored", "waiting" or "failed"
    location: str = ""    # where the latest (or, while waiting, an older) copy lives
    problem: str = ""     # why the latest revision has not arrived yet


@dataclass(frozen=True)
class DocumentStatus:
    document: JobDocument
    copies: list[CopyStatus]
    file_missing: bool


class DocumentUploads(QObject):
    """Attaches, replaces and removes a job's documents and keeps their copies in every store.

    File hashing runs on the worker pool; results and database writes happen on the UI thread.
    ``documents_changed(job_id)`` fires when a job's documents or copies changed;
    ``problem(job_id, message)`` when a request could not be done (file gone, name taken).
    """

    documents_changed = Signal(int)
    problem = Signal(int, str)

    def __init__(self, hub: EventHub, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.hub = hub
        self.documents = JobDocuments(hub.repository.store)
        self.runner = TaskRunner(self)
        if document_deliveries not in hub.subscribers:
            hub.subscribe(document_deliveries)
        hub.delivered.connect(self._on_delivered)
        hub.scheduler.batch_finished.connect(self._on_batch_finished)
        self.reconcile()

    # -- reading --------------------------------------------------------------------------------
    def connected_stores(self) -> list[str]:
        """Labels of the connected stores a document goes to."""
        return [target.label for target in self.hub.targets(DocumentUpload)]

    def statuses(self, job_id: int) -> list[DocumentStatus]:
        """Each document of the job with, per connected store (and any store that holds a copy),
        where its copy lives or why it is not there yet."""
        targets = {t.name: t.label for t in self.hub.targets(DocumentUpload)}
        found = []
        for document in self.documents.list_for_job(job_id):
            names = list(targets) + sorted(set(document.copies) - set(targets))
            copies = [self._copy_status(document, name, targets.get(name)) for name in names]
            found.append(DocumentStatus(document, copies, not document.local_path.is_file()))
        return found

    def _copy_status(self, document: JobDocument, name: str, label: str | None) -> CopyStatus:
        copy = document.copies.get(name)
        shown = label or f"{self._label(name)} (not connected)"
        if document.is_stored_at(name):
            return CopyStatus(name, shown, "stored", copy.location)
        location = copy.location if copy else ""
        if label is None:
            return CopyStatus(name, shown, "stored" if location else "failed", location,
                              "" if location else "Not connected in Settings → Integrations.")
        if copy and copy.error and copy.error_revision >= document.revision:
            return CopyStatus(name, shown, "failed" if copy.gave_up else "waiting", location,
                              copy.error)
        return CopyStatus(name, shown, "waiting", location)

    def _label(self, name: str) -> str:
        import integrations

        registry = integrations.REGISTRY if self.hub.registry is None else self.hub.registry
        cls = registry.get(name)
        return cls.label if cls is not None else name

    # -- requests from the dialog (UI thread) -----------------------------------------------------
    def start_attach(self, job_id: int, path: Path | str) -> None:
        """Hash ``path`` on a worker, then attach it and queue its uploads."""
        path = Path(path).expanduser()
        self._measure(job_id, path, f"attach-{job_id}-{path}",
                      lambda facts: self.documents.attach(job_id, path, facts))

    def start_replace(self, document_id: int, path: Path | str) -> None:
        path = Path(path).expanduser()
        document = self.documents.get(document_id)
        if document is None:
            return
        self._measure(document.job_id, path, f"replace-{document_id}",
                      lambda facts: self.documents.replace(document_id, path, facts))

    def start_upload_again(self, document_id: int) -> None:
        """Re-read the file and upload it again to every store (they skip what they hold)."""
        document = self.documents.get(document_id)
        if document is None:
            return
        self._measure(document.job_id, document.local_path, f"again-{document_id}",
                      lambda facts: self.documents.refresh(document_id, facts, force=True))

    def start_refresh(self, job_id: int) -> None:
        """The dialog opened: re-hash files that changed on disk, upload new content, and queue
        anything a store is still missing (a store connected since, a queue lost in a crash)."""
        stale = [(d.id, d.local_path) for d in self.documents.list_for_job(job_id)
                 if d.local_path.is_file() and not looks_unchanged(d.local_path, d.size, d.mtime)]

        def measure_all() -> list[tuple[int, FileFacts]]:
            results = []
            for document_id, path in stale:
                try:
                    results.append((document_id, measure(path)))
                except (OSError, DocumentError) as exc:
                    log.info("document %s not re-hashed: %s", path, exc)
            return results

        def done(results: list[tuple[int, FileFacts]]) -> None:
            for document_id, facts in results:
                try:
                    self.documents.refresh(document_id, facts)
                except DocumentError:
                    continue
            self.publish_job(job_id)

        self.runner.start(measure_all, key=f"refresh-{job_id}", on_success=done,
                          on_failure=lambda exc: self._failed(job_id, exc))

    def remove(self, document_id: int) -> None:
        """Forget the document; its uploads not yet made are cancelled, copies made stay."""
        try:
            document = self.documents.remove(document_id)
        except DocumentError:
            return
        waiting = [row["id"] for row in self.hub.outbox.rows(states=(WAITING,))
                   if row["action"] == UPLOAD
                   and row["payload"].get("document_id") == document_id]
        if waiting:
            self.hub.outbox.fail(waiting, "the document was removed from the job.")
            self.hub.outbox_changed.emit()
        self.documents_changed.emit(document.job_id)

    def publish_job(self, job_id: int) -> int:
        """Queue every document's current revision for the stores (nothing already queued is
        queued again); returns how many uploads were new."""
        job = self.hub.repository.get(job_id)
        if job is None:
            return 0
        # ``old`` is the job itself: to calendars and notifiers nothing about the job changed.
        events = [PipelineEvent(DOCUMENT_CHANGED, job, job, data={"document": d})
                  for d in self.documents.list_for_job(job_id)]
        added = self.hub.publish(events) if events else 0
        self.documents_changed.emit(job_id)
        return added

    def _measure(self, job_id: int, path: Path, key: str,
                 record: Callable[[FileFacts], tuple[JobDocument, bool]]) -> None:
        def done(facts: FileFacts) -> None:
            try:
                record(facts)
            except StoreError as exc:
                self.problem.emit(job_id, str(exc))
                return
            self.publish_job(job_id)

        self.runner.start(measure, path, key=key, on_success=done,
                          on_failure=lambda exc: self._failed(job_id, exc))

    def _failed(self, job_id: int, exc: BaseException) -> None:
        if isinstance(exc, DocumentError):
            message = str(exc)
        elif isinstance(exc, OSError):
            message = (f"The file could not be read ({exc.strerror or exc}); check that it "
                       f"exists and that you may open it.")
        else:
            log.error("document request failed: %r", exc)
            message = f"Something went wrong reading the file; {paths.see_the_log()}."
        self.problem.emit(job_id, message)

    # -- what the outbox reports ------------------------------------------------------------------
    def _on_delivered(self, row: dict[str, Any], result: str) -> None:
        if row.get("action") != UPLOAD:
            return
        payload = row["payload"]
        if self.documents.record_copy(int(payload["document_id"]), row["integration"],
                                      int(payload["revision"]), result, payload["sha256"]):
            self.documents_changed.emit(int(row["job_id"]))

    def _on_batch_finished(self, name: str) -> None:
        """Note why uploads to ``name`` are still waiting (or were given up)."""
        changed = set()
        for row in self.hub.outbox.rows(name, states=(WAITING, FAILED)):
            if row["action"] != UPLOAD or not row.get("error"):
                continue
            payload = row["payload"]
            if self.documents.record_problem(int(payload["document_id"]), name,
                                             int(payload["revision"]), row["error"],
                                             gave_up=row["state"] == FAILED):
                changed.add(int(row["job_id"]))
        for job_id in sorted(changed):
            self.documents_changed.emit(job_id)

    def reconcile(self) -> None:
        """Record copies the outbox delivered while nobody listened (the app closed or crashed
        between the upload and its note)."""
        for row in self.hub.outbox.rows(states=(DELIVERED,)):
            if row["action"] != UPLOAD:
                continue
            payload = row["payload"]
            self.documents.record_copy(int(payload["document_id"]), row["integration"],
                                       int(payload["revision"]), row["result"] or "",
                                       payload["sha256"])
