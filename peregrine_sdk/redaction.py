"""Masking of secrets in anything that may reach a log line or an error text."""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

MASK = "•••"

@cache
def _credential_patterns() -> tuple[re.Pattern[str], ...]:
    """Credential-shaped URL and header parts, compiled when first needed (not as the app starts:
    this module is imported before the first window, most runs log nothing before it)."""
    return (
        # Paths whose last segments are credentials: Slack/Discord webhooks.
        re.compile(r"(?P<keep>/(?:services|api(?:/v\d+)?/webhooks)/[^/\s]+/)"
                   r"(?P<secret>[^\s?#\"']+)"),
        re.compile(r"(?P<keep>[?&](?:sid|token|access_token|key|api_key|code|refresh_token"
                   r"|client_secret)=)(?P<secret>[^&\s#\"']+)", re.IGNORECASE),
        re.compile(r"(?P<keep>\b(?:Bearer|Basic|Token)\s+)(?P<secret>[A-Za-z0-9._~+/=-]{6,})"),
        re.compile(r"(?P<keep>\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)(?P<secret>[^/\s@]+)(?=@)"),
    )


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace known secret values and credential-shaped URL parts with a mask."""
    for value in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(value, MASK)
    for pattern in _credential_patterns():
        text = pattern.sub(lambda m: m.group("keep") + MASK, text)
    return text


# -- every log line, whoever writes it (ours, urllib3's "GET /path?token=…", a plugin's) -------
import logging  # noqa: E402
import threading  # noqa: E402

_known: set[str] = set()
_known_lock = threading.Lock()
_installed = False
_formatter = logging.Formatter()


def register_secret(*values: str | None) -> None:
    """Remember credential values so that every later log line masks them."""
    with _known_lock:
        _known.update(v for v in values if v and len(v) >= 4)


def known_secrets() -> list[str]:
    with _known_lock:
        return list(_known)


def install_log_masking() -> None:
    """Mask secrets in every LogRecord as it is created (handlers and caplog alike). Idempotent."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the line
            message = str(record.msg)
        secrets = known_secrets()
        record.msg = mask_text(message, secrets)
        record.args = ()
        if record.exc_info and record.exc_info[0] is not None:
            # Formatted now, masked, so no handler formats the raw traceback later.
            record.exc_text = mask_text(_formatter.formatException(record.exc_info), secrets)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
