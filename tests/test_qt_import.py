"""PySide6 imported through lifecycle.qt_import: its per-module check reads bytes instead of
tokenizing, and what the check is for — ``from __feature__`` per module — works as before."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_feature_switches_still_apply_per_module(tmp_path):
    (tmp_path / "uses_snake_case.py").write_text(textwrap.dedent("""
        from __feature__ import snake_case
        from PySide6.QtWidgets import QWidget

        def title():
            widget = QWidget()
            widget.set_window_title("snake")
            return widget.window_title()
    """))
    (tmp_path / "camel_case.py").write_text(textwrap.dedent("""
        from PySide6.QtWidgets import QWidget

        def has_camel_case():
            return hasattr(QWidget(), "setWindowTitle")
    """))
    (tmp_path / "plain_module.py").write_text("VALUE = 1\n")
    script = textwrap.dedent(f"""
        import sys
        sys.path[:0] = [{str(ROOT)!r}, {str(tmp_path)!r}]
        from peregrine_desktop.lifecycle.qt_import import import_qt
        import_qt()
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        import camel_case, plain_module, uses_snake_case, colorsys
        feature = sys.modules["shibokensupport.feature"]
        print(uses_snake_case.title(), camel_case.has_camel_case(),
              feature._mod_uses_pyside.reads_bytes,
              feature.pyside_feature_dict["plain_module"],
              feature.pyside_feature_dict["uses_snake_case"] != -1,
              feature.pyside_feature_dict["colorsys"])
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["snake", "True", "True", "-1", "True", "-1"]


def test_enum_properties_set_by_key_and_a_misspelt_key_is_an_error(qapp):
    import pytest
    from PySide6.QtCore import Qt as namespace
    from PySide6.QtWidgets import QLabel

    from peregrine_desktop.lifecycle.qt_import import Qt, set_enum_property

    label = QLabel()
    set_enum_property(label, "alignment", "AlignRight|AlignVCenter")
    flag = namespace.AlignmentFlag
    assert label.alignment() == flag.AlignRight | flag.AlignVCenter
    with pytest.raises(ValueError, match="QLabel.textFormat has no value 'Plain'"):
        set_enum_property(label, "textFormat", "Plain")
    assert Qt.TextFormat.PlainText is namespace.TextFormat.PlainText    # the stand-in reads on


def test_shortcuts_given_as_lists_are_what_one_sequence_would_set(qapp):
    from PySide6.QtGui import QAction, QKeySequence

    from peregrine_desktop.lifecycle.qt_import import key_sequences

    action = QAction()
    action.setShortcuts(key_sequences("Ctrl+Shift+U"))
    assert action.shortcut() == QKeySequence("Ctrl+Shift+U")
    action.setShortcuts(key_sequences(QKeySequence.StandardKey.Undo))
    assert action.shortcuts() == [QKeySequence(QKeySequence.StandardKey.Undo)]


def test_the_pipeline_models_role_numbers_are_qts():
    from PySide6.QtCore import Qt as namespace

    from peregrine_desktop.ui.pipeline import model

    role = namespace.ItemDataRole
    assert (model.DISPLAY_ROLE, model.DECORATION_ROLE, model.TOOLTIP_ROLE, model.FOREGROUND_ROLE,
            model.USER_ROLE) == (role.DisplayRole.value, role.DecorationRole.value,
                                 role.ToolTipRole.value, role.ForegroundRole.value,
                                 role.UserRole.value)
