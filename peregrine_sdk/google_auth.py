"""Service-account access tokens for the Google integrations, through our HttpClient.

google-auth signs the RS256 JWT and reads the token endpoint's answer; every byte still goes
through :class:`~peregrine_sdk.http.HttpClient` (timeouts, retries, secret masking).  A token is
cached per key and scope set until shortly before it expires, so a sync that runs every few
minutes exchanges the key about once an hour.  google-auth is imported on first use only.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peregrine_sdk.errors import ErrorKind, IntegrationError
from peregrine_sdk.http import HttpClient
from peregrine_sdk.redaction import register_secret

#: Token-endpoint answers google-auth reads itself (OAuth error bodies); HttpClient retries the
#: transient rest (429, 5xx).
_TOKEN_ANSWERS = frozenset(range(200, 500)) - {408, 429}

_cache: dict[tuple[str, ...], Any] = {}
_cache_lock = threading.Lock()


@dataclass
class _AuthResponse:
    """The ``google.auth.transport.Response`` shape."""

    status: int
    headers: dict[str, str]
    data: bytes


class HttpClientTransport:
    """google-auth's ``Request`` interface on top of HttpClient."""

    def __init__(self, client: HttpClient) -> None:
        self.client = client

    def __call__(self, url: str, method: str = "GET", body: Any = None,
                 headers: dict | None = None, timeout: Any = None, **kwargs: Any
                 ) -> _AuthResponse:
        response = self.client.request(method, url, data=body, headers=headers,
                                       ok=_TOKEN_ANSWERS)
        return _AuthResponse(response.status_code, dict(response.headers), response.content)


def key_file_field(api_name: str) -> dict:
    """The ``key_file`` field of an integration signing in with a service-account key."""
    return {"key": "key_file", "label": "Service-account key (JSON)", "type": "file",
            "placeholder": "/path/to/service-account.json", "required": True,
            "filter": "JSON key (*.json)",
            "help": "Google Cloud Console → IAM & Admin → Service accounts → Keys → Add key → "
                    f"JSON. Enable the {api_name} API in the same project."}


def read_key_file(path_text: str) -> dict[str, Any]:
    """The service-account key as a dict, or an IntegrationError saying what is wrong with it."""
    path = Path(str(path_text or "")).expanduser()
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IntegrationError(ErrorKind.NOT_FOUND,
                               f"The key file {path} does not exist; choose the JSON key you "
                               "downloaded for the service account.") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise IntegrationError(ErrorKind.INVALID_AUTH,
                               f"{path.name} is not a readable JSON key; download the service "
                               "account's key again (Keys → Add key → JSON).",
                               detail=type(exc).__name__) from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise IntegrationError(ErrorKind.INVALID_AUTH,
                               f"{path.name} is not a service-account key; create one under "
                               "IAM & Admin → Service accounts → Keys → Add key → JSON.")
    return info


def _credentials_from_info(service_account: Any, info: dict[str, Any], scopes: Any) -> Any:
    """Credentials for the user's own key file, loaded without cryptography's RSA consistency
    check (~50 ms of CPU holding the GIL, which stalled the UI on a first sync); Google's token
    endpoint still rejects a key that is not valid."""
    from cryptography.hazmat.primitives import serialization
    from google.auth.crypt import RSASigner

    key = serialization.load_pem_private_key(str(info["private_key"]).encode(), None,
                                             unsafe_skip_rsa_key_validation=True)
    signer = RSASigner(key, info.get("private_key_id"))
    return service_account.Credentials(
        signer, str(info["client_email"]), str(info["token_uri"]), scopes=list(scopes),
        project_id=info.get("project_id"))


class ServiceAccountToken:
    """Access tokens for one key file and scope set."""

    def __init__(self, key_file: str, scopes: tuple[str, ...]) -> None:
        self.key_file = key_file
        self.scopes = tuple(scopes)
        self._info: dict[str, Any] | None = None

    @property
    def info(self) -> dict[str, Any]:
        if self._info is None:
            self._info = read_key_file(self.key_file)
        return self._info

    @property
    def email(self) -> str:
        """The account's e-mail, to tell people whom to share with."""
        try:
            return str(self.info.get("client_email") or "the service account")
        except IntegrationError:
            return "the service account"

    def _credentials(self) -> Any:
        from google.oauth2 import service_account

        info = self.info
        key = (str(info.get("client_email")), str(info.get("private_key_id")),
               str(info.get("token_uri")), *self.scopes)
        with _cache_lock:
            credentials = _cache.get(key)
            if credentials is None:
                try:
                    credentials = _credentials_from_info(service_account, info, self.scopes)
                except (ValueError, KeyError, TypeError) as exc:
                    raise IntegrationError(
                        ErrorKind.INVALID_AUTH, "The key file is incomplete or its private key "
                        "is damaged; download a new JSON key.", detail=str(exc)) from None
                _cache[key] = credentials
        return credentials

    def token(self, client: HttpClient) -> str:
        """A valid access token: cached, or exchanged now through ``client``."""
        from google.auth import exceptions

        client.secrets.append(str(self.info.get("private_key") or ""))
        credentials = self._credentials()
        with _cache_lock:
            if not credentials.valid:
                try:
                    credentials.refresh(HttpClientTransport(client))
                except exceptions.RefreshError as exc:
                    raise IntegrationError(
                        ErrorKind.INVALID_AUTH,
                        "Google rejected the service-account key (it may have been deleted or "
                        "rotated); create a new JSON key and choose it here.",
                        detail=str(exc.args[0]) if exc.args else "") from None
                except exceptions.TransportError as exc:
                    raise IntegrationError(ErrorKind.CANNOT_CONNECT, detail=str(exc)) from None
            token = str(credentials.token)
        client.secrets.append(token)
        register_secret(token)
        return token


def forget_tokens() -> None:
    """Drop every cached token (tests; a key file that was replaced)."""
    with _cache_lock:
        _cache.clear()
