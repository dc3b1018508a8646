"""IntegrationsPanel: every discovered integration in an accounts view, plus "Test all".

The same panel is wizard step 5 (``compact``: a narrower list) and Settings → Integrations.
Each service's page saves on its own; "Test all" tests every saved service at once and ends
with a summary in words.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout,
                               QWidget)

import integrations
from peregrine_sdk.capabilities import JobSync, has_capability
from peregrine_sdk.discovery import DiscoveryRecord
from peregrine_sdk.errors import MESSAGES, CheckResult
from peregrine_desktop.sync.run import card_line
from peregrine_desktop.ui.accounts_view import AccountsView
from peregrine_desktop.ui.connection_card import CardState, ConnectionCard
from peregrine_desktop.ui import colours
from peregrine_desktop.ui.colours import text_style

if TYPE_CHECKING:  # pragma: no cover
    from peregrine_desktop.events.hub import EventHub


def test_all_summary(results: list[tuple[str, CheckResult]]) -> str:
    """"3 connected, 1 needs attention: Slack — the service rejected these credentials"."""
    passed = [label for label, result in results if result.ok]
    failed = [(label, result) for label, result in results if not result.ok]
    parts = []
    if passed:
        parts.append(f"{len(passed)} connected")
    if failed:
        verb = "needs" if len(failed) == 1 else "need"
        reasons = "; ".join(f"{label} — {MESSAGES[result.kind][:1].lower()}"
                            f"{MESSAGES[result.kind][1:]}" for label, result in failed)
        parts.append(f"{len(failed)} {verb} attention: {reasons}")
    return ", ".join(parts) + "." if parts else ""


class IntegrationsPanel(QWidget):
    all_tests_finished = Signal()

    def __init__(self, config_dir: Path, tier: str, parent: QWidget | None = None,
                 records: list[DiscoveryRecord] | None = None, intro: str = "",
                 hub: "EventHub | None" = None, compact: bool = False) -> None:
        super().__init__(parent)
        self.hub = hub
        self.config_dir = Path(config_dir)
        self.tier = tier
        self._pending: set[str] = set()
        self._results: list[tuple[str, CheckResult]] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.setSpacing(8)

        top = QHBoxLayout()
        self.intro = QLabel(intro, self)
        self.intro.setWordWrap(True)
        self.intro.setVisible(bool(intro))
        top.addWidget(self.intro, 1)
        self.test_all_button = QPushButton("Test a&ll", self)
        self.test_all_button.setAutoDefault(False)
        self.test_all_button.setDefault(False)
        self.test_all_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.test_all_button.setToolTip("Test every connection you have set up, all at once")
        self.test_all_button.clicked.connect(self.test_all)
        if not intro:
            top.addStretch(1)
        top.addWidget(self.test_all_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        self.summary = QLabel("", self)        # what "Test all" found, in words
        self.summary.setObjectName("testAllSummary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.summary.hide()
        layout.addWidget(self.summary)

        self.cards: dict[str, ConnectionCard] = {}
        records = records if records is not None else list(integrations.RECORDS)
        for record in records:
            card = ConnectionCard(record, self.config_dir, tier)
            card.test_finished.connect(self._on_card_tested)
            card.saved.connect(lambda _n: self._update_test_all())
            card.disconnected.connect(lambda _n: self._update_test_all())
            self.cards[card.name] = card
        self.accounts = AccountsView(list(self.cards.values()), compact, self)
        layout.addWidget(self.accounts, 1)
        self.empty = QLabel("No integrations are installed. Add one to the integrations folder "
                            "or install a plugin package, then restart Peregrine.", self)
        self.empty.setWordWrap(True)
        self.empty.setVisible(not self.cards)
        self.accounts.setVisible(bool(self.cards))
        layout.addWidget(self.empty)
        self._update_test_all()
        if hub is not None:
            for card in self.cards.values():
                card.test_finished.connect(hub.on_connection_tested)
            hub.outbox_changed.connect(self.refresh_notes)
            self.refresh_notes()

    def reserve_mnemonics(self, taken: set[str]) -> None:
        """The window's own letters (its tabs, its buttons) are ``taken``: each service's field
        labels move to letters that neither those, Test all, nor the service's buttons use."""
        from PySide6.QtWidgets import QAbstractButton, QLabel

        from peregrine_desktop.ui.mnemonics import mnemonic, relabel_unique

        own = {mnemonic(self.test_all_button.text())} - {None}
        for card in self.cards.values():
            labels = [label for label in card.findChildren(QLabel) if label.buddy() is not None]
            buttons = {letter for button in card.findChildren(QAbstractButton)
                       if (letter := mnemonic(button.text()))}
            relabel_unique(labels, taken | own | buttons)

    def refresh_notes(self) -> None:
        """Show each page's waiting deliveries ("3 waiting: Could not reach the service…")."""
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
        """Test every configured service concurrently; returns how many tests started."""
        started = 0
        self._results = []
        for card in self.configured_cards():
            if card.run_test():
                self._pending.add(card.name)
                started += 1
        if started:
            self.summary.setText(f"Testing {started} service{'s' if started > 1 else ''}…")
            self.summary.setStyleSheet("")
            self.summary.show()
        self._update_test_all()
        return started

    def _on_card_tested(self, name: str, result: object) -> None:
        if name in self._pending:
            self._pending.discard(name)
            if isinstance(result, CheckResult):
                self._results.append((self.cards[name].record.label, result))
            if not self._pending:
                self.summary.setText(test_all_summary(self._results))
                failed = any(not r.ok for _label, r in self._results)
                self.summary.setStyleSheet(text_style(colours.PROBLEM if failed else colours.GOOD))
                self.summary.setVisible(bool(self._results))
                self.all_tests_finished.emit()
        self._update_test_all()
