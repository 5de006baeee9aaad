"""The operator's answers to travellers' practical questions, kept current by staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, IdMixin


class FaqAnswer(IdMixin, Base):
    """One topic's answer: the general one (no product) or one product's own."""

    __tablename__ = "faq_answers"
    __table_args__ = (UniqueConstraint("topic", "product_code", "language"),)

    topic: Mapped[str] = mapped_column(String(60), index=True)
    # The product's code where its answer differs ("" for the general answer: unique works).
    product_code: Mapped[str] = mapped_column(String(8), default="")
    # The language it is written in (ISO 639-1): a customer reads theirs, else the English.
    language: Mapped[str] = mapped_column(String(8), default="en")
    answer: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
    updated_by_staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
