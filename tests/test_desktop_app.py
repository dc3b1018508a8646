"""The app as a person installs and starts it: launcher, self-check, menu entry, one instance,
About box, icon and light/dark scheme."""
from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QMessageBox

from peregrine_desktop import __version__
from peregrine_desktop.lifecycle.appearance import (APP_ID, ICON_SIZES, ColorSchemeFollower,
                                          apply_app_identity, follow_color_scheme, is_dark)
from peregrine_desktop.lifecycle.desktop_entry import entry_text, quote_exec_arg
from peregrine_desktop.settings.profile import UserProfile

ROOT = Path(__file__).resolve().parent.parent
#: Generous upper bounds so a stuck process fails the test instead of hanging it; never the
#: thing being tested.
PROCESS_TIMEOUT = 60


def app_command() -> list[str]:
    """The installed launcher beside this interpreter (pip's console script), else -m."""
    script = Path(sys.executable).parent / "peregrine-desktop"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "peregrine_desktop"]


def run_app(*args: str, env: dict | None = None, timeout: float = PROCESS_TIMEOUT
            ) -> subprocess.CompletedProcess:
    return subprocess.run([*app_command(), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env={**os.environ, **(env or {})})


def finished_profile(config_dir: Path) -> None:
    """A user who completed setup, so the main window (not the wizard) opens."""
    profile = UserProfile(config_dir / "user.yaml", read=False)
    profile.update(name="Alex Doe", wizard_complete=True, wizard_step=4)
    profile.save()


# --- launcher and self-check ------------------------------------------------------------------

def test_gui_entry_point_is_the_apps_main():
    found = [ep for ep in entry_points(group="gui_scripts") if ep.name == "peregrine-desktop"]
    assert found, "peregrine-desktop is not installed as a GUI script (pip install -e .)"
    from peregrine_desktop.app import main
    assert found[0].load() is main


def test_self_check_passes_from_the_installed_launcher():
    result = run_app("--self-check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Self-check passed." in result.stdout
    assert "main window: painted" in result.stdout
    assert "integrations:" in result.stdout and "keyring" in result.stdout


def test_self_check_fails_naming_an_integration_that_cannot_load(tmp_path):
    """A plugin whose dependency is missing (what a bundle without it would hit) fails the
    check and is named with the reason."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "broken_tracker.py").write_text("import peregrine_absent_sdk  # noqa\n")
    driver = ("import sys, integrations; integrations.__path__.append(sys.argv[1]); "
              "from peregrine_desktop.app import main; sys.exit(main(['peregrine-desktop', "
              "'--self-check']))")
    result = subprocess.run([sys.executable, "-c", driver, str(plugins)], capture_output=True,
                            text=True, timeout=PROCESS_TIMEOUT, cwd=ROOT)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Self-check FAILED: integrations" in result.stdout
    assert "Broken Tracker: needs the Python package 'peregrine_absent_sdk'" in result.stdout


def test_self_check_leaves_the_real_config_alone(tmp_path):
    result = run_app("--self-check", env={"PEREGRINE_CONFIG_DIR": str(tmp_path / "cfg")})
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (tmp_path / "cfg").exists()


# --- menu entry -------------------------------------------------------------------------------

def validate(entry: Path) -> None:
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        pytest.skip("desktop-file-validate is not installed "
                    "(Debian: apt-get install desktop-file-utils)")
    check = subprocess.run([tool, str(entry)], capture_output=True, text=True)
    assert check.returncode == 0 and not check.stdout.strip(), check.stdout + check.stderr


def test_install_desktop_entry_puts_a_valid_entry_and_icons_in_the_menu(tmp_path):
    data_home = tmp_path / "share"
    result = run_app("--install-desktop-entry", env={"XDG_DATA_HOME": str(data_home)})
    assert result.returncode == 0, result.stderr
    entry = data_home / "applications" / f"{APP_ID}.desktop"
    assert f"Installed the menu entry {entry}" in result.stdout
    validate(entry)

    text = entry.read_text()
    assert "Name=Peregrine" in text and f"Icon={APP_ID}" in text
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    program = Path(exec_line.removeprefix("Exec=").split()[0])
    assert program.is_file() and os.access(program, os.X_OK), exec_line
    for size in ICON_SIZES:
        icon = QImage(str(data_home / f"icons/hicolor/{size}x{size}/apps/{APP_ID}.png"))
        assert (icon.width(), icon.height()) == (size, size)
    assert (data_home / f"icons/hicolor/scalable/apps/{APP_ID}.svg").is_file()

    removed = run_app("--remove-desktop-entry", env={"XDG_DATA_HOME": str(data_home)})
    assert removed.returncode == 0 and "no longer in the menu" in removed.stdout
    assert not entry.exists()
    assert not list((data_home / "icons").rglob(f"{APP_ID}.*"))


def test_menu_entry_for_a_program_in_a_folder_with_spaces_is_valid(tmp_path):
    entry = tmp_path / f"{APP_ID}.desktop"
    entry.write_text(entry_text(["/opt/My Apps/python3", "-m", "peregrine_desktop"]))
    validate(entry)
    assert 'Exec="/opt/My Apps/python3" -m peregrine_desktop' in entry.read_text()
    assert quote_exec_arg("50%") == "50%%"


# --- single instance --------------------------------------------------------------------------

class RunningApp:
    """A real app process whose stderr lines can be waited for."""

    def __init__(self, config_dir: Path, *options: str) -> None:
        self.config_dir = config_dir
        self.process = subprocess.Popen(
            [*app_command(), "--config-dir", str(config_dir), *options, "--debug"], cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.process.stderr:
            self.lines.put(line)

    def wait_for(self, text: str) -> str:
        seen = []
        while True:
            try:
                line = self.lines.get(timeout=PROCESS_TIMEOUT)
            except queue.Empty:
                pytest.fail(f"never logged {text!r}; stderr so far:\n{''.join(seen)}")
            seen.append(line)
            if text in line:
                return line

    def stop(self) -> None:
        """Terminate it, and remove the lock and socket a killed app leaves in the temp dir
        (the next real launch would take them over as stale)."""
        from PySide6.QtCore import QDir

        from peregrine_desktop.lifecycle.single_instance import instance_key

        self.process.terminate()
        self.process.wait(PROCESS_TIMEOUT)
        key = instance_key(self.config_dir)
        for leftover in (Path(QDir.tempPath()) / f"{key}.lock", Path(QDir.tempPath()) / key):
            leftover.unlink(missing_ok=True)


def test_second_launch_brings_the_first_forward_and_exits(tmp_path):
    config = tmp_path / "config"
    finished_profile(config)
    first = RunningApp(config)
    try:
        first.wait_for("single instance: listening")
        second = run_app("--config-dir", str(config))
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stdout
        first.wait_for("asked this window to come forward")
        assert first.process.poll() is None, "the first app must keep running"

        # Other settings and other data: a separate app is fine (the same data folder is
        # refused by the data-folder lock).
        other = RunningApp(tmp_path / "other-config", "--data-dir", str(tmp_path / "other-data"))
        try:
            other.wait_for("single instance: listening")
            assert other.process.poll() is None
        finally:
            other.stop()
    finally:
        first.stop()


# --- About box, icon, scheme ------------------------------------------------------------------

def test_about_box_shows_version_folders_licence_and_icon(qtbot, qapp, config_dir, data_dir):
    from peregrine_desktop.ui.main_window import MainWindow

    apply_app_identity(qapp)
    window = MainWindow(UserProfile(config_dir / "user.yaml", read=False), config_dir)
    qtbot.addWidget(window)
    window.show()
    seen: dict = {}

    def read_and_close() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, read_and_close)
            return
        seen.update(text=box.text(), title=box.windowTitle(), icon=box.iconPixmap())
        box.accept()

    QTimer.singleShot(0, read_and_close)
    window.show_about()
    assert seen["title"] == "About Peregrine"
    for expected in (__version__, str(config_dir), str(data_dir), "MIT licence"):
        assert expected in seen["text"]
    assert not seen["icon"].isNull()
    assert not window.windowIcon().isNull()


def test_every_window_gets_the_app_icon(qtbot, qapp, config_dir):
    from peregrine_desktop.ui.wizard import SetupWizard

    apply_app_identity(qapp)
    wizard = SetupWizard(UserProfile(config_dir / "user.yaml", read=False), config_dir)
    qtbot.addWidget(wizard)
    assert not wizard.windowIcon().isNull()
    assert qapp.desktopFileName() == APP_ID


def test_dark_desktop_gets_a_dark_palette_and_light_gets_it_back(qapp):
    light = qapp.palette()
    follower = follow_color_scheme(qapp)
    hints = qapp.styleHints()
    try:
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
        assert is_dark(qapp.palette())
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
        assert not is_dark(qapp.palette())
    finally:
        hints.colorSchemeChanged.disconnect(follower.apply)
        qapp.setPalette(light)


def test_a_palette_the_platform_made_dark_is_left_alone(qapp):
    from peregrine_desktop.lifecycle.appearance import dark_palette

    before = qapp.palette()
    platform_dark = dark_palette()
    qapp.setPalette(platform_dark)
    try:
        follower = ColorSchemeFollower(qapp)
        follower.apply(Qt.ColorScheme.Dark)
        assert not follower.supplied_dark
        follower.apply(Qt.ColorScheme.Light)  # not ours to undo
        assert is_dark(qapp.palette())
    finally:
        qapp.setPalette(before)


def test_packaged_icons_match_the_sources():
    result = subprocess.run([sys.executable, str(ROOT / "scripts/make-icons.py"), "--check"],
                            capture_output=True, text=True, timeout=PROCESS_TIMEOUT)
    assert result.returncode == 0, result.stderr


def test_empty_main_window_says_what_to_do_next_without_clipping(qtbot, config_dir):
    from PySide6.QtWidgets import QLabel

    from peregrine_desktop.ui.main_window import MainWindow

    window = MainWindow(UserProfile(config_dir / "user.yaml", read=False), config_dir)
    qtbot.addWidget(window)
    window.resize(1100, 720)
    window.show()
    qtbot.waitExposed(window)
    body = next(label for label in window.centralWidget().findChildren(QLabel)
                if "import a CSV file" in label.text())
    assert body.isVisible()
    assert body.height() >= body.heightForWidth(body.width()), "the text is cut off"


def test_self_check_fails_when_keyrings_backends_were_not_bundled(monkeypatch):
    """What a frozen app without keyring's metadata sees: no entry points, so only "fail"."""
    pytest.importorskip("keyring")
    import importlib.metadata

    from peregrine_desktop.lifecycle import self_check

    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **_kw: [])
    with pytest.raises(self_check.CheckFailed, match="backends are not"):
        self_check.check_keyring()
