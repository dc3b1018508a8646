"""A file in the plugins folder runs only once the user allowed its exact content in Settings →
Plugins, having seen its path, what it claims to be and its SHA-256; a changed file is asked
about again; installed packages' plugins are listed as third-party with their package."""
from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

import integrations
from peregrine_desktop.cli.check_integrations import main as check_main
from peregrine_desktop.lifecycle.plugins import rediscover_all, waiting_plugins
from peregrine_desktop.settings.plugin_permissions import FILE_NAME
from peregrine_desktop.ui.plugin_permissions import PluginPermissionsPanel
from tests.fixtures.plugins.harness import (  # noqa: F401 - fixtures
    FIXTURES, installed_dist, plugin_sandbox, user_plugins)
from tests.ui_helpers import answer_next_message_box, click, visible_text


def drop_plugin(folder: Path, marker: Path, label: str = "Good Plugin") -> Path:
    """The good fixture plugin, plus a line that leaves a mark whenever the file is run."""
    source = (FIXTURES / "good" / "good_plugin.py").read_text().replace(
        '"Good Plugin"', f'"{label}"')
    path = folder / "good_plugin.py"
    path.write_text(f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n"
                    + source)
    example = FIXTURES / "good" / "good_plugin.yaml.example"
    (folder / example.name).write_text(example.read_text())
    return path


def panel_row(qtbot, config_dir: Path) -> tuple[PluginPermissionsPanel, object]:
    panel = PluginPermissionsPanel(config_dir)
    qtbot.addWidget(panel)
    panel.show()
    assert len(panel.rows) == 1
    return panel, panel.rows[0]


def test_a_plugin_file_not_allowed_yet_is_not_run_until_allowed_in_settings(
        qtbot, user_plugins, config_dir, tmp_path):
    marker = tmp_path / "plugin-ran"
    path = drop_plugin(user_plugins, marker)

    rediscover_all(config_dir)
    assert not marker.exists()                              # never imported
    assert "good_plugin" not in integrations.REGISTRY
    assert "good_plugin" not in {r.name for r in integrations.unavailable()}
    notes = waiting_plugins(config_dir)
    assert len(notes) == 1 and "has not been allowed to run" in notes[0].message
    assert "Settings → Plugins" in notes[0].message and path.name in notes[0].message

    panel, row = panel_row(qtbot, config_dir)
    shown = visible_text(row)
    assert "Good Plugin" in shown                           # read from the file, not run
    assert "Claims to be: A fixture plugin with nothing wrong." in shown
    assert f"File: {path}" in shown
    assert f"SHA-256: {hashlib.sha256(path.read_bytes()).hexdigest()}" in shown
    assert "Not allowed: not loaded." in shown
    assert not marker.exists()

    seen: list[str] = []
    answer_next_message_box(QMessageBox.StandardButton.Cancel, seen)
    click(qtbot, row.button)
    assert "It will run with your rights" in seen[0]
    assert not (config_dir / FILE_NAME).exists()            # Cancel allows nothing

    answer_next_message_box(QMessageBox.StandardButton.Yes)
    click(qtbot, panel.rows[0].button)
    qtbot.waitUntil(lambda: "Allowed: loads when Peregrine starts." in visible_text(panel.rows[0]))
    assert ((config_dir / FILE_NAME).stat().st_mode & 0o777) == 0o600
    assert not marker.exists()                              # allowing alone runs nothing

    rediscover_all(config_dir)
    assert marker.read_text() == "ran"
    assert integrations.REGISTRY["good_plugin"].label == "Good Plugin"
    assert waiting_plugins(config_dir) == []


def test_a_changed_plugin_file_needs_allowing_again(qtbot, user_plugins, config_dir, tmp_path):
    marker = tmp_path / "plugin-ran"
    path = drop_plugin(user_plugins, marker)
    panel, row = panel_row(qtbot, config_dir)
    answer_next_message_box(QMessageBox.StandardButton.Yes)
    click(qtbot, row.button)
    rediscover_all(config_dir)
    assert marker.exists()
    marker.unlink()

    drop_plugin(user_plugins, marker, label="Good Plugin Changed")  # same name, new content
    rediscover_all(config_dir)
    assert not marker.exists()
    assert "good_plugin" not in integrations.REGISTRY
    assert "changed since you allowed it" in waiting_plugins(config_dir)[0].message

    panel.refresh()
    row = panel.rows[0]
    qtbot.waitUntil(lambda: "Changed since you allowed it" in visible_text(row))
    assert "Good Plugin Changed" in visible_text(row)
    seen: list[str] = []
    answer_next_message_box(QMessageBox.StandardButton.Yes, seen)
    click(qtbot, row.button)
    assert "again (it changed since you allowed it)" in seen[0]
    rediscover_all(config_dir)
    assert marker.exists()
    assert integrations.REGISTRY["good_plugin"].label == "Good Plugin Changed"

    # Revoking stops it at the next start.
    marker.unlink()
    qtbot.waitUntil(panel.rows[0].button.isVisible)
    click(qtbot, panel.rows[0].button)
    qtbot.waitUntil(lambda: "Not allowed" in visible_text(panel.rows[0]))
    rediscover_all(config_dir)
    assert not marker.exists() and "good_plugin" not in integrations.REGISTRY
    assert path.exists()                                    # the file itself is the user's


def test_installed_packages_plugins_are_listed_as_third_party_with_their_package(
        qtbot, installed_dist, config_dir):
    panel = PluginPermissionsPanel(config_dir)
    qtbot.addWidget(panel)
    lines = [label.text() for label in panel.installed]
    assert any(line.startswith("fixture_timer: from the package peregrine-fixture-plugins")
               for line in lines), lines
    from PySide6.QtWidgets import QGroupBox

    assert "Installed packages (third-party)" in [b.title() for b in
                                                  panel.findChildren(QGroupBox)]


def test_the_settings_dialog_has_the_plugins_tab(qtbot, config_dir):
    from peregrine_desktop.settings.profile import UserProfile
    from peregrine_desktop.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(UserProfile(config_dir / "user.yaml"), config_dir)
    qtbot.addWidget(dialog)
    dialog.show()
    tabs = dialog.tabs.tabBar()
    plugins_tab = [i for i in range(tabs.count()) if tabs.tabText(i) == "Pl&ugins"][0]
    qtbot.mouseClick(tabs, Qt.MouseButton.LeftButton, pos=tabs.tabRect(plugins_tab).center())
    assert "A plugin runs with your rights" in visible_text(dialog.tabs.currentWidget())


def test_check_integrations_reports_a_waiting_file_without_running_it(
        capsys, user_plugins, config_dir, tmp_path):
    marker = tmp_path / "plugin-ran"
    drop_plugin(user_plugins, marker)
    status = check_main(["--no-built-ins", "--no-entry-points", "--config-dir", str(config_dir)])
    output = capsys.readouterr().out
    assert status == 1 and "FAIL  good_plugin" in output and "not allowed to run yet" in output
    assert not marker.exists()
    # The developer who wrote it allows it explicitly; then it is checked (and so, run).
    assert check_main(["--no-built-ins", "--no-entry-points", "--config-dir", str(config_dir),
                       "--allow", "good_plugin"]) == 0
    assert "PASS  good_plugin" in capsys.readouterr().out and marker.exists()
