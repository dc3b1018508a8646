"""Coming from Peregrine (the web app): read an install folder or a backup zip, never writing to
it, into an :class:`~peregrine_desktop.importer.plan.ImportPlan` (the preview), then apply it.

- :mod:`.source` opens the folder or zip read-only and says what it could not read;
- :mod:`.profile_map`, :mod:`.integration_map` and :mod:`.jobs_map` turn the upstream files into
  our profile, integration settings (secrets apart) and jobs;
- :mod:`.plan` gathers them into the plan, and :mod:`.apply` writes it here: profile, keychain,
  integration files, jobs and their existing Notion pages in the sync map.

Qt-free, so the command line and the app's dialog share it.
"""
from peregrine_desktop.importer.apply import ImportSummary, apply_plan
from peregrine_desktop.importer.plan import ImportPlan, read_plan

__all__ = ["ImportPlan", "ImportSummary", "apply_plan", "read_plan"]
