"""A customer asks to move their booking to another date in the chat: the departures with
seats come as a list, a tapped row goes to the rep as a request (with the policy's fee); an
old or someone else's row changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from actions.booking import (
    ActionBookingStatus,
    ActionCancelBooking,
    ActionChooseOption,
    ActionRequestHold,
)
from actions.catalog import ActionAskDates
from actions.enquiry import ActionInform
from actions.small_talk import ActionHelp
from backend import clock, texts
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import RescheduleStatus
from backend.models import MoveOffer, OutboundMessage, RescheduleRequest
from backend.services import (
    bookings,
    catalog,
    contacts,
    departure_moves,
    inventory,
    payments,
    reschedules,
)
from tests.actions.conftest import CUSTOMER, make_tracker, payloads, run_action, tap

OTHER_CUSTOMER = "+61499000077"


def _booking_for(phone: str, size: int = 2) -> tuple[str, str]:
    """A confirmed booking on the first EBC departure more than 30 days out with seats:
    (reference, departure id)."""
    with transaction() as s:
        departure = next(
            d
            for d in catalog.departures_of(s, catalog.get_product(s, "EBC"))
            if (d.start_date - clock.local_today()).days > 30
            and inventory.seat_counts(s, d).available >= size
        )
        booking = bookings.hold_new_booking(
            s,
            contact=contacts.get_or_create_contact(s, phone, name="Emma"),
            departure_id=departure.id,
            party_size=size,
            actor=SYSTEM,
        )
        payments.record_payment(
            s,
            booking_id=booking.id,
            provider="test",
            event_id=f"evt-{booking.id}",
            amount_minor=booking.deposit_minor,
            currency=booking.currency,
            actor=SYSTEM,
        )
        return booking.reference, departure.id


def test_asking_to_move_lists_the_other_dates_and_a_tap_asks_the_rep(world):
    reference, departure_id = _booking_for(CUSTOMER)
    ran = run_action(
        ActionAskDates(),
        make_tracker(CUSTOMER, f"can we move {reference} to another date instead?", "ask_dates"),
    )
    assert reference in ran.texts[0]
    rows = payloads(ran)
    assert rows and all('"answer_to":"reschedule:' in p for p in rows.values())
    first_title, first_payload = next(iter(rows.items()))
    assert len(first_title) <= 24
    asked = run_action(ActionChooseOption(), tap(CUSTOMER, first_payload))
    assert "Request sent" in asked.text and reference in asked.text
    again = run_action(ActionChooseOption(), tap(CUSTOMER, first_payload))
    assert "already with your trip advisor" in again.text
    with transaction() as s:
        booking = bookings.find_booking(s, reference)
        assert booking.departure_id == departure_id  # the rep decides; nothing moved yet
        [request] = s.scalars(select(RescheduleRequest)).all()
        assert request.status == RescheduleStatus.REQUESTED and request.channel == "chat"
        alerts = s.scalar(
            select(func.count()).where(
                OutboundMessage.purpose == "rep_alert", OutboundMessage.object_id == booking.id
            )
        )
        assert alerts == 1  # told once, however many taps


def test_the_cancel_question_offers_a_move_when_asked_for(world):
    reference, _ = _booking_for(CUSTOMER)
    ran = run_action(
        ActionCancelBooking(),
        make_tracker(CUSTOMER, "can we postpone our trip instead of cancelling?", "cancel_booking"),
    )
    assert reference in ran.texts[0] and payloads(ran)


@pytest.mark.parametrize(
    ("action", "text", "intent"),
    [
        (ActionBookingStatus(), "is our booking ok? we need to change the dates", "booking_status"),
        (ActionRequestHold(), "can you put us on a later departure instead?", "request_hold"),
        (ActionInform(), "we'd rather go on another date instead", "inform"),
        (ActionHelp(), "pls reschedule us, something came up at work", "out_of_scope"),
    ],
)
def test_a_wish_to_move_gets_the_other_dates_whatever_intent_it_was_read_as(
    world, action, text, intent
):
    reference, _ = _booking_for(CUSTOMER)
    ran = run_action(action, make_tracker(CUSTOMER, text, intent))
    assert reference in ran.texts[0]
    assert payloads(ran) and all('"answer_to":"reschedule:' in p for p in payloads(ran).values())


def test_without_a_booking_those_intents_answer_as_usual(world):
    ran = run_action(
        ActionBookingStatus(),
        make_tracker(CUSTOMER, "is our booking ok? we need to change the dates", "booking_status"),
    )
    assert ran.text == texts.no_booking() and not payloads(ran)


def test_someone_elses_row_changes_nothing(world):
    _booking_for(CUSTOMER)
    ran = run_action(
        ActionAskDates(), make_tracker(CUSTOMER, "could we move to a later date?", "ask_dates")
    )
    payload = next(iter(payloads(ran).values()))
    refused = run_action(ActionChooseOption(), tap(OTHER_CUSTOMER, payload))
    assert "no longer applies" in refused.text
    with transaction() as s:
        assert s.scalar(select(func.count()).select_from(RescheduleRequest)) == 0


def test_dates_without_a_wish_to_move_are_the_usual_answer(world):
    _booking_for(CUSTOMER)
    ran = run_action(
        ActionAskDates(), make_tracker(CUSTOMER, "what dates do you have?", "ask_dates")
    )
    assert "Upcoming" in ran.texts[0] and not ran.buttons[0]


def test_a_moved_departures_offer_is_answered_by_tapping(world):
    reference, departure_id = _booking_for(CUSTOMER)
    with transaction() as s:
        booking = bookings.find_booking(s, reference)
        later = next(d for d, _free in reschedules.other_departures(s, booking))
        departure_moves.start_move(
            s, departure_id, SYSTEM, reason="Lukla flights grounded", to_departure_id=later.id
        )
        offer = s.scalar(select(MoveOffer).where(MoveOffer.booking_id == booking.id))
        sent = s.scalar(
            select(OutboundMessage)
            .where(OutboundMessage.contact_id == booking.contact_id)
            .order_by(OutboundMessage.id.desc())
            .limit(1)
        )
        buttons = {b["title"]: b["id"] for b in sent.buttons}
        offer_id, later_id = offer.id, later.id
    others = run_action(ActionChooseOption(), tap(CUSTOMER, buttons["Other dates"]))
    assert payloads(others)
    accepted = run_action(ActionChooseOption(), tap(CUSTOMER, buttons["Accept new dates"]))
    assert accepted.texts == [] or "already" not in accepted.text
    again = run_action(ActionChooseOption(), tap(CUSTOMER, buttons["Cancel"]))
    assert "already been answered" in again.text
    with transaction() as s:
        assert bookings.find_booking(s, reference).departure_id == later_id
        assert s.get(MoveOffer, offer_id).status == "ACCEPTED"


def test_the_dates_answer_says_which_departures_are_guaranteed(world):
    from backend.services import guarantees

    with transaction() as s:
        departures = [
            d
            for d in catalog.departures_of(s, catalog.get_product(s, "EBC"))
            if d.start_date > clock.local_today()
        ]
        sure, unsure = departures[0], departures[1]
        guarantees.set_minimum(s, sure, 1, SYSTEM)
        guarantees.set_minimum(s, unsure, unsure.capacity, SYSTEM)
        bookings_on = guarantees.status(s, sure).confirmed
        sure_dates = texts.date_range(sure.start_date, sure.end_date)
        unsure_dates = texts.date_range(unsure.start_date, unsure.end_date)
    ran = run_action(
        ActionAskDates(),
        make_tracker(CUSTOMER, "what dates for EBC?", "ask_dates", slots={"trek": "EBC"}),
    )
    guaranteed_line = ran.texts[0].split("Guaranteed to run:")[-1]
    assert (sure_dates in guaranteed_line) == (bookings_on >= 1)
    assert unsure_dates not in guaranteed_line
