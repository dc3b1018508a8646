#!/usr/bin/env python3
"""Screenshots of every window, dialog tab and wizard page under a real X server, light and dark.

    .venv/bin/python scripts/take-screenshots.py [--out docs/screenshots] [--only NAME ...]
                                                 [--theme light|dark] [--readme]

Starts an Xvfb of its own (unless ``DISPLAY`` is set) and runs the app there (``xcb``) in a
throw-away home: demo profile, ~40 demo jobs in every stage with interviews, deadlines and next
actions, Slack, Discord, Home Assistant and Notion pointed at loopback emulators, and a plugin
file waiting for permission.  Each theme runs in its own process, the dark one through the app's
own mechanism (the desktop's colour scheme set to dark, which ``follow_color_scheme`` answers with
the app's dark palette), so every window is built in the palette it is shown in.

Windows are opened the way a person opens them (menu actions, the wizard's Next, tabs clicked)
and found generically: every tab of a dialog's tab widget, every page id of the wizard.  Each is
taken at two sizes: the main window, the wizard and the Sync window are resized to 1000×700 and
800×600; a dialog keeps its own size, capped to each.  The picture is what the X server shows
(``QScreen.grabWindow``), saved as ``<window>[-<page>]-<W>x<H>-<light|dark>.png`` where W×H is
the size asked for (the picture's own size is printed; a window that cannot shrink to it is
reported).  A window that fails is reported on stderr with the reason and the rest go on; the
exit status is 1 if any failed.  ``--only main settings-integrations`` takes only those.

``--readme`` writes the pictures README.md shows instead (``README_PICTURES``: page → file name
and size, light only), e.g. ``main-window.png`` from the pipeline table at 1100×720.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = ((1000, 700), (800, 600))
#: ``--readme``: the pictures README.md shows, by page, each at its own size (light only).
README_PICTURES = {
    "main-table": [("main-window.png", (1100, 720))],
    "main-reminder": [("pipeline-reminder.png", (1100, 720))],
    "main-board": [("pipeline-board.png", (1280, 800)),
                   ("pipeline-board-800x600.png", (800, 600))],
    "main-detail": [("pipeline-detail.png", (1280, 800))],
    "wizard-5-integrations": [("wizard-integrations.png", (800, 600))],
    "settings-integrations": [("settings-integrations.png", (1000, 700))],
    "numbers": [("pipeline-numbers.png", (640, 560))],
    "import-peregrine-preview": [("import-preview.png", (820, 600))],
    "import-peregrine-summary": [("import-summary.png", (820, 600))],
    "sync-two-way": [("sync-summary-two-way.png", (1100, 720))],
}
THEMES = ("light", "dark")
SCREEN = "1400x1000x24"       # larger than any size asked for: nothing is cut by the screen edge
JOB_COUNT = 34                # plus the six named demo jobs: ~40

POSTING = {
    "@context": "https://schema.org", "@type": "JobPosting",
    "title": "Senior Product Designer, Growth", "datePosted": "2026-11-20",
    "hiringOrganization": {"@type": "Organization", "name": "Lumen Analytics"},
    "jobLocation": {"@type": "Place", "address": {"@type": "PostalAddress",
                                                  "addressLocality": "Lisbon",
                                                  "addressCountry": "PT"}},
    "baseSalary": {"@type": "MonetaryAmount", "currency": "EUR",
                   "value": {"@type": "QuantitativeValue", "minValue": 70000,
                             "maxValue": 85000, "unitText": "YEAR"}},
    "description": "<p>Own the sign-up and onboarding journeys of a product used by 4,000 "
                   "teams.</p><ul><li>Research with customers every week</li>"
                   "<li>Prototype in Figma, ship with engineers</li></ul>",
}
CSV_TEXT = (
    "Title,Company,URL,Location,Salary,Status,Date applied\n"
    "Product Designer,Calder & Webb,https://jobs.example.com/calder/41,Remote,"
    "\"€65k–75k\",applied,2026-11-18\n"
    "UX Researcher,Mirela Health,https://jobs.example.com/mirela/7,Porto,,pending,\n"
    "Design Lead,Orchard Systems,https://jobs.example.com/orchard/3,Berlin,"
    "\"€95k–110k\",phone_screen,2026-11-02\n"
    "Interaction Designer,Tidewater,,Amsterdam,,interviewing,2026-10-28\n"
    "Senior Product Designer,Northwind Labs,https://jobs.example.com/northwind/1,Remote,,"
    "applied,2026-11-01\n"
)
PLUGIN_TEXT = '''"""A plugin of the person's own: waits in the plugins folder until allowed."""
from peregrine_sdk.base import IntegrationBase


class TeamChatIntegration(IntegrationBase):
    name = "team_chat"
    label = "Team chat"
    tier = "free"
'''


def load_script(name: str):
    """A sibling script as a module (its demo data and demo services are reused, not copied)."""
    spec = importlib.util.spec_from_file_location(name.replace("-", "_"), ROOT / "scripts" / name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def slug(text: str) -> str:
    """A file-name part from a title or tab text: "Step 3 of 5: What you…" → "what-you-…"."""
    text = re.sub(r"^Step \d+ of \d+:\s*", "", text.replace("&", ""))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:32].strip("-") or "page"


# -- the parent: an X server, one process per theme ---------------------------------------------
def start_xvfb() -> tuple[subprocess.Popen, str]:
    """An Xvfb on a display number it picks itself (-displayfd), as benchmarks/startup.py does;
    no X client of ours is needed here, only the server."""
    read_end, write_end = os.pipe()
    process = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", SCREEN,
                                "-nolisten", "tcp", "-noreset"], pass_fds=(write_end,),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as numbers:
        number = numbers.readline().strip()
    if not number:
        process.kill()
        raise SystemExit("Xvfb did not start (is the xvfb package installed?)")
    return process, f":{number}"


def sandbox_env(home: Path, display: str) -> dict[str, str]:
    """Everything the app reads or writes lives under ``home``; never the real home."""
    env = dict(os.environ)
    env.update({"HOME": str(home), "DISPLAY": display, "QT_QPA_PLATFORM": "xcb",
                "XDG_CONFIG_HOME": str(home / ".config"),
                "XDG_DATA_HOME": str(home / ".local/share"),
                "XDG_CACHE_HOME": str(home / ".cache"),
                "XDG_STATE_HOME": str(home / ".local/state"),
                "XDG_RUNTIME_DIR": str(home / "runtime"),
                "PEREGRINE_CONFIG_DIR": str(home / "config"),
                "PEREGRINE_DATA_DIR": str(home / "data"),
                "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT),
                                                            os.environ.get("PYTHONPATH"))))})
    for name in ("XAUTHORITY", "DBUS_SESSION_BUS_ADDRESS", "QT_QPA_PLATFORMTHEME",
                 "QT_STYLE_OVERRIDE", "QT_SCALE_FACTOR"):
        env.pop(name, None)
    (home / "runtime").mkdir(mode=0o700, parents=True, exist_ok=True)
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", nargs="+", default=[], metavar="NAME",
                        help="take only these windows or pages (e.g. main, wizard, "
                             "settings-integrations)")
    parser.add_argument("--theme", choices=THEMES, action="append",
                        help="light or dark (default: both)")
    parser.add_argument("--readme", action="store_true",
                        help="write the README's pictures (docs/screenshots/<name>.png, light) "
                             "instead of every window at both sizes")
    parser.add_argument("--in-theme", choices=THEMES, help=argparse.SUPPRESS)  # the child run
    args = parser.parse_args()
    out = args.out.resolve()
    if args.in_theme:
        return take_all(args.in_theme, out, args.only, args.readme)
    if args.readme:
        args.theme = ["light"]
        args.only = args.only or list(README_PICTURES)

    server = None
    display = os.environ.get("DISPLAY", "")
    if not display:
        server, display = start_xvfb()
    failed = []
    try:
        with tempfile.TemporaryDirectory(prefix="peregrine-shots-") as tmp:
            for theme in args.theme or THEMES:
                env = sandbox_env(Path(tmp) / theme, display)
                command = [sys.executable, str(Path(__file__).resolve()), "--out", str(out),
                           "--in-theme", theme]
                if args.only:
                    command += ["--only", *args.only]
                if args.readme:
                    command.append("--readme")
                code = subprocess.run(command, env=env, cwd=ROOT).returncode
                if code:
                    failed.append(theme)
                    if code != 1:
                        print(f"the {theme} run ended abnormally (exit status {code}); its "
                              "remaining windows were not taken", file=sys.stderr)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
    if failed:
        print(f"some windows failed ({', '.join(failed)}): see the messages above",
              file=sys.stderr)
    return 1 if failed else 0


# -- the child: the app in one theme --------------------------------------------------------------
@dataclass
class Page:
    """One picture's content: the top-level widget, shown, with the page already chosen."""

    name: str
    widget: Any
    exact: bool          # resize to the size asked for (else: own size, capped to it)


@dataclass
class Shot:
    name: str
    pages: Callable[["Scene"], Iterator[Page]]


@dataclass
class Scene:
    app: Any                     # peregrine_desktop.app.Application
    qt: Any                      # QApplication
    theme: str
    home: Path
    demo: Any                    # scripts/screenshot_demo.py, the demo data
    servers: list = field(default_factory=list)
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    problems: list[str] = field(default_factory=list)   # message boxes that appeared

    @property
    def window(self):  # noqa: ANN201
        return self.app.window

    @property
    def pipeline(self):  # noqa: ANN201
        return self.app.window.pipeline


def wait(ms: int) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up after {timeout:g} s waiting for {what}")
        wait(20)


def visible_windows() -> list:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QMenu

    popups = (Qt.WindowType.Popup, Qt.WindowType.ToolTip)
    return [w for w in QApplication.topLevelWidgets()
            if w.isVisible() and not isinstance(w, QMenu) and w.windowType() not in popups]


def new_window(trigger: Callable[[], object], what: str):
    """Run ``trigger`` (a menu action, a button) and return the window it opened."""
    before = set(visible_windows())
    trigger()
    found: list = []

    def opened() -> bool:
        found[:] = [w for w in visible_windows() if w not in before]
        return bool(found)

    wait_until(opened, f"{what} to open", timeout=10)
    return found[-1]


def action(window, label: str):
    """The menu-bar action whose text (without mnemonics) starts with ``label``: what a person
    would click, found by its words so a renamed attribute does not matter."""
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        for item in menu.actions() if menu is not None else ():
            if item.text().replace("&", "").lower().startswith(label.lower()):
                return item
    raise RuntimeError(f"no menu item starting with “{label}” in the main window")


def tab_widget(widget):
    """The outermost tab widget of a window, or None."""
    from PySide6.QtWidgets import QTabWidget

    tabs = widget.findChildren(QTabWidget)
    for candidate in tabs:
        parent = candidate.parentWidget()
        while parent is not None and not isinstance(parent, QTabWidget):
            parent = parent.parentWidget()
        if parent is None:
            return candidate
    return tabs[0] if tabs else None


def each_tab(widget, exact: bool = False, prepare: Callable[[Any, str], None] | None = None
             ) -> Iterator[Page]:
    """Every tab of the window's tab widget (or the window itself when it has none)."""
    tabs = tab_widget(widget)
    if tabs is None:
        yield Page("", widget, exact)
        return
    for index in range(tabs.count()):
        name = slug(tabs.tabText(index))
        tabs.setCurrentIndex(index)
        if prepare is not None:
            prepare(tabs.widget(index), name)
        yield Page(name, widget, exact)


def close(widget) -> None:
    """Hide and delete: no close event, so nothing asks whether to discard edits."""
    widget.hide()
    widget.deleteLater()
    wait(50)


def one_page(dialog, ready: Callable[[], bool] | None = None, what: str = "") -> Iterator[Page]:
    """The picture of a single-page ``dialog`` once ``ready()`` holds; then it is closed."""
    try:
        if ready is not None:
            wait_until(ready, what, 15)
        yield Page("", dialog, False)
    finally:
        close(dialog)


# -- the windows ----------------------------------------------------------------------------------
def main_window(scene: Scene) -> Iterator[Page]:
    """The reminder banner (and the waiting plugin's note) as they greet the person, then each
    view with those dismissed."""
    from PySide6.QtWidgets import QPushButton

    window, view = scene.window, scene.pipeline
    action(window, "Table").trigger()
    if view.details_action.isChecked():
        view.details_action.trigger()
    banner = window.reminder_banner
    if banner is not None:
        wait_until(banner.isVisible, "the reminder banner", 10)
    yield Page("reminder", window, True)
    for button in window.findChildren(QPushButton):
        if button.text().replace("&", "") == "Dismiss" and button.isVisible():
            button.click()
    yield Page("table", window, True)
    action(window, "Board").trigger()
    yield Page("board", window, True)
    action(window, "Table").trigger()
    job = next(j for j in view.repository.list_jobs(with_history=False)
               if j["title"] == "Senior Product Designer")
    view.select_job(job["id"])
    if not view.details_action.isChecked():
        view.details_action.trigger()
    yield Page("detail", window, True)
    view.details_action.trigger()


def wizard(scene: Scene) -> Iterator[Page]:
    """A first launch: a fresh config (nothing answered yet), walked with Next; a page that
    refuses is taken as it is (its problems shown), then given the demo answers."""
    from peregrine_desktop.settings.profile import UserProfile
    from peregrine_desktop.ui.wizard import SetupWizard

    config_dir = scene.home / "fresh-config"
    config_dir.mkdir(parents=True, exist_ok=True)
    profile = UserProfile(config_dir / "user.yaml", read=False)
    profile.update(wizard_complete=False, wizard_step=0)
    profile.save()
    setup = SetupWizard(profile, config_dir)
    setup.show()
    try:
        ids = list(setup.pageIds())
        for number, page_id in enumerate(ids, 1):
            wait_until(lambda: setup.currentId() == page_id, f"wizard page {page_id}", 5)
            page = setup.currentPage()
            name = f"{number}-{slug(page.title())}"
            yield Page(name, setup, True)
            if number == len(ids):
                break
            setup.next()
            if setup.currentId() == page_id:
                yield Page(f"{name}-refused", setup, True)
                scene.problems.append(f"wizard page “{page.title()}” refused Next on a fresh "
                                      "config; given the demo answers")
                answers = {k: v for k, v in scene.demo.DEMO_PROFILE.items()
                           if not k.startswith("wizard")}
                profile.update(**answers)
                page.initializePage()
                setup.next()
                if setup.currentId() == page_id:
                    raise RuntimeError(f"wizard page “{page.title()}” refused Next even with "
                                       "the demo answers")
    finally:
        close(setup)


def settings(scene: Scene) -> Iterator[Page]:
    dialog = new_window(action(scene.window, "Settings").trigger, "Settings")

    def prepare(tab, name: str) -> None:
        if name.startswith("integrations"):
            test_all(dialog)                    # the statuses shown are real test results
            select_service(tab, "Discord")      # saved with a failing webhook

    try:
        yield from each_tab(dialog, prepare=prepare)
    finally:
        close(dialog)


def test_all(dialog) -> None:
    """Press Test all and wait for every connection's answer (the emulators reply at once)."""
    panel = dialog.integrations
    finished: list[bool] = []
    panel.all_tests_finished.connect(lambda *_: finished.append(True))
    if panel.test_all():
        wait_until(lambda: bool(finished), "Test all to finish", 30)


def select_service(tab, label: str) -> None:
    """Select a connected service in a list of services (the first row if it is missing)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QAbstractItemView

    for view in tab.findChildren(QAbstractItemView):
        model = view.model()
        if model is None or not model.rowCount():
            continue
        matches = model.match(model.index(0, 0), Qt.ItemDataRole.DisplayRole, label, 1,
                              Qt.MatchFlag.MatchContains)
        index = matches[0] if matches else model.index(0, 0)
        view.setCurrentIndex(index)
        view.scrollTo(index)          # as clicking it (or the arrow keys) would leave it
        return


def sync(scene: Scene) -> Iterator[Page]:
    item = action(scene.window, "Sync now")
    wait_until(item.isEnabled, "Sync now… to be enabled (after plugin discovery)")
    dialog = new_window(item.trigger, "the Sync window")
    try:
        yield Page("", dialog, True)
    finally:
        dialog.hide()           # kept by the app for its lifetime


#: The two-way sync's jobs: title, company, stage, place.
SYNC_JOBS = [
    ("Senior Python Engineer", "Globex", "approved", "Berlin"),
    ("Site Reliability Engineer", "Initech", "applied", "Remote (EU)"),
    ("Data Platform Lead", "Umbrella", "applied", "Lisbon"),
    ("Staff Engineer, Payments", "Hooli", "phone_screen", "Amsterdam"),
    ("Backend Developer", "ACME", "approved", "Hamburg"),
]


def sync_two_way(scene: Scene) -> Iterator[Page]:
    """The Sync window's summary after a second sync: edits taken in from Notion and Airtable,
    notes changed on both sides, a row added in Airtable and a page deleted in Notion — in a
    folder and database of their own, against emulators of their own (the demo's stay)."""
    from integrations.airtable import AirtableIntegration
    from integrations.notion import NotionIntegration
    from peregrine_desktop.jobs.repository import JobRepository
    from peregrine_desktop.jobs.store import JobStore
    from peregrine_desktop.ui.sync_panel import SyncDialog
    from peregrine_sdk.testkit import pointed_at
    from tests.fakes.loopback import LoopbackServer
    from tests.fakes.tracker_services import AirtableService, NotionService

    folder = scene.home / "sync-two-way"
    config_dir = folder / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:        # the demo's Notion address comes back after
        n_server = stack.enter_context(LoopbackServer())
        a_server = stack.enter_context(LoopbackServer())
        notion, airtable = NotionService(n_server), AirtableService(a_server)
        for cls, server in ((NotionIntegration, n_server), (AirtableIntegration, a_server)):
            stack.enter_context(pointed_at(cls, server.url))
            stack.callback(setattr, cls, "per_second", cls.per_second)
            cls.per_second = None
        NotionIntegration.save_config({"token": notion.token, "database_id": notion.database_id,
                                       "key_column": "Peregrine ID"}, config_dir)
        AirtableIntegration.save_config({"token": airtable.token, "base_id": airtable.base_id,
                                         "table": "Jobs", "key_column": "Peregrine ID"},
                                        config_dir)
        store = JobStore(folder / "jobs.sqlite3")
        stack.callback(store.close)
        jobs = [store.add_job({"title": t, "company": c, "status": s, "location": where,
                               "url": f"https://jobs.example/{i}", "salary": "€85,000"})
                for i, (t, c, s, where) in enumerate(SYNC_JOBS)]
        dialog = SyncDialog(store, config_dir, "paid", repository=JobRepository(store),
                            load_jobs=lambda: store.list_jobs(with_history=False))
        stack.callback(close, dialog)
        dialog.show()

        def synced() -> None:
            done: list[object] = []
            dialog.panel.sync_finished.connect(done.append)
            dialog.panel.start_sync()
            wait_until(lambda: bool(done), "a sync to finish", 30)
        synced()
        page = notion.page_for(jobs[1]["uid"])["id"]         # what changed in the trackers…
        notion.edit(page, "Status", "Interviewing")
        notion.edit(page, "Notes", "Phone screen went well; onsite next week")
        notion.edit(notion.page_for(jobs[3]["uid"])["id"], "Notes",
                    "Recruiter: call back Friday")
        notion.trash(notion.page_for(jobs[4]["uid"])["id"])
        airtable.edit(airtable.record_for(jobs[2]["uid"])["id"], Salary="€95,000")
        airtable.add_row(Name="Platform Engineer", Company="Stark Industries")
        store.update_job(jobs[3]["id"], {"notes": "Sent the portfolio"})     # …and here
        synced()
        summary = dialog.panel.summary
        for index in range(summary.topLevelItemCount()):      # the long lists folded
            top = summary.topLevelItem(index)
            for child in range(top.childCount()):
                if top.child(child).text(0).startswith(("Created", "Updated")):
                    top.child(child).setExpanded(False)
        yield Page("", dialog, True)


def add_job(scene: Scene) -> Iterator[Page]:
    """Empty, then after Save with no title and an address without its https:// (each problem
    under its field)."""
    dialog = new_window(action(scene.window, "Add job").trigger, "the Add job dialog")
    try:
        yield from each_tab(dialog)
        dialog.form.url.setText("jobs.example/123")
        dialog.try_save()
        yield Page("problems", dialog, False)
    finally:
        close(dialog)


def edit_job(scene: Scene) -> Iterator[Page]:
    view = scene.pipeline
    job = next(j for j in view.repository.list_jobs(with_history=False)
               if j["title"] == "Senior Product Designer")
    view.select_job(job["id"])
    dialog = new_window(view.edit_selected, "the Edit job dialog")
    try:
        yield from each_tab(dialog)
    finally:
        close(dialog)


def url_import(scene: Scene) -> Iterator[Page]:
    """Add from a posting's address, with the address on the clipboard (the dialog fetches it)."""
    from PySide6.QtGui import QGuiApplication

    from tests.fakes.loopback import LoopbackServer, Reply

    server = LoopbackServer().start()
    scene.servers.append(server)
    body = ("<!doctype html><html><head><meta charset='utf-8'><title>Careers</title>"
            f"<script type='application/ld+json'>{json.dumps(POSTING)}</script></head>"
            "<body><h1>Senior Product Designer</h1></body></html>").encode()
    server.route("GET", "/careers/42")(lambda _r, _m: Reply(
        200, body, {"Content-Type": "text/html; charset=utf-8"}))
    QGuiApplication.clipboard().setText(server.url + "/careers/42")
    dialog = new_window(scene.pipeline.import_url_action.trigger, "the URL import dialog")
    yield from one_page(dialog, dialog.fetch_button.isEnabled, "the posting to be read")


def csv_import(scene: Scene) -> Iterator[Page]:
    """The CSV import preview of a five-row file (what Browse… and a dropped file lead to)."""
    path = scene.home / "Documents" / "applications.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CSV_TEXT, encoding="utf-8")
    dialog = new_window(lambda: scene.pipeline.open_csv_import(str(path)),
                        "the CSV import dialog")
    yield from one_page(dialog, lambda: dialog.plan is not None, "the CSV preview")


def import_peregrine(scene: Scene) -> Iterator[Page]:
    """Import from Peregrine: the first page, then the preview of a web install built as the
    tests build it."""
    from tests.fakes.peregrine_web import docker_install

    dialog = new_window(action(scene.window, "Import from Peregrine").trigger,
                        "the Import from Peregrine dialog")
    try:
        yield Page("choose", dialog, False)
        install = scene.home / "peregrine"
        docker_install(install, scene.home / "Documents" / "JobSearch")
        first = dialog.pages.currentIndex()
        dialog.load_preview(str(install))
        wait_until(lambda: dialog.pages.currentIndex() != first
                   and dialog.pages.currentWidget().isVisible(), "the import preview", 20)
        wait(200)
        yield Page("preview", dialog, False)
    finally:
        close(dialog)
    yield from import_summary(scene, install)


def import_summary(scene: Scene, install: Path) -> Iterator[Page]:
    """The summary of an import into a folder of its own: the demo's jobs and settings, which
    the later windows show, stay as they are."""
    from peregrine_desktop.jobs.store import JobStore
    from peregrine_desktop.settings.profile import UserProfile
    from peregrine_desktop.ui.import_dialog import ImportDialog

    target = scene.home / "import-target"
    (target / "config").mkdir(parents=True, exist_ok=True)
    store = JobStore(target / "data" / "jobs.sqlite3")
    dialog = ImportDialog(target / "config", store,
                          UserProfile(target / "config" / "user.yaml", read=False))
    dialog.show()
    try:
        first = dialog.pages.currentIndex()
        dialog.load_preview(str(install))
        wait_until(lambda: dialog.pages.currentIndex() != first, "the import preview", 20)
        dialog.start_import()
        wait_until(lambda: dialog.summary is not None, "the import summary", 30)
        wait(200)
        yield Page("summary", dialog, False)
    finally:
        close(dialog)
        store.close()


def numbers(scene: Scene) -> Iterator[Page]:
    dialog = new_window(action(scene.window, "Numbers").trigger, "Numbers")
    yield from one_page(dialog, lambda: dialog.stats is not None, "the numbers")


def shortcuts(scene: Scene) -> Iterator[Page]:
    yield from one_page(new_window(action(scene.window, "Keyboard shortcuts").trigger,
                                   "Keyboard shortcuts"))


def activity_log(scene: Scene) -> Iterator[Page]:
    item = action(scene.window, "Activity log")
    wait_until(item.isEnabled, "the activity log to be enabled (after plugin discovery)")
    yield from one_page(new_window(item.trigger, "the Activity log"))


SHOTS = [
    Shot("main", main_window),
    Shot("wizard", wizard),
    Shot("settings", settings),
    Shot("sync", sync),
    Shot("sync-two-way", sync_two_way),
    Shot("add-job", add_job),
    Shot("edit-job", edit_job),
    Shot("url-import", url_import),
    Shot("csv-import", csv_import),
    Shot("import-peregrine", import_peregrine),
    Shot("numbers", numbers),
    Shot("shortcuts", shortcuts),
    Shot("activity-log", activity_log),
]


# -- the demo data ----------------------------------------------------------------------------------
def seed(home: Path, demo) -> None:
    """Demo profile (setup finished, on the Paid plan), ~40 jobs in every stage with histories,
    interviews, deadlines and next actions, services on loopback emulators, a waiting plugin."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from pipeline_view import demo_jobs

    from peregrine_desktop.jobs.store import JobStore
    from peregrine_desktop.settings import paths
    from peregrine_desktop.settings.profile import UserProfile

    config_dir = paths.config_dir()
    config_dir.mkdir(parents=True, exist_ok=True)
    profile = UserProfile(config_dir / "user.yaml", read=False)
    profile.update(**demo.DEMO_PROFILE)
    profile.save()
    demo.activate_demo_licence(profile)
    store = JobStore.open_default()
    store.add_many(demo.demo_jobs() + demo_jobs(JOB_COUNT))
    store.close()
    demo.connect_demo_services(config_dir)
    plugins = config_dir / "plugins"
    plugins.mkdir(exist_ok=True)
    (plugins / "team_chat.py").write_text(PLUGIN_TEXT, encoding="utf-8")


def connect_tracker(scene: Scene, config_dir: Path) -> None:
    """Notion on its loopback emulator, so the Sync window has a tracker to show."""
    from integrations.notion import NotionIntegration
    from peregrine_sdk.testkit import pointed_at
    from tests.fakes.loopback import LoopbackServer
    from tests.fakes.tracker_services import NotionService

    server = LoopbackServer().start()
    scene.servers.append(server)
    notion = NotionService(server)
    scene.stack.enter_context(pointed_at(NotionIntegration, server.url))  # for the whole run
    NotionIntegration.save_config({"token": notion.token, "database_id": notion.database_id,
                                   "key_column": "Peregrine ID"}, config_dir)


def start_app(theme: str, home: Path, demo) -> Scene:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from peregrine_desktop import APP_NAME, ORG_NAME
    from peregrine_desktop.app import Application
    from peregrine_desktop.lifecycle.appearance import (apply_app_identity, follow_color_scheme,
                                                        is_dark)

    QApplication.setOrganizationName(ORG_NAME)
    QApplication.setApplicationName(APP_NAME)
    qt = QApplication.instance() or QApplication(sys.argv[:1])
    apply_app_identity(qt)
    follower = follow_color_scheme(qt)
    scheme = Qt.ColorScheme.Dark if theme == "dark" else Qt.ColorScheme.Light
    qt.styleHints().setColorScheme(scheme)     # what a desktop switched to dark tells the app
    wait(50)
    if (theme == "dark") != is_dark(qt.palette()):
        follower.apply(scheme)     # this platform theme ignores the request: the same answer
    qt._scheme_follower = follower
    if (theme == "dark") != is_dark(qt.palette()):
        raise SystemExit(f"the {theme} palette could not be applied")
    scene = Scene(None, qt, theme, home, demo)
    seed(home, demo)
    from peregrine_desktop.settings import paths

    connect_tracker(scene, paths.config_dir())
    scene.app = Application()
    scene.app.start()
    wait_until(lambda: scene.app.hub is not None, "plugin discovery", 30)
    return scene


def watch_message_boxes(scene: Scene):
    """A message box opened with exec() would stop the run: note it and dismiss it."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    def check() -> None:
        for box in QApplication.topLevelWidgets():
            if isinstance(box, QMessageBox) and box.isVisible():
                scene.problems.append(f"a message box appeared: “{box.windowTitle()}”: "
                                      f"{box.text()}")
                box.reject()

    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(300)
    return timer


def wanted(full: str, only: list[str]) -> bool:
    return not only or any(full == n or full.startswith(n + "-") for n in only)


def grab(page: Page, size: tuple[int, int], natural: tuple[int, int], path: Path) -> str:
    """Resize, let it paint on the X server, take what the server shows; a note if it is not
    the size asked for."""
    from PySide6.QtTest import QTest

    width, height = size if page.exact else (min(natural[0], size[0]), min(natural[1], size[1]))
    widget = page.widget
    widget.resize(width, height)
    widget.move(0, 0)
    widget.raise_()
    if not QTest.qWaitForWindowExposed(widget, 5000):
        raise RuntimeError("the window was not exposed on the X server within 5 s")
    wait(250)                    # layouts settle and repaint over a few event-loop passes
    image = widget.screen().grabWindow(widget.winId()).toImage()
    if image.isNull() or image.width() < 50:
        raise RuntimeError("the X server returned no picture of the window")
    if not image.save(str(path)):
        raise RuntimeError(f"could not write {path}")
    note = ""
    if image.width() > size[0] or image.height() > size[1]:
        note = f"  does not fit {size[0]}×{size[1]}"
    print(f"{path.name}  {image.width()}x{image.height()}{note}")
    return note


def take_all(theme: str, out: Path, only: list[str], readme: bool = False) -> int:
    home = Path(os.environ["HOME"])
    if Path.home() != home or "PEREGRINE_CONFIG_DIR" not in os.environ:
        raise SystemExit("the theme run needs the sandbox the parent process makes")
    out.mkdir(parents=True, exist_ok=True)
    demo = load_script("screenshot_demo.py")
    scene = start_app(theme, home, demo)
    watcher = watch_message_boxes(scene)   # noqa: F841 - runs while the shots are taken
    failures = 0
    for shot in SHOTS:
        if only and not any(n == shot.name or n.startswith(shot.name + "-")
                            or shot.name.startswith(n + "-") for n in only):
            continue
        scene.problems.clear()
        natural: dict[int, tuple[int, int]] = {}
        current = shot.name
        try:
            for page in shot.pages(scene):
                current = f"{shot.name}-{page.name}" if page.name else shot.name
                if not wanted(current, only):
                    continue
                size = page.widget.size()
                natural.setdefault(id(page.widget), (size.width(), size.height()))
                pictures = README_PICTURES.get(current, []) if readme else [
                    (f"{current}-{width}x{height}-{theme}.png", (width, height))
                    for width, height in SIZES]
                for name, size in pictures:
                    grab(page, size, natural[id(page.widget)], out / name)
        except Exception as exc:  # noqa: BLE001 - one broken window must not stop the others
            failures += 1
            where = traceback.extract_tb(exc.__traceback__)[-1]
            print(f"FAILED {current} ({theme}): {type(exc).__name__}: {exc} "
                  f"[{Path(where.filename).name}:{where.lineno}]", file=sys.stderr)
        for problem in scene.problems:
            print(f"note {shot.name} ({theme}): {problem}", file=sys.stderr)
        for window in visible_windows():          # a failed shot may leave its window open
            if window is not scene.window and window is not getattr(scene.app, "sync_dialog",
                                                                    None):
                close(window)
    scene.window.hide()
    scene.app.shutdown()
    for server in scene.servers:
        server.stop()
    scene.stack.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
