"""Check-in and check-out: a trip starts with its first check-in and ends with the
checkout, which closes attendance, completes assignments and bookings, writes payroll and
asks the guests for feedback."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock, links, texts
from backend.config import get_settings
from backend.domain.actor import Actor
from backend.domain.enums import (
    AssignmentRole,
    AssignmentStatus,
    AttendanceStatus,
    BookingStatus,
    IncidentStatus,
    ObjectType,
    TimerKind,
    TripStatus,
)
from backend.domain.errors import DomainError
from backend.domain.states import ASSIGNMENT, ATTENDANCE, TRIP
from backend.models import (
    Assignment,
    Attendance,
    Booking,
    Incident,
    PayrollEntry,
    Staff,
    Trip,
)
from backend.services import (
    assignments,
    bookings,
    feedback,
    notifications,
    routing,
    timeline,
    timers,
    trip_shifts,
    trips,
)
from backend.services.state import change_state, log_created


@dataclass(frozen=True)
class CheckIn:
    trip: Trip
    attendance: Attendance
    trip_started_now: bool
    guests: int


def check_in(
    session: Session, trip: Trip, member: Staff, actor: Actor, *, notify: bool = True
) -> CheckIn:
    """CHECKIN: the first assigned staff member to check in starts the trip; operations and
    every guest of the departure are told (with the lead guide's name and contact)."""
    assignments.accepted_assignment(session, trip, member)
    if trip.status == TripStatus.ENDED:
        raise DomainError(f"Trip {trip.reference} has already ended")
    # The operator's date, not UTC's: at 00:10 in Kathmandu on the first day it is that day.
    if clock.local_today() < trip.departure.start_date:
        raise DomainError(texts.checkin_too_early(trip))
    started_now = False
    if trip.status == TripStatus.SCHEDULED:
        change_state(session, trip, TRIP, TripStatus.IN_PROGRESS, actor, by=member.name)
        trip.started_at = clock.now()
        started_now = True
    attendance = session.scalar(
        select(Attendance).where(Attendance.trip_id == trip.id, Attendance.staff_id == member.id)
    )
    if attendance is None:
        attendance = Attendance(
            trip_id=trip.id,
            staff_id=member.id,
            status=AttendanceStatus.ON_TRIP,
            checked_in_at=clock.now(),
        )
        session.add(attendance)
        log_created(
            session,
            attendance,
            ObjectType.ATTENDANCE,
            actor,
            trip=trip.reference,
            staff=member.name,
        )
    guests = trips.guests_of(session, trip)
    headcount = sum(b.party_size for b in guests)
    if started_now and notify:
        routing.alert(
            session,
            "tms.trip.status.in_progress",
            texts.ops_trip_started(trip, member, headcount),
            object_type=ObjectType.TRIP,
            object_id=trip.id,
        )
        guide = assignments.lead_guide(session, trip) or member
        notifications.to_guests(
            session,
            guests,
            lambda booking: texts.trip_started_for_guests(trip, guide, booking),
            purpose="trip_started",
            template_params=lambda booking: [
                texts.trek_label(trip.departure.product),
                guide.name,
                guide.phone,
                links.track_url(booking.ref_key),
            ],
        )
    return CheckIn(trip=trip, attendance=attendance, trip_started_now=started_now, guests=headcount)


@dataclass(frozen=True)
class CheckOut:
    trip: Trip
    payroll: list[PayrollEntry]
    completed_bookings: list[Booking]
    # Incidents still open at checkout: operations are asked to close them.
    open_incidents: list[Incident]

    def payroll_of(self, member: Staff) -> int:
        return sum(p.amount_minor for p in self.payroll if p.staff_id == member.id)


def check_out(
    session: Session, trip: Trip, member: Staff, note: str, actor: Actor, *, notify: bool = True
) -> CheckOut:
    """CHECKOUT: the trip ends, attendance closes, assignments complete, payroll is written,
    the guests' bookings complete and every guest is asked for feedback."""
    assignments.accepted_assignment(session, trip, member)
    change_state(session, trip, TRIP, TripStatus.ENDED, actor, note=note)
    now = clock.now()
    trip.ended_at = now
    for attendance in session.scalars(
        select(Attendance).where(
            Attendance.trip_id == trip.id, Attendance.status == AttendanceStatus.ON_TRIP
        )
    ):
        change_state(session, attendance, ATTENDANCE, AttendanceStatus.TRIP_COMPLETE, actor)
        attendance.checked_out_at = now
        if attendance.staff_id == member.id:
            attendance.checkout_note = note
    payroll: list[PayrollEntry] = []
    for assignment in session.scalars(
        select(Assignment).where(
            Assignment.trip_id == trip.id, Assignment.status == AssignmentStatus.ACCEPTED
        )
    ):
        change_state(session, assignment, ASSIGNMENT, AssignmentStatus.COMPLETED, actor)
        assignment.completed_at = now
        entry = PayrollEntry(
            staff_id=assignment.staff_id,
            trip_id=trip.id,
            assignment_id=assignment.id,
            # The agreed pay, and the same day rate for contingency days used (issue 27).
            amount_minor=trip_shifts.payroll_amount(trip, assignment),
            currency=assignment.currency,
        )
        session.add(entry)
        session.flush()
        timeline.record(
            session,
            object_type=ObjectType.ASSIGNMENT,
            object_id=assignment.id,
            event_type="PAYROLL",
            action="tms.assignment.payroll.added",
            actor=actor,
            content={"amount": entry.amount_minor, "currency": entry.currency},
        )
        payroll.append(entry)
    completed = []
    guests = trips.guests_of(session, trip)
    for booking in guests:
        if booking.status == BookingStatus.CONFIRMED:
            bookings.complete_booking(session, booking, actor)
            completed.append(booking)
    if notify:
        feedback.request_feedback(session, trip, guests, actor)
        routing.alert(
            session,
            "tms.trip.status.ended",
            f"🏁 Trip ended: {trip.reference} ({trip.departure.product.name}), checked out by {member.name}.\n{note}",
            object_type=ObjectType.TRIP,
            object_id=trip.id,
        )
    still_open = list(
        session.scalars(
            select(Incident)
            .where(Incident.trip_id == trip.id, Incident.status != IncidentStatus.RESOLVED)
            .order_by(Incident.reported_at)
        )
    )
    for incident in still_open:
        # The guide has gone home; the incident must not stay open by oversight.
        routing.alert(
            session,
            "tms.trip.status.ended",
            texts.ops_close_incident_after_checkout(trip, incident),
            object_type=ObjectType.INCIDENT,
            object_id=incident.id,
        )
    return CheckOut(
        trip=trip, payroll=payroll, completed_bookings=completed, open_incidents=still_open
    )


def alert_missing_checkin(session: Session, trip: Trip, actor: Actor) -> str:
    """Nobody checked in a while after the trip's start: operations alerted (urgent)."""
    if trip.status != TripStatus.SCHEDULED:
        return f"nothing to do: trip is {trip.status}"
    if not timers.record_notice(session, TimerKind.GUIDE_CHECKIN, trip.id):
        return "nothing to do: already alerted"
    guides = list(
        session.scalars(
            select(Staff)
            .join(Assignment, Assignment.staff_id == Staff.id)
            .where(
                Assignment.trip_id == trip.id,
                Assignment.status == AssignmentStatus.ACCEPTED,
                Assignment.role.in_([AssignmentRole.LEAD_GUIDE, AssignmentRole.ASSISTANT_GUIDE]),
            )
            .order_by(Assignment.role.desc(), Staff.name)
        )
    )
    routing.alert(
        session,
        "tms.trip.checkin.missing",
        texts.ops_guide_not_checked_in(trip, guides, get_settings().checkin_grace_minutes),
        object_type=ObjectType.TRIP,
        object_id=trip.id,
    )
    timeline.record(
        session,
        object_type=ObjectType.TRIP,
        object_id=trip.id,
        event_type="NO_CHECKIN",
        action="tms.trip.checkin.missing",
        actor=actor,
        content={"guides": [g.name for g in guides]},
    )
    return "operations alerted"
