"""Reading and writing the YAML files under the config directory, atomically and privately."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


class ConfigFileError(Exception):
    """A config file that exists but cannot be used; ``problem`` is a plain sentence."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if missing; a folder we create is owner-only."""
    path = Path(path)
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
        with contextlib.suppress(OSError):
            os.chmod(path, PRIVATE_DIR)
    return path


def atomic_write_text(path: Path, text: str, mode: int = PRIVATE_FILE) -> None:
    """Write to a temp file beside ``path``, fsync, rename: a crash leaves old or new, never half."""
    path = Path(path)
    ensure_private_dir(path.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class _Dumper(yaml.SafeDumper):
    """SafeDumper that double-quotes strings holding NEL (U+0085): PyYAML writes them plain or
    single-quoted and reads them back as a space (found by tests/test_input_fuzz.py)."""


_Dumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style='"' if "\x85" in value else None))


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False)


def write_yaml(path: Path, data: dict[str, Any], mode: int = PRIVATE_FILE) -> None:
    atomic_write_text(path, dump_yaml(data), mode)


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Load a YAML mapping; an empty file is ``{}``; anything unusable is a ConfigFileError."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except PermissionError:
        raise ConfigFileError(path, "Peregrine is not allowed to read this file; "
                                    "check its permissions.") from None
    except OSError as exc:
        raise ConfigFileError(path, f"the file could not be read ({exc.strerror}).") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigFileError(path, "the file is not UTF-8 text; it may be damaged.") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" near line {mark.line + 1}" if mark is not None else ""
        raise ConfigFileError(path, f"the file is not valid YAML{where}.") from None
    except RecursionError:  # thousands of nested brackets: damaged, or made to crash us
        raise ConfigFileError(path, "the file is nested too deeply to be settings; it may be "
                                    "damaged.") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigFileError(path, f"expected a mapping of settings but found a "
                                    f"{type(data).__name__}.")
    return data
