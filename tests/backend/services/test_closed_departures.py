"""A departure operations moved away (its bookings offered other dates) or cancelled at its
guarantee takes nobody new (issue 27): no hold, no booking, no waitlist entry, no quote, no
date change onto it, no waitlist offer of its freed seats; and it is not among the dates the
customers are shown. One rule, `inventory.closed_reason`, that every path asks."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from backend.domain.actor import SYSTEM
from backend.domain.enums import BookingStatus, LeadStatus, WaitlistStatus
from backend.domain.errors import DepartureClosed
from backend.domain.wishes import parse_trip_wish
from backend.models import Lead, MoveOffer, WaitlistEntry
from backend.services import (
    bookings,
    catalog,
    contacts,
    departure_moves,
    guarantees,
    inventory,
    leads,
    recommend,
    reschedules,
    waitlist,
)
from tests import factories


@pytest.fixture
def trek(session, frozen_clock):
    product = factories.ebc(session)
    product.min_group_size = 4
    march = factories.departure(session, product, date(2025, 3, 15), capacity=4)
    april = factories.departure(session, product, date(2025, 4, 12), capacity=12)
    may = factories.departure(session, product, date(2025, 5, 10), capacity=12)
    return product, march, april, may


def _moved(session, march, april):
    factories.confirmed_booking(session, march, 2)
    departure_moves.start_move(
        session, march.id, SYSTEM, reason="weather", to_departure_id=april.id
    )


def _cancelled(session, march, april):
    factories.confirmed_booking(session, march, 2)
    guarantees.cancel(session, march, SYSTEM, reason="too few", to_departure_id=april.id)


CLOSE = {"moved": _moved, "cancelled": _cancelled}


def test_an_open_departure_is_open(session, trek):
    _product, march, _april, _may = trek
    assert inventory.closed_reason(session, march) is None
    inventory.ensure_open(session, march)
    guarantees.run_anyway(session, march, SYSTEM)  # running it anyway keeps it open
    assert inventory.is_open(session, march)


@pytest.mark.parametrize("why", ["moved", "cancelled"])
def test_no_new_hold_booking_or_waitlist_entry(session, trek, why):
    _product, march, april, _may = trek
    CLOSE[why](session, march, april)
    assert inventory.closed_reason(session, march) == why
    customer = factories.contact(session)
    with pytest.raises(DepartureClosed) as refused:
        bookings.hold_new_booking(
            session, contact=customer, departure_id=march.id, party_size=1, actor=SYSTEM
        )
    assert refused.value.why == why and why in str(refused.value)
    with pytest.raises(DepartureClosed):
        bookings.waitlist_new_booking(
            session, contact=customer, departure=march, party_size=1, actor=SYSTEM
        )
    assert bookings.bookings_of_contact(session, customer) == []
    # ... nor from the chat's paths, which write nothing first (no lead left behind).
    conversation, _ = contacts.get_or_open_conversation(session, customer)
    for place in (leads.hold_for_enquiry, leads.waitlist_for_enquiry):
        with pytest.raises(DepartureClosed):
            place(
                session,
                contact=customer,
                conversation=conversation,
                departure=march,
                party_size=1,
                enquiry_text="March 15 please",
                actor=SYSTEM,
            )
    assert session.scalars(select(Lead).where(Lead.contact_id == customer.id)).all() == []
    # The bookings it has keep their seats and payments until they answer the move.
    assert inventory.seat_counts(session, march).confirmed == 2


@pytest.mark.parametrize("why", ["moved", "cancelled"])
def test_not_listed_to_customers_nor_a_target(session, trek, why):
    product, march, april, may = trek
    today = date(2025, 1, 10)
    assert march in catalog.open_departures_of(session, product, from_date=today)
    CLOSE[why](session, march, april)
    assert catalog.open_departures_of(session, product, from_date=today) == [april, may]
    assert catalog.departures_of(session, product, from_date=today)[0] == march  # staff see it
    (facts,) = catalog.facts_of(session, [product], today)
    assert 3 not in facts.months
    # Another booking of the trek cannot move onto it.
    other = factories.confirmed_booking(session, may, 1)
    assert march not in [d for d, _free in reschedules.other_departures(session, other)]
    with pytest.raises(reschedules.CannotReschedule, match=why):
        reschedules.check_target(session, other, march.id)
    # Nor can another departure be moved onto it.
    with pytest.raises(departure_moves.MoveRefused, match=why):
        departure_moves.start_move(session, may.id, SYSTEM, reason="road", to_departure_id=march.id)


def test_a_recommendation_never_names_it(session, trek):
    _product, march, april, may = trek
    wish = parse_trip_wish("a trek in spring for 2", date(2025, 1, 10))
    (before,), _ = recommend.recommend(session, wish, date(2025, 1, 10))
    assert [d for d, _free in before.departures] == [march, april, may]
    _moved(session, march, april)
    (after,), _ = recommend.recommend(session, wish, date(2025, 1, 10))
    assert [d for d, _free in after.departures] == [april, may]


def test_no_quote_on_it(session, trek):
    product, march, april, _may = trek
    customer = factories.contact(session)
    conversation, _ = contacts.get_or_open_conversation(session, customer)
    lead = leads.open_enquiry(
        session,
        contact=customer,
        conversation=conversation,
        product=product,
        party_size=2,
        travel_date_text="March",
        enquiry_text="EBC in March",
        actor=SYSTEM,
    )
    _cancelled(session, march, april)
    with pytest.raises(DepartureClosed):
        leads.quote_lead(session, lead, march, 2, SYSTEM)
    assert lead.status == LeadStatus.NEW
    leads.quote_lead(session, lead, april, 2, SYSTEM)  # another date is quoted as usual


def test_its_freed_seats_go_to_nobody_and_a_live_waitlist_offer_cannot_be_taken(session, trek):
    _product, march, april, _may = trek
    first = factories.confirmed_booking(session, march, 2)
    factories.confirmed_booking(session, march, 2)  # full now
    waiting = [
        bookings.waitlist_new_booking(
            session, contact=factories.contact(session), departure=march, party_size=2, actor=SYSTEM
        )[0]
        for _ in range(2)
    ]
    bookings.cancel_booking(session, first, SYSTEM, reason="changed plans")
    # The seats went to one party in line (both joined at the same moment).
    (offered,) = [b for b in waiting if b.status == BookingStatus.OFFERED]
    (still,) = [b for b in waiting if b is not offered]
    departure_moves.start_move(
        session, march.id, SYSTEM, reason="weather", to_departure_id=april.id
    )
    with pytest.raises(DepartureClosed):
        waitlist.accept_offer(session, offered, SYSTEM)
    assert (
        offered.status == BookingStatus.OFFERED and inventory.active_hold(session, offered) is None
    )
    # A booking that leaves the moved departure frees seats nobody is offered.
    offer = session.scalar(
        select(MoveOffer).where(MoveOffer.booking_id != offered.id, MoveOffer.seats == 2)
    )
    departure_moves.answer(session, offer, "cancel", SYSTEM)
    assert waitlist.offer_freed_seats(session, march.id, SYSTEM) == []
    assert (
        session.scalar(select(WaitlistEntry.status).where(WaitlistEntry.booking_id == still.id))
        == WaitlistStatus.WAITING
    )
