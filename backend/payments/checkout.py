"""The payment providers behind the pay page (`PAYMENT_PROVIDER`).

`local` (the demo, the tests): the pay page's button sends the signed payment webhook a
gateway would send, and the customer is back on the page at once. `stripe`: Stripe Checkout
through the official `stripe` package; the money comes back as Stripe's signed
`checkout.session.completed` webhook (`/webhooks/stripe`). Unset: no pay routes at all.

Both take a payment once however often it is asked for: the order's `key` is the local
event's id and Stripe's idempotency key, so two clicks (or a stale tab) name one payment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import stripe

from backend.config import Settings, get_settings
from backend.payments.provider import payment_event, post_payment_webhook

# The only Stripe objects we touch: a Checkout Session and the webhook's event.
CHECKOUT_COMPLETED = ("checkout.session.completed", "checkout.session.async_payment_succeeded")


@dataclass(frozen=True)
class Order:
    reference: str  # EBC-2412004, as the customer knows it
    kind: str  # DEPOSIT, FULL or BALANCE
    amount_minor: int
    currency: str
    description: str  # "Everest Base Camp Trek, March 15-28, 2025 (3 people): deposit"
    key: str  # one per payment owed (services.payments.checkout_key)
    return_url: str  # the pay page again
    email: str | None = None


@dataclass(frozen=True)
class Started:
    redirect_url: str
    paid_now: bool  # the local provider pays on the spot


@dataclass(frozen=True)
class ReturnState:
    """What the provider says about a checkout the customer came back from."""

    paid: bool
    reference: str | None
    kind: str | None  # DEPOSIT, FULL or BALANCE


class CheckoutProvider(Protocol):
    name: str

    def start(self, order: Order) -> Started: ...

    def returned(self, checkout_id: str) -> ReturnState | None: ...


class LocalCheckout:
    """Pays on the spot by posting the signed webhook to this backend (demo and tests only)."""

    name = "local"

    def __init__(self, settings: Settings) -> None:
        self.backend_url = f"http://127.0.0.1:{settings.backend_port}"

    def start(self, order: Order) -> Started:
        event = payment_event(
            order.reference, order.amount_minor, order.currency, order.kind, event_id=order.key
        )
        answer = post_payment_webhook(self.backend_url, event)
        answer.raise_for_status()
        return Started(redirect_url=order.return_url, paid_now=True)

    def returned(self, checkout_id: str) -> ReturnState | None:
        return None


class StripeCheckout:
    """Stripe Checkout: a session per payment, the customer pays on Stripe's page."""

    name = "stripe"

    def __init__(self, settings: Settings) -> None:
        self.client = stripe.StripeClient(
            settings.stripe_secret_key,
            base_addresses={"api": settings.stripe_api_base},
            max_network_retries=2,
        )

    def start(self, order: Order) -> Started:
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": order.currency.lower(),
                        "unit_amount": order.amount_minor,
                        "product_data": {"name": order.description[:250]},
                    },
                }
            ],
            "client_reference_id": order.reference,
            "metadata": {
                "booking_reference": order.reference,
                "kind": order.kind,
                "amount_minor": str(order.amount_minor),
            },
            "success_url": f"{order.return_url}?checkout={{CHECKOUT_SESSION_ID}}",
            "cancel_url": order.return_url,
        }
        if order.email:
            params["customer_email"] = order.email
        session = self.client.v1.checkout.sessions.create(
            params,  # type: ignore[arg-type]
            {"idempotency_key": order.key},
        )
        return Started(redirect_url=str(session.url), paid_now=False)

    def returned(self, checkout_id: str) -> ReturnState | None:
        try:
            session = self.client.v1.checkout.sessions.retrieve(checkout_id)
        except stripe.StripeError:
            return None  # the page then says what the booking says
        data = session.to_dict()
        metadata = data.get("metadata") or {}
        return ReturnState(
            paid=data.get("payment_status") == "paid",
            reference=metadata.get("booking_reference") or data.get("client_reference_id"),
            kind=metadata.get("kind"),
        )


def provider(settings: Settings | None = None) -> CheckoutProvider | None:
    settings = settings or get_settings()
    if settings.payment_provider == "local":
        return LocalCheckout(settings)
    if settings.payment_provider == "stripe":
        return StripeCheckout(settings)
    return None


def stripe_event_as_payment(raw: bytes, signature_header: str | None) -> dict[str, Any] | None:
    """Stripe's signed webhook as our `payment.succeeded` event, or None for an event that is
    not a completed, paid checkout. Raises `stripe.SignatureVerificationError` (bad or stale
    signature) or ValueError (not an event) — checked with the package's own verification."""
    event = stripe.Webhook.construct_event(
        raw, signature_header, get_settings().stripe_webhook_secret
    )
    if event.type not in CHECKOUT_COMPLETED:
        return None
    session = event.data.object.to_dict()
    if session.get("payment_status") != "paid":
        return None
    metadata = session.get("metadata") or {}
    return {
        # The session, not the event: a session is paid once, whatever Stripe redelivers.
        "id": str(session["id"]),
        "type": "payment.succeeded",
        "data": {
            "booking_reference": metadata.get("booking_reference")
            or session.get("client_reference_id"),
            "amount_minor": int(session["amount_total"]),
            "currency": str(session["currency"]).upper(),
            "kind": metadata.get("kind"),
        },
    }
