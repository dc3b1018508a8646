"""The sync panel as a person uses it: Sync now, read the summary, preview, choose stages, cancel,
and let edits sync by themselves — against loopback trackers and a real job database."""
from __future__ import annotations

import pytest
import yaml

from integrations.airtable import AirtableIntegration
from integrations.notion import NotionIntegration
from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.ui.sync_panel import SyncPanel
from peregrine_sdk.testkit import pointed_at
from tests.fakes.loopback import LoopbackServer, Reply
from tests.fakes.tracker_services import AirtableService, NotionService, add_jobs
from tests.ui_helpers import click, visible_text

REGISTRY = {"airtable": AirtableIntegration, "notion": NotionIntegration}


@pytest.fixture
def store(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    yield store
    store.close()


@pytest.fixture
def airtable(config_dir, monkeypatch):
    monkeypatch.setattr(AirtableIntegration, "per_second", None)
    monkeypatch.setattr(AirtableIntegration, "rate_limit_wait", 0.0)
    monkeypatch.setattr(AirtableIntegration, "retry_delay", 0.01)
    with LoopbackServer() as server, pointed_at(AirtableIntegration, server.url):
        service = AirtableService(server)
        AirtableIntegration.save_config({"token": service.token, "base_id": service.base_id,
                                         "table": "Jobs", "key_column": "Peregrine ID"},
                                        config_dir)
        yield service


def make_panel(qtbot, store, config_dir, tier="paid", **kwargs) -> SyncPanel:
    kwargs.setdefault("load_jobs", lambda: store.list_jobs(with_history=False))
    panel = SyncPanel(store, config_dir, tier, registry=REGISTRY, **kwargs)
    qtbot.addWidget(panel)
    panel.show()
    return panel


def sync_and_wait(qtbot, panel, button=None):
    with qtbot.waitSignal(panel.sync_finished, timeout=20_000) as blocker:
        click(qtbot, button or panel.sync_button)
    return blocker.args[0]


def test_nothing_connected_says_where_to_connect(qtbot, store, config_dir):
    panel = make_panel(qtbot, store, config_dir)
    assert "No job tracker is connected" in visible_text(panel)
    assert not panel.sync_button.isEnabled()


def test_sync_now_shows_progress_then_the_summary_and_last_synced(qtbot, store, config_dir,
                                                                  airtable):
    add_jobs(store, 12)
    panel = make_panel(qtbot, store, config_dir)
    assert "Airtable" in visible_text(panel) and "Never synced" in visible_text(panel)

    sync_and_wait(qtbot, panel)

    assert panel.summary_lines()[0] == \
        "Airtable: 12 created · 0 updated · 0 unchanged · 0 failed"
    assert "Sync finished" in panel.summary_title.text()
    assert "12 created" in panel.rows["airtable"].status.text()
    assert len(airtable.records) == 12

    sync_and_wait(qtbot, panel)
    assert panel.summary_lines()[0] == \
        "Airtable: 0 created · 0 updated · 12 unchanged · 0 failed"


def test_a_failed_job_is_listed_with_its_reason(qtbot, store, config_dir, airtable):
    jobs = add_jobs(store, 3)
    refused = Reply(422, {"error": {"type": "INVALID_VALUE_FOR_COLUMN",
                                    "message": 'Field "Salary" cannot accept the provided value'}})
    airtable.server.inject(refused, times=2, method="PATCH")
    panel = make_panel(qtbot, store, config_dir)
    sync_and_wait(qtbot, panel)
    lines = panel.summary_lines()
    assert lines[0].endswith("2 created · 0 updated · 0 unchanged · 1 failed")
    assert "  Failed (1)" in lines
    assert f"    {jobs[0]['title']} — {jobs[0]['company']}: Failed: Airtable refused it: " \
           f'Field "Salary" cannot accept the provided value' in lines
    assert "could not be synced" in panel.summary_title.text()


def test_preview_lists_what_would_change_and_writes_nothing(qtbot, store, config_dir,
                                                            airtable):
    jobs = add_jobs(store, 2)
    panel = make_panel(qtbot, store, config_dir)
    sync_and_wait(qtbot, panel, panel.preview_button)
    assert "nothing was written" in panel.summary_title.text()
    lines = panel.summary_lines()
    assert "  Would create (2)" in lines
    assert f"    {jobs[1]['title']} — {jobs[1]['company']}: Would create" in lines
    assert airtable.writes() == []
    assert "Never synced" in panel.rows["airtable"].status.text()


def test_chosen_stages_are_saved_and_decide_what_syncs(qtbot, store, config_dir, airtable):
    add_jobs(store, 2, "approved")
    add_jobs(store, 3, "applied", start=10)
    panel = make_panel(qtbot, store, config_dir)
    click(qtbot, panel.status_boxes["approved"])          # untick "Approved"
    saved = yaml.safe_load((config_dir / "sync.yaml").read_text())
    assert "approved" not in saved["statuses"] and "applied" in saved["statuses"]

    sync_and_wait(qtbot, panel)
    assert panel.summary_lines()[0].startswith("Airtable: 3 created")
    counts = store.counts_by_status()                       # stages are never rewritten
    assert (counts["approved"], counts["applied"]) == (2, 3)


def test_cancel_stops_a_slow_sync_and_says_so(qtbot, store, config_dir, airtable):
    add_jobs(store, 40)
    original = airtable.server._dispatch

    def slow(request):
        reply = original(request)
        if request.method == "PATCH":
            reply.delay = 0.2
        return reply

    airtable.server._dispatch = slow
    panel = make_panel(qtbot, store, config_dir)
    with qtbot.waitSignal(panel.sync_finished, timeout=20_000):
        click(qtbot, panel.sync_button)
        row = panel.rows["airtable"]
        qtbot.waitUntil(lambda: row.progress.maximum() == 40 and row.progress.value() >= 10)
        click(qtbot, row.cancel_button)
    report = panel.reports["airtable"]
    assert report.cancelled and report.not_synced > 0
    assert "cancelled" in panel.summary_lines()[0]
    assert "(cancelled)" in row.status.text()


def test_automatic_mode_syncs_an_edited_job_shortly_after_the_edit(qtbot, store, config_dir,
                                                                   airtable):
    repository = JobRepository(store)
    jobs = add_jobs(store, 3)
    panel = make_panel(qtbot, store, config_dir, repository=repository,
                       load_jobs=lambda: store.list_jobs(with_history=False))
    sync_and_wait(qtbot, panel)
    click(qtbot, panel.auto_box)
    panel.settings.auto_delay = 0.05
    assert yaml.safe_load((config_dir / "sync.yaml").read_text())["auto_sync"] is True

    with qtbot.waitSignal(panel.sync_finished, timeout=20_000) as blocker:
        repository.update_job(jobs[1]["id"], {"notes": "Called the recruiter"})
        repository.update_job(jobs[1]["id"], {"notes": "Called the recruiter twice"})
    report = blocker.args[0][0]
    assert report.updated == [jobs[1]["id"]] and report.unchanged == []   # only the edited job
    fields = airtable.record_for(str(jobs[1]["id"]))["fields"]
    assert fields["Notes"] == "Called the recruiter twice"


def test_free_plan_shows_the_tracker_locked(qtbot, store, config_dir, airtable):
    add_jobs(store, 2)
    panel = make_panel(qtbot, store, config_dir, tier="free")
    assert "Locked: needs Paid" in panel.rows["airtable"].status.text()
    assert not panel.sync_button.isEnabled()
    assert not panel.auto_box.isEnabled()


def test_two_trackers_sync_one_after_the_other(qtbot, store, config_dir, airtable, monkeypatch):
    monkeypatch.setattr(NotionIntegration, "per_second", None)
    add_jobs(store, 5)
    with LoopbackServer() as server, pointed_at(NotionIntegration, server.url):
        notion = NotionService(server)
        NotionIntegration.save_config({"token": notion.token, "database_id": notion.database_id,
                                       "key_column": "Peregrine ID"}, config_dir)
        panel = make_panel(qtbot, store, config_dir)
        sync_and_wait(qtbot, panel)
        assert panel.summary_lines()[0].startswith("Airtable: 5 created")
        assert any(line.startswith("Notion: 5 created") for line in panel.summary_lines())
        assert len(notion.live_pages()) == 5
