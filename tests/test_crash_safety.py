"""kill -9 at randomised points: during config saves, and during a sync to a loopback Notion
emulator (which lives in this process and so survives the kill).  After each kill, a restart
finds no corrupt file, no lost job, no duplicate remote record.

The rounds are plain functions so that benchmarks/soak.py can run hundreds of them; CI runs a few.
"""
from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

CONFIG_CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[2])
    import keyring, keyring.backends.fail
    keyring.set_keyring(keyring.backends.fail.Keyring())   # secrets in the file: more bytes
    from pathlib import Path
    from peregrine_sdk.base import IntegrationBase
    from peregrine_desktop.settings.profile import UserProfile

    class Crashy(IntegrationBase):
        name, label = "crashy", "Crashy"
        def fields(self):
            return [{"key": "api_token", "label": "T", "type": "password", "required": True},
                    {"key": "version", "label": "V", "type": "text", "required": True},
                    {"key": "payload", "label": "P", "type": "text", "required": True}]
        def connect(self, config): return True
        def test(self): return True

    config_dir = Path(sys.argv[1])
    profile = UserProfile(config_dir / "user.yaml", read=False)
    print("ready", flush=True)
    n = int(sys.argv[3])
    while True:
        n += 1
        Crashy.save_config({"api_token": f"tok-{n}", "version": n,
                            "payload": str(n) * (200 + n % 5000)}, config_dir)
        profile.update(name=f"v{n}", career_summary=str(n) * (n % 3000))
        profile.save()
        print(n, flush=True)
""")

SYNC_CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[2])
    from pathlib import Path
    from peregrine_sdk.http import RetryPolicy
    from integrations.notion import NotionIntegration
    from peregrine_desktop.jobs.store import JobStore
    from peregrine_desktop.sync.engine import SyncEngine
    from peregrine_desktop.sync.state import SyncState
    from peregrine_sdk.testkit import pointed_at

    NotionIntegration.per_second = None
    NotionIntegration.policy = RetryPolicy(attempts=3, base_delay=0.01, max_wait=0.5)
    store = JobStore(Path(sys.argv[1]))
    notion = NotionIntegration()
    with pointed_at(NotionIntegration, sys.argv[4]):
        notion.connect({"token": "ntn_good", "database_id": sys.argv[3],
                        "key_column": "Peregrine ID"})
        print("ready", flush=True)
        start = int(sys.argv[5])
        for job in store.list_jobs()[: 12]:   # edits the sync must carry over (not creates)
            store.update_job(job["id"], {"notes": f"seen in round {start}"})
        for i in range(start, start + 4):     # jobs added while syncing: none may be lost
            job = store.add_job({"title": f"Job {i}", "company": f"Co {i}",
                                 "url": f"https://jobs.example/k{i}", "status": "approved",
                                 "date_found": "2026-11-02"})
            print("added", job["id"], flush=True)
        SyncEngine(SyncState(store)).run(notion, store.list_jobs())
        print("synced", flush=True)
""")


PULL_CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[2])
    from pathlib import Path
    from peregrine_sdk.http import RetryPolicy
    from integrations.notion import NotionIntegration
    from peregrine_desktop.jobs.store import JobStore
    from peregrine_desktop.sync.engine import SyncEngine
    from peregrine_desktop.sync.state import SyncState
    from peregrine_sdk.testkit import pointed_at

    NotionIntegration.per_second = None
    NotionIntegration.policy = RetryPolicy(attempts=3, base_delay=0.01, max_wait=0.5)
    store = JobStore(Path(sys.argv[1]))
    notion = NotionIntegration()
    with pointed_at(NotionIntegration, sys.argv[4]):
        notion.connect({"token": "ntn_good", "database_id": sys.argv[3],
                        "key_column": "Peregrine ID"})
        print("ready", flush=True)
        SyncEngine(SyncState(store)).run(notion, store.list_jobs())
        print("synced", flush=True)
""")


@dataclass
class KillTally:
    """What the rounds found; the soak prints it."""

    kills: int = 0
    corrupt: int = 0
    lost: int = 0
    duplicates: int = 0
    #: Kills that landed before the child finished its work (not after it was done).
    mid_work: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, other: "KillTally") -> None:
        self.kills += other.kills
        self.corrupt += other.corrupt
        self.lost += other.lost
        self.duplicates += other.duplicates
        self.mid_work += other.mid_work
        self.problems += other.problems


def run_and_kill(args: list[str], rng: random.Random, window: tuple[float, float]
                 ) -> list[str]:
    """Start a child, wait until it is ready, SIGKILL it after a random delay; its output."""
    child = subprocess.Popen([sys.executable, "-c", *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=ROOT)
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in child.stdout:
            lines.append(line.strip())
            if line.startswith("ready"):
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if not ready.wait(60):
        child.kill()
        raise RuntimeError(f"child never got ready: {child.stderr.read()[-2000:]}")
    time.sleep(rng.uniform(*window))
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    reader.join(10)
    child.stderr.close()
    return lines


# -- config saves -------------------------------------------------------------------------------
def config_round(config_dir: Path, rng: random.Random) -> KillTally:
    """One kill during a stream of config + profile saves; then check like a restart does."""
    from peregrine_desktop.settings.config_recovery import remove_stale_temp_files, scan
    from peregrine_desktop.settings.configfiles import ConfigFileError, read_yaml_mapping

    tally = KillTally(kills=1, mid_work=1)   # the child saves until killed
    state_file = config_dir / "last-versions.yaml"
    floors = yaml.safe_load(state_file.read_text()) if state_file.exists() else {}
    before = max(floors.values(), default=0)
    lines = run_and_kill([CONFIG_CHILD, str(config_dir), str(ROOT), str(before)], rng,
                         (0.0, 0.25))
    done = [int(x) for x in lines if x.isdigit()]
    last_done = done[-1] if done else 0
    path = config_dir / "integrations" / "crashy.yaml"
    for file in (path, config_dir / "user.yaml"):
        floor = max(floors.get(file.name, 0), last_done)   # saves that had returned
        if not file.exists():
            if floor > 0:
                tally.lost += 1
                tally.problems.append(f"{file.name} missing after save {floor}")
            continue
        try:
            data = read_yaml_mapping(file)
        except ConfigFileError as exc:
            tally.corrupt += 1
            tally.problems.append(f"{file.name}: {exc.problem}")
            continue
        if file == path:
            version = int(data.get("version", -1))
            intact = data.get("payload") == str(version) * (200 + version % 5000) \
                and data.get("api_token") == f"tok-{version}"
        else:
            version = int(str(data.get("name", "v-1"))[1:])
            intact = data.get("career_summary", "") == str(version) * (version % 3000)
        if not intact:
            tally.corrupt += 1
            tally.problems.append(f"{file.name}: version {version} is not whole")
        if version < floor:     # a save that had returned was lost
            tally.lost += 1
            tally.problems.append(f"{file.name}: version {version} after save {floor}")
        floors[file.name] = version
    # Restart: the start-up scan finds nothing to complain about; stale temp files go.
    remove_stale_temp_files(config_dir, older_than=0)
    found = [p for p in scan(config_dir, {}) if p.name is None and p.severity == "error"]
    if found:
        tally.corrupt += 1
        tally.problems += [p.message for p in found]
    leftovers = list(config_dir.rglob(".*.tmp"))
    if leftovers:
        tally.problems.append(f"temp files left after restart: {leftovers}")
        tally.corrupt += 1
    state_file.write_text(yaml.safe_dump(floors))
    return tally


# -- sync ---------------------------------------------------------------------------------------
def sync_round(db: Path, notion, rng: random.Random, start: int) -> KillTally:
    """One kill while the child adds jobs and syncs them; restart, finish the sync, compare."""
    from peregrine_sdk.http import RetryPolicy
    from integrations.notion import NotionIntegration
    from peregrine_desktop.jobs.store import JobStore
    from peregrine_desktop.sync.engine import SyncEngine
    from peregrine_desktop.sync.state import SyncState
    from peregrine_sdk.testkit import pointed_at

    tally = KillTally(kills=1)
    lines = run_and_kill([SYNC_CHILD, str(db), str(ROOT), notion.database_id, notion.url,
                          str(start)], rng, (0.0, 0.4))
    added = {int(line.split()[1]) for line in lines if line.startswith("added")}
    tally.mid_work = int("synced" not in lines)
    # Restart: the database opens and passes SQLite's own check.
    with sqlite3.connect(db) as conn:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if verdict != "ok":
        tally.corrupt += 1
        tally.problems.append(f"integrity_check: {verdict}")
        return tally
    store = JobStore(db)
    try:
        jobs = store.list_jobs()
        missing = added - {j["id"] for j in jobs}
        if missing:
            tally.lost += len(missing)
            tally.problems.append(f"jobs lost: {sorted(missing)}")
        notion_client = NotionIntegration()
        notion_client.per_second = None
        notion_client.policy = RetryPolicy(attempts=3, base_delay=0.01, max_wait=0.5)
        with pointed_at(NotionIntegration, notion.url):
            notion_client.connect({"token": "ntn_good", "database_id": notion.database_id,
                                   "key_column": "Peregrine ID"})
            state = SyncState(store)
            report = SyncEngine(state).run(notion_client, jobs)
        if report.failed:
            tally.problems.append(f"restart sync failed: {report.failed[:3]}")
        keys = notion.keys()
        duplicates = len(keys) - len(set(keys))
        if duplicates:
            tally.duplicates += duplicates
            tally.problems.append(f"duplicate remote records: {duplicates}")
        synced = {j["uid"] for j in jobs if j["status"] == "approved"}
        if set(keys) != synced:
            tally.lost += len(synced - set(keys))
            tally.problems.append(f"remote and local disagree: {sorted(synced ^ set(keys))[:5]}")
        records = state.records("notion")
        live = {p["id"] for p in notion.live_pages()}
        stale = [job_id for job_id, rec in records.items() if rec.remote_id not in live]
        if stale:
            tally.problems.append(f"sync map points at missing pages: {stale[:5]}")
            tally.corrupt += 1
    finally:
        store.close()
    return tally


# -- pulls and joins ---------------------------------------------------------------------------
def pull_round(db: Path, notion: Any, rng: random.Random, round_number: int) -> KillTally:
    """Edits in Notion (notes, stages), another computer's new pages (joined: to import) and
    edits here; a sync killed part-way; then a restart's sync must leave every edit in place,
    every page imported once and no record twice."""
    import uuid

    from integrations.notion import NotionIntegration
    from peregrine_desktop.jobs.store import JobStore
    from peregrine_desktop.sync.engine import SyncEngine
    from peregrine_desktop.sync.state import SyncState
    from peregrine_sdk.http import RetryPolicy
    from peregrine_sdk.testkit import pointed_at

    def restart_sync(store: JobStore) -> Any:
        client = NotionIntegration()
        client.per_second = None
        client.policy = RetryPolicy(attempts=3, base_delay=0.01, max_wait=0.5)
        with pointed_at(NotionIntegration, notion.url):
            client.connect({"token": "ntn_good", "database_id": notion.database_id,
                            "key_column": "Peregrine ID"})
            return SyncEngine(SyncState(store)).run(client, store.list_jobs())

    tally = KillTally(kills=1)
    store = JobStore(db)
    try:
        jobs = store.list_jobs()
        edited = rng.sample(jobs, 12)
        remote_notes = {j["uid"]: f"typed in Notion, round {round_number}, {j['uid'][:6]}"
                        for j in edited}
        moved = {j["uid"] for j in edited if j["status"] == "approved"}
        for job in edited:
            page = notion.page_for(job["uid"])["id"]
            notion.edit(page, "Notes", remote_notes[job["uid"]])
            if job["uid"] in moved:
                notion.edit(page, "Status", "Offer")
        history = {j["uid"]: len(store.history(j["id"])) for j in edited}
        local = {j["uid"]: f"€{round_number}1,000" for j in jobs if j["uid"] not in moved}
        for job in jobs:
            if job["uid"] in local:
                store.update_job(job["id"], {"salary": local[job["uid"]]})
        foreign = [str(uuid.uuid4()) for _ in range(6)]
        for number, key in enumerate(foreign):
            notion.add_row(**{"Name": f"From the laptop {round_number}.{number}",
                              "Peregrine ID": key,
                              "URL": f"https://jobs.example/laptop-{round_number}-{number}"})
    finally:
        store.close()
    lines = run_and_kill([PULL_CHILD, str(db), str(ROOT), notion.database_id, notion.url],
                         rng, (0.0, 0.5))
    tally.mid_work = int("synced" not in lines)
    store = JobStore(db)
    try:
        report = restart_sync(store)
        if report.failed or report.conflicts:
            tally.problems.append(f"restart: {report.failed[:3]} {report.conflicts[:3]}")
        by_uid = {j["uid"]: j for j in store.list_jobs()}
        for uid, notes in remote_notes.items():
            if by_uid[uid]["notes"] != notes:
                tally.lost += 1
                tally.problems.append(f"edit made in Notion lost: {uid}")
            entries = len(store.history(by_uid[uid]["id"]))
            if entries != history[uid] + (uid in moved):
                tally.problems.append(f"{uid}: {entries - history[uid]} history entries")
                tally.corrupt += 1
        for uid, salary in local.items():
            if notion.text_of(notion.page_for(uid), "Salary") != salary:
                tally.lost += 1
                tally.problems.append(f"edit made here not in Notion: {uid}")
        missing = [k for k in foreign if k not in by_uid]
        if missing:
            tally.lost += len(missing)
            tally.problems.append(f"pages of the other computer not imported: {missing[:3]}")
        keys = notion.keys()
        urls = [j["url"] for j in by_uid.values()]
        tally.duplicates += (len(keys) - len(set(keys))) + (len(urls) - len(set(urls)))
        if set(keys) != set(by_uid):
            tally.problems.append(f"Notion and here disagree: {sorted(set(keys) ^ set(by_uid))[:4]}")
            tally.lost += 1
    finally:
        store.close()
    return tally


def test_kill_during_a_pull_or_a_join_loses_no_edit_and_duplicates_nothing(tmp_path, rng):
    from integrations.notion import NotionIntegration
    from peregrine_desktop.jobs.store import JobStore
    from peregrine_desktop.sync.engine import SyncEngine
    from peregrine_desktop.sync.state import SyncState
    from peregrine_sdk.testkit import pointed_at
    from tests.fakes.loopback import LoopbackServer
    from tests.fakes.tracker_services import NotionService, add_jobs

    db = tmp_path / "jobs.sqlite3"
    tally = KillTally()
    with LoopbackServer() as server:
        notion = NotionService(server)
        store = JobStore(db)
        add_jobs(store, 40, "approved")
        client = NotionIntegration()
        client.per_second = None
        with pointed_at(NotionIntegration, notion.url):
            client.connect({"token": "ntn_good", "database_id": notion.database_id,
                            "key_column": "Peregrine ID"})
            SyncEngine(SyncState(store)).run(client, store.list_jobs())
        SyncState(store).set_meta("notion", "join", "yes")   # the user joined the laptop
        store.close()
        server.latency = 0.01                    # a service far away: the kill lands mid-sync
        for round_number in range(3):
            tally.add(pull_round(db, notion, rng, round_number))
    assert (tally.corrupt, tally.lost, tally.duplicates) == (0, 0, 0), tally.problems
    assert not tally.problems


# -- CI: a few of each ----------------------------------------------------------------------------
@pytest.fixture
def rng() -> random.Random:
    seed = int(os.environ.get("PEREGRINE_CRASH_SEED", time.time_ns() % 100_000))
    print(f"crash seed {seed}")
    return random.Random(seed)


def test_kill_during_config_saves_never_corrupts_or_loses_a_save(tmp_path, rng):
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    tally = KillTally()
    for _ in range(4):
        tally.add(config_round(config_dir, rng))
    assert (tally.corrupt, tally.lost) == (0, 0), tally.problems
    assert tally.kills == 4


def test_kill_during_sync_loses_no_job_and_duplicates_no_record(tmp_path, rng):
    from tests.fakes.loopback import LoopbackServer
    from tests.fakes.tracker_services import NotionService, add_jobs
    from peregrine_desktop.jobs.store import JobStore

    db = tmp_path / "jobs.sqlite3"
    store = JobStore(db)
    add_jobs(store, 30, "approved")
    store.close()
    tally = KillTally()
    with LoopbackServer() as server:
        notion = NotionService(server)
        for round_number in range(3):
            tally.add(sync_round(db, notion, rng, start=1000 + 10 * round_number))
    assert (tally.corrupt, tally.lost, tally.duplicates) == (0, 0, 0), tally.problems
    assert not tally.problems
