"""Broken or hostile plugins: an import that raises, fields() that raises or returns garbage, a
test() that raises or hangs, a sync() that raises midway.  Each is contained: it shows as
unavailable or failed on its own card, every other card keeps working, the UI loop keeps
ticking."""
from __future__ import annotations

import textwrap
import threading
import time

import pytest
from PySide6.QtCore import QTimer

from peregrine_sdk.base import IntegrationBase
from peregrine_sdk.discovery import BUILT_IN, DiscoveryRecord, build_registry, record_for_module
from peregrine_sdk.external import scan_user_folder
from tests.fixtures.plugins.harness import allow_any
from peregrine_desktop.ui.connection_card import CardState, ConnectionCard
from tests.fakes.loopback import LoopbackServer
from tests.fakes.ping import PingIntegration, ping_service
from tests.ui_helpers import click, type_into, visible_text

#: Released at teardown so a hung plugin's worker thread ends with the test.
RELEASE = threading.Event()


@pytest.fixture(autouse=True)
def release_hung_threads():
    RELEASE.clear()
    yield
    RELEASE.set()


class _Simple(IntegrationBase):
    tier = "free"

    def fields(self) -> list[dict]:
        return [{"key": "workspace", "label": "Workspace", "type": "text", "required": True}]

    def connect(self, config: dict) -> bool:
        return self.required_present(config)


class HangingTest(_Simple):
    name, label = "hanging", "Hanging"

    def test(self) -> bool:
        RELEASE.wait(600)   # "takes minutes"
        return True


class RaisingTest(_Simple):
    name, label = "raising", "Raising"

    def test(self) -> bool:
        raise RuntimeError("plugin bug with secret tok-should-not-show")


class ExitingTest(_Simple):
    name, label = "exiting", "Exiting"

    def test(self) -> bool:
        raise SystemExit(3)


class FieldsRaiseLater(_Simple):
    """Passes registration, then breaks when the card asks again."""

    name, label = "fickle", "Fickle"
    calls = 0

    def fields(self) -> list[dict]:
        type(self).calls += 1
        if type(self).calls > 1:
            raise KeyError("schema")
        return super().fields()

    def test(self) -> bool:
        return True


def card_for(qtbot, config_dir, cls, **kwargs) -> ConnectionCard:
    card = ConnectionCard(DiscoveryRecord(cls.name, BUILT_IN, "tests", cls), config_dir, "free",
                          **kwargs)
    qtbot.addWidget(card)
    card.show()
    return card


# -- import and declaration ----------------------------------------------------------------------
PLUGIN_FILES = {
    "import_raises": "raise RuntimeError('broken at import')\n",
    "syntax_error": "def broken(:\n",
    "missing_dependency": "import peregrine_no_such_sdk\n",
    "fields_raise": textwrap.dedent("""
        from peregrine_sdk.base import IntegrationBase
        class FieldsRaise(IntegrationBase):
            name, label = "fields_raise", "Fields raise"
            def fields(self): raise ValueError("no fields today")
            def connect(self, config): return True
            def test(self): return True
    """),
    "fields_garbage": textwrap.dedent("""
        from peregrine_sdk.base import IntegrationBase
        class FieldsGarbage(IntegrationBase):
            name, label = "fields_garbage", "Fields garbage"
            def fields(self): return [1, "two", {"key": None}, {"label": 3}]
            def connect(self, config): return True
            def test(self): return True
    """),
    "fields_not_list": textwrap.dedent("""
        from peregrine_sdk.base import IntegrationBase
        class FieldsNotList(IntegrationBase):
            name, label = "fields_not_list", "Fields not list"
            def fields(self): return "api_key"
            def connect(self, config): return True
            def test(self): return True
    """),
    "healthy": textwrap.dedent("""
        from peregrine_sdk.base import IntegrationBase
        class Healthy(IntegrationBase):
            name, label = "healthy", "Healthy"
            def fields(self):
                return [{"key": "workspace", "label": "Workspace", "type": "text",
                         "required": True}]
            def connect(self, config): return True
            def test(self): return True
    """),
}


def test_broken_plugins_are_listed_as_unavailable_and_the_healthy_one_loads(tmp_path, qtbot,
                                                                            config_dir):
    folder = tmp_path / "plugins"
    folder.mkdir()
    for name, source in PLUGIN_FILES.items():
        (folder / f"{name}.py").write_text(source)

    records = {r.name: r for r in scan_user_folder(folder, allow_any)}
    registry = build_registry(records.values())

    assert list(registry) == ["healthy"]
    assert "failed to load (RuntimeError: broken at import)" in records["import_raises"].error
    assert "syntax error at line 1" in records["syntax_error"].error
    assert "'peregrine_no_such_sdk', which is not installed" in \
        records["missing_dependency"].error
    assert "fields() raised ValueError: no fields today" in records["fields_raise"].error
    assert "field #1 is a int, not a dict" in records["fields_garbage"].error
    assert "fields() returned a str, not a list" in records["fields_not_list"].error
    # Every broken one still gets a card that says why; none takes the window down.
    for name, record in records.items():
        card = ConnectionCard(record, config_dir, "free")
        qtbot.addWidget(card)
        expected = CardState.CONNECTED if name == "healthy" else CardState.UNAVAILABLE
        if name != "healthy":
            assert card.state is expected and record.error in card.detail.text()


def test_a_plugin_that_exits_at_import_does_not_end_the_app(tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "exits.py").write_text("import sys\nsys.exit('bye')\n")
    (folder / "healthy.py").write_text(PLUGIN_FILES["healthy"])

    records = {r.name: r for r in scan_user_folder(folder, allow_any)}

    assert records["exits"].cls is None
    assert "tried to end the program while loading" in records["exits"].error
    assert records["healthy"].cls is not None


def test_fields_raising_when_the_card_is_built_makes_only_that_card_unavailable(qtbot,
                                                                                 config_dir):
    import types

    module = types.ModuleType("fickle_module")
    FieldsRaiseLater.calls = 0
    FieldsRaiseLater.__module__ = module.__name__
    module.FieldsRaiseLater = FieldsRaiseLater
    record = record_for_module(module, "fickle", BUILT_IN)
    assert record.cls is FieldsRaiseLater            # registration saw good fields

    card = ConnectionCard(record, config_dir, "free")
    qtbot.addWidget(card)

    assert card.state is CardState.UNAVAILABLE
    assert "its settings form could not be built" in card.detail.text()


# -- test() ----------------------------------------------------------------------------------------
def test_a_test_that_raises_is_a_failed_test_not_a_crash(qtbot, config_dir):
    card = card_for(qtbot, config_dir, RaisingTest)
    type_into(qtbot, card.form.editors["workspace"].focus_widget(), "w")

    with qtbot.waitSignal(card.test_finished, timeout=10_000) as result:
        click(qtbot, card.test_button)

    assert result.args[1].kind.value == "unknown"
    assert card.status.text() == "Needs attention"
    assert "tok-should-not-show" not in visible_text(card)


def test_a_test_that_calls_sys_exit_is_a_failed_test(qtbot, config_dir):
    card = card_for(qtbot, config_dir, ExitingTest)
    type_into(qtbot, card.form.editors["workspace"].focus_widget(), "w")

    with qtbot.waitSignal(card.test_finished, timeout=10_000) as result:
        click(qtbot, card.test_button)

    assert not result.args[1].ok and card.status.text() == "Needs attention"


class TickRecorder:
    """A 10 ms QTimer on the UI thread; gaps between its ticks are how long the loop stalled."""

    def __init__(self) -> None:
        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(lambda: self.ticks.append(time.monotonic()))

    def __enter__(self) -> "TickRecorder":
        self.timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.timer.stop()

    def between(self, start: float, end: float) -> list[float]:
        return [t for t in self.ticks if start <= t <= end]

    def longest_gap(self) -> float:
        return max((b - a for a, b in zip(self.ticks, self.ticks[1:])), default=0.0)


def test_a_hung_test_is_abandoned_at_the_timeout_and_other_cards_keep_working(qtbot,
                                                                             config_dir):
    hung = card_for(qtbot, config_dir, HangingTest, test_timeout_ms=1500)
    with LoopbackServer() as server:
        ping_service(server)
        healthy = card_for(qtbot, config_dir, PingIntegration)
        type_into(qtbot, hung.form.editors["workspace"].focus_widget(), "w")
        type_into(qtbot, healthy.form.editors["base_url"].focus_widget(), server.url)
        type_into(qtbot, healthy.form.editors["api_token"].focus_widget(), "good-token")

        with TickRecorder() as ticks:
            started = time.monotonic()
            click(qtbot, hung.test_button)
            assert hung.status.text() == "Testing…"
            with qtbot.waitSignal(healthy.test_finished, timeout=10_000) as other:
                click(qtbot, healthy.test_button)    # while the hung one is pending
            assert other.args[1].ok and hung.status.text() == "Testing…"
            with qtbot.waitSignal(hung.test_finished, timeout=10_000) as outcome:
                pass
            ended = time.monotonic()

    assert outcome.args[1].kind.value == "timeout"
    assert hung.status.text() == "Needs attention"
    assert "took too long to answer" in hung.detail.text()
    assert "did not finish within 1 s" in hung.detail.text()
    assert hung.test_button.isEnabled()                       # can try again
    # The UI loop kept running the whole time the plugin hung.
    assert len(ticks.between(started, ended)) >= 2
    assert healthy.status.text() == "Connected" or "Test passed" in healthy.detail.text()


# -- sync() ------------------------------------------------------------------------------------------
class SyncBreaksMidway(_Simple):
    name, label = "breaks_midway", "Breaks midway"

    def __init__(self) -> None:
        self.pushed: list[int] = []

    def sync(self, jobs: list[dict]) -> int:
        for job in jobs:
            if len(self.pushed) == 2:
                raise ConnectionResetError("remote went away")
            self.pushed.append(job["id"])
        return len(jobs)


class SyncWorks(_Simple):
    name, label = "works", "Works"

    def __init__(self) -> None:
        self.pushed: list[int] = []

    def sync(self, jobs: list[dict]) -> int:
        self.pushed += [job["id"] for job in jobs]
        return len(jobs)


def test_a_sync_that_raises_midway_fails_those_jobs_and_the_next_plugin_syncs(tmp_path):
    from peregrine_desktop.jobs.store import JobStore
    from peregrine_desktop.sync.engine import SyncEngine
    from peregrine_desktop.sync.settings import DEFAULT_STATUSES
    from peregrine_desktop.sync.state import SyncState

    store = JobStore(tmp_path / "jobs.sqlite3")
    jobs = [store.add_job({"title": f"Job {i}", "company": "ACME",
                           "url": f"https://jobs.test/{i}", "status": DEFAULT_STATUSES[0]})
            for i in range(5)]
    state = SyncState(store)
    engine = SyncEngine(state)
    broken, works = SyncBreaksMidway(), SyncWorks()

    report = engine.run(broken, jobs)
    second = engine.run(works, jobs)

    assert report.counts["created"] == 2 and report.counts["failed"] == 3
    assert all("ConnectionResetError" in f.reason for f in report.failed)
    assert sorted(state.records("breaks_midway")) == broken.pushed       # map agrees with remote
    assert second.counts == {"created": 5, "updated": 0, "unchanged": 0, "failed": 0}
    # Retrying the broken one pushes only what is missing: no duplicate of the first two.
    broken.pushed.clear()
    retry = engine.run(broken, jobs)
    assert retry.counts["unchanged"] == 2 and len(broken.pushed) == 2
    store.close()
