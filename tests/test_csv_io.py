"""CSV in and out: header matching, the preview and its report, export of the filtered view with
status history, and a round trip into a fresh database — all through the real dialogs."""
from __future__ import annotations

import csv

import pytest

from peregrine_desktop.jobs.csv_io import CsvFormatError, import_csv, read_csv, write_csv
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
    assert [(row, job["title"]) for row, job in plan.preview] == [
        (2, "Backend Engineer"), (4, "Designer"), (8, "=Sum Engineer")]
    first = plan.preview[0][1]
    assert first["status"] == "phone_screen" and first["remote"] is True
    assert first["date_found"] == "2026-03-14"
    assert first["interview_at"] == "2026-03-20T15:00+01:00"
    assert plan.unknown_statuses == {"Sleeping": 1}         # asked about, not a skip
    assert [str(s) for s in plan.skipped] == [
        "Row 3: A job needs a title.",
        "Row 5: same URL as row 2",
        "Row 7: already in your pipeline (same URL)",
    ]


def test_windows_excel_exports_are_read(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("Title,Company\r\nIngénieur,Société Générale\r\n".encode("cp1252"))
    plan = read_csv(path)
    assert plan.preview[0][1]["company"] == "Société Générale"
    assert plan.encoding_note.startswith("This file is not UTF-8; it was read as Windows-1252")


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
    assert dialog.summary.text() == "6 rows: 3 will be imported, 3 skipped (listed below)."
    assert "Title ← “Job Title”" in dialog.columns_label.text()
    assert "Not imported: “Fav colour”" in dialog.columns_label.text()
    assert dialog.preview_model.rowCount() == 3
    assert dialog.preview_model.item(0, 3).text() == "Phone screen"
    assert "Row 3: A job needs a title." in dialog.skipped_view.toPlainText()
    # "Sleeping" is asked about once: it becomes whatever the user picks.
    assert dialog.status_table.item(0, 0).text() == "Sleeping (1 row)"
    dialog.status_table.cellWidget(0, 1).setCurrentText("Rejected")
    assert dialog.import_button.text().replace("&", "") == "Import 3 jobs"
    with qtbot.waitSignal(repository.jobs_reset, timeout=10_000):
        click(qtbot, dialog.import_button)
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=10_000)
    assert dialog.summary.text() == "Imported 3 jobs. Skipped 3 rows (listed below)."
    assert not dialog.import_button.isVisible()
    jobs = {j["title"]: j for j in repository.list_jobs()}
    assert list(jobs) == ["Known", "Backend Engineer", "Designer", "=Sum Engineer"]
    assert jobs["Designer"]["status"] == "rejected"


def test_an_unreadable_file_is_explained_in_the_dialog(qtbot, repository, tmp_path):
    dialog = CsvImportDialog(repository, tmp_path / "missing.csv")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: "could not be opened" in dialog.summary.text(), timeout=10_000)
    assert not dialog.import_button.isEnabled()


def test_a_history_entry_on_the_minute_reads_back_as_written(tmp_path):
    """The store writes its own history times to the second; one that falls on :00 once came
    back from an export as "15:00+00:00" instead of "15:00:00+00:00"."""
    store = JobStore(tmp_path / "jobs.sqlite3")
    try:
        history = [{"status": "pending", "at": "2026-03-14T15:00:00+00:00"},
                   {"status": "applied", "at": "2026-03-15T09:30:12+01:00"}]
        job = store.add_job({"title": "SRE", "status": "applied", "status_history": history})
        assert store.get(job["id"])["status_history"] == history
    finally:
        store.close()


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
        import_csv(fresh, plan, plan.default_choices())
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


# -- files from elsewhere: encodings, damage, sizes, row numbers --------------------------------------
import sqlite3  # noqa: E402

from peregrine_desktop.events.ics_export import export_interviews  # noqa: E402
from peregrine_desktop.jobs.csv_io import ImportChoices, SkippedRow  # noqa: E402
from peregrine_desktop.jobs.store import DISK_FULL, JobValidationError, StoreError  # noqa: E402


def open_import(qtbot, repository, path) -> CsvImportDialog:
    dialog = CsvImportDialog(repository, path)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.summary.text() != "Reading the file…", timeout=10_000)
    return dialog


def test_a_utf8_file_with_one_bad_byte_names_its_line_instead_of_reading_mojibake(
        qtbot, repository, tmp_path):
    path = tmp_path / "damaged.csv"
    path.write_bytes("Title,Company\nIngénieur,Société Générale\nAnalyst,Acme\n".encode()
                     + b"Designer,Caf\xe9 Ltd\n" + "Tester,Zürich AG\n".encode())
    with pytest.raises(CsvFormatError, match=r"Line 4 of the file holds a byte that is not "
                                             r"UTF-8 \(0xE9\)"):
        read_csv(path)
    dialog = open_import(qtbot, repository, path)
    assert dialog.summary.text().startswith("Line 4 of the file holds a byte that is not UTF-8")
    assert not dialog.import_button.isEnabled()


def test_a_bad_byte_split_across_read_chunks_is_still_found_on_the_right_line(tmp_path):
    filler = "Title,Company\n" + "".join(f"Job {n} é,Acme\n" for n in range(80_000))
    path = tmp_path / "big.csv"
    path.write_bytes(filler.encode() + b"Bad \xff,Acme\n")
    with pytest.raises(CsvFormatError, match="Line 80002 "):
        read_csv(path)


def test_a_nul_in_a_cell_skips_that_row_by_name_and_keeps_the_rest(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_text("Title,Company,URL\nGood,Acme,https://acme.test/1\n"
                    "Bad\0Title,Globex,https://globex.test/1\n"
                    "Also good,Initech,https://initech.test/\0x\n", encoding="utf-8")
    plan = read_csv(path)
    assert [job["title"] for _row, job in plan.preview] == ["Good"]
    assert [str(s) for s in plan.skipped] == [
        "Row 3: The title holds a NUL character, which no text can contain; the file may be "
        "damaged.",
        "Row 4: A web address cannot contain line breaks or control characters (in "
        "“https://initech.test/\\x00x”)."]


def test_a_url_with_a_line_break_is_refused_by_the_store_and_never_breaks_an_ics_export(
        tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    try:
        for url in ("https://acme.test/1\nX-INJECTED:1", "https://acme.test/\r\n1",
                    "https://acme.test/\t1"):
            with pytest.raises(JobValidationError, match="cannot contain line breaks or control"):
                store.add_job({"title": "Analyst", "url": url})
        # A database written before this check may still hold one: the export copes.
        job = store.add_job({"title": "Analyst", "url": "https://acme.test/1",
                             "interview_at": "2026-07-01T10:00:00+02:00",
                             "interview_tz": "Europe/Berlin"})
        with store.connection() as conn:
            conn.execute("UPDATE jobs SET url = ? WHERE id = ?",
                         ("https://acme.test/1\nX-INJECTED:1", job["id"]))
        target = tmp_path / "interviews.ics"
        assert export_interviews(target, store.list_jobs()) == 1
        text = target.read_text(encoding="utf-8")
        lines = text.replace("\r\n ", "").splitlines()     # unfolded
        assert "BEGIN:VEVENT" in lines
        assert not [line for line in lines if line.startswith(("X-INJECTED", "URL"))]
    finally:
        store.close()


MULTILINE = ('Title,Description,Date applied\n'
             'First,"two\nlines",2026-03-01\n'
             'Second,"three\nmore\nlines",not a date\n'
             '\n'
             'Third,plain,2026-13-45\n')


def test_row_errors_name_the_spreadsheet_row_and_the_file_line(tmp_path):
    path = tmp_path / "multi.csv"
    path.write_text(MULTILINE, encoding="utf-8")
    plan = read_csv(path)
    assert plan.preview[0][1]["description"] == "two\nlines"
    assert plan.preview[0][1]["applied_on"] == "2026-03-01"
    assert plan.skipped == [
        SkippedRow(3, 4, "“not a date” is not a date like 2026-03-14 (for Date applied)."),
        SkippedRow(5, 8, "“2026-13-45” is not a date like 2026-03-14 (for Date applied).")]
    assert str(plan.skipped[0]).startswith("Row 3 (line 4): ")


def test_a_cell_over_the_limit_names_its_row(tmp_path):
    path = tmp_path / "huge-cell.csv"
    path.write_text('Title,Notes\nFine,short\nFine too,"two\nlines"\nHuge,"'
                    + "x" * 1_200_000 + '"\n', encoding="utf-8")
    with pytest.raises(CsvFormatError, match=r"Row 4 \(line 5\) has a cell longer than "
                                             r"1,000,000 characters"):
        read_csv(path)


OTHER_APP = ("Position,Company,Job Link,Status,Date Applied,Deadline,Follow up,Next step\n"
             "Backend Engineer,Acme,jobs.acme.com/1,Wishlist,,2026-04-01,,\n"
             "Designer,Globex,https://globex.test/7,Applied,2026-03-02,,2026-03-09,"
             "Call Sam\n"
             "Analyst,Initech,careers.initech.io/analyst?id=3,Interview,2026-02-20,,,\n"
             "Tester,Hooli,www.hooli.xyz/jobs/9,wishlist,,,,\n"
             "QA Lead,Umbrella,not a web address,Offer Received,,,,\n")


def test_import_keeps_rows_with_fixable_values_and_date_columns(qtbot, repository, tmp_path):
    path = tmp_path / "huntr.csv"
    path.write_text(OTHER_APP, encoding="utf-8")
    dialog = open_import(qtbot, repository, path)
    assert dialog.summary.text() == "5 rows: 4 will be imported, 1 skipped (listed below)."
    assert dialog.skipped_view.toPlainText() == (
        "Row 6: “not a web address” is not a web address (one starts with https://).")
    assert dialog.scheme_box.isChecked()
    assert dialog.scheme_box.text() == ("Add “https://” to the 3 web addresses without it "
                                        "(like https://jobs.acme.com/1)")
    names = [dialog.status_table.item(r, 0).text() for r in range(dialog.status_table.rowCount())]
    assert names == ["Interview (1 row)", "Wishlist (1 row)", "wishlist (1 row)"]
    shown = [dialog.status_table.cellWidget(r, 1).currentText() for r in range(3)]
    assert shown == ["Interviewing", "Pending", "Pending"]
    dialog.status_table.cellWidget(1, 1).setCurrentText("Approved")   # this user's "Wishlist"
    with qtbot.waitSignal(repository.jobs_reset, timeout=10_000):
        click(qtbot, dialog.import_button)
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=10_000)
    assert dialog.summary.text() == "Imported 4 jobs. Skipped 1 row (listed below)."
    jobs = {j["title"]: j for j in repository.list_jobs()}
    assert jobs["Backend Engineer"]["url"] == "https://jobs.acme.com/1"
    assert jobs["Backend Engineer"]["status"] == "approved"
    assert jobs["Backend Engineer"]["deadline"] == "2026-04-01"
    assert jobs["Tester"]["status"] == "pending"
    assert jobs["Designer"]["applied_on"] == "2026-03-02"
    assert jobs["Designer"]["next_action_on"] == "2026-03-09"
    assert jobs["Designer"]["next_action_note"] == "Call Sam"
    assert jobs["Analyst"]["status"] == "interviewing"
    assert jobs["Analyst"]["applied_on"] == "2026-02-20"
    assert jobs["Analyst"]["url"] == "https://careers.initech.io/analyst?id=3"


def test_declining_the_https_fix_lists_those_rows_as_skipped(qtbot, repository, tmp_path):
    path = tmp_path / "huntr.csv"
    path.write_text(OTHER_APP, encoding="utf-8")
    dialog = open_import(qtbot, repository, path)
    click(qtbot, dialog.scheme_box)
    assert dialog.summary.text() == "5 rows: 1 will be imported, 4 skipped (listed below)."
    assert dialog.skipped_view.toPlainText().splitlines()[0] == (
        "Row 2: its web address has no https:// (adding it was turned off)")
    click(qtbot, dialog.import_button)
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=10_000)
    assert [j["title"] for j in repository.list_jobs()] == ["Designer"]
    assert len(dialog.skipped_view.toPlainText().splitlines()) == 4


def test_a_full_disk_during_import_says_so_and_keeps_what_was_there(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    try:
        store.add_job({"title": "Kept"})
        path = tmp_path / "many.csv"
        path.write_text("Title,Description\n" + "".join(
            f"Job {n},{'words ' * 400}\n" for n in range(400)), encoding="utf-8")
        plan = read_csv(path)
        with store.connection() as conn:     # the disk "fills" a few pages from now
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count = {pages + 5}")
        with pytest.raises(StoreError) as caught:
            import_csv(store, plan, ImportChoices())
        assert str(caught.value) == DISK_FULL
        assert "rollback" not in str(caught.value)
        assert [j["title"] for j in store.list_jobs()] == ["Kept"]
    finally:
        store.close()


def test_export_then_import_gives_back_every_field(tmp_path):
    tricky = {
        "title": "=HYPERLINK(\"x\")", "company": "'Quoted' & Sons", "url": "https://a.test/?q=1,2",
        "source": "+board", "location": "Zürich; Genève", "remote": True, "salary": "-5 %",
        "description": "  Line one\n\nLine \"two\", with comma\r\nand a tab\there  ",
        "notes": "'=not a formula", "date_found": "2026-02-28", "applied_on": "2026-03-01",
        "deadline": "2026-03-31", "next_action_on": "2026-03-05",
        "next_action_note": "@recruiter follow up", "status": "phone_screen",
        "interview_at": "2026-07-01T10:30:00+02:00", "interview_tz": "Europe/Berlin"}
    source = JobStore(tmp_path / "a.sqlite3")
    target = JobStore(tmp_path / "b.sqlite3")
    try:
        job = source.add_job(tricky)
        source.add_job({"title": "Plain"})
        out = tmp_path / "out.csv"
        write_csv(out, source.get_many([j["id"] for j in source.list_jobs()],
                                       with_history=True), with_history=True)
        plan = read_csv(out)
        assert plan.skipped == [] and plan.unknown_statuses == {}
        report = import_csv(target, plan, plan.default_choices())
        assert report.added == 2
        original = source.get(job["id"])
        copy = target.get(target.find_by_uid(job["uid"])["id"])
        for key in original:
            if key not in ("id", "updated_at"):
                assert copy[key] == original[key], key
    finally:
        source.close()
        target.close()


def test_slashed_dates_are_read_in_the_order_the_file_shows_or_the_user_picks(qtbot, repository,
                                                                               tmp_path):
    path = tmp_path / "us.csv"
    path.write_text("Title,Date Applied\nA,03/25/2026\nB,03/04/2026\nC,04/05/2026\n",
                    encoding="utf-8")
    dialog = open_import(qtbot, repository, path)
    assert dialog.summary.text() == "3 rows: 3 will be imported."
    assert dialog.date_order_label.text() == "2 dates could be read either way; they are written:"
    assert dialog.date_order.currentText().startswith("month first")   # 03/25 says so
    dialog.date_order.setCurrentIndex(0)                                # the user knows better
    dialog.date_order.setCurrentIndex(1)
    click(qtbot, dialog.import_button)
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=10_000)
    applied = {j["title"]: j["applied_on"] for j in repository.list_jobs()}
    assert applied == {"A": "2026-03-25", "B": "2026-03-04", "C": "2026-04-05"}
