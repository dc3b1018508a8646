"""The main window's pipeline at the sizes people use: at 800×600 with 300 jobs no chip is cut and
nothing scrolls sideways; at 1440×900 the Interview column reads whole, with a larger font too;
a column width the person drags is there again in the next window."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QFont, QMouseEvent
from PySide6.QtWidgets import QApplication, QHeaderView

from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.ui.main_window import MainWindow
from peregrine_desktop.ui.pipeline.model import COLUMNS, FIELD_COLUMN
from tests.test_pipeline_detail import profile
from tests.test_pipeline_view import column, row_of

STATUSES = ["pending", "approved", "applied", "phone_screen", "interviewing", "offer", "hired",
            "rejected"]


@pytest.fixture
def repository(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    jobs = []
    for i in range(300):
        status = STATUSES[i % len(STATUSES)]
        job = {"title": f"Senior Product Designer {i}", "company": f"Northwind Labs {i % 17}",
               "location": "Berlin, Germany", "salary": "€100,000–120,000", "status": status,
               "source": "Company site", "date_found": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
               "url": f"https://jobs.example.com/{i}"}
        if status == "interviewing":
            job.update(interview_at=f"2026-09-{1 + i % 28:02d}T15:00:00+00:00",
                       interview_tz="America/Los_Angeles")
        jobs.append(job)
    store.add_many(jobs)
    yield JobRepository(store)
    store.close()


def open_window(qtbot, repository, tmp_path, size) -> MainWindow:
    window = MainWindow(profile(tmp_path, target_titles=["product designer"]), tmp_path,
                        repository)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.pipeline.table.isVisible())
    QApplication.processEvents()
    return window


def shown_columns(view) -> list[str]:
    return [name for index, (name, _title) in enumerate(COLUMNS)
            if not view.table.isColumnHidden(index)]


def assert_reads_whole(view, name: str) -> None:
    """Every value in the column fits its width (the delegate's own measure of the text)."""
    table = view.table
    index = FIELD_COLUMN[name]
    assert table.columnWidth(index) >= table.sizeHintForColumn(index), name


def test_at_800_by_600_no_chip_is_cut_and_nothing_scrolls_sideways(qtbot, repository, tmp_path):
    window = open_window(qtbot, repository, tmp_path, (800, 600))
    view = window.pipeline
    qtbot.waitUntil(lambda: view.status_chips["applied"].text() == "Applied 38")
    chips = [*view.status_chips.values(), *view.due_chips.values(), view.targets_chip]
    for chip in chips:
        assert chip.isVisible(), chip.text()
        # A tool button narrower than it asks for elides its text in the middle ("App…d 38").
        assert chip.width() >= chip.sizeHint().width(), chip.text()
        assert chip.geometry().right() < view.chip_bar.width(), chip.text()
        assert chip.geometry().bottom() < view.chip_bar.height(), chip.text()
    assert view.chip_bar.height() > 1.5 * view.status_chips[None].height()    # wrapped

    table = view.table
    assert not table.horizontalScrollBar().isVisible()
    assert table.horizontalHeader().length() <= table.viewport().width()
    shown = shown_columns(view)
    assert {"title", "company", "status"} <= set(shown)
    assert_reads_whole(view, "status")
    title = FIELD_COLUMN["title"]
    assert table.columnWidth(title) >= table.fontMetrics().horizontalAdvance(
        "Senior Product Designer")
    for name in shown:           # every header reads whole ("Interview", "Found ▲")
        index = FIELD_COLUMN[name]
        assert table.columnWidth(index) >= table.horizontalHeader().sectionSizeHint(index), name
    window.grab().save(str(tmp_path / "pipeline-800x600.png"))


@pytest.fixture
def system_font():
    """Set the desktop's font size for one test (a person with larger text)."""
    before = QFont(QApplication.font())

    def set_points(points: int | None) -> None:
        if points:
            font = QFont(before)
            font.setPointSize(points)
            QApplication.setFont(font)
    yield set_points
    QApplication.setFont(before)


@pytest.mark.parametrize("points", [None, 13])
def test_at_1440_by_900_the_interview_column_reads_whole(qtbot, repository, tmp_path, points,
                                                         system_font):
    system_font(points)
    window = open_window(qtbot, repository, tmp_path, (1440, 900))
    view = window.pipeline
    assert "interview_at" in shown_columns(view)
    text = column(view, "interview_at")[row_of(view, "Senior Product Designer 4")]
    assert text == "Sat 05 Sep 2026, 08:00 Los Angeles"
    assert_reads_whole(view, "interview_at")
    for name in shown_columns(view):
        if name not in ("title", "company"):     # free text: long names are elided
            assert_reads_whole(view, name)
    table = view.table
    assert not table.horizontalScrollBar().isVisible()
    assert table.horizontalHeader().length() <= table.viewport().width()
    window.grab().save(str(tmp_path / "pipeline-1440x900.png"))


def drag_section_edge(qtbot, header: QHeaderView, index: int, by: int) -> None:
    """Drag the right edge of a header section with the mouse, as a person widens a column."""
    edge = header.sectionViewportPosition(index) + header.sectionSize(index) - 1
    y = header.height() // 2
    target = header.viewport()
    left = Qt.MouseButton.LeftButton
    for kind, x, buttons in ((QMouseEvent.Type.MouseButtonPress, edge, left),
                             (QMouseEvent.Type.MouseMove, edge + by // 2, left),
                             (QMouseEvent.Type.MouseMove, edge + by, left),
                             (QMouseEvent.Type.MouseButtonRelease, edge + by,
                              Qt.MouseButton.NoButton)):
        point = QPointF(x, y)
        event = QMouseEvent(kind, point, QPointF(target.mapToGlobal(QPoint(x, y))), left,
                            buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(target, event)
    qtbot.wait(1)


def test_a_column_width_the_person_drags_is_kept_for_the_next_window(qtbot, repository,
                                                                      tmp_path):
    window = open_window(qtbot, repository, tmp_path, (1440, 900))
    header = window.pipeline.table.horizontalHeader()
    company = FIELD_COLUMN["company"]
    before = header.sectionSize(company)
    drag_section_edge(qtbot, header, company, 40)
    assert header.sectionSize(company) == before + 40
    window.close()
    widths = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat).value(
        "pipeline/widths")
    assert widths == f"company={before + 40}"

    again = open_window(qtbot, repository, tmp_path, (1440, 900))
    table = again.pipeline.table
    assert table.columnWidth(company) == before + 40
    # The columns nobody dragged keep fitting the font.
    assert table.columnWidth(FIELD_COLUMN["interview_at"]) >= table.sizeHintForColumn(
        FIELD_COLUMN["interview_at"])


def test_a_window_over_no_jobs_keeps_the_remembered_columns(qtbot, repository, tmp_path):
    """An empty pipeline paints without its table; closing it must not forget the widths,
    order and choice of columns remembered from before."""
    window = open_window(qtbot, repository, tmp_path, (1440, 900))
    header = window.pipeline.table.horizontalHeader()
    company = FIELD_COLUMN["company"]
    drag_section_edge(qtbot, header, company, 40)
    header.moveSection(header.visualIndex(FIELD_COLUMN["status"]), 0)
    window.close()
    settings_file = tmp_path / "window.ini"
    before = QSettings(str(settings_file), QSettings.Format.IniFormat)
    remembered = {key: before.value(key) for key in ("pipeline/widths", "pipeline/header")}

    empty = JobStore(tmp_path / "empty.sqlite3")
    try:
        idle = MainWindow(profile(tmp_path), tmp_path, JobRepository(empty))
        qtbot.addWidget(idle)
        idle.show()
        qtbot.waitExposed(idle)
        assert idle.pipeline.empty_page.isVisible()
        idle.close()
    finally:
        empty.close()
    after = QSettings(str(settings_file), QSettings.Format.IniFormat)
    assert {key: after.value(key) for key in remembered} == remembered

    again = open_window(qtbot, repository, tmp_path, (1440, 900))
    assert again.pipeline.table.horizontalHeader().logicalIndex(0) == FIELD_COLUMN["status"]


def test_at_800_by_600_the_detail_pane_leaves_the_title_whole(qtbot, repository, tmp_path):
    repository.add_job({"title": "Senior Product Designer", "company": "Northwind Labs GmbH",
                        "status": "interviewing"})
    window = open_window(qtbot, repository, tmp_path, (800, 600))
    view = window.pipeline
    table = view.table
    qtbot.waitUntil(lambda: "Senior Product Designer" in column(view, "title"))
    row = row_of(view, "Senior Product Designer")
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                     pos=table.visualRect(view.proxy.index(row, 0)).center())
    table.scrollTo(view.proxy.index(row, 0))
    view.details_action.trigger()                     # View → Details
    qtbot.waitUntil(lambda: view.detail is not None and view.detail.isVisible())
    QApplication.processEvents()
    title, company = FIELD_COLUMN["title"], FIELD_COLUMN["company"]
    index = view.proxy.index(row, title)

    def title_reads_whole() -> bool:
        return table.columnWidth(title) >= table.sizeHintForIndex(index).width()
    assert {"title", "company", "status"} <= set(shown_columns(view))
    assert title_reads_whole()
    assert table.columnWidth(company) >= table.sizeHintForIndex(
        view.proxy.index(row, company)).width()               # "Northwind Labs GmbH" whole
    assert not table.horizontalScrollBar().isVisible()
    assert view.detail.width() >= view.detail.minimumSizeHint().width()
    assert view.detail.width() <= 0.45 * view.splitter.width()

    total = sum(view.splitter.sizes())                 # the person drags the pane wider
    view.splitter.setSizes([total - 380, 380])
    QApplication.processEvents()
    assert title_reads_whole()                         # the company column gave up room
    assert table.columnWidth(company) >= table.horizontalHeader().sectionSizeHint(company)
    assert not table.horizontalScrollBar().isVisible()
    window.grab().save(str(tmp_path / "pipeline-detail-800x600.png"))


def test_a_narrower_window_narrows_the_detail_pane_too(qtbot, repository, tmp_path):
    window = open_window(qtbot, repository, tmp_path, (1000, 700))
    view = window.pipeline
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.table.visualRect(view.proxy.index(0, 0)).center())
    view.details_action.trigger()
    qtbot.waitUntil(lambda: view.detail is not None and view.detail.isVisible())
    wide = view.detail.width()
    window.resize(800, 600)                            # the person makes the window smaller
    qtbot.waitUntil(lambda: window.width() == 800)
    QApplication.processEvents()
    assert view.detail.width() < wide                  # both sides gave up room
    title = FIELD_COLUMN["title"]
    assert view.table.columnWidth(title) >= view.table.fontMetrics().horizontalAdvance(
        "Senior Product Designer")
    assert {"title", "company", "status"} <= set(shown_columns(view))
