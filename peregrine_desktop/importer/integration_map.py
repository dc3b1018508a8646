"""The 13 upstream ``config/integrations/<name>.yaml`` files → our integrations (reference §3–5).

Each upstream file is declared as data (:data:`MAPPINGS`): our name, our key for each upstream
key, fixed values that keep upstream's behaviour, and what cannot carry over.  Our plugins'
``fields()`` stay the truth: a mapped key our plugin does not declare is dropped (and said), and
an ``api_url`` is never written.

States, for the preview and the summary:

- ``ready`` — everything needed is here; the card still counts as untested until its own test;
- ``sign_in`` — the service needs "Sign in…" again (Dropbox's short-lived token, OneDrive's
  client secret);
- ``attention`` — something must be fixed by hand first (a key file that is not on this
  computer, a retired Airtable key, a reference to an unset variable).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peregrine_desktop.importer.profile_map import load_yaml
from peregrine_desktop.importer.source import Source

READY, SIGN_IN, ATTENTION = "ready", "sign_in", "attention"
STATE_LABELS = {READY: "Imported", SIGN_IN: "Needs Sign in… again",
                ATTENTION: "Needs attention"}
#: A value that is exactly ``${NAME}`` refers to an environment variable (§5).
ENV_REFERENCE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
NEVER_IMPORTED = frozenset({"api_url"})


@dataclass(frozen=True)
class Mapping:
    """How one upstream file becomes ours."""

    ours: str
    keys: dict[str, str]                                   # upstream key → our key
    fixed: dict[str, Any] = field(default_factory=dict)    # our key → value
    dropped: dict[str, str] = field(default_factory=dict)  # upstream key → why not
    sign_in: str = ""                                      # why Sign in… is needed again
    paths: tuple[str, ...] = ()                            # our keys holding file paths


#: Upstream duration/alarm: one hour at the interview, no alarm (calendar_push.py).
_UPSTREAM_EVENTS = {"duration_minutes": 60, "reminder_minutes": 0}

MAPPINGS: dict[str, Mapping] = {
    "notion": Mapping("notion", {"token": "token", "database_id": "database_id"},
                      {"key_column": "Peregrine ID"}),
    "airtable": Mapping("airtable", {"api_key": "token", "base_id": "base_id",
                                     "table_name": "table"}, {"key_column": "Peregrine ID"}),
    "apple_calendar": Mapping("caldav_calendar", {
        "caldav_url": "url", "username": "username", "app_password": "app_password",
        "calendar_name": "calendar_name"}, {"create_calendar": True, **_UPSTREAM_EVENTS}),
    "google_calendar": Mapping("google_calendar", {"credentials_json": "key_file",
                                                   "calendar_id": "calendar_id"},
                               dict(_UPSTREAM_EVENTS), paths=("key_file",)),
    "google_drive": Mapping("google_drive", {"credentials_json": "key_file",
                                             "folder_id": "folder_id"},
                            {"auth_mode": "shared_drive"}, paths=("key_file",)),
    "google_sheets": Mapping("google_sheets", {"credentials_json": "key_file",
                                               "spreadsheet_id": "spreadsheet_id",
                                               "sheet_name": "sheet_name"},
                             paths=("key_file",)),
    "dropbox": Mapping("dropbox", {"folder_path": "folder"},
                       dropped={"access_token": "a short-lived token (sl.…) that expired hours "
                                                "after it was made"},
                       sign_in="Enter your Dropbox app key, then press Sign in with Dropbox."),
    "onedrive": Mapping("onedrive", {"client_id": "client_id", "folder_path": "folder"},
                        dropped={"client_secret": "Peregrine Desktop signs in with a code "
                                                  "instead of a client secret"},
                        sign_in="Choose your account type, then press Sign in with Microsoft "
                                "(the app registration must allow public client flows)."),
    "mega": Mapping("mega", {"email": "email", "password": "password", "folder_path": "folder"}),
    "nextcloud": Mapping("nextcloud", {"host": "server_url", "username": "username",
                                       "password": "app_password", "folder_path": "folder"}),
    "slack": Mapping("slack", {"webhook_url": "webhook_url"},
                     dropped={"channel": "Slack ignores a channel set beside an app's webhook"}),
    "discord": Mapping("discord", {"webhook_url": "webhook_url"}),
    "home_assistant": Mapping("homeassistant", {"base_url": "base_url", "token": "token",
                                                "notification_service": "notify_service"}),
}

#: Legacy ``config/notion.yaml`` field_map key → our Notion mapping key (§4).
FIELD_MAP = {"job_title": "column_title", "company": "column_company", "url": "column_url",
             "source": "column_source", "status": "column_status",
             "date_found": "column_date_found", "remote": "column_remote",
             "notes": "column_notes", "title_field": "column_salary"}
FIELD_MAP_UNUSED = ("status_new", "match_score", "keyword_gaps", "job_description")


@dataclass
class IntegrationPlan:
    """One integration to bring over.  ``values`` holds secrets: never print or log it."""

    source_file: str
    name: str
    label: str
    tier: str
    values: dict[str, Any] = field(repr=False)     # secrets: kept out of every repr
    secret_keys: list[str]
    state: str = READY
    notes: list[str] = field(default_factory=list)

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    def attention(self, sentence: str) -> None:
        self.state = ATTENTION
        self.notes.append(sentence)


@dataclass
class IntegrationMapping:
    plans: list[IntegrationPlan] = field(default_factory=list)
    not_brought: list[str] = field(default_factory=list)


def _registry() -> dict[str, type]:
    import integrations

    return dict(integrations.REGISTRY)


def _fields_of(cls: type) -> dict[str, dict]:
    try:
        return {spec["key"]: spec for spec in cls().fields() if isinstance(spec, dict)}
    except Exception:  # noqa: BLE001 - a broken plugin only costs its own import
        return {}


def normalise_notion_id(text: str) -> str:
    return re.sub(r"[^0-9a-f]", "", (text or "").lower())


def resolve_reference(value: str, env: dict[str, str], plan: IntegrationPlan, key: str) -> str:
    """``${NAME}``: the install's ``.env`` value (brought as the secret itself, since this
    computer will not have the container's environment); else kept as the reference, which our
    store resolves at load — said when the variable is not set here."""
    import os

    match = ENV_REFERENCE.match(value.strip())
    if not match:
        return value
    name = match.group(1)
    if name in env:
        plan.notes.append(f"{key.replace('_', ' ').capitalize()}: taken from {name} in the "
                          "install's .env.")
        return env[name]
    if name not in os.environ:
        plan.attention(f"{key.replace('_', ' ').capitalize()} refers to the environment "
                       f"variable {name}, which is not set here; set it, or enter the value on "
                       "the card.")
    else:
        plan.notes.append(f"{key.replace('_', ' ').capitalize()} stays a reference to {name}.")
    return value.strip()


def map_integrations(source: Source) -> IntegrationMapping:
    result = IntegrationMapping()
    registry = _registry()
    env = source.env()
    files = {Path(n).stem: n for n in source.names("config/integrations")
             if n.endswith((".yaml", ".yml"))}
    for upstream, name in files.items():
        mapping = MAPPINGS.get(upstream)
        if mapping is None:
            result.not_brought.append(f"{name}: Peregrine Desktop has no integration called "
                                      f"“{upstream}”.")
            continue
        data = load_yaml(source, name)
        if data is None:
            continue
        cls = registry.get(mapping.ours)
        if cls is None:
            result.not_brought.append(f"{name}: the {mapping.ours} integration is not "
                                      "available in this installation.")
            continue
        result.plans.append(_plan_for(source, name, data, mapping, cls, env))
    _apply_legacy_notion(source, result, registry, env)
    return result


def _plan_for(source: Source, name: str, data: dict, mapping: Mapping, cls: type,
              env: dict[str, str]) -> IntegrationPlan:
    ours = _fields_of(cls)
    secret_keys = [k for k, spec in ours.items() if spec.get("type") == "password"]
    plan = IntegrationPlan(name, mapping.ours, str(getattr(cls, "label", mapping.ours)),
                           str(getattr(cls, "tier", "free")), {}, secret_keys)
    for key, value in mapping.fixed.items():
        if key in ours:
            plan.values[key] = value
    for up_key, our_key in mapping.keys.items():
        value = data.get(up_key)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if our_key not in ours or our_key in NEVER_IMPORTED:
            plan.notes.append(f"{up_key}: Peregrine Desktop's {plan.label} has no such setting.")
            continue
        value = str(value).strip() if not isinstance(value, bool) else value
        if isinstance(value, str):
            value = resolve_reference(value, env, plan, our_key)
        plan.values[our_key] = value
    for up_key, why in mapping.dropped.items():
        if str(data.get(up_key) or "").strip():
            plan.notes.append(f"{up_key.replace('_', ' ').capitalize()} not brought: {why}.")
    if plan.tier != "free":
        plan.notes.append(f"{plan.label} needs the {plan.tier.capitalize()} plan here; without "
                          "it the card shows as locked.")
    if mapping.sign_in:
        plan.state = SIGN_IN
        plan.notes.append(mapping.sign_in)
    for key in mapping.paths:
        if key in plan.values:
            _translate_key_file(source, plan, key)
    _specifics(plan, data)
    return plan


def _translate_key_file(source: Source, plan: IntegrationPlan, key: str) -> None:
    saved = str(plan.values[key])
    path, why = source.host_path(saved)
    if why:
        del plan.values[key]
        plan.attention(f"The service-account key file {saved} is not on this computer ({why}); "
                       "choose the key file on the card.")
    elif not Path(path).is_file():
        del plan.values[key]
        plan.attention(f"The service-account key file {path} no longer exists; choose the key "
                       "file on the card.")
    else:
        plan.values[key] = path


def _specifics(plan: IntegrationPlan, data: dict) -> None:
    values = plan.values
    if plan.name == "nextcloud":
        if "server_url" in values:
            values["server_url"] = str(values["server_url"]).rstrip("/")
        plan.notes.append("If your Nextcloud account uses two-factor sign-in, create an app "
                          "password (Settings → Security) and enter it on the card.")
    elif plan.name == "homeassistant" and "notify_service" in values:
        values["notify_service"] = str(values["notify_service"]).removeprefix("notify.")
    elif plan.name == "airtable" and str(values.get("token", "")).startswith("key"):
        plan.attention("This is an old Airtable API key, which Airtable retired in February "
                       "2024; create a personal access token (pat…) and enter it on the card.")
    elif plan.name == "google_drive":
        plan.notes.append("A service account can write only into a shared drive; for a folder "
                          "in your own My Drive, switch to “My Drive” on the card and sign in.")
    for key in plan.secret_keys:
        if key not in values and plan.state == READY and key in _required(plan):
            plan.attention(f"{key.replace('_', ' ').capitalize()} was empty in Peregrine; "
                           "enter it on the card.")


def _required(plan: IntegrationPlan) -> set[str]:
    cls = _registry().get(plan.name)
    return {k for k, spec in _fields_of(cls).items() if spec.get("required")} if cls else set()


def _apply_legacy_notion(source: Source, result: IntegrationMapping, registry: dict,
                         env: dict[str, str]) -> None:
    """The legacy ``config/notion.yaml``: its field_map becomes our column mapping when it is
    about the same database (or it is the only Notion file)."""
    legacy = load_yaml(source, "config/notion.yaml")
    if not legacy:
        return
    plan = next((p for p in result.plans if p.name == "notion"), None)
    if plan is None:
        cls = registry.get("notion")
        if cls is None:
            return
        mapping = MAPPINGS["notion"]
        plan = _plan_for(source, "config/notion.yaml", legacy, mapping, cls, env)
        result.plans.insert(0, plan)
    elif normalise_notion_id(str(legacy.get("database_id") or "")) != \
            normalise_notion_id(str(plan.values.get("database_id") or "")):
        plan.notes.append("The older config/notion.yaml points at another database; its "
                          "column names were not used.")
        return
    field_map = legacy.get("field_map")
    if not isinstance(field_map, dict):
        return
    for up_key, our_key in FIELD_MAP.items():
        column = field_map.get(up_key)
        if isinstance(column, str) and column.strip():
            plan.values[our_key] = column.strip()
    if field_map.get("title_field"):
        plan.notes.append(f"Page titles held the salary in Peregrine (“{field_map['title_field']}"
                          "”); they still do. Choose another Salary column on the card to "
                          "change that.")
    unused = [k for k in FIELD_MAP_UNUSED if field_map.get(k)]
    if unused:
        plan.notes.append("Not used here: " + ", ".join(unused) + " from the old field map.")


# -- secrets outside the integration files (§5) ----------------------------------------------------
CREDENTIAL_NAMES = {"imap_password": "the e-mail (IMAP) password",
                    "huggingface_token": "the Hugging Face token"}


def read_credential_store(source: Source) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Decrypt ``config/credentials/<service>.json`` with ``config/.credential_key`` (Fernet),
    or read it as the plain JSON it is without cryptography.  Returns (service → {key: value},
    sentences); values are secrets: never print them."""
    files = [n for n in source.names("config/credentials") if n.endswith(".json")]
    if not files:
        return {}, []
    key = source.read("config/.credential_key")
    fernet = None
    if key:
        try:
            from cryptography.fernet import Fernet

            fernet = Fernet(key.strip())
        except (ValueError, TypeError):
            fernet = None
    stores: dict[str, dict[str, str]] = {}
    sentences: list[str] = []
    for name in files:
        raw = source.read(name)
        if raw is None:
            continue
        data: Any = None
        if fernet is not None:
            from cryptography.fernet import InvalidToken

            try:
                data = json.loads(fernet.decrypt(raw.strip()))
            except (InvalidToken, ValueError):
                data = None
        if data is None:
            try:
                data = json.loads(raw)
            except ValueError:
                why = ("its key file config/.credential_key is missing or unreadable"
                       if fernet is None else "it does not match config/.credential_key")
                sentences.append(f"{name} could not be decrypted, because {why}.")
                continue
        if isinstance(data, dict):
            stores[Path(name).stem] = {str(k): str(v) for k, v in data.items()}
    return stores, sentences


def secrets_not_brought(source: Source) -> list[str]:
    """What the install keeps besides the integrations, named (never shown), and why it stays."""
    notes: list[str] = []
    stores, sentences = read_credential_store(source)
    notes.extend(sentences)
    for service, entries in sorted(stores.items()):
        for key in sorted(entries):
            what = CREDENTIAL_NAMES.get(key, f"“{key}”")
            notes.append(f"Credential store ({service}): {what} was read but not brought; "
                         "Peregrine Desktop has no e-mail or AI-model features that use it.")
    for name in ("config/email.yaml", "data/config/email.yaml"):
        if source.exists(name):
            notes.append(f"{name}: e-mail settings not brought; Peregrine Desktop does not read "
                         "your mailbox.")
    for name, what in (("config/tokens.yaml", "Hugging Face token"),
                       ("config/llm.yaml", "language-model settings"),
                       ("config/adzuna.yaml", "job-board credentials"),
                       ("config/license.json", "licence (bound to the other computer)")):
        if source.exists(name):
            notes.append(f"{name}: {what}, not brought.")
    return notes
