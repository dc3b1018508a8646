"""Web-Peregrine installs and backups, built as upstream writes them (the formats reference):
the Docker layout, a bare checkout with the first database schema, and the two backup zips.

Values are chosen so every rule of the importer shows: all 13 integration files (plaintext
secrets, as upstream saves them), a legacy ``notion.yaml`` with its ``field_map``, a Fernet
credential store with its key file, ``${ENV}`` references resolved from ``.env``, container
paths, every upstream status, unicode, and rows our store would refuse.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import yaml

#: Secrets written into the fixtures: a test asserts each is in the keychain and in no file of ours.
SECRETS = {
    "notion": "ntn_import_secret_1",
    "airtable": "patImport.secret2",
    "caldav": "abcd-efgh-ijkl-mnop",
    "mega": "mega-pässword-3",
    "nextcloud": "nc-app-pass-4",
    "slack": "https://hooks.slack.com/services/T000/B000/slacksecret5",
    "discord": "https://discord.com/api/webhooks/1/discordsecret6",
    "home_assistant": "ha-long-lived-token-7",
    "dropbox": "sl.shortlived-dropbox-8",
    "onedrive": "onedrive-client-secret-9",
    "imap": "imap-password-10",
}
NOTION_DATABASE = "0123456789abcdef0123456789abcdef"
NOTION_PAGE = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

BASE_JOB_COLUMNS = """
    id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT, company TEXT, url TEXT UNIQUE, source TEXT,
    location TEXT, is_remote INTEGER DEFAULT 0, salary TEXT, description TEXT, match_score REAL,
    keyword_gaps TEXT, date_found TEXT, status TEXT DEFAULT 'pending', notion_page_id TEXT,
    cover_letter TEXT, applied_at TEXT, interview_date TEXT, rejection_stage TEXT,
    phone_screen_at TEXT, interviewing_at TEXT, offer_at TEXT, hired_at TEXT, survey_at TEXT"""
SEED_SCHEMA = f"""
CREATE TABLE jobs ({BASE_JOB_COLUMNS});
CREATE TABLE job_contacts (id INTEGER PRIMARY KEY AUTOINCREMENT, job_id INTEGER NOT NULL,
    direction TEXT DEFAULT 'inbound', subject TEXT, from_addr TEXT, to_addr TEXT, body TEXT,
    received_at TEXT, is_response_needed INTEGER DEFAULT 0, responded_at TEXT, message_id TEXT,
    stage_signal TEXT, suggestion_dismissed INTEGER DEFAULT 0);
CREATE TABLE company_research (id INTEGER PRIMARY KEY AUTOINCREMENT, job_id INTEGER NOT NULL
    UNIQUE, generated_at TEXT, company_brief TEXT, ceo_brief TEXT, talking_points TEXT,
    raw_output TEXT, tech_brief TEXT, funding_brief TEXT, competitors_brief TEXT, red_flags TEXT,
    scrape_used INTEGER, accessibility_brief TEXT);
CREATE TABLE background_tasks (id INTEGER PRIMARY KEY AUTOINCREMENT, task_type TEXT NOT NULL,
    job_id INTEGER DEFAULT 0, status TEXT DEFAULT 'queued', error TEXT,
    created_at TEXT DEFAULT (datetime('now')), started_at TEXT, finished_at TEXT, stage TEXT,
    updated_at TEXT);
CREATE TABLE survey_responses (id INTEGER PRIMARY KEY AUTOINCREMENT, job_id INTEGER,
    survey_name TEXT, received_at TEXT, source TEXT, raw_input TEXT, image_path TEXT, mode TEXT,
    llm_output TEXT, reported_score TEXT, created_at TEXT);
"""
CURRENT_SCHEMA = SEED_SCHEMA + """
ALTER TABLE jobs ADD COLUMN calendar_event_id TEXT;
ALTER TABLE jobs ADD COLUMN optimized_resume TEXT;
ALTER TABLE jobs ADD COLUMN ats_gap_report TEXT;
ALTER TABLE jobs ADD COLUMN application_qa TEXT;
ALTER TABLE background_tasks ADD COLUMN params TEXT;
CREATE TABLE digest_queue (id INTEGER PRIMARY KEY AUTOINCREMENT, job_contact_id INTEGER UNIQUE,
    created_at TEXT);
CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT
    (datetime('now')));
INSERT INTO schema_migrations(version) VALUES ('001_baseline');
"""

#: (upstream status, rejection_stage, applied_at) → (our status, rejected from) per §9.
STATUS_CASES: list[tuple[str | None, str | None, str | None, str, str | None]] = [
    ("pending", None, None, "pending", None),
    ("approved", None, None, "approved", None),
    ("rejected", None, None, "rejected", "pending"),
    ("rejected", "phone_screen", "2026-02-02", "rejected", "phone_screen"),
    ("rejected", "survey", "2026-02-02", "rejected", "applied"),
    ("applied", None, "2026-02-03", "applied", None),
    ("synced", None, "2026-02-04", "applied", None),
    ("synced", None, None, "approved", None),
    ("survey", None, "2026-02-05", "applied", None),
    ("phone_screen", None, "2026-02-06", "phone_screen", None),
    ("interviewing", None, "2026-02-07", "interviewing", None),
    ("offer", None, "2026-02-08", "offer", None),
    ("hired", None, "2026-02-09", "hired", None),
    ("interview_rejected", "Interviewing", "2026-02-10 09:00:00", "rejected", "interviewing"),
    ("archived", None, None, "rejected", "pending"),
    ("on_hold", None, None, "pending", None),
    (None, None, None, "pending", None),
]


def status_rows() -> list[dict[str, Any]]:
    """One job per upstream status (ids 1…17), unicode in the first."""
    rows = []
    for number, (status, stage, applied, _ours, _from) in enumerate(STATUS_CASES, start=1):
        rows.append({
            "title": "Ingénieure logiciel — Zürich ☕" if number == 1 else f"Engineer {number}",
            "company": "Müller & Söhne GmbH" if number == 1 else f"Company {number}",
            "url": f"https://jobs.example/{number}", "source": "linkedin",
            "location": "Zürich" if number == 1 else "Remote", "is_remote": number % 2,
            "salary": "CHF 120’000" if number == 1 else "", "description": f"Posting {number}",
            "match_score": 71.5, "keyword_gaps": "kubernetes, go",
            "date_found": "2026-02-01", "status": status, "rejection_stage": stage,
            "applied_at": applied})
    return rows


def broken_rows() -> list[dict[str, Any]]:
    """Rows the store would refuse as they are (§10)."""
    return [
        {"title": "", "company": "", "url": "https://digest.example/1", "source": "digest",
         "date_found": "2026-02-12T08:30:00.123456", "status": "pending"},
        {"title": "(untitled)", "company": "Lead Co", "url": "email://lead.example/9f3a",
         "source": "email", "date_found": "2026-02-13", "status": "pending"},
        {"title": "Bad dates", "company": "Odd Inc", "url": "https://jobs.example/bad",
         "date_found": "last tuesday", "status": "phone_screen", "interview_date": "soon",
         "applied_at": "2026-02-14"},
    ]


def write_database(path: Path, rows: list[dict[str, Any]], schema: str = CURRENT_SCHEMA) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(schema)
    columns = {r[1] for r in conn.execute("PRAGMA table_info(jobs)")}
    for row in rows:
        row = {k: v for k, v in row.items() if k in columns}
        conn.execute(f"INSERT INTO jobs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                     list(row.values()))
    conn.commit()
    conn.close()


def current_rows() -> list[dict[str, Any]]:
    """The Docker install's jobs: every status, interview times of both UIs, links, broken rows."""
    rows = status_rows()
    rows[9].update(interview_date="2026-03-20", phone_screen_at="2026-02-11T10:30")
    rows[10].update(interview_date="2026-03-21T15:30:00.000Z",
                    phone_screen_at="2026-02-12 09:00:00", interviewing_at="2026-02-15 10:00:00",
                    calendar_event_id="peregrine-job-11@circuitforge.tech")
    rows[5].update(notion_page_id=NOTION_PAGE.replace("-", ""),
                   cover_letter="Dear Hiring Team,\nI would love to join.",
                   application_qa=json.dumps([{"id": 1, "question": "Why us?",
                                               "answer": "Your mission."}]))
    rows[8].update(survey_at="2026-02-06T14:00")
    return rows + broken_rows()


def add_side_tables(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO job_contacts(job_id, direction, subject, from_addr, body, "
                 "received_at, stage_signal) VALUES (10, 'inbound', 'Phone screen next week', "
                 "'recruiter@company10.example', '<p>Hi!<br>Does <b>Tuesday</b> work?</p>', "
                 "'Thu, 19 Feb 2026 ', 'interview_scheduled')")
    conn.execute("INSERT INTO job_contacts(job_id, direction, subject, to_addr, body, "
                 "received_at) VALUES (10, 'outbound', 'Re: Phone screen', "
                 "'recruiter@company10.example', 'Tuesday is great.', '2026-02-20')")
    conn.execute("INSERT INTO survey_responses(job_id, survey_name, received_at, source, mode, "
                 "reported_score) VALUES (9, 'Culture fit', '2026-02-06', 'text_paste', "
                 "'quick', '8/10')")
    conn.execute("INSERT INTO company_research(job_id, generated_at, company_brief) VALUES "
                 "(10, '2026-02-11T09:00', 'A company.')")
    conn.execute("INSERT INTO background_tasks(task_type, job_id, status) VALUES "
                 "('discovery', 0, 'completed')")
    conn.commit()
    conn.close()


def _yaml(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.dump(data, sort_keys=True, allow_unicode=True), encoding="utf-8")


def integration_files(config: Path, google_key: str) -> None:
    """All 13 files as Streamlit's save_config writes them: every key present, '' when blank."""
    files = {
        "notion": {"token": SECRETS["notion"], "database_id": NOTION_DATABASE},
        "airtable": {"api_key": SECRETS["airtable"], "base_id": "appBase123",
                     "table_name": "Jobs"},
        "apple_calendar": {"caldav_url": "https://caldav.icloud.com/", "username": "zoe@icloud.com",
                           "app_password": SECRETS["caldav"], "calendar_name": "Entretiens"},
        "google_calendar": {"calendar_id": "primary", "credentials_json": google_key},
        "google_drive": {"folder_id": "0AFolder", "credentials_json": "~/keys/drive.json"},
        "google_sheets": {"spreadsheet_id": "1Sheet", "sheet_name": "Jobs",
                          "credentials_json": "/app/config/missing-sheets.json"},
        "dropbox": {"access_token": SECRETS["dropbox"], "folder_path": "/Peregrine"},
        "onedrive": {"client_id": "11111111-2222-3333-4444-555555555555",
                     "client_secret": SECRETS["onedrive"], "folder_path": "Jobs"},
        "mega": {"email": "zoe@example.com", "password": SECRETS["mega"],
                 "folder_path": "/Peregrine"},
        "nextcloud": {"host": "https://cloud.example.com/", "username": "zoe",
                      "password": SECRETS["nextcloud"], "folder_path": "Jobs"},
        "slack": {"webhook_url": SECRETS["slack"], "channel": "#jobs"},
        "discord": {"webhook_url": SECRETS["discord"]},
        "home_assistant": {"base_url": "http://homeassistant.local:8123",
                           "token": "${HA_TOKEN}",
                           "notification_service": "notify.mobile_app_pixel"},
    }
    for name, data in files.items():
        _yaml(config / "integrations" / f"{name}.yaml", data)


def legacy_notion(config: Path, database_id: str = NOTION_DATABASE) -> None:
    dashed = f"{database_id[:8]}-{database_id[8:12]}-{database_id[12:16]}-" \
             f"{database_id[16:20]}-{database_id[20:]}"
    _yaml(config / "notion.yaml", {"token": SECRETS["notion"], "database_id": dashed,
                                   "field_map": {
                                       "title_field": "Salary", "job_title": "Job Title",
                                       "company": "Company Name", "url": "Role Link",
                                       "source": "Job Source", "status": "Status of Application",
                                       "status_new": "Application Submitted",
                                       "date_found": "Date Found", "remote": "Remote",
                                       "match_score": "Match Score", "notes": "Notes"}})


def credential_store(config: Path, with_key: bool = True) -> None:
    """The Vue API's file backend: a Fernet token of {key: value}, key in .credential_key."""
    from cryptography.fernet import Fernet

    key = Fernet.generate_key()
    folder = config / "credentials"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "peregrine.json").write_bytes(
        Fernet(key).encrypt(json.dumps({"imap_password": SECRETS["imap"]}).encode()))
    (folder / "peregrine_tokens.json").write_bytes(
        Fernet(key).encrypt(json.dumps({"huggingface_token": "${HF_TOKEN}"}).encode()))
    if with_key:
        (config / ".credential_key").write_bytes(key)


def docker_install(root: Path, docs: Path) -> Path:
    """The documented install: config/, data/staging.db, .env with DOCS_DIR, a Vue-side profile."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "compose.yml").write_text("services:\n  app: {}\n  api: {}\n")
    (root / "manage.sh").write_text("#!/bin/sh\n")
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "Zoe_resume_2026.pdf").write_bytes(b"%PDF-1.4\n")
    (root / ".env").write_text(f"DOCS_DIR={docs}\nHA_TOKEN={SECRETS['home_assistant']}\n"
                               "ANTHROPIC_API_KEY=sk-ant-notforus\n")
    config = root / "config"
    _yaml(config / "user.yaml", {
        "name": "Zoë Ångström", "email": "zoe@example.com", "phone": "+41 44 000 00 00",
        "linkedin": "https://linkedin.com/in/zoe", "tier": "premium",
        "dev_tier_override": "ultra", "career_summary": "Builds reliable systems.\n",
        "wizard_complete": True, "docs_dir": "/docs", "_raw_resume_text": "Private résumé",
        "candidate_voice": "warm", "inference_profile": "cpu"})
    _yaml(config / "search_profiles.yaml", {"profiles": [
        {"name": "default", "titles": ["Site Reliability Engineer", "Platform Engineer"],
         "locations": ["Zürich", "Remote"], "remote_only": False, "boards": ["linkedin"],
         "exclude_keywords": ["unpaid"]}]})
    (config / "google-sa.json").write_text(json.dumps({"type": "service_account"}))
    integration_files(config, "/app/config/google-sa.json")
    legacy_notion(config)
    credential_store(config)
    _yaml(config / "email.yaml", {"host": "imap.example.com", "username": "zoe",
                                  "password": SECRETS["imap"]})
    vue_profile = root / "data" / "config" / "user.yaml"
    _yaml(vue_profile, {"name": "Zoë (Vue)", "tier": "free", "phone": "+41 79 000 00 00"})
    os.utime(vue_profile, (1_700_000_000, 1_700_000_000))   # older than config/user.yaml
    write_database(root / "data" / "staging.db", current_rows())
    add_side_tables(root / "data" / "staging.db")
    return root


def old_install(root: Path) -> Path:
    """The pre-integration personal app: staging.db at the root in the first schema, only the
    legacy notion.yaml."""
    root.mkdir(parents=True, exist_ok=True)
    config = root / "config"
    _yaml(config / "user.yaml", {"name": "Old Timer", "email": "old@example.com"})
    legacy_notion(config)
    rows = status_rows()[:6]
    rows[0]["notion_page_id"] = NOTION_PAGE
    write_database(root / "staging.db", rows, SEED_SCHEMA)
    return root


BACKUP_CONFIG_ORDER = ("notion.yaml", "tokens.yaml", "email.yaml", "adzuna.yaml",
                       "craigslist.yaml", "user.yaml", "plain_text_resume.yaml", "license.json",
                       "user.yaml.working")
BACKUP_CONFIG_LATER = ("llm.yaml", "search_profiles.yaml", "resume_keywords.yaml",
                       "skills_suggestions.yaml", "blocklist.yaml", "server.yaml")


def settings_backup(install: Path, target: Path, *, skip: tuple[str, ...] = ()) -> Path:
    """backup.py --create: config files in its order, integrations, the database, a manifest
    (``skip``: entries listed in the manifest but left out, as a damaged copy would be)."""
    entries = [f"config/{n}" for n in BACKUP_CONFIG_ORDER if (install / "config" / n).is_file()]
    entries += sorted(f"config/integrations/{p.name}"
                      for p in (install / "config" / "integrations").glob("*.yaml"))
    entries += [f"config/{n}" for n in BACKUP_CONFIG_LATER if (install / "config" / n).is_file()]
    database = next((n for n in ("data/staging.db", "staging.db") if (install / n).is_file()),
                    None)
    if database:
        entries.append(database)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in entries:
            if entry not in skip:
                archive.write(install / entry, entry)
        archive.writestr("backup-manifest.json", json.dumps({
            "created_at": "2026-03-01T10:00:00", "source": "app", "source_path": "/app",
            "peregrine_version": "1.0", "files": entries, "includes_db": bool(database)}))
    return target


def vue_backup(install: Path, target: Path) -> Path:
    """The Vue "Create backup": data/config/*.yaml as config/<name>, the database, no manifest."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((install / "data" / "config").glob("*.yaml")):
            if path.name != "tokens.yaml":
                archive.write(path, f"config/{path.name}")
        archive.write(install / "data" / "staging.db", "data/staging.db")
    return target


def tree_hashes(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (or of ``root`` itself when it is a file)."""
    paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
