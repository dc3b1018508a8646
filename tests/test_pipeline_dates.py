"""The dates that matter, with a fixed clock: the applied date set on reaching Applied and
editable; deadline and next action in the dialog and as columns; the overdue / due today / this
week filters; reminders shown once — also those that fell due while the app was closed — and the
dashboard's numbers."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from peregrine_desktop.jobs.pipeline_stats import compute_stats
from peregrine_desktop.jobs.reminders import ReminderLog, due_reminders
from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.settings.profile import UserProfile
from peregrine_desktop.ui.main_window import MainWindow
from peregrine_desktop.ui.pipeline.view import PipelineView
from tests.test_pipeline_view import column
from tests.ui_helpers import click, visible_text


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


TUESDAY = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def store(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    yield store
    store.close()


@pytest.fixture
def repository(store):
    repository = JobRepository(store)
    for row in (
        {"title": "Overdue follow-up", "next_action_on": "2026-03-09",
         "next_action_note": "Call Sam back", "status": "applied"},
        {"title": "Deadline today", "deadline": "2026-03-10", "status": "approved"},
        {"title": "Interview Friday", "status": "interviewing",
         "interview_at": "2026-03-13T14:00:00+00:00", "interview_tz": "Europe/London"},
        {"title": "Next week", "next_action_on": "2026-03-20"},
        {"title": "Nothing due"},
        {"title": "Rejected, old deadline", "deadline": "2026-03-01", "status": "rejected"},
    ):
        repository.add_job(row)
    return repository


def make_view(qtbot, repository, clock) -> PipelineView:
    view = PipelineView(repository, clock=clock)
    qtbot.addWidget(view)
    view.resize(1280, 600)
    view.show()
    return view


def test_due_filters_with_a_fixed_clock(qtbot, repository):
    view = make_view(qtbot, repository, Clock(TUESDAY))
    assert [view.due_chips[k].text() for k in ("overdue", "today", "week")] == [
        "Overdue 1", "Due today 1", "Due this week 2"]
    click(qtbot, view.due_chips["overdue"])
    assert column(view, "title") == ["Overdue follow-up"]
    click(qtbot, view.due_chips["today"])
    assert column(view, "title") == ["Deadline today"]
    assert not view.due_chips["overdue"].isChecked()
    click(qtbot, view.due_chips["week"])
    assert sorted(column(view, "title")) == ["Deadline today", "Interview Friday"]
    assert view.count_label.text() == "Showing 2 of 6 jobs"
    click(qtbot, view.due_chips["week"])                    # pressed again: off
    assert view.proxy.rowCount() == 6


def test_the_filter_follows_the_clock(qtbot, repository):
    clock = Clock(TUESDAY)
    view = make_view(qtbot, repository, clock)
    clock.moment = datetime(2026, 3, 21, 9, 0, tzinfo=timezone.utc)
    click(qtbot, view.due_chips["overdue"])
    assert sorted(column(view, "title")) == ["Deadline today", "Next week", "Overdue follow-up"]


def test_dates_show_as_columns(qtbot, repository):
    view = make_view(qtbot, repository, Clock(TUESDAY))
    row = column(view, "title").index("Overdue follow-up")
    assert column(view, "next_action_on")[row] == "09 Mar 2026 · Call Sam back"
    assert column(view, "applied_on")[row] != ""          # set when it reached Applied
    assert column(view, "deadline")[column(view, "title").index("Deadline today")] == \
        "10 Mar 2026"


def test_applied_date_set_on_reaching_applied_and_editable(qtbot, repository, store):
    job = repository.add_job({"title": "Moves along", "status": "approved"})
    assert job["applied_on"] is None
    moved = repository.set_status(job["id"], "applied")
    assert moved["applied_on"] == moved["status_history"][-1]["at"][:10]
    view = make_view(qtbot, repository, Clock(TUESDAY))
    view.select_job(job["id"])
    view.edit_selected()
    form = view.active_dialog.form
    assert form.applied_on.check.isChecked()
    form.applied_on.date.setDate(form.applied_on.date.date().addDays(-3))
    form.next_action_on.check.setChecked(True)
    form.next_action_note.setText("Send the portfolio")
    view.active_dialog.try_save()
    saved = store.get(job["id"])
    assert saved["applied_on"] < moved["applied_on"]
    assert saved["next_action_note"] == "Send the portfolio" and saved["next_action_on"]


def test_a_note_without_a_day_is_refused_beside_the_fields(qtbot, repository):
    view = make_view(qtbot, repository, Clock(TUESDAY))
    view.add_job()
    form = view.active_dialog.form
    form.title.setText("Half a next action")
    form.next_action_note.setText("Ring them")
    view.active_dialog.try_save()
    assert view.active_dialog.isVisible()
    assert "choose the day for the next action" in form.problem_under(form.next_action_note)


def test_a_reminder_due_while_the_app_was_closed_shows_at_start_once(qtbot, repository,
                                                                     tmp_path):
    def open_window() -> MainWindow:
        window = MainWindow(UserProfile(tmp_path / "user.yaml", read=False), tmp_path,
                            repository)
        qtbot.addWidget(window)
        window.show()
        window.start_reminders(clock=Clock(TUESDAY))
        return window

    window = open_window()
    assert window.reminder_banner.isVisible()
    text = visible_text(window.reminder_banner)
    assert "2 reminders" in text
    assert "Call Sam back — Overdue follow-up (overdue since 9 Mar)" in text
    assert "Application deadline for Deadline today (today)" in text
    assert "Interview" not in text          # Friday's interview is not due yet
    click(qtbot, window.reminder_banner.show_button)
    assert window.pipeline.selected_ids() == [
        next(j["id"] for j in repository.list_jobs() if j["title"] == "Overdue follow-up")]
    click(qtbot, window.reminder_banner.dismiss_button)
    assert not window.reminder_banner.isVisible()
    window.close()

    again = open_window()                   # the next start: nothing new to say
    assert not again.reminder_banner.isVisible()


def test_a_reminder_comes_due_while_the_app_runs(qtbot, repository, tmp_path):
    clock = Clock(TUESDAY)
    window = MainWindow(UserProfile(tmp_path / "user.yaml", read=False), tmp_path, repository)
    qtbot.addWidget(window)
    window.show()
    window.start_reminders(clock=clock)
    window.reminder_banner.dismiss()
    clock.moment = datetime(2026, 3, 13, 13, 5, tzinfo=timezone.utc)   # 55 min before
    window.reminders.timer.timeout.emit()                              # the minute tick
    assert window.reminder_banner.isVisible()
    assert "Interview for Interview Friday at 14:00 on Fri 13 Mar" in visible_text(
        window.reminder_banner)
    window.reminder_banner.dismiss()
    window.reminders.timer.timeout.emit()
    assert not window.reminder_banner.isVisible()                      # once


def test_closed_jobs_and_undone_deletes_do_not_remind_again(repository, store):
    log = ReminderLog(store)
    jobs = repository.list_jobs(with_history=False)
    pending = log.pending(jobs, TUESDAY)
    assert [r.title for r in pending] == ["Overdue follow-up", "Deadline today"]
    log.mark_fired(pending)
    victim = next(j for j in jobs if j["title"] == "Deadline today")
    removed = store.delete_many([victim["id"]])
    store.restore_jobs(removed)
    assert log.pending(repository.list_jobs(with_history=False), TUESDAY) == []
    assert all(r.title != "Rejected, old deadline" for r in due_reminders(jobs, TUESDAY))


def test_dashboard_numbers(store):
    repository = JobRepository(store)
    a = repository.add_job({"title": "A", "status": "approved"})
    b = repository.add_job({"title": "B", "status": "approved"})
    repository.add_job({"title": "C"})
    for job in (a, b):
        repository.set_status(job["id"], "applied")
    repository.set_status(a["id"], "phone_screen")
    repository.set_status(b["id"], "rejected")
    stats = compute_stats(store, datetime.now(timezone.utc).date())
    assert stats.applied == 2 and stats.responded == 2 and stats.interviewed == 1
    assert stats.response_rate == 1.0 and stats.interview_rate == 0.5
    assert stats.weeks[-1][1] == 2 and len(stats.weeks) == 12
    assert set(stats.median_days) == {"approved", "applied"}
