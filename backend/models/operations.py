"""Running the trip: trips, staff assignments, attendance, payroll and incidents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, CreatedMixin, IdMixin, guard_status, status_column
from backend.models.catalog import Departure
from backend.models.people import Staff


class Trip(IdMixin, CreatedMixin, Base):
    __tablename__ = "trips"

    departure_id: Mapped[str] = mapped_column(ForeignKey("departures.id"), unique=True)
    reference: Mapped[str] = mapped_column(String(24))
    ref_key: Mapped[str] = mapped_column(String(24), unique=True)
    status: Mapped[str] = status_column()
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # Contingency days used under way (weather, a closed road): the rest of the itinerary, the
    # end and the staff's paid days moved by this many days (backend/services/trip_shifts.py).
    delay_days: Mapped[int] = mapped_column(default=0, server_default="0")
    # Where the group was last seen (a guide's shared location), and where it set off.
    last_latitude: Mapped[float | None] = mapped_column(Float)
    last_longitude: Mapped[float | None] = mapped_column(Float)
    last_position_at: Mapped[datetime | None]
    start_latitude: Mapped[float | None] = mapped_column(Float)
    start_longitude: Mapped[float | None] = mapped_column(Float)

    departure: Mapped[Departure] = relationship(lazy="joined")

    _guard = guard_status("status")


class Assignment(IdMixin, CreatedMixin, Base):
    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("trip_id", "staff_id"),)

    trip_id: Mapped[str] = mapped_column(ForeignKey("trips.id"), index=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), index=True)
    role: Mapped[str] = mapped_column(String(24))
    compensation_minor: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    status: Mapped[str] = status_column()
    offered_at: Mapped[datetime | None]
    responded_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]

    trip: Mapped[Trip] = relationship(lazy="joined")
    staff: Mapped[Staff] = relationship(lazy="joined")

    _guard = guard_status("status")


class Attendance(IdMixin, Base):
    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("trip_id", "staff_id"),)

    trip_id: Mapped[str] = mapped_column(ForeignKey("trips.id"), index=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), index=True)
    status: Mapped[str] = status_column()
    checked_in_at: Mapped[datetime]
    checked_out_at: Mapped[datetime | None]
    checkout_note: Mapped[str | None] = mapped_column(Text)

    _guard = guard_status("status")


class PayrollEntry(IdMixin, CreatedMixin, Base):
    __tablename__ = "payroll_entries"

    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), index=True)
    trip_id: Mapped[str] = mapped_column(ForeignKey("trips.id"), index=True)
    assignment_id: Mapped[str] = mapped_column(ForeignKey("assignments.id"), unique=True)
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))


class Incident(IdMixin, Base):
    __tablename__ = "incidents"

    trip_id: Mapped[str] = mapped_column(ForeignKey("trips.id"), index=True)
    reported_by_staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    description: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = status_column()
    location: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    resolution: Mapped[str | None] = mapped_column(Text)
    eta: Mapped[str | None] = mapped_column(String(60))
    reported_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]

    trip: Mapped[Trip] = relationship(lazy="joined")

    _guard = guard_status("status")

    @property
    def response_minutes(self) -> int | None:
        """Minutes from report to resolution (the workflow's "Response time")."""
        if self.resolved_at is None:
            return None
        return round((self.resolved_at - self.reported_at).total_seconds() / 60)
