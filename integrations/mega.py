"""MEGA: job documents through async-mega-py (import name ``mega``), the maintained client.

MEGA encrypts on the client and solves a login proof-of-work, so only a library can speak to it;
the older ``mega.py`` package can no longer log in.  The library is async: each operation runs
in its own event loop with ``asyncio.run`` on the calling worker thread, under an overall
timeout.  MEGA reports no content hash and allows two files with one name, so an upload is
recorded in an :class:`~peregrine_sdk.documents.UploadLedger`; unchanged content at the same,
still existing node is skipped, and a replaced file's old node goes to the rubbish bin.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from peregrine_sdk.documents import (MEGA, StoredCopy, UploadLedger, file_name, posix_path,
                                     require_local_file, root_segments, target_folder)
from peregrine_sdk.base import IntegrationBase, clean_config
from peregrine_sdk.capabilities import Document, DocumentUpload
from peregrine_sdk.errors import ErrorKind, IntegrationError
from peregrine_sdk.redaction import register_secret

log = logging.getLogger(__name__)

DEFAULT_FOLDER = "Peregrine"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
T = TypeVar("T")

#: MEGA's negative error codes (async-mega-py ``RequestError.code``) in our vocabulary.
_CODES: dict[int, tuple[ErrorKind, str]] = {
    -9: (ErrorKind.INVALID_AUTH, "MEGA rejected the e-mail or password; check them."),
    -26: (ErrorKind.INVALID_AUTH, "This MEGA account uses two-factor login, which the MEGA "
                                  "library cannot do yet; use an account without it."),
    -15: (ErrorKind.INVALID_AUTH, "The MEGA session expired; test again."),
    -16: (ErrorKind.INVALID_AUTH, "MEGA reports this account as blocked or suspended."),
    -11: (ErrorKind.INVALID_AUTH, "MEGA does not allow writing to this folder."),
    -3: (ErrorKind.RATE_LIMITED, "MEGA is busy; try again in a minute."),
    -4: (ErrorKind.RATE_LIMITED, "MEGA asked us to slow down; try again in a minute."),
    -6: (ErrorKind.RATE_LIMITED, "MEGA reports too many connections; try again later."),
    -17: (ErrorKind.UNKNOWN, "The MEGA account is over its transfer quota; try again later."),
    -24: (ErrorKind.UNKNOWN, "The MEGA account is out of storage; free some space."),
}


class MegaIntegration(IntegrationBase, DocumentUpload):
    name = "mega"
    label = "MEGA"
    tier = "free"
    description = "Keeps a copy of each job's documents in your MEGA cloud drive."

    #: Builds the client object; None means async-mega-py's ``MegaNzClient`` (tests: a double).
    client_factory: ClassVar[Callable[[], Any] | None] = None
    operation_timeout: float = 180.0           # one login + upload, end to end
    connect_timeout: float = 10.0

    def fields(self) -> list[dict]:
        return [
            {"key": "email", "label": "E-mail", "type": "text",
             "placeholder": "you@example.com", "required": True,
             "help": "The e-mail address you log in to MEGA with."},
            {"key": "password", "label": "Password", "type": "password", "placeholder": "",
             "required": True,
             "help": "Your MEGA password. Accounts with two-factor login are not supported "
                     "by the MEGA library yet."},
            {"key": "folder", "label": "Folder", "type": "text", "placeholder": DEFAULT_FOLDER,
             "required": False,
             "help": "Folder in your Cloud Drive, as <folder>/<Company>/<Job title>; created "
                     "if missing."},
        ]

    def connect(self, config: dict) -> bool:
        self.config = clean_config(config)
        self.email = str(self.config.get("email") or "")
        self.password = str(self.config.get("password") or "")
        self.folder = str(self.config.get("folder") or DEFAULT_FOLDER)
        self.ledger: UploadLedger | None = None
        register_secret(self.password)
        return self.required_present(self.config)

    # -- running the async library on a worker thread -------------------------------------------
    def _run(self, work: Callable[[Any], Awaitable[T]]) -> T:
        """Log in and run ``work(client)`` in a fresh event loop; errors in our vocabulary."""
        if not _EMAIL.match(self.email):
            raise IntegrationError(ErrorKind.INVALID_AUTH,
                                   "Enter the e-mail address of your MEGA account.")

        async def session() -> T:
            async with self._client() as client:
                await client.login(self.email, self.password)
                return await work(client)

        try:
            return asyncio.run(asyncio.wait_for(session(), self.operation_timeout))
        except IntegrationError:
            raise
        except Exception as exc:  # noqa: BLE001 - translated below, never leaks raw
            raise _translate(exc) from None

    @contextlib.asynccontextmanager
    async def _client(self) -> AsyncIterator[Any]:
        factory = type(self).client_factory   # via the class: a plain function stays unbound
        if factory is not None:
            async with factory() as client:
                yield client
            return
        import aiohttp
        from mega.client import MegaNzClient

        timeout = aiohttp.ClientTimeout(sock_connect=self.connect_timeout, sock_read=60)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            async with MegaNzClient(http, user_agent="PeregrineDesktop/0.1") as client:
                yield client

    # -- connection test --------------------------------------------------------------------------
    def probe(self) -> None:
        """Log in, read the account, and find (or create) the target folder."""
        async def work(client: Any) -> None:
            await client.get_user()
            await _ensure_folder(client, root_segments(self.folder))

        self._run(work)

    # -- documents --------------------------------------------------------------------------------
    def _ledger(self) -> UploadLedger:
        if self.ledger is None:
            self.ledger = UploadLedger.default()
        return self.ledger

    def upload_document(self, doc: Document) -> str:
        return self.store(doc).location

    def store(self, doc: Document) -> StoredCopy:
        """Skip when the ledger's node is still there with this content; otherwise upload into
        the (created) folder and move the older copies to the rubbish bin."""
        path = require_local_file(doc)
        size = path.stat().st_size
        sha256 = doc.sha256 or hashlib.sha256(path.read_bytes()).hexdigest()
        folder = target_folder(self.folder, doc, MEGA)
        remote = posix_path(folder + [file_name(doc, MEGA)], leading_slash=False)
        ledger, account = self._ledger(), f"mega:{self.email.lower()}"
        recorded = ledger.lookup(account, remote)

        async def work(client: Any) -> StoredCopy:
            existing = await _nodes_at(client, remote)
            parent = await _ensure_folder(client, folder)
            location = f"https://mega.nz/fm/{parent.id}"
            if (recorded and len(existing) == 1 and existing[0].id == recorded[1]
                    and recorded[0] == sha256 and existing[0].size == size):
                log.info("mega: %s unchanged; not uploaded", remote)
                return StoredCopy(location, uploaded=False)
            with _named_as(path, remote.rsplit("/", 1)[-1]) as upload_path:
                node = await client.upload(upload_path, dest_node_id=parent.id)
            ledger.record(account, remote, sha256, str(node.id), size)
            for old in existing:
                if old.id != node.id:
                    await client.delete(old.id)   # to the rubbish bin, recoverable
            return StoredCopy(location, uploaded=True)

        return self._run(work)


@contextlib.contextmanager
def _named_as(path: Path, name: str) -> Iterator[Path]:
    """The library names the remote file after the local one: give it the safe name."""
    if path.name == name:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="peregrine-mega-") as folder:
        copy = Path(folder) / name
        shutil.copyfile(path, copy)
        yield copy


async def _nodes_at(client: Any, path: str) -> list[Any]:
    """Every node at ``path`` (MEGA allows several with one name)."""
    from mega.errors import MultipleNodesFoundError

    try:
        return [await client.find(path)]
    except FileNotFoundError:
        return []
    except MultipleNodesFoundError as exc:
        filesystem = await client.get_filesystem()
        return [filesystem[node_id] for node_id in exc.nodes]


async def _ensure_folder(client: Any, segments: list[str]) -> Any:
    """The folder node at ``segments``, making each missing level.

    async-mega-py 2.5's public ``create_folder`` rejects nested paths ("/" is not allowed in a
    name), so each level is made with the client's ``_core.mkdir(name, parent_id)``, which is
    what ``create_folder`` itself calls.
    """
    filesystem = await client.get_filesystem()
    node = filesystem.root
    for depth in range(1, len(segments) + 1):
        path = posix_path(segments[:depth], leading_slash=False)
        found = await _nodes_at(client, path)
        folders = [n for n in found if n.is_folder]
        if folders:
            node = folders[0]
            continue
        if found:
            raise IntegrationError(ErrorKind.NOT_FOUND,
                                   f"{path} in MEGA is a file, not a folder; choose another "
                                   f"folder name.")
        core = getattr(client, "_core", None)
        if core is None or not hasattr(core, "mkdir"):
            raise IntegrationError(ErrorKind.UNKNOWN,
                                   "This version of the MEGA library cannot create folders; "
                                   "create the folder in MEGA yourself.")
        node = await core.mkdir(segments[depth - 1], node.id)
    return node


def _translate(exc: BaseException) -> IntegrationError:
    """A library or network failure as an IntegrationError (the detail never holds secrets)."""
    import aiohttp
    from mega.errors import MegaNzError, RequestError

    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, RequestError):
        if exc.code in _CODES:
            kind, hint = _CODES[exc.code]
            return IntegrationError(kind, hint, detail)
        if exc.code is None and "xhashcash" in str(exc).lower():
            return IntegrationError(ErrorKind.UNKNOWN, "MEGA asked for a login challenge this "
                                    "library version cannot answer; update Peregrine.", detail)
        return IntegrationError(ErrorKind.UNKNOWN, f"MEGA refused the request ({exc}); try "
                                "again later.", detail)
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return IntegrationError(ErrorKind.TIMEOUT, detail=detail)
    if isinstance(exc, aiohttp.ClientResponseError) and exc.status >= 500:
        return IntegrationError(ErrorKind.CANNOT_CONNECT,
                                f"MEGA is having trouble (HTTP {exc.status}); try again later.",
                                detail)
    if isinstance(exc, (aiohttp.ClientError, OSError)):
        return IntegrationError(ErrorKind.CANNOT_CONNECT, detail=detail)
    if isinstance(exc, MegaNzError):
        return IntegrationError(ErrorKind.UNKNOWN, "MEGA could not do this; check the folder "
                                "setting.", detail)
    log.exception("mega: unexpected failure", exc_info=exc)
    return IntegrationError(ErrorKind.UNKNOWN, detail=detail)
