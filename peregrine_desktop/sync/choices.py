"""What the user decides in the sync summary, kept in the sync state until the next sync acts.

Nothing here talks to a tracker: a choice changes the map (or the job, for "take theirs"), and
the next sync carries it out — so a choice made offline, or before a crash, is not lost.
"""
from __future__ import annotations

from typing import Any

from peregrine_sdk.tracker import job_change
from peregrine_desktop.sync.state import SyncState

MINE, THEIRS = "mine", "theirs"


def resolve_conflict(state: SyncState, integration: str, job_id: int, field: str,
                     keep: str) -> tuple[dict, dict] | None:
    """Keep mine (the tracker gets this value at the next sync) or take theirs (the job gets
    the tracker's value now).  Returns (job now, job before) when the job changed."""
    conflict = state.conflicts(integration).get((job_id, field))
    link = state.records(integration).get(job_id)
    if conflict is None or link is None:
        return None
    # Either way the base becomes the tracker's value: mine then differs from it and is pushed;
    # theirs equals it and nothing is written.
    base = {**(link.base or {}), field: conflict.remote}
    if keep == THEIRS:
        def also(conn: Any) -> None:
            state.link(integration, job_id, link.remote_id, link.uid, base, conn)
            state.drop_conflict(integration, job_id, field, conn)
        before = state.store.get(job_id)
        after = state.store.update_from_elsewhere(
            job_id, {field: job_change(field, conflict.remote)}, also=also)
        return (after, before) if before is not None else None
    with state.store.transaction() as conn:
        state.link(integration, job_id, link.remote_id, link.uid, base, conn)
        state.drop_conflict(integration, job_id, field, conn)
    return None


def push_again(state: SyncState, integration: str, job_id: int) -> None:
    """A record deleted in the tracker is created again at the next sync."""
    state.unlink(integration, job_id)


def forget_deleted_record(state: SyncState, integration: str, job_id: int) -> None:
    """Before "Delete here too" deletes the job: its record is gone already, so no tombstone."""
    state.unlink(integration, job_id)


def import_rows(state: SyncState, integration: str, remote_ids: list[str]) -> None:
    """Rows added in the tracker become jobs at the next sync."""
    state.ask_import(integration, remote_ids)


def join(state: SyncState, integration: str, yes: bool) -> None:
    """"These are my jobs from another computer": imported at the next sync, and from then on
    every job the other computer adds.  No: they stay apart, and the question is not asked
    again."""
    state.set_meta(integration, "join", "yes" if yes else "no")
    if not yes:
        state.drop_remote(integration, [e.remote_id for e in
                                        state.remote_entries(integration, "foreign")])


def deleted_jobs(state: SyncState, integration: str | None, delete_there: bool) -> None:
    """Records of jobs deleted here: deleted at the next sync, or kept in the tracker."""
    state.set_tombstones(integration, "delete" if delete_there else "done")
