"""``peregrine-desktop --self-check``: prove this installation works, without a screen.

Opens the main window offscreen, loads every integration, builds Settings (a card per
integration) and the setup wizard, checks SQLite, HTTPS certificates and the keyring backend,
prints one line per check and exits 0 — or 1, naming what failed.  Frozen bundles lose modules
and metadata silently (an integration's lazy import, keyring's backends found through entry
points), which is exactly what this catches.  It runs on a temporary config and data folder
unless ``--config-dir`` / ``--data-dir`` are given, so it never changes your settings.
"""
from __future__ import annotations

import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from peregrine_desktop import APP_NAME, __version__
from peregrine_desktop.settings import paths

PAINT_TIMEOUT_MS = 10_000


class CheckFailed(Exception):
    """A check's finding, phrased for the report."""


@dataclass
class CheckResult:
    name: str
    ok: bool
    text: str


def check_qt() -> str:
    import PySide6
    from PySide6.QtCore import qVersion
    from PySide6.QtGui import QGuiApplication

    return (f"Qt {qVersion()} (PySide6 {PySide6.__version__}), platform "
            f"{QGuiApplication.platformName()!r}")


def check_icon() -> str:
    from peregrine_desktop.lifecycle.appearance import ICON_SIZES, app_icon, resource_path

    missing = [p.name for p in [resource_path("peregrine.svg"),
                                resource_path("io.peregrine.Desktop.desktop"),
                                *(resource_path(f"peregrine-{s}.png") for s in ICON_SIZES)]
               if not p.is_file()]
    if missing:
        raise CheckFailed("missing resource files: " + ", ".join(missing))
    if app_icon().pixmap(64, 64).isNull():
        raise CheckFailed("the icon does not render (Qt's image plug-ins are missing)")
    return f"icon: SVG and {len(ICON_SIZES)} PNG sizes"


def check_integrations() -> str:
    import integrations

    integrations.rediscover()
    broken = integrations.unavailable()
    if broken:
        raise CheckFailed("; ".join(f"{r.label}: {r.error}" for r in broken))
    names = ", ".join(cls.label for cls in integrations.REGISTRY.values()) or "none installed"
    return f"integrations: {len(integrations.REGISTRY)} loaded ({names})"


def wait_for_paint(widget) -> None:  # noqa: ANN001 - a QWidget
    from PySide6.QtCore import QEventLoop, QTimer

    from peregrine_desktop.lifecycle.first_paint import FirstPaintWatcher

    watcher = FirstPaintWatcher(widget)
    loop = QEventLoop()
    watcher.painted.connect(loop.quit)
    QTimer.singleShot(PAINT_TIMEOUT_MS, loop.quit)
    widget.show()
    loop.exec()
    if not watcher.seen:
        raise CheckFailed(f"{widget.windowTitle()!r} did not paint within "
                          f"{PAINT_TIMEOUT_MS // 1000} s")


def check_windows(config_dir: Path) -> list[tuple[str, str]]:
    """Main window painted; Settings with a card per integration; the wizard's pages."""
    import integrations
    from peregrine_desktop.settings.profile import load_profile
    from peregrine_desktop.ui.main_window import MainWindow
    from peregrine_desktop.ui.settings_dialog import SettingsDialog
    from peregrine_desktop.ui.wizard import SetupWizard

    profile, problem = load_profile(config_dir / "user.yaml")
    if problem:
        raise CheckFailed(problem)
    window = MainWindow(profile, config_dir)
    wait_for_paint(window)
    if window.grab().isNull():
        raise CheckFailed("the main window could not be drawn")
    found = [("main window", f"main window: painted at {window.width()}x{window.height()}")]

    settings = SettingsDialog(profile, config_dir, window)
    cards = len(settings.integrations.cards)
    if cards != len(integrations.RECORDS):
        raise CheckFailed(f"Settings shows {cards} integration cards for "
                          f"{len(integrations.RECORDS)} integrations")
    settings.grab()
    found.append(("settings", f"settings: {settings.tabs.count()} tabs, {cards} integration "
                              "cards"))
    wizard = SetupWizard(profile, config_dir, window)
    found.append(("setup wizard", f"setup wizard: {len(wizard.pageIds())} pages"))
    for widget in (wizard, settings, window):
        widget.close()
        widget.deleteLater()
    return found


def check_sqlite() -> str:
    import sqlite3

    with sqlite3.connect(":memory:") as db:
        version = db.execute("select sqlite_version()").fetchone()[0]
    return f"SQLite {version}"


def check_https() -> str:
    import ssl

    from requests.certs import where

    bundle = Path(where())
    if not bundle.is_file():
        raise CheckFailed(f"the CA certificate bundle is missing ({bundle})")
    ssl.create_default_context(cafile=str(bundle))
    return f"HTTPS: certificates at {bundle}"


def check_keyring() -> str:
    """The backend keyring picked, and whether its backends are present at all (a frozen app
    that lost keyring's entry points silently falls back to "fail")."""
    try:
        import keyring
        from keyring.backend import get_all_keyring
    except ImportError:
        return "keyring not installed (passwords stay in the 0600 config files)"
    from importlib.metadata import entry_points, version

    declared = sorted(ep.name for ep in entry_points(group="keyring.backends"))
    if not declared:
        raise CheckFailed("keyring is installed but its backends are not (no 'keyring.backends' "
                          "entry points: the package metadata was not bundled)")
    backend = keyring.get_keyring()
    kind = f"{type(backend).__module__.removeprefix('keyring.backends.')}.{type(backend).__name__}"
    viable = sorted({type(b).__module__.rsplit(".", 1)[-1] for b in get_all_keyring()})
    note = ""
    if kind.startswith("fail."):
        note = (" - no secret store is running (on Linux start GNOME Keyring or KWallet; "
                "passwords then go there)")
    return (f"keyring {version('keyring')}: backend {kind}{note}; usable here: "
            f"{', '.join(viable) or 'none'}; installed: {', '.join(declared)}")


def run_checks(config_dir: Path) -> list[CheckResult]:
    steps: list[tuple[str, Callable[[], object]]] = [
        ("Qt", check_qt), ("icon", check_icon), ("integrations", check_integrations),
        ("windows", lambda: check_windows(config_dir)), ("SQLite", check_sqlite),
        ("HTTPS", check_https), ("keyring", check_keyring)]
    results = []
    for name, step in steps:
        try:
            found = step()
        except CheckFailed as exc:
            results.append(CheckResult(name, False, f"{name}: {exc}"))
        except Exception as exc:  # noqa: BLE001 - report anything, with its traceback
            traceback.print_exc(file=sys.stderr)
            results.append(CheckResult(name, False, f"{name}: {type(exc).__name__}: {exc}"))
        else:
            pairs = found if isinstance(found, list) else [(name, found)]
            results.extend(CheckResult(n, True, str(t)) for n, t in pairs)
    return results


def report(results: list[CheckResult]) -> int:
    where = "frozen bundle" if getattr(sys, "frozen", False) else sys.executable
    print(f"{APP_NAME} {__version__} self-check ({where})")
    for result in results:
        print(f"  {'ok  ' if result.ok else 'FAIL'}  {result.text}")
    failed = [r.name for r in results if not r.ok]
    if failed:
        print(f"Self-check FAILED: {', '.join(failed)}")
        return 1
    print("Self-check passed.")
    return 0


def quiet_offscreen_notices(mode, context, message: str) -> None:  # noqa: ANN001 - Qt's types
    """Keep Qt's own warnings on stderr, minus the offscreen platform's expected notice."""
    if "does not support propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def main(config_dir: str | None = None, data_dir: str | None = None) -> int:
    """Run every check offscreen; 0 when all pass.  Folders not given are temporary."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from peregrine_desktop.lifecycle.appearance import apply_app_identity

    with tempfile.TemporaryDirectory(prefix="peregrine-self-check-") as tmp:
        paths.set_overrides(config_dir or Path(tmp) / "config", data_dir or Path(tmp) / "data")
        config_dir = paths.config_dir()
        config_dir.mkdir(parents=True, exist_ok=True)
        app = QApplication.instance() or QApplication(sys.argv[:1])
        qInstallMessageHandler(quiet_offscreen_notices)
        apply_app_identity(app)
        code = report(run_checks(config_dir))
        app.processEvents()
    return code
