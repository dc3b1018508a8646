"""The first-launch setup wizard: five pages, each saved when the user leaves it.

Each page asks only what the app acts on: the plan (which integrations unlock), the job-search
targets (marking and filtering the pipeline), the notifications, and the services.  What the app
only keeps (name, résumé, …) is in Settings → Profile.  ``wizard_step`` records the furthest page
reached, so closing the window (or a crash) resumes there next time.  The last step is the
integrations panel; Finish works without connecting anything.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget, QWizard,
                               QWizardPage)

# The welcome page paints before the Qt namespace is made (docs/architecture.md, "Start-up rules").
from peregrine_desktop.lifecycle.qt_import import Qt, set_enum_property
from peregrine_desktop.settings import paths
from peregrine_desktop.settings.profile import UserProfile
from peregrine_desktop.ui.deferred import BuildOnShow
from peregrine_desktop.ui.plain_text import escape

if TYPE_CHECKING:  # pragma: no cover
    from peregrine_desktop.ui.integrations_panel import IntegrationsPanel
    from peregrine_desktop.ui.profile_forms import ProfileSection

log = logging.getLogger(__name__)

WELCOME, PLAN, TARGETS, NOTIFICATIONS, INTEGRATIONS = range(5)
PAGE_COUNT = 5


class SectionPage(QWizardPage):
    """A wizard page around one profile section (``section``: its class's name in
    ``ui/profile_forms.py``): validates, then saves the profile.

    The sections' module is imported, and this page's form built and titled, when the page is
    first shown: the first page the wizard paints is the welcome page, which needs none of it."""

    def __init__(self, wizard: "SetupWizard", section: str, step: int) -> None:
        super().__init__(wizard)
        self.setup = wizard
        self.step = step
        self._section_name = section
        self._form = BuildOnShow(lambda: self._section_class()(), self)
        layout = QVBoxLayout(self)
        layout.addWidget(self._form)
        layout.addStretch(1)

    def _section_class(self) -> type[ProfileSection]:
        from peregrine_desktop.ui import profile_forms

        return getattr(profile_forms, self._section_name)

    @property
    def section(self) -> ProfileSection:
        return self._form.content()

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        cls = self._section_class()
        self.setTitle(f"Step {self.step + 1} of {PAGE_COUNT}: {cls.title}")
        self.setSubTitle(cls.subtitle)
        self.section.load(self.setup.profile)

    def validatePage(self) -> bool:  # noqa: N802 - Qt override
        if not self.section.show_problems():
            return False
        self.section.apply(self.setup.profile)
        return self.setup.save_progress(self.step + 1)


class WelcomePage(QWizardPage):
    def __init__(self, wizard: "SetupWizard") -> None:
        super().__init__(wizard)
        self.setup = wizard
        self.setTitle(f"Step 1 of {PAGE_COUNT}: Welcome to Peregrine")
        self.setSubTitle("Your job search, organised on your own computer.")
        text = QLabel(self)     # rich text (it starts with a tag: Qt's AutoText sees that)
        text.setWordWrap(True)
        text.setText(
            "<p>Peregrine keeps your job pipeline — every posting, its status, your interviews "
            "and documents — and connects it to the services you already use: job trackers, "
            "document storage, calendars and notifications.</p>"
            "<p>Everything is kept on this computer:</p>"
            f"<ul><li>Settings: <code>{escape(str(paths.config_dir()))}</code></li>"
            f"<li>Jobs and documents: <code>{escape(str(paths.data_dir()))}</code></li></ul>"
            "<p>This setup takes a minute: your plan, what you are looking for, what to be "
            "told about, and the services to connect. You can close it at any time and "
            "continue where you left off, and change every answer later in Settings.</p>")
        set_enum_property(text, "textInteractionFlags", "TextSelectableByMouse")   # copyable
        self.import_button = QPushButton(text="&Import from Peregrine…", parent=self)
        self.import_button.setToolTip("Bring your profile, services and jobs over from "
                                      "Peregrine in your browser (its folder or a backup zip)")
        self.import_button.clicked.connect(wizard.open_import)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        row = QHBoxLayout()     # the button at its own width, on the left
        row.addWidget(self.import_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(1)

    def validatePage(self) -> bool:  # noqa: N802 - Qt override
        return self.setup.save_progress(WELCOME + 1)


class IntegrationsPage(QWizardPage):
    def __init__(self, wizard: "SetupWizard") -> None:
        super().__init__(wizard)
        self.setup = wizard
        self.setTitle(f"Step {PAGE_COUNT} of {PAGE_COUNT}: Integrations")
        self.setSubTitle("Connect the services you use. All optional: Finish works without "
                         "any, and Settings → Integrations has the same list.")
        self.layout_ = QVBoxLayout(self)
        self.panel: IntegrationsPanel | None = None

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        tier = self.setup.profile.effective_tier
        if self.panel is None:
            from peregrine_desktop.ui.integrations_panel import IntegrationsPanel

            self.panel = IntegrationsPanel(self.setup.config_dir, tier, self, compact=True)
            self.layout_.addWidget(self.panel)
            from peregrine_desktop.ui.mnemonics import mnemonic

            buttons = (QWizard.WizardButton.BackButton, QWizard.WizardButton.NextButton,
                       QWizard.WizardButton.FinishButton, QWizard.WizardButton.CancelButton)
            self.panel.reserve_mnemonics({letter for button in buttons if (
                letter := mnemonic(self.setup.buttonText(button)))})
        else:
            self.panel.set_tier(tier)

    def validatePage(self) -> bool:  # noqa: N802 - Qt override
        self.setup.profile.update(wizard_complete=True)
        return self.setup.save_progress(PAGE_COUNT)


class SetupWizard(QWizard):
    """Shown while ``wizard_complete`` is false, and from "Run setup again".

    ``imported`` is emitted after an import from Peregrine wrote jobs (listeners re-read them)."""

    imported = Signal()

    def __init__(self, profile: UserProfile, config_dir: Path | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.profile = profile
        self.config_dir = Path(config_dir) if config_dir else paths.config_dir()
        self.setWindowTitle("Set up Peregrine")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.setButtonText(QWizard.WizardButton.CancelButton, "Close")
        self.resize(760, 640)
        self.setPage(WELCOME, WelcomePage(self))
        self.setPage(PLAN, SectionPage(self, "PlanSection", PLAN))
        self.setPage(TARGETS, SectionPage(self, "TargetsSection", TARGETS))
        self.setPage(NOTIFICATIONS, SectionPage(self, "NotificationsSection", NOTIFICATIONS))
        self.setPage(INTEGRATIONS, IntegrationsPage(self))

    def open_import(self) -> None:
        """Import from Peregrine: its answers fill the following pages."""
        from peregrine_desktop.ui.import_dialog import ImportDialog

        dialog = ImportDialog(self.config_dir, profile=self.profile, parent=self)
        dialog.imported.connect(lambda _summary: self.imported.emit())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.import_dialog = dialog
        dialog.open()

    def save_progress(self, step: int) -> bool:
        """Save the profile with the furthest step reached; a failed save keeps the user here."""
        self.profile.update(wizard_step=max(self.profile.wizard_step, min(step, PAGE_COUNT - 1)))
        try:
            self.profile.save()
        except OSError as exc:
            page = self.currentPage()
            message = (f"Your answers could not be saved ({exc.strerror or exc}). Check that "
                       f"{self.profile.path.parent} is writable and has free space, then "
                       f"press Next again.")
            log.error("saving %s failed: %s", self.profile.path, exc)
            if page is not None:
                page.setSubTitle(message)
            return False
        return True

    def resume(self) -> None:
        """Walk forward to the saved step (validating as a user would)."""
        target = min(self.profile.wizard_step, PAGE_COUNT - 1)
        while self.currentId() < target and self.currentId() != -1:
            before = self.currentId()
            self.next()
            if self.currentId() == before:  # a page refused (e.g. a file was moved): stop there
                break
