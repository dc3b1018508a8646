"""Settings: the wizard's sections as tabs, plus the integration cards.

Profile tabs are saved with OK/Apply; integration cards save themselves (Test, Save), as in the
wizard.  Settings opens on Profile; the other tabs are built when first shown: the cards (a
form per integration, ~0.2 s), the plugins list (read from every installed package's metadata)
and the Plan, Job search and Notifications sections.
Enter presses OK wherever the focus is (never a button inside a tab); Escape, Cancel or closing
the window with unsaved profile edits asks first.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QPushButton, QTabWidget,
                               QVBoxLayout, QWidget)

from peregrine_desktop.settings.profile import UserProfile
from peregrine_desktop.ui.deferred import BuildOnShow
from peregrine_desktop.ui.plain_text import plain_label
from peregrine_desktop.ui.dialog_keys import confirm_discard, is_enter, only_default
from peregrine_desktop.ui.profile_forms import (DocumentsSection, IdentitySection,
                                                NotificationsSection, PlanSection,
                                                ProfileSection, TargetsSection)
from peregrine_desktop.ui import colours
from peregrine_desktop.ui.colours import text_style

if TYPE_CHECKING:  # pragma: no cover
    from peregrine_desktop.events.hub import EventHub
    from peregrine_desktop.ui.integrations_panel import IntegrationsPanel
    from peregrine_desktop.ui.plugin_permissions import PluginPermissionsPanel

log = logging.getLogger(__name__)


class SettingsDialog(QDialog):
    """``integrations_changed``: a card saved or disconnected its service."""

    profile_saved = Signal()
    run_setup_requested = Signal()
    integrations_changed = Signal()

    def __init__(self, profile: UserProfile, config_dir: Path,
                 parent: QWidget | None = None, hub: "EventHub | None" = None,
                 storage_note: str = "") -> None:
        super().__init__(parent)
        self.profile = profile
        self.config_dir = Path(config_dir)
        self.setWindowTitle("Settings")
        self.resize(780, 640)
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget(self)
        self.sections: list[ProfileSection] = []

        profile_tab = QWidget(self)
        profile_layout = QVBoxLayout(profile_tab)
        for section in (IdentitySection(), DocumentsSection()):
            self._add_section(section, profile_layout)
        profile_layout.addStretch(1)
        self.tabs.addTab(profile_tab, "&Profile")

        # The other profile tabs are built when first shown, like the cards: Settings opens on
        # Profile.  Until then they hold no edits, so OK and Apply have nothing of theirs to save.
        self._section_tabs: dict[type[ProfileSection], BuildOnShow] = {}
        for make, label in ((PlanSection, "Pl&an"), (TargetsSection, "&Job search"),
                            (NotificationsSection, "&Notifications")):
            tab = BuildOnShow(lambda make=make: self._section_page(make()), self)
            self._section_tabs[make] = tab
            self.tabs.addTab(tab, label)

        intro = ("Choose a service to test, save, edit or disconnect it. Each service is saved "
                 "when you press Save on its page, not with OK." +
                 (f" {storage_note}" if storage_note else ""))
        self._integrations_tab = BuildOnShow(lambda: self._integrations_panel(hub, intro), self)
        self.tabs.addTab(self._integrations_tab, "&Integrations")
        # Listing the installed plugins reads every package's metadata from disk: when shown.
        self._plugins_tab = BuildOnShow(self._plugins_panel, self)
        self.tabs.addTab(self._plugins_tab, "Pl&ugins")
        layout.addWidget(self.tabs, 1)

        self.error = QLabel("", self)
        self.error.setStyleSheet(text_style(colours.PROBLEM))
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel
                                   | QDialogButtonBox.StandardButton.Apply, self)
        self.rerun = QPushButton("Run setup again…", self)
        self.rerun.setAutoDefault(False)
        buttons.addButton(self.rerun, QDialogButtonBox.ButtonRole.ResetRole)
        self.rerun.clicked.connect(self._rerun)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Apply).clicked.connect(self.apply)
        self.buttons = buttons
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout.addWidget(buttons)
        for section in self.sections:
            section.load(profile)
        only_default(self.ok_button)    # the Profile tab's buttons are side_buttons
        # The other tabs are made when first shown: each one's buttons as it is shown.
        self.tabs.currentChanged.connect(
            lambda _i: only_default(self.ok_button, self.tabs.currentWidget()))
        from peregrine_desktop.ui.plan_updates import follow_plan

        follow_plan(profile, self, self._plan_changed)

    def _plan_changed(self, tier: str) -> None:
        """A key was activated or removed (here or elsewhere): the cards lock or unlock now."""
        if self._integrations_tab.built:    # else it is built with the new plan when shown
            self.integrations.set_tier(tier)

    @property
    def plan(self) -> PlanSection:
        return self._built_section(PlanSection)

    @property
    def targets(self) -> TargetsSection:
        return self._built_section(TargetsSection)

    @property
    def notifications(self) -> NotificationsSection:
        return self._built_section(NotificationsSection)

    def _built_section(self, kind: type[ProfileSection]) -> ProfileSection:
        """A profile tab's section (its tab built now if not shown yet)."""
        self._section_tabs[kind].content()
        return next(section for section in self.sections if isinstance(section, kind))

    def _section_page(self, section: ProfileSection) -> QWidget:
        page = self._wrap(section)
        section.load(self.profile)
        return page

    @property
    def integrations(self) -> IntegrationsPanel:
        """The integration cards (built now if their tab has not been shown yet)."""
        return self._integrations_tab.content()

    @property
    def plugins(self) -> PluginPermissionsPanel:
        """The plugins folder's files and the installed packages (built now if not shown yet)."""
        return self._plugins_tab.content()

    def _plugins_panel(self) -> PluginPermissionsPanel:
        from peregrine_desktop.ui.plugin_permissions import PluginPermissionsPanel

        return PluginPermissionsPanel(self.config_dir, self)

    def _integrations_panel(self, hub: "EventHub | None", intro: str) -> IntegrationsPanel:
        from peregrine_desktop.ui.integrations_panel import IntegrationsPanel

        panel = IntegrationsPanel(self.config_dir, self.profile.effective_tier, self, hub=hub,
                                  intro=intro)
        from peregrine_desktop.ui.mnemonics import letters_of

        panel.reserve_mnemonics(letters_of(self.tabs.tabBar()) | letters_of(self.buttons))
        for card in panel.cards.values():
            card.saved.connect(lambda _name: self.integrations_changed.emit())
            card.disconnected.connect(lambda _name: self.integrations_changed.emit())
        return panel

    def _wrap(self, section: ProfileSection) -> QWidget:
        page = QWidget(self)
        box = QVBoxLayout(page)
        self._add_section(section, box)
        box.addStretch(1)
        return page

    def _add_section(self, section: ProfileSection, layout: QVBoxLayout) -> None:
        heading = plain_label(section.title, self)
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        note = QLabel(section.subtitle, self)
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(placeholder-text);")
        layout.addWidget(heading)
        layout.addWidget(note)
        layout.addWidget(section)
        layout.addSpacing(12)
        self.sections.append(section)

    def apply(self) -> bool:
        """Validate every tab, then save the profile; False (and the first bad tab shown) if
        something needs fixing."""
        for section in self.sections:
            if not section.show_problems():
                self.tabs.setCurrentWidget(self._tab_of(section))
                return False
        for section in self.sections:
            section.apply(self.profile)
        try:
            self.profile.save()
        except OSError as exc:
            self.error.setText(f"Settings could not be saved ({exc.strerror or exc}). Check "
                               f"that {self.profile.path.parent} is writable and has space.")
            self.error.show()
            return False
        self.error.hide()
        if self._integrations_tab.built:    # else it is built with the new plan when shown
            self.integrations.set_tier(self.profile.effective_tier)
        self.profile_saved.emit()
        return True

    def _tab_of(self, section: QWidget) -> QWidget:
        widget: QWidget | None = section
        while widget is not None and self.tabs.indexOf(widget) < 0:
            widget = widget.parentWidget()
        return widget or self.tabs.currentWidget()

    def has_unsaved_changes(self) -> bool:
        """Whether the profile tabs hold something OK or Apply would save."""
        scratch = UserProfile(self.profile.path, read=False)
        scratch.update(**self.profile.as_dict())
        for section in self.sections:
            section.apply(scratch)
        return scratch.as_dict() != self.profile.as_dict()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if is_enter(event) and self.ok_button.isEnabled():
            self.ok_button.click()
            return
        super().keyPressEvent(event)

    def accept(self) -> None:
        if self.apply():
            super().accept()

    def reject(self) -> None:
        """Escape, Cancel, closing: asks first when profile edits would be lost."""
        if self.has_unsaved_changes() and not confirm_discard(self):
            return
        super().reject()

    def _rerun(self) -> None:
        if self.has_unsaved_changes() and not confirm_discard(self):
            return
        self.run_setup_requested.emit()
        super().reject()
