"""SecretStore: values of ``password`` fields live in the OS keychain, not in the YAML.

Where a keychain works (Secret Service, macOS Keychain, Windows Credential Locker, reached through
``keyring``), each secret is stored under service :data:`SERVICE` and username
``<integration>:<field key>``, and the YAML keeps a reference in its place::

    api_key: keyring:notion:api_key      # the value is in the keychain under that username

Where none exists (a headless Linux without a Secret Service) the secret stays in the YAML, which
is owner-only (0600, folder 0700), as Settings says up front.  Where one exists but cannot be used
right now — locked, or failing — nothing goes to a file until the user agreed
(:class:`KeychainRefused` is raised first; :func:`consent_to_file` then lets one save through),
and a locked keychain is said as locked, with :meth:`SecretStore.unlock` to try again: a secret
that cannot be read is never reported as missing.  A secret moved between keychain and file
leaves no copy behind: the other place is cleared, and a keychain entry that cannot be removed
while locked is remembered (``integrations/.keychain-leftovers.yaml``) and removed when it can.

Any string value may also be written by hand as ``${ENV_VAR}`` (resolved at load) or as the plain
value itself (used as is); ``load`` always returns the full config, so the guide's contract holds.
Every secret loaded is registered with :func:`peregrine_sdk.redaction.register_secret`, so it is
masked in every later log line.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from peregrine_sdk.redaction import register_secret
from peregrine_desktop.settings.configfiles import (PRIVATE_DIR, ensure_private_dir, read_yaml_mapping,
                                           write_yaml)

log = logging.getLogger(__name__)

#: The keychain's service name for every Peregrine secret.
SERVICE = "Peregrine Desktop"
#: A YAML value starting with this is a reference to the keychain entry named after the colon.
REFERENCE_PREFIX = "keyring:"
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

NO_KEYCHAIN_NOTE = "Saved in a private file because no system keychain was found."
KEYCHAIN_FAILED_NOTE = ("Saved in a private file because the system keychain could not be used "
                        "({reason}).")
HAND_WRITTEN_NOTE = ("Saved in the settings file as written there; save it again from this card "
                     "to move it into the system keychain.")
MISSING_ENTRY_NOTE = ("The saved {label} is missing from the system keychain; edit the settings "
                      "and enter it again.")
LOCKED_NOTE = ("The system keychain is locked, so the saved {label} cannot be read. Unlock it "
               "(Unlock and retry asks your desktop to), and it is used again.")
CONSENTED_NOTE = ("Saved in a private file, as you chose, because the system keychain could not "
                  "be used ({reason}); save it again once the keychain works to move it there.")

#: Backends that are not a keychain: keyring's "no backend" placeholders, and keyrings.alt's
#: plaintext/"encrypted" files (no safer than our own owner-only file, and silent about it).
_NOT_A_KEYCHAIN_MODULES = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")


def username_for(name: str, key: str) -> str:
    """The keychain username of one secret: ``<integration>:<field key>``."""
    return f"{name}:{key}"


def reference_for(name: str, key: str) -> str:
    """What the YAML holds in place of a secret that is in the keychain."""
    return REFERENCE_PREFIX + username_for(name, key)


def is_reference(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(REFERENCE_PREFIX)


def has_env_reference(value: Any) -> bool:
    return isinstance(value, str) and bool(_ENV_REFERENCE.search(value))


def resolve_env(value: str) -> str:
    """``${NAME}`` → the environment variable's value ('' and a logged warning when unset)."""
    def substitute(match: re.Match) -> str:
        name = match.group(1)
        if name not in os.environ:
            log.warning("settings refer to the environment variable %s, which is not set", name)
            return ""
        return os.environ[name]
    return _ENV_REFERENCE.sub(substitute, value)


def password_keys(cls: Any) -> list[str]:
    """Keys of the fields an integration declares as ``password`` ([] if fields() misbehaves)."""
    try:
        specs = cls().fields()
    except Exception:  # noqa: BLE001 - a broken plugin is reported elsewhere; never raise here
        log.debug("%s: fields() failed while looking for secrets", getattr(cls, "name", cls),
                  exc_info=True)
        return []
    if not isinstance(specs, list):
        return []
    return [spec["key"] for spec in specs
            if isinstance(spec, dict) and spec.get("type") == "password"
            and isinstance(spec.get("key"), str)]


# -- the keychain --------------------------------------------------------------------------------
class KeychainUnavailable(Exception):
    """The keychain cannot be used right now; ``reason`` is a few plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeychainLocked(KeychainUnavailable):
    """The keychain is there but locked: unlocking it (the desktop asks) makes it work."""

    def __init__(self) -> None:
        super().__init__("it is locked")


class KeychainRefused(KeychainUnavailable):
    """A save stopped before anything was written: the keychain exists but cannot take the
    secret now.  The user chooses: unlock / retry, or :func:`consent_to_file` and save again."""

    def __init__(self, name: str, cause: KeychainUnavailable) -> None:
        super().__init__(cause.reason)
        self.name = name
        self.locked = isinstance(cause, KeychainLocked)

    def __str__(self) -> str:
        return (f"The system keychain is locked, so the secret was not saved. Unlock it and "
                f"retry, or save it in a private file instead." if self.locked else
                f"The system keychain could not be used ({self.reason}), so the secret was not "
                f"saved. Retry, or save it in a private file instead.")


def _backend() -> Any:
    try:
        import keyring
    except ImportError:
        raise KeychainUnavailable("the keyring package is not installed") from None
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001 - a broken backend configuration
        raise KeychainUnavailable(f"{type(exc).__name__}") from None
    module = type(backend).__module__
    if module.startswith(_NOT_A_KEYCHAIN_MODULES):
        raise KeychainUnavailable("no system keychain was found")
    return backend


def keychain_available() -> bool:
    try:
        _backend()
    except KeychainUnavailable:
        return False
    return True


def keychain_description() -> str:
    """One sentence for Settings: where secrets go on this machine."""
    try:
        backend = _backend()
    except KeychainUnavailable as exc:
        return ("Secrets (tokens, passwords, webhook addresses) are kept in private files that "
                f"only your user account can read, because {exc.reason}.")
    name = getattr(backend, "name", type(backend).__name__)
    return f"Secrets (tokens, passwords, webhook addresses) are kept in the system keychain ({name})."


def _keyring_call(operation: str, *args: str) -> Any:
    """One keychain call; every failure becomes KeychainUnavailable with a short reason."""
    backend = _backend()
    try:
        return getattr(backend, operation)(*args)
    except Exception as exc:  # noqa: BLE001 - KeyringLocked, KeyringError, D-Bus errors, …
        # The exception text may quote the value; only its type is logged.
        log.warning("keychain %s failed: %s", operation, type(exc).__name__)
        if type(exc).__name__ == "KeyringLocked":
            raise KeychainLocked() from None
        raise KeychainUnavailable(type(exc).__name__) from None


def unlock_keychain() -> bool:
    """Ask the keychain to unlock (the Secret Service shows the desktop's password prompt);
    True when it is usable afterwards."""
    try:
        backend = _backend()
    except KeychainUnavailable:
        return False
    try:
        collection = getattr(backend, "get_preferred_collection", None)
        if callable(collection):
            collection()  # unlocks, or raises KeyringLocked when the user did not
        else:
            backend.get_password(SERVICE, "unlock-probe")
    except Exception as exc:  # noqa: BLE001
        log.warning("keychain unlock failed: %s", type(exc).__name__)
        return False
    with _lock:
        _locked.clear()
    return True


# -- the store -----------------------------------------------------------------------------------
_cache: dict[str, str] = {}          # username → secret, so redraws never wait on D-Bus
_fallback_reasons: dict[str, str] = {}   # integration → why the last save fell back to the file
_missing: dict[str, list[str]] = {}     # integration → keys whose keychain entry was not found
_locked: dict[str, list[str]] = {}      # integration → keys that could not be read: locked
_file_consent: set[str] = set()         # integrations whose next save may go to the file
_lock = threading.Lock()
LEFTOVERS_FILE = ".keychain-leftovers.yaml"


def consent_to_file(name: str) -> None:
    """The user agreed: the next save of ``name`` may keep its secrets in the private file."""
    with _lock:
        _file_consent.add(name)


class SecretStore:
    """Saves and loads integration configs with their secrets where they belong."""

    def __init__(self, config_dir: Path) -> None:
        self.config_dir = Path(config_dir)

    def path_for(self, name: str) -> Path:
        """Where integration ``name`` keeps its YAML (the guide's config_path)."""
        return self.config_dir / "integrations" / f"{name}.yaml"

    def _path_of(self, cls: Any) -> Path:
        config_path = getattr(cls, "config_path", None)
        return Path(config_path(self.config_dir)) if callable(config_path) else \
            self.path_for(cls.name)

    # -- save / load -----------------------------------------------------------------------------
    def save(self, cls: Any, config: Mapping[str, Any]) -> None:
        """Secrets to the keychain (or, where there is none or the user agreed, the private
        file), the rest to the YAML.

        Keychain entries are written before the YAML that refers to them, so a crash between
        the two leaves the old file pointing at a value that exists.  A keychain that exists
        but fails raises :class:`KeychainRefused` before the file is touched."""
        name = cls.name
        secret_keys = set(password_keys(cls))
        with _lock:
            consented = name in _file_consent
        data: dict[str, Any] = {}
        plaintext: list[str] = []
        reason = ""
        self.remove_leftovers()
        for key, value in config.items():
            if isinstance(value, str):
                value = value.strip()
            if key not in secret_keys or not isinstance(value, str) or not value \
                    or is_reference(value) or has_env_reference(value):
                if key in secret_keys and value == "":
                    self._delete_entry(name, key)
                data[key] = value
                continue
            register_secret(value)
            try:
                _keyring_call("set_password", SERVICE, username_for(name, key), value)
            except KeychainUnavailable as exc:
                if exc.reason != "no system keychain was found" and not consented:
                    raise KeychainRefused(name, exc) from None
                data[key] = value
                plaintext.append(key)
                reason = exc.reason
            else:
                with _lock:
                    _cache[username_for(name, key)] = value
                data[key] = reference_for(name, key)
        path = self._path_of(cls)
        if plaintext:
            self._make_folder_private(path.parent)
        write_yaml(path, data)
        for key in plaintext:  # now in the file: no copy may stay in the keychain
            if not self._delete_entry(name, key) and reason != "no system keychain was found":
                self._remember_leftover(username_for(name, key))
        with _lock:
            _missing.pop(name, None)
            _locked.pop(name, None)
            _file_consent.discard(name)
            if plaintext:
                _fallback_reasons[name] = ("consented:" if consented else "") + reason
            else:
                _fallback_reasons.pop(name, None)

    def load(self, cls: Any) -> dict[str, Any]:
        """The full config: keychain references and ``${ENV}`` resolved; {} when not saved.

        A damaged file raises :class:`~peregrine_desktop.settings.configfiles.ConfigFileError`, as
        before; a missing keychain entry gives '' (and a storage note), never an exception."""
        name = cls.name
        data = read_yaml_mapping(self._path_of(cls))
        secret_keys = set(password_keys(cls))
        missing: list[str] = []
        locked: list[str] = []
        resolved: dict[str, Any] = {}
        for key, value in data.items():
            if is_reference(value):
                try:
                    value = self._read_entry(value[len(REFERENCE_PREFIX):]
                                             or username_for(name, key))
                except KeychainLocked:
                    locked.append(str(key))
                    value = ""
                if value is None:
                    missing.append(str(key))
                    value = ""
                register_secret(value)
            elif has_env_reference(value):
                value = resolve_env(value)
                if key in secret_keys:
                    register_secret(value)
            elif key in secret_keys and isinstance(value, str):
                register_secret(value)
            resolved[key] = value
        with _lock:
            for found, table in ((missing, _missing), (locked, _locked)):
                if found:
                    table[name] = found
                else:
                    table.pop(name, None)
        return resolved

    def is_locked(self, name: str) -> bool:
        """Whether the last load of ``name`` could not read a secret because the keychain was
        locked (the card then offers Unlock and retry)."""
        with _lock:
            return bool(_locked.get(name))

    def unlock(self, name: str | None = None) -> bool:
        """Unlock and retry: ask the keychain to unlock; True when the secrets of ``name`` (or
        every one) can be read again — the next :meth:`load` reads them afresh."""
        if not unlock_keychain():
            return False
        self.remove_leftovers()
        return True

    # -- no copy left behind ---------------------------------------------------------------------
    def _leftovers_path(self) -> Path:
        return self.config_dir / "integrations" / LEFTOVERS_FILE

    def _remember_leftover(self, username: str) -> None:
        try:
            known = read_yaml_mapping(self._leftovers_path()).get("usernames", [])
        except Exception:  # noqa: BLE001 - a damaged list is rebuilt
            known = []
        if username not in known:
            write_yaml(self._leftovers_path(), {"usernames": [*known, username]})
        log.warning("keychain entry %s could not be removed yet; removed once it can be",
                    username)

    def remove_leftovers(self) -> None:
        """Remove keychain entries whose secret moved to a file while the keychain was locked."""
        path = self._leftovers_path()
        if not path.exists():
            return
        try:
            known = list(read_yaml_mapping(path).get("usernames", []))
        except Exception:  # noqa: BLE001
            known = []
        remaining = [u for u in known if not self._delete_username(u)
                     and self._entry_may_exist(u)]
        if remaining:
            write_yaml(path, {"usernames": remaining})
        else:
            with contextlib.suppress(OSError):
                path.unlink()

    @staticmethod
    def _entry_may_exist(username: str) -> bool:
        try:
            return _keyring_call("get_password", SERVICE, username) is not None
        except KeychainUnavailable:
            return True

    # -- what the card and Settings say ----------------------------------------------------------
    def storage_note(self, name: str, keys: Iterable[str] | None = None) -> str | None:
        """A sentence for the card when a secret is not safely in the keychain, else None.

        ``keys``: the integration's password fields (looked up in the registry when omitted)."""
        with _lock:
            missing = list(_missing.get(name, ()))
            locked = list(_locked.get(name, ()))
            reason = _fallback_reasons.get(name)
        if locked:
            return LOCKED_NOTE.format(label=_label(locked))
        if missing:
            return MISSING_ENTRY_NOTE.format(label=_label(missing))
        try:
            data = read_yaml_mapping(self.path_for(name))
        except Exception:  # noqa: BLE001 - a damaged file has its own message on the card
            return None
        secret_keys = list(keys) if keys is not None else _registry_password_keys(name)
        in_file = [k for k in secret_keys
                   if isinstance(data.get(k), str) and data[k].strip()
                   and not is_reference(data[k]) and not has_env_reference(data[k])]
        if not in_file:
            return None
        if reason is not None and reason.startswith("consented:"):
            return CONSENTED_NOTE.format(reason=reason[len("consented:"):])
        if reason is not None:
            return (NO_KEYCHAIN_NOTE if reason == "no system keychain was found"
                    else KEYCHAIN_FAILED_NOTE.format(reason=reason))
        return NO_KEYCHAIN_NOTE if not keychain_available() else HAND_WRITTEN_NOTE

    def secret_places(self, name: str, keys: Iterable[str]) -> dict[str, list[str]]:
        """Where each saved secret of ``keys`` lives, as Disconnect must say truthfully:
        ``{"keychain": [...], "file": [...], "environment": [...]}`` (empty lists for a place
        holding none; a key with no saved value is in none)."""
        places: dict[str, list[str]] = {"keychain": [], "file": [], "environment": []}
        try:
            data = read_yaml_mapping(self.path_for(name))
        except Exception:  # noqa: BLE001 - a damaged file: nothing can be said to be in it
            return places
        for key in keys:
            value = data.get(key)
            if not isinstance(value, str) or not value.strip():
                continue
            if is_reference(value):
                places["keychain"].append(key)
            elif has_env_reference(value):
                places["environment"].append(key)
            else:
                places["file"].append(key)
        return places

    # -- disconnect ------------------------------------------------------------------------------
    def forget(self, name: str, keys: Iterable[str] | None = None) -> list[str]:
        """Remove the integration's keychain entries (disconnect); return the keys removed.

        ``keys`` defaults to every reference in its YAML plus its registered password fields.
        Call before deleting the YAML, which is where the references are read from."""
        wanted = set(keys) if keys is not None else set(_registry_password_keys(name))
        usernames = {username_for(name, k) for k in wanted}
        if keys is None:
            with contextlib.suppress(Exception):
                for key, value in read_yaml_mapping(self.path_for(name)).items():
                    if is_reference(value):
                        usernames.add(value[len(REFERENCE_PREFIX):] or username_for(name, key))
        removed = []
        for username in sorted(usernames):
            if self._delete_username(username):
                removed.append(username.split(":", 1)[-1])
        with _lock:
            _fallback_reasons.pop(name, None)
            _missing.pop(name, None)
        return removed

    # -- helpers ---------------------------------------------------------------------------------
    def _read_entry(self, username: str) -> str | None:
        """The keychain's value; None when it has none; raises :class:`KeychainLocked`."""
        with _lock:
            if username in _cache:
                return _cache[username]
        try:
            value = _keyring_call("get_password", SERVICE, username)
        except KeychainLocked:
            raise
        except KeychainUnavailable:
            return None
        if value is not None:
            with _lock:
                _cache[username] = value
        return value

    def _delete_entry(self, name: str, key: str) -> bool:
        return self._delete_username(username_for(name, key))

    @staticmethod
    def _delete_username(username: str) -> bool:
        with _lock:
            _cache.pop(username, None)
        try:
            backend = _backend()
        except KeychainUnavailable:
            return False
        try:
            if backend.get_password(SERVICE, username) is None:
                return False
            backend.delete_password(SERVICE, username)
        except Exception as exc:  # noqa: BLE001 - PasswordDeleteError, locked, D-Bus …
            log.warning("could not remove keychain entry %s: %s", username, type(exc).__name__)
            return False
        return True

    @staticmethod
    def _make_folder_private(folder: Path) -> None:
        """Secrets in a file: its folder must be owner-only too (0700)."""
        ensure_private_dir(folder)
        with contextlib.suppress(OSError):
            os.chmod(folder, PRIVATE_DIR)


def _label(keys: list[str]) -> str:
    return " and ".join(k.replace("_", " ") for k in keys)


def _registry_password_keys(name: str) -> list[str]:
    try:
        from integrations import REGISTRY
    except Exception:  # noqa: BLE001
        return []
    cls = REGISTRY.get(name)
    return password_keys(cls) if cls is not None else []


def clear_cache() -> None:
    """Forget every cached secret and note (tests; after the keychain backend changed)."""
    with _lock:
        _cache.clear()
        _fallback_reasons.clear()
        _missing.clear()
        _locked.clear()
        _file_consent.clear()
