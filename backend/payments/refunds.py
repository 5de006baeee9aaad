"""Card refunds through Stripe's refund API (`POST /v1/refunds`), for
`backend.services.refunds.approve`.

Our ledger knows a Stripe payment by its Checkout Session (`cs_...`, the payment's
`provider_ref`); Stripe refunds a PaymentIntent: the session is read for its `payment_intent`,
then the refund is created with the amount and an idempotency key (one per refund, charge and
amount), so a retried approval replays the same refund instead of paying twice. Stripe itself
refuses more than is left on the charge; its message is passed on to staff."""

from __future__ import annotations

import stripe

from backend.config import Settings, get_settings
from backend.services.refunds import CardRefundFailed, CardRefunds


class StripeRefunds:
    """`CardRefunds` against Stripe (or the local fake at `STRIPE_API_BASE`)."""

    def __init__(self, secret_key: str, api_base: str | None = None) -> None:
        addresses = {"api": api_base} if api_base else {}
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses=addresses,  # type: ignore[arg-type]
            max_network_retries=2,
        )

    def refund(
        self, *, checkout_id: str, amount_minor: int, currency: str, idempotency_key: str
    ) -> str:
        try:
            session = self.client.v1.checkout.sessions.retrieve(checkout_id)
            intent = session.to_dict().get("payment_intent")
            if isinstance(intent, dict):
                intent = intent.get("id")
            if not intent:
                raise CardRefundFailed(f"Stripe has no payment for {checkout_id}")
            refund = self.client.v1.refunds.create(
                {
                    "payment_intent": str(intent),
                    "amount": amount_minor,
                    "reason": "requested_by_customer",
                    "metadata": {"checkout_session": checkout_id},
                },
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            message = getattr(exc, "user_message", None) or str(exc)
            raise CardRefundFailed(f"Stripe refused the refund: {message}") from exc
        if str(refund.currency).upper() != currency.upper():
            raise CardRefundFailed(f"Stripe refunded in {refund.currency}, not {currency}")
        return str(refund.id)


def card_refunds(settings: Settings | None = None) -> CardRefunds | None:
    """Stripe's refunds when a Stripe key is set, else None (the local provider's card
    payments are refunded on the spot by the service)."""
    settings = settings or get_settings()
    if not settings.stripe_secret_key:
        return None
    return StripeRefunds(settings.stripe_secret_key, settings.stripe_api_base or None)
