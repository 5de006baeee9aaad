"""Workflow 2: FIFO waitlist, first party that fits, offers that expire or are declined."""

from datetime import timedelta

import pytest

from backend.domain.actor import SYSTEM
from backend.domain.enums import BookingStatus, WaitlistStatus
from backend.domain.errors import DomainError
from backend.services import bookings, inventory, outbox, waitlist
from tests import factories


@pytest.fixture
def full_departure(session, frozen_clock):
    product = factories.ebc(session)
    dep = factories.departure(session, product, capacity=6)
    confirmed = [
        factories.confirmed_booking(session, dep, 3),
        factories.confirmed_booking(session, dep, 1),
        factories.confirmed_booking(session, dep, 2),
    ]
    return dep, confirmed


def _join(session, dep, size):
    return bookings.waitlist_new_booking(
        session, contact=factories.contact(session), departure=dep, party_size=size, actor=SYSTEM
    )


def test_positions_are_first_come_first_served(session, full_departure, frozen_clock):
    dep, _ = full_departure
    joined = []
    for size in (2, 2, 1):
        joined.append(_join(session, dep, size))
        frozen_clock.advance(minutes=1)
    assert [waitlist.position(session, e) for _, e in joined] == [1, 2, 3]
    assert inventory.seat_counts(session, dep).waitlisted == 3


def test_a_freed_seat_goes_to_the_first_party_that_fits(session, full_departure, frozen_clock):
    dep, confirmed = full_departure
    joined = []
    for size in (2, 2, 1):
        joined.append(_join(session, dep, size))
        frozen_clock.advance(minutes=1)
    (_, e1), (_, e2), (b3, e3) = joined
    bookings.cancel_booking(session, confirmed[1], SYSTEM)  # frees 1 seat
    assert (e1.status, e2.status, e3.status) == (
        WaitlistStatus.WAITING,
        WaitlistStatus.WAITING,
        WaitlistStatus.OFFERED,
    )
    assert b3.status == BookingStatus.OFFERED
    assert e3.offer_expires_at - frozen_clock.at == timedelta(hours=2)
    offer = outbox.messages_to(session, b3.contact.phone)[-1]
    assert offer.body.startswith("🎉 SPOT AVAILABLE!") and "Hold expires: 2 hours" in offer.body
    counts = inventory.seat_counts(session, dep)
    assert (counts.offered, counts.available) == (1, 0)


def test_accepting_an_offer_holds_the_seat_for_thirty_minutes(
    session, full_departure, frozen_clock
):
    dep, confirmed = full_departure
    booking, entry = _join(session, dep, 1)
    bookings.cancel_booking(session, confirmed[1], SYSTEM)
    frozen_clock.advance(minutes=10)
    waitlist.accept_offer(session, booking, SYSTEM)
    assert booking.status == BookingStatus.HELD and entry.status == WaitlistStatus.ACCEPTED
    hold = inventory.active_hold(session, booking)
    assert hold.expires_at - frozen_clock.at == timedelta(minutes=30)
    counts = inventory.seat_counts(session, dep)
    assert (counts.held, counts.offered, counts.available) == (1, 0, 0)


def test_an_expired_offer_passes_to_the_next_in_line_and_is_closed(
    session, full_departure, frozen_clock
):
    dep, confirmed = full_departure
    first, first_entry = _join(session, dep, 1)
    frozen_clock.advance(minutes=1)
    _second, second_entry = _join(session, dep, 1)
    bookings.cancel_booking(session, confirmed[1], SYSTEM)
    assert first_entry.status == WaitlistStatus.OFFERED
    assert waitlist.expire_offer(session, first_entry, SYSTEM) is False  # not due yet
    frozen_clock.advance(hours=2, seconds=1)
    assert waitlist.expire_offer(session, first_entry, SYSTEM) is True
    assert first_entry.status == WaitlistStatus.EXPIRED and first.status == BookingStatus.EXPIRED
    assert second_entry.status == WaitlistStatus.OFFERED
    with pytest.raises(DomainError, match="no spot on offer"):
        waitlist.accept_offer(session, first, SYSTEM)


def test_declining_keeps_the_place_and_offers_the_next(session, full_departure, frozen_clock):
    dep, confirmed = full_departure
    first, first_entry = _join(session, dep, 1)
    frozen_clock.advance(minutes=1)
    _second, second_entry = _join(session, dep, 1)
    bookings.cancel_booking(session, confirmed[1], SYSTEM)
    waitlist.decline_offer(session, first, SYSTEM)
    assert first_entry.status == WaitlistStatus.WAITING and first.status == BookingStatus.WAITLISTED
    assert second_entry.status == WaitlistStatus.OFFERED
    assert waitlist.position(session, first_entry) == 1


def test_accepting_after_the_window_is_refused(session, full_departure, frozen_clock):
    dep, confirmed = full_departure
    booking, _ = _join(session, dep, 1)
    bookings.cancel_booking(session, confirmed[1], SYSTEM)
    frozen_clock.advance(hours=3)
    with pytest.raises(DomainError, match="expired"):
        waitlist.accept_offer(session, booking, SYSTEM)
    assert booking.status == BookingStatus.OFFERED


def test_cancelling_an_offered_booking_passes_the_seats_on(session, full_departure, frozen_clock):
    dep, confirmed = full_departure
    first, _ = _join(session, dep, 1)
    frozen_clock.advance(minutes=1)
    _second, second_entry = _join(session, dep, 1)
    bookings.cancel_booking(session, confirmed[1], SYSTEM)
    bookings.cancel_booking(session, first, SYSTEM)
    assert second_entry.status == WaitlistStatus.OFFERED
