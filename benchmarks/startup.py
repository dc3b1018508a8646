#!/usr/bin/env python3
"""Start-up figures, each beside a baseline measured in the same run.

1. Start to first paint of the main window: a fresh process until its main window has painted
   (the app prints a marker then, see peregrine_desktop/lifecycle/first_paint.py), for Peregrine and for a
   bare PySide6 QMainWindow; optionally the PyInstaller bundle too.  Runs are interleaved, one
   discarded warm-up each, so the disk cache is warm for all alike; medians and ratios.
2. Discovery of the built-in integrations: the time ``import integrations`` takes once the
   standard-library modules it uses are already loaded (its marginal cost), and which
   third-party modules it pulls in (should be none: SDKs are imported lazily).

    python benchmarks/startup.py [--runs 5] [--app CMD] [--bundle PATH]
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from peregrine_desktop.lifecycle.first_paint import ENV_FLAG, MARKER  # noqa: E402

BARE_WINDOW = f"""
import sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow(); window.setWindowTitle("bare"); window.resize(1100, 720)
class Watch(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            obj.removeEventFilter(self)
            QTimer.singleShot(0, lambda: (print({MARKER!r}, flush=True), app.quit()))
        return False
watch = Watch(); window.installEventFilter(watch); window.show(); app.exec()
"""

DISCOVERY = """
import json, sys, time
for name in json.loads(sys.argv[1]):
    __import__(name)
before = set(sys.modules)
start = time.perf_counter()
import integrations
integrations.REGISTRY  # the registry is built on first use
elapsed = time.perf_counter() - start
new = sorted(set(sys.modules) - before)
third = sorted({m.split(".")[0] for m in new} - set(sys.stdlib_module_names)
               - {"integrations", "peregrine_desktop"})
print(json.dumps({"seconds": elapsed, "plugins": len(integrations.REGISTRY),
                  "unavailable": len(integrations.unavailable()), "modules": len(new),
                  "third_party": third}))
"""


def time_to_first_paint(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, env=env, cwd=ROOT)
    for line in process.stdout:
        if line.strip() == MARKER:
            elapsed = time.perf_counter() - start
            break
    else:
        process.wait()
        raise SystemExit(f"{shlex.join(command)} exited ({process.returncode}) before painting")
    process.stdout.close()
    process.wait(timeout=60)
    return elapsed


def bytecode_env() -> dict[str, str]:
    """The environment with bytecode caching on, as on a user's machine (pip installs compile
    .pyc files; some shells here set PYTHONDONTWRITEBYTECODE, which would make every run pay
    for compiling every module)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def sandbox_env(home: Path) -> dict[str, str]:
    """Offscreen, a throw-away home and config folder in which setup is already finished."""
    env = {**bytecode_env(), "QT_QPA_PLATFORM": "offscreen", ENV_FLAG: "1", "HOME": str(home),
           "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local/share"),
           "XDG_RUNTIME_DIR": str(home / "runtime"),
           "PEREGRINE_CONFIG_DIR": str(home / "config"), "PEREGRINE_DATA_DIR": str(home / "data")}
    (home / "runtime").mkdir(mode=0o700, parents=True, exist_ok=True)
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "user.yaml").write_text("name: Bench Mark\nwizard_complete: true\n"
                                               "wizard_step: 6\n")
    return env


def startup(runs: int, commands: dict[str, list[str]]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory(prefix="peregrine-bench-") as tmp:
        env = sandbox_env(Path(tmp))
        for round_ in range(runs + 1):
            for name, command in commands.items():
                elapsed = time_to_first_paint(command, env)
                if round_:  # round 0 warms the disk cache for every command alike
                    times[name].append(elapsed)
    return times


def stdlib_modules_used_by_discovery() -> list[str]:
    probe = ("import json, sys; import integrations; integrations.REGISTRY; "
             "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
             "sys.stdlib_module_names and not m.startswith('_'))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=ROOT, check=True, env=bytecode_env()).stdout
    return json.loads(out)


def discovery(runs: int) -> list[dict]:
    preload = json.dumps(stdlib_modules_used_by_discovery())
    results = []
    for round_ in range(runs + 1):   # round 0 writes the bytecode caches
        out = subprocess.run([sys.executable, "-c", DISCOVERY, preload], capture_output=True,
                             text=True, cwd=ROOT, check=True, env=bytecode_env()).stdout
        if round_:
            results.append(json.loads(out))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measured runs per command (≥5)")
    parser.add_argument("--app", default=f"{shlex.quote(sys.executable)} -m peregrine_desktop",
                        help="command that starts Peregrine (default: this interpreter)")
    parser.add_argument("--bundle", help="the PyInstaller bundle's executable, to time too")
    parser.add_argument("--skip-discovery", action="store_true")
    args = parser.parse_args()
    runs = max(5, args.runs)

    commands = {"bare PySide6 QMainWindow": [sys.executable, "-c", BARE_WINDOW],
                "Peregrine (pip install)": shlex.split(args.app)}
    if args.bundle:
        commands["Peregrine (bundle)"] = [str(Path(args.bundle).resolve())]
    times = startup(runs, commands)
    medians = {name: statistics.median(values) for name, values in times.items()}
    bare = medians["bare PySide6 QMainWindow"]
    print(f"Start to first paint of the main window: offscreen, {runs} runs each, medians "
          "(interleaved, warm disk cache)")
    for name, median in medians.items():
        spread = f"{min(times[name]):.3f}-{max(times[name]):.3f}"
        ratio = "" if name.startswith("bare") else f"  {median / bare:.2f}x bare"
        print(f"  {name:<26} {median:6.3f} s  (range {spread}){ratio}")
    if args.bundle:
        ratio = medians["Peregrine (bundle)"] / medians["Peregrine (pip install)"]
        print(f"  bundle / pip install: {ratio:.2f}")

    if not args.skip_discovery:
        found = discovery(runs)
        median_ms = statistics.median(r["seconds"] for r in found) * 1000
        last = found[-1]
        print(f"Discovery of built-in integrations (import integrations + first use of REGISTRY, after the stdlib "
              f"modules it uses are loaded), {runs} runs, median")
        print(f"  {median_ms:.1f} ms for {last['plugins']} integrations "
              f"({last['unavailable']} unavailable), {last['modules']} new modules; "
              f"third-party packages imported: {', '.join(last['third_party']) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
