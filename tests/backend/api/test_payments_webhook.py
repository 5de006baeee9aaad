"""`POST /webhooks/payments`: signed like Stripe's, idempotent, and careful with money that
cannot be applied."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from sqlalchemy import func, select

from backend import links
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.models import Booking, Payment
from backend.payments import signature
from backend.payments.provider import payment_event, post_payment_webhook
from backend.services import bookings, catalog, contacts
from tests.conftest import load_demo_world
from tests.processes import start_backend

SECRET = "dev-payment-secret"


@pytest.fixture
def held(backend_url, pg_db_url, story_clock):
    load_demo_world(pg_db_url)
    with transaction(pg_db_url) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        booking = bookings.hold_new_booking(
            s,
            contact=contacts.get_or_create_contact(s, "+61499500001"),
            departure_id=departure.id,
            party_size=3,
            actor=SYSTEM,
        )
        return booking.reference


def test_signature_rules():
    raw = b'{"id": "evt_1"}'
    header = signature.sign(raw, SECRET)
    signature.verify(raw, header, SECRET)
    for bad in (None, "t=1,v1=abc", header.replace("v1=", "v1=0"), signature.sign(raw, "other")):
        with pytest.raises(signature.SignatureError):
            signature.verify(raw, bad, SECRET)
    with pytest.raises(signature.SignatureError, match="tolerance"):
        signature.verify(raw, signature.sign(raw, SECRET, timestamp=int(time.time()) - 301), SECRET)


def test_a_deposit_confirms_once_even_when_the_event_comes_twice(backend_url, held, pg_db_url):
    event = payment_event(held, 2_052_00, "USD", "DEPOSIT")
    first = post_payment_webhook(backend_url, event, SECRET).json()
    second = post_payment_webhook(backend_url, event, SECRET).json()
    assert (first["status"], first["bookingStatus"], first["paymentStatus"]) == (
        "applied",
        "CONFIRMED",
        "DEPOSIT_PAID",
    )
    assert second["status"] == "duplicate"
    with transaction(pg_db_url) as s:
        assert s.scalar(select(func.count()).select_from(Payment)) > 0
        booking = s.scalar(select(Booking).where(Booking.reference == held))
        assert booking.paid_minor == 2_052_00


def test_unsigned_or_stale_events_are_refused_without_effect(backend_url, held, pg_db_url):
    raw = json.dumps(payment_event(held, 2_052_00, "USD", "DEPOSIT")).encode()
    for header in (
        {},
        {"Stripe-Signature": signature.sign(raw, "wrong")},
        {"Stripe-Signature": signature.sign(raw, SECRET, timestamp=int(time.time()) - 3600)},
    ):
        assert (
            httpx.post(f"{backend_url}/webhooks/payments", content=raw, headers=header).status_code
            == 400
        )
    with transaction(pg_db_url) as s:
        assert s.scalar(select(Booking).where(Booking.reference == held)).status == "HELD"


def test_a_wrong_amount_is_flagged_not_confirmed(backend_url, held, pg_db_url):
    answer = post_payment_webhook(
        backend_url, payment_event(held, 10_00, "USD", "DEPOSIT"), SECRET
    ).json()
    assert answer["status"] == "flagged" and answer["bookingStatus"] == "HELD"


def test_an_unknown_booking_is_answered_200_and_kept_for_staff(backend_url, held):
    answer = post_payment_webhook(
        backend_url, payment_event("EBC-9901999", 10_00, "USD", "DEPOSIT"), SECRET
    )
    assert answer.status_code == 200 and answer.json()["status"] == "unknown booking"


def test_the_pay_pages_exist_only_with_a_payment_provider(
    backend_url, held, pg_db_url, pg_migrated, tmp_path
):
    key = held.replace("-", "")
    token = links.token_for("pay", key)
    # The shared test backend runs with PAYMENT_PROVIDER=local: the page pays.
    page = httpx.get(f"{backend_url}/pay/{token}")
    assert page.status_code == 200 and "Pay deposit" in page.text
    # A backend without a provider (production's default), and without the bank transfer or
    # card link that need no provider (docs/payments.md), has no such routes.
    server, port = start_backend(
        pg_migrated,
        tmp_path,
        workers=False,
        extra_env={"PAYMENT_PROVIDER": "", "PAYMENT_METHODS": "card"},
    )
    try:
        server.wait_ready(60)
        other = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{other}/pay/{token}").status_code == 404
        for kind in ("deposit", "full", "balance"):
            assert httpx.post(f"{other}/pay/{token}", data={"kind": kind}).status_code == 404
        assert httpx.post(f"{other}/webhooks/stripe", content=b"{}").status_code == 404
        # The other customer pages do not take money: they stay.
        track = links.token_for("track", key)
        assert httpx.get(f"{other}/track/{track}").status_code == 404  # not confirmed: refused
        assert "Reply on WhatsApp" in httpx.get(f"{other}/track/{track}").text
    finally:
        server.stop()
    with transaction(pg_db_url) as s:
        booking = bookings.find_booking(s, held)
        assert booking.paid_minor == 0 and booking.status == "HELD"
        paid = select(func.count()).where(Payment.booking_id == booking.id)
        assert s.scalar(paid) == 0
