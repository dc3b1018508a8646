"""Notion: the job pipeline as pages of the user's database, updated in place on every sync.

Uses the current API version (2025-09-03), where a database holds data sources: the data source
is resolved once through ``GET /v1/databases/{id}`` and cached with its columns.  Each page carries
the job's Peregrine ID in a text column, so a job is found again by key and never created twice.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from peregrine_sdk.job_columns import (TrackerSettings, key_field, job_value, mapping_choices,
                                       mapping_fields, parse_number, resolve_mapping)
from peregrine_sdk.base import IntegrationBase
from peregrine_sdk.capabilities import JobSync
from peregrine_sdk.hooks import FieldChoices
from peregrine_sdk.errors import ErrorKind, IntegrationError
from peregrine_sdk.http import NO_RETRY, HttpClient, RetryPolicy

API_URL = "https://api.notion.com"
NOTION_VERSION = "2025-09-03"
TEXT_LIMIT = 2000           # characters per rich-text object
SHARE_HINT = ("Notion cannot see this database. Share it with your integration: open the "
              "database in Notion → ••• → Connections → add your integration; then check the "
              "database ID.")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                   r"[0-9a-fA-F]{12}$")
#: Column types Peregrine can write; formulas, relations, people… are left alone.
WRITABLE = frozenset({"title", "rich_text", "number", "select", "multi_select", "status", "date",
                      "checkbox", "url", "email", "phone_number"})
KEY_TYPES = ("rich_text", "number")


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


class NotionIntegration(TrackerSettings, IntegrationBase, JobSync, FieldChoices):
    name = "notion"
    endpoints = {"api_url": API_URL}
    label = "Notion"
    tier = "paid"
    description = ("Keeps your job pipeline as pages of a Notion database, updated in place on "
                   "every sync.")
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
        self.config = {k: (v.strip() if isinstance(v, str) else v) for k, v in config.items()}
        self.database_id = database_id_from(str(self.config.get("database_id") or ""))
        self._client: HttpClient | None = None
        self._data_source_id: str | None = None
        self._columns: dict[str, dict] | None = None
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
                                   "column; Peregrine needs a Text or Number column to recognise "
                                   "its pages. Choose another Peregrine ID column.")
        return str(spec["type"])

    # -- JobSync --------------------------------------------------------------------------------------
    def sync(self, jobs: list[dict]) -> int:
        """The guide's interface: update or create each job's page (found by key)."""
        return self.upsert_all(jobs)

    def record_for(self, job: dict) -> dict:
        """Column → plain value; the column types shape the request later."""
        record: dict[str, Any] = {self.key_column: str(job["id"])}
        for field, column in resolve_mapping(self.config, None).items():
            record[column] = job_value(job, field)
        return record

    def find_jobs(self, job_ids: list[int]) -> dict[int, str]:
        """All pages with a Peregrine ID (100 per request), matched to the jobs asked about."""
        key_type = self._key_type()
        query: dict[str, Any] = {
            "filter": {"property": self.key_column, key_type: {"is_not_empty": True}},
            "page_size": 100}
        pages: dict[str, str] = {}
        while True:
            answer = self._call("POST", f"/data_sources/{self._data_source_id}/query", json=query)
            for page in answer.get("results") or []:
                key = self._page_key(page)
                if key and key not in pages:     # the oldest page wins if a key appears twice
                    pages[key] = str(page["id"])
            if not answer.get("has_more") or not answer.get("next_cursor"):
                break
            query["start_cursor"] = answer["next_cursor"]
        wanted = {str(i): i for i in job_ids}
        return {wanted[key]: page for key, page in pages.items() if key in wanted}

    def _page_key(self, page: dict) -> str:
        value = (page.get("properties") or {}).get(self.key_column) or {}
        if value.get("type") == "number" and value.get("number") is not None:
            return str(int(value["number"]))
        parts = value.get("rich_text") or value.get("title") or []
        return "".join(str(p.get("plain_text") or (p.get("text") or {}).get("content") or "")
                       for p in parts).strip()

    def push_jobs(self, writes: list[JobSync.Write]) -> Iterator[JobSync.Outcome]:
        """One request per job (Notion has no batch write), paced to Notion's rate."""
        self._key_type()
        for write in writes:
            job_id = int(write.job["id"])
            try:
                properties = self._properties(write.record)
                if write.remote_id:
                    page_id = self._update(write.remote_id, properties)
                    created = page_id != write.remote_id
                else:
                    page_id, created = self._create(job_id, properties), True
            except IntegrationError as exc:
                if exc.kind is ErrorKind.INVALID_AUTH or exc.hint == SHARE_HINT:
                    raise       # the whole connection is broken, not this job
                yield JobSync.Outcome(job_id, error=exc)
            else:
                yield JobSync.Outcome(job_id, page_id, created)

    def _update(self, page_id: str, properties: dict) -> str:
        """PATCH the page; a page deleted (trashed) in Notion is created again."""
        try:
            self._call("PATCH", f"/pages/{page_id}", json={"properties": properties})
            return page_id
        except IntegrationError as exc:
            gone = exc.kind is ErrorKind.NOT_FOUND or "archived" in exc.hint \
                or "trash" in exc.hint.lower()
            if not gone:
                raise
        key = self._key_text(properties)
        return self._create(int(key) if key.isdigit() else 0, properties)

    def _key_text(self, properties: dict) -> str:
        value = properties.get(self.key_column) or {}
        if "number" in value:
            return str(int(value["number"] or 0))
        return "".join(p["text"]["content"] for p in value.get("rich_text") or [])

    def _create(self, job_id: int, properties: dict) -> str:
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
                return str(self._call("POST", "/pages", json=body, policy=no_resend)["id"])
            except IntegrationError as exc:
                if exc.kind not in (ErrorKind.CANNOT_CONNECT, ErrorKind.TIMEOUT):
                    raise
                found = self.find_jobs([job_id]).get(job_id) if job_id else None
                if found:
                    return found
                if attempt + 1 == attempts:
                    raise
                self.policy.sleep(self.policy.backoff(attempt))
        raise AssertionError("unreachable")

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


def _rich_text(text: str) -> list[dict]:
    chunks = [text[i:i + TEXT_LIMIT] for i in range(0, min(len(text), TEXT_LIMIT * 100),
                                                     TEXT_LIMIT)]
    return [{"type": "text", "text": {"content": chunk}} for chunk in chunks]


def _property_value(spec: dict, value: Any) -> Any:
    kind = spec.get("type")
    text = "" if value is None else ("Yes" if value is True else "No" if value is False
                                     else str(value))
    if kind == "title":
        return [{"type": "text", "text": {"content": text[:TEXT_LIMIT]}}] if text else []
    if kind == "rich_text":
        return _rich_text(text)
    if kind == "checkbox":
        return value is True or text.lower() in {"yes", "true", "1"}
    if kind == "number":
        return parse_number(value) if not isinstance(value, bool) else float(value)
    if kind in ("select", "multi_select"):
        name = text.replace(",", " ")[:100]
        if kind == "select":
            return {"name": name} if name else None
        return [{"name": name}] if name else []
    if kind == "status":
        options = {o.get("name") for o in (spec.get("status") or {}).get("options") or []}
        return {"name": text} if text in options else _SKIP   # status options cannot be created
    if kind == "date":
        return {"start": text} if text else None
    if kind in ("url", "email", "phone_number"):
        return text[:TEXT_LIMIT] or None
    return _SKIP
