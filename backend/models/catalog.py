"""What the operator sells: products (treks) and their departures."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, CreatedMixin, IdMixin


class Product(IdMixin, CreatedMixin, Base):
    __tablename__ = "products"

    code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    short_name: Mapped[str] = mapped_column(String(60))
    aliases: Mapped[list[Any]] = mapped_column(default=list)
    days: Mapped[int]
    price_per_person_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    deposit_percent: Mapped[int] = mapped_column(default=30)
    early_bird_percent: Mapped[int] = mapped_column(default=0)
    early_bird_days_before: Mapped[int] = mapped_column(default=0)
    balance_due_days_before: Mapped[int] = mapped_column(default=15)
    # Guaranteed departures (issue 27): the fewest confirmed travellers a departure runs with,
    # decided this many days before it starts (None: every departure runs).
    min_group_size: Mapped[int | None]
    guarantee_days_before: Mapped[int | None]
    inclusions: Mapped[list[Any]] = mapped_column(default=list)
    # Day by day: [{"days": "1", "title": ..., "detail": ...}] (the track page, the e-mails).
    itinerary: Mapped[list[Any]] = mapped_column(default=list)
    # What to bring (the pre-trek guide).
    packing_list: Mapped[list[Any]] = mapped_column(default=list)
    # What a traveller who describes a wish rather than a name needs matched (recommendations).
    difficulty: Mapped[str] = mapped_column(
        String(16), default="moderate"
    )  # easy|moderate|challenging
    max_altitude_m: Mapped[int | None]
    # Permit codes (backend.domain.permits), each traveller's papers filed for them.
    permits: Mapped[list[Any]] = mapped_column(default=list)
    min_age: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    departures: Mapped[list[Departure]] = relationship(back_populates="product")


class Departure(IdMixin, CreatedMixin, Base):
    __tablename__ = "departures"
    __table_args__ = (UniqueConstraint("product_id", "start_date"),)

    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), index=True)
    start_date: Mapped[date]
    end_date: Mapped[date]
    capacity: Mapped[int]
    meeting_point: Mapped[str] = mapped_column(String(120), default="Kathmandu Airport")
    meeting_time: Mapped[str] = mapped_column(String(5), default="06:00")
    # The product's minimum overridden for this departure, and operations' decision at the
    # deadline when it was not reached (RUN or CANCELLED; backend/services/guarantees.py).
    min_group_size: Mapped[int | None]
    guarantee_decision: Mapped[str | None] = mapped_column(String(16))

    product: Mapped[Product] = relationship(back_populates="departures", lazy="joined")
