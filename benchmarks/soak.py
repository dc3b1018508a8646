"""Soak: the figures issue 5 asks for, from the same code the tests run.

    python benchmarks/soak.py [--config-kills 120] [--sync-kills 100] [--salvage-kills 40]
                              [--fuzz-examples 1700]

Prints: kills survived with corruption / loss / duplicates counted (≥ 200 kills), kills while the
app salvages a damaged database (the original never lost, a rerun always completes with every
readable row), fuzzed inputs tried with the crashes found (≥ 10,000), the category each fault
produced per integration, and the longest UI-loop stall while a hung plugin test was pending.
Writes benchmarks/out/soak.json too.  Exit status 1 when anything was corrupted, lost,
duplicated, crashed or miscategorised.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def kills(config_kills: int, sync_kills: int, seed: int) -> dict:
    from peregrine_desktop.jobs.store import JobStore
    from tests.fakes.loopback import LoopbackServer
    from tests.fakes.tracker_services import NotionService, add_jobs
    from tests.test_crash_safety import KillTally, config_round, sync_round

    rng = random.Random(seed)
    config_tally, sync_tally = KillTally(), KillTally()
    with tempfile.TemporaryDirectory() as folder:
        config_dir = Path(folder) / "config"
        config_dir.mkdir()
        for _ in range(config_kills):
            config_tally.add(config_round(config_dir, rng))
        db = Path(folder) / "jobs.sqlite3"
        store = JobStore(db)
        add_jobs(store, 40, "approved")
        store.close()
        with LoopbackServer() as server:
            # A killed child drops its connection mid-request; that is the point, not news.
            server._httpd.handle_error = lambda *_args: None
            notion = NotionService(server)
            for round_number in range(sync_kills):
                sync_tally.add(sync_round(db, notion, rng, start=10_000 + 10 * round_number))
            remote_pages = len(notion.live_pages())
    total = KillTally()
    total.add(config_tally)
    total.add(sync_tally)
    return {"seed": seed, "kills": total.kills, "corrupt": total.corrupt, "lost": total.lost,
            "duplicates": total.duplicates, "config_kills": config_tally.kills,
            "sync_kills": sync_tally.kills, "sync_kills_mid_sync": sync_tally.mid_work,
            "remote_pages_after": remote_pages, "problems": total.problems[:20]}


SALVAGE_CHILD = """
import sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from peregrine_desktop.lifecycle.startup import open_job_store
print("ready", flush=True)
sys.stdin.readline()
store, notice = open_job_store(Path(sys.argv[2]))
print(store.count(), flush=True)
"""


def salvage_kills(rounds: int, seed: int) -> dict:
    """Kill the app at a random moment while it salvages a damaged 5,000-job database."""
    import hashlib
    import shutil
    import signal
    import subprocess

    from tests.test_database_startup import corrupt_middle, make_store

    def digest(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    def start(db: Path) -> subprocess.Popen:
        child = subprocess.Popen([sys.executable, "-c", SALVAGE_CHILD, str(ROOT), str(db)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        return child

    rng = random.Random(seed)
    tally = {"rounds": rounds, "killed_mid_salvage": 0, "finished_before_kill": 0,
             "original_lost": 0, "rerun_failed": 0, "wrong_count": 0, "leftovers": 0,
             "problems": []}
    with tempfile.TemporaryDirectory() as folder:
        source = make_store(Path(folder), 5000)
        corrupt_middle(source)
        damaged = digest(source)
        reference = Path(folder) / "reference"
        reference.mkdir()
        shutil.copyfile(source, reference / source.name)
        child = start(reference / source.name)
        began = time.monotonic()
        out, _ = child.communicate("go\n", timeout=120)
        salvage_seconds = time.monotonic() - began
        expected = int(out.split()[0])
        tally.update(recovered=expected, salvage_ms=round(salvage_seconds * 1000, 1))
        for number in range(rounds):
            work = Path(folder) / f"round-{number}"
            work.mkdir()
            db = work / source.name
            shutil.copyfile(source, db)
            child = start(db)
            child.stdin.write("go\n")
            child.stdin.flush()
            time.sleep(rng.uniform(0, salvage_seconds * 1.3))
            child.send_signal(signal.SIGKILL)
            child.wait(30)
            finished = bool(child.stdout.read().strip())
            child.stderr.read()
            tally["finished_before_kill" if finished else "killed_mid_salvage"] += 1
            if not any(digest(p) == damaged for p in work.iterdir() if p.is_file()):
                tally["original_lost"] += 1
                tally["problems"].append(f"round {number}: the damaged original is gone")
            rerun = start(db)
            out, err = rerun.communicate("go\n", timeout=120)
            if rerun.returncode != 0:
                tally["rerun_failed"] += 1
                tally["problems"].append(f"round {number}: rerun failed: {err[-300:]}")
            elif int(out.split()[0]) != expected:
                tally["wrong_count"] += 1
                tally["problems"].append(f"round {number}: {out.split()[0]} jobs, not {expected}")
            left = [p.name for p in work.iterdir()
                    if ".salvage" in p.name or p.name.endswith(".recovered")]
            if left:
                tally["leftovers"] += 1
                tally["problems"].append(f"round {number}: left {left}")
            shutil.rmtree(work)
    return tally


def fuzz(examples: int) -> dict:
    os.environ["PEREGRINE_FUZZ_EXAMPLES"] = str(examples)
    import tests.test_input_fuzz as fuzz_tests

    fuzz_tests.qt_app()
    properties = [getattr(fuzz_tests, name) for name in dir(fuzz_tests)
                  if name.startswith("test_") and hasattr(getattr(fuzz_tests, name), "hypothesis")]
    crashes: list[str] = []
    for prop in properties:
        try:
            prop()
        except BaseException as exc:  # noqa: BLE001 - a crash is a finding, the soak goes on
            crashes.append(f"{prop.__name__}: {type(exc).__name__}: "
                           f"{''.join(traceback.format_exception_only(exc)).strip()[:300]}")
    return {"inputs": sum(fuzz_tests.FUZZ_COUNTS.values()), "by_kind": dict(fuzz_tests.FUZZ_COUNTS),
            "properties": len(properties), "crashes": len(crashes), "crash_details": crashes}


def faults(names: list[str] | None = None) -> dict:
    """Every registered integration (or those named) through the test kit's fault sweep: the
    same cases as tests/test_fault_sweep.py, with its real OneDrive sign-in."""
    import integrations
    from peregrine_sdk.testkit.faults import FAULTS, sweep_case
    from tests.test_fault_sweep import SIGN_IN

    table: dict[str, dict[str, str]] = {}
    wrong: list[str] = []
    for name, cls in integrations.REGISTRY.items():
        if names is not None and name not in names:
            continue
        row: dict[str, str] = {}
        for fault in FAULTS:
            with tempfile.TemporaryDirectory() as folder:
                case = sweep_case(cls, fault, Path(folder), SIGN_IN.get(name))
            if case.skipped:
                row[fault.name] = "skipped"
                row["skip_reason"] = case.skipped
                continue
            mark = "" if case.ok else " (WRONG)"
            row[fault.name] = f"{case.outcome.kind.value}{mark} {case.outcome.seconds:.2f}s"
            wrong += [f"{name}/{fault.name}: {problem}" for problem in case.problems]
        table[name] = row
    return {"table": table, "wrong": wrong, "faults": [f.name for f in FAULTS]}


def ui_stall(timeout_ms: int = 3000) -> dict:
    import time as clock

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from peregrine_sdk.discovery import BUILT_IN, DiscoveryRecord
    from peregrine_desktop.ui.connection_card import ConnectionCard
    from tests.test_hostile_plugins import RELEASE, HangingTest, TickRecorder

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        card = ConnectionCard(DiscoveryRecord("hanging", BUILT_IN, "soak", HangingTest),
                              Path(folder), "free", test_timeout_ms=timeout_ms)
        card.show()
        card.form.editors["workspace"].line.setText("w")
        card.form.editors["workspace"].changed.emit()
        loop = QEventLoop()
        card.test_finished.connect(lambda *_: loop.quit())
        RELEASE.clear()
        with TickRecorder() as ticks:
            started = clock.monotonic()
            card.run_test()
            QTimer.singleShot(timeout_ms * 3, loop.quit)
            loop.exec()
            pending = clock.monotonic() - started
        RELEASE.set()
        shown = f"{card.status.text()}: {card.detail.text()}"
        card.close()
        card.deleteLater()
    app.processEvents()
    return {"pending_seconds": round(pending, 3), "ticks": len(ticks.ticks),
            "longest_stall_ms": round(ticks.longest_gap() * 1000, 1), "card_shows": shown}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config-kills", type=int, default=120)
    parser.add_argument("--sync-kills", type=int, default=100)
    parser.add_argument("--salvage-kills", type=int, default=40)
    parser.add_argument("--fuzz-examples", type=int, default=1700,
                        help="examples per hypothesis property (6 properties)")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    args = parser.parse_args(argv)

    import tests.conftest  # noqa: F401 - sandboxed HOME/XDG, offscreen Qt, no proxies

    report: dict = {}
    started = time.monotonic()
    report["kills"] = kills(args.config_kills, args.sync_kills, args.seed)
    k = report["kills"]
    print(f"kills survived: {k['kills']} ({k['config_kills']} during config saves, "
          f"{k['sync_kills']} during syncs, {k['sync_kills_mid_sync']} of them mid-sync) — "
          f"corrupt {k['corrupt']}, lost {k['lost']}, duplicates {k['duplicates']} "
          f"[seed {k['seed']}]", flush=True)
    for problem in k["problems"]:
        print("   ", problem)

    report["salvage"] = salvage_kills(args.salvage_kills, args.seed)
    v = report["salvage"]
    print(f"kills while salvaging a damaged database ({v['recovered']:,} of 5,000 jobs readable, "
          f"salvage {v['salvage_ms']} ms): {v['rounds']} kills, {v['killed_mid_salvage']} "
          f"mid-salvage — original lost {v['original_lost']}, rerun failed "
          f"{v['rerun_failed']}, wrong count {v['wrong_count']}, leftovers {v['leftovers']}",
          flush=True)
    for problem in v["problems"]:
        print("   ", problem)

    report["fuzz"] = fuzz(args.fuzz_examples)
    f = report["fuzz"]
    print(f"fuzzed inputs tried: {f['inputs']:,} over {f['properties']} properties — crashes "
          f"{f['crashes']}", flush=True)
    print("   ", ", ".join(f"{kind}: {n:,}" for kind, n in f["by_kind"].items()))
    for crash in f["crash_details"]:
        print("    CRASH", crash)

    report["faults"] = faults()
    t = report["faults"]
    print("fault cases per integration (category, seconds):")
    header = f"    {'integration':<16}" + "".join(f"{name:<24}" for name in t["faults"])
    print(header)
    for name, row in t["table"].items():
        if "skip_reason" in row:
            print(f"    {name:<16}skipped: {row['skip_reason']}")
        else:
            print(f"    {name:<16}" + "".join(f"{row[n]:<24}" for n in t["faults"]))
    for wrong in t["wrong"]:
        print("    WRONG", wrong)

    report["ui"] = ui_stall()
    u = report["ui"]
    print(f"longest UI stall while a hung plugin test was pending: {u['longest_stall_ms']} ms "
          f"({u['ticks']} ticks of a 10 ms timer over {u['pending_seconds']} s; the card then "
          f"showed \"{u['card_shows']}\")")
    report["seconds"] = round(time.monotonic() - started, 1)
    print(f"soak took {report['seconds']} s")

    out = ROOT / "benchmarks" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "soak.json").write_text(json.dumps(report, indent=2, default=str))
    bad = (k["corrupt"] or k["lost"] or k["duplicates"] or f["crashes"] or t["wrong"]
           or v["original_lost"] or v["rerun_failed"] or v["wrong_count"] or v["leftovers"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
