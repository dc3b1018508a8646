"""The person's job-search targets at work: which jobs match the titles and places they look for,
and which contain a keyword they never want to see (from the profile the wizard fills in)."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: Where an excluded keyword is looked for (the description too when the caller has it).
_EXCLUDE_FIELDS = ("title", "company", "location", "salary", "notes", "description")
_REMOTE_WORDS = {"remote", "anywhere", "remote only", "work from home"}


def _clean(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip().casefold() for v in values if v and v.strip()))


@dataclass(frozen=True)
class Targets:
    """Target titles and locations and excluded keywords, compared case-insensitively."""

    titles: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    _patterns: tuple[re.Pattern[str], ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def from_profile(cls, profile: Any) -> "Targets":
        excludes = _clean(getattr(profile, "exclude_keywords", ()) or ())
        return cls(_clean(getattr(profile, "target_titles", ()) or ()),
                   _clean(getattr(profile, "target_locations", ()) or ()), excludes,
                   tuple(re.compile(rf"(?<!\w){re.escape(word)}(?!\w)") for word in excludes))

    @property
    def active(self) -> bool:
        """Whether there is anything to match against (no targets: nothing is marked)."""
        return bool(self.titles or self.locations)

    def title_matches(self, title: str) -> bool:
        """Every word of some target title appears in ``title`` ("python developer" matches
        "Senior Python Backend Developer")."""
        words = title.casefold().split()
        text = " ".join(words)
        return any(all(word in text for word in target.split()) for target in self.titles)

    def location_matches(self, location: str, remote: bool) -> bool:
        text = location.casefold()
        for target in self.locations:
            if target in _REMOTE_WORDS:
                if remote or "remote" in text:
                    return True
            elif target in text:
                return True
        return False

    def matches(self, job: Mapping[str, Any]) -> bool:
        """The job fits the targets: its title matches one of them (when titles are given) and
        its place one of the locations (when locations are given)."""
        if not self.active:
            return False
        if self.titles and not self.title_matches(str(job.get("title") or "")):
            return False
        if self.locations and not self.location_matches(str(job.get("location") or ""),
                                                         bool(job.get("remote"))):
            return False
        return True

    def excluded_word(self, job: Mapping[str, Any]) -> str | None:
        """The first excluded keyword found in the job's text, or None."""
        if not self._patterns:
            return None
        text = "\n".join(str(job.get(name) or "") for name in _EXCLUDE_FIELDS).casefold()
        for word, pattern in zip(self.excludes, self._patterns):
            if pattern.search(text):
                return word
        return None
