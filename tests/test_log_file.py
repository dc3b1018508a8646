"""The log file: in the platform's state/log folder, rotating, owner-only, secrets masked, named
by every message that sends the user to it, and one click away in Help."""
from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices

from peregrine_desktop.lifecycle import log_file
from peregrine_desktop.settings import paths
from peregrine_sdk.redaction import register_secret


@pytest.fixture
def log_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    folder = paths.log_dir()
    yield folder


def test_the_log_lives_in_the_state_folder(log_folder, tmp_path):
    assert log_folder == tmp_path / "state" / "Peregrine" / "log"
    assert paths.log_file() == log_folder / "peregrine.log"


def test_secrets_never_reach_the_log_file_and_it_is_owner_only(log_folder):
    secret = "sk-live-9f8e7d6c5b4a"
    register_secret(secret)
    handler = log_file.install()
    try:
        logger = logging.getLogger("peregrine_desktop.test")
        logger.warning("calling the API with %s", secret)
        logger.info("GET https://api.example/v1/items?token=abcdef123456&page=2")
        try:
            raise RuntimeError(f"server refused key {secret}")
        except RuntimeError:
            logger.exception("sync failed")
    finally:
        log_file.uninstall(handler)
    text = paths.log_file().read_text(encoding="utf-8")
    assert secret not in text and "abcdef123456" not in text
    assert "calling the API with •••" in text and "token=•••&page=2" in text
    assert "RuntimeError: server refused key •••" in text          # the traceback, masked
    assert (log_folder.stat().st_mode & 0o777) == 0o700
    assert (paths.log_file().stat().st_mode & 0o777) == 0o600


def test_the_log_rotates_and_keeps_three_old_files(tmp_path):
    handler = log_file.PrivateRotatingFileHandler(tmp_path / "peregrine.log", max_bytes=2000)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("peregrine_desktop.rotation")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for number in range(200):
            logger.warning("line %03d %s", number, "x" * 80)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
        handler.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["peregrine.log", "peregrine.log.1", "peregrine.log.2", "peregrine.log.3"]
    assert all(p.stat().st_size <= 2000 for p in tmp_path.iterdir())
    assert "line 199" in (tmp_path / "peregrine.log").read_text()
    assert all((p.stat().st_mode & 0o777) == 0o600 for p in tmp_path.iterdir())


def test_messages_that_send_the_user_to_the_log_name_the_file(log_folder):
    from peregrine_desktop.sync.engine import reason_for

    reason = reason_for(KeyError("boom"))
    assert f"see the log file {log_folder / 'peregrine.log'}" in reason


class UrlCatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:  # noqa: A003 - the name Qt calls
        self.urls.append(url)


def test_help_open_log_folder_opens_the_folder(qtbot, log_folder, config_dir, data_dir):
    from peregrine_desktop.jobs.repository import JobRepository
    from peregrine_desktop.jobs.store import JobStore
    from peregrine_desktop.settings.profile import UserProfile
    from peregrine_desktop.ui.main_window import MainWindow

    store = JobStore(data_dir / "jobs.sqlite3")
    window = MainWindow(UserProfile(config_dir / "user.yaml"), config_dir, JobRepository(store))
    qtbot.addWidget(window)
    help_menu = next(a.menu() for a in window.menuBar().actions()
                     if a.text().replace("&", "") == "Help")
    action = next(a for a in help_menu.actions() if a.text().replace("&", "") ==
                  "Open log folder")
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")   # instead of a file manager
    try:
        action.trigger()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert [Path(u.toLocalFile()) for u in catcher.urls] == [log_folder]
    assert log_folder.is_dir()
    store.close()
