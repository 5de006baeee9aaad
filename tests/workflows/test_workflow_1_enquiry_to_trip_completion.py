"""Workflow 1 of shared/mission/workflows.md over the real stack: enquiry → lead (rep alerted)
→ quote → hold → payment → confirmation → assignment → Accept → CHECKIN → ISSUE → ops update
→ CHECKOUT, ending in the workflow's "Timeline Final State"."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.db import transaction
from backend.domain.enums import (
    AssignmentStatus,
    AttendanceStatus,
    BookingStatus,
    LeadStatus,
    PaymentStatus,
    Severity,
    TripStatus,
)
from backend.models import (
    Assignment,
    Attendance,
    Booking,
    Incident,
    Lead,
    PayrollEntry,
    Staff,
    Trip,
)
from backend.services import catalog, trips
from tests.workflows.conftest import body

pytestmark = pytest.mark.rasa

CUSTOMER = "+61499300001"
SARAH, PRIYA, RAJESH = "+9779801000001", "+9779801000002", "+9779801000003"


def test_workflow_1(stack, pg_db_url):
    # Step 1: the enquiry creates the lead and alerts the rep.
    before = stack.total()
    (reply,) = stack.say(
        CUSTOMER, "Hi! I'm interested in the Everest Base Camp Trek for 3 people in March 2025"
    )
    assert reply["text"].startswith("Thank you for your interest in EBC Trek! 🏔️")
    with transaction(pg_db_url) as s:
        lead = s.scalar(select(Lead).where(Lead.contact.has(phone=CUSTOMER)))
        assert lead.status == LeadStatus.NEW and lead.assigned_staff.phone == SARAH
        lead_id, reference = lead.id, lead.reference
        departure = catalog.departures_of(s, lead.product)[0]
    assert f"(Ref: {reference})" in reply["text"]
    rep_alert = stack.wait_for(SARAH, since=before)
    assert reference in body(rep_alert[0])  # Sarah has not written in 24 h: it goes as a template

    # Step 2: the rep quotes from the admin API; the quote goes out on WhatsApp.
    since = stack.total()
    answer = stack.api(
        "sales",
        "POST",
        f"/api/leads/{lead_id}/quote",
        json={"departure_id": departure.id, "party_size": 3},
    )
    assert answer.status_code == 200, answer.text
    (quote,) = stack.wait_for(CUSTOMER, since=since)
    assert quote["text"].startswith("Hello! I'm Sarah from Adventure Treks 👋")
    assert (
        "💰 Price: $2,400 per person" in quote["text"]
        and "Total: $7,200 for 3 pax" in quote["text"]
    )
    assert "Early bird discount (book before Jan 31): $6,840" in quote["text"]

    # Step 3: the customer asks to hold; a 24 h hold, Lead WON, Booking HELD.
    (held,) = stack.say(CUSTOMER, "Yes! Please hold the spots. What's next?")
    assert held["text"].startswith("Perfect! I've reserved 3 spots on our March 15 EBC Trek.")
    assert (
        "1. Pay deposit: $2,052 (30%)" in held["text"]
        and "2. Pay full amount: $6,840" in held["text"]
    )
    with transaction(pg_db_url) as s:
        booking = s.scalar(select(Booking).where(Booking.lead_id == lead_id))
        assert (
            booking.status == BookingStatus.HELD and s.get(Lead, lead_id).status == LeadStatus.WON
        )
        booking_ref, booking_id = booking.reference, booking.id

    # Step 4: the deposit arrives by the payment webhook; the confirmation goes out.
    since = stack.total()
    assert stack.pay(booking_ref, 2_052_00, "DEPOSIT")["bookingStatus"] == BookingStatus.CONFIRMED
    (confirmed,) = stack.wait_for(CUSTOMER, since=since)
    assert confirmed["text"].startswith("🎉 Booking Confirmed!")
    assert (
        "Paid: $2,052" in confirmed["text"] and "Balance: $4,788 (due Feb 28," in confirmed["text"]
    )
    assert stack.pay(booking_ref, 2_052_00, "DEPOSIT")["status"] in (
        "flagged",
        "applied",
        "duplicate",
    )

    # The balance (step 5's reminder is the scheduler's) makes it FULL_PAID.
    assert stack.pay(booking_ref, 4_788_00, "BALANCE")["paymentStatus"] == PaymentStatus.FULL_PAID

    # Step 6: operations assign Rajesh; he accepts in the chat.
    with transaction(pg_db_url) as s:
        rajesh_id = s.scalar(select(Staff.id).where(Staff.phone == RAJESH))
    since = stack.total()
    answer = stack.api(
        "ops",
        "POST",
        f"/api/departures/{departure.id}/assignments",
        json={"staff_id": rajesh_id, "role": "LEAD_GUIDE", "compensation_minor": 800_00},
    )
    assert answer.status_code == 200, answer.text
    (offer,) = stack.wait_for(RAJESH, since=since)
    assert (
        "Trip Assignment" in body(offer)
        and "Group: 12 people" in body(offer)
        and "Compensation: $800" in body(offer)
    )
    (accepted,) = stack.say(RAJESH, "Accept")
    assert (
        accepted["text"].startswith("✓ Assignment confirmed!")
        and "Meeting point: Kathmandu Airport" in accepted["text"]
    )

    # Step 7: CHECKIN with the customer's booking reference, as the workflow's guide does.
    since = stack.total()
    (checked_in,) = stack.say(RAJESH, f"CHECKIN {reference}")
    assert (
        checked_in["text"].startswith("✓ Checked in to EBC Trek")
        and "Group: 12 guests" in checked_in["text"]
    )
    with transaction(pg_db_url) as s:
        trip = s.scalar(select(Trip).where(Trip.departure_id == departure.id))
        assert trip.status == TripStatus.IN_PROGRESS
        assert (
            s.scalar(select(Attendance).where(Attendance.trip_id == trip.id)).status
            == AttendanceStatus.ON_TRIP
        )
        guests = {b.contact.phone for b in trips.guests_of(s, trip)}
    assert len(guests) == 4
    for phone in guests:
        started = stack.wait_for(phone, since=since)
        assert any("Rajesh Kumar" in body(m) and RAJESH in body(m) for m in started)
    assert any("Trip started" in body(m) for m in stack.wait_for(PRIYA, since=since))

    # Step 8: ISSUE; ops alerted; the ops update reaches the guide and the affected customer.
    since = stack.total()
    (logged,) = stack.say(
        RAJESH,
        f"ISSUE {reference} One guest showing altitude sickness symptoms. Monitoring closely. May need early descent.",
    )
    assert logged["text"].startswith("⚠️ Issue logged") and "Severity: Medium" in logged["text"]
    assert any("altitude" in body(m) for m in stack.wait_for(PRIYA, since=since))
    with transaction(pg_db_url) as s:
        incident = s.scalar(select(Incident).where(Incident.trip_id == trip.id))
        assert incident.severity == Severity.MEDIUM
    since = stack.total()
    answer = stack.api(
        "ops",
        "POST",
        f"/api/incidents/{incident.id}",
        json={
            "status": "IN_PROGRESS",
            "message_to_guide": "Helicopter on standby in Lukla.\nMonitor guest overnight.\nIf symptoms worsen, call: +977-1-4400000\n\nDr. available on call.",
            "message_to_bookings": {
                booking_id: "We're monitoring your altitude acclimatization.\n\nOur guide and operations team are in constant contact."
            },
        },
    )
    assert answer.status_code == 200, answer.text
    assert body(stack.wait_for(RAJESH, since=since)[0]).startswith("Update from Ops:")
    assert (
        "monitoring your altitude acclimatization"
        in stack.wait_for(CUSTOMER, since=since)[0]["text"]
    )

    # Step 9: CHECKOUT ends the trip, writes payroll and asks every guest for feedback.
    since = stack.total()
    (done,) = stack.say(
        RAJESH,
        f"CHECKOUT {reference} Trip completed successfully! All 12 guests safe. Amazing journey! 🎉",
    )
    assert done["text"].startswith("✓ Trip completed!") and "Payroll: $800 added." in done["text"]
    for phone in guests:
        assert any(
            "Congratulations on completing EBC Trek" in body(m)
            or "trip_feedback" in str(m.get("template"))
            for m in stack.wait_for(phone, since=since)
        )

    # Timeline Final State: Lead WON, Booking COMPLETED, Trip ENDED, Payments FULL_PAID, Staff COMPLETED.
    with transaction(pg_db_url) as s:
        assert s.get(Lead, lead_id).status == LeadStatus.WON
        booking = s.get(Booking, booking_id)
        assert (booking.status, booking.payment_status) == (
            BookingStatus.COMPLETED,
            PaymentStatus.FULL_PAID,
        )
        assert s.get(Trip, trip.id).status == TripStatus.ENDED
        assignment = s.scalar(select(Assignment).where(Assignment.trip_id == trip.id))
        assert assignment.status == AssignmentStatus.COMPLETED
        assert (
            s.scalar(select(Attendance).where(Attendance.trip_id == trip.id)).status
            == AttendanceStatus.TRIP_COMPLETE
        )
        assert (
            s.scalar(select(PayrollEntry).where(PayrollEntry.trip_id == trip.id)).amount_minor
            == 800_00
        )
    timeline = stack.api(
        "sales", "GET", "/api/timeline", params={"object_type": "LEAD", "object_id": lead_id}
    ).json()["events"]
    actions = [e["action"] for e in timeline]
    assert (
        actions.index("tms.lead.created")
        < actions.index("tms.lead.status.quoted")
        < actions.index("tms.lead.status.won")
    )
    assert any(
        e["eventType"] == "MESSAGE" and e["content"]["direction"] == "inbound" for e in timeline
    )
