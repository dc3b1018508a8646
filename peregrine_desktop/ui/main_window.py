"""The main window: menus, status bar, remembered geometry, and the pipeline in the middle."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QVBoxLayout, QWidget

from peregrine_desktop import APP_NAME, __version__
from peregrine_desktop.lifecycle.qt_import import Qt, key_sequences
from peregrine_desktop.settings import paths
from peregrine_desktop.settings.profile import UserProfile
from peregrine_desktop.ui.plain_text import escape

if TYPE_CHECKING:  # pragma: no cover
    from peregrine_desktop.jobs.dates import Clock
    from peregrine_desktop.ui.config_problems import ConfigProblemsPanel
    from peregrine_desktop.events.hub import EventHub
    from peregrine_desktop.jobs.repository import JobRepository

log = logging.getLogger(__name__)


def empty_state(title: str, body: str, parent: QWidget | None = None) -> QWidget:
    """A centred message that says what to do next (used wherever a list can be empty)."""
    widget = QWidget(parent)
    layout = QVBoxLayout(widget)
    layout.addStretch(1)
    heading = QLabel(f"<h2>{title}</h2>", widget)
    heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
    text = QLabel(body, widget)
    text.setWordWrap(True)
    text.setAlignment(Qt.AlignmentFlag.AlignCenter)
    text.setMaximumWidth(520)
    layout.addWidget(heading)
    row = QHBoxLayout()  # stretches, not an alignment flag: a wrapped label keeps its height
    row.addStretch(1)
    row.addWidget(text, 100)
    row.addStretch(1)
    layout.addLayout(row)
    layout.addStretch(2)
    return widget


class MainWindow(QMainWindow):
    settings_requested = Signal()
    setup_requested = Signal()

    def __init__(self, profile: UserProfile, config_dir: Path | None = None,
                 repository: "JobRepository | None" = None, hub: "EventHub | None" = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.profile = profile
        self.config_dir = Path(config_dir) if config_dir else paths.config_dir()
        self.repository = repository
        self.hub = hub
        self.setWindowTitle(APP_NAME)
        self.window_settings = QSettings(str(paths.window_settings_file(self.config_dir)),
                                         QSettings.Format.IniFormat)
        self.pipeline = None
        central = QWidget(self)
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        self._column = column
        #: Damaged settings files, above the pipeline: made when the first one is reported.
        self.config_problems: ConfigProblemsPanel | None = None
        self.reminders = None
        self.reminder_banner = None
        if repository is not None:
            from peregrine_desktop.ui.pipeline.view import PipelineView

            self.pipeline = PipelineView(repository, central, settings=self.window_settings)
            column.addWidget(self.pipeline, 1)
            self.apply_profile()
        else:
            column.addWidget(empty_state(
                "Your job pipeline will live here",
                "Add jobs by hand, paste a posting's address, or import a CSV file. "
                "Connect your tracker, calendar and storage in Settings → Integrations.",
                central), 1)
        self.setCentralWidget(central)
        self._build_menus()
        self.status_label = QLabel("", self)
        self.statusBar().addPermanentWidget(self.status_label)
        if not self.restoreGeometry(QByteArray(self.window_settings.value("geometry",
                                                                          QByteArray()))):
            self.resize(1100, 720)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.file_menu = file_menu
        if self.pipeline is not None:
            for action in (self.pipeline.add_action, self.pipeline.import_url_action):
                file_menu.addAction(action)
            file_menu.addSeparator()
            file_menu.addAction(self.pipeline.import_csv_action)
            file_menu.addAction(self.pipeline.export_csv_action)
            self.export_ics_action = QAction(text="Export inter&views (.ics)…", parent=self)
            self.export_ics_action.triggered.connect(self.export_interviews)
            file_menu.addAction(self.export_ics_action)
            file_menu.addSeparator()
            self.import_peregrine_action = QAction(text="Import from &Peregrine…", parent=self)
            self.import_peregrine_action.setStatusTip(
                "Bring your profile, services and jobs over from Peregrine in your browser")
            self.import_peregrine_action.triggered.connect(self.import_from_peregrine)
            file_menu.addAction(self.import_peregrine_action)
            file_menu.addSeparator()
        quit_action = QAction(text="&Quit", parent=self)
        quit_action.setShortcuts(key_sequences(QKeySequence.StandardKey.Quit))
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        if self.pipeline is not None:
            edit_menu = self.menuBar().addMenu("&Edit")
            self.edit_menu = edit_menu
            edit_menu.addAction(self.pipeline.undo_action)
            edit_menu.addAction(self.pipeline.redo_action)
            edit_menu.addSeparator()
            edit_menu.addAction(self.pipeline.find_action)

        settings_menu = self.menuBar().addMenu("&Settings")
        self.settings_action = QAction(text="&Settings…", parent=self)
        # The platform's Preferences keys (none on some desktops) and Ctrl+, everywhere.
        keys = [*QKeySequence.keyBindings(QKeySequence.StandardKey.Preferences),
                *key_sequences("Ctrl+,")]
        self.settings_action.setShortcuts(list({key.toString(): key for key in keys
                                                if not key.isEmpty()}.values()))
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.settings_action.triggered.connect(self.settings_requested)
        settings_menu.addAction(self.settings_action)
        self.setup_action = QAction(text="&Run setup again…", parent=self)
        self.setup_action.triggered.connect(self.setup_requested)
        settings_menu.addAction(self.setup_action)

        sync_menu = self.menuBar().addMenu("S&ync")
        self.sync_action = QAction(text="&Sync now…", parent=self)
        self.sync_action.setShortcuts(key_sequences("Ctrl+Shift+S"))
        self.sync_action.setToolTip("Push your pipeline to Notion, Airtable or Google Sheets")
        self.sync_action.setEnabled(False)
        self.sync_action.triggered.connect(self.show_sync)
        sync_menu.addAction(self.sync_action)
        self.sync_dialog = None

        view_menu = self.menuBar().addMenu("&View")
        self.view_menu = view_menu
        if self.pipeline is not None:
            view_menu.addAction(self.pipeline.table_action)
            view_menu.addAction(self.pipeline.board_action)
            view_menu.addAction(self.pipeline.details_action)
            view_menu.addSeparator()
            view_menu.addAction(self.pipeline.dashboard_action)
            view_menu.addSeparator()
        self.activity_action = QAction(text="&Activity log…", parent=self)
        self.activity_action.setShortcuts(key_sequences("Ctrl+L"))
        self.activity_action.setToolTip("What was sent to your services, and what is waiting")
        self.activity_action.triggered.connect(self.show_activity_log)
        self.activity_action.setEnabled(self.hub is not None)
        view_menu.addAction(self.activity_action)

        help_menu = self.menuBar().addMenu("&Help")
        about = QAction(text=f"&About {APP_NAME}", parent=self)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)
        self.open_log_action = QAction(text="Open &log folder", parent=self)
        self.open_log_action.setStatusTip("Show the folder with Peregrine's log file")
        self.open_log_action.triggered.connect(self.open_log_folder)
        help_menu.addAction(self.open_log_action)
        self.shortcuts_action = QAction(text="&Keyboard shortcuts…", parent=self)
        self.shortcuts_action.setStatusTip("Every shortcut of this window")
        self.shortcuts_action.triggered.connect(self.show_shortcuts)
        help_menu.addAction(self.shortcuts_action)

    def show_shortcuts(self) -> None:
        """Help → Keyboard shortcuts…: read from this window's actions, so it never drifts."""
        from peregrine_desktop.ui.shortcuts_dialog import ShortcutsDialog, shortcut_rows

        others = {"Job list": self.pipeline.actions()} if self.pipeline is not None else {}
        dialog = ShortcutsDialog(shortcut_rows(self.menuBar(), others), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.shortcuts_dialog = dialog
        dialog.open()

    def open_log_folder(self) -> None:
        """Help → Open log folder: the file manager, at the folder (made if still missing)."""
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        from peregrine_desktop.settings import paths

        folder = paths.log_dir()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def export_interviews(self) -> None:
        """Write every interview to an .ics file any calendar app can import."""
        from PySide6.QtWidgets import QFileDialog

        from peregrine_desktop.events.ics_export import export_interviews

        path, _ = QFileDialog.getSaveFileName(self, "Export interviews", str(
            Path.home() / "peregrine-interviews.ics"), "Calendar files (*.ics)")
        if not path:
            return
        try:
            count = export_interviews(Path(path), self.repository.store.list_jobs())
        except OSError as exc:
            from peregrine_desktop.ui.plain_text import warn

            warn(self, "Export failed", f"The file could not be written ({exc.strerror or exc}). "
                                        "Choose another folder and try again.")
            return
        self.statusBar().showMessage(
            f"Exported {count} interview{'s' if count != 1 else ''} to {path}", 8000)

    def import_from_peregrine(self) -> None:
        """Import a web-Peregrine install; the pipeline re-reads its jobs afterwards."""
        from peregrine_desktop.ui.import_dialog import ImportDialog

        dialog = ImportDialog(self.config_dir, self.repository.store, self.profile, self)
        dialog.imported.connect(self._imported_from_peregrine)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.import_dialog = dialog
        dialog.open()

    def _imported_from_peregrine(self, _summary: object) -> None:
        self.repository.jobs_reset.emit()
        self.update_status()
        panel = getattr(self.sync_dialog, "panel", None)
        if panel is not None:       # trackers brought over appear in Sync now…
            panel.refresh()

    def set_hub(self, hub: "EventHub") -> None:
        """The event hub arrives after discovery (which runs once the window is shown)."""
        self.hub = hub
        self.activity_action.setEnabled(True)
        if self.pipeline is not None:   # jobs carry documents, uploaded to connected stores
            from peregrine_desktop.events.documents import DocumentUploads

            self.pipeline.documents = DocumentUploads(hub, self)

    def start_reminders(self, clock: "Clock | None" = None) -> None:
        """Look for what came due (also while the app was closed), then keep looking; called
        once the window has painted."""
        if self.pipeline is None or self.reminders is not None:
            return
        from peregrine_desktop.jobs.dates import system_clock
        from peregrine_desktop.jobs.reminders import ReminderLog
        from peregrine_desktop.ui.reminders import DesktopNotifier, ReminderBanner, ReminderService

        self._clock = clock or system_clock
        self.reminder_banner = ReminderBanner(self.centralWidget())
        self.reminder_banner.show_job.connect(self._show_reminded_job)
        self._column.insertWidget(self._column.indexOf(self.pipeline), self.reminder_banner)
        self.notifier = DesktopNotifier(self.windowIcon())
        self.reminders = ReminderService(ReminderLog(self.repository.store),
                                         self.pipeline.model.dated_jobs, clock=self._clock,
                                         parent=self)
        self.reminders.due.connect(self._reminders_due)
        for signal in (self.repository.job_added, self.repository.job_changed,
                       self.repository.jobs_reset):
            signal.connect(self.reminders.check_soon)
        self.reminders.start()

    def _reminders_due(self, reminders: list) -> None:
        from peregrine_desktop.jobs.dates import DueWindow
        from peregrine_desktop.ui.reminders import send_to_notifiers, summary_text

        window = DueWindow.from_clock(self._clock)
        self.reminder_banner.add(reminders, window)
        self.notifier.notify(*summary_text(reminders, window))
        send_to_notifiers(self.hub, reminders, window)

    def _show_reminded_job(self, job_id: int) -> None:
        if not self.pipeline.select_job(job_id):
            self.pipeline.clear_filters()
            self.pipeline.select_job(job_id)
        self.pipeline.current_list().setFocus()

    def apply_profile(self) -> None:
        """The profile was loaded or saved: the pipeline marks and filters by its targets."""
        if self.pipeline is not None:
            from peregrine_desktop.jobs.targets import Targets

            self.pipeline.set_targets(Targets.from_profile(self.profile))

    def add_config_problems(self, problems: list) -> None:
        """Damaged or unusable settings files, each with Reset and Dismiss, above the pipeline."""
        if problems:
            if self.config_problems is None:
                from peregrine_desktop.ui.config_problems import ConfigProblemsPanel

                self.config_problems = ConfigProblemsPanel(parent=self.centralWidget())
                self.config_problems.file_reset.connect(lambda _problem: self.update_status())
                self._column.insertWidget(0, self.config_problems)
            known = [row.problem for row in self.config_problems.rows]
            self.config_problems.set_problems(known + list(problems))

    def set_sync_dialog(self, dialog: QWidget) -> None:
        self.sync_dialog = dialog
        self.sync_action.setEnabled(True)

    def set_plan(self, tier: str) -> None:
        """The plan in force changed: the Sync menu says when syncing needs a higher plan."""
        from peregrine_desktop.settings.tiers import FEATURES, TIER_LABELS, tier_allows, tier_rank

        needed = min((t for f, t in FEATURES.items() if f.endswith("_sync")), key=tier_rank,
                     default="free")
        tip = "Push your pipeline to Notion, Airtable or Google Sheets"
        if not tier_allows(tier, needed):
            tip += f" (needs a {TIER_LABELS[needed]} plan: add a licence key in Settings → Plan)"
        self.sync_action.setToolTip(tip)
        self.sync_action.setStatusTip(tip)

    def show_sync(self) -> None:
        if self.sync_dialog is not None:
            self.sync_dialog.show()
            self.sync_dialog.raise_()
            self.sync_dialog.activateWindow()

    def show_activity_log(self) -> None:
        from peregrine_desktop.ui.activity_log import ActivityLogDialog

        dialog = ActivityLogDialog(self.hub, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def update_status(self) -> None:
        """The status bar's summary: how many services are connected, and what failed to load."""
        import integrations

        configured = [cls for cls in integrations.REGISTRY.values()
                      if cls.is_configured(self.config_dir)]
        parts = [f"{len(configured)} of {len(integrations.REGISTRY)} integrations set up"]
        broken = integrations.unavailable()
        if broken:
            parts.append(f"{len(broken)} unavailable (see Settings → Integrations)")
        self.status_label.setText(" · ".join(parts))

    def about_text(self) -> str:
        return (f"<h3>{APP_NAME} {__version__}</h3>"
                "<p>A job-search companion whose integrations actually work.</p>"
                f"<p>Settings: <code>{escape(str(self.config_dir))}</code><br>"
                f"Jobs and documents: <code>{escape(str(paths.data_dir()))}</code></p>"
                "<p>Released under the MIT licence.</p>")

    def show_about(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.about(self, f"About {APP_NAME}", self.about_text())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self.pipeline is not None:
            self.pipeline.save_settings()
        self.window_settings.setValue("geometry", self.saveGeometry())
        self.window_settings.sync()
        super().closeEvent(event)
