"""Guests' ratings after the trip: given on the feedback page or in the chat, stored on the
booking, on the timeline of the booking and of the trip, and counted in the operator's
satisfaction figures and in the lead guide's performance."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import clock, links, texts
from backend.domain import choices
from backend.domain.actor import Actor
from backend.domain.enums import (
    AssignmentRole,
    AssignmentStatus,
    BookingStatus,
    ObjectType,
    TimerKind,
    TripStatus,
)
from backend.domain.errors import DomainError
from backend.models import Assignment, Booking, Contact, Staff, Trip
from backend.services import notifications, routing, timeline, timers, trips

# A bare "5" from a guest this long after their trip ended is still a rating of that trip.
RATING_REPLY_DAYS = 30
MAX_COMMENT = 4000


class FeedbackRefused(DomainError):
    """Not a rating we can take (the trip has not ended, or the rating is not 1-5)."""


def can_rate(booking: Booking) -> bool:
    return booking.status == BookingStatus.COMPLETED


def trip_of(session: Session, booking: Booking) -> Trip | None:
    return session.scalar(select(Trip).where(Trip.departure_id == booking.departure_id))


def give(
    session: Session,
    booking: Booking,
    *,
    rating: int | None,
    comment: str | None,
    actor: Actor,
    channel: str,
) -> Booking:
    """Store a guest's rating and/or comment. A later rating replaces the earlier one (guests
    change their minds); comments add up. `channel`: page or chat."""
    comment = (comment or "").strip()[:MAX_COMMENT]
    if rating is None and not comment:
        raise FeedbackRefused("Give a rating from 1 to 5, or a comment")
    if rating is not None and not 1 <= rating <= 5:
        raise FeedbackRefused("A rating is from 1 to 5")
    if not can_rate(booking):
        raise FeedbackRefused("Feedback opens when the trip has ended")
    previous = booking.feedback_rating
    if rating is not None:
        booking.feedback_rating = rating
    if comment:
        booking.feedback = (booking.feedback + "\n\n" if booking.feedback else "") + comment
    booking.feedback_at = clock.now()
    trip = trip_of(session, booking)
    content = {
        "rating": rating,
        "previousRating": previous,
        "comment": comment or None,
        "channel": channel,
        "trip": trip.reference if trip else None,
    }
    timeline.record(
        session,
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
        event_type="FEEDBACK",
        action="tms.booking.feedback",
        actor=actor,
        content=content,
    )
    if trip is not None:
        timeline.record(
            session,
            object_type=ObjectType.TRIP,
            object_id=trip.id,
            event_type="GUEST_FEEDBACK",
            action="tms.trip.feedback.received",
            actor=actor,
            content={**content, "booking": booking.reference},
        )
    return booking


def awaiting_rating(session: Session, contact: Contact) -> Booking | None:
    """The guest's most recent finished trip not rated yet (a bare "5" rates it)."""
    since = clock.now() - timedelta(days=RATING_REPLY_DAYS)
    return session.scalar(
        select(Booking)
        .where(
            Booking.contact_id == contact.id,
            Booking.status == BookingStatus.COMPLETED,
            Booking.feedback_rating.is_(None),
            Booking.closed_at >= since,
        )
        .order_by(Booking.closed_at.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class Rating:
    count: int
    average: float | None
    distribution: dict[int, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "count": self.count,
            "average": self.average,
            "distribution": {str(k): v for k, v in sorted(self.distribution.items())},
        }


def _rating(session: Session, *conditions: object) -> Rating:
    rows = session.execute(
        select(Booking.feedback_rating, func.count())
        .select_from(Booking)
        .where(Booking.feedback_rating.is_not(None), *conditions)  # type: ignore[arg-type]
        .group_by(Booking.feedback_rating)
    ).all()
    distribution = {int(r): int(n) for r, n in rows if r is not None}
    count = sum(distribution.values())
    average = round(sum(r * n for r, n in distribution.items()) / count, 2) if count else None
    return Rating(count=count, average=average, distribution=distribution)


def trip_rating(session: Session, trip: Trip) -> Rating:
    """The trip's rating: its guests' ratings."""
    return _rating(session, Booking.departure_id == trip.departure_id)


def guide_performance(session: Session, member: Staff) -> Rating:
    """A guide's rating: the guests' ratings of the trips they led."""
    led = (
        select(Trip.departure_id)
        .join(Assignment, Assignment.trip_id == Trip.id)
        .where(
            Assignment.staff_id == member.id,
            Assignment.role == AssignmentRole.LEAD_GUIDE,
            Assignment.status.in_([AssignmentStatus.ACCEPTED, AssignmentStatus.COMPLETED]),
        )
    )
    return _rating(session, Booking.departure_id.in_(led))


def satisfaction(
    session: Session, *, since: datetime | None = None, until: datetime | None = None
) -> dict[str, Any]:
    """The operator's satisfaction figures: ratings given (when), how many finished guests
    answered, and each lead guide's rating."""
    window = []
    if since is not None:
        window.append(Booking.feedback_at >= since)
    if until is not None:
        window.append(Booking.feedback_at < until)
    overall = _rating(session, *window)
    completed_query = (
        select(func.count()).select_from(Booking).where(Booking.status == BookingStatus.COMPLETED)
    )
    if since is not None:
        completed_query = completed_query.where(Booking.closed_at >= since)
    if until is not None:
        completed_query = completed_query.where(Booking.closed_at < until)
    completed = int(session.scalar(completed_query) or 0)
    guides = session.scalars(
        select(Staff)
        .join(Assignment, Assignment.staff_id == Staff.id)
        .where(Assignment.role == AssignmentRole.LEAD_GUIDE)
        .distinct()
        .order_by(Staff.name)
    ).all()
    per_guide = []
    for member in guides:
        rating = guide_performance(session, member)
        if rating.count:
            per_guide.append({"staffId": member.id, "name": member.name, **rating.as_dict()})
    return {
        **overall.as_dict(),
        "completedBookings": completed,
        "responseRate": round(overall.count / completed, 2) if completed else None,
        "guides": per_guide,
    }


# -- asking guests for feedback ----------------------------------------------------------------
# Notice key: operations were told that nobody checked out after a trip's last day.
NO_CHECKOUT_NOTICE = "no-checkout"


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
        routing.alert(
            session,
            "tms.trip.checkout.missing",
            texts.ops_trip_not_checked_out(trip),
            object_type=ObjectType.TRIP,
            object_id=trip.id,
        )
        return "no checkout after the last day: operations alerted"
    guests = trips.guests_of(session, trip)
    if not guests:
        timers.record_notice(
            session, TimerKind.FEEDBACK_REQUEST, trip.id, outcome="skipped", detail="no guests"
        )
        return "skipped: no guests"
    if not request_feedback(session, trip, guests, actor):
        return "nothing to do: feedback already requested"
    return f"feedback requested from {len(guests)} bookings"
