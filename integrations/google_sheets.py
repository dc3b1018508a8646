"""Google Sheets: the job pipeline as rows of a sheet, in a constant number of requests per sync.

One read of the tab finds every job's row by its Peregrine ID (the job's global uid) and shows
what was edited there since the last sync; changed cells are written together in one
``values:batchUpdate`` and new rows added in one ``values:append`` (the header row is created or
extended on the way).  Only the cells of Peregrine's own columns are written — the requests leave
every other cell out (a null value is skipped), so a user's columns, numbers and formulas stay as
they are.  Access goes through a service-account key: the user shares the sheet with the
account's e-mail.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

from peregrine_sdk.base import clean_config
from peregrine_sdk.capabilities import JobSync
from peregrine_sdk.errors import ErrorKind, IntegrationError
from peregrine_sdk.google_auth import ServiceAccountToken, key_file_field
from peregrine_sdk.http import NO_RETRY, HttpClient, RetryPolicy
from peregrine_sdk.job_columns import job_value
from peregrine_sdk.tracker import (Listing, RecordGone, RemoteRecord, TrackerBase, cut_utf16,
                                   digest, form)

API_URL = "https://sheets.googleapis.com"
SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
DEFAULT_SHEET = "Jobs"
#: The header row Peregrine writes: the key first, then the job's columns.
HEADER: tuple[str, ...] = (JobSync.KEY_COLUMN, *JobSync.JOB_COLUMNS.values())
_COLUMN_OF = dict(zip(JobSync.JOB_COLUMNS.values(), JobSync.JOB_COLUMNS))
CELL_LIMIT = 50_000         # characters in one cell
#: The header an older version wrote (the eleven fields before the job's global identity).
LEGACY_HEADER: tuple[str, ...] = HEADER[:12]
#: Google's 403 reasons that are not "the sheet is not shared with the service account".
_REASONS = {
    "SERVICE_DISABLED": (ErrorKind.INVALID_AUTH, "The Google Sheets API is not enabled in the "
                         "key's project: open console.cloud.google.com → APIs & Services → "
                         "enable “Google Sheets API”, then test again."),
    "ACCESS_TOKEN_SCOPE_INSUFFICIENT": (ErrorKind.INVALID_AUTH, "Google did not grant access "
                                        "to spreadsheets for this key; create a new key and "
                                        "test again."),
    "RATE_LIMIT_EXCEEDED": (ErrorKind.RATE_LIMITED, "Google's per-minute quota is used up; "
                            "sync again in a minute."),
    "RESOURCE_EXHAUSTED": (ErrorKind.RATE_LIMITED, "Google's per-minute quota is used up; "
                           "sync again in a minute."),
}
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


class GoogleSheetsIntegration(TrackerBase):
    name = "google_sheets"
    endpoints = {"api_url": API_URL}
    label = "Google Sheets"
    tier = "paid"
    description = ("Keeps your job pipeline as rows of a Google Sheet, both ways: edits made in "
                   "the sheet come back to Peregrine, in a few requests however many jobs.")
    TEXT_LIMIT = CELL_LIMIT
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
        self.config = clean_config(config)
        self.spreadsheet_id = spreadsheet_id_from(str(self.config.get("spreadsheet_id") or ""))
        self.sheet = str(self.config.get("sheet_name") or DEFAULT_SHEET)
        self.auth = ServiceAccountToken(str(self.config.get("key_file") or ""), SCOPES)
        self._client: HttpClient | None = None
        self._rows: list[list[Any]] | None = None
        return self.required_present(self.config)

    # -- plumbing -------------------------------------------------------------------------------
    def _http(self) -> HttpClient:
        if self._client is None:
            self._client = HttpClient(timeout=self.timeout, policy=self.policy)
        return self._client

    def _hints(self) -> dict[int, tuple[ErrorKind, str]]:
        return {
            401: (ErrorKind.INVALID_AUTH, "Google did not accept the access token; test again, "
                  "or create a new key."),
            403: (ErrorKind.NOT_FOUND, self.share_hint),
            404: (ErrorKind.NOT_FOUND, "There is no spreadsheet with this ID; copy the sheet's "
                  "address from your browser again."),
            429: (ErrorKind.RATE_LIMITED, "Google's per-minute quota is used up; sync again in "
                  "a minute."),
        }

    @property
    def share_hint(self) -> str:
        return (f"The service account cannot open this spreadsheet: share it with "
                f"{self.auth.email} as Editor (Share → add that address), then test again.")

    def _call(self, method: str, path: str, *, policy: RetryPolicy | None = None,
              **kwargs: Any) -> Any:
        """One API call; a 403 is told apart by Google's reason (not shared is not_found)."""
        client = self._http()
        headers = {"Authorization": f"Bearer {self.auth.token(client)}"}
        response = client.request(method, f"{self.api_url}/v4/spreadsheets/"
                                  f"{quote(self.spreadsheet_id, safe='')}{path}", ok=(200, 403),
                                  headers=headers, hints=self._hints(), policy=policy, **kwargs)
        if response.status_code == 403:
            kind, hint = _REASONS.get(forbidden_reason(response), (ErrorKind.NOT_FOUND,
                                                                   self.share_hint))
            raise IntegrationError(kind, hint, detail=f"403 {response.text[:300]}")
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
    def mapping(self) -> dict[str, str]:
        """Every job field, under Peregrine's header names (the header is extended as needed)."""
        return {field_name: column for column, field_name in _COLUMN_OF.items()}

    def record_for(self, job: dict, fields: Any = None, key: bool = True) -> dict:
        """Header → cell text; long text is cut to Google's 50,000 characters a cell."""
        record = super().record_for(job, fields, key)
        for column, value in record.items():
            text = ("Yes" if value else "No") if isinstance(value, bool) else \
                ("" if value is None else str(value))
            record[column] = cut_utf16(text, CELL_LIMIT)
        return record

    def legacy_digest(self, job: dict) -> str:
        record: dict[str, Any] = {JobSync.KEY_COLUMN: str(job["id"])}
        for column in LEGACY_HEADER[1:]:
            value = job_value(job, _COLUMN_OF[column])
            record[column] = ("Yes" if value else "No") if isinstance(value, bool) else \
                ("" if value is None else str(value))
        return digest(record)

    def _read(self) -> list[list[Any]]:
        answer = self._call("GET", f"/values/{self._range_path()}",
                            params={"majorDimension": "ROWS"})
        self._rows = [list(row) for row in answer.get("values") or []]
        return self._rows

    def list_records(self, since: str | None = None) -> Listing:
        """One read of the whole tab, always complete.  A row with values but no Peregrine ID
        (added in the sheet) is ``row:N``; a job's row is known by its Peregrine ID."""
        rows = self._read()
        header = [str(c).strip() for c in rows[0]] if rows else []
        if JobSync.KEY_COLUMN not in header:
            return Listing([], complete=True)
        index = header.index(JobSync.KEY_COLUMN)
        ours = {f: header.index(c) for f, c in self.mapping().items() if c in header}
        records, seen = [], set()
        for number, row in enumerate(rows[1:], start=2):
            key = str(row[index]).strip() if index < len(row) else ""
            forms = {f: form(f, "text", row[i] if i < len(row) else "", CELL_LIMIT)
                     for f, i in ours.items()}
            if key:
                if key in seen:
                    continue                # the first row holding a key wins
                seen.add(key)
                records.append(RemoteRecord(key, key, forms))
            elif any(forms.get(f) for f in ("title", "company", "url")):
                records.append(RemoteRecord(f"row:{number}", "", forms))
        return Listing(records, complete=True)

    def _key_rows(self, rows: list[list[Any]]) -> dict[str, int]:
        """Peregrine ID (or ``row:N``) → 1-based row number (the first row holding it wins)."""
        header = [str(c).strip() for c in rows[0]] if rows else []
        if JobSync.KEY_COLUMN not in header:
            return {}
        index = header.index(JobSync.KEY_COLUMN)
        found: dict[str, int] = {}
        for number, row in enumerate(rows[1:], start=2):
            key = str(row[index]).strip() if index < len(row) else ""
            found.setdefault(key or f"row:{number}", number)
        return found

    def _row_cells(self, number: int, cells: dict[int, Any]) -> dict:
        """One range over the written cells of a row; the cells between them are null (left
        as they are)."""
        first, last = min(cells), max(cells)
        values = [cells.get(i) for i in range(first, last + 1)]
        return {"range": f"{self._sheet_ref}!{column_letter(first + 1)}{number}:"
                         f"{column_letter(last + 1)}{number}", "values": [values]}

    def push_jobs(self, writes: list[JobSync.Write]) -> Iterator[JobSync.Outcome]:
        """At most one batchUpdate (changed cells, header) and one append (new rows)."""
        rows = self._rows if self._rows is not None else self._read()
        self._rows = None           # the next sync reads the sheet again
        header = [str(c).strip() for c in rows[0]] if rows else []
        new_header = header + [c for c in HEADER if c not in header]
        position = {name: i for i, name in enumerate(new_header)}
        key_rows = self._key_rows(rows)

        data: list[dict] = []
        if rows and new_header != header:
            data.append(self._row_cells(1, {i: new_header[i]
                                            for i in range(len(header), len(new_header))}))
        updates, creates, appended, gone = [], [], [], []
        for write in writes:
            cells = {position[column]: value for column, value in write.record.items()}
            number = key_rows.get(write.remote_id or "") if write.remote_id else None
            if write.remote_id and not number:
                gone.append(write)
            elif number:
                updates.append(write)
                data.append(self._row_cells(number, cells))
            else:
                creates.append(write)
                appended.append([cells.get(i) for i in range(max(cells) + 1)])
        for write in gone:
            yield JobSync.Outcome(int(write.job["id"]), error=RecordGone("the sheet"))

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
                yield JobSync.Outcome(int(write.job["id"]), str(write.job.get("uid")), False)
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
                yield JobSync.Outcome(int(write.job["id"]), str(write.job.get("uid")), True)

    def delete_records(self, remote_ids: list[str]) -> Iterator[tuple[str, Exception | None]]:
        """The rows go, in one ``spreadsheets:batchUpdate`` (bottom row first, so the row
        numbers of the others hold); one metadata read finds the tab's id."""
        key_rows = self._key_rows(self._read())
        numbers = {r: key_rows[r] for r in remote_ids if r in key_rows}
        for remote_id in remote_ids:
            if remote_id not in numbers:
                yield remote_id, None               # already gone
        if not numbers:
            return
        answer = self._call("GET", "", params={"fields": "sheets.properties(sheetId,title)"})
        sheet_id = next((s["properties"]["sheetId"] for s in answer.get("sheets") or []
                         if s.get("properties", {}).get("title") == self.sheet), None)
        if sheet_id is None:
            raise IntegrationError(ErrorKind.NOT_FOUND, f"The spreadsheet has no tab named "
                                   f"“{self.sheet}” any more.")
        requests = [{"deleteDimension": {"range": {
            "sheetId": sheet_id, "dimension": "ROWS", "startIndex": n - 1, "endIndex": n}}}
            for n in sorted(numbers.values(), reverse=True)]
        try:
            self._call("POST", ":batchUpdate", json={"requests": requests})
        except IntegrationError as exc:
            if exc.kind is ErrorKind.INVALID_AUTH:
                raise
            for remote_id in numbers:
                yield remote_id, exc
            return
        for remote_id in numbers:
            yield remote_id, None


def forbidden_reason(response: Any) -> str:
    """Google's reason for a 403 (``details[].reason`` of its ErrorInfo, else its status)."""
    try:
        error = (response.json() or {}).get("error") or {}
    except ValueError:
        return ""
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("reason"):
            return str(detail["reason"])
    for item in error.get("errors") or []:          # the older format: rateLimitExceeded…
        reason = str((item or {}).get("reason") or "")
        if reason in ("rateLimitExceeded", "userRateLimitExceeded"):
            return "RATE_LIMIT_EXCEEDED"
    message = str(error.get("message") or "")
    if "has not been used in project" in message or "is disabled" in message:
        return "SERVICE_DISABLED"
    return ""
