"""Workflow 1 steps 6-9 and workflow 3 in the services."""

from datetime import date

import pytest

from backend.domain.actor import SYSTEM
from backend.domain.enums import (
    AssignmentRole,
    AssignmentStatus,
    AttendanceStatus,
    BookingStatus,
    IncidentStatus,
    Role,
    Severity,
    TripStatus,
)
from backend.domain.errors import DomainError, NotFound
from backend.domain.severity import UpdateVerdict
from backend.services import assignments, attendance, incidents, trips
from backend.services.assignments import NotAssigned
from devkit.demo_data import STORY
from tests import factories

RESOLVED, NOT_RESOLVED, UNCLEAR = UpdateVerdict


@pytest.fixture
def trip_world(session, frozen_clock):
    dep = factories.departure(session, factories.ebc(session))
    guests = [factories.confirmed_booking(session, dep, n) for n in (4, 3, 2, 3)]
    trip = trips.ensure_trip(session, dep, SYSTEM)
    rajesh = factories.staff(session, "Rajesh Kumar", Role.GUIDE)
    amit = factories.staff(session, "Amit Sharma", Role.GUIDE)
    return trip, guests, rajesh, amit


def test_trip_reference_and_lookup_by_booking_reference(session, trip_world):
    trip, guests, *_ = trip_world
    assert trip.reference.startswith("TRP2412")
    assert trips.find_trip(session, trip.reference.lower()).id == trip.id
    assert trips.find_trip(session, guests[0].reference.replace("-", "")).id == trip.id
    with pytest.raises(NotFound):
        trips.find_trip(session, "TRP2412999")


def test_full_trip_life(session, trip_world, frozen_clock):
    trip, guests, rajesh, _ = trip_world
    assert trips.group_size(session, trip) == 12
    assignment = assignments.assign_staff(
        session, trip, rajesh, AssignmentRole.LEAD_GUIDE, 800_00, SYSTEM
    )
    assert assignments.pending_offer_for(session, rajesh).id == assignment.id
    assignments.respond_to_assignment(session, assignment, True, SYSTEM)
    frozen_clock.at = STORY.at(trip.departure.start_date, "06:00")
    checkin = attendance.check_in(session, trip, rajesh, SYSTEM)
    assert checkin.trip_started_now and trip.status == TripStatus.IN_PROGRESS
    assert checkin.attendance.status == AttendanceStatus.ON_TRIP
    assert assignments.lead_guide(session, trip).id == rajesh.id
    incident = incidents.report_incident(
        session, trip, rajesh, "One guest showing altitude sickness symptoms.", SYSTEM
    )
    assert incident.severity == Severity.MEDIUM and incident.status == IncidentStatus.OPEN
    checkout = attendance.check_out(session, trip, rajesh, "Trip completed successfully!", SYSTEM)
    assert trip.status == TripStatus.ENDED
    assert checkin.attendance.status == AttendanceStatus.TRIP_COMPLETE
    assert [(p.amount_minor, p.staff_id) for p in checkout.payroll] == [(800_00, rajesh.id)]
    assert assignment.status == AssignmentStatus.COMPLETED
    assert all(b.status == BookingStatus.COMPLETED for b in guests)


@pytest.mark.parametrize(
    ("local_moment", "allowed"),
    [
        # 23:50 in Kathmandu the evening before: still the day before, whatever UTC says.
        (("2025-03-14", "23:50"), False),
        # 00:10 in Kathmandu on the first day is 18:25 UTC the day before: already the day.
        (("2025-03-15", "00:10"), True),
    ],
)
def test_checkin_opens_on_the_first_local_day(
    session, trip_world, frozen_clock, local_moment, allowed
):
    trip, _, rajesh, _ = trip_world
    assignment = assignments.assign_staff(
        session, trip, rajesh, AssignmentRole.LEAD_GUIDE, 0, SYSTEM
    )
    assignments.respond_to_assignment(session, assignment, True, SYSTEM)
    day, hhmm = local_moment
    frozen_clock.at = STORY.at(date.fromisoformat(day), hhmm)
    assert trip.departure.start_date == date(2025, 3, 15)
    if allowed:
        assert frozen_clock.at.date() == date(2025, 3, 14)  # UTC is still on the day before
        assert attendance.check_in(session, trip, rajesh, SYSTEM).trip_started_now
    else:
        with pytest.raises(DomainError, match="starts on March 15; check in on the day"):
            attendance.check_in(session, trip, rajesh, SYSTEM)
        assert trip.status == TripStatus.SCHEDULED


def test_unassigned_guide_is_refused(session, trip_world):
    trip, _, rajesh, amit = trip_world
    assignment = assignments.assign_staff(
        session, trip, rajesh, AssignmentRole.LEAD_GUIDE, 800_00, SYSTEM
    )
    assignments.respond_to_assignment(session, assignment, True, SYSTEM)
    with pytest.raises(NotAssigned, match="Amit Sharma is not assigned"):
        attendance.check_in(session, trip, amit, SYSTEM)
    assert trip.status == TripStatus.SCHEDULED


def test_declined_assignment_does_not_allow_checkin(session, trip_world):
    trip, _, rajesh, _ = trip_world
    assignment = assignments.assign_staff(
        session, trip, rajesh, AssignmentRole.LEAD_GUIDE, 800_00, SYSTEM
    )
    assignments.respond_to_assignment(session, assignment, False, SYSTEM)
    assert assignment.status == AssignmentStatus.DECLINED
    with pytest.raises(NotAssigned):
        attendance.check_in(session, trip, rajesh, SYSTEM)


def test_incident_update_resolves_with_response_time(session, trip_world, frozen_clock):
    trip, _, rajesh, _ = trip_world
    incident = incidents.report_incident(
        session, trip, rajesh, "Vehicle breakdown at Pokhara checkpoint.", SYSTEM
    )
    assert incident.severity == Severity.HIGH
    frozen_clock.advance(minutes=5)
    incidents.update_incident(
        session,
        incident,
        SYSTEM,
        status=IncidentStatus.IN_PROGRESS,
        resolution="Backup vehicle en route",
        eta="11:20 AM",
    )
    assert incident.acknowledged_at == frozen_clock.at
    frozen_clock.advance(minutes=45)
    assert incidents.guide_update(session, incident, "Still waiting", SYSTEM) == NOT_RESOLVED
    assert incident.status == IncidentStatus.IN_PROGRESS
    # Unclear words resolve nothing: the guide is asked instead (see the guide actions).
    assert incidents.guide_update(session, incident, "arrived? not sure", SYSTEM) == UNCLEAR
    assert incident.status == IncidentStatus.IN_PROGRESS
    assert (
        incidents.guide_update(session, incident, "Backup vehicle arrived. All good!", SYSTEM)
        == RESOLVED
    )
    assert incident.status == IncidentStatus.RESOLVED and incident.response_minutes == 50
    assert incidents.open_incident(session, trip) is None


def test_incidents_list_open_first_then_by_severity(session, trip_world):
    trip, _, rajesh, _ = trip_world
    low = incidents.report_incident(session, trip, rajesh, "Hot water ran out", SYSTEM)
    high = incidents.report_incident(session, trip, rajesh, "Bus breakdown", SYSTEM)
    crit = incidents.report_incident(
        session, trip, rajesh, "Guest injured, evacuation needed", SYSTEM
    )
    incidents.update_incident(session, crit, SYSTEM, status=IncidentStatus.RESOLVED)
    session.flush()
    assert [i.id for i in incidents.list_incidents(session)] == [high.id, low.id, crit.id]
