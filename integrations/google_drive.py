"""Google Drive: job documents in a Shared Drive (service-account key) or in My Drive (sign in).

Service accounts have no storage quota: files they create in a person's My Drive fail with
``storageQuotaExceeded``.  So a key is for a Shared Drive the account is a member of, and a
personal Drive uses the desktop OAuth flow (PKCE, loopback redirect) with the refresh token kept
as a secret.  Drive allows duplicate names, so folders and files are looked up by name first;
a file whose ``md5Checksum`` equals the local MD5 is not sent again.
"""
from __future__ import annotations

import json
import logging
import mimetypes
import uuid
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

from peregrine_sdk.content_hashes import file_hashes
from peregrine_sdk.documents import (GOOGLE_DRIVE, StoredCopy, file_name, require_local_file,
                                     safe_segment)
from peregrine_sdk.google_auth import ServiceAccountToken
from peregrine_sdk.sign_in import (AccessToken, BrowserSignIn, SignInPrompt, bearer_request,
                                 refresh_grant)
from peregrine_sdk.base import IntegrationBase, clean_config
from peregrine_sdk.capabilities import Document, DocumentUpload
from peregrine_sdk.hooks import SignIn
from peregrine_sdk.errors import ErrorKind, IntegrationError
from peregrine_sdk.http import NO_RETRY, HttpClient, RetryPolicy

log = logging.getLogger(__name__)

SCOPES = ("https://www.googleapis.com/auth/drive",)
FOLDER_TYPE = "application/vnd.google-apps.folder"
DEFAULT_FOLDER_NAME = "Peregrine"      # My Drive without a folder ID: this folder in My Drive
MULTIPART_LIMIT = 5 * 1024 * 1024      # larger files use a resumable upload
SHARED_DRIVE, MY_DRIVE = "shared_drive", "my_drive"
AUTH_MODES = [
    {"value": SHARED_DRIVE, "label": "Shared Drive — service-account key"},
    {"value": MY_DRIVE, "label": "My Drive — sign in with Google"},
]
_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
_FILE_FIELDS = "id,name,md5Checksum,webViewLink"


def _reason(response: Any) -> str:
    """The v3 error ``reason`` (``notFound``, ``storageQuotaExceeded``…) or ''."""
    try:
        errors = response.json().get("error", {}).get("errors") or [{}]
        return str(errors[0].get("reason", ""))
    except (ValueError, AttributeError):
        return ""


def _quoted(value: str) -> str:
    """A string literal for a Drive ``q`` query."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _read_json(path_text: str, what: str) -> dict[str, Any]:
    path = Path(str(path_text or "")).expanduser()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IntegrationError(ErrorKind.NOT_FOUND, f"The {what} {path} does not exist; choose "
                                                    f"the file again.") from None
    except (OSError, UnicodeDecodeError, ValueError):
        raise IntegrationError(ErrorKind.INVALID_AUTH,
                               f"{path.name} is not a readable {what}; download it again."
                               ) from None
    return data if isinstance(data, dict) else {}


class GoogleDriveIntegration(IntegrationBase, DocumentUpload, SignIn):
    name = "google_drive"
    label = "Google Drive"
    tier = "free"
    description = "Keeps a copy of each job's documents in Google Drive."

    endpoints: ClassVar[dict[str, str]] = {"api_url": "https://www.googleapis.com"}
    timeout: float | tuple[float, float] = (5.0, 60.0)
    upload_policy = RetryPolicy(attempts=3, base_delay=0.5, max_wait=60.0)

    def fields(self) -> list[dict]:
        return [
            {"key": "auth_mode", "label": "Connect with", "type": "choice",
             "choices": AUTH_MODES, "required": True,
             "help": "Service accounts have no storage of their own: a key works only with a "
                     "Shared Drive (Google Workspace) it is a member of. For a personal Drive "
                     "choose My Drive and sign in with Google."},
            {"key": "folder_id", "label": "Folder ID", "type": "text",
             "placeholder": "1AbC…(from drive.google.com/drive/folders/…)", "required": False,
             "help": "Documents go to <this folder>/<Company>/<Job title>. Shared Drive: a "
                     "folder in it (or the drive's ID). My Drive: leave empty for a folder "
                     "named Peregrine."},
            {"key": "key_file", "label": "Service-account key (Shared Drive)", "type": "file",
             "placeholder": "service-account.json", "required": False,
             "help": "The JSON key of a service account. Add its e-mail to the Shared Drive as "
                     "Content manager."},
            {"key": "oauth_client_file", "label": "OAuth client (My Drive)", "type": "file",
             "placeholder": "client_secret_….json", "required": False,
             "help": "In Google Cloud Console enable the Drive API, create an OAuth client of "
                     "type Desktop app and download its JSON."},
            {"key": "refresh_token", "label": "Sign-in (My Drive)", "type": "password",
             "placeholder": "Filled in when you sign in", "required": False,
             "help": "Saved by Sign in with Google; kept as a secret. Revoke it at "
                     "myaccount.google.com/permissions."},
        ]

    def connect(self, config: dict) -> bool:
        self.config = clean_config(config)
        self.mode = str(self.config.get("auth_mode") or "")
        self.folder_id = str(self.config.get("folder_id") or "")
        self.refresh_token = str(self.config.get("refresh_token") or "")
        self.urls = {key: self.endpoint(key) for key in self.endpoints}
        self._token: AccessToken | None = None
        self._sign_in: BrowserSignIn | None = None
        self._service_account: ServiceAccountToken | None = None
        return self.required_present(self.config)

    # -- credentials ---------------------------------------------------------------------------
    def _oauth_client(self) -> dict[str, str]:
        data = _read_json(str(self.config.get("oauth_client_file") or ""), "OAuth client file")
        installed = data.get("installed")
        if not isinstance(installed, dict) or not installed.get("client_id"):
            raise IntegrationError(ErrorKind.INVALID_AUTH,
                                   "This is not a Desktop-app OAuth client; create one of type "
                                   "Desktop app in Google Cloud Console and download its JSON.")
        return {"client_id": str(installed["client_id"]),
                "client_secret": str(installed.get("client_secret", "")),
                "auth_uri": str(installed.get("auth_uri")
                                or "https://accounts.google.com/o/oauth2/auth"),
                "token_uri": str(installed.get("token_uri")
                                 or "https://oauth2.googleapis.com/token")}

    def begin_sign_in(self) -> SignInPrompt:
        """My Drive: open Google's consent page; ``finish_sign_in`` waits for the redirect."""
        client = self._oauth_client()
        self._sign_in = BrowserSignIn(
            service="Google", auth_url=client["auth_uri"], token_url=client["token_uri"],
            client_id=client["client_id"], client_secret=client["client_secret"],
            scopes=SCOPES, extra_params={"access_type": "offline", "prompt": "consent"},
            http=HttpClient(timeout=self.timeout, policy=NO_RETRY,
                            secrets=[client["client_secret"]]))
        return self._sign_in.begin()

    def finish_sign_in(self) -> dict[str, str]:
        if self._sign_in is None:
            raise IntegrationError(ErrorKind.UNKNOWN, "Start the sign-in first.")
        answer = self._sign_in.finish()
        if not answer.get("refresh_token"):
            raise IntegrationError(ErrorKind.INVALID_AUTH,
                                   "Google gave no refresh token; remove Peregrine's access at "
                                   "myaccount.google.com/permissions and sign in again.")
        self.refresh_token = str(answer["refresh_token"])
        return {"refresh_token": self.refresh_token}

    def _access(self, http: HttpClient) -> AccessToken:
        if self._token is not None:
            return self._token
        if self.mode == SHARED_DRIVE:
            if not self.config.get("key_file"):
                raise IntegrationError(ErrorKind.INVALID_AUTH,
                                       "Choose the service account's JSON key file.")
            account = self._service_account = ServiceAccountToken(
                str(self.config["key_file"]), SCOPES)
            self._token = AccessToken(lambda: {"access_token": account.token(http),
                                               "expires_in": 3600})
        elif self.mode == MY_DRIVE:
            client = self._oauth_client()
            if not self.refresh_token:
                raise IntegrationError(ErrorKind.INVALID_AUTH,
                                       "Sign in with Google first; it saves a sign-in here.")
            http.secrets += [client["client_secret"], self.refresh_token]
            self._token = AccessToken(lambda: refresh_grant(
                http, client["token_uri"], refresh_token=self.refresh_token,
                client_id=client["client_id"], client_secret=client["client_secret"],
                service="Google"))
        else:
            raise IntegrationError(ErrorKind.UNKNOWN,
                                   "Choose how to connect: a Shared Drive with a service-account "
                                   "key, or My Drive with Google sign-in.")
        return self._token

    @property
    def _who(self) -> str:
        if self._service_account is not None:
            return self._service_account.email
        return "your Google account"

    # -- Drive calls ---------------------------------------------------------------------------
    def _call(self, http: HttpClient, method: str, path: str, *, upload: bool = False,
              ok: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        """One Drive request (``supportsAllDrives`` always on); Google's 403 reasons become
        our categories."""
        base = f"{self.urls['api_url']}/{'upload/' if upload else ''}drive/v3"
        url = f"{base}{path}{'&' if '?' in path else '?'}supportsAllDrives=true"
        response = bearer_request(
            http, self._access(http), method, url, ok=(*ok, 403, 404),
            hints={401: (ErrorKind.INVALID_AUTH, "Google no longer accepts this sign-in; sign "
                                                 "in again (or create a new key).")}, **kwargs)
        if response.status_code in ok:
            return response
        reason = _reason(response)
        detail = f"HTTP {response.status_code} {reason}"
        if response.status_code == 404:
            raise IntegrationError(ErrorKind.NOT_FOUND,
                                   f"Google Drive cannot see folder {self.folder_id}: check the "
                                   f"ID, and that {self._who} is a member of its Shared Drive "
                                   f"(or that the folder is shared with it).", detail)
        if reason in _RATE_REASONS:
            raise IntegrationError(ErrorKind.RATE_LIMITED, "Google asked us to slow down; "
                                   "Peregrine will try again later.", detail, retry_after=30.0)
        if reason == "storageQuotaExceeded":
            raise IntegrationError(
                ErrorKind.INVALID_AUTH,
                "Service accounts have no storage of their own, so this folder must be in a "
                "Shared Drive; choose one there, or switch to My Drive and sign in." if
                self.mode == SHARED_DRIVE else "Your Google Drive is full; free some space.",
                detail)
        raise IntegrationError(ErrorKind.INVALID_AUTH,
                               f"{self._who} may not add files to this folder; give it the "
                               f"Content manager (or Editor) role.", detail)

    def _root_folder(self, http: HttpClient, check: bool) -> str:
        """The ID documents go under: the configured folder (checked when ``check``), or in My
        Drive without an ID, a folder named Peregrine (made if missing)."""
        if not self.folder_id:
            if self.mode == SHARED_DRIVE:
                raise IntegrationError(ErrorKind.NOT_FOUND,
                                       "Paste the ID of a folder in the Shared Drive (from its "
                                       "address, after /folders/).")
            return self._child_folder(http, "root", DEFAULT_FOLDER_NAME)
        if check:
            found = self._call(http, "GET", f"/files/{quote(self.folder_id, safe='')}?fields="
                               "id,name,mimeType,driveId,trashed,capabilities(canAddChildren)"
                               ).json()
            if found.get("mimeType") != FOLDER_TYPE or found.get("trashed"):
                raise IntegrationError(ErrorKind.NOT_FOUND,
                                       f"{found.get('name', self.folder_id)} is not a folder (or "
                                       f"is in the bin); paste a folder's ID.")
            if not (found.get("capabilities") or {}).get("canAddChildren", True):
                raise IntegrationError(ErrorKind.INVALID_AUTH,
                                       f"{self._who} may only read {found.get('name')}; give it "
                                       f"the Content manager (or Editor) role.")
            if self.mode == SHARED_DRIVE and not found.get("driveId"):
                raise IntegrationError(
                    ErrorKind.INVALID_AUTH,
                    f"{found.get('name')} is in someone's My Drive. Service accounts have no "
                    f"storage there; use a folder in a Shared Drive, or switch to My Drive "
                    f"and sign in.")
        return self.folder_id

    def _find(self, http: HttpClient, parent: str, name: str, folder: bool) -> dict | None:
        kind = "=" if folder else "!="
        query = (f"{_quoted(parent)} in parents and name = {_quoted(name)} and "
                 f"mimeType {kind} '{FOLDER_TYPE}' and trashed = false")
        files = self._call(http, "GET", f"/files?q={quote(query)}&includeItemsFromAllDrives=true"
                           f"&fields=files({_FILE_FIELDS})&pageSize=10").json().get("files", [])
        return files[0] if files else None

    def _child_folder(self, http: HttpClient, parent: str, name: str) -> str:
        found = self._find(http, parent, name, folder=True)
        if found:
            return str(found["id"])
        made = self._call(http, "POST", "/files?fields=id", json={
            "name": name, "mimeType": FOLDER_TYPE, "parents": [parent]},
            policy=RetryPolicy(attempts=1))
        return str(made.json()["id"])

    # -- connection test -------------------------------------------------------------------------
    def probe(self) -> None:
        """Get an access token and read the target folder (My Drive without an ID: find or
        create the Peregrine folder), checking that files can be added there."""
        with HttpClient(timeout=self.timeout, policy=NO_RETRY) as http:
            self._root_folder(http, check=True)

    # -- documents ---------------------------------------------------------------------------------
    def upload_document(self, doc: Document) -> str:
        return self.store(doc).location

    def store(self, doc: Document) -> StoredCopy:
        """Find or make <folder>/<Company>/<Job title>, then create or update the file unless
        its md5Checksum already matches."""
        path = require_local_file(doc)
        name = file_name(doc, GOOGLE_DRIVE)
        md5 = file_hashes(path, "md5")["md5"]
        with HttpClient(timeout=self.timeout, policy=self.upload_policy) as http:
            parent = self._root_folder(http, check=False)
            for segment in doc.folder:
                if str(segment).strip():
                    folder_name = safe_segment(str(segment), GOOGLE_DRIVE.name_bytes)
                    parent = self._child_folder(http, parent, folder_name)
            existing = self._find(http, parent, name, folder=False)
            if existing and existing.get("md5Checksum") == md5:
                log.info("google_drive: %s unchanged; not uploaded", name)
                return StoredCopy(self._link(existing), uploaded=False)
            stored = self._send(http, path, name, parent, existing)
            return StoredCopy(self._link(stored), uploaded=True)

    def _send(self, http: HttpClient, path: Path, name: str, parent: str,
              existing: dict | None) -> dict[str, Any]:
        """Multipart (≤ 5 MB) or resumable upload; PATCH replaces an existing file's content
        (same ID and link), POST creates one."""
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        metadata: dict[str, Any] = {"name": name}
        if existing:
            method, target = "PATCH", f"/files/{existing['id']}"
        else:
            method, target = "POST", "/files"
            metadata["parents"] = [parent]
        once = RetryPolicy(attempts=1)  # a repeated create could leave two files
        data = path.read_bytes()
        if len(data) <= MULTIPART_LIMIT:
            boundary = f"peregrine-{uuid.uuid4().hex}"
            body = (f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
                    f"{json.dumps(metadata)}\r\n--{boundary}\r\nContent-Type: {content_type}"
                    f"\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
            return self._call(http, method, f"{target}?uploadType=multipart&fields={_FILE_FIELDS}",
                              upload=True, data=body, policy=None if existing else once,
                              headers={"Content-Type": f"multipart/related; boundary={boundary}"}
                              ).json()
        started = self._call(http, method, f"{target}?uploadType=resumable&fields={_FILE_FIELDS}",
                             upload=True, json=metadata,
                             headers={"X-Upload-Content-Type": content_type,
                                      "X-Upload-Content-Length": str(len(data))})
        session = started.headers["Location"]
        http.secrets.append(session)
        return bearer_request(http, self._access(http), "PUT", session, ok=(200, 201),
                              data=data, headers={"Content-Type": content_type}).json()

    @staticmethod
    def _link(item: dict[str, Any]) -> str:
        return str(item.get("webViewLink") or f"https://drive.google.com/file/d/{item['id']}/view")
