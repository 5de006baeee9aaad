"""Trips: one per departure, found by its own reference or a booking's, and who travels on it.

Staff on a trip are in `assignments`, check-in and check-out in `attendance`, guests'
feedback in `feedback`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.domain import references
from backend.domain.actor import Actor
from backend.domain.enums import (
    BookingStatus,
    ObjectType,
    TripStatus,
)
from backend.domain.errors import NotFound
from backend.models import (
    Booking,
    Departure,
    Lead,
    Trip,
)
from backend.services import references as refs
from backend.services.state import log_created


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
