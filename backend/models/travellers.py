"""The traveller file: one row per traveller of a booking (a party of N has N), holding the
papers every trek in Nepal needs. What a dump must not reveal is sealed (`backend.sealing`):
the details as one sealed JSON document, the photos as sealed files in the media folder. In
the clear: the name (reminders say whose papers are missing), what is missing and the flags
(SALES sees completeness only), and who verified and locked it, when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend import clock
from backend.models.base import Base, CreatedMixin, IdMixin


class Traveller(IdMixin, CreatedMixin, Base):
    __tablename__ = "travellers"
    __table_args__ = (UniqueConstraint("booking_id", "position"),)

    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id"), index=True)
    position: Mapped[int]  # 1 is the booker unless they said otherwise
    full_name: Mapped[str | None] = mapped_column(String(120))
    # backend.domain.travellers.FIELDS' sealed values, as one sealed JSON document.
    sealed_details: Mapped[str | None] = mapped_column(Text)
    # Sealed files in the media folder (keys), and their types.
    passport_photo_key: Mapped[str | None] = mapped_column(String(120))
    passport_photo_type: Mapped[str | None] = mapped_column(String(40))
    portrait_photo_key: Mapped[str | None] = mapped_column(String(120))
    portrait_photo_type: Mapped[str | None] = mapped_column(String(40))
    # A photo sent in the chat, reserved here until the media fetcher has its bytes.
    passport_photo_media_id: Mapped[str | None] = mapped_column(String(36))
    portrait_photo_media_id: Mapped[str | None] = mapped_column(String(36))
    # Field and photo names still empty; what ops must weigh (domain.travellers.FLAG_WORDS).
    missing: Mapped[list[Any]] = mapped_column(default=list)
    flags: Mapped[list[Any]] = mapped_column(default=list)
    verified_at: Mapped[datetime | None]
    verified_by: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    locked_at: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    # Set when the papers were purged (days after the trip, or at the customer's request).
    purged_at: Mapped[datetime | None]
