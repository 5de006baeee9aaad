"""The e-mail address and the trip's rating, given in the chat."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from actions.answers import ActionDeny
from actions.booking import ActionChooseOption, ActionGiveFeedback, ActionRequestHold
from actions.email_address import ActionSaveEmail
from backend.db import transaction
from backend.domain import choices
from backend.domain.actor import SYSTEM
from backend.models import Booking, Contact, OutboundEmail, TimelineEvent, Trip
from backend.services import attendance, payments, staff, trips
from tests.actions.conftest import CUSTOMER, entity, make_tracker, run_action
from tests.actions.test_booking_and_answers import _enquire, _quote


def _held() -> Booking:
    lead_id = _enquire()
    _quote(lead_id)
    ran = run_action(
        ActionRequestHold(), make_tracker(CUSTOMER, "Please hold the spots", "request_hold")
    )
    assert ran.texts[0].startswith("Perfect! I've reserved 3 spots")
    assert "What e-mail address should we send" in ran.texts[1]
    with transaction() as s:
        contact = s.scalar(select(Contact).where(Contact.phone == CUSTOMER))
        # The question is named as a button would name it: the contact's e-mail question.
        assert ran.slot("pending_question") == choices.answer_to(choices.EMAIL, contact.id)
        booking = s.scalar(select(Booking).where(Booking.lead_id == lead_id))
        s.expunge(booking)
        return booking


def _email_question() -> str:
    with transaction() as s:
        contact = s.scalar(select(Contact).where(Contact.phone == CUSTOMER))
        return choices.answer_to(choices.EMAIL, contact.id)


def test_a_hold_asks_for_the_email_and_the_address_is_kept(world):
    _held()
    ran = run_action(
        ActionSaveEmail(),
        make_tracker(
            CUSTOMER,
            "sure, it's Emma.Wilson@GMAIL.com",
            "give_email",
            entities=[entity("email", "Emma.Wilson@gmail.com")],
            slots={"pending_question": _email_question()},
        ),
    )
    assert "Emma.Wilson@gmail.com" in ran.text and "We'll e-mail your confirmation" in ran.text
    assert ran.slot("pending_question") is None
    with transaction() as s:
        contact = s.scalar(select(Contact).where(Contact.phone == CUSTOMER))
        assert contact.email == "Emma.Wilson@gmail.com"
        assert s.scalar(
            select(TimelineEvent).where(TimelineEvent.action == "tms.contact.email_set")
        )
        assert s.scalar(select(OutboundEmail)) is None  # nothing confirmed yet


@pytest.mark.parametrize("asked", ["now", "before the slot named the contact"])
def test_skip_keeps_everything_on_whatsapp(world, asked):
    _held()
    pending = _email_question() if asked == "now" else "email"
    ran = run_action(
        ActionDeny(), make_tracker(CUSTOMER, "skip", "deny", slots={"pending_question": pending})
    )
    assert "everything stays here on WhatsApp" in ran.text
    assert ran.slot("pending_question") is None
    with transaction() as s:
        assert s.scalar(select(Contact).where(Contact.phone == CUSTOMER)).email is None


def test_an_address_that_is_not_one_is_asked_again(world):
    ran = run_action(ActionSaveEmail(), make_tracker(CUSTOMER, "emma at gmail", "give_email"))
    assert "doesn't look like an e-mail address" in ran.text


def test_an_address_given_after_paying_sends_the_missing_confirmation(world):
    booking = _held()
    with transaction() as s:
        paid = s.get(Booking, booking.id)
        payments.record_payment(
            s,
            booking_id=paid.id,
            provider="test",
            event_id="evt-1",
            amount_minor=paid.deposit_minor,
            currency="USD",
            actor=SYSTEM,
        )
    ran = run_action(
        ActionSaveEmail(),
        make_tracker(
            CUSTOMER,
            "emma@example.org",
            "give_email",
            entities=[entity("email", "emma@example.org")],
        ),
    )
    assert f"confirmation for {booking.reference}" in ran.text
    with transaction() as s:
        [mail] = s.scalars(select(OutboundEmail)).all()
        assert (mail.recipient, mail.purpose) == ("emma@example.org", "booking_confirmation")
    # Giving it again sends nothing twice.
    again = run_action(
        ActionSaveEmail(),
        make_tracker(CUSTOMER, "emma@example.org", "give_email"),
    )
    assert "We'll e-mail" in again.text
    with transaction() as s:
        assert len(s.scalars(select(OutboundEmail)).all()) == 1


def _finished_pokhara_guest() -> str:
    with transaction() as s:
        trip = s.scalar(select(Trip).where(Trip.status == "IN_PROGRESS"))
        guest = trips.guests_of(s, trip)[0].contact.phone
        attendance.check_out(s, trip, staff.by_phone(s, "+9779801000004"), "All safe", SYSTEM)
        return guest


def test_a_bare_number_after_the_trip_rates_it(world):
    guest = _finished_pokhara_guest()
    ran = run_action(ActionChooseOption(), make_tracker(guest, "5", "choose_option"))
    assert "⭐⭐⭐⭐⭐" in ran.text and "glad you enjoyed it" in ran.text
    with transaction() as s:
        rated = s.scalar(select(Booking).where(Booking.feedback_rating.is_not(None)))
        assert rated.feedback_rating == 5 and rated.contact.phone == guest
    # The next number is not a rating any more (nothing awaits one).
    again = run_action(ActionChooseOption(), make_tracker(guest, "3", "choose_option"))
    assert "How can I help?" in again.text


def test_a_rating_with_words_keeps_both(world):
    guest = _finished_pokhara_guest()
    ran = run_action(
        ActionGiveFeedback(),
        make_tracker(guest, "2 stars, the bus was very late", "give_feedback"),
    )
    assert "⭐⭐" in ran.text and "look into it" in ran.text
    with transaction() as s:
        rated = s.scalar(select(Booking).where(Booking.feedback_rating.is_not(None)))
        assert rated.feedback_rating == 2 and "bus was very late" in rated.feedback


def test_a_number_before_any_trip_ended_is_no_rating(world):
    with transaction() as s:
        trip = s.scalar(select(Trip).where(Trip.status == "IN_PROGRESS"))
        guest = trips.guests_of(s, trip)[0].contact.phone
    ran = run_action(ActionChooseOption(), make_tracker(guest, "5", "choose_option"))
    assert "How can I help?" in ran.text
    with transaction() as s:
        assert s.scalar(select(Booking).where(Booking.feedback_rating.is_not(None))) is None
