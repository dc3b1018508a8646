"""Secrets go to the OS keychain (a real keyring backend, file-backed, installed for the test),
or — without one — stay in an owner-only file that the card says is a file."""
from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest
import yaml

from peregrine_sdk.base import IntegrationBase
from peregrine_sdk.redaction import MASK, install_log_masking
from peregrine_desktop.settings import secrets
from peregrine_desktop.settings.secrets import SERVICE, SecretStore


class FileKeyring(keyring.backend.KeyringBackend):
    """A complete keyring backend that keeps its entries in one JSON file: real set/get/delete
    semantics (PasswordDeleteError included) without a desktop session."""

    priority = 1  # type: ignore[assignment]

    def __init__(self, path: Path | str) -> None:
        super().__init__()
        self.path = Path(path)

    def _entries(self) -> dict[str, str]:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}

    def _store(self, entries: dict[str, str]) -> None:
        self.path.write_text(json.dumps(entries))

    def get_password(self, service: str, username: str) -> str | None:
        return self._entries().get(f"{service}\0{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        entries = self._entries()
        entries[f"{service}\0{username}"] = password
        self._store(entries)

    def delete_password(self, service: str, username: str) -> None:
        entries = self._entries()
        if entries.pop(f"{service}\0{username}", None) is None:
            raise keyring.errors.PasswordDeleteError("no such entry")
        self._store(entries)


class LockedKeyring(FileKeyring):
    """A Secret Service whose collection nobody unlocked."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")


class VaultIntegration(IntegrationBase):
    name = "vault"
    label = "Vault"

    def fields(self) -> list[dict]:
        return [
            {"key": "api_token", "label": "API token", "type": "password", "required": True},
            {"key": "workspace", "label": "Workspace", "type": "text", "required": True},
            {"key": "hook_url", "label": "Webhook URL", "type": "password", "required": False},
        ]

    def connect(self, config: dict) -> bool:
        return self.required_present(config)


@pytest.fixture
def use_keyring():
    """Install a keyring backend for one test; restore the previous one after."""
    previous = keyring.get_keyring()

    def install(backend: keyring.backend.KeyringBackend) -> keyring.backend.KeyringBackend:
        keyring.set_keyring(backend)
        secrets.clear_cache()
        return backend

    yield install
    keyring.set_keyring(previous)
    secrets.clear_cache()


@pytest.fixture
def file_keyring(tmp_path, use_keyring) -> FileKeyring:
    return use_keyring(FileKeyring(tmp_path / "keychain.json"))


def saved_yaml(config_dir: Path, name: str = "vault") -> dict:
    return yaml.safe_load((config_dir / "integrations" / f"{name}.yaml").read_text())


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


CONFIG = {"api_token": "tok-Zq81-distinctive", "workspace": "ws-1",
          "hook_url": "https://hooks.example.test/services/T1/B2/hooksecret99"}


# -- with a keychain -----------------------------------------------------------------------------
def test_secret_goes_to_the_keychain_and_the_yaml_keeps_a_reference(config_dir, file_keyring):
    VaultIntegration.save_config(CONFIG, config_dir)

    text = (config_dir / "integrations" / "vault.yaml").read_text()
    assert "tok-Zq81" not in text and "hooksecret99" not in text
    assert saved_yaml(config_dir) == {"api_token": "keyring:vault:api_token", "workspace": "ws-1",
                                      "hook_url": "keyring:vault:hook_url"}
    assert file_keyring.get_password(SERVICE, "vault:api_token") == CONFIG["api_token"]
    assert file_keyring.get_password(SERVICE, "vault:hook_url") == CONFIG["hook_url"]
    assert SecretStore(config_dir).storage_note("vault", ["api_token", "hook_url"]) is None


def test_load_config_returns_the_full_config_from_a_fresh_process_state(config_dir,
                                                                        file_keyring):
    VaultIntegration.save_config(CONFIG, config_dir)
    secrets.clear_cache()   # as after a restart: the value must come from the keychain

    assert VaultIntegration.load_config(config_dir) == CONFIG
    assert VaultIntegration.is_configured(config_dir)


def test_saving_again_replaces_the_keychain_value(config_dir, file_keyring):
    VaultIntegration.save_config(CONFIG, config_dir)
    VaultIntegration.save_config({**CONFIG, "api_token": "tok-new-value"}, config_dir)
    secrets.clear_cache()

    assert VaultIntegration.load_config(config_dir)["api_token"] == "tok-new-value"


def test_clearing_an_optional_secret_removes_its_keychain_entry(config_dir, file_keyring):
    VaultIntegration.save_config(CONFIG, config_dir)
    VaultIntegration.save_config({**CONFIG, "hook_url": ""}, config_dir)

    assert file_keyring.get_password(SERVICE, "vault:hook_url") is None
    assert VaultIntegration.load_config(config_dir)["hook_url"] == ""


def test_a_value_written_by_hand_into_the_yaml_still_works(config_dir, file_keyring):
    path = config_dir / "integrations" / "vault.yaml"
    path.parent.mkdir()
    path.write_text("api_token: tok-typed-by-hand\nworkspace: ws-9\n")

    assert VaultIntegration.load_config(config_dir) == {"api_token": "tok-typed-by-hand",
                                                        "workspace": "ws-9"}
    note = SecretStore(config_dir).storage_note("vault", ["api_token"])
    assert note is not None and "save it again" in note


def test_env_references_resolve_at_load(config_dir, file_keyring, monkeypatch):
    monkeypatch.setenv("VAULT_TOKEN", "tok-from-env-3321")
    path = config_dir / "integrations" / "vault.yaml"
    path.parent.mkdir()
    path.write_text('api_token: "${VAULT_TOKEN}"\nworkspace: "team-${VAULT_WS}"\n')

    loaded = VaultIntegration.load_config(config_dir)

    assert loaded == {"api_token": "tok-from-env-3321", "workspace": "team-"}
    # Saving keeps the reference, not the value it resolved to.
    VaultIntegration.save_config({"api_token": "${VAULT_TOKEN}", "workspace": "w"}, config_dir)
    assert saved_yaml(config_dir)["api_token"] == "${VAULT_TOKEN}"
    assert file_keyring.get_password(SERVICE, "vault:api_token") is None


def test_forget_removes_the_keychain_entries(config_dir, file_keyring):
    VaultIntegration.save_config(CONFIG, config_dir)

    removed = SecretStore(config_dir).forget("vault")

    assert sorted(removed) == ["api_token", "hook_url"]
    assert file_keyring.get_password(SERVICE, "vault:api_token") is None
    assert file_keyring.get_password(SERVICE, "vault:hook_url") is None
    assert SecretStore(config_dir).forget("vault", ["api_token"]) == []  # nothing left: no error


def test_a_missing_keychain_entry_loads_as_empty_and_the_card_is_told(config_dir, file_keyring):
    VaultIntegration.save_config(CONFIG, config_dir)
    file_keyring.delete_password(SERVICE, "vault:api_token")   # e.g. removed in Seahorse
    secrets.clear_cache()

    assert VaultIntegration.load_config(config_dir)["api_token"] == ""
    note = SecretStore(config_dir).storage_note("vault", ["api_token"])
    assert note == "The saved api token is missing from the system keychain; edit the settings " \
                   "and enter it again."


def test_loaded_secrets_are_masked_in_every_log_line(config_dir, file_keyring, caplog):
    install_log_masking()
    VaultIntegration.save_config({**CONFIG, "api_token": "tok-logged-8831"}, config_dir)
    secrets.clear_cache()
    VaultIntegration.load_config(config_dir)

    with caplog.at_level(logging.DEBUG):
        logging.getLogger("a.plugin").debug("sending with token tok-logged-8831 now")
    assert "tok-logged-8831" not in caplog.text and MASK in caplog.text


def test_settings_describe_the_keychain(file_keyring):
    assert "system keychain" in secrets.keychain_description()


# -- without a keychain --------------------------------------------------------------------------
def test_without_a_keychain_the_secret_stays_in_an_owner_only_file(config_dir, use_keyring):
    use_keyring(keyring.backends.fail.Keyring())

    VaultIntegration.save_config(CONFIG, config_dir)

    path = config_dir / "integrations" / "vault.yaml"
    assert saved_yaml(config_dir) == CONFIG
    assert mode_of(path) == 0o600
    assert mode_of(path.parent) == 0o700
    assert VaultIntegration.load_config(config_dir) == CONFIG
    assert SecretStore(config_dir).storage_note("vault", ["api_token"]) == \
        "Saved in a private file because no system keychain was found."
    assert "private files" in secrets.keychain_description()


def test_an_existing_open_integrations_folder_is_made_private(config_dir, use_keyring):
    use_keyring(keyring.backends.fail.Keyring())
    folder = config_dir / "integrations"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)

    VaultIntegration.save_config(CONFIG, config_dir)

    assert mode_of(folder) == 0o700


def test_a_locked_keychain_writes_nothing_to_a_file_until_the_user_agrees(config_dir,
                                                                         use_keyring, tmp_path):
    use_keyring(LockedKeyring(tmp_path / "locked.json"))

    with pytest.raises(secrets.KeychainRefused) as refused:
        VaultIntegration.save_config(CONFIG, config_dir)
    assert refused.value.locked and "keychain is locked" in str(refused.value)
    assert not (config_dir / "integrations" / "vault.yaml").exists()   # nothing written

    secrets.consent_to_file("vault")          # the user chose "Save in a private file"
    VaultIntegration.save_config(CONFIG, config_dir)
    assert saved_yaml(config_dir)["api_token"] == CONFIG["api_token"]
    assert mode_of(config_dir / "integrations" / "vault.yaml") == 0o600
    note = SecretStore(config_dir).storage_note("vault", ["api_token"])
    assert note.startswith("Saved in a private file, as you chose, because the system keychain "
                           "could not be used (it is locked)")
    assert VaultIntegration.load_config(config_dir) == CONFIG
    with pytest.raises(secrets.KeychainRefused):  # consent was for that one save
        VaultIntegration.save_config(CONFIG, config_dir)


def test_a_plaintext_keyring_is_not_taken_for_a_keychain(config_dir, use_keyring, tmp_path):
    """keyrings.alt's files are what we would write ourselves, minus the honesty."""
    plaintext = type("PlaintextKeyring", (FileKeyring,), {"__module__": "keyrings.alt.file"})
    backend = use_keyring(plaintext(tmp_path / "alt.json"))

    VaultIntegration.save_config(CONFIG, config_dir)

    assert backend.get_password(SERVICE, "vault:api_token") is None
    assert SecretStore(config_dir).storage_note("vault", ["api_token"]) == \
        "Saved in a private file because no system keychain was found."


def test_moving_to_a_machine_with_a_keychain_moves_the_secret_on_next_save(
        config_dir, use_keyring, tmp_path):
    use_keyring(keyring.backends.fail.Keyring())
    VaultIntegration.save_config(CONFIG, config_dir)
    backend = use_keyring(FileKeyring(tmp_path / "later.json"))

    VaultIntegration.save_config(VaultIntegration.load_config(config_dir), config_dir)

    assert saved_yaml(config_dir)["api_token"] == "keyring:vault:api_token"
    assert backend.get_password(SERVICE, "vault:api_token") == CONFIG["api_token"]
    assert SecretStore(config_dir).storage_note("vault", ["api_token"]) is None


def test_not_configured_is_still_an_empty_config(config_dir, file_keyring):
    assert VaultIntegration.load_config(config_dir) == {}
    assert not VaultIntegration.is_configured(config_dir)
    assert SecretStore(config_dir).storage_note("vault", ["api_token"]) is None


def test_a_plugin_whose_fields_raise_still_saves_and_loads(config_dir, file_keyring):
    class Broken(VaultIntegration):
        name = "broken"

        def fields(self) -> list[dict]:
            raise RuntimeError("plugin bug")

    Broken.save_config({"workspace": "w"}, config_dir)
    assert Broken.load_config(config_dir) == {"workspace": "w"}


def test_the_card_asks_before_a_file_and_offers_unlock_and_retry(qtbot, config_dir, use_keyring,
                                                                  tmp_path):
    """On the card: a locked keychain at save time asks (Unlock and retry / private file /
    Cancel); a locked keychain at load time shows the note and an Unlock button."""
    from PySide6.QtWidgets import QApplication, QMessageBox
    from PySide6.QtCore import QTimer

    from peregrine_sdk.discovery import BUILT_IN, DiscoveryRecord
    from peregrine_desktop.ui.connection_card import ConnectionCard
    from tests.fakes.loopback import refused_url
    from tests.fakes.ping import PingIntegration
    from tests.ui_helpers import click, type_into

    use_keyring(LockedKeyring(tmp_path / "locked.json"))
    card = ConnectionCard(DiscoveryRecord("ping", BUILT_IN, "tests", PingIntegration),
                          config_dir, "free")
    qtbot.addWidget(card)
    card.show()
    type_into(qtbot, card.form.editors["base_url"].focus_widget(), refused_url())
    type_into(qtbot, card.form.editors["api_token"].focus_widget(), "tok-card-4321")
    with qtbot.waitSignal(card.test_finished, timeout=10_000):
        click(qtbot, card.test_button)

    def press(label: str, seen: list[str]) -> None:
        def poll() -> None:
            box = QApplication.activeModalWidget()
            if not isinstance(box, QMessageBox):
                QTimer.singleShot(20, poll)
                return
            seen.append(box.text())
            next(b for b in box.buttons() if b.text() == label).click()
        QTimer.singleShot(0, poll)

    seen: list[str] = []
    press("Cancel", seen)
    click(qtbot, card.save_anyway_button)
    assert "keychain is locked, so the secret was not saved" in seen[0]
    assert not PingIntegration.is_configured(config_dir)          # Cancel: nothing written

    press("Save in a private file", seen)
    click(qtbot, card.save_anyway_button)
    assert saved_yaml(config_dir, "ping")["api_token"] == "tok-card-4321"
    assert "as you chose" in card.storage.text()

    # A keychain reference that cannot be read now: "locked", with Unlock and retry.
    (config_dir / "integrations" / "ping.yaml").write_text(
        f"base_url: {refused_url()}\napi_token: keyring:ping:api_token\n")
    secrets.clear_cache()
    PingIntegration.load_config(config_dir)
    card.refresh()
    assert card.storage.text().startswith("The system keychain is locked")
    assert card.unlock_button.isVisible()
