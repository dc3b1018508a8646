"""Home Assistant: pipeline updates sent through one of your HA notify services (your phone's
companion app, or HA's own sidebar notifications).

Auth is a long-lived access token.  A failed login is never retried: with ``ip_ban_enabled``
HA bans the address after a few, and the user would be locked out of their own server.
"""
from __future__ import annotations

from peregrine_sdk.base import IntegrationBase, clean_config
from peregrine_sdk.capabilities import Notifications
from peregrine_sdk.errors import DEFAULT_HINTS, ErrorKind, IntegrationError
from peregrine_sdk.http import NO_RETRY, ErrorHints, HttpClient, RetryPolicy, require_http_url

#: The service that shows notifications in HA's own sidebar; it renders markdown.
SIDEBAR_SERVICE = "persistent_notification"

#: HA's answers (text/plain, from aiohttp) → category and the fix.
STATUS_HINTS: ErrorHints = {
    401: (ErrorKind.INVALID_AUTH,
          "Home Assistant rejected the access token; create a long-lived access token under "
          "your HA profile → Security and paste it here."),
    403: (ErrorKind.INVALID_AUTH,
          "Home Assistant refuses this computer, probably after failed logins (IP ban); remove "
          "its address from ip_bans.yaml in HA's config folder and restart HA."),
    404: (ErrorKind.NOT_FOUND,
          "No Home Assistant API answers at this address; enter the address you open Home "
          "Assistant at (like http://homeassistant.local:8123) and check that its api "
          "integration is on."),
}

URL_HINT = ("Enter the address you open Home Assistant at, starting with http:// or https:// "
            "(like http://homeassistant.local:8123).")

#: Replaces the generic "check your internet" when nothing answers: HA usually lives on the LAN.
UNREACHABLE_HINT = ("Nothing answered at this address; check that Home Assistant is running "
                    "and that this computer is on its network (or VPN).")

#: How many available services the not-found hint lists.
LISTED_SERVICES = 4


def notify_services(services: object) -> list[str]:
    """The notify services in HA's ``GET /api/services`` answer
    (``[{"domain": "notify", "services": {name: {...}}}, …]``)."""
    names: list[str] = []
    for entry in services if isinstance(services, list) else []:
        if isinstance(entry, dict) and entry.get("domain") == "notify":
            listed = entry.get("services") or {}
            names += [str(n) for n in listed] if isinstance(listed, (dict, list)) else []
    return sorted(names)


def missing_service_hint(service: str, available: list[str]) -> str:
    if not available:
        return (f"Home Assistant has no notify.{service}, and no notify services at all; set "
                f"up the companion app on your phone, or enter {SIDEBAR_SERVICE}.")
    shown = ", ".join(available[:LISTED_SERVICES])
    more = " …" if len(available) > LISTED_SERVICES else ""
    return (f"Home Assistant has no notify.{service}; enter one it has, such as {shown}{more} "
            f"(Developer Tools → Actions lists them all).")


class HomeAssistantIntegration(IntegrationBase, Notifications):
    name = "homeassistant"
    label = "Home Assistant"
    tier = "free"
    description = ("Sends job updates through a Home Assistant notify service, to your phone "
                   "or HA's sidebar.")

    #: Seconds to wait for HA's answer.
    timeout: float = 10.0
    #: GET /api/ answers {"message": "API running."}; anything else at 200 is not its API.
    fault_outcomes = {"garbage": frozenset({ErrorKind.NOT_FOUND})}
    #: Sending: retry HA restarts (5xx), honour Retry-After from a proxy; never re-send after a
    #: read timeout (the phone may already have buzzed); 401/403 are never retried.
    send_policy = RetryPolicy(attempts=3, max_wait=30.0, retry_read_timeouts=False)

    def __init__(self) -> None:
        self.base_url = ""
        self.token = ""
        self.notify_service = ""
        self._client: HttpClient | None = None

    def fields(self) -> list[dict]:
        return [
            {"key": "base_url", "label": "Home Assistant address", "type": "url",
             "placeholder": "http://homeassistant.local:8123", "required": True,
             "help": "The address you open Home Assistant at in your browser."},
            {"key": "token", "label": "Long-lived access token", "type": "password",
             "placeholder": "eyJhbGciOi…", "required": True,
             "help": "In Home Assistant: your profile → Security → Long-lived access "
                     "tokens → Create token."},
            {"key": "notify_service", "label": "Notify service", "type": "text",
             "placeholder": "mobile_app_pixel_7", "required": True,
             "help": "The part after “notify.”: mobile_app_<your phone> for the companion app, "
                     "or persistent_notification for HA's sidebar."},
        ]

    def connect(self, config: dict) -> bool:
        config = clean_config(config)
        base = str(config.get("base_url") or "").rstrip("/")
        if base.endswith("/api"):  # people paste the API address too
            base = base[:-len("/api")]
        service = str(config.get("notify_service") or "")
        self.base_url = base
        self.token = str(config.get("token") or "")
        self.notify_service = service.removeprefix("notify.")
        self._client = None
        return self.required_present({"base_url": self.base_url, "token": self.token,
                                      "notify_service": self.notify_service})

    def probe(self) -> None:
        """``GET /api/`` proves address and token; ``GET /api/services`` that the chosen
        notify service exists.  Each is tried once."""
        status = self._get_json("/api/")
        if not (isinstance(status, dict) and status.get("message") == "API running."):
            raise IntegrationError(ErrorKind.NOT_FOUND, STATUS_HINTS[404][1],
                                   detail=f"GET /api/ answered {str(status)[:80]!r}")
        services = self._get_json("/api/services")
        available = notify_services(services)
        if self.notify_service not in available:
            raise IntegrationError(ErrorKind.NOT_FOUND,
                                   missing_service_hint(self.notify_service, available),
                                   detail=f"{len(available)} notify services")

    def notify(self, message: str, *, title: str = "Peregrine", url: str | None = None) -> None:
        """Call ``notify.<service>``; HA answers 200 with the list of changed states."""
        body: dict = {"message": message, "title": title}
        if url:  # iOS opens data.url on tap, Android clickAction; the sidebar renders markdown
            body["data"] = {"url": url, "clickAction": url}
            if self.notify_service == SIDEBAR_SERVICE:
                body["message"] = f"{message}\n\n[Open posting]({url})"
        hints = dict(STATUS_HINTS)
        hints[400] = (ErrorKind.NOT_FOUND,
                      f"Home Assistant refused the notification; check that "
                      f"notify.{self.notify_service} still exists (Developer Tools → Actions).")
        self._http().request("POST", self._api(f"/api/services/notify/{self.notify_service}"),
                             json=body, ok={200}, policy=self.send_policy,
                             timeout=self.timeout, hints=hints)

    def _get_json(self, path: str) -> object:
        """One GET, never retried (a bad token must cost one failed login, not four); a body
        that is not JSON is None, so a web page at the address reads as "not HA"."""
        try:
            response = self._http().request("GET", self._api(path), ok={200}, policy=NO_RETRY,
                                            timeout=self.timeout, hints=STATUS_HINTS)
        except IntegrationError as exc:
            if exc.kind is ErrorKind.CANNOT_CONNECT and exc.hint == DEFAULT_HINTS[exc.kind]:
                raise IntegrationError(exc.kind, UNREACHABLE_HINT, exc.detail) from None
            raise
        try:
            return response.json()
        except ValueError:
            return None

    def _api(self, path: str) -> str:
        return require_http_url(self.base_url, URL_HINT) + path

    def _http(self) -> HttpClient:
        if self._client is None:
            self._client = HttpClient(headers={"Authorization": f"Bearer {self.token}"},
                                      secrets=[self.token])
        return self._client
