"""``user.yaml`` and ``search_profiles.yaml`` → our profile fields (reference §2).

The tier is never taken from the file: a plan comes from a licence key here, and the original's
``dev_tier_override`` was for testing.  The résumé text pasted into the web wizard is personal
data with no place of ours, so it is not copied either.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from peregrine_desktop.importer.source import Source

PROFILE_FILES = ("config/user.yaml", "data/config/user.yaml")
SEARCH_FILES = ("config/search_profiles.yaml", "data/config/search_profiles.yaml")
TEXT_KEYS = ("name", "email", "phone", "linkedin", "career_summary")
#: Our profile fields as the preview and the summary name them.
PROFILE_LABELS = {"name": "name", "email": "e-mail", "phone": "phone", "linkedin": "LinkedIn",
                  "career_summary": "career summary", "documents_folder": "documents folder",
                  "resume_path": "résumé", "target_titles": "target titles",
                  "target_locations": "target locations", "exclude_keywords": "excluded words"}
#: Keys of the web app's AI features, which have no counterpart here (summarised, not listed).
AI_KEYS = ("nda_companies", "mission_preferences", "candidate_voice",
           "candidate_accessibility_focus", "candidate_lgbtq_focus", "inference_profile",
           "services", "ollama_models_dir", "vllm_models_dir", "model_dir", "data_dir")


@dataclass
class ProfileMapping:
    values: dict[str, Any] = field(default_factory=dict)    # our field → value
    source_file: str = ""
    notes: list[str] = field(default_factory=list)          # said in the preview
    not_brought: list[str] = field(default_factory=list)


def load_yaml(source: Source, name: str) -> dict | None:
    """A YAML mapping from the source; None when absent; a damaged file is a problem."""
    raw = source.read(name)
    if raw is None:
        return None
    try:
        data = yaml.safe_load(raw.decode("utf-8", "replace"))
    except yaml.YAMLError:
        source.problems.append(f"{name} is not valid YAML, so it was not read.")
        return None
    if data is None:
        return {}
    if not isinstance(data, dict):
        source.problems.append(f"{name} does not hold settings (found a "
                               f"{type(data).__name__}), so it was not read.")
        return None
    return data


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [v for v in value.split(",")]
    if not isinstance(value, list):
        return []
    return [str(v).strip() for v in value if isinstance(v, (str, int, float)) and str(v).strip()]


def _merge(into: list[str], more: list[str]) -> None:
    seen = {v.casefold() for v in into}
    for value in more:
        if value.casefold() not in seen:
            into.append(value)
            seen.add(value.casefold())


def search_targets(data: dict) -> tuple[list[str], list[str], list[str]]:
    """Titles, locations and excluded words from any of the three shapes of the file."""
    titles: list[str] = []
    locations: list[str] = []
    exclude: list[str] = []
    entries = [p for p in data.get("profiles") or [] if isinstance(p, dict)] \
        if isinstance(data.get("profiles"), list) else []
    if isinstance(data.get("default"), dict):
        entries.append(data["default"])
    for entry in entries:
        _merge(titles, _strings(entry.get("titles")) or _strings(entry.get("job_titles")))
        _merge(locations, _strings(entry.get("locations")) or _strings(entry.get("location")))
        _merge(exclude, _strings(entry.get("exclude_keywords")))
    return titles, locations, exclude


def newest_resume(folder: Path) -> str:
    """Upstream's matcher's choice: the newest ``*resume*.pdf`` or ``*cv*.pdf`` in the folder."""
    try:
        candidates = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".pdf"
                      and ("resume" in p.name.lower() or "cv" in p.name.lower())]
    except OSError:
        return ""
    if not candidates:
        return ""
    return str(max(candidates, key=lambda p: p.stat().st_mtime))


def map_profile(source: Source) -> ProfileMapping:
    result = ProfileMapping()
    found = [(name, data) for name in PROFILE_FILES
             if (data := load_yaml(source, name)) is not None]
    if not found:
        result.not_brought.append("Profile: no user.yaml was found.")
        data: dict = {}
    else:
        # config/ is what the default web UI showed; data/config/ is the Vue UI's copy (§1.1).
        found.sort(key=lambda item: source.modified(item[0]), reverse=True)
        result.source_file = found[0][0]
        data = {}
        for _name, other in reversed(found):
            data.update({k: v for k, v in other.items() if v not in (None, "", [])})
        if len(found) > 1:
            result.notes.append(f"Two profiles were found ({found[0][0]} and {found[1][0]}); "
                                f"where they differ, the newer one ({found[0][0]}) was used.")
    values = result.values
    for key in TEXT_KEYS:
        value = data.get(key)
        if isinstance(value, (str, int, float)) and str(value).strip():
            values[key] = str(value).strip()
    docs = data.get("docs_dir")
    if isinstance(docs, str) and docs.strip():
        folder, why = source.host_path(docs)
        if why:
            result.not_brought.append(f"Documents folder {docs}: not brought, because {why}.")
        elif not Path(folder).is_dir():
            result.not_brought.append(f"Documents folder {folder}: not found on this computer, "
                                      "so it was not set.")
        else:
            values["documents_folder"] = folder
            resume = newest_resume(Path(folder))
            if resume:
                values["resume_path"] = resume
    titles: list[str] = []
    locations: list[str] = []
    exclude: list[str] = []
    for name in SEARCH_FILES:
        search = load_yaml(source, name)
        if search:
            t, loc, ex = search_targets(search)
            _merge(titles, t)
            _merge(locations, loc)
            _merge(exclude, ex)
    for key, items in (("target_titles", titles), ("target_locations", locations),
                       ("exclude_keywords", exclude)):
        if items:
            values[key] = items
    tier = data.get("tier")
    if tier or data.get("dev_tier_override"):
        shown = str(data.get("dev_tier_override") or tier)
        result.not_brought.append(
            f"Plan (“{shown}” in Peregrine): not brought, because a plan here comes from a "
            "licence key (Settings → Plan).")
    if data.get("_raw_resume_text"):
        result.not_brought.append("The résumé text pasted into Peregrine's setup: not copied "
                                  "(choose your résumé file in Settings → Documents).")
    ai = [k for k in AI_KEYS if data.get(k) not in (None, "", [], {})]
    if ai:
        result.not_brought.append("Settings of Peregrine's AI features (" + ", ".join(ai) +
                                  "): Peregrine Desktop has no such features.")
    return result
