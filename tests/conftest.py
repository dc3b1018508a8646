"""Test isolation: offscreen Qt, and no test ever reads or writes the real home directory.

Nothing here replaces or shadows a module of ``integrations``: a plugin placed there is the one
its tests import.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

# Before Qt or the app is imported: a sandbox home, offscreen platform, private runtime dir.
_SANDBOX = Path(tempfile.mkdtemp(prefix="peregrine-tests-"))
for var, sub in (("HOME", "home"), ("XDG_CONFIG_HOME", "home/.config"),
                 ("XDG_DATA_HOME", "home/.local/share"), ("XDG_CACHE_HOME", "home/.cache"),
                 ("XDG_STATE_HOME", "home/.local/state"), ("XDG_RUNTIME_DIR", "runtime")):
    path = _SANDBOX / sub
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ[var] = str(path)
os.environ["QT_QPA_PLATFORM"] = "offscreen"
# No test may read or write the developer's real keychain; tests that need one install their own.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
os.environ.pop("PEREGRINE_CONFIG_DIR", None)
os.environ.pop("PEREGRINE_DATA_DIR", None)
# No proxy may turn a loopback request into a network one.
for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
    os.environ.pop(var, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

#: The SDK's test kit (loopback_server, plugin_contract), as a plugin's own conftest enables it.
pytest_plugins = ["peregrine_sdk.testkit.pytest_plugin"]


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh config directory, also the default one for code that resolves it itself."""
    path = tmp_path / "config"
    path.mkdir()
    monkeypatch.setenv("PEREGRINE_CONFIG_DIR", str(path))
    return path


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    monkeypatch.setenv("PEREGRINE_DATA_DIR", str(path))
    return path
