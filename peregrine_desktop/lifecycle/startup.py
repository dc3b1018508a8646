"""Opening what the app needs at start-up, turning every failure into a sentence for the user."""
from __future__ import annotations

import logging
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

from peregrine_desktop.jobs.store import JobStore

log = logging.getLogger(__name__)


def _set_aside(path: Path, move: bool) -> Path:
    """Copy (or move) the database and its WAL/SHM companions to ``<name>.bad-<time>``."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.bad-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        source = path.with_name(path.name + suffix)
        if source.exists():
            (shutil.move if move else shutil.copy2)(source, target.with_name(target.name + suffix))
    return target


def open_job_store(path: Path | None = None) -> tuple[JobStore, str | None]:
    """The job store, checked for integrity; plus a message when something had to be done.

    A file SQLite cannot open is moved aside and a new database started; a file that opens but
    fails the integrity check is kept in use and a copy is saved first, so nothing is lost
    whichever way the user goes on.
    """
    if path is None:
        from peregrine_desktop.settings import paths
        path = paths.data_dir() / "jobs.sqlite3"
    try:
        store = JobStore(path)
        problems = store.integrity_check()
    except sqlite3.DatabaseError as exc:
        log.error("job database %s cannot be opened: %s", path, exc)
        aside = _set_aside(path, move=True)
        return JobStore(path), (f"The job database could not be opened ({exc}). It was moved "
                                f"to {aside} and a new, empty one was started. Keep that file: "
                                f"it may be recoverable with SQLite's .recover command.")
    if problems:
        log.error("job database %s failed its integrity check: %s", path, problems[:5])
        backup = _set_aside(path, move=False)
        return store, (f"The job database failed its integrity check ({problems[0]}). A copy was "
                       f"saved as {backup}. Export your jobs to CSV (File → Export CSV…) to be "
                       f"safe.")
    return store, None
