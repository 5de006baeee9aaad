"""Workflow 2 over the real stack: full departure → options → waitlist with position → a
cancellation frees a seat → SPOT AVAILABLE (2 h) → CONFIRM → HELD (30 min) → payment →
CONFIRMED."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.db import transaction
from backend.domain.enums import BookingStatus, WaitlistStatus
from backend.models import Booking
from backend.services import catalog, inventory, waitlist

pytestmark = pytest.mark.rasa
CUSTOMER = "+61499300002"


def test_workflow_2(stack, pg_db_url):
    with transaction(pg_db_url) as s:
        full, _open = catalog.departures_of(s, catalog.get_product(s, "ANN"))
        cancelling = s.scalar(
            select(Booking).where(
                Booking.departure_id == full.id, Booking.status == BookingStatus.CONFIRMED
            )
        )
    day = f"{full.start_date:%B} {full.start_date.day}"
    (options,) = stack.say(CUSTOMER, f"Interested in Annapurna Circuit {day}")
    assert options["text"].startswith("Annapurna Circuit is very popular! 🏔️")
    assert f"{day}: FULLY BOOKED ❌" in options["text"] and options["text"].endswith(
        "Reply: 1, 2, or 3"
    )

    (joined,) = stack.say(CUSTOMER, "2")
    assert (
        joined["text"].startswith("✓ Added to waitlist")
        and "Position: #3 on waitlist" in joined["text"]
    )
    assert "✓ 2-hour window to confirm" in joined["text"]

    # Step 3: another customer cancels (staff record it); the first party that fits is offered.
    since = stack.total()
    answer = stack.api(
        "sales",
        "POST",
        f"/api/bookings/{cancelling.reference}/cancel",
        json={"reason": "customer cancelled"},
    )
    assert answer.status_code == 200 and answer.json()["seatsFreed"] == 3
    (offer,) = stack.wait_for(CUSTOMER, since=since)
    assert offer["text"].startswith("🎉 SPOT AVAILABLE!") and "Price: $1,800" in offer["text"]
    assert "Hold expires: 2 hours" in offer["text"] and "CONFIRM to book now." in offer["text"]
    with transaction(pg_db_url) as s:
        mine = s.scalar(select(Booking).where(Booking.contact.has(phone=CUSTOMER)))
        entry = waitlist.entry_of(s, mine)
        assert entry.status == WaitlistStatus.OFFERED
        assert entry.offer_expires_at - entry.offered_at == timedelta(hours=2)
        reference = mine.reference

    # Step 4: CONFIRM → HELD with the 30-minute payment timer.
    (held,) = stack.say(CUSTOMER, "CONFIRM")
    assert "Spot reserved" in held["text"] and "within 30 minutes" in held["text"]
    with transaction(pg_db_url) as s:
        mine = s.scalar(select(Booking).where(Booking.reference == reference))
        assert mine.status == BookingStatus.HELD
        hold = inventory.active_hold(s, mine)
        assert timedelta(minutes=29) < hold.expires_at - hold.created_at <= timedelta(minutes=30)

    since = stack.total()
    assert stack.pay(reference, 1_800_00, "FULL")["bookingStatus"] == BookingStatus.CONFIRMED
    (confirmed,) = stack.wait_for(CUSTOMER, since=since)
    assert (
        confirmed["text"].startswith("✅ CONFIRMED!")
        and "Your patience paid off! 🎉" in confirmed["text"]
    )
    assert (
        f"Booking: {reference}" in confirmed["text"] and "Price: $1,800 (paid)" in confirmed["text"]
    )
