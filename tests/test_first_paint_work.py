"""What a first window waits for: the first-launch wizard and an empty pipeline paint before
PySide6 makes the Qt namespace's enums (93 of them; ~35 ms that neither paint needs), and the
desktop's colour scheme is asked for after that paint, the last one seen standing in until
then."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from PySide6.QtCore import QSettings

from peregrine_desktop.lifecycle.appearance import ColorSchemeFollower, is_dark
from peregrine_desktop.lifecycle.first_paint import ENV_FLAG, MARKER

ROOT = Path(__file__).resolve().parent.parent

#: Runs the app; notes every enum PySide6 makes (by its name) and which of them were made by the
#: time the first-paint marker is written.
WATCH_ENUMS = textwrap.dedent(f"""
    import enum, gc, json, sys
    made = []
    create = enum.EnumType._create_
    def noting(cls, class_name, names, **kwargs):
        made.append(class_name)
        return create(cls, class_name, names, **kwargs)
    enum.EnumType._create_ = noting

    class Watch:
        def __init__(self, out):
            self.out, self.at_paint, self.paused, self.resumed = out, None, None, False
        def write(self, text):
            if {MARKER!r} in text and self.at_paint is None:
                self.at_paint = list(made)
                self.paused = not gc.isenabled()
            return self.out.write(text)
        def flush(self):
            self.out.flush()
    sys.stdout = watch = Watch(sys.stdout)
    enable = gc.enable
    def enabling():     # noted when the app turns the collector on while its window is up
        from PySide6.QtCore import QThread
        if watch.at_paint is not None and QThread.currentThread().loopLevel() > 0:
            watch.resumed = True
        enable()
    gc.enable = enabling
    sys.path.insert(0, {str(ROOT)!r})
    from peregrine_desktop.app import main
    code = main(["peregrine-desktop"])
    sys.stderr.write("ENUMS " + json.dumps(watch.at_paint) + "\\n")
    sys.stderr.write("GC " + json.dumps([watch.paused, watch.resumed]) + "\\n")
    sys.exit(code)
""")


def first_paint(tmp_path: Path, *, set_up: bool = False) -> tuple[list[str], list[bool]]:
    """The enums made before the first window painted (the wizard's, or with ``set_up``, the
    wizard finished before and no jobs yet, the main window's), and whether Python's cyclic
    garbage collector was paused for that paint and on again after it."""
    if set_up:
        (tmp_path / "config").mkdir(parents=True, exist_ok=True)
        (tmp_path / "config" / "user.yaml").write_text("name: Ada\nwizard_complete: true\n",
                                                       encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", ENV_FLAG: "1",
           "PEREGRINE_CONFIG_DIR": str(tmp_path / "config"),
           "PEREGRINE_DATA_DIR": str(tmp_path / "data"),
           "XDG_STATE_HOME": str(tmp_path / "state")}
    done = subprocess.run([sys.executable, "-c", WATCH_ENUMS], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert MARKER in done.stdout
    lines = done.stderr.splitlines()
    enums = next(line for line in lines if line.startswith("ENUMS ")).removeprefix("ENUMS ")
    collecting = next(line for line in lines if line.startswith("GC ")).removeprefix("GC ")
    return json.loads(enums), json.loads(collecting)


#: Enums only the Qt namespace has (PySide6 makes all 93 of its enums at once).
QT_NAMESPACE = {"AlignmentFlag", "GlobalColor", "ItemDataRole", "Key", "WindowType"}


def test_the_wizard_paints_before_the_qt_namespace_is_made(tmp_path):
    made, collecting = first_paint(tmp_path)
    assert "PaintDeviceMetric" in made      # what the paint needs (QWidget's) was noted
    assert QT_NAMESPACE.isdisjoint(made)


def test_an_empty_pipeline_paints_before_the_qt_namespace_and_the_table_types(tmp_path):
    made, collecting = first_paint(tmp_path, set_up=True)
    assert "MenuRole" in made               # the main window's actions were made
    assert QT_NAMESPACE.isdisjoint(made)
    # Nor QIcon's (the icon follows the paint), the item views' (no table without jobs) or the
    # search field's (no filters either).
    assert {"ThemeIcon", "SelectionMode", "EditTrigger", "EchoMode"}.isdisjoint(made)
    # The collector, paused while start-up made objects that all stay, runs again after.
    assert collecting == [True, True]


def test_a_desktop_dark_last_time_paints_dark_before_it_is_asked(qapp, tmp_path):
    light = qapp.palette()
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    settings.setValue(ColorSchemeFollower.KEY, "true")
    follower = ColorSchemeFollower(qapp, settings)
    try:
        follower.apply_remembered()
        assert is_dark(qapp.palette())
        follower.follow()     # this desktop (offscreen) says it is not dark: the light comes back
        assert not is_dark(qapp.palette())
        assert settings.value(ColorSchemeFollower.KEY) == "false"
    finally:
        qapp.styleHints().colorSchemeChanged.disconnect(follower.apply)
        qapp.setPalette(light)


def test_a_desktop_that_turns_dark_is_remembered_for_the_next_start(qapp, tmp_path):
    from PySide6.QtCore import Qt

    light = qapp.palette()
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    follower = ColorSchemeFollower(qapp, settings)
    try:
        follower.apply_remembered()          # nothing remembered: nothing changes
        assert not is_dark(qapp.palette())
        follower.apply(Qt.ColorScheme.Dark)
        assert is_dark(qapp.palette()) and settings.value(ColorSchemeFollower.KEY) == "true"
    finally:
        qapp.setPalette(light)
