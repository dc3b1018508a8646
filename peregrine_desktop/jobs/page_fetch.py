"""Fetching a web page the user pasted: an untrusted address, read with limits a normal API
client does not need.

* One overall deadline for the whole fetch (DNS, connect, redirects, headers, body): a server
  that dribbles a byte every few seconds never trips a per-read timeout, so a watchdog shuts the
  socket when the deadline passes.
* :meth:`PageFetch.cancel` shuts the socket too, so Cancel (or quitting) frees the worker thread
  at once instead of when the server gives up.
* Every hop's host is resolved here, checked, and the connection is made to the checked address
  (no second lookup a DNS answer could change): a redirect never leads from a public address to a
  private, loopback or link-local one (cloud metadata at 169.254.169.254, a router at 10.0.0.1).
  An address of the same class as the one the user typed is allowed, so a page on the user's own
  network may redirect within it.

The standard library's ``http.client`` is used rather than the integrations' ``HttpClient``
because these guarantees need the socket in hand; environment proxies are not used, since a
proxy would make the address check meaningless.
"""
from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import ssl
import threading
import time
import weakref
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

log = logging.getLogger(__name__)

Resolver = Callable[[str, int], list[str]]
Opener = Callable[[str, int, float], socket.socket]

REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 5

PUBLIC, PRIVATE, LOOPBACK, LINK_LOCAL = "public", "private", "loopback", "link-local"
_CLASS_WORDS = {PRIVATE: "a private network address", LOOPBACK: "this computer",
                LINK_LOCAL: "a link-local address (such as a cloud server's metadata service)"}


class FetchProblem(Exception):
    """The page could not be fetched; ``str(error)`` is a sentence for the user."""


class FetchTimedOut(FetchProblem):
    pass


class FetchCancelled(FetchProblem):
    pass


class AddressRefused(FetchProblem):
    """An address was not connected to because of where it leads."""


def address_class(ip: str) -> str:
    """``public``, ``private``, ``loopback`` or ``link-local`` for an IP address."""
    address = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_loopback:
        return LOOPBACK
    if address.is_link_local:
        return LINK_LOCAL
    if address.is_global:
        return PUBLIC
    return PRIVATE          # RFC 1918, unique-local, CGNAT, reserved, unspecified, multicast


def may_follow(origin: str, target: str) -> bool:
    """Public addresses are always reachable; any other class only from a start of that class."""
    return target == PUBLIC or target == origin


def system_resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def system_open(ip: str, port: int, timeout: float) -> socket.socket:
    return socket.create_connection((ip, port), timeout=timeout)


@dataclass
class Page:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


_live: "weakref.WeakSet[PageFetch]" = weakref.WeakSet()
_live_lock = threading.Lock()


def cancel_all() -> None:
    """Cancel every fetch in flight (the app is quitting): their threads end within moments."""
    with _live_lock:
        fetches = list(_live)
    for fetch in fetches:
        fetch.cancel()


class PageFetch:
    """One GET of an untrusted address with an overall deadline; cancellable from any thread.

    ``resolve`` and ``open_socket`` are the two points where the network is touched; tests give
    their own to name a host and to record where connections go.
    """

    def __init__(self, *, deadline: float = 30.0, connect_timeout: float = 5.0,
                 read_timeout: float = 15.0, max_bytes: int = 4 * 1024 * 1024,
                 resolve: Resolver = system_resolve, open_socket: Opener = system_open) -> None:
        self.deadline, self.connect_timeout, self.read_timeout = deadline, connect_timeout, \
            read_timeout
        self.max_bytes = max_bytes
        self.resolve, self.open_socket = resolve, open_socket
        #: (ip, port) of every connection attempted, in order.
        self.connections: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self._ended: str | None = None           # "cancelled" / "deadline"
        self._ended_event = threading.Event()
        self._sockets: list[socket.socket] = []  # dups of live sockets, for shutting them
        self._ends_at = 0.0

    # -- stopping -----------------------------------------------------------------------------
    def cancel(self) -> None:
        self._end("cancelled")

    @property
    def cancelled(self) -> bool:
        return self._ended == "cancelled"

    def _end(self, reason: str) -> None:
        with self._lock:
            if self._ended:
                return
            self._ended = reason
            sockets, self._sockets = self._sockets, []
        self._ended_event.set()
        for sock in sockets:   # unblocks a recv/send in the fetching thread at once
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _check(self) -> None:
        if self._ended == "cancelled":
            raise FetchCancelled("The import was cancelled.")
        if self._ended == "deadline" or time.monotonic() >= self._ends_at:
            raise FetchTimedOut(f"The site did not finish answering within {self.deadline:.0f} "
                                "seconds.")

    def _remaining(self, cap: float) -> float:
        self._check()
        return max(0.05, min(cap, self._ends_at - time.monotonic()))

    # -- fetching -----------------------------------------------------------------------------
    def get(self, url: str, headers: Mapping[str, str] | None = None) -> Page:
        """The final page after redirects (any status).  Raises :class:`FetchProblem`."""
        self._ends_at = time.monotonic() + self.deadline
        watchdog = threading.Timer(self.deadline, self._end, args=("deadline",))
        watchdog.daemon = True
        watchdog.start()
        with _live_lock:
            _live.add(self)
        origin: str | None = None
        try:
            for _hop in range(MAX_REDIRECTS + 1):
                parts = urlsplit(url)
                if parts.scheme not in ("http", "https") or not parts.hostname:
                    raise AddressRefused("The site redirected to an address that is not a web "
                                         "page.")
                port = parts.port or (443 if parts.scheme == "https" else 80)
                ip, found = self._pick_address(parts.hostname, port, origin)
                origin = origin or found
                page = self._request(parts, ip, port, dict(headers or {}), url)
                location = page.headers.get("location")
                if page.status not in REDIRECTS or not location:
                    return page
                url = urljoin(url, location.strip())
            raise FetchProblem("The site redirected too many times.")
        except FetchProblem:
            raise
        except (OSError, http.client.HTTPException) as exc:
            self._check()     # a socket shut by cancel/deadline reads as an error: say which
            if isinstance(exc, ssl.SSLCertVerificationError):
                raise FetchProblem("The site's security certificate could not be verified; "
                                   "check the address.") from None
            if isinstance(exc, (TimeoutError, socket.timeout)):
                raise FetchTimedOut("The site stopped answering.") from None
            log.info("fetching a page failed: %r", exc)
            raise FetchProblem("Could not reach the site.") from None
        finally:
            watchdog.cancel()
            with _live_lock:
                _live.discard(self)
            with self._lock:
                sockets, self._sockets = self._sockets, []
            for sock in sockets:
                sock.close()

    def _pick_address(self, host: str, port: int, origin: str | None) -> tuple[str, str]:
        """A resolved address of ``host`` that may be connected to, and its class."""
        try:
            ipaddress.ip_address(host)
            addresses = [host]
        except ValueError:
            addresses = self._resolve_in_time(host, port)
        refused = ""
        for ip in addresses:
            found = address_class(ip)
            if origin is None or may_follow(origin, found):
                return ip, found
            refused = refused or f"{_CLASS_WORDS[found]} ({ip})"
        log.warning("redirect from a %s address to %s refused", origin, refused)
        raise AddressRefused(f"The site redirected to {refused}, which a web page may not lead "
                             "to; it was not opened.")

    def _resolve_in_time(self, host: str, port: int) -> list[str]:
        """``resolve`` on a helper thread: a lookup cannot be interrupted, the wait for it can."""
        result: list = []

        def lookup() -> None:
            try:
                result.append(self.resolve(host, port))
            except OSError as exc:
                result.append(exc)

        thread = threading.Thread(target=lookup, daemon=True, name="resolve")
        thread.start()
        thread.join(self._remaining(self.connect_timeout))
        self._check()
        if not result:
            raise FetchTimedOut("The site's name could not be looked up in time.")
        if isinstance(result[0], OSError) or not result[0]:
            raise FetchProblem("Could not reach the site: its name was not found.")
        return result[0]

    def _connect(self, ip: str, port: int) -> socket.socket:
        self.connections.append((ip, port))
        sock = self.open_socket(ip, port, self._remaining(self.connect_timeout))
        with self._lock:
            if self._ended:
                sock.close()
                self._check()
            self._sockets.append(sock.dup())
        sock.settimeout(self._remaining(self.read_timeout))
        return sock

    def _request(self, parts, ip: str, port: int, headers: dict[str, str], url: str) -> Page:
        fetch = self

        class _Connection(http.client.HTTPConnection):
            def connect(self) -> None:
                self.sock = fetch._connect(ip, port)

        class _SecureConnection(http.client.HTTPSConnection):
            def connect(self) -> None:
                self.sock = self._context.wrap_socket(fetch._connect(ip, port),
                                                      server_hostname=self.host)

        host = parts.hostname
        if parts.scheme == "https":
            connection: http.client.HTTPConnection = _SecureConnection(
                host, port, timeout=self._remaining(self.read_timeout),
                context=ssl.create_default_context())
        else:
            connection = _Connection(host, port, timeout=self._remaining(self.read_timeout))
        try:
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request("GET", path, headers={"Accept-Encoding": "gzip, deflate",
                                                     "Connection": "close", **headers})
            response = connection.getresponse()
            response_headers = {k.lower(): v for k, v in response.getheaders()}
            if response.status in REDIRECTS or response.status >= 400:
                return Page(response.status, response_headers, b"", url)
            body = self._read_body(response, response_headers.get("content-encoding", ""))
            return Page(response.status, response_headers, body, url)
        finally:
            connection.close()

    def _read_body(self, response: http.client.HTTPResponse, encoding: str) -> bytes:
        encoding = encoding.strip().lower()
        inflate = zlib.decompressobj(47) if encoding in ("gzip", "deflate") else None
        body = bytearray()
        while True:
            chunk = response.read1(65536)
            self._check()
            if not chunk:
                break
            body += inflate.decompress(chunk, self.max_bytes + 1 - len(body)) if inflate \
                else chunk
            if len(body) > self.max_bytes:
                raise FetchProblem("That page is far too large to be a job posting.")
        return bytes(body)
