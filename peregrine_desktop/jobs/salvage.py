"""Salvaging a damaged job database: every readable row into a new file, the original kept as is.

What SQLite's ``.recover`` does, in Python (the CLI is not on every user's machine): the damaged
file is copied aside and read table by table in rowid order; where a page cannot be read, the
rows it held are skipped by probing the rowids after it one by one, and reading goes on.  The rows
found go into a new database with the original's schema, which the store then migrates as usual.

The swap is safe against a kill at any moment (``benchmarks/soak.py`` kills it mid-way):

1. the new database is written as ``jobs.sqlite3.salvage-tmp`` (a leftover is simply redone);
2. complete, it is renamed ``jobs.sqlite3.recovered``, then the report
   ``jobs.sqlite3.salvage-report.json`` is written — a report means the recovered file is whole;
3. the original and its -wal/-shm are renamed ``jobs.sqlite3.damaged-<time>`` (bytes untouched);
4. ``.recovered`` becomes ``jobs.sqlite3``; the report is read back for the user and removed.

:func:`finish_interrupted` completes steps 3-4 at the next start if a kill came between them.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sqlite3
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from peregrine_desktop.jobs.store import COMPANION_SUFFIXES, make_private

log = logging.getLogger(__name__)

#: How far past the last readable rowid a table is probed when its largest rowid is unreadable.
PROBE_WITHOUT_END = 10_000


@dataclass
class SalvageReport:
    """What came back: per table, rows recovered and (when an index still knew) rows there were."""

    kept_as: str
    recovered: dict[str, int] = field(default_factory=dict)
    expected: dict[str, int | None] = field(default_factory=dict)
    dropped_orphans: int = 0

    def message(self) -> str:
        if not self.recovered:
            return (f"The job database could not be read at all, so a new, empty one was "
                    f"started. The damaged file is kept, untouched, as {self.kept_as}; a "
                    f"specialist tool (SQLite's .recover) may still get something out of it.")
        jobs, total = self.recovered.get("jobs", 0), self.expected.get("jobs")
        if total is not None and total >= jobs:
            found = f"{jobs:,} of {total:,} jobs were recovered"
        else:
            found = f"{jobs:,} jobs were recovered (some may be missing)"
        return (f"The job database was damaged. {found}, with their history, into a new "
                f"database. The damaged file is kept, untouched, as {self.kept_as}; keep it "
                f"until you have checked your jobs.")


def _companions(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("", *COMPANION_SUFFIXES)]


def work_path(path: Path) -> Path:
    return path.with_name(path.name + ".salvage-tmp")


def recovered_path(path: Path) -> Path:
    return path.with_name(path.name + ".recovered")


def report_path(path: Path) -> Path:
    return path.with_name(path.name + ".salvage-report.json")


def _fsync(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# -- reading what can be read ---------------------------------------------------------------------
def _count_through_indexes(conn: sqlite3.Connection, table: str, found: list[tuple]
                           ) -> int | None:
    """How many rows the table had, as far as an index that reads to its end still knows
    (indexes live on other pages than the rows); None when no index can be read whole."""
    try:
        indexes = [r[1] for r in conn.execute(f'PRAGMA index_list("{table}")')
                   if not r[4]]  # a partial index (WHERE …) does not hold every row
    except sqlite3.DatabaseError:
        return None
    rowids = {row[0] for row in found}
    complete = False
    for index in indexes:
        try:
            for (rowid,) in conn.execute(f'SELECT rowid FROM "{table}" INDEXED BY "{index}"'):
                rowids.add(rowid)
        except sqlite3.DatabaseError:
            continue
        complete = True
    return len(rowids) if complete else None


def _highest_rowid(conn: sqlite3.Connection, table: str) -> int | None:
    with contextlib.suppress(sqlite3.DatabaseError):
        return conn.execute(f'SELECT MAX(rowid) FROM "{table}"').fetchone()[0]
    with contextlib.suppress(sqlite3.DatabaseError):
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
        return row[0] if row else None
    return None


def read_rows(conn: sqlite3.Connection, table: str) -> tuple[list[str], list[tuple]]:
    """Every readable row of ``table`` (rowid first), skipping the ones on unreadable pages."""
    columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
    select = ", ".join(f'"{c}"' for c in columns)
    highest = _highest_rowid(conn, table)
    rows: list[tuple] = []
    after = -(2 ** 63)
    while True:
        try:
            for row in conn.execute(f'SELECT rowid, {select} FROM "{table}" WHERE rowid > ? '
                                    f"ORDER BY rowid", (after,)):
                rows.append(tuple(row))
                after = row[0]
            return columns, rows
        except sqlite3.DatabaseError as exc:
            log.info("salvage: %s unreadable after rowid %s (%s)", table, after, exc)
        # Probe one rowid at a time past the unreadable page, then scan on from there.
        start = max(after, 0) + 1
        end = highest if highest is not None and highest >= start else start + PROBE_WITHOUT_END
        for probe in range(start, end + 1):
            try:
                row = conn.execute(f'SELECT rowid, {select} FROM "{table}" WHERE rowid = ?',
                                   (probe,)).fetchone()
            except sqlite3.DatabaseError:
                continue
            if row is not None:
                rows.append(tuple(row))
                after = probe
                break
        else:
            return columns, rows


# -- writing the new database ----------------------------------------------------------------------
def _copy_database(source: Path, target: Path) -> dict[str, tuple[int, int | None]]:
    """Schema and readable rows of ``source`` into a new file ``target``; counts per table."""
    counts: dict[str, tuple[int, int | None]] = {}
    src = sqlite3.connect(source, isolation_level=None)
    dst = sqlite3.connect(target, isolation_level=None)
    try:
        try:
            schema = src.execute("SELECT type, name, tbl_name, sql FROM sqlite_master "
                                 "WHERE sql IS NOT NULL").fetchall()
            version = src.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            log.error("salvage: the schema itself is unreadable (%s); nothing recovered", exc)
            return counts
        dst.execute("BEGIN")
        tables = [(name, sql) for kind, name, _t, sql in schema
                  if kind == "table" and not name.startswith("sqlite_")]
        for _name, sql in tables:
            dst.execute(sql)
        for name, _sql in tables:
            columns, rows = read_rows(src, name)
            marks = ", ".join("?" * (len(columns) + 1))
            names = ", ".join(f'"{c}"' for c in columns)
            dst.executemany(f'INSERT OR IGNORE INTO "{name}" (rowid, {names}) VALUES ({marks})',
                            rows)
            counts[name] = (len(rows), _count_through_indexes(src, name, rows))
        with contextlib.suppress(sqlite3.DatabaseError):  # AUTOINCREMENT: ids never reused
            for seq_name, seq in src.execute("SELECT name, seq FROM sqlite_sequence"):
                dst.execute("UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = ?",
                            (seq, seq_name))
        for kind, name, _t, sql in schema:
            if kind in ("index", "trigger", "view") and not name.startswith("sqlite_"):
                try:
                    dst.execute(sql)
                except sqlite3.DatabaseError as exc:
                    log.warning("salvage: %s %s not recreated: %s", kind, name, exc)
        dst.execute(f"PRAGMA user_version = {int(version)}")
        dst.execute("COMMIT")
        return counts
    finally:
        src.close()
        dst.close()


def _drop_orphans(target: Path) -> int:
    """Rows pointing at a parent row that was lost (a lost job's history) are removed, so the
    new file passes the foreign-key check the store runs at every start."""
    conn = sqlite3.connect(target, isolation_level=None)
    dropped = 0
    try:
        for _ in range(10):  # removing a child can orphan its own children
            orphans = conn.execute("PRAGMA foreign_key_check").fetchall()
            if not orphans:
                break
            for table, rowid, _parent, _fk in orphans:
                conn.execute(f'DELETE FROM "{table}" WHERE rowid = ?', (rowid,))
                dropped += 1
    finally:
        conn.close()
    return dropped


def salvage(path: Path) -> SalvageReport:
    """Recover what can be read from the damaged ``path`` into a new database at ``path``; the
    original moves, byte for byte, to ``<name>.damaged-<time>``."""
    path = Path(path)
    clean_leftovers(path)
    work = work_path(path)
    scratch = Path(tempfile.mkdtemp(prefix=path.name + ".salvage-src-", dir=path.parent))
    try:
        # Read a copy: opening the original would let SQLite replay its WAL into it.
        for source in _companions(path)[:2]:
            if source.exists():
                shutil.copyfile(source, scratch / source.name)
        counts = _copy_database(scratch / path.name, work)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    dropped = _drop_orphans(work) if work.exists() else 0
    if not work.exists():  # nothing readable at all: an empty file, migrated by the store
        os.close(os.open(work, os.O_RDWR | os.O_CREAT, 0o600))
    make_private(work)
    _fsync(work)
    os.replace(work, recovered_path(path))
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    report = SalvageReport(kept_as=str(path.with_name(f"{path.name}.damaged-{stamp}")),
                           recovered={t: c[0] for t, c in counts.items()},
                           expected={t: c[1] for t, c in counts.items()},
                           dropped_orphans=dropped)
    from peregrine_desktop.settings.configfiles import atomic_write_text

    atomic_write_text(report_path(path), json.dumps(asdict(report)))
    log.warning("job database %s was damaged: recovered %s (index counts %s); original kept "
                "as %s", path, report.recovered, report.expected, report.kept_as)
    return _swap(path, report)


def _swap(path: Path, report: SalvageReport) -> SalvageReport:
    """Steps 3-4: the original (with its companions) aside, the recovered file in its place."""
    kept = Path(report.kept_as)
    for source, target in zip(_companions(path), _companions(kept)):
        if source.exists():
            os.replace(source, target)
    os.replace(recovered_path(path), path)
    _fsync(path.parent)
    return report


def finish_interrupted(path: Path) -> SalvageReport | None:
    """Complete a salvage a kill interrupted (see the module docstring); its report, or None."""
    path = Path(path)
    report_file = report_path(path)
    if not report_file.exists():
        clean_leftovers(path)
        return None
    try:
        report = SalvageReport(**json.loads(report_file.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        report = None
    if report is None:  # a torn report: the original is still in place; salvage again later
        with contextlib.suppress(OSError):
            report_file.unlink()
        clean_leftovers(path)
        return None
    if recovered_path(path).exists():
        _swap(path, report)
    return report


def forget_report(path: Path) -> None:
    """The user has been told: the report goes."""
    with contextlib.suppress(OSError):
        report_path(Path(path)).unlink()


def clean_leftovers(path: Path) -> None:
    """Half-written files of an interrupted salvage (never the original or a damaged copy)."""
    path = Path(path)
    if not report_path(path).exists():
        for leftover in (work_path(path), recovered_path(path)):
            for file in _companions(leftover):
                with contextlib.suppress(OSError):
                    file.unlink()
    for scratch in path.parent.glob(path.name + ".salvage-src-*"):
        shutil.rmtree(scratch, ignore_errors=True)
    for torn in path.parent.glob(f".{report_path(path).name}.*.tmp"):  # atomic_write_text's
        with contextlib.suppress(OSError):
            torn.unlink()
