"""The first-launch wizard as a person goes through it: type, Next, close, come back."""
from __future__ import annotations

import pytest
import yaml
from PySide6.QtWidgets import QWizard

from peregrine_desktop.settings.profile import UserProfile
from peregrine_desktop.ui import wizard as wiz
from peregrine_desktop.ui.wizard import SetupWizard
from tests.ui_helpers import click, type_into, visible_text


def open_wizard(qtbot, config_dir) -> SetupWizard:
    profile = UserProfile(config_dir / "user.yaml")
    wizard = SetupWizard(profile, config_dir)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.resume()
    return wizard


def next_button(wizard: QWizard):
    return wizard.button(QWizard.WizardButton.NextButton)


def saved(config_dir) -> dict:
    return yaml.safe_load((config_dir / "user.yaml").read_text())


def fill_page(qtbot, wizard: SetupWizard, step: int) -> None:
    """What a person types on each page before pressing Next."""
    page = wizard.page(step)
    if step == wiz.IDENTITY:
        type_into(qtbot, page.section.name, "Ada Lovelace")
        type_into(qtbot, page.section.email, "ada@example.com")
    elif step == wiz.TARGETS:
        type_into(qtbot, page.section.titles, "Site Reliability Engineer")
        type_into(qtbot, page.section.locations, "Berlin")


def advance_to(qtbot, wizard: SetupWizard, step: int) -> None:
    while wizard.currentId() < step:
        fill_page(qtbot, wizard, wizard.currentId())
        click(qtbot, next_button(wizard))


def test_seven_pages_in_order(qtbot, config_dir):
    wizard = open_wizard(qtbot, config_dir)
    assert wizard.currentId() == wiz.WELCOME
    assert str(config_dir) in visible_text(wizard.currentPage())   # says where data is kept
    advance_to(qtbot, wizard, wiz.INTEGRATIONS)
    titles = [wizard.page(i).title() for i in wizard.pageIds()]
    assert titles[0].startswith("Step 1 of 7") and titles[-1] == "Step 7 of 7: Integrations"


def test_identity_page_refuses_to_continue_without_a_name(qtbot, config_dir):
    wizard = open_wizard(qtbot, config_dir)
    advance_to(qtbot, wizard, wiz.IDENTITY)
    section = wizard.page(wiz.IDENTITY).section
    type_into(qtbot, section.email, "not-an-email")
    click(qtbot, next_button(wizard))
    assert wizard.currentId() == wiz.IDENTITY
    assert "Enter your name." in section.error.text()
    assert "looks incomplete" in section.error.text()
    type_into(qtbot, section.name, "Ada")
    type_into(qtbot, section.email, "ada@example.com")
    click(qtbot, next_button(wizard))
    assert wizard.currentId() == wiz.DOCUMENTS
    assert saved(config_dir)["name"] == "Ada"


@pytest.mark.parametrize("step", range(wiz.PAGE_COUNT))
def test_closing_at_any_page_resumes_there(qtbot, config_dir, step):
    wizard = open_wizard(qtbot, config_dir)
    advance_to(qtbot, wizard, step)
    wizard.close()                                   # the window closed (or the app crashed)
    again = open_wizard(qtbot, config_dir)
    assert again.currentId() == step
    if step > wiz.IDENTITY:
        assert again.page(wiz.IDENTITY).section.name.text() == "Ada Lovelace"
    assert (config_dir / "user.yaml").exists() is (step > 0)
    if step > 0:
        assert saved(config_dir)["wizard_complete"] is False


def test_finish_without_any_integration_completes_setup(qtbot, config_dir):
    wizard = open_wizard(qtbot, config_dir)
    advance_to(qtbot, wizard, wiz.INTEGRATIONS)
    assert wizard.page(wiz.INTEGRATIONS).panel is not None
    click(qtbot, wizard.button(QWizard.WizardButton.FinishButton))
    data = saved(config_dir)
    assert data["wizard_complete"] is True
    assert data["target_titles"] == ["Site Reliability Engineer"]
    assert data["notify_events"] == ["job_added", "status_changed", "interview_scheduled",
                                     "reminder_due"]


def test_a_licence_key_activated_on_the_plan_page_reaches_the_integration_cards(
        qtbot, config_dir, licence_keys):
    wizard = open_wizard(qtbot, config_dir)
    advance_to(qtbot, wizard, wiz.PLAN)
    plan = wizard.page(wiz.PLAN).section
    type_into(qtbot, plan.key, licence_keys.issue("paid", days=90))
    click(qtbot, plan.activate_button)
    assert plan.result.text().startswith("Paid plan, valid until ")
    advance_to(qtbot, wizard, wiz.INTEGRATIONS)
    assert "tier" not in saved(config_dir)             # the plan is the key's, not the file's
    assert wizard.page(wiz.INTEGRATIONS).panel.tier == "paid"


def test_run_setup_again_starts_with_earlier_answers(qtbot, config_dir):
    wizard = open_wizard(qtbot, config_dir)
    advance_to(qtbot, wizard, wiz.INTEGRATIONS)
    click(qtbot, wizard.button(QWizard.WizardButton.FinishButton))
    profile = UserProfile(config_dir / "user.yaml")
    rerun = SetupWizard(profile, config_dir)          # from Settings: starts at Welcome
    qtbot.addWidget(rerun)
    rerun.show()
    advance_to(qtbot, rerun, wiz.IDENTITY)
    assert rerun.page(wiz.IDENTITY).section.name.text() == "Ada Lovelace"


def test_a_failed_save_keeps_the_user_on_the_page_with_a_reason(qtbot, config_dir):
    wizard = open_wizard(qtbot, config_dir)
    advance_to(qtbot, wizard, wiz.IDENTITY)
    fill_page(qtbot, wizard, wiz.IDENTITY)
    target = config_dir / "user.yaml"
    target.unlink()
    target.mkdir()            # the file cannot be replaced: the save fails (even as root)
    click(qtbot, next_button(wizard))
    assert wizard.currentId() == wiz.IDENTITY
    assert "could not be saved" in wizard.currentPage().subTitle()
    target.rmdir()
    click(qtbot, next_button(wizard))                 # fixed: Next works again
    assert wizard.currentId() == wiz.DOCUMENTS
