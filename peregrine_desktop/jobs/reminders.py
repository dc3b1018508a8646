"""Reminders: which next actions, deadlines and interviews have come due, and which of those the
person was already told about (remembered in the job database, so each fires once — also across
restarts, and those that fell due while the app was closed are found at the next start).

A next action or deadline is due from the start of its day; an interview an hour before it
begins.  A reminder is keyed by the job's uid, its kind and the date it is for, so moving a
date makes a new reminder while an undone delete does not repeat an old one.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from peregrine_desktop.jobs.dates import (CLOSED, DEADLINE, INTERVIEW, NEXT_ACTION, DueWindow,
                                          open_dates)
from peregrine_desktop.jobs.store import JobStore, register_schema, utc_now

COMPONENT = "reminders"
MIGRATIONS: list[str] = [
    """
    CREATE TABLE IF NOT EXISTS reminders_fired (
        job_uid   TEXT NOT NULL,
        kind      TEXT NOT NULL,
        due       TEXT NOT NULL,      -- the day (or interview instant) it was for
        fired_at  TEXT NOT NULL,
        PRIMARY KEY (job_uid, kind, due)
    );
    """,
]
register_schema(COMPONENT, MIGRATIONS)

#: How long before an interview its reminder comes.
INTERVIEW_LEAD = timedelta(hours=1)


@dataclass(frozen=True)
class Reminder:
    job_id: int
    job_uid: str
    kind: str
    due: str          # ISO day, or the interview's ISO instant
    title: str
    company: str
    note: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return self.job_uid, self.kind, self.due

    def text(self, window: DueWindow | None = None) -> str:
        """One line a person reads: "Follow up with Sam — Backend Engineer at Acme (today)"."""
        job = self.title + (f" at {self.company}" if self.company else "")
        if self.kind == INTERVIEW:
            moment = datetime.fromisoformat(self.due)     # wall time where it takes place
            return f"Interview for {job} at {moment:%H:%M} on {moment:%a %d %b}".replace(
                " 0", " ")
        when = f" ({window.describe(self.due)})" if window else ""
        if self.kind == DEADLINE:
            return f"Application deadline for {job}{when}"
        return f"{self.note or 'Next action'} — {job}{when}"


def due_reminders(jobs: Iterable[Mapping[str, Any]], now: datetime) -> list[Reminder]:
    """Every reminder that is due at ``now`` (fired or not), earliest first."""
    today = now.date().isoformat()
    found = []
    for job in jobs:
        if job.get("status") in CLOSED:
            continue
        for kind, day in open_dates(job):
            if kind == INTERVIEW:
                start = datetime.fromisoformat(job["interview_at"])
                if now < start - INTERVIEW_LEAD:
                    continue
                due = job["interview_at"]
            elif day > today:
                continue
            else:
                due = day
            found.append(Reminder(job["id"], job["uid"], kind, due, job.get("title") or "",
                                  job.get("company") or "",
                                  job.get("next_action_note") or "" if kind == NEXT_ACTION
                                  else ""))
    return sorted(found, key=lambda r: (r.due[:10], r.kind, r.job_id))


class ReminderLog:
    """Which reminders were shown, in the job database's ``reminders_fired`` table."""

    def __init__(self, store: JobStore) -> None:
        self.store = store
        store.ensure_schema(COMPONENT, MIGRATIONS)

    def unfired(self, reminders: Iterable[Reminder]) -> list[Reminder]:
        reminders = list(reminders)
        if not reminders:
            return []
        with self.store.connection() as conn:
            fired = {tuple(row) for row in conn.execute(
                "SELECT job_uid, kind, due FROM reminders_fired")}
        return [r for r in reminders if r.key not in fired]

    def mark_fired(self, reminders: Iterable[Reminder]) -> None:
        now = utc_now()
        with self.store.transaction() as conn:
            conn.executemany("INSERT OR IGNORE INTO reminders_fired(job_uid, kind, due, fired_at) "
                             "VALUES (?, ?, ?, ?)", [(*r.key, now) for r in reminders])

    def pending(self, jobs: Iterable[Mapping[str, Any]], now: datetime) -> list[Reminder]:
        """Due and never shown."""
        return self.unfired(due_reminders(jobs, now))
