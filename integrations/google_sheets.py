"""Google Sheets: the job pipeline as rows of a sheet, in a constant number of requests per sync.

One read of the sheet finds every job's row by its Peregrine ID; changed rows are rewritten
together in one ``values:batchUpdate`` and new ones added in one ``values:append`` (the header row
is created or extended on the way).  Columns the user added are kept as they are.  Access goes
through a service-account key: the user shares the sheet with the account's e-mail.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

from peregrine_sdk.google_auth import ServiceAccountToken, key_file_field
from peregrine_sdk.job_columns import job_value
from peregrine_sdk.base import IntegrationBase
from peregrine_sdk.capabilities import JobSync
from peregrine_sdk.errors import ErrorKind, IntegrationError
from peregrine_sdk.http import NO_RETRY, HttpClient, RetryPolicy

API_URL = "https://sheets.googleapis.com"
SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
DEFAULT_SHEET = "Jobs"
#: The header row Peregrine writes: the key first, then the job's columns.
HEADER: tuple[str, ...] = (JobSync.KEY_COLUMN, *JobSync.JOB_COLUMNS.values())
_COLUMN_OF = dict(zip(JobSync.JOB_COLUMNS.values(), JobSync.JOB_COLUMNS))
_SHEET_URL = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]+)")


def spreadsheet_id_from(text: str) -> str:
    """The spreadsheet ID from the ID itself or the sheet's address."""
    text = (text or "").strip()
    if urlsplit(text).scheme in ("http", "https"):
        match = _SHEET_URL.search(urlsplit(text).path)
        if match:
            return match.group(1)
    return text


def column_letter(number: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while number > 0:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


class GoogleSheetsIntegration(IntegrationBase, JobSync):
    name = "google_sheets"
    endpoints = {"api_url": API_URL}
    label = "Google Sheets"
    tier = "paid"
    description = ("Keeps your job pipeline as rows of a Google Sheet, found again by Peregrine "
                   "ID: at most three requests per sync, however many jobs.")
    timeout: tuple[float, float] = (5.0, 60.0)
    policy = RetryPolicy(attempts=6, base_delay=1.0, max_wait=60.0)

    def fields(self) -> list[dict]:
        return [
            key_file_field("Google Sheets"),
            {"key": "spreadsheet_id", "label": "Spreadsheet", "type": "text",
             "placeholder": "https://docs.google.com/spreadsheets/d/… or its ID",
             "required": True,
             "help": "Share the sheet with the service account's e-mail "
                     "(…@….iam.gserviceaccount.com) as Editor."},
            {"key": "sheet_name", "label": "Tab", "type": "text", "placeholder": DEFAULT_SHEET,
             "required": False,
             "help": f"The tab the jobs go to; empty means “{DEFAULT_SHEET}”. Peregrine adds "
                     f"its header row if the tab is empty."},
        ]

    def connect(self, config: dict) -> bool:
        self.config = {k: (v.strip() if isinstance(v, str) else v) for k, v in config.items()}
        self.spreadsheet_id = spreadsheet_id_from(str(self.config.get("spreadsheet_id") or ""))
        self.sheet = str(self.config.get("sheet_name") or DEFAULT_SHEET)
        self.auth = ServiceAccountToken(str(self.config.get("key_file") or ""), SCOPES)
        self._client: HttpClient | None = None
        self._rows: list[list[Any]] | None = None
        return self.required_present(self.config)

    # -- plumbing -------------------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        return self.endpoint("api_url")

    @property
    def request_count(self) -> int:
        return self._client.request_count if self._client else 0

    def _http(self) -> HttpClient:
        if self._client is None:
            self._client = HttpClient(timeout=self.timeout, policy=self.policy)
        return self._client

    def _hints(self) -> dict[int, tuple[ErrorKind, str]]:
        return {
            401: (ErrorKind.INVALID_AUTH, "Google did not accept the access token; test again, "
                  "or create a new key."),
            403: (ErrorKind.INVALID_AUTH, f"Google denied access: share the sheet with "
                  f"{self.auth.email} as Editor (Share → add that address), and enable the "
                  f"Google Sheets API in the key's project."),
            404: (ErrorKind.NOT_FOUND, "There is no spreadsheet with this ID; copy the sheet's "
                  "address from your browser again."),
            429: (ErrorKind.RATE_LIMITED, "Google's per-minute quota is used up; sync again in "
                  "a minute."),
        }

    def _call(self, method: str, path: str, *, policy: RetryPolicy | None = None,
              **kwargs: Any) -> Any:
        client = self._http()
        headers = {"Authorization": f"Bearer {self.auth.token(client)}"}
        response = client.request(method, f"{self.api_url}/v4/spreadsheets/"
                                  f"{quote(self.spreadsheet_id, safe='')}{path}",
                                  headers=headers, hints=self._hints(), policy=policy, **kwargs)
        return response.json() if response.content else {}

    @property
    def _sheet_ref(self) -> str:
        return "'" + self.sheet.replace("'", "''") + "'"

    def _range_path(self, cells: str = "") -> str:
        return quote(self._sheet_ref + (f"!{cells}" if cells else ""), safe="")

    def probe(self) -> None:
        """The token exchange, then the spreadsheet's tabs: proves key, sharing and tab."""
        client = self._http()
        saved, client.policy = client.policy, NO_RETRY
        try:
            answer = self._call("GET", "", params={
                "fields": "spreadsheetId,properties.title,sheets.properties(sheetId,title)"})
        finally:
            client.policy = saved
        tabs = [s.get("properties", {}).get("title") for s in answer.get("sheets") or []]
        if self.sheet not in tabs:
            raise IntegrationError(ErrorKind.NOT_FOUND,
                                   f"The spreadsheet has no tab named “{self.sheet}”; add one "
                                   f"or enter the name of an existing tab.")

    # -- JobSync --------------------------------------------------------------------------------------
    def sync(self, jobs: list[dict]) -> int:
        """The guide's interface: update each job's row or add it (found by Peregrine ID)."""
        return self.upsert_all(jobs)

    def record_for(self, job: dict) -> dict:
        """Header → cell text, in header order."""
        record: dict[str, Any] = {JobSync.KEY_COLUMN: str(job["id"])}
        for column in HEADER[1:]:
            value = job_value(job, _COLUMN_OF[column])
            record[column] = ("Yes" if value else "No") if isinstance(value, bool) else \
                ("" if value is None else str(value))
        return record

    def _read(self) -> list[list[Any]]:
        answer = self._call("GET", f"/values/{self._range_path()}",
                            params={"majorDimension": "ROWS"})
        self._rows = [list(row) for row in answer.get("values") or []]
        return self._rows

    def _key_rows(self, rows: list[list[Any]]) -> dict[str, int]:
        """Peregrine ID → 1-based row number (the first row holding it wins)."""
        header = [str(c).strip() for c in rows[0]] if rows else []
        if JobSync.KEY_COLUMN not in header:
            return {}
        index = header.index(JobSync.KEY_COLUMN)
        found: dict[str, int] = {}
        for number, row in enumerate(rows[1:], start=2):
            key = str(row[index]).strip() if index < len(row) else ""
            if key and key not in found:
                found[key] = number
        return found

    def find_jobs(self, job_ids: list[int]) -> dict[int, str]:
        """One read of the whole tab; the remote id of a job is its Peregrine ID."""
        rows = self._read()
        keys = self._key_rows(rows)
        return {job_id: str(job_id) for job_id in job_ids if str(job_id) in keys}

    def push_jobs(self, writes: list[JobSync.Write]) -> Iterator[JobSync.Outcome]:
        """At most one batchUpdate (changed rows, header) and one append (new rows)."""
        rows = self._rows if self._rows is not None else self._read()
        self._rows = None           # the next sync reads the sheet again
        header = [str(c).strip() for c in rows[0]] if rows else []
        new_header = header + [c for c in HEADER if c not in header]
        position = {name: i for i, name in enumerate(new_header)}
        key_rows = self._key_rows(rows)
        last = column_letter(len(new_header))

        data: list[dict] = []
        if rows and new_header != header:
            data.append({"range": f"{self._sheet_ref}!A1:{last}1", "values": [new_header]})
        updates, creates, appended = [], [], []
        for write in writes:
            number = key_rows.get(str(write.job["id"])) if write.remote_id else None
            base = rows[number - 1] if number else []
            row = [*base, *[""] * (len(new_header) - len(base))]
            for column, value in write.record.items():
                row[position[column]] = value
            if number:
                updates.append(write)
                data.append({"range": f"{self._sheet_ref}!A{number}:{last}{number}",
                             "values": [row]})
            else:
                creates.append(write)
                appended.append(row)

        if data:
            try:
                self._call("POST", "/values:batchUpdate", json={
                    "valueInputOption": "RAW", "data": data, "includeValuesInResponse": False})
            except IntegrationError as exc:
                if exc.kind in (ErrorKind.INVALID_AUTH, ErrorKind.NOT_FOUND):
                    raise
                for write in updates:
                    yield JobSync.Outcome(int(write.job["id"]), error=exc)
                updates = []
            for write in updates:
                yield JobSync.Outcome(int(write.job["id"]), str(write.job["id"]), False)
        if appended:
            if not rows:
                appended.insert(0, new_header)      # an empty tab gets its header row too
            # Not resent after a lost answer: the rows may have landed, and the next sync's
            # read finds them by key instead of appending them twice.
            once = RetryPolicy(attempts=self.policy.attempts, base_delay=self.policy.base_delay,
                               max_wait=self.policy.max_wait, retry_statuses=frozenset({429}),
                               retry_read_timeouts=False, sleep=self.policy.sleep)
            try:
                self._call("POST", f"/values/{self._range_path('A1')}:append",
                           params={"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS",
                                   "includeValuesInResponse": "false"},
                           json={"range": f"{self._sheet_ref}!A1", "majorDimension": "ROWS",
                                 "values": appended}, policy=once)
            except IntegrationError as exc:
                if exc.kind in (ErrorKind.INVALID_AUTH, ErrorKind.NOT_FOUND):
                    raise
                for write in creates:
                    yield JobSync.Outcome(int(write.job["id"]), error=exc)
                return
            for write in creates:
                yield JobSync.Outcome(int(write.job["id"]), str(write.job["id"]), True)
