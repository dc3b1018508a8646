"""Reminders also reach the connected notifiers when the person chose that: through the event
hub's outbox to the real Slack integration talking to its loopback emulator."""
from __future__ import annotations

from datetime import datetime, timezone

from integrations.slack import SlackIntegration
from peregrine_desktop.settings.profile import UserProfile
from peregrine_desktop.ui.main_window import MainWindow
from tests.test_event_hub import (choose_notifications, drain, hub, quick_slack,  # noqa: F401
                                  repository, server, slack, texts)

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)


def open_window(qtbot, repository, hub, config_dir) -> MainWindow:  # noqa: F811
    window = MainWindow(UserProfile(config_dir / "user.yaml"), config_dir, repository, hub)
    qtbot.addWidget(window)
    window.show()
    window.start_reminders(clock=lambda: NOW)
    return window


def test_a_reminder_goes_to_slack_when_chosen(qtbot, hub, repository, slack,  # noqa: F811
                                              config_dir):
    SlackIntegration.save_config({"webhook_url": slack.url}, config_dir)
    repository.add_many([{"title": "SRE", "company": "ACME", "next_action_on": "2026-03-10",
                          "next_action_note": "Call Sam"}])          # bulk: no "new job" message
    choose_notifications(config_dir, ["reminder_due"])
    window = open_window(qtbot, repository, hub, config_dir)
    assert window.reminder_banner.isVisible()
    drain(qtbot, hub)
    assert texts(slack) == ["Peregrine reminder: Call Sam — SRE at ACME (today)"]


def test_without_the_choice_reminders_stay_on_this_computer(qtbot, hub, repository,  # noqa: F811
                                                            slack, config_dir):
    SlackIntegration.save_config({"webhook_url": slack.url}, config_dir)
    repository.add_many([{"title": "SRE", "company": "ACME", "deadline": "2026-03-10"}])
    choose_notifications(config_dir, ["status_changed"])
    window = open_window(qtbot, repository, hub, config_dir)
    assert "Application deadline for SRE at ACME (today)" in window.reminder_banner.body.text()
    drain(qtbot, hub)
    assert texts(slack) == []
