"""Meta's messaging limits as data the product reasons with. Pure, no I/O.

A messaging limit is how many unique WhatsApp users the business may deliver messages to
outside a customer service window in a moving 24 hours. Since October 2025 it is set per
business portfolio and shared by its numbers: 250 for a new portfolio, then 2,000, 10,000,
100,000 and unlimited. Meta names it as a tier: `whatsapp_business_manager_messaging_limit`
on the phone number (`messaging_limit_tier`, the per-number field it replaced, is deprecated)
and `max_daily_conversations_per_business` (or, until February 2026, `current_limit`) in the
`phone_number_quality_update` webhook."""

from __future__ import annotations

from backend.domain.message_pricing import CAMPAIGN_PURPOSES, PURPOSE_GROUPS

UNLIMITED = "TIER_UNLIMITED"
# Meta's starting limit for a new portfolio: what the product assumes until Meta says more.
STARTING_TIER = "TIER_250"
TIERS: dict[str, int | None] = {
    "TIER_50": 50,
    "TIER_250": 250,
    "TIER_1K": 1_000,
    "TIER_2K": 2_000,
    "TIER_10K": 10_000,
    "TIER_100K": 100_000,
    UNLIMITED: None,
}
# Broadcast-like work waits when the limit is near; what is about a booking goes first.
BROADCAST_PURPOSES = frozenset(PURPOSE_GROUPS["reminders"] | CAMPAIGN_PURPOSES)


def tier_of(value: object) -> str | None:
    """Meta's tier name from what the API or a webhook says ("TIER_2K", "2K", "2000",
    "UNLIMITED"); None for what is not a limit (TIER_NOT_SET, empty, unknown)."""
    text = str(value or "").strip().upper().replace(",", "")
    if not text:
        return None
    if not text.startswith("TIER_"):
        text = f"TIER_{text}"
    if text in TIERS:
        return text
    digits = text.removeprefix("TIER_")
    if digits.isdigit():
        return next((name for name, limit in TIERS.items() if limit == int(digits)), None)
    return None


def limit_of(tier: str) -> int | None:
    """Unique users per 24 hours for a tier (None: unlimited)."""
    return TIERS[tier]


def is_broadcast(purpose: str | None) -> bool:
    return (purpose or "") in BROADCAST_PURPOSES
