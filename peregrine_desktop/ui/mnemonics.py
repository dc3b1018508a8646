"""Alt+letter reaches one control per window: the letters a text claims, and labels moved to
letters nobody else in the window uses (a service's fields are named by its plugin, so their
first letters often are a button's or a tab's)."""
from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtWidgets import QAbstractButton, QLabel, QTabBar, QWidget


def mnemonic(text: str) -> str | None:
    """The letter after a single ``&`` ("&&" is a literal ampersand), lower-cased."""
    index = 0
    while index < len(text) - 1:
        if text[index] == "&":
            if text[index + 1] != "&":
                return text[index + 1].lower()
            index += 1
        index += 1
    return None


def letters_of(widget: QWidget) -> set[str]:
    """The letters claimed inside ``widget``: its buttons, field labels and tab titles."""
    texts: list[str] = []
    for child in [widget, *widget.findChildren(QWidget)]:
        if isinstance(child, QAbstractButton):
            texts.append(child.text())
        elif isinstance(child, QLabel) and child.buddy() is not None:
            texts.append(child.text())
        elif isinstance(child, QTabBar):
            texts.extend(child.tabText(i) for i in range(child.count()))
    return {letter for text in texts if (letter := mnemonic(text))}


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&&")


def with_free_letter(text: str, taken: set[str]) -> str:
    """``text`` marked at a letter not in ``taken`` (a word's first letter if one is free),
    which is then taken; without a mark when every letter is."""
    plain = _plain(text)
    starts = [i for i, ch in enumerate(plain) if ch.isalnum() and (i == 0 or plain[i - 1] == " ")]
    others = [i for i, ch in enumerate(plain) if ch.isalnum() and i not in starts]
    for index in starts + others:
        letter = plain[index].lower()
        if letter not in taken:
            taken.add(letter)
            return f"{plain[:index]}&{plain[index:]}"
    return plain


def relabel_unique(labels: Iterable[QLabel], taken: Iterable[str]) -> None:
    """Give each label (in order) a letter of its own, none of ``taken``."""
    used = set(taken)
    for label in labels:
        label.setText(with_free_letter(label.text(), used))
