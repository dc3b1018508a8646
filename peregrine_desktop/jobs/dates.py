"""The dates that matter in a job's life — next action, application deadline, interview — and
which of them are overdue, due today or due this week.

Everything here takes "today" from a clock the caller passes (tests fix it); nothing reads the
system time behind their back.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from peregrine_desktop.jobs import statuses

#: A clock returns the current moment, time-zone aware (local time for people).
Clock = Callable[[], datetime]

NEXT_ACTION, DEADLINE, INTERVIEW = "next_action", "deadline", "interview"
KIND_LABELS = {NEXT_ACTION: "Next action", DEADLINE: "Deadline", INTERVIEW: "Interview"}

OVERDUE, DUE_TODAY, DUE_WEEK = "overdue", "today", "week"
#: The due filters, in the order they are offered, with their labels.
DUE_FILTERS: dict[str, str] = {OVERDUE: "Overdue", DUE_TODAY: "Due today",
                               DUE_WEEK: "Due this week"}
#: "This week" is the next seven days, today included (it never shrinks to one day on a Sunday).
WEEK_DAYS = 7

#: A job in one of these is finished: none of its dates call for anything any more.
CLOSED = frozenset({statuses.HIRED, statuses.REJECTED})
#: The deadline is the deadline to apply: it stops mattering once the job was applied for.
_BEFORE_APPLYING = frozenset({statuses.PENDING, statuses.APPROVED})


def system_clock() -> datetime:
    return datetime.now().astimezone()


def interview_day(value: str | None) -> str | None:
    """The local calendar day (ISO) of an interview instant, or None."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).astimezone().date().isoformat()
    except ValueError:
        return None


def open_dates(job: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """(kind, ISO day) of each date of ``job`` that still calls for something, earliest first."""
    if not (job.get("next_action_on") or job.get("deadline") or job.get("interview_at")) \
            or job.get("status") in CLOSED:
        return ()
    found = []
    if job.get("next_action_on"):
        found.append((NEXT_ACTION, job["next_action_on"]))
    if job.get("deadline") and job.get("status") in _BEFORE_APPLYING:
        found.append((DEADLINE, job["deadline"]))
    day = interview_day(job.get("interview_at"))
    if day:
        found.append((INTERVIEW, day))
    return tuple(sorted(found, key=lambda item: item[1]))


class DueWindow:
    """Today and the end of this week as ISO strings, so thousands of rows compare cheaply."""

    def __init__(self, today: date) -> None:
        self.today = today.isoformat()
        self.week_end = (today + timedelta(days=WEEK_DAYS - 1)).isoformat()

    @classmethod
    def from_clock(cls, clock: Clock) -> "DueWindow":
        return cls(clock().date())

    def matches(self, dates: Iterable[tuple[str, str]], which: str) -> bool:
        """Whether any of ``dates`` (from :func:`open_dates`) falls in the ``which`` filter.
        A past interview is past, not overdue; a next action or deadline left behind is."""
        for kind, day in dates:
            if which == OVERDUE and day < self.today and kind != INTERVIEW:
                return True
            if which == DUE_TODAY and day == self.today:
                return True
            if which == DUE_WEEK and self.today <= day <= self.week_end:
                return True
        return False

    def next_due(self, dates: Iterable[tuple[str, str]]) -> tuple[str, str] | None:
        """The date to show on a card: the earliest overdue or upcoming one (a past interview
        no longer counts)."""
        for kind, day in dates:
            if kind == INTERVIEW and day < self.today:
                continue
            return kind, day
        return None

    def describe(self, day: str) -> str:
        """"overdue since 3 Mar", "today", "tomorrow", "Fri 14 Mar"."""
        when = date.fromisoformat(day)
        today = date.fromisoformat(self.today)
        if day < self.today:
            return f"overdue since {when:%d %b}".replace(" 0", " ")
        if when == today:
            return "today"
        if when == today + timedelta(days=1):
            return "tomorrow"
        text = f"{when:%a %d %b}" if when.year == today.year else f"{when:%d %b %Y}"
        return text.replace(" 0", " ")
