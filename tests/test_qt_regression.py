"""PySide6 6.12.0 aborts Python 3.11 after ~5,000 None-returning calls (``none_dealloc``).

Run in a subprocess so the abort (exit 134) is a failed test, not a dead test session; keep it
so that any upgrade of the pinned PySide6 range is checked.
"""
from __future__ import annotations

import os
import subprocess
import sys

SNIPPET = """
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([]); l = QLabel()
for i in range(20000): l.setText(str(i))
print('ok')
"""


def test_many_none_returning_calls_do_not_abort_python():
    result = subprocess.run([sys.executable, "-c", SNIPPET], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, (
        f"exit {result.returncode}: {result.stderr[-500:]} (PySide6 6.12.0 on Python 3.11 "
        "aborts with none_dealloc; keep the pin below 6.12)")
    assert result.stdout.strip() == "ok"
