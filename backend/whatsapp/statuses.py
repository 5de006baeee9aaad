"""Delivery statuses: they arrive late, twice and out of order; a row only ever moves forward.

sent < delivered < read (read without delivered is fine); failed keeps its error code.
A delivered message is priced then, from the status's `pricing` object and the rate card
(`backend.services.message_prices`).
A `failed` with 131047 (the 24-hour window had closed) sends the message's template instead,
once; with 131050 / 131049 (Meta refused marketing to that user) marketing to them is
suppressed or paused (`backend.services.consent`), the message is not sent again.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from backend.domain.enums import OutboxStatus
from backend.models import MessageStatusEvent, OutboundMessage
from backend.services import consent, message_prices
from backend.whatsapp.errors import MarketingLimitHit, MarketingStopped, ReEngagementMessage

logger = logging.getLogger(__name__)

# The advisory-lock key space for wamids (the two-key form: no clash with other locks).
WAMID_LOCK_SPACE = 0x57A1D

RANK = {
    OutboxStatus.QUEUED: 0,
    OutboxStatus.SENT: 1,
    OutboxStatus.DELIVERED: 2,
    OutboxStatus.READ: 3,
}


def apply_pending(session: Session, wamids: list[str] | None = None) -> int:
    """Apply stored status events whose outbound row is known; returns how many were applied.

    Events for a wamid the outbox has not saved yet stay pending until it has.

    The webhook (storing an event) and the sender (recording a wamid) both call this for the
    same wamid from concurrent transactions. Without a lock each can miss the other's
    uncommitted half and the event stays pending for good (a "sent" tick that never turns
    "delivered"). A per-wamid advisory lock held to commit orders them: whoever comes second
    runs its query after the first has committed, and sees both halves.
    """
    query = select(MessageStatusEvent).where(MessageStatusEvent.applied.is_(False))
    if wamids is not None:
        if not wamids:
            return 0
        _lock_wamids(session, wamids)
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


def _lock_wamids(session: Session, wamids: list[str]) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite has one writer at a time: nothing to order
    # Sorted, so two transactions locking overlapping sets cannot deadlock.
    for wamid in sorted(set(wamids)):
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext(:wamid))"),
            {"space": WAMID_LOCK_SPACE, "wamid": wamid},
        )


def apply_status(session: Session, row: OutboundMessage, event: MessageStatusEvent) -> None:
    at = event.occurred_at or event.stored_at
    status = event.status
    if status == OutboxStatus.FAILED:
        if row.status == OutboxStatus.FAILED:
            return
        row.status = OutboxStatus.FAILED
        row.failed_at = at
        row.error_code = event.error_code
        errors = (event.payload or {}).get("errors")
        first = errors[0] if isinstance(errors, list) and errors else None
        detail = (first.get("title") or first.get("message")) if isinstance(first, dict) else None
        row.error_detail = str(detail or "")[:2000]
        if event.error_code == ReEngagementMessage.code:
            from backend.whatsapp import outbox_rules

            outbox_rules.queue_template_fallback(session, row)
        elif event.error_code in (MarketingStopped.code, MarketingLimitHit.code):
            # Not retried: marketing to them is suppressed (131050) or paused (131049).
            consent.refused_by_meta(session, row, event.error_code)
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
    if status in (OutboxStatus.DELIVERED, OutboxStatus.READ):
        # Meta bills a delivered message; a `read` stands for a `delivered` it skipped.
        pricing = (event.payload or {}).get("pricing")
        message_prices.price_delivered(
            session, row, pricing if isinstance(pricing, dict) else None, row.delivered_at or at
        )
        consent.marketing_delivered(session, row)
    if RANK[OutboxStatus(status)] > RANK.get(OutboxStatus(row.status), 0):
        row.status = status
