"""The payment webhooks: `POST /webhooks/payments` (our own event, signed like Stripe's: the
local provider, `tms pay`; mounted only with PAYMENT_PROVIDER=local) and `POST /webhooks/stripe` (Stripe Checkout's
`checkout.session.completed`, verified with the `stripe` package; PAYMENT_PROVIDER=stripe
only). Both apply the payment once through `services.payments`."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import stripe
from sanic import Blueprint, Request, response

from backend.config import get_settings
from backend.db import transaction
from backend.domain.actor import Actor
from backend.domain.enums import Source
from backend.http_common import access
from backend.payments import checkout, signature
from backend.services import payments

payments_bp = Blueprint("payments")
stripe_bp = Blueprint("stripe_webhook")


@payments_bp.post("/webhooks/payments")
@access("the payment gateway: the body signed with PAYMENT_WEBHOOK_SECRET (Stripe-Signature)")
async def payment_webhook(request: Request):
    raw = request.body or b""
    try:
        signature.verify(
            raw, request.headers.get("stripe-signature"), get_settings().payment_webhook_secret
        )
    except signature.SignatureError as exc:
        return response.json({"error": str(exc)}, status=400)
    try:
        event = json.loads(raw)
        if event.get("type") != "payment.succeeded":
            return response.json({"status": "ignored", "type": event.get("type")})
        data = event["data"]
        int(data["amount_minor"])
        str(event["id"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return response.json({"error": "not a payment event"}, status=400)
    result = await asyncio.to_thread(_apply, event, "local")
    return response.json(result)


@stripe_bp.post("/webhooks/stripe")
@access("Stripe: the body signed with STRIPE_WEBHOOK_SECRET (checked by the stripe package)")
async def stripe_webhook(request: Request):
    try:
        event = checkout.stripe_event_as_payment(
            request.body or b"", request.headers.get("stripe-signature")
        )
    except stripe.SignatureVerificationError:
        return response.json({"error": "invalid Stripe signature"}, status=400)
    except (ValueError, KeyError, TypeError, AttributeError):
        return response.json({"error": "not a Stripe event"}, status=400)
    if event is None:
        return response.json({"status": "ignored"})
    return response.json(await asyncio.to_thread(_apply, event, "stripe"))


def _apply(event: dict[str, Any], provider: str) -> dict[str, Any]:
    with transaction() as session:
        outcome = payments.apply_provider_event(
            session, provider=provider, event=event, actor=Actor(Source.PAYMENT)
        )
        if outcome is None:
            return {"status": "unknown booking"}
        return {
            "status": "duplicate"
            if outcome.duplicate
            else "flagged"
            if outcome.flagged
            else "applied",
            "booking": outcome.booking.reference,
            "bookingStatus": outcome.booking.status,
            "paymentStatus": outcome.booking.payment_status,
        }
