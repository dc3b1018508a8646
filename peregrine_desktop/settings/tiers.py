"""Plans and what they unlock: one source of truth for cards and gated buttons."""
from __future__ import annotations

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
            f"Change your plan in Settings → Plan.")
