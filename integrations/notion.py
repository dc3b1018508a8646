"""Notion: the job pipeline as pages of the user's database, updated in place on every sync.

Uses the current API version (2025-09-03), where a database holds data sources: the data source
is resolved once through ``GET /v1/databases/{id}`` and cached with its columns.  Each page carries
the job's global identity (its uid) in the "Peregrine ID" text column, so a job is found again by
key and never created twice, whichever computer created it.  A pull asks only for the pages
edited since the last one (a ``last_edited_time`` filter, 100 pages per request).  Text limits
are counted in UTF-16 code units, as Notion counts them.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from peregrine_sdk.base import clean_config
from peregrine_sdk.capabilities import JobSync
from peregrine_sdk.errors import ErrorKind, IntegrationError
from peregrine_sdk.hooks import FieldChoices
from peregrine_sdk.http import NO_RETRY, HttpClient, RetryPolicy
from peregrine_sdk.job_columns import key_field, mapping_choices, mapping_fields, parse_number
from peregrine_sdk.tracker import (Limit, Listing, RecordGone, RemoteRecord, TrackerBase,
                                   chunks_utf16, cut_utf16, form)

API_URL = "https://api.notion.com"
NOTION_VERSION = "2025-09-03"
TEXT_LIMIT = 2000           # UTF-16 code units per rich-text object, title, URL
MAX_PIECES = 100            # rich-text objects per property
OPTION_LIMIT = 100          # characters of a select option's name
SHARE_HINT = ("Notion cannot see this database. Share it with your integration: open the "
              "database in Notion → ••• → Connections → add your integration; then check the "
              "database ID.")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                   r"[0-9a-fA-F]{12}$")
#: Column types Peregrine can write; formulas, relations, people… are left alone.
WRITABLE = frozenset({"title", "rich_text", "number", "select", "multi_select", "status", "date",
                      "checkbox", "url", "email", "phone_number"})
KEY_TYPES = ("rich_text",)
#: Notion rounds last_edited_time to the minute; a pull looks back this far from its cursor.
LOOK_BACK = timedelta(minutes=2)
#: Column type → the kind of form its values take (see peregrine_sdk.tracker.form).
KINDS = {"number": "number", "select": "choice", "multi_select": "choice", "status": "choice",
         "date": "date", "checkbox": "checkbox"}


def database_id_from(text: str) -> str:
    """The database ID from what people paste: the ID itself or the database's address."""
    text = (text or "").strip()
    if _UUID.match(text):
        return text.replace("-", "").lower()
    parts = urlsplit(text)
    if parts.scheme in ("http", "https"):
        segment = parts.path.rstrip("/").rsplit("/", 1)[-1]
        candidate = segment.rsplit("-", 1)[-1]
        if _UUID.match(candidate):
            return candidate.lower()
    return text


class NotionIntegration(TrackerBase, FieldChoices):
    name = "notion"
    endpoints = {"api_url": API_URL}
    label = "Notion"
    tier = "paid"
    description = ("Keeps your job pipeline as pages of a Notion database, both ways: edits made "
                   "in Notion come back to Peregrine.")
    #: Notion's documented average rate; tests raise it.
    per_second: float | None = 3.0
    timeout: tuple[float, float] = (5.0, 30.0)
    #: Syncs wait out 429s and retry 5xx a few times; one job's failure never stops the others.
    policy = RetryPolicy(attempts=6, base_delay=0.5, max_wait=60.0)

    def fields(self) -> list[dict]:
        return [
            {"key": "token", "label": "Internal integration secret", "type": "password",
             "placeholder": "ntn_…", "required": True,
             "help": "notion.so/my-integrations → your integration → Configuration → Internal "
                     "Integration Secret. Give it Read, Update and Insert content."},
            {"key": "database_id", "label": "Database", "type": "text",
             "placeholder": "https://www.notion.so/…/Jobs-0123…cdef or its ID", "required": True,
             "help": "Paste the database's address or ID, and share the database with the "
                     "integration (••• → Connections)."},
            key_field("database"),
            *mapping_fields(),
        ]

    def connect(self, config: dict) -> bool:
        self.config = clean_config(config)
        self.database_id = database_id_from(str(self.config.get("database_id") or ""))
        self._client: HttpClient | None = None
        self._data_source_id: str | None = None
        self._columns: dict[str, dict] | None = None
        self._server_time: datetime | None = None
        return self.required_present(self.config)

    # -- plumbing -------------------------------------------------------------------------------
    def _http(self) -> HttpClient:
        if self._client is None:
            token = str(self.config.get("token") or "")
            self._client = HttpClient(
                timeout=self.timeout, policy=self.policy, per_second=self.per_second,
                secrets=[token], headers={"Authorization": f"Bearer {token}",
                                          "Notion-Version": NOTION_VERSION})
        return self._client

    _CODES = {
        "unauthorized": (ErrorKind.INVALID_AUTH, "Notion rejected the secret; copy the Internal "
                         "Integration Secret again from notion.so/my-integrations."),
        "restricted_resource": (ErrorKind.INVALID_AUTH, "The integration may not do this; give "
                                "it Read, Update and Insert content in its Capabilities."),
        "object_not_found": (ErrorKind.NOT_FOUND, SHARE_HINT),
        "rate_limited": (ErrorKind.RATE_LIMITED, "Notion asked us to slow down; sync again in a "
                         "minute."),
    }

    def _call(self, method: str, path: str, *, policy: RetryPolicy | None = None,
              **kwargs: Any) -> Any:
        """One API call; a 400 becomes a per-job error carrying Notion's own explanation."""
        response = self._http().request(method, f"{self.api_url}/v1{path}", ok=(200, 400),
                                        policy=policy, codes=self._CODES, **kwargs)
        if self._server_time is None and response.headers.get("Date"):
            try:
                self._server_time = parsedate_to_datetime(response.headers["Date"])
            except (TypeError, ValueError):
                pass
        body = response.json() if response.content else {}
        if response.status_code == 400:
            message = str(body.get("message") or "the request was not valid")[:300]
            raise IntegrationError(ErrorKind.UNKNOWN, f"Notion refused it: {message}",
                                   detail=f"400 {body.get('code')}: {message}")
        return body

    def _schema(self) -> dict[str, dict]:
        """The data source's columns (name → property schema), read once per connection."""
        if self._columns is None:
            database = self._call("GET", f"/databases/{self.database_id}")
            sources = database.get("data_sources") or []
            if not sources:
                raise IntegrationError(ErrorKind.NOT_FOUND, "This Notion page is not a database "
                                       "with rows; paste the address of a full-page database.")
            self._data_source_id = str(sources[0]["id"])
            source = self._call("GET", f"/data_sources/{self._data_source_id}")
            self._columns = dict(source.get("properties") or {})
        return self._columns

    def columns(self) -> list[str]:
        """The database's columns Peregrine can write, in Notion's order (after a passing test)."""
        return [name for name, spec in self._schema().items() if spec.get("type") in WRITABLE]

    def known_columns(self) -> dict[str, Any]:
        return {name: spec for name, spec in self._schema().items()
                if spec.get("type") in WRITABLE}

    def column_kind(self, column: str) -> tuple[str, Limit]:
        kind = str((self._schema().get(column) or {}).get("type") or "")
        if kind == "rich_text":
            return "text", (TEXT_LIMIT, MAX_PIECES)
        if kind in ("select", "multi_select", "status"):
            return "choice", OPTION_LIMIT
        return KINDS.get(kind, "text"), TEXT_LIMIT

    def local_forms(self, job: dict) -> dict[str, str]:
        """As the base, without a Status the database's status options cannot hold."""
        forms = super().local_forms(job)
        column = self.mapping().get("status")
        spec = self._schema().get(column or "") or {}
        if spec.get("type") == "status" and forms.get("status"):
            options = {o.get("name") for o in (spec.get("status") or {}).get("options") or []}
            if forms["status"] not in options:
                del forms["status"]
        return forms

    def field_choices(self) -> dict[str, list]:
        schema = self._schema()
        keys = [n for n, s in schema.items() if s.get("type") in KEY_TYPES]
        if JobSync.KEY_COLUMN not in keys:
            keys.insert(0, JobSync.KEY_COLUMN)   # added on the first sync
        return mapping_choices(self.columns(), keys)

    def probe(self) -> None:
        """The token (``/users/me``), then the database's sharing and columns."""
        self._http()
        saved, self._client.policy = self._client.policy, NO_RETRY
        try:
            self._call("GET", "/users/me")
            self._columns = None
            self._schema()
        finally:
            self._client.policy = saved

    def _key_type(self) -> str:
        """The key column's type; the column is added to the database if it is missing."""
        schema = self._schema()
        spec = schema.get(self.key_column)
        if spec is None:
            self._call("PATCH", f"/data_sources/{self._data_source_id}",
                       json={"properties": {self.key_column: {"rich_text": {}}}})
            schema[self.key_column] = {"name": self.key_column, "type": "rich_text"}
            return "rich_text"
        if spec.get("type") not in KEY_TYPES:
            raise IntegrationError(ErrorKind.UNKNOWN,
                                   f"The column “{self.key_column}” is a {spec.get('type')} "
                                   "column; Peregrine needs a Text column to recognise its "
                                   "pages. Change its type to Text in Notion, or choose another "
                                   "Peregrine ID column.")
        return str(spec["type"])

    # -- JobSync --------------------------------------------------------------------------------------
    def list_records(self, since: str | None = None) -> Listing:
        """Every page (``since`` None), or the pages edited since the cursor; 100 per request.
        The next cursor is Notion's own clock at the start of this listing, so pages edited
        while it ran are listed again next time."""
        self._key_type()
        self._server_time = None
        query: dict[str, Any] = {"page_size": 100}
        if since:
            query["filter"] = {"timestamp": "last_edited_time",
                               "last_edited_time": {"on_or_after": since}}
        records: list[RemoteRecord] = []
        mapping = self.mapping()
        while True:
            answer = self._call("POST", f"/data_sources/{self._data_source_id}/query", json=query)
            for page in answer.get("results") or []:
                if page.get("in_trash") or page.get("archived"):
                    continue
                records.append(RemoteRecord(str(page["id"]), self._page_key(page),
                                            self._forms(page, mapping),
                                            str(page.get("last_edited_time") or "")))
            if not answer.get("has_more") or not answer.get("next_cursor"):
                break
            query["start_cursor"] = answer["next_cursor"]
        started = self._server_time or datetime.now(timezone.utc)
        cursor = (started.astimezone(timezone.utc) - LOOK_BACK).replace(second=0, microsecond=0)
        return Listing(records, complete=not since,
                       cursor=cursor.strftime("%Y-%m-%dT%H:%M:%S.000Z"))

    def _forms(self, page: dict, mapping: dict[str, str]) -> dict[str, str]:
        properties = page.get("properties") or {}
        forms = {}
        for field_name, column in mapping.items():
            value = properties.get(column)
            if value is None:
                continue
            kind, limit = self.column_kind(column)
            forms[field_name] = form(field_name, kind, _plain(value), limit)
        return forms

    def _page_key(self, page: dict) -> str:
        value = (page.get("properties") or {}).get(self.key_column) or {}
        if value.get("type") == "number" and value.get("number") is not None:
            return str(int(value["number"]))
        return str(_plain(value) or "").strip()

    def _find_key(self, key: str) -> str | None:
        """The page holding ``key``, in one filtered query (after a create's answer was lost)."""
        answer = self._call("POST", f"/data_sources/{self._data_source_id}/query", json={
            "filter": {"property": self.key_column, "rich_text": {"equals": key}},
            "page_size": 1})
        results = answer.get("results") or []
        return str(results[0]["id"]) if results else None

    def push_jobs(self, writes: list[JobSync.Write]) -> Iterator[JobSync.Outcome]:
        """One request per job (Notion has no batch write), paced to Notion's rate."""
        self._key_type()
        for write in writes:
            job_id = int(write.job["id"])
            try:
                properties = self._properties(write.record)
                if write.remote_id:
                    page = self._update(write.remote_id, properties)
                    created = False
                else:
                    page, created = self._create(str(write.job.get("uid") or ""),
                                                 properties), True
            except IntegrationError as exc:
                if exc.kind is ErrorKind.INVALID_AUTH or (exc.hint == SHARE_HINT
                                                          and not write.remote_id):
                    raise       # the whole connection is broken, not this job
                yield JobSync.Outcome(job_id, error=exc)
            else:
                yield JobSync.Outcome(job_id, str(page["id"]), created,
                                      edited_at=str(page.get("last_edited_time") or ""))

    def _update(self, page_id: str, properties: dict) -> dict:
        """PATCH the page; a page deleted (trashed) in Notion is reported as gone, not
        created again: the user decides in the sync summary."""
        try:
            return self._call("PATCH", f"/pages/{page_id}", json={"properties": properties})
        except IntegrationError as exc:
            if exc.kind is ErrorKind.NOT_FOUND or "archived" in exc.hint \
                    or "trash" in exc.hint.lower():
                raise RecordGone("Notion") from None
            raise

    def _create(self, key: str, properties: dict) -> dict:
        """POST the page.  A create whose answer was lost (timeout, 5xx) may have landed, so the
        page is looked up by key before trying again."""
        no_resend = RetryPolicy(attempts=4, base_delay=self.policy.base_delay,
                                max_wait=self.policy.max_wait,
                                retry_statuses=frozenset({429, 529}), retry_read_timeouts=False,
                                sleep=self.policy.sleep)
        body = {"parent": {"type": "data_source_id", "data_source_id": self._data_source_id},
                "properties": properties}
        attempts = max(1, self.policy.attempts // 2)
        for attempt in range(attempts):
            try:
                return self._call("POST", "/pages", json=body, policy=no_resend)
            except IntegrationError as exc:
                if exc.kind not in (ErrorKind.CANNOT_CONNECT, ErrorKind.TIMEOUT):
                    raise
                found = self._find_key(key) if key else None
                if found:
                    return {"id": found}
                if attempt + 1 == attempts:
                    raise
                self.policy.sleep(self.policy.backoff(attempt))
        raise AssertionError("unreachable")

    def delete_records(self, remote_ids: list[str]) -> Iterator[tuple[str, Exception | None]]:
        """Move each page to Notion's trash (the user can restore it there)."""
        for page_id in remote_ids:
            try:
                self._call("PATCH", f"/pages/{page_id}", json={"in_trash": True})
            except IntegrationError as exc:
                if exc.kind is ErrorKind.INVALID_AUTH:
                    raise
                gone = exc.kind is ErrorKind.NOT_FOUND or "archived" in exc.hint
                yield page_id, None if gone else exc
            else:
                yield page_id, None

    def _properties(self, record: dict) -> dict:
        """Plain values → Notion property values by column type; unknown columns are skipped."""
        schema = self._schema()
        properties: dict[str, Any] = {}
        for column, value in record.items():
            spec = schema.get(column)
            if spec is None or spec.get("type") not in WRITABLE:
                continue
            converted = _property_value(spec, value)
            if converted is not _SKIP:
                properties[column] = {spec["type"]: converted}
        return properties


_SKIP = object()


def _plain(value: dict) -> Any:
    """A Notion property value as a plain value (text, number, bool, name, date start)."""
    kind = value.get("type")
    data = value.get(kind) if kind else None
    if kind in ("title", "rich_text"):
        return "".join(str(p.get("plain_text") or (p.get("text") or {}).get("content") or "")
                       for p in data or [])
    if kind in ("select", "status"):
        return (data or {}).get("name")
    if kind == "multi_select":
        return [o.get("name") for o in data or []]
    if kind == "date":
        return (data or {}).get("start")
    return data


def _rich_text(text: str) -> list[dict]:
    return [{"type": "text", "text": {"content": chunk}}
            for chunk in chunks_utf16(text, TEXT_LIMIT, MAX_PIECES)]


def _property_value(spec: dict, value: Any) -> Any:
    kind = spec.get("type")
    text = "" if value is None else ("Yes" if value is True else "No" if value is False
                                     else str(value))
    if kind == "title":
        return [{"type": "text", "text": {"content": cut_utf16(text, TEXT_LIMIT)}}] \
            if text else []
    if kind == "rich_text":
        return _rich_text(text)
    if kind == "checkbox":
        return value is True or text.lower() in {"yes", "true", "1"}
    if kind == "number":
        return parse_number(value) if not isinstance(value, bool) else float(value)
    if kind in ("select", "multi_select"):
        name = cut_utf16(text.replace(",", " "), OPTION_LIMIT)
        if kind == "select":
            return {"name": name} if name else None
        return [{"name": name}] if name else []
    if kind == "status":
        options = {o.get("name") for o in (spec.get("status") or {}).get("options") or []}
        return {"name": text} if text in options else _SKIP   # status options cannot be created
    if kind == "date":
        return {"start": text} if text else None
    if kind in ("url", "email", "phone_number"):
        return cut_utf16(text, TEXT_LIMIT) or None
    return _SKIP
