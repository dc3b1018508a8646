"""The banners at the top of the main window as a person sees them: the reminder strip readable in
a light and a dark palette (and when the desktop switches), the waiting-plugin note short."""
from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from peregrine_desktop.jobs.dates import DueWindow
from peregrine_desktop.jobs.reminders import Reminder
from peregrine_desktop.lifecycle.appearance import dark_palette
from peregrine_desktop.lifecycle.plugins import waiting_plugins
from peregrine_desktop.ui.config_problems import ConfigProblemsPanel
from peregrine_desktop.ui.reminders import ReminderBanner
from tests.ui_helpers import visible_text


def luminance(colour: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4
    red, green, blue = (channel(c) for c in colour.getRgbF()[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(one: QColor, other: QColor) -> float:
    """The WCAG contrast ratio of two colours (1 to 21)."""
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.fixture
def palette_back():
    app = QApplication.instance()
    before = QPalette(app.palette())
    yield app
    app.setPalette(before)


def shown_banner(qtbot) -> ReminderBanner:
    banner = ReminderBanner()
    qtbot.addWidget(banner)
    banner.resize(700, 80)
    banner.add([Reminder(1, "u1", "next_action", "2026-03-10", "Backend Engineer", "Acme",
                         "Call Sam back")], DueWindow(date(2026, 3, 10)))
    return banner


def fill_and_text(banner: ReminderBanner) -> tuple[QColor, QColor]:
    """The strip's colour (from its picture, beside the text) and the colour of its words."""
    picture = banner.grab().toImage()
    fill = picture.pixelColor(picture.width() - 8, picture.height() - 6)
    return fill, banner.body.palette().color(QPalette.ColorRole.WindowText)


def test_the_reminder_banner_is_readable_in_light_and_dark(qtbot, palette_back):
    banner = shown_banner(qtbot)
    assert "Call Sam back — Backend Engineer at Acme (today)" in visible_text(banner)
    fill, text = fill_and_text(banner)
    assert fill.lightness() > 160 and contrast(fill, text) >= 7
    palette_back.setPalette(dark_palette())          # the desktop turns dark
    QApplication.processEvents()
    fill, text = fill_and_text(banner)
    assert fill.lightness() < 100                    # no light strip in a dark window
    assert contrast(fill, text) >= 7
    assert fill != banner.palette().color(QPalette.ColorRole.Window)   # still stands out


def test_a_waiting_plugin_is_named_by_its_file_with_the_full_path_on_hover(qtbot, config_dir):
    plugins = config_dir / "plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    path = plugins / "team_chat.py"
    path.write_text('"""Chat."""\nfrom peregrine_sdk.base import IntegrationBase\n\n\n'
                    'class TeamChat(IntegrationBase):\n    name = "team_chat"\n'
                    '    label = "Team chat"\n', encoding="utf-8")
    panel = ConfigProblemsPanel(waiting_plugins(config_dir))
    qtbot.addWidget(panel)
    panel.resize(760, 200)
    panel.show()
    (row,) = panel.rows
    shown = visible_text(row)
    assert ("Plugin team_chat.py: Team chat has not been allowed to run, so it was not loaded. "
            "Allow it in Settings → Plugins") in shown
    assert str(plugins) not in shown                 # the folder only on hover
    assert str(path) in row.banner.toolTip()
    assert "runs with your rights" in row.banner.toolTip()
