"""The user's sync choices: which pipeline stages sync, whether edits sync by themselves, how often
the trackers are asked what changed there, and what happens to rows added or deleted on one side.

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
#: Minutes between automatic pulls while the app is open (with automatic sync on).  Each pull
#: of an unchanged tracker is one request (Notion, Airtable) or one read (Sheets): far below
#: Notion's 3 and Airtable's 5 requests a second, and Sheets' 60 reads a minute.
DEFAULT_PULL_MINUTES = 10
PULL_CHOICES = (0, 5, 10, 15, 30, 60)
#: Rows added in a tracker: "ask" lists them to import, "import" takes them in at once.
REMOTE_ROWS = ("ask", "import")
#: Jobs deleted here: "ask" once, then "delete" their tracker records too, or "keep" them.
LOCAL_DELETES = ("ask", "delete", "keep")
#: Seconds between complete listings (which find records deleted in a tracker).
CENSUS_SECONDS = 3600.0


@dataclass(frozen=True)
class SyncOptions:
    """What the engine needs of the settings; ``full`` lists every record even with a cursor."""

    remote_rows: str = "ask"
    local_deletes: str = "ask"
    full: bool = False
    census_seconds: float = CENSUS_SECONDS


@dataclass
class SyncSettings:
    statuses: list[str] = field(default_factory=lambda: list(DEFAULT_STATUSES))
    auto_sync: bool = False
    auto_delay: float = DEFAULT_AUTO_DELAY
    pull_minutes: int = DEFAULT_PULL_MINUTES
    remote_rows: str = "ask"
    local_deletes: str = "ask"

    def options(self, full: bool = False) -> SyncOptions:
        return SyncOptions(self.remote_rows, self.local_deletes, full)

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
        minutes = data.get("pull_minutes")
        if isinstance(minutes, int) and not isinstance(minutes, bool) and minutes in PULL_CHOICES:
            settings.pull_minutes = minutes
        if data.get("remote_rows") in REMOTE_ROWS:
            settings.remote_rows = str(data["remote_rows"])
        if data.get("local_deletes") in LOCAL_DELETES:
            settings.local_deletes = str(data["local_deletes"])
        return settings

    def save(self, config_dir: Path) -> None:
        write_yaml(self.path(config_dir), {"statuses": list(self.statuses),
                                           "auto_sync": self.auto_sync,
                                           "auto_delay": self.auto_delay,
                                           "pull_minutes": self.pull_minutes,
                                           "remote_rows": self.remote_rows,
                                           "local_deletes": self.local_deletes})
