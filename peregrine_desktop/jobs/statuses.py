"""The pipeline's stages, their labels for people, and which moves between them make sense.

Forward moves may skip stages (not every employer holds a phone screen); a single step back fixes
a slip; rejection is reachable from every stage, and a rejected job can return to the stage it was
rejected from (the company changed its mind, or the click was a mistake).
"""
from __future__ import annotations

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
APPLIED = "applied"
PHONE_SCREEN = "phone_screen"
INTERVIEWING = "interviewing"
OFFER = "offer"
HIRED = "hired"

#: The forward path, in order.
PIPELINE: tuple[str, ...] = (PENDING, APPROVED, APPLIED, PHONE_SCREEN, INTERVIEWING, OFFER, HIRED)

#: Stages a job reaches only after it was applied for.
APPLIED_OR_LATER: frozenset[str] = frozenset(PIPELINE[PIPELINE.index(APPLIED):])

#: Every status in the order people read them (filters, menus, counts).
STATUSES: tuple[str, ...] = (PENDING, APPROVED, APPLIED, PHONE_SCREEN, INTERVIEWING, OFFER, HIRED,
                             REJECTED)

LABELS: dict[str, str] = {
    PENDING: "Pending",
    APPROVED: "Approved",
    REJECTED: "Rejected",
    APPLIED: "Applied",
    PHONE_SCREEN: "Phone screen",
    INTERVIEWING: "Interviewing",
    OFFER: "Offer",
    HIRED: "Hired",
}

#: Colours for the status dot in the table (readable on light and dark backgrounds).
COLOURS: dict[str, str] = {
    PENDING: "#9e9e9e",
    APPROVED: "#42a5f5",
    APPLIED: "#5c6bc0",
    PHONE_SCREEN: "#26a69a",
    INTERVIEWING: "#ffa726",
    OFFER: "#66bb6a",
    HIRED: "#2e7d32",
    REJECTED: "#e53935",
}

#: Statuses from which syncing starts by default ("approved and later").
ACTIVE_FROM = APPROVED


def label(status: str) -> str:
    return LABELS.get(status, status.replace("_", " ").capitalize())


def normalise(text: str) -> str | None:
    """The status key for ``text`` given as a key or a label ("Phone screen", "PHONE_SCREEN",
    "phone-screen"), or None when it is not a status."""
    key = "_".join(text.strip().lower().replace("-", " ").split())
    if key in LABELS:
        return key
    return None


def rank(status: str) -> int:
    """Position for sorting: pipeline order, rejected last."""
    return STATUSES.index(status) if status in STATUSES else len(STATUSES)


def allowed_transitions(current: str, rejected_from: str | None = None) -> list[str]:
    """Statuses a job in ``current`` may move to, in display order.

    ``rejected_from`` is the stage a rejected job held before its rejection (from its history).
    """
    if current == REJECTED:
        back = rejected_from if rejected_from in PIPELINE else PENDING
        return [back]
    allowed: set[str] = {REJECTED}
    position = PIPELINE.index(current)
    allowed.update(PIPELINE[position + 1:])
    if position > 0:
        allowed.add(PIPELINE[position - 1])
    return [s for s in STATUSES if s in allowed]


def can_move(current: str, new: str, rejected_from: str | None = None) -> bool:
    return new == current or new in allowed_transitions(current, rejected_from)


def transition_problem(current: str, new: str, rejected_from: str | None = None) -> str | None:
    """A sentence explaining why ``current`` → ``new`` is not allowed, or None."""
    if new not in LABELS:
        return f"“{new}” is not a pipeline status."
    if can_move(current, new, rejected_from):
        return None
    if current == REJECTED:
        return (f"A rejected job can only go back to {label(allowed_transitions(current, rejected_from)[0])}"
                f", the stage it was rejected from.")
    return f"A job cannot go from {label(current)} back to {label(new)}."
