"""The fault sweep: a plugin's connection test against a fault-injecting loopback server.

Slow, reset, 5xx, 429, a garbage body and a refused connection must each end in the right
category of :class:`~peregrine_sdk.errors.ErrorKind` within the plugin's own timeout, and planted
secrets must never appear in logs or error texts.  A plugin is pointed at the server through what
it declares: ``url`` fields, URL-valued ``password`` fields (webhooks, shaped like their
placeholder), its ``endpoints`` (through :func:`pointed_at`), or a service-account key file whose
``token_uri`` is the server.  Name resolution is limited to loopback during a case, so nothing
can reach the real network.  A protocol that makes another category right for a fault is declared
on the class (``fault_outcomes``).
"""
from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peregrine_sdk.base import check_config
from peregrine_sdk.errors import CheckResult, ErrorKind
from peregrine_sdk.hooks import SignIn, has_hook
from peregrine_sdk.redaction import install_log_masking
from peregrine_sdk.testkit.endpoints import pointed_at
from peregrine_sdk.testkit.loopback import LoopbackServer, Reply, refused_url

#: Seconds: the shortened client timeout, the slow server's delay, the card-like deadline.
CLIENT_TIMEOUT = 0.4
SLOW_DELAY = 2.0
DEADLINE = 20.0


@dataclass(frozen=True)
class Fault:
    name: str
    reply: Reply | None          # None: nothing listens (refused)
    expected: frozenset[ErrorKind]


FAULTS: tuple[Fault, ...] = (
    Fault("slow", Reply(200, {"ok": True}, delay=SLOW_DELAY), frozenset({ErrorKind.TIMEOUT})),
    Fault("reset", Reply(reset=True), frozenset({ErrorKind.CANNOT_CONNECT})),
    Fault("500", Reply(500, "Internal Server Error"), frozenset({ErrorKind.CANNOT_CONNECT})),
    Fault("503", Reply(503, "Service Unavailable"), frozenset({ErrorKind.CANNOT_CONNECT})),
    Fault("429", Reply(429, {"error": "rate_limited"}, headers={"Retry-After": "0"}),
          frozenset({ErrorKind.RATE_LIMITED})),
    Fault("garbage", Reply(200, b"\x00\xff<<not json>>\xfe",
                           headers={"Content-Type": "application/json"}),
          frozenset({ErrorKind.UNKNOWN})),
    Fault("refused", None, frozenset({ErrorKind.CANNOT_CONNECT})),
)


def expected_kinds(cls: type, fault: Fault) -> frozenset[ErrorKind]:
    """The categories right for ``fault``: the default, or what the class declares."""
    declared = (getattr(cls, "fault_outcomes", None) or {}).get(fault.name)
    return frozenset(declared) if declared else fault.expected


def planted(name: str, key: str) -> str:
    return f"PLANTED{name.upper().replace('_', '')}{key.upper().replace('_', '')}Zq7x"


# -- pointing a plugin at the server -------------------------------------------------------------
_service_key: dict[str, str] = {}


def service_account_key(token_uri: str) -> dict[str, Any]:
    """A real RSA service-account key (google-auth signs with it) whose token_uri is ours.
    Needs the ``cryptography`` package (the test extra)."""
    if "pem" not in _service_key:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _service_key["pem"] = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode()
    return {"type": "service_account", "project_id": "sweep", "private_key_id": "k1",
            "private_key": _service_key["pem"], "client_id": "1",
            "client_email": "sweep@sweep.iam.gserviceaccount.com", "token_uri": token_uri}


def webhook_url(base: str, placeholder: str, secret: str) -> str:
    """A URL shaped like the service's own (its placeholder), on our server, ending in the
    secret — so masking is tested against the real shape, not an easy one."""
    path = re.sub(r"^[a-z]+://[^/]+", "", placeholder or "") or "/hooks/…"
    segments = [s for s in path.split("/") if s]
    segments = [("7" * 6 if "…" in s else s) for s in segments[:-1]] + [secret]
    return base + "/" + "/".join(segments)


@dataclass
class Plan:
    """Settings pointing a plugin at a server, and the secrets planted in them."""

    config: dict[str, Any]
    secrets: list[str]


def plan_for(cls: type, base: str, folder: Path) -> Plan | str:
    """The config pointing ``cls`` at ``base`` with planted secrets, or why it cannot be."""
    config: dict[str, Any] = {}
    secrets: list[str] = []
    pointed = bool(getattr(cls, "endpoints", None))
    for spec in cls().fields():
        key, kind = spec["key"], spec["type"]
        if kind == "url":
            config[key], pointed = base, True
        elif kind == "password":
            secret = planted(cls.name, key)
            secrets.append(secret)
            if "url" in key or "webhook" in key:
                config[key], pointed = webhook_url(base, str(spec.get("placeholder")), secret), True
            else:
                config[key] = secret
        elif kind == "checkbox":
            config[key] = False
        elif kind == "choice":
            first = (spec.get("choices") or [""])[0]
            config[key] = first.get("value") if isinstance(first, dict) else first
        elif kind == "file":
            path = folder / f"{cls.name}-{key}.json"
            try:
                path.write_text(json.dumps(service_account_key(base + "/token")))
            except ImportError:
                return "the cryptography package is needed to make a test key file"
            config[key], pointed = str(path), True
            secrets.append(_service_key["pem"].splitlines()[5])
        elif "mail" in key or key in ("username", "user", "login"):
            config[key] = "sweep@example.test"
        else:
            config[key] = f"sweep-{key}"
    if not pointed:
        return (f"{cls.label} declares no url field, URL-valued secret, endpoints or key file "
                f"to point it at a test server.")
    return Plan(config, secrets)


# -- running one case ----------------------------------------------------------------------------
class LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class Outcome:
    kind: ErrorKind
    message: str
    seconds: float
    abandoned: bool


def run_check(cls: type, config: dict, deadline: float = DEADLINE) -> Outcome:
    """check_config on a worker thread, abandoned at ``deadline`` like the card does."""
    box: dict[str, Any] = {}

    def work() -> None:
        box["result"] = check_config(cls, config)[0]

    started = time.monotonic()
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(deadline)
    seconds = time.monotonic() - started
    if "result" not in box:
        return Outcome(ErrorKind.TIMEOUT, "abandoned at the deadline", seconds, True)
    result: CheckResult = box["result"]
    return Outcome(result.kind, result.message, seconds, False)


_real_getaddrinfo = socket.getaddrinfo


def _loopback_only_getaddrinfo(host, *args, **kwargs):
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise socket.gaierror(socket.EAI_NONAME, f"sweep: {host} is not resolvable")
    return _real_getaddrinfo(host, *args, **kwargs)


@contextlib.contextmanager
def loopback_only() -> Iterator[None]:
    """Within the block, only loopback names resolve: nothing reaches the real network."""
    socket.getaddrinfo = _loopback_only_getaddrinfo
    try:
        yield
    finally:
        socket.getaddrinfo = _real_getaddrinfo


@contextlib.contextmanager
def short_timeouts(cls: type) -> Iterator[None]:
    """Every ``*timeout*`` number (or pair) of the class set to CLIENT_TIMEOUT in the block."""
    saved: dict[str, tuple[bool, Any]] = {}
    for attr in dir(cls):
        if "timeout" not in attr or attr.startswith("__"):
            continue
        value = getattr(cls, attr, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            short: Any = CLIENT_TIMEOUT
        elif isinstance(value, tuple) and value and all(
                isinstance(v, (int, float)) for v in value):
            short = (CLIENT_TIMEOUT, CLIENT_TIMEOUT)
        else:
            continue
        saved[attr] = (attr in cls.__dict__, cls.__dict__.get(attr))
        setattr(cls, attr, short)
    try:
        yield
    finally:
        for attr, (own, value) in saved.items():
            if own:
                setattr(cls, attr, value)
            else:
                delattr(cls, attr)


@contextlib.contextmanager
def _captured_logs() -> Iterator[LogCapture]:
    install_log_masking()
    capture = LogCapture()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(previous)


def _endpoints_at(cls: type, url: str, kept: dict[str, str]) -> contextlib.AbstractContextManager:
    return pointed_at(cls, url, **kept) if getattr(cls, "endpoints", None) \
        else contextlib.nullcontext()


@dataclass
class CaseResult:
    """One (plugin, fault) case: its outcome and whether it is right, or why it was skipped."""

    fault: Fault
    outcome: Outcome | None = None
    expected: frozenset[ErrorKind] = frozenset()
    problems: list[str] = field(default_factory=list)
    skipped: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


#: Makes settings a test needs before any request (a sign-in against an emulator): a context
#: manager factory taking the work folder and yielding extra settings.  Reserved keys:
#: ``_secrets`` (more planted values) and ``_endpoints`` (endpoints kept off the faulty server).
Prepare = Callable[[Path], contextlib.AbstractContextManager]


def sweep_case(cls: type, fault: Fault, folder: Path, prepare: Prepare | None = None
               ) -> CaseResult:
    """Run one case; never raises for the plugin's faults."""
    result = CaseResult(fault, expected=expected_kinds(cls, fault))
    with loopback_only(), short_timeouts(cls), _captured_logs() as capture, \
            (prepare(folder) if prepare else contextlib.nullcontext({})) as extra, \
            LoopbackServer() as server:
        extra = dict(extra)
        planted_extra = extra.pop("_secrets", [])
        kept = extra.pop("_endpoints", {})
        target = server.url if fault.reply else refused_url()
        plan = plan_for(cls, target, folder)
        if isinstance(plan, str):
            result.skipped = plan
            return result
        plan.config.update(extra)
        plan.secrets += planted_extra
        if fault.reply is None:   # refused: but first prove the test would make a request
            probe = plan_for(cls, server.url, folder)
            assert not isinstance(probe, str)
            probe.config.update(extra)
            server.inject(Reply(500, "probe"), times=1000)
            with _endpoints_at(cls, server.url, kept):
                run_check(cls, probe.config)
        else:
            server.inject(fault.reply, times=1000)
        with _endpoints_at(cls, target, kept):
            outcome = run_check(cls, plan.config)
        if not server.requests:
            if has_hook(cls, SignIn) and prepare is None:
                result.skipped = (f"{cls.label}'s test needs a sign-in before any request; "
                                  f"give the sweep one (prepare=...) to reach it.")
            else:
                result.problems.append(
                    f"test() made no request with complete settings under {fault.name}: the "
                    f"connection test must call the service, not only check the fields.")
            return result
    result.outcome = outcome
    if outcome.kind not in result.expected:
        result.problems.append(
            f"under {fault.name} the test said {outcome.kind.value} ({outcome.message}); "
            f"expected {' or '.join(sorted(k.value for k in result.expected))}")
    if outcome.abandoned:
        result.problems.append(f"under {fault.name} the test ignored its own timeout")
    text = "\n".join(capture.lines) + "\n" + outcome.message
    if any(secret in text for secret in plan.secrets):
        result.problems.append(f"a planted secret appeared in the logs or the message under "
                               f"{fault.name}")
    return result


def sweep(cls: type, folder: Path, prepare: Prepare | None = None) -> list[CaseResult]:
    """Every fault against ``cls``; ``folder`` is a scratch directory for key files."""
    return [sweep_case(cls, fault, folder, prepare) for fault in FAULTS]
