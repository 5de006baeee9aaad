"""The append-only timeline. Rows are only ever inserted (a trigger refuses the rest)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, BigId


class TimelineEvent(Base):
    __tablename__ = "timeline_events"
    __table_args__ = (
        Index("ix_timeline_object", "object_type", "object_id", "occurred_at"),
        Index("ix_timeline_occurred", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    object_type: Mapped[str] = mapped_column(String(24))
    object_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(32))
    # pretix-style dotted name of what happened, e.g. `tms.booking.status.held`.
    action: Mapped[str] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(16))
    actor_phone: Mapped[str | None] = mapped_column(String(20))
    actor_staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id"), index=True)
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    occurred_at: Mapped[datetime]

    def as_dict(self) -> dict[str, Any]:
        """The workflow's JSON shape."""
        return {
            "id": self.id,
            "objectType": self.object_type,
            "objectId": self.object_id,
            "eventType": self.event_type,
            "action": self.action,
            "source": self.source,
            "actorPhone": self.actor_phone,
            "actorStaffId": self.actor_staff_id,
            "conversationId": self.conversation_id,
            "content": self.content,
            "occurredAt": self.occurred_at.isoformat(),
        }
