"""A job's deadline and next action as all-day calendar entries, when the person opted in
(``UserProfile.calendar_all_day``, "Also put deadlines and next actions in my calendar").

Each entry is its own event with a UID made of the job's uid and the kind
(``peregrine_sdk.calendar_events.entry_uid``), so a deadline, a next action and the interview of
one job never overwrite each other, and a second computer or a reinstall sends the same UIDs:
the calendar's copy is updated, never doubled.  They travel the interview's road — a delivery
per connected calendar that declares ``AllDayEvents``, queued in the outbox (retried, replayed
without duplicates) — and the outbox's rows are the record of what stands in which calendar.

Turning the option off removes every entry it put there: the setting is the person's own, and
entries that no longer follow the job would go stale.  Turning it on (or connecting a calendar
while it is on) puts in the entries of every job that has dates, and so does a bulk import for
the jobs it adds.  A rejected job's entries go,
like its interview; deleting a job removes them and undoing the delete puts them back.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from peregrine_sdk.calendar_events import DATE_ENTRIES, entry_uid
from peregrine_sdk.capabilities import CalendarEvents, InterviewEvent
from peregrine_sdk.hooks import AllDayEvents, has_hook
from peregrine_desktop.events.outbox import Delivery
from peregrine_desktop.events.pipeline import (JOB_REMOVED, PipelineEvent, event_to_payload,
                                               job_phrase)
from peregrine_desktop.jobs import statuses
from peregrine_desktop.jobs.store import JobStore, register_schema, utc_now

if TYPE_CHECKING:  # pragma: no cover
    from peregrine_desktop.events.hub import EventHub, Target

#: Delivery kinds of what the option itself queues (the rest carry their pipeline event's kind).
OPTION_ON, OPTION_OFF = "calendar_entries_on", "calendar_entries_off"

COMPONENT = "calendar_entries"
MIGRATIONS: list[str] = [
    """
    CREATE TABLE IF NOT EXISTS calendar_entries_filled (
        integration TEXT PRIMARY KEY,
        filled_at   TEXT NOT NULL
    );
    """,
]
register_schema(COMPONENT, MIGRATIONS)

_WORDS = {"deadline": "deadline", "next_action": "next action"}


@dataclass(frozen=True)
class DateEntry:
    """One all-day entry of a job, as the calendar shows it."""

    entry: str              # "deadline" | "next_action"
    day: date
    title: str
    description: str


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def date_entries(job: Mapping[str, Any] | None) -> dict[str, DateEntry]:
    """The entries ``job`` should have in a calendar (none for a rejected or missing job)."""
    if not job or job.get("status") == statuses.REJECTED:
        return {}
    found: dict[str, DateEntry] = {}
    link = str(job.get("url") or "").strip()
    deadline = _day(job.get("deadline"))
    if deadline:
        found["deadline"] = DateEntry("deadline", deadline, f"Deadline: {job_phrase(job)}",
                                      link)
    action = _day(job.get("next_action_on"))
    if action:
        note = " ".join(str(job.get("next_action_note") or "").split())
        title = f"{note} — {job_phrase(job)}" if note else f"Next action: {job_phrase(job)}"
        found["next_action"] = DateEntry("next_action", action, title, link)
    return found


def entry_event(job_uid: str, item: DateEntry) -> InterviewEvent:
    """The calendar form of an entry: that day only, no alarm (the app's reminders say when a
    date comes due)."""
    return InterviewEvent(uid=entry_uid(job_uid, item.entry), title=item.title, start=item.day,
                          end=item.day + timedelta(days=1), timezone="",
                          description=item.description, reminder_minutes=None, all_day=True)


def _job_uid(job: Mapping[str, Any]) -> str:
    return str(job.get("uid") or job.get("id"))


def _upsert(target: "Target", job: Mapping[str, Any], item: DateEntry, kind: str) -> Delivery:
    return Delivery(
        target.name, int(job.get("id") or 0), kind, "upsert_event",
        {"event": event_to_payload(entry_event(_job_uid(job), item)), "entry": item.entry,
         "about": job_phrase(job), "revision": job.get("updated_at")},
        f"the {_WORDS[item.entry]} for {job_phrase(job)} on {item.day:%a %d %b %Y}")


def _delete(target: "Target", job_id: int, uid: str, entry: str, phrase: str, kind: str,
            revision: Any) -> Delivery:
    return Delivery(target.name, job_id, kind, "delete_event",
                    {"uid": uid, "entry": entry, "revision": revision},
                    f"removing the {_WORDS.get(entry, 'entry')} for {phrase}")


def calendar_targets(hub: "EventHub") -> list["Target"]:
    """Connected calendars that take all-day entries."""
    return [t for t in hub.targets(CalendarEvents) if has_hook(t.cls, AllDayEvents)]


def date_entry_deliveries(event: PipelineEvent, hub: "EventHub") -> list[Delivery]:
    """Subscriber: create, move or remove a job's entries in every calendar that takes them,
    while the option is on.  Every event of a change sees the same before and after, so the
    hub's de-duplication leaves one delivery per entry."""
    if not hub.calendar_entries_on():
        return []
    job = event.job if event.kind != JOB_REMOVED else None
    before = event.old
    wanted, had = date_entries(job), date_entries(before)
    changed = [entry for entry in DATE_ENTRIES if wanted.get(entry) != had.get(entry)]
    if not changed:
        return []
    known = job or before or {}
    found = []
    for target in calendar_targets(hub):
        for entry in changed:
            if entry in wanted:
                found.append(_upsert(target, known, wanted[entry], event.kind))
            else:
                found.append(_delete(target, event.job_id, entry_uid(_job_uid(known), entry),
                                     entry, job_phrase(known), event.kind,
                                     known.get("updated_at")))
    return found


def imported_deliveries(hub: "EventHub", ids: list[int]) -> list[Delivery]:
    """The entries of jobs a bulk import added (which announces nothing else), while the
    option is on: an imported deadline is as real as a typed one."""
    if not ids or not hub.calendar_entries_on():
        return []
    targets = calendar_targets(hub)
    if not targets:
        return []
    jobs = hub.repository.store.get_many(ids)
    return [_upsert(target, job, item, OPTION_ON) for target in targets for job in jobs
            for item in date_entries(job).values()]


# -- the option itself -------------------------------------------------------------------------------
def filled_calendars(store: JobStore) -> set[str]:
    """Calendars that were given every job's entries since the option was last turned on."""
    store.ensure_schema(COMPONENT, MIGRATIONS)
    with store.connection() as conn:
        return {r[0] for r in conn.execute("SELECT integration FROM calendar_entries_filled")}


def _set_filled(store: JobStore, names: set[str]) -> None:
    """Record ``names`` as the calendars that hold every job's entries (forgetting others)."""
    store.ensure_schema(COMPONENT, MIGRATIONS)
    with store.transaction() as conn:
        kept = {r[0] for r in conn.execute("SELECT integration FROM calendar_entries_filled")}
        conn.executemany("DELETE FROM calendar_entries_filled WHERE integration = ?",
                         [(n,) for n in kept - names])
        conn.executemany("INSERT INTO calendar_entries_filled(integration, filled_at) "
                         "VALUES (?, ?)", [(n, utc_now()) for n in names - kept])


def option_deliveries(hub: "EventHub") -> list[Delivery]:
    """What bringing the calendars in line with the option takes, recording it as done.

    On: every job's entries for each calendar not yet filled (a calendar disconnected meanwhile
    is filled again when it returns; the same UIDs make that an update, never a copy).
    Off: removing each entry the outbox says stands in a connected calendar."""
    store = hub.repository.store
    targets = calendar_targets(hub)
    if hub.calendar_entries_on():
        filled = filled_calendars(store)
        todo = [t for t in targets if t.name not in filled]
        found: list[Delivery] = []
        if todo:
            jobs = hub.repository.list_jobs(with_history=False)
            for target in todo:
                for job in jobs:
                    for item in date_entries(job).values():
                        found.append(_upsert(target, job, item, OPTION_ON))
        _set_filled(store, {t.name for t in targets})
        return found
    found = []
    stamp = utc_now()
    for target in targets:
        for row in hub.outbox.standing_events(target.name):
            entry = row["payload"].get("entry")
            if entry in DATE_ENTRIES:
                found.append(_delete(target, row["job_id"], row["payload"]["event"]["uid"],
                                     entry, str(row["payload"].get("about") or "a job"),
                                     OPTION_OFF, stamp))
    _set_filled(store, set())
    return found

