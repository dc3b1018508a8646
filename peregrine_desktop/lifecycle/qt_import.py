"""Importing PySide6 without its per-module source scan, and its ``Qt`` namespace when first used.

PySide6 supports ``from __feature__ import snake_case`` per module; to know which modules could
use it, it asks of every module imported (those before it, at its own import, and each one after)
whether its source mentions "PySide6" — through ``inspect.getsource``, which tokenizes the file:
about 0.2 ms a module, ~15 ms over the modules the app imports before its first paint.  Reading
the file's bytes answers the same question in a tenth of the time; anything that is not a plain
``.py`` file (bytecode only, a zip, a frozen bundle) still gets PySide's own check.  The
standard library never imports PySide6: its modules are answered without reading them.

The first touch of PySide6's ``Qt`` namespace makes the Python enums of the whole namespace, 93
of them: ~117 M instructions, ~35 ms, a fifth of a bare window's start.  Modules on the way to
a first paint import :data:`Qt` from here instead: it stands for the namespace and makes it when
one of its names is first read, which may then be after the paint.  Widgets on that way set
Qt-enum properties by key name (:func:`set_enum_property`), which needs no Python enum.
"""
from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any


class _NamespaceOnFirstUse:
    """Reads through to ``PySide6.QtCore.Qt``, which is made on the first read."""

    def __getattr__(self, name: str) -> Any:
        from PySide6.QtCore import Qt as namespace

        value = getattr(namespace, name)
        setattr(self, name, value)      # later reads find it in this object's dict
        return value


if TYPE_CHECKING:  # pragma: no cover - type checkers see the namespace itself
    from PySide6.QtCore import Qt
else:
    Qt = _NamespaceOnFirstUse()


def set_enum_property(obj: Any, name: str, keys: str) -> None:
    """``obj.setProperty(name, "AlignRight|AlignVCenter")``: Qt's property system reads the
    enum's key names itself, so no Python enum (and no ``Qt`` namespace) is made.  A misspelt
    key raises instead of being ignored."""
    if not obj.setProperty(name, keys):
        raise ValueError(f"{type(obj).__name__}.{name} has no value {keys!r}")


def key_sequences(key: Any) -> list[Any]:
    """What ``QAction.setShortcut(QKeySequence(key))`` sets, as ``setShortcuts`` takes it:
    a ``QKeySequence.StandardKey`` as its first binding on this platform, a string such as
    ``"Ctrl+Shift+U"`` as written."""
    from PySide6.QtGui import QKeySequence

    if isinstance(key, str):
        return QKeySequence.listFromString(key)
    return QKeySequence.keyBindings(key)[:1]


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
