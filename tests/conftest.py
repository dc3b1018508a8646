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


@pytest.fixture(autouse=True, scope="session")
def _no_network():
    """Only loopback names resolve for the whole run, so no test (nor a worker a test left
    behind) can reach a real service, whatever address a plugin falls back to."""
    from peregrine_sdk.testkit.faults import loopback_only

    with loopback_only():
        yield


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


@pytest.fixture
def profile(config_dir: Path):
    """A saved profile whose setup is finished (Ada, target titles SRE)."""
    from peregrine_desktop.settings.profile import UserProfile

    profile = UserProfile(config_dir / "user.yaml")
    profile.update(name="Ada", target_titles=["SRE"], wizard_complete=True)
    profile.save()
    return profile


@pytest.fixture(scope="session")
def _test_key_pair():
    from tests.licence_keys import make_key_pair

    return make_key_pair()


@pytest.fixture
def licence_keys(_test_key_pair):
    """The app trusts the tests' own key pair for this test (the shipped public key's private
    half is not in the repository); ``licence_keys.activate(config_dir, "paid")`` is a person
    pasting a Paid key in Settings → Plan."""
    from peregrine_desktop.settings import licence

    licence.use_public_key(_test_key_pair.public_pem)
    yield _test_key_pair
    licence.use_public_key(None)
