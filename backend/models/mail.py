"""E-mail: the mail outbox, the same durable pattern as the WhatsApp outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, BigId, CreatedMixin


class OutboundEmail(CreatedMixin, Base):
    """One e-mail, queued in the transaction that causes it and sent by the mail worker.

    `dedupe_key` makes queueing the same e-mail twice a no-op (one confirmation per booking);
    `message_id` is fixed when queued, so the message is the same whoever sends it."""

    __tablename__ = "outbound_emails"
    __table_args__ = (Index("ix_outbound_emails_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    purpose: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(200))
    contact_id: Mapped[str | None] = mapped_column(ForeignKey("contacts.id"))
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    # What to attach, generated when sent: [{"kind": "pre_trek_guide", "product_id": ...}].
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    object_type: Mapped[str | None] = mapped_column(String(24))
    object_id: Mapped[str | None] = mapped_column(String(36))
