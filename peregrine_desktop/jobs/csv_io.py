"""CSV in and out of the pipeline.

Import matches columns by header, ignoring case, spacing and punctuation, with the names other
trackers and spreadsheets use ("Company Name", "Job Link", "Stage"); every row that cannot be
imported is reported with its row number and the reason.  Export writes what the user sees
(the filtered jobs, in view order), optionally with each job's status history as proof of
applications.  Pure Python: runs on a worker thread.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from peregrine_desktop.jobs import statuses
from peregrine_desktop.jobs.store import JOB_FIELDS, JobValidationError, clean_job_values

#: Export headers, in order; import recognises them too.
HEADERS: dict[str, str] = {
    "id": "ID", "uid": "Peregrine ID", "title": "Title", "company": "Company", "url": "URL", "source": "Source",
    "location": "Location", "remote": "Remote", "salary": "Salary",
    "description": "Description", "notes": "Notes", "date_found": "Date found",
    "applied_on": "Date applied", "deadline": "Deadline", "next_action_on": "Next action on",
    "next_action_note": "Next action",
    "status": "Status", "interview_at": "Interview at", "interview_tz": "Interview time zone",
    "updated_at": "Updated at", "status_history": "Status history",
}

_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "job title", "position", "position title", "role", "job", "job name",
              "job role", "opening"),
    "company": ("company", "company name", "employer", "organisation", "organization",
                "hiring company", "hiring organization"),
    "url": ("url", "link", "job url", "job link", "posting url", "posting", "posting link",
            "apply url", "application url", "application link", "website", "job posting"),
    "source": ("source", "job board", "board", "site", "found via", "found on", "channel"),
    "location": ("location", "city", "place", "job location", "where"),
    "remote": ("remote", "is remote", "remote ok", "work from home", "wfh", "remote job"),
    "salary": ("salary", "pay", "compensation", "salary range", "comp", "wage"),
    "description": ("description", "job description", "details", "summary"),
    "notes": ("notes", "note", "comments", "comment", "my notes"),
    "date_found": ("date found", "found", "date added", "added", "date", "created",
                   "date saved", "saved"),
    "status": ("status", "stage", "pipeline status", "state", "application status"),
    "interview_at": ("interview at", "interview", "interview time", "interview date",
                     "interview datetime"),
    "interview_tz": ("interview time zone", "interview timezone", "time zone", "timezone",
                     "tz"),
    "status_history": ("status history", "history", "stage history"),
    "id": ("id", "job id"),
    "uid": ("peregrine id", "uid", "global id"),
    "applied_on": ("date applied", "applied", "applied on", "applied date", "application date"),
    "deadline": ("deadline", "application deadline", "apply by", "closing date", "closes"),
    "next_action_on": ("next action on", "follow up", "follow-up", "follow up on",
                       "follow up date", "next action date"),
    "next_action_note": ("next action", "next step", "to do", "todo"),
    "updated_at": ("updated at", "updated", "last updated", "modified"),
}
#: Recognised but not imported: the store assigns these.
IGNORED_FIELDS = ("id", "updated_at")


def header_key(header: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", header.lower())


_BY_HEADER: dict[str, str] = {header_key(a): f for f, names in _ALIASES.items() for a in names}


def field_for_header(header: str) -> str | None:
    """The job field a column header means, or None when it means nothing we keep."""
    return _BY_HEADER.get(header_key(header))


class CsvFormatError(Exception):
    """The file as a whole cannot be imported; the message says why and what to do."""


@dataclass
class ImportPlan:
    """A read CSV file: which column feeds which field, the importable jobs (with their row
    numbers, header = row 1) and the rows already known to be skipped, with reasons."""

    headers: list[str]
    mapping: dict[int, str]                          # column index → job field
    ignored_headers: list[str]
    jobs: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return len(self.jobs) + len(self.skipped)


# -- cell conversion --------------------------------------------------------------------------------
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def unescape_cell(text: str) -> str:
    """Undo the apostrophe :func:`escape_cell` puts before formula-like text."""
    return text[1:] if text[:1] == "'" and text[1:2] in _FORMULA_START and text[1:2] else text


def escape_cell(value: Any) -> str:
    """Text for a cell; a leading = + - @ gets an apostrophe so spreadsheets do not run it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", "%d %b %Y", "%d %B %Y", "%b %d, %Y",
                 "%B %d, %Y")


def parse_date(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    try:
        return datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        pass
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    raise JobValidationError(f"“{text}” is not a date like 2026-03-14 (for Date found).")


def parse_interview(text: str, zone: str) -> str | None:
    """ISO text; a time without offset is read in ``zone`` (or this computer's zone)."""
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise JobValidationError(
            f"“{text}” is not a date and time like 2026-03-14 15:00 (for Interview).") from None
    if moment.tzinfo is None:
        try:
            moment = moment.replace(tzinfo=ZoneInfo(zone)) if zone else moment.astimezone()
        except (ZoneInfoNotFoundError, ValueError):
            raise JobValidationError(f"“{zone}” is not a known time zone (like Europe/Berlin).") \
                from None
    return moment.isoformat()


def history_to_text(history: Iterable[Mapping[str, str]]) -> str:
    """"2026-03-01T10:00:00+00:00 Applied; 2026-03-08T09:30:00+00:00 Phone screen"."""
    return "; ".join(f"{h['at']} {statuses.label(h['status'])}" for h in history)


def history_from_text(text: str) -> list[dict[str, str]]:
    entries = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        at, _, name = part.partition(" ")
        status = statuses.normalise(name)
        if status is None:
            raise JobValidationError(f"“{part}” in the status history is not a time and a status.")
        entries.append({"status": status, "at": at})
    return entries


# -- import -----------------------------------------------------------------------------------------
def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252 (Excel's other export)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


class _Excel(csv.excel):
    delimiter = ","


def _dialect(sample: str) -> type[csv.Dialect]:
    """Excel's quoting with the sniffed delimiter (the sniffer's other guesses are unreliable:
    it can misread doubled quotes inside a multi-line cell)."""
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    return type("_Sniffed", (_Excel,), {"delimiter": delimiter})


def read_csv(path: str | Path, existing_urls: Iterable[str] = ()) -> ImportPlan:
    """Read ``path`` into an :class:`ImportPlan`.  Raises :class:`CsvFormatError` when the file
    cannot be a job list (unreadable, empty, no title column)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CsvFormatError(f"The file could not be opened ({exc.strerror or exc}).") from None
    return read_csv_text(decode_csv(data), existing_urls)


def read_csv_text(text: str, existing_urls: Iterable[str] = ()) -> ImportPlan:
    if "\0" in text[:4096]:
        raise CsvFormatError("This is not a CSV file (it holds binary data). Export your "
                             "spreadsheet as CSV and try again.")
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text[:8192]))
    try:
        rows = iter(reader)
        headers = next((row for row in rows if any(c.strip() for c in row)), None)
    except csv.Error as exc:
        raise CsvFormatError(f"The file is not valid CSV ({exc}).") from None
    if headers is None:
        raise CsvFormatError("The file is empty.")
    mapping: dict[int, str] = {}
    ignored: list[str] = []
    for index, header in enumerate(headers):
        name = field_for_header(header)
        if name and name not in mapping.values() and name not in IGNORED_FIELDS:
            mapping[index] = name
        elif header.strip():
            ignored.append(header.strip())
    if "title" not in mapping.values():
        raise CsvFormatError(
            "No column looks like a job title. Name the column “Title” (or “Job title”, "
            "“Position”) in the first row and try again.")
    plan = ImportPlan(list(headers), mapping, ignored)
    seen: dict[str, int] = {}
    known = set(existing_urls)
    number = 1
    try:
        for row in rows:
            number += 1
            if not any(cell.strip() for cell in row):
                continue
            try:
                job = _job_from_row(row, mapping)
            except JobValidationError as exc:
                plan.skipped.append((number, str(exc)))
                continue
            url = job.get("url") or ""
            if url in known:
                plan.skipped.append((number, "already in your pipeline (same URL)"))
            elif url in seen:
                plan.skipped.append((number, f"same URL as row {seen[url]}"))
            else:
                if url:
                    seen[url] = number
                plan.jobs.append((number, job))
    except csv.Error as exc:
        raise CsvFormatError(f"Row {number} is not valid CSV ({exc}).") from None
    return plan


def _job_from_row(row: list[str], mapping: dict[int, str]) -> dict[str, Any]:
    raw = {name: unescape_cell(row[i].strip()) if i < len(row) else ""
           for i, name in mapping.items()}
    job: dict[str, Any] = {k: v for k, v in raw.items()
                           if k not in ("status_history", "interview_at", "date_found")}
    if raw.get("date_found"):
        job["date_found"] = parse_date(raw["date_found"])
    if "interview_at" in raw:
        job["interview_at"] = parse_interview(raw["interview_at"], raw.get("interview_tz", ""))
    if raw.get("status_history"):
        job["status_history"] = history_from_text(raw["status_history"])
    if not job.get("status"):
        job.pop("status", None)
    clean = clean_job_values(job)     # raises with the reason the row is skipped
    clean["url"] = clean["url"] or ""
    if "status_history" in job:
        clean["status_history"] = job["status_history"]
    return clean


# -- export -----------------------------------------------------------------------------------------
def write_csv(path: str | Path, jobs: Iterable[Mapping[str, Any]], with_history: bool = False,
              progress: Callable[[int, int], None] | None = None) -> int:
    """Write ``jobs`` to ``path`` (UTF-8 with BOM so Excel reads accents); returns the count.
    Written to a temporary file first, so a failed export never leaves half a file."""
    jobs = list(jobs)
    columns = [*JOB_FIELDS, *(["status_history"] if with_history else [])]
    target = Path(path)
    partial = target.with_name(target.name + ".part")
    with partial.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([HEADERS[c] for c in columns])
        for done, job in enumerate(jobs, 1):
            writer.writerow([escape_cell(_export_value(c, job)) for c in columns])
            if progress and done % 500 == 0:
                progress(done, len(jobs))
    partial.replace(target)
    return len(jobs)


def _export_value(column: str, job: Mapping[str, Any]) -> Any:
    value = job.get(column)
    if column == "remote":
        return "yes" if value else "no"
    if column == "status":
        return statuses.label(value)
    if column == "status_history":
        return history_to_text(value or ())
    return value
