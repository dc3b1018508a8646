"""Reminders while the app runs: when a next action, deadline or interview comes due, the
desktop says so — through the system tray where there is one, else the freedesktop
notification service on the session bus, and always in a banner inside the window (which is
also where those that fell due while the app was closed appear at the next start).  Each
reminder fires once (``ReminderLog``); connected notifiers hear of it too when the person chose
"A reminder comes due" in their notification settings.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from peregrine_desktop.jobs.dates import Clock, DueWindow, system_clock
from peregrine_desktop.jobs.reminders import Reminder, ReminderLog

log = logging.getLogger(__name__)

#: How often due dates are looked at while the app runs.
CHECK_INTERVAL_MS = 60_000
#: The notifier choice (UserProfile.notify_events) that sends reminders to connected notifiers.
NOTIFY_CHOICE = "reminder_due"
_SHOWN_LINES = 3


def summary_text(reminders: list[Reminder], window: DueWindow) -> tuple[str, str]:
    """(title, body) of one notification for ``reminders``."""
    title = "Reminder" if len(reminders) == 1 else f"{len(reminders)} reminders"
    lines = [r.text(window) for r in reminders[:_SHOWN_LINES]]
    if len(reminders) > _SHOWN_LINES:
        lines.append(f"and {len(reminders) - _SHOWN_LINES} more")
    return title, "\n".join(lines)


class DesktopNotifier:
    """Shows a notification outside the window: the tray where the desktop has one, else the
    freedesktop Notifications service on the session bus.  ``channel`` names the one used
    ("tray", "dbus" or "" when neither exists: the window's banner is then all there is)."""

    def __init__(self, icon: QIcon | None = None) -> None:
        self.icon = icon or QIcon()
        self.tray = None
        self.channel = ""
        from PySide6.QtWidgets import QSystemTrayIcon

        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(self.icon)
            self.tray.setToolTip("Peregrine")
            self.tray.show()
            self.channel = "tray"
        elif self._bus_service() is not None:
            self.channel = "dbus"

    @staticmethod
    def _bus_service():
        try:
            from PySide6.QtDBus import QDBusConnection
        except ImportError:          # a Qt build without D-Bus (Windows, macOS)
            return None
        bus = QDBusConnection.sessionBus()
        if not bus.isConnected():
            return None
        names = bus.interface()
        if names is None or not names.isServiceRegistered(
                "org.freedesktop.Notifications").value():
            return None
        return bus

    def notify(self, title: str, body: str) -> bool:
        """True when the desktop took the notification."""
        if self.channel == "tray" and self.tray is not None:
            from PySide6.QtWidgets import QSystemTrayIcon

            self.tray.showMessage(title, body, QSystemTrayIcon.MessageIcon.Information, 15000)
            return True
        if self.channel == "dbus":
            from PySide6.QtDBus import QDBusInterface, QDBusMessage

            bus = self._bus_service()
            if bus is None:
                return False
            service = QDBusInterface("org.freedesktop.Notifications",
                                     "/org/freedesktop/Notifications",
                                     "org.freedesktop.Notifications", bus)
            reply = service.call("Notify", "Peregrine", 0, "appointment-soon", title, body,
                                 [], {}, -1)
            if reply.type() == QDBusMessage.MessageType.ErrorMessage:
                log.info("the notification service refused a reminder: %s",
                         reply.errorMessage())
                return False
            return True
        return False


class ReminderBanner(QFrame):
    """A non-modal strip at the top of the window listing what came due."""

    show_job = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reminderBanner")
        self.setStyleSheet("#reminderBanner { background: #fff4d6; border: 1px solid #e0b84c;"
                           " border-radius: 4px; } #reminderBanner QLabel { color: #3d2f00; }")
        self.reminders: list[Reminder] = []
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        text = QVBoxLayout()
        self.title = QLabel(self)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.body = QLabel(self)
        self.body.setTextFormat(Qt.TextFormat.PlainText)
        self.body.setWordWrap(True)
        text.addWidget(self.title)
        text.addWidget(self.body)
        layout.addLayout(text, 1)
        self.show_button = QPushButton("Show job", self)
        self.dismiss_button = QPushButton("Dismiss", self)
        self.show_button.clicked.connect(self._show_first)
        self.dismiss_button.clicked.connect(self.dismiss)
        layout.addWidget(self.show_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.dismiss_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def add(self, reminders: list[Reminder], window: DueWindow) -> None:
        known = {r.key for r in self.reminders}
        self.reminders += [r for r in reminders if r.key not in known]
        title, body = summary_text(self.reminders, window)
        self.title.setText(title)
        self.body.setText(body)
        self.show_button.setVisible(len({r.job_id for r in self.reminders}) >= 1)
        self.show()

    def _show_first(self) -> None:
        if self.reminders:
            self.show_job.emit(self.reminders[0].job_id)

    def dismiss(self) -> None:
        self.reminders = []
        self.hide()


class ReminderService(QObject):
    """Looks at the jobs' dates now and every minute (and soon after any change), and announces
    each reminder that came due and was never shown: ``due(reminders)``."""

    due = Signal(list)

    def __init__(self, log_: ReminderLog, jobs: Callable[[], Iterable[Mapping[str, Any]]], *,
                 clock: Clock = system_clock, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log = log_
        self.jobs = jobs
        self.clock = clock
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_INTERVAL_MS)
        self.timer.timeout.connect(self.check)
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(500)
        self._soon.timeout.connect(self.check)

    def start(self) -> None:
        """First look (what fell due while the app was closed), then every minute."""
        self.check()
        self.timer.start()

    def check_soon(self, *_args: Any) -> None:
        self._soon.start()

    def check(self) -> list[Reminder]:
        pending = self.log.pending(self.jobs(), self.clock())
        if pending:
            self.log.mark_fired(pending)
            self.due.emit(pending)
        return pending


def send_to_notifiers(hub: Any, reminders: list[Reminder], window: DueWindow) -> int:
    """Queue the reminders for every connected notifier when the person asked for that."""
    from peregrine_sdk.capabilities import Notifications
    from peregrine_desktop.events.outbox import Delivery

    if hub is None or NOTIFY_CHOICE not in hub.notify_events():
        return 0
    deliveries = [Delivery(target.name, reminder.job_id, NOTIFY_CHOICE, "notify",
                           {"message": reminder.text(window), "title": "Peregrine reminder",
                            "url": None, "revision": f"{reminder.kind}:{reminder.due}"},
                           f"the reminder “{reminder.text(window)}”")
                  for reminder in reminders for target in hub.targets(Notifications)]
    if deliveries:
        hub.outbox.enqueue(deliveries)
        hub.outbox_changed.emit()
        hub.scheduler.pump()
    return len(deliveries)
