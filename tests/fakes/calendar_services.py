"""Google's token endpoint and Calendar v3 events API, emulated on a LoopbackServer.

The token endpoint checks what Google checks: the JWT-bearer grant, an RS256 signature made with
the private half of a key the fixture generated (verified with its public half), ``aud`` equal
to https://oauth2.googleapis.com/token (google-auth hard-codes it whatever ``token_uri`` says),
``iss`` the key's e-mail, a short-lived ``exp`` and a scope.  The Calendar routes follow the v3
contract: 401 without a valid token, 404 ``notFound`` for a calendar not shared with the account,
403 ``requiredAccessLevel`` for a read-only share, 409 ``duplicate`` when an event id is taken
(deleted events keep theirs), 410 when deleting a deleted event.
"""
from __future__ import annotations

import base64
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from tests.fakes.loopback import LoopbackServer, Reply, Request

GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT_EMAIL = "peregrine-test@peregrine-tests.iam.gserviceaccount.com"
_EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _time_problem(body: dict) -> str | None:
    """What Google says about an event's ``start``/``end``: each holds ``dateTime`` or (an
    all-day event) ``date``, not both, and the same kind at both ends; the end comes after."""
    start, end = body.get("start") or {}, body.get("end") or {}
    kinds = [[k for k in ("date", "dateTime") if k in part] for part in (start, end)]
    if any(len(k) != 1 for k in kinds) or kinds[0] != kinds[1]:
        return "Invalid start or end time."
    key = kinds[0][0]
    if key == "date" and not str(start[key]) < str(end[key]):
        return "The specified time range is empty."
    return None


def _v3_error(status: int, reason: str, message: str) -> Reply:
    return Reply(status, {"error": {"errors": [{"domain": "global", "reason": reason,
                                                "message": message}],
                                    "code": status, "message": message}})


@dataclass
class ServiceAccountKey:
    """A generated key pair and the JSON key file a user would download."""

    path: Path
    info: dict[str, Any]
    public_key: Any


def make_service_account_key(folder: Path, token_uri: str, *,
                             client_email: str = CLIENT_EMAIL,
                             name: str = "service-account.json") -> ServiceAccountKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    info = {"type": "service_account", "project_id": "peregrine-tests",
            "private_key_id": "0123456789abcdef", "private_key": pem,
            "client_email": client_email, "client_id": "1234567890",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": token_uri,
            "universe_domain": "googleapis.com"}
    path = Path(folder) / name
    path.write_text(json.dumps(info), encoding="utf-8")
    return ServiceAccountKey(path, info, private.public_key())


@dataclass
class FakeCalendar:
    summary: str
    access: str = "writer"            # "writer" | "reader"
    events: dict[str, dict] = field(default_factory=dict)

    def live(self) -> dict[str, dict]:
        return {k: v for k, v in self.events.items() if v.get("status") != "cancelled"}


class GoogleCalendarService:
    """Token endpoint at ``/token``; Calendar API under ``/calendar/v3`` (its ``api_url``)."""

    def __init__(self, server: LoopbackServer, public_key: Any,
                 client_email: str = CLIENT_EMAIL) -> None:
        self.server = server
        self.public_key = public_key
        self.client_email = client_email
        self.calendars: dict[str, FakeCalendar] = {}
        self.tokens: set[str] = set()
        self._numbers = itertools.count(1)
        self._routes()

    @property
    def api_url(self) -> str:
        return f"{self.server.url}/calendar/v3"

    @property
    def token_uri(self) -> str:
        return f"{self.server.url}/token"

    def share(self, calendar_id: str, summary: str = "Interviews",
              access: str = "writer") -> FakeCalendar:
        """What the user does in Google Calendar: share a calendar with the service account."""
        self.calendars[calendar_id] = FakeCalendar(summary, access)
        return self.calendars[calendar_id]

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    # -- token endpoint ---------------------------------------------------------------------------
    def _jwt_problem(self, assertion: str) -> str | None:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        try:
            head_b64, claims_b64, signature_b64 = assertion.split(".")
            header = json.loads(_b64decode(head_b64))
            claims = json.loads(_b64decode(claims_b64))
            signature = _b64decode(signature_b64)
        except ValueError:
            return "Invalid JWT: malformed."
        if header.get("alg") != "RS256":
            return "Invalid JWT: unsupported algorithm."
        try:
            self.public_key.verify(signature, f"{head_b64}.{claims_b64}".encode(),
                                   padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return "Invalid JWT Signature."
        now = time.time()
        if claims.get("aud") != GOOGLE_TOKEN_AUDIENCE:
            return "Invalid JWT: audience."
        if claims.get("iss") != self.client_email:
            return "Invalid JWT: issuer."
        if not (claims.get("iat", 0) - 300 <= now < claims.get("exp", 0) <= now + 3900):
            return ("Invalid JWT: Token must be a short-lived token and in a reasonable "
                    "timeframe")
        if "calendar" not in str(claims.get("scope", "")):
            return "Invalid scope."
        return None

    def _token(self, request: Request, _match: re.Match) -> Reply:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != JWT_GRANT:
            return Reply(400, {"error": "unsupported_grant_type",
                               "error_description": "Invalid grant_type."})
        problem = self._jwt_problem(form.get("assertion", ""))
        if problem:
            return Reply(400, {"error": "invalid_grant", "error_description": problem})
        token = f"ya29.test-{next(self._numbers)}"
        self.tokens.add(token)
        return Reply(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    # -- calendar API -----------------------------------------------------------------------------
    def _authorised(self, request: Request) -> bool:
        header = request.header("Authorization") or ""
        return header.startswith("Bearer ") and header[7:] in self.tokens

    def _calendar(self, request: Request, calendar_id: str) -> FakeCalendar | Reply:
        if not self._authorised(request):
            return _v3_error(401, "authError", "Invalid Credentials")
        calendar = self.calendars.get(unquote(calendar_id))
        if calendar is None:
            return _v3_error(404, "notFound", "Not Found")
        if request.method != "GET" and calendar.access != "writer":
            return _v3_error(403, "requiredAccessLevel",
                             "You need to have writer access to this calendar.")
        return calendar

    def _stored(self, calendar_id: str, body: dict) -> dict:
        event = {**body, "kind": "calendar#event",
                 "htmlLink": f"https://www.google.com/calendar/event?eid={body['id']}",
                 "status": body.get("status") or "confirmed",
                 "organizer": {"email": unquote(calendar_id)}}
        return event

    def _routes(self) -> None:
        server = self.server
        server.route("POST", "/token")(self._token)
        cal = r"/calendar/v3/calendars/(?P<cal>[^/]+)"

        @server.route("GET", cal)
        def get_calendar(request: Request, match: re.Match) -> Reply:
            found = self._calendar(request, match["cal"])
            if isinstance(found, Reply):
                return found
            return Reply(200, {"kind": "calendar#calendar", "id": unquote(match["cal"]),
                               "summary": found.summary, "timeZone": "Europe/Berlin"})

        @server.route("POST", cal + "/events")
        def insert(request: Request, match: re.Match) -> Reply:
            found = self._calendar(request, match["cal"])
            if isinstance(found, Reply):
                return found
            body = request.json
            if "start" not in body or "end" not in body:
                return _v3_error(400, "required", "Missing time.")
            if _time_problem(body):
                return _v3_error(400, "invalid", _time_problem(body))
            event_id = body.get("id") or f"auto{next(self._numbers):05d}"
            if not _EVENT_ID.match(event_id):
                return _v3_error(400, "invalid", "Invalid resource id value.")
            if event_id in found.events:
                return _v3_error(409, "duplicate", "The requested identifier already exists.")
            found.events[event_id] = self._stored(match["cal"], {**body, "id": event_id})
            return Reply(200, found.events[event_id])

        @server.route("PUT", cal + "/events/(?P<event>[^/]+)")
        def update(request: Request, match: re.Match) -> Reply:
            found = self._calendar(request, match["cal"])
            if isinstance(found, Reply):
                return found
            if match["event"] not in found.events:
                return _v3_error(404, "notFound", "Not Found")
            body = {**request.json, "id": match["event"]}
            if _time_problem(body):
                return _v3_error(400, "invalid", _time_problem(body))
            found.events[match["event"]] = self._stored(match["cal"], body)
            return Reply(200, found.events[match["event"]])

        @server.route("GET", cal + "/events/(?P<event>[^/]+)")
        def get_event(request: Request, match: re.Match) -> Reply:
            found = self._calendar(request, match["cal"])
            if isinstance(found, Reply):
                return found
            event = found.events.get(match["event"])
            return Reply(200, event) if event else _v3_error(404, "notFound", "Not Found")

        @server.route("DELETE", cal + "/events/(?P<event>[^/]+)")
        def delete(request: Request, match: re.Match) -> Reply:
            found = self._calendar(request, match["cal"])
            if isinstance(found, Reply):
                return found
            event = found.events.get(match["event"])
            if event is None:
                return _v3_error(404, "notFound", "Not Found")
            if event["status"] == "cancelled":
                return _v3_error(410, "deleted", "Resource has been deleted")
            event["status"] = "cancelled"
            return Reply(204)
