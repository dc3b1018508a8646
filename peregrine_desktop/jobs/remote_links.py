"""Where a job lives outside Peregrine: the record each tracker keeps for it (from the sync map)
and the calendar events delivered for it (from the outbox), as label, text and, when there is
one, a web address — for the detail pane.  Read-only; tables not created yet read as empty."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from peregrine_desktop.jobs.store import JobStore


@dataclass(frozen=True)
class RemotePlace:
    integration: str
    what: str          # "Tracker record", "Calendar event"
    text: str          # the remote id or address
    url: str = ""


def record_url(integration: str, remote_id: str) -> str:
    """A web address for a tracker record when the id alone makes one (Notion pages do)."""
    if integration == "notion" and remote_id:
        return f"https://www.notion.so/{remote_id.replace('-', '')}"
    if remote_id.startswith(("https://", "http://")):
        return remote_id
    return ""


def remote_places(store: JobStore, job_id: int) -> list[RemotePlace]:
    places: list[RemotePlace] = []
    with store.connection() as conn:
        try:
            for integration, remote_id in conn.execute(
                    "SELECT integration, remote_id FROM sync_records WHERE job_id = ? "
                    "ORDER BY integration", (job_id,)):
                places.append(RemotePlace(integration, "Tracker record", remote_id,
                                          record_url(integration, remote_id)))
        except sqlite3.OperationalError:      # sync never ran on this database
            pass
        try:
            rows = conn.execute(
                "SELECT integration, result, action FROM outbox WHERE job_id = ? "
                "AND action IN ('upsert_event', 'delete_event') AND state = 'delivered' "
                "ORDER BY id", (job_id,)).fetchall()
        except sqlite3.OperationalError:      # no calendar was ever connected
            rows = []
    latest: dict[str, tuple[str, str]] = {}
    for integration, result, action in rows:
        latest[integration] = (action, result or "")
    for integration, (action, result) in sorted(latest.items()):
        if action == "upsert_event":
            places.append(RemotePlace(integration, "Calendar event", result or "in the calendar",
                                      result if result.startswith(("https://", "http://"))
                                      else ""))
    return places
