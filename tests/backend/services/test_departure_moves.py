"""A whole departure moved (issue 27): every booking is offered the new dates in the chat with
its seats set aside; accepting moves it with its payments, choosing another departure or
cancelling (by the policy) too; the board says who answered what; never an oversell."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from threading import Barrier

import pytest
from sqlalchemy import select

from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import BookingStatus, MoveOfferStatus, RefundStatus
from backend.domain.errors import DepartureClosed, InventoryBusy
from backend.models import Booking, Departure, MoveOffer, OutboundMessage
from backend.services import bookings, departure_moves, inventory, refunds
from tests import factories


@pytest.fixture
def trek(session, frozen_clock):
    product = factories.ebc(session)
    march = factories.departure(session, product, date(2025, 3, 15), capacity=12)
    april = factories.departure(session, product, date(2025, 4, 12), capacity=5)
    may = factories.departure(session, product, date(2025, 5, 10), capacity=8)
    return march, april, may


def _offer(session, booking) -> MoveOffer:
    return session.scalar(select(MoveOffer).where(MoveOffer.booking_id == booking.id))


def test_every_booking_is_offered_the_new_dates_with_buttons_seats_set_aside(session, trek):
    march, april, _ = trek
    first = factories.confirmed_booking(session, march, 2)
    second = factories.confirmed_booking(session, march, 2)
    third = factories.confirmed_booking(session, march, 2)
    departure_moves.start_move(
        session, march.id, SYSTEM, reason="Lukla flights grounded", to_departure_id=april.id
    )
    offers = [_offer(session, b) for b in (first, second, third)]
    assert [o.held for o in offers] == [True, True, False]  # 5 seats: two parties of 2 fit
    assert inventory.seat_counts(session, april).available == 1
    messages = session.scalars(
        select(OutboundMessage).where(OutboundMessage.contact_id == first.contact_id)
    ).all()
    offer_message = messages[-1]
    assert "Lukla flights grounded" in offer_message.body
    assert [b["title"] for b in offer_message.buttons] == [
        "Accept new dates",
        "Other dates",
        "Cancel",
    ]
    assert first.departure_id == march.id  # nothing moves before the customer answers


def test_accepting_moves_the_booking_and_its_payments(session, trek):
    march, april, _ = trek
    booking = factories.confirmed_booking(session, march, 2)
    paid = booking.paid_minor
    departure_moves.start_move(
        session, march.id, SYSTEM, reason="landslide", to_departure_id=april.id
    )
    answer = departure_moves.answer(session, _offer(session, booking), "accept", SYSTEM)
    assert answer.outcome == "done"
    assert booking.departure_id == april.id and booking.paid_minor == paid
    assert booking.status == BookingStatus.CONFIRMED
    assert inventory.seat_counts(session, april).confirmed == 2
    assert inventory.seat_counts(session, april).offered == 0  # its set-aside seats are its own
    again = departure_moves.answer(session, _offer(session, booking), "accept", SYSTEM)
    assert again.outcome == "already"


def test_new_dates_create_the_departure(session, trek):
    march, _, _ = trek
    booking = factories.confirmed_booking(session, march, 3)
    move = departure_moves.start_move(
        session, march.id, SYSTEM, reason="road closed", start_date=date(2025, 3, 18)
    )
    target = session.get(Departure, move.to_departure_id)
    assert target.start_date == date(2025, 3, 18) and target.capacity == march.capacity
    departure_moves.answer(session, _offer(session, booking), "accept", SYSTEM)
    assert booking.departure_id == target.id


def test_a_late_answer_into_a_full_departure_changes_nothing_and_says_what_is_left(session, trek):
    march, april, may = trek
    bookings_ = [factories.confirmed_booking(session, march, 2) for _ in range(3)]
    departure_moves.start_move(
        session, march.id, SYSTEM, reason="weather", to_departure_id=april.id
    )
    for b in bookings_[:2]:
        departure_moves.answer(session, _offer(session, b), "accept", SYSTEM)
    late = bookings_[2]
    answer = departure_moves.answer(session, _offer(session, late), "accept", SYSTEM)
    assert answer.outcome == "full" and answer.available == 1
    assert late.departure_id == march.id
    assert _offer(session, late).status == MoveOfferStatus.OFFERED
    told = session.scalars(
        select(OutboundMessage.body)
        .where(OutboundMessage.contact_id == late.contact_id)
        .order_by(OutboundMessage.id)
    ).all()[-1]
    assert "filled up" in told and "another departure" in told
    moved = departure_moves.answer(
        session, _offer(session, late), "to", SYSTEM, departure_id=may.id
    )
    assert moved.outcome == "done" and late.departure_id == may.id
    assert _offer(session, late).status == MoveOfferStatus.MOVED_ELSEWHERE


def test_cancelling_refunds_or_credits_by_the_policy(session, trek):
    march, april, _ = trek
    booking = factories.confirmed_booking(session, march, 2)
    departure_moves.start_move(
        session, march.id, SYSTEM, reason="weather", to_departure_id=april.id
    )
    departure_moves.answer(session, _offer(session, booking), "cancel", SYSTEM)
    assert booking.status == BookingStatus.CANCELLED
    refund = refunds.current(session, booking)
    assert refund is not None and refund.status == RefundStatus.AWAITING_CHOICE
    assert refund.refundable_minor == booking.deposit_minor - 50_00  # the policy's 30+ days line


def test_the_board_shows_answers_and_who_to_call(session, trek, frozen_clock):
    march, april, _ = trek
    a = factories.confirmed_booking(session, march, 1)
    b = factories.confirmed_booking(session, march, 1)
    c = factories.confirmed_booking(session, march, 1)
    move = departure_moves.start_move(
        session, march.id, SYSTEM, reason="weather", to_departure_id=april.id, offer_hours=24
    )
    departure_moves.answer(session, _offer(session, a), "accept", SYSTEM)
    departure_moves.answer(session, _offer(session, b), "cancel", SYSTEM)
    board = departure_moves.board(session, move)
    assert [o.booking_id for o in board["accepted"]] == [a.id]
    assert [o.booking_id for o in board["cancelled"]] == [b.id]
    assert [o.booking_id for o in board["waiting"]] == [c.id]
    frozen_clock.advance(hours=25)
    board = departure_moves.board(session, move)
    assert [o.booking_id for o in board["to_call"]] == [c.id] and not board["waiting"]


def test_concurrent_accepts_into_fewer_seats_never_oversell(pg_db_url, frozen_clock):
    with transaction(pg_db_url) as s:
        product = factories.ebc(s)
        march = factories.departure(s, product, date(2025, 3, 15), capacity=16)
        april = factories.departure(s, product, date(2025, 4, 12), capacity=5)
        booked = [factories.confirmed_booking(s, march, 2) for _ in range(6)]
        departure_moves.start_move(s, march.id, SYSTEM, reason="weather", to_departure_id=april.id)
        offer_ids = [_offer(s, b).id for b in booked]
        april_id = april.id
    barrier = Barrier(len(offer_ids))

    def accept(offer_id: str) -> str:
        barrier.wait()
        try:
            with transaction(pg_db_url) as s:
                offer = departure_moves.get_offer(s, offer_id)
                return departure_moves.answer(s, offer, "accept", SYSTEM).outcome
        except InventoryBusy:
            return "busy"

    with ThreadPoolExecutor(max_workers=len(offer_ids)) as pool:
        results = list(pool.map(accept, reversed(offer_ids)))  # the late ones tap first
    assert results.count("done") == 2 and results.count("full") == 4
    with transaction(pg_db_url) as s:
        counts = inventory.seat_counts(s, s.get(Departure, april_id))
        assert counts.confirmed == 4 and counts.available == 1
        on_april = s.scalars(select(Booking.id).where(Booking.departure_id == april_id)).all()
        assert sorted(on_april) == sorted(b.id for b in booked[:2])  # the seats set aside
        full_told = s.scalars(
            select(OutboundMessage.body).where(OutboundMessage.body.contains("filled up"))
        ).all()
        assert len(full_told) == 4


def test_guides_and_porters_go_with_the_departure_and_are_asked_again(session, trek):
    from backend.domain.enums import AssignmentRole, AssignmentStatus, Role, TripStatus
    from backend.models import Assignment, Trip
    from backend.services import assignments, trips

    march, april, _ = trek
    factories.confirmed_booking(session, march, 2)
    factories.confirmed_booking(session, april, 1)  # already on the target
    trip = trips.ensure_trip(session, march, SYSTEM)
    guide = factories.staff(session, "Rajesh", Role.GUIDE)
    porter = factories.staff(session, "Pemba", Role.PORTER)
    accepted = assignments.offer_assignment(
        session, trip, guide, AssignmentRole.LEAD_GUIDE, 800_00, SYSTEM
    )
    assignments.respond_to_assignment(session, accepted, True, SYSTEM)
    assignments.offer_assignment(session, trip, porter, AssignmentRole.PORTER, 300_00, SYSTEM)
    departure_moves.start_move(
        session, march.id, SYSTEM, reason="weather", to_departure_id=april.id
    )
    assert trip.status == TripStatus.CANCELLED
    new_trip = session.scalar(select(Trip).where(Trip.departure_id == april.id))
    moved = session.scalars(select(Assignment).where(Assignment.trip_id == new_trip.id)).all()
    assert {(a.staff_id, a.status, a.compensation_minor) for a in moved} == {
        (guide.id, AssignmentStatus.OFFERED, 800_00),
        (porter.id, AssignmentStatus.OFFERED, 300_00),
    }
    old = session.scalars(select(Assignment).where(Assignment.trip_id == trip.id)).all()
    assert {a.status for a in old} == {AssignmentStatus.CANCELLED}
    offers_to_guide = session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.staff_id == guide.id, OutboundMessage.purpose == "assignment_offer"
        )
    ).all()
    assert len(offers_to_guide) == 2  # the first offer, then the new dates
    # The new offer names the group the trip expects: the moving party and the one there.
    new_offer = max(offers_to_guide, key=lambda m: m.id)
    assert "Group: 3 people" in new_offer.body


def _last_text(session, booking) -> str:
    return session.scalars(
        select(OutboundMessage.body)
        .where(OutboundMessage.contact_id == booking.contact_id)
        .order_by(OutboundMessage.id.desc())
    ).first()


def test_a_departure_being_moved_is_not_moved_again_until_everyone_answered(session, trek):
    march, april, may = trek
    booking = factories.confirmed_booking(session, march, 2)
    departure_moves.start_move(
        session, march.id, SYSTEM, reason="weather", to_departure_id=april.id
    )
    with pytest.raises(departure_moves.MoveRefused):
        departure_moves.start_move(
            session, march.id, SYSTEM, reason="weather again", to_departure_id=may.id
        )
    offers = session.scalars(select(MoveOffer).where(MoveOffer.booking_id == booking.id)).all()
    assert len(offers) == 1  # one offer, seats set aside once
    assert inventory.seat_counts(session, may).available == 8
    departure_moves.answer(session, offers[0], "accept", SYSTEM)
    with pytest.raises(DepartureClosed):  # moved away: it takes nobody new
        factories.confirmed_booking(session, march, 1)
    again = departure_moves.start_move(
        session, march.id, SYSTEM, reason="road", to_departure_id=may.id
    )
    assert again.to_departure_id == may.id  # all answered: it may move again


@pytest.mark.parametrize("choice", ["accept", "to", "cancel"])
def test_an_offer_to_a_booking_cancelled_meanwhile_is_closed_and_the_customer_told(
    session, trek, choice
):
    march, april, may = trek
    booking = factories.confirmed_booking(session, march, 2)
    departure_moves.start_move(
        session, march.id, SYSTEM, reason="weather", to_departure_id=april.id
    )
    bookings.cancel_booking(session, booking, SYSTEM, reason="changed plans")
    kw = {"departure_id": may.id} if choice == "to" else {}
    answer = departure_moves.answer(session, _offer(session, booking), choice, SYSTEM, **kw)
    assert answer.outcome == "closed"
    assert booking.status == BookingStatus.CANCELLED and booking.departure_id == march.id
    assert _offer(session, booking).status == MoveOfferStatus.EXPIRED
    assert inventory.seat_counts(session, april).available == 5  # its set-aside seats freed
    assert "cannot be moved in the chat any more" in _last_text(session, booking)
    again = departure_moves.answer(session, _offer(session, booking), choice, SYSTEM, **kw)
    assert again.outcome == "already"


def test_a_cancelled_booking_is_not_reminded_its_offer_is_closed(session, trek):
    march, april, _ = trek
    booking = factories.confirmed_booking(session, march, 2)
    departure_moves.start_move(
        session, march.id, SYSTEM, reason="weather", to_departure_id=april.id
    )
    bookings.cancel_booking(session, booking, SYSTEM, reason="changed plans")
    sent = session.scalars(select(OutboundMessage.id)).all()
    offer = _offer(session, booking)
    assert departure_moves.remind(session, offer, SYSTEM).startswith("closed")
    assert offer.status == MoveOfferStatus.EXPIRED
    assert session.scalars(select(OutboundMessage.id)).all() == sent  # nothing sent


def test_another_departure_must_be_able_to_take_the_booking(session, trek):
    march, april, may = trek
    left = factories.departure(session, march.product, date(2024, 12, 20), capacity=8)
    called_off = factories.departure(session, march.product, date(2025, 6, 7), capacity=8)
    called_off.guarantee_decision = "CANCELLED"
    booking = factories.confirmed_booking(session, march, 2)
    departure_moves.start_move(
        session, march.id, SYSTEM, reason="weather", to_departure_id=april.id
    )
    offer = _offer(session, booking)
    for departure in (march, left, called_off):
        answer = departure_moves.answer(session, offer, "to", SYSTEM, departure_id=departure.id)
        assert answer.outcome == "refused", departure.start_date
        assert booking.departure_id == march.id and offer.status == MoveOfferStatus.OFFERED
        assert "no longer applies" in _last_text(session, booking)
    moved = departure_moves.answer(session, offer, "to", SYSTEM, departure_id=may.id)
    assert moved.outcome == "done" and booking.departure_id == may.id
