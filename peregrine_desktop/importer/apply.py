"""Apply an :class:`ImportPlan` here: profile, integrations (secrets to the keychain), jobs and
their existing Notion pages — then say what happened in an :class:`ImportSummary`.

Nothing already here is overwritten: a profile answer you gave is kept (the import fills only
what is empty, and lists are merged), an integration you set up is kept, and a job that is
already in the pipeline (imported before, or with the same address) is counted, not added again.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peregrine_desktop.importer.integration_map import ATTENTION, SIGN_IN, IntegrationPlan
from peregrine_desktop.importer.jobs_map import CALDAV_EVENT
from peregrine_desktop.importer.plan import ImportPlan
from peregrine_desktop.importer.profile_map import PROFILE_LABELS
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.settings.profile import UserProfile, load_profile

Progress = Callable[[int, int], None]


@dataclass
class ImportSummary:
    jobs_added: int = 0
    jobs_already_there: int = 0
    jobs_skipped: list[tuple[str, str]] = field(default_factory=list)
    notion_links: int = 0
    calendar_links: int = 0
    profile_filled: list[str] = field(default_factory=list)
    profile_kept: list[str] = field(default_factory=list)
    integrations_imported: list[str] = field(default_factory=list)
    integrations_sign_in: list[tuple[str, str]] = field(default_factory=list)
    integrations_attention: list[tuple[str, str]] = field(default_factory=list)
    integrations_kept: list[str] = field(default_factory=list)
    integrations_locked: list[str] = field(default_factory=list)
    secrets_note: str = ""
    not_brought: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    dry_run: bool = False

    def lines(self) -> list[str]:
        """The summary as plain sentences (the command prints them; the dialog shows them)."""
        would = "would be " if self.dry_run else ""
        out = [f"Jobs {would}added: {self.jobs_added}",
               f"Jobs already there: {self.jobs_already_there}",
               f"Jobs skipped: {len(self.jobs_skipped)}"]
        out += [f"  - {what}: {why}" for what, why in self.jobs_skipped]
        if self.notion_links:
            out.append(f"Jobs linked to their existing Notion pages: {self.notion_links} (the "
                       "first sync updates those pages instead of adding new ones)")
        if self.calendar_links:
            out.append(f"Interviews linked to their existing CalDAV events: "
                       f"{self.calendar_links} (a change of the interview updates that event)")
        if self.profile_filled:
            out.append("Profile: " + ", ".join(self.profile_filled))
        if self.profile_kept:
            out.append("Profile answers you had already given, kept: "
                       + ", ".join(self.profile_kept))
        out.append(f"Integrations {would}imported: " + (", ".join(self.integrations_imported)
                                                      or "none"))
        out += [f"  - {label}: needs Sign in… again. {why}"
                for label, why in self.integrations_sign_in]
        out += [f"  - {label}: needs attention. {why}"
                for label, why in self.integrations_attention]
        if self.integrations_locked:
            out.append("Locked until your plan includes them (Settings → Plan): "
                       + ", ".join(self.integrations_locked))
        if self.integrations_kept:
            out.append("Integrations already set up here, kept as they are: "
                       + ", ".join(self.integrations_kept))
        if self.secrets_note:
            out.append(self.secrets_note)
        if self.not_brought:
            out.append("Not brought:")
            out += [f"  - {line}" for line in self.not_brought]
        if self.problems:
            out.append("Could not be read:")
            out += [f"  - {line}" for line in self.problems]
        return out


def apply_plan(plan: ImportPlan, config_dir: Path, store: JobStore, *,
               profile: UserProfile | None = None, dry_run: bool = False,
               progress: Progress | None = None) -> ImportSummary:
    """Write ``plan`` into ``config_dir`` and ``store`` (nothing when ``dry_run``); call from a
    worker — the keychain and a big job batch both take time."""
    summary = ImportSummary(dry_run=dry_run, not_brought=list(plan.not_brought),
                            problems=list(plan.problems))
    base = 1 + len(plan.integrations)
    total = base + len(plan.jobs)

    def tell(done: int) -> None:
        if progress is not None:
            progress(min(done, total), total)

    if profile is None:
        profile, problem = load_profile(Path(config_dir) / "user.yaml")
        if problem:
            summary.problems.append(problem)
    _apply_profile(plan, profile, summary, dry_run)
    tell(1)
    for number, item in enumerate(plan.integrations, start=2):
        _apply_integration(item, Path(config_dir), profile.effective_tier, summary, dry_run)
        tell(number)
    _apply_jobs(plan, store, summary, dry_run, lambda jobs_done, _t: tell(base + jobs_done))
    tell(total)
    return summary


def _apply_profile(plan: ImportPlan, profile: UserProfile, summary: ImportSummary,
                   dry_run: bool) -> None:
    if not plan.profile:
        return
    changes: dict[str, Any] = {}
    for key, value in plan.profile.items():
        current = getattr(profile, key)
        label = PROFILE_LABELS.get(key, key)
        if isinstance(value, list):
            merged = list(current) + [v for v in value
                                      if v.casefold() not in {c.casefold() for c in current}]
            if merged != list(current):
                changes[key] = merged
                summary.profile_filled.append(label)
        elif not str(current or "").strip():
            changes[key] = value
            summary.profile_filled.append(label)
        elif str(current).strip() != str(value).strip():
            summary.profile_kept.append(label)
    if changes and not dry_run:
        profile.update(**changes)
        profile.save()


def _apply_integration(item: IntegrationPlan, config_dir: Path, tier: str,
                       summary: ImportSummary, dry_run: bool) -> None:
    import integrations

    from peregrine_desktop.settings.secrets import SecretStore, keychain_available
    from peregrine_desktop.settings.tiers import TIER_LABELS, tier_allows

    cls = integrations.REGISTRY.get(item.name)
    if cls is None:
        summary.not_brought.append(f"{item.label}: not available in this installation.")
        return
    if cls.is_configured(config_dir):
        summary.integrations_kept.append(item.label)
        return
    if not tier_allows(tier, item.tier):
        plan_name = TIER_LABELS.get(item.tier, item.tier)
        summary.integrations_locked.append(f"{item.label} ({plan_name})")
    why = " ".join(item.notes)
    if item.state == SIGN_IN:
        summary.integrations_sign_in.append((item.label, why))
    elif item.state == ATTENTION:
        summary.integrations_attention.append((item.label, why))
    else:
        summary.integrations_imported.append(item.label)
    if dry_run or not item.values:
        return
    SecretStore(config_dir).save(cls, item.values)
    if item.secret_keys and not summary.secrets_note:
        summary.secrets_note = (
            "Passwords and tokens are in the system keychain." if keychain_available() else
            "Passwords and tokens are in private files only your user can read, because no "
            "system keychain was found.")


def _apply_jobs(plan: ImportPlan, store: JobStore, summary: ImportSummary, dry_run: bool,
                progress: Progress) -> None:
    """New jobs in one transaction; a job already here (imported before: same uid; or the same
    posting: same URL) is counted, and still gets the Notion page or calendar event it had."""
    from peregrine_desktop.events import event_links
    from peregrine_desktop.sync.state import SyncState

    summary.jobs_skipped = list(plan.skipped_jobs)
    if not plan.jobs:
        return
    with store.connection() as conn:
        rows = conn.execute("SELECT id, uid, url FROM jobs").fetchall()
    by_uid = {row[1]: row[0] for row in rows}
    by_url = {row[2]: row[0] for row in rows if row[2]}
    new, linked = [], []          # linked: (our job id, upstream job) for the maps below
    for job in plan.jobs:
        url = job.values.get("url")
        existing = by_uid.get(job.values["uid"]) or (by_url.get(url) if url else None)
        if existing is not None:
            summary.jobs_already_there += 1
            linked.append((existing, job))
        else:
            new.append(job)
            if url:
                by_url[url] = -1        # a second row with this URL is "already there" too
    progress(len(plan.jobs) - len(new), len(plan.jobs))
    if dry_run:
        summary.jobs_added = len(new)
        summary.notion_links = sum(1 for job in new if job.notion_page_id)
        summary.calendar_links = sum(1 for job in new
                                     if CALDAV_EVENT.match(job.calendar_event_id))
        return
    already = len(plan.jobs) - len(new)
    report = store.add_many([job.values for job in new],
                            progress=lambda d, _t: progress(already + d, len(plan.jobs)))
    skipped = dict(report.skipped)
    added = iter(report.added_ids)
    for index, job in enumerate(new):
        if index in skipped:
            title = job.values.get("title") or job.values.get("company")
            summary.jobs_skipped.append((f"Peregrine job {job.source_id} ({title})",
                                         skipped[index]))
        else:
            linked.append((next(added), job))
    summary.jobs_added = report.added
    pages = [(job_id, job.notion_page_id) for job_id, job in linked
             if job_id > 0 and job.notion_page_id]
    events = [(job_id, job.calendar_event_id) for job_id, job in linked
              if job_id > 0 and CALDAV_EVENT.match(job.calendar_event_id)]
    if pages:
        summary.notion_links = SyncState(store).adopt_many("notion", pages)
    if events:
        summary.calendar_links = event_links.link_many(store, "caldav_calendar", events)
