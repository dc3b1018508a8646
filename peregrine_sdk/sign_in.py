"""OAuth pieces shared by the cloud stores: sign-in in the browser with PKCE and a loopback
redirect (Google desktop clients, Dropbox), token endpoint calls and self-renewing access
tokens.  (Google service-account keys: see ``peregrine_sdk.google_auth``.)

Sign-in is two calls so the UI can show something in between: ``begin()`` returns a
:class:`SignInPrompt` (the page to open, and a code to type for device flows), ``finish()``
blocks on a worker thread until the person has approved and returns the settings to save
(a refresh token, a token cache).  Nothing here opens windows or touches widgets.
"""
from __future__ import annotations

import base64
import hashlib
import html
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from peregrine_sdk.errors import ErrorKind, IntegrationError
from peregrine_sdk.http import CodeHints, ErrorHints, HttpClient
from peregrine_sdk.redaction import register_secret

if TYPE_CHECKING:  # pragma: no cover
    import requests

log = logging.getLogger(__name__)

#: Renew an access token this long before it expires (Dropbox's SDK uses the same margin).
RENEW_MARGIN = 300.0
SIGN_IN_TIMEOUT = 300.0


@dataclass(frozen=True)
class SignInPrompt:
    """What the card shows while a sign-in waits for the person."""

    url: str                 # the page to open in a browser
    user_code: str = ""      # device flows: the code to type on that page
    message: str = ""        # one or two sentences saying what to do


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge) as RFC 7636 describes."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


_DONE_PAGE = ("<!doctype html><meta charset=utf-8><title>Peregrine</title>"
              "<body style='font-family:sans-serif;margin:3em'><h2>{title}</h2><p>{text}</p>")


class LoopbackRedirect:
    """A one-shot HTTP server on 127.0.0.1 that receives the provider's redirect (``?code=``).

    ``uri_host`` is what the redirect URI names: Google wants ``127.0.0.1``; Dropbox only
    accepts URIs registered in its console, where ``localhost`` with a fixed port is usual.
    """

    def __init__(self, port: int = 0, uri_host: str = "127.0.0.1", path: str = "/") -> None:
        self.path = path
        self.uri_host = uri_host
        self.params: dict[str, str] | None = None
        self._arrived = threading.Event()
        owner = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path != owner.path or not ({"code", "error"} & set(query)):
                    self.send_response(404)
                    self.end_headers()
                    return
                failed = "error" in query
                page = _DONE_PAGE.format(
                    title="Sign-in was not completed" if failed else "Peregrine is connected",
                    text=html.escape(query.get("error_description", query.get("error", "")))
                    if failed else "You can close this tab and return to Peregrine.")
                body = page.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                if owner.params is None:
                    owner.params = query
                    owner._arrived.set()

        try:
            self._server = HTTPServer(("127.0.0.1", port), _Handler)
        except OSError as exc:
            raise IntegrationError(
                ErrorKind.UNKNOWN, f"Port {port} on this computer is in use, so the sign-in "
                f"cannot receive its answer; close the program using it and try again.",
                detail=str(exc)) from None
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True, name="oauth-loopback")
        self._thread.start()

    @property
    def redirect_uri(self) -> str:
        return f"http://{self.uri_host}:{self._server.server_address[1]}{self.path}"

    def wait(self, timeout: float) -> dict[str, str]:
        """The query of the redirect; IntegrationError if none came in time."""
        try:
            if not self._arrived.wait(timeout):
                raise IntegrationError(ErrorKind.TIMEOUT,
                                       f"The sign-in was not finished within {timeout / 60:.0f} "
                                       f"minutes; start it again.")
            return dict(self.params or {})
        finally:
            self.close()

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()


def token_request(http: HttpClient, url: str, form: Mapping[str, str], *, service: str,
                  codes: CodeHints | None = None) -> dict[str, Any]:
    """POST a form to a token endpoint; the JSON answer, or IntegrationError in our vocabulary.

    ``invalid_grant`` (a revoked/expired refresh token, a deleted key) means: sign in again.
    """
    table: dict[str, tuple[ErrorKind, str]] = {
        "invalid_grant": (ErrorKind.INVALID_AUTH,
                          f"{service} no longer accepts the saved sign-in (it was revoked or has "
                          f"expired); sign in again."),
        "invalid_client": (ErrorKind.INVALID_AUTH,
                           f"{service} does not know this app key / client ID; check it."),
        "unauthorized_client": (ErrorKind.INVALID_AUTH,
                                f"{service} does not allow this app to sign in this way; check "
                                f"the app's settings in the developer console."),
        "invalid_scope": (ErrorKind.INVALID_AUTH,
                          f"{service} refused the permissions Peregrine asks for; check the "
                          f"app's permissions."),
    }
    table.update(codes or {})
    hints: ErrorHints = {
        400: (ErrorKind.INVALID_AUTH, f"{service} refused the sign-in; sign in again."),
        401: (ErrorKind.INVALID_AUTH, f"{service} refused the app credentials; check them."),
    }
    body = http.json("POST", url, data=dict(form), ok=(200,), hints=hints, codes=table)
    if not isinstance(body, dict) or not body.get("access_token"):
        raise IntegrationError(ErrorKind.UNKNOWN,
                               f"{service} answered the sign-in without a token; try again.",
                               detail=f"token response keys: {sorted(body or {})}")
    register_secret(body.get("access_token"), body.get("refresh_token"))
    return body


class AccessToken:
    """A bearer token that renews itself ``margin`` seconds before it expires, or after a 401."""

    def __init__(self, fetch: Callable[[], Mapping[str, Any]], margin: float = RENEW_MARGIN,
                 clock: Callable[[], float] = time.time) -> None:
        self._fetch = fetch
        self.margin = margin
        self.clock = clock
        self._value = ""
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.renewals = 0

    def value(self) -> str:
        with self._lock:
            if not self._value or self.clock() >= self._expires_at - self.margin:
                answer = self._fetch()
                self._value = str(answer["access_token"])
                self._expires_at = self.clock() + float(answer.get("expires_in") or 3600)
                self.renewals += 1
            return self._value

    def expire(self) -> None:
        with self._lock:
            self._value = ""


def bearer_request(http: HttpClient, token: AccessToken, method: str, url: str, *,
                   ok: Iterable[int] = (200, 201, 202, 204), hints: ErrorHints | None = None,
                   codes: CodeHints | None = None, headers: Mapping[str, str] | None = None,
                   **kwargs: Any) -> "requests.Response":
    """``http.request`` with ``Authorization: Bearer``; a 401 renews the token once and retries
    (the token may have been revoked or expired early).  A second 401 is returned if ``ok``
    holds 401, else raised."""
    wanted = set(ok)
    for attempt in (1, 2):
        merged = {**(headers or {}), "Authorization": f"Bearer {token.value()}"}
        response = http.request(method, url, ok=wanted | {401}, hints=hints, codes=codes,
                                headers=merged, **kwargs)
        if response.status_code != 401:
            return response
        if attempt == 1:
            log.info("%s %s → 401; renewing the access token once", method, url.split("?")[0])
            token.expire()
            continue
        if 401 in wanted:  # the caller reads the service's own reason
            return response
        raise http.error_for(response, hints, codes)
    raise AssertionError("unreachable")


class BrowserSignIn:
    """Authorization code with PKCE and a loopback redirect, for installed apps.

    ``finish()`` returns the token response (``refresh_token`` is what to keep).  Google needs
    its desktop client's ``client_secret`` too (it is not secret for installed apps); Dropbox
    does not when PKCE is used.
    """

    def __init__(self, *, service: str, auth_url: str, token_url: str, client_id: str,
                 client_secret: str = "", scopes: Iterable[str] = (),
                 extra_params: Mapping[str, str] | None = None, port: int = 0,
                 uri_host: str = "127.0.0.1", http: HttpClient | None = None,
                 timeout: float = SIGN_IN_TIMEOUT) -> None:
        self.service = service
        self.auth_url, self.token_url = auth_url, token_url
        self.client_id, self.client_secret = client_id, client_secret
        self.scopes = list(scopes)
        self.extra_params = dict(extra_params or {})
        self.port, self.uri_host = port, uri_host
        self.http = http or HttpClient(secrets=[client_secret])
        self.timeout = timeout
        self._redirect: LoopbackRedirect | None = None
        self._verifier = ""
        self._state = ""

    def begin(self) -> SignInPrompt:
        self.cancel()
        self._verifier, challenge = pkce_pair()
        self._state = secrets.token_urlsafe(24)
        self._redirect = LoopbackRedirect(self.port, self.uri_host)
        params = {"client_id": self.client_id, "response_type": "code",
                  "redirect_uri": self._redirect.redirect_uri, "state": self._state,
                  "code_challenge": challenge, "code_challenge_method": "S256",
                  **self.extra_params}
        if self.scopes:
            params["scope"] = " ".join(self.scopes)
        url = f"{self.auth_url}{'&' if '?' in self.auth_url else '?'}{urlencode(params)}"
        return SignInPrompt(url=url, message=f"Your browser opens {self.service}. Approve "
                            f"access there; Peregrine continues by itself afterwards.")

    def finish(self) -> dict[str, Any]:
        if self._redirect is None:
            raise IntegrationError(ErrorKind.UNKNOWN, "Start the sign-in first.")
        redirect, self._redirect = self._redirect, None
        params = redirect.wait(self.timeout)
        if params.get("state") != self._state:
            raise IntegrationError(ErrorKind.INVALID_AUTH,
                                   "The sign-in answer did not match this request; start the "
                                   "sign-in again.", detail="state mismatch")
        if "error" in params:
            declined = params["error"] == "access_denied"
            raise IntegrationError(
                ErrorKind.INVALID_AUTH,
                f"Access was declined in {self.service}; sign in again and choose Allow."
                if declined else f"{self.service} reported a sign-in problem; start it again.",
                detail=f"{params.get('error')}: {params.get('error_description', '')}")
        form = {"grant_type": "authorization_code", "code": params.get("code", ""),
                "client_id": self.client_id, "code_verifier": self._verifier,
                "redirect_uri": redirect.redirect_uri}
        if self.client_secret:
            form["client_secret"] = self.client_secret
        return token_request(self.http, self.token_url, form, service=self.service)

    def cancel(self) -> None:
        if self._redirect is not None:
            self._redirect.close()
            self._redirect = None


def refresh_grant(http: HttpClient, token_url: str, *, refresh_token: str, client_id: str,
                  client_secret: str = "", service: str) -> dict[str, Any]:
    """Exchange a refresh token for an access token."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token,
            "client_id": client_id}
    if client_secret:
        form["client_secret"] = client_secret
    return token_request(http, token_url, form, service=service)
