"""Emulators of Slack incoming webhooks, Discord webhooks and Home Assistant's REST API.

Each function registers routes on a :class:`~tests.fakes.loopback.LoopbackServer` that answer as
the service documents (status codes, body shapes, text/plain vs JSON errors; see the Slack,
Discord and Home Assistant sections of the team's API contract notes) and returns a small state
object: ``delivered`` holds every message the service accepted, and attributes switch the
service into its documented failure states (revoked hook, archived channel, deleted webhook, IP
ban...).  Transient faults (429, 5xx, slow answers) are injected with ``server.inject``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.loopback import LoopbackServer, Reply, Request


def _json_body(request: Request) -> Any:
    """The request's JSON, or raise ValueError as a real service would refuse it."""
    return json.loads(request.body.decode("utf-8") or "null")


# -- Slack ---------------------------------------------------------------------------------------

SLACK_STATES: dict[str, tuple[int, str]] = {
    "live": (200, "ok"),
    "revoked": (404, "no_service"),
    "channel_deleted": (404, "channel_not_found"),
    "archived": (410, "channel_is_archived"),
    "prohibited": (403, "action_prohibited"),
}


@dataclass
class SlackHook:
    """One incoming webhook.  ``state`` is a key of :data:`SLACK_STATES`."""

    server: LoopbackServer
    hook_path: str
    state: str = "live"
    delivered: list[dict] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url + self.hook_path

    @property
    def secret(self) -> str:
        return self.hook_path.rsplit("/", 1)[-1]

    def url_with_secret(self, secret: str) -> str:
        return self.server.url + self.hook_path.rsplit("/", 1)[0] + "/" + secret


def _slack_text(status: int, code: str) -> Reply:
    # Slack answers webhooks in text/html with a bare code, never JSON.
    return Reply(status, code.encode(), headers={"Content-Type": "text/html"})


def slack_service(server: LoopbackServer,
                  hook_path: str = "/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX") -> SlackHook:
    """``POST /services/<team>/<bot>/<secret>``: 200 ``ok``; 400 ``invalid_payload`` /
    ``no_text``; 403 ``invalid_token`` for a wrong secret; 404 ``no_service`` for an unknown
    hook; the state's answer otherwise."""
    hook = SlackHook(server, hook_path)
    team_bot = hook_path.rsplit("/", 1)[0]

    @server.route("POST", r"/services/[^/]+/[^/]+/[^/]+")
    def post(request: Request, _match: re.Match) -> Reply:
        if request.path != hook.hook_path:
            known_hook = request.path.rsplit("/", 1)[0] == team_bot
            return _slack_text(403, "invalid_token") if known_hook else _slack_text(404,
                                                                                   "no_service")
        status, code = SLACK_STATES[hook.state]
        if status != 200:
            return _slack_text(status, code)
        try:
            payload = _json_body(request)
        except ValueError:
            return _slack_text(400, "invalid_payload")
        if not isinstance(payload, dict):
            return _slack_text(400, "invalid_payload")
        if not str(payload.get("text") or "").strip() and not payload.get("attachments"):
            # Slack requires text even with blocks: it is the notification fallback.
            return _slack_text(400, "no_text" if not payload.get("blocks")
                               else "missing_text_or_fallback_or_attachments")
        for block in payload.get("blocks") or []:
            if len(str(block.get("text", {}).get("text", ""))) > 3000:
                return _slack_text(400, "invalid_blocks")
        hook.delivered.append(payload)
        return _slack_text(200, "ok")

    return hook


# -- Discord -------------------------------------------------------------------------------------

DISCORD_UNKNOWN = Reply(404, {"message": "Unknown Webhook", "code": 10015})
DISCORD_BAD_TOKEN = Reply(401, {"message": "Invalid Webhook Token", "code": 50027})


def discord_rate_limited(retry_after: float, global_: bool = False) -> Reply:
    """Discord's 429: a float ``retry_after`` in the body, a rounded-up header, bucket headers."""
    return Reply(429, {"message": "You are being rate limited.", "retry_after": retry_after,
                       "global": global_},
                 headers={"Retry-After": str(max(1, round(retry_after + 0.499))),
                          "X-RateLimit-Scope": "global" if global_ else "user",
                          "X-RateLimit-Remaining": "0",
                          "X-RateLimit-Reset-After": str(retry_after)})


def _form_error(field_name: str, message: str) -> Reply:
    return Reply(400, {"code": 50035, "message": "Invalid Form Body",
                       "errors": {field_name: {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH",
                                                            "message": message}]}}})


@dataclass
class DiscordWebhook:
    """One channel webhook; ``deleted`` makes every call answer 404 Unknown Webhook."""

    server: LoopbackServer
    webhook_id: str
    token: str
    deleted: bool = False
    delivered: list[dict] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.server.url}/api/webhooks/{self.webhook_id}/{self.token}"

    @property
    def secret(self) -> str:
        return self.token

    def url_with_secret(self, token: str) -> str:
        return f"{self.server.url}/api/webhooks/{self.webhook_id}/{token}"

    def as_object(self) -> dict:
        return {"id": self.webhook_id, "type": 1, "guild_id": "41771983423143936",
                "channel_id": "41771983423143937", "name": "Peregrine", "avatar": None,
                "application_id": None, "token": self.token}


def discord_service(server: LoopbackServer, webhook_id: str = "1198765432109876543",
                    token: str = "fake-discord-webhook-token-Zq9x") -> DiscordWebhook:
    """``GET`` and ``POST /api[/v10]/webhooks/<id>/<token>``: the webhook object, or 204 for a
    post; 401 code 50027 for a wrong token, 404 code 10015 for an unknown or deleted webhook,
    400 50006/50035 for empty or oversized messages."""
    hook = DiscordWebhook(server, webhook_id, token)
    path = r"/api(?:/v\d+)?/webhooks/(?P<id>[^/]+)/(?P<token>[^/]+)"

    def check(match: re.Match) -> Reply | None:
        if match["id"] != hook.webhook_id or hook.deleted:
            return DISCORD_UNKNOWN
        if match["token"] != hook.token:
            return DISCORD_BAD_TOKEN
        return None

    @server.route("GET", path)
    def get(_request: Request, match: re.Match) -> Reply:
        return check(match) or Reply(200, hook.as_object())

    @server.route("POST", path)
    def post(request: Request, match: re.Match) -> Reply:
        refused = check(match)
        if refused:
            return refused
        try:
            payload = _json_body(request)
        except ValueError:
            return Reply(400, {"code": 50109, "message": "The request body contains invalid JSON."})
        content = payload.get("content") or ""
        embeds = payload.get("embeds") or []
        if not content and not embeds:
            return Reply(400, {"message": "Cannot send an empty message", "code": 50006})
        if len(content) > 2000:
            return _form_error("content", "Must be 2000 or fewer in length.")
        if len(embeds) > 10 or any(len(e.get("title", "")) > 256 for e in embeds):
            return _form_error("embeds", "Embed too long.")
        hook.delivered.append(payload)
        if request.query.get("wait") == ["true"]:
            return Reply(200, {"id": str(len(hook.delivered)), "content": content,
                               "channel_id": hook.as_object()["channel_id"]})
        return Reply(204)

    return hook


# -- Home Assistant ------------------------------------------------------------------------------

def _ha_text(status: int, reason: str) -> Reply:
    # aiohttp's own error bodies: "401: Unauthorized", text/plain.
    return Reply(status, f"{status}: {reason}")


@dataclass
class HomeAssistant:
    """One HA instance.  ``ban_after`` failed logins ban the client (``ip_ban_enabled``)."""

    server: LoopbackServer
    token: str
    services: list[str]
    ban_after: int | None = None
    failed_logins: int = 0
    delivered: list[tuple[str, dict]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def secret(self) -> str:
        return self.token

    @property
    def banned(self) -> bool:
        return self.ban_after is not None and self.failed_logins >= self.ban_after

    def services_answer(self) -> list[dict]:
        notify = {name: {"name": f"Send a notification via {name}", "description": "",
                         "fields": {"message": {"required": True}, "title": {},
                                    "data": {}}}
                  for name in self.services}
        return [{"domain": "homeassistant", "services": {"restart": {}, "stop": {}}},
                {"domain": "notify", "services": notify},
                {"domain": "persistent_notification",
                 "services": {"create": {}, "dismiss": {}}}]


def homeassistant_service(server: LoopbackServer,
                          token: str = "fake-ha-long-lived-token.eyJpc3Mi.sig",
                          services: list[str] | None = None,
                          ban_after: int | None = None) -> HomeAssistant:
    """``GET /api/`` → ``{"message": "API running."}``; ``GET /api/services``; ``POST
    /api/services/<domain>/<service>`` → 200 list of changed states.  A missing or wrong Bearer
    token → 401 text/plain; a banned client → 403; an unknown service or bad data → 400."""
    ha = HomeAssistant(server, token,
                       list(services if services is not None
                            else ["mobile_app_pixel_7", "persistent_notification"]),
                       ban_after)

    def authorised(request: Request) -> Reply | None:
        if ha.banned:
            return _ha_text(403, "Forbidden")
        if request.header("Authorization") != f"Bearer {ha.token}":
            ha.failed_logins += 1
            return _ha_text(401, "Unauthorized")
        return None

    @server.route("GET", "/api/")
    def api_status(request: Request, _match: re.Match) -> Reply:
        return authorised(request) or Reply(200, {"message": "API running."})

    @server.route("GET", "/api")  # the documented trailing slash is required
    def api_without_slash(_request: Request, _match: re.Match) -> Reply:
        return _ha_text(404, "Not Found")

    @server.route("GET", "/api/services")
    def list_services(request: Request, _match: re.Match) -> Reply:
        return authorised(request) or Reply(200, ha.services_answer())

    @server.route("POST", r"/api/services/(?P<domain>\w+)/(?P<service>\w+)")
    def call_service(request: Request, match: re.Match) -> Reply:
        refused = authorised(request)
        if refused:
            return refused
        try:
            data = _json_body(request) or {}
        except ValueError:
            return Reply(400, {"message": "Data should be valid JSON."})
        if match["domain"] != "notify" or match["service"] not in ha.services:
            return _ha_text(400, "Bad Request")          # ServiceNotFound
        if not isinstance(data, dict) or not isinstance(data.get("message"), str):
            return _ha_text(400, "Bad Request")          # vol.Invalid: message is required
        ha.delivered.append((match["service"], data))
        return Reply(200, [])

    return ha
