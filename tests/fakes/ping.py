"""A small test integration with every field type, speaking to a loopback server.

GET {base_url}/ping with ``Authorization: Bearer <token>`` → 200; 401 → invalid_auth; 404 →
not_found; anything else by the shared status table.
"""
from __future__ import annotations

from peregrine_sdk.base import IntegrationBase, clean_config
from peregrine_sdk.capabilities import Notifications
from peregrine_sdk.hooks import FieldChoices
from peregrine_sdk.errors import ErrorKind
from peregrine_sdk.http import NO_RETRY, HttpClient


class PingIntegration(IntegrationBase, Notifications, FieldChoices):
    name = "ping"
    label = "Ping Service"
    tier = "free"
    description = "A loopback service used by the tests."
    timeout = 5.0

    def fields(self) -> list[dict]:
        return [
            {"key": "base_url", "label": "Server address", "type": "url",
             "placeholder": "https://ping.example", "required": True,
             "help": "Where the service runs"},
            {"key": "api_token", "label": "API token", "type": "password",
             "placeholder": "tok-…", "required": True, "help": "From your account page"},
            {"key": "workspace", "label": "Workspace", "type": "text", "placeholder": "",
             "required": False, "help": ""},
            {"key": "verbose", "label": "Send details", "type": "checkbox", "required": False},
            {"key": "region", "label": "Region", "type": "choice", "required": False,
             "choices": ["eu", "us"]},
            {"key": "key_file", "label": "Key file", "type": "file", "required": False},
        ]

    def connect(self, config: dict) -> bool:
        self.config = clean_config(config)
        return self.required_present(self.config)

    def _client(self) -> HttpClient:
        return HttpClient(timeout=self.timeout, policy=NO_RETRY,
                          headers={"Authorization": f"Bearer {self.config['api_token']}"},
                          secrets=[self.config["api_token"]])

    def probe(self) -> None:
        self._client().request(
            "GET", self.config["base_url"].rstrip("/") + "/ping",
            hints={401: (ErrorKind.INVALID_AUTH, "The token was rejected; create a new one."),
                   404: (ErrorKind.NOT_FOUND, "No workspace there; check the address.")})

    def field_choices(self) -> dict[str, list]:
        """The service's regions, as read after a passing test."""
        body = self._client().json("GET", self.config["base_url"].rstrip("/") + "/regions")
        return {"region": body["regions"]}

    def notify(self, message: str, *, title: str = "Peregrine", url: str | None = None) -> None:
        self._client().request("POST", self.config["base_url"].rstrip("/") + "/notify",
                               json={"message": message, "title": title, "url": url})


def ping_service(server, token: str = "good-token"):
    """Routes of the ping service on a LoopbackServer."""
    from tests.fakes.loopback import Reply

    @server.route("GET", "/ping")
    def ping(request, _match):
        if request.header("Authorization") != f"Bearer {token}":
            return Reply(401, {"error": "unauthorized"})
        return Reply(200, {"ok": True})

    @server.route("GET", "/regions")
    def regions(request, _match):
        return Reply(200, {"regions": ["eu", "us", "apac"]})

    @server.route("POST", "/notify")
    def notify(request, _match):
        return Reply(204)

    return server
