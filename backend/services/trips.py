"""Trips: one per departure; staff assignments, check-in, check-out, attendance and payroll."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock, links, texts
from backend.config import get_settings
from backend.domain import choices, references
from backend.domain.actor import Actor
from backend.domain.enums import (
    AssignmentRole,
    AssignmentStatus,
    AttendanceStatus,
    BookingStatus,
    IncidentStatus,
    ObjectType,
    Role,
    TimerKind,
    TripStatus,
)
from backend.domain.errors import DomainError, NotFound
from backend.domain.states import ASSIGNMENT, ATTENDANCE, TRIP
from backend.models import (
    Assignment,
    Attendance,
    Booking,
    Departure,
    Incident,
    Lead,
    PayrollEntry,
    Staff,
    Trip,
)
from backend.services import bookings, emails, notifications, timeline, timers
from backend.services import references as refs
from backend.services.state import change_state, log_created

# Notice key: operations were told that nobody checked out after a trip's last day.
NO_CHECKOUT_NOTICE = "no-checkout"


class NotAssigned(DomainError):
    """The staff member has no accepted assignment on that trip."""

    code = "not_assigned"


def ensure_trip(session: Session, departure: Departure, actor: Actor) -> Trip:
    trip = session.scalar(select(Trip).where(Trip.departure_id == departure.id))
    if trip is not None:
        return trip
    prefix, seq = refs.allocate(session, references.TRIP_PREFIX)
    reference = references.lead_reference(prefix, seq)
    trip = Trip(
        departure_id=departure.id,
        reference=reference,
        ref_key=references.reference_key(reference),
        status=TripStatus.SCHEDULED,
    )
    session.add(trip)
    log_created(session, trip, ObjectType.TRIP, actor, reference=reference)
    return trip


def find_trip(session: Session, reference: str) -> Trip:
    """A trip by its own reference (TRP2501234) or by a lead or booking on its departure
    (the guide in workflow 1 checks in with EBC2501234)."""
    references.parse_reference(reference)
    key = references.reference_key(reference)
    trip = session.scalar(select(Trip).where(Trip.ref_key == key))
    if trip is not None:
        return trip
    booking = session.scalar(select(Booking).where(Booking.ref_key == key))
    if booking is None:
        lead = session.scalar(select(Lead).where(Lead.ref_key == key))
        departure_id = lead.quoted_departure_id if lead else None
    else:
        departure_id = booking.departure_id
    if departure_id:
        trip = session.scalar(select(Trip).where(Trip.departure_id == departure_id))
        if trip is not None:
            return trip
    raise NotFound(f"No trip {reference}")


def trip_for_staff(session: Session, reference: str, member: Staff) -> Trip:
    """The trip `reference` names, if `member` has accepted (or completed) an assignment on it.

    A trip that exists but is not theirs raises the same NotFound as one that does not exist,
    word for word: otherwise any guide could probe which references are real (issue 21).
    InvalidReference when the reference is not even shaped like one."""
    try:
        trip = find_trip(session, reference)
        accepted_assignment(session, trip, member)
    except (NotFound, NotAssigned) as exc:
        raise NotFound(f"No trip {reference}") from exc
    return trip


def guests_of(session: Session, trip: Trip) -> list[Booking]:
    """The bookings travelling on the trip (confirmed, or completed afterwards)."""
    return list(
        session.scalars(
            select(Booking)
            .where(
                Booking.departure_id == trip.departure_id,
                Booking.status.in_([BookingStatus.CONFIRMED, BookingStatus.COMPLETED]),
            )
            .order_by(Booking.created_at)
        )
    )


def group_size(session: Session, trip: Trip) -> int:
    return sum(b.party_size for b in guests_of(session, trip))


def assign_staff(
    session: Session,
    trip: Trip,
    member: Staff,
    role: AssignmentRole,
    compensation_minor: int,
    actor: Actor,
    *,
    currency: str = "USD",
) -> Assignment:
    existing = session.scalar(
        select(Assignment).where(Assignment.trip_id == trip.id, Assignment.staff_id == member.id)
    )
    if existing is not None and existing.status in (
        AssignmentStatus.OFFERED,
        AssignmentStatus.ACCEPTED,
    ):
        raise DomainError(f"{member.name} is already assigned to {trip.reference}")
    if existing is not None and existing.status in (
        AssignmentStatus.DECLINED,
        AssignmentStatus.EXPIRED,
    ):
        # Offered again (a guide out of signal for a day, a change of plan): the same row.
        change_state(
            session, existing, ASSIGNMENT, AssignmentStatus.OFFERED, actor, reason="offered again"
        )
        existing.role = str(role)
        existing.compensation_minor = compensation_minor
        existing.currency = currency
        existing.offered_at = clock.now()
        existing.responded_at = None
        timers.forget_notice(session, TimerKind.ASSIGNMENT_RESPONSE, existing.id)
        return existing
    if existing is not None:
        raise DomainError(f"{member.name} already answered this trip ({existing.status})")
    assignment = Assignment(
        trip_id=trip.id,
        staff_id=member.id,
        role=str(role),
        compensation_minor=compensation_minor,
        currency=currency,
        status=AssignmentStatus.OFFERED,
        offered_at=clock.now(),
    )
    session.add(assignment)
    log_created(
        session,
        assignment,
        ObjectType.ASSIGNMENT,
        actor,
        trip=trip.reference,
        staff=member.name,
        role=str(role),
        compensation=compensation_minor,
    )
    return assignment


def pending_offer_for(session: Session, member: Staff) -> Assignment | None:
    """The staff member's oldest unanswered assignment offer (what "Accept" answers)."""
    return session.scalar(
        select(Assignment)
        .where(Assignment.staff_id == member.id, Assignment.status == AssignmentStatus.OFFERED)
        .order_by(Assignment.offered_at)
        .limit(1)
    )


def offer_assignment(
    session: Session,
    trip: Trip,
    member: Staff,
    role: AssignmentRole,
    compensation_minor: int,
    actor: Actor,
    *,
    currency: str = "USD",
) -> Assignment:
    """Assign and send the workflow's "Trip Assignment" offer on WhatsApp (Accept / Decline)."""
    assignment = assign_staff(
        session, trip, member, role, compensation_minor, actor, currency=currency
    )
    answers = choices.answer_to(choices.ASSIGNMENT, assignment.id)
    notifications.to_staff(
        session,
        member,
        texts.assignment_offer(
            trip,
            role_label(role),
            group_size(session, trip),
            texts.money(compensation_minor, currency),
        ),
        purpose="assignment_offer",
        object_type=ObjectType.ASSIGNMENT,
        object_id=assignment.id,
        buttons=[
            choices.reply_button(texts.ACCEPT, "affirm", answers),
            choices.reply_button(texts.DECLINE, "deny", answers),
        ],
    )
    return assignment


def role_label(role: AssignmentRole | str) -> str:
    return str(role).replace("_", " ").title()


def respond_to_assignment(
    session: Session, assignment: Assignment, accept: bool, actor: Actor, *, notify: bool = True
) -> None:
    """Accept / Decline from the chat; operations hear about it."""
    target = AssignmentStatus.ACCEPTED if accept else AssignmentStatus.DECLINED
    change_state(session, assignment, ASSIGNMENT, target, actor)
    assignment.responded_at = clock.now()
    if accept and notify:
        emails.assignment_details(session, assignment, actor)
    if notify:
        verdict = "accepted" if accept else "DECLINED"
        notifications.to_role(
            session,
            Role.OPS,
            f"{'✅' if accept else '❌'} {assignment.staff.name} {verdict} "
            f"{role_label(assignment.role)} on {assignment.trip.reference} "
            f"({assignment.trip.departure.product.name})",
            purpose="ops_alert",
            object_type=ObjectType.ASSIGNMENT,
            object_id=assignment.id,
        )


def accepted_assignment(session: Session, trip: Trip, member: Staff) -> Assignment:
    assignment = session.scalar(
        select(Assignment).where(
            Assignment.trip_id == trip.id,
            Assignment.staff_id == member.id,
            Assignment.status.in_([AssignmentStatus.ACCEPTED, AssignmentStatus.COMPLETED]),
        )
    )
    if assignment is None:
        raise NotAssigned(f"{member.name} is not assigned to trip {trip.reference}")
    return assignment


def is_assigned(session: Session, trip: Trip, member: Staff | None) -> bool:
    """Whether this staff member has accepted (or completed) this trip."""
    try:
        return member is not None and bool(accepted_assignment(session, trip, member))
    except NotAssigned:
        return False


def current_trips_of(session: Session, member: Staff) -> list[Trip]:
    """The trips a staff member has accepted and that have not ended, soonest first."""
    return list(
        session.scalars(
            select(Trip)
            .join(Assignment, Assignment.trip_id == Trip.id)
            .join(Departure, Departure.id == Trip.departure_id)
            .where(
                Assignment.staff_id == member.id,
                Assignment.status == AssignmentStatus.ACCEPTED,
                Trip.status.in_([TripStatus.SCHEDULED, TripStatus.IN_PROGRESS]),
            )
            .order_by(Departure.start_date)
        )
    )


def lead_guide(session: Session, trip: Trip) -> Staff | None:
    return session.scalar(
        select(Staff)
        .join(Assignment, Assignment.staff_id == Staff.id)
        .where(
            Assignment.trip_id == trip.id,
            Assignment.role == AssignmentRole.LEAD_GUIDE,
            Assignment.status.in_([AssignmentStatus.ACCEPTED, AssignmentStatus.COMPLETED]),
        )
    )


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
    accepted_assignment(session, trip, member)
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
    guests = guests_of(session, trip)
    headcount = sum(b.party_size for b in guests)
    if started_now and notify:
        notifications.to_role(
            session,
            Role.OPS,
            texts.ops_trip_started(trip, member, headcount),
            purpose="ops_alert",
            object_type=ObjectType.TRIP,
            object_id=trip.id,
        )
        guide = lead_guide(session, trip) or member
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
    accepted_assignment(session, trip, member)
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
            amount_minor=assignment.compensation_minor,
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
    guests = guests_of(session, trip)
    for booking in guests:
        if booking.status == BookingStatus.CONFIRMED:
            bookings.complete_booking(session, booking, actor)
            completed.append(booking)
    if notify:
        request_feedback(session, trip, guests, actor)
        notifications.to_role(
            session,
            Role.OPS,
            f"🏁 Trip ended: {trip.reference} ({trip.departure.product.name}), checked out by {member.name}.\n{note}",
            purpose="ops_alert",
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
        notifications.to_role(
            session,
            Role.OPS,
            texts.ops_close_incident_after_checkout(trip, incident),
            purpose="ops_alert",
            object_type=ObjectType.INCIDENT,
            object_id=incident.id,
        )
    return CheckOut(
        trip=trip, payroll=payroll, completed_bookings=completed, open_incidents=still_open
    )


def rating_rows(booking: Booking) -> list[dict[str, str]]:
    """The feedback request's 1-to-5 list; each row rates this booking."""
    answers = choices.answer_to(choices.FEEDBACK, booking.id)
    return [
        choices.reply_button(title, "give_feedback", answers, rating=str(stars))
        for stars, title in texts.RATING_TITLES.items()
    ]


def request_feedback(session: Session, trip: Trip, guests: list[Booking], actor: Actor) -> bool:
    """Ask every guest for feedback, once per trip (checkout or, failing that, the scheduler)."""
    if not timers.record_notice(session, TimerKind.FEEDBACK_REQUEST, trip.id):
        return False
    notifications.to_guests(
        session,
        guests,
        lambda booking: texts.feedback_request(trip, booking),
        purpose="feedback_request",
        template_params=lambda booking: [
            texts.trek_label(trip.departure.product),
            links.feedback_url(booking.ref_key),
        ],
        buttons=rating_rows,
    )
    timeline.record(
        session,
        object_type=ObjectType.TRIP,
        object_id=trip.id,
        event_type="FEEDBACK_REQUESTED",
        action="tms.trip.feedback.requested",
        actor=actor,
        content={"guests": len(guests)},
    )
    return True


def follow_up_feedback(session: Session, trip: Trip, actor: Actor) -> str:
    """After the last day: guests asked for feedback if checkout did not do it. A trip nobody
    checked out may still be under way (a delay), so guests are not asked yet: operations are
    told once, and checkout asks the guests when it comes."""
    if trip.status == TripStatus.CANCELLED:
        return "nothing to do: trip cancelled"
    if trip.status != TripStatus.ENDED:
        if not timers.record_notice(session, NO_CHECKOUT_NOTICE, trip.id):
            return "nothing to do: operations already told"
        notifications.to_role(
            session,
            Role.OPS,
            texts.ops_trip_not_checked_out(trip),
            purpose="ops_alert",
            object_type=ObjectType.TRIP,
            object_id=trip.id,
        )
        return "no checkout after the last day: operations alerted"
    guests = guests_of(session, trip)
    if not guests:
        timers.record_notice(
            session, TimerKind.FEEDBACK_REQUEST, trip.id, outcome="skipped", detail="no guests"
        )
        return "skipped: no guests"
    if not request_feedback(session, trip, guests, actor):
        return "nothing to do: feedback already requested"
    return f"feedback requested from {len(guests)} bookings"


def expire_unanswered_offer(session: Session, assignment: Assignment, actor: Actor) -> str:
    """An assignment offer still unanswered after the response window expires: the staff
    member is told it lapsed (a late Accept finds nothing to accept), operations are told to
    assign someone else."""
    if assignment.status != AssignmentStatus.OFFERED:
        return f"nothing to do: assignment is {assignment.status}"
    if not timers.record_notice(session, TimerKind.ASSIGNMENT_RESPONSE, assignment.id):
        return "nothing to do: already handled"
    hours = get_settings().assignment_response_hours
    change_state(session, assignment, ASSIGNMENT, AssignmentStatus.EXPIRED, actor, hours=hours)
    assignment.responded_at = None
    notifications.to_role(
        session,
        Role.OPS,
        texts.ops_assignment_unanswered(assignment, hours),
        purpose="ops_alert",
        object_type=ObjectType.ASSIGNMENT,
        object_id=assignment.id,
    )
    notifications.to_staff(
        session,
        assignment.staff,
        texts.assignment_offer_expired(assignment),
        purpose="staff_alert",
        object_type=ObjectType.ASSIGNMENT,
        object_id=assignment.id,
    )
    return "offer expired, operations and the staff member told"


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
    notifications.to_role(
        session,
        Role.OPS,
        texts.ops_guide_not_checked_in(trip, guides, get_settings().checkin_grace_minutes),
        purpose="ops_urgent_alert",
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
