"""Emulators of the document stores' documented contracts, on 127.0.0.1, recording requests.

* :class:`NextcloudServer`: a real WebDAV server (WsgiDAV on cheroot) mounted at
  ``/remote.php/dav/files/<user>/`` with basic auth; a WSGI recorder notes every request.
* :func:`google_service` (token endpoint for service-account JWTs and refresh tokens, Drive
  files/upload), :func:`dropbox_service` (RPC and content hosts, token endpoint) and
  :func:`graph_service` (Graph drive API, Microsoft identity platform over TLS for MSAL) on
  :class:`~tests.fakes.loopback.LoopbackServer`.
* :class:`FakeMegaClient`: a test double of async-mega-py's ``MegaNzClient`` (MEGA encrypts
  client-side, so the library boundary is where it is faked).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import itertools
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from tests.fakes.loopback import LoopbackServer, Reply, Request


# ---------------------------------------------------------------------------------------------
# Nextcloud: a real WebDAV server
# ---------------------------------------------------------------------------------------------
@dataclass
class DavRequest:
    method: str
    path: str
    status: int


class NextcloudServer:
    """WsgiDAV serving ``root`` at ``/remote.php/dav/files/<user>/`` (basic auth only)."""

    def __init__(self, root: Path, user: str = "alice", password: str = "app-pass-12345") -> None:
        from cheroot import wsgi
        from wsgidav.fs_dav_provider import FilesystemProvider
        from wsgidav.wsgidav_app import WsgiDAVApp

        self.root, self.user, self.password = Path(root), user, password
        self.mount = f"/remote.php/dav/files/{user}"
        self.requests: list[DavRequest] = []
        app = WsgiDAVApp({
            "provider_mapping": {self.mount: FilesystemProvider(str(self.root))},
            "http_authenticator": {"domain_controller": None, "accept_basic": True,
                                   "accept_digest": False, "default_to_digest": False},
            "simple_dc": {"user_mapping": {"*": {user: {"password": password}}}},
            "property_manager": True,
            "lock_storage": True,
            "verbose": 0,
            "logging": {"enable": False, "enable_loggers": []},
            "dir_browser": {"enable": False},
        })
        self._server = wsgi.Server(("127.0.0.1", 0), self._recording(app), numthreads=4)
        self._server.prepare()
        self._thread = threading.Thread(target=self._server.serve, daemon=True)
        self._thread.start()

    def _recording(self, app: Any) -> Any:
        def wrapped(environ: dict, start_response: Any) -> Any:
            entry = DavRequest(environ["REQUEST_METHOD"], unquote(environ.get("PATH_INFO", "")),
                               0)

            def recording_start(status: str, headers: list, exc_info: Any = None) -> Any:
                entry.status = int(status.split()[0])
                return start_response(status, headers, exc_info)

            self.requests.append(entry)
            return app(environ, recording_start)
        return wrapped

    @property
    def url(self) -> str:
        host, port = self._server.bind_addr[:2]
        return f"http://{host}:{port}"

    def reset(self) -> None:
        """Empty the user's files (and their properties) and forget the recorded requests."""
        import requests

        for child in self.root.iterdir():  # DELETE over WebDAV also drops their properties
            requests.delete(f"{self.url}{self.mount}/{quote(child.name)}", timeout=5,
                            auth=(self.user, self.password)).raise_for_status()
        self.requests.clear()

    def methods(self, method: str) -> list[DavRequest]:
        return [r for r in self.requests if r.method == method]

    def stop(self) -> None:
        self._server.stop()
