"""What people send that is not words: photos, voice notes, documents, locations.

The row is written when the message arrives (so nothing is lost); the file itself is fetched
from the Graph API's media endpoint by the media fetcher, retried until it is stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.domain.whatsapp_ids import ADDRESS_LENGTH
from backend.models.base import Base, BigId, CreatedMixin, IdMixin


class MediaAttachment(IdMixin, CreatedMixin, Base):
    __tablename__ = "media_attachments"
    __table_args__ = (Index("ix_media_pending", "status", "next_attempt_at"),)

    inbound_message_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("inbound_messages.id"), unique=True
    )
    from_phone: Mapped[str] = mapped_column(String(ADDRESS_LENGTH), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # image | audio | video | document | ...
    media_id: Mapped[str | None] = mapped_column(String(120))  # Graph's id; none for locations
    mime_type: Mapped[str | None] = mapped_column(String(120))
    caption: Mapped[str | None] = mapped_column(Text)
    filename: Mapped[str | None] = mapped_column(String(240))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    storage_key: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    place: Mapped[str | None] = mapped_column(String(300))
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    trip_id: Mapped[str | None] = mapped_column(ForeignKey("trips.id"), index=True)
    incident_id: Mapped[str | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    # PENDING (to fetch) → STORED, or FAILED after the last attempt; LOCATION has no file;
    # SEALED: a traveller's photo, kept sealed in the traveller file instead.
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    stored_at: Mapped[datetime | None]
