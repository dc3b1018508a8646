"""Settings: the wizard's sections as tabs, and the integration cards with Test all."""
from __future__ import annotations

import pytest
import yaml
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton

from peregrine_sdk.discovery import BUILT_IN, DiscoveryRecord
from peregrine_desktop.settings.profile import UserProfile
from peregrine_desktop.settings.tiers import can_use, tier_allows, upgrade_hint
from peregrine_desktop.ui.integrations_panel import IntegrationsPanel
from peregrine_desktop.ui.settings_dialog import SettingsDialog
from tests.fakes.loopback import LoopbackServer, Reply
from tests.fakes.ping import PingIntegration, ping_service
from tests.ui_helpers import answer_next_message_box, click, type_into, visible_text


class PingTwo(PingIntegration):
    name = "pingtwo"
    label = "Ping Two"


class PremiumPing(PingIntegration):
    name = "premiumping"
    label = "Premium Ping"
    tier = "premium"


def open_settings(qtbot, profile, config_dir) -> SettingsDialog:
    dialog = SettingsDialog(profile, config_dir)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_tabs(qtbot, profile, config_dir):
    dialog = open_settings(qtbot, profile, config_dir)
    names = [dialog.tabs.tabText(i).replace("&", "") for i in range(dialog.tabs.count())]
    assert names == ["Profile", "Plan", "Job search", "Notifications", "Integrations", "Plugins"]


def test_the_integrations_tab_shows_a_card_per_integration_when_chosen(qtbot, profile,
                                                                        config_dir):
    """The cards are made when their tab is first shown (not for the Profile tab opening
    first), and each is there, with its service's name, once the tab is chosen."""
    import integrations

    dialog = open_settings(qtbot, profile, config_dir)
    assert dialog.tabs.currentIndex() == 0 and not dialog._integrations_tab.built
    dialog.tabs.setCurrentIndex(4)
    assert dialog._integrations_tab.built and dialog.integrations.isVisible()
    accounts = dialog.integrations.accounts
    assert accounts.list.isVisible()
    listed = {accounts.rows[name].text() for name in accounts.rows}
    assert listed == {record.label for record in integrations.RECORDS}
    assert set(dialog.integrations.cards) == set(accounts.rows)


def test_ok_saves_the_profile(qtbot, profile, config_dir):
    dialog = open_settings(qtbot, profile, config_dir)
    identity = dialog.sections[0]
    assert identity.name.text() == "Ada"
    type_into(qtbot, identity.name, "Ada King")
    dialog.notifications.boxes["job_added"].setChecked(False)
    dialog.accept()
    saved = yaml.safe_load((config_dir / "user.yaml").read_text())
    assert saved["name"] == "Ada King"
    assert saved["notify_events"] == ["status_changed", "interview_scheduled", "reminder_due"]


def test_a_bad_value_keeps_the_dialog_open_on_its_tab(qtbot, profile, config_dir):
    dialog = open_settings(qtbot, profile, config_dir)
    dialog.tabs.setCurrentIndex(3)
    type_into(qtbot, dialog.sections[0].email, "ada@")
    dialog.accept()
    assert dialog.isVisible()
    assert dialog.tabs.currentIndex() == 0
    assert "looks incomplete" in visible_text(dialog)
    discard_and_close(qtbot, dialog)


def discard_and_close(qtbot, dialog: SettingsDialog) -> None:
    """Escape with edits left: the question, answered Discard, and the dialog closes."""
    answer_next_message_box(QMessageBox.StandardButton.Discard)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def open_active(qtbot, profile, config_dir) -> SettingsDialog:
    dialog = open_settings(qtbot, profile, config_dir)
    with qtbot.waitActive(dialog):
        dialog.activateWindow()
    return dialog


def test_the_message_is_under_its_field_and_goes_once_fixed(qtbot, profile, config_dir):
    dialog = open_active(qtbot, profile, config_dir)
    identity = dialog.sections[0]
    identity.email.setFocus()
    qtbot.keyClicks(identity.email, "ada@example")
    qtbot.keyClick(identity.email, Qt.Key.Key_Return)            # Enter: OK, refused
    assert dialog.isVisible()
    message = identity.checks[0].label
    assert message.isVisible()
    assert message.text() == "This email address looks incomplete (like name@example.com)."
    assert identity.email.property("invalid") is True and identity.email.hasFocus()
    below = message.mapTo(identity, message.rect().topLeft()).y() - \
        identity.email.mapTo(identity, identity.email.rect().bottomLeft()).y()
    assert 0 <= below < 12                                       # right under the field
    qtbot.keyClicks(identity.email, ".c")                        # still wrong? no: fixed
    assert not message.isVisible() and identity.email.property("invalid") is False
    linkedin = identity.checks[1]
    type_into(qtbot, identity.linkedin, "linkedin.com/in/ada")
    click(qtbot, dialog.buttons.button(dialog.buttons.StandardButton.Apply))
    assert linkedin.label.text() == \
        "Enter a web address starting with https:// (like https://example.com)."
    assert "https://." not in visible_text(dialog)
    identity.linkedin.setCursorPosition(0)
    qtbot.keyClicks(identity.linkedin, "https://")
    assert not linkedin.label.isVisible()
    discard_and_close(qtbot, dialog)


def test_enter_presses_ok_and_saves(qtbot, profile, config_dir):
    dialog = open_active(qtbot, profile, config_dir)
    dialog.tabs.setCurrentIndex(4)              # the cards, each with its own Save
    dialog.tabs.setCurrentIndex(0)
    identity = dialog.sections[0]
    identity.name.setFocus()
    qtbot.keyClicks(identity.name, " King")
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(identity.name, Qt.Key.Key_Return)
    assert yaml.safe_load((config_dir / "user.yaml").read_text())["name"] == "Ada King"
    assert dialog.ok_button.isDefault()


def test_enter_on_any_button_of_any_profile_tab_presses_ok_not_that_button(qtbot, profile,
                                                                          config_dir):
    """Browse…, Activate and the rest take Enter from nobody, on the first tab and on those
    built when first shown."""
    dialog = open_active(qtbot, profile, config_dir)
    for index in range(4):                      # Profile, Plan, Job search, Notifications
        dialog.tabs.setCurrentIndex(index)
        page = dialog.tabs.currentWidget()
        buttons = [b for b in page.findChildren(QPushButton) if b.isVisible()]
        assert all(not b.autoDefault() and not b.isDefault() for b in buttons), \
            (dialog.tabs.tabText(index), [b.text() for b in buttons if b.autoDefault()])
    dialog.tabs.setCurrentIndex(0)
    browse = next(b for b in dialog.tabs.currentWidget().findChildren(QPushButton)
                  if b.text() == "Browse…")
    browse.setFocus()
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(browse, Qt.Key.Key_Return)


def test_enter_on_the_cards_tab_still_presses_ok(qtbot, profile, config_dir):
    dialog = open_active(qtbot, profile, config_dir)
    dialog.tabs.setCurrentIndex(4)
    defaults = [b.text() for b in dialog.findChildren(QPushButton) if b.isDefault()]
    assert defaults == ["OK"]
    dialog.tabs.setFocus()
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(dialog.tabs, Qt.Key.Key_Return)


def test_escape_closes_an_unedited_settings_at_once(qtbot, profile, config_dir):
    dialog = open_active(qtbot, profile, config_dir)
    qtbot.keyClick(dialog.sections[0].name, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_escape_on_edited_settings_asks_first(qtbot, profile, config_dir):
    dialog = open_active(qtbot, profile, config_dir)
    dialog.tabs.setCurrentIndex(3)
    dialog.notifications.boxes["job_added"].setFocus()
    qtbot.keyClick(dialog.notifications.boxes["job_added"], Qt.Key.Key_Space)   # unticked
    asked: list[str] = []
    answer_next_message_box(QMessageBox.StandardButton.Cancel, asked)          # Keep editing
    qtbot.keyClick(dialog.notifications.boxes["job_added"], Qt.Key.Key_Escape)
    assert asked == ["Discard your changes?"] and dialog.isVisible()
    answer_next_message_box(QMessageBox.StandardButton.Discard, asked)
    qtbot.keyClick(dialog.notifications.boxes["job_added"], Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert yaml.safe_load((config_dir / "user.yaml").read_text())["notify_events"][0] == \
        "job_added"                                              # nothing was saved


def test_changing_the_plan_unlocks_cards(qtbot, profile, config_dir):
    records = [DiscoveryRecord("premiumping", BUILT_IN, "t", PremiumPing)]
    panel = IntegrationsPanel(config_dir, profile.effective_tier, records=records)
    qtbot.addWidget(panel)
    panel.show()
    card = panel.cards["premiumping"]
    assert card.status.text() == "Locked: needs Premium"
    panel.set_tier("premium")
    assert card.status.text() == "Not set up"


def test_test_all_runs_configured_cards_concurrently(qtbot, config_dir):
    with LoopbackServer() as server:
        ping_service(server)
        server.inject(Reply(200, {"ok": True}, delay=1.0), times=2, path="/ping")
        for cls in (PingIntegration, PingTwo):
            cls.save_config({"base_url": server.url, "api_token": "good-token"}, config_dir)
        records = [DiscoveryRecord(c.name, BUILT_IN, "t", c) for c in (PingIntegration, PingTwo)]
        panel = IntegrationsPanel(config_dir, "free", records=records)
        qtbot.addWidget(panel)
        panel.show()
        with qtbot.waitSignal(panel.all_tests_finished, timeout=10_000):
            click(qtbot, panel.test_all_button)
            assert not panel.test_all_button.isEnabled()
            assert panel.cards["ping"].status.text() == "Testing…"
        assert all(c.status.text().startswith("Connected · tested ") for c in panel.cards.values())
        assert panel.summary.text() == "2 connected."
        assert len(server.matching("GET", "/ping")) == 2
        assert server.max_in_flight == 2        # both tests were waiting on the server at once


def test_closing_settings_while_tests_run(qtbot, profile, config_dir):
    with LoopbackServer() as server:
        ping_service(server)
        server.inject(Reply(200, {"ok": True}, delay=0.8), path="/ping")
        PingIntegration.save_config({"base_url": server.url, "api_token": "good-token"},
                                    config_dir)
        panel = IntegrationsPanel(config_dir, "free",
                                  records=[DiscoveryRecord("ping", BUILT_IN, "t",
                                                           PingIntegration)])
        panel.show()
        assert panel.test_all() == 1
        panel.close()
        panel.deleteLater()
        qtbot.wait(1200)


def test_tiers_contract():
    assert can_use("free", "unknown_feature") is True
    assert can_use("gold", "notion_sync") is False
    assert can_use("free", "notion_sync") is False and can_use("paid", "notion_sync") is True
    assert tier_allows("premium", "paid") and not tier_allows("free", "paid")
    assert upgrade_hint("MyService sync", "paid") == (
        "MyService sync requires a Paid plan. Add a licence key in Settings → Plan.")


def test_profile_round_trip_and_unknown_keys_survive(config_dir):
    path = config_dir / "user.yaml"
    path.write_text("name: Ada\nfuture_setting: 42\ntier: paid\nwizard_step: '3'\n")
    profile = UserProfile(path)
    # The file's "tier: paid" unlocks nothing: only a licence key does (tests/test_licence.py).
    assert (profile.name, profile.tier, profile.wizard_step) == ("Ada", "free", 3)
    profile.update(dev_tier_override="premium")
    assert profile.effective_tier == "premium"
    profile.save()
    saved = yaml.safe_load(path.read_text())
    assert saved["future_setting"] == 42 and "tier" not in saved


def test_the_profile_read_at_start_follows_every_change_to_its_file(config_dir):
    """The profile is read through a parsed copy at start-up; whatever changes the file — a save,
    a hand edit in place, a file replaced by another — the next read shows the file as it is."""
    import datetime
    import os

    path = config_dir / "user.yaml"
    path.write_text("name: Ada\nwizard_complete: true\n")
    assert UserProfile(path).name == "Ada"
    assert UserProfile(path).name == "Ada"          # from the parsed copy this time
    profile = UserProfile(path)
    profile.update(name="Grace")
    profile.save()
    assert UserProfile(path).name == "Grace"
    with open(path, "r+", encoding="utf-8") as handle:   # edited in place, same length
        text = handle.read()
        handle.seek(0)
        handle.write(text.replace("Grace", "Alice"))
    os.utime(path, ns=(1, 1))     # even with a modification time from the past
    assert UserProfile(path).name == "Alice"
    replacement = config_dir / "other.yaml"
    replacement.write_text("name: Edsger\nsince: 2024-05-01\n")  # a date: not JSON
    os.replace(replacement, path)
    again = UserProfile(path)
    assert (again.name, again.extra["since"]) == ("Edsger", datetime.date(2024, 5, 1))
    assert UserProfile(path).extra["since"] == datetime.date(2024, 5, 1)


def test_a_damaged_parsed_copy_is_ignored_and_never_shared(config_dir):
    from peregrine_desktop.settings.configfiles import parsed_copy_path

    path = config_dir / "user.yaml"
    path.write_text("name: Ada\n")
    UserProfile(path)
    copy = parsed_copy_path(path)
    assert copy.stat().st_mode & 0o077 == 0
    copy.write_text('{"of": [1, 2')
    assert UserProfile(path).name == "Ada"
    path.write_text("name: [unclosed\n")
    from peregrine_desktop.settings.configfiles import ConfigFileError
    with pytest.raises(ConfigFileError):
        UserProfile(path)


def test_default_profile_location_follows_the_override(config_dir):
    profile = UserProfile()
    assert profile.path == config_dir / "user.yaml"


def test_a_service_not_set_up_shows_its_fields_when_selected(qtbot, config_dir):
    panel = IntegrationsPanel(config_dir, "free",
                              records=[DiscoveryRecord(c.name, BUILT_IN, "t", c)
                                       for c in (PingIntegration, PingTwo)])
    qtbot.addWidget(panel)
    panel.show()
    accounts = panel.accounts
    rect = accounts.list.visualItemRect(accounts.rows["pingtwo"])
    qtbot.mouseClick(accounts.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    card = panel.cards["pingtwo"]
    assert card.isVisible() and not panel.cards["ping"].isVisible()
    assert card.status.text() == "Not set up"
    assert card.form.isVisible() and card.test_button.isVisible()
