"""Masking of secrets in anything that may reach a log line or an error text."""
from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "•••"

# Paths whose last segments are credentials: Slack/Discord webhooks.
_WEBHOOK_PATH = re.compile(
    r"(?P<keep>/(?:services|api(?:/v\d+)?/webhooks)/[^/\s]+/)(?P<secret>[^\s?#\"']+)")
_QUERY_SECRET = re.compile(
    r"(?P<keep>[?&](?:sid|token|access_token|key|api_key|code|refresh_token|client_secret)=)"
    r"(?P<secret>[^&\s#\"']+)", re.IGNORECASE)
_AUTH_HEADER = re.compile(r"(?P<keep>\b(?:Bearer|Basic|Token)\s+)(?P<secret>[A-Za-z0-9._~+/=-]{6,})")
_USERINFO = re.compile(r"(?P<keep>\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)(?P<secret>[^/\s@]+)(?=@)")


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace known secret values and credential-shaped URL parts with a mask."""
    for value in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(value, MASK)
    for pattern in (_WEBHOOK_PATH, _QUERY_SECRET, _AUTH_HEADER, _USERINFO):
        text = pattern.sub(lambda m: m.group("keep") + MASK, text)
    return text
