"""The profile sections (identity, plan, documents, targets, notifications) as widgets.

Each section reads from and writes to a UserProfile and says what is wrong beside the field it is
about (``ui/field_problems.py``, as the connection cards do); the setup wizard shows the sections
the app acts on, one per page, and Settings shows them all as tabs, so both stay the same.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (QCheckBox, QFormLayout, QGridLayout, QHBoxLayout,
                               QLabel, QLayout, QLineEdit, QPlainTextEdit, QPushButton,
                               QVBoxLayout, QWidget)

from peregrine_desktop.settings.profile import NOTIFY_EVENTS, UserProfile
from peregrine_desktop.settings.tiers import TIER_LABELS, TIER_ORDER, plan_unlocks
from peregrine_desktop.ui.dialog_keys import side_button
from peregrine_desktop.ui.field_problems import (PROBLEM_COLOUR, field_column, is_marked,
                                                 mark_field, outline)
from peregrine_desktop.ui.fields import url_problem
from peregrine_desktop.ui.plain_text import plain_label
from peregrine_desktop.ui import colours
from peregrine_desktop.ui.colours import text_style

if TYPE_CHECKING:  # pragma: no cover
    from peregrine_desktop.settings.licence import LicenceStatus

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_LINES = 200

#: What is wrong with a field's current value, in a sentence; None when it is fine.
Rule = Callable[[], "str | None"]


def _error_label(parent: QWidget) -> QLabel:
    label = QLabel("", parent)
    label.setObjectName("sectionError")
    label.setStyleSheet(text_style(colours.PROBLEM))
    label.setWordWrap(True)
    label.hide()
    return label


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
        column, error = field_column(self, field, beside, checked=rule is not None)
        label = QLabel(text, self)
        label.setBuddy(field)
        form.addRow(label, column)
        signal = getattr(field, "textEdited", None) or field.textChanged
        signal.connect(self.changed)
        if rule is not None:
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
        self.add_row(form, "Na&me", self.name)
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
    """What each plan unlocks, and the licence key that decides which one is yours.

    Free needs no key.  A key is checked on this computer (``settings/licence.py``) and saved
    as soon as Activate accepts it; the profile then tells every window of the new plan."""

    title = "Your plan"
    subtitle = ("Free needs no key. A Paid or Premium licence key is checked on this computer, "
                "without going online, and counts as soon as you press Activate.")

    def __init__(self, parent: QWidget | None = None, integrations: Iterable[Any] | None = None
                 ) -> None:
        super().__init__(parent)
        self._profile: UserProfile | None = None
        self._stale = False                            # load() came while hidden
        self._tried: tuple[str, bool] | None = None    # the last key Activate saw, and if it won
        self._integrations = integrations
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        table = QGridLayout()
        table.setColumnStretch(1, 1)
        self.plan_names: dict[str, QLabel] = {}
        self.plans: dict[str, QLabel] = {}
        for row, tier in enumerate(TIER_ORDER):
            name = QLabel(TIER_LABELS[tier], self)
            name.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            label = plain_label("", self, word_wrap=True)
            label.setAccessibleName(f"{TIER_LABELS[tier]} plan")
            self.plan_names[tier], self.plans[tier] = name, label
            table.addWidget(name, row, 0)
            table.addWidget(label, row, 1)
        bold = self.font()
        bold.setBold(True)       # the column fits "Premium (yours)" from the start: labels
        widest = max(QFontMetrics(bold).horizontalAdvance(f"{n} (yours)")   # wrap once
                     for n in TIER_LABELS.values())
        table.setColumnMinimumWidth(0, widest + 4)
        box.addLayout(table)
        box.addSpacing(8)
        self.current = plain_label("", self, word_wrap=True)
        self.current.setObjectName("currentPlan")
        box.addWidget(self.current)

        keys = QGridLayout()
        keys.setColumnStretch(1, 1)
        self.key = QLineEdit(self)
        self.key.setPlaceholderText("Paste your licence key")
        self.key.setAccessibleName("Licence key")
        self.key.textEdited.connect(self._key_edited)
        self.activate_button = QPushButton("Acti&vate", self)
        self.activate_button.setAutoDefault(False)
        self.activate_button.setEnabled(False)
        self.activate_button.clicked.connect(self.activate)
        text = QLabel("Licence &key", self)
        text.setBuddy(self.key)
        keys.addWidget(text, 0, 0)
        keys.addWidget(self.key, 0, 1)
        keys.addWidget(self.activate_button, 0, 2)
        self.result = plain_label("", self, word_wrap=True)
        self.result.setObjectName("licenceResult")
        self.result.setAccessibleName("Licence key result")
        keys.addWidget(self.result, 1, 1, 1, 2)
        self.remove_button = QPushButton("Re&move key", self)
        self.remove_button.setAutoDefault(False)
        self.remove_button.setToolTip("Forget the saved key: this computer goes back to Free")
        self.remove_button.clicked.connect(self.remove)
        self.remove_button.hide()
        keys.addWidget(self.remove_button, 2, 1, Qt.AlignmentFlag.AlignLeft)
        box.addLayout(keys)
        box.addStretch(1)

    def showEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        """Filled when first shown: the wizard resuming past this page (before its first
        paint) neither imports the plugins nor checks the key."""
        if not self.plans["free"].text():
            self._fill_plans()
        if self._stale:
            self._refresh()
        super().showEvent(event)

    def _fill_plans(self) -> None:
        classes = self._integrations
        if classes is None:
            import integrations     # discovered on a worker after the first paint, by now

            classes = integrations.REGISTRY.values()
        unlocks = plan_unlocks(classes)
        below = ""
        for tier in TIER_ORDER:
            self.plans[tier].setText(self._plan_text(below, unlocks[tier]))
            below = TIER_LABELS[tier]

    @staticmethod
    def _plan_text(below: str, adds: list[str]) -> str:
        if not below:
            text = "; ".join(adds)
            return f"{text[:1].upper()}{text[1:]}."
        if not adds:
            return f"Everything in {below}; no installed integration needs more yet."
        return f"Everything in {below}, plus {'; '.join(adds)}."

    # -- showing the plan -------------------------------------------------------------------------
    def _show_result(self, message: str, level: str) -> None:
        """What the key means, under the field; a key that cannot be used outlines it too."""
        colour = {"ok": "", "warning": "color: #b26a00;",
                  "error": f"color: {PROBLEM_COLOUR};"}[level]
        self.result.setStyleSheet(colour)
        self.result.setText(message)
        outline(self.key, message if level == "error" else None)

    def _show_plan(self, status: LicenceStatus) -> None:
        from peregrine_desktop.settings import licence

        tier = status.tier
        self.current.setText(f"You are on the {TIER_LABELS.get(tier, tier)} plan.")
        for name, label in self.plan_names.items():
            font = label.font()
            font.setBold(name == tier)
            label.setFont(font)
            label.setText(TIER_LABELS[name] + (" (yours)" if name == tier else ""))
        self.remove_button.setVisible(status.state != licence.NONE)

    def load(self, profile: UserProfile) -> None:
        self._profile = profile
        self._stale = True
        if self.isVisible():
            self._refresh()
        self._update_activate()

    def _refresh(self) -> None:
        """Show the saved key's plan and what it means today."""
        from peregrine_desktop.settings import licence

        self._stale = False
        if self._profile is None:
            return
        status = self._profile.licence_status()
        self._show_plan(status)
        if status.state == licence.NONE:
            self._show_result("Free needs no key.", "ok")
        else:
            self._show_result(status.message, {licence.VALID: "ok",
                                               licence.GRACE_PERIOD: "warning"}.get(
                                                   status.state, "error"))

    def apply(self, profile: UserProfile) -> None:
        """Nothing to write: Activate and Remove key save the licence when pressed."""

    def _update_activate(self) -> None:
        self.activate_button.setEnabled(self._profile is not None and bool(self.key.text().strip()))

    def _key_edited(self) -> None:
        self._update_activate()
        if is_marked(self.key) and not self.problems():
            self._refresh()                 # the problem goes once the field is fixed
        self.changed.emit()

    def show_problems(self) -> bool:
        """A pasted key that was not activated keeps the person here: said under the field,
        which is outlined and focused."""
        problems = self.problems()
        if problems:
            self._show_result(problems[0], "error")
            self.key.setFocus()
        return not problems

    def activate(self) -> None:
        """Check the pasted key; show what it means beside the field."""
        from peregrine_desktop.settings import licence

        token = self.key.text().strip()
        if self._profile is None or not token:
            return
        try:
            status = self._profile.activate_licence(token)
        except licence.LicenceError as exc:
            self._tried = (token, False)
            self._show_result(str(exc), "error")
        except OSError as exc:
            self._tried = (token, False)
            self._show_result(f"The key is valid but could not be saved ({exc.strerror or exc}). "
                              f"Check that {self._profile.path.parent} is writable, then press "
                              "Activate again.", "error")
        else:
            self._tried = (token, True)
            self.key.clear()
            self._show_plan(status)
            self._show_result(status.message, "ok" if status.state == licence.VALID
                              else "warning")
        self._update_activate()

    def remove(self) -> None:
        """Forget the saved key, after asking (its plan's features lock again)."""
        from peregrine_desktop.ui.plain_text import Button, ask

        if self._profile is None:
            return
        plan = TIER_LABELS.get(self._profile.tier, "")
        question = (f"Remove your licence key from this computer? {plan} features lock until "
                    "you paste the key again." if self._profile.tier != "free" else
                    "Remove the saved licence key from this computer?")
        if ask(self, "Remove licence key", question) != Button.Yes:
            return
        try:
            self._profile.remove_licence()
        except OSError as exc:
            self._show_result(f"The key could not be removed ({exc.strerror or exc}).", "error")
            return
        self._show_plan(self._profile.licence_status())
        self._show_result("Key removed: you are on the Free plan, which needs no key.", "ok")

    def problems(self) -> list[str]:
        token = self.key.text().strip()
        if not token:
            return []
        if self._tried == (token, False):
            return ["The licence key you pasted cannot be used (the reason is beside it): "
                    "correct it, or clear the field to continue without it."]
        return ["Press Activate to use the licence key you pasted, or clear the field."]


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
            browse = side_button("Browse…", self)
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
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(self, "Choose your résumé", self.resume.text(),
                                              "Documents (*.pdf *.docx *.doc *.odt *.txt *.md)"
                                              ";;All files (*)")
        if path:
            self.resume.setText(path)
            self.changed.emit()

    def _pick_folder(self) -> None:
        from PySide6.QtWidgets import QFileDialog

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
