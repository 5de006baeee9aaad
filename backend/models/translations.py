"""Staff's own wording of the customer copy, and of each trek's own texts, per language (the
console's Translations page)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
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
    # A text with a count: staff's wording of each plural form of the language, in the
    # catalogue's order (`text` holds the first). None for a text without a count.
    forms: Mapped[list[Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime]
    updated_by_staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))


class TrekText(IdMixin, Base):
    """A trek's own texts (the catalogue's product data) as staff write them in one language:
    read by `backend.texts.treks.trek_texts`, field by field, before the English. A field left
    None (a day line's title or detail left empty) is read in English."""

    __tablename__ = "trek_texts"
    __table_args__ = (UniqueConstraint("product_id", "language"),)

    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), index=True)
    language: Mapped[str] = mapped_column(String(8))  # ISO 639-1, a spoken one but English
    name: Mapped[str | None] = mapped_column(String(120))
    # [{"title": ..., "detail": ...}], one per line of the English itinerary, by position.
    itinerary: Mapped[list[Any] | None] = mapped_column(JSON)
    inclusions: Mapped[list[Any] | None] = mapped_column(JSON)
    packing_list: Mapped[list[Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime]
    updated_by_staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
