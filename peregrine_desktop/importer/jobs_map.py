"""``staging.db`` → our jobs (reference §6, §7, §9).

The database is read column by column as it exists (installs from February and April 2026
differ): ``PRAGMA table_info`` first, a missing column is NULL, unknown ones are ignored.  Each
row is decided on its own — a row we cannot take is skipped with its reason, never the import.

A job's identity here (``uid``) is derived from the install and the upstream id (uuid5), so
importing the same install again — from its folder or from a backup of it — finds the jobs it
brought before instead of adding them twice.
"""
from __future__ import annotations

import html
import json
import re
import sqlite3
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from peregrine_desktop.jobs import statuses

#: The namespace of identities made from upstream jobs.
UID_NAMESPACE = uuid.UUID("6d3f2f0e-3c55-5b0b-9a53-7e1f8a4c2b61")
JOB_COLUMNS = ("id", "title", "company", "url", "source", "location", "is_remote", "salary",
               "description", "match_score", "keyword_gaps", "date_found", "status",
               "notion_page_id", "cover_letter", "applied_at", "interview_date",
               "rejection_stage", "phone_screen_at", "interviewing_at", "offer_at", "hired_at",
               "survey_at", "calendar_event_id", "application_qa")
#: Stage columns in pipeline order (§6.1): the material for our status history.
STAGE_COLUMNS = (("applied_at", statuses.APPLIED), ("phone_screen_at", statuses.PHONE_SCREEN),
                 ("interviewing_at", statuses.INTERVIEWING), ("offer_at", statuses.OFFER),
                 ("hired_at", statuses.HIRED))
#: rejection_stage values (Streamlit keys and Vue labels) → the stage a job was rejected from.
REJECTED_FROM = {"applied": statuses.APPLIED, "survey": statuses.APPLIED,
                 "phone_screen": statuses.PHONE_SCREEN, "interviewing": statuses.INTERVIEWING,
                 "offer": statuses.OFFER, "application": statuses.APPLIED,
                 "phone screen": statuses.PHONE_SCREEN, "offer stage": statuses.OFFER}
SAME = {s: s for s in (statuses.PENDING, statuses.APPROVED, statuses.APPLIED,
                       statuses.PHONE_SCREEN, statuses.INTERVIEWING, statuses.OFFER,
                       statuses.HIRED)}
BODY_LIMIT = 2000
_TAGS = re.compile(r"<[^>]+>")
_UUID_HEX = re.compile(r"^[0-9a-f]{32}$")
#: The UID upstream gave its CalDAV events; Google event ids look nothing like it (§6.1).
CALDAV_EVENT = re.compile(r"^peregrine-job-\d+@circuitforge\.tech$")


@dataclass
class JobPlan:
    """One upstream job as ours: ``values`` go to the store as they are."""

    source_id: int
    values: dict[str, Any]
    notion_page_id: str = ""
    calendar_event_id: str = ""
    upstream_status: str = ""


@dataclass
class JobsReading:
    jobs: list[JobPlan] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (job, reason)
    unmapped_statuses: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)            # other tables' rows
    problems: list[str] = field(default_factory=list)
    readable: bool = False
    install_id: str = ""


# -- values ----------------------------------------------------------------------------------------
def instant(value: Any) -> datetime | None:
    """An upstream timestamp with its zone: a space or ``Z`` means UTC, otherwise the naive
    value is the local time of the machine that wrote it (§6.1 "Dates")."""
    text = str(value or "").strip()
    if not text:
        return None
    utc = text.endswith(("Z", "z")) or " " in text
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1] in "Zz" else text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc) if utc else moment.astimezone()
    return moment


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _day(value: Any) -> str | None:
    text = str(value or "").strip()
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _remote(value: Any) -> bool:
    try:
        return bool(int(value or 0))
    except (TypeError, ValueError):
        return str(value).strip().lower() in {"true", "yes", "remote"}


def _page_id(value: Any) -> str:
    """A Notion page id in its dashed form (Notion answers with that), or '' if it is not one."""
    hexed = re.sub(r"[^0-9a-f]", "", str(value or "").lower())
    return str(uuid.UUID(hexed)) if _UUID_HEX.match(hexed) else ""


def plain(text: Any, limit: int = BODY_LIMIT) -> str:
    """An e-mail body or HTML fragment as short plain text."""
    value = html.unescape(_TAGS.sub(" ", str(text or "")))
    value = "\n".join(" ".join(line.split()) for line in value.splitlines())
    value = re.sub(r"\n{3,}", "\n\n", value).strip()
    return value if len(value) <= limit else value[:limit].rstrip() + " …"


def map_status(status: str, rejection_stage: str, applied_at: str
               ) -> tuple[str, str | None, str]:
    """Upstream status → (ours, rejected from, note for the job's notes) per §9."""
    key = status.strip().lower()
    stage = REJECTED_FROM.get(rejection_stage.strip().lower()) if rejection_stage else None
    if key in SAME:
        return SAME[key], None, ""
    if key == "rejected":
        return statuses.REJECTED, stage or statuses.PENDING, ""
    if key == "interview_rejected":
        return (statuses.REJECTED, stage or statuses.APPLIED,
                "Was “interview_rejected” in Peregrine (rejected during the interviews).")
    if key == "synced":
        ours = statuses.APPLIED if applied_at else statuses.APPROVED
        return ours, None, "Was “synced” in Peregrine (sent to Notion by its old push)."
    if key == "survey":
        return statuses.APPLIED, None, "Was “survey” in Peregrine (the employer sent a " \
                                       "questionnaire or assessment)."
    if key == "archived":
        return statuses.REJECTED, statuses.PENDING, "Was “archived” in Peregrine."
    shown = status if status else "no status"
    return statuses.PENDING, None, f"Was “{shown}” in Peregrine, which has no counterpart here."


# -- reading ---------------------------------------------------------------------------------------
def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    try:
        return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
    except sqlite3.DatabaseError:
        return []


def _rows(conn: sqlite3.Connection, table: str, wanted: tuple[str, ...] | None,
          problems: list[str], what: str) -> Iterator[dict[str, Any]]:
    """Rows of ``table`` with the wanted columns that exist; damage ends the table, said once."""
    present = _columns(conn, table)
    if not present:
        return
    chosen = [c for c in (wanted or present) if c in present]
    count = 0
    try:
        for row in conn.execute(f"SELECT {', '.join(chosen)} FROM {table}"):
            count += 1
            yield dict(zip(chosen, row))
    except sqlite3.DatabaseError as exc:
        problems.append(f"The job database is damaged ({exc}); {count} {what} before the damage "
                        "were read.")


def fit_header_to_file(path: Path) -> bool:
    """A database cut short (an interrupted copy) has a header promising more pages than the
    file holds, and SQLite then refuses even its schema.  On our private copy, make the header
    say what is there, so every page that survived can be read.  True when it was needed."""
    try:
        with open(path, "r+b") as handle:
            header = handle.read(100)
            if len(header) < 100 or not header.startswith(b"SQLite format 3\0"):
                return False
            page_size = int.from_bytes(header[16:18], "big")
            page_size = 65536 if page_size == 1 else page_size
            pages_on_disk = path.stat().st_size // max(page_size, 512)
            if int.from_bytes(header[28:32], "big") <= pages_on_disk or not pages_on_disk:
                return False
            handle.seek(28)
            handle.write(pages_on_disk.to_bytes(4, "big"))
            return True
    except OSError:
        return False


def read_jobs(path: Path | None) -> JobsReading:
    reading = JobsReading()
    if path is None:
        return reading
    if fit_header_to_file(path):
        reading.problems.append("The job database is cut short (an interrupted copy or a full "
                                "disk); what it still holds was read.")
    try:
        conn = sqlite3.connect(path)
        conn.text_factory = lambda raw: raw.decode("utf-8", "replace")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        reading.problems.append(f"The job database could not be opened ({exc}); no jobs were "
                                "read. It may be damaged or encrypted (a hosted account's "
                                "database is only readable from its backup zip).")
        return reading
    try:
        if not _columns(conn, "jobs"):
            reading.problems.append("The job database has no jobs table; no jobs were read.")
            return reading
        reading.readable = True
        extras = _side_tables(conn, reading)
        rows = list(_rows(conn, "jobs", JOB_COLUMNS, reading.problems, "jobs"))
    finally:
        conn.close()
    rows.sort(key=lambda r: (r.get("id") is None, r.get("id") or 0))
    first = rows[0] if rows else {}
    # The install's identity: its first job, the same in its folder and in every backup of it.
    reading.install_id = f"{first.get('id')}|{first.get('url')}|{first.get('date_found')}"
    for row in rows:
        _take(row, reading, extras)
    return reading


@dataclass
class _Extras:
    contacts: dict[int, list[dict]] = field(default_factory=lambda: defaultdict(list))
    surveys: dict[int, list[dict]] = field(default_factory=lambda: defaultdict(list))


def _side_tables(conn: sqlite3.Connection, reading: JobsReading) -> _Extras:
    extras = _Extras()
    for row in _rows(conn, "job_contacts", None, reading.problems, "contacts"):
        if isinstance(row.get("job_id"), int):
            extras.contacts[row["job_id"]].append(row)
    for row in _rows(conn, "survey_responses", None, reading.problems, "survey responses"):
        if isinstance(row.get("job_id"), int):
            extras.surveys[row["job_id"]].append(row)
    for table in ("job_contacts", "survey_responses", "company_research", "background_tasks",
                  "digest_queue"):
        if _columns(conn, table):
            try:
                reading.counts[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            except sqlite3.DatabaseError:
                reading.counts[table] = 0
    return extras


def job_uid(install_id: str, source_id: int) -> str:
    return str(uuid.uuid5(UID_NAMESPACE, f"{install_id}#{source_id}"))


def _take(row: dict[str, Any], reading: JobsReading, extras: _Extras) -> None:
    source_id = row.get("id")
    title, company = _text(row.get("title")), _text(row.get("company"))
    shown = f"Peregrine job {source_id}" + (f" ({title or company})" if title or company else "")
    if not isinstance(source_id, int):
        reading.skipped.append((shown, "it has no id in Peregrine's database"))
        return
    if not title and not company:
        reading.skipped.append((shown, "it has no title or company (an e-mail digest entry "
                                       "Peregrine had not filled in yet)"))
        return
    notes: list[str] = []
    url = _text(row.get("url"))
    if url and not re.match(r"^https?://[^\s/]+", url):
        notes.append(f"Peregrine's address for it: {url}")
        url = ""
    status_text = _text(row.get("status"))
    applied_at = _text(row.get("applied_at"))
    ours, rejected_from, status_note = map_status(status_text, _text(row.get("rejection_stage")),
                                                  applied_at)
    if status_note:
        notes.append(status_note)
    if status_text.lower() not in (*SAME, "rejected", "interview_rejected", "synced", "survey",
                                   "archived"):
        reading.unmapped_statuses[status_text or "(none)"] = \
            reading.unmapped_statuses.get(status_text or "(none)", 0) + 1
    found_day = _day(row.get("date_found"))
    if found_day is None:
        found_day = next((d for c, _s in STAGE_COLUMNS if (d := _day(row.get(c)))),
                         date.today().isoformat())
        if _text(row.get("date_found")):
            notes.append(f"Date found in Peregrine: “{_text(row.get('date_found'))}”.")
    history = _history(row, ours, rejected_from, found_day)
    values: dict[str, Any] = {
        "uid": job_uid(reading.install_id, source_id),
        "title": title or "(untitled)", "company": company, "url": url,
        "source": _text(row.get("source")), "location": _text(row.get("location")),
        "remote": _remote(row.get("is_remote")), "salary": _text(row.get("salary")),
        "description": str(row.get("description") or ""), "date_found": found_day,
        "status": ours, "status_history": history}
    if ours in statuses.APPLIED_OR_LATER or rejected_from in statuses.APPLIED_OR_LATER:
        values["applied_on"] = _day(applied_at) or next(
            (h["at"][:10] for h in history if h["status"] == statuses.APPLIED), None)
    interview = _text(row.get("interview_date"))
    if interview:
        moment = instant(interview)
        if moment is None:
            notes.append(f"Interview in Peregrine: “{interview}” (not a date).")
        else:
            if len(interview) <= 10:   # a date only: noon UTC, as Peregrine's calendar did
                moment = datetime.fromisoformat(interview[:10]).replace(hour=12,
                                                                         tzinfo=timezone.utc)
                notes.append(f"Interview on {interview[:10]}; Peregrine kept no time, so it is "
                             "set to 12:00 UTC as Peregrine's calendar did.")
            values["interview_at"] = _stamp(moment)
            values["interview_tz"] = "UTC"
    survey = instant(row.get("survey_at"))
    if survey is not None:
        notes.append(f"Questionnaire or assessment received {survey:%Y-%m-%d %H:%M}.")
    notes.extend(_more_notes(row, extras.contacts.get(source_id, ()),
                             extras.surveys.get(source_id, ())))
    if notes:
        values["notes"] = "From Peregrine:\n" + "\n".join(notes)
    reading.jobs.append(JobPlan(source_id, values, _page_id(row.get("notion_page_id")),
                                _text(row.get("calendar_event_id")), status_text))


def _history(row: dict[str, Any], ours: str, rejected_from: str | None,
             found_day: str) -> list[dict[str, str]]:
    """pending at discovery, then each stage entered (§6.1 "Stage timestamps"), ending in the
    status the job has — a rejected job's history holds the stage it was rejected from."""
    found = instant(found_day) or datetime.now().astimezone()
    history = [{"status": statuses.PENDING, "at": _stamp(found)}]
    last = found
    final_stage = rejected_from if ours == statuses.REJECTED else ours
    for column, stage in STAGE_COLUMNS:
        moment = instant(row.get(column))
        if moment is None:
            continue
        if statuses.PIPELINE.index(stage) > statuses.PIPELINE.index(final_stage or "pending"):
            continue   # stamped, then moved back (a stale stamp)
        history.append({"status": stage, "at": _stamp(moment)})
        last = max(last, moment)
    if final_stage and final_stage != history[-1]["status"]:
        history.append({"status": final_stage, "at": _stamp(last)})
    if ours == statuses.REJECTED:
        history.append({"status": statuses.REJECTED, "at": _stamp(last)})
    return history


def _more_notes(row: dict[str, Any], contacts: Any, surveys: Any) -> list[str]:
    notes: list[str] = []
    score, gaps = row.get("match_score"), _text(row.get("keyword_gaps"))
    if score not in (None, ""):
        notes.append(f"Match score: {_text(score)}" + (f" · Missing keywords: {gaps}" if gaps
                                                        else ""))
    event = _text(row.get("calendar_event_id"))
    if event and not CALDAV_EVENT.match(event):
        notes.append(f"Peregrine's Google Calendar event {event} stays in your calendar; "
                     "Peregrine Desktop adds its own if the interview changes.")
    for contact in contacts:
        direction = "received" if contact.get("direction") == "inbound" else "sent"
        when = _text(contact.get("received_at"))
        who = _text(contact.get("from_addr") if direction == "received"
                    else contact.get("to_addr"))
        line = f"E-mail {direction} {when}".rstrip() + (f" ({who})" if who else "")
        subject = _text(contact.get("subject"))
        notes.append(line + (f": {subject}" if subject else ""))
        body = plain(contact.get("body"))
        if body:
            notes.append("  " + body.replace("\n", "\n  "))
    for survey in surveys:
        name = _text(survey.get("survey_name")) or "Survey"
        parts = [f"{name} ({_text(survey.get('received_at')) or 'date unknown'})"]
        if _text(survey.get("reported_score")):
            parts.append(f"score {_text(survey.get('reported_score'))}")
        notes.append("Survey: " + ", ".join(parts))
    qa = row.get("application_qa")
    if qa:
        try:
            entries = json.loads(qa)
        except (TypeError, ValueError):
            entries = []
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and (entry.get("question") or entry.get("answer")):
                notes.append(f"Q: {_text(entry.get('question'))}\nA: {_text(entry.get('answer'))}")
    letter = str(row.get("cover_letter") or "").strip()
    if letter:
        notes.append("Cover letter:\n" + letter)
    return notes
