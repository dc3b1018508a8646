"""Opening what the app needs at start-up, turning every failure into a sentence for the user.

"In use" is not "damaged": a database another program is writing to, one from a newer Peregrine
and a folder that cannot be written are left exactly as they are, and the user is told what to
do (:class:`StartupBlocked`, with Retry where retrying can help).  Only a file SQLite reports as
corrupt is salvaged (:mod:`peregrine_desktop.jobs.salvage`), its original kept beside the new one.
"""
from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    import sqlite3

    from peregrine_desktop.jobs.store import JobStore
    from PySide6.QtCore import QLockFile
    from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)

#: How long start-up waits for another program's write transaction before asking the user.
START_BUSY_TIMEOUT = 3.0
#: The lock that keeps a second app (other settings, same data) out of the data folder.
DATA_LOCK_NAME = ".peregrine.lock"

_IN_USE = {"SQLITE_BUSY", "SQLITE_LOCKED"}
_CANNOT_WRITE = {"SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH"}
_DAMAGED = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}

T = TypeVar("T")


class StartupBlocked(Exception):
    """Start-up cannot go on until the user acts; ``message`` says what, nothing was changed."""

    def __init__(self, title: str, message: str, can_retry: bool = True) -> None:
        super().__init__(message)
        self.title, self.message, self.can_retry = title, message, can_retry


def _error_kind(exc: sqlite3.DatabaseError) -> str:
    name = getattr(exc, "sqlite_errorname", "") or ""
    base = "_".join(name.split("_")[:2])  # SQLITE_BUSY_RECOVERY → SQLITE_BUSY
    text = str(exc).lower()
    if base in _IN_USE or "locked" in text or "busy" in text:
        return "in use"
    if base in _CANNOT_WRITE or "readonly" in text or "unable to open" in text:
        return "cannot write"
    if base in _DAMAGED or "malformed" in text or "not a database" in text:
        return "damaged"
    return "other"


def programs_holding(path: Path) -> list[str]:
    """Other processes with the database (or its -wal/-shm) open, as "name (process N)".

    Linux only (``/proc``); elsewhere, or when nothing can be seen, an empty list."""
    if not sys.platform.startswith("linux"):
        return []
    resolved = Path(path).resolve()
    targets = {str(resolved), str(resolved) + "-wal", str(resolved) + "-shm",
               str(resolved) + "-journal"}
    found = []
    own = os.getpid()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == own:
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") in targets for fd in fds):
                comm = Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip()
                found.append(f"{comm} (process {pid})")
        except OSError:
            continue
    return found


def in_use_message(path: Path, waited: float) -> str:
    holders = programs_holding(path)
    who = (f"Another program is changing your job database right now: {', '.join(holders)}."
           if holders else "Another program (for example a database browser with unsaved "
           "changes) is changing your job database right now.")
    return (f"{who} Peregrine waited {waited:g} seconds for it to finish. Save or undo the "
            f"changes in that program, or close it, then press Retry. Nothing was moved or "
            f"changed; the database is {path}.")


def cannot_write_message(folder: Path, detail: str = "") -> str:
    because = f" ({detail})" if detail else ""
    return (f"Peregrine cannot write to its data folder {folder}{because}. Make the folder and "
            f"the files in it writable for your user (or start Peregrine with --data-dir "
            f"pointing at a folder you can write), then press Retry. Nothing was changed.")


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK) if path.exists() else os.access(path.parent, os.W_OK)


def prepare_data_folder(folder: Path) -> None:
    """Create the data folder owner-only (0700), or tighten an existing one; a folder that
    cannot be made or written raises :class:`StartupBlocked`."""
    try:
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if folder.stat().st_mode & 0o077:
            os.chmod(folder, 0o700)
    except OSError as exc:
        raise StartupBlocked("Peregrine cannot use its data folder",
                             cannot_write_message(folder, exc.strerror or str(exc))) from None
    if not _writable(folder):
        raise StartupBlocked("Peregrine cannot use its data folder", cannot_write_message(folder))


def open_job_store(path: Path | None = None, busy_timeout: float = START_BUSY_TIMEOUT
                   ) -> tuple[JobStore, str | None]:
    """The job store, checked for integrity; plus a message when something had to be done.

    Raises :class:`StartupBlocked` when the database is in use, from a newer Peregrine, or in a
    folder that cannot be written — the file untouched in each case.  A damaged file is
    salvaged: the readable rows go into a new database, the original is kept beside it.
    """
    import sqlite3  # here: the data-folder lock is taken before the first window, the store not

    from peregrine_desktop.jobs.store import DB_FILENAME, JobStore, SchemaTooNewError

    if path is None:
        from peregrine_desktop.settings import paths
        path = paths.data_dir() / DB_FILENAME
    path = Path(path)
    prepare_data_folder(path.parent)
    notice = None
    if any(path.parent.glob(f"*{path.name}.salvage*")) or any(
            path.parent.glob(path.name + ".recovered*")):
        from peregrine_desktop.jobs import salvage
        report = salvage.finish_interrupted(path)
        if report is not None:
            notice = report.message()
            salvage.forget_report(path)
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and not _writable(file):
            raise StartupBlocked("Peregrine cannot use its data folder",
                                 cannot_write_message(path.parent, f"{file.name} is read-only"))
    marker = full_check_marker(path)
    try:
        store = JobStore(path, open_timeout=busy_timeout)
        # The indexes are compared with the rows after the first paint (check_indexes), unless
        # that found damage a rebuild could not mend.
        problems = store.integrity_check() if marker.exists() else store.quick_check()
    except SchemaTooNewError:
        raise StartupBlocked(
            "Your job database is from a newer Peregrine",
            f"The job database {path} was last used by a newer version of Peregrine, which "
            f"changed its layout. Install that version (or a later one) to open it; this "
            f"version has not changed the file.", can_retry=False) from None
    except PermissionError as exc:
        raise StartupBlocked("Peregrine cannot use its data folder",
                             cannot_write_message(path.parent, exc.strerror or "")) from None
    except sqlite3.DatabaseError as exc:
        kind = _error_kind(exc)
        log.error("job database %s cannot be opened (%s): %s", path, kind, exc)
        if kind == "in use":
            raise StartupBlocked("Your job database is in use",
                                 in_use_message(path, busy_timeout)) from None
        if kind == "cannot write":
            raise StartupBlocked("Peregrine cannot use its data folder",
                                 cannot_write_message(path.parent, str(exc))) from None
        if kind != "damaged":
            raise StartupBlocked(
                "Your job database could not be opened",
                f"The job database {path} could not be opened ({exc}). Nothing was changed. "
                f"Check that the disk has space and is working, then press Retry.") from None
        return _salvaged(path)
    if problems:
        log.error("job database %s failed its integrity check: %s", path, problems[:5])
        store.close()
        store, notice = _salvaged(path)
    marker.unlink(missing_ok=True)
    return store, notice


def full_check_marker(path: Path) -> Path:
    """Left beside the database when its indexes are damaged beyond a rebuild: the next start
    runs the full check before opening the window, and salvages."""
    return path.with_name(path.name + ".check-fully")


NEEDS_RESTART_TO_REPAIR = (
    "Peregrine found damage in your job database that it could not mend while running. Your "
    "jobs are still there. Quit Peregrine and start it again: it will copy every readable job "
    "into a repaired database and keep the damaged file beside it.")


def check_indexes(store: JobStore) -> str | None:
    """The rest of the start-up check, on a worker once the window is up: every index compared
    with the rows.  An index that disagrees is rebuilt from them (an index holds nothing of its
    own); when that fails or leaves problems, the next start salvages the file, and the message
    to show says so.  None when all is well."""
    import sqlite3

    try:
        problems = store.integrity_check()
        if not problems:
            return None
        log.error("job database %s: indexes disagree with the rows: %s", store.path,
                  problems[:5])
        store.rebuild_indexes()
        problems = store.integrity_check()
    except sqlite3.DatabaseError as exc:
        if store.closed:        # the app quit meanwhile: nothing was found
            return None
        problems = [str(exc)]
    if not problems:
        log.warning("job database %s: indexes rebuilt from the rows", store.path)
        return None
    log.error("job database %s: still damaged after rebuilding its indexes: %s", store.path,
              problems[:5])
    try:
        full_check_marker(store.path).touch()
    except OSError as exc:
        log.error("could not mark %s for a full check: %s", store.path, exc)
    return NEEDS_RESTART_TO_REPAIR


def _salvaged(path: Path) -> tuple[JobStore, str]:
    from peregrine_desktop.jobs import salvage
    from peregrine_desktop.jobs.store import JobStore

    try:
        report = salvage.salvage(path)
    except OSError as exc:
        raise StartupBlocked("Peregrine cannot use its data folder",
                             cannot_write_message(path.parent, exc.strerror or str(exc))) from None
    store = JobStore(path)
    salvage.forget_report(path)
    return store, report.message()


def claim_data_folder(folder: Path) -> "QLockFile":
    """One running app per data folder (two installs with their own settings could share one):
    the lock, held until :meth:`QLockFile.unlock`; :class:`StartupBlocked` when another has it."""
    from PySide6.QtCore import QLockFile

    prepare_data_folder(folder)
    lock = QLockFile(str(folder / DATA_LOCK_NAME))
    lock.setStaleLockTime(0)  # stale only when its process is gone, never by age
    if lock.tryLock(100):
        return lock
    if lock.error() == QLockFile.LockError.LockFailedError:
        info = lock.getLockInfo()  # (pid, host name, app name) in PySide6
        pid, host = (info[-3], info[-2]) if isinstance(info, tuple) and len(info) >= 3 else ("?", "")
        where = f"process {pid}" + (f" on {host}" if host else "")
        raise StartupBlocked(
            "Peregrine is already running",
            f"Another Peregrine ({where}) is already using the data folder {folder}, probably "
            f"started with other settings. Two copies would overwrite each other's jobs and "
            f"notifications. Close the other one, then press Retry.")
    raise StartupBlocked("Peregrine cannot use its data folder", cannot_write_message(folder))


def until_resolved(attempt: Callable[[], T], parent: "QWidget | None" = None) -> T | None:
    """Run ``attempt``; while it raises :class:`StartupBlocked`, show its message with Retry
    (when retrying can help) and Quit.  None when the user quits."""
    while True:
        try:
            return attempt()
        except StartupBlocked as blocked:
            # Message boxes only when needed: this runs before every first window.
            from PySide6.QtWidgets import QMessageBox

            from peregrine_desktop.ui.plain_text import Button, ask

            log.warning("start-up blocked: %s", blocked.message)
            retry = Button.Retry if blocked.can_retry else Button.NoButton
            pressed = ask(parent, blocked.title, blocked.message, retry | Button.Close,
                          retry if blocked.can_retry else Button.Close,
                          icon=QMessageBox.Icon.Warning)
            if pressed != Button.Retry:
                return None
