"""Slack, Discord and Home Assistant notifiers against loopback emulators of their APIs.

One suite runs over all three services (success, retries, timeouts, refused connections,
recovery, secrets).  ``FAILURES`` spells out, per service, which documented failure becomes which
category and which fix the user is told.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import pytest

from peregrine_sdk.base import IntegrationBase, check_config
from integrations.discord import DiscordIntegration
from peregrine_sdk.errors import ErrorKind, IntegrationError
from integrations.homeassistant import HomeAssistantIntegration
from integrations.slack import SlackIntegration
from tests.fakes.loopback import LoopbackServer, Reply, Request, refused_url
from tests.fakes.notifier_services import (discord_rate_limited, discord_service,
                                           homeassistant_service, slack_service)
from tests.ui_helpers import click, type_into, visible_text

MESSAGE = "ACME — SRE moved to Interview"
POSTING = "https://jobs.example.com/123?ref=peregrine&lang=en"


@dataclass
class Rig:
    """One notifier wired to its emulator: what the shared tests need to know about it."""

    cls: type[IntegrationBase]
    server: LoopbackServer
    emulator: Any
    good: dict
    relocate: Callable[[str], dict]      # the good config, pointed at another server address
    send_path: str                       # where a notification is posted
    rate_limited: Reply                  # the service's 429
    waits: list[float] = field(default_factory=list)

    def connect(self, config: dict | None = None) -> IntegrationBase:
        """A fresh instance, connected; retry waits are recorded (and really slept), backoff
        without a server-given wait is shortened so the suite stays fast."""
        integration = self.cls()
        assert integration.connect(dict(self.good if config is None else config)) is True
        integration.timeout = 5.0
        if isinstance(integration, SlackIntegration):
            integration.per_second = 50.0  # Slack's one message a second, sped up
        integration.send_policy = replace(integration.send_policy, base_delay=0.01,
                                          sleep=self._sleep)
        return integration

    def _sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(seconds)

    @property
    def name(self) -> str:
        return self.cls.name

    @property
    def delivered(self) -> list:
        return self.emulator.delivered

    def sends(self) -> list[Request]:
        return self.server.matching("POST", self.send_path)


def slack_rig(server: LoopbackServer) -> Rig:
    hook = slack_service(server)
    return Rig(SlackIntegration, server, hook, {"webhook_url": hook.url},
               relocate=lambda base: {"webhook_url": base + hook.hook_path},
               send_path=hook.hook_path,
               rate_limited=Reply(429, b"rate_limited", headers={"Retry-After": "1",
                                                                "Content-Type": "text/html"}))


def discord_rig(server: LoopbackServer) -> Rig:
    hook = discord_service(server)
    return Rig(DiscordIntegration, server, hook, {"webhook_url": hook.url},
               relocate=lambda base: {"webhook_url": hook.url.replace(server.url, base)},
               send_path="/api/webhooks/", rate_limited=discord_rate_limited(0.4))


def homeassistant_rig(server: LoopbackServer) -> Rig:
    ha = homeassistant_service(server)
    good = {"base_url": server.url, "token": ha.token, "notify_service": "mobile_app_pixel_7"}
    return Rig(HomeAssistantIntegration, server, ha, good,
               relocate=lambda base: {**good, "base_url": base},
               send_path="/api/services/notify/",
               # HA documents no rate limit; a reverse proxy in front of it may send one.
               rate_limited=Reply(429, "429: Too Many Requests", headers={"Retry-After": "1"}))


RIGS: dict[str, Callable[[LoopbackServer], Rig]] = {
    "slack": slack_rig, "discord": discord_rig, "homeassistant": homeassistant_rig}


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        yield srv


@pytest.fixture(params=sorted(RIGS))
def rig(request, server) -> Rig:
    return RIGS[request.param](server)


def button_result(rig: Rig, config: dict):
    """What the card's Test button shows for ``config``."""
    result, _choices = check_config(rig.cls, config)
    return result


def posted_nothing(rig: Rig) -> bool:
    """No message reached the channel, and no request could have carried one."""
    carriers = [r for r in rig.server.requests if r.method != "GET" and r.json not in ({}, None)]
    return rig.delivered == [] and carriers == []


# -- what a user sees on the card when it works ----------------------------------------------

def test_connection_test_passes_and_posts_nothing(rig):
    assert rig.connect().test() is True
    assert button_result(rig, rig.good).message == "Connected"
    assert rig.server.requests, "the test must make a real call"
    assert posted_nothing(rig)


def test_notify_delivers_one_message(rig):
    rig.connect().notify(MESSAGE, title="Peregrine", url=POSTING)
    assert len(rig.delivered) == 1
    assert len(rig.sends()) == 1


def test_connect_needs_every_required_field_and_trims_them(rig):
    assert rig.cls().connect({}) is False
    assert rig.cls().connect({k: "   " for k in rig.good}) is False
    padded = {k: f"  {v}\n" for k, v in rig.good.items()}
    integration = rig.connect(padded)
    integration.notify(MESSAGE)
    assert len(rig.delivered) == 1


# -- documented failures: category and the fix the user is told --------------------------------

def slack_state(state: str) -> Callable[[Rig], dict]:
    def apply(rig: Rig) -> dict:
        rig.emulator.state = state
        return rig.good
    return apply


def wrong_secret(rig: Rig) -> dict:
    if rig.name == "homeassistant":
        return {**rig.good, "token": "not-the-right-token-123"}
    return {"webhook_url": rig.emulator.url_with_secret("not-the-right-secret-123")}


def discord_deleted(rig: Rig) -> dict:
    rig.emulator.deleted = True
    return rig.good


def ha_banned(rig: Rig) -> dict:
    rig.emulator.ban_after = 0
    return rig.good


def web_page_at(path: str) -> Callable[[Rig], str]:
    """A server address where an ordinary web page answers instead of the service."""
    def serve(rig: Rig) -> str:
        rig.server.route("GET", path)(lambda _r, _m: Reply(
            200, b"<html><title>Router login</title></html>",
            headers={"Content-Type": "text/html"}))
        return rig.server.url
    return serve


class Failure(NamedTuple):
    """A documented failure: how the emulator is set up, the category, the fix the user reads."""

    service: str
    what: str
    setup: Callable[[Rig], dict]
    kind: str
    fix: str


FAILURES = [
    Failure("slack", "secret part of the URL mistyped", wrong_secret,
            "invalid_auth", "copy the whole URL again"),
    Failure("slack", "blocked by a workspace admin", slack_state("prohibited"),
            "invalid_auth", "workspace admin has blocked this webhook"),
    Failure("slack", "webhook revoked", slack_state("revoked"),
            "not_found", "revoked or disabled; create a new incoming webhook"),
    Failure("slack", "channel deleted", slack_state("channel_deleted"),
            "not_found", "channel was deleted; create a new incoming webhook"),
    Failure("slack", "channel archived", slack_state("archived"),
            "not_found", "archived; unarchive it in Slack"),
    Failure("slack", "not a web address",
            lambda rig: {"webhook_url": "hooks.slack.com/services/T/B/X"},
            "invalid_address", "it starts with https://hooks.slack.com/services/"),
    Failure("discord", "webhook token mistyped", wrong_secret,
            "invalid_auth", "rejected the webhook's token; copy the whole webhook URL again"),
    Failure("discord", "webhook deleted", discord_deleted,
            "not_found", "the webhook was deleted; create one under Server Settings"),
    Failure("discord", "a web page instead of a webhook",
            lambda rig: {"webhook_url": web_page_at("/welcome")(rig) + "/welcome"},
            "not_found", "not as a Discord webhook"),
    Failure("homeassistant", "token wrong", wrong_secret,
            "invalid_auth", "create a long-lived access token under your HA profile → Security"),
    Failure("homeassistant", "this computer is IP-banned", ha_banned,
            "invalid_auth", "remove its address from ip_bans.yaml"),
    Failure("homeassistant", "notify service does not exist",
            lambda rig: {**rig.good, "notify_service": "mobile_app_old_phone"},
            "not_found", "no notify.mobile_app_old_phone; enter one it has, such as "
                         "mobile_app_pixel_7, persistent_notification"),
    Failure("homeassistant", "a web page instead of Home Assistant",
            lambda rig: {**rig.good, "base_url": web_page_at("/router/api/")(rig) + "/router"},
            "not_found", "enter the address you open Home Assistant at"),
]


@pytest.mark.parametrize("failure", FAILURES, ids=[f.what for f in FAILURES])
def test_failure_names_its_category_and_fix(server, failure):
    rig = RIGS[failure.service](server)
    integration = rig.connect(failure.setup(rig))

    result = integration.check()
    assert (result.kind.value, failure.fix in result.hint) == (failure.kind, True), result.message
    paths = [r.path for r in server.requests]
    assert len(paths) == len(set(paths)), "the connection test tries each call once"
    assert integration.test() is False

    with pytest.raises(IntegrationError) as raised:
        integration.notify(MESSAGE)
    assert raised.value.kind.value == failure.kind
    assert rig.delivered == []


def test_failed_logins_to_home_assistant_are_never_retried(server):
    rig = homeassistant_rig(server)
    integration = rig.connect(wrong_secret(rig))
    assert integration.test() is False
    assert rig.emulator.failed_logins == 1
    with pytest.raises(IntegrationError, match="invalid_auth"):
        integration.notify(MESSAGE)
    assert rig.emulator.failed_logins == 2


# -- transient trouble --------------------------------------------------------------------------

def test_rate_limited_notification_waits_as_asked_then_is_delivered(rig):
    rig.server.inject(rig.rate_limited, method="POST", path=rig.send_path)
    rig.connect().notify(MESSAGE)
    assert [r.path for r in rig.sends()] == [rig.sends()[0].path] * 2, "one retry"
    assert rig.waits == [1.0]
    assert len(rig.delivered) == 1


def test_rate_limited_connection_test_answers_at_once(rig):
    rig.server.inject(rig.rate_limited, times=5)
    result = rig.connect().check()
    assert result.kind is ErrorKind.RATE_LIMITED
    assert "wait 1 s" in result.hint
    assert len(rig.server.requests) == 1 and rig.waits == []


def test_server_error_is_reported_and_a_passing_one_retried(rig):
    rig.server.inject(Reply(500, "500: Internal Server Error"), times=20)
    result = rig.connect().check()
    assert (result.kind, "HTTP 500" in result.hint) == (ErrorKind.CANNOT_CONNECT, True)

    rig.server.clear()
    rig.server.inject(Reply(500, "500: Internal Server Error"), times=20)
    integration = rig.connect()
    with pytest.raises(IntegrationError, match="cannot_connect"):
        integration.notify(MESSAGE)
    assert len(rig.sends()) == integration.send_policy.attempts

    rig.server.clear()
    rig.server.inject(Reply(503, "busy"), method="POST", path=rig.send_path)
    integration.notify(MESSAGE)
    assert len(rig.sends()) == 2 and len(rig.delivered) == 1


def test_slow_answer_times_out_and_a_notification_is_not_posted_twice(rig):
    rig.server.inject(Reply(200, {}, delay=1.0), times=3)
    integration = rig.connect()
    integration.timeout = 0.5
    assert integration.check().kind is ErrorKind.TIMEOUT

    rig.server.clear()
    rig.server.inject(Reply(204, delay=1.0), method="POST", path=rig.send_path)
    with pytest.raises(IntegrationError) as raised:
        integration.notify(MESSAGE)
    assert raised.value.kind is ErrorKind.TIMEOUT
    assert len(rig.sends()) == 1, "it may have landed: a retry could post it twice"


def test_refused_connection(rig):
    integration = rig.connect(rig.relocate(refused_url()))
    result = integration.check()
    assert result.kind is ErrorKind.CANNOT_CONNECT
    assert ("check that Home Assistant is running" if rig.name == "homeassistant"
            else "Check the address") in result.hint
    with pytest.raises(IntegrationError, match="cannot_connect"):
        integration.notify(MESSAGE)


def test_recovery_after_correcting_the_settings(rig):
    broken = wrong_secret(rig)
    assert button_result(rig, broken).kind is ErrorKind.INVALID_AUTH
    assert button_result(rig, rig.good).ok
    rig.connect(rig.good).notify(MESSAGE)
    assert len(rig.delivered) == 1


def test_no_secret_is_shown_or_logged(rig, caplog):
    caplog.set_level(logging.DEBUG)
    secrets = [rig.emulator.secret, "not-the-right-secret-123", "not-the-right-token-123"]
    errors: list[IntegrationError] = []
    hints: list[str] = []

    def attempt(config: dict) -> None:
        integration = rig.connect(config)
        hints.append(integration.check().message)
        try:
            integration.notify(MESSAGE)
        except IntegrationError as exc:
            errors.append(exc)

    attempt(wrong_secret(rig))
    attempt(rig.relocate(refused_url()))
    rig.server.inject(Reply(500, "oops"), times=20)
    attempt(rig.good)
    rig.server.clear()
    rig.server.inject(Reply(200, {}, delay=1.0), times=3)
    slow = rig.connect()
    slow.timeout = 0.5
    hints.append(slow.check().message)

    assert len(errors) == 3 and len(hints) == 4
    shown = hints + [str(e) for e in errors] + [e.hint for e in errors]
    logged = caplog.text + "".join(e.detail for e in errors)
    for secret in secrets:
        assert not [text for text in shown if secret in text]
        assert secret not in logged
    if rig.name != "homeassistant":  # there the URL holds no secret
        assert "•••" in logged, "the failing webhook URLs were logged, masked"


# -- the message as the channel receives it ---------------------------------------------------

def test_slack_message_shape(server):
    rig = slack_rig(server)
    rig.connect().notify("ACME <SRE> & co: offer", title="Peregrine", url=POSTING)
    [payload] = rig.delivered
    assert payload == {
        "text": "Peregrine: ACME <SRE> & co: offer",
        "blocks": [{"type": "section", "text": {
            "type": "mrkdwn",
            "text": f"*Peregrine*\nACME &lt;SRE&gt; &amp; co: offer\n<{POSTING}|Open posting>"}}],
        "unfurl_links": False}
    assert rig.sends()[0].header("Content-Type") == "application/json"


def test_slack_long_message_is_cut_to_fit_a_block(server):
    rig = slack_rig(server)
    rig.connect().notify("x" * 10_000, url=POSTING)
    [payload] = rig.delivered
    block = payload["blocks"][0]["text"]["text"]
    assert len(block) <= 3000 and "x…\n<" in block and block.endswith("|Open posting>")


def test_slack_test_posts_only_an_empty_payload(server):
    rig = slack_rig(server)
    assert rig.connect().test() is True
    assert [(r.method, r.json) for r in server.requests] == [("POST", {})]


def test_discord_message_shape(server):
    rig = discord_rig(server)
    integration = rig.connect()
    integration.notify("@everyone ACME offer", title="Peregrine", url=POSTING)
    integration.notify(MESSAGE, title="Status changed")
    with_link, plain = rig.delivered
    assert with_link == {"content": "@everyone ACME offer",
                         "embeds": [{"title": "Peregrine", "url": POSTING}],
                         "allowed_mentions": {"parse": []}}
    assert plain == {"content": f"**Status changed**\n{MESSAGE}",
                     "allowed_mentions": {"parse": []}}


def test_discord_long_message_is_cut_to_2000_characters(server):
    rig = discord_rig(server)
    rig.connect().notify("word " * 1000)
    [payload] = rig.delivered
    assert len(payload["content"]) <= 2000
    assert payload["content"].endswith("word…")


def test_discord_test_only_reads_the_webhook(server):
    rig = discord_rig(server)
    assert rig.connect().test() is True
    assert [r.method for r in server.requests] == ["GET"]


def test_discord_global_rate_limit_is_waited_out(server):
    """Discord's header is the body's float ``retry_after`` rounded up; the longer is kept."""
    rig = discord_rig(server)
    server.inject(discord_rate_limited(0.25, global_=True), method="POST")
    rig.connect().notify(MESSAGE)
    assert rig.waits == [1.0] and len(rig.delivered) == 1


def test_homeassistant_message_shape(server):
    rig = homeassistant_rig(server)
    rig.connect().notify(MESSAGE, title="Peregrine", url=POSTING)
    [(service, body)] = rig.delivered
    assert service == "mobile_app_pixel_7"
    assert body == {"message": MESSAGE, "title": "Peregrine",
                    "data": {"url": POSTING, "clickAction": POSTING}}
    assert rig.sends()[0].header("Authorization") == f"Bearer {rig.emulator.token}"


def test_homeassistant_sidebar_notification_carries_the_link_in_its_text(server):
    rig = homeassistant_rig(server)
    rig.connect({**rig.good, "notify_service": "persistent_notification"}).notify(
        MESSAGE, url=POSTING)
    [(service, body)] = rig.delivered
    assert service == "persistent_notification"
    assert body["message"] == f"{MESSAGE}\n\n[Open posting]({POSTING})"


def test_homeassistant_accepts_the_forms_people_paste(server):
    rig = homeassistant_rig(server)
    integration = rig.connect({"base_url": f" {server.url}/api/ ", "token": rig.emulator.token,
                               "notify_service": "notify.mobile_app_pixel_7"})
    assert integration.test() is True
    integration.notify(MESSAGE)
    assert [s for s, _ in rig.delivered] == ["mobile_app_pixel_7"]
    assert "/api" not in [r.path for r in server.requests], "the trailing slash is required"


def test_homeassistant_without_any_notify_service_says_how_to_get_one(server):
    rig = homeassistant_rig(server)
    rig.emulator.services.clear()
    result = rig.connect().check()
    assert result.kind is ErrorKind.NOT_FOUND
    assert "set up the companion app" in result.hint


# -- on the card, as a person sets it up --------------------------------------------------------

def test_homeassistant_card_missing_service_then_fixed(qtbot, config_dir, server):
    from peregrine_sdk.discovery import BUILT_IN, DiscoveryRecord
    from peregrine_desktop.ui.connection_card import ConnectionCard

    ha = homeassistant_service(server)
    card = ConnectionCard(DiscoveryRecord("homeassistant", BUILT_IN, "integrations",
                                          HomeAssistantIntegration), config_dir, "free")
    qtbot.addWidget(card)
    card.show()
    editors = card.form.editors
    type_into(qtbot, editors["base_url"].focus_widget(), server.url)
    type_into(qtbot, editors["token"].focus_widget(), ha.token)
    type_into(qtbot, editors["notify_service"].focus_widget(), "mobile_app_old_phone")
    with qtbot.waitSignal(card.test_finished, timeout=10_000):
        click(qtbot, card.test_button)
    shown = visible_text(card)
    assert card.status.text() == "Needs attention"
    assert "such as mobile_app_pixel_7, persistent_notification" in shown
    assert ha.token not in shown

    type_into(qtbot, editors["notify_service"].focus_widget(), "mobile_app_pixel_7")
    with qtbot.waitSignal(card.test_finished, timeout=10_000):
        click(qtbot, card.test_button)
    assert card.status.text() == "Test passed, not saved"    # Connected once saved
    assert ha.delivered == [], "testing sends no notification"
