"""Airtable: the job pipeline as records of one table, written ten at a time with performUpsert.

Each record carries the job's global identity (its uid) in the Peregrine ID field; every create is
an upsert merged on that field, so a repeated or interrupted sync updates instead of duplicating —
no lookup is needed before creating.  Known records are updated by record id, so a record deleted
in Airtable is reported, not silently recreated.  A pull asks only for the records modified since
the last one (``filterByFormula`` on ``LAST_MODIFIED_TIME()``).
Requests are paced to Airtable's 5 per second per base, and a 429 waits Airtable's documented
30 seconds (no Retry-After header is sent).
"""
from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

from peregrine_sdk.base import clean_config
from peregrine_sdk.capabilities import JobSync
from peregrine_sdk.errors import ErrorKind, IntegrationError
from peregrine_sdk.hooks import FieldChoices
from peregrine_sdk.http import NO_RETRY, HttpClient, RetryPolicy
from peregrine_sdk.job_columns import key_field, mapping_choices, mapping_fields, parse_number
from peregrine_sdk.tracker import Listing, RecordGone, RemoteRecord, TrackerBase, form

API_URL = "https://api.airtable.com"
BATCH = 10                  # Airtable's limit of records per write request
#: Field types Airtable computes itself; writing them is refused.
COMPUTED = frozenset({"formula", "rollup", "lookup", "multipleLookupValues", "count",
                      "autoNumber", "createdTime", "lastModifiedTime", "createdBy",
                      "lastModifiedBy", "button", "aiText"})
KEY_TYPES = frozenset({"singleLineText", "multilineText", "number", "email", "url", "richText"})
#: Field type → the kind of form its values take (see peregrine_sdk.tracker.form).
KINDS = {"number": "number", "currency": "number", "percent": "number", "checkbox": "checkbox",
         "date": "date", "dateTime": "date", "singleSelect": "choice",
         "multipleSelects": "choice"}
LONG_TEXT_LIMIT = 100_000   # characters of a long text field
#: A pull looks back this far from its cursor (the server's clock at the last listing).
LOOK_BACK = timedelta(minutes=1)
ACCESS_HINT = ("Airtable cannot find this base or table, or the token may not use it: check the "
               "base ID and the table name, and add this base to the token's access.")


def base_and_table_from(text: str) -> tuple[str, str]:
    """("app…", "tbl…" or "") from a base ID or an Airtable address pasted whole."""
    text = (text or "").strip()
    if urlsplit(text).scheme in ("http", "https"):
        parts = [p for p in urlsplit(text).path.split("/") if p]
        base = next((p for p in parts if p.startswith("app")), "")
        table = next((p for p in parts if p.startswith("tbl")), "")
        return base, table
    return text, ""


class AirtableIntegration(TrackerBase, FieldChoices):
    name = "airtable"
    endpoints = {"api_url": API_URL}
    label = "Airtable"
    tier = "paid"
    description = ("Keeps your job pipeline as records of an Airtable table, ten per request, "
                   "both ways: edits made in Airtable come back to Peregrine.")
    upserts_by_key = True
    #: Airtable's documented rate per base; tests raise it.
    per_second: float | None = 5.0
    #: Airtable's documented pause after a 429 (it sends no Retry-After); tests shorten it.
    rate_limit_wait: float = 30.0
    attempts: int = 6
    #: First backoff after a 5xx or a reset (doubles each time); tests shorten it.
    retry_delay: float = 0.5
    sleep = staticmethod(time.sleep)
    timeout: tuple[float, float] = (5.0, 30.0)

    def fields(self) -> list[dict]:
        return [
            {"key": "token", "label": "Personal access token", "type": "password",
             "placeholder": "pat…", "required": True,
             "help": "airtable.com/create/tokens: scopes data.records:read, data.records:write "
                     "and schema.bases:read, with access to your job base."},
            {"key": "base_id", "label": "Base", "type": "text",
             "placeholder": "appXXXXXXXXXXXXXX or the table's address", "required": True,
             "help": "The base ID starts with “app”; pasting the table's address fills in both."},
            {"key": "table", "label": "Table", "type": "text", "placeholder": "Jobs",
             "required": False,
             "help": "The table's name or ID (tbl…). Empty: taken from the address, else “Jobs”."},
            key_field("table"),
            *mapping_fields(),
        ]

    def connect(self, config: dict) -> bool:
        self.config = clean_config(config)
        self._server_time: datetime | None = None
        self.base_id, table_from_url = base_and_table_from(str(self.config.get("base_id") or ""))
        self.table = str(self.config.get("table") or table_from_url or "Jobs")
        self._client: HttpClient | None = None
        self._columns: dict[str, str] | None = None
        self._schema_read = False
        return self.required_present(self.config) and bool(self.base_id)

    # -- plumbing -------------------------------------------------------------------------------
    @property
    def policy(self) -> RetryPolicy:
        return RetryPolicy(attempts=self.attempts, base_delay=self.retry_delay,
                           rate_limit_wait=self.rate_limit_wait,
                           max_wait=max(60.0, self.rate_limit_wait), sleep=self.sleep)

    def _http(self) -> HttpClient:
        if self._client is None:
            token = str(self.config.get("token") or "")
            self._client = HttpClient(timeout=self.timeout, policy=self.policy,
                                      per_second=self.per_second, secrets=[token],
                                      headers={"Authorization": f"Bearer {token}"})
        return self._client

    _HINTS = {
        401: (ErrorKind.INVALID_AUTH, "Airtable rejected the token; create a personal access "
              "token with the data.records scopes at airtable.com/create/tokens."),
        403: (ErrorKind.NOT_FOUND, ACCESS_HINT),
        404: (ErrorKind.NOT_FOUND, ACCESS_HINT),
        429: (ErrorKind.RATE_LIMITED, "Airtable asked us to slow down; sync again in a minute."),
    }

    def _call(self, method: str, path: str, *, policy: RetryPolicy | None = None,
              **kwargs: Any) -> Any:
        response = self._http().request(method, f"{self.api_url}/v0{path}", ok=(200, 422),
                                        hints=self._HINTS, policy=policy, **kwargs)
        if self._server_time is None and response.headers.get("Date"):
            try:
                self._server_time = parsedate_to_datetime(response.headers["Date"])
            except (TypeError, ValueError):
                pass
        body = response.json() if response.content else {}
        if response.status_code == 422:
            error = body.get("error") if isinstance(body, dict) else None
            message = (error.get("message") if isinstance(error, dict) else str(error or "")) \
                or "the values were not accepted"
            raise IntegrationError(ErrorKind.UNKNOWN, f"Airtable refused it: {message[:300]}",
                                   detail=f"422 {str(body)[:300]}")
        return body

    @property
    def _table_path(self) -> str:
        return f"/{self.base_id}/{quote(self.table, safe='')}"

    def _schema(self) -> dict[str, str] | None:
        """Field name → type, or None when the token may not read the schema (then values are
        sent as text and Airtable's typecast converts them)."""
        if not self._schema_read:
            self._schema_read = True
            try:
                answer = self._call("GET", f"/meta/bases/{self.base_id}/tables")
            except IntegrationError as exc:
                if exc.kind is ErrorKind.INVALID_AUTH:
                    raise
                self._columns = None
            else:
                table = next((t for t in answer.get("tables") or []
                              if self.table in (t.get("id"), t.get("name"))), None)
                self._columns = ({f["name"]: f.get("type", "") for f in table.get("fields", [])}
                                 if table else None)
        return self._columns

    def columns(self) -> list[str]:
        """The table's writable fields, in Airtable's order (empty if the schema is hidden)."""
        schema = self._schema() or {}
        return [name for name, kind in schema.items() if kind not in COMPUTED]

    def field_choices(self) -> dict[str, list]:
        schema = self._schema()
        if schema is None:
            return {}
        keys = [n for n, kind in schema.items() if kind in KEY_TYPES]
        return mapping_choices(self.columns(), keys)

    def probe(self) -> None:
        """The token (``meta/whoami``), then one record of the table (base, table, read scope)."""
        self._http()
        saved, self._client.policy = self._client.policy, NO_RETRY
        try:
            self._call("GET", "/meta/whoami")
            self._call("GET", self._table_path, params={"maxRecords": 1})
            self._schema_read = False
            self._schema()
        finally:
            self._client.policy = saved

    def known_columns(self) -> dict[str, Any] | None:
        schema = self._schema()
        return None if schema is None else {n: k for n, k in schema.items() if k not in COMPUTED}

    def column_kind(self, column: str) -> tuple[str, int | None]:
        kind = (self._schema() or {}).get(column, "")
        return KINDS.get(kind, "text"), LONG_TEXT_LIMIT if kind in ("multilineText",
                                                                    "richText") else None

    # -- JobSync --------------------------------------------------------------------------------------
    def list_records(self, since: str | None = None) -> Listing:
        """Every record (``since`` None) or those modified since the cursor, 100 per request,
        with only the mapped fields and the key."""
        mapping = self.mapping()
        self._server_time = None
        params: dict[str, Any] = {"pageSize": 100,
                                  "fields[]": [self.key_column, *mapping.values()]}
        if since:
            params["filterByFormula"] = f"IS_AFTER(LAST_MODIFIED_TIME(), '{since}')"
        records: list[RemoteRecord] = []
        while True:
            answer = self._call("GET", self._table_path, params=params)
            for record in answer.get("records") or []:
                fields = record.get("fields") or {}
                key = str(fields.get(self.key_column) or "").strip()
                if key.endswith(".0"):
                    key = key[:-2]
                forms = {}
                for field_name, column in mapping.items():
                    kind, limit = self.column_kind(column)
                    forms[field_name] = form(field_name, kind, fields.get(column), limit)
                records.append(RemoteRecord(str(record["id"]), key, forms))
            if not answer.get("offset"):
                break
            params["offset"] = answer["offset"]
        started = (self._server_time or datetime.now(timezone.utc)).astimezone(timezone.utc)
        return Listing(records, complete=not since,
                       cursor=(started - LOOK_BACK).strftime("%Y-%m-%dT%H:%M:%S.000Z"))

    def push_jobs(self, writes: list[JobSync.Write]) -> Iterator[JobSync.Outcome]:
        """Ten records per request: known records updated by id, new ones upserted on the
        Peregrine ID.  A batch Airtable refuses is retried one record at a time, so only the job
        with the bad value fails (and only a deleted record is reported gone)."""
        schema = self._schema()
        if schema is not None and self.key_column not in schema:
            raise IntegrationError(ErrorKind.NOT_FOUND,
                                   f"The table has no “{self.key_column}” field. Add a "
                                   "single-line text field with that name (Peregrine writes "
                                   "each job's identity there to recognise it), or choose "
                                   "another Peregrine ID column.")
        updates = [w for w in writes if w.remote_id]
        creates = [w for w in writes if not w.remote_id]
        for group in (updates, creates):
            for start in range(0, len(group), BATCH):
                yield from self._write_batch(group[start:start + BATCH])

    def _write_batch(self, batch: list[JobSync.Write]) -> Iterator[JobSync.Outcome]:
        try:
            yield from self._upsert(batch)
        except IntegrationError as exc:
            if exc.kind is ErrorKind.INVALID_AUTH or (exc.hint == ACCESS_HINT
                                                      and not batch[0].remote_id):
                raise
            if len(batch) > 1 and (exc.kind is ErrorKind.UNKNOWN or batch[0].remote_id):
                for write in batch:
                    try:
                        yield from self._upsert([write])
                    except IntegrationError as single:
                        if single.kind is ErrorKind.INVALID_AUTH:
                            raise
                        yield JobSync.Outcome(int(write.job["id"]), error=self._gone(single,
                                                                                     write))
            else:
                for write in batch:
                    yield JobSync.Outcome(int(write.job["id"]), error=self._gone(exc, write))

    @staticmethod
    def _gone(exc: IntegrationError, write: JobSync.Write) -> IntegrationError:
        """A single update by id that Airtable cannot find: the record was deleted there."""
        missing = exc.kind is ErrorKind.NOT_FOUND or "does not exist" in exc.detail.lower()
        return RecordGone("Airtable") if write.remote_id and missing else exc

    def _upsert(self, batch: list[JobSync.Write]) -> Iterator[JobSync.Outcome]:
        if batch[0].remote_id:
            body: dict[str, Any] = {"typecast": True, "records": [
                {"id": w.remote_id, "fields": self._fields(w.record)} for w in batch]}
        else:
            body = {"performUpsert": {"fieldsToMergeOn": [self.key_column]}, "typecast": True,
                    "records": [{"fields": self._fields(w.record)} for w in batch]}
        answer = self._call("PATCH", self._table_path, json=body)
        created = set(answer.get("createdRecords") or [])
        records = answer.get("records") or []
        for write, record in zip(batch, records):
            yield JobSync.Outcome(int(write.job["id"]), str(record["id"]), record["id"] in created)

    def delete_records(self, remote_ids: list[str]) -> Iterator[tuple[str, Exception | None]]:
        """Ten records per DELETE request."""
        for start in range(0, len(remote_ids), BATCH):
            chunk = remote_ids[start:start + BATCH]
            try:
                self._call("DELETE", self._table_path, params={"records[]": chunk})
            except IntegrationError as exc:
                if exc.kind is ErrorKind.INVALID_AUTH:
                    raise
                for remote_id in chunk:
                    yield remote_id, exc
            else:
                for remote_id in chunk:
                    yield remote_id, None

    def _fields(self, record: dict) -> dict[str, Any]:
        """Plain values → Airtable cell values by field type; computed fields are skipped."""
        schema = self._schema()
        fields: dict[str, Any] = {}
        for column, value in record.items():
            kind = schema.get(column) if schema is not None else None
            if schema is not None and (kind is None or kind in COMPUTED):
                continue
            fields[column] = _cell(kind, value)
        return fields


def _cell(kind: str | None, value: Any) -> Any:
    if value is None:
        return None
    if kind == "checkbox":
        return value is True or str(value).lower() in {"yes", "true", "1"}
    if isinstance(value, bool):
        return value if kind is None else ("Yes" if value else "No")
    if kind in ("number", "currency", "percent"):
        return parse_number(value)
    if kind == "date":
        match = re.match(r"^\d{4}-\d\d-\d\d", str(value))
        return match.group(0) if match else None
    if kind == "multipleSelects":
        return [str(value)]
    return str(value)
