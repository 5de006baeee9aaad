"""What Meta charges for a WhatsApp message, as data the product reasons with. Pure, no I/O.

Since 1 July 2025 Meta bills per delivered template message, by the template's category and
the recipient's market. Service messages (free-form replies inside the 24-hour customer service
window) are free, and so is a utility template delivered inside that window, or any template
inside a free entry point window. Each status webhook says which it was in its `pricing`
object: `{"billable": bool, "pricing_model": "PMP", "category": "utility", "type": "regular"}`
(`type` "free_customer_service" or "free_entry_point" when it is free)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import phonenumbers

from backend.domain.whatsapp_ids import is_bsuid

MARKETING, UTILITY, AUTHENTICATION, SERVICE = "marketing", "utility", "authentication", "service"
# What Meta may put in `pricing.category` (2026): the rate card has lines for the billed ones.
CATEGORIES = (
    MARKETING,
    UTILITY,
    AUTHENTICATION,
    "authentication_international",
    "marketing_lite",
    SERVICE,
    "referral_conversion",
)
FREE_TYPES = frozenset({"free_customer_service", "free_entry_point"})

# The message's purpose → what it is for, as the KPIs group spend. An incident's notices are
# incidents whatever their purpose; a purpose not listed is "other".
CAMPAIGN_PURPOSES = frozenset({"marketing", "campaign"})
PURPOSE_GROUPS: Mapping[str, frozenset[str]] = {
    "reminders": frozenset(
        {"balance_reminder", "pre_departure", "pre_departure_paid", "papers_reminder"}
    ),
    "confirmations": frozenset(
        {
            "booking_confirmation",
            "booking_confirmed",
            "hold_placed",
            "hold_expired",
            "quote",
            "waitlist_offer",
            "offer_expired",
            "trip_started",
            "papers_flow",
        }
    ),
    "incidents": frozenset({"ops_urgent_alert"}),
    "campaigns": CAMPAIGN_PURPOSES,
    "feedback": frozenset({"feedback_request"}),
    "conversations": frozenset({"reply", "conversation_followup", "staff_message"}),
    "notices": frozenset({"customer_update"}),
    "staff": frozenset(
        {
            "staff_alert",
            "rep_alert",
            "ops_alert",
            "assignment_offer",
            "assignment_details",
            "staff_sign_in_code",
        }
    ),
}
_GROUP_OF = {purpose: group for group, purposes in PURPOSE_GROUPS.items() for purpose in purposes}


def purpose_group(purpose: str | None, object_type: str | None = None) -> str:
    """What a message was for: reminders, confirmations, incidents, campaigns, ..."""
    if object_type == "INCIDENT":
        return "incidents"
    return _GROUP_OF.get(purpose or "", "other")


def country_of(phone: str | None) -> str | None:
    """The ISO 3166-1 country of an E.164 number, or of a business-scoped user ID (its first
    two letters); None when it cannot be told."""
    if is_bsuid(phone):
        return str(phone)[:2]
    try:
        number = phonenumbers.parse(phone or "", None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(number)
    return region if region and region != "ZZ" else None


def calling_digits(phone: str | None) -> str:
    """The number's digits (what a rate card line's calling code is a prefix of); for a
    business-scoped user ID, its country's calling code (its own digits say nothing)."""
    if is_bsuid(phone):
        code = phonenumbers.country_code_for_region(str(phone)[:2])
        return str(code) if code else ""
    return "".join(ch for ch in phone or "" if ch.isdigit())


def is_billable(pricing: Mapping[str, Any]) -> bool:
    """Whether Meta bills the message its status reports: a free type is never billed (the
    `billable` flag is deprecated but still sent; when it says false, it is free)."""
    if str(pricing.get("type") or "") in FREE_TYPES:
        return False
    if pricing.get("billable") is False:
        return False
    return str(pricing.get("category") or "") != SERVICE
