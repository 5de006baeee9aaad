"""Messaging limits (Meta's tier and the users it counts) and marketing campaigns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.domain.whatsapp_ids import ADDRESS_LENGTH
from backend.models.base import Base, BigId, CreatedMixin, IdMixin


class MessagingLimit(Base):
    """The business portfolio's messaging limit as Meta last said it (one row, `portfolio`):
    its tier (`TIER_250`, `TIER_2K`, ..., `TIER_UNLIMITED`), where that came from (`api`, the
    phone number's field; `webhook`, phone_number_quality_update) and when."""

    __tablename__ = "messaging_limits"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    tier: Mapped[str] = mapped_column(String(24))
    source: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime]


class InitiatedConversation(Base):
    """A message that went to a user outside their customer service window: what Meta counts
    against the messaging limit (unique users in a moving 24 hours). Written by the sender in
    the transaction that puts the message on its way (backend/services/messaging_limits.py)."""

    __tablename__ = "initiated_conversations"
    __table_args__ = (Index("ix_initiated_conversations_at", "opened_at", "phone"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    opened_at: Mapped[datetime]
    outbound_id: Mapped[int | None] = mapped_column(BigId)
    purpose: Mapped[str | None] = mapped_column(String(40))


class Campaign(IdMixin, CreatedMixin, Base):
    """A staff-written marketing message to opted-in customers, as an approved marketing
    template (backend/services/campaigns.py). `audience`: {"kind": "past_travellers" |
    "enquiries" | "waitlist", "product": code, "departure": id}."""

    __tablename__ = "campaigns"

    name: Mapped[str] = mapped_column(String(120))
    template_name: Mapped[str] = mapped_column(String(512))
    template_params: Mapped[list[Any]] = mapped_column(default=list)
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)
    note: Mapped[str | None] = mapped_column(Text)
    # Replies within this many days of a recipient's message count as the campaign's.
    reply_days: Mapped[int] = mapped_column(default=7)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    sent_by: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    sent_at: Mapped[datetime | None]


class CampaignRecipient(Base):
    """One customer a campaign was sent to: once (unique per campaign and contact), with the
    outbox row that carries it."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (UniqueConstraint("campaign_id", "contact_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"))
    phone: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    outbound_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("outbound_messages.id"), index=True
    )
    queued_at: Mapped[datetime]
