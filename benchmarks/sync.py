"""Sync benchmark: 1,000 jobs to Notion, Airtable and Google Sheets loopback emulators.

Prints, per service, the requests of a first sync and of an unchanged re-sync (writes and reads),
and the longest stall of the UI event loop while the three syncs run (one after another) in the
real SyncPanel (a 1 ms QTimer; the stall is the longest gap between its ticks).  The emulators
run in a child process, as real services would not share the app's interpreter.  Medians over
``--runs`` runs.  Client-side pacing is switched off so the run takes seconds, not minutes
(Notion's 3 req/s would make 1,000 creates last 5.5 minutes); request counts do not depend on it.

    python benchmarks/sync.py [--jobs 1000] [--runs 3]
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


def sync_once(app: QApplication, panel: SyncPanel, meter: StallMeter) -> tuple[float, float]:
    done: list[object] = []
    panel.sync_finished.connect(done.append)
    meter.start()
    started = time.perf_counter()
    panel.start_sync()
    while not done:
        app.processEvents()
        time.sleep(0.0005)
    elapsed = time.perf_counter() - started
    panel.sync_finished.disconnect(done.append)
    reports = done[0]
    for report in reports:
        if report.failed or report.error:
            raise SystemExit(f"{report.label}: {report.summary_line()} {report.error}")
    return meter.stop(), elapsed


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
        else:
            for server in servers:
                server.stop()
            conn.send(True)
            return


def one_run(app: QApplication, jobs: int) -> dict[str, float]:
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
        for phase in ("first", "resync"):
            parent.send("clear")
            parent.recv()
            stall, elapsed = sync_once(app, panel, meter)
            results[f"stall_{phase}"] = stall
            results[f"seconds_{phase}"] = elapsed
            parent.send("counts")
            seen = parent.recv()
            for name in ("notion", "airtable", "sheets"):
                results[f"{name}_{phase}_writes"], results[f"{name}_{phase}_reads"] = seen[name]
            results[f"token_{phase}"] = seen["token"]
        parent.send("totals")
        assert parent.recv() == (jobs, jobs, jobs), "a tracker does not hold every job once"
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
    args = parser.parse_args()
    NotionIntegration.per_second = None
    AirtableIntegration.per_second = None
    app = QApplication.instance() or QApplication([])
    runs = [one_run(app, args.jobs) for _ in range(args.runs)]

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    print(f"Sync benchmark: {args.jobs} jobs, median of {args.runs} runs "
          f"(loopback emulators, client pacing off)\n")
    print(f"{'service':<15}{'first sync':>26}{'unchanged re-sync':>26}")
    print(f"{'':<15}{'writes + reads = total':>26}{'writes + reads = total':>26}")
    for name, label in (("notion", "Notion"), ("airtable", "Airtable"),
                        ("sheets", "Google Sheets")):
        cells = []
        for phase in ("first", "resync"):
            w, r = med(f"{name}_{phase}_writes"), med(f"{name}_{phase}_reads")
            cells.append(f"{w:.0f} + {r:.0f} = {w + r:.0f}")
        print(f"{label:<15}{cells[0]:>26}{cells[1]:>26}")
    print(f"{'(Google token)':<15}{med('token_first'):>26.0f}{med('token_resync'):>26.0f}")
    print()
    each = ", ".join(f"{r['stall_first']:.1f}/{r['stall_resync']:.1f}" for r in runs)
    print(f"Longest UI event-loop stall while syncing (1 ms timer): first sync "
          f"{med('stall_first'):.1f} ms, re-sync {med('stall_resync'):.1f} ms "
          f"(each run, first/re-sync: {each})")
    print(f"Wall time of the three syncs: first {med('seconds_first'):.1f} s, "
          f"re-sync {med('seconds_resync'):.2f} s")


if __name__ == "__main__":
    main()
