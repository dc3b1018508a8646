"""What every document store shares: where a job's file goes, what an upload returns, and the
record of what was uploaded for services that report no content hash (MEGA).

Skipping unchanged content is each store's job, by comparing what its API reports for the remote
copy: Drive ``md5Checksum``, Dropbox ``content_hash``, Graph ``sha256Hash``/``sha1Hash``/
``quickXorHash``, a SHA-256 property on the Nextcloud file.  MEGA's client library exposes no
hash, so that store keeps an :class:`UploadLedger` and checks the remote node still matches it.
The caller therefore needs no bookkeeping of its own: uploading the same content twice is cheap.
"""
from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from peregrine_sdk.capabilities import Document
from peregrine_sdk.errors import ErrorKind, IntegrationError

#: Characters at least one of the five services refuses in a file or folder name.
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
#: Folder names (company, job title) are kept short enough to read in any file browser.
MAX_SEGMENT = 120
#: What may be left dangling at the end of a cut name: a joiner, a variation selector, a
#: combining mark or a skin-tone modifier would belong to the character that was cut off.
_DANGLING = re.compile("[\u200d\ufe0e\ufe0f\u0300-\u036f\U0001f3fb-\U0001f3ff]+$")


@dataclass(frozen=True)
class NameLimits:
    """How long a service lets names be: each file or folder name in UTF-8 bytes, and the whole
    path in characters (None when the service sets no path limit of its own)."""

    name_bytes: int = 255
    path_chars: int | None = None


#: Nextcloud refuses a name over 255 bytes ("File name is too long"), and other WebDAV servers
#: (WsgiDAV, Apache) store each file under its name on a filesystem whose names end at 255 bytes
#: (ext4, XFS, APFS): a longer one is a 500 that retrying never fixes.
WEBDAV = NameLimits(255)
#: Dropbox: names up to 255 characters; counted in bytes here, which is never more.
DROPBOX = NameLimits(255)
#: OneDrive and SharePoint: names up to 255 characters, the whole path up to 400.
ONEDRIVE = NameLimits(255, path_chars=400)
#: Google Drive accepts longer names, but Drive for desktop and every download put the file on a
#: local filesystem, whose names end at 255 bytes.
GOOGLE_DRIVE = NameLimits(255)
#: MEGA stores names encrypted with no documented limit; its desktop sync writes them to a
#: local filesystem (255 bytes).
MEGA = NameLimits(255)


@dataclass(frozen=True)
class StoredCopy:
    """Where a document's copy lives, and whether this call sent its bytes."""

    location: str        # a URL (or path) a person can open
    uploaded: bool       # False: the remote copy already had this content


def _cut(text: str, max_bytes: int) -> str:
    """``text`` shortened to at most ``max_bytes`` of UTF-8, never inside a character."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    cut = encoded[:max_bytes].decode("utf-8", errors="ignore")
    return _DANGLING.sub("", cut)


def _cleaned(name: str) -> str:
    cleaned = _UNSAFE.sub(" - ", name)
    cleaned = re.sub(r"\s*-\s*(?=\.[^.]*$)", "", cleaned)      # "final?.pdf" → "final.pdf"
    cleaned = re.sub(r"(\s*-\s*){2,}", " - ", cleaned)
    return re.sub(r"\s+", " ", cleaned).strip(" .-")


def safe_segment(name: str, max_bytes: int = 255) -> str:
    """A company or job title as a folder name every service accepts ("SRE / Infra" →
    "SRE - Infra"); never empty, no leading/trailing dots or spaces, at most
    :data:`MAX_SEGMENT` characters and ``max_bytes`` bytes."""
    cleaned = _cut(_cleaned(name)[:MAX_SEGMENT], max_bytes).rstrip(" .-")
    return cleaned or "Untitled"


def root_segments(root: str, limits: NameLimits = WEBDAV) -> list[str]:
    """The user's root folder setting ("/Peregrine/Jobs", "Peregrine\\Jobs") as segments."""
    return [safe_segment(part, limits.name_bytes) for part in re.split(r"[\\/]+", root or "")
            if part.strip()]


def target_folder(root: str, doc: Document, limits: NameLimits = WEBDAV) -> list[str]:
    """Segments of ``<root>/<Company>/<Job title>`` for a document."""
    return root_segments(root, limits) + [safe_segment(str(part), limits.name_bytes)
                                          for part in doc.folder if str(part).strip()]


def file_name(doc: Document, limits: NameLimits = WEBDAV) -> str:
    """The document's file name as the service accepts it: cleaned, and shortened to the
    service's limit in bytes with its extension kept ("Lebenslauf ….pdf")."""
    cleaned = _cleaned(Path(doc.local_path).name) or "Untitled"
    stem, dot, extension = cleaned.rpartition(".")
    if not dot or not stem or len(extension) > 16 or not extension.isalnum():
        stem, extension = cleaned, ""
    suffix = f".{extension}" if extension else ""
    room = limits.name_bytes - len(suffix.encode("utf-8"))
    return (_cut(stem, room).rstrip(" .-") or "Untitled") + suffix


def fit_path(folder: list[str], name: str, limits: NameLimits) -> list[str]:
    """``folder`` with its longest names shortened until ``folder/name`` fits the service's
    path limit (the file name is kept whole)."""
    if limits.path_chars is None:
        return folder
    folder = list(folder)
    while folder and len("/".join([*folder, name])) + 1 > limits.path_chars:
        longest = max(range(len(folder)), key=lambda i: len(folder[i]))
        if len(folder[longest]) <= 8:
            break
        excess = len("/".join([*folder, name])) + 1 - limits.path_chars
        keep = max(8, len(folder[longest]) - excess)
        folder[longest] = _DANGLING.sub("", folder[longest][:keep]).rstrip(" .-") or "Untitled"
    return folder


def posix_path(segments: list[str], leading_slash: bool = True) -> str:
    path = str(PurePosixPath(*segments)) if segments else ""
    return ("/" + path) if leading_slash else path


def require_local_file(doc: Document) -> Path:
    """The document's file, or a clear error when it was moved or deleted since it was attached."""
    path = Path(doc.local_path)
    if not path.is_file():
        raise IntegrationError(ErrorKind.NOT_FOUND,
                               f"The file {path.name} is no longer on this computer; attach it "
                               f"again to upload it.", detail=str(path))
    return path


class UploadLedger:
    """SQLite record of (store, remote path) → content hash and remote id of the last upload.

    For services whose API reports no content hash; a store still checks that the remote item it
    recorded exists before trusting the record, so a copy deleted on the service is re-uploaded.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS uploads (store TEXT NOT NULL, "
                       "remote_path TEXT NOT NULL, sha256 TEXT NOT NULL, remote_id TEXT NOT NULL,"
                       " size INTEGER NOT NULL, uploaded_at REAL NOT NULL, "
                       "PRIMARY KEY (store, remote_path))")

    @classmethod
    def default(cls) -> "UploadLedger":
        from peregrine_sdk import host

        return cls(host.current().locations.data_dir() / "document-uploads.sqlite3")

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:  # commits, or rolls back on error
                yield db
        finally:
            db.close()

    def lookup(self, store: str, remote_path: str) -> tuple[str, str, int] | None:
        """(sha256, remote id, size) of the last upload to that path, or None."""
        with self._lock, self._connect() as db:
            row = db.execute("SELECT sha256, remote_id, size FROM uploads WHERE store = ? AND "
                             "remote_path = ?", (store, remote_path)).fetchone()
        return (row[0], row[1], int(row[2])) if row else None

    def record(self, store: str, remote_path: str, sha256: str, remote_id: str,
               size: int) -> None:
        with self._lock, self._connect() as db:
            db.execute("INSERT OR REPLACE INTO uploads VALUES (?, ?, ?, ?, ?, ?)",
                       (store, remote_path, sha256, remote_id, size, time.time()))
