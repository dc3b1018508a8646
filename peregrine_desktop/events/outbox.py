"""The durable outbox: every delivery to a service waits here (in the job database) until it
succeeded, so being offline or a service being down loses nothing.

A delivery is unique per (integration, job, event kind, payload hash): publishing the same event
twice, or replaying after a restart, never queues or sends it twice — unless another operation on
the same calendar event came after it (an undo putting back what a delete removed), when it is
queued again.  Calendar operations on one event (its UID: a job's interview, deadline or next
action) supersede older waiting ones, so a replay cannot move an event back to an old time.  Failed attempts back off exponentially (or as long as the service asked); each
outcome is written to the activity log in plain words.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from peregrine_sdk.errors import MESSAGES, ErrorKind
from peregrine_desktop.jobs.store import JobStore, utc_now

WAITING, SENDING, DELIVERED = "waiting", "sending", "delivered"
SUPERSEDED, FAILED, UNSURE = "superseded", "failed", "unsure"
#: Actions that are safe to repeat (the service upserts/deletes by id): resent after a crash.
IDEMPOTENT_ACTIONS = frozenset({"upsert_event", "delete_event", "upload_document"})
CALENDAR_ACTIONS = frozenset({"upsert_event", "delete_event"})
#: Errors that say the service is unreachable or busy: stop this service's batch, retry later.
UNREACHABLE = frozenset({ErrorKind.CANNOT_CONNECT, ErrorKind.TIMEOUT, ErrorKind.RATE_LIMITED})
#: Errors the user must fix (credentials, sharing): keep waiting, show "needs attention".
NEEDS_USER = frozenset({ErrorKind.INVALID_AUTH, ErrorKind.NOT_FOUND, ErrorKind.INVALID_ADDRESS})
#: The calendar event a row's payload is about (upsert: its event's UID; delete: its UID).
EVENT_UID_SQL = "COALESCE(json_extract(payload, '$.event.uid'), json_extract(payload, '$.uid'))"
#: A delivery the service keeps refusing for other reasons is given up after this many tries.
MAX_ATTEMPTS = 5

SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS outbox (
        id              INTEGER PRIMARY KEY,
        integration     TEXT NOT NULL,
        job_id          INTEGER NOT NULL DEFAULT 0,
        kind            TEXT NOT NULL,
        action          TEXT NOT NULL,
        payload         TEXT NOT NULL,
        payload_hash    TEXT NOT NULL,
        summary         TEXT NOT NULL DEFAULT '',
        state           TEXT NOT NULL DEFAULT 'waiting'
                        CHECK (state IN ('waiting', 'sending', 'delivered', 'superseded',
                                         'failed', 'unsure')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL DEFAULT 0,
        error_kind      TEXT,
        error           TEXT,
        result          TEXT,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL,
        UNIQUE (integration, job_id, kind, payload_hash)
    );
    CREATE INDEX IF NOT EXISTS outbox_due ON outbox(state, integration, next_attempt_at);
    CREATE TABLE IF NOT EXISTS activity_log (
        id          INTEGER PRIMARY KEY,
        at          TEXT NOT NULL,
        integration TEXT NOT NULL,
        job_id      INTEGER NOT NULL DEFAULT 0,
        outcome     TEXT NOT NULL CHECK (outcome IN ('delivered', 'waiting', 'failed')),
        message     TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS activity_log_at ON activity_log(id DESC);
    """,
]


@dataclass(frozen=True)
class Delivery:
    """One thing to do at one service: ``action`` is a capability method, ``payload`` its JSON
    arguments, ``summary`` what it is in words ("the interview for SRE at ACME")."""

    integration: str
    job_id: int
    kind: str
    action: str
    payload: dict[str, Any]
    summary: str = ""

    @property
    def payload_json(self) -> str:
        return json.dumps(self.payload, sort_keys=True, ensure_ascii=False,
                          separators=(",", ":"))

    @property
    def payload_hash(self) -> str:
        return hashlib.sha256(self.payload_json.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Attempt:
    """What one try of a delivery did, as the worker reports it."""

    outbox_id: int
    ok: bool
    result: str = ""
    kind: ErrorKind = ErrorKind.OK
    hint: str = ""
    retry_after: float | None = None


def _event_uid(payload: dict[str, Any]) -> str | None:
    """What :data:`EVENT_UID_SQL` reads from a payload, for the same comparison in Python."""
    event = payload.get("event")
    uid = event.get("uid") if isinstance(event, dict) else None
    return uid if uid is not None else payload.get("uid")


def _sentence_start(text: str) -> str:
    return text[:1].upper() + text[1:]


def _clock_text(moment: float) -> str:
    return datetime.fromtimestamp(moment).strftime("%H:%M")


class Outbox:
    """The outbox and activity log tables; safe to use from the UI thread and workers."""

    def __init__(self, store: JobStore, *, base_delay: float = 10.0, max_delay: float = 900.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.clock = clock
        store.ensure_schema("outbox", SCHEMA)
        self._recover_interrupted()

    # -- queueing -----------------------------------------------------------------------------------
    def enqueue(self, deliveries: Iterable[Delivery]) -> list[int]:
        """Queue deliveries in one transaction; returns the ids of the ones that were new."""
        added = []
        now, stamp = self.clock(), utc_now()
        with self.store.transaction() as conn:
            for item in deliveries:
                if item.action in CALENDAR_ACTIONS:
                    self._forget_overtaken_copy(conn, item)
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO outbox(integration, job_id, kind, action, payload, "
                    "payload_hash, summary, next_attempt_at, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (item.integration, item.job_id, item.kind, item.action, item.payload_json,
                     item.payload_hash, item.summary, now, stamp, stamp))
                if not cursor.rowcount:
                    continue
                added.append(cursor.lastrowid)
                if item.action in CALENDAR_ACTIONS:
                    conn.execute(
                        "UPDATE outbox SET state = 'superseded', updated_at = ? "
                        "WHERE integration = ? AND job_id = ? AND state = 'waiting' "
                        f"AND action IN ({','.join('?' * len(CALENDAR_ACTIONS))}) AND id < ? "
                        f"AND {EVENT_UID_SQL} IS ?",
                        (stamp, item.integration, item.job_id, *sorted(CALENDAR_ACTIONS),
                         cursor.lastrowid, _event_uid(item.payload)))
        return added

    @staticmethod
    def _forget_overtaken_copy(conn: Any, item: Delivery) -> None:
        """An identical calendar operation queued before, with another operation on the same
        event after it (add, delete, undo within one second): the old row is history, and this
        one must go out again, so the old copy makes way.  The latest operation on the event
        being this very one is a replay, and stays ignored."""
        row = conn.execute("SELECT id, state FROM outbox WHERE integration = ? AND job_id = ? "
                           "AND kind = ? AND payload_hash = ?",
                           (item.integration, item.job_id, item.kind,
                            item.payload_hash)).fetchone()
        if row is None or row["state"] == SENDING:
            return
        later = conn.execute(
            "SELECT 1 FROM outbox WHERE integration = ? AND job_id = ? AND id > ? "
            f"AND action IN ({','.join('?' * len(CALENDAR_ACTIONS))}) AND state != 'superseded' "
            f"AND {EVENT_UID_SQL} IS ? LIMIT 1",
            (item.integration, item.job_id, row["id"], *sorted(CALENDAR_ACTIONS),
             _event_uid(item.payload))).fetchone()
        if later is not None:
            conn.execute("DELETE FROM outbox WHERE id = ?", (row["id"],))

    def _recover_interrupted(self) -> None:
        """Rows left 'sending' by a crash: idempotent ones go back to waiting; a message may or
        may not have left, and sending it again could duplicate it, so it is marked unsure.

        Only one app runs per data folder (``lifecycle.startup.claim_data_folder``), so a row
        left 'sending' is a crashed app's, never one another running app is sending now."""
        stamp = utc_now()
        with self.store.transaction() as conn:
            rows = conn.execute("SELECT id, integration, job_id, action, summary FROM outbox "
                                "WHERE state = 'sending'").fetchall()
            for row in rows:
                if row["action"] in IDEMPOTENT_ACTIONS:
                    conn.execute("UPDATE outbox SET state = 'waiting', updated_at = ? "
                                 "WHERE id = ?", (stamp, row["id"]))
                else:
                    conn.execute("UPDATE outbox SET state = 'unsure', updated_at = ? "
                                 "WHERE id = ?", (stamp, row["id"]))
                    self._log(conn, row["integration"], row["job_id"], FAILED,
                              f"Peregrine closed while sending {row['summary'] or 'a message'}; "
                              f"it may not have arrived, and is not sent again to avoid a "
                              f"duplicate.")

    # -- delivering (worker threads) ----------------------------------------------------------------
    def due_integrations(self) -> list[str]:
        with self.store.connection() as conn:
            return [r[0] for r in conn.execute(
                "SELECT DISTINCT integration FROM outbox WHERE state = 'waiting' "
                "AND next_attempt_at <= ? ORDER BY integration", (self.clock(),))]

    def next_due_at(self, exclude: Iterable[str] = ()) -> float | None:
        """When the earliest waiting delivery (of services not in ``exclude``) is due, in epoch
        seconds, or None."""
        exclude = list(exclude)
        marks = ",".join("?" * len(exclude))
        clause = f"AND integration NOT IN ({marks})" if exclude else ""
        with self.store.connection() as conn:
            row = conn.execute(f"SELECT MIN(next_attempt_at) FROM outbox "
                               f"WHERE state = 'waiting' {clause}", exclude).fetchone()
        return row[0]

    def claim(self, integration: str) -> list[dict[str, Any]]:
        """Mark this service's due deliveries as being sent and return them, oldest first."""
        with self.store.transaction() as conn:
            rows = [dict(r) for r in conn.execute(
                "SELECT * FROM outbox WHERE integration = ? AND state = 'waiting' "
                "AND next_attempt_at <= ? ORDER BY id", (integration, self.clock()))]
            conn.executemany("UPDATE outbox SET state = 'sending' WHERE id = ?",
                             [(r["id"],) for r in rows])
        for row in rows:
            row["payload"] = json.loads(row["payload"])
        return rows

    def release(self, ids: Iterable[int], not_before_of: int | None = None) -> None:
        """Put claimed deliveries that were not tried back in the queue; with ``not_before_of``
        they wait as long as that (failed) delivery does: the service is down for all of them."""
        with self.store.transaction() as conn:
            due = 0.0
            if not_before_of is not None:
                row = conn.execute("SELECT next_attempt_at FROM outbox WHERE id = ?",
                                   (not_before_of,)).fetchone()
                due = row[0] if row else 0.0
            conn.executemany("UPDATE outbox SET state = 'waiting', "
                             "next_attempt_at = MAX(next_attempt_at, ?) WHERE id = ? "
                             "AND state = 'sending'", [(due, i) for i in ids])

    def record(self, attempt: Attempt) -> str:
        """Write an attempt's outcome (and its activity-log line); returns the new state."""
        stamp = utc_now()
        with self.store.transaction() as conn:
            row = conn.execute("SELECT * FROM outbox WHERE id = ?",
                               (attempt.outbox_id,)).fetchone()
            if row is None:
                return FAILED
            what = _sentence_start(row["summary"] or row["action"].replace("_", " "))
            attempts = row["attempts"] + 1
            if attempt.ok:
                conn.execute("UPDATE outbox SET state = 'delivered', attempts = ?, result = ?, "
                             "error_kind = NULL, error = NULL, updated_at = ? WHERE id = ?",
                             (attempts, attempt.result, stamp, row["id"]))
                self._log(conn, row["integration"], row["job_id"], DELIVERED,
                          f"{what} — done.")
                return DELIVERED
            reason = f"{MESSAGES[attempt.kind]}. {attempt.hint}".strip()
            keep_waiting = attempt.kind in UNREACHABLE or attempt.kind in NEEDS_USER \
                or attempts < MAX_ATTEMPTS
            if keep_waiting:
                delay = min(self.max_delay, self.base_delay * (2 ** (attempts - 1)))
                if attempt.retry_after:
                    delay = max(delay, min(self.max_delay, attempt.retry_after))
                due = self.clock() + delay
                conn.execute("UPDATE outbox SET state = 'waiting', attempts = ?, "
                             "next_attempt_at = ?, error_kind = ?, error = ?, updated_at = ? "
                             "WHERE id = ?",
                             (attempts, due, attempt.kind.value, reason, stamp, row["id"]))
                self._log(conn, row["integration"], row["job_id"], WAITING,
                          f"{what} — not done yet ({reason}) "
                          f"Peregrine tries again at {_clock_text(due)}.")
                return WAITING
            conn.execute("UPDATE outbox SET state = 'failed', attempts = ?, error_kind = ?, "
                         "error = ?, updated_at = ? WHERE id = ?",
                         (attempts, attempt.kind.value, reason, stamp, row["id"]))
            self._log(conn, row["integration"], row["job_id"], FAILED,
                      f"{what} — gave up after {attempts} tries ({reason})")
            return FAILED

    def fail(self, ids: Iterable[int], reason: str) -> None:
        """Give up deliveries that can no longer be made (the service was disconnected)."""
        stamp = utc_now()
        with self.store.transaction() as conn:
            for outbox_id in ids:
                row = conn.execute("SELECT * FROM outbox WHERE id = ?", (outbox_id,)).fetchone()
                if row is None:
                    continue
                conn.execute("UPDATE outbox SET state = 'failed', error = ?, updated_at = ? "
                             "WHERE id = ?", (reason, stamp, outbox_id))
                self._log(conn, row["integration"], row["job_id"], FAILED,
                          f"{_sentence_start(row['summary'] or row['action'])} — not done: "
                          f"{reason}")

    def retry_now(self, integration: str | None = None) -> int:
        """Make waiting deliveries (of one service, or all) due now; returns how many."""
        clause, params = ("AND integration = ?", [integration]) if integration else ("", [])
        with self.store.transaction() as conn:
            return conn.execute(f"UPDATE outbox SET next_attempt_at = ? WHERE state = 'waiting' "
                                f"{clause}", [self.clock(), *params]).rowcount

    # -- what the cards and the log show ------------------------------------------------------------
    def delivered_event(self, integration: str, job_id: int, uid: str) -> bool:
        """True when an interview event with ``uid`` was delivered to ``integration`` for this
        job (an older version's UID: the new one then replaces it)."""
        with self.store.connection() as conn:
            return conn.execute(
                "SELECT 1 FROM outbox WHERE integration = ? AND job_id = ? AND "
                "action = 'upsert_event' AND state = 'delivered' AND "
                "json_extract(payload, '$.event.uid') = ? LIMIT 1",
                (integration, job_id, uid)).fetchone() is not None

    def standing_events(self, integration: str) -> list[dict[str, Any]]:
        """Calendar events this app put in ``integration``'s calendar and has not removed: per
        event UID, the latest operation (superseded ones aside) when it is an upsert — sent,
        waiting or given up (a removal of one that never arrived is harmless).  Each row's
        ``payload`` is parsed."""
        marks = ",".join("?" * len(CALENDAR_ACTIONS))
        with self.store.connection() as conn:
            found = [dict(r) for r in conn.execute(
                f"SELECT o.* FROM outbox o JOIN (SELECT MAX(id) AS id FROM outbox "
                f"WHERE integration = ? AND action IN ({marks}) AND state != 'superseded' "
                f"GROUP BY job_id, {EVENT_UID_SQL}) latest ON o.id = latest.id "
                f"WHERE o.action = 'upsert_event' ORDER BY o.id",
                (integration, *sorted(CALENDAR_ACTIONS)))]
        for row in found:
            row["payload"] = json.loads(row["payload"])
        return found

    def waiting_counts(self) -> dict[str, int]:
        """Deliveries not yet made, per service ("3 waiting" on its card)."""
        with self.store.connection() as conn:
            return {r[0]: r[1] for r in conn.execute(
                "SELECT integration, COUNT(*) FROM outbox WHERE state IN ('waiting', 'sending') "
                "GROUP BY integration")}

    def problems(self) -> dict[str, str]:
        """The latest reason a service's waiting deliveries failed, per service."""
        with self.store.connection() as conn:
            rows = conn.execute(
                "SELECT integration, error FROM outbox WHERE state = 'waiting' AND attempts > 0 "
                "AND error IS NOT NULL ORDER BY updated_at, id").fetchall()
        return {r[0]: r[1] for r in rows}

    def rows(self, integration: str | None = None,
             states: Iterable[str] = (WAITING, SENDING)) -> list[dict[str, Any]]:
        states = list(states)
        clause, params = ("AND integration = ?", [integration]) if integration else ("", [])
        with self.store.connection() as conn:
            found = [dict(r) for r in conn.execute(
                f"SELECT * FROM outbox WHERE state IN ({','.join('?' * len(states))}) {clause} "
                f"ORDER BY id", [*states, *params])]
        for row in found:
            row["payload"] = json.loads(row["payload"])
        return found

    def activity(self, limit: int = 200) -> list[dict[str, Any]]:
        """The latest activity-log entries, newest first."""
        with self.store.connection() as conn:
            return [dict(r) for r in conn.execute(
                "SELECT * FROM activity_log ORDER BY id DESC LIMIT ?", (limit,))]

    @staticmethod
    def _log(conn: Any, integration: str, job_id: int, outcome: str, message: str) -> None:
        conn.execute("INSERT INTO activity_log(at, integration, job_id, outcome, message) "
                     "VALUES (?, ?, ?, ?, ?)",
                     (datetime.now(timezone.utc).isoformat(timespec="seconds"), integration,
                      job_id, outcome, message))
