"""Seats on departures: counting them, locking them, holding and releasing them.

Availability = capacity − seats of payment-pending/confirmed/completed bookings − live holds −
live waitlist offers. It is always computed from those rows, never from a cached counter.
Taking seats locks the departure first and re-checks inside the lock (pretix `locking.py`);
a lock that cannot be had in time is `InventoryBusy`, never an oversell.

A departure operations moved away or cancelled takes nobody new (`closed_reason`, the one
rule every hold, booking, waitlist entry and customer-facing list of dates asks).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from backend import clock
from backend.config import get_settings
from backend.db import is_sqlite
from backend.domain.actor import Actor
from backend.domain.enums import (
    GuaranteeDecision,
    HoldStatus,
    MoveOfferStatus,
    ObjectType,
    WaitlistStatus,
)
from backend.domain.errors import DepartureClosed, InventoryBusy, NotEnoughSeats, NotFound
from backend.domain.states import HOLD, SEAT_TAKING_BOOKING_STATES
from backend.models import Booking, Departure, DepartureMove, Hold, MoveOffer, WaitlistEntry
from backend.services import timeline, timers
from backend.services.state import change_state, log_created


@dataclass(frozen=True)
class SeatCounts:
    capacity: int
    confirmed: int
    held: int
    offered: int
    waitlisted: int

    @property
    def available(self) -> int:
        return max(self.capacity - self.confirmed - self.held - self.offered, 0)

    @property
    def is_full(self) -> bool:
        return self.available == 0


def seat_counts(session: Session, departure: Departure, at: datetime | None = None) -> SeatCounts:
    at = at or clock.now()
    confirmed = session.scalar(
        select(func.coalesce(func.sum(Booking.party_size), 0)).where(
            Booking.departure_id == departure.id,
            Booking.status.in_([str(s) for s in SEAT_TAKING_BOOKING_STATES]),
        )
    )
    held = session.scalar(
        select(func.coalesce(func.sum(Hold.seats), 0)).where(
            Hold.departure_id == departure.id,
            Hold.status == HoldStatus.ACTIVE,
            Hold.expires_at > at,
        )
    )
    offered = session.scalar(
        select(func.coalesce(func.sum(WaitlistEntry.party_size), 0)).where(
            WaitlistEntry.departure_id == departure.id,
            WaitlistEntry.status == WaitlistStatus.OFFERED,
            WaitlistEntry.offer_expires_at > at,
        )
    )
    # Seats set aside on this departure for the bookings of a departure moved here, while
    # their offer runs (backend/services/departure_moves.py): counted like a waitlist offer.
    moving = session.scalar(
        select(func.coalesce(func.sum(MoveOffer.seats), 0)).where(
            MoveOffer.to_departure_id == departure.id,
            MoveOffer.status == MoveOfferStatus.OFFERED,
            MoveOffer.held.is_(True),
            MoveOffer.expires_at > at,
        )
    )
    waitlisted = session.scalar(
        select(func.count()).where(
            WaitlistEntry.departure_id == departure.id,
            WaitlistEntry.status == WaitlistStatus.WAITING,
        )
    )
    return SeatCounts(
        capacity=departure.capacity,
        confirmed=int(confirmed or 0),
        held=int(held or 0),
        offered=int(offered or 0) + int(moving or 0),
        waitlisted=int(waitlisted or 0),
    )


def lock_departure(session: Session, departure_id: str) -> Departure:
    """Take the departure's write lock for the rest of the transaction.

    PostgreSQL: `SELECT ... FOR UPDATE` with a lock timeout. SQLite: the transaction already
    began with `BEGIN IMMEDIATE`, which serialises all writers.
    """
    if not is_sqlite(session):
        timeout_ms = int(get_settings().lock_timeout_ms)
        session.execute(text(f"SET LOCAL lock_timeout = '{timeout_ms}ms'"))
    try:
        departure = session.scalar(
            select(Departure)
            .where(Departure.id == departure_id)
            .with_for_update(of=Departure)
            .execution_options(populate_existing=True)
        )
    except OperationalError as exc:
        if "lock" in str(exc).lower():
            raise InventoryBusy(
                "The departure is busy with other bookings; nothing was changed, please try again"
            ) from exc
        raise
    if departure is None:
        raise NotFound(f"No departure {departure_id}")
    return departure


CLOSED_MOVED, CLOSED_CANCELLED = "moved", "cancelled"


def closed_reason(session: Session, departure: Departure) -> str | None:
    """Why the departure takes no new holds, bookings or waitlist entries and is not offered
    to customers: "cancelled" (operations cancelled it at its guarantee deadline) or "moved"
    (its bookings were offered a move to other dates); None while it is open. The bookings it
    already has keep their seats and payments until they answer the move."""
    if departure.guarantee_decision == GuaranteeDecision.CANCELLED:
        return CLOSED_CANCELLED
    moved = session.scalar(
        select(DepartureMove.id).where(DepartureMove.departure_id == departure.id).limit(1)
    )
    return CLOSED_MOVED if moved is not None else None


def is_open(session: Session, departure: Departure) -> bool:
    return closed_reason(session, departure) is None


def ensure_open(session: Session, departure: Departure) -> None:
    """Raise DepartureClosed when the departure takes nobody new (`closed_reason`). Call
    with the departure locked where seats are taken: a move or a cancellation committed a
    moment ago is seen."""
    why = closed_reason(session, departure)
    if why is not None:
        raise DepartureClosed(why)


def ensure_available(session: Session, departure: Departure, seats: int) -> SeatCounts:
    """Raise NotEnoughSeats unless `seats` are free. Call with the departure locked."""
    counts = seat_counts(session, departure)
    if seats > counts.available:
        raise NotEnoughSeats(seats, counts.available)
    return counts


def _add_hold(
    session: Session, booking: Booking, departure: Departure, expires_at: datetime, actor: Actor
) -> Hold:
    hold = Hold(
        booking_id=booking.id,
        departure_id=departure.id,
        seats=booking.party_size,
        status=HoldStatus.ACTIVE,
        expires_at=expires_at,
    )
    session.add(hold)
    timers.touch(session, ObjectType.BOOKING, booking.id)
    log_created(
        session,
        hold,
        ObjectType.HOLD,
        actor,
        booking=booking.reference,
        seats=hold.seats,
        expiresAt=expires_at.isoformat(),
    )
    timeline.record(
        session,
        object_type=ObjectType.DEPARTURE,
        object_id=departure.id,
        event_type="INVENTORY",
        action="tms.departure.hold.created",
        actor=actor,
        content={
            "booking": booking.reference,
            "seats": hold.seats,
            "expiresAt": expires_at.isoformat(),
        },
    )
    return hold


def place_hold_on_offered_seats(
    session: Session, booking: Booking, departure: Departure, *, expires_at: datetime, actor: Actor
) -> Hold:
    """Turn a live waitlist offer into a hold: the seats were set aside by the offer, so the
    offer is closed and the hold created under the departure's lock (the caller holds it and
    has re-checked the offer under it), without a gap."""
    return _add_hold(session, booking, departure, expires_at, actor)


def active_hold(session: Session, booking: Booking) -> Hold | None:
    return session.scalar(
        select(Hold).where(Hold.booking_id == booking.id, Hold.status == HoldStatus.ACTIVE)
    )


def close_hold(session: Session, hold: Hold, outcome: HoldStatus, actor: Actor) -> None:
    """CONVERTED (paid), RELEASED (cancelled) or EXPIRED. Freeing seats needs no lock."""
    change_state(session, hold, HOLD, outcome, actor)
    hold.closed_at = clock.now()
    timeline.record(
        session,
        object_type=ObjectType.DEPARTURE,
        object_id=hold.departure_id,
        event_type="INVENTORY",
        action=f"tms.departure.hold.{str(outcome).lower()}",
        actor=actor,
        content={"holdId": hold.id, "seats": hold.seats},
    )
