"""A trip under way shifted by contingency days (issue 27): its end moves, the guests and the
staff are told, the checkout and feedback timers follow the new end, the payroll pays the
extra days at the agreed day rate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend import clock
from backend.domain.actor import SYSTEM
from backend.domain.enums import AssignmentRole, ObjectType, Role, TimerKind
from backend.domain.errors import DomainError
from backend.models import OutboundMessage, PayrollEntry, TimelineEvent
from backend.scheduler.kinds import timer_specs
from backend.services import assignments, attendance, trip_shifts, trips
from tests import factories


@pytest.fixture
def under_way(session, frozen_clock):
    product = factories.ebc(session)  # 14 days
    departure = factories.departure(session, product, clock.local_today() - timedelta(days=3))
    guest = factories.confirmed_booking(session, departure, 2)
    trip = trips.ensure_trip(session, departure, SYSTEM)
    guide = factories.staff(session, "Rajesh", Role.GUIDE)
    offer = assignments.offer_assignment(
        session, trip, guide, AssignmentRole.LEAD_GUIDE, 1_400_00, SYSTEM
    )
    assignments.respond_to_assignment(session, offer, True, SYSTEM)
    attendance.check_in(session, trip, guide, SYSTEM, notify=False)
    return trip, guest, guide


def _feedback_moment(session, trip):
    spec = next(s for s in timer_specs() if s.kind == TimerKind.FEEDBACK_REQUEST)
    return dict(spec.wanted(session, [trip.id]))[trip.id]


def test_the_end_moves_and_guests_and_staff_are_told(session, under_way):
    trip, guest, guide = under_way
    end = trip.departure.end_date
    before = _feedback_moment(session, trip)
    trip_shifts.shift_trip(session, trip, 2, SYSTEM, reason="snow at the pass")
    assert trip.departure.end_date == end + timedelta(days=2) and trip.delay_days == 2
    assert _feedback_moment(session, trip) == before + timedelta(days=2)  # checkout, feedback
    told = session.scalars(
        select(OutboundMessage.body).where(OutboundMessage.contact_id == guest.contact_id)
    ).all()
    assert any("snow at the pass" in t and "2 days" in t for t in told)
    staff_told = session.scalars(
        select(OutboundMessage.body).where(OutboundMessage.staff_id == guide.id)
    ).all()
    assert any("shifted by 2 day" in t and "$1,600" in t for t in staff_told)
    assert session.scalar(
        select(TimelineEvent.action).where(
            TimelineEvent.object_type == ObjectType.TRIP, TimelineEvent.action == "tms.trip.shifted"
        )
    )


def test_a_shifted_trips_payroll_pays_the_extra_days(session, under_way):
    trip, _guest, guide = under_way
    trip_shifts.shift_trip(session, trip, 2, SYSTEM, reason="Lukla flights grounded")
    attendance.check_out(session, trip, guide, "all well", SYSTEM, notify=False)
    entry = session.scalar(select(PayrollEntry).where(PayrollEntry.trip_id == trip.id))
    assert entry.amount_minor == 1_400_00 + 2 * 100_00  # $100 a day over 14 days


def test_only_a_trip_under_way_is_shifted(session, frozen_clock):
    product = factories.ebc(session)
    departure = factories.departure(session, product, clock.local_today() + timedelta(days=30))
    trip = trips.ensure_trip(session, departure, SYSTEM)
    with pytest.raises(DomainError, match="under way"):
        trip_shifts.shift_trip(session, trip, 1, SYSTEM, reason="weather")
    with pytest.raises(DomainError):
        trip_shifts.shift_trip(session, trip, 0, SYSTEM, reason="weather")
