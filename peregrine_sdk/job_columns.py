"""Job fields as tracker columns: the mapping fields of the Notion and Airtable cards, and the
values each job field takes.  Shared so that both trackers map and format jobs the same way.
"""
from __future__ import annotations

import re
from typing import Any

from peregrine_sdk.capabilities import JobSync

#: What each job field is called on the card.
FIELD_LABELS: dict[str, str] = {
    "title": "Job title", "company": "Company", "status": "Status", "url": "Posting URL",
    "location": "Location", "remote": "Remote", "salary": "Salary", "date_found": "Date found",
    "interview_at": "Interview", "source": "Source", "notes": "Notes",
    "description": "Description", "applied_on": "Applied on", "deadline": "Deadline",
    "next_action_on": "Next action", "next_action_note": "Next action note"}
SKIP = "-"
STATUS_LABELS: dict[str, str] = {
    "pending": "Pending", "approved": "Approved", "rejected": "Rejected", "applied": "Applied",
    "phone_screen": "Phone screen", "interviewing": "Interviewing", "offer": "Offer",
    "hired": "Hired"}


def key_field(where: str) -> dict:
    return {"key": "key_column", "label": "Peregrine ID column", "type": "choice",
            "required": True, "choices": [JobSync.KEY_COLUMN],
            "help": f"A text column of the {where} where Peregrine writes each job's ID, to find "
                    f"it again and update instead of duplicating. Add one named "
                    f"“{JobSync.KEY_COLUMN}” if there is none."}


def mapping_fields() -> list[dict]:
    """One ``choice`` per job field; its options become the real columns after a passing test."""
    specs = []
    for field, default in JobSync.JOB_COLUMNS.items():
        specs.append({
            "key": f"column_{field}", "label": f"{FIELD_LABELS[field]} column", "type": "choice",
            "required": False,
            "choices": [default, {"value": SKIP, "label": "Don't sync"}],
            "help": f"Empty: the column named “{default}”, if there is one; otherwise it is "
                    f"skipped. Test to choose from the real columns."})
    return specs


def mapping_field_of(key: str) -> str | None:
    """The job field a ``column_<field>`` setting maps ("column_company" → "company"), or None
    for any other setting."""
    field = key[len("column_"):] if key.startswith("column_") else ""
    return field if field in JobSync.JOB_COLUMNS else None


def mapping_choices(columns: list[str], key_candidates: list[str]) -> dict[str, list]:
    """Options for the card after a passing test: the real columns, and "Don't sync"."""
    keys = sorted(key_candidates, key=lambda name: name != JobSync.KEY_COLUMN)  # ours first
    choices: dict[str, list] = {"key_column": keys or [JobSync.KEY_COLUMN]}
    for field in JobSync.JOB_COLUMNS:
        choices[f"column_{field}"] = [*columns, {"value": SKIP, "label": "Don't sync"}]
    return choices


def resolve_mapping(config: dict, columns: dict[str, Any] | None) -> dict[str, str]:
    """Job field → column to write, from the card's choices.  With ``columns`` known, a column
    the table lacks is left out (a missing optional column never fails a job)."""
    by_lower = {name.lower(): name for name in columns} if columns is not None else {}
    mapping: dict[str, str] = {}
    for field, default in JobSync.JOB_COLUMNS.items():
        chosen = str(config.get(f"column_{field}") or "").strip()
        if chosen == SKIP:
            continue
        wanted = chosen or default
        if columns is None:
            mapping[field] = wanted
        elif wanted.lower() in by_lower:
            mapping[field] = by_lower[wanted.lower()]
    return mapping


def job_value(job: dict, field: str) -> Any:
    """A job field as a plain value: text, bool, an ISO date/datetime, or None when empty."""
    value = job.get(field)
    if field == "status":
        return STATUS_LABELS.get(str(value), str(value or "")) or None
    if field == "remote":
        return bool(value)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


_NUMBER = re.compile(r"(\d[\d,.\s]*)\s*([kK])?")


def parse_number(text: Any) -> float | None:
    """The first amount in a salary text ("$120,000", "120k–140k" → 120000), or None."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    match = _NUMBER.search(str(text or ""))
    if not match:
        return None
    digits = re.sub(r"[,\s]", "", match.group(1)).rstrip(".")
    try:
        number = float(digits)
    except ValueError:
        return None
    return number * 1000 if match.group(2) else number
