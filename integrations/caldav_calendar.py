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
from peregrine_sdk.hooks import AllDayEvents
from peregrine_sdk.redaction import mask_text

log = logging.getLogger(__name__)


class CaldavCalendarIntegration(IntegrationBase, CalendarEvents, AllDayEvents):
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
        """PUT ``<calendar>/<uid>.ics``: created the first time, overwritten after that.  When
        the calendar already holds an event with this UID under another name (the user imported
        our .ics export), the server refuses with no-uid-conflict: that event is found by its
        UID and updated where it is."""
        calendar = self.calendar()
        data = as_vcalendar([event]).decode("utf-8")
        try:
            return str(calendar.add_event(data).url)
        except Exception as exc:  # noqa: BLE001 - translated below unless it is a UID clash
            if not _is_uid_conflict(exc):
                raise self._translated(exc) from None
            log.info("an event with this UID exists under another name; updating it there")
        existing = self._event_by_uid(calendar, event.uid)
        if existing is None:     # the clash named an event we cannot find: say so, do not loop
            raise IntegrationError(
                ErrorKind.UNKNOWN, "The calendar already holds this interview under another "
                "name but would not show it; remove the duplicate in your calendar app.",
                detail="no-uid-conflict, and a calendar-query for the UID found nothing")
        existing.data = data
        self._guarded(existing.save)
        return str(existing.url)

    def _event_by_uid(self, calendar: Any, uid: str) -> Any:
        """The event holding ``uid`` wherever it is stored (a calendar-query REPORT on UID), or
        None."""
        from caldav.lib import error

        find = getattr(calendar, "get_event_by_uid", None) or calendar.event_by_uid
        try:
            return find(uid)
        except error.NotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001
            raise self._translated(exc) from None

    def delete_event(self, uid: str) -> None:
        """DELETE the event with this UID where it is stored (normally ``<uid>.ics``, but an
        imported copy may sit under another name); one that is already gone counts as deleted."""
        calendar = self.calendar()
        found = self._event_by_uid(calendar, uid)
        if found is not None:
            self._guarded(found.delete)


def _is_uid_conflict(exc: Exception) -> bool:
    """The server's answer when another resource in the calendar has this UID (RFC 4791
    5.3.2.1): 409 or 412 with a no-uid-conflict precondition."""
    from caldav.lib import error

    conflict_class = getattr(error, "UidConflictError", None)
    if conflict_class is not None and isinstance(exc, conflict_class):
        return True
    return isinstance(exc, error.DAVError) and getattr(exc, "status", None) in (409, 412) \
        and "uid-conflict" in str(exc)
