"""Disruption: a booking asked to move to another departure (issue 27)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, CreatedMixin, IdMixin, guard_status, status_column
from backend.models.catalog import Departure
from backend.models.sales import Booking


class RescheduleRequest(IdMixin, CreatedMixin, Base):
    """One booking to another departure: asked by the customer in the chat (the rep decides)
    or made by staff (approved at once). The fee is the policy's on the day it was asked."""

    __tablename__ = "reschedule_requests"
    __table_args__ = (
        # One open request per booking, kept by the database (a second tap finds the first).
        Index(
            "uq_reschedule_requests_one_open",
            "booking_id",
            unique=True,
            postgresql_where=text("status = 'REQUESTED'"),
            sqlite_where=text("status = 'REQUESTED'"),
        ),
    )

    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id"), index=True)
    from_departure_id: Mapped[str] = mapped_column(ForeignKey("departures.id"))
    to_departure_id: Mapped[str] = mapped_column(ForeignKey("departures.id"))
    status: Mapped[str] = status_column()
    fee_minor: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3))
    channel: Mapped[str] = mapped_column(String(16))  # chat | console | api
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(300))

    booking: Mapped[Booking] = relationship()
    from_departure: Mapped[Departure] = relationship(foreign_keys=[from_departure_id])
    to_departure: Mapped[Departure] = relationship(foreign_keys=[to_departure_id])

    _guard = guard_status("status")


class DepartureMove(IdMixin, CreatedMixin, Base):
    """A whole departure moved by operations (weather, a road, too few travellers): each of its
    bookings is offered the target's dates, another departure or a cancellation."""

    __tablename__ = "departure_moves"

    departure_id: Mapped[str] = mapped_column(ForeignKey("departures.id"), index=True)
    to_departure_id: Mapped[str] = mapped_column(ForeignKey("departures.id"))
    reason: Mapped[str] = mapped_column(String(300))
    offer_expires_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))

    departure: Mapped[Departure] = relationship(foreign_keys=[departure_id])
    to_departure: Mapped[Departure] = relationship(foreign_keys=[to_departure_id])


class MoveOffer(IdMixin, CreatedMixin, Base):
    """One booking's offer in a departure move. `held`: its seats are set aside on the target
    until `expires_at` (counted by `inventory.seat_counts` like a waitlist offer)."""

    __tablename__ = "move_offers"
    __table_args__ = (UniqueConstraint("move_id", "booking_id"),)

    move_id: Mapped[str] = mapped_column(ForeignKey("departure_moves.id"), index=True)
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id"), index=True)
    to_departure_id: Mapped[str] = mapped_column(ForeignKey("departures.id"), index=True)
    seats: Mapped[int]
    held: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = status_column()
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]

    move: Mapped[DepartureMove] = relationship()
    booking: Mapped[Booking] = relationship()

    _guard = guard_status("status")
