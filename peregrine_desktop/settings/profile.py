"""UserProfile: the person's answers from the setup wizard, kept in ``<config dir>/user.yaml``."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peregrine_desktop.settings import paths
from peregrine_desktop.settings.configfiles import ConfigFileError, read_yaml_mapping, write_yaml

if TYPE_CHECKING:  # pragma: no cover
    from peregrine_desktop.settings.licence import LicenceFile, LicenceStatus

NOTIFY_EVENTS: dict[str, str] = {
    "job_added": "A job is added",
    "status_changed": "A job's status changes",
    "interview_scheduled": "An interview is scheduled",
    "reminder_due": "A next action, deadline or interview comes due",
}


@dataclass
class ProfileData:
    name: str = ""
    email: str = ""
    phone: str = ""
    linkedin: str = ""
    career_summary: str = ""
    dev_tier_override: str | None = None
    wizard_complete: bool = False
    wizard_step: int = 0
    resume_path: str = ""
    documents_folder: str = ""
    target_titles: list[str] = field(default_factory=list)
    target_locations: list[str] = field(default_factory=list)
    exclude_keywords: list[str] = field(default_factory=list)
    notify_events: list[str] = field(default_factory=lambda: list(NOTIFY_EVENTS))
    #: Deadlines and next actions also go to connected calendars as all-day entries.
    calendar_all_day: bool = False


_FIELD_TYPES = {f.name: f for f in fields(ProfileData)}
#: Keys older files hold that mean nothing any more: dropped when read, gone at the next save.
#: ``tier`` was the plan typed into the file; the plan now comes from a licence key only.
RETIRED_KEYS = frozenset({"tier"})


def _coerce(name: str, value: Any) -> Any:
    """Accept what a hand-edited file plausibly holds; reject what would break the app."""
    default = getattr(ProfileData(), name)
    if name == "dev_tier_override":
        return value if isinstance(value, str) and value else None
    if isinstance(default, bool):
        return value if isinstance(value, bool) else str(value).lower() in {"true", "yes", "1"}
    if isinstance(default, int):
        try:
            return max(0, int(value))
        except (TypeError, ValueError):
            return default
    if isinstance(default, list):
        if isinstance(value, str):
            value = [v for v in (p.strip() for p in value.split(",")) if v]
        return [str(v) for v in value] if isinstance(value, list) else default
    return "" if value is None else str(value)


class UserProfile(ProfileData):
    """``UserProfile()`` reads the default location, as the guide's example calls it.

    Unknown keys are preserved on save, so a newer version's settings survive an older app.
    The plan (``tier``) is not in the file: it is what the licence key saved beside it
    (``licence.json``) grants, checked against ``licence_key`` (default: the shipped key).
    """

    def __init__(self, path: Path | None = None, *, read: bool = True,
                 licence_key: bytes | None = None) -> None:
        super().__init__()
        self.path = Path(path) if path else paths.config_dir() / "user.yaml"
        self.extra: dict[str, Any] = {}
        self._licence_key = licence_key
        self._licence: LicenceFile | None = None
        self._plan_watchers: list[Callable[[str], None]] = []
        if read:
            self.reload()

    def reload(self) -> None:
        """Read the file; a broken file raises ConfigFileError (the app decides what to do).

        Read at every start, before the first window: through its parsed copy (no PyYAML)."""
        data = read_yaml_mapping(self.path, parsed_copy=True)
        for key, value in data.items():
            if key in _FIELD_TYPES:
                setattr(self, key, _coerce(key, value))
            elif key not in RETIRED_KEYS:
                self.extra[key] = value

    @property
    def licence(self) -> LicenceFile:
        """The saved key beside user.yaml; made on first use, as nothing before the first
        window needs the plan."""
        if self._licence is None:
            from peregrine_desktop.settings.licence import LicenceFile

            self._licence = LicenceFile(self.path.parent, self._licence_key)
        return self._licence

    @property
    def tier(self) -> str:
        """The purchased plan: what the activated licence key grants today, else "free"."""
        return self.licence.status().tier

    @property
    def effective_tier(self) -> str:
        """The plan in force: a developer override wins over the purchased tier."""
        return self.dev_tier_override or self.tier

    # -- the plan ---------------------------------------------------------------------------------
    def licence_status(self, now: datetime | None = None) -> LicenceStatus:
        """The saved key and what it means today, with the sentence the Plan page shows."""
        return self.licence.status(now)

    def activate_licence(self, token: str) -> LicenceStatus:
        """Verify and save a key (LicenceError if it cannot be used); every watcher hears of
        the new plan."""
        status = self.licence.activate(token)
        self._plan_changed()
        return status

    def remove_licence(self) -> None:
        """Forget the key: the plan becomes Free, and every watcher hears of it."""
        self.licence.remove()
        self._plan_changed()

    def watch_plan(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call ``callback(effective_tier)`` whenever a key is activated or removed through
        this profile; returns the function that stops it.  The one plan-changed notification:
        windows follow it through ``ui/plan_updates.py``."""
        self._plan_watchers.append(callback)
        return lambda: self._plan_watchers.remove(callback) if callback in \
            self._plan_watchers else None

    def _plan_changed(self) -> None:
        tier = self.effective_tier
        for callback in list(self._plan_watchers):
            callback(tier)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _FIELD_TYPES}

    def update(self, **values: Any) -> None:
        for key, value in values.items():
            if key not in _FIELD_TYPES:
                raise KeyError(f"unknown profile field {key!r}")
            setattr(self, key, _coerce(key, value))

    def save(self) -> None:
        write_yaml(self.path, {**self.as_dict(), **self.extra}, keep_parsed=True)


def load_profile(path: Path | None = None) -> tuple[UserProfile, str | None]:
    """The profile, or — when its file is damaged — defaults plus a sentence for the user.

    The damaged file is copied to ``user.yaml.bad-<time>`` first, so saving the defaults later
    loses nothing.
    """
    try:
        return UserProfile(path), None
    except ConfigFileError as exc:
        from peregrine_desktop.settings.config_recovery import keep_copy_once

        backup = keep_copy_once(exc.path)   # one copy per damage, not one per start
        profile = UserProfile(exc.path, read=False)
        kept = f" A copy was kept as {backup.name}." if backup else ""
        return profile, f"Your profile ({exc.path}) could not be read: {exc.problem}{kept}"


def keep_bad_copy(path: Path) -> Path | None:
    """Copy a damaged file aside (``<name>.bad-<time>``) before anything overwrites it."""
    import shutil
    from datetime import datetime

    target = path.with_name(f"{path.name}.bad-{datetime.now():%Y%m%d-%H%M%S}")
    try:
        shutil.copy2(path, target)
    except OSError:
        return None
    return target
