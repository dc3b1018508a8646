"""Monogram icons: a coloured rounded square with a service's initials, painted with QPainter.

No image files ship for services (third-party plugins bring none either), so every service gets
the same kind of icon; the colour comes from the service's name, so it stays the same each run.
"""
from __future__ import annotations

import hashlib

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

#: Calm, mid-dark colours that keep white initials readable (contrast ≥ 4.5:1).
PALETTE: tuple[str, ...] = ("#1565c0", "#2e7d32", "#6a1b9a", "#c62828", "#00695c", "#ad1457",
                            "#4527a0", "#37474f", "#5d4037", "#0277bd", "#558b2f", "#bf360c")
GREY = "#9e9e9e"


def initials(label: str) -> str:
    """Up to two letters: the first of the first two words ("Google Sheets" → "GS"), or the
    first two letters of a single word ("Notion" → "No")."""
    words = [w for w in "".join(c if c.isalnum() else " " for c in label).split() if w]
    if not words:
        return "?"
    if len(words) == 1:
        word = words[0]
        return (word[0].upper() + word[1:2].lower()) if len(word) > 1 else word.upper()
    return (words[0][0] + words[1][0]).upper()


def colour_for(name: str) -> str:
    """A palette colour chosen by a stable hash of ``name`` (Python's hash() varies per run)."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def monogram_pixmap(label: str, name: str, size: int = 32, enabled: bool = True,
                    ratio: float = 1.0) -> QPixmap:
    """The monogram of a service at ``size`` logical pixels (``ratio``: device pixel ratio)."""
    pixmap = QPixmap(round(size * ratio), round(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour_for(name) if enabled else GREY))
    rect = QRectF(0.5, 0.5, size - 1.0, size - 1.0)
    painter.drawRoundedRect(rect, size * 0.22, size * 0.22)
    font = QFont()
    font.setBold(True)
    font.setPixelSize(max(8, round(size * 0.42)))
    painter.setFont(font)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, initials(label))
    painter.end()
    return pixmap


def monogram_icon(label: str, name: str, size: int = 32, enabled: bool = True) -> QIcon:
    icon = QIcon()
    for ratio in (1.0, 2.0):
        icon.addPixmap(monogram_pixmap(label, name, size, enabled, ratio))
    return icon
