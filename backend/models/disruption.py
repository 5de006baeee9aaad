"""Disruption: a booking asked to move to another departure (issue 27)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
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
