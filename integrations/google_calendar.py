"""Google Calendar through a service-account key: one event per interview, found again by a
deterministic event id, so moving the time updates it and replaying never adds a second one.

A service account is its own Google identity: the user shares their calendar with the account's
e-mail ("Make changes to events"); ``primary`` would be the service account's own calendar, which
no person ever sees.  google-auth signs the JWT and exchanges it for a token; every HTTP call,
the token exchange included, goes through :class:`~integrations.http.HttpClient`.
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from integrations._calendar_common import event_fields
from integrations.base import IntegrationBase
from integrations.capabilities import CalendarEvents, InterviewEvent
from integrations.errors import ErrorKind, IntegrationError
from integrations.http import NO_RETRY, HttpClient, RetryPolicy

API_URL = "https://www.googleapis.com/calendar/v3"
SCOPES = ("https://www.googleapis.com/auth/calendar",)
#: Statuses google-auth reads itself (an OAuth error body); the transient ones HttpClient retries.
_TOKEN_ANSWERS = frozenset(range(200, 500)) - {408, 429}
_OAUTH_REFUSALS = {"invalid_grant", "invalid_client", "unauthorized_client", "invalid_scope",
                   "access_denied"}
_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}


def google_event_id(uid: str) -> str:
    """A valid Google event id (base32hex, lower case) derived from the stable UID."""
    digest = hashlib.sha256(uid.encode("utf-8")).digest()
    return base64.b32hexencode(digest).decode("ascii").rstrip("=").lower()


@dataclass
class _AuthResponse:
    """The ``google.auth.transport.Response`` shape: status, headers, data."""

    status: int
    headers: dict[str, str]
    data: bytes


class _HttpClientTransport:
    """google-auth's ``Request`` interface on top of our HttpClient (timeouts, retries, masking)."""

    def __init__(self, client: HttpClient) -> None:
        self.client = client

    def __call__(self, url: str, method: str = "GET", body: Any = None,
                 headers: dict | None = None, timeout: Any = None, **kwargs: Any) -> _AuthResponse:
        response = self.client.request(method, url, data=body, headers=headers,
                                       ok=_TOKEN_ANSWERS)
        return _AuthResponse(response.status_code, dict(response.headers), response.content)


def _google_reason(response: Any) -> str:
    """The first ``errors[].reason`` of a Google v3 error body ('' when absent)."""
    try:
        errors = response.json().get("error", {}).get("errors") or [{}]
        return str(errors[0].get("reason") or "")
    except (ValueError, AttributeError):
        return ""


class GoogleCalendarIntegration(IntegrationBase, CalendarEvents):
    name = "google_calendar"
    label = "Google Calendar"
    tier = "free"
    description = ("Adds each interview to a Google Calendar through a service account. Share "
                   "your calendar with the service account's e-mail (\"Make changes to events\"); "
                   "\"primary\" would be the service account's own calendar, which you never see.")
    #: Seconds to connect / to read an answer.
    timeout: tuple[float, float] = (5.0, 15.0)
    #: Deliveries are retried later by the outbox; one quick second try covers a blip.
    delivery_policy = RetryPolicy(attempts=2, base_delay=0.5, max_wait=5.0)

    def fields(self) -> list[dict]:
        return [
            {"key": "key_file", "label": "Service-account key (JSON)", "type": "file",
             "placeholder": "/path/to/service-account.json", "required": True,
             "filter": "JSON key (*.json)",
             "help": "Google Cloud Console → IAM & Admin → Service accounts → Keys → Add key → "
                     "JSON. Enable the Google Calendar API in the same project."},
            {"key": "calendar_id", "label": "Calendar ID", "type": "text",
             "placeholder": "you@gmail.com", "required": True,
             "help": "In Google Calendar: Settings → your calendar → Share with specific people "
                     "→ add the service account's e-mail (…@….iam.gserviceaccount.com) with "
                     "\"Make changes to events\". The ID is under \"Integrate calendar\" (your "
                     "main calendar's ID is your Gmail address). \"primary\" is the service "
                     "account's own calendar, not yours."},
            *event_fields(),
            {"key": "api_url", "label": "API address (advanced)", "type": "url",
             "placeholder": API_URL, "required": False,
             "help": "Leave empty to use Google. Only for a proxy or a test server."},
        ]

    def connect(self, config: dict) -> bool:
        self.config = {k: (v.strip() if isinstance(v, str) else v) for k, v in config.items()}
        self._credentials: Any = None
        self._client: HttpClient | None = None
        return self.required_present(self.config)

    # -- plumbing ---------------------------------------------------------------------------------
    @property
    def calendar_id(self) -> str:
        return str(self.config.get("calendar_id") or "")

    @property
    def api_url(self) -> str:
        return str(self.config.get("api_url") or API_URL).rstrip("/")

    def _key_info(self) -> dict[str, Any]:
        path = Path(str(self.config.get("key_file") or "")).expanduser()
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IntegrationError(ErrorKind.NOT_FOUND,
                                   f"The key file {path} does not exist; choose the JSON key you "
                                   "downloaded for the service account.") from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise IntegrationError(ErrorKind.INVALID_AUTH,
                                   f"{path.name} is not a readable JSON key; download the "
                                   "service account's key again (Keys → Add key → JSON).",
                                   detail=type(exc).__name__) from None
        if not isinstance(info, dict) or info.get("type") != "service_account":
            raise IntegrationError(ErrorKind.INVALID_AUTH,
                                   f"{path.name} is not a service-account key; create one under "
                                   "IAM & Admin → Service accounts → Keys → Add key → JSON.")
        return info

    def _http(self, policy: RetryPolicy) -> HttpClient:
        if self._client is None:
            self._client = HttpClient(timeout=self.timeout, policy=policy)
        self._client.policy = policy
        return self._client

    def _token(self, client: HttpClient) -> str:
        """A valid access token (exchanged once, refreshed when it expires)."""
        from google.auth import exceptions
        from google.oauth2 import service_account

        if self._credentials is None:
            info = self._key_info()
            try:
                self._credentials = service_account.Credentials.from_service_account_info(
                    info, scopes=list(SCOPES))
            except (ValueError, KeyError) as exc:
                raise IntegrationError(ErrorKind.INVALID_AUTH,
                                       "The key file is incomplete or its private key is damaged; "
                                       "download a new JSON key.", detail=str(exc)) from None
            client.secrets.append(str(info.get("private_key") or ""))
        credentials = self._credentials
        if not credentials.valid:
            try:
                credentials.refresh(_HttpClientTransport(client))
            except exceptions.RefreshError as exc:
                answer = exc.args[1] if len(exc.args) > 1 else None
                detail = str(exc.args[0]) if exc.args else ""
                if isinstance(answer, dict) and answer.get("error") in _OAUTH_REFUSALS:
                    raise IntegrationError(
                        ErrorKind.INVALID_AUTH,
                        "Google rejected the service-account key (it may have been deleted or "
                        "rotated); create a new JSON key and choose it here.",
                        detail=detail) from None
                raise IntegrationError(
                    ErrorKind.UNKNOWN,
                    "The key file's token address did not answer like Google; download the key "
                    "again.", detail=detail) from None
            except exceptions.TransportError as exc:
                raise IntegrationError(ErrorKind.CANNOT_CONNECT, detail=str(exc)) from None
            client.secrets.append(credentials.token)
        return credentials.token

    @property
    def service_account_email(self) -> str:
        try:
            return str(self._key_info().get("client_email") or "the service account")
        except IntegrationError:
            return "the service account"

    def _call(self, method: str, path: str, *, policy: RetryPolicy,
              ok: tuple[int, ...] = (200, 204), **kwargs: Any) -> Any:
        client = self._http(policy)
        headers = {"Authorization": f"Bearer {self._token(client)}"}
        response = client.request(
            method, f"{self.api_url}{path}", ok={*ok, 403, 404}, headers=headers,
            hints={401: (ErrorKind.INVALID_AUTH, "Google did not accept the access token; test "
                                                 "again, or create a new key.")}, **kwargs)
        if response.status_code == 403:
            reason = _google_reason(response)
            if reason in _RATE_REASONS:
                raise IntegrationError(ErrorKind.RATE_LIMITED,
                                       "Google asked us to slow down; Peregrine will retry.",
                                       detail=f"403 {reason}", retry_after=30.0)
            raise IntegrationError(
                ErrorKind.INVALID_AUTH,
                f"{self.service_account_email} may only see this calendar. In Google Calendar, "
                f"share it with \"Make changes to events\".", detail=f"403 {reason}")
        if response.status_code == 404 and 404 not in ok:
            raise self._calendar_not_found()
        return response

    def _calendar_not_found(self) -> IntegrationError:
        return IntegrationError(
            ErrorKind.NOT_FOUND,
            f"Google cannot see calendar \"{self.calendar_id}\". Share it with "
            f"{self.service_account_email} (\"Make changes to events\") or check the calendar ID.")

    def _events_path(self, event_id: str = "") -> str:
        base = f"/calendars/{quote(self.calendar_id, safe='')}/events"
        return f"{base}/{event_id}" if event_id else base

    # -- the connection test ------------------------------------------------------------------------
    def probe(self) -> None:
        """Token exchange, then ``GET /calendars/{id}``: proves the key and the sharing."""
        self._call("GET", f"/calendars/{quote(self.calendar_id, safe='')}", policy=NO_RETRY)

    # -- the capability ---------------------------------------------------------------------------
    def _resource(self, event: InterviewEvent, event_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": event_id,
            "status": "confirmed",
            "summary": event.title,
            "description": event.description,
            "start": {"dateTime": event.start.isoformat(), "timeZone": event.timezone},
            "end": {"dateTime": event.end.isoformat(), "timeZone": event.timezone},
            "reminders": ({"useDefault": False, "overrides": [
                {"method": "popup", "minutes": event.reminder_minutes}]}
                if event.reminder_minutes else {"useDefault": False, "overrides": []}),
            "extendedProperties": {"private": {"peregrineUid": event.uid}},
        }
        if event.url.startswith(("http://", "https://")):
            body["source"] = {"title": "Job posting", "url": event.url}
        return body

    def upsert_event(self, event: InterviewEvent) -> str:
        """Insert with the job's own event id; 409 means it exists (or was deleted), so replace
        it whole — which also revives an event the user deleted in Google Calendar."""
        event_id = google_event_id(event.uid)
        body = self._resource(event, event_id)
        params = {"sendUpdates": "none"}
        response = self._call("POST", self._events_path(), policy=self.delivery_policy,
                              ok=(200, 409), json=body, params=params)
        if response.status_code == 409:
            response = self._call("PUT", self._events_path(event_id),
                                  policy=self.delivery_policy, ok=(200,), json=body,
                                  params=params)
        try:
            return str(response.json().get("htmlLink") or f"{self.calendar_id}/{event_id}")
        except ValueError:
            return f"{self.calendar_id}/{event_id}"

    def delete_event(self, uid: str) -> None:
        """Remove the job's event; already gone (404/410) is fine — unless the calendar itself
        is what Google cannot see."""
        response = self._call("DELETE", self._events_path(google_event_id(uid)),
                              policy=self.delivery_policy, ok=(200, 204, 404, 410),
                              params={"sendUpdates": "none"})
        if response.status_code == 404:
            self._call("GET", f"/calendars/{quote(self.calendar_id, safe='')}",
                       policy=self.delivery_policy)
