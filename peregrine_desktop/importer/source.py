"""An upstream install (folder) or backup (zip), opened read-only.

Every read goes through :class:`Source`, which never writes to the original: files are read as
bytes, a zip is read in place, and the database is copied to a private temporary folder (with its
``-journal``, as SQLite would need) before it is opened.  A file that cannot be read (0600 and
owned by root under Docker, a member missing from a zip) becomes a sentence in ``problems`` and
the rest is read anyway.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

#: Where backup.py and our reader look for the database, in order.
DATABASE_NAMES = ("data/staging.db", "staging.db")
MANIFEST = "backup-manifest.json"


class SourceError(Exception):
    """The chosen path is not something Peregrine wrote; the message says what to pick."""


@dataclass
class Source:
    """Read access to one install or backup; ``kind`` is a phrase for people."""

    path: Path
    kind: str
    root: Path | None                 # the install folder on this computer (None for a zip)
    problems: list[str] = field(default_factory=list)
    docker: bool = False
    manifest: dict = field(default_factory=dict)
    _zip: zipfile.ZipFile | None = None
    _members: dict[str, zipfile.ZipInfo] = field(default_factory=dict)
    _temp: Path | None = None

    # -- opening -----------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike) -> "Source":
        path = Path(path).expanduser()
        if not path.exists():
            raise SourceError(f"{path} does not exist. Choose your Peregrine folder or a backup "
                              "zip.")
        if path.is_file():
            return cls._open_zip(path)
        return cls._open_folder(path)

    @classmethod
    def _open_zip(cls, path: Path) -> "Source":
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else \
                "it is not a zip file, or it is damaged"
            raise SourceError(f"{path.name} could not be opened ({reason}). Choose a backup "
                              "made in Peregrine (Settings → Data → Create Backup) or the "
                              "Peregrine folder itself.") from None
        members = {}
        for info in archive.infolist():
            name = str(PurePosixPath(info.filename.replace("\\", "/")))
            if not info.is_dir() and not name.startswith(("/", "..")):
                members[name] = info
        if members and not any(_is_peregrine(n) for n in members):
            # The install folder zipped by hand: every entry under one top folder.
            tops = {n.split("/", 1)[0] for n in members}
            if len(tops) == 1 and any(_is_peregrine(n.split("/", 1)[-1]) for n in members):
                members = {n.split("/", 1)[1]: info for n, info in members.items() if "/" in n}
        source = cls(path, "", None, _zip=archive, _members=members)
        if MANIFEST in members:
            source.kind = "a backup made in Peregrine's Settings"
            try:
                manifest = json.loads(source.read(MANIFEST) or b"{}")
                source.manifest = manifest if isinstance(manifest, dict) else {}
            except ValueError:
                source.problems.append(f"{MANIFEST} in the backup is damaged; the rest was read.")
            listed = source.manifest.get("files")
            if isinstance(listed, list):
                for name in listed:
                    if isinstance(name, str) and name not in members:
                        source.problems.append(
                            f"The backup lists {name} but does not contain it; the rest was "
                            "read.")
        else:
            source.kind = "a backup made in Peregrine's new (Vue) settings"
        if not any(_is_peregrine(n) for n in members):
            archive.close()
            raise SourceError(f"{path.name} holds no Peregrine settings or jobs. Choose a "
                              "backup made in Peregrine or the Peregrine folder itself.")
        return source

    @classmethod
    def _open_folder(cls, path: Path) -> "Source":
        root = path.resolve()
        # The user may pick the checkout, its data/ or its config/ folder (§1.5).
        if root.name == "data" and (root / "staging.db").is_file() \
                and (root.parent / "config").is_dir():
            root = root.parent
        elif root.name == "config" and ((root / "user.yaml").is_file()
                                        or (root / "integrations").is_dir()):
            root = root.parent
        looks_like = ((root / "config").is_dir() or any((root / n).is_file()
                                                         for n in DATABASE_NAMES))
        if not looks_like:
            raise SourceError(f"{path} does not look like a Peregrine install: it has no "
                              "config folder and no staging.db. Choose the folder you cloned "
                              "Peregrine into (the one with compose.yml and manage.sh).")
        docker = (root / "compose.yml").is_file() or (root / "data" / "staging.db").is_file()
        kind = "a Peregrine install (Docker)" if docker else "a Peregrine install"
        return cls(path, kind, root, docker=docker)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None

    def __enter__(self) -> "Source":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- reading -----------------------------------------------------------------------------------
    @property
    def identity(self) -> str:
        """What the install is called in messages."""
        return str(self.path)

    def exists(self, name: str) -> bool:
        if self._zip is not None:
            return name in self._members
        return (self.root / name).is_file()

    def names(self, folder: str) -> list[str]:
        """Files directly in ``folder`` (relative to the install root), sorted."""
        folder = folder.rstrip("/") + "/"
        if self._zip is not None:
            return sorted(n for n in self._members
                          if n.startswith(folder) and "/" not in n[len(folder):])
        base = self.root / folder
        try:
            return sorted(f"{folder}{p.name}" for p in base.iterdir() if p.is_file())
        except OSError:
            return []

    def read(self, name: str) -> bytes | None:
        """The file's bytes; None when it is absent or unreadable (then a problem says why)."""
        try:
            if self._zip is not None:
                info = self._members.get(name)
                return None if info is None else self._zip.read(info)
            return (self.root / name).read_bytes()
        except FileNotFoundError:
            return None
        except PermissionError:
            self.problems.append(f"{name}: permission denied, so it was not read (under Docker "
                                 "the app wrote it as root, readable by root only).")
        except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError) as exc:
            self.problems.append(f"{name} could not be read from {self.path.name} "
                                 f"({_reason(exc)}); the rest was read.")
        return None

    def modified(self, name: str) -> float:
        """Modification time (seconds), to tell which of two copies is newer; 0 when unknown."""
        if self._zip is not None:
            info = self._members.get(name)
            if info is None:
                return 0.0
            import time
            return time.mktime((*info.date_time, 0, 0, -1))
        with contextlib.suppress(OSError):
            return (self.root / name).stat().st_mtime
        return 0.0

    def database(self) -> Path | None:
        """A private copy of ``staging.db`` to open (None when there is none or it is unreadable).

        The copy keeps the original untouched even if SQLite wanted to roll back a journal."""
        name = next((n for n in DATABASE_NAMES if self.exists(n)), None)
        if name is None:
            return None
        if self._temp is None:
            self._temp = Path(tempfile.mkdtemp(prefix="peregrine-import-"))
        target = self._temp / "staging.db"
        try:
            if self._zip is not None:
                with self._zip.open(self._members[name]) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
            else:
                shutil.copyfile(self.root / name, target)
                journal = self.root / f"{name}-journal"
                if journal.is_file():
                    shutil.copyfile(journal, self._temp / "staging.db-journal")
        except PermissionError:
            self.problems.append(f"{name}: permission denied, so no jobs could be read. Make it "
                                 "readable for your user (it may belong to root).")
            return None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            if self._zip is not None and target.exists() and target.stat().st_size:
                self.problems.append(f"{name} in {self.path.name} is damaged ({_reason(exc)}); "
                                     "the jobs before the damage were read.")
                return target
            self.problems.append(f"{name} could not be read ({_reason(exc)}).")
            return None
        return target

    # -- the install's environment and paths -------------------------------------------------------
    def env(self) -> dict[str, str]:
        """``.env`` of the install (KEY=VALUE lines); empty for a zip, which never holds it."""
        if self._zip is not None:
            return {}
        values: dict[str, str] = {}
        for name in (".env", "data/.env"):
            raw = self.read(name)
            if raw is None:
                continue
            for line in raw.decode("utf-8", "replace").splitlines():
                line = line.strip()
                if not line or line.startswith("#") or "=" not in line:
                    continue
                key, _, value = line.removeprefix("export ").partition("=")
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                    value = value[1:-1]
                values.setdefault(key.strip(), value)
        return values

    def host_path(self, saved: str) -> tuple[str, str | None]:
        """A path as the web app saved it → (path on this computer or '', why not when '').

        Container prefixes are translated (§1.1): ``/app/config`` and ``/app/data`` to the
        install's folders, ``/docs`` to its ``DOCS_DIR``; a ``~`` path saved under Docker was in
        the container's own home and is gone."""
        text = (saved or "").strip()
        if not text:
            return "", None
        for prefix, sub in (("/app/config", "config"), ("/app/data", "data")):
            if text == prefix or text.startswith(prefix + "/"):
                if self.root is None:
                    return "", "a backup does not hold the install's folders"
                return str(self.root / sub / text[len(prefix):].lstrip("/")), None
        if text == "/docs" or text.startswith("/docs/"):
            docs = self.env().get("DOCS_DIR")
            if not docs:
                return "", ("it was inside the container's /docs, and the install's DOCS_DIR "
                            "is unknown" if self.root is None or self.docker
                            else "DOCS_DIR is not set in the install's .env")
            base = Path(docs).expanduser()
            if not base.is_absolute() and self.root is not None:
                base = self.root / base
            return str(base / text[len("/docs"):].lstrip("/")), None
        if text.startswith("~") and self.docker:
            return "", ("it was in the container's own home folder, which Docker does not keep "
                        "on this computer")
        if text.startswith("/root/") and self.docker:
            return "", "it was in the container's home folder (/root)"
        path = Path(text).expanduser()
        if not path.is_absolute() and self.root is not None:
            path = self.root / path
        return str(path), None


def _is_peregrine(name: str) -> bool:
    return name.startswith("config/") or name in DATABASE_NAMES or name == MANIFEST


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc) or type(exc).__name__
    return text[:120]
