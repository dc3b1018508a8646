"""How wide each pipeline table column starts: room for a representative value in the table's own
font (a fixed pixel width cut "Fri 20 Mar 2026, 15:00 Berlin" to "Fri 20 Mar 2026, 14:00…" with
a larger font), and never narrower than the column's header."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import TYPE_CHECKING

from PySide6.QtGui import QFontMetrics

from peregrine_desktop.jobs import statuses
from peregrine_desktop.ui.pipeline.model import FIELD_COLUMN, found_text

if TYPE_CHECKING:  # pragma: no cover
    from PySide6.QtWidgets import QTableView

#: Columns hidden when the window is too narrow for them, least needed first (a column the
#: person hid or showed from the header's menu stays as they chose).
FIT_ORDER = ("source", "salary", "applied_on", "deadline", "date_found", "location",
             "next_action_on", "interview_at")

#: Typical values; a longer one is elided (its tooltip or the detail pane shows it whole).
_SAMPLES = {"title": ["Senior Product Designer"], "company": ["Northwind Labs GmbH"],
            "location": ["Berlin, Germany"], "salary": ["€100,000–120,000"],
            "source": ["Company site"]}
_ICON_COLUMNS = ("title", "status")


def _days() -> list[str]:
    """A day in every month: the widest month name decides."""
    return [found_text(f"2026-{month:02d}-28") for month in range(1, 13)]


#: Zones people often interview in; a longer name is elided (the tooltip names the zone).
_ZONES = ("America/Los_Angeles", "America/New_York", "America/Sao_Paulo", "Europe/London",
          "Europe/Berlin", "Asia/Singapore", "Australia/Sydney")


def _widest(metrics: QFontMetrics, texts: Iterable[str]) -> str:
    return max(texts, key=metrics.horizontalAdvance)


def _interviews(metrics: QFontMetrics) -> list[str]:
    """The widest interview text: "Tue 14 Mar 2026, 15:00 Berlin" put together from the widest
    weekday, month and place in this font, as interview_text writes them (measuring every
    combination, with each zone's rules loaded, cost ~10 ms before the first paint)."""
    monday = date(2026, 3, 23)
    weekday = _widest(metrics, (f"{monday + timedelta(days=d):%a}" for d in range(7)))
    month = _widest(metrics, (f"{date(2026, m, 1):%b}" for m in range(1, 13)))
    place = _widest(metrics, (zone.rsplit("/", 1)[-1].replace("_", " ") for zone in _ZONES))
    return [f"{weekday} 28 {month} 2026, 15:00 {place}"]


def samples(metrics: QFontMetrics) -> dict[str, list[str]]:
    days = _days()
    return {**_SAMPLES, "status": [statuses.label(s) for s in statuses.STATUSES],
            "date_found": days, "applied_on": days, "deadline": days,
            "next_action_on": [f"{day} · Follow up" for day in days],
            "interview_at": _interviews(metrics)}


def default_widths(table: QTableView) -> dict[str, int]:
    """Pixels per column for ``table`` (its font and header).

    The item's text margins are taken as a third of an average character each side (the styles
    in use draw 3–4 px at the usual size) and an icon as the font's height with a gap: asking
    the style for its pixel metrics would create PySide6's QStyle type, ~8 ms before the first
    paint."""
    metrics = table.fontMetrics()
    margin = 2 * max(3, metrics.averageCharWidth() // 3 + 1)
    icon = table.iconSize().width()
    if icon <= 0:
        icon = metrics.height()
    icon += margin // 2
    header = table.horizontalHeader()
    widths = {}
    for name, texts in samples(metrics).items():
        text = max(metrics.horizontalAdvance(text) for text in texts)
        needed = text + margin + (icon if name in _ICON_COLUMNS else 0)
        # Slack for rounding between measuring and painting (fractional glyph advances).
        needed += metrics.averageCharWidth()
        widths[name] = max(needed, header.sectionSizeHint(FIELD_COLUMN[name]))
    return widths
