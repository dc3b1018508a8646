"""Help → Keyboard shortcuts: every shortcut of the main window, read from its actions.

The list is made from the QActions themselves (menus in their order, then the actions that live
on a part of the window, like the job list), so it can never disagree with what the keys do.
"""
from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHeaderView, QLabel,
                               QMenu, QMenuBar, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)


def action_text(action: QAction) -> str:
    """What the menu shows, without the mnemonic marker ("&&" is a literal "&")."""
    return action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")


def keys_text(action: QAction) -> str:
    keys = [key.toString(QKeySequence.SequenceFormat.NativeText) for key in action.shortcuts()
            if not key.isEmpty()]
    return ", ".join(dict.fromkeys(keys))


def shortcut_rows(menu_bar: QMenuBar, others: dict[str, Iterable[QAction]] | None = None
                  ) -> list[tuple[str, str, str]]:
    """(where, command, keys) for each action with a shortcut: the menus' in menu order, then
    ``others`` (a part of the window → its actions) for those no menu holds."""
    rows: list[tuple[str, str, str]] = []
    seen: set[int] = set()

    def add(where: str, action: QAction) -> None:
        if id(action) in seen or action.isSeparator():
            return
        seen.add(id(action))
        keys = keys_text(action)
        if keys:
            rows.append((where, action_text(action), keys))

    def walk(where: str, menu: QMenu) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                walk(f"{where} → {action_text(action)}", action.menu())
            else:
                add(where, action)

    for top in menu_bar.actions():
        if top.menu() is not None:
            walk(action_text(top), top.menu())
    for where, actions in (others or {}).items():
        for action in actions:
            add(where, action)
    return rows


class ShortcutsDialog(QDialog):
    def __init__(self, rows: list[tuple[str, str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(560, 520)
        layout = QVBoxLayout(self)
        intro = QLabel("Besides these: Tab and Shift+Tab move between fields, Alt with an "
                       "underlined letter presses that button or menu, Enter presses a "
                       "window's main button and Escape closes it.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTableWidget(len(rows), 3, self)
        self.table.setHorizontalHeaderLabels(["Where", "Command", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setTabKeyNavigation(False)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def rows(self) -> list[tuple[str, str, str]]:
        """What the table shows, row by row (as a person reads it)."""
        return [tuple(self.table.item(r, c).text() for c in range(3))
                for r in range(self.table.rowCount())]
