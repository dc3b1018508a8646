"""ImportPlan: everything read from an install, before anything is written — the preview."""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peregrine_desktop.importer.integration_map import (IntegrationPlan, map_integrations,
                                                        secrets_not_brought)
from peregrine_desktop.importer.jobs_map import JobPlan, read_jobs
from peregrine_desktop.importer.profile_map import PROFILE_LABELS, map_profile
from peregrine_desktop.importer.source import Source, SourceError
from peregrine_desktop.jobs import statuses

#: Tables of the web app's database that are not brought, and why (§6.2).
TABLES_NOT_BROUGHT = {
    "company_research": "company research briefs (generated text; generate them again if needed)",
    "background_tasks": "background task records (only meaningful to the web app)",
    "digest_queue": "digest e-mails waiting to be processed",
}


@dataclass
class ImportPlan:
    """What an import would do.  Integration values hold secrets: never print them."""

    path: Path
    kind: str = ""
    profile: dict[str, Any] = field(default_factory=dict)
    profile_file: str = ""
    integrations: list[IntegrationPlan] = field(default_factory=list)
    jobs: list[JobPlan] = field(default_factory=list)
    skipped_jobs: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)         # how things were brought
    not_brought: list[str] = field(default_factory=list)   # what stays behind, and why
    problems: list[str] = field(default_factory=list)      # what could not be read
    error: str = ""                                        # nothing could be read at all

    @property
    def readable(self) -> bool:
        return not self.error and bool(self.profile or self.integrations or self.jobs
                                       or self.skipped_jobs or self.profile_file)

    def status_counts(self) -> dict[str, int]:
        counts = Counter(job.values["status"] for job in self.jobs)
        return {s: counts[s] for s in statuses.STATUSES if counts[s]}

    def profile_labels(self) -> str:
        """The profile answers found, as people call them."""
        return ", ".join(PROFILE_LABELS.get(key, key) for key in self.profile)

    def sample(self, size: int = 8) -> list[JobPlan]:
        """The most recent jobs, for the preview."""
        return sorted(self.jobs, key=lambda j: j.values.get("date_found") or "",
                      reverse=True)[:size]


def read_plan(path: str | os.PathLike) -> ImportPlan:
    """Read the install or backup at ``path`` (never writing to it) into a plan."""
    plan = ImportPlan(Path(path))
    try:
        source = Source.open(path)
    except SourceError as exc:
        plan.error = str(exc)
        return plan
    with source:
        plan.kind = source.kind
        profile = map_profile(source)
        plan.profile, plan.profile_file = profile.values, profile.source_file
        plan.notes += profile.notes
        plan.not_brought += profile.not_brought
        mapped = map_integrations(source)
        plan.integrations = mapped.plans
        plan.not_brought += mapped.not_brought
        plan.not_brought += secrets_not_brought(source)
        database = source.database()
        reading = read_jobs(database)
        plan.jobs, plan.skipped_jobs = reading.jobs, reading.skipped
        for name, count in sorted(reading.unmapped_statuses.items()):
            plan.notes.append(f"{count} job{'s' if count != 1 else ''} with the status "
                              f"“{name}”, which has no counterpart here: brought as Pending.")
        for table, why in TABLES_NOT_BROUGHT.items():
            if reading.counts.get(table):
                plan.not_brought.append(f"{reading.counts[table]} {why}.")
        if database is None and not source.problems:
            plan.not_brought.append("Jobs: the install has no staging.db"
                                    + (" (this backup was made without the database)."
                                       if source.root is None else "."))
        plan.problems = source.problems + reading.problems
        if not plan.readable:
            plan.error = ("Nothing could be read from " + str(path) + ": "
                          + (" ".join(plan.problems) or "it holds no profile, integrations or "
                             "jobs."))
    return plan
