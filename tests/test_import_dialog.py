"""Import from Peregrine as a person does it: from the wizard's first page or File, type or choose
the folder, read the preview, import, read the summary."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.settings.profile import UserProfile
from peregrine_desktop.ui import wizard as wiz
from peregrine_desktop.ui.import_dialog import PREVIEW, SUMMARY, ImportDialog
from peregrine_desktop.ui.main_window import MainWindow
from peregrine_desktop.ui.wizard import SetupWizard
from tests.fakes import peregrine_web as web
from tests.test_secrets import file_keyring, use_keyring  # noqa: F401 - fixtures
from tests.ui_helpers import click, type_into, visible_text

JOBS = len(web.STATUS_CASES) + 2


@pytest.fixture
def install(tmp_path):
    return web.docker_install(tmp_path / "peregrine", tmp_path / "JobSearch")


@pytest.fixture
def store(data_dir):
    store = JobStore(data_dir / "jobs.sqlite3")
    yield store
    store.close()


def table_texts(table) -> list[list[str]]:
    return [[table.item(r, c).text() for c in range(table.columnCount())]
            for r in range(table.rowCount())]


def preview(qtbot, dialog: ImportDialog, path) -> None:
    type_into(qtbot, dialog.path_edit, str(path))
    qtbot.keyClick(dialog.path_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == PREVIEW, timeout=20000)


def test_preview_then_import_lands_on_the_summary(qtbot, install, config_dir, store,
                                                  file_keyring):
    before = web.tree_hashes(install)
    profile = UserProfile(config_dir / "user.yaml")
    dialog = ImportDialog(config_dir, store, profile)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.next_button.isEnabled()         # nothing chosen yet
    preview(qtbot, dialog, install)

    shown = visible_text(dialog)
    assert "Found a Peregrine install (Docker)" in shown
    assert f"{JOBS} jobs to bring: Pending" in shown
    assert "1 job will be skipped (the reason is below)" in shown
    rows = {row[0]: row for row in table_texts(dialog.integrations_table)}
    assert rows["Dropbox"][2] == "Needs Sign in… again"
    assert rows["Google Sheets"][2] == "Needs attention"
    assert rows["Apple Calendar / CalDAV"][1] == "apple_calendar.yaml"
    assert dialog.jobs_table.rowCount() == 8
    assert "licence key" in dialog.preview_notes.toPlainText()
    assert store.count() == 0                          # a preview writes nothing

    assert dialog.next_button.text() == "&Import" and dialog.next_button.isDefault()
    click(qtbot, dialog.next_button)
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == SUMMARY, timeout=20000)
    summary = dialog.summary_view.toPlainText()
    assert f"Jobs added: {JOBS}" in summary and "Dropbox: needs Sign in… again" in summary
    assert not any(value in summary for value in web.SECRETS.values())
    assert store.count() == JOBS and profile.name == "Zoë Ångström"
    assert dialog.close_button.text() == "&Close"
    click(qtbot, dialog.close_button)
    assert not dialog.isVisible()
    assert web.tree_hashes(install) == before

    again = ImportDialog(config_dir, store, profile)      # the same install a second time
    qtbot.addWidget(again)
    again.show()
    preview(qtbot, again, install)
    states = {row[2] for row in table_texts(again.integrations_table)}
    assert states == {"Already set up here: kept"}


def test_a_folder_that_is_not_peregrine_is_explained_beside_the_field(qtbot, tmp_path,
                                                                      config_dir, store):
    dialog = ImportDialog(config_dir, store)
    qtbot.addWidget(dialog)
    dialog.show()
    (tmp_path / "holiday photos").mkdir()
    type_into(qtbot, dialog.path_edit, str(tmp_path / "holiday photos"))
    qtbot.keyClick(dialog.path_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "does not look like a Peregrine install"
                    in dialog.path_problem.text(), timeout=20000)
    assert dialog.path_problem.isVisible()
    assert dialog.path_problem.textFormat() == Qt.TextFormat.PlainText
    type_into(qtbot, dialog.path_edit, "x")            # fixing the path clears the message
    assert not dialog.path_problem.isVisible()


def test_the_wizards_first_page_imports_and_fills_the_next_pages(qtbot, install, config_dir,
                                                                  data_dir, file_keyring):
    profile = UserProfile(config_dir / "user.yaml")
    wizard = SetupWizard(profile, config_dir)
    qtbot.addWidget(wizard)
    wizard.show()
    imported = []
    wizard.imported.connect(lambda: imported.append(True))
    button = wizard.page(wiz.WELCOME).import_button
    assert "Import from Peregrine…" in visible_text(wizard)
    click(qtbot, button)
    dialog = wizard.import_dialog
    preview(qtbot, dialog, install)
    click(qtbot, dialog.next_button)
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == SUMMARY, timeout=20000)
    assert imported == [True]
    click(qtbot, dialog.close_button)
    while wizard.currentId() < wiz.TARGETS:
        click(qtbot, wizard.button(wizard.WizardButton.NextButton))
    assert wizard.page(wiz.TARGETS).section.titles.toPlainText() == \
        "Site Reliability Engineer\nPlatform Engineer"
    assert profile.name == "Zoë Ångström"         # kept in Settings → Profile
    store = JobStore(data_dir / "jobs.sqlite3")
    assert store.count() == JOBS
    store.close()


def test_file_menu_offers_the_import_and_the_pipeline_rereads(qtbot, config_dir, store):
    repository = JobRepository(store)
    window = MainWindow(UserProfile(config_dir / "user.yaml", read=False), config_dir,
                        repository)
    qtbot.addWidget(window)
    texts = [a.text() for a in window.file_menu.actions()]
    assert "Import from &Peregrine…" in texts
    mnemonics = [t.split("&")[1][0].lower() for t in texts if "&" in t]
    assert mnemonics.count("p") == 1                   # its mnemonic is its own
    resets = []
    repository.jobs_reset.connect(lambda: resets.append(True))
    window.import_peregrine_action.trigger()
    dialog = window.import_dialog
    assert dialog.isVisible() and dialog.windowTitle() == "Import from Peregrine"
    dialog.imported.emit(None)
    assert resets == [True]


def test_the_preview_reads_whole_at_its_size(qtbot, install, config_dir, store):
    dialog = ImportDialog(config_dir, store, UserProfile(config_dir / "user.yaml"))
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.width() <= 800 and dialog.height() <= 600 - 40      # an 800×600 screen
    preview(qtbot, dialog, install)
    QApplication.processEvents()
    counts = dialog.preview_counts
    metrics = counts.fontMetrics()
    jobs_line, skipped_line = counts.text().splitlines()[:2]
    for line in (jobs_line, skipped_line):           # each on one line of its own
        assert metrics.horizontalAdvance(line) <= counts.contentsRect().width(), line
    notes = dialog.preview_notes
    line = notes.fontMetrics().lineSpacing()
    assert notes.viewport().height() % line == 0               # whole lines, none cut
    assert notes.viewport().height() // line >= 4
    assert notes.verticalScrollBar().maximum() > 0             # the rest scrolls
