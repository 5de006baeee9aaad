"""WhatsApp message templates as Meta holds them: one row per name and language."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, IdMixin


class MessageTemplate(IdMixin, Base):
    """One template in one language, as the last sync or webhook from Meta left it (seeded
    from backend/whatsapp/templates.yml). Only an APPROVED one is ever sent."""

    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("name", "language"),)

    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(16))  # Meta's code: en, en_US, de, pt_BR
    category: Mapped[str] = mapped_column(String(24))  # UTILITY, MARKETING, AUTHENTICATION
    status: Mapped[str] = mapped_column(String(24))  # APPROVED, PENDING, PAUSED, DISABLED, ...
    quality: Mapped[str] = mapped_column(String(16), default="UNKNOWN")  # GREEN, YELLOW, RED
    body: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[int] = mapped_column(default=0)
    quick_replies: Mapped[list[Any]] = mapped_column(default=list)
    meta_id: Mapped[str | None] = mapped_column(String(64))
    # The category before Meta's last reclassification (template_category_update), if any.
    previous_category: Mapped[str | None] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(Text)  # Meta's reason for the last status
    updated_at: Mapped[datetime]
