"""Delivery statuses: they arrive late, twice and out of order; a row only ever moves forward.

sent < delivered < read (read without delivered is fine); failed keeps its error code.
A `failed` with 131047 (the 24-hour window had closed) sends the message's template instead,
once.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.domain.enums import OutboxStatus
from backend.models import MessageStatusEvent, OutboundMessage
from backend.whatsapp.errors import ReEngagementMessage

logger = logging.getLogger(__name__)

RANK = {
    OutboxStatus.QUEUED: 0,
    OutboxStatus.SENT: 1,
    OutboxStatus.DELIVERED: 2,
    OutboxStatus.READ: 3,
}


def apply_pending(session: Session, wamids: list[str] | None = None) -> int:
    """Apply stored status events whose outbound row is known; returns how many were applied.

    Events for a wamid the outbox has not saved yet stay pending until it has.
    """
    query = select(MessageStatusEvent).where(MessageStatusEvent.applied.is_(False))
    if wamids is not None:
        if not wamids:
            return 0
        query = query.where(MessageStatusEvent.wamid.in_(wamids))
    applied = 0
    for event in session.scalars(query.order_by(MessageStatusEvent.id)):
        row = session.scalar(
            select(OutboundMessage).where(OutboundMessage.provider_message_id == event.wamid)
        )
        if row is None:
            continue
        apply_status(session, row, event)
        event.applied = True
        applied += 1
    return applied


def apply_status(session: Session, row: OutboundMessage, event: MessageStatusEvent) -> None:
    at = event.occurred_at or event.stored_at
    status = event.status
    if status == OutboxStatus.FAILED:
        if row.status == OutboxStatus.FAILED:
            return
        row.status = OutboxStatus.FAILED
        row.failed_at = at
        row.error_code = event.error_code
        errors = (event.payload or {}).get("errors") or [{}]
        row.error_detail = str(errors[0].get("title") or errors[0].get("message") or "")[:2000]
        if event.error_code == ReEngagementMessage.code:
            from backend.whatsapp import outbox_rules

            outbox_rules.queue_template_fallback(session, row)
        return
    if status not in (OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.READ):
        logger.info("unknown status %r for %s kept, not applied", status, event.wamid)
        return
    if row.status == OutboxStatus.FAILED:
        return  # a late "delivered" does not undo a failure
    if status == OutboxStatus.SENT:
        row.sent_at = row.sent_at or at
    elif status == OutboxStatus.DELIVERED:
        row.delivered_at = row.delivered_at or at
    elif status == OutboxStatus.READ:
        row.read_at = row.read_at or at
    if RANK[OutboxStatus(status)] > RANK.get(OutboxStatus(row.status), 0):
        row.status = status
