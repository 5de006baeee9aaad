"""Workflow 1 of shared/mission/workflows.md over the real stack: enquiry → lead (rep alerted)
→ quote → hold → payment → confirmation → assignment → Accept → CHECKIN → ISSUE → ops update
→ CHECKOUT, ending in the workflow's "Timeline Final State"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend import texts
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
from devkit.demo_data import STORY
from tests.workflows.conftest import body

pytestmark = pytest.mark.rasa

# One number per parametrisation: Rasa's tracker store outlives a test's fresh world.
CUSTOMERS = {"typed": "+61499300001", "tap": "+61499300011"}
SARAH, PRIYA, RAJESH = "+9779801000001", "+9779801000002", "+9779801000003"


def _is_confirmation(message: dict) -> bool:
    return body(message).startswith("🎉 Booking Confirmed!")


@pytest.mark.parametrize("by", ["typed", "tap"])
def test_workflow_1(stack, pg_db_url, by):
    customer = CUSTOMERS[by]
    # Step 1, on the story's day: the enquiry creates the lead and alerts the rep.
    stack.clock.at(STORY.today, "13:50")
    before = stack.total()
    (reply,) = stack.say(
        customer, "Hi! I'm interested in the Everest Base Camp Trek for 3 people in March 2025"
    )
    assert reply["text"].startswith("Thank you for your interest in EBC Trek! 🏔️")
    with transaction(pg_db_url) as s:
        lead = s.scalar(select(Lead).where(Lead.contact.has(phone=customer)))
        assert lead.status == LeadStatus.NEW and lead.assigned_staff.phone == SARAH
        lead_id, reference = lead.id, lead.reference
        departure = catalog.departures_of(s, lead.product)[0]
    assert f"(Ref: {reference})" in reply["text"]
    rep_alert = stack.wait_for(SARAH, since=before)
    assert reference in body(rep_alert[0])  # Sarah has not written in 24 h: it goes as a template

    # Step 2: the rep quotes from the admin API; the quote goes out on WhatsApp.
    stack.clock.at(STORY.today, "13:55")
    since = stack.total()
    answer = stack.api(
        "sales",
        "POST",
        f"/api/leads/{lead_id}/quote",
        json={"departure_id": departure.id, "party_size": 3},
    )
    assert answer.status_code == 200, answer.text
    (quote,) = stack.wait_for(customer, since=since)
    assert quote["text"].startswith("Hello! I'm Sarah from Adventure Treks 👋")
    assert (
        "💰 Price: $2,400 per person" in quote["text"]
        and "Total: $7,200 for 3 pax" in quote["text"]
    )
    assert "Early bird discount (book before Jan 31): $6,840" in quote["text"]

    # Step 3: the customer asks to hold; a 24 h hold, Lead WON, Booking HELD.
    held_at = stack.clock.at(STORY.today, "14:00")
    assert quote["buttons"] == ["Hold my seats", "Not now"]
    (held,) = stack.answer(
        by, customer, typed="Yes! Please hold the spots. What's next?", tapped="Hold my seats"
    )
    assert held["text"].startswith("Perfect! I've reserved 3 spots on our March 15 EBC Trek.")
    expires = texts.local_datetime(held_at + timedelta(hours=24))
    assert (
        expires == f"Dec 24, {STORY.season - 1} 2:00 PM"
        and f"⏰ Hold expires: {expires}" in held["text"]
    )
    assert (
        "1. Pay deposit: $2,052 (30%)" in held["text"]
        and "2. Pay full amount: $6,840" in held["text"]
    )
    # The hold asks where to send the confirmation; the customer answers in the chat.
    assert "What e-mail address should we send" in held["text"]
    (noted,) = stack.say(customer, "emma.c@example.com")
    assert noted["text"].startswith("✓ Thanks!") and "emma.c@example.com" in noted["text"]
    with transaction(pg_db_url) as s:
        booking = s.scalar(select(Booking).where(Booking.lead_id == lead_id))
        assert (
            booking.status == BookingStatus.HELD and s.get(Lead, lead_id).status == LeadStatus.WON
        )
        booking_ref, booking_id = booking.reference, booking.id

    # Step 4: the customer opens the payment link and pays the deposit (the local provider
    # sends the signed webhook); the confirmation goes out on WhatsApp and by e-mail.
    stack.clock.at(STORY.today, "14:20")
    since = stack.total()
    pay_page = stack.open_link(held["text"], "pay")
    assert "Pay deposit (30%)" in pay_page.text and "$2,052" in pay_page.text
    paid = stack.open_link(held["text"], "pay", form={"kind": "deposit"})
    assert "Payment received ✓" in paid.text and "$4,788" in paid.text
    # The confirmation, once: other messages may follow it at once (the traveller form).
    arrived = stack.wait_for(
        customer, since=since, until=lambda found: any(_is_confirmation(m) for m in found)
    )
    (confirmed,) = [m for m in arrived if _is_confirmation(m)]
    assert (
        "Paid: $2,052" in confirmed["text"]
        and f"Balance: $4,788 (due Feb 28, {STORY.season})" in confirmed["text"]
    )
    assert "✓ Confirmation email sent" in confirmed["text"]
    [mail] = stack.mail_to("emma.c@example.com")
    assert booking_ref in mail.subject and "Balance:   $4,788" in mail.text
    assert mail.attachments[0][1] == "application/pdf"
    # The same page again (the back button) takes no money.
    again = stack.open_link(held["text"], "pay", form={"kind": "deposit"})
    assert "Nothing was charged" in again.text

    # The balance (step 5's reminder is the scheduler's), through the e-mail's pay link,
    # makes it FULL_PAID.
    stack.clock.at(STORY.on(2, 22), "10:00")
    assert "Paid in full ✓" in stack.open_link(mail.text, "pay", form={"kind": "balance"}).text
    with transaction(pg_db_url) as s:
        assert s.get(Booking, booking_id).payment_status == PaymentStatus.FULL_PAID
    assert len(stack.mail_to("emma.c@example.com", wait=1)) == 1  # one confirmation only

    # Step 6: operations assign Rajesh; he accepts in the chat.
    with transaction(pg_db_url) as s:
        rajesh_id = s.scalar(select(Staff.id).where(Staff.phone == RAJESH))
    stack.clock.at(STORY.on(3, 1), "11:00")
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
    assert offer["buttons"] == ["Accept", "Decline"]  # the template's quick replies
    (accepted,) = stack.answer(by, RAJESH, typed="Accept", tapped="Accept")
    assert (
        accepted["text"].startswith("✓ Assignment confirmed!")
        and "Meeting point: Kathmandu Airport" in accepted["text"]
    )
    assert "Trip details sent to your email." in accepted["text"]
    [details] = stack.mail_to("rajesh@adventure-treks.example")
    assert "Lead Guide" in details.text and "CHECKIN" in details.text

    # Step 7: CHECKIN on the first day with the customer's booking reference, as the
    # workflow's guide does.
    stack.clock.at(STORY.ebc_start, "06:00")
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

    def names_the_guide(found: list[dict]) -> bool:
        return any("Rajesh Kumar" in body(m) and RAJESH in body(m) for m in found)

    for phone in guests:
        stack.wait_for(phone, since=since, until=names_the_guide)
    # The customer's track link: the trip under way, the lead guide, the day.
    (mine,) = [
        m
        for m in stack.wait_for(
            customer, since=since, until=lambda found: any("/track/" in body(m) for m in found)
        )
        if "/track/" in body(m)
    ]
    track = stack.open_link(body(mine), "track").text
    assert "Under way" in track and "Rajesh Kumar" in track and "day 1 of 14" in track
    stack.wait_for(
        PRIYA, since=since, until=lambda found: any("Trip started" in body(m) for m in found)
    )

    # Step 8, day 5: ISSUE; ops alerted; the ops update reaches the guide and the customer.
    stack.clock.at(STORY.ebc_start + timedelta(days=4), "16:00")
    since = stack.total()
    (logged,) = stack.say(
        RAJESH,
        f"ISSUE {reference} One guest showing altitude sickness symptoms. Monitoring closely. May need early descent.",
    )
    assert logged["text"].startswith("⚠️ Issue logged") and "Severity: Medium" in logged["text"]
    # Other alerts may reach operations first (the papers' chase, due once the clock jumped).
    stack.wait_for(
        PRIYA, since=since, until=lambda found: any("altitude" in body(m) for m in found)
    )
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
        # Days after the customer last wrote: the notice goes as its template.
        "monitoring your altitude acclimatization" in body(stack.wait_for(customer, since=since)[0])
    )
    # The track page shows the customer their own notice.
    assert "monitoring your altitude acclimatization" in stack.open_link(body(mine), "track").text

    # Step 9, March 28: CHECKOUT ends the trip, writes payroll and asks every guest for feedback.
    stack.clock.at(departure.end_date, "17:00")
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
    # Feedback: the customer rates on the page; another guest replies with a number.
    (request,) = [m for m in stack.wait_for(customer, since=since) if "/feedback/" in body(m)]
    rated = stack.open_link(body(request), "feedback", form={"rating": "5", "comment": "Superb"})
    assert "Thank you!" in rated.text
    other = sorted(guests - {customer})[0]
    # A good rating is thanked, then the guest is asked once about future departures.
    thanks, news = stack.answer(by, other, typed="4", tapped="⭐⭐⭐⭐ Very good", expect=2)
    assert "⭐⭐⭐⭐" in thanks["text"]
    assert texts.departure_news_question() in body(news)
    summary = stack.api("ops", "GET", "/api/feedback/summary").json()
    assert (summary["count"], summary["average"]) == (2, 4.5)
    assert summary["guides"][0]["name"] == "Rajesh Kumar"

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
