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
from PySide6.QtGui import QIcon, QPaintEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from peregrine_desktop.jobs.dates import Clock, DueWindow, system_clock
from peregrine_desktop.jobs.reminders import Reminder, ReminderLog

log = logging.getLogger(__name__)

#: How often due dates are looked at while the app runs.
CHECK_INTERVAL_MS = 60_000
NOTIFICATIONS = "org.freedesktop.Notifications"
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


def _bus_has_notifications() -> bool:
    """Whether the session bus offers the freedesktop Notifications service (QtDBus)."""
    try:
        from PySide6.QtDBus import QDBusConnection
    except ImportError:          # a Qt build without D-Bus (Windows, macOS)
        return False
    bus = QDBusConnection.sessionBus()
    if not bus.isConnected() or bus.interface() is None:
        return False
    return bool(bus.interface().isServiceRegistered(NOTIFICATIONS).value())


def send_desktop_notification(title: str, body: str) -> int:
    """Notify over the session bus; returns the notification's id (worker pool: it blocks).

    QtDBus from Python cannot type the arguments as the specification requires (a Python int
    goes out as int32, ``[]`` as an array of variants, and notification daemons refuse
    ``sisssava{sv}i``), so the call is made with jeepney, which keyring already brings on
    Linux, with the signature spelled out."""
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    address = DBusAddress("/org/freedesktop/Notifications", bus_name=NOTIFICATIONS,
                          interface=NOTIFICATIONS)
    message = new_method_call(address, "Notify", "susssasa{sv}i",
                              ("Peregrine", 0, "appointment-soon", title, body, [], {}, -1))
    with open_dbus_connection(bus="SESSION") as conn:
        reply = conn.send_and_get_reply(message, timeout=5)
    if reply.header.message_type.name == "error":
        raise RuntimeError(" ".join(map(str, reply.body)) or "the service refused it")
    return int(reply.body[0])


class DesktopNotifier(QObject):
    """Shows a notification outside the window: the tray where the desktop has one, else the
    freedesktop Notifications service on the session bus.  ``channel`` names the one used
    ("tray", "dbus" or "" when neither exists: the window's banner is then all there is);
    ``sent(id)`` / ``failed(reason)`` report how a bus notification went."""

    sent = Signal(int)
    failed = Signal(str)

    def __init__(self, icon: QIcon | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.icon = icon or QIcon()
        self.tray = None
        self.channel = ""
        from PySide6.QtWidgets import QSystemTrayIcon

        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(self.icon, self)
            self.tray.setToolTip("Peregrine")
            self.tray.show()
            self.channel = "tray"
        elif _bus_has_notifications():
            from peregrine_desktop.workers import TaskRunner

            self.runner = TaskRunner(self)
            self.channel = "dbus"

    def notify(self, title: str, body: str) -> bool:
        """True when the notification went to the tray or is on its way to the bus."""
        if self.channel == "tray" and self.tray is not None:
            from PySide6.QtWidgets import QSystemTrayIcon

            self.tray.showMessage(title, body, QSystemTrayIcon.MessageIcon.Information, 15000)
            return True
        if self.channel == "dbus":
            self.runner.start(send_desktop_notification, title, body,
                              key=f"notify-{title}-{body}", timeout_ms=10_000,
                              on_success=self.sent.emit, on_failure=self._failed)
            return True
        return False

    def _failed(self, error: BaseException) -> None:
        log.info("the notification service refused a reminder: %s", error)
        self.failed.emit(str(error))


#: The reminder banner's accent, mixed into the window colour (see ``paintEvent``).
AMBER = "#e0a82e"


class ReminderBanner(QFrame):
    """A non-modal strip at the top of the window listing what came due."""

    show_job = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reminderBanner")
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

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        """An amber strip mixed into the current palette's window colour, drawn afresh on every
        paint: it stays readable under the palette's own text when the desktop turns dark."""
        from PySide6.QtCore import QRectF
        from PySide6.QtGui import QPainter, QPen

        from peregrine_desktop.lifecycle.appearance import tinted

        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(tinted(self.palette(), AMBER, 0.7), 1))
        painter.setBrush(tinted(self.palette(), AMBER, 0.2))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 4, 4)

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
