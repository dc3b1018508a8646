"""Nextcloud: job documents over WebDAV under ``/remote.php/dav/files/<user>/``.

Missing folders are made with MKCOL one level at a time (201 made, 405 exists, 409 no parent).
A file's SHA-256 is kept on it as a WebDAV property (and sent as ``OC-Checksum``, which Nextcloud
reports back as ``oc:checksums``), so an unchanged document is not sent again.
"""
from __future__ import annotations

import logging
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote

from peregrine_sdk.documents import (WEBDAV, StoredCopy, file_name, posix_path,
                                     require_local_file, root_segments, target_folder)
from peregrine_sdk.base import IntegrationBase, clean_config
from peregrine_sdk.capabilities import Document, DocumentUpload
from peregrine_sdk.errors import ErrorKind, IntegrationError
from peregrine_sdk.http import NO_RETRY, ErrorHints, HttpClient, RetryPolicy

log = logging.getLogger(__name__)

DAV = "DAV:"
OC = "http://owncloud.org/ns"
PEREGRINE = "https://peregrine.app/ns/dav"
DEFAULT_FOLDER = "Peregrine"

_FILE_PROPS = (f'<?xml version="1.0" encoding="utf-8"?>'
               f'<d:propfind xmlns:d="DAV:" xmlns:oc="{OC}" xmlns:p="{PEREGRINE}"><d:prop>'
               f'<d:resourcetype/><d:getcontentlength/><d:getetag/><oc:checksums/><p:sha256/>'
               f'</d:prop></d:propfind>')


def _set_sha256(value: str) -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?>'
            f'<d:propertyupdate xmlns:d="DAV:" xmlns:p="{PEREGRINE}"><d:set><d:prop>'
            f'<p:sha256>{value}</p:sha256></d:prop></d:set></d:propertyupdate>')


def _props(body: bytes) -> dict[str, str | bool]:
    """The found (200) properties of the single response in a 207 body: text by local name,
    plus ``collection`` when the resource is a folder."""
    found: dict[str, str | bool] = {}
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return found
    for propstat in root.iter(f"{{{DAV}}}propstat"):
        status = propstat.findtext(f"{{{DAV}}}status") or ""
        if " 200 " not in status + " ":
            continue
        for prop in propstat.iter(f"{{{DAV}}}prop"):
            for child in prop:
                name = child.tag.split("}")[-1]
                if name == "resourcetype":
                    found["collection"] = child.find(f"{{{DAV}}}collection") is not None
                else:
                    found[name] = (child.text or "").strip()
    return found


class NextcloudIntegration(IntegrationBase, DocumentUpload):
    name = "nextcloud"
    label = "Nextcloud"
    tier = "free"
    description = "Keeps a copy of each job's documents in your Nextcloud, over WebDAV."

    timeout: float | tuple[float, float] = (5.0, 30.0)
    upload_policy = RetryPolicy(attempts=3, base_delay=0.5, max_wait=30.0)

    def fields(self) -> list[dict]:
        return [
            {"key": "server_url", "label": "Server address", "type": "url",
             "placeholder": "https://cloud.example.com", "required": True,
             "help": "The address you open Nextcloud at, including any sub-folder "
                     "(https://example.com/nextcloud)."},
            {"key": "username", "label": "User name", "type": "text", "placeholder": "alice",
             "required": True,
             "help": "Your user ID: the last part of the WebDAV address shown in Files → "
                     "Files settings."},
            {"key": "app_password", "label": "App password", "type": "password",
             "placeholder": "xxxxx-xxxxx-xxxxx-xxxxx-xxxxx", "required": True,
             "help": "Recommended: create one in Settings → Security → Devices & sessions. "
                     "Needed if you use two-factor login; it can be revoked on its own."},
            {"key": "folder", "label": "Folder", "type": "text",
             "placeholder": DEFAULT_FOLDER, "required": False,
             "help": "Where documents go, as <folder>/<Company>/<Job title>; created if "
                     "missing."},
        ]

    def connect(self, config: dict) -> bool:
        self.config = clean_config(config)
        self.server_url = str(self.config.get("server_url") or "").rstrip("/")
        self.username = str(self.config.get("username") or "")
        self.password = str(self.config.get("app_password") or "")
        self.folder = str(self.config.get("folder") or DEFAULT_FOLDER)
        return self.required_present(self.config)

    # -- addresses ----------------------------------------------------------------------------
    @property
    def dav_root(self) -> str:
        return f"{self.server_url}/remote.php/dav/files/{quote(self.username, safe='')}/"

    def dav_url(self, segments: list[str], folder: bool = False) -> str:
        path = "/".join(quote(s, safe="") for s in segments)
        return self.dav_root + path + ("/" if folder and segments else "")

    def web_location(self, folder: list[str], name: str) -> str:
        """The folder in Nextcloud's web Files app, scrolled to the file."""
        return (f"{self.server_url}/index.php/apps/files/?dir={quote(posix_path(folder))}"
                f"&scrollto={quote(name)}")

    def _client(self, policy: RetryPolicy) -> HttpClient:
        return HttpClient(timeout=self.timeout, policy=policy,
                          auth=(self.username, self.password), secrets=[self.password])

    def _hints(self) -> ErrorHints:
        return {
            401: (ErrorKind.INVALID_AUTH, "Nextcloud rejected the user name or app password; "
                  "create a new app password in Settings → Security and test again."),
            403: (ErrorKind.INVALID_AUTH, "Nextcloud refused access to this folder; check "
                  "that this user may write to it."),
            429: (ErrorKind.RATE_LIMITED, "Nextcloud is slowing down logins after failed "
                  "attempts; wait a minute before trying again."),
            507: (ErrorKind.UNKNOWN, "Your Nextcloud storage is full; free some space."),
        }

    # -- connection test -------------------------------------------------------------------------
    def probe(self) -> None:
        """PROPFIND (Depth 0) on the target folder; a missing folder is created, which proves
        write access too."""
        with self._client(NO_RETRY) as http:
            segments = root_segments(self.folder)
            found = self._propfind(http, segments, folder=True)
            if found is None:
                self._make_folders(http, segments)
            elif not found.get("collection"):
                raise IntegrationError(ErrorKind.NOT_FOUND,
                                       f"{posix_path(segments)} in Nextcloud is a file, not a "
                                       f"folder; choose another folder name.")

    def _propfind(self, http: HttpClient, segments: list[str],
                  folder: bool = False) -> dict[str, str | bool] | None:
        """The properties of a file or folder, or None when it does not exist."""
        response = http.request(
            "PROPFIND", self.dav_url(segments, folder), ok=(207, 404), hints=self._hints(),
            data=_FILE_PROPS.encode(), headers={"Depth": "0",
                                                "Content-Type": "application/xml; charset=utf-8"})
        if response.status_code == 404:
            return None
        return _props(response.content)

    def _make_folders(self, http: HttpClient, segments: list[str]) -> None:
        """MKCOL each level from the top: 201 made, 405 already there."""
        for depth in range(1, len(segments) + 1):
            response = http.request("MKCOL", self.dav_url(segments[:depth], folder=True),
                                    ok=(201, 405, 409), hints=self._hints())
            if response.status_code == 409:
                raise IntegrationError(
                    ErrorKind.NOT_FOUND,
                    "Nextcloud has no files folder for this user at this address; check the "
                    "server address and the user name.",
                    detail=f"MKCOL {posix_path(segments[:depth])} → 409")

    # -- documents ------------------------------------------------------------------------------
    def upload_document(self, doc: Document) -> str:
        return self.store(doc).location

    def store(self, doc: Document) -> StoredCopy:
        """Upload unless the file there already has this content; create missing folders."""
        path = require_local_file(doc)
        folder = target_folder(self.folder, doc, WEBDAV)
        name = file_name(doc, WEBDAV)
        segments = folder + [name]
        location = self.web_location(folder, name)
        sha256 = doc.sha256 or _sha256(path)
        with self._client(self.upload_policy) as http:
            remote = self._propfind(http, segments)
            if remote is not None and _same_content(remote, sha256, path.stat().st_size):
                log.info("nextcloud: %s unchanged; not uploaded", posix_path(segments))
                return StoredCopy(location, uploaded=False)
            if self._put(http, segments, path, sha256) == 409:
                self._make_folders(http, folder)
                if self._put(http, segments, path, sha256) == 409:
                    raise IntegrationError(ErrorKind.UNKNOWN,
                                           "Nextcloud would not create the job's folder; check "
                                           "the folder setting.")
            http.request("PROPPATCH", self.dav_url(segments), ok=(200, 207),
                         hints=self._hints(), data=_set_sha256(sha256).encode(),
                         headers={"Content-Type": "application/xml; charset=utf-8"})
            return StoredCopy(location, uploaded=True)

    def _put(self, http: HttpClient, segments: list[str], path: Path, sha256: str) -> int:
        """PUT the file: 201 new, 204 replaced; 409 when its folder is missing."""
        with open(path, "rb") as handle:
            body = handle.read()
        response = http.request(
            "PUT", self.dav_url(segments), ok=(201, 204, 409), hints=self._hints(), data=body,
            headers={"Content-Type": "application/octet-stream",
                     "OC-Checksum": f"SHA256:{sha256}",
                     "X-OC-MTime": str(int(os.path.getmtime(path)))})
        return response.status_code


def _sha256(path: Path) -> str:
    from peregrine_sdk.content_hashes import file_hashes

    return file_hashes(path, "sha256")["sha256"]


def _same_content(props: dict[str, str | bool], sha256: str, size: int) -> bool:
    """True when the remote file has this size and its recorded SHA-256 (our property, or
    Nextcloud's checksums list) equals ``sha256``."""
    length = str(props.get("getcontentlength", ""))
    if length.isdigit() and int(length) != size:
        return False
    wanted = sha256.lower()
    if str(props.get("sha256", "")).lower() == wanted:
        return True
    checksums = str(props.get("checksums", "")).lower().split()
    return f"sha256:{wanted}" in checksums
