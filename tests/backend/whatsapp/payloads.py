"""Webhook bodies in the exact shape the WhatsApp Cloud API sends them."""

from __future__ import annotations

import itertools
import json
from typing import Any

from backend.whatsapp.signature import sign

PHONE_NUMBER_ID = "100000000000001"
APP_SECRET = "dev-app-secret"
_ids = itertools.count(1)


def text_message(
    wa_id: str, body: str, wamid: str | None = None, ts: int = 1_735_000_000
) -> dict[str, Any]:
    return {
        "from": wa_id,
        "id": wamid or f"wamid.TEST{next(_ids):06d}",
        "timestamp": str(ts),
        "type": "text",
        "text": {"body": body},
    }


def button_reply(wa_id: str, reply_id: str, title: str) -> dict[str, Any]:
    return {
        "from": wa_id,
        "id": f"wamid.TEST{next(_ids):06d}",
        "timestamp": "1735000000",
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}},
    }


def location(wa_id: str) -> dict[str, Any]:
    return {
        "from": wa_id,
        "id": f"wamid.TEST{next(_ids):06d}",
        "timestamp": "1735000000",
        "type": "location",
        "location": {"latitude": 27.7172, "longitude": 85.324, "name": "Thamel"},
    }


def status(
    wamid: str,
    state: str,
    wa_id: str = "61412000001",
    code: int | None = None,
    ts: int = 1_735_000_100,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": wamid,
        "status": state,
        "timestamp": str(ts),
        "recipient_id": wa_id,
    }
    if code:
        item["errors"] = [{"code": code, "title": "error"}]
    return item


def webhook(
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    *,
    phone_number_id: str = PHONE_NUMBER_ID,
    changes: int = 1,
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "9779800000000", "phone_number_id": phone_number_id},
    }
    if messages:
        # `wa_id` only when the phone is shared; `user_id` (the BSUID) when the message has it.
        value["contacts"] = [
            {
                "profile": {"name": "Emma"},
                **({"wa_id": m["from"]} if "from" in m else {}),
                **({"user_id": m["from_user_id"]} if "from_user_id" in m else {}),
            }
            for m in messages
        ]
        value["messages"] = messages
    if statuses:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}] * changes}],
    }


def signed(payload: dict[str, Any], secret: str = APP_SECRET) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return raw, {"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw, secret)}
