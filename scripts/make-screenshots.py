#!/usr/bin/env python3
"""Render the README's screenshots: the app offscreen, at fixed sizes, on a demo data set.

    python scripts/make-screenshots.py [--out docs/screenshots]

Everything runs in a throw-away home (demo profile, demo jobs, one demo integration saved), with
the Fusion style, its light palette and a fixed font, so a re-run changes a picture only when
the app's look changed.  To add a picture, append a ``Shot`` to ``SHOTS``: a file name, a size
and a function that builds the widget from the demo ``Scene``.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEMO_PROFILE = {
    "name": "Alex Rivera", "email": "alex.rivera@example.com", "phone": "+1 555 0100",
    "linkedin": "https://www.linkedin.com/in/alex-rivera-demo",
    "career_summary": "Product designer with eight years in B2B software.",
    "wizard_complete": True, "wizard_step": 4,
    "target_titles": ["Senior Product Designer", "UX Lead"],
    "target_locations": ["Remote", "Lisbon"], "exclude_keywords": ["crypto"],
}
DEMO_JOBS = [
    {"title": "Senior Product Designer", "company": "Northwind Labs", "location": "Remote",
     "status": "interviewing", "url": "https://jobs.example.com/northwind/1"},
    {"title": "UX Lead", "company": "Blue Harbor", "location": "Lisbon", "status": "applied",
     "url": "https://jobs.example.com/blue-harbor/7"},
    {"title": "Design Systems Designer", "company": "Fennel & Co", "location": "Remote (EU)",
     "status": "phone_screen", "url": "https://jobs.example.com/fennel/3"},
    {"title": "Product Designer, Payments", "company": "Quayside", "location": "Porto",
     "status": "pending", "url": "https://jobs.example.com/quayside/12"},
    {"title": "Staff Designer", "company": "Kestrel Health", "location": "Remote",
     "status": "offer", "url": "https://jobs.example.com/kestrel/5"},
    {"title": "UX Designer", "company": "Orbit Freight", "location": "Madrid",
     "status": "rejected", "url": "https://jobs.example.com/orbit/9"},
]


@dataclass
class Scene:
    """The demo data every shot is built from."""

    config_dir: Path
    profile: object  # UserProfile


@dataclass
class Shot:
    filename: str
    size: tuple[int, int]
    build: Callable[[Scene], object]  # returns the QWidget to render


def main_window(scene: Scene):
    from peregrine_desktop.jobs.repository import JobRepository
    from peregrine_desktop.jobs.store import JobStore
    from peregrine_desktop.ui.main_window import MainWindow

    return MainWindow(scene.profile, scene.config_dir, JobRepository(JobStore.open_default()))


def wizard_integrations(scene: Scene):
    from peregrine_desktop.ui.wizard import INTEGRATIONS, SetupWizard

    wizard = SetupWizard(scene.profile, scene.config_dir)
    wizard.resize(760, 640)
    wizard.show()  # a QWizard has no current page until shown
    wizard.resume()
    assert wizard.currentId() == INTEGRATIONS, "the demo profile should resume at step 5"
    return wizard


def settings_integrations(scene: Scene):
    """Settings after "Test all" against loopback emulators of Slack, Discord and Home
    Assistant (tests/fakes): the statuses shown are real test results, one a failure."""
    from PySide6.QtCore import QEventLoop, QTimer

    from peregrine_desktop.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(scene.profile, scene.config_dir)
    dialog.tabs.setCurrentWidget(dialog._integrations_tab)
    panel = dialog.integrations
    loop = QEventLoop()
    panel.all_tests_finished.connect(loop.quit)
    QTimer.singleShot(20_000, loop.quit)
    if panel.test_all():
        loop.exec()
    panel.accounts.select("discord")    # the failing one: its page shows why, beside Test
    return dialog


def _pipeline_window(scene: Scene, mode: str, details: bool, select: str | None = None):
    window = main_window(scene)
    view = window.pipeline
    view.set_mode(mode)
    view.details_action.setChecked(details)
    if select:
        job = next(j for j in view.repository.list_jobs(with_history=False)
                   if j["title"] == select)
        view.select_job(job["id"])
        view._show_detail()
    return window


def pipeline_board(scene: Scene):
    return _pipeline_window(scene, "board", False, "UX Lead")


def pipeline_detail(scene: Scene):
    return _pipeline_window(scene, "table", True, "Senior Product Designer")


def pipeline_reminder(scene: Scene):
    """The banner a reminder raises inside the window (on this headless machine there is no
    tray and no notification service, so the banner is what shows)."""
    window = _pipeline_window(scene, "table", False)
    window.start_reminders()
    return window


def pipeline_numbers(scene: Scene):
    from PySide6.QtCore import QEventLoop, QTimer

    window = main_window(scene)
    window.pipeline.show_dashboard()
    dialog = window.pipeline.active_dialog
    loop = QEventLoop()
    QTimer.singleShot(10_000, loop.quit)
    poll = QTimer()
    poll.timeout.connect(lambda: loop.quit() if dialog.stats is not None else None)
    poll.start(20)
    loop.exec()
    dialog._window = window      # keep the parent alive while the dialog is drawn
    return dialog


def _import_dialog(until_summary: bool):
    """Import from Peregrine on a web install built as the tests build it (tests/fakes), into
    a folder of its own (the demo profile is already complete)."""
    from PySide6.QtCore import QEventLoop, QTimer

    from peregrine_desktop.jobs.store import JobStore
    from peregrine_desktop.ui.import_dialog import PREVIEW, SUMMARY, ImportDialog
    from tests.fakes.peregrine_web import docker_install

    home = Path(os.environ["HOME"])
    install = home / "peregrine"
    if not install.exists():
        docker_install(install, home / "Documents" / "JobSearch")
    target = home / ("import-summary" if until_summary else "import-preview")
    dialog = ImportDialog(target / "config", JobStore(target / "data" / "jobs.sqlite3"))
    dialog.resize(820, 600)

    def wait_for(page: int) -> None:
        loop = QEventLoop()
        timer = QTimer()
        timer.timeout.connect(lambda: loop.quit() if dialog.pages.currentIndex() == page
                              else None)
        timer.start(20)
        QTimer.singleShot(20_000, loop.quit)
        loop.exec()

    dialog.load_preview(str(install))
    wait_for(PREVIEW)
    if until_summary:
        dialog.start_import()
        wait_for(SUMMARY)
    return dialog


SHOTS = [
    Shot("main-window.png", (1100, 720), main_window),
    Shot("pipeline-board.png", (1280, 800), pipeline_board),
    Shot("pipeline-board-800x600.png", (800, 600), pipeline_board),
    Shot("pipeline-detail.png", (1280, 800), pipeline_detail),
    Shot("pipeline-detail-800x600.png", (800, 600), pipeline_detail),
    Shot("pipeline-reminder.png", (1100, 720), pipeline_reminder),
    Shot("pipeline-numbers.png", (640, 560), pipeline_numbers),
    Shot("wizard-integrations.png", (800, 600), wizard_integrations),
    Shot("settings-integrations.png", (1000, 700), settings_integrations),
    Shot("import-preview.png", (820, 600), lambda _scene: _import_dialog(False)),
    Shot("import-summary.png", (820, 600), lambda _scene: _import_dialog(True)),
]


def demo_scene(home: Path) -> Scene:
    from peregrine_desktop.settings import paths
    from peregrine_desktop.settings.profile import UserProfile

    paths.set_overrides(home / "config", home / "data")
    config_dir = paths.config_dir()
    profile = UserProfile(config_dir / "user.yaml", read=False)
    profile.update(**DEMO_PROFILE)
    profile.save()
    activate_demo_licence(profile)
    seed_jobs()
    connect_demo_services(config_dir)
    return Scene(config_dir, profile)


def activate_demo_licence(profile: object) -> None:
    """The demo is on the Paid plan through a key, as a customer's would be: signed by a key
    pair made for this run (the app is told to trust it; the publisher's key is not needed)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from peregrine_desktop.settings import licence

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    licence.use_public_key(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    profile.activate_licence(licence.issue_token(private, "paid", 365))


def demo_jobs(count: int = 300) -> list[dict]:
    """The named demo jobs plus ``count`` generated ones (fixed seed: the same every run)."""
    import random

    rng = random.Random(7)
    titles = ["Product Designer", "UX Researcher", "Design Lead", "Interaction Designer",
              "Visual Designer", "Content Designer", "Design Manager", "UX Engineer"]
    companies = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark",
                 "Wayne", "Tyrell", "Cyberdyne", "Soylent", "Aperture", "Monarch", "Gringotts"]
    places = ["Remote", "Lisbon", "Berlin", "Porto", "Madrid", "Remote (EU)", "Amsterdam"]
    statuses = ["pending"] * 6 + ["approved"] * 3 + ["applied"] * 4 + ["phone_screen", "rejected",
                                                                        "interviewing", "offer"]
    from datetime import date, timedelta

    today = date.today()
    jobs = [dict(job) for job in DEMO_JOBS]
    jobs[0].update(next_action_on=(today - timedelta(days=1)).isoformat(),
                   next_action_note="Send the portfolio link to Dana",
                   interview_at=f"{today + timedelta(days=2)}T15:00:00+00:00",
                   interview_tz="Europe/Lisbon")
    jobs[1].update(next_action_on=today.isoformat(), next_action_note="Follow up with the recruiter")
    jobs[3].update(deadline=(today + timedelta(days=3)).isoformat())
    for i in range(count):
        company = rng.choice(companies)
        status = rng.choice(statuses)
        job = {"title": f"{rng.choice(['Senior ', '', 'Staff ', 'Lead '])}{rng.choice(titles)}",
               "company": f"{company} {rng.choice(['Labs', 'Inc', 'GmbH', 'Studio'])}",
               "location": rng.choice(places), "status": status,
               "source": rng.choice(["LinkedIn", "Referral", "Company site", "Otta"]),
               "url": f"https://jobs.example.com/{company.lower()}/{1000 + i}"}
        if rng.random() < 0.5:
            low = rng.randrange(55, 120, 5)
            job["salary"] = f"€{low}k–{low + 15}k"
        if status == "interviewing":
            job["interview_at"] = f"2026-12-{rng.randrange(1, 18):02d}T{rng.randrange(9, 17)}:00+01:00"
            job["interview_tz"] = "Europe/Lisbon"
        jobs.append(job)
    return jobs


def seed_jobs() -> None:
    try:
        from peregrine_desktop.jobs.store import JobStore
        store = JobStore.open_default()
        store.add_many(demo_jobs())
    except Exception as exc:  # noqa: BLE001 - pictures without jobs beat no pictures
        print(f"note: demo jobs not added ({type(exc).__name__}: {exc})", file=sys.stderr)


_servers: list = []


def connect_demo_services(config_dir: Path) -> None:
    """Save Slack, Discord and Home Assistant pointed at loopback emulators (Discord's webhook
    deleted, so one card shows what a failure looks like)."""
    from integrations.discord import DiscordIntegration
    from integrations.homeassistant import HomeAssistantIntegration
    from integrations.slack import SlackIntegration
    from tests.fakes.loopback import LoopbackServer
    from tests.fakes.notifier_services import (discord_service, homeassistant_service,
                                               slack_service)

    slack, discord, ha = (LoopbackServer().start() for _ in range(3))
    _servers.extend((slack, discord, ha))
    hook = slack_service(slack)
    webhook = discord_service(discord)
    webhook.deleted = True
    home = homeassistant_service(ha)
    SlackIntegration.save_config({"webhook_url": hook.url}, config_dir)
    DiscordIntegration.save_config({"webhook_url": webhook.url}, config_dir)
    HomeAssistantIntegration.save_config({"base_url": home.url, "token": home.token,
                                          "notify_service": "mobile_app_pixel_7"},
                                         config_dir)


def render(out: Path, only: Sequence[str] = ()) -> list[Path]:
    from PySide6.QtGui import QFont, QGuiApplication
    from PySide6.QtWidgets import QApplication

    from peregrine_desktop import APP_NAME, ORG_NAME
    from peregrine_desktop.lifecycle.appearance import apply_app_identity

    QApplication.setOrganizationName(ORG_NAME)
    QApplication.setApplicationName(APP_NAME)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    app.setPalette(app.style().standardPalette())
    app.setFont(QFont("DejaVu Sans", 10))
    apply_app_identity(app)
    scene = demo_scene(Path(os.environ["HOME"]))
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for shot in SHOTS:
        if only and shot.filename not in only:
            continue
        widget = shot.build(scene)
        widget.resize(*shot.size)
        widget.show()
        for _ in range(5):  # layouts settle over a few event-loop passes
            app.processEvents()
        image = widget.grab().toImage()
        ratio = QGuiApplication.primaryScreen().devicePixelRatio()
        path = out / shot.filename
        if not image.save(str(path)):
            raise SystemExit(f"could not write {path}")
        written.append(path)
        print(f"{path}  {image.width()}x{image.height()} (scale {ratio:g})")
        widget.close()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", nargs="+", default=(), metavar="FILE",
                        help="render only these pictures (file names, e.g. import-preview.png)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="peregrine-screens-") as home:
        os.environ.update({"QT_QPA_PLATFORM": "offscreen", "HOME": home,
                           "XDG_CONFIG_HOME": f"{home}/.config",
                           "XDG_DATA_HOME": f"{home}/.local/share",
                           "XDG_RUNTIME_DIR": f"{home}/runtime"})
        os.makedirs(f"{home}/runtime", mode=0o700)
        for var in ("PEREGRINE_CONFIG_DIR", "PEREGRINE_DATA_DIR"):
            os.environ.pop(var, None)
        render(args.out.resolve(), args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
