"""Settings → Integrations as a person uses it: a list of services grouped by what they do,
each with its state in words; choosing one shows its page beside the list, where Test's result
appears beside the button, a tracker's columns are chosen in one table, and Disconnect says
truthfully what goes where.  Against loopback servers on 127.0.0.1."""
from __future__ import annotations

import re

import pytest
import yaml
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QLineEdit

from integrations.notion import NotionIntegration
from integrations.slack import SlackIntegration
from peregrine_sdk.discovery import BUILT_IN, DiscoveryRecord
from peregrine_sdk.http import RetryPolicy
from peregrine_sdk.testkit import pointed_at
from peregrine_desktop.settings.profile import UserProfile
from peregrine_desktop.ui.integrations_panel import IntegrationsPanel
from peregrine_desktop.ui.settings_dialog import SettingsDialog
from tests.fakes.loopback import LoopbackServer
from tests.fakes.ping import PingIntegration, ping_service
from tests.fakes.tracker_services import NotionService, notion_job_columns
from tests.ui_helpers import click, press_in_next_message_box, type_into, visible_text

CONNECTED = re.compile(r"Connected · tested \d\d:\d\d")


class PingTwo(PingIntegration):
    name = "pingtwo"
    label = "Ping Two"


class PaidPing(PingIntegration):
    name = "paidping"
    label = "Paid Ping"
    tier = "paid"


def records(*classes, third_party=(), broken=()):
    found = [DiscoveryRecord(c.name, BUILT_IN, "tests", c) for c in classes]
    found += [DiscoveryRecord(c.name, "entry point", "ping-plugin 1.0", c) for c in third_party]
    found += [DiscoveryRecord(name, BUILT_IN, f"integrations.{name}", error=error)
              for name, error in broken]
    return found


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        yield ping_service(srv)


def open_panel(qtbot, config_dir, found, tier="free", size=(1000, 700)) -> IntegrationsPanel:
    panel = IntegrationsPanel(config_dir, tier, records=found)
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    with qtbot.waitActive(panel):
        panel.activateWindow()
    return panel


def choose(qtbot, panel: IntegrationsPanel, name: str):
    """Click the service's row in the list, as a person does; its page is returned."""
    accounts = panel.accounts
    accounts.list.scrollToItem(accounts.rows[name])
    rect = accounts.list.visualItemRect(accounts.rows[name])
    qtbot.mouseClick(accounts.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    return panel.cards[name]


def fill_ping(qtbot, card, url: str, token: str) -> None:
    type_into(qtbot, card.form.editors["base_url"].focus_widget(), url)
    type_into(qtbot, card.form.editors["api_token"].focus_widget(), token)


def test_services_are_grouped_with_their_state_and_a_row_shows_its_page(qtbot, config_dir):
    class ThirdPing(PingIntegration):
        name = "thirdping"
        label = "Third Ping"

    panel = open_panel(qtbot, config_dir, records(
        PingIntegration, PaidPing, third_party=[ThirdPing],
        broken=[("mega", "needs the Python package 'mega', which is not installed")]))
    accounts = panel.accounts
    rows = [accounts.list.item(i).text() for i in range(accounts.list.count())]
    assert rows == ["Notifications", "Paid Ping", "Ping Service", "Third Ping",
                    "Other services", "Mega"]
    assert accounts.row_text("paidping") == "Paid Ping\nLocked: needs Paid"
    assert accounts.row_text("ping") == "Ping Service\nNot set up"
    assert accounts.row_text("thirdping") == "Third Ping · third-party\nNot set up"
    assert accounts.row_text("mega") == ("Mega\nUnavailable: needs the Python package 'mega', "
                                         "which is not installed")
    assert not accounts.list.item(0).flags() & Qt.ItemFlag.ItemIsSelectable   # a heading

    page = choose(qtbot, panel, "ping")
    assert page.isVisible() and not panel.cards["thirdping"].isVisible()
    assert page.form.isVisible() and page.test_button.isVisible()
    assert "Saved on its own with Save here" in visible_text(page)
    broken = choose(qtbot, panel, "mega")
    assert broken.isVisible() and "Mega is unavailable" in visible_text(broken)
    # The plan changes (another part of Settings): the locked row unlocks in place.
    panel.set_tier("paid")
    assert accounts.row_text("paidping") == "Paid Ping\nNot set up"


def test_state_words_follow_test_and_save_and_the_list_stays_put(qtbot, config_dir, server):
    classes = [type(f"Ping{i}", (PingIntegration,), {"name": f"ping{i}", "label": f"Ping {i}"})
               for i in range(20)]
    panel = open_panel(qtbot, config_dir, records(*classes), size=(800, 600))
    accounts = panel.accounts
    page = choose(qtbot, panel, "ping9")
    scrolled = accounts.list.verticalScrollBar().value()
    assert scrolled > 0                     # the list is longer than the window
    fill_ping(qtbot, page, server.url, "good-token")
    with qtbot.waitSignal(page.test_finished, timeout=10_000):
        click(qtbot, page.test_button)
    assert page.status.text() == "Test passed, not saved"     # not "Connected" before Save
    assert accounts.row_text("ping9") == "Ping 9\nNot set up · test passed"
    click(qtbot, page.save_button)
    assert CONNECTED.fullmatch(page.status.text())
    assert CONNECTED.fullmatch(accounts.row_text("ping9").split("\n")[1])
    assert accounts.current_name() == "ping9" and page.isVisible()
    assert accounts.list.verticalScrollBar().value() == scrolled      # no jump
    press_in_next_message_box("Disconnect")
    click(qtbot, page.disconnect_button)
    assert accounts.row_text("ping9") == "Ping 9\nNot set up"


def test_the_test_result_is_shown_beside_the_button_and_scrolled_into_view(qtbot, config_dir):
    panel = open_panel(qtbot, config_dir, records(PingIntegration), size=(800, 420))
    page = choose(qtbot, panel, "ping")
    fill_ping(qtbot, page, "http://127.0.0.1:1", "tok")
    page.scroll.verticalScrollBar().setValue(0)
    page.test_button.setFocus()
    with qtbot.waitSignal(page.test_finished, timeout=10_000):
        qtbot.keyClick(page.test_button, Qt.Key.Key_Space)
    assert "Could not reach the service" in page.detail.text()
    viewport = page.scroll.viewport()
    result = page.detail.geometry().translated(page.detail.parentWidget().mapTo(
        viewport, QPoint(0, 0)))
    button = page.test_button.geometry().translated(page.test_button.parentWidget().mapTo(
        viewport, QPoint(0, 0)))
    assert viewport.rect().contains(result) and viewport.rect().contains(button)
    assert 0 <= result.left() - button.right() <= 20                  # right beside it
    assert result.top() <= button.center().y() <= result.bottom()     # on the same line
    # Focus is where the person left it: on this page's Test button, not another service.
    assert QApplication.focusWidget() is page.test_button


def test_a_malformed_webhook_address_is_called_malformed(qtbot, config_dir):
    panel = open_panel(qtbot, config_dir, records(SlackIntegration))
    page = choose(qtbot, panel, "slack")
    hook = page.form.editors["webhook_url"].focus_widget()
    type_into(qtbot, hook, "hooks.slack.com/services/T000/B000/XXXX")
    click(qtbot, page.test_button)
    assert not page.runner.is_running("test")
    assert page.detail.text() == ("Not tested: the Webhook URL is malformed. Enter a web address "
                                  "starting with https:// (like https://example.com).")
    assert "Could not reach" not in page.detail.text()
    assert page.form.errors["webhook_url"].text() == \
        "Enter a web address starting with https:// (like https://example.com)."
    type_into(qtbot, hook, "https://hooks.slack.com/services/T000/B000/XXXX")
    assert not page.form.errors["webhook_url"].isVisible()       # cleared once fixed
    assert not page.detail.isVisible()


def test_test_all_ends_with_a_summary_in_words(qtbot, config_dir, server):
    PingIntegration.save_config({"base_url": server.url, "api_token": "good-token"},
                                config_dir)
    PingTwo.save_config({"base_url": server.url, "api_token": "stale-token"}, config_dir)
    panel = open_panel(qtbot, config_dir, records(PingIntegration, PingTwo, PaidPing))
    with qtbot.waitSignal(panel.all_tests_finished, timeout=10_000):
        click(qtbot, panel.test_all_button)
    assert panel.summary.isVisible()
    assert panel.summary.text() == ("1 connected, 1 needs attention: Ping Two — the service "
                                    "rejected these credentials.")
    assert panel.accounts.row_text("pingtwo") == "Ping Two\nNeeds attention"
    assert CONNECTED.fullmatch(panel.accounts.row_text("ping").split("\n")[1])


@pytest.fixture
def notion(monkeypatch):
    monkeypatch.setattr(NotionIntegration, "per_second", None)
    monkeypatch.setattr(NotionIntegration, "policy", RetryPolicy(attempts=2, base_delay=0.01))
    columns = notion_job_columns()
    columns["Employer"] = columns.pop("Company")            # a column named differently
    with LoopbackServer() as server, pointed_at(NotionIntegration, server.url):
        yield NotionService(server, columns=columns)


def open_notion_page(qtbot, config_dir, notion):
    panel = open_panel(qtbot, config_dir, records(NotionIntegration), tier="paid")
    page = choose(qtbot, panel, "notion")
    assert page.columns_step is not None and not page.columns_step.isVisible()
    assert not any(key.startswith("column_") for key in page.form.editors)  # no 16 combos
    type_into(qtbot, page.form.editors["token"].focus_widget(), notion.token)
    type_into(qtbot, page.form.editors["database_id"].focus_widget(), notion.database_id)
    with qtbot.waitSignal(page.test_finished, timeout=10_000) as finished:
        click(qtbot, page.test_button)
    assert finished.args[1].ok
    return panel, page


def test_the_columns_step_appears_after_a_test_filled_from_the_real_columns(qtbot, config_dir,
                                                                             notion):
    panel, page = open_notion_page(qtbot, config_dir, notion)
    step = page.columns_step
    assert step.isVisible()
    combo = step.combos["column_title"]
    offered = [combo.itemText(i) for i in range(combo.count()) if combo.itemText(i)]
    # The database's own columns (but not Peregrine's ID column), and "Don't sync".
    assert offered == [*(c for c in notion.columns if c != "Peregrine ID"), "Don't sync"]
    assert step.chosen("title") == "Name" and step.chosen("status") == "Status"
    assert step.chosen("url") == "URL" and step.chosen("notes") == "Notes"
    assert step.chosen("company") == "Don't sync"          # no column called "Company"
    assert step.chosen("source") == "Don't sync"
    # The person points Company at their "Employer" column, from the keyboard.
    company = step.combos["column_company"]
    company.setFocus()
    company.setCurrentIndex(company.findText("Employer"))
    assert page.save_button.isEnabled()        # choosing columns keeps the passing test
    click(qtbot, page.save_button)
    saved = yaml.safe_load((config_dir / "integrations" / "notion.yaml").read_text())
    assert saved["column_company"] == "Employer" and saved["column_title"] == "Name"
    assert saved["column_source"] == "-"
    assert page.status.text().startswith("Connected")


def test_the_mouse_wheel_over_an_unfocused_combo_does_not_change_it(qtbot, config_dir, notion):
    _panel, page = open_notion_page(qtbot, config_dir, notion)
    combo = page.columns_step.combos["column_title"]
    before = combo.currentText()

    def wheel() -> None:
        centre = QPointF(combo.rect().center())
        event = QWheelEvent(centre, QPointF(combo.mapToGlobal(combo.rect().center())),
                            QPoint(0, 0), QPoint(0, -120), Qt.MouseButton.NoButton,
                            Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(combo, event)

    page.test_button.setFocus()
    wheel()
    assert combo.currentText() == before and not combo.hasFocus()
    combo.setFocus()
    wheel()                                   # once chosen, the wheel does change it
    assert combo.currentText() != before


@pytest.fixture
def keychain(tmp_path):
    import keyring

    from peregrine_desktop.settings import secrets
    from tests.test_secrets import FileKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(FileKeyring(tmp_path / "keychain.json"))
    secrets.clear_cache()
    yield
    keyring.set_keyring(previous)
    secrets.clear_cache()


def test_disconnect_names_the_keychain_only_when_the_secret_is_there(qtbot, config_dir, server,
                                                                    keychain):
    PingIntegration.save_config({"base_url": server.url, "api_token": "good-token"},
                                config_dir)
    assert "keyring:" in (config_dir / "integrations" / "ping.yaml").read_text()
    panel = open_panel(qtbot, config_dir, records(PingIntegration))
    page = choose(qtbot, panel, "ping")
    assert not page.storage.isVisible()          # in the keychain: nothing to warn about
    seen: list[str] = []
    press_in_next_message_box("Disconnect", seen)
    with qtbot.waitSignal(page.disconnected):
        click(qtbot, page.disconnect_button)
    text, informative, *buttons = seen
    assert sorted(buttons) == ["Cancel", "Disconnect"]
    assert "the API token stored in the system keychain" in text
    assert "kept in that file" not in text
    assert "nothing is deleted in Ping Service itself" in informative
    assert page.status.text() == "Not set up"


def test_enter_in_settings_presses_ok_not_a_page_save(qtbot, config_dir, server):
    profile = UserProfile(config_dir / "user.yaml")
    profile.update(name="Ada", target_titles=["SRE"], wizard_complete=True)
    profile.save()
    dialog = SettingsDialog(profile, config_dir)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.tabs.setCurrentIndex(4)
    panel = dialog.integrations
    page = panel.cards["ping"] if "ping" in panel.cards else None
    if page is None:       # the built-in services only: use the first one with a text field
        page = next(c for c in panel.cards.values() if c.form is not None)
    panel.accounts.select(page.name)
    assert not any(b.isDefault() or b.autoDefault() for b in
                   (page.test_button, page.save_button, page.save_anyway_button,
                    page.edit_button, page.disconnect_button, panel.test_all_button))
    field = next(e.focus_widget() for e in page.form.editors.values()
                 if isinstance(e.focus_widget(), QLineEdit))
    field.setFocus()
    with qtbot.waitSignal(dialog.accepted, timeout=2000):
        qtbot.keyClick(field, Qt.Key.Key_Return)
    assert not dialog.isVisible()
    assert not page.is_configured()
