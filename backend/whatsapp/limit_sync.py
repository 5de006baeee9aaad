"""`tms messaging-limit sync`: read the business portfolio's messaging limit from Meta (GET
/{phone-number-id}?fields=whatsapp_business_manager_messaging_limit,messaging_limit_tier) and
store it (`backend/services/messaging_limits.py`). The phone_number_quality_update webhook
keeps it current afterwards."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from backend.config import Settings, get_settings
from backend.db import transaction
from backend.services import messaging_limits
from backend.whatsapp import errors
from backend.whatsapp.client import GraphClient

logger = logging.getLogger(__name__)


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


def _store(tier: str) -> None:
    with transaction() as session:
        messaging_limits.set_tier(session, tier, source="api")


async def read_at_start(client: GraphClient) -> None:
    """The backend's workers start by asking Meta for the limit (the webhook keeps it current
    afterwards); Meta out of reach is logged, and the stored tier (or Meta's starting 250)
    holds meanwhile."""
    try:
        tier = await client.messaging_limit()
        await asyncio.to_thread(_store, tier)
    except (errors.GraphError, OSError) as exc:
        logger.warning("messaging limit not read from Meta at start: %s", exc)
