"""Timers after a booking moves to another date (issue 27) are planned from the new dates,
never the old ones; a notice sent for the old dates does not stop the new one."""

from __future__ import annotations

from datetime import date, timedelta

from backend.config import get_settings
from backend.domain.actor import SYSTEM
from backend.domain.enums import ObjectType, TimerKind
from backend.scheduler.kinds import local_moment, timer_specs
from backend.services import reschedules, timers
from tests import factories


def _planned(session, booking_id: str) -> dict[str, object]:
    return {
        str(spec.kind): moment
        for spec in timer_specs()
        if spec.subject == ObjectType.BOOKING
        for subject, moment in spec.wanted(session, [booking_id])
        if subject == booking_id
    }


def test_dated_timers_follow_the_booking_to_its_new_departure(session, frozen_clock):
    settings = get_settings()
    product = factories.ebc(session)
    march = factories.departure(session, product, date(2025, 3, 15))
    may = factories.departure(session, product, date(2025, 5, 10))
    booking = factories.confirmed_booking(session, march, 2)
    before = _planned(session, booking.id)
    old_pre = local_moment(
        date(2025, 3, 15) - timedelta(days=settings.pre_departure_days),
        settings.notice_local_time,
        settings,
    )
    assert before[TimerKind.PRE_DEPARTURE] == old_pre
    timers.record_notice(session, TimerKind.PRE_DEPARTURE, booking.id)  # sent for March
    request, _ = reschedules.request_reschedule(session, booking, may.id, SYSTEM)
    reschedules.approve(session, request, SYSTEM)
    after = _planned(session, booking.id)
    assert after[TimerKind.PRE_DEPARTURE] == local_moment(
        date(2025, 5, 10) - timedelta(days=settings.pre_departure_days),
        settings.notice_local_time,
        settings,
    )
    assert old_pre not in after.values()
    for kind, moment in after.items():
        if kind in before and before[kind] != moment:
            assert moment > before[kind], kind  # later dates, later notices


def test_an_unanswered_move_offer_is_reminded_then_operations_call(session, frozen_clock):
    from sqlalchemy import select

    from backend.domain.enums import MoveOfferStatus, Role
    from backend.models import MoveOffer, OutboundMessage
    from backend.services import departure_moves

    factories.staff(session, "Olga", Role.OPS)
    product = factories.ebc(session)
    march = factories.departure(session, product, date(2025, 3, 15))
    april = factories.departure(session, product, date(2025, 4, 12))
    quiet = factories.confirmed_booking(session, march, 2)
    answered = factories.confirmed_booking(session, march, 1)
    move = departure_moves.start_move(
        session, march.id, SYSTEM, reason="weather", to_departure_id=april.id, offer_hours=72
    )
    offers = {
        o.booking_id: o
        for o in session.scalars(select(MoveOffer).where(MoveOffer.move_id == move.id))
    }
    departure_moves.answer(session, offers[answered.id], "accept", SYSTEM)
    specs = {str(spec.kind): spec for spec in timer_specs()}
    reminder = dict(specs[TimerKind.MOVE_OFFER_REMINDER].wanted(session, None))
    unanswered = dict(specs[TimerKind.MOVE_OFFER_UNANSWERED].wanted(session, None))
    quiet_offer = offers[quiet.id]
    assert set(reminder) == set(unanswered) == {quiet_offer.id}  # the answered one is done
    assert reminder[quiet_offer.id] == quiet_offer.expires_at - timedelta(hours=24)
    assert unanswered[quiet_offer.id] == quiet_offer.expires_at
    assert specs[TimerKind.MOVE_OFFER_REMINDER].handle(session, quiet_offer.id) == "reminded"
    assert "already" in specs[TimerKind.MOVE_OFFER_REMINDER].handle(session, quiet_offer.id)
    frozen_clock.advance(hours=73)
    handle = specs[TimerKind.MOVE_OFFER_UNANSWERED].handle
    assert handle(session, quiet_offer.id) == "operations alerted"
    alert = session.scalars(
        select(OutboundMessage.body).where(OutboundMessage.purpose == "ops_alert")
    ).all()
    assert any(quiet.reference in body and "call them" in body for body in alert)
    assert quiet_offer.status == MoveOfferStatus.OFFERED  # a late answer still counts seats
    assert [o.booking_id for o in departure_moves.board(session, move)["to_call"]] == [quiet.id]
