"""The assembled app: profile, job store, pipeline, plugins and event hub working together."""
from __future__ import annotations

import pytest
from PySide6.QtGui import QIcon

import integrations
from peregrine_desktop.settings import paths
from peregrine_desktop.app import Application
from peregrine_desktop.settings.profile import UserProfile
from tests.fakes.loopback import LoopbackServer
from tests.fakes.ping import PingIntegration, ping_service
from tests.ui_helpers import running_app


@pytest.fixture
def app(qtbot, config_dir, data_dir):
    with running_app(qtbot, config_dir, data_dir) as application:
        yield application


def test_window_shows_the_pipeline_and_plugins_load_after_it(app):
    assert app.window.isVisible()
    assert app.window.pipeline is not None
    assert app.window.activity_action.isEnabled()
    assert f"of {len(integrations.REGISTRY)} integrations set up" in \
        app.window.status_label.text()


def test_the_first_paint_shows_the_real_pipeline_and_plugins_wait_for_it(qtbot, qapp, config_dir,
                                                                         data_dir):
    """What the window draws first is the pipeline as it is (every job, the counts on the
    chips), not a shell filled in later; plugins are discovered only after that paint."""
    from peregrine_desktop.jobs.store import JobStore
    from peregrine_desktop.lifecycle.first_paint import after_first_paint

    paths.set_overrides(config_dir, data_dir)
    profile = UserProfile(config_dir / "user.yaml")
    profile.update(name="Ada", wizard_complete=True)
    profile.save()
    store = JobStore(data_dir / "jobs.sqlite3")
    for title in ("Backend Engineer", "Data Engineer", "SRE"):
        store.add_job({"title": title, "company": "Acme", "status": "pending"})
    store.close()
    qapp.setWindowIcon(QIcon())     # as a new process starts: no icon until the app sets one
    application = Application()
    qtbot.addWidget(application.window)
    seen = {}

    def at_first_paint() -> None:
        view = application.window.pipeline
        seen.update(rows=[view.proxy.index(row, 0).data() for row in range(view.proxy.rowCount())],
                    table=view.table.isVisible(), chip=view.status_chips[None].text(),
                    plugins_loaded=application.hub is not None)

    after_first_paint(application.window, at_first_paint)
    application.start()
    try:
        qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
        assert sorted(seen["rows"]) == ["Backend Engineer", "Data Engineer", "SRE"]
        assert seen["table"] and seen["chip"] == "All 3"
        assert not seen["plugins_loaded"]
        qtbot.waitUntil(lambda: application.hub is not None, timeout=10_000)
        assert not application.window.windowIcon().isNull()     # set once it had painted
        assert not application.window.notifier.icon.isNull()
    finally:
        application.shutdown()
        paths.set_overrides()


def test_a_new_job_announces_itself_once_to_a_connected_notifier(app, qtbot, config_dir,
                                                                 monkeypatch):
    with LoopbackServer() as server:
        ping_service(server)
        PingIntegration.save_config({"base_url": server.url, "api_token": "good-token"},
                                    config_dir)
        monkeypatch.setitem(integrations.REGISTRY, "ping", PingIntegration)
        app.repository.add_job({"title": "SRE", "company": "ACME",
                                "url": "https://jobs.example/1"})
        qtbot.waitUntil(lambda: bool(server.matching("POST", "/notify")), timeout=10_000)
        qtbot.wait(300)
        posts = server.matching("POST", "/notify")
        assert len(posts) == 1
        assert "ACME" in posts[0].json["message"] and "SRE" in posts[0].json["message"]


def test_a_damaged_job_database_is_set_aside_not_fatal(qtbot, config_dir, data_dir):
    (data_dir / "jobs.sqlite3").write_bytes(b"this is not a database" * 100)
    from peregrine_desktop.lifecycle.startup import open_job_store

    store, problem = open_job_store(data_dir / "jobs.sqlite3")
    assert "could not be read at all" in problem and ".damaged-" in problem
    assert store.list_jobs() == []
    kept = list(data_dir.glob("jobs.sqlite3.damaged-*"))
    assert [p.read_bytes() for p in kept] == [b"this is not a database" * 100]
    store.close()


def test_sync_now_opens_the_sync_window(app, qtbot):
    assert app.window.sync_action.isEnabled()
    app.window.sync_action.trigger()
    assert app.sync_dialog.isVisible()
    assert app.sync_dialog.windowTitle() == "Sync"
    app.sync_dialog.reject()
    assert not app.sync_dialog.isVisible()


def test_the_job_dialog_has_documents_once_plugins_are_loaded(app):
    assert app.window.pipeline.documents is not None


def test_a_damaged_integration_file_is_named_above_the_pipeline(qtbot, config_dir, data_dir):
    """The app starts; the broken file is named with a Reset button, and a copy is kept."""
    from peregrine_desktop.ui.config_problems import ConfigProblemsPanel

    paths.set_overrides(config_dir, data_dir)
    profile = UserProfile(config_dir / "user.yaml")
    profile.update(name="Ada", target_titles=["SRE"], wizard_complete=True)
    profile.save()
    (config_dir / "integrations").mkdir()
    (config_dir / "integrations" / "slack.yaml").write_bytes(b"webhook_url: [unclosed\n")
    application = Application()
    qtbot.addWidget(application.window)
    application.start()
    try:
        qtbot.waitUntil(lambda: application.hub is not None, timeout=10_000)
        panel = application.window.findChild(ConfigProblemsPanel)
        assert panel.isVisible()
        text = "\n".join(panel.texts())
        assert "slack.yaml" in text and "not valid YAML" in text
        assert list((config_dir / "integrations").glob("slack.yaml.bad-*"))
    finally:
        application.shutdown()
        paths.set_overrides()


def test_first_launch_opens_the_wizard_first_and_its_finish_shows_the_pipeline(qtbot, config_dir,
                                                                            data_dir):
    """No profile yet: the wizard is the first window; the main window (and its database) is
    made ready behind it once it has painted, and Finish shows it."""
    from PySide6.QtWidgets import QWizard

    from peregrine_desktop.ui import wizard as wiz
    from tests.test_wizard import advance_to
    from tests.ui_helpers import click

    paths.set_overrides(config_dir, data_dir)
    application = Application()
    application.start()
    try:
        wizard = application.wizard
        qtbot.addWidget(wizard)
        assert wizard.isVisible() and application.first_window is wizard
        qtbot.waitUntil(lambda: application.hub is not None, timeout=10_000)
        window = application.window
        qtbot.addWidget(window)
        assert not window.isVisible() and (data_dir / "jobs.sqlite3").exists()
        advance_to(qtbot, wizard, wiz.INTEGRATIONS)
        click(qtbot, wizard.button(QWizard.WizardButton.FinishButton))
        qtbot.waitUntil(window.isVisible, timeout=5_000)
        assert window.pipeline is not None and not wizard.isVisible()
    finally:
        application.shutdown()
        paths.set_overrides()


def test_quitting_does_not_wait_for_a_page_still_downloading(app, qtbot):
    from peregrine_desktop import workers
    from peregrine_desktop.jobs.page_fetch import PageFetch
    from peregrine_desktop.jobs.url_import import fetch_posting
    from tests.fakes.loopback import Reply

    with LoopbackServer() as site:
        site.inject(Reply(200, "<title>x</title>" * 50, {"Content-Type": "text/html"},
                          dribble=0.2), path="/slow")
        fetch = PageFetch(deadline=600.0, read_timeout=600.0)
        workers.submit(fetch_posting, site.url + "/slow", fetch=fetch, lane="network",
                       handler=lambda kind, payload: None)
        qtbot.waitUntil(lambda: bool(site.matching(path="/slow")))
        app.shutdown()
        assert workers.pool("network").waitForDone(2000)     # not the 160 s of the dribble
        assert site.client_left.wait(5)


def test_a_start_without_arguments_means_what_the_parser_would_say():
    from peregrine_desktop.app import parse_args

    assert vars(parse_args([])) == {**vars(parse_args(["--debug"])), "debug": False}
