"""A locked keychain under a real Secret Service (gnome-keyring in its own D-Bus session):
said as locked, never as "missing"; nothing goes to a file unasked; Unlock and retry works; a
secret moved to a file and back leaves no copy behind.

The scenario runs in a child process under ``dbus-run-session`` so the rest of the suite keeps
its keychain-less environment; the child prints what it saw, the test checks it."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NEEDED = ("dbus-run-session", "gnome-keyring-daemon")

pytestmark = pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in NEEDED),
    reason="needs a real Secret Service: apt-get install gnome-keyring dbus "
           "(dbus-run-session and gnome-keyring-daemon)")

SCENARIO = textwrap.dedent('''
    import json, subprocess, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    config_dir = Path(sys.argv[2])
    seen = {}

    def keyring_daemon(*flags):
        """Start (or, with --replace, restart) gnome-keyring; --unlock is the login password."""
        subprocess.run(["gnome-keyring-daemon", *flags, "--components=secrets"],
                       input=b"login-pw" if "--unlock" in flags else None,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)

    keyring_daemon("--unlock")

    import keyring, secretstorage
    from peregrine_sdk.base import IntegrationBase
    from peregrine_desktop.settings import secrets
    from peregrine_desktop.settings.secrets import SERVICE, SecretStore

    class Vault(IntegrationBase):
        name = "vault"
        label = "Vault"
        def fields(self):
            return [{"key": "api_token", "label": "API token", "type": "password"},
                    {"key": "workspace", "label": "Workspace", "type": "text"}]
        def connect(self, config):
            return True

    def collection():
        return secretstorage.get_default_collection(secretstorage.dbus_init())

    def in_keychain():
        """What the Secret Service holds for the vault token (read with the collection open)."""
        coll = collection()
        was_locked = coll.is_locked()
        items = list(coll.search_items({"service": SERVICE, "username": "vault:api_token"}))
        if was_locked:
            return "locked"
        return [i.get_secret().decode() for i in items]

    def files_holding(secret):
        return sorted(str(p.relative_to(config_dir)) for p in config_dir.rglob("*")
                      if p.is_file() and secret.encode() in p.read_bytes())

    store = SecretStore(config_dir)
    yaml_path = config_dir / "integrations" / "vault.yaml"
    seen["backend"] = type(keyring.get_keyring()).__module__
    store.save(Vault, {"api_token": "tok-first-1234", "workspace": "w"})
    seen["saved_yaml"] = yaml_path.read_text()
    seen["keychain_after_save"] = in_keychain()

    # The session locks (screen lock, a fresh boot); Peregrine starts again.
    collection().lock()
    secrets.clear_cache()
    seen["load_locked"] = store.load(Vault)
    seen["note_locked"] = store.storage_note("vault", ["api_token"])
    seen["is_locked"] = store.is_locked("vault")

    # Saving while locked: refused before anything is written.
    before = yaml_path.read_bytes()
    try:
        store.save(Vault, {"api_token": "tok-second-5678", "workspace": "w"})
        seen["save_locked"] = "saved"
    except secrets.KeychainRefused as refused:
        seen["save_locked"] = {"locked": refused.locked, "message": str(refused)}
    seen["yaml_unchanged"] = yaml_path.read_bytes() == before
    seen["files_with_second"] = files_holding("tok-second-5678")

    # Unlock and retry: no prompt can show here, so the first try fails; then the person
    # unlocks (the daemon restarted with the login password), and the retry works.
    seen["unlock_without_password"] = store.unlock("vault")
    keyring_daemon("--replace", "--unlock")
    seen["unlock_after_password"] = store.unlock("vault")
    seen["load_unlocked"] = store.load(Vault)
    seen["note_unlocked"] = store.storage_note("vault", ["api_token"])

    # Moved to a file while locked (the user chose it): the keychain copy goes once it can.
    collection().lock()
    secrets.clear_cache()
    secrets.consent_to_file("vault")
    store.save(Vault, {"api_token": "tok-file-9999", "workspace": "w"})
    seen["yaml_in_file"] = yaml_path.read_text()
    seen["keychain_while_locked"] = in_keychain()
    keyring_daemon("--replace", "--unlock")
    store.unlock("vault")
    seen["keychain_after_unlock"] = in_keychain()
    seen["files_with_first"] = files_holding("tok-first-1234")

    # And back to the keychain: the file copy goes.
    store.save(Vault, store.load(Vault))
    seen["yaml_back"] = yaml_path.read_text()
    seen["keychain_back"] = in_keychain()
    seen["files_with_file_token"] = files_holding("tok-file-9999")
    print(json.dumps(seen))
''')


def test_a_locked_keychain_under_a_real_secret_service(tmp_path):
    home = tmp_path / "home"
    config_dir = tmp_path / "config"
    for folder in (home, config_dir):
        folder.mkdir(mode=0o700)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DBUS_", "PYTHON_KEYRING", "GNOME_KEYRING"))}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / ".local" / "share"),
               XDG_CONFIG_HOME=str(home / ".config"), XDG_RUNTIME_DIR=str(tmp_path),
               PYTHONPATH=str(ROOT))
    result = subprocess.run(["dbus-run-session", "--", sys.executable, "-c", SCENARIO,
                             str(ROOT), str(config_dir)], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    assert seen["backend"] == "keyring.backends.SecretService"
    assert "api_token: keyring:vault:api_token" in seen["saved_yaml"]
    assert seen["keychain_after_save"] == ["tok-first-1234"]

    # Locked is said as locked, not as a missing secret to type again.
    assert seen["load_locked"]["api_token"] == "" and seen["is_locked"]
    assert seen["note_locked"].startswith("The system keychain is locked, so the saved api token "
                                          "cannot be read. Unlock it")
    assert "missing" not in seen["note_locked"] and "enter it again" not in seen["note_locked"]

    # Nothing went to a file without asking.
    assert seen["save_locked"]["locked"] is True
    assert "Unlock it and retry, or save it in a private file" in seen["save_locked"]["message"]
    assert seen["yaml_unchanged"] and seen["files_with_second"] == []

    # Unlock and retry.
    assert seen["unlock_without_password"] is False
    assert seen["unlock_after_password"] is True
    assert seen["load_unlocked"]["api_token"] == "tok-first-1234"
    assert seen["note_unlocked"] is None

    # Keychain → file → keychain: no copy left behind at any point it could be removed.
    assert "api_token: tok-file-9999" in seen["yaml_in_file"]
    assert seen["keychain_while_locked"] == "locked"
    assert seen["keychain_after_unlock"] == []                 # the old entry went
    assert seen["files_with_first"] == []
    assert "api_token: keyring:vault:api_token" in seen["yaml_back"]
    assert seen["keychain_back"] == ["tok-file-9999"]
    assert seen["files_with_file_token"] == []                 # the file copy went
