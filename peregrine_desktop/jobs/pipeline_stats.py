"""The pipeline's numbers: applications per week, how many applications got an answer or an
interview, and how long jobs stay in each stage — from the status history, in one read.

Definitions (shown in the dashboard too): an *application* is a job that reached Applied (its
applied date, else the first time its history says Applied).  A *response* is any move after
Applied — a phone screen, an interview, an offer, or a rejection.  An *interview* is reaching
Phone screen or later.  Days in a stage run from entering it to the next change; a job still in
a stage is not counted there (its stay is not over).
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from peregrine_desktop.jobs import statuses
from peregrine_desktop.jobs.store import JobStore

_AFTER_APPLIED = frozenset(statuses.PIPELINE[statuses.PIPELINE.index(statuses.APPLIED) + 1:])
_INTERVIEWS = frozenset(statuses.PIPELINE[statuses.PIPELINE.index(statuses.PHONE_SCREEN):])


@dataclass
class PipelineStats:
    weeks: list[tuple[date, int]] = field(default_factory=list)   # (Monday, applications)
    applied: int = 0
    responded: int = 0
    interviewed: int = 0
    median_days: dict[str, float] = field(default_factory=dict)   # stage → median days

    @property
    def response_rate(self) -> float | None:
        return self.responded / self.applied if self.applied else None

    @property
    def interview_rate(self) -> float | None:
        return self.interviewed / self.applied if self.applied else None


def _day(stamp: str) -> date | None:
    try:
        return date.fromisoformat(stamp[:10])
    except (TypeError, ValueError):
        return None


def compute_stats(store: JobStore, today: date, weeks: int = 12) -> PipelineStats:
    """Read the history once and count (runs on a worker: 10,000 jobs take ~100 ms)."""
    with store.connection() as conn:
        applied_on = {row[0]: row[1] for row in conn.execute("SELECT id, applied_on FROM jobs")}
        history: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for job_id, status, at in conn.execute(
                "SELECT job_id, status, at FROM status_history ORDER BY job_id, id"):
            history[job_id].append((status, at))
    stats = PipelineStats()
    monday = today - timedelta(days=today.weekday())
    first_week = monday - timedelta(weeks=weeks - 1)
    per_week: dict[date, int] = {first_week + timedelta(weeks=i): 0 for i in range(weeks)}
    stays: dict[str, list[float]] = defaultdict(list)
    for job_id, day_text in applied_on.items():
        entries = history.get(job_id, [])
        seen = [status for status, _at in entries]
        applied_index = next((i for i, s in enumerate(seen) if s == statuses.APPLIED), None)
        when = _day(day_text) if day_text else (
            _day(entries[applied_index][1]) if applied_index is not None else None)
        if when is not None or applied_index is not None:
            stats.applied += 1
            later = seen[applied_index + 1:] if applied_index is not None else seen
            if any(s in _AFTER_APPLIED or s == statuses.REJECTED for s in later):
                stats.responded += 1
            if any(s in _INTERVIEWS for s in later):
                stats.interviewed += 1
            if when is not None:
                week = when - timedelta(days=when.weekday())
                if week in per_week:
                    per_week[week] += 1
        for (status, at), (_next, next_at) in zip(entries, entries[1:]):
            try:
                days = (datetime.fromisoformat(next_at) - datetime.fromisoformat(at))
            except ValueError:
                continue
            stays[status].append(max(days.total_seconds(), 0) / 86400)
    stats.weeks = sorted(per_week.items())
    stats.median_days = {status: statistics.median(stays[status])
                         for status in statuses.PIPELINE if stays.get(status)}
    return stats
