"""CSV in and out: header matching, the preview and its report, export of the filtered view with
status history, and a round trip into a fresh database — all through the real dialogs."""
from __future__ import annotations

import csv

import pytest

from peregrine_desktop.jobs.csv_io import CsvFormatError, read_csv, write_csv
from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.ui.pipeline.csv_dialogs import CsvExportDialog, CsvImportDialog
from peregrine_desktop.ui.pipeline.view import PipelineView
from tests.ui_helpers import click, type_into

OTHER_TRACKER = (
    "Job Title;Company Name;Job Link;Stage;Remote?;Date Added;Interview;Time zone;Fav colour\n"
    "Backend Engineer;Acme;https://acme.test/1;Phone Screen;yes;14.03.2026;2026-03-20 15:00;"
    "Europe/Berlin;blue\n"
    ";Nameless Inc;https://nameless.test/1;Applied;no;2026-03-01;;;\n"
    "Designer;Globex;https://globex.test/7;Sleeping;no;2026-03-01;;;\n"
    "Backend Engineer again;Acme;https://acme.test/1;Applied;no;2026-03-02;;;\n"
    "\n"
    "Data Analyst;Initech;https://known.test/1;;;;;;\n"
    "'=Sum Engineer;Formula Ltd;;pending;;;;;\n"
)


@pytest.fixture
def repository(tmp_path, qtbot):
    store = JobStore(tmp_path / "jobs.sqlite3")
    yield JobRepository(store)
    store.close()


def test_headers_are_matched_by_meaning_and_bad_rows_are_explained(tmp_path):
    path = tmp_path / "tracker.csv"
    path.write_text(OTHER_TRACKER, encoding="utf-8-sig")
    plan = read_csv(path, existing_urls={"https://known.test/1"})
    assert sorted(plan.mapping.values()) == sorted(
        ["title", "company", "url", "status", "remote", "date_found", "interview_at",
         "interview_tz"])
    assert plan.ignored_headers == ["Fav colour"]
    assert [(line, job["title"]) for line, job in plan.jobs] == [
        (2, "Backend Engineer"), (8, "=Sum Engineer")]
    first = plan.jobs[0][1]
    assert first["status"] == "phone_screen" and first["remote"] is True
    assert first["date_found"] == "2026-03-14"
    assert first["interview_at"] == "2026-03-20T15:00+01:00"
    assert plan.skipped == [
        (3, "A job needs a title."),
        (4, "“Sleeping” is not a pipeline status."),
        (5, "same URL as row 2"),
        (7, "already in your pipeline (same URL)"),
    ]


def test_windows_excel_exports_are_read(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("Title,Company\r\nIngénieur,Société Générale\r\n".encode("cp1252"))
    plan = read_csv(path)
    assert plan.jobs[0][1]["company"] == "Société Générale"


@pytest.mark.parametrize("content, problem", [
    ("", "empty"),
    ("Name,Email\nAda,ada@example.com\n", "No column looks like a job title"),
])
def test_files_that_are_not_job_lists_are_refused_whole(tmp_path, content, problem):
    path = tmp_path / "x.csv"
    path.write_text(content)
    with pytest.raises(CsvFormatError, match=problem):
        read_csv(path)


def test_import_dialog_previews_imports_and_reports(qtbot, repository, tmp_path):
    repository.add_job({"title": "Known", "url": "https://known.test/1"})
    path = tmp_path / "tracker.csv"
    path.write_text(OTHER_TRACKER, encoding="utf-8")
    dialog = CsvImportDialog(repository)
    qtbot.addWidget(dialog)
    dialog.show()
    type_into(qtbot, dialog.path_edit, str(path))
    qtbot.keyClick(dialog.path_edit, "\r")
    qtbot.waitUntil(lambda: dialog.import_button.isEnabled(), timeout=10_000)
    assert dialog.summary.text() == "6 rows: 2 will be imported, 4 skipped (listed below)."
    assert "Title ← “Job Title”" in dialog.columns_label.text()
    assert "Not imported: “Fav colour”" in dialog.columns_label.text()
    assert dialog.preview_model.rowCount() == 2
    assert dialog.preview_model.item(0, 3).text() == "Phone screen"
    assert "Row 4: “Sleeping” is not a pipeline status." in dialog.skipped_view.toPlainText()
    assert dialog.import_button.text().replace("&", "") == "Import 2 jobs"
    with qtbot.waitSignal(repository.jobs_reset, timeout=10_000):
        click(qtbot, dialog.import_button)
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=10_000)
    assert dialog.summary.text() == "Imported 2 jobs. Skipped 4 rows (listed below)."
    assert not dialog.import_button.isVisible()
    titles = [j["title"] for j in repository.list_jobs()]
    assert titles == ["Known", "Backend Engineer", "=Sum Engineer"]


def test_an_unreadable_file_is_explained_in_the_dialog(qtbot, repository, tmp_path):
    dialog = CsvImportDialog(repository, tmp_path / "missing.csv")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: "could not be opened" in dialog.summary.text(), timeout=10_000)
    assert not dialog.import_button.isEnabled()


def test_export_of_the_filtered_view_with_history_round_trips(qtbot, repository, tmp_path):
    a = repository.add_job({"title": "Backend Engineer", "company": "Acme",
                            "url": "https://acme.test/1", "salary": "=1+1", "remote": True,
                            "description": "Multi\nline, with \"quotes\"",
                            "interview_at": "2026-03-20T15:00+01:00",
                            "interview_tz": "Europe/Berlin"})
    repository.set_status(a["id"], "approved")
    repository.set_status(a["id"], "applied")
    repository.add_job({"title": "Designer", "company": "Globex"})
    repository.add_job({"title": "Frontend Engineer", "company": "Acme"})
    view = PipelineView(repository)
    qtbot.addWidget(view)
    view.show()
    type_into(qtbot, view.search, "acme")
    view.set_status_filter("applied")
    qtbot.waitUntil(lambda: view.proxy.rowCount() == 1)
    view.export_csv_action.trigger()
    dialog = view.active_dialog
    assert isinstance(dialog, CsvExportDialog)
    assert "Export the 1 job shown (matching “acme” in Applied)" in dialog.summary.text()
    out = tmp_path / "export.csv"
    type_into(qtbot, dialog.path_edit, str(out))
    click(qtbot, dialog.history_box)
    click(qtbot, dialog.export_button)
    qtbot.waitUntil(lambda: dialog.exported is not None, timeout=10_000)
    assert dialog.result.text() == f"Exported 1 job to {out}."

    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1
    assert rows[0]["Status"] == "Applied" and rows[0]["Salary"] == "'=1+1"
    assert rows[0]["Status history"].count(";") == 2

    fresh = JobStore(tmp_path / "fresh.sqlite3")
    try:
        plan = read_csv(out)
        fresh.add_many([job for _line, job in plan.jobs])
        copy = fresh.list_jobs()[0]
        original = repository.get(a["id"])
        for key in ("title", "company", "url", "salary", "remote", "description", "status",
                    "interview_at", "interview_tz", "date_found", "status_history"):
            assert copy[key] == original[key], key
    finally:
        fresh.close()


def test_export_writes_nothing_when_the_folder_is_missing(qtbot, repository, tmp_path):
    repository.add_job({"title": "A"})
    dialog = CsvExportDialog(repository, [1])
    qtbot.addWidget(dialog)
    dialog.show()
    type_into(qtbot, dialog.path_edit, str(tmp_path / "nope" / "x.csv"))
    click(qtbot, dialog.export_button)
    assert "does not exist" in dialog.result.text()


def test_write_csv_never_leaves_half_a_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("previous export")

    def jobs():
        yield {"title": "A"}
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        write_csv(target, jobs())
    assert target.read_text() == "previous export"
