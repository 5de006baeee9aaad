"""The local payment provider the demo and the tests use.

Pay links are signed (`backend/links.py`); the money comes back as a signed webhook
(`POST /webhooks/payments`). Here: the webhook a gateway would send, which `tms pay` and the
local checkout (`backend/payments/checkout.py`, PAYMENT_PROVIDER=local only) post.
"""

from __future__ import annotations

import json
import secrets

import httpx

from backend.config import get_settings
from backend.payments.signature import sign


def payment_event(
    booking_reference: str, amount_minor: int, currency: str, kind: str, event_id: str | None = None
) -> dict:
    """The body the provider posts: a `payment.succeeded` event."""
    return {
        "id": event_id or f"evt_{secrets.token_hex(12)}",
        "type": "payment.succeeded",
        "data": {
            "booking_reference": booking_reference,
            "amount_minor": amount_minor,
            "currency": currency,
            "kind": kind,
        },
    }


def post_payment_webhook(
    backend_url: str, event: dict, secret: str | None = None
) -> httpx.Response:
    """What the local provider does when a customer pays: a signed webhook to the backend."""
    raw = json.dumps(event).encode()
    header = sign(raw, secret or get_settings().payment_webhook_secret)
    return httpx.post(
        f"{backend_url.rstrip('/')}/webhooks/payments",
        content=raw,
        headers={"Content-Type": "application/json", "Stripe-Signature": header},
        timeout=30,
    )
