"""Undoable pipeline changes: every edit, move, board drag, import and delete goes through
:class:`PipelineEditor`, which does it and pushes a command onto a ``QUndoStack``.

A command holds each job as it was before and after (``None``: the job did not exist), as the
store returns them, history included.  Undo and redo put one side back exactly through
:meth:`JobRepository.restore_jobs` (deleted jobs return with their id, uid, history and
documents) or delete what did not exist — so an undone move leaves no trace in the history.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtGui import QUndoCommand, QUndoStack

from peregrine_desktop.jobs import statuses
from peregrine_desktop.jobs.repository import JobRepository

Snapshot = dict[int, "dict[str, Any] | None"]


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


class SnapshotCommand(QUndoCommand):
    """Undo puts ``before`` back; redo puts ``after`` back.  The change itself was already made
    when the command is pushed, so the first redo does nothing."""

    def __init__(self, repository: JobRepository, text: str, before: Snapshot,
                 after: Snapshot) -> None:
        super().__init__(text)
        self.repository = repository
        self.before, self.after = before, after
        self._done = True

    def _apply(self, state: Snapshot) -> None:
        gone = [job_id for job_id, job in state.items()
                if job is None and self.repository.store.get(job_id, with_history=False)]
        if gone:
            removed = self.repository.delete_many(gone)
            # A redo must bring back what the delete took along (documents…).
            for job in removed:
                other = self.after if state is self.before else self.before
                if other.get(job["id"]) is not None:
                    other[job["id"]]["dependents"] = job.get("dependents") or []
        back = [job for job in state.values() if job is not None]
        if back:
            self.repository.restore_jobs(back)

    def undo(self) -> None:
        self._apply(self.before)

    def redo(self) -> None:
        if self._done:
            self._done = False
            return
        self._apply(self.after)


class PipelineEditor:
    """Makes pipeline changes and records them for undo.  Each method raises what the store
    raises (``StoreError``) before anything is recorded."""

    def __init__(self, repository: JobRepository, stack: QUndoStack) -> None:
        self.repository = repository
        self.stack = stack
        self._quiet_imports = 0
        repository.jobs_imported.connect(self._imported)

    def _push(self, text: str, before: Snapshot, after: Snapshot) -> None:
        if before != after:
            self.stack.push(SnapshotCommand(self.repository, text, before, after))

    def add(self, values: Mapping[str, Any]) -> dict[str, Any]:
        job = self.repository.add_job(values)
        self._push(f"Add “{job['title']}”", {job["id"]: None}, {job["id"]: job})
        return job

    def edit(self, job_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        before = self.repository.get(job_id)
        job = self.repository.update_job(job_id, changes)
        if before is not None:
            self._push(f"Edit “{job['title']}”", {job_id: before}, {job_id: job})
        return job

    def move(self, ids: Sequence[int], status: str) -> tuple[list[int], list[tuple[int, str]]]:
        """Move jobs to ``status`` (one step to undo); returns (moved ids, (id, reason) refused)."""
        before = {job["id"]: job for job in self.repository.get_many(ids)}
        refused = self.repository.set_status_many(ids, status)
        refused_ids = {job_id for job_id, _reason in refused}
        after = {job["id"]: job for job in self.repository.get_many(
            [i for i in ids if i not in refused_ids])}
        moved = [i for i in after if after[i]["status_history"] != before[i]["status_history"]]
        if moved:
            label = statuses.label(status)
            text = (f"Move “{after[moved[0]]['title']}” to {label}" if len(moved) == 1
                    else f"Move {_plural(len(moved), 'job')} to {label}")
            self._push(text, {i: before[i] for i in moved}, {i: after[i] for i in moved})
        return moved, refused

    def delete(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        removed = self.repository.delete_many(ids)
        if removed:
            text = (f"Delete “{removed[0]['title']}”" if len(removed) == 1
                    else f"Delete {_plural(len(removed), 'job')}")
            self._push(text, {job["id"]: job for job in removed},
                       {job["id"]: None for job in removed})
        return removed

    def _imported(self, ids: list[int]) -> None:
        """An import finished (CSV, or any bulk add): one step that removes what it added."""
        if not ids:
            return
        after = {job["id"]: job for job in self.repository.get_many(ids)}
        self._push(f"Import {_plural(len(after), 'job')}", dict.fromkeys(after), after)
