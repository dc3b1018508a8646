"""The activity log a person opens: what was sent, what waits and why, and Retry now."""
from __future__ import annotations

import pytest

from peregrine_sdk.http import RetryPolicy
from integrations.discord import DiscordIntegration
from integrations.slack import SlackIntegration
from peregrine_desktop.events import EventHub, Outbox
from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.ui.activity_log import ActivityLogDialog
from tests.fakes.loopback import LoopbackServer, refused_url
from tests.fakes.notifier_services import slack_service
from tests.ui_helpers import click, visible_text


@pytest.fixture
def hub(qtbot, tmp_path, config_dir, monkeypatch):
    monkeypatch.setattr(SlackIntegration, "per_second", None)
    monkeypatch.setattr(SlackIntegration, "send_policy", RetryPolicy(attempts=1))
    store = JobStore(tmp_path / "jobs.sqlite3")
    # Long backoff: only the Retry now button makes the second attempt.
    event_hub = EventHub(JobRepository(store), config_dir,
                         outbox=Outbox(store, base_delay=3600, max_delay=3600))
    yield event_hub
    event_hub.shutdown()
    store.close()


def test_an_empty_log_says_how_to_fill_it(qtbot, hub):
    dialog = ActivityLogDialog(hub)
    qtbot.addWidget(dialog)
    dialog.show()
    assert "Nothing has been sent yet" in visible_text(dialog)
    assert "Connect a calendar, a notifier or a document store in Settings → Integrations" \
        in visible_text(dialog)
    assert "Everything was delivered" not in visible_text(dialog)   # nothing was sent at all
    assert not dialog.entries.isVisible()
    assert not dialog.retry_button.isEnabled()


def test_an_empty_log_with_services_connected_names_them(qtbot, hub, config_dir):
    SlackIntegration.save_config({"webhook_url": "https://hooks.slack.com/services/T/B/x"},
                                 config_dir)
    DiscordIntegration.save_config(
        {"webhook_url": "https://discord.com/api/webhooks/1/abc"}, config_dir)
    dialog = ActivityLogDialog(hub)
    qtbot.addWidget(dialog)
    dialog.show()
    text = visible_text(dialog)
    assert "Nothing has been sent yet" in text
    assert "Discord and Slack are connected: what Peregrine sends" in text
    assert "Connect a calendar" not in text and "Everything was delivered" not in text
    heading, body = dialog.empty_heading, dialog.empty_text
    list_area = dialog.empty.geometry()          # centred where the list would be
    middle = (heading.mapTo(dialog, heading.rect().topLeft()).y()
              + body.mapTo(dialog, body.rect().bottomLeft()).y()) / 2
    assert abs(middle - list_area.center().y()) < list_area.height() / 4


def test_failures_in_plain_words_then_retry_now_delivers(qtbot, hub, config_dir, tmp_path):
    SlackIntegration.save_config({"webhook_url": refused_url() + "/services/T/B/x"}, config_dir)
    hub.repository.add_job({"title": "SRE", "company": "ACME"})
    qtbot.waitUntil(lambda: hub.problem("slack") is not None, timeout=10_000)
    dialog = ActivityLogDialog(hub)
    qtbot.addWidget(dialog)
    dialog.show()
    assert "Slack</b>: 1 waiting — Could not reach the service" in dialog.summary.text()
    (entry,) = dialog.visible_entries()
    assert entry.startswith("Slack · Waiting · The message “New job: SRE at ACME” — "
                            "not done yet (Could not reach the service.")
    dialog.grab().save(str(tmp_path / "activity-log-waiting.png"))

    with LoopbackServer() as server:
        slack = slack_service(server)
        SlackIntegration.save_config({"webhook_url": slack.url}, config_dir)
        click(qtbot, dialog.retry_button)
        qtbot.waitUntil(lambda: dialog.summary.text() == "Everything was delivered.",
                        timeout=10_000)
    assert dialog.visible_entries()[0] == ("Slack · Done · The message “New job: SRE at ACME” "
                                           "— done.")
    assert len(slack.delivered) == 1
    assert not dialog.retry_button.isEnabled()
