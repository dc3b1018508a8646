"""IntegrationsPanel: every discovered integration as a card, plus "Test all".

The same panel is wizard Step 7 and Settings → Integrations.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout,
                               QWidget)

import integrations
from peregrine_sdk.capabilities import JobSync, has_capability
from peregrine_sdk.discovery import DiscoveryRecord
from peregrine_desktop.sync.run import card_line
from peregrine_desktop.ui.connection_card import CardState, ConnectionCard

if TYPE_CHECKING:  # pragma: no cover
    from peregrine_desktop.events.hub import EventHub


class IntegrationsPanel(QWidget):
    all_tests_finished = Signal()

    def __init__(self, config_dir: Path, tier: str, parent: QWidget | None = None,
                 records: list[DiscoveryRecord] | None = None, intro: str = "",
                 hub: "EventHub | None" = None) -> None:
        super().__init__(parent)
        self.hub = hub
        self.config_dir = Path(config_dir)
        self.tier = tier
        self._pending: set[str] = set()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.setSpacing(8)

        top = QHBoxLayout()
        self.intro = QLabel(intro, self)
        self.intro.setWordWrap(True)
        top.addWidget(self.intro, 1)
        self.test_all_button = QPushButton("Test &all", self)
        self.test_all_button.setAutoDefault(False)
        self.test_all_button.setToolTip("Test every connection you have set up, all at once")
        self.test_all_button.clicked.connect(self.test_all)
        top.addWidget(self.test_all_button)
        layout.addLayout(top)

        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        holder = QWidget(self.scroll)
        self.cards_layout = QVBoxLayout(holder)
        self.cards_layout.setContentsMargins(0, 0, 6, 0)
        self.cards_layout.setSpacing(10)
        self.cards: dict[str, ConnectionCard] = {}
        records = records if records is not None else list(integrations.RECORDS)
        # Available ones first (alphabetical), unavailable at the end.
        for record in sorted(records, key=lambda r: (r.cls is None, r.label.lower())):
            card = ConnectionCard(record, self.config_dir, tier, holder, compact=True)
            card.test_finished.connect(self._on_card_tested)
            card.saved.connect(lambda _n: self._update_test_all())
            card.disconnected.connect(lambda _n: self._update_test_all())
            self.cards[card.name] = card
            self.cards_layout.addWidget(card)
        if not self.cards:
            empty = QLabel("No integrations are installed. Add one to the integrations folder "
                           "or install a plugin package, then restart Peregrine.", holder)
            empty.setWordWrap(True)
            self.cards_layout.addWidget(empty)
        self.cards_layout.addStretch(1)
        self.scroll.setWidget(holder)
        layout.addWidget(self.scroll, 1)
        self._update_test_all()
        if hub is not None:
            for card in self.cards.values():
                card.test_finished.connect(hub.on_connection_tested)
            hub.outbox_changed.connect(self.refresh_notes)
            self.refresh_notes()

    def refresh_notes(self) -> None:
        """Show each card's waiting deliveries ("3 waiting: Could not reach the service…")."""
        for name, card in self.cards.items():
            card.set_note(self.hub.card_note(name))
            if card.cls is not None and has_capability(card.cls, JobSync):
                card.set_sync_line(card_line(self.hub.repository.store, name))

    def set_tier(self, tier: str) -> None:
        self.tier = tier
        for card in self.cards.values():
            card.set_tier(tier)
        self._update_test_all()

    def configured_cards(self) -> list[ConnectionCard]:
        return [c for c in self.cards.values()
                if c.is_configured() and c.state not in (CardState.LOCKED, CardState.UNAVAILABLE)]

    def _update_test_all(self) -> None:
        self.test_all_button.setEnabled(bool(self.configured_cards()) and not self._pending)

    def test_all(self) -> int:
        """Test every configured card concurrently; returns how many tests started."""
        started = 0
        for card in self.configured_cards():
            if card.run_test():
                self._pending.add(card.name)
                started += 1
        self._update_test_all()
        return started

    def _on_card_tested(self, name: str, _result: object) -> None:
        if name in self._pending:
            self._pending.discard(name)
            if not self._pending:
                self.all_tests_finished.emit()
        self._update_test_all()
