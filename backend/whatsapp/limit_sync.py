"""`tms messaging-limit sync`: read the business portfolio's messaging limit from Meta (GET
/{phone-number-id}?fields=whatsapp_business_manager_messaging_limit,messaging_limit_tier) and
store it (`backend/services/messaging_limits.py`). The phone_number_quality_update webhook
keeps it current afterwards."""

from __future__ import annotations

from typing import Any

from backend.config import Settings, get_settings
from backend.db import transaction
from backend.services import messaging_limits
from backend.whatsapp.client import GraphClient


async def sync(settings: Settings | None = None) -> dict[str, Any]:
    """Read the tier Meta reports and store it; returns the limit's status."""
    settings = settings or get_settings()
    client = GraphClient(
        settings.whatsapp_api_base_url,
        settings.whatsapp_phone_number_id,
        settings.whatsapp_access_token,
    )
    try:
        tier = await client.messaging_limit()
    finally:
        await client.aclose()
    with transaction() as session:
        messaging_limits.set_tier(session, tier, source="api")
        return messaging_limits.status(session)
