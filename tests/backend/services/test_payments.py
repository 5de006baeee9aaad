"""Payments apply exactly once; wrong or late money is flagged, never silently confirmed."""

from backend.domain.actor import SYSTEM
from backend.domain.enums import BookingStatus, PaymentStatus
from backend.services import bookings, payments
from tests import factories


def _held(session, capacity=16, size=3):
    dep = factories.departure(session, factories.ebc(session), capacity=capacity)
    booking = bookings.hold_new_booking(
        session,
        contact=factories.contact(session),
        departure_id=dep.id,
        party_size=size,
        actor=SYSTEM,
    )
    return dep, booking


def _pay(session, booking, amount, event="evt-1"):
    return payments.record_payment(
        session,
        booking_id=booking.id,
        provider="test",
        event_id=event,
        amount_minor=amount,
        currency="USD",
        actor=SYSTEM,
    )


def test_deposit_confirms_the_booking(session, frozen_clock):
    _, booking = _held(session)
    outcome = _pay(session, booking, 2_052_00)
    assert outcome.confirmed_now and not outcome.flagged
    assert (
        booking.status == BookingStatus.CONFIRMED
        and booking.payment_status == PaymentStatus.DEPOSIT_PAID
    )
    assert booking.balance_minor == 4_788_00


def test_the_same_event_twice_is_applied_once(session, frozen_clock):
    _, booking = _held(session)
    _pay(session, booking, 2_052_00)
    again = _pay(session, booking, 2_052_00)
    assert again.duplicate and not again.confirmed_now
    assert booking.paid_minor == 2_052_00


def test_balance_after_deposit_makes_it_fully_paid(session, frozen_clock):
    _, booking = _held(session)
    _pay(session, booking, 2_052_00, "evt-dep")
    _pay(session, booking, 4_788_00, "evt-bal")
    assert booking.payment_status == PaymentStatus.FULL_PAID and booking.balance_minor == 0


def test_full_amount_at_once(session, frozen_clock):
    _, booking = _held(session)
    _pay(session, booking, 6_840_00)
    assert booking.payment_status == PaymentStatus.FULL_PAID


def test_a_wrong_amount_is_flagged_not_confirmed(session, frozen_clock):
    _, booking = _held(session)
    outcome = _pay(session, booking, 100_00)
    assert outcome.flagged and booking.status == BookingStatus.HELD
    assert booking.attention_reason


def test_late_payment_confirms_when_seats_are_still_free(session, frozen_clock):
    _, booking = _held(session)
    frozen_clock.advance(hours=30)
    bookings.expire_hold(session, booking, SYSTEM)
    outcome = _pay(session, booking, 2_052_00)
    assert outcome.confirmed_now and booking.status == BookingStatus.CONFIRMED


def test_late_payment_without_seats_is_flagged_for_refund(session, frozen_clock):
    dep, booking = _held(session, capacity=3)
    frozen_clock.advance(hours=30)  # hold lapsed; the expiry job has not run yet
    factories.confirmed_booking(session, dep, 3)
    outcome = _pay(session, booking, 2_052_00)
    assert outcome.flagged and "refund" in outcome.flagged
    assert booking.status == BookingStatus.EXPIRED
