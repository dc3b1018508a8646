"""Alt+letter reaches one control: within every window, page and tab each mnemonic is unique.

The walk reads what a person sees — visible buttons, labels that focus a field, group boxes, tab
titles, the wizard's own buttons, menu titles and each menu's items — and fails naming the texts
that share a letter.
"""
from __future__ import annotations

from collections import defaultdict

import pytest
from PySide6.QtWidgets import (QAbstractButton, QGroupBox, QLabel, QMenu, QTabBar, QTabWidget,
                               QWidget, QWizard)

from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.settings.profile import UserProfile
from peregrine_desktop.ui.mnemonics import mnemonic, with_free_letter


def window_texts(window: QWidget) -> list[str]:
    """Every text with a mnemonic a person can press in ``window`` as it is shown now."""
    texts: list[str] = []
    for widget in [window, *window.findChildren(QWidget)]:
        if widget is not window and not widget.isVisibleTo(window):
            continue
        if isinstance(widget, QAbstractButton):
            texts.append(widget.text())
        elif isinstance(widget, QLabel) and widget.buddy() is not None:
            texts.append(widget.text())
        elif isinstance(widget, QGroupBox):
            texts.append(widget.title())
        elif isinstance(widget, QTabBar):
            texts.extend(widget.tabText(i) for i in range(widget.count())
                         if widget.isTabVisible(i))
    if hasattr(window, "menuBar") and window.menuWidget() is not None:
        texts.extend(action.text() for action in window.menuBar().actions()
                     if action.isVisible() and not action.isSeparator())
    return texts


def clashes(texts: list[str]) -> dict[str, list[str]]:
    by_letter: dict[str, list[str]] = defaultdict(list)
    for text in texts:
        letter = mnemonic(text)
        if letter:
            by_letter[letter].append(text)
    return {letter: found for letter, found in by_letter.items() if len(found) > 1}


def assert_unique(where: str, texts: list[str]) -> None:
    found = clashes(texts)
    assert not found, f"{where}: shared mnemonics " + "; ".join(
        f"Alt+{letter.upper()}: {' / '.join(repr(t) for t in texts)}"
        for letter, texts in sorted(found.items()))


def assert_menu_unique(where: str, menu: QMenu) -> None:
    actions = [a for a in menu.actions() if a.isVisible() and not a.isSeparator()]
    assert_unique(f"{where} menu", [a.text() for a in actions])
    for action in actions:
        if action.menu() is not None:
            assert_menu_unique(f"{where} → {action.text()}", action.menu())


def each_tab(where: str, window: QWidget, tabs: QTabWidget) -> None:
    for index in range(tabs.count()):
        tabs.setCurrentIndex(index)
        assert_unique(f"{where}, tab {tabs.tabText(index)!r}", window_texts(window))


def each_account(where: str, window: QWidget, panel) -> None:
    """The accounts view shows one service's page at a time: each is checked in the window."""
    accounts = panel.accounts
    for name, item in accounts.rows.items():
        accounts.list.setCurrentItem(item)
        assert panel.cards[name].isVisibleTo(window)
        assert_unique(f"{where}, {item.text()}", window_texts(window))


@pytest.fixture
def repository(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    repository = JobRepository(store)
    repository.add_job({"title": "Site Reliability Engineer", "company": "ACME"})
    yield repository
    store.close()


def show(qtbot, widget: QWidget) -> QWidget:
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_the_test_reads_mnemonics_as_qt_does():
    assert mnemonic("&File") == "f" and mnemonic("Save an&yway") == "y"
    assert mnemonic("Fish && &Chips") == "c" and mnemonic("Fish && Chips") is None
    assert clashes(["&Name", "&Next", "&Back"]) == {"n": ["&Name", "&Next"]}
    taken = {"s", "a"}
    assert with_free_letter("&Server address *", taken) == "S&erver address *"
    assert with_free_letter("Sea", taken) == "Sea" and taken == {"s", "a", "e"}


def test_the_main_window_and_each_of_its_menus(qtbot, profile, config_dir, repository):
    from peregrine_desktop.ui.main_window import MainWindow

    window = show(qtbot, MainWindow(profile, config_dir, repository))
    assert_unique("main window", window_texts(window))
    titles = [a.text() for a in window.menuBar().actions() if not a.isSeparator()]
    assert len(titles) >= 5
    for action in window.menuBar().actions():
        if action.menu() is not None:
            assert_menu_unique(action.text().replace("&", ""), action.menu())
    window.pipeline.table.selectRow(0)
    assert_menu_unique("job's context", window.pipeline.build_context_menu())


def test_settings_each_tab_with_the_dialogs_buttons(qtbot, profile, config_dir):
    from peregrine_desktop.ui.settings_dialog import SettingsDialog

    dialog = show(qtbot, SettingsDialog(profile, config_dir))
    each_tab("Settings", dialog, dialog.tabs)
    dialog.tabs.setCurrentWidget(dialog._integrations_tab)
    each_account("Settings → Integrations", dialog, dialog.integrations)


def test_each_wizard_page_with_the_wizards_buttons(qtbot, config_dir):
    from peregrine_desktop.ui.wizard import SetupWizard

    wizard = show(qtbot, SetupWizard(UserProfile(config_dir / "user.yaml"), config_dir))
    seen = []
    while True:
        page = wizard.currentId()
        seen.append(page)
        texts = window_texts(wizard)
        assert any(mnemonic(t) for t in texts if t.replace("&", "") in ("Next >", "Next")) \
            or page == wizard.pageIds()[-1], "the wizard's Next has its own letter"
        assert_unique(f"wizard page {wizard.currentPage().title()!r}", texts)
        next_button = wizard.button(QWizard.WizardButton.NextButton)
        if not next_button.isVisible():
            each_account("wizard → Integrations", wizard, wizard.currentPage().panel)
            break
        next_button.click()
        assert wizard.currentId() != page, "the page refused to continue with its defaults"
    assert seen == wizard.pageIds()


def test_the_job_dialog_each_tab(qtbot, config_dir, repository):
    from peregrine_desktop.events.documents import DocumentUploads
    from peregrine_desktop.events.hub import EventHub
    from peregrine_desktop.ui.pipeline.job_dialog import JobDialog

    add = show(qtbot, JobDialog(lambda values: None))
    assert_unique("Add job", window_texts(add))
    hub = EventHub(repository, config_dir, registry={})
    try:
        job = repository.store.list_jobs()[0]
        edit = show(qtbot, JobDialog(lambda values: None, job,
                                     repository.allowed_statuses(job["id"]),
                                     documents=DocumentUploads(hub)))
        each_tab("Edit job", edit, edit.tabs)
    finally:
        hub.shutdown()


def test_the_sync_window(qtbot, config_dir, repository):
    from peregrine_desktop.ui.sync_panel import SyncDialog

    dialog = show(qtbot, SyncDialog(repository.store, config_dir, "premium",
                                    repository=repository))
    assert_unique("Sync", window_texts(dialog))


def test_the_import_from_peregrine_dialog(qtbot, config_dir, repository, profile):
    from peregrine_desktop.ui.import_dialog import ImportDialog

    dialog = show(qtbot, ImportDialog(config_dir, repository.store, profile))
    assert_unique("Import from Peregrine", window_texts(dialog))


def test_the_csv_dialogs(qtbot, repository, tmp_path):
    from peregrine_desktop.ui.pipeline.csv_dialogs import CsvExportDialog, CsvImportDialog

    source = tmp_path / "jobs.csv"
    source.write_text("title,company\nSRE,ACME\n", encoding="utf-8")
    importer = show(qtbot, CsvImportDialog(repository, source))
    assert_unique("Import CSV", window_texts(importer))
    ids = [job["id"] for job in repository.store.list_jobs()]
    exporter = show(qtbot, CsvExportDialog(repository, ids))
    assert_unique("Export CSV", window_texts(exporter))


def test_the_add_from_a_web_address_dialog(qtbot, repository):
    from peregrine_desktop.ui.pipeline.url_dialog import UrlImportDialog

    dialog = show(qtbot, UrlImportDialog(repository))
    assert_unique("Add from a web address", window_texts(dialog))
