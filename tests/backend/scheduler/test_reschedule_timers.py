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
