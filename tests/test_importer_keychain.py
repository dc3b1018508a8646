"""The command's import against a real Secret Service (gnome-keyring in its own D-Bus session):
the secrets are in that keychain, readable by any keyring client, and our YAML holds only
references."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.fakes import peregrine_web as web

pytestmark = pytest.mark.skipif(
    not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")),
    reason="needs dbus-run-session and gnome-keyring (scripts/debian-packages.txt)")

READ_BACK = ("import keyring, sys; backend = keyring.get_keyring(); "
             "print(type(backend).__module__); "
             "[print(keyring.get_password('Peregrine Desktop', u)) for u in sys.argv[1:]]")


def test_secrets_land_in_the_secret_service(tmp_path):
    install = web.docker_install(tmp_path / "peregrine", tmp_path / "docs")
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    env.update(XDG_RUNTIME_DIR=str(runtime))
    config = tmp_path / "ours" / "config"
    python = sys.executable
    users = ["notion:token", "caldav_calendar:app_password", "homeassistant:token"]
    script = (
        "printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null && "
        f"{python} -m peregrine_desktop import-from-peregrine '{install}' "
        f"--config-dir '{config}' --data-dir '{tmp_path / 'ours' / 'data'}' && "
        f"{python} -c \"{READ_BACK}\" {' '.join(users)}")
    done = subprocess.run(["dbus-run-session", "--", "sh", "-c", script], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-800:]
    assert "Passwords and tokens are in the system keychain." in done.stdout
    lines = done.stdout.strip().splitlines()
    assert lines[-4] == "keyring.backends.SecretService"
    assert lines[-3:] == [web.SECRETS["notion"], web.SECRETS["caldav"],
                          web.SECRETS["home_assistant"]]
    saved = yaml.safe_load((config / "integrations" / "notion.yaml").read_text())
    assert saved["token"] == "keyring:notion:token"
    for path in (tmp_path / "ours").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(v.encode() in data for v in web.SECRETS.values()), path
