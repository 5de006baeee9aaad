"""`tms templates sync`: read the business account's templates from Meta (GET
/{version}/{WABA-ID}/message_templates, every page) and make the records what Meta says
(`backend/services/message_templates.py`)."""

from __future__ import annotations

import re
from typing import Any

from backend.config import Settings, get_settings
from backend.db import transaction
from backend.services import message_templates
from backend.services.message_templates import Listed, SyncReport
from backend.whatsapp.client import GraphClient

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


def listed(item: dict[str, Any]) -> Listed:
    """One entry of Meta's `data` list: its BODY component's text and placeholders, its
    QUICK_REPLY buttons' titles, `quality_score.score`."""
    components = [c for c in item.get("components") or [] if isinstance(c, dict)]
    body = next((str(c.get("text") or "") for c in components if c.get("type") == "BODY"), "")
    replies = tuple(
        str(b.get("text") or "")
        for c in components
        if c.get("type") == "BUTTONS"
        for b in c.get("buttons") or []
        if isinstance(b, dict) and b.get("type") == "QUICK_REPLY"
    )
    quality = item.get("quality_score") or {}
    return Listed(
        name=str(item.get("name") or ""),
        language=str(item.get("language") or ""),
        category=str(item.get("category") or "UTILITY").upper(),
        status=str(item.get("status") or "PENDING").upper(),
        quality=str((quality.get("score") if isinstance(quality, dict) else None) or "UNKNOWN"),
        body=body,
        params=len(set(_PLACEHOLDER.findall(body))),
        quick_replies=replies,
        meta_id=str(item.get("id") or "") or None,
    )


async def fetch(settings: Settings | None = None) -> list[Listed]:
    """Every template Meta holds for the account."""
    settings = settings or get_settings()
    client = GraphClient(
        settings.whatsapp_api_base_url,
        settings.whatsapp_phone_number_id,
        settings.whatsapp_access_token,
    )
    try:
        items = await client.list_templates(settings.whatsapp_business_account_id)
    finally:
        await client.aclose()
    return [entry for entry in map(listed, items) if entry.name and entry.language]


async def sync(settings: Settings | None = None) -> SyncReport:
    """Fetch, then record in one transaction (what changed is on the timeline)."""
    found = await fetch(settings)
    with transaction() as session:
        return message_templates.sync(session, found)
