"""Loopback emulators of the three job trackers, speaking their documented contracts.

Each emulator keeps its records in memory on a :class:`LoopbackServer` (which records every
request and lets tests inject faults):

- :class:`NotionService` — ``Notion-Version`` required; databases hold data sources (2025-09-03
  on); data-source query with property and ``last_edited_time`` timestamp filters and cursors;
  pages POST/PATCH (``in_trash`` too) with per-type validation, text limits counted in UTF-16
  code units (2,000 per rich-text object, 100 objects, 2,000 for a URL) refused with 400;
  ``last_edited_time`` rounded down to the minute, as Notion does; 404 ``object_not_found`` for
  databases not shared; 429 ``rate_limited`` + ``Retry-After``; optionally Notion's average of 3
  requests a second enforced with 429s (``max_per_second``).
- :class:`AirtableService` — records API with at most 10 records per write (422 otherwise),
  ``performUpsert.fieldsToMergeOn``, updates by id (404 for a deleted record), DELETE of up to 10
  records, ``filterByFormula`` (the formulas Peregrine sends; any other is 422), each record's
  last-modified time, unknown fields → 422, wrong table → 403, 429 without ``Retry-After``
  (Airtable documents a fixed 30 s wait), optional 5 req/s enforcement.
- :class:`GoogleService` — the OAuth token endpoint verifying an RS256 JWT signed with a key the
  fixture generates, and Sheets ``values`` get / append / batchUpdate (a null value leaves its
  cell alone; numbers and formulas in cells are kept as such and read as their formatted value),
  ``spreadsheets:batchUpdate`` deleteDimension, and 403s with Google's reasons
  (PERMISSION_DENIED for a sheet not shared, SERVICE_DISABLED, ACCESS_TOKEN_SCOPE_INSUFFICIENT).
  Every emulator records its requests (``server.requests``).
"""
from __future__ import annotations

import base64
import calendar
import itertools
import json
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from tests.fakes.loopback import LoopbackServer, Reply, Request

# ================================================================================================
# Notion
# ================================================================================================
NOTION_VERSIONS = ("2022-06-28", "2025-09-03", "2026-03-11")


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def iso_minute(timestamp: float) -> str:
    """Notion's last_edited_time: UTC, rounded down to the minute."""
    return time.strftime("%Y-%m-%dT%H:%M:00.000Z", time.gmtime(timestamp))


def notion_error(status: int, code: str, message: str, headers: dict | None = None) -> Reply:
    return Reply(status, {"object": "error", "status": status, "code": code, "message": message,
                          "request_id": str(uuid.uuid4())}, headers or {})


def notion_job_columns() -> dict[str, dict]:
    """A typical job-tracker database (as a person would set it up)."""
    return {
        "Name": {"type": "title"},
        "Company": {"type": "rich_text"},
        "Status": {"type": "select", "select": {"options": [{"name": "Applied"}]}},
        "URL": {"type": "url"},
        "Location": {"type": "rich_text"},
        "Remote": {"type": "checkbox"},
        "Salary": {"type": "rich_text"},
        "Date found": {"type": "date"},
        "Interview": {"type": "date"},
        "Notes": {"type": "rich_text"},
        "Peregrine ID": {"type": "rich_text"},
    }


class NotionService:
    def __init__(self, server: LoopbackServer, token: str = "ntn_good",
                 database_id: str = "0123456789abcdef0123456789abcdef",
                 columns: dict[str, dict] | None = None,
                 max_per_second: float | None = None) -> None:
        self.server, self.token, self.database_id = server, token, database_id
        self.max_per_second = max_per_second
        self._recent: deque[float] = deque()
        self.too_fast = 0
        self.data_source_id = "ds" + database_id[2:]
        self.columns: dict[str, dict] = {}
        for name, spec in (columns if columns is not None else notion_job_columns()).items():
            self.columns[name] = {"id": uuid.uuid4().hex[:4], "name": name, **spec}
        self.shared = True
        self.pages: dict[str, dict] = {}
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._routes()

    # -- test helpers -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.server.url

    def live_pages(self) -> list[dict]:
        return [p for p in self.pages.values() if not p["in_trash"]]

    def keys(self) -> list[str]:
        return [self.text_of(p, "Peregrine ID") for p in self.live_pages()]

    def text_of(self, page: dict, column: str) -> str:
        value = page["properties"].get(column) or {}
        parts = value.get("rich_text") or value.get("title") or []
        return "".join(p["plain_text"] for p in parts)

    def page_for(self, key: str) -> dict:
        return next(p for p in self.live_pages() if self.text_of(p, "Peregrine ID") == key)

    def trash(self, page_id: str) -> None:
        self.pages[page_id]["in_trash"] = True
        self.touch(self.pages[page_id])

    def touch(self, page: dict) -> None:
        page["last_edited_time"] = iso_minute(self.server.now())

    def edit(self, page_id: str, column: str, value: Any) -> None:
        """A person edits one cell in Notion (plain value → the column's property value)."""
        kind = self.columns[column]["type"]
        if kind in ("title", "rich_text"):
            data: Any = [{"type": "text", "text": {"content": str(value)},
                          "plain_text": str(value)}] if value else []
        elif kind in ("select", "status"):
            data = {"name": value} if value else None
        elif kind == "date":
            data = {"start": value} if value else None
        else:
            data = value
        page = self.pages[page_id]
        page["properties"][column] = {"id": self.columns[column]["id"], "type": kind,
                                      kind: data}
        self.touch(page)

    def add_row(self, **values: Any) -> str:
        """A person adds a page in Notion (column → plain value); returns its id."""
        page_id = str(uuid.uuid4())
        self.pages[page_id] = {"id": page_id, "order": next(self._order), "in_trash": False,
                               "properties": {}}
        for column, value in values.items():
            self.edit(page_id, column, value)
        return page_id

    def reads(self) -> list[Request]:
        return [r for r in self.server.requests if r.path.endswith("/query")]

    def writes(self) -> list[Request]:
        return [r for r in self.server.requests
                if r.path.startswith("/v1/pages") and r.method in ("POST", "PATCH")]

    def rate_limit(self, times: int, retry_after: int = 0) -> None:
        self.server.inject(notion_error(429, "rate_limited", "You have been rate limited.",
                                        {"Retry-After": str(retry_after)}), times=times)

    # -- contract ---------------------------------------------------------------------------------
    def _check(self, request: Request, data_sources: bool = False) -> Reply | None:
        if request.header("Authorization") != f"Bearer {self.token}":
            return notion_error(401, "unauthorized", "API token is invalid.")
        if self.max_per_second:
            now = time.monotonic()
            with self._lock:
                while self._recent and now - self._recent[0] > 1.0:
                    self._recent.popleft()
                self._recent.append(now)
                if len(self._recent) > self.max_per_second + 1:   # one of slack for jitter
                    self.too_fast += 1
                    return notion_error(429, "rate_limited", "You have been rate limited.",
                                        {"Retry-After": "1"})
        version = request.header("Notion-Version")
        if not version:
            return notion_error(400, "missing_version", "Notion-Version header failed "
                                "validation: Notion-Version should be defined, instead was "
                                "`undefined`.")
        if version not in NOTION_VERSIONS:
            return notion_error(400, "validation_error", f"Unsupported Notion-Version {version}.")
        if data_sources and version < "2025-09-03":
            return notion_error(400, "invalid_request_url", "Invalid request URL.")
        return None

    def _not_found(self, what: str) -> Reply:
        return notion_error(404, "object_not_found",
                            f"Could not find {what}. Make sure the relevant pages and databases "
                            "are shared with your integration.")

    def _routes(self) -> None:
        server = self.server

        @server.route("GET", "/v1/users/me")
        def me(request, _m):
            return self._check(request) or Reply(200, {
                "object": "user", "id": "bot-1", "type": "bot", "name": "Peregrine",
                "bot": {"owner": {"type": "workspace", "workspace": True}}})

        @server.route("GET", r"/v1/databases/([0-9a-f-]+)")
        def database(request, m):
            if (bad := self._check(request)) is not None:
                return bad
            if m.group(1).replace("-", "") != self.database_id or not self.shared:
                return self._not_found(f"database with ID: {m.group(1)}")
            body = {"object": "database", "id": self.database_id,
                    "title": [{"plain_text": "Jobs"}]}
            if request.header("Notion-Version") >= "2025-09-03":
                body["data_sources"] = [{"id": self.data_source_id, "name": "Jobs"}]
            else:
                body["properties"] = self.columns
            return Reply(200, body)

        @server.route("GET", r"/v1/data_sources/([0-9a-z-]+)")
        def data_source(request, m):
            if (bad := self._check(request, data_sources=True)) is not None:
                return bad
            if m.group(1) != self.data_source_id or not self.shared:
                return self._not_found(f"data source with ID: {m.group(1)}")
            return Reply(200, {"object": "data_source", "id": self.data_source_id,
                               "properties": self.columns})

        @server.route("PATCH", r"/v1/data_sources/([0-9a-z-]+)")
        def update_data_source(request, m):
            if (bad := self._check(request, data_sources=True)) is not None:
                return bad
            if m.group(1) != self.data_source_id or not self.shared:
                return self._not_found(f"data source with ID: {m.group(1)}")
            for name, spec in (request.json.get("properties") or {}).items():
                kind = next(iter(spec))
                self.columns[name] = {"id": uuid.uuid4().hex[:4], "name": name, "type": kind,
                                      kind: spec[kind]}
            return Reply(200, {"object": "data_source", "id": self.data_source_id,
                               "properties": self.columns})

        @server.route("POST", r"/v1/data_sources/([0-9a-z-]+)/query")
        def query(request, m):
            if (bad := self._check(request, data_sources=True)) is not None:
                return bad
            if m.group(1) != self.data_source_id or not self.shared:
                return self._not_found(f"data source with ID: {m.group(1)}")
            body = request.json or {}
            size = int(body.get("page_size") or 100)
            if size > 100:
                return notion_error(400, "validation_error", "page_size should be ≤ 100.")
            with self._lock:
                found = sorted((p for p in self.live_pages()
                                if self._matches(p, body.get("filter"))),
                               key=lambda p: p["order"])
            start = int(body.get("start_cursor") or 0)
            chunk = found[start:start + size]
            more = start + size < len(found)
            return Reply(200, {"object": "list", "results": [self._render(p) for p in chunk],
                               "has_more": more,
                               "next_cursor": str(start + size) if more else None})

        @server.route("POST", "/v1/pages")
        def create(request, _m):
            if (bad := self._check(request)) is not None:
                return bad
            body = request.json or {}
            parent = body.get("parent") or {}
            if parent.get("data_source_id") != self.data_source_id or not self.shared:
                return self._not_found(f"data source with ID: {parent.get('data_source_id')}")
            if "properties" not in body:
                return notion_error(400, "validation_error", "body failed validation: "
                                    "body.properties should be defined, instead was undefined.")
            problem = self._invalid(body["properties"])
            if problem:
                return notion_error(400, "validation_error", problem)
            with self._lock:
                page_id = str(uuid.uuid4())
                self.pages[page_id] = {"id": page_id, "order": next(self._order),
                                       "in_trash": False, "properties": {}}
                self._apply(self.pages[page_id], body["properties"])
                self.touch(self.pages[page_id])
                return Reply(200, self._render(self.pages[page_id]))

        @server.route("PATCH", r"/v1/pages/([0-9a-f-]+)")
        def update(request, m):
            if (bad := self._check(request)) is not None:
                return bad
            page = self.pages.get(m.group(1))
            if page is None:
                return self._not_found(f"page with ID: {m.group(1)}")
            body = request.json or {}
            if page["in_trash"] and body.get("in_trash") is not False:
                return notion_error(400, "validation_error", "Can't edit block that is "
                                    "archived. You must unarchive the block before editing.")
            problem = self._invalid(body.get("properties") or {})
            if problem:
                return notion_error(400, "validation_error", problem)
            with self._lock:
                self._apply(page, body.get("properties") or {})
                if isinstance(body.get("in_trash"), bool):
                    page["in_trash"] = body["in_trash"]
                self.touch(page)
                return Reply(200, self._render(page))

    # -- model ------------------------------------------------------------------------------------
    def _invalid(self, properties: dict) -> str:
        for name, value in properties.items():
            spec = self.columns.get(name)
            if spec is None:
                return f"{name} is not a property that exists."
            kind = spec["type"]
            if kind not in value:
                return f"body.properties.{name}.{kind} should be defined."
            data = value[kind]
            if kind in ("title", "rich_text"):
                if len(data) > 100:
                    return f"body.properties.{name}.{kind}.length should be ≤ `100`, instead " \
                           f"was `{len(data)}`."
                for index, piece in enumerate(data):
                    if utf16_units(piece["text"]["content"]) > 2000:
                        return (f"body.properties.{name}.{kind}[{index}].text.content.length "
                                f"should be ≤ `2000`, instead was "
                                f"`{utf16_units(piece['text']['content'])}`.")
            elif kind in ("url", "email", "phone_number") and data is not None \
                    and utf16_units(str(data)) > 2000:
                return f"body.properties.{name}.{kind}.length should be ≤ `2000`."
            elif kind == "number" and data is not None and not isinstance(data, (int, float)):
                return f"body.properties.{name}.number should be a number or `null`."
            elif kind == "status":
                options = {o["name"] for o in spec.get("status", {}).get("options", [])}
                if data and data.get("name") not in options:
                    return f"Invalid status option. Status option “{data.get('name')}” does not exist."
            elif kind == "checkbox" and not isinstance(data, bool):
                return f"body.properties.{name}.checkbox should be a boolean."
            elif kind == "select" and data and "," in data.get("name", ""):
                return "Select option names cannot contain commas."
        return ""

    def _apply(self, page: dict, properties: dict) -> None:
        for name, value in properties.items():
            kind = self.columns[name]["type"]
            data = value[kind]
            if kind in ("title", "rich_text"):
                data = [{"type": "text", "text": p["text"], "plain_text": p["text"]["content"]}
                        for p in data]
            elif kind == "select" and data:
                options = self.columns[name].setdefault("select", {}).setdefault("options", [])
                if data["name"] not in {o["name"] for o in options}:
                    options.append({"name": data["name"]})
            page["properties"][name] = {"id": self.columns[name]["id"], "type": kind, kind: data}

    def _render(self, page: dict) -> dict:
        properties = {}
        for name, spec in self.columns.items():
            kind = spec["type"]
            empty: Any = [] if kind in ("title", "rich_text", "multi_select") else (
                False if kind == "checkbox" else None)
            properties[name] = page["properties"].get(name) or {"id": spec["id"], "type": kind,
                                                                 kind: empty}
        return {"object": "page", "id": page["id"], "in_trash": page["in_trash"],
                "archived": page["in_trash"],
                "last_edited_time": page.get("last_edited_time") or iso_minute(0),
                "parent": {"type": "data_source_id", "data_source_id": self.data_source_id},
                "url": f"https://www.notion.so/{page['id'].replace('-', '')}",
                "properties": properties}

    def _matches(self, page: dict, condition: dict | None) -> bool:
        if not condition:
            return True
        if "or" in condition:
            return any(self._matches(page, c) for c in condition["or"])
        if "and" in condition:
            return all(self._matches(page, c) for c in condition["and"])
        if condition.get("timestamp") == "last_edited_time":
            test = condition["last_edited_time"]
            stamp = page.get("last_edited_time") or iso_minute(0)
            since = next(iter(test.values()))
            since_minute = iso_minute(calendar.timegm(time.strptime(since[:16],
                                                                    "%Y-%m-%dT%H:%M")))
            if "on_or_after" in test:
                return stamp >= since_minute
            if "after" in test:
                return stamp > since_minute
            raise ValueError(f"timestamp filter not emulated: {test}")
        name = condition["property"]
        kind = next(k for k in condition if k != "property")
        test = condition[kind]
        value = (page["properties"].get(name) or {}).get(kind)
        if kind in ("rich_text", "title"):
            value = "".join(p["plain_text"] for p in value or [])
        if "is_not_empty" in test:
            return value not in (None, "", [])
        if "is_empty" in test:
            return value in (None, "", [])
        if "equals" in test:
            return value == test["equals"]
        raise ValueError(f"filter condition not emulated: {test}")


# ================================================================================================
# Airtable
# ================================================================================================
def airtable_error(status: int, kind: str, message: str) -> Reply:
    return Reply(status, {"error": {"type": kind, "message": message}})


def airtable_job_fields() -> dict[str, str]:
    return {"Name": "singleLineText", "Company": "singleLineText", "Status": "singleSelect",
            "URL": "url", "Location": "singleLineText", "Remote": "checkbox",
            "Salary": "singleLineText", "Date found": "date", "Interview": "dateTime",
            "Notes": "multilineText", "Peregrine ID": "singleLineText"}


class AirtableService:
    def __init__(self, server: LoopbackServer, token: str = "patGood.123",
                 base_id: str = "appJobs0000000001", table: str = "Jobs",
                 fields: dict[str, str] | None = None, max_per_second: float | None = None,
                 ) -> None:
        self.server, self.token, self.base_id, self.table = server, token, base_id, table
        self.table_id = "tblJobs000000001"
        self.fields = dict(fields if fields is not None else airtable_job_fields())
        self.records: dict[str, dict] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.max_per_second = max_per_second
        self._recent: deque[float] = deque()
        self.too_fast = 0
        self._routes()

    @property
    def url(self) -> str:
        return self.server.url

    def keys(self) -> list[str]:
        return [r["fields"].get("Peregrine ID", "") for r in self.records.values()]

    def record_for(self, key: str) -> dict:
        return next(r for r in self.records.values() if r["fields"].get("Peregrine ID") == key)

    def delete(self, record_id: str) -> None:
        del self.records[record_id]

    def edit(self, record_id: str, **fields: Any) -> None:
        """A person edits cells in Airtable (field name → value)."""
        record = self.records[record_id]
        record["fields"].update(fields)
        record["modified"] = self.server.now()

    def add_row(self, **fields: Any) -> str:
        with self._lock:
            record = self._new(fields)
        return record["id"]

    def reads(self) -> list[Request]:
        return [r for r in self.server.requests if r.method == "GET"
                and not r.path.startswith("/v0/meta")]

    def writes(self) -> list[Request]:
        return [r for r in self.server.requests if r.method in ("POST", "PATCH", "PUT")
                and not r.path.startswith("/v0/meta")]

    def rate_limit(self, times: int) -> None:
        self.server.inject(Reply(429, {"errors": [{"error": "RATE_LIMIT_REACHED", "message":
                                                   "Rate limit exceeded. Please try again "
                                                   "later"}]}), times=times)

    def _check(self, request: Request, base: str | None = None, table: str | None = None
               ) -> Reply | None:
        if request.header("Authorization") != f"Bearer {self.token}":
            return airtable_error(401, "AUTHENTICATION_REQUIRED",
                                  "You should provide valid api key to perform this operation")
        if self.max_per_second:
            now = time.monotonic()
            with self._lock:
                while self._recent and now - self._recent[0] > 1.0:
                    self._recent.popleft()
                self._recent.append(now)
                if len(self._recent) > self.max_per_second + 1:   # one of slack for jitter
                    self.too_fast += 1
                    return Reply(429, {"errors": [{"error": "RATE_LIMIT_REACHED"}]})
        if base is not None and (base != self.base_id
                                 or unquote(table or "") not in (self.table, self.table_id)):
            return airtable_error(403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
                                  "Invalid permissions, or the requested model was not found. "
                                  "Check that both your user and your token have the required "
                                  "permissions, and that the model names and/or ids are correct.")
        return None

    def _routes(self) -> None:
        server = self.server

        @server.route("GET", "/v0/meta/whoami")
        def whoami(request, _m):
            return self._check(request) or Reply(200, {"id": "usrPeregrine", "scopes": [
                "data.records:read", "data.records:write", "schema.bases:read"]})

        @server.route("GET", r"/v0/meta/bases/([^/]+)/tables")
        def tables(request, m):
            if (bad := self._check(request)) is not None:
                return bad
            if m.group(1) != self.base_id:
                return airtable_error(403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", "no base")
            return Reply(200, {"tables": [{
                "id": self.table_id, "name": self.table, "primaryFieldId": "fld0",
                "fields": [{"id": f"fld{i}", "name": n, "type": t}
                           for i, (n, t) in enumerate(self.fields.items())]}]})

        @server.route("GET", r"/v0/([^/]+)/([^/]+)")
        def list_records(request, m):
            if (bad := self._check(request, m.group(1), m.group(2))) is not None:
                return bad
            size = int((request.query.get("pageSize") or ["100"])[0])
            if size > 100:
                return airtable_error(422, "INVALID_REQUEST_UNKNOWN", "pageSize ≤ 100")
            wanted = request.query.get("fields[]")
            formula = (request.query.get("filterByFormula") or [""])[0]
            test = self._formula(formula)
            if test is None:
                return airtable_error(422, "INVALID_FILTER_BY_FORMULA",
                                      f"The formula for filtering records is invalid: {formula}")
            with self._lock:
                records = [r for r in self.records.values() if test(r)]
            limit = request.query.get("maxRecords")
            if limit:
                records = records[:int(limit[0])]
            start = int((request.query.get("offset") or ["0"])[0])
            chunk = records[start:start + size]
            body: dict[str, Any] = {"records": [self._render(r, wanted) for r in chunk]}
            if start + size < len(records):
                body["offset"] = str(start + size)
            return Reply(200, body)

        @server.route("DELETE", r"/v0/([^/]+)/([^/]+)")
        def delete(request, m):
            if (bad := self._check(request, m.group(1), m.group(2))) is not None:
                return bad
            ids = request.query.get("records[]") or []
            if not ids or len(ids) > 10:
                return airtable_error(422, "INVALID_RECORDS", "You can only delete 1 to 10 "
                                      "records at a time")
            with self._lock:
                if any(i not in self.records for i in ids):
                    return airtable_error(404, "NOT_FOUND", "Could not find a record")
                for record_id in ids:
                    del self.records[record_id]
            return Reply(200, {"records": [{"id": i, "deleted": True} for i in ids]})

        @server.route("POST", r"/v0/([^/]+)/([^/]+)")
        def create(request, m):
            if (bad := self._check(request, m.group(1), m.group(2))) is not None:
                return bad
            body = request.json or {}
            records = body.get("records") or []
            if (bad := self._invalid(records, body.get("typecast"))) is not None:
                return bad
            with self._lock:
                made = [self._new(r["fields"]) for r in records]
            return Reply(200, {"records": [self._render(r) for r in made]})

        @server.route("PATCH", r"/v0/([^/]+)/([^/]+)")
        def update(request, m):
            if (bad := self._check(request, m.group(1), m.group(2))) is not None:
                return bad
            body = request.json or {}
            records = body.get("records") or []
            if (bad := self._invalid(records, body.get("typecast"))) is not None:
                return bad
            merge_on = (body.get("performUpsert") or {}).get("fieldsToMergeOn")
            created, updated, out = [], [], []
            with self._lock:
                for record in records:
                    target = self.records.get(record.get("id", ""))
                    if target is None and merge_on:
                        if any(f not in record["fields"] for f in merge_on):
                            return airtable_error(422, "INVALID_REQUEST_UNKNOWN",
                                                  "Records without id must contain every "
                                                  "fieldsToMergeOn field.")
                        matches = [r for r in self.records.values()
                                   if all(r["fields"].get(f) == record["fields"][f]
                                          for f in merge_on)]
                        if len(matches) > 1:
                            return airtable_error(422, "INVALID_REQUEST_UNKNOWN",
                                                  "More than one record matches.")
                        target = matches[0] if matches else None
                    if target is None:
                        if not merge_on:
                            return airtable_error(404, "NOT_FOUND", "Record not found")
                        target = self._new(record["fields"])
                        created.append(target["id"])
                    else:
                        target["fields"].update(record["fields"])
                        target["modified"] = self.server.now()
                        updated.append(target["id"])
                    out.append(target)
            answer: dict[str, Any] = {"records": [self._render(r) for r in out]}
            if merge_on:
                answer.update(createdRecords=created, updatedRecords=updated)
            return Reply(200, answer)

    def _invalid(self, records: list, typecast: Any) -> Reply | None:
        if not records:
            return airtable_error(422, "INVALID_REQUEST_MISSING_FIELDS", "records is required")
        if len(records) > 10:
            return airtable_error(422, "INVALID_RECORDS", "You can only write 10 records "
                                  "at a time")
        for record in records:
            for name, value in (record.get("fields") or {}).items():
                kind = self.fields.get(name)
                if kind is None:
                    return airtable_error(422, "UNKNOWN_FIELD_NAME",
                                          f'Unknown field name: "{name}"')
                bad = (kind == "checkbox" and not isinstance(value, bool)) or (
                    kind == "number" and value is not None
                    and not isinstance(value, (int, float))) or (
                    kind == "date" and value and not re.match(r"^\d{4}-\d\d-\d\d$", str(value)))
                if kind == "singleSelect" and not typecast and value:
                    bad = True     # options unknown to the emulator need typecast
                if bad:
                    return airtable_error(422, "INVALID_VALUE_FOR_COLUMN",
                                          f'Field "{name}" cannot accept the provided value')
        return None

    def _formula(self, formula: str) -> Any:
        """The filters Peregrine sends, as predicates; None for a formula not emulated."""
        if not formula:
            return lambda record: True
        match = re.fullmatch(r"IS_AFTER\(LAST_MODIFIED_TIME\(\), '([^']+)'\)", formula)
        if match:
            try:
                since = calendar.timegm(time.strptime(match.group(1)[:19], "%Y-%m-%dT%H:%M:%S"))
            except ValueError:
                return None
            return lambda record: record["modified"] > since
        match = re.fullmatch(r"\{([^}]+)\} = '([^']*)'", formula)
        if match:
            return lambda record: str(record["fields"].get(match.group(1)) or "") == \
                match.group(2)
        return None

    def _new(self, fields: dict) -> dict:
        record = {"id": f"rec{next(self._ids):014d}", "createdTime": "2026-01-01T00:00:00.000Z",
                  "fields": dict(fields), "modified": self.server.now()}
        self.records[record["id"]] = record
        return record

    @staticmethod
    def _render(record: dict, wanted: list[str] | None = None) -> dict:
        fields = {k: v for k, v in record["fields"].items()
                  if v not in (None, "", False, []) and (not wanted or k in wanted)}
        return {"id": record["id"], "createdTime": record["createdTime"], "fields": fields}


# ================================================================================================
# Google: token endpoint + Sheets
# ================================================================================================
GOOGLE_AUDIENCE = "https://oauth2.googleapis.com/token"
SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def make_service_account_key(directory: Path, token_uri: str,
                             email: str = "peregrine@jobs-test.iam.gserviceaccount.com"
                             ) -> tuple[Path, Any]:
    """A fresh RSA key as a service-account JSON key file; returns (path, private key)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    info = {"type": "service_account", "project_id": "jobs-test",
            "private_key_id": uuid.uuid4().hex, "private_key": pem, "client_email": email,
            "client_id": "1234567890", "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri, "universe_domain": "googleapis.com"}
    path = Path(directory) / "service-account.json"
    path.write_text(json.dumps(info))
    return path, private


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index - 1


def parse_a1(text: str) -> tuple[str, int | None, int | None]:
    """"'Job Tracker'!B5:L5" → ("Job Tracker", row 4, column 1) (0-based; None when absent)."""
    text = unquote(text)
    sheet, _, cells = text.partition("!")
    sheet = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet
    match = re.match(r"^([A-Z]*)(\d*)", cells.split(":")[0]) if cells else None
    if not match:
        return sheet, None, None
    column = _column_index(match.group(1)) if match.group(1) else None
    row = int(match.group(2)) - 1 if match.group(2) else None
    return sheet, row, column


@dataclass(frozen=True)
class Formula:
    """A formula cell: read as its result, kept as the formula unless a write replaces it."""

    formula: str
    result: Any


def formatted(cell: Any) -> Any:
    """A cell as ``values.get`` returns it by default (FORMATTED_VALUE): text."""
    if isinstance(cell, Formula):
        cell = cell.result
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return "" if cell is None else str(cell)


def _entered(value: Any, option: str) -> Any:
    """A value written with RAW (kept as sent) or USER_ENTERED (parsed as if typed)."""
    if option == "USER_ENTERED" and isinstance(value, str):
        if value.startswith("="):
            return Formula(value, "")
        try:
            return float(value) if "." in value else int(value)
        except ValueError:
            return value
    return value


class GoogleService:
    def __init__(self, server: LoopbackServer, public_key: Any = None,
                 client_email: str = "peregrine@jobs-test.iam.gserviceaccount.com",
                 spreadsheet_id: str = "1SheetIdForJobs", sheet: str = "Jobs") -> None:
        self.server, self.public_key, self.client_email = server, public_key, client_email
        self.spreadsheet_id, self.sheet = spreadsheet_id, sheet
        self.sheets: dict[str, list[list[Any]]] = {sheet: []}
        self.shared = True
        #: Why a 403 is answered: "" (not shared: PERMISSION_DENIED), "SERVICE_DISABLED",
        #: "ACCESS_TOKEN_SCOPE_INSUFFICIENT".
        self.forbidden_reason = ""
        self.tokens: set[str] = set()
        self.token_requests = 0
        self._lock = threading.Lock()
        self._routes()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def token_uri(self) -> str:
        return f"{self.server.url}/token"

    def rows(self) -> list[list[Any]]:
        return self.sheets[self.sheet]

    def sheet_requests(self) -> list[Request]:
        return [r for r in self.server.requests if r.path.startswith("/v4/")]

    def sheet_writes(self) -> list[Request]:
        return [r for r in self.sheet_requests() if r.method in ("POST", "PUT")]

    def rate_limit(self, times: int, retry_after: int = 0) -> None:
        self.server.inject(Reply(429, {"error": {"code": 429, "message": "Quota exceeded for "
                                                 "quota metric 'Write requests'",
                                                 "status": "RESOURCE_EXHAUSTED"}},
                                 {"Retry-After": str(retry_after)}), times=times, path="^/v4/")

    @staticmethod
    def _google_error(code: int, status: str, message: str) -> Reply:
        return Reply(code, {"error": {"code": code, "message": message, "status": status}})

    # -- the token endpoint -----------------------------------------------------------------------
    def _token(self, request: Request) -> Reply:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        self.token_requests += 1
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return Reply(400, {"error": "unsupported_grant_type"})
        try:
            header_b64, claims_b64, signature_b64 = form["assertion"].split(".")
            header = json.loads(_b64decode(header_b64))
            claims = json.loads(_b64decode(claims_b64))
            if header.get("alg") != "RS256":
                raise ValueError("alg")
            self.public_key.verify(_b64decode(signature_b64),
                                   f"{header_b64}.{claims_b64}".encode(),
                                   padding.PKCS1v15(), hashes.SHA256())
        except (KeyError, ValueError, InvalidSignature):
            return Reply(400, {"error": "invalid_grant",
                               "error_description": "Invalid JWT Signature."})
        now = time.time()
        if claims.get("aud") not in (GOOGLE_AUDIENCE, self.token_uri) or \
                claims.get("iss") != self.client_email:
            return Reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT."})
        if not (claims["iat"] - 300 <= now <= claims["exp"] + 300) or \
                claims["exp"] - claims["iat"] > 3600:
            return Reply(400, {"error": "invalid_grant", "error_description":
                               "Invalid JWT: Token must be a short-lived token (60 minutes) and "
                               "in a reasonable timeframe."})
        if SHEETS_SCOPE not in str(claims.get("scope", "")).split():
            return Reply(400, {"error": "invalid_scope"})
        token = "ya29." + uuid.uuid4().hex
        self.tokens.add(token)
        return Reply(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    # -- Sheets -------------------------------------------------------------------------------------
    def _check(self, request: Request, spreadsheet_id: str) -> Reply | None:
        auth = request.header("Authorization") or ""
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return self._google_error(401, "UNAUTHENTICATED", "Request had invalid "
                                      "authentication credentials. Expected OAuth 2 access "
                                      "token, login cookie or other valid authentication "
                                      "credential.")
        if spreadsheet_id != self.spreadsheet_id:
            return self._google_error(404, "NOT_FOUND", "Requested entity was not found.")
        if self.forbidden_reason == "SERVICE_DISABLED":
            return Reply(403, {"error": {
                "code": 403, "status": "PERMISSION_DENIED",
                "message": "Google Sheets API has not been used in project 1234567890 before "
                           "or it is disabled.",
                "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                             "reason": "SERVICE_DISABLED", "domain": "googleapis.com"}]}})
        if self.forbidden_reason == "ACCESS_TOKEN_SCOPE_INSUFFICIENT":
            return Reply(403, {"error": {
                "code": 403, "status": "PERMISSION_DENIED",
                "message": "Request had insufficient authentication scopes.",
                "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                             "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                             "domain": "googleapis.com"}]}})
        if not self.shared:
            return self._google_error(403, "PERMISSION_DENIED",
                                      "The caller does not have permission")
        return None

    def _routes(self) -> None:
        server = self.server

        @server.route("POST", "/token")
        def token(request, _m):
            return self._token(request)

        @server.route("GET", r"/v4/spreadsheets/([^/]+)")
        def metadata(request, m):
            if (bad := self._check(request, m.group(1))) is not None:
                return bad
            return Reply(200, {"spreadsheetId": self.spreadsheet_id,
                               "properties": {"title": "Job search"},
                               "sheets": [{"properties": {"sheetId": i, "title": t}}
                                          for i, t in enumerate(self.sheets)]})

        @server.route("GET", r"/v4/spreadsheets/([^/]+)/values/([^/:]+)")
        def get_values(request, m):
            if (bad := self._check(request, m.group(1))) is not None:
                return bad
            sheet, _row, _col = parse_a1(m.group(2))
            if sheet not in self.sheets:
                return self._google_error(400, "INVALID_ARGUMENT",
                                          f"Unable to parse range: {unquote(m.group(2))}")
            with self._lock:
                rows = [self._trim([formatted(c) for c in r]) for r in self.sheets[sheet]]
            while rows and not rows[-1]:
                rows.pop()
            body: dict[str, Any] = {"range": f"{sheet}!A1:Z{max(1, len(rows))}",
                                    "majorDimension": "ROWS"}
            if rows:
                body["values"] = rows
            return Reply(200, body)

        @server.route("POST", r"/v4/spreadsheets/([^/]+)/values/([^/:]+):append")
        def append(request, m):
            if (bad := self._check(request, m.group(1))) is not None:
                return bad
            if request.query.get("valueInputOption", [""])[0] not in ("RAW", "USER_ENTERED"):
                return self._google_error(400, "INVALID_ARGUMENT",
                                          "'valueInputOption' is required but not specified")
            sheet, _row, _col = parse_a1(m.group(2))
            if sheet not in self.sheets:
                return self._google_error(400, "INVALID_ARGUMENT", "Unable to parse range")
            values = (request.json or {}).get("values") or []
            option = request.query["valueInputOption"][0]
            with self._lock:
                rows = self.sheets[sheet]
                while rows and not any(c not in ("", None) for c in rows[-1]):
                    rows.pop()
                first = len(rows) + 1
                rows.extend([["" if c is None else _entered(c, option) for c in v]
                             for v in values])
            return Reply(200, {"spreadsheetId": self.spreadsheet_id, "updates": {
                "updatedRange": f"{sheet}!A{first}:Z{first + len(values) - 1}",
                "updatedRows": len(values)}})

        @server.route("POST", r"/v4/spreadsheets/([^/]+)/values:batchUpdate")
        def batch_update(request, m):
            if (bad := self._check(request, m.group(1))) is not None:
                return bad
            body = request.json or {}
            if body.get("valueInputOption") not in ("RAW", "USER_ENTERED"):
                return self._google_error(400, "INVALID_ARGUMENT",
                                          "'valueInputOption' is required but not specified")
            parsed = []
            for item in body.get("data") or []:
                sheet, row, column = parse_a1(item["range"])
                if sheet not in self.sheets or row is None:   # atomic: reject before applying
                    return self._google_error(400, "INVALID_ARGUMENT",
                                              f"Unable to parse range: {item['range']}")
                parsed.append((sheet, row, column or 0, item.get("values") or []))
            with self._lock:
                for sheet, row, column, values in parsed:
                    rows = self.sheets[sheet]
                    for offset, value_row in enumerate(values):
                        while len(rows) <= row + offset:
                            rows.append([])
                        target = rows[row + offset]
                        while len(target) < column + len(value_row):
                            target.append("")
                        for index, value in enumerate(value_row):
                            if value is not None:    # null: the cell is left as it is
                                target[column + index] = _entered(
                                    value, body["valueInputOption"])
            return Reply(200, {"spreadsheetId": self.spreadsheet_id,
                               "totalUpdatedRows": sum(len(p[3]) for p in parsed)})

        @server.route("POST", r"/v4/spreadsheets/([^/:]+):batchUpdate")
        def structure(request, m):
            if (bad := self._check(request, m.group(1))) is not None:
                return bad
            titles = list(self.sheets)
            with self._lock:
                for item in (request.json or {}).get("requests") or []:
                    spec = (item.get("deleteDimension") or {}).get("range")
                    if not spec or spec.get("dimension") != "ROWS":
                        return self._google_error(400, "INVALID_ARGUMENT",
                                                  "Request not emulated")
                    rows = self.sheets[titles[spec["sheetId"]]]
                    del rows[spec["startIndex"]:spec["endIndex"]]
            return Reply(200, {"spreadsheetId": self.spreadsheet_id, "replies": [{}]})

    @staticmethod
    def _trim(row: list[Any]) -> list[Any]:
        row = list(row)
        while row and row[-1] in ("", None):
            row.pop()
        return row


# ================================================================================================
# Jobs for the tests
# ================================================================================================
TITLES = ("Senior Python Engineer", "Site Reliability Engineer", "Data Platform Lead",
          "Backend Developer", "Staff Engineer, Payments")
COMPANIES = ("ACME", "Globex", "Initech", "Umbrella", "Hooli")


def add_jobs(store: Any, count: int, status: str = "approved", start: int = 0) -> list[dict]:
    """``count`` plausible jobs in a real JobStore, all in ``status``."""
    jobs = [{"title": TITLES[i % len(TITLES)], "company": f"{COMPANIES[i % 5]} {i}",
             "url": f"https://jobs.example/{i}", "location": "Berlin", "remote": i % 2 == 0,
             "salary": "€80,000", "notes": "", "date_found": "2026-11-02", "status": status,
             "source": "linkedin"} for i in range(start, start + count)]
    report = store.add_many(jobs)
    assert not report.skipped, report.skipped
    return store.get_many(report.added_ids)
