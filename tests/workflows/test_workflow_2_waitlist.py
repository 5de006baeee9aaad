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
from devkit.demo_data import STORY
from tests.workflows.conftest import body

pytestmark = pytest.mark.rasa
# One number per parametrisation: Rasa's tracker store outlives a test's fresh world.
CUSTOMERS = {"typed": "+61499300002", "tap": "+61499300012"}


@pytest.mark.parametrize("by", ["typed", "tap"])
def test_workflow_2(stack, pg_db_url, by):
    customer = CUSTOMERS[by]
    stack.clock.at(STORY.on(3, 3), "10:00")  # a week before the cancellation of March 10
    with transaction(pg_db_url) as s:
        full, _open = catalog.departures_of(s, catalog.get_product(s, "ANN"))
        cancelling = s.scalar(
            select(Booking).where(
                Booking.departure_id == full.id, Booking.status == BookingStatus.CONFIRMED
            )
        )
    day = f"{full.start_date:%B} {full.start_date.day}"
    (options,) = stack.say(customer, f"Interested in Annapurna Circuit {day}")
    assert options["text"].startswith("Annapurna Circuit is very popular! 🏔️")
    assert f"{day}: FULLY BOOKED ❌" in options["text"] and options["text"].endswith(
        "Reply: 1, 2, or 3"
    )

    short_day = f"{full.start_date:%b} {full.start_date.day}"
    assert options["interactive"] == "list" and options["buttons"][1] == f"Waitlist {short_day}"
    (asked,) = stack.answer(by, customer, typed="2", tapped=f"Waitlist {short_day}")
    assert asked["text"].startswith("How many people will be travelling?")
    (joined,) = stack.say(customer, "Just me")
    assert (
        joined["text"].startswith("✓ Added to waitlist")
        and "Position: #3 on waitlist" in joined["text"]
    )
    assert "✓ 2-hour window to confirm" in joined["text"]

    # Step 3, March 10: another customer cancels (staff record it); the first party that fits
    # is offered.
    stack.clock.at(STORY.on(3, 10), "09:00")
    since = stack.total()
    answer = stack.api(
        "sales",
        "POST",
        f"/api/bookings/{cancelling.reference}/cancel",
        json={"reason": "customer cancelled"},
    )
    assert answer.status_code == 200 and answer.json()["seatsFreed"] == 3
    (offer,) = stack.wait_for(customer, since=since)
    # A week after the customer last wrote: the offer goes as its approved template.
    assert offer["template"] == "waitlist_spot_available"
    assert body(offer).startswith("🎉 SPOT AVAILABLE!") and "Price: $1,800" in body(offer)
    assert "Hold expires: 2 hours" in body(offer) and "CONFIRM to book now" in body(offer)
    # The offer's "Confirm:" link opens the offer with its countdown.
    assert "Confirm: http" in body(offer)
    offer_page = stack.open_link(body(offer), "book")
    assert "A spot is available!" in offer_page.text and "data-seconds-left" in offer_page.text
    with transaction(pg_db_url) as s:
        mine = s.scalar(select(Booking).where(Booking.contact.has(phone=customer)))
        entry = waitlist.entry_of(s, mine)
        assert entry.status == WaitlistStatus.OFFERED
        assert entry.offer_expires_at - entry.offered_at == timedelta(hours=2)
        reference = mine.reference

    # Step 4: CONFIRM → HELD with the 30-minute payment timer.
    assert offer["buttons"] == ["Confirm", "Decline"]
    (held,) = stack.answer(by, customer, typed="CONFIRM", tapped="Confirm")
    assert "Spot reserved" in held["text"] and "within 30 minutes" in held["text"]
    # The book page agrees with the chat.
    assert "Spot reserved ✓" in stack.open_link(body(offer), "book").text
    with transaction(pg_db_url) as s:
        mine = s.scalar(select(Booking).where(Booking.reference == reference))
        assert mine.status == BookingStatus.HELD
        hold = inventory.active_hold(s, mine)
        assert timedelta(minutes=29) < hold.expires_at - hold.created_at <= timedelta(minutes=30)

    # Step 5: the payment link in the chat; the customer pays in full on the pay page.
    since = stack.total()
    paid = stack.open_link(held["text"], "pay", form={"kind": "full"})
    assert paid.status_code == 200 and "Paid in full ✓" in paid.text
    # The confirmation; the papers invite (or a reminder the clock made due) may come with it.
    arrived = stack.wait_for(
        customer,
        since=since,
        until=lambda found: any(body(m).startswith("✅ CONFIRMED!") for m in found),
    )
    confirmed = next(m for m in arrived if body(m).startswith("✅ CONFIRMED!"))
    assert (
        confirmed["text"].startswith("✅ CONFIRMED!")
        and "Your patience paid off! 🎉" in confirmed["text"]
    )
    assert (
        f"Booking: {reference}" in confirmed["text"] and "Price: $1,800 (paid)" in confirmed["text"]
    )
