"""ConnectionCard: one integration's connection, as used by wizard Step 7 and Settings.

States: Not set up · Testing… · Connected (tested 14:02) · Saved, not tested · Needs attention ·
Locked: needs Paid · Unavailable: reason.  The Test button runs on the worker pool; a result for
values the user has since edited is dropped.
"""
from __future__ import annotations

import enum
import html
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QMessageBox, QPushButton, QSizePolicy,
                               QVBoxLayout, QWidget)

from peregrine_sdk.base import check_config
from peregrine_sdk.capabilities import capabilities_of
from peregrine_sdk.discovery import DiscoveryRecord
from peregrine_sdk.errors import CheckResult, ErrorKind, IntegrationError
from peregrine_desktop.settings.configfiles import ConfigFileError
from peregrine_desktop.settings.integration_state import IntegrationState
from peregrine_desktop.settings.tiers import TIER_LABELS, locked_reason, tier_allows, upgrade_hint
from peregrine_desktop.ui.fields import ChoiceEditor, FieldForm, PasswordEditor
from peregrine_desktop.ui.plain_text import ask, bold_heading
from peregrine_desktop.workers import TaskRunner

log = logging.getLogger(__name__)

DEFAULT_TEST_TIMEOUT_MS = 30_000


class CardState(enum.Enum):
    NOT_SET_UP = "not_set_up"
    TESTING = "testing"
    CONNECTED = "connected"
    SAVED_UNTESTED = "saved_untested"
    NEEDS_ATTENTION = "needs_attention"
    LOCKED = "locked"
    UNAVAILABLE = "unavailable"


STATE_COLOURS = {
    CardState.NOT_SET_UP: "#9e9e9e", CardState.TESTING: "#1e88e5",
    CardState.CONNECTED: "#2e7d32", CardState.SAVED_UNTESTED: "#f9a825",
    CardState.NEEDS_ATTENTION: "#c62828", CardState.LOCKED: "#757575",
    CardState.UNAVAILABLE: "#757575",
}


def begin_sign_in(cls: type, config: dict[str, Any]) -> tuple[Any, Any]:
    """Worker: an instance with the form's values, and the prompt its sign-in shows."""
    instance = cls()
    instance.connect(dict(config))    # the secret that sign-in provides is still missing
    return instance, instance.begin_sign_in()


def finish_sign_in(instance: Any) -> dict[str, Any]:
    """Worker: wait until the person approved in the browser; the settings it produced."""
    return dict(instance.finish_sign_in() or {})


class ConnectionCard(QFrame):
    """A card for one discovered integration (or for one that failed to load)."""

    test_finished = Signal(str, object)   # name, CheckResult
    saved = Signal(str)
    disconnected = Signal(str)

    def __init__(self, record: DiscoveryRecord, config_dir: Path, tier: str,
                 parent: QWidget | None = None,
                 test_timeout_ms: int = DEFAULT_TEST_TIMEOUT_MS, compact: bool = False) -> None:
        super().__init__(parent)
        #: In a list of many cards, one not set up shows only "Set up…" until opened.
        self.collapsed = compact
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
        self.form: FieldForm | None = None
        self.setObjectName("connectionCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName(f"{record.label} connection")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self._build()
        self.refresh()

    # -- construction --------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(14, 12, 14, 12)
        outer.setSpacing(8)

        head = QHBoxLayout()
        head.setSpacing(8)
        self.title = QLabel(bold_heading(self.record.label), self)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        head.addWidget(self.title)
        if self.cls is not None:
            self.badge = QLabel(TIER_LABELS.get(self.cls.tier, self.cls.tier), self)
            self.badge.setObjectName("tierBadge")
            self.badge.setStyleSheet("QLabel#tierBadge { border: 1px solid palette(mid); "
                                     "border-radius: 8px; padding: 0 7px; font-size: 8pt; }")
            self.badge.setAccessibleName(f"Plan: {self.badge.text()}")
            head.addWidget(self.badge)
        head.addStretch(1)
        self.dot = QLabel("●", self)
        self.status = QLabel("", self)
        self.status.setObjectName("cardStatus")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        head.addWidget(self.dot)
        head.addWidget(self.status)
        outer.addLayout(head)

        meta = []
        if self.cls is not None:
            if self.cls.description:
                meta.append(self.cls.description)
            caps = [c.label for c in capabilities_of(self.cls)]
            if caps:
                meta.append("Can: " + ", ".join(caps) + ".")
        if self.record.third_party:
            meta.append(f"Third-party plugin · {self.record.origin}")
        self.meta = QLabel("  ".join(meta), self)
        self.meta.setWordWrap(True)
        self.meta.setStyleSheet("color: palette(placeholder-text);")
        self.meta.setVisible(bool(meta))
        outer.addWidget(self.meta)

        self.detail = QLabel("", self)   # the reason / hint line under the header
        self.detail.setWordWrap(True)
        self.detail.setObjectName("cardDetail")
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.detail)

        self.sign_in_box = QLabel("", self)   # the sign-in prompt: link, code, what to do
        self.sign_in_box.setObjectName("signInPrompt")
        self.sign_in_box.setWordWrap(True)
        self.sign_in_box.setOpenExternalLinks(True)
        self.sign_in_box.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.sign_in_box.setStyleSheet("QLabel#signInPrompt { border: 1px solid palette(mid); "
                                       "border-radius: 4px; padding: 8px; }")
        self.sign_in_box.hide()
        outer.addWidget(self.sign_in_box)
        self._sign_in_instance: Any = None

        self.storage = QLabel("", self)   # where the secrets went, when not the keychain
        self.storage.setObjectName("cardStorage")
        self.storage.setWordWrap(True)
        self.storage.setStyleSheet("color: palette(placeholder-text);")
        self.storage.hide()
        outer.addWidget(self.storage)
        self.unlock_button = QPushButton("Unlock keychain and retry", self)  # when it is locked
        self.unlock_button.setAutoDefault(False)
        self.unlock_button.clicked.connect(self.unlock_keychain)
        self.unlock_button.hide()
        outer.addWidget(self.unlock_button, 0, Qt.AlignmentFlag.AlignLeft)

        self.note = QLabel("", self)    # deliveries waiting for this service, if any
        self.note.setObjectName("cardNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #b26a00;")
        self.note.hide()
        outer.addWidget(self.note)

        if self.cls is not None:
            try:
                specs = self.cls().fields()
            except Exception as exc:  # validated at discovery; a plugin may still misbehave
                log.exception("%s: fields() raised", self.name)
                self.record.error = f"its settings form could not be built ({exc})"
                self.cls = None
            else:
                self.form = FieldForm(specs, self)
                self.form.changed.connect(self._on_form_edited)
                outer.addWidget(self.form)

        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        buttons.addStretch(1)
        self.set_up_button = self._button("Set &up…", self.expand, buttons)
        self.sign_in_button = self._button("Sign &in…", self.start_sign_in, buttons)
        self.test_button = self._button("&Test", self.run_test, buttons)
        self.save_anyway_button = self._button("Save an&yway", self.save_anyway, buttons)
        self.save_button = self._button("&Save", self.save, buttons)
        self.edit_button = self._button("&Edit", self.start_editing, buttons)
        self.cancel_button = self._button("Cancel", self.cancel_editing, buttons)
        self.disconnect_button = self._button("&Disconnect", self.disconnect_service, buttons)
        self.save_button.setDefault(True)
        outer.addLayout(buttons)

    def _button(self, text: str, slot: Any, layout: QHBoxLayout) -> QPushButton:
        button = QPushButton(text, self)
        button.setAutoDefault(False)
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

    def is_configured(self) -> bool:
        return self.cls is not None and self.cls.is_configured(self.config_dir)

    def is_locked(self) -> bool:
        return self.cls is not None and not tier_allows(self.tier, self.cls.tier)

    def set_tier(self, tier: str) -> None:
        self.tier = tier
        self.refresh()

    def refresh(self) -> None:
        """Recompute the state from the files and the last test, and lay out the card for it."""
        if self.cls is None:
            self._show(CardState.UNAVAILABLE, f"{self.record.label} is unavailable: "
                                              f"{self.record.error}")
        elif self.is_locked():
            self._show(CardState.LOCKED, upgrade_hint(self.record.label, self.cls.tier))
        elif self.runner.is_running("test"):
            self._show(CardState.TESTING, "")
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
                self._show(CardState.CONNECTED, "")
            else:
                self._show(CardState.NEEDS_ATTENTION, result.message)
        else:
            result = self.last_result
            if result is not None and not result.ok:
                self._show(CardState.NEEDS_ATTENTION, result.message)
            elif result is not None and result.ok:
                self._show(CardState.CONNECTED, "Test passed. Save to keep these settings.")
            else:
                self._show(CardState.NOT_SET_UP, "")

    def _secret_keys(self) -> list[str]:
        if self.form is None:
            return []
        return [key for key, editor in self.form.editors.items()
                if isinstance(editor, PasswordEditor)]

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

        warning = insecure_secret_warning(self.form.specs if self.form else [], config)
        if not warning:
            return True
        answer = QMessageBox.warning(
            self, "Send without encryption?", warning,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def _status_text(self, state: CardState) -> str:
        result = self.last_result or (self.state_store.last_check(self.name)
                                      if self.cls else None)
        if state is CardState.CONNECTED and result and result.at:
            return f"Connected (tested {result.at:%H:%M})"
        if state is CardState.LOCKED and self.cls is not None:
            return locked_reason(self.cls.tier)
        return {
            CardState.NOT_SET_UP: "Not set up", CardState.TESTING: "Testing…",
            CardState.CONNECTED: "Connected", CardState.SAVED_UNTESTED: "Saved, not tested",
            CardState.NEEDS_ATTENTION: "Needs attention", CardState.UNAVAILABLE: "Unavailable",
        }[state]

    def _show(self, state: CardState, detail: str) -> None:
        self.state = state
        self.status.setText(self._status_text(state))
        self.dot.setStyleSheet(f"color: {STATE_COLOURS[state]};")
        self.status.setAccessibleName(f"{self.record.label} status: {self.status.text()}")
        self.detail.setText(detail)
        self.detail.setVisible(bool(detail))
        self.detail.setStyleSheet("color: #c62828;" if state is CardState.NEEDS_ATTENTION
                                  else "")
        usable = state not in (CardState.UNAVAILABLE, CardState.LOCKED)
        configured = usable and self.is_configured()
        form_shown = usable and (self.editing or not configured)
        folded = form_shown and self.collapsed and not self.editing
        self.set_up_button.setVisible(folded)
        if folded:
            form_shown = usable = False
        testing = state is CardState.TESTING
        if self.form is not None:
            self.form.setVisible(form_shown)
        signing_in = self.runner.is_running("sign_in")
        self.sign_in_button.setVisible(form_shown and self.supports_sign_in())
        self.sign_in_button.setText("Cancel sign-in" if signing_in else "Sign &in…")
        self.sign_in_button.setEnabled(not testing)
        self.test_button.setVisible(usable)
        self.test_button.setEnabled(not testing and not signing_in)
        self.test_button.setText("Testing…" if testing else "&Test")
        self.save_button.setVisible(form_shown)
        current = self.form_config() if form_shown else None
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

    def expand(self) -> None:
        """Set up…: open the form of a card shown folded."""
        self.collapsed = False
        self.refresh()
        if self.form is not None and self.form.editors:
            next(iter(self.form.editors.values())).focus_widget().setFocus()

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

    def form_config(self) -> dict[str, Any] | None:
        """The config the form describes (saved secrets kept where left empty), or None."""
        if self.form is None:
            return None
        values = self.form.values()
        saved = self.saved_config() if self.editing else {}
        for key, editor in self.form.editors.items():
            if isinstance(editor, PasswordEditor) and editor.has_saved_value and not values[key]:
                values[key] = saved.get(key, "")
        return values

    def _on_form_edited(self) -> None:
        if self.runner.is_running("test"):
            self.runner.invalidate("test")   # the running test is for values that are gone
        self.last_result = None
        self.refresh()

    # -- actions ---------------------------------------------------------------------------------
    def run_test(self) -> bool:
        """Start a connection test; False (and nothing started) if one is already running or the
        form has problems."""
        if self.cls is None or self.is_locked() or self.runner.is_running("test"):
            return False
        form_shown = self.form is not None and self.form.isVisibleTo(self)
        if form_shown:
            if self.form.problems(show=True):
                return False
            config = self.form_config() or {}
            if not self._confirm_plain_http(config):
                return False
        else:
            config = self.saved_config()
        self.runner.start(check_config, self.cls, config, key="test",
                          on_success=lambda outcome: self._on_tested(config, *outcome),
                          on_failure=lambda exc: self._on_tested(config, CheckResult.failure(
                              ErrorKind.UNKNOWN)),
                          on_timeout=lambda: self._on_tested(config, CheckResult.failure(
                              ErrorKind.TIMEOUT, f"The test did not finish within "
                              f"{self.test_timeout_ms // 1000} s. The service may be down; "
                              f"try again later.")),
                          timeout_ms=self.test_timeout_ms)
        self.refresh()
        return True

    def _on_tested(self, config: dict[str, Any], result: CheckResult,
                   choices: dict[str, list] | None = None) -> None:
        self.runner.invalidate("test")
        if choices and self.form is not None:
            for key, options in choices.items():
                editor = self.form.editors.get(key)
                if isinstance(editor, ChoiceEditor):
                    editor.set_choices(options)
        self.last_result = result
        self._passed_config = config if result.ok else None
        self._failed_config = None if result.ok else config
        if self.is_configured() and not self.editing:
            self.state_store.record_check(self.name, result)
        self.refresh()
        self.test_finished.emit(self.name, result)

    def save(self) -> None:
        config = self.form_config()
        if config is None or config != self._passed_config:
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
        self.editing = False
        self._passed_config = self._failed_config = None
        self.refresh()
        self.saved.emit(self.name)

    def _keychain_refused(self, refused: Any) -> str | None:
        """The keychain exists but did not take the secret: the user chooses to (unlock and)
        retry, to keep it in a private file, or to stop: "retry", "file" or None."""
        from peregrine_desktop.settings.secrets import consent_to_file
        from peregrine_desktop.ui.plain_text import message_box

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
        saved = self.saved_config()
        self.form.set_values(saved)
        for key, editor in self.form.editors.items():
            if isinstance(editor, PasswordEditor):
                editor.mark_saved(bool(saved.get(key)))
        self.editing = True
        self.last_result = None
        self.refresh()

    def cancel_editing(self) -> None:
        self.runner.invalidate("test")
        self.editing = False
        self.last_result = None
        self.refresh()

    def disconnect_service(self) -> None:
        path = self.cls.config_path(self.config_dir)
        answer = ask(
            self, f"Disconnect {self.record.label}?",
            f"Peregrine will delete the {self.record.label} settings saved in {path}, and its "
            f"secrets in the system keychain.\n\n"
            f"Your jobs stay in Peregrine, and nothing is deleted in {self.record.label} "
            f"itself. You can connect again at any time.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
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
        self.state_store.forget(self.name)
        self.runner.invalidate("test")
        self.last_result = None
        self.editing = False
        if self.form is not None:
            for editor in self.form.editors.values():
                if isinstance(editor, PasswordEditor):
                    editor.mark_saved(False)
                editor.clear()
        self.refresh()
        self.disconnected.emit(self.name)
