"""Stripe Checkout through the official `stripe` package, against a local fake of the two
Stripe endpoints used: the pay page opens a Checkout Session, Stripe's signed webhook confirms
the booking (checked with the package's own signature verification), and nothing is paid
twice."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import func, select

from backend import links
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.models import Booking, Payment
from backend.payments.signature import sign
from backend.services import bookings, catalog, contacts
from devkit.demo_data import load
from tests.processes import ROOT, Part, free_port, start, start_backend

SECRET_KEY = "sk_test_0123456789abcdef"
WEBHOOK_SECRET = "whsec_test_0123456789abcdef"


@pytest.fixture(scope="module")
def stripe_stack(pg_migrated, tmp_path_factory):
    logs = tmp_path_factory.mktemp("stripe-logs")
    backend_port, stripe_port = free_port(), free_port()
    fake = Part(
        f"fake-stripe-{stripe_port}",
        [
            str(ROOT / ".venv/bin/python"),
            "-m",
            "devkit.fake_stripe",
            "--port",
            str(stripe_port),
            "--webhook-url",
            f"http://127.0.0.1:{backend_port}/webhooks/stripe",
            "--secret-key",
            SECRET_KEY,
            "--webhook-secret",
            WEBHOOK_SECRET,
        ],
        f"http://127.0.0.1:{stripe_port}/_fake/health",
    )
    start(fake, logs)
    backend, _ = start_backend(
        pg_migrated,
        logs,
        workers=False,
        port=backend_port,
        extra_env={
            "PAYMENT_PROVIDER": "stripe",
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": f"http://127.0.0.1:{stripe_port}",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{backend_port}",
        },
    )
    try:
        fake.wait_ready(60)
        backend.wait_ready(60)
        yield f"http://127.0.0.1:{backend_port}", f"http://127.0.0.1:{stripe_port}"
    finally:
        backend.stop()
        fake.stop()


@pytest.fixture
def held(stripe_stack, pg_db_url, story_clock):
    with transaction(pg_db_url) as s:
        load(s)
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        booking = bookings.hold_new_booking(
            s,
            contact=contacts.get_or_create_contact(s, "+61499800001", name="Ola Berg"),
            departure_id=departure.id,
            party_size=3,
            actor=SYSTEM,
        )
        return booking.ref_key


def _payments(db: str, key: str) -> int:
    with transaction(db) as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(Payment)
                .join(Booking, Booking.id == Payment.booking_id)
                .where(Booking.ref_key == key, Payment.provider == "stripe")
            )
            or 0
        )


def test_the_pay_page_pays_through_stripe_checkout_once(stripe_stack, held, pg_db_url):
    backend, stripe_url = stripe_stack
    page = f"{backend}/pay/{links.token_for('pay', held)}"
    first = httpx.post(page, data={"kind": "deposit"}, timeout=60)
    assert first.status_code == 303
    checkout = first.headers["location"]
    assert checkout.startswith(f"{stripe_url}/c/pay/cs_test_")
    # A second tab asks again: the same session (Stripe's idempotency key), one payment.
    second = httpx.post(page, data={"kind": "deposit"}, timeout=60)
    assert second.headers["location"] == checkout
    assert "2,052.00 USD" in httpx.get(checkout).text
    # The customer pays on Stripe's page; Stripe's signed webhook confirms the booking.
    paid = httpx.post(checkout, timeout=60)
    assert paid.status_code == 303 and "?checkout=cs_test_" in paid.headers["location"]
    with transaction(pg_db_url) as s:
        booking = s.scalar(select(Booking).where(Booking.ref_key == held))
        assert (booking.status, booking.payment_status) == ("CONFIRMED", "DEPOSIT_PAID")
    back = httpx.get(paid.headers["location"], timeout=30)
    assert "Pay balance" in back.text and "$4,788" in back.text
    # Paying the same session again takes nothing.
    assert httpx.post(checkout, timeout=60).status_code == 303
    assert _payments(pg_db_url, held) == 1


def test_a_stripe_webhook_with_a_bad_signature_changes_nothing(stripe_stack, held, pg_db_url):
    backend, _ = stripe_stack
    event = {
        "id": "evt_forged",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": "cs_test_forged",
                "object": "checkout.session",
                "payment_status": "paid",
                "amount_total": 684000,
                "currency": "usd",
                "client_reference_id": held,
                "metadata": {"booking_reference": held, "kind": "FULL"},
            }
        },
    }
    raw = json.dumps(event).encode()
    for header in (
        None,
        "t=1,v1=00",
        sign(raw, "whsec_someone_else"),
        sign(raw, WEBHOOK_SECRET, timestamp=1),
    ):
        answer = httpx.post(
            f"{backend}/webhooks/stripe",
            content=raw,
            headers={"Stripe-Signature": header} if header else {},
        )
        assert answer.status_code == 400
    assert _payments(pg_db_url, held) == 0
    # Signed properly, it is Stripe's word: applied once, a redelivery is a duplicate.
    good = {"Stripe-Signature": sign(raw, WEBHOOK_SECRET)}
    assert (
        httpx.post(f"{backend}/webhooks/stripe", content=raw, headers=good).json()["status"]
        == "applied"
    )
    again = {"Stripe-Signature": sign(raw, WEBHOOK_SECRET)}
    assert (
        httpx.post(f"{backend}/webhooks/stripe", content=raw, headers=again).json()["status"]
        == "duplicate"
    )
    assert _payments(pg_db_url, held) == 1


def test_the_fake_checks_the_key_like_stripe(stripe_stack):
    _, stripe_url = stripe_stack
    answer = httpx.post(
        f"{stripe_url}/v1/checkout/sessions",
        headers={"Authorization": "Bearer sk_test_wrong"},
        content=b"mode=payment",
    )
    assert answer.status_code == 401 and answer.json()["error"]["type"] == "invalid_request_error"
