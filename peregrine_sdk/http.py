"""The HTTP layer for integrations that make their own requests: timeouts, the status table,
one retry policy, pacing, secrets masked in every message.

Every built-in that speaks HTTP itself goes through :class:`HttpClient`.  Three talk through a
library instead, which is then the boundary and its errors are translated into the same
vocabulary: OneDrive signs in with MSAL (its file calls use this client), CalDAV uses the
``caldav`` library, MEGA the ``mega`` library (its own encrypted JSON-RPC).

Lifetime: a client belongs to one connected instance and is made on first use, so pacing,
connection reuse and ``request_count`` span that instance's calls; ``connect()`` drops it.  A
client made for one piece of work (a sign-in, an upload with its own retry policy) is used as
``with HttpClient(...) as http:``, which closes its connections at the end.

``requests`` is imported on first use so that discovering integrations stays cheap.
"""
from __future__ import annotations

import email.utils
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from peregrine_sdk.errors import ErrorKind, IntegrationError
from peregrine_sdk.redaction import install_log_masking, mask_text, register_secret

if TYPE_CHECKING:  # pragma: no cover
    import requests

log = logging.getLogger(__name__)

#: HTTP status → error category; a connector overrides only the codes that differ.
STATUS_TABLE: dict[int, ErrorKind] = {
    400: ErrorKind.UNKNOWN,
    401: ErrorKind.INVALID_AUTH,
    403: ErrorKind.INVALID_AUTH,
    404: ErrorKind.NOT_FOUND,
    408: ErrorKind.TIMEOUT,
    410: ErrorKind.NOT_FOUND,
    429: ErrorKind.RATE_LIMITED,
}


def kind_for_status(status: int, overrides: Mapping[int, ErrorKind] | None = None) -> ErrorKind:
    if overrides and status in overrides:
        return overrides[status]
    if status in STATUS_TABLE:
        return STATUS_TABLE[status]
    if status >= 500:
        return ErrorKind.CANNOT_CONNECT
    return ErrorKind.UNKNOWN


def retry_after_seconds(response: "requests.Response") -> float | None:
    """Seconds to wait from a ``Retry-After`` header (integer, float or HTTP date) or a JSON
    ``retry_after`` field (Discord)."""
    header = response.headers.get("Retry-After")
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(header) if header else None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - time.time())
    if "json" in response.headers.get("Content-Type", ""):
        try:
            body = response.json()
        except ValueError:
            return None
        if isinstance(body, dict) and isinstance(body.get("retry_after"), (int, float)):
            return max(0.0, float(body["retry_after"]))
    return None


@dataclass
class RetryPolicy:
    """Bounded retries shared by every integration.

    429 and 503 honour the server's wait (capped at ``max_wait``); other 5xx, resets and timeouts
    back off exponentially with jitter.  ``rate_limit_wait`` is for services that document a fixed
    pause instead of a header (Airtable: 30 s).
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_wait: float = 60.0
    rate_limit_wait: float | None = None
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504, 529})
    #: False for sends that are not idempotent (a webhook post): after a read timeout the
    #: message may have landed, and a retry would post it twice.
    retry_read_timeouts: bool = True
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def backoff(self, attempt: int) -> float:
        return min(self.max_wait, self.base_delay * (2 ** attempt) * (0.5 + random.random()))

    def wait_for(self, response: "requests.Response", attempt: int) -> float:
        if response.status_code in (429, 503, 529):
            server_wait = retry_after_seconds(response)
            if server_wait is not None:
                return min(self.max_wait, server_wait)
            if response.status_code == 429 and self.rate_limit_wait is not None:
                return min(self.max_wait, self.rate_limit_wait)
        return self.backoff(attempt)


#: For connection tests: one try, the user is waiting for an answer.
NO_RETRY = RetryPolicy(attempts=1)


class Pacer:
    """Keeps requests at least ``interval`` seconds apart (a documented per-second rate)."""

    def __init__(self, per_second: float | None) -> None:
        self.interval = 1.0 / per_second if per_second else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            time.sleep(delay)


ErrorHints = Mapping[int, tuple[ErrorKind, str]]
#: A service's own error code (from the body, see :func:`error_code`) → category and hint; it
#: wins over the status hint when one status carries several causes (Slack's 404s).
CodeHints = Mapping[str, tuple[ErrorKind, str]]


class HttpClient:
    """A ``requests.Session`` with timeouts, pacing, retries and error classification.

    Every failure leaves as :class:`IntegrationError`; ``hints`` maps a status to the category and
    the sentence this service's users need (e.g. 404 → "share the database with …").
    """

    def __init__(self, *, timeout: float | tuple[float, float] = (5.0, 15.0),
                 policy: RetryPolicy | None = None, per_second: float | None = None,
                 headers: Mapping[str, str] | None = None, secrets: Iterable[str] = (),
                 auth: Any = None) -> None:
        import requests  # deferred: keeps integration discovery cheap

        self.session = requests.Session()
        self.session.headers.update({"User-Agent": "PeregrineDesktop/0.1"})
        if headers:
            self.session.headers.update(headers)
        self.session.auth = auth
        self.timeout = timeout
        self.policy = policy or RetryPolicy()
        self.pacer = Pacer(per_second)
        self.secrets = [s for s in secrets if s]
        register_secret(*self.secrets)
        install_log_masking()
        self.request_count = 0

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "HttpClient":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def request(self, method: str, url: str, *, ok: Iterable[int] = (200, 201, 202, 204),
                hints: ErrorHints | None = None, policy: RetryPolicy | None = None,
                codes: CodeHints | None = None, **kwargs: Any) -> "requests.Response":
        """Send, retrying what is transient; return the response whose status is in ``ok``."""
        import requests

        policy = policy or self.policy
        ok = set(ok)
        kwargs.setdefault("timeout", self.timeout)
        last_error: IntegrationError | None = None
        for attempt in range(policy.attempts):
            self.pacer.wait()
            self.request_count += 1
            try:
                response = self.session.request(method, url, **kwargs)
            except requests.exceptions.Timeout as exc:
                last_error = IntegrationError(ErrorKind.TIMEOUT, detail=self._masked(exc))
                if not (policy.retry_read_timeouts
                        or isinstance(exc, requests.exceptions.ConnectTimeout)):
                    raise last_error from None
            except requests.exceptions.SSLError as exc:
                raise IntegrationError(
                    ErrorKind.CANNOT_CONNECT,
                    "The server's security certificate could not be verified; check the address.",
                    detail=self._masked(exc)) from None
            except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                    requests.exceptions.InvalidSchema) as exc:
                raise IntegrationError(
                    ErrorKind.CANNOT_CONNECT,
                    "The address is not a valid http(s) URL; check it for typos.",
                    detail=self._masked(exc)) from None
            except requests.exceptions.ConnectionError as exc:
                last_error = IntegrationError(ErrorKind.CANNOT_CONNECT, detail=self._masked(exc))
            except requests.exceptions.RequestException as exc:
                last_error = IntegrationError(ErrorKind.UNKNOWN, detail=self._masked(exc))
            else:
                if response.status_code in ok:
                    return response
                last_error = self.error_for(response, hints, codes)
                if response.status_code not in policy.retry_statuses:
                    raise last_error
                if attempt + 1 < policy.attempts:
                    wait = policy.wait_for(response, attempt)
                    log.info("%s %s → %s; retrying in %.1fs", method, self._masked(url),
                             response.status_code, wait)
                    policy.sleep(wait)
                continue
            log.info("%s %s failed (%s); attempt %d of %d", method, self._masked(url),
                     last_error.kind.value, attempt + 1, policy.attempts)
            if attempt + 1 < policy.attempts:
                policy.sleep(policy.backoff(attempt))
        assert last_error is not None
        raise last_error

    def json(self, method: str, url: str, **kwargs: Any) -> Any:
        """``request`` and decode a JSON body; a body that is not JSON is an error, not a crash."""
        response = self.request(method, url, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise IntegrationError(
                ErrorKind.UNKNOWN, "The service sent an answer we could not read; try again later.",
                detail=f"non-JSON body from {self._masked(url)}") from None

    def error_for(self, response: "requests.Response", hints: ErrorHints | None = None,
                  codes: CodeHints | None = None) -> IntegrationError:
        """The IntegrationError for an unwanted answer: by the service's code, then status."""
        status = response.status_code
        body = self._masked(response.text[:300]) if response.content else ""
        detail = f"HTTP {status} from {self._masked(response.url)}: {body}"
        retry_after = retry_after_seconds(response) if status in (429, 503) else None
        code = error_code(response.text, "code", "error") if codes and response.content else ""
        if code in (codes or {}):
            kind, hint = codes[code]
            return IntegrationError(kind, hint, detail, retry_after)
        if hints and status in hints:
            kind, hint = hints[status]
            return IntegrationError(kind, hint, detail, retry_after)
        kind = kind_for_status(status)
        hint = ""
        if kind is ErrorKind.CANNOT_CONNECT:
            hint = f"The service is having trouble (HTTP {status}); try again later."
        elif kind is ErrorKind.RATE_LIMITED and retry_after:
            hint = f"The service asked us to wait {retry_after:.0f} s; try again after that."
        elif kind is ErrorKind.UNKNOWN:
            hint = f"The service refused the request (HTTP {status}); check the settings."
        return IntegrationError(kind, hint, detail, retry_after)

    def _masked(self, value: object) -> str:
        return mask_text(str(value), self.secrets)


def require_http_url(url: str, hint: str) -> str:
    """``url`` if it is an absolute http(s) URL, else IntegrationError(invalid_address,
    ``hint``) before anything is sent: nothing was tried, so it is not "could not reach".  Any host is allowed: self-hosted services, loopback tests."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        valid = (parts.scheme in ("http", "https") and bool(parts.hostname)
                 and not any(ch.isspace() for ch in url))
    except ValueError:
        valid = False
    if not valid:  # the detail never repeats the URL: it may be the credential
        raise IntegrationError(ErrorKind.INVALID_ADDRESS, hint, detail="not an http(s) URL")
    return url


def error_code(response_text: str, *keys: str) -> str:
    """Pull an error code out of a JSON body, whatever its shape; '' when there is none."""
    try:
        body = json.loads(response_text)
    except ValueError:
        return response_text.strip()[:80]
    for key in keys:
        if isinstance(body, dict):
            value = body.get(key)
            if isinstance(value, (str, int)):
                return str(value)
    return ""
