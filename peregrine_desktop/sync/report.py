"""SyncReport: what one sync (or dry run) of one integration did, job by job."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class FailedJob:
    """A job that was not synced, and the sentence that says why."""

    job_id: int
    title: str
    reason: str


@dataclass(frozen=True)
class PulledChange:
    """A field edited in the tracker and taken into the job: ``before`` → ``after``."""

    job_id: int
    field: str
    before: str
    after: str


@dataclass
class SyncReport:
    """Created / updated / unchanged job ids, and the failed ones with their reasons.

    In a dry run the lists say what *would* happen; nothing was written.  ``error`` is set when
    the whole integration stopped (bad token, database not shared); ``cancelled`` when the user
    stopped it, in which case ``not_synced`` counts the jobs left untouched.
    """

    integration: str
    label: str
    dry_run: bool = False
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    failed: list[FailedJob] = field(default_factory=list)
    titles: dict[int, str] = field(default_factory=dict)
    error: str = ""
    cancelled: bool = False
    not_synced: int = 0
    requests: int = 0
    started_at: datetime = field(default_factory=datetime.now)
    finished_at: datetime | None = None
    #: What came from the tracker: fields taken into jobs, and fields changed on both sides.
    pulled: list[PulledChange] = field(default_factory=list)
    conflicts: list[Any] = field(default_factory=list)          # state.Conflict
    #: Records that are not linked jobs: rows added there, another computer's jobs, linked
    #: records deleted there (job ids), jobs deleted here whose records wait for a choice.
    remote_new: list[Any] = field(default_factory=list)         # state.RemoteEntry
    foreign: list[Any] = field(default_factory=list)            # state.RemoteEntry
    remote_gone: list[int] = field(default_factory=list)
    deleted_here: list[Any] = field(default_factory=list)       # state.Tombstone
    imported: list[int] = field(default_factory=list)
    deleted_there: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: The jobs as a pull left them (new, old) and the jobs it added, to announce in the app.
    changed_jobs: list[tuple[dict, dict]] = field(default_factory=list)
    added_jobs: list[dict] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {"created": len(self.created), "updated": len(self.updated),
                "unchanged": len(self.unchanged), "failed": len(self.failed)}

    @property
    def taken_in(self) -> int:
        """Jobs changed or added from the tracker."""
        return len({c.job_id for c in self.pulled}) + len(self.imported)

    @property
    def writes(self) -> int:
        return len(self.created) + len(self.updated)

    def title_of(self, job_id: int) -> str:
        return self.titles.get(job_id, f"Job {job_id}")

    def fail(self, job_id: int, reason: str) -> None:
        self.failed.append(FailedJob(job_id, self.title_of(job_id), reason))

    def summary_line(self) -> str:
        """One line for people: "3 created · 1 updated · 996 unchanged · 0 failed"."""
        verbs = (("to create", "to update", "unchanged", "failed")
                 if self.dry_run else ("created", "updated", "unchanged", "failed"))
        counts = self.counts.values()
        line = " · ".join(f"{n} {verb}" for n, verb in zip(counts, verbs))
        pulled = self.taken_in
        if pulled:
            line += f" · {pulled} {'to take' if self.dry_run else 'taken'} from the tracker"
        if self.conflicts:
            line += f" · {len(self.conflicts)} conflict{'s' if len(self.conflicts) != 1 else ''}"
        if self.cancelled:
            line += f" · cancelled, {self.not_synced} not synced"
        return line


def job_title(job: dict) -> str:
    """How a job is named in a summary: “Title — Company”."""
    title = str(job.get("title") or "").strip() or "Untitled job"
    company = str(job.get("company") or "").strip()
    return f"{title} — {company}" if company else title
