"""`POST /webhooks/payments` (signed like Stripe's) and the local provider's pay page."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sanic import Blueprint, Request, response
from sqlalchemy import select

from backend.config import get_settings
from backend.db import transaction
from backend.domain import references
from backend.domain.actor import Actor
from backend.domain.enums import PaymentKind, Source
from backend.models import Booking
from backend.payments import signature
from backend.payments.provider import amount_for, payment_event, post_payment_webhook
from backend.services import payments

payments_bp = Blueprint("payments")


@payments_bp.post("/webhooks/payments")
async def payment_webhook(request: Request):  # type: ignore[no-untyped-def]
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
    result = await asyncio.to_thread(_apply, event)
    return response.json(result)


def _apply(event: dict[str, Any]) -> dict[str, Any]:
    with transaction() as session:
        outcome = payments.apply_provider_event(
            session, provider="local", event=event, actor=Actor(Source.PAYMENT)
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


@payments_bp.get("/pay/<reference:str>", name="pay_page")
@payments_bp.get("/pay/<reference:str>/<kind:str>", name="pay_page_kind")
async def pay_page(request: Request, reference: str, kind: str = ""):  # type: ignore[no-untyped-def]
    """The local provider's checkout: shows the amounts; POST pays (sends the webhook)."""
    found = await asyncio.to_thread(_booking_summary, reference)
    if found is None:
        return response.html("<h1>Unknown booking</h1>", status=404)
    options = "".join(
        f'<form method="post" action="/pay/{reference}/{k.lower()}"><button>Pay {label} {amount}</button></form>'
        for k, label, amount in found["options"]
    )
    return response.html(f"<h1>{found['reference']}</h1><p>{found['product']}</p>{options}")


@payments_bp.post("/pay/<reference:str>/<kind:str>")
async def pay(request: Request, reference: str, kind: str):  # type: ignore[no-untyped-def]
    found = await asyncio.to_thread(_booking_summary, reference)
    if found is None or kind.upper() not in PaymentKind.__members__:
        return response.json({"error": "unknown booking or payment kind"}, status=404)
    amount = dict((k, a) for k, _label, a in found["raw"])[kind.upper()]
    event = payment_event(found["reference"], amount, found["currency"], kind.upper())
    answer = await asyncio.to_thread(
        post_payment_webhook, f"http://127.0.0.1:{get_settings().backend_port}", event
    )
    return response.json(answer.json(), status=answer.status_code)


def _booking_summary(reference: str) -> dict[str, Any] | None:
    from backend import texts

    with transaction() as session:
        booking = session.scalar(
            select(Booking).where(Booking.ref_key == references.reference_key(reference))
        )
        if booking is None:
            return None
        kinds = (
            [PaymentKind.BALANCE] if booking.paid_minor else [PaymentKind.DEPOSIT, PaymentKind.FULL]
        )
        raw = [(str(k), str(k).lower(), amount_for(booking, k)) for k in kinds]
        return {
            "reference": booking.reference,
            "product": booking.departure.product.name,
            "currency": booking.currency,
            "raw": raw,
            "options": [(k, label, texts.money(a, booking.currency)) for k, label, a in raw],
        }
