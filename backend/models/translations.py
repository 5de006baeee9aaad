"""Staff's own wording of the customer copy, per language (the console's Translations page)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, IdMixin


class StaffTranslation(IdMixin, Base):
    """One English text (a message id of backend/texts/) as staff write it in one language:
    read before the catalogue's translation (`backend.i18n.override`). No row: the catalogue's."""

    __tablename__ = "staff_translations"
    __table_args__ = (UniqueConstraint("language", "message_hash"),)

    language: Mapped[str] = mapped_column(String(8))  # ISO 639-1, a spoken one but English
    # The English text may be long: unique by its SHA-256 (hex), kept whole beside it.
    message_hash: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
    updated_by_staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
