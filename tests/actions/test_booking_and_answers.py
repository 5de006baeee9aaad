"""A customer's own booking through the actions: hold, cancel, status, payment, offers, handoff."""

from sqlalchemy import select

from actions.answers import ActionAffirm, ActionDeny
from actions.booking import (
    ActionAskPayment,
    ActionBookingStatus,
    ActionCancelBooking,
    ActionGiveFeedback,
    ActionHumanHandoff,
    ActionRequestHold,
)
from actions.catalog import ActionAskDates, ActionAskInclusions, ActionAskPrice
from actions.enquiry import ActionSubmitEnquiry
from actions.small_talk import ActionHelp
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import BookingStatus, LeadStatus
from backend.models import Booking, Conversation, Lead, OutboundMessage, TimelineEvent
from backend.services import bookings, catalog, contacts, inventory, leads
from tests import factories
from tests.actions.conftest import CUSTOMER, SARAH, entity, make_tracker, run_action


def _enquire():
    run_action(
        ActionSubmitEnquiry(),
        make_tracker(
            CUSTOMER,
            "EBC for 3 people in March",
            "enquire_trip",
            slots={"trek": "EBC", "group_size": "3", "travel_date": "March"},
        ),
    )
    with transaction() as s:
        return s.scalar(select(Lead)).id


def _quote(lead_id):
    with transaction() as s:
        lead = s.get(Lead, lead_id)
        departure = catalog.departures_of(s, lead.product)[0]
        leads.quote_lead(s, lead, departure, 3, SYSTEM)


def test_hold_before_a_quote_tells_the_rep_and_the_customer(world):
    _enquire()
    ran = run_action(
        ActionRequestHold(),
        make_tracker(CUSTOMER, "Yes! Please hold the spots. What's next?", "request_hold"),
    )
    assert "preparing your quote" in ran.text
    with transaction() as s:
        alerts = s.scalars(
            select(OutboundMessage).where(OutboundMessage.recipient_phone == SARAH)
        ).all()
        assert any("wants to hold seats" in a.body for a in alerts)
        assert s.scalar(select(Booking).where(Booking.status == BookingStatus.HELD)) is None


def test_hold_after_the_quote_is_the_workflow_message(world):
    lead_id = _enquire()
    _quote(lead_id)
    ran = run_action(
        ActionRequestHold(),
        make_tracker(CUSTOMER, "Yes! Please hold the spots. What's next?", "request_hold"),
    )
    with transaction() as s:
        lead = s.get(Lead, lead_id)
        booking = s.scalar(select(Booking).where(Booking.lead_id == lead_id))
        assert lead.status == LeadStatus.WON and booking.status == BookingStatus.HELD
        assert booking.reference == lead.reference[:3] + "-" + lead.reference[3:]
    assert ran.texts[0].startswith("Perfect! I've reserved 3 spots on our March 15 EBC Trek.")
    assert f"📋 Booking ID: {booking.reference}" in ran.text
    assert "1. Pay deposit: $2,052 (30%)" in ran.text and "2. Pay full amount: $6,840" in ran.text
    assert "Payment link: http" in ran.text
    claims = factories.link_in(ran.text, "pay")
    assert (claims.reference_key, claims.kind) == (booking.ref_key, None)


def test_cancel_asks_first_then_frees_the_seats(world):
    lead_id = _enquire()
    _quote(lead_id)
    run_action(ActionRequestHold(), make_tracker(CUSTOMER, "hold please", "request_hold"))
    asked = run_action(
        ActionCancelBooking(),
        make_tracker(CUSTOMER, "I need to cancel my booking", "cancel_booking"),
    )
    with transaction() as s:
        reference = s.scalar(select(Booking).where(Booking.lead_id == lead_id)).reference
    assert "Do you really want to cancel" in asked.text
    assert [b["payload"] for b in asked.buttons[0]] == [
        f'/{intent}{{"answer_to":"cancel:{reference}"}}' for intent in ("affirm", "deny")
    ]
    pending = asked.slot("pending_question")
    kept = run_action(
        ActionDeny(), make_tracker(CUSTOMER, "no", "deny", slots={"pending_question": pending})
    )
    assert "stays as it is" in kept.text
    done = run_action(
        ActionAffirm(), make_tracker(CUSTOMER, "yes", "affirm", slots={"pending_question": pending})
    )
    assert "is cancelled" in done.text
    with transaction() as s:
        booking = s.scalar(select(Booking).where(Booking.lead_id == lead_id))
        assert booking.status == BookingStatus.CANCELLED
        assert inventory.seat_counts(s, booking.departure).held == 0


def test_cannot_touch_someone_elses_booking(world):
    with transaction() as s:
        other = s.scalar(select(Booking).where(Booking.status == BookingStatus.CONFIRMED))
        reference = other.reference
    ran = run_action(
        ActionCancelBooking(),
        make_tracker(
            CUSTOMER, f"cancel {reference}", "cancel_booking", entities=[entity("ref", reference)]
        ),
    )
    assert "No booking" in ran.text and "this number" in ran.text
    with transaction() as s:
        assert (
            s.scalar(select(Booking).where(Booking.reference == reference)).status
            == BookingStatus.CONFIRMED
        )


def test_status_and_payment_of_a_confirmed_booking(world):
    with transaction() as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        booking = factories.confirmed_booking(s, departure, 2)  # the deposit paid, not the rest
        phone = booking.contact.phone
    status = run_action(
        ActionBookingStatus(), make_tracker(phone, "status of my booking?", "booking_status")
    )
    assert f"📋 Booking {booking.reference}" in status.text and "confirmed ✓" in status.text
    pay = run_action(ActionAskPayment(), make_tracker(phone, "what's my balance", "ask_payment"))
    assert "Balance:" in pay.text
    claims = factories.link_in(pay.text, "pay")
    assert (claims.reference_key, claims.kind) == (booking.ref_key, "balance")


def test_waitlist_offer_confirm_holds_for_thirty_minutes(world):
    with transaction() as s:
        full = catalog.departures_of(s, catalog.get_product(s, "ANN"))[0]
        contact = contacts.get_or_create_contact(s, CUSTOMER)
        booking, _ = bookings.waitlist_new_booking(
            s, contact=contact, departure=full, party_size=1, actor=SYSTEM
        )
        seated = s.scalar(
            select(Booking).where(
                Booking.departure_id == full.id, Booking.status == BookingStatus.CONFIRMED
            )
        )
        # A party of 3 cancels: the first waitlisted party of 2 is offered 2 seats, the second
        # party of 2 does not fit the last seat, the customer's party of 1 does.
        bookings.cancel_booking(s, seated, SYSTEM)
        assert booking.status == BookingStatus.OFFERED
    ran = run_action(ActionAffirm(), make_tracker(CUSTOMER, "CONFIRM", "affirm"))
    assert "Spot reserved" in ran.text and "within 30 minutes" in ran.text
    with transaction() as s:
        assert s.get(Booking, booking.id).status == BookingStatus.HELD


def test_waitlist_offer_decline_stays_on_the_list(world):
    with transaction() as s:
        full = catalog.departures_of(s, catalog.get_product(s, "ANN"))[0]
        contact = contacts.get_or_create_contact(s, CUSTOMER)
        booking, _ = bookings.waitlist_new_booking(
            s, contact=contact, departure=full, party_size=1, actor=SYSTEM
        )
        seated = s.scalar(
            select(Booking).where(
                Booking.departure_id == full.id, Booking.status == BookingStatus.CONFIRMED
            )
        )
        bookings.cancel_booking(s, seated, SYSTEM)
    ran = run_action(ActionDeny(), make_tracker(CUSTOMER, "DECLINE", "deny"))
    assert "you stay on the waitlist" in ran.text
    with transaction() as s:
        assert s.get(Booking, booking.id).status == BookingStatus.WAITLISTED


def test_handoff_pauses_the_bot_and_alerts_the_rep(world):
    _enquire()
    ran = run_action(
        ActionHumanHandoff(), make_tracker(CUSTOMER, "can I talk to a person", "human_handoff")
    )
    assert "Sarah will reply" in ran.text
    with transaction() as s:
        assert s.scalar(select(Conversation)).bot_paused is True
        alerts = s.scalars(
            select(OutboundMessage).where(OutboundMessage.recipient_phone == SARAH)
        ).all()
        assert any("asked for a person" in a.body for a in alerts)


def test_feedback_is_stored_on_the_booking(world):
    with transaction() as s:
        booking = s.scalar(select(Booking).where(Booking.status == BookingStatus.CONFIRMED))
        phone = booking.contact.phone
    ran = run_action(
        ActionGiveFeedback(),
        make_tracker(phone, "Amazing trip, Rajesh was brilliant!", "give_feedback"),
    )
    assert "Thank you" in ran.text
    with transaction() as s:
        assert "Rajesh was brilliant" in s.get(Booking, booking.id).feedback


def test_catalog_answers(world):
    dates = run_action(
        ActionAskDates(),
        make_tracker(
            CUSTOMER, "DATES for annapurna", "ask_dates", entities=[entity("trek", "ANN")]
        ),
    )
    assert "FULLY BOOKED" in dates.text and "15 spots left" in dates.text
    price = run_action(
        ActionAskPrice(),
        make_tracker(CUSTOMER, "how much is EBC", "ask_price", entities=[entity("trek", "EBC")]),
    )
    assert "$2,400 per person" in price.text and "Early bird: 5%" in price.text
    incl = run_action(
        ActionAskInclusions(), make_tracker(CUSTOMER, "what's included?", "ask_inclusions")
    )
    assert "Which trek" in incl.text


def test_out_of_scope_gets_help_and_is_kept_for_staff(world):
    ran = run_action(
        ActionHelp(), make_tracker(CUSTOMER, "what's the weather in London", "out_of_scope")
    )
    assert "I can help you" in ran.text
    with transaction() as s:
        kept = s.scalar(select(TimelineEvent).where(TimelineEvent.event_type == "UNHANDLED"))
        assert kept.content["text"] == "what's the weather in London"


def test_an_action_that_fails_asks_to_be_retried_and_changes_nothing(world, monkeypatch):
    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the database went away")

    monkeypatch.setattr(bookings, "bookings_of_contact", broken)
    ran = run_action(ActionBookingStatus(), make_tracker(CUSTOMER, "my booking?", "booking_status"))
    assert ran.custom == [{"tms_retry": "RuntimeError"}] and ran.events == []
