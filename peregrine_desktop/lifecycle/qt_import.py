"""Importing PySide6 without its per-module source scan.

PySide6 supports ``from __feature__ import snake_case`` per module; to know which modules could
use it, it asks of every module imported (those before it, at its own import, and each one after)
whether its source mentions "PySide6" — through ``inspect.getsource``, which tokenizes the file:
about 0.2 ms a module, ~15 ms over the modules the app imports before its first paint.  Reading
the file's bytes answers the same question in a tenth of the time; anything that is not a plain
``.py`` file (bytecode only, a zip, a frozen bundle) still gets PySide's own check.  The
standard library never imports PySide6: its modules are answered without reading them.
"""
from __future__ import annotations

import os
import sys
from types import ModuleType


def import_qt() -> None:
    """Import PySide6's core with the cheaper check in place (call before any PySide6 import)."""
    import shiboken6  # noqa: F401 - loads shibokensupport, whose feature module holds the check

    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if original is None or getattr(original, "reads_bytes", False):
        return  # another PySide6 version (nothing to replace), or already in place

    stdlib = os.path.dirname(os.__file__) + os.sep
    site_packages = os.sep + "site-packages" + os.sep

    def mod_uses_pyside(module: ModuleType) -> bool:
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.endswith(".py"):
            return original(module)
        if path.startswith(stdlib) and site_packages not in path:
            return False
        try:
            with open(path, "rb") as source:
                return b"PySide6" in source.read()
        except OSError:
            return original(module)

    mod_uses_pyside.reads_bytes = True
    feature._mod_uses_pyside = mod_uses_pyside
    import PySide6.QtCore  # noqa: F401
