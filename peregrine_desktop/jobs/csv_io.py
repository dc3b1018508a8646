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
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from peregrine_desktop.breather import Breather
from peregrine_desktop.jobs import statuses
from peregrine_desktop.jobs.store import JOB_FIELDS, JobValidationError, clean_job_values

if TYPE_CHECKING:  # pragma: no cover
    from peregrine_desktop.jobs.store import JobStore

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


#: Status names other trackers use → ours; the import dialog shows the guess and lets the user
#: change it, once for all rows with that name.
STATUS_GUESSES: dict[str, str] = {
    "wishlist": statuses.PENDING, "wish list": statuses.PENDING, "saved": statuses.PENDING,
    "bookmarked": statuses.PENDING, "interested": statuses.PENDING, "new": statuses.PENDING,
    "to apply": statuses.APPROVED, "shortlisted": statuses.APPROVED,
    "preparing": statuses.APPROVED, "ready to apply": statuses.APPROVED,
    "submitted": statuses.APPLIED, "application sent": statuses.APPLIED,
    "phone interview": statuses.PHONE_SCREEN, "screening": statuses.PHONE_SCREEN,
    "recruiter call": statuses.PHONE_SCREEN, "phone call": statuses.PHONE_SCREEN,
    "interview": statuses.INTERVIEWING, "interviewed": statuses.INTERVIEWING,
    "onsite": statuses.INTERVIEWING, "on site": statuses.INTERVIEWING,
    "technical interview": statuses.INTERVIEWING, "final round": statuses.INTERVIEWING,
    "offer received": statuses.OFFER, "negotiating": statuses.OFFER,
    "negotiation": statuses.OFFER, "accepted": statuses.HIRED, "offer accepted": statuses.HIRED,
    "declined": statuses.REJECTED, "not selected": statuses.REJECTED,
    "ghosted": statuses.REJECTED, "no response": statuses.REJECTED,
    "withdrawn": statuses.REJECTED, "archived": statuses.REJECTED, "closed": statuses.REJECTED,
}


def status_guess(name: str) -> str:
    """Our status for a name another tracker uses; Pending when nothing fits."""
    return STATUS_GUESSES.get(" ".join(name.lower().replace("-", " ").split()),
                              statuses.PENDING)


@dataclass
class ImportChoices:
    """What the user decided once for all rows: add ``https://`` to web addresses without a
    scheme, and which of our statuses each unknown status name becomes."""

    add_scheme: bool = True
    status_map: dict[str, str] = field(default_factory=dict)
    #: How a date like 03/04/2026 is read: 3 April (day first) or March 4.
    day_first: bool = True


@dataclass(frozen=True)
class SkippedRow:
    """A row left out, where a spreadsheet shows it (``row``, header = 1) and where the file
    has it (``line``: differs after multi-line cells), and why."""

    row: int
    line: int
    reason: str

    def __str__(self) -> str:
        where = f"Row {self.row}" if self.line == self.row else \
            f"Row {self.row} (line {self.line})"
        return f"{where}: {self.reason}"


@dataclass
class ImportPlan:
    """A CSV file read through once: which column feeds which field, the first rows as they will
    be imported, how many are ready, every row already known to be skipped, and the questions
    to ask once (unknown status names, addresses without https://).  Rows are not kept: the
    import reads the file again, so a file of any size fits in memory."""

    path: Path
    encoding: str
    headers: list[str]
    mapping: dict[int, str]                          # column index → job field
    ignored_headers: list[str]
    #: A sentence for the user when the file was not UTF-8, else "".
    encoding_note: str = ""
    preview: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    ready: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)
    #: Unknown status names as written → how many rows use them.
    unknown_statuses: dict[str, int] = field(default_factory=dict)
    #: (row, line) of rows whose web address lacks https:// (otherwise fine), and an example.
    schemeless: list[tuple[int, int]] = field(default_factory=list)
    schemeless_example: str = ""
    #: Dates like 03/04/2026 that could be read either way, and how many dates of the file
    #: show the order ("day": 14/03/2026, "month": 03/14/2026).
    ambiguous_dates: int = 0
    date_orders: dict[str, int] = field(default_factory=dict)
    fingerprint: tuple[int, int] = (0, 0)

    @property
    def total_rows(self) -> int:
        return self.ready + len(self.skipped)

    def ready_with(self, choices: ImportChoices) -> int:
        return self.ready - (0 if choices.add_scheme else len(self.schemeless))

    def skipped_with(self, choices: ImportChoices) -> list[SkippedRow]:
        """Every skipped row, in file order, for these choices."""
        if choices.add_scheme or not self.schemeless:
            return self.skipped
        return sorted(self.skipped + [SkippedRow(row, line, NO_SCHEME_REASON)
                                      for row, line in self.schemeless], key=lambda s: s.row)

    def default_choices(self) -> ImportChoices:
        day_first = self.date_orders.get("month", 0) <= self.date_orders.get("day", 0)
        return ImportChoices(True, {name: status_guess(name) for name in self.unknown_statuses},
                             day_first)


NO_SCHEME_REASON = "its web address has no https:// (adding it was turned off)"


# -- cell conversion --------------------------------------------------------------------------------
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def unescape_cell(text: str) -> str:
    """Undo the apostrophe :func:`escape_cell` puts before formula-like text (or before text
    that itself starts with an apostrophe)."""
    return text[1:] if text[:1] == "'" and text[1:2] and text[1:2] in (*_FORMULA_START, "'") \
        else text


def escape_cell(value: Any) -> str:
    """Text for a cell; a leading = + - @ gets an apostrophe so spreadsheets do not run it (and
    a leading apostrophe gets another, so that importing the file gives the text back)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith((*_FORMULA_START, "'")) else text


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", "%d %b %Y", "%d %B %Y", "%b %d, %Y",
                 "%B %d, %Y")


_SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def slashed_date_order(text: str) -> str | None:
    """For a date like 14/03/2026: "day" or "month" when its numbers say which comes first,
    "either" when both fit (03/04/2026), None when it is not such a date."""
    match = _SLASHED.match(text.strip())
    if not match:
        return None
    first, second = int(match.group(1)), int(match.group(2))
    if first > 12 >= second:
        return "day"
    if second > 12 >= first:
        return "month"
    return "either" if first <= 12 and second <= 12 else None


def parse_date(text: str, column: str = "Date found", day_first: bool = True) -> str:
    """ISO date from the forms spreadsheets write; 03/04/2026 is read day first unless
    ``day_first`` is False (the import dialog asks once for the whole file)."""
    text = text.strip()
    if not text:
        return ""
    try:
        return datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        pass
    order = slashed_date_order(text)
    patterns = _DATE_FORMATS
    if order is not None:
        day = order == "day" or (order == "either" and day_first)
        patterns = ("%d/%m/%Y",) if day else ("%m/%d/%Y",)
    for pattern in patterns:
        try:
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    raise JobValidationError(f"“{text}” is not a date like 2026-03-14 (for {column}).")


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
#: The longest cell read; a longer one is a damaged or wrong file, not a job's text.
MAX_CELL_CHARS = 1_000_000
PREVIEW_ROWS = 50
_CHUNK = 1 << 20
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|"
                             rb"[\xf0-\xf4][\x80-\xbf]{3}")
_ENCODING_NAMES = {"cp1252": "Windows-1252 (Western European)",
                   "cp1250": "Windows-1250 (Central European)", "utf_16": "UTF-16"}
#: Fields that hold one line; their cells are trimmed (multi-line fields are kept as written).
_MULTILINE = ("description", "notes")
_DATE_FIELDS = ("date_found", "applied_on", "deadline", "next_action_on")

Progress = Callable[[int, int], None]


def _first_bad_utf8(handle: BinaryIO) -> tuple[int, int, bool] | None:
    """None when the stream is valid UTF-8; else (line, byte value, whether valid non-ASCII
    UTF-8 came before it).  Reads in chunks: memory stays flat for any file size."""
    carry, lines, non_ascii = b"", 0, False
    while True:
        chunk = handle.read(_CHUNK)
        data = carry + chunk
        if not data:
            return None
        try:
            data.decode("utf-8")
            carry = b""
        except UnicodeDecodeError as exc:
            if chunk and exc.reason == "unexpected end of data" and exc.end == len(data):
                carry, data = data[exc.start:], data[:exc.start]   # split across chunks
            else:
                before = data[:exc.start]
                non_ascii = non_ascii or not before.isascii()
                return lines + before.count(b"\n") + 1, data[exc.start], non_ascii
        non_ascii = non_ascii or not data.isascii()
        lines += data.count(b"\n")
        if not chunk:
            return None


def detect_encoding(path: Path) -> tuple[str, str]:
    """The file's encoding and, when it is not UTF-8, a sentence saying what it was read as.

    A byte-order mark decides.  Otherwise the file must be UTF-8: a file that is UTF-8 apart from
    a bad byte is refused, naming its line (reading it as another encoding would turn every
    accent into mojibake).  A file with no UTF-8 in it at all is an older export (Excel's
    "CSV" on Windows): its encoding is detected and the user told.
    """
    with path.open("rb") as handle:
        head = handle.read(4)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return "utf-16", ""
        handle.seek(0)
        problem = _first_bad_utf8(handle)
        if problem is None:
            return "utf-8-sig", ""
        line, byte, utf8_before = problem
        handle.seek(0)
        sample = handle.read(4 * _CHUNK)
    if utf8_before or _UTF8_MULTIBYTE.search(sample):
        raise CsvFormatError(
            f"Line {line} of the file holds a byte that is not UTF-8 (0x{byte:02X}), although "
            "the rest of the file is UTF-8, so the file may be damaged. Fix that line, or save "
            "the file again as “CSV UTF-8”, then import it.")
    encoding = _legacy_encoding(sample)
    name = _ENCODING_NAMES.get(encoding, encoding)
    return encoding, (f"This file is not UTF-8; it was read as {name}. If letters look wrong "
                      "below, save it as “CSV UTF-8” and import it again.")


def _legacy_encoding(sample: bytes) -> str:
    """Windows-1252 when the bytes are all defined there (Excel's usual export); else what
    charset-normalizer finds most likely."""
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        pass
    import charset_normalizer

    best = charset_normalizer.from_bytes(sample).best()
    return best.encoding if best is not None else "cp1252"


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


class _Rows:
    """The file's records as (row, first line, cells): ``row`` counts records as a spreadsheet
    does (header and blank rows included), ``line`` the file's lines (multi-line cells)."""

    def __init__(self, path: Path, encoding: str) -> None:
        self.path, self.encoding = path, encoding
        self.size = path.stat().st_size

    def __iter__(self) -> Iterator[tuple[int, int, list[str]]]:
        with self.path.open("rb") as binary, io.TextIOWrapper(
                binary, encoding=self.encoding, newline="") as text:
            self.binary = binary
            sample = text.read(8192)
            if sample.count("\0") > 8:
                raise CsvFormatError("This is not a CSV file (it holds binary data). Export "
                                     "your spreadsheet as CSV and try again.")
            text.seek(0)
            reader = csv.reader(text, _dialect(sample))
            row, line = 0, 1
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    too_long = "field larger than field limit" in str(exc)
                    raise CsvFormatError(
                        f"Row {row + 1} (line {line}) "
                        + (f"has a cell longer than {MAX_CELL_CHARS:,} characters"
                           if too_long else f"is not valid CSV ({exc})")
                        + ". Nothing was imported; fix that row and try again.") from None
                row += 1
                yield row, line, cells
                line = reader.line_num + 1

    def position(self) -> int:
        return self.binary.tell()


class _Reader:
    """One pass over a file: the header's mapping, then each data row judged (a job, or the
    reason it is skipped), duplicates within the file included."""

    def __init__(self, path: Path, encoding: str, existing_urls: Iterable[str],
                 choices: ImportChoices) -> None:
        self.rows = _Rows(path, encoding)
        self.known = set(existing_urls)
        self.choices = choices
        self.seen: dict[str, int] = {}
        self.headers: list[str] = []
        self.mapping: dict[int, str] = {}
        self.ignored: list[str] = []

    def __iter__(self) -> Iterator[tuple[int, int, dict[str, Any] | None, str]]:
        """(row, line, job, reason): ``job`` None when the row is skipped for ``reason``;
        blank rows are passed over."""
        limit = csv.field_size_limit()
        csv.field_size_limit(MAX_CELL_CHARS)
        try:
            records = iter(self.rows)
            for _row, _line, cells in records:
                if any(c.strip() for c in cells):
                    self._read_header(cells)
                    break
            else:
                raise CsvFormatError("The file is empty.")
            breathe = Breather()        # the UI thread gets the GIL every couple of ms
            for row, line, cells in records:
                breathe()
                if not any(c.strip() for c in cells):
                    continue
                yield (row, line, *self._judge(row, cells))
        finally:
            csv.field_size_limit(limit)

    def _read_header(self, headers: list[str]) -> None:
        self.headers = list(headers)
        for index, header in enumerate(headers):
            name = field_for_header(header)
            if name and name not in self.mapping.values() and name not in IGNORED_FIELDS:
                self.mapping[index] = name
            elif header.strip():
                self.ignored.append(header.strip())
        if "title" not in self.mapping.values():
            raise CsvFormatError(
                "No column looks like a job title. Name the column “Title” (or “Job title”, "
                "“Position”) in the first row and try again.")

    def _judge(self, row: int, cells: list[str]) -> tuple[dict[str, Any] | None, str]:
        try:
            job = job_from_cells(cells, self.mapping, self.choices)
        except JobValidationError as exc:
            return None, str(exc)
        url = job.get("url") or ""
        if url in self.known:
            return None, "already in your pipeline (same URL)"
        if url in self.seen:
            return None, f"same URL as row {self.seen[url]}"
        if url:
            self.seen[url] = row
        return job, ""


def _fingerprint(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_size, info.st_mtime_ns


def read_csv(path: str | Path, existing_urls: Iterable[str] = (),
             progress: Progress | None = None) -> ImportPlan:
    """Read ``path`` once into an :class:`ImportPlan` (``progress(bytes read, size)`` now and
    then).  Raises :class:`CsvFormatError` when the file cannot be a job list."""
    path = Path(path)
    try:
        fingerprint = _fingerprint(path)
        encoding, note = detect_encoding(path)
        plan_reader = _Reader(path, encoding, existing_urls, ImportChoices())
        plan: ImportPlan | None = None
        for count, (row, line, job, reason) in enumerate(plan_reader):
            if plan is None:
                plan = _new_plan(path, encoding, note, plan_reader, fingerprint)
            if job is None:
                plan.skipped.append(SkippedRow(row, line, reason))
                continue
            plan.ready += 1
            if job.pop("_added_scheme", False):
                plan.schemeless.append((row, line))
                plan.schemeless_example = plan.schemeless_example or job["url"]
            unknown = job.pop("_unknown_status", "")
            if unknown:
                plan.unknown_statuses[unknown] = plan.unknown_statuses.get(unknown, 0) + 1
            for order in job.pop("_date_orders", ()):
                if order == "either":
                    plan.ambiguous_dates += 1
                else:
                    plan.date_orders[order] = plan.date_orders.get(order, 0) + 1
            if len(plan.preview) < PREVIEW_ROWS:
                plan.preview.append((row, job))
            if progress and count % 2000 == 0:
                progress(plan_reader.rows.position(), plan_reader.rows.size)
    except OSError as exc:
        raise CsvFormatError(f"The file could not be opened ({exc.strerror or exc}).") from None
    except UnicodeDecodeError as exc:    # a UTF-16 or legacy file that is damaged
        raise CsvFormatError(f"The file could not be read as {encoding} ({exc.reason}). Save "
                             "it again as “CSV UTF-8” and try again.") from None
    return plan or _new_plan(path, encoding, note, plan_reader, fingerprint)


def _new_plan(path: Path, encoding: str, note: str, reader: _Reader,
              fingerprint: tuple[int, int]) -> ImportPlan:
    return ImportPlan(path, encoding, reader.headers, dict(reader.mapping), reader.ignored,
                      note, fingerprint=fingerprint)


def read_csv_text(text: str, existing_urls: Iterable[str] = ()) -> ImportPlan:
    """:func:`read_csv` for text in memory (tests, pasted data): written to a temporary file."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pasted.csv"
        path.write_text(text, encoding="utf-8")
        return read_csv(path, existing_urls)


def iter_import(plan: ImportPlan, choices: ImportChoices,
                existing_urls: Iterable[str]) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """The rows to import, read again from the file (row, line, job).  Raises
    :class:`CsvFormatError` when the file changed since the plan was made."""
    try:
        changed = _fingerprint(plan.path) != plan.fingerprint
    except OSError:
        changed = True
    if changed:
        raise CsvFormatError("The file changed after it was read. Choose it again to see what "
                             "will be imported.")
    for row, line, job, _reason in _Reader(plan.path, plan.encoding, existing_urls, choices):
        if job is not None:
            for note in ("_added_scheme", "_unknown_status", "_date_orders"):
                job.pop(note, None)
            yield row, line, job


def _lacks_scheme(text: str) -> bool:
    """True for an address like ``jobs.acme.com/1`` that only lacks its ``https://``."""
    if not text or "://" in text or any(ch.isspace() for ch in text):
        return False
    host = text.split("/", 1)[0].split(":", 1)[0]
    return "." in host and all(part.isalnum() or "-" in part for part in host.split(".")) \
        and host.rsplit(".", 1)[-1].isalpha()


def job_from_cells(row: list[str], mapping: dict[int, str],
                   choices: ImportChoices = ImportChoices()) -> dict[str, Any]:
    """One job from a row's cells; raises :class:`JobValidationError` with the reason the row
    is skipped."""
    raw: dict[str, str] = {}
    for index, name in mapping.items():
        cell = row[index] if index < len(row) else ""
        raw[name] = unescape_cell(cell if name in _MULTILINE else cell.strip())
    job: dict[str, Any] = {k: v for k, v in raw.items()
                           if k not in ("status_history", "interview_at", *_DATE_FIELDS)}
    for name in _DATE_FIELDS:
        if raw.get(name):
            job[name] = parse_date(raw[name], HEADERS[name], choices.day_first)
    if "interview_at" in raw:
        job["interview_at"] = parse_interview(raw["interview_at"], raw.get("interview_tz", ""))
    if raw.get("status_history"):
        job["status_history"] = history_from_text(raw["status_history"])
    status = job.get("status", "")
    unknown = ""
    if not status:
        job.pop("status", None)
    elif statuses.normalise(status) is None:
        unknown = " ".join(status.split())
        job["status"] = choices.status_map.get(unknown) or status_guess(unknown)
    added_scheme = _lacks_scheme(raw.get("url", ""))
    if added_scheme:
        if not choices.add_scheme:
            raise JobValidationError(NO_SCHEME_REASON)
        job["url"] = "https://" + raw["url"]
    clean = clean_job_values(job)     # raises with the reason the row is skipped
    clean["url"] = clean["url"] or ""
    if "status_history" in job:
        clean["status_history"] = job["status_history"]
    if raw.get("uid"):
        clean["uid"] = raw["uid"]
    if added_scheme:
        clean["_added_scheme"] = True
    if unknown:
        clean["_unknown_status"] = unknown
    orders = [o for o in (slashed_date_order(raw.get(n, "")) for n in _DATE_FIELDS) if o]
    if orders:
        clean["_date_orders"] = orders
    return clean


def import_csv(store: "JobStore", plan: ImportPlan, choices: ImportChoices,
               progress: Progress | None = None, batch: int = 500) -> "CsvImportReport":
    """Insert the plan's rows in one transaction (all or nothing), reading the file again in
    batches so memory stays flat; ``progress(rows done, rows to do)``."""
    total = plan.ready_with(choices)
    report = CsvImportReport()
    pending: list[tuple[int, int, dict[str, Any]]] = []

    def flush() -> None:
        result = store.add_many([job for _row, _line, job in pending])
        report.added += result.added
        report.skipped.extend(SkippedRow(pending[i][0], pending[i][1], reason)
                              for i, reason in result.skipped)
        pending.clear()
        if progress:
            progress(report.added + len(report.skipped), total)

    with store.transaction():
        for item in iter_import(plan, choices, store.existing_urls()):
            pending.append(item)
            if len(pending) >= batch:
                flush()
        if pending:
            flush()
    return report


@dataclass
class CsvImportReport:
    """What an import did: how many jobs were added, and rows the database refused (a URL
    added elsewhere meanwhile) beyond those the plan already listed."""

    added: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)


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
