"""The profile sections (identity, plan, documents, targets, notifications) as widgets.

Each section reads from and writes to a UserProfile and says what is wrong beside the field it is
about (``ui/field_problems.py``, as the connection cards do); the setup wizard shows the sections
the app acts on, one per page, and Settings shows them all as tabs, so both stay the same.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLayout, QLineEdit, QPlainTextEdit, QPushButton,
                               QRadioButton, QVBoxLayout, QWidget)

from peregrine_desktop.settings.profile import NOTIFY_EVENTS, UserProfile
from peregrine_desktop.settings.tiers import TIER_LABELS, TIER_ORDER
from peregrine_desktop.ui.field_problems import mark_field, problem_label
from peregrine_desktop.ui.fields import url_problem

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_LINES = 200

#: What is wrong with a field's current value, in a sentence; None when it is fine.
Rule = Callable[[], "str | None"]


def _error_label(parent: QWidget) -> QLabel:
    label = QLabel("", parent)
    label.setObjectName("sectionError")
    label.setStyleSheet("color: #c62828;")
    label.setWordWrap(True)
    label.hide()
    return label


def with_mnemonic(text: str, used: set[str]) -> str:
    """``text`` with ``&`` before its first letter not in ``used`` (then added to it)."""
    for index, char in enumerate(text):
        if char.isalnum() and char.lower() not in used:
            used.add(char.lower())
            return f"{text[:index]}&{text[index:]}"
    return text


class FieldCheck:
    """One field, the line under it, and the rule its value must pass."""

    def __init__(self, field: QWidget, label: QLabel, rule: Rule) -> None:
        self.field, self.label, self.rule = field, label, rule

    def run(self) -> str | None:
        problem = self.rule()
        mark_field(self.field, self.label, problem)
        return problem

    def recheck(self) -> None:
        """After an edit: a field shown as wrong is checked again (fixed, its mark goes)."""
        if self.label.isVisible():
            self.run()


class ProfileSection(QWidget):
    """Base for a section: ``load``, ``apply``, ``problems``; ``changed`` on any edit."""

    changed = Signal()
    title = ""
    subtitle = ""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.checks: list[FieldCheck] = []

    def load(self, profile: UserProfile) -> None:
        raise TypeError(f"{type(self).__name__} must define load()")

    def apply(self, profile: UserProfile) -> None:
        raise TypeError(f"{type(self).__name__} must define apply()")

    def add_row(self, form: QFormLayout, text: str, field: QWidget,
                rule: Rule | None = None, beside: QLayout | None = None) -> None:
        """A labelled row: ``field`` (or the ``beside`` layout holding it) with its problem
        line underneath; ``text``'s mnemonic focuses the field."""
        field.setAccessibleName(text.replace("&", "").rstrip(" *"))
        column = QVBoxLayout()
        column.setSpacing(2)
        if beside is not None:
            column.addLayout(beside)
        else:
            column.addWidget(field)
        label = QLabel(text, self)
        label.setBuddy(field)
        form.addRow(label, column)
        signal = getattr(field, "textEdited", None) or field.textChanged
        signal.connect(self.changed)
        if rule is not None:
            error = problem_label(self)
            column.addWidget(error)
            check = FieldCheck(field, error, rule)
            signal.connect(check.recheck)
            field.textChanged.connect(check.recheck)     # also a path chosen with Browse…
            self.checks.append(check)

    def problems(self) -> list[str]:
        """Every problem of the section, in words (without showing them)."""
        return [problem for check in self.checks if (problem := check.rule())]

    def show_problems(self) -> bool:
        """Show each problem beside its field (the first one focused), and any about the whole
        section under it (in ``error``, when the section has one); True when there are none."""
        found = [check for check in self.checks if check.run()]
        beside = {check.label.text() for check in found}
        general = [problem for problem in self.problems() if problem not in beside]
        error = getattr(self, "error", None)
        if error is not None:
            error.setText("\n".join(general))
            error.setVisible(bool(general))
        if found:
            found[0].field.setFocus()
        return not found and not general


class IdentitySection(ProfileSection):
    """Who you are: kept with your settings and brought over by an import from Peregrine in
    the browser; the desktop app sends none of it anywhere (so none of it is asked in setup)."""

    title = "About you"
    subtitle = ("Kept in your settings on this computer (an import from Peregrine in your "
                "browser fills them in); Peregrine Desktop sends none of it anywhere.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.name = QLineEdit(self)
        self.email = QLineEdit(self)
        self.email.setPlaceholderText("name@example.com")
        self.phone = QLineEdit(self)
        self.linkedin = QLineEdit(self)
        self.linkedin.setPlaceholderText("https://www.linkedin.com/in/…")
        self.summary = QPlainTextEdit(self)
        self.summary.setPlaceholderText("Two or three sentences about your experience and "
                                        "what you are looking for.")
        self.summary.setFixedHeight(90)
        self.summary.setTabChangesFocus(True)       # Tab leaves the box; it never types a tab
        self.add_row(form, "N&ame", self.name)
        self.add_row(form, "&Email", self.email, self._email_problem)
        self.add_row(form, "P&hone", self.phone)
        self.add_row(form, "Lin&kedIn", self.linkedin, self._linkedin_problem)
        self.add_row(form, "Career &summary", self.summary)

    def _email_problem(self) -> str | None:
        email = self.email.text().strip()
        if email and not EMAIL.match(email):
            return "This email address looks incomplete (like name@example.com)."
        return None

    def _linkedin_problem(self) -> str | None:
        return url_problem(self.linkedin.text().strip())

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
        used = {"p"}    # Paid and Premium share P, and Settings' Profile tab has Alt+P
        for index, tier in enumerate(TIER_ORDER):
            label = with_mnemonic(TIER_LABELS[tier], used)
            button = QRadioButton(f"{label} — {self.DESCRIPTIONS[tier]}", self)
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
    subtitle = ("Kept in your settings (an import from Peregrine in your browser fills them "
                "in). Attach files to a job in its Documents tab.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.resume = QLineEdit(self)
        self.folder = QLineEdit(self)
        for label, line, pick, rule in (
                ("&Résumé file", self.resume, self._pick_resume, self._resume_problem),
                ("&Documents folder", self.folder, self._pick_folder, self._folder_problem)):
            row = QHBoxLayout()
            row.addWidget(line, 1)
            browse = QPushButton("Browse…", self)
            browse.setAccessibleName(f"Browse for {label.replace('&', '')}")
            browse.clicked.connect(pick)
            row.addWidget(browse)
            self.add_row(form, label, line, rule, beside=row)

    def _resume_problem(self) -> str | None:
        resume = self.resume.text().strip()
        if resume and not Path(resume).expanduser().is_file():
            return "There is no file at this path. Correct it, or choose the file with Browse…"
        return None

    def _folder_problem(self) -> str | None:
        folder = self.folder.text().strip()
        if folder and not Path(folder).expanduser().is_dir():
            return "There is no folder at this path. Correct it, or choose one with Browse…"
        return None

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


def _lines(edit: QPlainTextEdit) -> list[str]:
    seen: list[str] = []
    for line in edit.toPlainText().splitlines():
        line = line.strip()
        if line and line not in seen:
            seen.append(line)
    return seen


class TargetsSection(ProfileSection):
    title = "What you are looking for"
    subtitle = ("All optional, one per line. Jobs whose title and place match are marked ★ "
                "in your pipeline, and “Matches my targets” shows only them; a job holding an "
                "excluded keyword is flagged, and adding one from its web address asks first.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.titles = QPlainTextEdit(self)
        self.titles.setPlaceholderText("Senior Python Engineer\nSite Reliability Engineer")
        self.locations = QPlainTextEdit(self)
        self.locations.setPlaceholderText("Berlin\nRemote")
        self.exclude = QPlainTextEdit(self)
        self.exclude.setPlaceholderText("unpaid\nclearance required")
        for label, edit, name in (("Job &titles", self.titles, "job titles"),
                                  ("L&ocations", self.locations, "locations"),
                                  ("E&xclude keywords", self.exclude, "keywords")):
            edit.setFixedHeight(70)
            edit.setTabChangesFocus(True)       # Tab moves on; Enter starts a new line
            self.add_row(form, label, edit, lambda e=edit, n=name: self._too_many(e, n))

    @staticmethod
    def _too_many(edit: QPlainTextEdit, name: str) -> str | None:
        if len(_lines(edit)) > MAX_LINES:
            return f"That is a lot of {name}; keep it under {MAX_LINES}."
        return None

    def load(self, profile: UserProfile) -> None:
        self.titles.setPlainText("\n".join(profile.target_titles))
        self.locations.setPlainText("\n".join(profile.target_locations))
        self.exclude.setPlainText("\n".join(profile.exclude_keywords))

    def apply(self, profile: UserProfile) -> None:
        profile.update(target_titles=_lines(self.titles),
                       target_locations=_lines(self.locations),
                       exclude_keywords=_lines(self.exclude))


class NotificationsSection(ProfileSection):
    title = "Notifications"
    subtitle = ("Which pipeline events to announce through the notification services you "
                "connect (Slack, Discord, Home Assistant, …).")

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
        box.addStretch(1)

    def load(self, profile: UserProfile) -> None:
        for event, check in self.boxes.items():
            check.setChecked(event in profile.notify_events)

    def apply(self, profile: UserProfile) -> None:
        profile.update(notify_events=[e for e, c in self.boxes.items() if c.isChecked()])
