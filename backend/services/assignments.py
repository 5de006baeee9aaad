"""Staff assignments on a trip: the offer on WhatsApp, the answer, who is on which trip, and
the offer that lapses unanswered."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.config import get_settings
from backend.domain import choices
from backend.domain.actor import Actor
from backend.domain.enums import (
    AssignmentRole,
    AssignmentStatus,
    ObjectType,
    TimerKind,
    TripStatus,
)
from backend.domain.errors import DomainError, NotFound
from backend.domain.states import ASSIGNMENT, TRIP
from backend.domain.timeline_actions import Audience
from backend.models import (
    Assignment,
    Departure,
    Staff,
    Trip,
)
from backend.services import emails, notifications, routing, timers, trips
from backend.services.state import change_state, log_created


class NotAssigned(DomainError):
    """The staff member has no accepted assignment on that trip."""

    code = "not_assigned"


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
    group_size: int | None = None,
) -> Assignment:
    """Assign and send the workflow's "Trip Assignment" offer on WhatsApp (Accept / Decline).
    `group_size`: the group the trip expects when its bookings are not on it yet (a move)."""
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
            trips.group_size(session, trip) if group_size is None else group_size,
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
        routing.alert(
            session,
            "tms.assignment.status.accepted" if accept else "tms.assignment.status.declined",
            f"{'✅' if accept else '❌'} {assignment.staff.name} {verdict} "
            f"{role_label(assignment.role)} on {assignment.trip.reference} "
            f"({assignment.trip.departure.product.name})",
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


def trip_for_staff(session: Session, reference: str, member: Staff) -> Trip:
    """The trip `reference` names, if `member` has accepted (or completed) an assignment on it.

    A trip that exists but is not theirs raises the same NotFound as one that does not exist,
    word for word: otherwise any guide could probe which references are real (issue 21).
    InvalidReference when the reference is not even shaped like one."""
    try:
        trip = trips.find_trip(session, reference)
        accepted_assignment(session, trip, member)
    except (NotFound, NotAssigned) as exc:
        raise NotFound(f"No trip {reference}") from exc
    return trip


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
    routing.alert(
        session,
        "tms.assignment.status.expired",
        {
            Audience.OPS: texts.ops_assignment_unanswered(assignment, hours),
            Audience.NAMED: texts.assignment_offer_expired(assignment),
        },
        object_type=ObjectType.ASSIGNMENT,
        object_id=assignment.id,
        member=assignment.staff,
    )
    return "offer expired, operations and the staff member told"


def move_with_departure(
    session: Session, source: Departure, target: Departure, actor: Actor, *, reason: str
) -> list[Assignment]:
    """A departure moved to other dates (issue 27): its trip's guides and porters go with it.
    The dates change, so each is offered the new trip again (same role and pay; their earlier
    answer was for other dates) and the old assignment is cancelled; the old trip, if it had
    not started, is cancelled. Returns the new offers."""
    trip = session.scalar(select(Trip).where(Trip.departure_id == source.id))
    if trip is None:
        return []
    current = session.scalars(
        select(Assignment).where(
            Assignment.trip_id == trip.id,
            Assignment.status.in_([AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED]),
        )
    ).all()
    if not current:
        return []
    new_trip = trips.ensure_trip(session, target, actor)
    # The bookings follow only as their customers accept: the offer names the moving group
    # and those already on the target, not the target's bookings so far.
    expected = trips.group_size(session, trip) + trips.group_size(session, new_trip)
    offered = []
    for old in current:
        change_state(session, old, ASSIGNMENT, AssignmentStatus.CANCELLED, actor, reason=reason)
        member = session.get(Staff, old.staff_id)
        already = session.scalar(
            select(Assignment.id).where(
                Assignment.trip_id == new_trip.id,
                Assignment.staff_id == old.staff_id,
                Assignment.status.in_([AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED]),
            )
        )
        if member is None or already is not None:
            continue  # already on the new trip
        offered.append(
            offer_assignment(
                session,
                new_trip,
                member,
                AssignmentRole(old.role),
                old.compensation_minor,
                actor,
                currency=old.currency,
                group_size=expected,
            )
        )
    if trip.status == TripStatus.SCHEDULED:
        change_state(session, trip, TRIP, TripStatus.CANCELLED, actor, reason=reason)
    return offered
