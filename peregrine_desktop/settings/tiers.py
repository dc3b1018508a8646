"""Plans and what they unlock: one source of truth for cards and gated buttons."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

TIER_ORDER: tuple[str, ...] = ("free", "paid", "premium")
TIER_LABELS: dict[str, str] = {"free": "Free", "paid": "Paid", "premium": "Premium"}

#: Gated actions → minimum tier.  An integration's own ``tier`` gates its whole card.
FEATURES: dict[str, str] = {
    "notion_sync": "paid",
    "airtable_sync": "paid",
    "google_sheets_sync": "paid",
    "auto_sync": "paid",
    "calendar_events": "free",
    "document_upload": "free",
    "notifications": "free",
}


#: What a feature of FEATURES is, in the Plan page's words (``<integration>_sync`` features are
#: named after their integration).
FEATURE_LABELS: dict[str, str] = {
    "auto_sync": "automatic sync a few seconds after each edit",
    "calendar_events": "interviews and deadlines in your calendar",
    "document_upload": "documents copied to your storage",
    "notifications": "notifications of pipeline events",
}
#: What no plan gates (not in FEATURES): the first line of the Free plan.
ALWAYS_INCLUDED = "your pipeline, reminders, CSV import and export"


def plan_unlocks(integrations: Iterable[Any]) -> dict[str, list[str]]:
    """Each plan → what it adds to the plan below it, in words, from FEATURES and each
    integration's own ``tier``: the Plan page's list, so it cannot drift from the gates."""
    classes = sorted(integrations, key=lambda c: str(c.label).lower())
    adds: dict[str, list[str]] = {tier: [] for tier in TIER_ORDER}
    adds["free"].append(ALWAYS_INCLUDED)
    for tier in TIER_ORDER:
        synced = [c for c in classes if _needs(c, f"{c.name}_sync") == tier]
        if synced:
            adds[tier].append("sync with " + joined([str(c.label) for c in synced]))
        others = [c for c in classes if c.tier == tier and c not in synced]
        if others:
            adds[tier].append("connecting " + joined([str(c.label) for c in others]))
        adds[tier] += [FEATURE_LABELS[f] for f, needed in FEATURES.items()
                       if needed == tier and f in FEATURE_LABELS]
    return adds


def _needs(cls: Any, feature: str) -> str | None:
    """The plan a sync feature needs (at least its card's own), or None if not a tracker's."""
    if feature not in FEATURES:
        return None
    return max(FEATURES[feature], cls.tier, key=tier_rank)


def joined(words: list[str]) -> str:
    """"A", "A and B", "A, B and C": names as a sentence lists them."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def tier_rank(tier: str) -> int:
    return TIER_ORDER.index(tier) if tier in TIER_ORDER else -1


def can_use(tier: str, feature: str) -> bool:
    """True if ``tier`` unlocks ``feature``.  Unknown feature → True; unknown tier → False."""
    if tier not in TIER_ORDER:
        return False
    needed = FEATURES.get(feature)
    if needed is None:
        return True
    return tier_rank(tier) >= tier_rank(needed)


def tier_allows(tier: str, minimum: str) -> bool:
    """True if ``tier`` is at least ``minimum`` (an integration's own tier)."""
    return tier in TIER_ORDER and tier_rank(tier) >= max(0, tier_rank(minimum))


def locked_reason(minimum: str) -> str:
    return f"Locked: needs {TIER_LABELS.get(minimum, minimum)}"


def upgrade_hint(what: str, minimum: str) -> str:
    """The sentence shown where a gated action would be (the guide's ``st.info``)."""
    return (f"{what} requires a {TIER_LABELS.get(minimum, minimum)} plan. "
            f"Add a licence key in Settings → Plan.")
