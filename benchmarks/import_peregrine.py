"""Import-from-Peregrine benchmark: a web install with N jobs (default 10,000) brought over.

Prints medians over ``--runs`` runs of: reading the install into a plan (copying staging.db,
mapping every row, contacts included), applying it to a fresh job database, and a second import
of the same install (which must add nothing).  Baseline, measured in the same run: inserting the
same N job dicts with ``JobStore.add_many`` directly — what any bulk insert costs — so the ratio is
the importer's own overhead.

    python benchmarks/import_peregrine.py [--jobs 10000] [--runs 3]
"""
from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from peregrine_desktop.importer import apply_plan, read_plan  # noqa: E402
from peregrine_desktop.jobs.store import JobStore  # noqa: E402
from tests.fakes import peregrine_web as web  # noqa: E402

STATUSES = ["pending"] * 8 + ["approved", "applied", "applied", "synced", "survey",
                              "phone_screen", "interviewing", "offer", "rejected", "archived"]


def build_install(root: Path, count: int) -> Path:
    """A Docker-layout install whose staging.db holds ``count`` plausible jobs and contacts."""
    rng = random.Random(11)
    install = web.docker_install(root / "peregrine", root / "docs")
    rows = []
    for i in range(count):
        status = rng.choice(STATUSES)
        row = {"title": f"Engineer {i}", "company": f"Company {i % 700}",
               "url": f"https://jobs.example/{i}", "source": rng.choice(["linkedin", "indeed"]),
               "location": rng.choice(["Berlin", "Remote", "Zürich"]), "is_remote": i % 2,
               "salary": "€80,000", "description": "Build things. " * 120,
               "match_score": round(rng.uniform(20, 95), 1), "keyword_gaps": "go, rust",
               "date_found": f"2026-0{1 + i % 3}-{1 + i % 28:02d}", "status": status}
        if status not in ("pending", "approved"):
            row["applied_at"] = f"2026-03-{1 + i % 28:02d}"
        if status in ("phone_screen", "interviewing"):
            row["phone_screen_at"] = f"2026-03-{1 + i % 28:02d}T10:00"
            row["interview_date"] = f"2026-04-{1 + i % 28:02d}"
        rows.append(row)
    database = install / "data" / "staging.db"
    database.unlink()
    web.write_database(database, rows)
    conn = sqlite3.connect(database)
    conn.executemany("INSERT INTO job_contacts(job_id, direction, subject, body, received_at) "
                     "VALUES (?, 'inbound', 'Hello', '<p>Thanks for applying.</p>', "
                     "'2026-03-02')", [(i,) for i in range(1, count + 1, 5)])
    conn.commit()
    conn.close()
    return install


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    figures: dict[str, list[float]] = {"baseline add_many": [], "read plan": [],
                                       "apply plan": [], "whole import": [],
                                       "second import": []}
    with tempfile.TemporaryDirectory(prefix="peregrine-bench-") as scratch:
        install = build_install(Path(scratch), args.jobs)
        for run in range(args.runs):
            here = Path(scratch) / f"run{run}"
            read_s, plan = timed(lambda: read_plan(install))
            values = [dict(job.values, uid=None) for job in plan.jobs]
            base = JobStore(here / "baseline.sqlite3")
            baseline_s, _ = timed(lambda: base.add_many(values))
            base.close()
            store = JobStore(here / "jobs.sqlite3")
            apply_s, summary = timed(lambda: apply_plan(plan, here / "config", store))
            assert summary.jobs_added == args.jobs, summary.lines()[:3]
            again_s, again = timed(lambda: apply_plan(read_plan(install), here / "config",
                                                      store))
            assert again.jobs_added == 0
            store.close()
            figures["baseline add_many"].append(baseline_s)
            figures["read plan"].append(read_s)
            figures["apply plan"].append(apply_s)
            figures["whole import"].append(read_s + apply_s)
            figures["second import"].append(again_s)
    base = statistics.median(figures["baseline add_many"])
    print(f"Import from Peregrine, {args.jobs:,} jobs, medians of {args.runs} runs")
    for name, values in figures.items():
        median = statistics.median(values)
        print(f"  {name:<18} {median:7.2f} s   ({median / base:4.2f}× the baseline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
