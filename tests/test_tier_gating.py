"""The guide's Step 4 snippet, in Qt: gate an action on the user's plan."""
from __future__ import annotations

from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget

from peregrine_desktop.settings import tiers
from peregrine_desktop.settings.profile import UserProfile
from peregrine_desktop.settings.tiers import can_use
from peregrine_desktop.ui import notices


def build_sync_area(parent: QWidget) -> QWidget:
    """Exactly the guide's shape: ``if can_use(user.tier, feature)`` … else the info note."""
    user = UserProfile()
    layout = QVBoxLayout(parent)
    if can_use(user.tier, "myservice_sync"):
        layout.addWidget(QPushButton("Sync to MyService", parent))
    else:
        layout.addWidget(notices.info("MyService sync requires a Paid plan.", parent))
    return parent


def test_the_guides_gate_shows_a_note_on_free_and_the_button_on_paid(qtbot, config_dir,
                                                                     monkeypatch, licence_keys):
    monkeypatch.setitem(tiers.FEATURES, "myservice_sync", "paid")
    free = build_sync_area(QWidget())
    qtbot.addWidget(free)
    banner = free.findChild(notices.InfoBanner)
    assert banner.text() == "MyService sync requires a Paid plan."
    assert free.findChild(QPushButton) is None

    (config_dir / "user.yaml").write_text("name: Ada\ntier: paid\n")   # as the guide's file says
    typed = build_sync_area(QWidget())
    qtbot.addWidget(typed)
    assert typed.findChild(QPushButton) is None      # a plan typed into the file unlocks nothing
    licence_keys.activate(config_dir, "paid")       # a Paid key pasted in Settings → Plan
    paid = build_sync_area(QWidget())
    qtbot.addWidget(paid)
    assert paid.findChild(QPushButton).text() == "Sync to MyService"
    assert paid.findChild(notices.InfoBanner) is None
