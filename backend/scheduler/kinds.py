"""The timed events. Each kind says, from the data alone, which jobs must exist and when
they run (`wanted`), and what to do when one fires (`handle`, via a service).

`wanted` serves both the full reconciliation (all subjects) and the re-evaluation of the
objects that just changed (some subjects): one query, so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from backend import clock
from backend.config import Settings, get_settings
from backend.domain.actor import SCHEDULER
from backend.domain.enums import (
    AssignmentStatus,
    BookingStatus,
    HoldStatus,
    IncidentStatus,
    LeadStatus,
    MoveOfferStatus,
    ObjectType,
    PaymentStatus,
    TimerKind,
    TripStatus,
    WaitlistStatus,
    balance_reminder_kind,
    papers_reminder_kind,
)
from backend.models import (
    Assignment,
    Booking,
    Departure,
    Hold,
    Incident,
    Lead,
    MoveOffer,
    SentNotice,
    Trip,
    WaitlistEntry,
)
from backend.services import (
    assignments,
    attendance,
    bookings,
    departure_moves,
    feedback,
    guarantees,
    incidents,
    inventory,
    leads,
    papers_chase,
    reminders,
    waitlist,
)

T = TypeVar("T")
Q = TypeVar("Q", bound=Select)  # any row shape
Wanted = Callable[[Session, Sequence[str] | None], Iterable[tuple[str, datetime]]]
Handler = Callable[[Session, str], str]


@dataclass(frozen=True)
class TimerSpec:
    kind: str
    subject: ObjectType
    wanted: Wanted
    handle: Handler
    # Found later than this after its time (the service was down): recorded as skipped
    # rather than sent stale. None: always worth doing, however late.
    stale_after: timedelta | None = None


def job_id(kind: str, subject_id: str) -> str:
    return f"{kind}:{subject_id}"


def parse_job_id(value: str) -> tuple[str, str]:
    kind, _, subject_id = value.partition(":")
    return kind, subject_id


def local_moment(day: date, hhmm: str, settings: Settings) -> datetime:
    """`day` at `hhmm` in the operator's timezone, as UTC."""
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=settings.tz).astimezone(UTC)


def _locked(session: Session, model: type[T], object_id: str) -> T | None:
    """The row under its lock, freshly read: a handler acts on the state as it is now."""
    return session.scalar(
        select(model)  # type: ignore[arg-type]
        .where(model.id == object_id)  # type: ignore[attr-defined]
        .with_for_update(of=model)
        .execution_options(populate_existing=True)
    )


def _on(model: type[T], act: Callable[[Session, T], str]) -> Handler:
    """A handler: lock the subject's row, then act on it through a service."""

    def handle(session: Session, subject_id: str) -> str:
        subject = _locked(session, model, subject_id)
        if subject is None:
            return f"nothing to do: no such {model.__name__.lower()}"
        return act(session, subject)

    return handle


def _on_booking_seats(act: Callable[[Session, Booking], str]) -> Handler:
    """A handler for a booking whose seats may pass to others: the departure's lock first,
    then the booking's, the order every seat-moving path takes (CONFIRM, a cancellation, a
    hold), so two of them never wait for each other in a circle."""

    def handle(session: Session, booking_id: str) -> str:
        departure_id = session.scalar(select(Booking.departure_id).where(Booking.id == booking_id))
        if departure_id is None:
            return "nothing to do: no such booking"
        inventory.lock_departure(session, departure_id)
        return _on(Booking, act)(session, booking_id)

    return handle


def _only(query: Q, column: Any, ids: Sequence[str] | None) -> Q:
    return query if ids is None else query.where(column.in_(list(ids)))


def _not_sent(kind: str, subject_column: Any) -> Any:
    return ~exists().where(SentNotice.kind == kind, SentNotice.subject_id == subject_column)


# -- the sales side ---------------------------------------------------------------------------
def _holds_wanted(session: Session, ids: Sequence[str] | None) -> Iterable[tuple[str, datetime]]:
    query = (
        select(Hold.booking_id, Hold.expires_at)
        .join(Booking, Booking.id == Hold.booking_id)
        .where(Booking.status == BookingStatus.HELD, Hold.status == HoldStatus.ACTIVE)
    )
    return ((b, at) for b, at in session.execute(_only(query, Hold.booking_id, ids)))


def _expire_hold(session: Session, booking: Booking) -> str:
    if bookings.expire_hold(session, booking, SCHEDULER):
        return "hold expired, customer told, seats offered to the waitlist"
    return f"nothing to do: booking is {booking.status}"


def _offers_wanted(session: Session, ids: Sequence[str] | None) -> Iterable[tuple[str, datetime]]:
    query = select(WaitlistEntry.booking_id, WaitlistEntry.offer_expires_at).where(
        WaitlistEntry.status == WaitlistStatus.OFFERED,
        WaitlistEntry.offer_expires_at.is_not(None),
    )
    rows = session.execute(_only(query, WaitlistEntry.booking_id, ids))
    return ((b, at) for b, at in rows if at is not None)


def _expire_offer(session: Session, booking: Booking) -> str:
    entry = waitlist.entry_of(session, booking)
    if entry is None:
        return "nothing to do: no waitlist entry"
    if waitlist.expire_offer(session, entry, SCHEDULER):
        return "offer expired, passed to the next in line"
    return f"nothing to do: entry is {entry.status}"


def _leads_wanted(session: Session, ids: Sequence[str] | None) -> Iterable[tuple[str, datetime]]:
    sla = timedelta(hours=get_settings().lead_sla_hours)
    query = select(Lead.id, Lead.created_at).where(
        Lead.status == LeadStatus.NEW,
        Lead.contacted_at.is_(None),
        _not_sent(TimerKind.LEAD_SLA, Lead.id),
    )
    return ((i, created + sla) for i, created in session.execute(_only(query, Lead.id, ids)))


def _confirmed_bookings(kind: str) -> Select[str, date, date]:
    return (
        select(Booking.id, Departure.start_date, Booking.balance_due_date)
        .join(Departure, Departure.id == Booking.departure_id)
        .where(Booking.status == BookingStatus.CONFIRMED, _not_sent(kind, Booking.id))
    )


def _pre_departure_wanted(
    session: Session, ids: Sequence[str] | None
) -> Iterable[tuple[str, datetime]]:
    settings = get_settings()
    before = timedelta(days=settings.pre_departure_days)
    today = clock.local_today()
    query = _only(
        _confirmed_bookings(TimerKind.PRE_DEPARTURE).where(Departure.start_date > today),
        Booking.id,
        ids,
    )
    return (
        (i, local_moment(start - before, settings.notice_local_time, settings))
        for i, start, _due in session.execute(query)
    )


def _days_before_start_wanted(kind: str, days_before: int) -> Wanted:
    """Confirmed bookings, `days_before` their trip starts (the travellers' papers)."""

    def wanted(session: Session, ids: Sequence[str] | None) -> Iterable[tuple[str, datetime]]:
        settings = get_settings()
        today = clock.local_today()
        query = _only(
            _confirmed_bookings(kind).where(Departure.start_date > today), Booking.id, ids
        )
        return (
            (
                i,
                local_moment(
                    start - timedelta(days=days_before), settings.notice_local_time, settings
                ),
            )
            for i, start, _due in session.execute(query)
        )

    return wanted


def _papers_reminder(days_before: int) -> Callable[[Session, Booking], str]:
    return lambda session, booking: papers_chase.send_reminder(
        session, booking, days_before, SCHEDULER
    )


def _balance_wanted(kind: str, days_from_due: int) -> Wanted:
    def wanted(session: Session, ids: Sequence[str] | None) -> Iterable[tuple[str, datetime]]:
        settings = get_settings()
        query = _only(
            _confirmed_bookings(kind).where(Booking.payment_status != PaymentStatus.FULL_PAID),
            Booking.id,
            ids,
        )
        return (
            (
                i,
                local_moment(
                    due + timedelta(days=days_from_due), settings.notice_local_time, settings
                ),
            )
            for i, _start, due in session.execute(query)
        )

    return wanted


def _balance_reminder(days_before: int) -> Callable[[Session, Booking], str]:
    return lambda session, booking: reminders.send_balance_reminder(
        session, booking, days_before, SCHEDULER
    )


def _guarantee_deadlines_wanted(
    session: Session, ids: Sequence[str] | None
) -> Iterable[tuple[str, datetime]]:
    """Departures with a minimum group size, checked on their deadline's morning."""
    settings = get_settings()
    return (
        (i, local_moment(deadline, settings.notice_local_time, settings))
        for i, deadline in guarantees.due_deadlines(session, None if ids is None else list(ids))
    )


def _move_offers_wanted(kind: str, moment_of: Callable[[MoveOffer], datetime]) -> Wanted:
    """A moved departure's offers still unanswered (issue 27): a reminder, then operations."""

    def wanted(session: Session, ids: Sequence[str] | None) -> Iterable[tuple[str, datetime]]:
        query = _only(
            select(MoveOffer).where(
                MoveOffer.status == MoveOfferStatus.OFFERED, _not_sent(kind, MoveOffer.id)
            ),
            MoveOffer.id,
            ids,
        )
        return ((offer.id, moment_of(offer)) for offer in session.scalars(query))

    return wanted


# -- the trip side ----------------------------------------------------------------------------
def _assignments_wanted(
    session: Session, ids: Sequence[str] | None
) -> Iterable[tuple[str, datetime]]:
    window = timedelta(hours=get_settings().assignment_response_hours)
    query = select(Assignment.id, Assignment.offered_at).where(
        Assignment.status == AssignmentStatus.OFFERED,
        Assignment.offered_at.is_not(None),
        _not_sent(TimerKind.ASSIGNMENT_RESPONSE, Assignment.id),
    )
    rows = session.execute(_only(query, Assignment.id, ids))
    return ((i, offered + window) for i, offered in rows if offered is not None)


def _checkins_wanted(session: Session, ids: Sequence[str] | None) -> Iterable[tuple[str, datetime]]:
    settings = get_settings()
    grace = timedelta(minutes=settings.checkin_grace_minutes)
    query = (
        select(Trip.id, Departure.start_date, Departure.meeting_time)
        .join(Departure, Departure.id == Trip.departure_id)
        .where(Trip.status == TripStatus.SCHEDULED, _not_sent(TimerKind.GUIDE_CHECKIN, Trip.id))
    )
    return (
        (i, local_moment(start, meeting or "06:00", settings) + grace)
        for i, start, meeting in session.execute(_only(query, Trip.id, ids))
    )


def _feedback_wanted(session: Session, ids: Sequence[str] | None) -> Iterable[tuple[str, datetime]]:
    settings = get_settings()
    delay = timedelta(hours=settings.feedback_delay_hours)
    query = (
        select(Trip.id, Departure.end_date)
        .join(Departure, Departure.id == Trip.departure_id)
        .where(
            Trip.status != TripStatus.CANCELLED,
            _not_sent(TimerKind.FEEDBACK_REQUEST, Trip.id),
            # A trip nobody checked out is flagged once; checkout asks for feedback later.
            or_(Trip.status == TripStatus.ENDED, _not_sent(feedback.NO_CHECKOUT_NOTICE, Trip.id)),
        )
    )
    return (
        (i, local_moment(end + timedelta(days=1), "00:00", settings) + delay)
        for i, end in session.execute(_only(query, Trip.id, ids))
    )


def _incidents_wanted(
    session: Session, ids: Sequence[str] | None
) -> Iterable[tuple[str, datetime]]:
    window = timedelta(minutes=get_settings().incident_ack_minutes)
    query = select(Incident.id, Incident.reported_at).where(
        Incident.status != IncidentStatus.RESOLVED,
        Incident.acknowledged_at.is_(None),
        _not_sent(TimerKind.INCIDENT_ESCALATION, Incident.id),
    )
    return (
        (i, reported + window) for i, reported in session.execute(_only(query, Incident.id, ids))
    )


def timer_specs(settings: Settings | None = None) -> list[TimerSpec]:
    """Every timed event under the current configuration."""
    settings = settings or get_settings()
    stale = timedelta(hours=settings.notice_stale_hours)
    specs = [
        TimerSpec(
            TimerKind.HOLD_EXPIRY,
            ObjectType.BOOKING,
            _holds_wanted,
            _on_booking_seats(_expire_hold),
        ),
        TimerSpec(
            TimerKind.OFFER_EXPIRY,
            ObjectType.BOOKING,
            _offers_wanted,
            _on_booking_seats(_expire_offer),
        ),
        TimerSpec(
            TimerKind.LEAD_SLA,
            ObjectType.LEAD,
            _leads_wanted,
            _on(Lead, lambda s, lead: leads.escalate_uncontacted(s, lead, SCHEDULER)),
        ),
        TimerSpec(
            TimerKind.PRE_DEPARTURE,
            ObjectType.BOOKING,
            _pre_departure_wanted,
            _on(Booking, lambda s, b: reminders.send_pre_departure(s, b, SCHEDULER)),
        ),
    ]
    for days in settings.balance_reminder_days:
        kind = balance_reminder_kind(days)
        specs.append(
            TimerSpec(
                kind,
                ObjectType.BOOKING,
                _balance_wanted(kind, -days),
                _on(Booking, _balance_reminder(days)),
                stale_after=stale,
            )
        )
    for days in settings.papers_reminder_days:
        kind = papers_reminder_kind(days)
        specs.append(
            TimerSpec(
                kind,
                ObjectType.BOOKING,
                _days_before_start_wanted(kind, days),
                _on(Booking, _papers_reminder(days)),
                stale_after=stale,
            )
        )
    if settings.papers_alert_days > 0:
        specs.append(
            TimerSpec(
                TimerKind.PAPERS_INCOMPLETE,
                ObjectType.BOOKING,
                _days_before_start_wanted(TimerKind.PAPERS_INCOMPLETE, settings.papers_alert_days),
                _on(Booking, lambda s, b: papers_chase.alert_incomplete(s, b, SCHEDULER)),
            )
        )
    specs += [
        TimerSpec(
            TimerKind.MOVE_OFFER_REMINDER,
            ObjectType.MOVE_OFFER,
            _move_offers_wanted(TimerKind.MOVE_OFFER_REMINDER, departure_moves.reminder_moment),
            _on(MoveOffer, lambda s, o: departure_moves.remind(s, o, SCHEDULER)),
        ),
        TimerSpec(
            TimerKind.MOVE_OFFER_UNANSWERED,
            ObjectType.MOVE_OFFER,
            _move_offers_wanted(TimerKind.MOVE_OFFER_UNANSWERED, lambda o: o.expires_at),
            _on(MoveOffer, lambda s, o: departure_moves.alert_unanswered(s, o, SCHEDULER)),
        ),
        TimerSpec(
            TimerKind.GUARANTEE_DEADLINE,
            ObjectType.DEPARTURE,
            _guarantee_deadlines_wanted,
            _on(Departure, lambda s, d: guarantees.check_deadline(s, d, SCHEDULER)),
        ),
        TimerSpec(
            TimerKind.BALANCE_OVERDUE,
            ObjectType.BOOKING,
            _balance_wanted(TimerKind.BALANCE_OVERDUE, 1),
            _on(Booking, lambda s, b: reminders.alert_balance_overdue(s, b, SCHEDULER)),
        ),
        TimerSpec(
            TimerKind.ASSIGNMENT_RESPONSE,
            ObjectType.ASSIGNMENT,
            _assignments_wanted,
            _on(Assignment, lambda s, a: assignments.expire_unanswered_offer(s, a, SCHEDULER)),
        ),
        TimerSpec(
            TimerKind.GUIDE_CHECKIN,
            ObjectType.TRIP,
            _checkins_wanted,
            _on(Trip, lambda s, trip: attendance.alert_missing_checkin(s, trip, SCHEDULER)),
            stale_after=timedelta(hours=12),
        ),
        TimerSpec(
            TimerKind.FEEDBACK_REQUEST,
            ObjectType.TRIP,
            _feedback_wanted,
            _on(Trip, lambda s, trip: feedback.follow_up_feedback(s, trip, SCHEDULER)),
            stale_after=stale,
        ),
        TimerSpec(
            TimerKind.INCIDENT_ESCALATION,
            ObjectType.INCIDENT,
            _incidents_wanted,
            _on(Incident, lambda s, i: incidents.escalate_unacknowledged(s, i, SCHEDULER)),
        ),
    ]
    return specs
