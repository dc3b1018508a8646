"""Render the sync summary after a two-way sync: edits taken in from Notion and Airtable, a field
changed on both sides, a row added in Airtable and a page deleted in Notion — against the loopback
emulators, offscreen, at a fixed size.

    python scripts/make-sync-screenshot.py [docs/screenshots/sync-summary-two-way.png]
"""
from __future__ import annotations

import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

from integrations.airtable import AirtableIntegration  # noqa: E402
from integrations.notion import NotionIntegration  # noqa: E402
from peregrine_desktop.jobs.repository import JobRepository  # noqa: E402
from peregrine_desktop.jobs.store import JobStore  # noqa: E402
from peregrine_desktop.ui.sync_panel import SyncDialog  # noqa: E402
from peregrine_sdk.testkit import pointed_at  # noqa: E402
from tests.fakes.loopback import LoopbackServer  # noqa: E402
from tests.fakes.tracker_services import AirtableService, NotionService  # noqa: E402

JOBS = [
    ("Senior Python Engineer", "Globex", "approved", "Berlin"),
    ("Site Reliability Engineer", "Initech", "applied", "Remote (EU)"),
    ("Data Platform Lead", "Umbrella", "applied", "Lisbon"),
    ("Staff Engineer, Payments", "Hooli", "phone_screen", "Amsterdam"),
    ("Backend Developer", "ACME", "approved", "Hamburg"),
]


def wait_for_sync(app: QApplication, dialog: SyncDialog) -> None:
    done: list[object] = []
    dialog.panel.sync_finished.connect(done.append)
    dialog.panel.start_sync()
    while not done:
        app.processEvents()


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else \
        ROOT / "docs" / "screenshots" / "sync-summary-two-way.png"
    app = QApplication.instance() or QApplication([])
    NotionIntegration.per_second = None
    AirtableIntegration.per_second = None
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        tmp_path = Path(tmp)
        config_dir = tmp_path / "config"
        config_dir.mkdir()
        n_server = stack.enter_context(LoopbackServer())
        a_server = stack.enter_context(LoopbackServer())
        notion, airtable = NotionService(n_server), AirtableService(a_server)
        stack.enter_context(pointed_at(NotionIntegration, n_server.url))
        stack.enter_context(pointed_at(AirtableIntegration, a_server.url))
        NotionIntegration.save_config({"token": notion.token,
                                       "database_id": notion.database_id,
                                       "key_column": "Peregrine ID"}, config_dir)
        AirtableIntegration.save_config({"token": airtable.token, "base_id": airtable.base_id,
                                         "table": "Jobs", "key_column": "Peregrine ID"},
                                        config_dir)
        store = JobStore(tmp_path / "jobs.sqlite3")
        repository = JobRepository(store)
        jobs = [store.add_job({"title": t, "company": c, "status": s, "location": where,
                               "url": f"https://jobs.example/{i}", "salary": "€85,000"})
                for i, (t, c, s, where) in enumerate(JOBS)]
        dialog = SyncDialog(store, config_dir, "paid", repository=repository,
                            load_jobs=lambda: store.list_jobs(with_history=False))
        dialog.resize(1100, 720)
        dialog.show()
        wait_for_sync(app, dialog)

        # What happened in the trackers since: a stage moved, a salary fixed, notes typed…
        page = notion.page_for(jobs[1]["uid"])["id"]
        notion.edit(page, "Status", "Interviewing")
        notion.edit(page, "Notes", "Phone screen went well; onsite next week")
        notion.edit(notion.page_for(jobs[3]["uid"])["id"], "Notes",
                    "Recruiter: call back Friday")
        notion.trash(notion.page_for(jobs[4]["uid"])["id"])
        airtable.edit(airtable.record_for(jobs[2]["uid"])["id"], Salary="€95,000")
        airtable.add_row(Name="Platform Engineer", Company="Stark Industries")
        # …and here: the same notes edited on this computer too.
        store.update_job(jobs[3]["id"], {"notes": "Sent the portfolio"})

        wait_for_sync(app, dialog)
        for index in range(dialog.panel.summary.topLevelItemCount()):
            top = dialog.panel.summary.topLevelItem(index)
            for child in range(top.childCount()):
                group = top.child(child)
                if group.text(0).startswith(("Created", "Updated")):
                    group.setExpanded(False)
        app.processEvents()
        out.parent.mkdir(parents=True, exist_ok=True)
        dialog.grab().save(str(out))
        print(f"wrote {out}")
        for line in dialog.panel.summary_lines():
            print(line)
        dialog.close()
        store.close()


if __name__ == "__main__":
    main()
