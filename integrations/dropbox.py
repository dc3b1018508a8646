"""Dropbox: job documents through the HTTP API (RPC and content hosts), no SDK.

Access tokens live about four hours, so the card keeps an app key and a refresh token from a
PKCE sign-in (no app secret); each session exchanges it at the token endpoint and renews on
expiry or a 401.  A file whose Dropbox ``content_hash`` equals the local one is not sent again.
"""
from __future__ import annotations

import json
import logging
from typing import Any, ClassVar
from urllib.parse import quote

from peregrine_sdk.content_hashes import file_hashes
from peregrine_sdk.documents import (DROPBOX, StoredCopy, file_name, posix_path,
                                     require_local_file, root_segments, target_folder)
from peregrine_sdk.sign_in import (AccessToken, BrowserSignIn, SignInPrompt, bearer_request,
                                 refresh_grant)
from peregrine_sdk.base import IntegrationBase, clean_config
from peregrine_sdk.capabilities import Document, DocumentUpload
from peregrine_sdk.hooks import SignIn
from peregrine_sdk.errors import ErrorKind, IntegrationError
from peregrine_sdk.http import NO_RETRY, HttpClient, RetryPolicy

log = logging.getLogger(__name__)

DEFAULT_FOLDER = "/Peregrine"
MAX_SIMPLE_UPLOAD = 150 * 1024 * 1024   # /2/files/upload takes at most 150 MB


def _tag_path(response: Any) -> str:
    """A Dropbox error's ``error_summary`` without the trailing ``/...`` noise, e.g.
    ``path/not_found`` or ``invalid_access_token``; '' for plain-text answers."""
    try:
        body = response.json()
    except ValueError:
        return ""
    summary = str(body.get("error_summary", "")) if isinstance(body, dict) else ""
    return summary.rstrip("./").rstrip("/")


class DropboxIntegration(IntegrationBase, DocumentUpload, SignIn):
    name = "dropbox"
    label = "Dropbox"
    tier = "free"
    description = "Keeps a copy of each job's documents in your Dropbox."

    endpoints: ClassVar[dict[str, str]] = {
        "api_url": "https://api.dropboxapi.com",
        "content_url": "https://content.dropboxapi.com",
        "authorize_url": "https://www.dropbox.com/oauth2/authorize",
    }
    #: Dropbox only redirects to registered URIs, so the sign-in listens on a fixed port.
    redirect_port: ClassVar[int] = 53682
    timeout: float | tuple[float, float] = (5.0, 60.0)
    upload_policy = RetryPolicy(attempts=3, base_delay=0.5, max_wait=60.0)

    def fields(self) -> list[dict]:
        return [
            {"key": "app_key", "label": "App key", "type": "text",
             "placeholder": "a1b2c3d4e5f6g7h", "required": True,
             "help": "Create an app at dropbox.com/developers/apps (scoped access; permissions "
                     "files.metadata.read and files.content.write) and add "
                     f"http://localhost:{self.redirect_port}/ as a redirect URI."},
            {"key": "refresh_token", "label": "Refresh token", "type": "password",
             "placeholder": "Filled in when you sign in", "required": False,
             "help": "Saved by Sign in with Dropbox (PKCE, no app secret). Kept as a secret; "
                     "revoke it under Dropbox → Settings → Connected apps."},
            {"key": "folder", "label": "Folder", "type": "text",
             "placeholder": DEFAULT_FOLDER, "required": False,
             "help": "Where documents go, as <folder>/<Company>/<Job title>; created if "
                     "missing. For an App-folder app it is inside Apps/<your app>."},
        ]

    def connect(self, config: dict) -> bool:
        self.config = clean_config(config)
        self.app_key = str(self.config.get("app_key") or "")
        self.refresh_token = str(self.config.get("refresh_token") or "")
        self.folder = str(self.config.get("folder") or DEFAULT_FOLDER)
        self.urls = {key: self.endpoint(key) for key in self.endpoints}
        self._token: AccessToken | None = None
        self._sign_in: BrowserSignIn | None = None
        return self.required_present(self.config)

    # -- sign-in ------------------------------------------------------------------------------
    def begin_sign_in(self) -> SignInPrompt:
        """Start the browser sign-in (PKCE); show the prompt, then call ``finish_sign_in``."""
        configured = self.config.get("redirect_port")
        port = self.redirect_port if configured in (None, "") else int(configured)
        self._sign_in = BrowserSignIn(
            service="Dropbox", auth_url=self.urls["authorize_url"],
            token_url=f"{self.urls['api_url']}/oauth2/token", client_id=self.app_key,
            extra_params={"token_access_type": "offline"}, port=port, uri_host="localhost",
            http=HttpClient(timeout=self.timeout, policy=NO_RETRY))
        return self._sign_in.begin()

    def finish_sign_in(self) -> dict[str, str]:
        """Wait for the browser (worker thread); the settings to save."""
        if self._sign_in is None:
            raise IntegrationError(ErrorKind.UNKNOWN, "Start the sign-in first.")
        answer = self._sign_in.finish()
        if not answer.get("refresh_token"):
            raise IntegrationError(ErrorKind.INVALID_AUTH,
                                   "Dropbox gave no refresh token; sign in again.")
        self.refresh_token = str(answer["refresh_token"])
        return {"refresh_token": self.refresh_token}

    # -- plumbing -------------------------------------------------------------------------------
    def _client(self, policy: RetryPolicy) -> HttpClient:
        return HttpClient(timeout=self.timeout, policy=policy,
                          secrets=[self.refresh_token])

    def _access(self, http: HttpClient) -> AccessToken:
        if not self.refresh_token:
            raise IntegrationError(ErrorKind.INVALID_AUTH,
                                   "Sign in with Dropbox first; it saves a refresh token here.")
        if self._token is None:
            self._token = AccessToken(lambda: refresh_grant(
                http, f"{self.urls['api_url']}/oauth2/token", refresh_token=self.refresh_token,
                client_id=self.app_key, service="Dropbox"))
        return self._token

    def _call(self, http: HttpClient, host: str, route: str, *, arg: Any = None,
              body: bytes | None = None, ok: tuple[int, ...] = (200,)) -> Any:
        """POST a route; 401/403/409 come back as IntegrationError with Dropbox's reason."""
        headers: dict[str, str] = {}
        if body is not None:  # content route: the argument travels in a header
            headers["Content-Type"] = "application/octet-stream"
            headers["Dropbox-API-Arg"] = json.dumps(arg)  # ASCII-only, as the header needs
            data: bytes | None = body
        elif arg is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(arg).encode()
        else:
            data = None
        response = bearer_request(http, self._access(http), "POST",
                                  f"{self.urls[host]}/2/{route}", ok=(*ok, 401, 403, 409),
                                  headers=headers, data=data)
        if response.status_code in ok:
            return response.json() if response.content else None
        raise self._error(response)

    def _error(self, response: Any) -> IntegrationError:
        reason = _tag_path(response)
        detail = f"HTTP {response.status_code}: {reason or response.text[:200]}"
        if response.status_code == 401:
            if reason.startswith("missing_scope"):
                return IntegrationError(ErrorKind.INVALID_AUTH,
                                        "The Dropbox app lacks a permission Peregrine needs: "
                                        "enable files.metadata.read and files.content.write "
                                        "under Permissions, then sign in again.", detail)
            return IntegrationError(ErrorKind.INVALID_AUTH,
                                    "Dropbox no longer accepts this sign-in; sign in again.",
                                    detail)
        if "insufficient_space" in reason:
            return IntegrationError(ErrorKind.UNKNOWN, "Your Dropbox is full; free some space.",
                                    detail)
        if "no_write_permission" in reason or response.status_code == 403:
            return IntegrationError(ErrorKind.INVALID_AUTH,
                                    "Dropbox does not let this app write there; check the "
                                    "folder, or the app's access type.", detail)
        if "not_found" in reason:
            return IntegrationError(ErrorKind.NOT_FOUND, detail=detail)
        if "disallowed_name" in reason or "malformed_path" in reason:
            return IntegrationError(ErrorKind.UNKNOWN,
                                    "Dropbox does not accept this folder name; choose another.",
                                    detail)
        return IntegrationError(ErrorKind.UNKNOWN,
                                f"Dropbox refused the request ({reason or response.status_code});"
                                f" check the settings.", detail)

    def _metadata(self, http: HttpClient, path: str) -> dict[str, Any] | None:
        """A file's or folder's metadata, or None when nothing is at ``path``."""
        try:
            return self._call(http, "api_url", "files/get_metadata", arg={"path": path})
        except IntegrationError as exc:
            if exc.kind is ErrorKind.NOT_FOUND:
                return None
            raise

    # -- connection test ------------------------------------------------------------------------
    def probe(self) -> None:
        """Renew the access token and look up the target folder; a missing one is created,
        which proves write access too."""
        with self._client(NO_RETRY) as http:
            segments = root_segments(self.folder)
            if not segments:  # the app's root: list it
                self._call(http, "api_url", "files/list_folder", arg={"path": "", "limit": 1})
                return
            path = posix_path(segments)
            found = self._metadata(http, path)
            if found is None:
                self._call(http, "api_url", "files/create_folder_v2",
                           arg={"path": path, "autorename": False})
            elif found.get(".tag") != "folder":
                raise IntegrationError(ErrorKind.NOT_FOUND,
                                       f"{path} in Dropbox is a file, not a folder; choose "
                                       f"another folder name.")

    # -- documents ------------------------------------------------------------------------------
    def upload_document(self, doc: Document) -> str:
        return self.store(doc).location

    def store(self, doc: Document) -> StoredCopy:
        """Upload with mode overwrite unless Dropbox already has this content; Dropbox creates
        missing folders itself."""
        path = require_local_file(doc)
        size = path.stat().st_size
        if size > MAX_SIMPLE_UPLOAD:
            raise IntegrationError(ErrorKind.UNKNOWN,
                                   f"{path.name} is larger than 150 MB, more than Dropbox takes "
                                   f"in one upload; attach a smaller file.")
        remote = posix_path(target_folder(self.folder, doc, DROPBOX) + [file_name(doc, DROPBOX)])
        local_hash = file_hashes(path, "dropbox")["dropbox"]
        with self._client(self.upload_policy) as http:
            existing = self._metadata(http, remote)
            if existing and existing.get("content_hash") == local_hash:
                log.info("dropbox: %s unchanged; not uploaded", remote)
                return StoredCopy(self.web_location(existing), uploaded=False)
            arg = {"path": remote, "mode": "overwrite", "autorename": False, "mute": True,
                   "strict_conflict": False}
            stored = self._call(http, "content_url", "files/upload", arg=arg,
                                body=path.read_bytes())
            if stored.get("content_hash") not in (None, local_hash):
                raise IntegrationError(ErrorKind.UNKNOWN,
                                       "Dropbox stored different bytes than were sent; try the "
                                       "upload again.", detail=f"content_hash of {remote}")
            return StoredCopy(self.web_location(stored), uploaded=True)

    @staticmethod
    def web_location(metadata: dict[str, Any]) -> str:
        """The file previewed in its folder on dropbox.com."""
        display = str(metadata.get("path_display") or metadata.get("path_lower") or "/")
        parent, _, name = display.rpartition("/")
        return f"https://www.dropbox.com/home{quote(parent)}?preview={quote(name)}"
