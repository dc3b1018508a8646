"""Importing a large CSV file through the real import dialog: peak memory and the longest UI stall.

Writes a CSV of ``--megabytes`` (default 200) of job rows (a quarter with multi-line
descriptions, some skipped for a bad date), then runs, each in a fresh child process so that peak
memory (``ru_maxrss``) belongs to one measurement:

* baseline: the bare ``csv`` module reading the same file row by row (the least any importer
  needs), beside an idle Qt event loop for as long as the import below took;
* the import dialog: preview (one streamed pass), then Import (a second pass, batched inserts in one
  transaction) into a fresh database, offscreen.

The UI stall is the largest gap between two ticks of a 0 ms heartbeat timer on the UI thread.

    QT_QPA_PLATFORM=offscreen python benchmarks/csv_import.py [--megabytes 200]
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def write_file(path: Path, megabytes: int, seed: int = 7) -> int:
    """A CSV of about ``megabytes`` MB; returns its row count."""
    rng = random.Random(seed)
    words = ("python", "team", "remote", "build", "data", "customers", "growth", "platform",
             "ship", "care", "mentor", "scale", "reliable", "design", "review", "café")
    target = megabytes * 1024 * 1024
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Job Title", "Company", "Job Link", "Stage", "Date Applied",
                         "Description", "Notes"])
        while handle.tell() < target:
            rows += 1
            description = " ".join(rng.choice(words) for _ in range(rng.randint(80, 200)))
            if rows % 4 == 0:
                description = description.replace(" ship ", "\nship\n")
            writer.writerow([f"Engineer {rows}", f"Company {rows % 997}",
                             f"jobs.example.com/{rows}", rng.choice(["Applied", "Wishlist", ""]),
                             "not a date" if rows % 1000 == 0 else "2026-03-01", description,
                             "note " * rng.randint(0, 20)])
    return rows


class Heartbeat:
    """The longest gap between two runs of a 0 ms timer on the UI thread."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.longest = 0.0
        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(0)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        gap = now - self._last
        self.longest = max(self.longest, gap)
        if gap > 0.016:
            self.gaps.append(gap)
        self._last = now

    def over(self, seconds: float) -> int:
        return sum(1 for gap in self.gaps if gap > seconds)

    def reset(self) -> None:
        self.longest, self._last, self.gaps = 0.0, time.perf_counter(), []


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_baseline(path: Path, seconds: float) -> dict:
    started = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as handle:
        rows = sum(1 for _ in csv.reader(handle))
    read_s = time.perf_counter() - started
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    beat = Heartbeat()
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    del app
    return {"rows": rows, "read_s": read_s, "stall_ms": beat.longest * 1000,
            "over_50": beat.over(0.05), "peak_mb": peak_mb()}


def child_dialog(path: Path) -> dict:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from peregrine_desktop.jobs.repository import JobRepository
    from peregrine_desktop.jobs.store import JobStore
    from peregrine_desktop.ui.pipeline.csv_dialogs import CsvImportDialog

    app = QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp(prefix="csv-bench-"))
    store = JobStore(folder / "jobs.sqlite3")
    repository = JobRepository(store)
    beat = Heartbeat()

    def wait_for(condition, timeout_s: float = 1800) -> None:
        loop = QEventLoop()
        poll = QTimer()
        poll.timeout.connect(lambda: condition() and loop.quit())
        poll.start(20)
        QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        loop.exec()
        poll.stop()

    dialog = CsvImportDialog(repository)
    dialog.show()
    beat.reset()
    started = time.perf_counter()
    dialog.path_edit.setText(str(path))
    dialog.load_preview()
    wait_for(lambda: dialog.import_button.isEnabled())
    preview_s, preview_stall = time.perf_counter() - started, beat.longest
    preview_over = beat.over(0.05)
    summary = dialog.summary.text()
    beat.reset()
    started = time.perf_counter()
    dialog.import_button.click()
    wait_for(lambda: dialog.report is not None)
    import_s, import_stall = time.perf_counter() - started, beat.longest
    import_over = beat.over(0.05)
    result = {"preview_s": preview_s, "preview_stall_ms": preview_stall * 1000,
              "import_s": import_s, "import_stall_ms": import_stall * 1000,
              "preview_over_50": preview_over, "import_over_50": import_over,
              "imported": store.count(), "summary": summary, "after": dialog.summary.text(),
              "peak_mb": peak_mb()}
    store.close()
    del app
    return result


def run_child(*args: str) -> dict:
    output = subprocess.run([sys.executable, __file__, "--child", *args], check=True,
                            capture_output=True, text=True, env={**os.environ,
                                                                  "PYTHONPATH": str(ROOT)})
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path, *rest = args.child
        result = child_baseline(Path(path), float(rest[0])) if kind == "baseline" else \
            child_dialog(Path(path))
        print(json.dumps(result))
        return 0
    with tempfile.TemporaryDirectory(prefix="csv-bench-") as folder:
        path = Path(folder) / "jobs.csv"
        rows = write_file(path, args.megabytes)
        size_mb = path.stat().st_size / 1024 / 1024
        print(f"file: {size_mb:.0f} MB, {rows:,} rows")
        dialog = run_child("dialog", str(path))
        base = run_child("baseline", str(path), str(dialog["preview_s"] + dialog["import_s"]))
    print(f"{'':34}{'baseline':>12}{'import dialog':>16}{'ratio':>8}")
    print(f"{'peak memory (MB)':34}{base['peak_mb']:>12.0f}{dialog['peak_mb']:>16.0f}"
          f"{dialog['peak_mb'] / base['peak_mb']:>8.2f}")
    print(f"{'reading the file once (s)':34}{base['read_s']:>12.1f}{dialog['preview_s']:>16.1f}"
          f"{dialog['preview_s'] / base['read_s']:>8.2f}")
    print(f"{'importing (s)':34}{'':>12}{dialog['import_s']:>16.1f}")
    print(f"{'longest UI stall, preview (ms)':34}{base['stall_ms']:>12.1f}"
          f"{dialog['preview_stall_ms']:>16.1f}")
    print(f"{'longest UI stall, import (ms)':34}{base['stall_ms']:>12.1f}"
          f"{dialog['import_stall_ms']:>16.1f}")
    print(f"{'UI stalls over 50 ms (count)':34}{base['over_50']:>12}"
          f"{dialog['preview_over_50'] + dialog['import_over_50']:>16}")
    print(f"preview said: {dialog['summary']}")
    print(f"after import: {dialog['after']} ({dialog['imported']:,} jobs in the database)")
    print("targets: peak memory < 300 MB, longest stall < 50 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
