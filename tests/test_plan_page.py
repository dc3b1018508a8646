"""The plan page, and a plan change reaching every window at once — as a person pastes a key."""
from __future__ import annotations

import json
import os
import re
import stat
from datetime import datetime, timedelta, timezone

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWizard

from integrations.airtable import AirtableIntegration
from peregrine_desktop.ui.field_problems import is_marked
from peregrine_desktop.settings import paths
from peregrine_desktop.ui import wizard as wiz
from peregrine_desktop.ui.profile_forms import PlanSection
from peregrine_desktop.ui.settings_dialog import SettingsDialog
from tests.test_settings import PremiumPing
from tests.test_wizard import advance_to, open_wizard
from tests.ui_helpers import answer_next_message_box, click, mnemonics, press_alt, type_into


def open_plan_tab(qtbot, profile, config_dir) -> SettingsDialog:
    dialog = SettingsDialog(profile, config_dir)
    qtbot.addWidget(dialog)
    dialog.show()
    press_alt(qtbot, dialog, Qt.Key.Key_A)                                   # Pl&an
    assert dialog.tabs.tabText(dialog.tabs.currentIndex()) == "Pl&an"
    return dialog


def test_the_plan_page_says_what_each_plan_unlocks_from_the_gates_themselves(
        qtbot, profile, config_dir):
    dialog = open_plan_tab(qtbot, profile, config_dir)
    plan = dialog.plan
    assert plan.current.text() == "You are on the Free plan."
    assert plan.result.text() == "Free needs no key."
    assert plan.plan_names["free"].text() == "Free (yours)"
    assert "sync with Airtable, Google Sheets and Notion" in plan.plans["paid"].text()
    assert "automatic sync" in plan.plans["paid"].text()
    assert "Slack" in plan.plans["free"].text() and "Notion" not in plan.plans["free"].text()
    assert plan.plans["premium"].text() == ("Everything in Paid; no installed integration needs "
                                            "more yet.")
    assert not plan.activate_button.isEnabled()          # nothing pasted: nothing to activate
    with_premium = PlanSection(integrations=[AirtableIntegration, PremiumPing])
    qtbot.addWidget(with_premium)
    with_premium.show()
    assert with_premium.plans["premium"].text() == ("Everything in Paid, plus connecting "
                                                    "Premium Ping.")


def test_a_key_activated_in_settings_unlocks_the_cards_at_once_and_remove_locks_them(
        qtbot, profile, config_dir, licence_keys):
    dialog = open_plan_tab(qtbot, profile, config_dir)
    notion = dialog.integrations.cards["notion"]
    assert notion.status.text() == "Locked: needs Paid"
    plan = dialog.plan
    type_into(qtbot, plan.key, licence_keys.issue("paid", days=200))
    click(qtbot, plan.activate_button)
    assert plan.result.text().startswith("Paid plan, valid until ")
    assert plan.current.text() == "You are on the Paid plan." and plan.key.text() == ""
    assert notion.status.text() == "Not set up"          # no OK needed: the key counts now
    path = config_dir / "licence.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text())["shown"] == plan.result.text()

    seen: list[str] = []
    answer_next_message_box(QMessageBox.StandardButton.Yes, seen)
    click(qtbot, plan.remove_button)
    assert "Paid features lock until you paste the key again" in seen[0]
    assert plan.current.text() == "You are on the Free plan."
    assert notion.status.text() == "Locked: needs Paid"
    assert not path.exists() and not plan.remove_button.isVisible()


def test_a_changed_key_is_refused_beside_the_field_and_ok_asks_to_clear_it(
        qtbot, profile, config_dir, licence_keys):
    dialog = open_plan_tab(qtbot, profile, config_dir)
    plan = dialog.plan
    header, _claims, signature = licence_keys.issue("paid").split(".")
    forged = licence_keys.issue("premium").split(".")[1]
    type_into(qtbot, plan.key, f"{header}.{forged}.{signature}")
    click(qtbot, plan.activate_button)
    assert plan.result.text().startswith("This key is not valid: it was changed")
    assert plan.current.text() == "You are on the Free plan."
    assert not (config_dir / "licence.json").exists()
    dialog.accept()
    assert dialog.isVisible()                             # the pasted key is not forgotten
    assert "cannot be used" in plan.result.text() and is_marked(plan.key)   # beside the field
    plan.key.selectAll()
    qtbot.keyClick(plan.key, Qt.Key.Key_Delete)
    assert not is_marked(plan.key)                        # cleared once fixed
    assert plan.result.text() == "Free needs no key."
    dialog.accept()
    assert not dialog.isVisible()


def test_an_expired_key_within_its_grace_says_when_to_renew_and_past_it_is_refused(
        qtbot, profile, config_dir, licence_keys):
    dialog = open_plan_tab(qtbot, profile, config_dir)
    plan = dialog.plan
    now = datetime.now(timezone.utc)
    type_into(qtbot, plan.key, licence_keys.issue("premium", days=30, now=now - timedelta(days=33)))
    click(qtbot, plan.activate_button)
    assert re.fullmatch(r"Your Premium key expired on \d+ \w+ \d{4}; renew by \d+ \w+ \d{4} to "
                        r"keep the Premium plan\.", plan.result.text())
    assert plan.current.text() == "You are on the Premium plan."
    type_into(qtbot, plan.key, licence_keys.issue("paid", days=30, now=now - timedelta(days=50)))
    click(qtbot, plan.activate_button)
    assert re.fullmatch(r"This Paid key expired on \d+ \w+ \d{4}; ask for a renewed key\.",
                        plan.result.text())
    assert plan.current.text() == "You are on the Premium plan."     # the saved key stays


def test_a_pasted_key_not_yet_activated_keeps_the_wizard_on_the_plan_page(qtbot, config_dir,
                                                                          licence_keys):
    wizard = open_wizard(qtbot, config_dir)
    advance_to(qtbot, wizard, wiz.PLAN)
    plan = wizard.page(wiz.PLAN).section
    type_into(qtbot, plan.key, licence_keys.issue("paid"))
    click(qtbot, wizard.button(QWizard.WizardButton.NextButton))
    assert wizard.currentId() == wiz.PLAN
    assert plan.result.text() == ("Press Activate to use the licence key you pasted, or clear "
                                  "the field.")
    assert is_marked(plan.key) and plan.key.hasFocus()
    press_alt(qtbot, wizard, Qt.Key.Key_V)                   # Acti&vate (an animated click)
    qtbot.waitUntil(lambda: plan.result.text().startswith("Paid plan, valid until "))
    assert not is_marked(plan.key)
    click(qtbot, wizard.button(QWizard.WizardButton.NextButton))
    assert wizard.currentId() == wiz.TARGETS


def test_mnemonics_are_unique_on_the_plan_page_and_the_settings_plan_tab(qtbot, profile,
                                                                        config_dir, licence_keys):
    licence_keys.activate(config_dir, "paid")           # Remove key shows too
    wizard = open_wizard(qtbot, config_dir)
    advance_to(qtbot, wizard, wiz.PLAN)
    keys = mnemonics(wizard)
    assert {"k", "v", "m"} <= set(keys) and len(keys) == len(set(keys)), keys
    dialog = open_plan_tab(qtbot, profile, config_dir)
    keys = mnemonics(dialog)
    assert {"k", "v", "m"} <= set(keys) and len(keys) == len(set(keys)), keys


def test_finishing_the_wizard_with_a_paid_key_unlocks_sync_with_no_other_step(
        qtbot, config_dir, data_dir, licence_keys):
    """The sync window is built while the wizard is still open (first launch); the key
    activated on the plan page reaches it, so Sync is unlocked as soon as the wizard ends."""
    from peregrine_desktop.app import Application

    AirtableIntegration.save_config({"token": "pat-test", "base_id": "appTEST",
                                     "table": "Jobs", "key_column": "Peregrine ID"}, config_dir)
    paths.set_overrides(config_dir, data_dir)
    application = Application()
    application.start()
    try:
        wizard = application.wizard
        qtbot.addWidget(wizard)
        qtbot.waitUntil(lambda: application.sync_dialog is not None, timeout=10_000)
        window = application.window
        qtbot.addWidget(window)
        panel = application.sync_dialog.panel
        assert panel.rows["airtable"].status.text().startswith("Locked: needs Paid")
        assert "needs a Paid plan" in window.sync_action.toolTip()

        advance_to(qtbot, wizard, wiz.PLAN)
        plan = wizard.page(wiz.PLAN).section
        type_into(qtbot, plan.key, licence_keys.issue("paid", days=365))
        click(qtbot, plan.activate_button)
        advance_to(qtbot, wizard, wiz.INTEGRATIONS)
        click(qtbot, wizard.button(QWizard.WizardButton.FinishButton))
        qtbot.waitUntil(window.isVisible, timeout=5_000)

        window.sync_action.trigger()                      # Sync → Sync now…
        assert application.sync_dialog.isVisible()
        row = application.sync_dialog.panel.rows["airtable"]
        assert "Locked" not in row.status.text()
        assert application.sync_dialog.panel.sync_button.isEnabled()
        assert application.sync_dialog.panel.auto_box.isEnabled()
        assert "needs a Paid plan" not in window.sync_action.toolTip()
    finally:
        application.shutdown()
        paths.set_overrides()
