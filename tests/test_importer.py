"""Import from Peregrine (web): installs and backups built from the formats reference are brought
over — profile, integrations with their secrets in the keychain, jobs with mapped statuses — and
the original is never changed; a second import adds nothing."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from integrations.notion import NotionIntegration
from peregrine_desktop.importer import apply_plan, read_plan
from peregrine_desktop.importer.integration_map import ATTENTION, READY, SIGN_IN
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.settings import secrets
from peregrine_desktop.settings.profile import UserProfile
from peregrine_desktop.settings.secrets import SERVICE, SecretStore
from peregrine_desktop.sync.engine import SyncEngine
from peregrine_desktop.sync.state import SyncState
from peregrine_sdk.testkit import pointed_at
from tests.fakes import peregrine_web as web
from tests.fakes.loopback import LoopbackServer
from tests.fakes.tracker_services import NotionService
from tests.test_secrets import file_keyring, use_keyring  # noqa: F401 - fixtures


@pytest.fixture
def install(tmp_path) -> Path:
    return web.docker_install(tmp_path / "peregrine", tmp_path / "JobSearch")


@pytest.fixture
def here(tmp_path):
    """This app's config folder and job database."""
    config = tmp_path / "ours" / "config"
    store = JobStore(tmp_path / "ours" / "data" / "jobs.sqlite3")
    yield config, store
    store.close()


def run(path, here, **kwargs):
    config, store = here
    plan = read_plan(path)
    return plan, apply_plan(plan, config, store, **kwargs)


def jobs_by_title(store: JobStore) -> dict[str, dict]:
    return {job["title"]: job for job in store.list_jobs()}


def our_files(tmp_path: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in (tmp_path / "ours").rglob("*") if p.is_file()}


# -- a Docker install ------------------------------------------------------------------------------
def test_docker_install_brings_profile_integrations_and_every_status(install, here, tmp_path,
                                                                     file_keyring):
    config, store = here
    before = web.tree_hashes(install)

    plan, summary = run(install, here)

    profile = UserProfile(config / "user.yaml")
    assert (profile.name, profile.email, profile.phone) == \
        ("Zoë Ångström", "zoe@example.com", "+41 44 000 00 00")
    assert profile.career_summary == "Builds reliable systems."
    assert profile.documents_folder == str(tmp_path / "JobSearch")        # /docs → DOCS_DIR
    assert profile.resume_path.endswith("Zoe_resume_2026.pdf")
    assert profile.target_titles == ["Site Reliability Engineer", "Platform Engineer"]
    assert profile.target_locations == ["Zürich", "Remote"]
    assert profile.exclude_keywords == ["unpaid"]
    assert profile.tier == "free" and profile.dev_tier_override is None   # never from the file
    assert any("ultra" in line and "licence key" in line for line in summary.not_brought)

    jobs = store.list_jobs()
    assert summary.jobs_added == len(jobs) == len(web.STATUS_CASES) + 2   # digest row skipped
    assert [why for _what, why in summary.jobs_skipped] == [
        "it has no title or company (an e-mail digest entry Peregrine had not filled in yet)"]
    by_url = {job["url"]: job for job in jobs}
    for number, (upstream, _stage, _applied, ours, rejected_from) in \
            enumerate(web.STATUS_CASES, start=1):
        job = by_url[f"https://jobs.example/{number}"]
        assert job["status"] == ours, upstream
        if rejected_from:
            assert store.allowed_statuses(job["id"]) == [rejected_from], upstream
    assert "Was “survey” in Peregrine" in by_url["https://jobs.example/9"]["notes"]
    assert "Was “synced” in Peregrine" in by_url["https://jobs.example/7"]["notes"]
    assert "Was “archived” in Peregrine" in by_url["https://jobs.example/15"]["notes"]
    unicode = by_url["https://jobs.example/1"]
    assert (unicode["title"], unicode["company"], unicode["salary"]) == \
        ("Ingénieure logiciel — Zürich ☕", "Müller & Söhne GmbH", "CHF 120’000")
    assert unicode["remote"] is True and unicode["date_found"] == "2026-02-01"
    phone = by_url["https://jobs.example/10"]
    assert phone["interview_at"] == "2026-03-20T12:00+00:00"               # date only: noon UTC
    assert "E-mail received Thu, 19 Feb 2026 (recruiter@company10.example): Phone screen " \
           "next week" in phone["notes"]
    assert "Does Tuesday work?" in phone["notes"] and "<b>" not in phone["notes"]
    assert [h["status"] for h in store.history(phone["id"])] == \
        ["pending", "applied", "phone_screen"]
    assert by_url["https://jobs.example/11"]["interview_at"] == "2026-03-21T15:30+00:00"
    applied = by_url["https://jobs.example/6"]
    assert applied["applied_on"] == "2026-02-03"
    assert "Q: Why us?\nA: Your mission." in applied["notes"]
    assert "Cover letter:\nDear Hiring Team," in applied["notes"]
    lead = jobs_by_title(store)["(untitled)"]
    assert lead["url"] == "" and "email://lead.example/9f3a" in lead["notes"]
    odd = jobs_by_title(store)["Bad dates"]
    assert "“last tuesday”" in odd["notes"] and odd["interview_at"] is None

    first = plan.jobs[0].values["uid"]
    assert store.find_by_uid(first)["url"] == "https://jobs.example/1"   # one identity, derived
    assert first == read_plan(install).jobs[0].values["uid"]            # the same every time
    assert web.tree_hashes(install) == before          # the original is byte for byte unchanged


def test_integrations_map_to_our_names_and_keys_with_secrets_only_in_the_keychain(
        install, here, tmp_path, file_keyring):
    config, _store = here
    plan, summary = run(install, here)
    secrets.clear_cache()   # as after a restart: values come from the keychain
    store = SecretStore(config)
    import integrations

    def load(name):
        return store.load(integrations.REGISTRY[name])

    assert load("caldav_calendar") == {
        "url": "https://caldav.icloud.com/", "username": "zoe@icloud.com",
        "app_password": web.SECRETS["caldav"], "calendar_name": "Entretiens",
        "create_calendar": True, "duration_minutes": 60, "reminder_minutes": 0}
    assert load("nextcloud") == {"server_url": "https://cloud.example.com", "username": "zoe",
                                 "app_password": web.SECRETS["nextcloud"], "folder": "Jobs"}
    assert load("homeassistant") == {"base_url": "http://homeassistant.local:8123",
                                     "token": web.SECRETS["home_assistant"],   # from .env
                                     "notify_service": "mobile_app_pixel"}
    assert load("airtable") == {"token": web.SECRETS["airtable"], "base_id": "appBase123",
                                "table": "Jobs", "key_column": "Peregrine ID"}
    assert load("slack") == {"webhook_url": web.SECRETS["slack"]}
    assert load("google_calendar")["key_file"] == str(install / "config" / "google-sa.json")
    notion = load("notion")
    assert notion["token"] == web.SECRETS["notion"]
    assert (notion["column_title"], notion["column_company"], notion["column_url"],
            notion["column_salary"], notion["column_status"]) == \
        ("Job Title", "Company Name", "Role Link", "Salary", "Status of Application")
    assert load("dropbox") == {"folder": "/Peregrine"}
    for name in integrations.REGISTRY:
        if (config / "integrations" / f"{name}.yaml").exists():
            assert "api_url" not in load(name)

    states = {item.name: item.state for item in plan.integrations}
    assert states["dropbox"] == states["onedrive"] == SIGN_IN
    assert states["google_sheets"] == states["google_drive"] == ATTENTION   # key file gone
    assert states["caldav_calendar"] == states["notion"] == READY
    assert {label for label, _why in summary.integrations_sign_in} == {"Dropbox", "OneDrive"}
    assert len(summary.integrations_imported) == 9
    assert summary.integrations_locked == ["Airtable (Paid)", "Google Sheets (Paid)",
                                           "Notion (Paid)"]       # the free plan here

    keychain = file_keyring.path.read_text()
    written = b"".join(our_files(tmp_path).values()).decode("utf-8", "replace")
    for name, value in web.SECRETS.items():
        if name in ("dropbox", "onedrive", "imap"):
            assert value not in keychain, name        # cannot carry over / not ours to keep
        else:
            assert file_keyring.get_password(SERVICE, next(
                f"{i.name}:{k}" for i in plan.integrations for k in i.secret_keys
                if i.values.get(k) == value)) == value
        assert value not in written, name             # in no file of ours
    assert "sk-ant-notforus" not in written and "sk-ant-notforus" not in keychain
    assert not any(value in line for line in summary.lines() for value in web.SECRETS.values())


def test_a_second_import_adds_nothing_and_keeps_what_is_here(install, here, file_keyring):
    config, store = here
    run(install, here)
    profile = UserProfile(config / "user.yaml")
    profile.update(name="Zoë A.")
    profile.save()
    count = store.count()

    _plan, again = run(install, here)

    assert store.count() == count
    assert (again.jobs_added, again.jobs_already_there) == (0, count)
    assert UserProfile(config / "user.yaml").name == "Zoë A."
    assert "name" in again.profile_kept
    assert again.integrations_imported == [] and len(again.integrations_kept) == 13


def test_env_references_are_kept_when_this_computer_has_the_variable(install, here,
                                                                     file_keyring, monkeypatch):
    config, _store = here
    (install / ".env").write_text("")      # the install's .env no longer says
    monkeypatch.setenv("HA_TOKEN", "from-this-shell")
    plan, _summary = run(install, here)
    saved = yaml.safe_load((config / "integrations" / "homeassistant.yaml").read_text())
    assert saved["token"] == "${HA_TOKEN}"
    import integrations
    assert SecretStore(config).load(integrations.REGISTRY["homeassistant"])["token"] == \
        "from-this-shell"
    monkeypatch.delenv("HA_TOKEN")
    plan = read_plan(install)
    ha = next(i for i in plan.integrations if i.name == "homeassistant")
    assert ha.state == ATTENTION and "HA_TOKEN" in " ".join(ha.notes)


def test_the_credential_store_is_decrypted_with_its_key_and_nothing_of_it_brought(install,
                                                                                  here):
    plan = read_plan(install)
    lines = [line for line in plan.not_brought if line.startswith("Credential store")]
    assert len(lines) == 2 and "e-mail (IMAP) password" in lines[0]
    assert not any(web.SECRETS["imap"] in line for line in plan.not_brought)
    (install / "config" / ".credential_key").unlink()
    plan = read_plan(install)
    assert any("config/credentials/peregrine.json could not be decrypted, because its key "
               "file" in line for line in plan.not_brought)


# -- an old install, the first schema --------------------------------------------------------------
def test_old_install_with_the_first_schema_and_only_the_legacy_notion_file(tmp_path, here,
                                                                           file_keyring):
    config, store = here
    old = web.old_install(tmp_path / "job-seeker")
    plan, summary = run(old, here)
    assert plan.kind == "a Peregrine install"
    assert summary.jobs_added == 6 and not plan.problems
    notion = next(i for i in plan.integrations if i.name == "notion")
    assert notion.source_file == "config/notion.yaml"
    assert notion.values["database_id"].replace("-", "") == web.NOTION_DATABASE
    assert notion.values["column_url"] == "Role Link"
    assert UserProfile(config / "user.yaml").name == "Old Timer"
    assert summary.notion_links == 1


# -- backups ---------------------------------------------------------------------------------------
def test_a_settings_backup_gives_the_same_jobs_as_its_folder(install, here, tmp_path,
                                                              file_keyring):
    _config, store = here
    backup = web.settings_backup(install, tmp_path / "peregrine-backup-20260301-100000.zip")
    before = web.tree_hashes(backup)
    plan, summary = run(backup, here)
    assert plan.kind == "a backup made in Peregrine's Settings"
    assert summary.jobs_added == len(web.STATUS_CASES) + 2
    states = {i.name: i for i in plan.integrations}
    assert states["google_calendar"].state == ATTENTION       # backups never hold the key file
    assert "a backup does not hold" in " ".join(states["google_calendar"].notes)
    assert states["homeassistant"].state == ATTENTION          # no .env in a backup
    _plan, folder = run(install, here)                         # same install, from its folder
    assert (folder.jobs_added, folder.jobs_already_there) == (0, summary.jobs_added)
    assert web.tree_hashes(backup) == before


def test_a_vue_backup_has_the_vue_profile_and_no_integrations(install, here, tmp_path):
    config, store = here
    backup = web.vue_backup(install, tmp_path / "peregrine_backup_20260301_100000.zip")
    plan, summary = run(backup, here)
    assert plan.kind == "a backup made in Peregrine's new (Vue) settings"
    assert plan.integrations == []
    assert UserProfile(config / "user.yaml").name == "Zoë (Vue)"
    assert summary.jobs_added == len(web.STATUS_CASES) + 2


# -- damaged inputs --------------------------------------------------------------------------------
def test_a_truncated_database_says_so_and_imports_what_is_readable(tmp_path, here):
    _config, store = here
    root = tmp_path / "peregrine"
    rows = [{"title": f"Job {i}", "company": "C", "url": f"https://jobs.example/{i}",
             "description": "x" * 3000, "date_found": "2026-02-01", "status": "pending"}
            for i in range(1, 301)]
    web.write_database(root / "data" / "staging.db", rows)
    (root / "config").mkdir()
    database = root / "data" / "staging.db"
    database.write_bytes(database.read_bytes()[: database.stat().st_size // 2])
    plan, summary = run(root, here)
    assert any("damaged" in p for p in plan.problems), plan.problems
    assert 0 < summary.jobs_added < 300
    assert any("damaged" in line for line in summary.lines())


def test_a_zip_with_a_missing_member_says_which_and_reads_the_rest(install, here, tmp_path):
    backup = web.settings_backup(install, tmp_path / "b.zip",
                                 skip=("config/integrations/slack.yaml",))
    plan, summary = run(backup, here)
    assert "The backup lists config/integrations/slack.yaml but does not contain it; the rest " \
           "was read." in plan.problems
    assert summary.jobs_added == len(web.STATUS_CASES) + 2
    assert "slack" not in {i.name for i in plan.integrations}


def test_a_damaged_zip_member_is_named(install, here, tmp_path):
    good = web.settings_backup(install, tmp_path / "good.zip")
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as archive:
        info = archive.getinfo("config/user.yaml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start:start + 8] = b"\xff" * 8        # corrupt the compressed bytes
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(data))
    plan, summary = run(bad, here)
    assert any(p.startswith("config/user.yaml could not be read") for p in plan.problems)
    assert summary.jobs_added == len(web.STATUS_CASES) + 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_a_file_owned_by_root_is_reported_and_the_rest_imported(install, here):
    (install / "config" / "integrations" / "mega.yaml").chmod(0)
    plan, _summary = run(install, here)
    assert any("config/integrations/mega.yaml: permission denied" in p for p in plan.problems)
    assert "nextcloud" in {i.name for i in plan.integrations}


def test_something_that_is_not_peregrine_reads_nothing(tmp_path):
    (tmp_path / "photos").mkdir()
    plan = read_plan(tmp_path / "photos")
    assert not plan.readable and "does not look like a Peregrine install" in plan.error
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    assert "could not be opened" in read_plan(tmp_path / "x.zip").error


# -- the first sync of an imported Notion job -----------------------------------------------------
def test_a_notion_job_with_its_page_id_updates_that_page_on_first_sync(install, here,
                                                                       file_keyring,
                                                                       monkeypatch):
    config, store = here
    monkeypatch.setattr(NotionIntegration, "per_second", None)
    with LoopbackServer() as server, pointed_at(NotionIntegration, server.url):
        notion = NotionService(server, token=web.SECRETS["notion"])
        # The page Peregrine's old push made: no Peregrine ID, only the job's fields.
        notion.pages[web.NOTION_PAGE] = {"id": web.NOTION_PAGE, "order": -1, "in_trash": False,
                                         "properties": {}}
        _plan, summary = run(install, here)
        assert summary.notion_links == 1
        import integrations
        settings = SecretStore(config).load(integrations.REGISTRY["notion"])
        integration = NotionIntegration()
        integration.connect({**settings, "column_title": "Name", "column_company": "Company",
                             "column_url": "URL", "column_salary": "Salary",
                             "column_status": "Status", "column_source": "-",
                             "column_date_found": "Date found", "column_remote": "Remote",
                             "column_notes": "Notes"})
        job = store.find_by_url("https://jobs.example/6")
        report = SyncEngine(SyncState(store)).run(integration, [job])

        assert (report.created, report.updated) == ([], [job["id"]])
        assert [r.method for r in notion.writes()] == ["PATCH"]
        assert notion.writes()[0].path == f"/v1/pages/{web.NOTION_PAGE}"
        assert notion.keys() == [job["uid"]]           # the page now carries its key
        report = SyncEngine(SyncState(store)).run(integration, [job])
        assert report.unchanged == [job["id"]] and len(notion.live_pages()) == 1


# -- the command -----------------------------------------------------------------------------------
def test_the_command_previews_imports_and_fails_only_when_nothing_is_readable(install, tmp_path):
    def command(*args):
        return subprocess.run([sys.executable, "-m", "peregrine_desktop",
                               "import-from-peregrine", *args,
                               "--config-dir", str(tmp_path / "c"),
                               "--data-dir", str(tmp_path / "d")],
                              capture_output=True, text=True, timeout=120)

    dry = command(str(install), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "Dry run: nothing was written." in dry.stdout
    assert f"Jobs would be added: {len(web.STATUS_CASES) + 2}" in dry.stdout
    assert not (tmp_path / "c").exists() and not (tmp_path / "d").exists()
    done = command(str(install))
    assert done.returncode == 0, done.stderr
    assert "Needs Sign in… again" in done.stdout and "Jobs already there: 0" in done.stdout
    assert not any(value in done.stdout for value in web.SECRETS.values())
    again = command(str(install))
    assert f"Jobs already there: {len(web.STATUS_CASES) + 2}" in again.stdout
    missing = command(str(tmp_path / "nowhere"))
    assert missing.returncode == 1 and "does not exist" in missing.stderr


def test_the_data_or_config_folder_or_a_hand_made_zip_find_the_whole_install(install, tmp_path):
    whole = read_plan(install)
    for picked in (install / "data", install / "config"):
        plan = read_plan(picked)
        assert (len(plan.jobs), len(plan.integrations)) == \
            (len(whole.jobs), len(whole.integrations)), picked
    by_hand = tmp_path / "peregrine.zip"
    with zipfile.ZipFile(by_hand, "w") as archive:
        for path in install.rglob("*"):
            if path.is_file():
                archive.write(path, f"peregrine/{path.relative_to(install)}")
    plan = read_plan(by_hand)
    assert len(plan.jobs) == len(whole.jobs) and plan.profile["name"] == "Zoë Ångström"


def test_the_plan_never_shows_a_secret(install):
    plan = read_plan(install)
    text = repr(plan)
    assert not any(value in text for value in web.SECRETS.values())


def test_a_job_already_here_by_address_gets_its_notion_page(install, here, file_keyring):
    _config, store = here
    mine = store.add_job({"title": "Typed by hand", "url": "https://jobs.example/6"})
    _plan, summary = run(install, here)
    assert summary.jobs_already_there == 1 and summary.notion_links == 1
    assert SyncState(store).records("notion")[mine["id"]].remote_id == web.NOTION_PAGE
    assert store.get(mine["id"])["title"] == "Typed by hand"          # nothing overwritten
