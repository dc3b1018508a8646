"""Google Calendar through a service-account key: one event per interview, found again by a
deterministic event id, so moving the time updates it and replaying never adds a second one.

A service account is its own Google identity: the user shares their calendar with the account's
e-mail ("Make changes to events"); ``primary`` would be the service account's own calendar, which
no person ever sees.  Tokens come from the shared service-account helper (google-auth signs the
JWT); every HTTP call, the token exchange included, goes through HttpClient.
"""
from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import quote

from peregrine_sdk.calendar_events import event_fields
from peregrine_sdk.google_auth import ServiceAccountToken, key_file_field
from peregrine_sdk.base import IntegrationBase, clean_config
from peregrine_sdk.capabilities import CalendarEvents, InterviewEvent
from peregrine_sdk.errors import ErrorKind, IntegrationError
from peregrine_sdk.hooks import AllDayEvents
from peregrine_sdk.http import NO_RETRY, HttpClient, RetryPolicy

API_URL = "https://www.googleapis.com/calendar/v3"
SCOPES = ("https://www.googleapis.com/auth/calendar",)
_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}


def google_event_id(uid: str) -> str:
    """A valid Google event id (base32hex, lower case) derived from the stable UID."""
    digest = hashlib.sha256(uid.encode("utf-8")).digest()
    return base64.b32hexencode(digest).decode("ascii").rstrip("=").lower()


def _all_day_times(event: InterviewEvent) -> dict[str, Any]:
    """An all-day entry's fields: dates only (``end`` the day after, exclusive), shown as free
    time so a deadline does not block the day."""
    return {"start": {"date": event.start.isoformat()[:10]},
            "end": {"date": event.end.isoformat()[:10]}, "transparency": "transparent"}


def _google_reason(response: Any) -> str:
    """The first ``errors[].reason`` of a Google v3 error body ('' when absent)."""
    try:
        errors = response.json().get("error", {}).get("errors") or [{}]
        return str(errors[0].get("reason") or "")
    except (ValueError, AttributeError):
        return ""


class GoogleCalendarIntegration(IntegrationBase, CalendarEvents, AllDayEvents):
    name = "google_calendar"
    endpoints = {"api_url": API_URL}
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
            key_file_field("Google Calendar"),
            {"key": "calendar_id", "label": "Calendar ID", "type": "text",
             "placeholder": "you@gmail.com", "required": True,
             "help": "In Google Calendar: Settings → your calendar → Share with specific people "
                     "→ add the service account's e-mail (…@….iam.gserviceaccount.com) with "
                     "\"Make changes to events\". The ID is under \"Integrate calendar\" (your "
                     "main calendar's ID is your Gmail address). \"primary\" is the service "
                     "account's own calendar, not yours."},
            *event_fields(),
        ]

    def connect(self, config: dict) -> bool:
        self.config = clean_config(config)
        self._account = ServiceAccountToken(str(self.config.get("key_file") or ""), SCOPES)
        self._client: HttpClient | None = None
        return self.required_present(self.config)

    # -- plumbing ---------------------------------------------------------------------------------
    @property
    def calendar_id(self) -> str:
        return str(self.config.get("calendar_id") or "")

    @property
    def api_url(self) -> str:
        return self.endpoint("api_url")

    def _http(self, policy: RetryPolicy) -> HttpClient:
        if self._client is None:
            self._client = HttpClient(timeout=self.timeout, policy=policy)
        self._client.policy = policy
        return self._client

    @property
    def service_account_email(self) -> str:
        return self._account.email

    def _call(self, method: str, path: str, *, policy: RetryPolicy,
              ok: tuple[int, ...] = (200, 204), **kwargs: Any) -> Any:
        client = self._http(policy)
        headers = {"Authorization": f"Bearer {self._account.token(client)}"}
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
            **(_all_day_times(event) if event.all_day else {
                "start": {"dateTime": event.start.isoformat(), "timeZone": event.timezone},
                "end": {"dateTime": event.end.isoformat(), "timeZone": event.timezone}}),
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
