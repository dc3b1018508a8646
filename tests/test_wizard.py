"""The first-launch wizard as a person goes through it: type, Next, close, come back."""
from __future__ import annotations

import pytest
import yaml
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from peregrine_desktop.settings.profile import UserProfile
from peregrine_desktop.ui import wizard as wiz
from peregrine_desktop.ui.wizard import SetupWizard
from tests.ui_helpers import click, type_into, visible_text


def open_wizard(qtbot, config_dir) -> SetupWizard:
    profile = UserProfile(config_dir / "user.yaml")
    wizard = SetupWizard(profile, config_dir)
    qtbot.addWidget(wizard)
    with qtbot.waitActive(wizard):  # the keyboard's focus is in it, as on a desktop
        wizard.show()
        wizard.activateWindow()
    wizard.resume()
    return wizard


def next_button(wizard: QWizard):
    return wizard.button(QWizard.WizardButton.NextButton)


def saved(config_dir) -> dict:
    return yaml.safe_load((config_dir / "user.yaml").read_text())


def fill_page(qtbot, wizard: SetupWizard, step: int) -> None:
    """What a person types on each page before pressing Next."""
    page = wizard.page(step)
    if step == wiz.TARGETS:
        type_into(qtbot, page.section.titles, "Site Reliability Engineer")
        type_into(qtbot, page.section.locations, "Berlin")


def advance_to(qtbot, wizard: SetupWizard, step: int) -> None:
    while wizard.currentId() < step:
        fill_page(qtbot, wizard, wizard.currentId())
        click(qtbot, next_button(wizard))


def test_five_pages_in_order_each_about_something_the_app_does(qtbot, config_dir):
    wizard = open_wizard(qtbot, config_dir)
    assert wizard.currentId() == wiz.WELCOME
    assert str(config_dir) in visible_text(wizard.currentPage())   # says where data is kept
    advance_to(qtbot, wizard, wiz.INTEGRATIONS)
    titles = [wizard.page(i).title() for i in wizard.pageIds()]
    assert titles == ["Step 1 of 5: Welcome to Peregrine", "Step 2 of 5: Your plan",
                      "Step 3 of 5: What you are looking for", "Step 4 of 5: Notifications",
                      "Step 5 of 5: Integrations"]
    subtitles = " ".join(wizard.page(i).subTitle() for i in wizard.pageIds())
    assert "fill in applications" not in subtitles
    assert "marked ★ in your pipeline" in wizard.page(wiz.TARGETS).subTitle()


def test_the_targets_are_optional(qtbot, config_dir):
    wizard = open_wizard(qtbot, config_dir)
    advance_to(qtbot, wizard, wiz.TARGETS)
    assert not wizard.page(wiz.TARGETS).section.titles.toPlainText()
    click(qtbot, next_button(wizard))
    assert wizard.currentId() == wiz.NOTIFICATIONS
    assert saved(config_dir)["target_titles"] == []


def test_a_problem_shows_beside_its_field_and_goes_when_fixed(qtbot, config_dir):
    from peregrine_desktop.ui.profile_forms import MAX_LINES

    wizard = open_wizard(qtbot, config_dir)
    advance_to(qtbot, wizard, wiz.TARGETS)
    section = wizard.page(wiz.TARGETS).section
    section.exclude.setFocus()
    section.exclude.setPlainText("\n".join(f"word {n}" for n in range(MAX_LINES + 1)))  # pasted
    click(qtbot, next_button(wizard))
    assert wizard.currentId() == wiz.TARGETS
    message = section.checks[2].label
    assert message.isVisible() and message.text() == \
        f"That is a lot of keywords; keep it under {MAX_LINES}."
    assert section.exclude.property("invalid") is True
    # Right under its own field, not under another one or at the bottom of the page.
    below = message.mapTo(section, message.rect().topLeft()).y() - \
        section.exclude.mapTo(section, section.exclude.rect().bottomLeft()).y()
    assert 0 <= below < 12
    assert not section.checks[0].label.isVisible()
    assert section.exclude.hasFocus()
    qtbot.keyClick(section.exclude, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(section.exclude, Qt.Key.Key_Home, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(section.exclude, Qt.Key.Key_Backspace)       # the last line gone: fixed
    assert not message.isVisible() and section.exclude.property("invalid") is False
    click(qtbot, next_button(wizard))
    assert wizard.currentId() == wiz.NOTIFICATIONS


def test_alt_n_is_next_and_tab_leaves_the_targets_boxes(qtbot, config_dir):
    wizard = open_wizard(qtbot, config_dir)
    advance_to(qtbot, wizard, wiz.TARGETS)
    section = wizard.page(wiz.TARGETS).section
    section.titles.setFocus()
    qtbot.keyClicks(section.titles, "SRE")
    qtbot.keyClick(section.titles, Qt.Key.Key_Tab)
    assert section.locations.hasFocus() and section.titles.toPlainText() == "SRE"
    qtbot.keyClick(section.locations, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: wizard.currentId() == wiz.NOTIFICATIONS)  # a mnemonic's click
    assert saved(config_dir)["target_titles"] == ["SRE"]


@pytest.mark.parametrize("step", range(wiz.PAGE_COUNT))
def test_closing_at_any_page_resumes_there(qtbot, config_dir, step):
    wizard = open_wizard(qtbot, config_dir)
    advance_to(qtbot, wizard, step)
    wizard.close()                                   # the window closed (or the app crashed)
    again = open_wizard(qtbot, config_dir)
    assert again.currentId() == step
    if step > wiz.TARGETS:
        assert again.page(wiz.TARGETS).section.titles.toPlainText() == \
            "Site Reliability Engineer"
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
    advance_to(qtbot, rerun, wiz.TARGETS)
    assert rerun.page(wiz.TARGETS).section.locations.toPlainText() == "Berlin"


def test_a_failed_save_keeps_the_user_on_the_page_with_a_reason(qtbot, config_dir):
    wizard = open_wizard(qtbot, config_dir)
    advance_to(qtbot, wizard, wiz.TARGETS)
    fill_page(qtbot, wizard, wiz.TARGETS)
    target = config_dir / "user.yaml"
    target.unlink()
    target.mkdir()            # the file cannot be replaced: the save fails (even as root)
    click(qtbot, next_button(wizard))
    assert wizard.currentId() == wiz.TARGETS
    assert "could not be saved" in wizard.currentPage().subTitle()
    target.rmdir()
    click(qtbot, next_button(wizard))                 # fixed: Next works again
    assert wizard.currentId() == wiz.NOTIFICATIONS
