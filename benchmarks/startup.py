#!/usr/bin/env python3
"""Start-up figures, each beside a baseline measured in the same run.

1. Under a real X server (an Xvfb of its own, on a free display number), measured from outside:
   the time from spawning a process until its top-level window is mapped (the X server's
   MapNotify for a window whose ``_NET_WM_PID`` is the child's pid), for a bare PySide6
   QMainWindow (the floor), Peregrine's main window, the first-launch wizard (a fresh config
   folder every run), and with 10,000 jobs: Peregrine beside a bare QTableView program over the
   same rows.  Runs alternate, one discarded warm-up round, medians and ratios.
   Also, inside one process on that X server: loading and showing the pipeline over 10,000 jobs
   until its table has painted, beside a bare QTableView over the same SQLite rows.
   Needs ``Xvfb`` (Debian package xvfb) and python-xlib (the ``bench`` extra).
   ``--start-command scripts/run-app.sh`` also times the README's start command the same way.
2. Offscreen: a fresh process until its main window has painted (the app prints a marker then,
   see peregrine_desktop/lifecycle/first_paint.py), Peregrine beside the bare QMainWindow;
   optionally the PyInstaller bundle too.
3. Discovery of the built-in integrations: the time ``import integrations`` takes once the
   standard-library modules it uses are already loaded (its marginal cost), and which
   third-party modules it pulls in (should be none: SDKs are imported lazily).
4. ``--instructions``: the same spawn-to-MapNotify path counted in CPU instructions (valgrind's
   callgrind, Debian package valgrind) for the bare window, the main window and the wizard.
   The count does not move with the machine's load, so it shows a change of a few percent that
   the wall times' spread hides (runs take ~20 s each under valgrind).

    python benchmarks/startup.py [--runs 9] [--app CMD] [--bundle PATH] [--start-command CMD]
                                 [--instructions]
"""
from __future__ import annotations

import argparse
import json
import os
import select
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from peregrine_desktop.lifecycle.first_paint import ENV_FLAG, MARKER  # noqa: E402

BENCHMARKS = Path(__file__).resolve().parent

#: The end of each bare program: show ``window``; with the first-paint flag set, print the
#: marker once it has painted and quit (as the app does).
SHOW_UNTIL_PAINTED = f"""
class Watch(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and os.environ.get({ENV_FLAG!r}):
            obj.removeEventFilter(self)
            QTimer.singleShot(0, lambda: (print({MARKER!r}, flush=True), app.quit()))
        return False
watch = Watch(); window.installEventFilter(watch); window.show(); app.exec()
"""

BARE_WINDOW = f"""
import os, sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow(); window.setWindowTitle("bare"); window.resize(1100, 720)
""" + SHOW_UNTIL_PAINTED

#: The same kinds of widget as Peregrine's first window, in plain PySide6 with nothing of the
#: app's: a menu bar, a row of tool buttons and a line edit, a row of checkable chips, an empty
#: table with the pipeline's headers, a status bar.  Context for the ratio against the bare
#: window: what PySide6 itself charges for these widgets (each class's first use, the Qt
#: namespace's enums) before any of Peregrine's code runs.
SAME_WIDGETS = f"""
import os, sys
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QStandardItemModel
from PySide6.QtWidgets import (QApplication, QHBoxLayout, QLabel, QLineEdit, QMainWindow,
                               QTableView, QToolButton, QVBoxLayout, QWidget)
app = QApplication(sys.argv[:1])
window = QMainWindow(); window.setWindowTitle("same widgets"); window.resize(1100, 720)
central = QWidget(window); column = QVBoxLayout(central)
bar = QHBoxLayout(); chips = QHBoxLayout()
for menu_name in ("&File", "&Edit", "&View", "&Sync", "&Settings", "&Help"):
    menu = window.menuBar().addMenu(menu_name)
    for i in range(4):
        action = QAction(f"Action &{{i}}", window)
        action.setShortcut(QKeySequence(f"Ctrl+Shift+{{i}}"))
        menu.addAction(action)
        if len(window.actions()) < 6:
            button = QToolButton(central); button.setDefaultAction(action); bar.addWidget(button)
        window.addAction(action)
bar.addWidget(QLineEdit(central))
for text in ("All", "Pending", "Approved", "Applied", "Phone screen", "Interviewing", "Offer",
             "Hired", "Rejected", "Overdue", "Due today", "This week", "Targets"):
    chip = QToolButton(central); chip.setText(text); chip.setCheckable(True); chips.addWidget(chip)
model = QStandardItemModel(0, 11, central)
model.setHorizontalHeaderLabels(["Title", "Company", "Location", "Salary", "Status", "Found",
                                 "Applied", "Deadline", "Next action", "Interview", "Source"])
table = QTableView(central); table.setModel(model)
table.horizontalHeader().setStretchLastSection(True)
column.addLayout(bar); column.addLayout(chips); column.addWidget(table, 1)
window.setCentralWidget(central)
window.statusBar().addPermanentWidget(QLabel("0 jobs", window))
""" + SHOW_UNTIL_PAINTED

#: The 10,000-job floor as a program: the rows read with sqlite3 into a trivial model, a stock
#: proxy, a QTableView (benchmarks/pipeline_view.py's baseline), shown.
BARE_TABLE = f"""
import sys
sys.path.insert(0, {str(BENCHMARKS)!r})
from PySide6.QtWidgets import QApplication
from pipeline_view import open_baseline
app = QApplication(sys.argv[:1])
table, _proxy = open_baseline(sys.argv[2])
table.show(); app.exec()
"""

#: In one process: load and show the pipeline (or the bare table) until its table painted; wall
#: time and the UI thread's CPU time.
LOAD_AND_SHOW = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
from PySide6.QtWidgets import QApplication
from pipeline_view import open_baseline, open_view
app = QApplication(sys.argv[:1])
path, runs = sys.argv[2], int(sys.argv[3])

class Painted(QObject):
    def __init__(self, widget, loop):
        super().__init__(); self.loop = loop; widget.installEventFilter(self)
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            obj.removeEventFilter(self)
            QTimer.singleShot(0, self.loop.quit)   # after this paint is done
        return False

def shown(make):
    loop = QEventLoop()
    start, cpu = time.perf_counter(), time.thread_time()
    window, table, keep = make()
    watch = Painted(table.viewport(), loop)
    window.show()
    QTimer.singleShot(30000, loop.quit)
    loop.exec()
    elapsed = (time.perf_counter() - start, time.thread_time() - cpu)
    window.close(); window.deleteLater()
    for _ in range(3):
        app.processEvents()
    if keep is not None:
        keep.close()
    return elapsed

def view():
    widget, store, _repository = open_view(path)
    return widget, widget.table, store

def bare():
    table, _proxy = open_baseline(path)
    return table, table, None

times = {"bare": [], "view": []}
for round_ in range(runs + 1):      # round 0: imports and caches, discarded
    for name, make in (("bare", bare), ("view", view)):
        elapsed = shown(make)
        if round_:
            times[name].append(elapsed)
print(json.dumps(times))
"""

#: In a running app (main window up, plugins loaded): open Settings and the sync window for the
#: first time, each until it has painted; the baseline is a bare QDialog with four tabs.
SECOND_WINDOWS = """
import json, sys, time
from peregrine_desktop.lifecycle.qt_import import import_qt
import_qt()
from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QTabWidget, QVBoxLayout
app = QApplication(sys.argv[:1])
from peregrine_desktop.app import Application
application = Application()
application.start()
loop = QEventLoop()
def ready():
    if application.hub is not None:
        loop.quit()
    else:
        QTimer.singleShot(10, ready)
QTimer.singleShot(0, ready)
loop.exec()

# Quits its loop after the watched window's first paint.  Installed on that window alone: an
# application-wide filter makes PySide6 wrap every object Qt sends an event to, Qt's private ones
# included, and looking up their classes cost a text field's first use ~100 ms.
class FirstPaint(QObject):
    def __init__(self):
        super().__init__(); self.loop = QEventLoop()
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            obj.removeEventFilter(self)
            QTimer.singleShot(0, self.loop.quit)
        return False

# open_it() makes (or finds) and opens the window: shown, not yet painted (that needs the loop).
def timed(class_name, open_it):
    before = {w for w in app.topLevelWidgets() if w.isVisible()}
    watch = FirstPaint()
    start, cpu = time.perf_counter(), time.thread_time()
    open_it()
    window, = [w for w in app.topLevelWidgets()
               if w not in before and type(w).__name__ == class_name and w.isVisible()]
    window.installEventFilter(watch)
    QTimer.singleShot(30000, watch.loop.quit)
    watch.loop.exec()
    return time.perf_counter() - start, time.thread_time() - cpu

def bare():
    dialog = QDialog(application.window)
    tabs = QTabWidget(dialog)
    for name in ("One", "Two", "Three", "Four"):
        tabs.addTab(QLabel(name), name)
    QVBoxLayout(dialog).addWidget(tabs)
    dialog.resize(700, 560)
    dialog.open()
    globals()["kept"] = dialog

result = {"bare": timed("QDialog", bare)}
kept.close()
result["settings"] = timed("SettingsDialog", application.open_settings)
result["sync"] = timed("SyncDialog", application.window.show_sync)
print(json.dumps(result))
application.shutdown()
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
               - {"integrations", "peregrine_desktop", "peregrine_sdk"})
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


# -- under a real X server, measured from outside ----------------------------------------------------
class XServer:
    """An Xvfb of our own (on a display number it picks itself) and an X client that listens
    for top-level windows being mapped.  Without a window manager, top-level windows are direct
    children of the root, so SubstructureNotify on the root reports each MapNotify."""

    def __init__(self) -> None:
        from Xlib import X
        from Xlib.display import Display

        read_end, write_end = os.pipe()
        self.process = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x1024x24",
             "-nolisten", "tcp", "-noreset"],
            pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write_end)
        with os.fdopen(read_end) as numbers:
            number = numbers.readline().strip()
        if not number:
            self.process.kill()
            raise SystemExit("Xvfb did not start")
        self.name = f":{number}"
        self.display = Display(self.name)
        self.X = X
        # Selected before anything is spawned, so no MapNotify can be missed.
        self.display.screen().root.change_attributes(event_mask=X.SubstructureNotifyMask)
        self.display.sync()
        self.pid_atom = self.display.intern_atom("_NET_WM_PID")

    def close(self) -> None:
        self.display.close()
        self.process.terminate()
        self.process.wait(timeout=10)

    def _pid_of(self, window) -> int | None:
        from Xlib.error import XError

        try:
            prop = window.get_full_property(self.pid_atom, self.X.AnyPropertyType)
        except XError:      # gone already
            return None
        return int(prop.value[0]) if prop is not None and len(prop.value) else None

    def _drain(self) -> None:
        while self.display.pending_events():
            self.display.next_event()

    def time_to_map(self, command: list[str], env: dict[str, str]) -> tuple[float, float]:
        """Seconds from spawning ``command`` until a window of its process is mapped, and the
        CPU seconds the process (and its children) used by then; then the process is ended (it
        must still be running when its window's pid is read)."""
        self._drain()
        env = {**env, "DISPLAY": self.name, "QT_QPA_PLATFORM": "xcb"}
        env.pop("XAUTHORITY", None)
        env.pop(ENV_FLAG, None)
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            while True:
                while self.display.pending_events():
                    event = self.display.next_event()
                    if (event.type == self.X.MapNotify
                            and self._pid_of(event.window) == process.pid):
                        elapsed = time.perf_counter() - start
                        return elapsed, self._end(process)
                if process.poll() is not None:
                    raise SystemExit(f"{shlex.join(command)} exited ({process.returncode}) "
                                     "before mapping a window")
                if time.perf_counter() - start > 60:
                    raise SystemExit(f"{shlex.join(command)} mapped no window in 60 s")
                select.select([self.display], [], [], 0.05)
        finally:
            if process.returncode is None:
                process.terminate()
                process.wait(timeout=30)

    def instructions_to_map(self, command: list[str], env: dict[str, str]) -> int:
        """CPU instructions ``command`` executes from its start until its window is mapped,
        counted by callgrind (ended at the MapNotify, as :meth:`time_to_map` ends it)."""
        with tempfile.TemporaryDirectory(prefix="peregrine-callgrind-") as tmp:
            out = Path(tmp) / "callgrind.out"
            counted = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                       "--dump-instr=no", *command]
            self.time_to_map(counted, {**env, "PYTHONHASHSEED": "0"})
            for line in out.read_text().splitlines():
                if line.startswith(("summary:", "totals:")):
                    return int(line.split()[1])
        raise SystemExit(f"callgrind wrote no total for {shlex.join(command)}")

    @staticmethod
    def _end(process: subprocess.Popen) -> float:
        """Stop the process; the CPU time it used (user + system, its children included: the
        start command's shell and pip)."""
        process.terminate()
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        return usage.ru_utime + usage.ru_stime


@contextmanager
def x_server():
    server = XServer()
    try:
        yield server
    finally:
        server.close()


def make_jobs_database(path: Path, count: int) -> None:
    sys.path.insert(0, str(BENCHMARKS))
    from pipeline_view import demo_jobs

    from peregrine_desktop.jobs.store import JobStore

    store = JobStore(path)
    store.add_many(demo_jobs(count))
    store.close()


def fresh_setup_env(base: dict[str, str], parent: Path) -> dict[str, str]:
    """A new, empty config and data folder: Peregrine's first launch (the wizard)."""
    home = Path(tempfile.mkdtemp(prefix="first-", dir=parent))
    return {**base, "PEREGRINE_CONFIG_DIR": str(home / "config"),
            "PEREGRINE_DATA_DIR": str(home / "data")}


def xvfb_startup(runs: int, app: list[str], jobs: int,
                 start_command: list[str] | None) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="peregrine-bench-") as tmp, x_server() as server:
        tmp_path = Path(tmp)
        env = sandbox_env(tmp_path / "home")
        loaded_env = sandbox_env(tmp_path / "loaded")
        database = Path(loaded_env["PEREGRINE_DATA_DIR"]) / "jobs.sqlite3"
        database.parent.mkdir(parents=True, exist_ok=True)
        make_jobs_database(database, jobs)
        cases: dict[str, tuple[list[str], object]] = {
            "bare PySide6 QMainWindow": ([sys.executable, "-c", BARE_WINDOW], env),
            "plain PySide6, the same widgets": ([sys.executable, "-c", SAME_WIDGETS], env),
            "Peregrine main window": (app, env),
            "Peregrine first-launch wizard": (app, lambda: fresh_setup_env(env, tmp_path)),
            f"bare QTableView, {jobs:,} rows": ([sys.executable, "-c", BARE_TABLE, "table",
                                                str(database)], env),
            f"Peregrine, {jobs:,} jobs": (app, loaded_env),
        }
        if start_command:
            cases["start command"] = (start_command, env)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
        for round_ in range(runs + 1):
            for name, (command, environment) in cases.items():
                environment = environment() if callable(environment) else environment
                measured = server.time_to_map(command, environment)
                if round_:  # round 0 warms the disk cache for every command alike
                    times[name].append(measured)
        load = subprocess.run(
            [sys.executable, "-c", LOAD_AND_SHOW, str(BENCHMARKS), str(database), str(runs)],
            env={**env, "DISPLAY": server.name, "QT_QPA_PLATFORM": "xcb"}, cwd=ROOT,
            capture_output=True, text=True, check=True).stdout
        in_process = {name: [tuple(pair) for pair in values]
                      for name, values in json.loads(load.strip().splitlines()[-1]).items()}
        times[f"in one process: bare QTableView, {jobs:,} rows"] = in_process["bare"]
        times[f"in one process: pipeline, {jobs:,} jobs"] = in_process["view"]
        for name in SECOND_WINDOW_NAMES.values():
            times[name] = []
        for _round in range(runs):      # a first opening needs a fresh process each time
            out = subprocess.run(
                [sys.executable, "-c", SECOND_WINDOWS], cwd=ROOT, capture_output=True,
                text=True, check=True, timeout=120,
                env={**env, "DISPLAY": server.name, "QT_QPA_PLATFORM": "xcb"}).stdout
            for key, value in json.loads(out.strip().splitlines()[-1]).items():
                times[SECOND_WINDOW_NAMES[key]].append(tuple(value))
    return times


SECOND_WINDOW_NAMES = {"bare": "first opening: bare QDialog with 4 tabs",
                       "settings": "first opening: Settings",
                       "sync": "first opening: sync window"}


def print_xvfb(times: dict[str, list[tuple[float, float]]], runs: int, jobs: int) -> None:
    """Wall time (what the user waits) is the figure; CPU time beside it shows the work done,
    which other programs on the machine disturb less."""
    medians = {name: statistics.median(wall for wall, _cpu in values)
               for name, values in times.items()}
    cpu = {name: statistics.median(c for _wall, c in values) for name, values in times.items()}
    window, table = "bare PySide6 QMainWindow", f"bare QTableView, {jobs:,} rows"
    in_process = f"in one process: bare QTableView, {jobs:,} rows"
    floors = {"Peregrine main window": window, "Peregrine first-launch wizard": window,
              "plain PySide6, the same widgets": window,
              f"Peregrine, {jobs:,} jobs": table,
              f"in one process: pipeline, {jobs:,} jobs": in_process,
              SECOND_WINDOW_NAMES["settings"]: SECOND_WINDOW_NAMES["bare"],
              SECOND_WINDOW_NAMES["sync"]: SECOND_WINDOW_NAMES["bare"]}
    print(f"Under Xvfb: spawn to MapNotify of the first window ({runs} alternating runs each, "
          "medians); in one process: load and show until the table painted")
    print(f"  {'':<46} {'wall':>7} {'range':>11} {'ratio':>6}   {'CPU':>6} {'ratio':>6}")
    for name, median in medians.items():
        if name == "start command":
            continue
        walls = [wall for wall, _cpu in times[name]]
        spread = f"{min(walls) * 1000:.0f}-{max(walls) * 1000:.0f}"
        floor = floors.get(name)
        ratio = f"{median / medians[floor]:5.2f}x" if floor else ""
        cpu_ratio = f"{cpu[name] / cpu[floor]:5.2f}x" if floor else ""
        print(f"  {name:<46} {median * 1000:4.0f} ms {spread:>11} {ratio:>6}   "
              f"{cpu[name] * 1000:3.0f} ms {cpu_ratio:>6}")
    same = "plain PySide6, the same widgets"
    print(f"  Peregrine main window against {same}: "
          f"{medians['Peregrine main window'] / medians[same]:.2f}x (what is Peregrine's own)")
    if "start command" in medians:
        extra = medians["start command"] - medians["Peregrine main window"]
        print(f"  {'start command':<46} {medians['start command'] * 1000:6.0f} ms  "
              f"({extra * 1000:+.0f} ms beyond the app's own start)")


def instruction_counts(app: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="peregrine-bench-") as tmp, x_server() as server:
        env = sandbox_env(Path(tmp) / "home")
        cases = {"bare PySide6 QMainWindow": ([sys.executable, "-c", BARE_WINDOW], env),
                 "Peregrine main window": (app, env),
                 "Peregrine first-launch wizard": (app, fresh_setup_env(env, Path(tmp)))}
        server.time_to_map(app, env)    # makes the job database: the counted start opens it
        counts = {name: server.instructions_to_map(command, environment)
                  for name, (command, environment) in cases.items()}
    bare = counts["bare PySide6 QMainWindow"]
    print("Under Xvfb under callgrind: CPU instructions from spawn to MapNotify (one run each; "
          "the count is the same run after run)")
    for name, count in counts.items():
        ratio = "" if count == bare else f"  {count / bare:.2f}x"
        print(f"  {name:<46} {count / 1e6:7.1f} M{ratio}")


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--runs", type=int, default=9, help="measured runs per command (≥5)")
    parser.add_argument("--app", default=f"{shlex.quote(sys.executable)} -m peregrine_desktop",
                        help="command that starts Peregrine (default: this interpreter)")
    parser.add_argument("--bundle", help="the PyInstaller bundle's executable, to time too")
    parser.add_argument("--jobs", type=int, default=10_000, help="jobs in the loaded database")
    parser.add_argument("--start-command", help="also time this command under Xvfb (e.g. "
                        "scripts/run-app.sh), beside the app started directly")
    parser.add_argument("--skip-xvfb", action="store_true")
    parser.add_argument("--skip-offscreen", action="store_true")
    parser.add_argument("--skip-discovery", action="store_true")
    parser.add_argument("--instructions", action="store_true",
                        help="also count instructions to the first map under callgrind")
    args = parser.parse_args()
    runs = max(5, args.runs)
    app = shlex.split(args.app)

    if not args.skip_xvfb:
        try:
            import Xlib  # noqa: F401
        except ImportError:
            Xlib = None
        if shutil.which("Xvfb") is None or Xlib is None:
            print("Under Xvfb: skipped (needs Xvfb, Debian package xvfb, and python-xlib, "
                  "pip install -e '.[bench]')")
        else:
            start_command = shlex.split(args.start_command) if args.start_command else None
            print_xvfb(xvfb_startup(runs, app, args.jobs, start_command), runs, args.jobs)

    if args.instructions:
        if shutil.which("valgrind") is None or shutil.which("Xvfb") is None:
            print("Instructions: skipped (needs valgrind and Xvfb, Debian packages valgrind "
                  "and xvfb)")
        else:
            instruction_counts(app)

    if not args.skip_offscreen:
        commands = {"bare PySide6 QMainWindow": [sys.executable, "-c", BARE_WINDOW],
                    "Peregrine (pip install)": app}
        if args.bundle:
            commands["Peregrine (bundle)"] = [str(Path(args.bundle).resolve())]
        times = startup(runs, commands)
        medians = {name: statistics.median(values) for name, values in times.items()}
        bare = medians["bare PySide6 QMainWindow"]
        print(f"Offscreen: start to first paint of the main window, {runs} runs each, medians "
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
        print(f"Discovery of built-in integrations (import integrations + first use of "
              f"REGISTRY, after the stdlib modules it uses are loaded), {runs} runs, median")
        print(f"  {median_ms:.1f} ms for {last['plugins']} integrations "
              f"({last['unavailable']} unavailable), {last['modules']} new modules; "
              f"third-party packages imported: {', '.join(last['third_party']) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
