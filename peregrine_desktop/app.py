"""Entry point: ``peregrine-desktop`` (and ``python -m peregrine_desktop``)."""
from __future__ import annotations

import argparse
import gc
import importlib
import logging
import sys
from collections.abc import Sequence

from peregrine_desktop import APP_NAME, ORG_NAME, __version__
from peregrine_desktop.settings import paths

log = logging.getLogger("peregrine_desktop")

#: ``peregrine-desktop <subcommand>`` → module with ``main(argv) -> int`` (no window opened).
SUBCOMMANDS = {
    "new-integration": "peregrine_desktop.cli.new_integration",
    "check-integrations": "peregrine_desktop.cli.check_integrations",
    "import-from-peregrine": "peregrine_desktop.cli.import_from_peregrine",
}


#: What a start with no arguments means (a double-click): parsed without building the parser,
#: whose translation lookups cost ~2 ms before the first window.
DEFAULT_ARGS = {"config_dir": None, "data_dir": None, "debug": False, "self_check": False,
                "install_desktop_entry": False, "remove_desktop_entry": False}


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    if not argv:
        return argparse.Namespace(**DEFAULT_ARGS)
    parser = argparse.ArgumentParser(
        prog="peregrine-desktop", description=f"{APP_NAME}: your job search, organised.",
        epilog="Subcommands: " + ", ".join(SUBCOMMANDS) + " (run with --help for details).")
    parser.add_argument("--config-dir", metavar="DIR",
                        help="where settings live (default: the platform's config folder; "
                             "or set PEREGRINE_CONFIG_DIR)")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="where jobs and documents live (or set PEREGRINE_DATA_DIR)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="log in detail to stderr")
    parser.add_argument("--self-check", action="store_true",
                        help="check this installation offscreen (windows, integrations, "
                             "keyring), print a report and exit (0: all fine)")
    parser.add_argument("--install-desktop-entry", action="store_true",
                        help="add Peregrine to your desktop's application menu, then exit")
    parser.add_argument("--remove-desktop-entry", action="store_true",
                        help="remove the menu entry --install-desktop-entry added, then exit")
    return parser.parse_known_args(list(argv))[0]


def discover_all_integrations(config_dir) -> list:
    """Worker: can the settings folder be written; then built-ins, entry points and the user's
    plugins folder, into the registry; then the settings files of every integration checked.
    Returns the problems found.

    Reading those files also initialises the keychain backend (D-Bus probing takes ~0.3 s), so
    opening Settings later does not pay for it on the UI thread."""
    from peregrine_desktop.lifecycle.plugins import rediscover_all, waiting_plugins
    from peregrine_desktop.settings.config_recovery import folder_problem, integration_problem
    from peregrine_desktop.settings.secrets import keychain_available

    problems = []
    folder = folder_problem(config_dir)      # e.g. no permission: say so, don't crash
    if folder is not None:
        problems.append(folder)
    keychain_available()
    problems += waiting_plugins(config_dir)
    for cls in rediscover_all(config_dir).values():
        try:
            found = integration_problem(cls, config_dir)
        except Exception:  # noqa: BLE001 - one odd plugin must not hide the others' news
            log.exception("checking the settings of %s failed", cls.name)
            continue
        if found is not None:
            problems.append(found)
    return problems


class StartupCancelled(Exception):
    """The user chose Close on a start-up problem (the message box said what was wrong)."""


class Application:
    """Owns the windows: the setup wizard first (until finished), then the main window.

    Start-up rule: only what the first window draws is imported, built or read before it
    paints; the rest waits for :func:`after_first_paint` or for first use (see
    docs/architecture.md, "Start-up rules")."""

    def __init__(self) -> None:
        from peregrine_desktop.settings.profile import load_profile

        self.config_dir = paths.config_dir()
        self.profile, self.profile_problem = load_profile()
        # The one plan-changed notification (a key activated or removed in the wizard or in
        # Settings): every window that gates on the plan hears of it at once.
        self.profile.watch_plan(self._plan_changed)
        self.store = self.repository = self.store_problem = None
        self.hub = None     # after discovery, which runs once the window is on screen
        self.sync_dialog = None
        self.wizard = None
        self._window = None
        if self.profile.wizard_complete:
            self._build_main_window()
        # else the first launch: the wizard comes first; the main window is built once the
        # wizard has painted (see start), ready for when it finishes.

    @property
    def window(self):  # noqa: ANN201 - the MainWindow, built (and the database opened) on first use
        if self._window is None:
            self._build_main_window()
        return self._window

    def _build_main_window(self) -> None:
        """Open the database (asking the user when it is in use or newer: StartupCancelled if
        they choose Close) and build the main window over it."""
        from peregrine_desktop.jobs.repository import JobRepository
        from peregrine_desktop.lifecycle.startup import open_job_store, until_resolved
        from peregrine_desktop.ui.main_window import MainWindow
        from peregrine_desktop.workers import TaskRunner

        opened = until_resolved(open_job_store)   # in use, newer, read-only: ask, Retry
        if opened is None:
            raise StartupCancelled()
        self.store, self.store_problem = opened
        self.repository = JobRepository(self.store)
        self._window = MainWindow(self.profile, self.config_dir, self.repository)
        self._window.settings_requested.connect(self.open_settings)
        self._window.setup_requested.connect(self.run_setup)
        self.runner = TaskRunner(self._window)

    @property
    def first_window(self):  # noqa: ANN201 - the main window or the first-launch wizard
        return self.wizard if self._window is None else self._window

    def start(self) -> None:
        from peregrine_desktop.lifecycle.first_paint import after_first_paint

        if self.profile.wizard_complete:
            self.window.show()
        else:
            self.run_setup(first_launch=True)
        # Plugins load once the first window is on screen, so they never delay it.
        after_first_paint(self.first_window, self._first_painted)
        if self.profile_problem:
            self._warn("Your profile could not be read",
                       self.profile_problem + " Setup starts again with defaults.")
        if self._window is not None:
            self._warn_about_store()

    def _warn_about_store(self) -> None:
        if self.store_problem:
            self._warn("Your job database needed attention", self.store_problem)

    def _warn(self, title: str, text: str) -> None:
        from peregrine_desktop.ui.plain_text import warn

        wizard_open = self.wizard is not None and self.wizard.isVisible()
        warn(self.wizard if wizard_open else self.window, title, text)

    def _first_painted(self) -> None:
        """The first window is on screen: now the rest of start-up."""
        from PySide6.QtWidgets import QApplication

        from peregrine_desktop.lifecycle.appearance import app_icon

        QApplication.instance().setWindowIcon(app_icon())   # before anything reads it
        if self._window is None:    # first launch: build it now that the wizard is up
            try:
                self._build_main_window()
            except StartupCancelled:
                QApplication.instance().quit()
                return
            self._warn_about_store()
        from peregrine_desktop.lifecycle.startup import check_indexes

        self.runner.start(check_indexes, self.store, key="index check",
                          on_success=self._indexes_checked)
        self.window.start_reminders()
        # Checking the licence imports the crypto library (~20 ms): after the first paint.
        self.window.set_plan(self.profile.effective_tier)
        self.discover_integrations()

    def _indexes_checked(self, message: str | None) -> None:
        if message:
            self._warn("Your job database needs a repair", message)

    def discover_integrations(self) -> None:
        """Import every plugin (built-in, entry point, plugins folder) on a worker, then start
        the event hub: the window appears without waiting for ~13 modules to load."""
        if self.runner.is_running("discovery") or self.hub is not None:
            return
        self.runner.start(discover_all_integrations, self.config_dir, key="discovery",
                          on_success=self._integrations_ready,
                          on_failure=lambda exc: self._integrations_ready([]))

    def _integrations_ready(self, problems: list) -> None:
        import integrations
        from peregrine_desktop.events.hub import EventHub

        from peregrine_desktop.ui.sync_panel import SyncDialog

        self.hub = EventHub(self.repository, self.config_dir, profile=lambda: self.profile,
                            registry=integrations.REGISTRY, parent=self.window)
        self.window.set_hub(self.hub)
        # Kept for the app's lifetime: its automatic mode follows edits while it is hidden.
        self.sync_dialog = SyncDialog(self.store, self.config_dir, self.profile.effective_tier,
                                      repository=self.repository, parent=self.window)
        self.window.set_sync_dialog(self.sync_dialog)
        self.window.add_config_problems(problems)
        self.window.update_status()

    def _plan_changed(self, tier: str) -> None:
        """A licence key was activated or removed: Sync, the menus and the cards follow now."""
        if self.sync_dialog is not None:
            self.sync_dialog.panel.set_tier(tier)
        if self._window is not None:
            self._window.set_plan(tier)

    def _profile_changed(self) -> None:
        self.window.apply_profile()
        if self.hub is not None:        # the all-day calendar option may have changed
            self.hub.apply_calendar_option()
        if getattr(self, "sync_dialog", None) is not None:
            self.sync_dialog.panel.set_tier(self.profile.effective_tier)

    def _integrations_changed(self) -> None:
        self.window.update_status()
        if self.hub is not None:        # a calendar connected: it gets the all-day entries
            self.hub.apply_calendar_option()
        if getattr(self, "sync_dialog", None) is not None:
            self.sync_dialog.panel.refresh()

    def shutdown(self) -> None:
        """Stop background delivery and close the database (queued work stays in the outbox);
        web pages still downloading are cancelled so their threads do not hold up the exit."""
        from peregrine_desktop.jobs import page_fetch

        page_fetch.cancel_all()
        if self.hub is not None:
            self.hub.shutdown()
        if self.store is not None:
            self.store.close()

    def run_setup(self, first_launch: bool = False) -> None:
        from peregrine_desktop.ui.wizard import SetupWizard

        self.wizard = SetupWizard(self.profile, self.config_dir,
                                  None if first_launch else self.window)
        self.wizard.finished.connect(lambda result: self._setup_closed(result, first_launch))
        self.wizard.imported.connect(self._jobs_imported)
        self.wizard.show()
        if first_launch:
            self.wizard.resume()

    def _jobs_imported(self) -> None:
        if self.repository is not None:     # else the pipeline reads them when it is built
            self.repository.jobs_reset.emit()

    def _setup_closed(self, result: int, first_launch: bool) -> None:
        from PySide6.QtWidgets import QApplication

        if self.profile.wizard_complete or not first_launch:
            self.window.update_status()
            self.window.apply_profile()
            if self.hub is not None:
                self.hub.apply_calendar_option()
            self.window.show()
        else:  # closed before finishing: progress is saved, the app resumes there next time
            QApplication.instance().quit()

    def bring_forward(self) -> None:
        """Another launch asked for us: raise the wizard if it is open, else the main window."""
        from peregrine_desktop.lifecycle.single_instance import bring_forward

        wizard_open = self.wizard is not None and self.wizard.isVisible()
        bring_forward(self.wizard if wizard_open else self.window)

    def open_settings(self) -> None:
        from peregrine_desktop.ui.settings_dialog import SettingsDialog

        from peregrine_desktop.settings.secrets import keychain_description

        dialog = SettingsDialog(self.profile, self.config_dir, self.window, hub=self.hub,
                                storage_note=keychain_description())
        dialog.run_setup_requested.connect(self.run_setup)
        dialog.profile_saved.connect(self._profile_changed)
        dialog.integrations_changed.connect(self._integrations_changed)
        dialog.finished.connect(lambda _r: self.window.update_status())
        dialog.open()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    if len(argv) > 1 and argv[1] in SUBCOMMANDS:
        return importlib.import_module(SUBCOMMANDS[argv[1]]).main(argv[2:])
    args = parse_args(argv[1:])
    root = logging.getLogger()
    if not root.handlers:  # stderr: warnings (everything with --debug), as before
        stderr = logging.StreamHandler()
        stderr.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        stderr.setLevel(logging.DEBUG if args.debug else logging.WARNING)
        root.addHandler(stderr)
    from peregrine_desktop.lifecycle import log_file

    log_handler = log_file.install(level=logging.DEBUG if args.debug else logging.INFO)
    try:
        return _run(args, argv)
    finally:
        log_file.uninstall(log_handler)


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    paths.set_overrides(args.config_dir, args.data_dir)
    if args.install_desktop_entry or args.remove_desktop_entry:
        from peregrine_desktop.lifecycle import desktop_entry
        return desktop_entry.main(remove_entry=args.remove_desktop_entry)
    if args.self_check:
        from peregrine_desktop.lifecycle import self_check
        return self_check.main(args.config_dir, args.data_dir)
    # Start-up makes some hundred thousand objects that all stay (modules, types, widgets); the
    # cyclic collector would walk them again and again for nothing (~15 M instructions, 2% of
    # the start).  It runs again once the first window has painted.
    gc.disable()
    try:
        return _run_windows(argv)
    finally:
        gc.enable()


def _run_windows(argv: list[str]) -> int:
    """The first window (the wizard or the pipeline), then the event loop until quit."""
    from peregrine_desktop.lifecycle.qt_import import import_qt

    import_qt()
    from PySide6.QtWidgets import QApplication

    from PySide6.QtCore import QSettings

    from peregrine_desktop.lifecycle.appearance import ColorSchemeFollower, apply_app_identity
    from peregrine_desktop.lifecycle.first_paint import (after_first_paint,
                                                         exit_after_first_paint,
                                                         exit_after_first_paint_requested)
    from peregrine_desktop.lifecycle.single_instance import SingleInstance

    QApplication.setOrganizationName(ORG_NAME)
    QApplication.setApplicationName(APP_NAME)
    QApplication.setApplicationVersion(__version__)
    qt_app = QApplication.instance() or QApplication(argv[:1])
    apply_app_identity(qt_app, icon=False)     # the icon follows the first paint
    # The scheme seen last time now; the desktop is asked once the first window has painted.
    scheme = ColorSchemeFollower(qt_app, QSettings(str(paths.window_settings_file()),
                                                   QSettings.Format.IniFormat))
    scheme.apply_remembered()
    instance = SingleInstance(paths.config_dir())
    if not instance.claim(listen=False):
        print(f"{APP_NAME} is already running with {paths.config_dir()}; brought it forward.")
        return 0
    from peregrine_desktop.lifecycle.startup import claim_data_folder, until_resolved

    data_lock = until_resolved(lambda: claim_data_folder(paths.data_dir()))
    if data_lock is None:
        instance.release()
        return 1
    try:
        app = Application()
    except StartupCancelled:
        data_lock.unlock()
        instance.release()
        return 1
    instance.activation_requested.connect(app.bring_forward)
    app.start()
    after_first_paint(app.first_window, gc.enable)
    after_first_paint(app.first_window, scheme.follow)
    after_first_paint(app.first_window, instance.listen)
    if exit_after_first_paint_requested():  # start-up benchmarks
        exit_after_first_paint(app.first_window)
    try:
        return qt_app.exec()
    finally:
        app.shutdown()
        data_lock.unlock()
        instance.release()


if __name__ == "__main__":
    sys.exit(main())
