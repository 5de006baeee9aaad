"""A trip under way delayed (issue 27, "shift a trip under way"): weather holds the group, a
road is closed, and the itinerary's contingency days are used. Operations shift the rest of
the itinerary by N days: the departure's end (and with it the checkout, the feedback request
and the dates on the guests' track page) moves, the guests are told in the chat, the staff on
the trip are told, and their pay follows the days they work (`payroll_amount`)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from backend import texts
from backend.domain.actor import Actor
from backend.domain.enums import AssignmentStatus, ObjectType, TripStatus
from backend.domain.errors import DomainError
from backend.domain.states import TRIP
from backend.models import Assignment, Booking, Trip
from backend.services import inventory, notifications, timeline, timers, trips
from backend.services.state import lock_for_change

MOST_DAYS = 14  # a longer delay is a different trip: move the departure instead


def shift_trip(session: Session, trip: Trip, days: int, actor: Actor, *, reason: str) -> Trip:
    """Move the rest of a trip under way by `days`: its end, the checkout and the staff's
    paid days; every guest told. Raises DomainError for a trip not under way."""
    if not 1 <= days <= MOST_DAYS:
        raise DomainError(f"Shift a trip by 1 to {MOST_DAYS} days")
    inventory.lock_departure(session, trip.departure_id)
    lock_for_change(session, trip, TRIP)
    if trip.status != TripStatus.IN_PROGRESS:
        raise DomainError(
            f"Trip {trip.reference} is {str(trip.status).lower()}: only a trip under way is "
            "shifted (move the departure instead)"
        )
    departure = trip.departure
    old_end = departure.end_date
    departure.end_date = old_end + timedelta(days=days)
    trip.delay_days += days
    timeline.record(
        session,
        object_type=ObjectType.TRIP,
        object_id=trip.id,
        event_type="DISRUPTION",
        action="tms.trip.shifted",
        actor=actor,
        content={
            "days": days,
            "reason": reason,
            "fromEnd": old_end.isoformat(),
            "toEnd": departure.end_date.isoformat(),
        },
    )
    timers.touch(session, ObjectType.TRIP, trip.id)  # the checkout and feedback follow the end
    for booking in trips.guests_of(session, trip):
        timers.touch(session, ObjectType.BOOKING, booking.id)
        _tell_guest(session, booking, days, reason)
    for assignment in session.query(Assignment).filter(
        Assignment.trip_id == trip.id, Assignment.status == AssignmentStatus.ACCEPTED
    ):
        notifications.to_staff(
            session,
            assignment.staff,
            texts.staff_trip_shifted(trip, days, reason, payroll_amount(trip, assignment)),
            purpose="staff_alert",
            object_type=ObjectType.TRIP,
            object_id=trip.id,
        )
    return trip


def _tell_guest(session: Session, booking: Booking, days: int, reason: str) -> None:
    notifications.to_contact(
        session,
        booking.contact,
        lambda: texts.trip_shifted(booking, days, reason),
        purpose="customer_update",
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
    )


def payroll_amount(trip: Trip, assignment: Assignment) -> int:
    """What the assignment pays: its agreed amount for the trek's days, and the same day rate
    for each contingency day used."""
    days = max(trip.departure.product.days, 1)
    extra = (assignment.compensation_minor * trip.delay_days * 2 + days) // (2 * days)
    return assignment.compensation_minor + extra
