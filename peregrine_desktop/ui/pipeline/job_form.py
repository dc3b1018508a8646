"""JobForm: every editable field of a job, shared by the Add/Edit dialog and the URL import.

The interview time is entered as wall-clock time in a chosen IANA zone and stored as ISO 8601 with
that zone's UTC offset, so a calendar can place it correctly whatever zone the computer is in.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, available_timezones

from PySide6.QtCore import QDate, QDateTime, QSize, Qt, QTime, QTimeZone, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QCompleter, QDateEdit, QDateTimeEdit,
                               QFormLayout, QFrame, QHBoxLayout, QLabel, QLayout, QLineEdit,
                               QPlainTextEdit, QScrollArea, QStyle, QWidget)

from peregrine_desktop.jobs import statuses
from peregrine_desktop.ui.field_problems import field_column, mark_field, problem_label
from peregrine_desktop.ui.fields import url_problem

_zones: list[str] = []


def zone_names() -> list[str]:
    if not _zones:
        _zones.extend(sorted(z for z in available_timezones()
                             if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/",
                                                               "right/"))))
        _zones.append("UTC")
    return _zones


def local_zone_name() -> str:
    name = bytes(QTimeZone.systemTimeZoneId()).decode() or "UTC"
    return name if name in zone_names() else "UTC"


def scrolling(form: QWidget, parent: QWidget) -> QScrollArea:
    """``form`` in a frameless area that scrolls up and down, never sideways: a dialog holding
    it fits a short screen with its buttons in view."""
    area = QScrollArea(parent)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(form)
    bar = parent.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, area)
    area.setMinimumWidth(form.minimumSizeHint().width() + bar)
    area.setMinimumHeight(min(form.minimumSizeHint().height(), 240))
    return area


def fitting_size(dialog: QWidget, wanted: QSize, parent: QWidget | None) -> QSize:
    """``wanted``, or what the screen holds of it beside the window frame."""
    screen = parent.screen() if parent is not None else dialog.screen()
    if screen is None:
        return wanted
    room = screen.availableGeometry().size() - QSize(16, 48)     # the title bar and frame
    return wanted.boundedTo(room).expandedTo(dialog.minimumSizeHint())


class DateChoice(QWidget):
    """An optional date: a check box that says whether it is set, and the date."""

    changed = Signal()

    def __init__(self, text: str = "Set", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.check = QCheckBox(text, self)
        self.date = QDateEdit(QDate.currentDate(), self)
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.date.setEnabled(False)
        row.addWidget(self.check)
        row.addWidget(self.date)
        row.addStretch(1)
        self.setFocusProxy(self.check)
        self.check.toggled.connect(self.date.setEnabled)
        self.check.toggled.connect(self.changed)
        self.date.dateChanged.connect(self.changed)

    def value(self) -> str | None:
        if not self.check.isChecked():
            return None
        day = self.date.date()
        return date(day.year(), day.month(), day.day()).isoformat()

    def set_value(self, value: str | None) -> None:
        for widget in (self.check, self.date):
            widget.blockSignals(True)
        self.check.setChecked(bool(value))
        self.date.setEnabled(bool(value))
        self.date.setDate(QDate.fromString(value, "yyyy-MM-dd") if value
                          else QDate.currentDate())
        for widget in (self.check, self.date):
            widget.blockSignals(False)


class FieldRule(NamedTuple):
    """A rule a field's value must pass: its problem shows in ``label``, under the field."""

    field: QWidget          # outlined while wrong
    label: QLabel
    focus: QWidget          # where the keyboard goes to fix it
    problem: Callable[[], "str | None"]


class JobForm(QWidget):
    """Fields for one job.  ``values()`` returns the job dict keys the store accepts.

    A field's problem shows right under it, the field outlined (``ui/field_problems.py``), and
    goes with the edit that fixes it; ``problem_label`` at the bottom is for what is not about
    one field (the store refusing the job)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QFormLayout(self)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.title = QLineEdit(self)
        self.title.setPlaceholderText("e.g. Senior Backend Engineer")
        self.company = QLineEdit(self)
        self.url = QLineEdit(self)
        self.url.setPlaceholderText("https://…")
        self.location = QLineEdit(self)
        self.location.setPlaceholderText("City, country")
        self.remote = QCheckBox("Remote", self)
        location_row = QHBoxLayout()
        location_row.addWidget(self.location, 1)
        location_row.addWidget(self.remote)
        self.salary = QLineEdit(self)
        self.salary.setPlaceholderText("e.g. EUR 70,000–85,000 per year")
        self.source = QLineEdit(self)
        self.source.setPlaceholderText("Where you found it")
        self.date_found = QDateEdit(QDate.currentDate(), self)
        self.date_found.setCalendarPopup(True)
        self.date_found.setDisplayFormat("yyyy-MM-dd")
        self.status = QComboBox(self)
        self.applied_on = DateChoice("Set", self)
        self.deadline = DateChoice("Set", self)
        self.next_action_on = DateChoice("Set", self)
        self.next_action_note = QLineEdit(self)
        self.next_action_note.setPlaceholderText("e.g. Follow up with the recruiter")
        self.next_action_note.setMaxLength(200)
        next_row = QHBoxLayout()
        next_row.addWidget(self.next_action_on)
        next_row.addWidget(self.next_action_note, 1)
        self.has_interview = QCheckBox("Scheduled", self)
        self.interview_at = QDateTimeEdit(self)
        self.interview_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.interview_at.setCalendarPopup(True)
        self.interview_at.setDateTime(QDateTime(QDate.currentDate().addDays(1), QTime(10, 0)))
        self.interview_tz = QComboBox(self)
        self.interview_tz.setEditable(True)
        self.interview_tz.addItems(zone_names())
        self.interview_tz.setCurrentText(local_zone_name())
        completer = QCompleter(zone_names(), self.interview_tz)
        completer.setFilterMode(completer.filterMode().MatchContains)
        completer.setCaseSensitivity(completer.caseSensitivity().CaseInsensitive)
        self.interview_tz.setCompleter(completer)
        self.interview_tz.setMinimumContentsLength(16)
        interview_row = QHBoxLayout()
        interview_row.addWidget(self.has_interview)
        interview_row.addWidget(self.interview_at, 1)
        interview_row.addWidget(self.interview_tz, 1)
        self.description = QPlainTextEdit(self)
        self.description.setMinimumHeight(110)
        self.notes = QPlainTextEdit(self)
        self.notes.setPlaceholderText("Contacts, follow-ups, impressions…")
        self.notes.setMaximumHeight(80)
        for text in (self.description, self.notes):
            text.setTabChangesFocus(True)    # Tab goes on to the next field, as in every other
        self.problem_label = problem_label(self)
        self.rules: list[FieldRule] = []

        self._checked_row(layout, "&Title *", self.title, self._title_problem)
        layout.addRow("&Company", self.company)
        self._checked_row(layout, "&Posting URL", self.url,
                          lambda: url_problem(self.url.text().strip()))
        layout.addRow(self._buddy("&Location", self.location), location_row)
        layout.addRow("&Salary", self.salary)
        layout.addRow("S&ource", self.source)
        layout.addRow("&Found on", self.date_found)
        layout.addRow("Stat&us", self.status)
        layout.addRow(self._buddy("&Applied on", self.applied_on), self.applied_on)
        layout.addRow(self._buddy("D&eadline", self.deadline), self.deadline)
        self._checked_row(layout, "Ne&xt action", self.next_action_note, self._next_problem,
                          row=next_row, focus=self.next_action_on)
        self._checked_row(layout, "&Interview", self.interview_tz, self._zone_problem,
                          row=interview_row, focus=self.has_interview)
        layout.addRow("&Description", self.description)
        layout.addRow("&Notes", self.notes)
        layout.addRow(self.problem_label)

        self.set_status_choices(list(statuses.STATUSES), statuses.PENDING)
        self.has_interview.toggled.connect(self._sync_interview)
        self._sync_interview(False)
        for edit in (self.title, self.company, self.url, self.location, self.salary, self.source):
            edit.textChanged.connect(self.changed)
        self.remote.toggled.connect(self.changed)
        for choice in (self.applied_on, self.deadline, self.next_action_on):
            choice.changed.connect(self.changed)
        self.next_action_note.textChanged.connect(self.changed)
        self.status.currentIndexChanged.connect(self.changed)
        self.interview_tz.currentTextChanged.connect(self.changed)
        self.changed.connect(self._recheck)

    def label_width(self) -> int:
        """The width of the label column, for a row above the form to line up with it."""
        return max((label.sizeHint().width() for label in self._labels()), default=0)

    def widen_labels(self, width: int) -> None:
        """Make the label column at least ``width`` wide (a row above has a longer label)."""
        for label in self._labels():
            label.setMinimumWidth(width)

    def _labels(self) -> list[QWidget]:
        layout = self.layout()
        items = (layout.itemAt(row, QFormLayout.ItemRole.LabelRole)
                 for row in range(layout.rowCount()))
        return [item.widget() for item in items if item is not None and item.widget()]

    def _buddy(self, text: str, widget: QWidget) -> QLabel:
        """A row label whose mnemonic focuses ``widget`` (rows holding a layout need one)."""
        label = QLabel(text, self)
        label.setBuddy(widget)
        return label

    def _sync_interview(self, on: bool) -> None:
        self.interview_at.setEnabled(on)
        self.interview_tz.setEnabled(on)
        self.changed.emit()

    def set_status_choices(self, choices: list[str], current: str) -> None:
        """Offer ``current`` and the statuses it may move to."""
        self.status.blockSignals(True)
        self.status.clear()
        for status in statuses.STATUSES:
            if status == current or status in choices:
                self.status.addItem(statuses.label(status), status)
        self.status.setCurrentIndex(max(0, self.status.findData(current)))
        self.status.blockSignals(False)

    def set_values(self, job: dict[str, Any]) -> None:
        self.title.setText(job.get("title") or "")
        self.company.setText(job.get("company") or "")
        self.url.setText(job.get("url") or "")
        self.location.setText(job.get("location") or "")
        self.remote.setChecked(bool(job.get("remote")))
        self.salary.setText(job.get("salary") or "")
        self.source.setText(job.get("source") or "")
        if job.get("date_found"):
            self.date_found.setDate(QDate.fromString(job["date_found"], "yyyy-MM-dd"))
        if job.get("status"):
            index = self.status.findData(job["status"])
            if index >= 0:
                self.status.setCurrentIndex(index)
        self.applied_on.set_value(job.get("applied_on"))
        self.deadline.set_value(job.get("deadline"))
        self.next_action_on.set_value(job.get("next_action_on"))
        self.next_action_note.setText(job.get("next_action_note") or "")
        self.description.setPlainText(job.get("description") or "")
        self.notes.setPlainText(job.get("notes") or "")
        moment = job.get("interview_at")
        self.has_interview.setChecked(bool(moment))
        if moment:
            zone = job.get("interview_tz") or local_zone_name()
            wall = datetime.fromisoformat(moment).astimezone(ZoneInfo(zone))
            self.interview_at.setDateTime(QDateTime(QDate(wall.year, wall.month, wall.day),
                                                    QTime(wall.hour, wall.minute)))
            self.interview_tz.setCurrentText(zone)

    def _checked_row(self, layout: QFormLayout, text: str, field: QWidget,
                     problem: Callable[[], str | None], row: QLayout | None = None,
                     focus: QWidget | None = None) -> None:
        """A row (``field``, or the ``row`` holding it) with the line for its problem under it;
        the label's mnemonic and a problem both bring the keyboard to ``focus``."""
        focus = focus or field
        column, label = field_column(self, field, row)
        layout.addRow(self._buddy(text, focus), column)
        self.rules.append(FieldRule(field, label, focus, problem))

    def _title_problem(self) -> str | None:
        return None if self.title.text().strip() else "Enter the job's title."

    def _next_problem(self) -> str | None:
        if self.next_action_note.text().strip() and not self.next_action_on.value():
            return "Tick “Set” and choose the day for the next action, or clear its note."
        return None

    def _zone_problem(self) -> str | None:
        if self.has_interview.isChecked() and self.interview_tz.currentText() not in zone_names():
            return "Choose the interview's time zone from the list (like Europe/Berlin)."
        return None

    def problems(self) -> list[str]:
        """What must be fixed before saving, a sentence each (without showing them)."""
        return [text for rule in self.rules if (text := rule.problem())]

    def problem(self) -> str | None:
        """The first thing to fix before saving; None when the form is fine."""
        return next(iter(self.problems()), None)

    def mark_problems(self) -> QWidget | None:
        """Show every problem under its field; the widget to fix the first one in (the caller
        brings it into view and focuses it), or None when there is nothing to fix."""
        first = None
        for rule in self.rules:
            text = rule.problem()
            mark_field(rule.field, rule.label, text)
            if text and first is None:
                first = rule.focus
        return first

    def problem_under(self, field: QWidget) -> str:
        """The problem shown under ``field`` ("" when none is shown)."""
        return next((rule.label.text() for rule in self.rules
                     if rule.field is field and not rule.label.isHidden()), "")

    def _recheck(self) -> None:
        """After an edit: a problem shown is checked again (fixed, it goes; the others stay)."""
        for rule in self.rules:
            if not rule.label.isHidden():
                mark_field(rule.field, rule.label, rule.problem())

    def show_problem(self, text: str | None) -> None:
        """A problem about the whole job (the store refused it) under the fields; None hides it."""
        self.problem_label.setText(text or "")
        self.problem_label.setVisible(bool(text))

    def values(self) -> dict[str, Any]:
        found = self.date_found.date()
        values: dict[str, Any] = {
            "title": self.title.text().strip(),
            "company": self.company.text().strip(),
            "url": self.url.text().strip(),
            "location": self.location.text().strip(),
            "remote": self.remote.isChecked(),
            "salary": self.salary.text().strip(),
            "source": self.source.text().strip(),
            "date_found": date(found.year(), found.month(), found.day()).isoformat(),
            "status": self.status.currentData(),
            "description": self.description.toPlainText().strip(),
            "notes": self.notes.toPlainText().strip(),
            "applied_on": self.applied_on.value(),
            "deadline": self.deadline.value(),
            "next_action_on": self.next_action_on.value(),
            "next_action_note": self.next_action_note.text().strip(),
            "interview_at": None,
            "interview_tz": None,
        }
        if self.has_interview.isChecked():
            zone = self.interview_tz.currentText()
            moment = self.interview_at.dateTime()
            day, clock = moment.date(), moment.time()
            values["interview_at"] = datetime(day.year(), day.month(), day.day(), clock.hour(),
                                              clock.minute(), tzinfo=ZoneInfo(zone)).isoformat()
            values["interview_tz"] = zone
        return values
