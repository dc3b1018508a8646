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

from peregrine_sdk.testkit import pointed_at

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


# ---------------------------------------------------------------------------------------------
# OAuth helpers shared by the emulators
# ---------------------------------------------------------------------------------------------
def form_of(request: Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.body.decode()).items()}


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def play_browser(prompt_url: str, approve: bool = True) -> int:
    """What the person's browser does: open the sign-in page, follow the redirect back to the
    app's loopback listener.  Returns the listener's status."""
    import requests

    answer = requests.get(prompt_url + ("" if approve else "&deny=1"), allow_redirects=False,
                          timeout=5)
    assert answer.status_code == 302, answer.text
    return requests.get(answer.headers["Location"], timeout=5).status_code


class AuthorizationCodes:
    """The authorize page and code grant with PKCE, as Google and Dropbox implement them."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id
        self.pending: dict[str, tuple[str, str]] = {}   # code → (challenge, redirect_uri)
        self.authorize_params: list[dict[str, str]] = []

    def authorize(self, request: Request, _match: re.Match) -> Reply:
        params = {k: v[0] for k, v in request.query.items()}
        self.authorize_params.append(params)
        if params.get("client_id") != self.client_id:
            return Reply(400, "Invalid client_id")
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return Reply(400, "PKCE required")
        redirect = params["redirect_uri"]
        if params.get("deny"):
            return Reply(302, headers={"Location": f"{redirect}?error=access_denied&"
                                                   f"state={params.get('state', '')}"})
        code = f"code-{uuid.uuid4().hex[:12]}"
        self.pending[code] = (params["code_challenge"], redirect)
        return Reply(302, headers={"Location": f"{redirect}?code={code}&"
                                               f"state={params.get('state', '')}"})

    def redeem(self, form: dict[str, str]) -> str | None:
        """The problem with an authorization_code grant, or None when it is good."""
        challenge, redirect = self.pending.pop(form.get("code", ""), (None, None))
        if challenge is None:
            return "code doesn't exist or has expired"
        if form.get("client_id") != self.client_id:
            return "invalid client_id"
        if s256(form.get("code_verifier", "")) != challenge:
            return "invalid code verifier"
        if form.get("redirect_uri") != redirect:
            return "redirect_uri mismatch"
        return None


# ---------------------------------------------------------------------------------------------
# Dropbox: RPC host, content host, token endpoint
# ---------------------------------------------------------------------------------------------
def _dropbox_error(status: int, summary: str, error: dict | None = None) -> Reply:
    return Reply(status, {"error_summary": summary + "/..", "error": error or {}})


@dataclass
class DropboxEntry:
    path_display: str
    folder: bool
    content: bytes = b""
    rev: int = 1


class DropboxService:
    """``rpc`` serves ``/oauth2/*`` and ``/2/*`` RPC routes, ``content`` serves uploads."""

    def __init__(self, rpc: LoopbackServer, content: LoopbackServer,
                 app_key: str = "peregrineappkey") -> None:
        self.rpc, self.content = rpc, content
        self.app_key = app_key
        self.codes = AuthorizationCodes(app_key)
        self.refresh_tokens: set[str] = set()
        self.access_tokens: set[str] = set()
        self.expired_tokens: set[str] = set()
        self.entries: dict[str, DropboxEntry] = {}     # lower-case path → entry
        self._numbers = itertools.count(1)
        self._routes()

    # -- what a test arranges ---------------------------------------------------------------------
    def issue_refresh_token(self) -> str:
        token = f"rt-{uuid.uuid4().hex}"
        self.refresh_tokens.add(token)
        return token

    def expire_access_tokens(self) -> None:
        self.expired_tokens |= self.access_tokens
        self.access_tokens.clear()

    def revoke(self) -> None:
        self.refresh_tokens.clear()
        self.access_tokens.clear()

    def file(self, path: str) -> DropboxEntry | None:
        return self.entries.get(path.lower())

    def settings(self, refresh_token: str, **changes: Any) -> dict[str, Any]:
        config = {"app_key": self.app_key, "refresh_token": refresh_token,
                  "folder": "/Peregrine", "redirect_port": 0}
        config.update(changes)
        return config

    def pointed(self, **changes: str):
        """Dropbox's three hosts pointed at this emulator (``changes`` replace some)."""
        from integrations.dropbox import DropboxIntegration

        return pointed_at(DropboxIntegration, **{
            "api_url": self.rpc.url, "content_url": self.content.url,
            "authorize_url": f"{self.rpc.url}/oauth2/authorize", **changes})

    # -- emulation --------------------------------------------------------------------------------
    def _token(self, request: Request, _match: re.Match) -> Reply:
        form = form_of(request)
        if "client_secret" in form:
            return Reply(400, {"error": "invalid_request",
                               "error_description": "PKCE apps send no client_secret"})
        grant = form.get("grant_type")
        if grant == "authorization_code":
            problem = self.codes.redeem(form)
            if problem:
                return Reply(400, {"error": "invalid_grant", "error_description": problem})
            refresh = self.issue_refresh_token()
            return Reply(200, {**self._access(), "refresh_token": refresh,
                               "account_id": "dbid:AAH4f99", "uid": "12345"})
        if grant == "refresh_token":
            if form.get("client_id") != self.app_key:
                return Reply(400, {"error": "invalid_client",
                                   "error_description": "Invalid client_id or client_secret"})
            if form.get("refresh_token") not in self.refresh_tokens:
                return Reply(400, {"error": "invalid_grant",
                                   "error_description": "refresh token is invalid or revoked"})
            return Reply(200, self._access())
        return Reply(400, {"error": "unsupported_grant_type"})

    def _access(self) -> dict[str, Any]:
        token = f"sl.test-{next(self._numbers)}"
        self.access_tokens.add(token)
        return {"access_token": token, "token_type": "bearer", "expires_in": 14400,
                "scope": "files.content.write files.metadata.read"}

    def _auth(self, request: Request) -> Reply | None:
        header = request.header("Authorization") or ""
        token = header[7:] if header.startswith("Bearer ") else ""
        if token in self.access_tokens:
            return None
        if token in self.expired_tokens:
            return _dropbox_error(401, "expired_access_token",
                                  {".tag": "expired_access_token"})
        return _dropbox_error(401, "invalid_access_token", {".tag": "invalid_access_token"})

    def _rpc_arg(self, request: Request) -> Any:
        if request.header("Content-Type") != "application/json":
            raise ValueError("Error in call to API function: Bad HTTP \"Content-Type\" header")
        return json.loads(request.body)

    def _meta(self, key: str) -> dict[str, Any]:
        entry = self.entries[key]
        name = entry.path_display.rsplit("/", 1)[-1]
        if entry.folder:
            return {".tag": "folder", "name": name, "path_lower": key,
                    "path_display": entry.path_display, "id": f"id:{abs(hash(key))}"}
        block = 4 * 1024 * 1024   # Dropbox's content_hash: SHA-256 of the blocks' SHA-256s
        block_hashes = b"".join(hashlib.sha256(entry.content[i:i + block]).digest()
                                for i in range(0, len(entry.content), block))
        return {".tag": "file", "name": name, "path_lower": key,
                "path_display": entry.path_display, "id": f"id:{abs(hash(key))}",
                "rev": f"{entry.rev:09x}", "size": len(entry.content),
                "content_hash": hashlib.sha256(block_hashes).hexdigest(),
                "server_modified": "2026-11-30T12:00:00Z"}

    def _make_parents(self, display: str) -> None:
        parts = PurePosixPath(display).parts[1:-1]
        for depth in range(1, len(parts) + 1):
            path = "/" + "/".join(parts[:depth])
            self.entries.setdefault(path.lower(), DropboxEntry(path, folder=True))

    def _routes(self) -> None:
        rpc, content = self.rpc, self.content
        rpc.route("GET", "/oauth2/authorize")(self.codes.authorize)
        rpc.route("POST", "/oauth2/token")(self._token)

        def guarded(handler):
            def wrapper(request: Request, match: re.Match) -> Reply:
                refused = self._auth(request)
                if refused is not None:
                    return refused
                try:
                    return handler(request, match)
                except ValueError as exc:
                    return Reply(400, str(exc))
            return wrapper

        @rpc.route("POST", "/2/users/get_current_account")
        @guarded
        def account(request: Request, _m: re.Match) -> Reply:
            if request.body:
                return Reply(400, "Error in call to API function \"users/get_current_account\""
                                  ": request body: could not decode input as JSON")
            return Reply(200, {"account_id": "dbid:AAH4f99", "email": "alice@example.com",
                               "name": {"display_name": "Alice"}})

        @rpc.route("POST", "/2/files/get_metadata")
        @guarded
        def get_metadata(request: Request, _m: re.Match) -> Reply:
            key = self._rpc_arg(request)["path"].lower()
            if key not in self.entries:
                return _dropbox_error(409, "path/not_found",
                                      {".tag": "path", "path": {".tag": "not_found"}})
            return Reply(200, self._meta(key))

        @rpc.route("POST", "/2/files/list_folder")
        @guarded
        def list_folder(request: Request, _m: re.Match) -> Reply:
            self._rpc_arg(request)
            return Reply(200, {"entries": [], "cursor": "c1", "has_more": False})

        @rpc.route("POST", "/2/files/create_folder_v2")
        @guarded
        def create_folder(request: Request, _m: re.Match) -> Reply:
            path = self._rpc_arg(request)["path"]
            if path.lower() in self.entries:
                return _dropbox_error(409, "path/conflict/folder",
                                      {".tag": "path", "path": {".tag": "conflict"}})
            self._make_parents(path + "/x")
            return Reply(200, {"metadata": self._meta(path.lower())})

        @content.route("POST", "/2/files/upload")
        @guarded
        def upload(request: Request, _m: re.Match) -> Reply:
            if request.header("Content-Type") != "application/octet-stream":
                return Reply(400, "Bad HTTP \"Content-Type\" header")
            raw = request.header("Dropbox-API-Arg") or ""
            if any(ord(ch) > 126 for ch in raw):
                return Reply(400, "Dropbox-API-Arg: could not decode input as JSON")
            arg = json.loads(raw)
            path = arg["path"]
            existing = self.entries.get(path.lower())
            if existing is not None and arg.get("mode") != "overwrite":
                return _dropbox_error(409, "path/conflict/file")
            self._make_parents(path)
            self.entries[path.lower()] = DropboxEntry(
                path, folder=False, content=request.body,
                rev=(existing.rev + 1) if existing else 1)
            return Reply(200, self._meta(path.lower()))


# ---------------------------------------------------------------------------------------------
# Microsoft: the identity platform (over TLS, as MSAL requires) and Graph's drive API
# ---------------------------------------------------------------------------------------------
def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """(cert.pem, key.pem) for 127.0.0.1, so a loopback server can speak https."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = Path(folder) / "cert.pem", Path(folder) / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def serve_tls(server: LoopbackServer, cert: Path, key: Path) -> str:
    """Make a not yet started LoopbackServer speak https; its https base URL."""
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd = server._httpd  # the fake's own socket: wrapped before serving starts
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    return f"https://127.0.0.1:{server.port}"


def _b64url_json(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class MicrosoftIdentity:
    """OpenID discovery, device code and token endpoints under ``/<tenant>/``."""

    def __init__(self, server: LoopbackServer, base_url: str,
                 client_id: str = "11111111-2222-3333-4444-555555555555") -> None:
        self.server, self.base_url, self.client_id = server, base_url, client_id
        self.devices: dict[str, dict[str, Any]] = {}     # device_code → state
        self.refresh_tokens: set[str] = set()
        self.access_tokens: set[str] = set()
        self.polls = 0
        self._numbers = itertools.count(1)
        self._routes()

    def approve_on_poll(self, user_code: str, polls: int = 1) -> None:
        """The person types the code: approved after ``polls`` pending answers."""
        for state in self.devices.values():
            if state["user_code"] == user_code:
                state["approve_after"] = polls

    def decline(self, user_code: str) -> None:
        for state in self.devices.values():
            if state["user_code"] == user_code:
                state["declined"] = True

    def revoke(self) -> None:
        self.refresh_tokens.clear()
        self.access_tokens.clear()

    def expire_access_tokens(self) -> None:
        self.access_tokens.clear()

    def _issuer(self, tenant: str) -> str:
        return f"{self.base_url}/{tenant}/v2.0"

    def _tokens(self, tenant: str) -> dict[str, Any]:
        number = next(self._numbers)
        access, refresh = f"eyJ0eXAi.graph-{number}", f"M.R3_BAY.rt-{number}"
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        now = int(time.time())
        id_token = ".".join([_b64url_json({"alg": "none", "typ": "JWT"}), _b64url_json({
            "iss": self._issuer(tenant), "aud": self.client_id, "sub": "alice-sub",
            "oid": "00000000-0000-0000-aaaa-000000000001", "tid": "9188040d-tenant",
            "preferred_username": "alice@outlook.com", "name": "Alice",
            "iat": now, "nbf": now, "exp": now + 3600}), ""])
        client_info = _b64url_json({"uid": "00000000-0000-0000-aaaa-000000000001",
                                    "utid": "9188040d-tenant"})
        return {"token_type": "Bearer", "scope": "Files.ReadWrite openid profile offline_access",
                "expires_in": 3599, "ext_expires_in": 3599, "access_token": access,
                "refresh_token": refresh, "id_token": id_token, "client_info": client_info}

    def _routes(self) -> None:
        server = self.server

        @server.route("GET", r"/(?P<tenant>[^/]+)/v2.0/.well-known/openid-configuration")
        def discovery(_request: Request, match: re.Match) -> Reply:
            tenant = match["tenant"]
            base = f"{self.base_url}/{tenant}/oauth2/v2.0"
            return Reply(200, {"authorization_endpoint": f"{base}/authorize",
                               "token_endpoint": f"{base}/token",
                               "device_authorization_endpoint": f"{base}/devicecode",
                               "issuer": self._issuer(tenant),
                               "response_types_supported": ["code"],
                               "token_endpoint_auth_methods_supported": ["client_secret_post"]})

        @server.route("POST", r"/(?P<tenant>[^/]+)/oauth2/v2.0/devicecode")
        def devicecode(request: Request, match: re.Match) -> Reply:
            form = form_of(request)
            if form.get("client_id") != self.client_id:
                return Reply(400, {"error": "unauthorized_client",
                                   "error_description": "AADSTS700016: Application not found"})
            device_code = f"DAQABAAEAAAD-{uuid.uuid4().hex}"
            user_code = f"F{next(self._numbers):03d}XKQ2"
            self.devices[device_code] = {"user_code": user_code, "approve_after": None,
                                         "declined": False, "pending": 0,
                                         "tenant": match["tenant"], "scope": form.get("scope")}
            return Reply(200, {
                "device_code": device_code, "user_code": user_code,
                "verification_uri": "https://microsoft.com/devicelogin", "expires_in": 900,
                "interval": 0,
                "message": f"To sign in, use a web browser to open the page "
                           f"https://microsoft.com/devicelogin and enter the code {user_code} "
                           f"to authenticate."})

        @server.route("POST", r"/(?P<tenant>[^/]+)/oauth2/v2.0/token")
        def token(request: Request, match: re.Match) -> Reply:
            form = form_of(request)
            if form.get("client_id") != self.client_id:
                return Reply(400, {"error": "invalid_client",
                                   "error_description": "AADSTS700016: Application not found"})
            grant = form.get("grant_type")
            if grant == DEVICE_GRANT:
                self.polls += 1
                state = self.devices.get(form.get("device_code", ""))
                if state is None:
                    return Reply(400, {"error": "expired_token"})
                if state["declined"]:
                    return Reply(400, {"error": "authorization_declined",
                                       "error_description": "The user declined."})
                if state["approve_after"] is None or state["pending"] < state["approve_after"]:
                    state["pending"] += 1
                    return Reply(400, {"error": "authorization_pending",
                                       "error_description": "AADSTS70016: pending"})
                del self.devices[form["device_code"]]
                return Reply(200, self._tokens(match["tenant"]))
            if grant == "refresh_token":
                if form.get("refresh_token") not in self.refresh_tokens:
                    return Reply(400, {"error": "invalid_grant",
                                       "error_description": "AADSTS70000: The refresh token "
                                                            "has expired or been revoked."})
                self.refresh_tokens.discard(form["refresh_token"])   # rotated
                return Reply(200, self._tokens(match["tenant"]))
            return Reply(400, {"error": "unsupported_grant_type"})


@dataclass
class GraphItem:
    id: str
    name: str
    parent: str               # parent's path ("" for the root's children)
    folder: bool
    content: bytes = b""


class GraphDrive:
    """``/v1.0/me/drive…`` for one user; ``hashes`` is what the account type reports:
    "personal" (sha1Hash, sha256Hash) or "business" (quickXorHash only)."""

    def __init__(self, server: LoopbackServer, identity: MicrosoftIdentity,
                 hashes: str = "personal") -> None:
        self.server, self.identity, self.hashes = server, identity, hashes
        self.items: dict[str, GraphItem] = {}             # lower-case path → item
        self.sessions: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._routes()

    @property
    def graph_url(self) -> str:
        return f"{self.server.url}/v1.0"

    def item(self, path: str) -> GraphItem | None:
        return self.items.get(path.strip("/").lower())

    def _json(self, path: str) -> dict[str, Any]:
        item = self.items[path]
        data: dict[str, Any] = {"id": item.id, "name": item.name,
                                "webUrl": f"https://onedrive.live.com/?id={item.id}",
                                "parentReference": {"path": f"/drive/root:/{item.parent}"}}
        if item.folder:
            data["folder"] = {"childCount": sum(1 for i in self.items.values()
                                                if i.parent.lower() == path)}
            return data
        data["size"] = len(item.content)
        if self.hashes == "personal":
            hashes = {"sha1Hash": hashlib.sha1(item.content).hexdigest().upper(),
                      "sha256Hash": hashlib.sha256(item.content).hexdigest().upper()}
        else:
            from peregrine_sdk.content_hashes import QuickXorHash  # checked against rclone's
            quick = QuickXorHash()                                  # vectors in its tests
            quick.update(item.content)
            hashes = {"quickXorHash": quick.b64digest()}
        data["file"] = {"mimeType": "application/octet-stream", "hashes": hashes}
        return data

    def _error(self, status: int, code: str, message: str) -> Reply:
        return Reply(status, {"error": {"code": code, "message": message,
                                        "innerError": {"request-id": str(uuid.uuid4())}}})

    def _auth(self, request: Request) -> Reply | None:
        header = request.header("Authorization") or ""
        if header.startswith("Bearer ") and header[7:] in self.identity.access_tokens:
            return None
        return self._error(401, "InvalidAuthenticationToken",
                           "Access token has expired or is not yet valid.")

    def _put_file(self, path: str, content: bytes) -> Reply:
        parts = path.split("/")
        for depth in range(1, len(parts)):   # path-addressed PUT creates missing folders
            folder = "/".join(parts[:depth])
            self.items.setdefault(folder.lower(), GraphItem(
                f"F{next(self._ids)}", parts[depth - 1], "/".join(parts[:depth - 1]), True))
        existing = self.items.get(path.lower())
        if existing is not None:
            existing.content = content
            return Reply(200, self._json(path.lower()))
        self.items[path.lower()] = GraphItem(f"I{next(self._ids)}", parts[-1],
                                             "/".join(parts[:-1]), False, content)
        return Reply(201, self._json(path.lower()))

    def _routes(self) -> None:
        server = self.server

        def guarded(handler):
            def wrapper(request: Request, match: re.Match) -> Reply:
                return self._auth(request) or handler(request, match)
            return wrapper

        @server.route("GET", "/v1.0/me/drive")
        @guarded
        def drive(_request: Request, _m: re.Match) -> Reply:
            return Reply(200, {"id": "b!drive", "driveType": self.hashes,
                               "owner": {"user": {"displayName": "Alice"}},
                               "quota": {"total": 5 * 2 ** 30, "used": 1024}})

        @server.route("GET", r"/v1.0/me/drive/root:/(?P<path>[^:]+)")
        @guarded
        def get_item(_request: Request, match: re.Match) -> Reply:
            path = unquote(match["path"]).strip("/").lower()
            if path not in self.items:
                return self._error(404, "itemNotFound", "The resource could not be found.")
            return Reply(200, self._json(path))

        @server.route("POST", r"/v1.0/me/drive/root(?::/(?P<path>[^:]+):)?/children")
        @guarded
        def create_folder(request: Request, match: re.Match) -> Reply:
            parent = unquote(match["path"] or "").strip("/")
            if parent and parent.lower() not in self.items:
                return self._error(404, "itemNotFound", "The parent could not be found.")
            body = request.json
            path = f"{parent}/{body['name']}".strip("/")
            if path.lower() in self.items:
                return self._error(409, "nameAlreadyExists",
                                   "The specified item name already exists.")
            self.items[path.lower()] = GraphItem(f"F{next(self._ids)}", body["name"], parent,
                                                 True)
            return Reply(201, self._json(path.lower()))

        @server.route("PUT", r"/v1.0/me/drive/root:/(?P<path>[^:]+):/content")
        @guarded
        def put_content(request: Request, match: re.Match) -> Reply:
            if request.query.get("@microsoft.graph.conflictBehavior") != ["replace"]:
                return self._error(400, "invalidRequest", "conflictBehavior expected")
            return self._put_file(unquote(match["path"]).strip("/"), request.body)

        @server.route("POST", r"/v1.0/me/drive/root:/(?P<path>[^:]+):/createUploadSession")
        @guarded
        def create_session(_request: Request, match: re.Match) -> Reply:
            path = unquote(match["path"]).strip("/")
            parent = path.rsplit("/", 1)[0] if "/" in path else ""
            if parent and parent.lower() not in self.items:
                return self._error(404, "itemNotFound", "The parent folder does not exist.")
            session = uuid.uuid4().hex
            self.sessions[session] = {"path": path, "data": bytearray(), "chunks": []}
            return Reply(200, {"uploadUrl": f"{self.server.url}/up/{session}?tempauth=secret",
                               "expirationDateTime": "2026-12-01T00:00:00Z"})

        @server.route("PUT", r"/up/(?P<session>[0-9a-f]+)")
        def upload_chunk(request: Request, match: re.Match) -> Reply:
            state = self.sessions.get(match["session"])
            if state is None:
                return self._error(404, "itemNotFound", "Upload session not found.")
            if request.header("Authorization"):
                return self._error(401, "unauthenticated",
                                   "Do not send an Authorization header to the upload URL.")
            found = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", request.header("Content-Range") or "")
            if not found:
                return self._error(400, "invalidRange", "Content-Range required")
            start, end, total = map(int, found.groups())
            if start != len(state["data"]) or end - start + 1 != len(request.body):
                return self._error(416, "invalidRange", "Unexpected range")
            if end + 1 < total and len(request.body) % (320 * 1024):
                return self._error(400, "invalidRange", "Chunks must be multiples of 320 KiB")
            state["data"] += request.body
            state["chunks"].append(len(request.body))
            if end + 1 < total:
                return Reply(202, {"nextExpectedRanges": [f"{end + 1}-"]})
            return self._put_file(state["path"], bytes(state["data"]))


# ---------------------------------------------------------------------------------------------
# MEGA: a test double of async-mega-py's MegaNzClient (the library boundary)
# ---------------------------------------------------------------------------------------------
@dataclass
class MegaNode:
    id: str
    parent_id: str
    name: str
    is_folder: bool
    content: bytes = b""

    @property
    def is_file(self) -> bool:
        return not self.is_folder

    @property
    def size(self) -> int | None:
        return None if self.is_folder else len(self.content)


class MegaCloud:
    """One MEGA account as the library sees it: a node tree, a rubbish bin, the calls made.

    MEGA allows several nodes with one name in a folder; ``find`` then raises the library's
    ``MultipleNodesFoundError``, as the real client does.
    """

    ROOT, TRASH = "ROOTNODE", "TRASHBIN"

    def __init__(self, email: str = "alice@example.com", password: str = "correct horse",
                 mfa: bool = False) -> None:
        self.email, self.password, self.mfa = email, password, mfa
        self.nodes: dict[str, MegaNode] = {
            self.ROOT: MegaNode(self.ROOT, "", "Cloud Drive", True),
            self.TRASH: MegaNode(self.TRASH, "", "Rubbish Bin", True)}
        self.calls: list[tuple[str, tuple]] = []
        self.faults: dict[str, BaseException] = {}
        self._ids = itertools.count(1)

    def client(self) -> "FakeMegaClient":
        return FakeMegaClient(self)

    def fail_next(self, method: str, error: BaseException) -> None:
        self.faults[method] = error

    def path_of(self, node: MegaNode) -> str:
        parts = []
        while node.parent_id and node.id not in (self.ROOT, self.TRASH):
            parts.append(node.name)
            node = self.nodes[node.parent_id]
        return "/".join(reversed(parts)) if node.id == self.ROOT else ""

    def at(self, path: str) -> list[MegaNode]:
        wanted = str(PurePosixPath("/") / path).strip("/")
        return [n for n in self.nodes.values()
                if n.id not in (self.ROOT, self.TRASH) and self.path_of(n) == wanted]

    def add(self, parent_id: str, name: str, folder: bool, content: bytes = b"") -> MegaNode:
        node = MegaNode(f"h{next(self._ids):07d}", parent_id, name, folder, content)
        self.nodes[node.id] = node
        return node

    def trashed(self) -> list[MegaNode]:
        return [n for n in self.nodes.values() if n.parent_id == self.TRASH]


class _FakeFilesystem:
    def __init__(self, cloud: MegaCloud) -> None:
        self.cloud = cloud

    @property
    def root(self) -> MegaNode:
        return self.cloud.nodes[MegaCloud.ROOT]

    def __getitem__(self, node_id: str) -> MegaNode:
        return self.cloud.nodes[node_id]


class _FakeCore:
    def __init__(self, client: "FakeMegaClient") -> None:
        self.client = client

    async def mkdir(self, name: str, parent_node_id: str) -> MegaNode:
        from mega.errors import InvalidNameError

        self.client._enter("mkdir", name, parent_node_id)
        InvalidNameError.check(name)
        return self.client.cloud.add(parent_node_id, name, True)


class FakeMegaClient:
    """The methods of ``mega.client.MegaNzClient`` that the MEGA store calls, same signatures
    and the library's own exceptions."""

    def __init__(self, cloud: MegaCloud) -> None:
        self.cloud = cloud
        self.logged_in = False
        self._core = _FakeCore(self)

    async def __aenter__(self) -> "FakeMegaClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.cloud.calls.append(("close", ()))

    def _enter(self, method: str, *args: Any) -> None:
        from mega.errors import RequestError

        self.cloud.calls.append((method, args))
        fault = self.cloud.faults.pop(method, None)
        if fault is not None:
            raise fault
        if method != "login" and not self.logged_in:
            raise RequestError(-15)

    async def login(self, email: str | None = None, password: str | None = None) -> None:
        from mega.errors import RequestError, ValidationError

        self._enter("login", email)
        if self.logged_in:
            raise ValidationError("This client instance has already logged into an account")
        if email != self.cloud.email or password != self.cloud.password:
            raise RequestError(-9)
        if self.cloud.mfa:
            raise RequestError(-26)
        self.logged_in = True

    async def get_user(self) -> dict[str, Any]:
        self._enter("get_user")
        return {"u": "user-handle", "email": self.cloud.email, "name": "Alice"}

    async def get_filesystem(self, *, force: bool = False) -> _FakeFilesystem:
        self._enter("get_filesystem")
        return _FakeFilesystem(self.cloud)

    async def find(self, query: str) -> MegaNode:
        from mega.errors import MultipleNodesFoundError

        self._enter("find", str(query))
        nodes = self.cloud.at(str(query))
        if not nodes:
            raise FileNotFoundError(2, f'A node with path "/{query}" does not exists')
        if len(nodes) > 1:
            raise MultipleNodesFoundError("more than one node", tuple(n.id for n in nodes))
        return nodes[0]

    async def upload(self, file_path: str | Path, dest_node_id: str | None = None) -> MegaNode:
        self._enter("upload", Path(file_path).name, dest_node_id)
        content = Path(file_path).read_bytes()
        return self.cloud.add(dest_node_id or MegaCloud.ROOT, Path(file_path).name, False,
                              content)

    async def delete(self, node_id: str) -> None:
        self._enter("delete", node_id)
        self.cloud.nodes[node_id].parent_id = MegaCloud.TRASH


# ---------------------------------------------------------------------------------------------
# Google: token endpoint (service-account JWT, code + PKCE, refresh) and Drive v3
# ---------------------------------------------------------------------------------------------
GOOGLE_AUDIENCE = "https://oauth2.googleapis.com/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DRIVE_FOLDER = "application/vnd.google-apps.folder"


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _v3_error(status: int, reason: str, message: str) -> Reply:
    return Reply(status, {"error": {"errors": [{"domain": "global", "reason": reason,
                                                "message": message}],
                                    "code": status, "message": message}})


@dataclass
class DriveItem:
    id: str
    name: str
    parent: str
    folder: bool
    drive_id: str | None          # a Shared Drive's ID, or None for someone's My Drive
    content: bytes = b""
    trashed: bool = False

    def resource(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": "drive#file", "id": self.id, "name": self.name,
                                "mimeType": DRIVE_FOLDER if self.folder else "application/pdf",
                                "parents": [self.parent], "trashed": self.trashed,
                                "webViewLink": f"https://drive.google.com/file/d/{self.id}/view",
                                "capabilities": {"canAddChildren": self.folder}}
        if self.drive_id:
            data["driveId"] = self.drive_id
        if not self.folder:
            data["md5Checksum"] = hashlib.md5(self.content).hexdigest()
            data["size"] = str(len(self.content))
        return data


class GoogleDriveService:
    """Token endpoint at ``/token``, consent page at ``/o/oauth2/auth``, Drive v3 under
    ``/drive/v3`` and ``/upload/drive/v3``.  The service account sees Shared Drives it is a
    member of; the signed-in user sees their My Drive (whose root is ``root``)."""

    def __init__(self, server: LoopbackServer, public_key: Any, client_email: str,
                 client_id: str = "1234-desktop.apps.googleusercontent.com",
                 client_secret: str = "GOCSPX-desktop-secret") -> None:
        self.server, self.public_key, self.client_email = server, public_key, client_email
        self.client_id, self.client_secret = client_id, client_secret
        self.codes = AuthorizationCodes(client_id)
        self.tokens: dict[str, str] = {}            # access token → "sa" | "user"
        self.refresh_tokens: set[str] = set()
        self.items: dict[str, DriveItem] = {
            "root": DriveItem("root", "My Drive", "", True, None)}
        self.members: set[str] = set()              # Shared Drive IDs the SA belongs to
        self.shared_with_sa: set[str] = set()       # My Drive items shared with the SA
        self.sessions: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._routes()

    # -- what a test arranges ---------------------------------------------------------------------
    @property
    def token_uri(self) -> str:
        return f"{self.server.url}/token"

    def shared_drive(self, drive_id: str = "0AShared", member: bool = True) -> DriveItem:
        item = DriveItem(drive_id, "Team Drive", "", True, drive_id)
        self.items[drive_id] = item
        if member:
            self.members.add(drive_id)
        return item

    def folder(self, name: str, parent: str) -> DriveItem:
        return self._add(name, parent, True)

    def issue_refresh_token(self) -> str:
        token = f"1//rt-{uuid.uuid4().hex}"
        self.refresh_tokens.add(token)
        return token

    def client_file(self, folder: Path) -> Path:
        path = Path(folder) / "client_secret_desktop.json"
        path.write_text(json.dumps({"installed": {
            "client_id": self.client_id, "client_secret": self.client_secret,
            "auth_uri": f"{self.server.url}/o/oauth2/auth", "token_uri": self.token_uri,
            "redirect_uris": ["http://localhost"]}}))
        return path

    def children(self, parent: str) -> list[DriveItem]:
        return [i for i in self.items.values() if i.parent == parent and not i.trashed]

    def at(self, parent: str, *names: str) -> DriveItem | None:
        item = None
        for name in names:
            matches = [i for i in self.children(parent) if i.name == name]
            if len(matches) != 1:
                return None
            item, parent = matches[0], matches[0].id
        return item

    # -- emulation --------------------------------------------------------------------------------
    def _add(self, name: str, parent: str, folder: bool, content: bytes = b"") -> DriveItem:
        drive_id = self.items[parent].drive_id
        item = DriveItem(f"1id{next(self._ids):05d}", name, parent, folder, drive_id, content)
        self.items[item.id] = item
        return item

    def _issue(self, principal: str) -> dict[str, Any]:
        token = f"ya29.{principal}-{uuid.uuid4().hex[:8]}"
        self.tokens[token] = principal
        return {"access_token": token, "expires_in": 3599, "token_type": "Bearer",
                "scope": "https://www.googleapis.com/auth/drive"}

    def _jwt_problem(self, assertion: str) -> str | None:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        try:
            head, claims_b64, signature = assertion.split(".")
            claims = json.loads(_b64decode(claims_b64))
            self.public_key.verify(_b64decode(signature), f"{head}.{claims_b64}".encode(),
                                   padding.PKCS1v15(), hashes.SHA256())
        except (ValueError, InvalidSignature):
            return "Invalid JWT Signature."
        now = time.time()
        if claims.get("aud") != GOOGLE_AUDIENCE or claims.get("iss") != self.client_email:
            return "Invalid JWT: audience or issuer."
        if not (claims.get("iat", 0) - 300 <= now < claims.get("exp", 0) <= now + 3900):
            return "Invalid JWT: Token must be a short-lived token"
        if "auth/drive" not in str(claims.get("scope", "")):
            return "Invalid scope."
        return None

    def _token(self, request: Request, _match: re.Match) -> Reply:
        form = form_of(request)
        grant = form.get("grant_type")
        if grant == JWT_GRANT:
            problem = self._jwt_problem(form.get("assertion", ""))
            if problem:
                return Reply(400, {"error": "invalid_grant", "error_description": problem})
            return Reply(200, self._issue("sa"))
        if form.get("client_id") != self.client_id or \
                form.get("client_secret") != self.client_secret:
            return Reply(401, {"error": "invalid_client", "error_description": "Unauthorized"})
        if grant == "authorization_code":
            problem = self.codes.redeem(form)
            if problem:
                return Reply(400, {"error": "invalid_grant", "error_description": problem})
            return Reply(200, {**self._issue("user"),
                               "refresh_token": self.issue_refresh_token()})
        if grant == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return Reply(400, {"error": "invalid_grant",
                                   "error_description": "Token has been expired or revoked."})
            return Reply(200, self._issue("user"))
        return Reply(400, {"error": "unsupported_grant_type"})

    def _principal(self, request: Request) -> str | None:
        header = request.header("Authorization") or ""
        return self.tokens.get(header[7:]) if header.startswith("Bearer ") else None

    def share_with_service_account(self, item_id: str) -> None:
        """What a person does in My Drive: share a folder with the service account's e-mail."""
        self.shared_with_sa.add(item_id)

    def _shared_with_sa(self, item: DriveItem) -> bool:
        while item is not None:
            if item.id in self.shared_with_sa:
                return True
            item = self.items.get(item.parent)
        return False

    def _visible(self, principal: str, item: DriveItem | None, request: Request) -> bool:
        if item is None or item.trashed:
            return False
        if item.drive_id:   # Shared Drive items need supportsAllDrives and membership
            return (request.query.get("supportsAllDrives") == ["true"]
                    and principal == "sa" and item.drive_id in self.members)
        return principal == "user" or self._shared_with_sa(item)

    def _parse_multipart(self, request: Request) -> tuple[dict, bytes]:
        boundary = (request.header("Content-Type") or "").split("boundary=")[-1]
        parts = request.body.split(f"--{boundary}".encode())
        meta = json.loads(parts[1].split(b"\r\n\r\n", 1)[1].rstrip(b"\r\n"))
        content = parts[2].split(b"\r\n\r\n", 1)[1]
        return meta, content[:-2] if content.endswith(b"\r\n") else content

    def _write(self, principal: str, item_id: str | None, meta: dict, content: bytes,
               request: Request) -> Reply:
        if item_id is None:
            parent = self.items.get((meta.get("parents") or ["root"])[0])
            if not self._visible(principal, parent, request):
                return _v3_error(404, "notFound", "File not found.")
            if principal == "sa" and not parent.drive_id:
                return _v3_error(403, "storageQuotaExceeded",
                                 "Service Accounts do not have storage quota. Leverage shared "
                                 "drives, or use OAuth delegation instead.")
            return Reply(200, self._add(meta["name"], parent.id, False, content).resource())
        item = self.items.get(item_id)
        if not self._visible(principal, item, request):
            return _v3_error(404, "notFound", f"File not found: {item_id}.")
        if "parents" in meta:
            return _v3_error(400, "fieldNotWritable", "The resource body includes fields "
                                                      "which are not directly writable.")
        item.content = content
        return Reply(200, item.resource())

    def _routes(self) -> None:
        server = self.server
        server.route("POST", "/token")(self._token)
        server.route("GET", "/o/oauth2/auth")(self.codes.authorize)

        def guarded(handler):
            def wrapper(request: Request, match: re.Match) -> Reply:
                principal = self._principal(request)
                if principal is None:
                    return _v3_error(401, "authError", "Invalid Credentials")
                return handler(request, match, principal)
            return wrapper

        @server.route("GET", r"/drive/v3/files/(?P<id>[^/]+)")
        @guarded
        def get_file(request: Request, match: re.Match, principal: str) -> Reply:
            item = self.items.get(unquote(match["id"]))
            if not self._visible(principal, item, request):
                return _v3_error(404, "notFound", f"File not found: {match['id']}.")
            return Reply(200, item.resource())

        @server.route("GET", "/drive/v3/files")
        @guarded
        def list_files(request: Request, _m: re.Match, principal: str) -> Reply:
            query = request.query.get("q", [""])[0]
            found = re.fullmatch(r"'(?P<parent>(?:[^'\\]|\\.)*)' in parents and name = "
                                 r"'(?P<name>(?:[^'\\]|\\.)*)' and mimeType (?P<op>!?=) "
                                 r"'(?P<type>[^']+)' and trashed = false", query)
            if not found:
                return _v3_error(400, "invalid", "Invalid Value")
            name = re.sub(r"\\(.)", r"\1", found["name"])
            parent = self.items.get(re.sub(r"\\(.)", r"\1", found["parent"]))
            if not self._visible(principal, parent, request):
                return Reply(200, {"files": []})
            want_folder = found["op"] == "="
            files = [i.resource() for i in self.children(parent.id)
                     if i.name == name and i.folder == want_folder]
            return Reply(200, {"kind": "drive#fileList", "files": files})

        @server.route("POST", "/drive/v3/files")
        @guarded
        def create_folder(request: Request, _m: re.Match, principal: str) -> Reply:
            meta = request.json
            parent = self.items.get(meta["parents"][0])
            if not self._visible(principal, parent, request):
                return _v3_error(404, "notFound", "File not found.")
            return Reply(200, self._add(meta["name"], parent.id, True).resource())

        @server.route("POST", "/upload/drive/v3/files")
        @guarded
        def upload(request: Request, _m: re.Match, principal: str) -> Reply:
            return self._upload(request, None, principal)

        @server.route("PATCH", r"/upload/drive/v3/files/(?P<id>[^/]+)")
        @guarded
        def update(request: Request, match: re.Match, principal: str) -> Reply:
            return self._upload(request, match["id"], principal)

        @server.route("PUT", r"/upload/drive/v3/sessions/(?P<session>\w+)")
        @guarded
        def finish(request: Request, match: re.Match, principal: str) -> Reply:
            state = self.sessions.pop(match["session"], None)
            if state is None:
                return _v3_error(404, "notFound", "Upload session not found.")
            return self._write(principal, state["item"], state["meta"], request.body,
                               state["request"])

    def _upload(self, request: Request, item_id: str | None, principal: str) -> Reply:
        kind = request.query.get("uploadType", [""])[0]
        if kind == "multipart":
            meta, content = self._parse_multipart(request)
            return self._write(principal, item_id, meta, content, request)
        if kind == "resumable":
            session = uuid.uuid4().hex
            self.sessions[session] = {"item": item_id, "meta": request.json or {},
                                      "request": request}
            return Reply(200, headers={
                "Location": f"{self.server.url}/upload/drive/v3/sessions/{session}"})
        return _v3_error(400, "invalid", "uploadType required")
