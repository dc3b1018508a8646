"""A recording HTTP server on 127.0.0.1 for emulating a service's documented contract.

Emulators register routes (method + path regex → handler); every request is recorded so tests can
assert on shapes and counts; ``inject`` queues faults (status codes, slow answers, resets, garbage)
that take precedence over routes for the next matching requests.  Standard library only.

    with LoopbackServer() as server, pointed_at(MyServiceIntegration, server.url):
        @server.route("GET", "/v1/me")
        def me(request, _match):
            return Reply(200, {"id": "u1"})
        ...
"""
from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict | list | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0          # seconds to wait before answering (slow server)
    reset: bool = False         # close the connection without answering
    dribble: float = 0.0        # send the body one byte every ``dribble`` seconds

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if isinstance(self.body, (dict, list)):
            headers.setdefault("Content-Type", "application/json")
            return json.dumps(self.body).encode(), headers
        if isinstance(self.body, str):
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
            return self.body.encode(), headers
        return self.body or b"", headers


Handler = Callable[[Request, re.Match], Reply]


class LoopbackServer:
    """Start with ``with LoopbackServer() as server`` or ``start()``/``stop()``."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._routes: list[tuple[str, re.Pattern, Handler]] = []
        self._faults: list[tuple[str | None, re.Pattern | None, Reply]] = []
        self._lock = threading.Lock()
        self._in_flight = 0
        #: The most requests being handled at once: proof that a client worked concurrently.
        self.max_in_flight = 0
        #: Seconds added to the server's clock (its ``Date`` header and the emulators' stamps),
        #: so a test can let minutes pass between two syncs without waiting for them.
        self.clock_offset = 0.0
        #: Seconds every answer waits (a service far away), e.g. to give a kill a window.
        self.latency = 0.0
        #: Set when a client closed its connection while a dribbled answer was being sent.
        self.client_left = threading.Event()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in two writes; without this, Nagle + delayed ACK add
            # ~40 ms to every keep-alive answer.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def date_time_string(self, timestamp: float | None = None) -> str:
                return super().date_time_string(server.now() if timestamp is None
                                                else timestamp)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(self.command, parts.path, parse_qs(parts.query),
                                  dict(self.headers.items()), body)
                with server._lock:
                    server.requests.append(request)
                    server._in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server._in_flight)
                try:
                    reply = server._dispatch(request)
                    if reply.delay or server.latency:
                        time.sleep(reply.delay + server.latency)
                finally:
                    with server._lock:
                        server._in_flight -= 1
                if reply.reset:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.close_connection = True
                    self.connection.close()
                    return
                payload, headers = reply.encoded()
                self.send_response(reply.status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    try:
                        if reply.dribble:
                            self.wfile.flush()
                            for index in range(len(payload)):
                                time.sleep(reply.dribble)
                                self.wfile.write(payload[index:index + 1])
                                self.wfile.flush()
                        else:
                            self.wfile.write(payload)
                    except (BrokenPipeError, ConnectionResetError):  # the client timed out
                        self.close_connection = True
                        server.client_left.set()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle
            do_PROPFIND = do_MKCOL = do_OPTIONS = do_REPORT = _handle

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "LoopbackServer":
        # A short poll interval: stop() returns in 50 ms instead of 500 ms per server.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "LoopbackServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- behaviour --------------------------------------------------------------------------------
    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self._routes.append((method.upper(), re.compile(pattern + r"\Z"), handler))
            return handler
        return register

    def inject(self, reply: Reply, times: int = 1, method: str | None = None,
               path: str | None = None) -> None:
        """Answer the next ``times`` matching requests with ``reply`` instead of the route."""
        with self._lock:
            for _ in range(times):
                self._faults.append((method, re.compile(path) if path else None, reply))

    def now(self) -> float:
        """The server's clock (``time.time()`` plus ``clock_offset``)."""
        return time.time() + self.clock_offset

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self._faults.clear()

    def matching(self, method: str | None = None, path: str | None = None) -> list[Request]:
        pattern = re.compile(path) if path else None
        with self._lock:
            return [r for r in self.requests
                    if (method is None or r.method == method)
                    and (pattern is None or pattern.search(r.path))]

    def _dispatch(self, request: Request) -> Reply:
        with self._lock:
            for i, (method, pattern, reply) in enumerate(self._faults):
                if (method is None or method == request.method) and (
                        pattern is None or pattern.search(request.path)):
                    del self._faults[i]
                    return reply
        for method, pattern, handler in self._routes:
            if method == request.method:
                match = pattern.match(request.path)
                if match:
                    try:
                        return handler(request, match)
                    except Exception as exc:  # an emulator bug shows as a 500 with the reason
                        return Reply(500, f"emulator error: {exc!r}")
        return Reply(404, {"error": "no route", "path": request.path})


def refused_url() -> str:
    """An http URL on loopback where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
