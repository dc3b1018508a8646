"""The sync panel as a person uses it: Sync now, read the summary, preview, choose stages, cancel,
and let edits sync by themselves — against loopback trackers and a real job database."""
from __future__ import annotations

import pytest
import yaml
from PySide6.QtWidgets import QApplication, QGroupBox

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
    fields = airtable.record_for(jobs[1]["uid"])["fields"]
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


# -- two-way: what came from the tracker and what waits for the user -------------------------
def summary_button(panel, text: str, row_text: str):
    """The button ``text`` in the summary row whose job or result contains ``row_text``."""
    from PySide6.QtWidgets import QPushButton, QTreeWidgetItemIterator

    iterator = QTreeWidgetItemIterator(panel.summary)
    while iterator.value():
        item = iterator.value()
        if row_text in item.text(0) or row_text in item.text(1):
            widget = panel.summary.itemWidget(item, 2)
            if widget is not None:
                for button in widget.findChildren(QPushButton):
                    if button.text() == text:
                        return item, button
        iterator += 1
    raise AssertionError(f"no {text!r} button beside {row_text!r}: {panel.summary_lines()}")


def test_the_summary_lists_pulled_changes_and_a_conflict_resolved_by_a_click(
        qtbot, store, config_dir, airtable):
    repository = JobRepository(store)
    jobs = add_jobs(store, 3)
    panel = make_panel(qtbot, store, config_dir, repository=repository)
    sync_and_wait(qtbot, panel)
    record = airtable.record_for(jobs[0]["uid"])["id"]
    airtable.edit(record, Status="Interviewing", Salary="€95,000")
    airtable.edit(airtable.record_for(jobs[1]["uid"])["id"], Notes="Theirs: call on Friday")
    repository.update_job(jobs[1]["id"], {"notes": "Mine: waiting"})
    changed: list[int] = []
    repository.job_changed.connect(lambda new, old: changed.append(new["id"]))

    sync_and_wait(qtbot, panel)

    lines = panel.summary_lines()
    assert "  Taken from Airtable (2)" in lines
    assert any("Status: “Approved” → “Interviewing”" in line for line in lines)
    assert "  Conflicts: changed on both sides (1)" in lines
    assert any("Notes — here “Mine: waiting”, in Airtable “Theirs: call on Friday”" in line
               for line in lines)
    assert changed == [jobs[0]["id"]]                 # the pipeline hears of the pulled job
    assert "1 conflict" in panel.rows["airtable"].status.text()

    item, button = summary_button(panel, "Take theirs", "Mine: waiting")
    click(qtbot, button)
    qtbot.waitUntil(lambda: "Taken from Airtable" in item.text(1))
    assert store.get(jobs[1]["id"])["notes"] == "Theirs: call on Friday"
    assert changed[-1] == jobs[1]["id"]
    report = sync_and_wait(qtbot, panel)[0]
    assert not report.conflicts and report.writes == 0


def test_keep_mine_sends_mine_at_the_next_sync(qtbot, store, config_dir, airtable):
    jobs = add_jobs(store, 2)
    panel = make_panel(qtbot, store, config_dir)
    sync_and_wait(qtbot, panel)
    record = airtable.record_for(jobs[0]["uid"])["id"]
    airtable.edit(record, Location="Porto")
    store.update_job(jobs[0]["id"], {"location": "Lisbon"})
    sync_and_wait(qtbot, panel)

    item, button = summary_button(panel, "Keep mine", "Lisbon")
    click(qtbot, button)
    qtbot.waitUntil(lambda: "Keeping yours" in item.text(1))
    sync_and_wait(qtbot, panel)
    assert airtable.records[record]["fields"]["Location"] == "Lisbon"
    assert store.get(jobs[0]["id"])["location"] == "Lisbon"


def test_records_deleted_there_and_another_computers_jobs_ask_before_anything_happens(
        qtbot, store, config_dir, airtable, tmp_path):
    repository = JobRepository(store)
    jobs = add_jobs(store, 3)
    panel = make_panel(qtbot, store, config_dir, repository=repository)
    sync_and_wait(qtbot, panel)
    airtable.delete(airtable.record_for(jobs[0]["uid"])["id"])
    airtable.delete(airtable.record_for(jobs[1]["uid"])["id"])
    laptop = JobStore(tmp_path / "laptop.sqlite3")
    add_jobs(laptop, 2, start=70)
    with pointed_at(AirtableIntegration, airtable.url):
        from peregrine_desktop.sync.engine import SyncEngine
        from peregrine_desktop.sync.state import SyncState
        client = AirtableIntegration()
        client.connect(AirtableIntegration.load_config(config_dir))
        SyncEngine(SyncState(laptop)).run(client, laptop.list_jobs())

    sync_and_wait(qtbot, panel)
    lines = panel.summary_lines()
    assert "  Deleted in Airtable (2)" in lines and "  From another computer (2)" in lines

    _item, button = summary_button(panel, "Delete here too", jobs[0]["title"] + " — " +
                                   jobs[0]["company"])
    click(qtbot, button)
    assert store.get(jobs[0]["id"]) is None
    item, button = summary_button(panel, "Push again", jobs[1]["company"])
    click(qtbot, button)
    qtbot.waitUntil(lambda: "again at the next sync" in item.text(1))
    item, button = summary_button(panel, "These are my jobs", "from another computer")
    click(qtbot, button)
    qtbot.waitUntil(lambda: "Joined" in item.text(1))

    report = sync_and_wait(qtbot, panel)[0]
    assert report.created == [jobs[1]["id"]] and len(report.imported) == 2
    assert store.count() == 4
    assert sorted(airtable.keys()) == sorted(j["uid"] for j in store.list_jobs())
    laptop.close()


def test_sync_choices_are_saved_and_automatic_sync_pulls_periodically(qtbot, store, config_dir,
                                                                     airtable):
    jobs = add_jobs(store, 2)
    panel = make_panel(qtbot, store, config_dir)
    sync_and_wait(qtbot, panel)
    panel.rows_combo.setCurrentIndex(panel.rows_combo.findData("import"))
    panel.deletes_combo.setCurrentIndex(panel.deletes_combo.findData("keep"))
    panel.pull_combo.setCurrentIndex(panel.pull_combo.findData(5))
    click(qtbot, panel.auto_box)
    saved = yaml.safe_load((config_dir / "sync.yaml").read_text())
    assert (saved["remote_rows"], saved["local_deletes"], saved["pull_minutes"]) == \
        ("import", "keep", 5)
    assert panel.pull_timer.isActive() and panel.pull_timer.interval() == 5 * 60_000

    airtable.edit(airtable.record_for(jobs[0]["uid"])["id"], Notes="Typed on the phone")
    panel.pull_timer.setInterval(10)          # five minutes pass
    with qtbot.waitSignal(panel.sync_finished, timeout=20_000):
        pass
    panel.pull_timer.stop()
    # A 10 ms timer may have started another pull before it was stopped: let it finish
    # before the database closes.
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=20_000)
    assert store.get(jobs[0]["id"])["notes"] == "Typed on the phone"


def test_at_800_by_600_the_rows_sit_at_the_top_without_padding(qtbot, store, config_dir,
                                                               airtable):
    panel = make_panel(qtbot, store, config_dir)
    panel.resize(800, 600)
    qtbot.waitUntil(lambda: panel.height() == 600)
    QApplication.processEvents()                               # the layout settles
    row = panel.rows["airtable"]

    def own_height(widget) -> int:
        """What the widget's lines take at its width (wrapped text grows it)."""
        return widget.heightForWidth(widget.width())
    assert row.height() == own_height(row)                   # no empty band inside the box
    options = next(box for box in panel.findChildren(QGroupBox) if box.title() == "What syncs")
    assert options.geometry().top() - row.geometry().bottom() <= 24   # right below the rows
    assert options.height() == own_height(options)
    assert not panel.summary_title.isVisible()          # no empty line below the options
    sync_and_wait(qtbot, panel)                                # then the summary takes the room
    assert panel.summary.isVisible()
    QApplication.processEvents()
    assert panel.summary.geometry().bottom() >= panel.height() - 24
    assert row.height() == own_height(row)
