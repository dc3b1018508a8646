"""Bad settings files never stop the app: each is named with its problem in plain words, a copy is
kept (``<name>.bad-<time>``) before anything can overwrite it, and just that file can be reset.

Also: a clear sentence when the config folder cannot be written (permissions, read-only disk), and
:func:`write_failure_message` for a save that failed (full disk) — the atomic write has already
left the previous file intact.  The main window shows the result of :func:`scan` through
:class:`peregrine_desktop.ui.config_problems.ConfigProblemsPanel`.
"""
from __future__ import annotations

import contextlib
import errno
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, fields as dataclass_fields
from pathlib import Path
from typing import Any

from peregrine_desktop.settings.configfiles import ConfigFileError, ensure_private_dir, read_yaml_mapping
from peregrine_desktop.settings.profile import (RETIRED_KEYS, ProfileData, UserProfile,
                                               keep_bad_copy)

log = logging.getLogger(__name__)

PROFILE_FILE = "user.yaml"
#: Temp files of an interrupted atomic write (``.<name>.<random>.tmp``) older than this go.
STALE_TEMP_SECONDS = 60.0

_ERRNO_WORDS = {
    errno.EACCES: "permission denied", errno.EPERM: "permission denied",
    errno.EROFS: "the disk is read-only", errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "your disk quota is used up", errno.ENOTDIR: "it is a file, not a folder",
    errno.EEXIST: "a file is in the way",
}


@dataclass
class ConfigProblem:
    """One settings file (or the folder) that needs the user's attention."""

    path: Path
    problem: str                 # a plain sentence: what is wrong
    title: str                   # "Your profile (user.yaml)", "Notion settings (notion.yaml)"
    name: str | None = None      # integration name; None for the profile and the folder
    backup: Path | None = None   # the .bad-<time> copy kept before anything overwrites
    resettable: bool = True
    #: "error": the file is not used (defaults instead); "warning": it is used, with this caveat.
    severity: str = "error"
    #: More to know, shown when the pointer rests on the note (below the file's full path).
    detail: str = ""

    @property
    def message(self) -> str:
        kept = f" A copy was kept as {self.backup.name}." if self.backup else ""
        consequence = ""
        if self.resettable and self.severity == "error":
            consequence = (" Peregrine is using defaults for it until you fix or reset it."
                           if self.name is None else
                           " Fix it by hand, or reset it and set the connection up again.")
        return f"{self.title}: {self.problem}{kept}{consequence}"


# -- the folder ----------------------------------------------------------------------------------
def errno_words(exc: OSError) -> str:
    return _ERRNO_WORDS.get(exc.errno or 0, (exc.strerror or str(exc)).lower())


def folder_problem(config_dir: Path) -> ConfigProblem | None:
    """Can Peregrine create and replace files in ``config_dir`` (and its integrations folder)?

    Tries for real (root ignores permission bits; a read-only disk only shows on writing)."""
    config_dir = Path(config_dir)
    for folder in (config_dir, config_dir / "integrations"):
        try:
            ensure_private_dir(folder)
            fd, probe = tempfile.mkstemp(prefix=".write-check.", dir=folder)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            return ConfigProblem(
                folder,
                f"Peregrine cannot save settings in {folder} ({errno_words(exc)}). Give your user "
                f"account write access to it (for example: chmod u+rwx \"{folder}\"), or start "
                f"Peregrine with --config-dir set to a folder you own. Until then, changes to "
                f"settings are not saved.",
                "Settings folder", resettable=False)
    return None


def write_failure_message(path: Path, exc: OSError) -> str:
    """What to say when saving ``path`` failed; the previous file is intact (atomic write)."""
    path = Path(path)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = "Free some space on that disk and save again."
    elif exc.errno in (errno.EACCES, errno.EPERM):
        fix = f"Give your user account write access to {path.parent} and save again."
    elif exc.errno == errno.EROFS:
        fix = "Choose a settings folder on a writable disk (--config-dir) and save again."
    else:
        fix = "Check the disk and save again."
    return (f"{path.name} could not be saved: {errno_words(exc)}. {fix} "
            f"The previous settings were kept unchanged.")


def remove_stale_temp_files(config_dir: Path, older_than: float = STALE_TEMP_SECONDS) -> int:
    """Delete temp files left by a write that was killed mid-way; return how many went."""
    import time

    removed = 0
    now = time.time()
    for folder in (Path(config_dir), Path(config_dir) / "integrations"):
        with contextlib.suppress(OSError):
            for candidate in folder.glob(".*.tmp"):
                with contextlib.suppress(OSError):
                    if now - candidate.stat().st_mtime >= older_than:
                        candidate.unlink()
                        removed += 1
    return removed


# -- copies --------------------------------------------------------------------------------------
def keep_copy_once(path: Path) -> Path | None:
    """A ``.bad-<time>`` copy of ``path``, unless an identical copy already exists (a damaged
    file is reported at every start; one copy of each damage is enough)."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError:
        return None
    for existing in sorted(path.parent.glob(f"{path.name}.bad-*"), reverse=True):
        with contextlib.suppress(OSError):
            if existing.read_bytes() == content:
                return existing
    return keep_bad_copy(path)


# -- the profile ---------------------------------------------------------------------------------
_PROFILE_DEFAULTS = ProfileData()
_PROFILE_KEYS = {f.name for f in dataclass_fields(ProfileData)} | RETIRED_KEYS


def _kind_of(value: Any) -> str:
    return {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list",
            dict: "a group of settings", type(None): "empty"}.get(type(value), type(value).__name__)


def _expected_kind(default: Any) -> type | tuple[type, ...]:
    if isinstance(default, bool):
        return bool
    if isinstance(default, int):
        return int
    if isinstance(default, list):
        return (list, str)      # "a, b" is accepted for a list
    return (str, int, float)    # a hand-typed number for a text field is fine


def profile_problem(config_dir: Path) -> ConfigProblem | None:
    """What is wrong with ``user.yaml``, if anything (the copy is kept here)."""
    path = Path(config_dir) / PROFILE_FILE
    title = f"Your profile ({PROFILE_FILE})"
    try:
        data = read_yaml_mapping(path)
    except ConfigFileError as exc:
        return ConfigProblem(path, _sentence(exc.problem), title, backup=keep_copy_once(path))
    wrong = []
    for key, value in data.items():
        if key not in _PROFILE_KEYS or key == "dev_tier_override" or key in RETIRED_KEYS:
            continue
        default = getattr(_PROFILE_DEFAULTS, key)
        fits = value is None or (isinstance(value, _expected_kind(default))
                                 and (isinstance(default, bool) or not isinstance(value, bool)))
        if not fits:
            wrong.append(f"'{key}' is {_kind_of(value)}")
    unknown = sorted(str(k) for k in data if k not in _PROFILE_KEYS)
    if not wrong and not unknown:
        return None
    parts = []
    if wrong:
        parts.append("some settings have the wrong type (" + "; ".join(wrong)
                     + "), so their defaults are used.")
    if unknown:
        parts.append("it holds settings this version does not know (" + ", ".join(unknown)
                     + "); they are kept as they are.")
    return ConfigProblem(path, _sentence(" ".join(parts)), title, backup=keep_copy_once(path),
                         severity="warning")


# -- integrations --------------------------------------------------------------------------------
def _field_specs(cls: Any) -> list[dict] | None:
    try:
        specs = cls().fields()
    except Exception:  # noqa: BLE001 - the card reports a broken plugin itself
        return None
    if not isinstance(specs, list):
        return None
    return [s for s in specs if isinstance(s, dict) and isinstance(s.get("key"), str)]


def _value_fits(spec: Mapping[str, Any], value: Any) -> bool:
    if value is None:
        return True
    if spec.get("type") == "checkbox":
        return isinstance(value, bool) or str(value).lower() in {
            "true", "false", "yes", "no", "1", "0", ""}
    return isinstance(value, (str, int, float)) and not isinstance(value, bool) \
        or spec.get("type") == "choice" and isinstance(value, bool)


def integration_problem(cls: Any, config_dir: Path) -> ConfigProblem | None:
    """What is wrong with one integration's YAML, if anything (the copy is kept here)."""
    path = Path(cls.config_path(Path(config_dir)))
    title = f"{cls.label or cls.name} settings ({path.name})"
    if not path.exists():
        return None
    try:
        data = read_yaml_mapping(path)
    except ConfigFileError as exc:
        return ConfigProblem(path, _sentence(exc.problem), title, name=cls.name,
                             backup=keep_copy_once(path))
    specs = _field_specs(cls)
    if specs is None:
        return None
    by_key = {s["key"]: s for s in specs}
    wrong = [f"'{k}' is {_kind_of(v)}" for k, v in data.items()
             if k in by_key and not _value_fits(by_key[k], v)]
    unknown = sorted(str(k) for k in data if k not in by_key)
    if not wrong and not unknown:
        return None
    parts = []
    if wrong:
        parts.append("some values have the wrong type (" + "; ".join(wrong)
                     + "); edit the card and enter them again.")
    if unknown:
        parts.append(f"it holds settings the {cls.label or cls.name} form does not have ("
                     + ", ".join(unknown) + "); saving from the card drops them.")
    return ConfigProblem(path, _sentence(" ".join(parts)), title, name=cls.name,
                         backup=keep_copy_once(path), severity="error" if wrong else "warning")


def scan(config_dir: Path, registry: Mapping[str, Any] | None = None) -> list[ConfigProblem]:
    """Every settings problem worth telling the user about at start-up.  Never raises."""
    config_dir = Path(config_dir)
    problems: list[ConfigProblem] = []
    try:
        folder = folder_problem(config_dir)
        if folder is not None:
            problems.append(folder)
        remove_stale_temp_files(config_dir)
        found = profile_problem(config_dir)
        if found is not None:
            problems.append(found)
        if registry is None:
            from integrations import REGISTRY as registry  # noqa: N811
        for cls in registry.values():
            try:
                found = integration_problem(cls, config_dir)
            except Exception:  # noqa: BLE001 - one odd plugin must not hide the others' news
                log.exception("checking the settings of %s failed", getattr(cls, "name", cls))
                continue
            if found is not None:
                problems.append(found)
    except Exception:  # noqa: BLE001 - the app starts whatever this finds
        log.exception("checking the settings folder failed")
    return problems


# -- reset ---------------------------------------------------------------------------------------
def reset(problem: ConfigProblem) -> str:
    """Reset just that file (a copy is kept first); return a sentence saying what happened.

    The profile is rewritten with defaults (setup runs again); an integration's file is removed,
    with its keychain entries (the card shows "Not set up")."""
    if not problem.resettable:
        raise ValueError("this problem cannot be fixed by a reset")
    path = problem.path
    backup = problem.backup or (keep_copy_once(path) if path.exists() else None)
    if problem.name is None:
        UserProfile(path, read=False).save()
        done = f"{path.name} was reset to defaults; setup will ask for your details again."
    else:
        from peregrine_desktop.settings.secrets import SecretStore

        with contextlib.suppress(Exception):
            SecretStore(path.parent.parent).forget(problem.name)
        path.unlink(missing_ok=True)
        done = f"{path.name} was removed; set up {problem.title.split(' settings')[0]} again."
    return done + (f" The old file is kept as {backup.name}." if backup else "")


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[0].upper() + text[1:] if text else text
    return text if text.endswith((".", "!", "?")) else text + "."
