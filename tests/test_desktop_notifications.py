"""A reminder reaches the desktop's notification service over D-Bus (the path GNOME and most
desktops without a tray take): a private session bus with a service that checks the call's
signature as the specification gives it.  Runs in a child process under dbus-run-session, so
this test's bus never meets the rest of the suite."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent("""
    import json, os, subprocess, sys, time
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    record = sys.argv[1]
    service = subprocess.Popen([sys.executable, "-m", "tests.fakes.desktop_notifications",
                                record])
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from peregrine_desktop.ui.reminders import DesktopNotifier, _bus_has_notifications
    deadline = time.monotonic() + 10
    while not _bus_has_notifications() and time.monotonic() < deadline:
        time.sleep(0.02)
    notifier = DesktopNotifier()
    outcome = []
    notifier.sent.connect(lambda number: outcome.append(number))
    notifier.failed.connect(lambda reason: outcome.append(reason))
    queued = notifier.notify("Reminder", "Call Sam back — Backend Engineer at Acme (today)")
    deadline = time.monotonic() + 10
    while not outcome and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    service.kill()
    print(json.dumps({"channel": notifier.channel, "queued": queued, "outcome": outcome,
                      "received": [json.loads(line) for line in open(record)]}))
""")


@pytest.mark.skipif(shutil.which("dbus-run-session") is None, reason="needs dbus-run-session")
def test_a_reminder_goes_to_the_notification_service(tmp_path):
    env = {**os.environ, "XDG_RUNTIME_DIR": str(tmp_path)}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    record = tmp_path / "notifications.jsonl"
    record.touch()
    result = subprocess.run(["dbus-run-session", "--", sys.executable, "-c", CHILD, str(record)],
                            capture_output=True, text=True, timeout=60, env=env,
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["channel"] == "dbus" and report["queued"] is True, result.stderr
    assert report["outcome"] == [1], result.stderr          # the id the service gave it
    (app, replaces, icon, summary, body, actions, hints, timeout), = report["received"]
    assert (app, replaces, summary, body) == (
        "Peregrine", "0", "Reminder", "Call Sam back — Backend Engineer at Acme (today)")


def test_without_tray_or_service_only_the_window_shows_reminders(qtbot, monkeypatch):
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    from peregrine_desktop.ui.reminders import DesktopNotifier

    notifier = DesktopNotifier()
    assert notifier.channel == "" and notifier.notify("Reminder", "text") is False
