"""Every registered integration's connection test through the test kit's fault sweep — slow,
reset, 5xx, 429, garbage body, refused — ends in the right category within its timeout, and
planted secrets never appear in logs, error texts or saved YAML.

Generic on purpose: adding an integration adds its rows.  The sweep itself ships in the SDK
(``peregrine_sdk.testkit.faults``); this file only adds what the built-ins need beyond it: a real
OneDrive sign-in against the identity emulator, so its test reaches the network.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import integrations
from peregrine_sdk.testkit import LoopbackServer, pointed_at
from peregrine_sdk.testkit.faults import FAULTS, Plan, planted, plan_for, sweep_case

#: Wrong categories found by this sweep, awaiting a fix by the integration's owner; strict, so
#: the fix turns them into a failure that asks for the entry's removal.
KNOWN_WRONG: dict[tuple[str, str], str] = {}


@contextlib.contextmanager
def onedrive_signed_in(folder: Path) -> Iterator[dict]:
    """A real sign-in against the identity emulator (MSAL needs https), so the test's first
    request goes to Graph — the faulty server.  Yields the settings it adds."""
    from integrations.onedrive import OneDriveIntegration
    from tests.fakes.storage_services import (MicrosoftIdentity, self_signed_certificate,
                                              serve_tls)

    cert, key = self_signed_certificate(folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REQUESTS_CA_BUNDLE", str(cert))
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
SIGN_IN = {"onedrive": onedrive_signed_in}

CASES = [pytest.param(name, fault, id=f"{name}-{fault.name}", marks=(
    [pytest.mark.xfail(strict=True, reason=KNOWN_WRONG[(name, fault.name)])]
    if (name, fault.name) in KNOWN_WRONG else []))
    for name in integrations.REGISTRY for fault in FAULTS]


@pytest.mark.parametrize("name,fault", CASES)
def test_each_fault_ends_in_the_right_category_without_leaking_secrets(name, fault, tmp_path):
    cls = integrations.REGISTRY[name]
    case = sweep_case(cls, fault, tmp_path, SIGN_IN.get(name))
    if case.skipped:
        pytest.skip(case.skipped)
    assert case.ok, f"{name}: " + "; ".join(case.problems)


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
