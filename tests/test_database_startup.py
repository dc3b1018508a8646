"""Start-up and the job database under faults: in use is not damaged, newer is left alone, a
read-only folder is said, damage is salvaged with the original kept, files are private, and one
app runs per data folder."""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from peregrine_desktop.jobs import salvage
from peregrine_desktop.jobs.store import DB_FILENAME, JobStore
from peregrine_desktop.lifecycle.startup import (StartupBlocked, check_indexes,
                                                 claim_data_folder, full_check_marker,
                                                 open_job_store, until_resolved)
from tests.ui_helpers import answer_next_message_box, running_app

ROOT = Path(__file__).resolve().parent.parent


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def make_store(folder: Path, jobs: int = 1) -> Path:
    path = folder / DB_FILENAME
    store = JobStore(path)
    store.add_many([{"title": f"Job {i}", "company": "ACME", "url": f"https://jobs.test/{i}",
                     "description": f"about job {i}: " + "d" * 300} for i in range(jobs)])
    store.close()
    return path


def corrupt_middle(path: Path, size: int = 8192) -> None:
    """8 KB of garbage in the middle of the jobs, on page boundaries, as a bad sector would
    leave: starting at the page holding the middle job's row (wherever the other tables put
    it), so rows are lost whatever else the file holds."""
    content = path.read_bytes()
    jobs = content.count(b"about job ") or 1
    start = content.find(f"about job {jobs // 2}: ".encode()) // 4096 * 4096
    with open(path, "r+b") as handle:
        handle.seek(max(start, 4096))
        handle.write(bytes((i * 131 + 7) % 256 for i in range(size)))


class WriteHolder:
    """Another program with a write transaction open on the database (a browser's unsaved edit)."""

    def __init__(self, path: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(f"""
                import sqlite3, sys
                conn = sqlite3.connect({str(path)!r}, isolation_level=None)
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("UPDATE jobs SET notes = 'edited elsewhere'")
                print("holding", flush=True)
                sys.stdin.readline()
                conn.execute("COMMIT")
            """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "holding"

    def commit(self) -> None:
        self.process.stdin.write("\n")
        self.process.stdin.close()
        assert self.process.wait(10) == 0


def test_a_database_in_use_is_waited_for_named_and_never_moved(data_dir, qtbot):
    path = make_store(data_dir, 3)
    holder = WriteHolder(path)
    before = listing(data_dir)
    try:
        with pytest.raises(StartupBlocked) as blocked:
            open_job_store(path, busy_timeout=0.2)
        assert listing(data_dir) == before           # nothing renamed, -wal/-shm in place
        assert "Another program is changing your job database" in blocked.value.message
        assert "python" in blocked.value.message and str(holder.process.pid) in \
            blocked.value.message
        assert "Retry" in blocked.value.message and blocked.value.can_retry
    finally:
        holder.commit()

    # The user saves in the other program, then presses Retry: the app opens the same file,
    # and the other program's change is in it.
    seen: list[str] = []

    def press_retry_once_committed() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, press_retry_once_committed)
            return
        seen.append(box.text())
        assert "Retry" in [b.text().replace("&", "") for b in box.buttons()]
        holder.commit()
        box.button(QMessageBox.StandardButton.Retry).click()

    holder = WriteHolder(path)
    QTimer.singleShot(0, press_retry_once_committed)
    store, notice = until_resolved(lambda: open_job_store(path, busy_timeout=0.2))
    assert notice is None and "is changing your job database" in seen[0]
    assert [j["notes"] for j in store.list_jobs()] == ["edited elsewhere"] * 3
    assert listing(data_dir) == before
    store.close()


def test_a_database_from_a_newer_peregrine_is_refused_untouched(data_dir, qtbot):
    path = make_store(data_dir, 2)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.execute("PRAGMA journal_mode = DELETE")  # a newer app may use another journal mode
    conn.close()
    before, files = digest(path), listing(data_dir)
    with pytest.raises(StartupBlocked) as blocked:
        open_job_store(path)
    assert "newer version of Peregrine" in blocked.value.message
    assert not blocked.value.can_retry
    assert digest(path) == before and listing(data_dir) == files

    # In the app: a message with Close only, then no window (and no traceback).
    seen: list[str] = []
    answer_next_message_box(QMessageBox.StandardButton.Close, seen)
    assert until_resolved(lambda: open_job_store(path)) is None
    assert "has not changed the file" in seen[0]
    assert digest(path) == before


def _read_only_mount_works() -> bool:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "--mount", "sh", "-c", "mount -t tmpfs none /mnt"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _read_only_mount_works(),
                    reason="needs a private mount namespace (unshare + mount) to make a folder "
                           "read-only for root; chmod does not stop root")
def test_a_read_only_data_folder_is_said_and_nothing_crashes(data_dir):
    """Tests run as root, which ignores permission bits: the folder is bind-mounted read-only
    in a private mount namespace instead (the same EROFS a user's read-only disk gives)."""
    path = make_store(data_dir, 2)
    before, files = digest(path), listing(data_dir)
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from peregrine_desktop.lifecycle.startup import StartupBlocked, open_job_store
        try:
            open_job_store(Path({str(path)!r}))
        except StartupBlocked as blocked:
            print("BLOCKED", blocked.can_retry, blocked.message)
    """)
    script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && exec "$2" -c "$3"'
    result = subprocess.run(["unshare", "--mount", "sh", "-c", script, "sh", str(data_dir),
                             sys.executable, code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("BLOCKED True Peregrine cannot write to its data folder "
                                    f"{data_dir}"), result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert digest(path) == before and listing(data_dir) == files


def test_garbage_in_the_middle_salvages_the_readable_rows_and_keeps_the_original(data_dir):
    path = make_store(data_dir, 5000)
    corrupt_middle(path)
    damaged = digest(path)
    store, notice = open_job_store(path)
    recovered = store.count()
    assert 4900 <= recovered < 5000
    assert f"{recovered:,} of 5,000 jobs were recovered" in notice
    kept = [p for p in data_dir.iterdir() if p.name.startswith(DB_FILENAME + ".damaged-")
            and not p.name.endswith(("-wal", "-shm"))]
    assert len(kept) == 1 and str(kept[0]) in notice
    assert digest(kept[0]) == damaged                    # the original, byte for byte
    assert store.integrity_check() == []
    # Recovered jobs are whole: identity, history, and new ones get fresh ids.
    job = store.list_jobs()[0]
    assert job["title"] == "Job 0" and job["uid"] and job["status_history"]
    assert store.add_job({"title": "After"})["id"] > 5000
    store.close()
    # A second start finds a healthy file and says nothing.
    again, notice = open_job_store(path)
    assert notice is None and again.count() == recovered + 1
    again.close()


def redefine_index(path: Path, name: str, sql: str) -> None:
    """Change what SQLite believes index ``name`` holds, leaving its entries as they are: an
    index that disagrees with the rows, which only the full check sees."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = ?", (sql, name))
    conn.commit()
    conn.close()


def test_an_index_that_disagrees_with_the_rows_is_rebuilt_once_the_window_is_up(data_dir):
    path = make_store(data_dir, 200)
    redefine_index(path, "jobs_status", "CREATE INDEX jobs_status ON jobs(company)")
    store, notice = open_job_store(path)          # before the first paint: the quick check
    assert notice is None and store.count() == 200
    assert not any(p.name.startswith(DB_FILENAME + ".damaged-") for p in data_dir.iterdir())
    assert store.integrity_check() != []
    assert check_indexes(store) is None           # after it, on a worker: rebuilt in place
    assert store.integrity_check() == []
    assert store.count() == 200 and store.list_jobs(status="pending")[0]["title"] == "Job 0"
    assert not full_check_marker(path).exists()
    store.close()


def test_damage_a_rebuild_cannot_mend_is_said_and_salvaged_at_the_next_start(data_dir):
    path = make_store(data_dir, 20)
    # Two jobs with one address under the index that should have kept them apart.
    redefine_index(path, "jobs_url",
                   "CREATE INDEX jobs_url ON jobs(url) WHERE url IS NOT NULL")
    conn = sqlite3.connect(path)
    conn.execute("UPDATE jobs SET url = 'https://jobs.test/1' WHERE title = 'Job 3'")
    conn.commit()
    conn.close()
    redefine_index(path, "jobs_url",
                   "CREATE UNIQUE INDEX jobs_url ON jobs(url) WHERE url IS NOT NULL")
    store, notice = open_job_store(path)
    assert notice is None
    message = check_indexes(store)
    assert "Quit Peregrine and start it again" in message and "still there" in message
    assert full_check_marker(path).exists()
    store.close()

    store, notice = open_job_store(path)          # the next start: the full check, a salvage
    assert "The job database was damaged" in notice
    assert store.integrity_check() == [] and not full_check_marker(path).exists()
    assert "20 of 20 jobs were recovered" in notice     # both jobs of that address kept
    assert {job["title"] for job in store.list_jobs()} == {f"Job {i}" for i in range(20)}
    store.close()


def test_a_check_cut_short_by_quitting_marks_nothing(data_dir):
    store, _notice = open_job_store(make_store(data_dir, 3))
    store.close()                                 # the app quit while the check waited
    assert check_indexes(store) is None
    assert not full_check_marker(store.path).exists()


def test_the_app_says_what_to_do_about_damage_found_once_its_window_is_up(qtbot, config_dir,
                                                                        data_dir):
    path = make_store(data_dir, 3)
    redefine_index(path, "jobs_url", "CREATE INDEX jobs_url ON jobs(url) WHERE url IS NOT NULL")
    conn = sqlite3.connect(path)
    conn.execute("UPDATE jobs SET url = 'https://jobs.test/1' WHERE title = 'Job 2'")
    conn.commit()
    conn.close()
    redefine_index(path, "jobs_url",
                   "CREATE UNIQUE INDEX jobs_url ON jobs(url) WHERE url IS NOT NULL")
    seen: list[str] = []
    answer_next_message_box(QMessageBox.StandardButton.Ok, seen)
    with running_app(qtbot, config_dir, data_dir) as app:
        assert app.window.pipeline.model.rowCount() == 3     # the jobs, shown meanwhile
        qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
        assert "Quit Peregrine and start it again" in seen[0]
    assert full_check_marker(path).exists()


SALVAGE_CHILD = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, sys.argv[1])
    from pathlib import Path
    from peregrine_desktop.lifecycle.startup import open_job_store
    kill_at = int(sys.argv[3])
    real_replace, calls = os.replace, [0]
    def replace(*args, **kwargs):
        calls[0] += 1
        if calls[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return real_replace(*args, **kwargs)
    os.replace = replace
    store, notice = open_job_store(Path(sys.argv[2]))
    print(store.count(), notice, flush=True)
""")


def test_a_salvage_killed_at_each_step_loses_nothing_and_a_rerun_completes(data_dir):
    """Killed before each rename of the salvage (the new file, its report, the original and its
    companions, the swap): the damaged original always survives and the next start finishes."""
    path = make_store(data_dir, 600)
    corrupt_middle(path)
    damaged = digest(path)
    reference_dir = data_dir.parent / "reference"
    reference_dir.mkdir()
    shutil.copyfile(path, reference_dir / DB_FILENAME)
    expected, _ = open_job_store(reference_dir / DB_FILENAME)
    expected_count = expected.count()
    expected.close()
    for kill_at in range(1, 8):
        folder = data_dir.parent / f"kill-{kill_at}"
        folder.mkdir()
        shutil.copyfile(path, folder / DB_FILENAME)
        run = subprocess.run([sys.executable, "-c", SALVAGE_CHILD, str(ROOT),
                              str(folder / DB_FILENAME), str(kill_at)],
                             capture_output=True, text=True, timeout=120)
        killed = run.returncode == -signal.SIGKILL
        originals = [p for p in folder.iterdir() if digest(p) == damaged]
        assert originals, f"kill at step {kill_at}: the damaged original is gone"
        rerun = subprocess.run([sys.executable, "-c", SALVAGE_CHILD, str(ROOT),
                                str(folder / DB_FILENAME), "0"],
                               capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        count = int(rerun.stdout.split()[0])
        assert count == expected_count, (kill_at, killed, rerun.stdout)
        if killed:
            assert "jobs were recovered" in rerun.stdout     # the user is still told
        assert [p for p in folder.iterdir() if digest(p) == damaged]
        assert not any(".salvage" in p.name or p.name.endswith(".recovered")
                       for p in folder.iterdir())


def test_the_data_folder_is_owner_only_and_so_is_the_database(tmp_path):
    folder = tmp_path / "fresh" / "data"
    store, _ = open_job_store(folder / DB_FILENAME)
    store.add_job({"title": "Private"})
    assert (folder.stat().st_mode & 0o777) == 0o700
    for name in (DB_FILENAME, DB_FILENAME + "-wal", DB_FILENAME + "-shm"):
        assert ((folder / name).stat().st_mode & 0o777) == 0o600, name
    store.close()
    # An install from before: 0755 folder, 0644 files — tightened at the next start.
    os.chmod(folder, 0o755)
    os.chmod(folder / DB_FILENAME, 0o644)
    store, _ = open_job_store(folder / DB_FILENAME)
    assert (folder.stat().st_mode & 0o777) == 0o700
    assert ((folder / DB_FILENAME).stat().st_mode & 0o777) == 0o600
    store.close()


def test_a_second_install_with_other_settings_but_the_same_data_folder_does_not_run(
        tmp_path, data_dir, qtbot):
    """Two settings folders, one data folder: the second launch says so and stops before it
    touches the first one's in-flight notification (it used to mark it "unsure")."""
    from peregrine_desktop import app as app_module
    from peregrine_desktop.events.outbox import Delivery, Outbox
    from peregrine_desktop.settings import paths

    store = JobStore(data_dir / DB_FILENAME)
    job = store.add_job({"title": "SRE"})
    outbox = Outbox(store)
    outbox.enqueue([Delivery("ping", job["id"], "status_changed", "notify", {"t": 1}, "a ping")])
    assert len(outbox.claim("ping")) == 1           # the first app is sending it right now
    store.close()

    def states() -> list[str]:
        conn = sqlite3.connect(data_dir / DB_FILENAME)
        try:
            return [r[0] for r in conn.execute("SELECT state FROM outbox")]
        finally:
            conn.close()

    assert states() == ["sending"]

    first = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys
            sys.path.insert(0, {str(ROOT)!r})
            from pathlib import Path
            from peregrine_desktop.lifecycle.startup import claim_data_folder
            lock = claim_data_folder(Path({str(data_dir)!r}))
            print("running", flush=True)
            sys.stdin.readline()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline().strip() == "running"
        seen: list[str] = []
        answer_next_message_box(QMessageBox.StandardButton.Close, seen)
        status = app_module.main(["peregrine-desktop", "--config-dir", str(tmp_path / "second"),
                                  "--data-dir", str(data_dir)])
        assert status == 1
        assert f"process {first.pid}" in seen[0] and str(data_dir) in seen[0]
        assert "already using the data folder" in seen[0]
        assert "start-up blocked: Another Peregrine" in paths.log_file().read_text()
    finally:
        paths.set_overrides()
        first.stdin.close()
        first.wait(10)
    assert states() == ["sending"]
    # With the first one gone, the lock is free again.
    claim_data_folder(data_dir).unlock()
