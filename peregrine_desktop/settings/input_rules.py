"""What a form accepts: trimmed values of sane length, no control characters, http(s) addresses —
and a warning before a secret would travel over plain http to another machine.

Pure functions over the guide's field dicts (no widgets), so the editors in ``ui/fields.py``, the
wizard and the fuzz tests share one set of rules.  Messages are sentences a person can act on.
"""
from __future__ import annotations

import ipaddress
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

#: Characters no single-line setting legitimately holds; pasted from a terminal or a PDF.
_INVISIBLE = {"Cc": "a control character", "Cf": "an invisible formatting character",
              "Cs": "a broken character", "Co": "a private-use character",
              "Cn": "an unassigned character"}
LOCAL_HOSTS = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def max_length() -> int:
    from peregrine_desktop.ui.fields import MAX_LENGTH

    return MAX_LENGTH


def _label(spec: Mapping[str, Any]) -> str:
    label = spec.get("label") if isinstance(spec, Mapping) else None
    key = spec.get("key") if isinstance(spec, Mapping) else None
    return str(label or key or "This field")


def character_problem(text: str, label: str = "This field") -> str | None:
    """Why ``text`` holds a character no setting should, naming where it is; else None."""
    for position, char in enumerate(text, start=1):
        kind = _INVISIBLE.get(unicodedata.category(char))
        if kind:
            return (f"{label} contains {kind} (U+{ord(char):04X}) at position {position}; "
                    f"retype it or paste it again without it.")
    return None


def url_value_problem(text: str) -> str | None:
    """Why ``text`` is not an address we would send anything to (http or https only)."""
    from peregrine_desktop.ui.fields import url_problem

    try:
        problem = url_problem(text)
        if problem:
            return problem
        parts = urlsplit(text)
    except ValueError:  # e.g. "http://[::1" — urlsplit refuses it
        return "This is not a valid web address; check the brackets and the host name."
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return "The address has an invalid port number; check the part after the colon."
    if parts.password is not None:  # a url field is saved in the clear, unlike a password
        return "Do not put a password into the address; enter it in its own field."
    return None


def field_value_problem(spec: Mapping[str, Any], value: Any) -> str | None:
    """What is wrong with ``value`` for the field ``spec`` (length, characters, URL shape); None
    when acceptable.  Blank required values are the editor's business, not this rule's."""
    if not isinstance(value, str):
        return None
    label = _label(spec)
    text = value.strip()
    limit = max_length()
    if len(text) > limit:
        return (f"{label} is too long ({len(text):,} characters; at most {limit:,}). "
                f"Check that you pasted only the value.")
    problem = character_problem(text, label)
    if problem:
        return problem
    kind = spec.get("type") if isinstance(spec, Mapping) else None
    is_address = spec.get("format") == "url" if isinstance(spec, Mapping) else False
    if text and (kind == "url" or (kind == "password" and (is_address
                                                            or _looks_like_url(text)))):
        return url_value_problem(text)
    return None


def _looks_like_url(text: str) -> bool:
    return "://" in text[:16]


def is_local_host(host: str | None) -> bool:
    """Loopback only: traffic to it never leaves this machine."""
    if not host:
        return False
    host = host.lower().rstrip(".")
    if host in LOCAL_HOSTS or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def insecure_secret_warning(fields: Iterable[Mapping[str, Any]],
                            config: Mapping[str, Any]) -> str | None:
    """A warning to show (and confirm) before a secret is sent over plain http to another host.

    Applies when a ``url`` field or a URL-valued ``password`` field (a webhook) is ``http://``
    to a non-loopback host and the config holds any secret (or the URL itself is one)."""
    specs = [f for f in fields if isinstance(f, Mapping) and isinstance(f.get("key"), str)]
    has_secret = any(f.get("type") == "password" and isinstance(config.get(f["key"]), str)
                     and config[f["key"]].strip() for f in specs)
    for spec in specs:
        value = config.get(spec["key"])
        if not isinstance(value, str) or spec.get("type") not in ("url", "password"):
            continue
        text = value.strip()
        if not text.lower().startswith("http://"):
            continue
        try:
            host = urlsplit(text).hostname
        except ValueError:
            continue
        if is_local_host(host) or not (has_secret or spec.get("type") == "password"):
            continue
        return (f"{_label(spec)} uses plain http:// to {host}, so your credentials would "
                f"cross the network unencrypted and anyone on it could read them. Use an "
                f"https:// address if the service offers one; continue only on a network "
                f"you trust.")
    return None
