"""The profile sections (identity, plan, documents, targets, notifications) as widgets.

Each section reads from and writes to a UserProfile and says what is wrong in words; the setup
wizard shows one per page and Settings shows them as tabs, so both stay the same.
"""
from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QPlainTextEdit, QPushButton, QRadioButton,
                               QVBoxLayout, QWidget)

from peregrine_desktop.settings.profile import NOTIFY_EVENTS, UserProfile
from peregrine_desktop.settings.tiers import TIER_LABELS, TIER_ORDER
from peregrine_desktop.ui.fields import url_problem

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_LINES = 200


def _error_label(parent: QWidget) -> QLabel:
    label = QLabel("", parent)
    label.setObjectName("sectionError")
    label.setStyleSheet("color: #c62828;")
    label.setWordWrap(True)
    label.hide()
    return label


class ProfileSection(QWidget):
    """Base for a section: ``load``, ``apply``, ``problems``; ``changed`` on any edit."""

    changed = Signal()
    title = ""
    subtitle = ""

    def load(self, profile: UserProfile) -> None:
        raise TypeError(f"{type(self).__name__} must define load()")

    def apply(self, profile: UserProfile) -> None:
        raise TypeError(f"{type(self).__name__} must define apply()")

    def problems(self) -> list[str]:
        return []

    def show_problems(self) -> bool:
        """Display problems under the section; True when there are none."""
        found = self.problems()
        self.error.setText("\n".join(found))
        self.error.setVisible(bool(found))
        return not found


class IdentitySection(ProfileSection):
    title = "About you"
    subtitle = "Used to fill in applications and cover letters. Only your name is required."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.name = QLineEdit(self)
        self.email = QLineEdit(self)
        self.phone = QLineEdit(self)
        self.linkedin = QLineEdit(self)
        self.linkedin.setPlaceholderText("https://www.linkedin.com/in/…")
        self.summary = QPlainTextEdit(self)
        self.summary.setPlaceholderText("Two or three sentences about your experience and "
                                        "what you are looking for.")
        self.summary.setFixedHeight(90)
        for label, widget in (("&Name *", self.name), ("&Email", self.email),
                              ("&Phone", self.phone), ("&LinkedIn", self.linkedin),
                              ("Career &summary", self.summary)):
            widget.setAccessibleName(label.replace("&", "").rstrip(" *"))
            text = QLabel(label, self)
            text.setBuddy(widget)
            form.addRow(text, widget)
            signal = getattr(widget, "textEdited", None) or widget.textChanged
            signal.connect(self.changed)
        self.error = _error_label(self)
        form.addRow("", self.error)

    def load(self, profile: UserProfile) -> None:
        self.name.setText(profile.name)
        self.email.setText(profile.email)
        self.phone.setText(profile.phone)
        self.linkedin.setText(profile.linkedin)
        self.summary.setPlainText(profile.career_summary)

    def apply(self, profile: UserProfile) -> None:
        profile.update(name=self.name.text().strip(), email=self.email.text().strip(),
                       phone=self.phone.text().strip(), linkedin=self.linkedin.text().strip(),
                       career_summary=self.summary.toPlainText().strip())

    def problems(self) -> list[str]:
        found = []
        if not self.name.text().strip():
            found.append("Enter your name.")
        email = self.email.text().strip()
        if email and not EMAIL.match(email):
            found.append("The email address looks incomplete (like name@example.com).")
        link = self.linkedin.text().strip()
        if link and url_problem(link):
            found.append("LinkedIn: " + str(url_problem(link)) + ".")
        return found


class PlanSection(ProfileSection):
    title = "Your plan"
    subtitle = "Integrations and features of a higher plan show as locked until you change it."

    DESCRIPTIONS = {
        "free": "Your pipeline, CSV import and export, notifications, calendars and storage.",
        "paid": "Everything in Free, plus sync to Notion, Airtable and Google Sheets.",
        "premium": "Everything in Paid, plus premium integrations.",
    }

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        for index, tier in enumerate(TIER_ORDER):
            button = QRadioButton(f"&{TIER_LABELS[tier]} — {self.DESCRIPTIONS[tier]}", self)
            self.group.addButton(button, index)
            self.buttons[tier] = button
            box.addWidget(button)
        self.group.idToggled.connect(lambda _i, on: on and self.changed.emit())
        self.error = _error_label(self)
        box.addWidget(self.error)
        box.addStretch(1)

    def selected(self) -> str:
        return next((t for t, b in self.buttons.items() if b.isChecked()), "free")

    def load(self, profile: UserProfile) -> None:
        self.buttons.get(profile.tier, self.buttons["free"]).setChecked(True)

    def apply(self, profile: UserProfile) -> None:
        profile.update(tier=self.selected())


class DocumentsSection(ProfileSection):
    title = "Résumé and documents"
    subtitle = ("Peregrine attaches these to jobs and can upload them to your storage. "
                "You can add them later.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.resume = QLineEdit(self)
        self.folder = QLineEdit(self)
        for label, line, pick in (("&Résumé file", self.resume, self._pick_resume),
                                  ("&Documents folder", self.folder, self._pick_folder)):
            line.setAccessibleName(label.replace("&", ""))
            line.textEdited.connect(self.changed)
            row = QHBoxLayout()
            row.addWidget(line, 1)
            browse = QPushButton("Browse…", self)
            browse.setAccessibleName(f"Browse for {label.replace('&', '')}")
            browse.clicked.connect(pick)
            row.addWidget(browse)
            text = QLabel(label, self)
            text.setBuddy(line)
            form.addRow(text, row)
        self.error = _error_label(self)
        form.addRow("", self.error)

    def _pick_resume(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose your résumé", self.resume.text(),
                                              "Documents (*.pdf *.docx *.doc *.odt *.txt *.md)"
                                              ";;All files (*)")
        if path:
            self.resume.setText(path)
            self.changed.emit()

    def _pick_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose your documents folder",
                                                self.folder.text())
        if path:
            self.folder.setText(path)
            self.changed.emit()

    def load(self, profile: UserProfile) -> None:
        self.resume.setText(profile.resume_path)
        self.folder.setText(profile.documents_folder)

    def apply(self, profile: UserProfile) -> None:
        profile.update(resume_path=self.resume.text().strip(),
                       documents_folder=self.folder.text().strip())

    def problems(self) -> list[str]:
        found = []
        resume = self.resume.text().strip()
        if resume and not Path(resume).expanduser().is_file():
            found.append(f"The résumé file {resume} does not exist; choose it with Browse….")
        folder = self.folder.text().strip()
        if folder and not Path(folder).expanduser().is_dir():
            found.append(f"The folder {folder} does not exist; choose one with Browse….")
        return found


def _lines(edit: QPlainTextEdit) -> list[str]:
    seen: list[str] = []
    for line in edit.toPlainText().splitlines():
        line = line.strip()
        if line and line not in seen:
            seen.append(line)
    return seen


class TargetsSection(ProfileSection):
    title = "What you are looking for"
    subtitle = "One per line. Peregrine uses these to highlight and filter postings."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.titles = QPlainTextEdit(self)
        self.titles.setPlaceholderText("Senior Python Engineer\nSite Reliability Engineer")
        self.locations = QPlainTextEdit(self)
        self.locations.setPlaceholderText("Berlin\nRemote (EU)")
        self.exclude = QPlainTextEdit(self)
        self.exclude.setPlaceholderText("unpaid\nclearance required")
        for label, edit in (("Job &titles *", self.titles), ("&Locations", self.locations),
                            ("&Exclude keywords", self.exclude)):
            edit.setFixedHeight(70)
            edit.setAccessibleName(label.replace("&", "").rstrip(" *"))
            edit.textChanged.connect(self.changed)
            text = QLabel(label, self)
            text.setBuddy(edit)
            form.addRow(text, edit)
        self.error = _error_label(self)
        form.addRow("", self.error)

    def load(self, profile: UserProfile) -> None:
        self.titles.setPlainText("\n".join(profile.target_titles))
        self.locations.setPlainText("\n".join(profile.target_locations))
        self.exclude.setPlainText("\n".join(profile.exclude_keywords))

    def apply(self, profile: UserProfile) -> None:
        profile.update(target_titles=_lines(self.titles),
                       target_locations=_lines(self.locations),
                       exclude_keywords=_lines(self.exclude))

    def problems(self) -> list[str]:
        found = []
        if not _lines(self.titles):
            found.append("Add at least one job title you are looking for.")
        for name, edit in (("job titles", self.titles), ("locations", self.locations),
                           ("keywords", self.exclude)):
            if len(_lines(edit)) > MAX_LINES:
                found.append(f"That is a lot of {name}; keep it under {MAX_LINES}.")
        return found


class NotificationsSection(ProfileSection):
    title = "Notifications"
    subtitle = ("Which pipeline events to announce through the notification services you "
                "connect (Slack, Discord, Home Assistant), and what goes to your calendars.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        self.boxes: dict[str, QCheckBox] = {}
        for event, text in NOTIFY_EVENTS.items():
            check = QCheckBox(text, self)
            check.toggled.connect(self.changed)
            self.boxes[event] = check
            box.addWidget(check)
        # Calendars: deadlines and next actions as all-day entries (opt-in).
        box.addSpacing(8)
        self.calendar_all_day = QCheckBox(CALENDAR_ALL_DAY_TEXT, self)
        self.calendar_all_day.setToolTip(CALENDAR_ALL_DAY_TIP)
        self.calendar_all_day.toggled.connect(self.changed)
        box.addWidget(self.calendar_all_day)
        self.error = _error_label(self)
        box.addWidget(self.error)
        box.addStretch(1)

    def load(self, profile: UserProfile) -> None:
        for event, check in self.boxes.items():
            check.setChecked(event in profile.notify_events)
        self.calendar_all_day.setChecked(profile.calendar_all_day)

    def apply(self, profile: UserProfile) -> None:
        profile.update(notify_events=[e for e, c in self.boxes.items() if c.isChecked()],
                       calendar_all_day=self.calendar_all_day.isChecked())


CALENDAR_ALL_DAY_TEXT = "Also put deadlines and next actions in &my calendar as all-day entries"
CALENDAR_ALL_DAY_TIP = ("Each job's application deadline and next action appear in the calendars "
                        "you connect (Google Calendar, CalDAV) on their day, and follow the job "
                        "when you change, clear or delete them. Turning this off removes the "
                        "entries Peregrine added; your interviews stay.")
