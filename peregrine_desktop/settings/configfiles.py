"""Reading and writing the YAML files under the config directory, atomically and privately.

PyYAML is imported on first use (~12 ms), and a file read at every start (the profile) can keep
a parsed copy beside it (``.<name>.parsed.json``, see :func:`read_yaml_mapping`), so the first
window does not wait for PyYAML at all.
"""
from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from pathlib import Path
from typing import Any

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


@functools.cache
def _dumper() -> type:
    """SafeDumper that double-quotes strings holding NEL (U+0085): PyYAML writes them plain or
    single-quoted and reads them back as a space (found by tests/test_input_fuzz.py)."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style='"' if "\x85" in value else None))
    return Dumper


def dump_yaml(data: Any) -> str:
    import yaml

    return yaml.dump(data, Dumper=_dumper(), sort_keys=False, allow_unicode=True,
                     default_flow_style=False)


def write_yaml(path: Path, data: dict[str, Any], mode: int = PRIVATE_FILE,
               keep_parsed: bool = False) -> None:
    """Write ``data`` as YAML; ``keep_parsed``: also refresh the parsed copy that
    :func:`read_yaml_mapping` with ``parsed_copy=True`` reads instead of the YAML."""
    atomic_write_text(path, dump_yaml(data), mode)
    if keep_parsed:
        _keep_parsed_copy(Path(path), data)


def parsed_copy_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.parsed.json")


def _identity(path: Path) -> list[int] | None:
    """What changes whenever the file does (an atomic write makes a new inode; an edit in place
    changes the modification time and usually the size)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _read_parsed_copy(path: Path, identity: list[int]) -> dict[str, Any] | None:
    import json

    try:
        saved = json.loads(parsed_copy_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("of") != identity:
        return None
    data = saved.get("data")
    return data if isinstance(data, dict) else None


def _keep_parsed_copy(path: Path, data: dict[str, Any], identity: list[int] | None = None) -> None:
    """Save ``data`` as JSON beside ``path``, tagged with the file's identity — only when JSON
    gives back exactly the same values (a date, a number key or NaN would not come back equal:
    such a file is simply parsed as YAML every time).  A cache: no fsync, failures ignored."""
    import json

    identity = identity or _identity(path)
    if identity is None:
        return
    try:
        text = json.dumps({"of": identity, "data": data}, ensure_ascii=False)
        if json.loads(text)["data"] != data:
            return
    except (TypeError, ValueError, RecursionError):
        return
    target = parsed_copy_path(path)
    temp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, target)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temp)


def read_yaml_mapping(path: Path, parsed_copy: bool = False) -> dict[str, Any]:
    """Load a YAML mapping; an empty file is ``{}``; anything unusable is a ConfigFileError.

    ``parsed_copy``: use (and keep) a JSON copy of the parsed mapping, valid while the file's
    inode, size and times are unchanged — for a file read at every start."""
    path = Path(path)
    identity = _identity(path) if parsed_copy else None   # before reading: a later edit shows
    if identity is not None:
        cached = _read_parsed_copy(path, identity)
        if cached is not None:
            return cached
    data = _parse_yaml_mapping(path)
    if identity is not None:
        _keep_parsed_copy(path, data, identity)
    return data


def _parse_yaml_mapping(path: Path) -> dict[str, Any]:
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
    import yaml

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
