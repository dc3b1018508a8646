"""Every registered built-in integration's connection test against a fault-injecting loopback
server — slow, reset, 5xx, 429, garbage body, refused — ends in the right category within its
timeout; and planted secrets never appear in logs, error texts or saved YAML.

Generic on purpose: adding an integration adds its rows.  Each integration is pointed at the
server through what it declares — ``url`` fields, URL-valued ``password`` fields (webhooks, shaped
like their placeholder), the ``endpoints`` class attribute (through ``pointed_at``), or a
service-account key file whose ``token_uri`` is the server.  Its
``timeout`` class attribute is shortened.  Name resolution is limited to loopback for the whole
sweep, so nothing can reach the real network; an integration that cannot be pointed at HTTP is
skipped with the reason.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import integrations
from peregrine_sdk.base import check_config
from peregrine_sdk.errors import CheckResult, ErrorKind
from peregrine_sdk.redaction import install_log_masking
from peregrine_sdk.testkit import pointed_at
from tests.fakes.loopback import LoopbackServer, Reply, refused_url

#: Seconds: the shortened client timeout, the slow server's delay, the card-like deadline.
CLIENT_TIMEOUT = 0.4
SLOW_DELAY = 2.0
DEADLINE = 20.0


@dataclass(frozen=True)
class Fault:
    name: str
    reply: Reply | None          # None: nothing listens (refused)
    expected: frozenset[ErrorKind]


FAULTS: list[Fault] = [
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
]

#: Where an integration's documented protocol makes another category right for a fault.
EXPECTED_OVERRIDES: dict[tuple[str, str], frozenset[ErrorKind]] = {
    # Slack's webhook answers 200 "ok" in text/plain; any 200 means the hook took the post.
    ("slack", "garbage"): frozenset({ErrorKind.OK}),

    # Discord's GET on a live webhook returns the webhook object; any other 200 body means the
    # address is not a Discord webhook.
    ("discord", "garbage"): frozenset({ErrorKind.NOT_FOUND}),
    # Home Assistant's GET /api/ answers {"message": "API running."}; anything else at 200 is
    # not its API.
    ("homeassistant", "garbage"): frozenset({ErrorKind.NOT_FOUND}),
}

#: Wrong categories found by this sweep, awaiting a fix by the integration's owner; strict, so
#: the fix turns them into a failure that asks for the entry's removal.
KNOWN_WRONG: dict[tuple[str, str], str] = {}

#: Integrations whose protocol cannot be pointed at an HTTP server, and why.
NOT_HTTP = {
    "mega": "MEGA speaks its own JSON-RPC with client-side encryption through the mega "
            "library, whose API host is not configurable: the library is the boundary.",
}


def planted(name: str, key: str) -> str:
    return f"PLANTED{name.upper().replace('_', '')}{key.upper().replace('_', '')}Zq7x"


# -- pointing an integration at the server -------------------------------------------------------
_service_key: dict[str, str] = {}


def service_account_key(token_uri: str) -> dict[str, Any]:
    """A real RSA service-account key (google-auth signs with it) whose token_uri is ours."""
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
    config: dict[str, Any]
    secrets: list[str]


@contextlib.contextmanager
def onedrive_signed_in(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    """A real sign-in against the identity emulator (MSAL needs https), so the test's first
    request goes to Graph — the faulty server.  Yields the settings it adds."""
    from integrations.onedrive import OneDriveIntegration
    from tests.fakes.storage_services import (MicrosoftIdentity, self_signed_certificate,
                                              serve_tls)

    cert, key = self_signed_certificate(folder)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    login = LoopbackServer()
    base = serve_tls(login, cert, key)
    with login:
        identity = MicrosoftIdentity(login, base)
        store = OneDriveIntegration()
        with pointed_at(OneDriveIntegration, authority_url=base):
            store.connect({"client_id": identity.client_id, "account_type": "consumers",
                           "folder": "Peregrine"})
            prompt = store.begin_sign_in()
            identity.approve_on_poll(prompt.user_code, polls=1)
            cache = store.finish_sign_in()["token_cache"]
        tokens = [t["secret"] for section in ("RefreshToken", "AccessToken")
                  for t in json.loads(cache).get(section, {}).values()]
        yield {"client_id": identity.client_id, "token_cache": cache, "_secrets": tokens,
               "_endpoints": {"authority_url": base}}


#: Integrations whose test needs a sign-in before any request: how to get one for real.
SIGN_IN: dict[str, Callable[[Path, pytest.MonkeyPatch], Any]] = {
    "onedrive": onedrive_signed_in,
}


def plan_for(cls: type, base: str, folder: Path) -> Plan | str:
    """The config pointing ``cls`` at ``base`` with planted secrets, or why it cannot be."""
    if cls.name in NOT_HTTP:
        return NOT_HTTP[cls.name]
    config: dict[str, Any] = {}
    secrets: list[str] = []
    pointed = False
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
            path.write_text(json.dumps(service_account_key(base + "/token")))
            config[key], pointed = str(path), True
            secrets.append(_service_key["pem"].splitlines()[5])
        elif "mail" in key or key in ("username", "user", "login"):
            config[key] = "sweep@example.test"
        else:
            config[key] = f"sweep-{key}"
    if cls.endpoints:
        pointed = True
    if not pointed:
        return (f"{cls.label} declares no url field, URL-valued secret, endpoints mapping or key "
                f"file to point it at a test server.")
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


def loopback_only_getaddrinfo(host, *args, **kwargs):
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise socket.gaierror(socket.EAI_NONAME, f"sweep: {host} is not resolvable")
    return _real_getaddrinfo(host, *args, **kwargs)


def shorten_timeouts(cls: type, monkeypatch: pytest.MonkeyPatch) -> None:
    for attr in dir(cls):
        if "timeout" not in attr or attr.startswith("__"):
            continue
        value = getattr(cls, attr, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            monkeypatch.setattr(cls, attr, CLIENT_TIMEOUT)
        elif isinstance(value, tuple) and all(isinstance(v, (int, float)) for v in value):
            monkeypatch.setattr(cls, attr, (CLIENT_TIMEOUT, CLIENT_TIMEOUT))


def endpoints_at(cls: type, url: str, kept: dict[str, str]) -> contextlib.AbstractContextManager:
    """Every endpoint of ``cls`` at ``url`` except those in ``kept`` (a sign-in host)."""
    return pointed_at(cls, url, **kept) if cls.endpoints else contextlib.nullcontext()


def sweep_case(cls: type, fault: Fault, folder: Path, monkeypatch: pytest.MonkeyPatch
               ) -> tuple[Outcome, Plan, list[str]] | str:
    """Run one (integration, fault) case; the outcome, the plan and the log lines."""
    install_log_masking()
    monkeypatch.setattr(socket, "getaddrinfo", loopback_only_getaddrinfo)
    shorten_timeouts(cls, monkeypatch)
    capture = LogCapture()
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    sign_in = SIGN_IN.get(cls.name)
    try:
        with (sign_in(folder, monkeypatch) if sign_in else contextlib.nullcontext({})) as extra, \
                LoopbackServer() as server:
            extra = dict(extra)
            planted_extra = extra.pop("_secrets", [])
            kept = extra.pop("_endpoints", {})
            target = server.url if fault.reply else refused_url()
            plan = plan_for(cls, target, folder)
            if isinstance(plan, str):
                return plan
            plan.config.update(extra)
            plan.secrets += planted_extra
            if fault.reply is None:   # refused: but first prove the test would make a request
                probe = plan_for(cls, server.url, folder)
                probe.config.update(extra)
                server.inject(Reply(500, "probe"), times=1000)
                with endpoints_at(cls, server.url, kept):
                    run_check(cls, probe.config)
            else:
                server.inject(fault.reply, times=1000)
            with endpoints_at(cls, target, kept):
                outcome = run_check(cls, plan.config)
            if not server.requests:
                return (f"{cls.label}'s test made no request with planted settings (it "
                        f"needs a sign-in first), so faults cannot reach it.")
    finally:
        root.removeHandler(capture)
        root.setLevel(previous_level)
    return outcome, plan, capture.lines


CASES = [pytest.param(name, fault, id=f"{name}-{fault.name}", marks=(
    [pytest.mark.xfail(strict=True, reason=KNOWN_WRONG[(name, fault.name)])]
    if (name, fault.name) in KNOWN_WRONG else []))
    for name in integrations.REGISTRY for fault in FAULTS]


@pytest.mark.parametrize("name,fault", CASES)
def test_each_fault_ends_in_the_right_category_without_leaking_secrets(name, fault, tmp_path,
                                                                       monkeypatch):
    cls = integrations.REGISTRY[name]
    found = sweep_case(cls, fault, tmp_path, monkeypatch)
    if isinstance(found, str):
        pytest.skip(found)
    outcome, plan, lines = found

    expected = EXPECTED_OVERRIDES.get((name, fault.name), fault.expected)
    assert outcome.kind in expected, (
        f"{name} under {fault.name}: {outcome.kind.value} ({outcome.message})")
    assert not outcome.abandoned, f"{name} under {fault.name} ignored its own timeout"
    text = "\n".join(lines) + "\n" + outcome.message
    for secret in plan.secrets:
        assert secret not in text, f"{name} leaked a planted secret under {fault.name}"


# -- the YAML and CSV side of the secret sweep ---------------------------------------------------
@pytest.mark.parametrize("name", list(integrations.REGISTRY))
def test_saved_settings_hold_no_planted_secret(name, tmp_path, config_dir):
    import keyring

    from peregrine_desktop.settings import secrets as secret_store
    from tests.test_secrets import FileKeyring

    cls = integrations.REGISTRY[name]
    plan = plan_for(cls, "https://sweep.invalid", tmp_path)
    if isinstance(plan, str):
        plan = Plan({spec["key"]: planted(name, spec["key"]) for spec in cls().fields()
                     if spec["type"] == "password"}, [])
        plan.secrets = list(plan.config.values())
    previous = keyring.get_keyring()
    keyring.set_keyring(FileKeyring(tmp_path / "keychain.json"))
    secret_store.clear_cache()
    try:
        cls.save_config(plan.config, config_dir)
        text = cls.config_path(config_dir).read_text()
        loaded = cls.load_config(config_dir)
    finally:
        keyring.set_keyring(previous)
        secret_store.clear_cache()
    for secret in plan.secrets:
        if secret.startswith("PLANTED"):
            assert secret not in text
    assert loaded == {k: v.strip() if isinstance(v, str) else v for k, v in plan.config.items()}


def test_exported_csv_holds_no_secret(tmp_path):
    from peregrine_desktop.jobs.csv_io import write_csv

    jobs = [{"id": 1, "title": "Engineer", "company": "ACME", "url": "https://jobs.test/1",
             "status": "applied", "notes": "", "date_found": "2026-01-01"}]
    out = tmp_path / "jobs.csv"
    write_csv(out, jobs)
    text = out.read_text()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows and all("PLANTED" not in cell for row in rows for cell in row)
