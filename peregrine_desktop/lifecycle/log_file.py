"""The log file: what the app logs (info and up; everything with ``--debug``) in a rotating file
in the platform's log folder, secrets masked — so "see the log file" points at something.

Owner-only (folder 0700, files 0600): even masked, a log says which services a person uses.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from peregrine_sdk.redaction import install_log_masking, known_secrets, mask_text

#: A log file is rotated at this size; this many older ones are kept (≤ 4 MB in all).
MAX_BYTES = 1_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class MaskingFormatter(logging.Formatter):
    """Masks known secrets and credential-shaped URL parts in the finished line (tracebacks
    included), after the record factory already did: nothing secret reaches the disk."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record), known_secrets())


class PrivateRotatingFileHandler(logging.FileHandler):
    """Appends to ``peregrine.log`` (created 0600); past :data:`MAX_BYTES` it becomes
    ``peregrine.log.1`` (older ones shift up, the oldest past :data:`BACKUPS` goes).

    Written on ``logging.FileHandler`` rather than ``logging.handlers``, whose socket and
    pickle imports would cost start-up ~10 ms before the first window."""

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES, backups: int = BACKUPS) -> None:
        self.max_bytes, self.backups = max_bytes, backups
        super().__init__(path, mode="a", encoding="utf-8", delay=True)

    def _open(self):  # noqa: ANN202 - logging's signature
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self.stream is None:
                self.stream = self._open()
            line = self.format(record) + self.terminator
            if self.stream.tell() + len(line.encode("utf-8")) > self.max_bytes \
                    and self.stream.tell() > 0:
                self._rotate()
            self.stream.write(line)
            self.flush()
        except Exception:  # noqa: BLE001 - logging must never raise into the app
            self.handleError(record)

    def _rotate(self) -> None:
        self.stream.close()
        base = self.baseFilename
        for number in range(self.backups - 1, 0, -1):
            if os.path.exists(f"{base}.{number}"):
                os.replace(f"{base}.{number}", f"{base}.{number + 1}")
        os.replace(base, f"{base}.1")
        self.stream = self._open()


def install(folder: Path | None = None, level: int = logging.INFO
            ) -> logging.Handler | None:
    """Add the log file to the root logger; the handler, or None when it cannot be written
    (the app then logs to stderr only, as before)."""
    from peregrine_desktop.settings import paths

    folder = Path(folder) if folder is not None else paths.log_dir()
    install_log_masking()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler = PrivateRotatingFileHandler(folder / paths.LOG_FILENAME)
    except OSError as exc:
        logging.getLogger(__name__).warning("no log file in %s: %s", folder, exc)
        return None
    handler.setLevel(level)
    handler.setFormatter(MaskingFormatter(FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    handler.previous_root_level = root.level
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)
    return handler


def uninstall(handler: logging.Handler | None) -> None:
    """Detach and close the log file (at exit; tests that run ``main`` in-process)."""
    if handler is not None:
        root = logging.getLogger()
        root.removeHandler(handler)
        root.setLevel(getattr(handler, "previous_root_level", root.level))
        handler.close()

