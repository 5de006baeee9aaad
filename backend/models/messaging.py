"""WhatsApp traffic: the durable inbox, status events and the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.domain.whatsapp_ids import ADDRESS_LENGTH
from backend.models.base import Base, BigId, CreatedMixin


class InboundMessage(Base):
    """One message from WhatsApp, stored before it is answered; unique on Meta's wamid."""

    __tablename__ = "inbound_messages"
    __table_args__ = (Index("ix_inbound_pending", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    wamid: Mapped[str] = mapped_column(String(160), unique=True)
    # The sender's address (phone, else BSUID: backend/domain/whatsapp_ids.py); its BSUID too.
    from_phone: Mapped[str] = mapped_column(String(ADDRESS_LENGTH), index=True)
    from_user_id: Mapped[str | None] = mapped_column(String(ADDRESS_LENGTH))
    # The key the message is ordered under (its sender's, whichever identifier it carries):
    # set by the inbox's claim when it first sees the message (`inbox.assign_sender_keys`).
    sender_key: Mapped[str | None] = mapped_column(String(ADDRESS_LENGTH), index=True)
    phone_number_id: Mapped[str | None] = mapped_column(String(40))
    profile_name: Mapped[str | None] = mapped_column(String(120))
    message_type: Mapped[str] = mapped_column(String(24))
    text: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sent_at: Mapped[datetime | None]
    stored_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="PENDING")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]
    # Who holds the row now (a claim's token): an outcome is recorded only by its holder.
    lease_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id"))


class MessageStatusEvent(Base):
    """A delivery status from a webhook; (wamid, status) makes a repeat a no-op."""

    __tablename__ = "message_status_events"
    __table_args__ = (UniqueConstraint("wamid", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    wamid: Mapped[str] = mapped_column(String(160), index=True)
    status: Mapped[str] = mapped_column(String(16))
    recipient_phone: Mapped[str | None] = mapped_column(String(ADDRESS_LENGTH))
    occurred_at: Mapped[datetime | None]
    error_code: Mapped[int | None]
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    stored_at: Mapped[datetime]
    applied: Mapped[bool] = mapped_column(default=False)


# Purposes whose text is a secret for its recipient alone (a sign-in code): never shown in a
# listing, an API answer or another staff member's console.
SECRET_PURPOSES = frozenset({"staff_sign_in_code"})


class OutboundMessage(CreatedMixin, Base):
    """The outbox: every message the product sends, and what became of it.

    The integer id is the send order; messages to one recipient leave in id order.
    """

    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_outbound_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    recipient_phone: Mapped[str] = mapped_column(String(ADDRESS_LENGTH), index=True)
    contact_id: Mapped[str | None] = mapped_column(ForeignKey("contacts.id"))
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    kind: Mapped[str] = mapped_column(String(16))  # text | buttons | list | flow | template
    body: Mapped[str | None] = mapped_column(Text)
    buttons: Mapped[list[Any]] = mapped_column(default=list)
    # A flow message's Flow: {"flow_id", "flow_token", "cta", "screen", "data"}.
    flow: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    # The proactive kind of message ("trip_started", ...): picks the template outside 24 h.
    purpose: Mapped[str | None] = mapped_column(String(40))
    template_name: Mapped[str | None] = mapped_column(String(80))
    template_language: Mapped[str | None] = mapped_column(String(10))
    template_params: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    # Who holds the row now (a batch's token): an outcome is recorded only by its holder.
    lease_token: Mapped[str | None] = mapped_column(String(32))
    provider_message_id: Mapped[str | None] = mapped_column(String(160), unique=True)
    error_code: Mapped[int | None]
    error_detail: Mapped[str | None] = mapped_column(Text)
    object_type: Mapped[str | None] = mapped_column(String(24))
    object_id: Mapped[str | None] = mapped_column(String(36))
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id"))
    fallback_of_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("outbound_messages.id"))
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]

    @property
    def shown_body(self) -> str | None:
        """The text as staff may see it (a sign-in code is masked)."""
        return "[sign-in code, hidden]" if self.purpose in SECRET_PURPOSES else self.body


class ActionReceipt(Base):
    """What a custom action answered to one WhatsApp message (by wamid).

    Written in the same transaction as the action's business effect, so when the same message
    is processed again (a retry after a crash) the action replays its answer instead of acting
    twice.
    """

    __tablename__ = "action_receipts"
    __table_args__ = (UniqueConstraint("wamid", "action_name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    wamid: Mapped[str] = mapped_column(String(160))
    action_name: Mapped[str] = mapped_column(String(64))
    messages: Mapped[list[Any]] = mapped_column(default=list)
    events: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]


class SendingSlots(Base):
    """A rate limit that every sender process shares (the business number's messages per
    second): the database's clock time, in seconds, from which the next message may go out.
    Senders reserve slots from here a batch at a time (backend/whatsapp/pacing.py)."""

    __tablename__ = "sending_slots"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_free: Mapped[float] = mapped_column(Float)


class RecipientPacing(Base):
    """One recipient's token bucket for Meta's per-recipient pacing, shared by every sender
    process (backend/whatsapp/pacing.py SharedRecipientPacer): the tokens left when it was last
    used, then (the database's clock, in seconds), and whether that use got a token."""

    __tablename__ = "recipient_pacing"

    phone: Mapped[str] = mapped_column(String(ADDRESS_LENGTH), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    at: Mapped[float] = mapped_column(Float)
    granted: Mapped[bool] = mapped_column(Boolean)
