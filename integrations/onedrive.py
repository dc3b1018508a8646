"""OneDrive (personal, work or school): job documents through Microsoft Graph.

Sign-in is MSAL's device-code flow (the card shows a code and a link; no secret is shipped), and
MSAL's token cache is the saved secret.  Files up to 4 MB are one path-addressed PUT; larger ones
go through an upload session.  A file whose Graph hash (SHA-256, SHA-1 or QuickXorHash, whichever
the account reports) equals the local one is not sent again.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

from peregrine_sdk.content_hashes import file_hashes
from peregrine_sdk.documents import (ONEDRIVE, StoredCopy, file_name, fit_path, posix_path,
                                     require_local_file, root_segments, target_folder)
from peregrine_sdk.sign_in import AccessToken, SignInPrompt, bearer_request
from peregrine_sdk.base import IntegrationBase, clean_config
from peregrine_sdk.capabilities import Document, DocumentUpload
from peregrine_sdk.hooks import SignIn, RenewedSettings
from peregrine_sdk.errors import ErrorKind, IntegrationError
from peregrine_sdk.http import NO_RETRY, ErrorHints, HttpClient, RetryPolicy
from peregrine_sdk.redaction import register_secret

log = logging.getLogger(__name__)

SCOPES = ["Files.ReadWrite"]        # MSAL adds openid, profile and offline_access itself
DEFAULT_FOLDER = "Peregrine"
SIMPLE_UPLOAD_LIMIT = 4 * 1024 * 1024
CHUNK = 10 * 320 * 1024             # upload-session chunks must be multiples of 320 KiB

ACCOUNT_TYPES = [
    {"value": "consumers", "label": "Personal Microsoft account"},
    {"value": "organizations", "label": "Work or school account"},
    {"value": "common", "label": "Either (decide when signing in)"},
]

_SIGN_IN_ERRORS: dict[str, tuple[ErrorKind, str]] = {
    "invalid_grant": (ErrorKind.INVALID_AUTH,
                      "Microsoft no longer accepts the saved sign-in; sign in again."),
    "interaction_required": (ErrorKind.INVALID_AUTH,
                             "Microsoft wants you to sign in again (a password change or a new "
                             "policy); sign in again."),
    "invalid_client": (ErrorKind.INVALID_AUTH,
                       "Microsoft does not know this client ID; check it in the app "
                       "registration."),
    "unauthorized_client": (ErrorKind.INVALID_AUTH,
                            "The app registration does not allow this sign-in: under "
                            "Authentication turn on \"Allow public client flows\" and check the "
                            "supported account types."),
    "authorization_declined": (ErrorKind.INVALID_AUTH,
                               "The sign-in was declined; start it again and accept."),
    "expired_token": (ErrorKind.TIMEOUT, "The code expired before it was entered; start the "
                                         "sign-in again."),
    "bad_verification_code": (ErrorKind.INVALID_AUTH, "Microsoft did not accept the code; "
                                                      "start the sign-in again."),
}


def _msal_failure(result: dict[str, Any] | None) -> IntegrationError:
    result = result or {}
    code = str(result.get("error") or "")
    kind, hint = _SIGN_IN_ERRORS.get(code, (ErrorKind.INVALID_AUTH,
                                            "Microsoft refused the sign-in; sign in again."))
    return IntegrationError(kind, hint, detail=f"{code}: "
                            f"{str(result.get('error_description', ''))[:200]}")


#: Microsoft's sign-in host; MSAL checks any other authority against it unless told not to.
MICROSOFT_LOGIN = "https://login.microsoftonline.com"


class OneDriveIntegration(IntegrationBase, DocumentUpload, SignIn, RenewedSettings):
    name = "onedrive"
    label = "OneDrive"
    tier = "free"
    description = "Keeps a copy of each job's documents in OneDrive (personal or work)."

    endpoints: ClassVar[dict[str, str]] = {
        "authority_url": MICROSOFT_LOGIN,
        "graph_url": "https://graph.microsoft.com/v1.0",
    }
    timeout: float | tuple[float, float] = (5.0, 60.0)
    upload_policy = RetryPolicy(attempts=4, base_delay=0.5, max_wait=120.0)

    def fields(self) -> list[dict]:
        return [
            {"key": "client_id", "label": "Application (client) ID", "type": "text",
             "placeholder": "00000000-0000-0000-0000-000000000000", "required": True,
             "help": "From an app registration at entra.microsoft.com: allow personal and "
                     "work accounts, turn on \"Allow public client flows\" and add the delegated "
                     "permission Files.ReadWrite."},
            {"key": "account_type", "label": "Account", "type": "choice",
             "choices": ACCOUNT_TYPES, "required": True,
             "help": "Personal accounts (outlook.com, hotmail) or a work or school account."},
            {"key": "folder", "label": "Folder", "type": "text", "placeholder": DEFAULT_FOLDER,
             "required": False,
             "help": "Where documents go, as <folder>/<Company>/<Job title>; created if "
                     "missing."},
            {"key": "token_cache", "label": "Sign-in", "type": "password",
             "placeholder": "Filled in when you sign in", "required": False,
             "help": "Saved by Sign in with Microsoft: open the link shown, type the code, "
                     "approve. Kept as a secret; sign out under account.microsoft.com."},
        ]

    def connect(self, config: dict) -> bool:
        self.config = clean_config(config)
        self.client_id = str(self.config.get("client_id") or "")
        self.account_type = str(self.config.get("account_type") or "")
        self.folder = str(self.config.get("folder") or DEFAULT_FOLDER)
        self.saved_cache = str(self.config.get("token_cache") or "")
        self.urls = {key: self.endpoint(key) for key in self.endpoints}
        self._app: Any = None
        self._cache: Any = None
        self._flow: dict[str, Any] | None = None
        self._token: AccessToken | None = None
        return self.required_present(self.config)

    # -- MSAL -------------------------------------------------------------------------------------
    def _msal(self) -> Any:
        """The MSAL public client with the saved token cache (msal is imported here only)."""
        if self._app is not None:
            return self._app
        if self.account_type not in {c["value"] for c in ACCOUNT_TYPES}:
            raise IntegrationError(ErrorKind.UNKNOWN,
                                   "Choose the kind of Microsoft account (personal or work).")
        import msal

        cache = msal.SerializableTokenCache()
        if self.saved_cache:
            try:
                cache.deserialize(self.saved_cache)
            except ValueError:
                raise IntegrationError(ErrorKind.INVALID_AUTH,
                                       "The saved Microsoft sign-in is damaged; sign in "
                                       "again.") from None
        custom = self.urls["authority_url"] != MICROSOFT_LOGIN  # a test server: no discovery
        try:
            self._app = self._guarded(lambda: msal.PublicClientApplication(
                self.client_id, authority=f"{self.urls['authority_url']}/{self.account_type}",
                token_cache=cache, timeout=self.timeout,
                instance_discovery=False if custom else None))
        except ValueError as exc:  # an authority MSAL refuses (not https, no tenant)
            raise IntegrationError(ErrorKind.CANNOT_CONNECT,
                                   "The Microsoft sign-in address is not usable; check it.",
                                   detail=str(exc)) from None
        self._cache = cache
        return self._app

    @staticmethod
    def _guarded(call: Any) -> Any:
        """Run an MSAL call; its network failures leave in our vocabulary."""
        import requests

        try:
            return call()
        except requests.exceptions.Timeout as exc:
            raise IntegrationError(ErrorKind.TIMEOUT, detail=str(exc)) from None
        except requests.exceptions.SSLError as exc:
            raise IntegrationError(ErrorKind.CANNOT_CONNECT,
                                   "The Microsoft sign-in server's certificate could not be "
                                   "verified; check your network.", detail=str(exc)) from None
        except requests.exceptions.RequestException as exc:
            raise IntegrationError(ErrorKind.CANNOT_CONNECT, detail=str(exc)) from None

    def begin_sign_in(self) -> SignInPrompt:
        """Ask Microsoft for a device code; the card shows the link and the code."""
        app = self._msal()
        flow = self._guarded(lambda: app.initiate_device_flow(scopes=SCOPES))
        if "user_code" not in flow:
            raise _msal_failure(flow)
        self._flow = flow
        return SignInPrompt(url=str(flow.get("verification_uri", "")),
                            user_code=str(flow["user_code"]),
                            message=str(flow.get("message", "")))

    def finish_sign_in(self) -> dict[str, str]:
        """Wait (worker thread) until the code was entered and approved; the settings to save."""
        if self._flow is None:
            raise IntegrationError(ErrorKind.UNKNOWN, "Start the sign-in first.")
        app, flow = self._msal(), self._flow
        result = self._guarded(lambda: app.acquire_token_by_device_flow(flow))
        self._flow = None
        if "access_token" not in (result or {}):
            raise _msal_failure(result)
        register_secret(result.get("access_token"), result.get("refresh_token"))
        self.saved_cache = self._cache.serialize()
        return {"token_cache": self.saved_cache}

    def cancel_sign_in(self) -> None:
        """Stop a waiting ``finish_sign_in`` (MSAL polls until ``expires_at``)."""
        if self._flow is not None:
            self._flow["expires_at"] = 0

    def updated_settings(self) -> dict[str, str]:
        """Settings to save after work: MSAL renews and rotates refresh tokens in its cache."""
        if self._cache is not None and self._cache.has_state_changed:
            return {"token_cache": self._cache.serialize()}
        return {}

    def _access(self) -> AccessToken:
        if self._token is None:
            calls = {"n": 0}

            def fetch() -> dict[str, Any]:
                app = self._msal()
                accounts = app.get_accounts()
                if not accounts:
                    raise IntegrationError(ErrorKind.INVALID_AUTH,
                                           "Sign in with Microsoft first; the code appears "
                                           "here.")
                calls["n"] += 1
                result = self._guarded(lambda: app.acquire_token_silent_with_error(
                    SCOPES, account=accounts[0], force_refresh=calls["n"] > 1))
                if not result or "access_token" not in result:
                    raise _msal_failure(result)
                register_secret(result["access_token"])
                return result

            self._token = AccessToken(fetch)
        return self._token

    # -- Graph ------------------------------------------------------------------------------------
    def _client(self, policy: RetryPolicy) -> HttpClient:
        return HttpClient(timeout=self.timeout, policy=policy)

    def _hints(self) -> ErrorHints:
        return {
            401: (ErrorKind.INVALID_AUTH, "Microsoft no longer accepts the saved sign-in; "
                                          "sign in again."),
            403: (ErrorKind.INVALID_AUTH, "OneDrive refused access: the app registration needs "
                                          "the delegated permission Files.ReadWrite."),
            423: (ErrorKind.UNKNOWN, "The file is locked in OneDrive (open elsewhere); try "
                                     "again later."),
            507: (ErrorKind.UNKNOWN, "Your OneDrive is full; free some space."),
        }

    def _item_url(self, segments: list[str], suffix: str = "") -> str:
        if not segments:
            return f"{self.urls['graph_url']}/me/drive/root{suffix.replace(':', '', 1)}"
        path = "/".join(quote(s, safe="") for s in segments)
        return f"{self.urls['graph_url']}/me/drive/root:/{path}{':' + suffix if suffix else ''}"

    def _get_item(self, http: HttpClient, segments: list[str]) -> dict[str, Any] | None:
        response = bearer_request(http, self._access(), "GET", self._item_url(segments),
                                  ok=(200, 404), hints=self._hints())
        return response.json() if response.status_code == 200 else None

    def _ensure_folders(self, http: HttpClient, segments: list[str]) -> None:
        """Create each missing level below the drive root (409 means it exists)."""
        for depth in range(1, len(segments) + 1):
            if self._get_item(http, segments[:depth]) is not None:
                continue
            parent = self._item_url(segments[:depth - 1], "/children")
            bearer_request(http, self._access(), "POST", parent, ok=(200, 201, 409),
                           hints=self._hints(),
                           json={"name": segments[depth - 1], "folder": {},
                                 "@microsoft.graph.conflictBehavior": "fail"})

    def probe(self) -> None:
        """GET /me/drive, then the target folder (created if missing: proves write access)."""
        with self._client(NO_RETRY) as http:
            bearer_request(http, self._access(), "GET", f"{self.urls['graph_url']}/me/drive",
                           ok=(200,), hints=self._hints())
            segments = root_segments(self.folder)
            found = self._get_item(http, segments)
            if found is None:
                self._ensure_folders(http, segments)
            elif "folder" not in found:
                raise IntegrationError(ErrorKind.NOT_FOUND,
                                       f"{posix_path(segments)} in OneDrive is a file, not a "
                                       f"folder; choose another folder name.")

    # -- documents --------------------------------------------------------------------------------
    def upload_document(self, doc: Document) -> str:
        return self.store(doc).location

    def store(self, doc: Document) -> StoredCopy:
        """Upload (replacing) unless OneDrive's hash of the remote copy equals the local one."""
        path = require_local_file(doc)
        name = file_name(doc, ONEDRIVE)
        folder = fit_path(target_folder(self.folder, doc, ONEDRIVE), name, ONEDRIVE)
        segments = folder + [name]
        size = path.stat().st_size
        with self._client(self.upload_policy) as http:
            existing = self._get_item(http, segments)
            if existing and self._same_content(existing, path, size):
                log.info("onedrive: %s unchanged; not uploaded", posix_path(segments))
                return StoredCopy(str(existing.get("webUrl", "")), uploaded=False)
            if size <= SIMPLE_UPLOAD_LIMIT:
                response = bearer_request(
                    http, self._access(), "PUT",
                    self._item_url(segments, "/content")
                    + "?@microsoft.graph.conflictBehavior=replace",
                    ok=(200, 201), hints=self._hints(), data=path.read_bytes(),
                    headers={"Content-Type": "application/octet-stream"})
                item = response.json()
            else:
                self._ensure_folders(http, folder)  # sessions need the parent to exist
                item = self._upload_session(http, segments, path, size)
            return StoredCopy(str(item.get("webUrl", "")), uploaded=True)

    @staticmethod
    def _same_content(item: dict[str, Any], path: Path, size: int) -> bool:
        hashes = (item.get("file") or {}).get("hashes") or {}
        if item.get("size") not in (None, size):
            return False
        for remote_key, local_kind in (("sha256Hash", "sha256"), ("sha1Hash", "sha1"),
                                       ("quickXorHash", "quickxor")):
            remote = hashes.get(remote_key)
            if remote:
                local = file_hashes(path, local_kind)[local_kind]
                return (remote == local if local_kind == "quickxor"
                        else remote.lower() == local.lower())
        return False

    def _upload_session(self, http: HttpClient, segments: list[str], path: Path,
                        size: int) -> dict[str, Any]:
        """createUploadSession, then PUT 320 KiB-aligned chunks to the pre-authenticated URL
        (no Authorization header there)."""
        session = bearer_request(
            http, self._access(), "POST", self._item_url(segments, "/createUploadSession"),
            ok=(200,), hints=self._hints(),
            json={"item": {"@microsoft.graph.conflictBehavior": "replace"}}).json()
        upload_url = str(session["uploadUrl"])
        register_secret(upload_url)
        with HttpClient(timeout=self.timeout, policy=self.upload_policy, secrets=[upload_url]) as raw:
            with open(path, "rb") as handle:
                offset = 0
                while offset < size:
                    chunk = handle.read(CHUNK)
                    end = offset + len(chunk) - 1
                    response = raw.request(
                        "PUT", upload_url, ok=(200, 201, 202), hints=self._hints(), data=chunk,
                        headers={"Content-Range": f"bytes {offset}-{end}/{size}",
                                 "Content-Length": str(len(chunk))})
                    offset = end + 1
            return response.json()
