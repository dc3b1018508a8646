"""Interview events that already exist in a calendar under another UID (made by Peregrine, the
web app, before an import): job → that UID, per calendar integration, so a later change of the
interview updates the existing event instead of adding a second one.

Jobs without a link keep the app's own UID (``peregrine_sdk.calendar_events.event_uid``).
Kept in the job database as the "event_links" component.  A deleted job's link stays (job ids
are never reused), so removing its interview still finds the event it had.
"""
from __future__ import annotations

from collections.abc import Iterable

from peregrine_desktop.jobs.store import JobStore, register_schema

COMPONENT = "event_links"
MIGRATIONS: list[str] = [
    """
    CREATE TABLE IF NOT EXISTS event_links (
        integration  TEXT NOT NULL,
        job_id       INTEGER NOT NULL,
        uid          TEXT NOT NULL,
        PRIMARY KEY (integration, job_id)
    );
    """,
]
register_schema(COMPONENT, MIGRATIONS)


def link_many(store: JobStore, integration: str, entries: Iterable[tuple[int, str]]) -> int:
    """Record (job id, existing event UID) pairs, keeping links already made; returns how many
    were recorded."""
    store.ensure_schema(COMPONENT, MIGRATIONS)
    with store.transaction() as conn:
        before = conn.total_changes
        conn.executemany("INSERT INTO event_links(integration, job_id, uid) VALUES (?, ?, ?) "
                         "ON CONFLICT(integration, job_id) DO NOTHING",
                         [(integration, job_id, uid) for job_id, uid in entries])
        return conn.total_changes - before


def linked_uid(store: JobStore, integration: str, job_id: int) -> str | None:
    """The UID of an event that existed before for ``job_id`` in ``integration``'s calendar
    (imported from the web app), or None: the job then uses its own UID."""
    store.ensure_schema(COMPONENT, MIGRATIONS)
    with store.connection() as conn:
        row = conn.execute("SELECT uid FROM event_links WHERE integration = ? AND job_id = ?",
                           (integration, int(job_id))).fetchone()
    return row[0] if row else None
