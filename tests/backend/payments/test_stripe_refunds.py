"""Card refunds through Stripe's refund API, with the official `stripe` package against the
local fake (started as a child process, as the other Stripe tests do): the fake refuses more
than is left on the charge and replays an idempotency key like Stripe; the service's approval
refunds a booking's Stripe payment once, books it as a negative REFUND entry with the `re_`
id, and a retried approval replays the same refund instead of paying twice."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import stripe

from backend import clock
from backend.domain.actor import SYSTEM, Actor
from backend.domain.enums import RefundStatus, Source
from backend.models import LedgerKind
from backend.payments.refunds import StripeRefunds
from backend.services import bookings, ledger, payments, refunds
from tests import factories
from tests.processes import ROOT, Part, free_port, start

SECRET_KEY = "sk_test_refunds_0123456789"
STAFF = Actor(Source.ADMIN)


@pytest.fixture(scope="module")
def fake_stripe(tmp_path_factory):
    logs = tmp_path_factory.mktemp("fake-stripe-refunds")
    port = free_port()
    fake = Part(
        f"fake-stripe-{port}",
        [
            str(ROOT / ".venv/bin/python"),
            "-m",
            "devkit.fake_stripe",
            "--port",
            str(port),
            "--webhook-url",
            f"http://127.0.0.1:{port}/_fake/webhooks",
            "--secret-key",
            SECRET_KEY,
        ],
        f"http://127.0.0.1:{port}/_fake/health",
    )
    start(fake, logs)
    try:
        fake.wait_ready(60)
        yield f"http://127.0.0.1:{port}"
    finally:
        fake.stop()


def _paid_session(base: str, amount: int) -> str:
    """A Checkout Session paid on the fake's hosted page: its id."""
    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": base})
    session = client.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": amount,
                        "product_data": {"name": "Everest Base Camp Trek: deposit"},
                    },
                }
            ],
            "success_url": "http://127.0.0.1/done?checkout={CHECKOUT_SESSION_ID}",
        }
    )
    paid = httpx.post(f"{base}/c/pay/{session.id}", timeout=30)
    assert paid.status_code == 303
    return str(session.id)


def _refund(base: str, key: str | None = None, **params) -> httpx.Response:
    headers = {"Authorization": f"Bearer {SECRET_KEY}"}
    if key:
        headers["Idempotency-Key"] = key
    return httpx.post(f"{base}/v1/refunds", data=params, headers=headers, timeout=30)


def test_the_fake_refunds_like_stripe(fake_stripe):
    session_id = _paid_session(fake_stripe, 600_00)
    intent = httpx.get(
        f"{fake_stripe}/v1/checkout/sessions/{session_id}",
        headers={"Authorization": f"Bearer {SECRET_KEY}"},
    ).json()["payment_intent"]
    assert intent.startswith("pi_")
    assert _refund(fake_stripe, payment_intent="pi_nope").json()["error"]["code"] == (
        "resource_missing"
    )
    too_much = _refund(fake_stripe, payment_intent=intent, amount=600_01)
    assert too_much.status_code == 400
    assert too_much.json()["error"]["code"] == "amount_too_large"
    first = _refund(fake_stripe, "k-1", payment_intent=intent, amount=200_00)
    assert first.status_code == 200 and first.json()["id"].startswith("re_")
    assert first.json()["status"] == "succeeded" and first.json()["amount"] == 200_00
    replay = _refund(fake_stripe, "k-1", payment_intent=intent, amount=200_00)
    assert replay.json()["id"] == first.json()["id"]
    assert replay.headers.get("idempotent-replayed") == "true"
    other = _refund(fake_stripe, "k-1", payment_intent=intent, amount=100_00)
    assert other.status_code == 400 and other.json()["error"]["type"] == "idempotency_error"
    rest = _refund(fake_stripe, payment_intent=intent)  # no amount: all that is left
    assert rest.json()["amount"] == 400_00
    done = _refund(fake_stripe, payment_intent=intent, amount=1)
    assert done.json()["error"]["code"] == "charge_already_refunded"
    unauthorised = httpx.post(f"{fake_stripe}/v1/refunds", data={"payment_intent": intent})
    assert unauthorised.status_code == 401


def test_approving_a_card_refund_goes_through_stripe_once(session, frozen_clock, fake_stripe):
    dep = factories.departure(
        session, factories.ebc(session), start=clock.local_today() + timedelta(days=60)
    )
    booking = bookings.hold_new_booking(
        session, contact=factories.contact(session), departure_id=dep.id, party_size=2, actor=SYSTEM
    )
    checkout = _paid_session(fake_stripe, booking.deposit_minor)
    payments.record_payment(
        session,
        booking_id=booking.id,
        provider="stripe",
        event_id=checkout,
        amount_minor=booking.deposit_minor,
        currency="USD",
        actor=SYSTEM,
    )
    bookings.cancel_booking(session, booking, SYSTEM, reason="plans changed")
    refund = refunds.current(session, booking)
    cards = StripeRefunds(SECRET_KEY, fake_stripe)
    with pytest.raises(refunds.CardRefundFailed):
        cards.refund(
            checkout_id=checkout,
            amount_minor=booking.deposit_minor + 1,
            currency="USD",
            idempotency_key="too-much",
        )
    # The same idempotency key the approval will use: a first attempt whose transaction was
    # lost (the provider refunded, our entry rolled back) is replayed, not paid again.
    [(entry, left)] = refunds.card_refundable(session, booking)
    key = f"tms-refund-{refund.id}-{entry.id}-{refund.refundable_minor}"
    lost = cards.refund(
        checkout_id=checkout,
        amount_minor=refund.refundable_minor,
        currency="USD",
        idempotency_key=key,
    )
    refunds.approve(session, refund.id, actor=STAFF, choice="refund", cards=cards)
    assert refund.status == RefundStatus.PAID_OUT and refund.provider_refund_id == lost
    [out] = [e for e in ledger.entries_of(session, booking) if e.kind == LedgerKind.REFUND]
    assert out.method == "stripe" and out.provider_ref == lost
    assert out.amount_minor == -refund.refundable_minor
    assert booking.paid_minor == booking.deposit_minor - refund.refundable_minor
    # Stripe holds exactly one refund of that amount on the charge: 50 USD are left.
    left_at_stripe = _refund(
        fake_stripe, payment_intent=_intent(fake_stripe, checkout), amount=50_01
    )
    assert left_at_stripe.json()["error"]["code"] == "amount_too_large"
    assert left == booking.deposit_minor


def _intent(base: str, checkout: str) -> str:
    return httpx.get(
        f"{base}/v1/checkout/sessions/{checkout}",
        headers={"Authorization": f"Bearer {SECRET_KEY}"},
    ).json()["payment_intent"]
