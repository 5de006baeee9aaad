"""Availability = capacity − confirmed − live holds − live offers, computed from the rows."""

from datetime import timedelta

import pytest

from backend.domain.actor import SYSTEM
from backend.domain.enums import BookingStatus, HoldStatus
from backend.domain.errors import NotEnoughSeats
from backend.services import bookings, inventory
from tests import factories


def test_availability_counts_confirmed_holds_and_offers(session, frozen_clock):
    dep = factories.departure(session, factories.ebc(session), capacity=16)
    factories.confirmed_booking(session, dep, 4)
    bookings.hold_new_booking(
        session, contact=factories.contact(session), departure_id=dep.id, party_size=3, actor=SYSTEM
    )
    counts = inventory.seat_counts(session, dep)
    assert (counts.capacity, counts.confirmed, counts.held, counts.offered) == (16, 4, 3, 0)
    assert counts.available == 9


def test_an_expired_hold_stops_counting_even_before_its_expiry_runs(session, frozen_clock):
    dep = factories.departure(session, factories.ebc(session), capacity=5)
    bookings.hold_new_booking(
        session, contact=factories.contact(session), departure_id=dep.id, party_size=5, actor=SYSTEM
    )
    assert inventory.seat_counts(session, dep).available == 0
    frozen_clock.advance(hours=24, seconds=1)
    assert inventory.seat_counts(session, dep).available == 5


def test_holding_more_than_is_free_is_refused_and_writes_nothing(session, frozen_clock):
    dep = factories.departure(session, factories.ebc(session), capacity=4)
    factories.confirmed_booking(session, dep, 3)
    session.commit()
    with pytest.raises(NotEnoughSeats) as info:
        bookings.hold_new_booking(
            session,
            contact=factories.contact(session),
            departure_id=dep.id,
            party_size=2,
            actor=SYSTEM,
        )
    assert str(info.value) == "Not enough seats: 2 requested, 1 available"
    session.rollback()
    assert (
        len(bookings.bookings_of_contact(session, factories.contact(session, "+61412999999"))) == 0
    )
    assert inventory.seat_counts(session, dep).confirmed == 3


def test_full_departure_says_so(session, frozen_clock):
    dep = factories.departure(session, factories.ebc(session), capacity=2)
    factories.confirmed_booking(session, dep, 2)
    with pytest.raises(NotEnoughSeats, match="the departure is full"):
        bookings.hold_new_booking(
            session,
            contact=factories.contact(session),
            departure_id=dep.id,
            party_size=1,
            actor=SYSTEM,
        )


def test_hold_lasts_24_hours_and_shows_in_the_operator_timezone(session, frozen_clock):
    from backend import texts

    dep = factories.departure(session, factories.ebc(session))
    booking = bookings.hold_new_booking(
        session, contact=factories.contact(session), departure_id=dep.id, party_size=3, actor=SYSTEM
    )
    hold = inventory.active_hold(session, booking)
    assert hold.expires_at - frozen_clock.at == timedelta(hours=24)
    assert texts.local_datetime(hold.expires_at) == "Dec 24, 2024 2:00 PM"
    assert booking.reference.startswith("EBC-2412")


def test_cancelling_a_held_booking_releases_its_seats(session, frozen_clock):
    dep = factories.departure(session, factories.ebc(session), capacity=3)
    booking = bookings.hold_new_booking(
        session, contact=factories.contact(session), departure_id=dep.id, party_size=3, actor=SYSTEM
    )
    freed = bookings.cancel_booking(session, booking, SYSTEM, reason="changed plans")
    assert freed == 3
    assert booking.status == BookingStatus.CANCELLED
    assert inventory.seat_counts(session, dep).available == 3


def test_expire_hold_is_a_no_op_until_due_and_after_payment(session, frozen_clock):
    dep = factories.departure(session, factories.ebc(session), capacity=3)
    booking = bookings.hold_new_booking(
        session, contact=factories.contact(session), departure_id=dep.id, party_size=2, actor=SYSTEM
    )
    assert bookings.expire_hold(session, booking, SYSTEM) is False
    frozen_clock.advance(hours=25)
    assert bookings.expire_hold(session, booking, SYSTEM) is True
    assert booking.status == BookingStatus.EXPIRED
    assert bookings.expire_hold(session, booking, SYSTEM) is False
    paid = factories.confirmed_booking(session, dep, 1)
    frozen_clock.advance(hours=25)
    assert bookings.expire_hold(session, paid, SYSTEM) is False
    assert paid.status == BookingStatus.CONFIRMED


def test_paid_hold_is_converted_not_counted_twice(session, frozen_clock):
    dep = factories.departure(session, factories.ebc(session), capacity=10)
    booking = factories.confirmed_booking(session, dep, 4)
    from sqlalchemy import select

    from backend.models import Hold

    hold = session.scalar(select(Hold).where(Hold.booking_id == booking.id))
    assert hold.status == HoldStatus.CONVERTED
    counts = inventory.seat_counts(session, dep)
    assert (counts.confirmed, counts.held, counts.available) == (4, 0, 6)
