"""The user's sync choices: which pipeline stages sync, and whether edits sync by themselves.

Kept in ``<config dir>/sync.yaml``, apart from each integration's own file (which holds exactly
its ``fields()``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from peregrine_desktop.settings.configfiles import ConfigFileError, read_yaml_mapping, write_yaml
from peregrine_desktop.jobs import statuses

#: "Approved and later": the forward pipeline from approval on.  Rejected jobs that were synced
#: before keep being updated (the engine updates every job it has pushed once).
DEFAULT_STATUSES: tuple[str, ...] = statuses.PIPELINE[statuses.PIPELINE.index(
    statuses.ACTIVE_FROM):]
#: Seconds between the last edit and the automatic sync of the edited jobs.
DEFAULT_AUTO_DELAY = 5.0


@dataclass
class SyncSettings:
    statuses: list[str] = field(default_factory=lambda: list(DEFAULT_STATUSES))
    auto_sync: bool = False
    auto_delay: float = DEFAULT_AUTO_DELAY

    @staticmethod
    def path(config_dir: Path) -> Path:
        return Path(config_dir) / "sync.yaml"

    @classmethod
    def load(cls, config_dir: Path) -> "SyncSettings":
        """The saved choices; a missing or damaged file gives the defaults."""
        try:
            data = read_yaml_mapping(cls.path(config_dir))
        except ConfigFileError:
            data = {}
        settings = cls()
        chosen = data.get("statuses")
        if isinstance(chosen, list):
            settings.statuses = [s for s in statuses.STATUSES if s in {str(c) for c in chosen}]
        settings.auto_sync = data.get("auto_sync") is True
        delay = data.get("auto_delay")
        if isinstance(delay, (int, float)) and 0 <= delay <= 3600:
            settings.auto_delay = float(delay)
        return settings

    def save(self, config_dir: Path) -> None:
        write_yaml(self.path(config_dir), {"statuses": list(self.statuses),
                                           "auto_sync": self.auto_sync,
                                           "auto_delay": self.auto_delay})
