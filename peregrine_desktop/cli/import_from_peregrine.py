"""``peregrine-desktop import-from-peregrine PATH [--dry-run]``: bring a web-Peregrine install (its
folder, or a backup zip) over — profile, integrations, secrets and jobs.

Prints what was found, then what was done (or, with ``--dry-run``, what would be).  Exit status 0
when anything could be read, 1 when nothing could, 2 for a usage error.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from peregrine_desktop.importer.plan import ImportPlan


def preview_lines(plan: ImportPlan) -> list[str]:
    """What the plan holds, in the words the summary uses (no secret values, only key names)."""
    from peregrine_desktop.jobs import statuses

    lines = [f"Reading {plan.path}: {plan.kind}."]
    counts = plan.status_counts()
    lines.append(f"Jobs found: {len(plan.jobs) + len(plan.skipped_jobs)}"
                 + (" (" + ", ".join(f"{statuses.label(s)} {n}" for s, n in counts.items())
                    + ")" if counts else ""))
    for job in plan.sample(5):
        values = job.values
        lines.append(f"  - {values['title']}" + (f" at {values['company']}"
                                                 if values["company"] else "")
                     + f" · {statuses.label(values['status'])}")
    if plan.profile:
        lines.append("Profile: " + plan.profile_labels())
    for item in plan.integrations:
        lines.append(f"Integration {item.label} (from {item.source_file}): {item.state_label}")
        lines += [f"    {note}" for note in item.notes]
    lines += plan.notes
    return lines


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="peregrine-desktop import-from-peregrine",
        description="Bring over a Peregrine (web) install: its profile, integrations and jobs. "
                    "The original is only read, never changed.")
    parser.add_argument("path", metavar="PATH",
                        help="the Peregrine folder (with config/ and staging.db or "
                             "data/staging.db), or a backup zip")
    parser.add_argument("--dry-run", action="store_true",
                        help="show what would be imported, and write nothing")
    parser.add_argument("--config-dir", metavar="DIR", help="where settings live")
    parser.add_argument("--data-dir", metavar="DIR", help="where jobs live")
    args = parser.parse_args(list(argv))

    from peregrine_desktop.importer import apply_plan, read_plan
    from peregrine_desktop.settings import paths

    paths.set_overrides(args.config_dir, args.data_dir)
    plan = read_plan(args.path)
    if not plan.readable:
        print(plan.error, file=sys.stderr)
        return 1
    print("\n".join(preview_lines(plan)))
    print()
    import tempfile
    from pathlib import Path

    from peregrine_desktop.jobs.store import DB_FILENAME, JobStore

    database = paths.data_dir() / DB_FILENAME
    with tempfile.TemporaryDirectory(prefix="peregrine-dry-run-") as scratch:
        if args.dry_run and not database.exists():   # a dry run creates no database either
            database = Path(scratch) / DB_FILENAME
        store = JobStore(database)
        try:
            summary = apply_plan(plan, paths.config_dir(), store, dry_run=args.dry_run)
        finally:
            store.close()
    print("Dry run: nothing was written." if args.dry_run else "Done.")
    print("\n".join(summary.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
