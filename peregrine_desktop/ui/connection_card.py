"""ConnectionCard: one service's page, as shown beside the accounts list in wizard step 5 and
Settings → Integrations.

The page is its own unit: its Save keeps the connection at once (Settings' OK and Cancel apply
to the profile tabs only).  Connection fields come first; Test's result is shown beside the Test
button; Save follows a passing test ("Save anyway" is the second choice after a failed one).  A
job tracker's column mapping is a Columns table that appears once a test has read the tracker's
real columns.  States: Not set up · Testing… · Test passed, not saved · Connected · tested 14:02 ·
Saved, not tested · Needs attention · Locked: needs Paid · Unavailable.  Tests run on the worker
pool; a result for values the user has since edited is dropped.
"""
from __future__ import annotations

import enum
import html
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QMessageBox, QPushButton, QScrollArea,
                               QSizePolicy, QVBoxLayout, QWidget)

from peregrine_sdk.base import check_config
from peregrine_sdk.capabilities import JobSync, capabilities_of
from peregrine_sdk.discovery import DiscoveryRecord
from peregrine_sdk.errors import CheckResult, ErrorKind, IntegrationError
from peregrine_sdk.job_columns import mapping_field_of
from peregrine_desktop.settings.configfiles import ConfigFileError
from peregrine_desktop.settings.integration_state import IntegrationState
from peregrine_desktop.settings.tiers import TIER_LABELS, locked_reason, tier_allows, upgrade_hint
from peregrine_desktop.ui.columns_step import ColumnsStep, column_names
from peregrine_desktop.ui.fields import ChoiceEditor, FieldForm, PasswordEditor
from peregrine_desktop.ui.plain_text import bold_heading, message_box
from peregrine_desktop.workers import TaskRunner
from peregrine_desktop.ui import colours

log = logging.getLogger(__name__)

DEFAULT_TEST_TIMEOUT_MS = 30_000


class CardState(enum.Enum):
    NOT_SET_UP = "not_set_up"
    TESTING = "testing"
    TEST_PASSED = "test_passed"          # a passing test of values not saved yet
    CONNECTED = "connected"
    SAVED_UNTESTED = "saved_untested"
    NEEDS_ATTENTION = "needs_attention"
    LOCKED = "locked"
    UNAVAILABLE = "unavailable"


STATE_COLOURS = {
    CardState.NOT_SET_UP: "#757575", CardState.TESTING: "#1e88e5",
    CardState.TEST_PASSED: "#1e88e5",
    CardState.CONNECTED: colours.GOOD, CardState.SAVED_UNTESTED: colours.WARNING,
    CardState.NEEDS_ATTENTION: colours.PROBLEM, CardState.LOCKED: "#757575",
    CardState.UNAVAILABLE: "#757575",
}

#: What the page says beside its Save: the page is its own unit, whatever window holds it.
SAVE_MODEL_NOTE = "Saved on its own with Save here; the window's other buttons don't change it."


def begin_sign_in(cls: type, config: dict[str, Any]) -> tuple[Any, Any]:
    """Worker: an instance with the form's values, and the prompt its sign-in shows."""
    instance = cls()
    instance.connect(dict(config))    # the secret that sign-in provides is still missing
    return instance, instance.begin_sign_in()


def finish_sign_in(instance: Any) -> dict[str, Any]:
    """Worker: wait until the person approved in the browser; the settings it produced."""
    return dict(instance.finish_sign_in() or {})


class ConnectionCard(QFrame):
    """The page of one discovered integration (or of one that failed to load)."""

    test_finished = Signal(str, object)   # name, CheckResult
    saved = Signal(str)
    disconnected = Signal(str)
    state_changed = Signal(str)           # name: the words for the accounts list changed

    def __init__(self, record: DiscoveryRecord, config_dir: Path, tier: str,
                 parent: QWidget | None = None,
                 test_timeout_ms: int = DEFAULT_TEST_TIMEOUT_MS) -> None:
        super().__init__(parent)
        self.record = record
        self.cls = record.cls
        self.name = record.cls.name if record.cls else record.name
        self.config_dir = Path(config_dir)
        self.tier = tier
        self.test_timeout_ms = test_timeout_ms
        self.state_store = IntegrationState(self.config_dir)
        self.runner = TaskRunner(self)
        self.state = CardState.NOT_SET_UP
        self.editing = False
        self.last_result: CheckResult | None = None
        self._passed_config: dict[str, Any] | None = None
        self._failed_config: dict[str, Any] | None = None
        self._blocked = ""          # why the last Test did not start, until the form changes
        self._list_words = ""
        self.form: FieldForm | None = None
        self.columns_step: ColumnsStep | None = None
        self.setObjectName("connectionCard")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)   # holds focus while a button is busy
        self.setAccessibleName(f"{record.label} connection")
        self._build()
        self.refresh()

    # -- construction --------------------------------------------------------------------------
    def _build(self) -> None:
        from peregrine_desktop.ui.monogram import monogram_pixmap

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(6)

        head = QHBoxLayout()
        head.setContentsMargins(12, 10, 12, 0)
        head.setSpacing(10)
        self.icon = QLabel(self)
        self.icon.setPixmap(monogram_pixmap(self.record.label, self.name, 36,
                                            enabled=self.cls is not None,
                                            ratio=self.devicePixelRatioF()))
        self.icon.setFixedSize(36, 36)
        head.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        titles = QVBoxLayout()
        titles.setSpacing(2)
        title_row = QHBoxLayout()
        title_row.setSpacing(8)
        self.title = QLabel(bold_heading(self.record.label), self)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setStyleSheet("font-size: 12pt;")
        title_row.addWidget(self.title)
        if self.cls is not None:
            self.badge = QLabel(TIER_LABELS.get(self.cls.tier, self.cls.tier), self)
            self.badge.setObjectName("tierBadge")
            self.badge.setStyleSheet("QLabel#tierBadge { border: 1px solid palette(mid); "
                                     "border-radius: 8px; padding: 0 7px; font-size: 8pt; }")
            self.badge.setAccessibleName(f"Plan: {self.badge.text()}")
            title_row.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignVCenter)
        title_row.addStretch(1)
        self.dot = QLabel("●", self)
        self.status = QLabel("", self)
        self.status.setObjectName("cardStatus")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        title_row.addWidget(self.dot)
        title_row.addWidget(self.status)
        titles.addLayout(title_row)

        head.addLayout(titles, 1)
        outer.addLayout(head)

        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        outer.addWidget(line)

        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.body = QWidget(self.scroll)
        body = QVBoxLayout(self.body)
        body.setContentsMargins(12, 4, 12, 8)
        body.setSpacing(8)

        meta = []
        if self.cls is not None:
            if self.cls.description:
                meta.append(self.cls.description)
            caps = [c.label for c in capabilities_of(self.cls)]
            if caps:
                meta.append("Can: " + ", ".join(caps) + ".")
        if self.record.third_party:
            meta.append(f"Third-party plugin · {self.record.origin}")
        self.meta = QLabel("  ".join(meta), self.body)
        self.meta.setTextFormat(Qt.TextFormat.PlainText)
        self.meta.setWordWrap(True)
        self.meta.setStyleSheet("color: palette(placeholder-text);")
        self.meta.setVisible(bool(meta))
        body.addWidget(self.meta)

        self.sign_in_box = QLabel("", self.body)   # the sign-in prompt: link, code, what to do
        self.sign_in_box.setObjectName("signInPrompt")
        self.sign_in_box.setWordWrap(True)
        self.sign_in_box.setOpenExternalLinks(True)
        self.sign_in_box.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.sign_in_box.setStyleSheet("QLabel#signInPrompt { border: 1px solid palette(mid); "
                                       "border-radius: 4px; padding: 8px; }")
        self.sign_in_box.hide()
        self._sign_in_instance: Any = None

        specs: list[dict[str, Any]] = []
        if self.cls is not None:
            try:
                specs = self.cls().fields()
            except Exception as exc:  # validated at discovery; a plugin may still misbehave
                log.exception("%s: fields() raised", self.name)
                self.record.error = f"its settings form could not be built ({exc})"
                self.cls = None
        if self.cls is not None:
            connection = [s for s in specs if not mapping_field_of(str(s.get("key", "")))]
            mapping = [s for s in specs if mapping_field_of(str(s.get("key", "")))]
            self.form = FieldForm(connection, self.body)
            self.form.changed.connect(self._on_form_edited)
            body.addWidget(self.form)
            if mapping:
                self.columns_step = ColumnsStep(mapping, self.record.label, self.body)
                self.columns_step.changed.connect(self._on_columns_changed)

        # Test, and its result right beside it.
        self.test_row = QWidget(self.body)
        row = QHBoxLayout(self.test_row)
        row.setContentsMargins(0, 4, 0, 0)
        row.setSpacing(8)
        self.sign_in_button = self._button("Si&gn in…", self.start_sign_in, row, self.test_row)
        self.test_button = self._button("&Test", self.run_test, row, self.test_row)
        self.detail = QLabel("", self.test_row)   # the test's result, or why it cannot run
        self.detail.setObjectName("cardDetail")
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.detail.setMinimumWidth(160)
        row.addWidget(self.detail, 1)
        body.addWidget(self.test_row)
        body.addWidget(self.sign_in_box)
        if self.columns_step is not None:
            body.addWidget(self.columns_step)

        self.storage = QLabel("", self.body)   # where the secrets went, when not the keychain
        self.storage.setObjectName("cardStorage")
        self.storage.setWordWrap(True)
        self.storage.setStyleSheet("color: palette(placeholder-text);")
        self.storage.hide()
        body.addWidget(self.storage)
        self.unlock_button = QPushButton("Unlock keychain and retry", self.body)
        self.unlock_button.setAutoDefault(False)
        self.unlock_button.clicked.connect(self.unlock_keychain)
        self.unlock_button.hide()
        body.addWidget(self.unlock_button, 0, Qt.AlignmentFlag.AlignLeft)

        self.note = QLabel("", self.body)    # deliveries waiting for this service, if any
        self.note.setObjectName("cardNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #b26a00;")
        self.note.hide()
        body.addWidget(self.note)

        self.sync_line = QLabel("", self.body)   # a tracker's last sync
        self.sync_line.setObjectName("cardSyncLine")
        self.sync_line.setWordWrap(True)
        self.sync_line.setTextFormat(Qt.TextFormat.PlainText)
        self.sync_line.hide()
        body.addWidget(self.sync_line)
        body.addStretch(1)
        self.scroll.setWidget(self.body)
        self.scroll.viewport().setAutoFillBackground(False)   # the page's own background
        self.body.setAutoFillBackground(False)
        outer.addWidget(self.scroll, 1)

        footer = QHBoxLayout()
        footer.setContentsMargins(12, 0, 12, 10)
        footer.setSpacing(6)
        self.disconnect_button = self._button("&Disconnect", self.disconnect_service, footer)
        self.save_model = QLabel(SAVE_MODEL_NOTE, self)
        self.save_model.setObjectName("saveModelNote")
        self.save_model.setTextFormat(Qt.TextFormat.PlainText)
        self.save_model.setWordWrap(True)
        self.save_model.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.save_model.setStyleSheet("color: palette(placeholder-text); font-size: 9pt;")
        self.save_model.setVisible(self.cls is not None)
        footer.addWidget(self.save_model, 1)
        self.edit_button = self._button("&Edit", self.start_editing, footer)
        self.cancel_button = self._button("Cancel", self.cancel_editing, footer)
        self.save_anyway_button = self._button("Save an&yway", self.save_anyway, footer)
        self.save_button = self._button("&Save", self.save, footer)
        outer.addLayout(footer)

    def _button(self, text: str, slot: Any, layout: QHBoxLayout,
                parent: QWidget | None = None) -> QPushButton:
        """A page button: never the default, so Enter presses the dialog's OK (or the
        wizard's Next), not a Save on a page the user is not looking at."""
        button = QPushButton(text, parent or self)
        button.setAutoDefault(False)
        button.setDefault(False)
        button.setAccessibleName(f"{text.replace('&', '')} {self.record.label}")
        button.clicked.connect(slot)
        layout.addWidget(button)
        return button

    # -- state -----------------------------------------------------------------------------------
    def set_note(self, text: str) -> None:
        """A line about work waiting for this service (from the outbox); '' hides it."""
        self.note.setText(text)
        self.note.setVisible(bool(text))
        self.note.setAccessibleName(f"{self.record.label}: {text}" if text else "")

    def set_sync_line(self, text: str) -> None:
        """A tracker's last sync and what waits for the user; '' hides it."""
        self.sync_line.setText(text)
        self.sync_line.setVisible(bool(text))

    def is_configured(self) -> bool:
        return self.cls is not None and self.cls.is_configured(self.config_dir)

    def is_locked(self) -> bool:
        return self.cls is not None and not tier_allows(self.tier, self.cls.tier)

    def set_tier(self, tier: str) -> None:
        self.tier = tier
        self.refresh()

    def refresh(self) -> None:
        """Recompute the state from the files and the last test, and lay out the page for it."""
        if self.cls is None:
            self._hide_storage_note()
            self._show(CardState.UNAVAILABLE, f"{self.record.label} is unavailable: "
                                              f"{self.record.error}")
        elif self.is_locked():
            self._hide_storage_note()
            self._show(CardState.LOCKED, upgrade_hint(self.record.label, self.cls.tier))
        elif self.runner.is_running("test"):
            self._show(CardState.TESTING, "Testing the connection…")
        elif self.is_configured() and not self.editing:
            try:
                self.cls.load_config(self.config_dir)
            except ConfigFileError as exc:
                self._show(CardState.NEEDS_ATTENTION,
                           f"Its settings file is damaged: {exc.problem} Edit to save it again.")
                return
            self._show_storage_note()
            result = self.last_result or self.state_store.last_check(self.name)
            if result is None:
                self._show(CardState.SAVED_UNTESTED, "Press Test to check these settings.")
            elif result.ok:
                self._show(CardState.CONNECTED, "Test passed." if self.last_result else "")
            else:
                self._show(CardState.NEEDS_ATTENTION, result.message)
        else:
            if not self.is_configured():
                self._hide_storage_note()   # nothing saved: no note about where it was saved
            result = self.last_result
            if result is not None and not result.ok:
                self._show(CardState.NEEDS_ATTENTION, result.message)
            elif result is not None and result.ok:
                self._show(CardState.TEST_PASSED, self._passed_words())
            else:
                self._show(CardState.NOT_SET_UP, self._blocked)

    def _passed_words(self) -> str:
        if self.columns_step is not None and self.columns_step.columns is not None:
            return ("Test passed. Check the columns below, then press Save to keep these "
                    "settings.")
        return "Test passed. Press Save to keep these settings."

    def _secret_keys(self) -> list[str]:
        if self.form is None:
            return []
        return [key for key, editor in self.form.editors.items()
                if isinstance(editor, PasswordEditor)]

    def _hide_storage_note(self) -> None:
        self.storage.clear()
        self.storage.hide()
        self.unlock_button.hide()

    def _show_storage_note(self) -> None:
        """Say so when this service's secrets are not in the system keychain."""
        from peregrine_desktop.settings.secrets import SecretStore

        store = SecretStore(self.config_dir)
        note = store.storage_note(self.name, self._secret_keys())
        self.storage.setText(note or "")
        self.storage.setVisible(bool(note))
        self.unlock_button.setVisible(store.is_locked(self.name))
        self.unlock_button.setEnabled(not self.runner.is_running("unlock"))

    def unlock_keychain(self, then: Any = None) -> None:
        """Unlock and retry: the desktop asks for the keychain password (on a worker: the
        prompt waits for a person), then ``then`` runs, or the secrets are read again."""
        from peregrine_desktop.settings.secrets import SecretStore

        def done(_unlocked: object) -> None:
            if then is not None:
                then()
            else:
                self.saved_config()   # read afresh, now that the keychain may answer
                self.refresh()

        self.unlock_button.setEnabled(False)
        self.runner.start(SecretStore(self.config_dir).unlock, self.name, key="unlock",
                          on_success=done, on_failure=lambda _exc: done(False))

    def _confirm_plain_http(self, config: dict[str, Any]) -> bool:
        """Before a secret travels unencrypted to another machine, the user decides."""
        from peregrine_desktop.settings.input_rules import insecure_secret_warning
        from peregrine_desktop.ui.plain_text import ask

        warning = insecure_secret_warning(self.form.specs if self.form else [], config)
        if not warning:
            return True
        answer = ask(self, "Send without encryption?", warning,
                     QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                     QMessageBox.StandardButton.Cancel, icon=QMessageBox.Icon.Warning)
        return answer == QMessageBox.StandardButton.Yes

    def _status_text(self, state: CardState) -> str:
        result = self.last_result or (self.state_store.last_check(self.name)
                                      if self.cls else None)
        if state is CardState.CONNECTED and result and result.at:
            return f"Connected · tested {result.at:%H:%M}"
        if state is CardState.LOCKED and self.cls is not None:
            return locked_reason(self.cls.tier)
        return {
            CardState.NOT_SET_UP: "Not set up", CardState.TESTING: "Testing…",
            CardState.TEST_PASSED: "Test passed, not saved",
            CardState.CONNECTED: "Connected", CardState.SAVED_UNTESTED: "Saved, not tested",
            CardState.NEEDS_ATTENTION: "Needs attention", CardState.UNAVAILABLE: "Unavailable",
        }[state]

    def list_words(self) -> str:
        """The state in words for the accounts list ("Unavailable: <reason>" in full)."""
        if self.state is CardState.UNAVAILABLE:
            return f"Unavailable: {self.record.error}"
        if self.state is CardState.TEST_PASSED:
            return "Not set up · test passed"
        return self.status.text()

    def _show(self, state: CardState, detail: str) -> None:
        self.state = state
        self.status.setText(self._status_text(state))
        self.dot.setStyleSheet(f"color: {STATE_COLOURS[state]};")
        self.status.setAccessibleName(f"{self.record.label} status: {self.status.text()}")
        self.detail.setText(detail)
        self.detail.setVisible(bool(detail))
        colour = {CardState.NEEDS_ATTENTION: colours.PROBLEM, CardState.CONNECTED: colours.GOOD,
                  CardState.TEST_PASSED: colours.GOOD}.get(state)
        if state is CardState.NOT_SET_UP and detail:
            colour = colours.PROBLEM    # why the test did not start
        self.detail.setStyleSheet(f"color: {colour};" if colour else "")
        self.detail.setAccessibleName(f"{self.record.label} test result: {detail}"
                                      if detail else "")
        usable = state not in (CardState.UNAVAILABLE, CardState.LOCKED)
        configured = usable and self.is_configured()
        form_shown = usable and (self.editing or not configured)
        testing = state is CardState.TESTING
        if self.form is not None:
            self.form.setVisible(form_shown)
        if self.columns_step is not None:
            self.columns_step.setVisible(form_shown and self._columns_ready())
        signing_in = self.runner.is_running("sign_in")
        self.sign_in_button.setVisible(form_shown and self.supports_sign_in())
        self.sign_in_button.setText("Cancel sign-in" if signing_in else "Si&gn in…")
        self.sign_in_button.setEnabled(not testing)
        self.test_button.setVisible(usable)
        self.test_button.setEnabled(not testing and not signing_in)
        self.test_button.setText("Testing…" if testing else "&Test")
        self.test_row.setVisible(usable or bool(detail))
        self.save_button.setVisible(form_shown)
        current = self.connection_config() if form_shown else None
        self.save_button.setEnabled(not testing and current is not None
                                    and current == self._passed_config)
        self.save_button.setToolTip("" if self.save_button.isEnabled()
                                    else "Test the connection first; Save keeps settings that work.")
        self.save_anyway_button.setVisible(form_shown and not testing and current is not None
                                           and current == self._failed_config)
        self.edit_button.setVisible(configured and not self.editing)
        self.cancel_button.setVisible(configured and self.editing)
        self.disconnect_button.setVisible(configured and not self.editing)
        self.disconnect_button.setEnabled(not testing)
        words = self.list_words()
        if words != self._list_words:
            self._list_words = words
            self.state_changed.emit(self.name)

    def _columns_ready(self) -> bool:
        """The Columns table shows once a passing test read the columns, for these values."""
        return (self.columns_step is not None and self.columns_step.columns is not None
                and self._passed_config is not None
                and self.connection_config() == self._passed_config)

    def _hold_focus(self) -> bool:
        """Before buttons hide or turn disabled: if focus is on this page, the page itself
        takes it, so Qt does not move it on to another widget (another service, the list).
        True when it did; pass that to :meth:`_give_focus`."""
        from PySide6.QtWidgets import QApplication

        focused = QApplication.focusWidget()
        if focused is not None and (focused is self or self.isAncestorOf(focused)):
            self.setFocus(Qt.FocusReason.OtherFocusReason)
            return True
        return False

    def _give_focus(self, held: bool, *candidates: QWidget) -> None:
        """Focus back to the first visible, enabled candidate, if the page held it."""
        if not held or not self.hasFocus():
            return
        for widget in candidates:
            if widget.isVisible() and widget.isEnabled():
                widget.setFocus(Qt.FocusReason.OtherFocusReason)
                return

    def _reveal_result(self) -> None:
        """Scroll the Test row into view: the result is read where the button was pressed."""
        self.scroll.ensureWidgetVisible(self.test_row, 0, 12)

    # -- sign-in (OAuth browser flow or device code) ------------------------------------------------
    def supports_sign_in(self) -> bool:
        return self.cls is not None and callable(getattr(self.cls, "begin_sign_in", None))

    def start_sign_in(self) -> None:
        """Sign in… starts the service's flow; the same button then cancels it."""
        if self.runner.is_running("sign_in"):
            self.cancel_sign_in()
            return
        config = self.form_config() or {}
        self.sign_in_box.setText("Starting the sign-in…")
        self.sign_in_box.show()
        self.runner.start(begin_sign_in, self.cls, config, key="sign_in",
                          on_success=lambda outcome: self._show_prompt(*outcome),
                          on_failure=self._sign_in_failed)
        self.refresh()

    def _show_prompt(self, instance: Any, prompt: Any) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        self._sign_in_instance = instance
        url = str(getattr(prompt, "url", "") or "")
        code = str(getattr(prompt, "user_code", "") or "")
        parts = [html.escape(str(getattr(prompt, "message", "") or ""))]   # a service's words
        if code:
            parts.append(f"Your code: <b style='font-size: 12pt'>{html.escape(code)}</b>")
        if url:
            parts.append(f"<a href='{html.escape(url, quote=True)}'>Open the sign-in page</a>")
        self.sign_in_box.setText("<br>".join(p for p in parts if p))
        if url and not code:   # a browser flow: open it for them; a device code is typed there
            QDesktopServices.openUrl(QUrl(url))
        self.runner.start(finish_sign_in, instance, key="sign_in",
                          on_success=self._signed_in, on_failure=self._sign_in_failed)
        self.refresh()

    def _signed_in(self, values: dict[str, Any]) -> None:
        self._sign_in_instance = None
        if self.form is not None:
            for key, value in values.items():
                editor = self.form.editors.get(key)
                if editor is not None:
                    if isinstance(editor, PasswordEditor):
                        editor.has_saved_value = False
                    editor.set_value(value)
        self.sign_in_box.setText(f"Signed in to {self.record.label}. Test the connection, "
                                 f"then save.")
        self._on_form_edited()

    def _sign_in_failed(self, exc: BaseException) -> None:
        self._sign_in_instance = None
        self.sign_in_box.hide()
        result = (CheckResult.from_error(exc) if isinstance(exc, IntegrationError)
                  else CheckResult.failure(ErrorKind.UNKNOWN, "The sign-in did not complete; "
                                           "start it again."))
        if not isinstance(exc, IntegrationError):
            log.error("%s: sign-in failed: %s", self.name, type(exc).__name__)
        self.last_result = result
        self.refresh()

    def cancel_sign_in(self) -> None:
        instance, self._sign_in_instance = self._sign_in_instance, None
        self.runner.invalidate("sign_in")
        if instance is not None and callable(getattr(instance, "cancel_sign_in", None)):
            instance.cancel_sign_in()
        self.sign_in_box.hide()
        self.refresh()

    # -- values ----------------------------------------------------------------------------------
    def saved_config(self) -> dict[str, Any]:
        try:
            return self.cls.load_config(self.config_dir) if self.cls else {}
        except ConfigFileError:
            return {}

    def connection_config(self) -> dict[str, Any] | None:
        """The connection settings the form describes (saved secrets kept where left empty),
        without the column mapping; None when there is no form."""
        if self.form is None:
            return None
        values = self.form.values()
        saved = self.saved_config() if self.editing else {}
        for key, editor in self.form.editors.items():
            if isinstance(editor, PasswordEditor) and editor.has_saved_value and not values[key]:
                values[key] = saved.get(key, "")
        return values

    def form_config(self) -> dict[str, Any] | None:
        """Everything Save would keep: the connection settings and the column mapping."""
        config = self.connection_config()
        if config is not None and self.columns_step is not None:
            config.update(self.columns_step.values())
        return config

    @staticmethod
    def _connection_part(config: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in config.items() if not mapping_field_of(k)}

    def _on_form_edited(self) -> None:
        if self.runner.is_running("test"):
            self.runner.invalidate("test")   # the running test is for values that are gone
        self.last_result = None
        self._blocked = ""
        self.refresh()

    def _on_columns_changed(self) -> None:
        """Choosing columns is not a connection change: the passing test still stands."""
        self.refresh()

    def _blocked_words(self, problems: dict[str, str]) -> str:
        """Why Test did not start, beside the Test button; a malformed address says so."""
        key, problem = next(iter(problems.items()))
        spec = next((s for s in self.form.specs if s.get("key") == key), {}) if self.form else {}
        editor = self.form.editors[key] if self.form else None
        label = editor.label_text if editor else key
        is_address = spec.get("type") == "url" or spec.get("format") == "url"
        problem = problem.rstrip(".")
        if problem and problem[-1] not in "/:":   # never "https://."
            problem += "."
        if is_address and editor is not None and not editor.is_blank():
            return f"Not tested: the {label} is malformed. {problem}"
        more = len(problems) - 1
        rest = f" And {more} more field{'s' if more > 1 else ''} to fix." if more else ""
        return f"Not tested: {problem}{rest}"

    # -- actions ---------------------------------------------------------------------------------
    def run_test(self) -> bool:
        """Start a connection test; False (and nothing started) if one is already running or the
        form has problems (said beside the Test button)."""
        if self.cls is None or self.is_locked() or self.runner.is_running("test"):
            return False
        form_shown = self.form is not None and self.form.isVisibleTo(self)
        if form_shown:
            held = self._hold_focus()
            problems = self.form.problems(show=True)   # focus goes to the first field to fix
            if problems:
                self._blocked = self._blocked_words(problems)
                self.refresh()
                self._reveal_result()
                return False
            self._blocked = ""
            config = self.form_config() or {}
            if not self._confirm_plain_http(config):
                self._give_focus(held, self.test_button)
                return False
        else:
            config = self.saved_config()
        held = self._hold_focus()     # the Test button is disabled while the test runs
        self.runner.start(check_config, self.cls, config, key="test",
                          on_success=lambda outcome: self._on_tested(config, held, *outcome),
                          on_failure=lambda exc: self._on_tested(config, held,
                                                                 CheckResult.failure(
                                                                     ErrorKind.UNKNOWN)),
                          on_timeout=lambda: self._on_tested(config, held, CheckResult.failure(
                              ErrorKind.TIMEOUT, f"The test did not finish within "
                              f"{self.test_timeout_ms // 1000} s. The service may be down; "
                              f"try again later.")),
                          timeout_ms=self.test_timeout_ms)
        self.refresh()
        self._reveal_result()
        return True

    def _on_tested(self, config: dict[str, Any], held: bool, result: CheckResult,
                   choices: dict[str, list] | None = None) -> None:
        self.runner.invalidate("test")
        if choices and self.form is not None:
            mapped = [k for k in choices if mapping_field_of(k)]
            if mapped and self.columns_step is not None:
                key_column = str(config.get("key_column") or JobSync.KEY_COLUMN)
                self.columns_step.set_columns([c for c in column_names(choices[mapped[0]])
                                               if c != key_column])   # Peregrine's own
            for key, options in choices.items():
                editor = self.form.editors.get(key)
                if isinstance(editor, ChoiceEditor):
                    editor.set_choices(options)
        self.last_result = result
        connection = self._connection_part(config)
        self._passed_config = connection if result.ok else None
        self._failed_config = None if result.ok else connection
        if self.is_configured() and not self.editing:
            self.state_store.record_check(self.name, result)
        self.refresh()
        self._reveal_result()
        self._give_focus(held, self.test_button)
        self.test_finished.emit(self.name, result)

    def save(self) -> None:
        config = self.form_config()
        if config is None or self._connection_part(config) != self._passed_config:
            return
        self._write(config, tested=True)

    def save_anyway(self) -> None:
        config = self.form_config()
        if config is None or (self.form and self.form.problems(show=True)):
            return
        self._write(config, tested=False)

    def _write(self, config: dict[str, Any], tested: bool) -> None:
        from peregrine_desktop.settings.config_recovery import write_failure_message

        from peregrine_desktop.settings.secrets import KeychainRefused

        if not tested and not self._confirm_plain_http(config):
            return
        try:
            self.cls.save_config(config, self.config_dir)
        except KeychainRefused as refused:
            choice = self._keychain_refused(refused)
            if choice == "retry" and refused.locked:
                self.unlock_keychain(then=lambda: self._write(config, tested))
            elif choice is not None:
                self._write(config, tested)
            return
        except OSError as exc:
            self._show(CardState.NEEDS_ATTENTION,
                       write_failure_message(self.cls.config_path(self.config_dir), exc))
            return
        if tested and self.last_result is not None:
            self.state_store.record_check(self.name, self.last_result)
        else:
            self.state_store.forget(self.name)
            self.last_result = None
        held = self._hold_focus()      # Save hides with the form: focus stays on this page
        self.editing = False
        self._passed_config = self._failed_config = None
        self.refresh()
        self._give_focus(held, self.edit_button, self.test_button)
        self.saved.emit(self.name)

    def _keychain_refused(self, refused: Any) -> str | None:
        """The keychain exists but did not take the secret: the user chooses to (unlock and)
        retry, to keep it in a private file, or to stop: "retry", "file" or None."""
        from peregrine_desktop.settings.secrets import consent_to_file

        box = message_box(self, QMessageBox.Icon.Warning, "The keychain did not take the secret",
                          str(refused), "Nothing was saved yet. A private file is readable by "
                          "your user account only.", QMessageBox.StandardButton.Cancel)
        retry = box.addButton("Unlock and retry" if refused.locked else "Retry",
                              QMessageBox.ButtonRole.AcceptRole)
        to_file = box.addButton("Save in a private file", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(retry)
        box.exec()
        if box.clickedButton() is retry:
            return "retry"
        if box.clickedButton() is to_file:
            consent_to_file(self.name)
            return "file"
        return None

    def start_editing(self) -> None:
        if self.form is None:
            return
        held = self._hold_focus()
        saved = self.saved_config()
        self.form.set_values(saved)
        for key, editor in self.form.editors.items():
            if isinstance(editor, PasswordEditor):
                editor.mark_saved(bool(saved.get(key)))
        if self.columns_step is not None:
            self.columns_step.set_values(saved)
        self.editing = True
        self.last_result = None
        self._blocked = ""
        self.refresh()
        if held and self.form.editors:
            next(iter(self.form.editors.values())).focus_widget().setFocus()

    def cancel_editing(self) -> None:
        held = self._hold_focus()
        self.runner.invalidate("test")
        self.editing = False
        self.last_result = None
        self._blocked = ""
        self.refresh()
        self._give_focus(held, self.edit_button, self.test_button)

    def disconnect_words(self) -> tuple[str, str]:
        """What Disconnect does, truthfully: the settings file goes; each secret goes from
        where it actually is (keychain, or the file itself); a secret written as ${VARIABLE}
        stays in the environment; nothing changes at the service."""
        from peregrine_desktop.settings.secrets import SecretStore

        path = self.cls.config_path(self.config_dir)
        labels = {key: self.form.editors[key].label_text for key in self._secret_keys()}
        places = SecretStore(self.config_dir).secret_places(self.name, list(labels))

        def named(keys: list[str]) -> str:
            return " and ".join(labels[k] for k in keys)

        text = f"Peregrine will delete the {self.record.label} settings saved in {path}"
        if places["file"]:
            text += f", including the {named(places['file'])} kept in that file"
        if places["keychain"]:
            text += f", and the {named(places['keychain'])} stored in the system keychain"
        text += "."
        if places["environment"]:
            text += (f" The {named(places['environment'])} comes from an environment variable; "
                     f"that stays as it is.")
        informative = (f"Your jobs stay in Peregrine, and nothing is deleted in "
                       f"{self.record.label} itself. You can connect again at any time.")
        return text, informative

    def disconnect_service(self) -> None:
        path = self.cls.config_path(self.config_dir)
        text, informative = self.disconnect_words()
        box = message_box(self, QMessageBox.Icon.Question, f"Disconnect {self.record.label}?",
                          text, informative, QMessageBox.StandardButton.Cancel,
                          QMessageBox.StandardButton.Cancel)
        confirm = box.addButton("Disconnect", QMessageBox.ButtonRole.DestructiveRole)
        confirm.setAccessibleName(f"Disconnect {self.record.label}")
        box.exec()
        if box.clickedButton() is not confirm:
            return
        from peregrine_desktop.settings.secrets import SecretStore

        try:
            SecretStore(self.config_dir).forget(self.name, self._secret_keys())
            path.unlink(missing_ok=True)
        except OSError as exc:
            self._show(CardState.NEEDS_ATTENTION,
                       f"The settings file could not be deleted ({exc.strerror}); "
                       f"delete {path} by hand.")
            return
        held = self._hold_focus()
        self.state_store.forget(self.name)
        self.runner.invalidate("test")
        self.last_result = None
        self.editing = False
        self._passed_config = self._failed_config = None
        if self.form is not None:
            for editor in self.form.editors.values():
                if isinstance(editor, PasswordEditor):
                    editor.mark_saved(False)
                editor.clear()
        if self.columns_step is not None:
            self.columns_step.clear()
        self.refresh()
        if held and self.form is not None and self.form.editors:
            next(iter(self.form.editors.values())).focus_widget().setFocus()
        self.disconnected.emit(self.name)
