"""Settings → Plugins: which plugin files may run, and which installed packages add plugins.

Each file in the plugins folder is shown with its path, what it claims to be (read from the file,
not run) and the SHA-256 fingerprint of its content, and runs only once allowed here; a changed
file shows as changed and must be allowed again.  Installed packages' plugins are listed as
third-party with the package they come from.
"""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFrame, QGroupBox, QHBoxLayout, QLabel, QMessageBox, QPushButton,
                               QScrollArea, QVBoxLayout, QWidget)

from peregrine_desktop.settings.plugin_permissions import ALLOWED, CHANGED, PluginPermissions
from peregrine_desktop.ui.plain_text import Button, ask, plain_label, warn
from peregrine_sdk.external import PluginFile, plugins_dir

log = logging.getLogger(__name__)

STATUS_TEXT = {ALLOWED: "Allowed: loads when Peregrine starts.",
               CHANGED: "Changed since you allowed it: not loaded until you allow it again.",
               "not allowed": "Not allowed: not loaded."}


def _plain(text: str, parent: QWidget, selectable: bool = False) -> QLabel:
    """Text from a file is data, never markup."""
    label = plain_label(text, parent, word_wrap=True)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class PluginFileRow(QFrame):
    """One plugin file: what it claims, where it is, its fingerprint, and Allow or Revoke."""

    def __init__(self, plugin: PluginFile, status: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.plugin, self.status = plugin, status
        self.setFrameShape(QFrame.Shape.StyledPanel)
        box = QVBoxLayout(self)
        claimed = plugin.label or plugin.name or plugin.stem
        name = f" ({plugin.name})" if plugin.name and plugin.name != claimed else ""
        self.title = _plain(f"{claimed}{name}", self)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        box.addWidget(self.title)
        claims = plugin.description or (f"Cannot tell what it is: {plugin.problem}."
                                        if plugin.problem else "No description.")
        self.claims = _plain(f"Claims to be: {claims}", self)
        self.path_label = _plain(f"File: {plugin.path}", self, selectable=True)
        self.fingerprint = _plain(f"SHA-256: {plugin.fingerprint}", self, selectable=True)
        for label in (self.claims, self.path_label, self.fingerprint):
            box.addWidget(label)
        row = QHBoxLayout()
        self.status_label = _plain(STATUS_TEXT[status], self)
        row.addWidget(self.status_label, 1)
        self.button = QPushButton("Revoke" if status == ALLOWED else "Allow…", self)
        self.button.setAutoDefault(False)
        row.addWidget(self.button)
        box.addLayout(row)


class PluginPermissionsPanel(QWidget):
    """The Plugins tab of Settings."""

    permissions_changed = Signal()

    def __init__(self, config_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.config_dir = Path(config_dir)
        self.permissions = PluginPermissions(self.config_dir)
        outer = QVBoxLayout(self)
        intro = _plain(
            "A plugin runs with your rights: it can read your files and every secret Peregrine "
            f"keeps. Files in {plugins_dir(self.config_dir)} run only once you allow them "
            "here, and a file that changes must be allowed again. Allow only plugins you "
            "trust; allowed plugins load the next time Peregrine starts.", self)
        outer.addWidget(intro)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.body = QWidget(scroll)
        self.body_layout = QVBoxLayout(self.body)
        scroll.setWidget(self.body)
        outer.addWidget(scroll, 1)
        self.rows: list[PluginFileRow] = []
        self.installed: list[QLabel] = []
        self.refresh()

    def refresh(self) -> None:
        while self.body_layout.count():
            item = self.body_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.rows, self.installed = [], []
        folder_box = QGroupBox("Plugins folder", self.body)
        folder_layout = QVBoxLayout(folder_box)
        files = self.permissions.files()
        if not files:
            folder_layout.addWidget(_plain("No plugin files.", folder_box))
        for plugin, status in files:
            row = PluginFileRow(plugin, status, folder_box)
            row.button.clicked.connect(lambda _c=False, r=row: self._toggle(r))
            folder_layout.addWidget(row)
            self.rows.append(row)
        self.body_layout.addWidget(folder_box)

        installed_box = QGroupBox("Installed packages (third-party)", self.body)
        installed_layout = QVBoxLayout(installed_box)
        installed_layout.addWidget(_plain(
            "These come from Python packages installed on this computer and run because the "
            "package is installed; uninstall the package to remove one.", installed_box))
        for line in installed_plugins():
            label = _plain(line, installed_box, selectable=True)
            installed_layout.addWidget(label)
            self.installed.append(label)
        if not self.installed:
            installed_layout.addWidget(_plain("None installed.", installed_box))
        self.body_layout.addWidget(installed_box)
        self.body_layout.addStretch(1)

    def _toggle(self, row: PluginFileRow) -> None:
        if row.status == ALLOWED:
            self.permissions.revoke(row.plugin.path)
        else:
            again = " again (it changed since you allowed it)" if row.status == CHANGED else ""
            claimed = row.plugin.label or row.plugin.name or row.plugin.stem
            answer = ask(self, "Allow this plugin?",
                         f"Allow “{claimed}”{again} to run?\n\n{row.plugin.path}\n"
                         f"SHA-256 {row.plugin.fingerprint}\n\nIt will run with your rights, "
                         f"able to read your files and saved secrets. Allow it only if you "
                         f"trust where it came from.", Button.Yes | Button.Cancel,
                         Button.Cancel, icon=QMessageBox.Icon.Warning)
            if answer != Button.Yes:
                return
            try:
                self.permissions.allow(row.plugin)
            except OSError as exc:
                warn(self, "Not saved",
                     f"The allow-list could not be saved ({exc.strerror or exc}).")
                return
        self.refresh()
        self.permissions_changed.emit()


def installed_plugins() -> list[str]:
    """One line per entry-point plugin: its name and the package (and version) it comes from."""
    from peregrine_sdk.external import entry_points

    lines = []
    for entry_point in entry_points():
        dist = getattr(entry_point, "dist", None)
        package = f"{dist.name} {dist.version}" if dist is not None else \
            entry_point.value.split(":", 1)[0]
        lines.append(f"{entry_point.name}: from the package {package} ({entry_point.value})")
    return lines
