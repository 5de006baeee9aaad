"""The payment provider interface and the local provider the demo and tests use.

A provider makes a payment link for a booking and an amount; the money comes back later as a
signed webhook (`POST /webhooks/payments`). The local provider's links point at the backend's
own `/pay/...` page, and `tms pay` (or that page) sends the webhook a real provider would.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Protocol

import httpx

from backend.config import get_settings
from backend.domain.enums import PaymentKind
from backend.models import Booking
from backend.payments.signature import sign


class PaymentProvider(Protocol):
    name: str

    def payment_link(self, booking: Booking, kind: PaymentKind) -> str: ...


@dataclass(frozen=True)
class LocalProvider:
    """Links of the form {PAYMENT_BASE_URL}/{REF}[/balance]; paid by `tms pay` or the page."""

    name: str = "local"

    def payment_link(self, booking: Booking, kind: PaymentKind) -> str:
        base = get_settings().payment_base_url.rstrip("/")
        return f"{base}/{booking.ref_key}" + ("/balance" if kind == PaymentKind.BALANCE else "")


def amount_for(booking: Booking, kind: PaymentKind) -> int:
    if kind == PaymentKind.FULL:
        return booking.total_minor
    if kind == PaymentKind.DEPOSIT:
        return booking.deposit_minor
    return booking.balance_minor


def payment_event(
    booking_reference: str, amount_minor: int, currency: str, kind: str, event_id: str | None = None
) -> dict:  # type: ignore[type-arg]
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
) -> httpx.Response:  # type: ignore[type-arg]
    """What the local provider does when a customer pays: a signed webhook to the backend."""
    raw = json.dumps(event).encode()
    header = sign(raw, secret or get_settings().payment_webhook_secret)
    return httpx.post(
        f"{backend_url.rstrip('/')}/webhooks/payments",
        content=raw,
        headers={"Content-Type": "application/json", "Stripe-Signature": header},
        timeout=30,
    )


def default_provider() -> PaymentProvider:
    return LocalProvider()
