"""Sync benchmark: 1,000 jobs, two-way, with Notion, Airtable and Google Sheets loopback emulators.

Prints, per service, the requests (writes + reads) of a first push, an unchanged re-sync ("Sync
now": every record listed), and of the automatic pulls that follow with 0 and with 10 records
edited in the tracker (only what changed is asked for) — each sync five minutes (on the trackers'
clocks) after the one before, as automatic sync runs them; and the longest stall of
the UI event loop while the three syncs run in the real SyncPanel (a 1 ms QTimer; the stall is
the longest gap between its ticks).  Then the wall time of a first Notion push of all jobs with
the client paced at Notion's 3 requests a second against an emulator that refuses anything faster
(429), as a ratio to the floor (requests / rate).  At 3 req/s that push takes 5.5 minutes, so by
default both rates are scaled up (``--rate-scale 50``: 150 req/s on both sides — per-request
overhead weighs more at the faster rate, so the ratio is if anything pessimistic); pass
``--rate-scale 1`` for the real thing.  The emulators run in a child process, as real services
would not share the app's interpreter.  Medians over ``--runs`` runs; client pacing is off in the
request-count phases (counts do not depend on it).

    python benchmarks/sync.py [--jobs 1000] [--runs 3] [--rate-scale 50]
"""
from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QElapsedTimer, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from peregrine_sdk.google_auth import forget_tokens  # noqa: E402
from integrations.airtable import AirtableIntegration  # noqa: E402
from integrations.google_sheets import GoogleSheetsIntegration  # noqa: E402
from integrations.notion import NotionIntegration  # noqa: E402
from peregrine_desktop.jobs.store import JobStore  # noqa: E402
from peregrine_desktop.sync.engine import SyncEngine  # noqa: E402
from peregrine_desktop.sync.state import SyncState  # noqa: E402
from peregrine_sdk.testkit import pointed_at  # noqa: E402
from peregrine_desktop.ui.sync_panel import SyncPanel  # noqa: E402
from tests.fakes.loopback import LoopbackServer  # noqa: E402
from tests.fakes.tracker_services import (AirtableService, GoogleService, NotionService,  # noqa: E402
                                          add_jobs, make_service_account_key)

REGISTRY = {"notion": NotionIntegration, "airtable": AirtableIntegration,
            "google_sheets": GoogleSheetsIntegration}
WRITE_METHODS = ("POST", "PATCH", "PUT")


class StallMeter:
    """Longest gap between ticks of a 1 ms timer on the UI thread."""

    def __init__(self) -> None:
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setInterval(1)
        self.timer.timeout.connect(self._tick)
        self.longest = 0.0
        self._last = 0

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed()
        self.longest = max(self.longest, (now - self._last) / 1e6)
        self._last = now

    def start(self) -> None:
        self.longest = 0.0
        self.clock.start()
        self._last = self.clock.nsecsElapsed()
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        return self.longest


def sync_once(app: QApplication, panel: SyncPanel, meter: StallMeter, full: bool = True
              ) -> tuple[float, float, list]:
    done: list[object] = []
    panel.sync_finished.connect(done.append)
    meter.start()
    started = time.perf_counter()
    panel.start_sync(full=full)
    while not done:
        app.processEvents()
        time.sleep(0.0005)
    elapsed = time.perf_counter() - started
    panel.sync_finished.disconnect(done.append)
    reports = done[0]
    for report in reports:
        if report.failed or report.error or report.conflicts:
            raise SystemExit(f"{report.label}: {report.summary_line()} {report.error}")
    return meter.stop(), elapsed, reports


def counts(requests, path_prefix: str = "") -> tuple[int, int]:
    chosen = [r for r in requests if r.path.startswith(path_prefix)]
    writes = sum(1 for r in chosen if r.method in WRITE_METHODS
                 and not r.path.endswith("/query"))
    return writes, len(chosen) - writes


def emulators(conn, key_dir: str) -> None:
    """Child process: the three emulators, so their work does not compete with the app's UI
    thread for the GIL (as a real service would not).  Answers commands over ``conn``."""
    servers = [LoopbackServer().start() for _ in range(3)]
    n_srv, a_srv, g_srv = servers
    notion, airtable = NotionService(n_srv), AirtableService(a_srv)
    key_path, private = make_service_account_key(Path(key_dir), f"{g_srv.url}/token")
    google = GoogleService(g_srv, private.public_key())
    conn.send({"notion": (notion.url, notion.token, notion.database_id),
               "airtable": (airtable.url, airtable.token, airtable.base_id),
               "google": (google.url, google.spreadsheet_id, str(key_path))})
    while True:
        command = conn.recv()
        if command == "clear":
            for server in servers:
                server.clear()
            conn.send(True)
        elif command == "counts":
            conn.send({"notion": counts(list(n_srv.requests), "/v1/"),
                       "airtable": counts(list(a_srv.requests), "/v0/"),
                       "sheets": counts(list(g_srv.requests), "/v4/"),
                       "token": len(g_srv.matching("POST", "^/token$"))})
        elif command == "totals":
            conn.send((len(notion.live_pages()), len(airtable.records), len(google.rows()) - 1))
        elif command[0] == "later":                 # minutes pass in every tracker
            for server in servers:
                server.clock_offset += command[1] * 60
            conn.send(True)
        elif command[0] == "edit":                  # a person edits n records in each tracker
            n = command[1]
            for page in notion.live_pages()[:n]:
                notion.edit(page["id"], "Notes", "edited in Notion")
            for record in list(airtable.records.values())[:n]:
                airtable.edit(record["id"], Notes="edited in Airtable")
            notes = google.rows()[0].index("Notes")
            for row in google.rows()[1:n + 1]:
                row[notes] = "edited in the sheet"
            conn.send(True)
        elif command[0] == "paced_notion":          # a fresh database enforcing a rate
            paced = LoopbackServer().start()
            servers.append(paced)
            service = NotionService(paced, max_per_second=command[1])
            conn.send((service.url, service.token, service.database_id))
            conn.recv()
            conn.send((len(service.live_pages()), service.too_fast,
                       len(paced.requests)))
        else:
            for server in servers:
                server.stop()
            conn.send(True)
            return


#: (phase, "Sync now" lists every record, records edited in each tracker before it)
PHASES = (("first", True, 0), ("resync", True, 0), ("pull0", False, 0), ("pull10", False, 10))


def paced_notion_push(parent, tmp_path: Path, jobs: int, rate: float) -> dict[str, float]:
    """A first push of ``jobs`` to a fresh Notion database, the client paced at ``rate`` and the
    emulator refusing more than ``rate`` a second: wall time against requests / rate."""
    parent.send(("paced_notion", rate))
    url, token, database = parent.recv()
    store = JobStore(tmp_path / "paced.sqlite3")
    add_jobs(store, jobs)
    NotionIntegration.per_second = rate
    try:
        with pointed_at(NotionIntegration, url):
            client = NotionIntegration()
            client.connect({"token": token, "database_id": database,
                            "key_column": "Peregrine ID"})
            started = time.perf_counter()
            report = SyncEngine(SyncState(store)).run(client, store.list_jobs())
            wall = time.perf_counter() - started
    finally:
        NotionIntegration.per_second = None
        store.close()
    parent.send("done")
    pages, too_fast, requests = parent.recv()
    if report.failed or pages != jobs:
        raise SystemExit(f"paced Notion push: {report.summary_line()} {report.error}")
    # The first request leaves at once; each further one waits its 1/rate.
    return {"paced_wall": wall, "paced_requests": requests,
            "paced_floor": (requests - 1) / rate,
            "paced_429": too_fast}


def one_run(app: QApplication, jobs: int, rate: float) -> dict[str, float]:
    import multiprocessing

    forget_tokens()
    results: dict[str, float] = {}
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as pointing:
        tmp_path = Path(tmp)
        parent, child = context.Pipe()
        process = context.Process(target=emulators, args=(child, tmp), daemon=True)
        process.start()
        where = parent.recv()
        config_dir = tmp_path / "config"
        config_dir.mkdir()
        store = JobStore(tmp_path / "jobs.sqlite3")
        add_jobs(store, jobs)
        url, token, database = where["notion"]
        pointing.enter_context(pointed_at(NotionIntegration, url))
        NotionIntegration.save_config({"token": token, "database_id": database,
                                       "key_column": "Peregrine ID"}, config_dir)
        url, token, base = where["airtable"]
        pointing.enter_context(pointed_at(AirtableIntegration, url))
        AirtableIntegration.save_config({"token": token, "base_id": base, "table": "Jobs",
                                         "key_column": "Peregrine ID"}, config_dir)
        url, sheet, key_path = where["google"]
        pointing.enter_context(pointed_at(GoogleSheetsIntegration, url))
        GoogleSheetsIntegration.save_config({"key_file": key_path, "spreadsheet_id": sheet},
                                            config_dir)
        panel = SyncPanel(store, config_dir, "paid", registry=REGISTRY,
                          load_jobs=lambda: store.list_jobs(with_history=False))
        panel.show()
        meter = StallMeter()
        for phase, full, edits in PHASES:
            if phase != "first":
                parent.send(("later", 5))            # five minutes later, as automatic sync
                parent.recv()
            if edits:
                parent.send(("edit", edits))
                parent.recv()
            parent.send("clear")
            parent.recv()
            stall, elapsed, reports = sync_once(app, panel, meter, full)
            results[f"stall_{phase}"] = stall
            results[f"seconds_{phase}"] = elapsed
            taken = {r.integration: len({c.job_id for c in r.pulled}) for r in reports}
            if phase.startswith("pull") and set(taken.values()) != {edits}:
                raise SystemExit(f"{phase}: took in {taken}, expected {edits} each")
            parent.send("counts")
            seen = parent.recv()
            for name in ("notion", "airtable", "sheets"):
                results[f"{name}_{phase}_writes"], results[f"{name}_{phase}_reads"] = seen[name]
            results[f"token_{phase}"] = seen["token"]
        parent.send("totals")
        assert parent.recv() == (jobs, jobs, jobs), "a tracker does not hold every job once"
        results.update(paced_notion_push(parent, tmp_path, jobs, rate))
        parent.send("stop")
        parent.recv()
        process.join(10)
        panel.close()
        panel.deleteLater()
        app.processEvents()
        store.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate-scale", type=float, default=50.0,
                        help="multiply Notion's 3 requests a second on both sides (1: real)")
    args = parser.parse_args()
    NotionIntegration.per_second = None
    AirtableIntegration.per_second = None
    rate = 3.0 * args.rate_scale
    app = QApplication.instance() or QApplication([])
    runs = [one_run(app, args.jobs, rate) for _ in range(args.runs)]

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    print(f"Sync benchmark: {args.jobs} jobs, median of {args.runs} runs "
          f"(loopback emulators, client pacing off for the request counts)\n")
    headings = ("first push", "unchanged re-sync", "pull, 0 changed", "pull, 10 changed")
    print(f"{'service':<15}" + "".join(f"{h:>24}" for h in headings))
    print(f"{'':<15}" + f"{'writes + reads = total':>24}" * 4)
    for name, label in (("notion", "Notion"), ("airtable", "Airtable"),
                        ("sheets", "Google Sheets")):
        cells = []
        for phase, _full, _edits in PHASES:
            w, r = med(f"{name}_{phase}_writes"), med(f"{name}_{phase}_reads")
            cells.append(f"{w:.0f} + {r:.0f} = {w + r:.0f}")
        print(f"{label:<15}" + "".join(f"{c:>24}" for c in cells))
    print(f"{'(Google token)':<15}" + "".join(f"{med(f'token_{p}'):>24.0f}"
                                              for p, _f, _e in PHASES))
    reads = {name: med(f"{name}_pull10_reads") for name in ("notion", "airtable", "sheets")}
    print(f"\nReads per 100 records: unchanged re-sync Notion "
          f"{100 * med('notion_resync_reads') / args.jobs:.1f}, Airtable "
          f"{100 * med('airtable_resync_reads') / args.jobs:.1f}; pull of 10 changes Notion "
          f"{100 * reads['notion'] / args.jobs:.1f}, Airtable "
          f"{100 * reads['airtable'] / args.jobs:.1f}; Sheets reads per sync: "
          f"{med('sheets_resync_reads'):.0f} / {med('sheets_pull0_reads'):.0f} / "
          f"{reads['sheets']:.0f} (re-sync / pull 0 / pull 10)")
    print()
    each = ", ".join(f"{r['stall_first']:.1f}/{r['stall_resync']:.1f}/{r['stall_pull10']:.1f}"
                     for r in runs)
    print(f"Longest UI event-loop stall while syncing (1 ms timer): first push "
          f"{med('stall_first'):.1f} ms, re-sync {med('stall_resync'):.1f} ms, pull of 10 "
          f"{med('stall_pull10'):.1f} ms (each run, first/re-sync/pull: {each})")
    print(f"Wall time of the three syncs: first {med('seconds_first'):.1f} s, "
          f"re-sync {med('seconds_resync'):.2f} s, pull of 10 {med('seconds_pull10'):.2f} s")
    scale = f" (rates scaled ×{args.rate_scale:g})" if args.rate_scale != 1 else ""
    print(f"\nFirst Notion push of {args.jobs} jobs paced at {rate:g} req/s{scale}: "
          f"{med('paced_wall'):.2f} s for {med('paced_requests'):.0f} requests; floor "
          f"{med('paced_floor'):.2f} s; ratio {med('paced_wall') / med('paced_floor'):.3f}; "
          f"429s from the emulator: {med('paced_429'):.0f}")


if __name__ == "__main__":
    main()
