"""The connection card as a person uses it: fill in, Test, Save, Edit, Disconnect — against a
real HTTP server on 127.0.0.1."""
from __future__ import annotations

import stat

import pytest
import yaml
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox

from peregrine_sdk.discovery import BUILT_IN, DiscoveryRecord
from peregrine_sdk.hooks import SignIn
from peregrine_desktop.ui.connection_card import CardState, ConnectionCard
from tests.fakes.loopback import LoopbackServer, Reply, refused_url
from tests.fakes.ping import PingIntegration, ping_service
from tests.ui_helpers import (buttons_shown, click, press_in_next_message_box, type_into,
                               visible_text)


class PaidPing(PingIntegration):
    name = "paidping"
    label = "Paid Ping"
    tier = "paid"


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        yield ping_service(srv)


def make_card(qtbot, config_dir, cls=PingIntegration, tier="free", **kwargs) -> ConnectionCard:
    card = ConnectionCard(DiscoveryRecord(cls.name, BUILT_IN, "tests", cls), config_dir, tier,
                          **kwargs)
    qtbot.addWidget(card)
    card.show()
    return card


def fill(qtbot, card: ConnectionCard, url: str, token: str) -> None:
    type_into(qtbot, card.form.editors["base_url"].focus_widget(), url)
    type_into(qtbot, card.form.editors["api_token"].focus_widget(), token)


def run_test_and_wait(qtbot, card: ConnectionCard):
    with qtbot.waitSignal(card.test_finished, timeout=10_000) as blocker:
        click(qtbot, card.test_button)
    return blocker.args[1]


def test_new_card_shows_not_set_up_with_its_fields(qtbot, config_dir):
    card = make_card(qtbot, config_dir)
    assert card.status.text() == "Not set up"
    assert card.form.isVisible()
    assert buttons_shown(card)[-2:] == ["Test", "Save"]
    assert not card.save_button.isEnabled()          # Save follows a passing test


def test_required_fields_block_the_test(qtbot, config_dir, server):
    card = make_card(qtbot, config_dir)
    click(qtbot, card.test_button)
    assert not card.runner.is_running("test")
    assert card.form.errors["api_token"].text() == "API token is required"
    assert server.requests == []


def test_wrong_token_then_fixed_token_then_save(qtbot, config_dir, server):
    card = make_card(qtbot, config_dir)
    fill(qtbot, card, server.url, "bad-token")
    result = run_test_and_wait(qtbot, card)
    assert result.kind.value == "invalid_auth"
    assert card.status.text() == "Needs attention"
    assert "The token was rejected; create a new one." in card.detail.text()
    assert "bad-token" not in card.detail.text()
    assert not card.save_button.isEnabled()
    assert card.save_anyway_button.isVisible()

    # Recovery: correct the token, test again, save.
    type_into(qtbot, card.form.editors["api_token"].focus_widget(), "good-token")
    assert card.status.text() == "Not set up"      # the old verdict is for other values
    result = run_test_and_wait(qtbot, card)
    assert result.ok
    assert card.status.text() == "Test passed, not saved"    # Connected only once saved
    click(qtbot, card.save_button)
    path = config_dir / "integrations" / "ping.yaml"
    saved = yaml.safe_load(path.read_text())
    assert saved["api_token"] == "good-token" and saved["base_url"] == server.url
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert card.status.text().startswith("Connected · tested ")
    assert not card.form.isVisible()
    assert {"Test", "Edit", "Disconnect"} <= set(buttons_shown(card))
    # A new card (e.g. Settings opened later) reads the same state from disk.
    again = make_card(qtbot, config_dir)
    assert again.status.text().startswith("Connected · tested ")


def test_edit_prefills_values_masks_secrets_and_keeps_them(qtbot, config_dir, server):
    PingIntegration.save_config({"base_url": server.url, "api_token": "good-token",
                                 "workspace": "ws-1"}, config_dir)
    card = make_card(qtbot, config_dir)
    assert card.status.text() == "Saved, not tested"
    click(qtbot, card.edit_button)
    token = card.form.editors["api_token"].focus_widget()
    assert token.text() == ""                                  # the secret is not shown
    assert "Saved" in token.placeholderText()
    assert card.form.editors["workspace"].value() == "ws-1"
    type_into(qtbot, card.form.editors["workspace"].focus_widget(), "ws-2")
    assert run_test_and_wait(qtbot, card).ok                       # uses the kept secret
    assert server.matching("GET", "/ping")[-1].header("Authorization") == "Bearer good-token"
    click(qtbot, card.save_button)
    saved = PingIntegration.load_config(config_dir)
    assert saved["workspace"] == "ws-2" and saved["api_token"] == "good-token"


def test_disconnect_asks_and_deletes_the_settings(qtbot, config_dir, server):
    PingIntegration.save_config({"base_url": server.url, "api_token": "good-token"}, config_dir)
    card = make_card(qtbot, config_dir)
    seen: list[str] = []
    press_in_next_message_box("Cancel", seen)
    click(qtbot, card.disconnect_button)
    assert PingIntegration.is_configured(config_dir)
    text, informative, *buttons = seen
    assert "Disconnect" in buttons and "Yes" not in buttons
    assert "Your jobs stay in Peregrine" in informative
    # No keychain here: the token is in the settings file, and the question says so.
    assert "including the API token kept in that file" in text
    assert "keychain" not in text
    assert card.storage.isVisible() and "private file" in card.storage.text()
    press_in_next_message_box("Disconnect")
    with qtbot.waitSignal(card.disconnected):
        click(qtbot, card.disconnect_button)
    assert not PingIntegration.is_configured(config_dir)
    assert card.status.text() == "Not set up"
    assert card.form.isVisible() and card.form.editors["api_token"].value() == ""
    assert not card.storage.isVisible()         # no note about a file that is gone
    assert "private file" not in visible_text(card)


def test_save_anyway_is_an_explicit_second_choice(qtbot, config_dir):
    card = make_card(qtbot, config_dir)
    fill(qtbot, card, refused_url(), "tok")
    result = run_test_and_wait(qtbot, card)
    assert result.kind.value == "cannot_connect"
    assert "Could not reach the service" in card.detail.text()
    click(qtbot, card.save_anyway_button)
    assert PingIntegration.is_configured(config_dir)
    assert card.status.text() == "Saved, not tested"


def test_a_second_click_while_testing_starts_nothing(qtbot, config_dir, server):
    server.inject(Reply(200, {"ok": True}, delay=1.0), path="/ping")
    card = make_card(qtbot, config_dir)
    fill(qtbot, card, server.url, "good-token")
    card.run_test()
    assert card.test_button.text() == "Testing…" and not card.test_button.isEnabled()
    assert card.run_test() is False
    qtbot.waitSignal(card.test_finished, timeout=10_000).wait()
    qtbot.wait(50)
    assert len(server.matching("GET", "/ping")) == 1


def test_result_for_edited_values_is_dropped(qtbot, config_dir, server):
    server.inject(Reply(200, {"ok": True}, delay=0.8), path="/ping")
    card = make_card(qtbot, config_dir)
    fill(qtbot, card, server.url, "good-token")
    finished = []
    card.test_finished.connect(lambda *a: finished.append(a))
    card.run_test()
    type_into(qtbot, card.form.editors["workspace"].focus_widget(), "changed")
    qtbot.wait(1500)
    assert finished == []
    assert card.status.text() == "Not set up"
    assert not card.save_button.isEnabled()
    assert card.test_button.isEnabled()


def test_hung_service_times_out_on_the_card(qtbot, config_dir, server):
    server.inject(Reply(200, {"ok": True}, delay=3.0), path="/ping")
    card = make_card(qtbot, config_dir, test_timeout_ms=300)
    fill(qtbot, card, server.url, "good-token")
    result = run_test_and_wait(qtbot, card)
    assert result.kind.value == "timeout"
    assert card.status.text() == "Needs attention"
    assert "did not finish within" in card.detail.text()
    assert card.test_button.isEnabled()


def test_test_runs_off_the_ui_thread(qtbot, config_dir, server):
    """While a test waits 2 s for the server, the event loop keeps delivering timer ticks."""
    server.inject(Reply(200, {"ok": True}, delay=2.0), path="/ping")
    card = make_card(qtbot, config_dir)
    fill(qtbot, card, server.url, "good-token")
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    result = run_test_and_wait(qtbot, card)
    timer.stop()
    assert result.ok
    assert len(ticks) >= 20     # a blocked loop would deliver none until the answer came


def test_locked_card_on_the_free_tier(qtbot, config_dir):
    card = make_card(qtbot, config_dir, cls=PaidPing, tier="free")
    assert card.state is CardState.LOCKED
    assert card.status.text() == "Locked: needs Paid"
    assert "requires a Paid plan" in card.detail.text()
    assert not card.test_button.isVisible() and not card.form.isVisible()
    card.set_tier("paid")
    assert card.status.text() == "Not set up" and card.form.isVisible()


def test_unavailable_plugin_card_names_the_reason(qtbot, config_dir):
    record = DiscoveryRecord("mega", BUILT_IN, "integrations.mega",
                             error="needs the Python package 'mega', which is not installed")
    card = ConnectionCard(record, config_dir, "free")
    qtbot.addWidget(card)
    card.show()
    assert card.status.text() == "Unavailable"
    assert card.detail.text() == ("Mega is unavailable: needs the Python package 'mega', "
                                  "which is not installed")
    assert buttons_shown(card) == []


def test_closing_while_a_test_runs_neither_blocks_nor_crashes(qtbot, config_dir, server):
    server.inject(Reply(200, {"ok": True}, delay=1.0), path="/ping")
    card = ConnectionCard(DiscoveryRecord("ping", BUILT_IN, "t", PingIntegration), config_dir,
                          "free")
    card.show()
    fill(qtbot, card, server.url, "good-token")
    card.run_test()
    card.close()
    card.deleteLater()
    qtbot.wait(1500)     # the late result arrives for a widget that is gone: dropped


def test_a_passing_test_fills_choices_read_from_the_service(qtbot, config_dir, server):
    card = make_card(qtbot, config_dir)
    combo = card.form.editors["region"].widget
    assert [combo.itemText(i) for i in range(combo.count())] == ["(none)", "eu", "us"]
    fill(qtbot, card, server.url, "good-token")
    assert run_test_and_wait(qtbot, card).ok
    assert [combo.itemText(i) for i in range(combo.count())] == ["(none)", "eu", "us", "apac"]
    assert card.save_button.isEnabled()         # refreshing the options is not an edit


class DeviceCodePing(PingIntegration, SignIn):
    """Ping, but the token comes from a device-code sign-in (as OneDrive's does)."""

    name = "devicecodeping"
    label = "Device Code Ping"
    approved = None        # a threading.Event the test sets when "the person" approves
    cancelled = False

    def begin_sign_in(self):
        from peregrine_sdk.sign_in import SignInPrompt
        return SignInPrompt(url="https://login.example/device", user_code="ABCD-1234",
                            message="Open the page and type the code.")

    def finish_sign_in(self):
        if not type(self).approved.wait(5):
            raise AssertionError("never approved")
        return {"api_token": "good-token"}

    def cancel_sign_in(self):
        type(self).cancelled = True
        type(self).approved.set()


def test_sign_in_shows_the_code_then_fills_the_secret(qtbot, config_dir, server):
    import threading
    DeviceCodePing.approved = threading.Event()
    card = make_card(qtbot, config_dir, cls=DeviceCodePing)
    type_into(qtbot, card.form.editors["base_url"].focus_widget(), server.url)
    click(qtbot, card.sign_in_button)
    qtbot.waitUntil(lambda: "ABCD-1234" in card.sign_in_box.text(), timeout=5000)
    assert "Open the sign-in page" in card.sign_in_box.text()
    assert card.sign_in_button.text() == "Cancel sign-in"
    assert not card.test_button.isEnabled()
    DeviceCodePing.approved.set()              # the person typed the code and approved
    qtbot.waitUntil(lambda: card.sign_in_box.text().startswith("Signed in"), timeout=5000)
    assert card.form.editors["api_token"].value() == "good-token"
    assert run_test_and_wait(qtbot, card).ok
    click(qtbot, card.save_button)
    assert DeviceCodePing.load_config(config_dir)["api_token"] == "good-token"


def test_sign_in_can_be_cancelled(qtbot, config_dir, server):
    import threading
    DeviceCodePing.approved = threading.Event()
    DeviceCodePing.cancelled = False
    card = make_card(qtbot, config_dir, cls=DeviceCodePing)
    click(qtbot, card.sign_in_button)
    qtbot.waitUntil(lambda: "ABCD-1234" in card.sign_in_box.text(), timeout=5000)
    click(qtbot, card.sign_in_button)          # now "Cancel sign-in"
    assert DeviceCodePing.cancelled
    assert not card.sign_in_box.isVisible()
    assert card.sign_in_button.text().replace("&", "") == "Sign in…"
    qtbot.wait(200)
    assert card.form.editors["api_token"].value() == ""
