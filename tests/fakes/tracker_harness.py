"""One face for the three tracker emulators, so a two-way sync test runs against each of them.

A :class:`Tracker` starts the service's loopback emulator, points its integration at it, and
does what a person does in the tracker: edit a cell, add a row, delete a record.  Cells are
named by the column names Peregrine uses (``JobSync.JOB_COLUMNS``).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from integrations.airtable import AirtableIntegration
from integrations.google_sheets import HEADER, GoogleSheetsIntegration
from integrations.notion import NotionIntegration
from peregrine_sdk.google_auth import forget_tokens
from peregrine_sdk.http import RetryPolicy
from peregrine_sdk.testkit import pointed_at
from peregrine_desktop.sync.engine import SyncEngine
from peregrine_desktop.sync.report import SyncReport
from peregrine_desktop.sync.settings import SyncOptions
from peregrine_desktop.sync.state import SyncState
from tests.fakes.loopback import LoopbackServer, Request
from tests.fakes.tracker_services import (AirtableService, GoogleService, NotionService,
                                          airtable_job_fields, make_service_account_key,
                                          notion_job_columns)

NAMES = ("notion", "airtable", "google_sheets")
#: Columns a full job tracker has besides the usual ones (description and the dates).
EXTRA_NOTION = {"Description": {"type": "rich_text"}, "Applied on": {"type": "date"},
                "Deadline": {"type": "date"}, "Next action": {"type": "date"},
                "Next action note": {"type": "rich_text"}, "Source": {"type": "rich_text"}}
EXTRA_AIRTABLE = {"Description": "multilineText", "Applied on": "date", "Deadline": "date",
                  "Next action": "date", "Next action note": "singleLineText",
                  "Source": "singleLineText"}


class Tracker:
    """The emulator of one tracker with its integration pointed at it."""

    name = ""

    def __init__(self, server: LoopbackServer) -> None:
        self.server = server

    def client(self, **extra: Any) -> Any:
        raise NotImplementedError

    def sync(self, store: Any, jobs: list[dict] | None = None, dry_run: bool = False,
             **options: Any) -> SyncReport:
        """One sync of ``store``'s jobs, as the app runs it."""
        engine = SyncEngine(SyncState(store), options=SyncOptions(**options))
        return engine.run(self.client(), store.list_jobs() if jobs is None else jobs,
                          dry_run=dry_run)

    def later(self, minutes: float = 5) -> None:
        """Let time pass in the tracker (its clock: stamps and Date headers)."""
        self.server.clock_offset += minutes * 60

    # -- what a person does there ---------------------------------------------------------------
    def keys(self) -> list[str]:
        raise NotImplementedError

    def cell(self, key: str, column: str) -> Any:
        raise NotImplementedError

    def edit(self, key: str, column: str, value: Any) -> None:
        raise NotImplementedError

    def add_row(self, **cells: Any) -> None:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def writes(self) -> list[Request]:
        raise NotImplementedError

    def requests(self) -> list[Request]:
        return list(self.server.requests)


class NotionTracker(Tracker):
    name = "notion"

    def __init__(self, server: LoopbackServer) -> None:
        super().__init__(server)
        self.service = NotionService(server, columns={**notion_job_columns(), **EXTRA_NOTION})

    def client(self, **extra: Any) -> NotionIntegration:
        integration = NotionIntegration()
        integration.connect({"token": self.service.token,
                             "database_id": self.service.database_id,
                             "key_column": "Peregrine ID", **extra})
        return integration

    def keys(self) -> list[str]:
        return self.service.keys()

    def cell(self, key: str, column: str) -> Any:
        value = self.service.page_for(key)["properties"].get(column) or {}
        kind = value.get("type")
        data = value.get(kind) if kind else None
        if kind in ("title", "rich_text"):
            return "".join(p["plain_text"] for p in data or [])
        if kind in ("select", "status", "date"):
            return (data or {}).get("name") or (data or {}).get("start") or ""
        return data

    def edit(self, key: str, column: str, value: Any) -> None:
        self.service.edit(self.service.page_for(key)["id"], column, value)

    def add_row(self, **cells: Any) -> None:
        self.service.add_row(**cells)

    def delete(self, key: str) -> None:
        self.service.trash(self.service.page_for(key)["id"])

    def writes(self) -> list[Request]:
        return self.service.writes()


class AirtableTracker(Tracker):
    name = "airtable"

    def __init__(self, server: LoopbackServer) -> None:
        super().__init__(server)
        self.service = AirtableService(server, fields={**airtable_job_fields(),
                                                       **EXTRA_AIRTABLE})

    def client(self, **extra: Any) -> AirtableIntegration:
        integration = AirtableIntegration()
        integration.connect({"token": self.service.token, "base_id": self.service.base_id,
                             "table": self.service.table, "key_column": "Peregrine ID",
                             **extra})
        return integration

    def keys(self) -> list[str]:
        return self.service.keys()

    def cell(self, key: str, column: str) -> Any:
        value = self.service.record_for(key)["fields"].get(column)
        return "" if value is None else value

    def edit(self, key: str, column: str, value: Any) -> None:
        self.service.edit(self.service.record_for(key)["id"], **{column: value})

    def add_row(self, **cells: Any) -> None:
        self.service.add_row(**cells)

    def delete(self, key: str) -> None:
        self.service.delete(self.service.record_for(key)["id"])

    def writes(self) -> list[Request]:
        return self.service.writes()


class SheetsTracker(Tracker):
    name = "google_sheets"

    def __init__(self, server: LoopbackServer, key_dir: Path) -> None:
        super().__init__(server)
        key_path, private_key = make_service_account_key(key_dir, f"{server.url}/token")
        self.key_path = key_path
        self.service = GoogleService(server, private_key.public_key())

    def client(self, **extra: Any) -> GoogleSheetsIntegration:
        integration = GoogleSheetsIntegration()
        integration.connect({"key_file": str(self.key_path),
                             "spreadsheet_id": self.service.spreadsheet_id, **extra})
        return integration

    def _row(self, key: str) -> list[Any]:
        return next(r for r in self.service.rows()[1:] if r and r[0] == key)

    def _column(self, column: str) -> int:
        return [str(c) for c in self.service.rows()[0]].index(column)

    def keys(self) -> list[str]:
        return [str(r[0]) for r in self.service.rows()[1:] if r and r[0]]

    def cell(self, key: str, column: str) -> Any:
        row = self._row(key)
        index = self._column(column)
        return row[index] if index < len(row) else ""

    def edit(self, key: str, column: str, value: Any) -> None:
        row, index = self._row(key), self._column(column)
        while len(row) <= index:
            row.append("")
        row[index] = "" if value is None else value

    def add_row(self, **cells: Any) -> None:
        if not self.service.rows():                 # an empty tab: the person types a header
            self.service.rows().append(list(HEADER))
        header = [str(c) for c in self.service.rows()[0]]
        self.service.rows().append([cells.get(c, "") for c in header])

    def delete(self, key: str) -> None:
        self.service.rows().remove(self._row(key))

    def writes(self) -> list[Request]:
        return self.service.sheet_writes()


@contextlib.contextmanager
def tracker(name: str, key_dir: Path, monkeypatch: Any) -> Iterator[Tracker]:
    """The emulator of ``name`` running, its integration pointed at it, pacing and waits off
    (``monkeypatch`` is pytest's, which puts the classes back afterwards)."""
    no_wait = RetryPolicy(attempts=4, base_delay=0.01, max_wait=1.0, sleep=lambda _s: None)
    monkeypatch.setattr(NotionIntegration, "per_second", None)
    monkeypatch.setattr(NotionIntegration, "policy", no_wait)
    monkeypatch.setattr(AirtableIntegration, "per_second", None)
    monkeypatch.setattr(AirtableIntegration, "sleep", staticmethod(lambda _s: None))
    monkeypatch.setattr(AirtableIntegration, "retry_delay", 0.01)
    monkeypatch.setattr(GoogleSheetsIntegration, "policy", no_wait)
    forget_tokens()
    cls = {"notion": NotionIntegration, "airtable": AirtableIntegration,
           "google_sheets": GoogleSheetsIntegration}[name]
    try:
        with LoopbackServer() as server, pointed_at(cls, server.url):
            if name == "notion":
                yield NotionTracker(server)
            elif name == "airtable":
                yield AirtableTracker(server)
            else:
                yield SheetsTracker(server, key_dir)
    finally:
        forget_tokens()


__all__ = ["HEADER", "NAMES", "Tracker", "tracker"]
