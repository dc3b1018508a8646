"""Apple Calendar (iCloud) and any CalDAV server: one event per interview in the calendar the
user names, stored at ``<calendar>/<uid>.ics`` so a later change overwrites the same resource.

Uses the ``caldav`` and ``icalendar`` libraries (imported when first needed, never at discovery)
with a timeout on every request.  The module is not called ``caldav.py``: that would shadow the
library inside this package.
"""
from __future__ import annotations

import logging
import re
from typing import Any

from peregrine_sdk.calendar_events import as_vcalendar, event_fields
from peregrine_sdk.base import IntegrationBase, clean_config
from peregrine_sdk.capabilities import CalendarEvents, InterviewEvent
from peregrine_sdk.errors import ErrorKind, IntegrationError
from peregrine_sdk.redaction import mask_text

log = logging.getLogger(__name__)


class CaldavCalendarIntegration(IntegrationBase, CalendarEvents):
    name = "caldav_calendar"
    label = "Apple Calendar / CalDAV"
    tier = "free"
    description = ("Adds each interview to Apple Calendar (iCloud) or any CalDAV server "
                   "(Nextcloud, Fastmail, Radicale…), in the calendar you name.")
    #: Seconds for each request to the server.
    timeout: float = 15.0

    def fields(self) -> list[dict]:
        return [
            {"key": "url", "label": "Server address", "type": "url",
             "placeholder": "https://caldav.icloud.com/", "required": True,
             "help": "iCloud: https://caldav.icloud.com/ · Nextcloud: "
                     "https://cloud.example.com/remote.php/dav · Fastmail: "
                     "https://caldav.fastmail.com/ · other servers: their CalDAV address."},
            {"key": "username", "label": "User name", "type": "text",
             "placeholder": "you@icloud.com", "required": True,
             "help": "iCloud: your Apple ID e-mail address."},
            {"key": "app_password", "label": "App password", "type": "password",
             "placeholder": "xxxx-xxxx-xxxx-xxxx", "required": True,
             "help": "iCloud needs an app-specific password (appleid.apple.com → Sign-In and "
                     "Security → App-Specific Passwords); your Apple ID password will not work. "
                     "Nextcloud: Settings → Security → Create new app password."},
            {"key": "calendar_name", "label": "Calendar", "type": "text",
             "placeholder": "Interviews", "required": True,
             "help": "The calendar's name as your calendar app shows it."},
            {"key": "create_calendar", "label": "Create this calendar if it does not exist",
             "type": "checkbox", "required": False,
             "help": "Peregrine then creates it when you test or save."},
            *event_fields(),
        ]

    def connect(self, config: dict) -> bool:
        self.config = clean_config(config)
        self._client: Any = None
        self._calendar: Any = None
        return self.required_present(self.config)

    @property
    def calendar_name(self) -> str:
        return str(self.config.get("calendar_name") or "")

    # -- errors: the library's exceptions in our vocabulary ----------------------------------------
    def _translated(self, exc: Exception) -> IntegrationError:
        from caldav.lib import error
        from caldav.lib.http_sync import requests as http

        secrets = [str(self.config.get("app_password") or "")]
        detail = mask_text(f"{type(exc).__name__}: {exc}", secrets)
        if isinstance(exc, IntegrationError):
            return exc
        if isinstance(exc, error.AuthorizationError):
            return IntegrationError(
                ErrorKind.INVALID_AUTH,
                "The server refused this user name and password. iCloud needs an app-specific "
                "password, not your Apple ID password.", detail)
        if isinstance(exc, error.RateLimitError):
            return IntegrationError(ErrorKind.RATE_LIMITED, detail=detail,
                                    retry_after=getattr(exc, "retry_after", None))
        if isinstance(exc, http.exceptions.Timeout):
            return IntegrationError(ErrorKind.TIMEOUT, detail=detail)
        if isinstance(exc, http.exceptions.ConnectionError):
            return IntegrationError(ErrorKind.CANNOT_CONNECT, detail=detail)
        if isinstance(exc, (http.exceptions.InvalidURL, http.exceptions.MissingSchema,
                            http.exceptions.InvalidSchema, ValueError)):
            return IntegrationError(ErrorKind.CANNOT_CONNECT,
                                    "The server address is not a valid http(s) URL; check it "
                                    "for typos.", detail)
        if isinstance(exc, error.NotFoundError):
            return IntegrationError(ErrorKind.NOT_FOUND,
                                    "No CalDAV service at this address; check the server "
                                    "address.", detail)
        if isinstance(exc, error.DAVError):
            status = getattr(exc, "status", None)
            text = f"{getattr(exc, 'reason', '')} {exc}"
            if (isinstance(status, int) and status >= 500) or re.search(r"\b5\d\d\b", text):
                return IntegrationError(ErrorKind.CANNOT_CONNECT,
                                        "The server is having trouble; try again later.", detail)
            return IntegrationError(ErrorKind.UNKNOWN,
                                    "The calendar server refused the request; check the "
                                    "address and the calendar.", detail)
        return IntegrationError(ErrorKind.UNKNOWN, detail=detail)

    def _guarded(self, action: Any) -> Any:
        try:
            return action()
        except Exception as exc:  # noqa: BLE001 - every library failure leaves translated
            raise self._translated(exc) from None

    # -- plumbing ---------------------------------------------------------------------------------
    def _dav(self) -> Any:
        if self._client is None:
            import caldav

            self._client = caldav.DAVClient(
                url=str(self.config.get("url") or ""),
                username=str(self.config.get("username") or ""),
                password=str(self.config.get("app_password") or ""),
                timeout=self.timeout)
        return self._client

    def _find_calendar(self, create: bool) -> Any:
        """The calendar named in the settings (by display name, or by the last part of its URL);
        created when asked, else NOT_FOUND naming the choices."""
        principal = self._dav().principal()
        calendars = principal.calendars()
        wanted = self.calendar_name.casefold()
        names = []
        for calendar in calendars:
            try:
                shown = calendar.get_display_name() or ""
            except Exception:  # noqa: BLE001 - an unreadable name only drops that match
                shown = ""
            names.append(shown or str(calendar.url).rstrip("/").rsplit("/", 1)[-1])
            segment = str(calendar.url).rstrip("/").rsplit("/", 1)[-1]
            if wanted in (shown.casefold(), segment.casefold()):
                return calendar
        if create:
            log.info("creating calendar %r", self.calendar_name)
            return principal.make_calendar(name=self.calendar_name)
        choices = ", ".join(f"\"{n}\"" for n in names if n) or "none"
        raise IntegrationError(
            ErrorKind.NOT_FOUND,
            f"There is no calendar named \"{self.calendar_name}\" (found: {choices}). Tick "
            f"\"Create this calendar if it does not exist\" and test again to create it, or "
            f"correct the name.")

    def calendar(self) -> Any:
        if self._calendar is None:
            create = self.config.get("create_calendar") is True
            self._calendar = self._guarded(lambda: self._find_calendar(create))
        return self._calendar

    # -- the connection test ------------------------------------------------------------------------
    def probe(self) -> None:
        """Log in, find the principal's calendars and the named one (creating it if ticked)."""
        self._calendar = None
        self.calendar()

    # -- the capability ---------------------------------------------------------------------------
    def upsert_event(self, event: InterviewEvent) -> str:
        """PUT ``<calendar>/<uid>.ics``: created the first time, overwritten after that."""
        calendar = self.calendar()
        data = as_vcalendar([event]).decode("utf-8")
        saved = self._guarded(lambda: calendar.add_event(data))
        return str(saved.url)

    def delete_event(self, uid: str) -> None:
        """DELETE the job's resource; one that is already gone counts as deleted."""
        import caldav

        calendar = self.calendar()
        try:
            from caldav.calendarobjectresource import _quote_uid
            name = _quote_uid(uid, self._dav().features)
        except (ImportError, TypeError):  # an older or newer caldav: its plain quoting
            from urllib.parse import quote
            name = quote(uid, safe="/@")
        url = calendar.url.join(name + ".ics")
        self._guarded(lambda: caldav.Event(client=self._dav(), url=url, parent=calendar)
                      .delete())
