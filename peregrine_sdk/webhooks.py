"""Notifiers whose whole credential is one webhook URL (Slack, Discord).

A subclass names the service, its hints and its payload; the base holds the one field, the
connection, the client and the post.  The URL is a ``password`` field: it is the secret, so it
goes to the keychain and is masked in logs.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from peregrine_sdk.base import IntegrationBase, clean_config
from peregrine_sdk.capabilities import Notifications
from peregrine_sdk.http import CodeHints, ErrorHints, HttpClient, RetryPolicy, require_http_url


class WebhookNotifier(IntegrationBase, Notifications):
    """Posts each notification to ``webhook_url``; a subclass implements ``probe`` and
    ``payload`` and sets the class data below."""

    #: The card's field: an example of the service's URL, and where to get one.
    placeholder: ClassVar[str] = ""
    field_help: ClassVar[str] = ""
    #: What to do when the value is not an http(s) URL at all.
    url_hint: ClassVar[str] = "Paste the whole webhook URL."
    status_hints: ClassVar[ErrorHints] = {}
    code_hints: ClassVar[CodeHints] = {}
    #: Statuses of a successful post.
    posted: ClassVar[frozenset[int]] = frozenset({200, 204})
    #: Seconds to wait for the service's answer.
    timeout: float = 10.0
    #: Sending: honour the service's wait up to 30 s; never re-post after a read timeout (no
    #: webhook has an idempotency key, so the message may already be in the channel).
    send_policy = RetryPolicy(attempts=3, max_wait=30.0, retry_read_timeouts=False)
    #: The service's documented rate per webhook (None: no pacing).
    per_second: float | None = None

    def __init__(self) -> None:
        self.webhook_url = ""
        self._client: HttpClient | None = None

    def fields(self) -> list[dict]:
        return [{"key": "webhook_url", "label": "Webhook URL", "type": "password",
                 "format": "url",   # a secret, and checked as a web address before any test
                 "placeholder": self.placeholder, "required": True, "help": self.field_help}]

    def connect(self, config: dict) -> bool:
        self.webhook_url = str(clean_config(config).get("webhook_url") or "")
        self._client = None
        return self.required_present({"webhook_url": self.webhook_url})

    def payload(self, message: str, title: str, url: str | None) -> dict:
        """The JSON body of one notification, in the service's format."""
        raise NotImplementedError

    def notify(self, message: str, *, title: str = "Peregrine", url: str | None = None) -> None:
        """Post one message; any status in ``posted`` means the service took it."""
        self.call("POST", json=self.payload(message, title, url), ok=self.posted,
                  policy=self.send_policy)

    def call(self, method: str, *, ok: Iterable[int], policy: RetryPolicy,
             **kwargs: Any) -> Any:
        """One request to the webhook with the service's hints; IntegrationError on failure."""
        return self._http().request(
            method, require_http_url(self.webhook_url, self.url_hint), ok=set(ok),
            policy=policy, timeout=self.timeout, hints=self.status_hints,
            codes=self.code_hints, **kwargs)

    def _http(self) -> HttpClient:
        if self._client is None:  # one client per URL, so pacing spans consecutive messages
            self._client = HttpClient(per_second=self.per_second, secrets=[self.webhook_url])
        return self._client
