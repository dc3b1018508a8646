"""How the pipeline view copes with 10,000 jobs, beside a bare QTableView over the same rows.

Prints, as medians over ``--runs`` runs in this one process: the time to load and show the view
(until its table has painted), and the longest stall of the UI event loop (the largest gap between two ticks of a 0 ms heartbeat
timer) while scrolling, typing a text filter, switching status filters, sorting, switching to the
board, scrolling its biggest column and typing a filter with the board shown.  The baseline is a
QTableView over a trivial QAbstractTableModel holding the same rows (read from the same SQLite
file), filtered and sorted by a stock QSortFilterProxyModel, and for the board a QListView per
stage over a stock proxy filtering that one on the status.

    QT_QPA_PLATFORM=offscreen python benchmarks/pipeline_view.py [--jobs 10000] [--runs 5]

Under a real X server (``QT_QPA_PLATFORM=xcb`` with ``DISPLAY`` set, e.g. under ``xvfb-run``)
the figures are those of a person's desktop: painting offscreen is a different amount of work.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

_TITLES = ("Backend Engineer", "Senior Python Developer", "Data Engineer", "Staff Engineer",
           "Frontend Developer", "Site Reliability Engineer", "Engineering Manager",
           "Machine Learning Engineer", "Product Designer", "QA Automation Engineer",
           "Platform Engineer", "Full-Stack Developer", "Security Engineer", "Data Analyst")
_COMPANIES = ("Acme Robotics", "Northwind", "Globex", "Initech", "Umbrella Health", "Hooli",
              "Stark Logistics", "Wayne Analytics", "Tyrell Systems", "Cyberdyne", "Soylent Labs",
              "Aperture Science", "Vandelay Imports", "Oscorp", "Massive Dynamic", "Gringotts")
_PLACES = ("Berlin, Germany", "Amsterdam, Netherlands", "London, United Kingdom", "Lisbon, Portugal",
           "New York, NY, United States", "Toronto, ON, Canada", "Zürich, Switzerland",
           "Barcelona, Spain", "", "Munich, Germany", "Austin, TX, United States")
_SOURCES = ("LinkedIn", "Indeed", "Company site", "Referral", "Hacker News", "Otta",
            "Wellfound")
_ZONES = ("Europe/Berlin", "Europe/London", "America/New_York", "America/Toronto")
_WEIGHTS = {"pending": 30, "approved": 18, "applied": 22, "phone_screen": 8, "interviewing": 6,
            "offer": 2, "hired": 1, "rejected": 13}
_PATH = ("pending", "approved", "applied", "phone_screen", "interviewing", "offer", "hired")


def demo_jobs(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` plausible jobs with consistent status histories (for benchmarks and screenshots)."""
    rng = random.Random(seed)
    today = date.today()
    jobs = []
    status_choices = list(_WEIGHTS)
    weights = list(_WEIGHTS.values())
    for number in range(count):
        status = rng.choices(status_choices, weights)[0]
        found = today - timedelta(days=rng.randint(0, 120))
        start = datetime(found.year, found.month, found.day, 9, tzinfo=timezone.utc)
        if status == "rejected":
            path = list(_PATH[:rng.randint(1, 5)]) + ["rejected"]
        else:
            path = list(_PATH[:_PATH.index(status) + 1])
        history = [{"status": s, "at": (start + timedelta(days=3 * i, hours=i)).isoformat()}
                   for i, s in enumerate(path)]
        low = rng.randrange(45, 140) * 1000
        job = {
            "title": rng.choice(_TITLES),
            "company": rng.choice(_COMPANIES),
            "url": f"https://jobs.example.com/postings/{number + 1000}",
            "source": rng.choice(_SOURCES),
            "location": rng.choice(_PLACES),
            "remote": rng.random() < 0.3,
            "salary": rng.choice(("", f"EUR {low:,}–{low + 15000:,} per year",
                                  f"USD {low + 20000:,}–{low + 45000:,} per year")),
            "description": "We are looking for someone who enjoys building reliable systems. "
                           * rng.randint(3, 12),
            "notes": rng.choice(("", "", "Recruiter: Sam", "Follow up Friday",
                                 "Referred by Alex")),
            "date_found": found.isoformat(),
            "status": status,
            "status_history": history,
        }
        if status in ("phone_screen", "interviewing") and rng.random() < 0.6:
            zone = rng.choice(_ZONES)
            from zoneinfo import ZoneInfo
            moment = datetime.combine(today + timedelta(days=rng.randint(1, 20)),
                                      datetime.min.time(), ZoneInfo(zone)).replace(
                hour=rng.choice((9, 10, 11, 14, 15, 16)))
            job["interview_at"], job["interview_tz"] = moment.isoformat(), zone
        jobs.append(job)
    return jobs


# -- measuring --------------------------------------------------------------------------------------
class StallMeter:
    """Largest gap between ticks of a 0 ms timer while ``steps`` run one per ``interval_ms``."""

    def __init__(self, app) -> None:
        from PySide6.QtCore import QTimer
        self.app = app
        self.timer = QTimer()
        self.timer.setInterval(0)
        self.timer.timeout.connect(self._tick)
        self.last = 0.0
        self.worst = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now

    def run(self, steps, interval_ms: int) -> float:
        from PySide6.QtCore import QEventLoop, QTimer
        loop = QEventLoop()
        pending = list(steps)

        def next_step() -> None:
            if not pending:
                QTimer.singleShot(300, loop.quit)
                return
            pending.pop(0)()
            QTimer.singleShot(interval_ms, next_step)

        self.app.processEvents()
        self.worst, self.last = 0.0, time.perf_counter()
        self.timer.start()
        QTimer.singleShot(interval_ms, next_step)
        loop.exec()
        self.timer.stop()
        return self.worst * 1000


def _scroll_steps(table, count: int = 40):
    bar = table.verticalScrollBar()

    def step(i: int) -> None:
        bar.setValue(int(bar.maximum() * (i + 1) / count))
    return [lambda i=i: step(i) for i in range(count)]


_TEXTS = ("s", "se", "sen", "seni", "senio", "senior", "", "b", "be", "ber", "berl", "berlin", "")


def until_painted(app, window, table) -> float:
    """Show ``window``, run the event loop until ``table``'s rows have painted, and return that
    moment (``time.perf_counter``): when a person sees the jobs.  Work deferred past it is not
    counted, for the pipeline and the bare table alike."""
    from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer

    loop = QEventLoop()

    class Painted(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 - Qt override
            if event.type() == QEvent.Type.Paint:
                obj.removeEventFilter(self)
                QTimer.singleShot(0, loop.quit)     # once this paint is done
            return False

    watch = Painted()
    table.viewport().installEventFilter(watch)
    window.show()
    QTimer.singleShot(30_000, loop.quit)
    loop.exec()
    return time.perf_counter()


def _pump(app, rounds: int = 3) -> None:
    for _ in range(rounds):
        app.processEvents()


def measure_view(app, store_path: Path) -> dict[str, float]:
    from PySide6.QtCore import Qt

    from peregrine_desktop.jobs import statuses
    from peregrine_desktop.ui.pipeline.model import COLUMNS

    started = time.perf_counter()
    view, store, repository = open_view(store_path)
    shown = (until_painted(app, view, view.table) - started) * 1000
    _pump(app)
    meter = StallMeter(app)
    results = {"load + show (ms)": shown}
    results["scroll stall (ms)"] = meter.run(_scroll_steps(view.table), 25)
    results["text filter stall (ms)"] = meter.run(
        [lambda t=t: view.search.setText(t) for t in _TEXTS], 200)
    results["status filter stall (ms)"] = meter.run(
        [lambda s=s: view.set_status_filter(s) for s in (*statuses.STATUSES, None)], 100)
    columns = [i for i, _ in enumerate(COLUMNS)]
    results["sort stall (ms)"] = meter.run(
        [lambda c=c: view.table.sortByColumn(c, Qt.SortOrder.AscendingOrder) for c in columns],
        100)
    results["switch to board stall (ms)"] = meter.run([lambda: view.set_mode("board")], 100)
    results["board scroll stall (ms)"] = meter.run(
        _scroll_steps(view.board.columns["pending"].list), 25)
    results["board text filter stall (ms)"] = meter.run(
        [lambda t=t: view.search.setText(t) for t in _TEXTS], 200)
    view.close()
    view.deleteLater()
    repository.deleteLater()
    _pump(app)
    store.close()
    return results


def open_view(store_path: Path):
    """The app's pipeline over ``store_path``, sized but not shown: (view, store, repository)."""
    from peregrine_desktop.jobs.repository import JobRepository
    from peregrine_desktop.jobs.store import JobStore
    from peregrine_desktop.ui.pipeline.view import PipelineView

    store = JobStore(store_path)
    repository = JobRepository(store)
    view = PipelineView(repository)
    view.resize(1280, 760)
    return view, store, repository


BASELINE_COLUMNS = ("title", "company", "location", "salary", "status", "date_found",
                    "interview_at", "source")


def open_baseline(store_path: Path):
    """The baseline: the same rows read with sqlite3 into a trivial model, behind a stock
    QSortFilterProxyModel, in a QTableView, sized but not shown: (table, proxy)."""
    import sqlite3

    from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
    from PySide6.QtWidgets import QTableView

    columns = BASELINE_COLUMNS

    class TrivialModel(QAbstractTableModel):
        def __init__(self, rows):
            super().__init__()
            self.rows = rows

        def rowCount(self, parent=QModelIndex()):
            return 0 if parent.isValid() else len(self.rows)

        def columnCount(self, parent=QModelIndex()):
            return 0 if parent.isValid() else len(columns)

        def data(self, index, role=Qt.ItemDataRole.DisplayRole):
            if role == Qt.ItemDataRole.DisplayRole:
                return self.rows[index.row()][index.column()]
            return None

        def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
            if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
                return columns[section]
            return None

    conn = sqlite3.connect(store_path)
    rows = [tuple("" if v is None else str(v) for v in row) for row in conn.execute(
        f"SELECT {', '.join(columns)} FROM jobs ORDER BY id")]
    conn.close()
    model = TrivialModel(rows)
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    proxy.setFilterKeyColumn(-1)
    table = QTableView()
    table.setModel(proxy)
    table._keep = (model, proxy)  # both live as long as the table
    table.resize(1280, 760)
    return table, proxy


def measure_baseline(app, store_path: Path) -> dict[str, float]:
    from PySide6.QtCore import QSortFilterProxyModel, Qt
    from PySide6.QtWidgets import QHBoxLayout, QListView, QWidget

    from peregrine_desktop.jobs import statuses

    columns = BASELINE_COLUMNS
    started = time.perf_counter()
    table, proxy = open_baseline(store_path)
    shown = (until_painted(app, table, table) - started) * 1000
    _pump(app)
    meter = StallMeter(app)
    results = {"load + show (ms)": shown}
    results["scroll stall (ms)"] = meter.run(_scroll_steps(table), 25)
    results["text filter stall (ms)"] = meter.run(
        [lambda t=t: proxy.setFilterFixedString(t) for t in _TEXTS], 200)

    def status_filter(status):
        proxy.setFilterKeyColumn(columns.index("status") if status else -1)
        proxy.setFilterFixedString(status or "")
    results["status filter stall (ms)"] = meter.run(
        [lambda s=s: status_filter(s) for s in (*statuses.STATUSES, None)], 100)
    results["sort stall (ms)"] = meter.run(
        [lambda c=c: table.sortByColumn(c, Qt.SortOrder.AscendingOrder)
         for c in range(len(columns))], 100)

    # The plain way to a board: a list view per stage, each over a stock proxy on the status.
    board = QWidget()
    row = QHBoxLayout(board)
    lists = []
    for status in statuses.STATUSES:
        stage = QSortFilterProxyModel(board)
        stage.setSourceModel(proxy)
        stage.setFilterKeyColumn(columns.index("status"))
        stage.setFilterRegularExpression(f"^{status}$")
        view = QListView(board)
        view.setModel(stage)
        view.setUniformItemSizes(True)
        row.addWidget(view)
        lists.append(view)
    board.resize(1280, 760)

    def switch() -> None:
        table.hide()
        board.show()
    results["switch to board stall (ms)"] = meter.run([switch], 100)
    results["board scroll stall (ms)"] = meter.run(_scroll_steps(lists[0]), 25)
    results["board text filter stall (ms)"] = meter.run(
        [lambda t=t: proxy.setFilterFixedString(t) for t in _TEXTS], 200)
    board.close()
    board.deleteLater()
    table.close()
    table.deleteLater()
    _pump(app)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    from peregrine_desktop.jobs.store import JobStore

    app = QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp(prefix="peregrine-bench-"))
    path = folder / "jobs.sqlite3"
    started = time.perf_counter()
    store = JobStore(path)
    report = store.add_many(demo_jobs(args.jobs))
    store.close()
    print(f"{report.added:,} jobs written in one transaction in "
          f"{time.perf_counter() - started:.2f} s ({path.stat().st_size / 1e6:.1f} MB)\n")

    ours: dict[str, list[float]] = {}
    base: dict[str, list[float]] = {}
    for run in range(args.runs):   # alternate, so both see the same machine state
        for name, value in measure_baseline(app, path).items():
            base.setdefault(name, []).append(value)
        for name, value in measure_view(app, path).items():
            ours.setdefault(name, []).append(value)
        print(f"run {run + 1}/{args.runs} done", file=sys.stderr)

    print(f"{'median of ' + str(args.runs) + ' runs, ' + format(args.jobs, ',') + ' jobs':<34}"
          f"{'PipelineView':>14}{'bare QTableView':>17}{'ratio':>8}")
    for name in ours:
        mine, theirs = statistics.median(ours[name]), statistics.median(base[name])
        ratio = mine / theirs if theirs else float("inf")
        print(f"{name:<34}{mine:>14.1f}{theirs:>17.1f}{ratio:>8.2f}")
    print("\nStall = longest gap between two ticks of a 0 ms timer while the steps ran; frames "
          "at 60 Hz are 16.7 ms.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
