"""Deadlines and next actions as all-day calendar entries, when the person opts in: real job
database → EventHub → outbox → worker pool → a real Radicale server (CalDAV) and the loopback
Google Calendar emulator; the option ticked in the real Settings dialog of the assembled app."""
from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QApplication

import integrations
from integrations.caldav_calendar import CaldavCalendarIntegration
from integrations.google_calendar import GoogleCalendarIntegration
from peregrine_sdk.calendar_events import entry_uid, event_uid
from peregrine_sdk.google_auth import forget_tokens
from peregrine_desktop.events import EventHub, Outbox
from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.settings.profile import UserProfile
from peregrine_desktop.ui.pipeline.undo import PipelineEditor
from tests.test_caldav_calendar import PASSWORD, USER, caldav_for, radicale  # noqa: F401
from tests.test_event_hub import CALENDAR, connect_google, drain, google, server  # noqa: F401
from tests.test_secrets import file_keyring, use_keyring  # noqa: F401 - fixtures
from tests.ui_helpers import click, running_app

ACME = {"title": "SRE", "company": "ACME", "url": "https://jobs.example/sre", "status": "applied"}


@pytest.fixture(autouse=True)
def fresh_tokens():
    forget_tokens()
    yield
    forget_tokens()


def choose_all_day(config_dir, on: bool) -> None:
    """What ticking (or unticking) the box in Settings saves."""
    profile = UserProfile(config_dir / "user.yaml")
    profile.update(calendar_all_day=on)
    profile.save()


def open_hub(qtbot, store: JobStore, config_dir, registry) -> tuple[JobRepository, EventHub]:
    repository = JobRepository(store)
    hub = EventHub(repository, config_dir, registry=registry,
                   outbox=Outbox(store, base_delay=0.05, max_delay=0.2))
    return repository, hub


# -- CalDAV (Radicale) -----------------------------------------------------------------------------
@pytest.fixture
def caldav(radicale, config_dir, file_keyring, request):  # noqa: F811
    """A connected CalDAV calendar of its own; yields a function listing what a phone sees:
    UID → (raw VEVENT text, parsed VEVENT)."""
    import caldav as library
    import icalendar

    name = f"Dates {request.node.name[-20:]}"
    assert caldav_for(radicale, calendar_name=name, create_calendar=True).check().ok
    CaldavCalendarIntegration.save_config(
        {"url": radicale, "username": USER, "app_password": PASSWORD, "calendar_name": name,
         "create_calendar": False, "duration_minutes": 60, "reminder_minutes": 30,
         "keep_events": False}, config_dir)

    def events() -> dict[str, tuple[str, object]]:
        client = library.DAVClient(url=radicale, username=USER, password=PASSWORD, timeout=5)
        calendar = client.principal().calendar(name=name)
        found = {}
        for item in calendar.events():
            vevent = icalendar.Calendar.from_ical(item.data).walk("VEVENT")[0]
            found[str(vevent["UID"])] = (item.data, vevent)
        return found
    return events


@pytest.fixture
def dav_hub(qtbot, tmp_path, config_dir, caldav):
    store = JobStore(tmp_path / "jobs.sqlite3")
    repository, hub = open_hub(qtbot, store, config_dir,
                               {"caldav_calendar": CaldavCalendarIntegration})
    yield repository, hub
    hub.shutdown()
    store.close()


def settle(qtbot, hub: EventHub) -> None:
    qtbot.waitUntil(lambda: not hub.scheduler.busy() and not hub.outbox.due_integrations(),
                    timeout=20_000)


def test_a_deadline_is_an_all_day_event_that_moves_and_goes_with_it(qtbot, config_dir, caldav,
                                                                     dav_hub):
    choose_all_day(config_dir, True)
    repository, hub = dav_hub
    job = repository.add_job({**ACME, "deadline": "2026-04-10"})
    settle(qtbot, hub)
    deadline = entry_uid(job["uid"], "deadline")
    events = caldav()
    assert list(events) == [deadline]
    text, event = events[deadline]
    assert "DTSTART;VALUE=DATE:20260410" in text and "DTEND;VALUE=DATE:20260411" in text
    assert str(event["SUMMARY"]) == "Deadline: SRE at ACME"
    assert str(event["TRANSP"]) == "TRANSPARENT"
    assert not event.walk("VALARM")

    repository.update_job(job["id"], {"deadline": "2026-04-12"})
    settle(qtbot, hub)
    events = caldav()
    assert list(events) == [deadline]
    assert events[deadline][1].decoded("DTSTART") == date(2026, 4, 12)

    repository.update_job(job["id"], {"deadline": None})
    settle(qtbot, hub)
    assert caldav() == {}


def test_deadline_next_action_and_interview_are_three_events_that_follow_delete_and_undo(
        qtbot, config_dir, caldav, dav_hub):
    choose_all_day(config_dir, True)
    repository, hub = dav_hub
    job = repository.add_job({**ACME, "deadline": "2026-04-10", "next_action_on": "2026-04-03",
                              "next_action_note": "Call Ann",
                              "interview_at": "2026-04-07T10:00:00+02:00",
                              "interview_tz": "Europe/Berlin"})
    settle(qtbot, hub)
    uids = {entry_uid(job["uid"], "deadline"), entry_uid(job["uid"], "next_action"),
            event_uid(job["uid"])}
    events = caldav()
    assert set(events) == uids and len(uids) == 3
    assert str(events[entry_uid(job["uid"], "next_action")][1]["SUMMARY"]) == \
        "Call Ann — SRE at ACME"

    editor = PipelineEditor(repository, QUndoStack())
    editor.delete([job["id"]])
    settle(qtbot, hub)
    assert caldav() == {}
    editor.stack.undo()           # within the same second as the delete, as a person does it
    settle(qtbot, hub)
    assert set(caldav()) == uids


def test_with_the_option_off_nothing_is_sent(qtbot, config_dir, caldav, dav_hub):
    repository, hub = dav_hub
    assert UserProfile(config_dir / "user.yaml").calendar_all_day is False   # the default
    job = repository.add_job({**ACME, "deadline": "2026-04-10"})
    repository.update_job(job["id"], {"next_action_on": "2026-04-03"})
    settle(qtbot, hub)
    assert caldav() == {}
    assert hub.outbox.rows("caldav_calendar", states=("waiting", "delivered", "failed")) == []


def test_turning_the_option_on_fills_and_off_empties_leaving_interviews(qtbot, config_dir,
                                                                         caldav, dav_hub):
    repository, hub = dav_hub
    first = repository.add_job({**ACME, "deadline": "2026-04-10",
                                "interview_at": "2026-04-07T10:00:00+02:00",
                                "interview_tz": "Europe/Berlin"})
    second = repository.add_job({**ACME, "title": "SWE", "url": "https://jobs.example/swe",
                                 "next_action_on": "2026-04-03"})
    repository.add_job({**ACME, "title": "QA", "url": "https://jobs.example/qa",
                        "deadline": "2026-04-20", "status": "rejected"})
    settle(qtbot, hub)
    assert list(caldav()) == [event_uid(first["uid"])]

    choose_all_day(config_dir, True)
    hub.apply_calendar_option()
    settle(qtbot, hub)
    assert set(caldav()) == {event_uid(first["uid"]), entry_uid(first["uid"], "deadline"),
                             entry_uid(second["uid"], "next_action")}
    assert str(caldav()[entry_uid(second["uid"], "next_action")][1]["SUMMARY"]) == \
        "Next action: SWE at ACME"
    assert hub.apply_calendar_option() == 0          # saving Settings again sends nothing

    choose_all_day(config_dir, False)
    hub.apply_calendar_option()
    settle(qtbot, hub)
    assert list(caldav()) == [event_uid(first["uid"])]
    assert hub.apply_calendar_option() == 0


def test_an_import_brings_its_deadlines_and_undoing_it_takes_them_away(qtbot, config_dir,
                                                                       caldav, dav_hub):
    choose_all_day(config_dir, True)
    repository, hub = dav_hub
    editor = PipelineEditor(repository, QUndoStack())
    report = repository.add_many([
        {**ACME, "url": f"https://jobs.example/{n}", "deadline": f"2026-05-{n:02d}"}
        for n in (1, 2)] + [{**ACME, "url": "https://jobs.example/undated"}])
    settle(qtbot, hub)
    jobs = repository.get_many(report.added_ids)
    assert set(caldav()) == {entry_uid(j["uid"], "deadline") for j in jobs if j["deadline"]}
    editor.stack.undo()
    settle(qtbot, hub)
    assert caldav() == {}


def test_a_reinstall_updates_the_same_entries_instead_of_adding_copies(qtbot, tmp_path,
                                                                        config_dir, caldav):
    choose_all_day(config_dir, True)
    registry = {"caldav_calendar": CaldavCalendarIntegration}
    before = JobStore(tmp_path / "before.sqlite3")
    repository, hub = open_hub(qtbot, before, config_dir, registry)
    job = repository.add_job({**ACME, "deadline": "2026-04-10"})
    settle(qtbot, hub)
    hub.shutdown()
    before.close()
    # A new computer: an empty database that gets the same job (same uid) from sync or import.
    after = JobStore(tmp_path / "after.sqlite3")
    after.add_job({**ACME, "uid": job["uid"], "deadline": "2026-04-11"})
    repository, hub = open_hub(qtbot, after, config_dir, registry)   # fills: the option is on
    try:
        settle(qtbot, hub)
        events = caldav()
        assert list(events) == [entry_uid(job["uid"], "deadline")]
        assert events[entry_uid(job["uid"], "deadline")][1].decoded("DTSTART") == \
            date(2026, 4, 11)
    finally:
        hub.shutdown()
        after.close()


# -- Google Calendar (loopback emulator) ------------------------------------------------------------
def test_google_gets_dates_not_times(qtbot, tmp_path, config_dir, google):  # noqa: F811
    connect_google(config_dir, google)
    choose_all_day(config_dir, True)
    store = JobStore(tmp_path / "jobs.sqlite3")
    repository, hub = open_hub(qtbot, store, config_dir,
                               {"google_calendar": GoogleCalendarIntegration})
    try:
        repository.add_job({**ACME, "deadline": "2026-04-10", "next_action_on": "2026-04-03",
                            "next_action_note": "Send the portfolio",
                            "interview_at": "2026-04-07T10:00:00+02:00",
                            "interview_tz": "Europe/Berlin"})
        drain(qtbot, hub)
        bodies = {p.json["summary"]: p.json for p in google.server.matching("POST")
                  if p.path.endswith("/events")}
        assert set(bodies) == {"Deadline: SRE at ACME", "Send the portfolio — SRE at ACME",
                               "Interview: SRE @ ACME"}
        deadline = bodies["Deadline: SRE at ACME"]
        assert deadline["start"] == {"date": "2026-04-10"}
        assert deadline["end"] == {"date": "2026-04-11"}
        assert deadline["transparency"] == "transparent"
        assert bodies["Send the portfolio — SRE at ACME"]["start"] == {"date": "2026-04-03"}
        assert "dateTime" in bodies["Interview: SRE @ ACME"]["start"]
        assert len(google.calendars[CALENDAR].live()) == 3
    finally:
        hub.shutdown()
        store.close()


# -- the option in Settings, in the assembled app ---------------------------------------------------
@pytest.fixture
def app(qtbot, config_dir, data_dir, google, monkeypatch):  # noqa: F811
    connect_google(config_dir, google)
    monkeypatch.setattr(integrations, "REGISTRY",
                        {"google_calendar": GoogleCalendarIntegration})
    with running_app(qtbot, config_dir, data_dir) as application:
        yield application


def settings_dialog(qtbot, app):
    from peregrine_desktop.ui.settings_dialog import SettingsDialog

    app.open_settings()
    dialog = app.window.findChildren(SettingsDialog)[-1]
    bar = dialog.tabs.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == "&Notifications")
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=5_000)
    return dialog


def test_ticking_the_box_in_settings_puts_dates_in_the_calendar_and_unticking_removes_them(
        qtbot, app, google, config_dir):  # noqa: F811
    app.repository.add_job({**ACME, "deadline": "2026-04-10"})
    drain(qtbot, app.hub)
    assert google.calendars[CALENDAR].live() == {}            # off by default

    dialog = settings_dialog(qtbot, app)
    box = dialog.notifications.calendar_all_day
    assert box.isVisible() and not box.isChecked()
    assert box.text().replace("&", "") == \
        "Also put deadlines and next actions in my calendar as all-day entries"
    assert "removes the entries" in box.toolTip()
    qtbot.keyClick(dialog, Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(box.isChecked, timeout=2_000)     # a mnemonic clicks after a short flash
    assert box.hasFocus()
    click(qtbot, dialog.buttons.button(dialog.buttons.StandardButton.Ok))
    assert not dialog.isVisible()
    assert UserProfile(config_dir / "user.yaml").calendar_all_day is True
    drain(qtbot, app.hub)
    (entry,) = google.calendars[CALENDAR].live().values()
    assert entry["summary"] == "Deadline: SRE at ACME" and entry["start"] == {"date": "2026-04-10"}

    dialog = settings_dialog(qtbot, app)
    box = dialog.notifications.calendar_all_day
    assert box.isChecked()
    click(qtbot, box)
    qtbot.keyClick(dialog, Qt.Key.Key_Return)                     # Enter = OK
    assert not dialog.isVisible()
    drain(qtbot, app.hub)
    assert google.calendars[CALENDAR].live() == {}
    assert QApplication.activeModalWidget() is None
