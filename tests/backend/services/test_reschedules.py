"""One booking to another date (issue 27): asked in the chat, decided by the rep; the seats
move in one transaction, the fee the policy sets is added, the customer is told."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from backend.domain.actor import SYSTEM, Actor
from backend.domain.enums import (
    BookingStatus,
    PaymentStatus,
    RescheduleStatus,
    Role,
    Source,
    TimerKind,
    WaitlistStatus,
)
from backend.domain.errors import NotEnoughSeats
from backend.models import OutboundMessage, SentNotice, TimelineEvent
from backend.services import bookings, inventory, reschedules, timers
from tests import factories


@pytest.fixture
def trek(session, frozen_clock):
    product = factories.ebc(session)
    march = factories.departure(session, product, date(2025, 3, 15), capacity=8)
    april = factories.departure(session, product, date(2025, 4, 12), capacity=6)
    rep = factories.staff(session, "Sarah", Role.SALES)
    return product, march, april, rep


def _rep_actor(member) -> Actor:
    return Actor(source=Source.ADMIN, staff_id=member.id)


def _texts_to(session, booking) -> list[str]:
    return list(
        session.scalars(
            select(OutboundMessage.body)
            .where(OutboundMessage.contact_id == booking.contact_id)
            .order_by(OutboundMessage.id)
        )
    )


def test_other_departures_list_only_those_with_seats_for_the_party(session, trek):
    product, march, april, _ = trek
    may = factories.departure(session, product, date(2025, 5, 10), capacity=3)
    booking = factories.confirmed_booking(session, march, 4)
    listed = reschedules.other_departures(session, booking)
    assert [(d.id, free) for d, free in listed] == [(april.id, 6)]
    assert may.id not in [d.id for d, _ in listed]


def test_the_fee_is_the_policy_admin_fee_for_the_day_asked(session, trek, frozen_clock):
    _, march, _, _ = trek
    booking = factories.confirmed_booking(session, march, 2)
    assert reschedules.change_fee(session, booking) == 50_00  # 30+ days before: the admin fee
    assert reschedules.change_fee(session, booking, on=date(2025, 3, 1)) == 0


def test_a_request_is_on_the_timeline_and_alerts_the_rep_seats_stay(session, trek):
    _, march, april, _ = trek
    booking = factories.confirmed_booking(session, march, 2)
    request, new = reschedules.request_reschedule(session, booking, april.id, SYSTEM)
    assert new and request.status == RescheduleStatus.REQUESTED
    assert request.fee_minor == 50_00
    again, new_again = reschedules.request_reschedule(session, booking, april.id, SYSTEM)
    assert again.id == request.id and not new_again
    assert booking.departure_id == march.id
    assert inventory.seat_counts(session, april).available == 6
    actions = set(session.scalars(select(TimelineEvent.action)))
    assert {"tms.reschedule.created", "tms.booking.reschedule_requested"} <= actions
    alerts = session.scalars(
        select(OutboundMessage.body).where(OutboundMessage.purpose == "rep_alert")
    ).all()
    assert any(booking.reference in body for body in alerts)


def test_approving_moves_seats_adds_the_fee_and_tells_the_customer(session, trek):
    _, march, april, rep = trek
    booking = factories.confirmed_booking(session, march, 2)
    total, paid = booking.total_minor, booking.paid_minor
    request, _ = reschedules.request_reschedule(session, booking, april.id, SYSTEM)
    reschedules.approve(session, request, _rep_actor(rep))
    assert request.status == RescheduleStatus.APPROVED and request.decided_by == rep.id
    assert booking.departure_id == april.id
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.total_minor == total + 50_00
    assert booking.paid_minor == paid  # the payments stay with the booking
    assert booking.balance_due_date == date(2025, 4, 12) - timedelta(days=15)
    assert inventory.seat_counts(session, march).confirmed == 0
    assert inventory.seat_counts(session, april).confirmed == 2
    told = _texts_to(session, booking)[-1]
    assert "✅ Done!" in told and booking.reference in told and "$50" in told
    actions = set(session.scalars(select(TimelineEvent.action)))
    assert {
        "tms.booking.moved",
        "tms.departure.booking_moved_out",
        "tms.departure.booking_moved_in",
        "tms.reschedule.status.approved",
    } <= actions


def test_a_held_booking_moves_its_hold(session, trek):
    _, march, april, rep = trek
    booking = bookings.hold_new_booking(
        session,
        contact=factories.contact(session),
        departure_id=march.id,
        party_size=3,
        actor=SYSTEM,
    )
    request, _ = reschedules.request_reschedule(session, booking, april.id, SYSTEM)
    reschedules.approve(session, request, _rep_actor(rep))
    assert inventory.seat_counts(session, march).held == 0
    assert inventory.seat_counts(session, april).held == 3


def test_approval_rechecks_seats_under_the_lock_and_changes_nothing_when_full(session, trek):
    _, march, april, rep = trek
    booking = factories.confirmed_booking(session, march, 4)
    request, _ = reschedules.request_reschedule(session, booking, april.id, SYSTEM)
    factories.confirmed_booking(session, april, 3)  # someone took April's seats meanwhile
    with pytest.raises(NotEnoughSeats):
        reschedules.approve(session, request, _rep_actor(rep))
    assert booking.departure_id == march.id
    assert request.status == RescheduleStatus.REQUESTED


def test_a_declined_request_keeps_the_dates_and_tells_the_customer_why(session, trek):
    _, march, april, rep = trek
    booking = factories.confirmed_booking(session, march, 2)
    request, _ = reschedules.request_reschedule(session, booking, april.id, SYSTEM)
    reschedules.decline(session, request, _rep_actor(rep), reason="the April group is private")
    assert request.status == RescheduleStatus.DECLINED
    assert booking.departure_id == march.id
    assert "the April group is private" in _texts_to(session, booking)[-1]
    with pytest.raises(reschedules.CannotReschedule):
        reschedules.approve(session, request, _rep_actor(rep))


def test_asking_for_another_date_replaces_the_open_request(session, trek):
    product, march, april, _ = trek
    may = factories.departure(session, product, date(2025, 5, 10), capacity=6)
    booking = factories.confirmed_booking(session, march, 2)
    first, _ = reschedules.request_reschedule(session, booking, april.id, SYSTEM)
    second, _ = reschedules.request_reschedule(session, booking, may.id, SYSTEM)
    assert first.status == RescheduleStatus.WITHDRAWN
    assert reschedules.open_request(session, booking).id == second.id


def test_freed_seats_go_to_the_old_departures_waitlist(session, trek):
    _, march, april, rep = trek
    booking = factories.confirmed_booking(session, march, 4)
    factories.confirmed_booking(session, march, 4)
    _waiting, entry = bookings.waitlist_new_booking(
        session, contact=factories.contact(session), departure=march, party_size=2, actor=SYSTEM
    )
    reschedules.reschedule_by_staff(session, booking, april.id, _rep_actor(rep))
    assert entry.status == WaitlistStatus.OFFERED


def test_a_fee_on_a_paid_in_full_booking_opens_the_balance_again(session, trek):
    _, march, april, rep = trek
    booking = factories.confirmed_booking(session, march, 1)
    from backend.services import payments

    payments.record_payment(
        session,
        booking_id=booking.id,
        provider="test",
        event_id="evt-rest",
        amount_minor=booking.balance_minor,
        currency=booking.currency,
        actor=SYSTEM,
    )
    assert booking.payment_status == PaymentStatus.FULL_PAID
    reschedules.reschedule_by_staff(session, booking, april.id, _rep_actor(rep))
    assert booking.payment_status == PaymentStatus.DEPOSIT_PAID
    assert booking.balance_minor == 50_00


def test_notices_sent_for_the_old_dates_are_planned_again_for_the_new(session, trek):
    _, march, april, rep = trek
    booking = factories.confirmed_booking(session, march, 2)
    assert timers.record_notice(session, TimerKind.PRE_DEPARTURE, booking.id)
    assert timers.record_notice(session, "balance-reminder-7d", booking.id)
    assert timers.record_notice(session, TimerKind.FEEDBACK_REQUEST, booking.id)
    reschedules.reschedule_by_staff(session, booking, april.id, _rep_actor(rep))
    kinds = set(session.scalars(select(SentNotice.kind).where(SentNotice.subject_id == booking.id)))
    assert kinds == {str(TimerKind.FEEDBACK_REQUEST)}


def test_a_cancelled_booking_or_another_trek_cannot_move(session, trek):
    _, march, april, _ = trek
    booking = factories.confirmed_booking(session, march, 2)
    with pytest.raises(reschedules.CannotReschedule):
        reschedules.request_reschedule(session, booking, march.id, SYSTEM)
    bookings.cancel_booking(session, booking, SYSTEM)
    with pytest.raises(reschedules.CannotReschedule):
        reschedules.request_reschedule(session, booking, april.id, SYSTEM)


def test_a_departure_operations_cancelled_takes_no_booking(session, trek):
    product, march, _, _ = trek
    called_off = factories.departure(session, product, date(2025, 5, 10), capacity=8)
    called_off.guarantee_decision = "CANCELLED"
    booking = factories.confirmed_booking(session, march, 2)
    with pytest.raises(reschedules.CannotReschedule):
        reschedules.request_reschedule(session, booking, called_off.id, SYSTEM)


def test_staff_moving_a_booking_lock_both_departures_before_its_open_request(
    session, trek, monkeypatch
):
    """`approve` locks the departures before the request: so must the staff move that
    withdraws the open request first, or the two deadlock."""
    product, march, april, _ = trek
    may = factories.departure(session, product, date(2025, 5, 10), capacity=8)
    booking = factories.confirmed_booking(session, march, 2)
    reschedules.request_reschedule(session, booking, april.id, SYSTEM)
    locked: list[str] = []
    lock_departure, lock_for_change = inventory.lock_departure, reschedules.lock_for_change

    def departure_locked(s, departure_id):
        locked.append(departure_id)
        return lock_departure(s, departure_id)

    def request_locked(s, obj, machine):
        locked.append(f"request {obj.to_departure_id}")
        return lock_for_change(s, obj, machine)

    monkeypatch.setattr(inventory, "lock_departure", departure_locked)
    monkeypatch.setattr(reschedules, "lock_for_change", request_locked)
    reschedules.reschedule_by_staff(session, booking, may.id, SYSTEM)
    assert locked[:3] == [*sorted((march.id, may.id)), f"request {april.id}"]
    assert booking.departure_id == may.id
