"""The outbox sender: delivers queued rows to the Graph API, in order per recipient, paced,
retrying what can be retried, and applying the 24-hour window and template rules."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from backend import clock
from backend.config import Settings, get_settings
from backend.db import session_factory, transaction
from backend.domain.actor import Actor
from backend.domain.enums import ObjectType, OutboxStatus, Source
from backend.domain.phones import wa_id
from backend.models import Conversation, OutboundMessage
from backend.services import timeline
from backend.whatsapp import errors, outbox_rules, statuses
from backend.whatsapp.client import GraphClient
from backend.whatsapp.messages import Buttons, MessageLimitError, Template, Text
from backend.whatsapp.pacing import RecipientPacer, TokenBucket
from backend.workers import run_until_stopped

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)


def claim(session: Session, limit: int) -> list[int]:
    """Ids of the oldest due row of up to `limit` recipients, leased to this sender."""
    now = clock.now()
    earlier = aliased(OutboundMessage)
    query = (
        select(OutboundMessage)
        .where(
            OutboundMessage.status == OutboxStatus.QUEUED,
            or_(OutboundMessage.next_attempt_at.is_(None), OutboundMessage.next_attempt_at <= now),
            ~exists().where(
                and_(
                    earlier.recipient_phone == OutboundMessage.recipient_phone,
                    earlier.status == OutboxStatus.QUEUED,
                    earlier.id < OutboundMessage.id,
                )
            ),
        )
        .order_by(OutboundMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(session.scalars(query))
    for row in rows:
        row.next_attempt_at = now + LEASE
    return [row.id for row in rows]


def backoff(attempts: int, floor: float = 1.0) -> timedelta:
    return timedelta(seconds=max(floor, min(2 ** max(attempts - 1, 0), 120)))


class OutboxSender:
    def __init__(
        self, client: GraphClient, settings: Settings | None = None, *, batch: int = 100
    ) -> None:
        self.client = client
        self.settings = settings or get_settings()
        self.batch = batch
        rate = self.settings.whatsapp_rate_per_second
        self.number_bucket = TokenBucket(rate, max(rate, 1.0))
        self.recipients = RecipientPacer(
            self.settings.recipient_interval_seconds, self.settings.recipient_burst
        )
        self.sent = 0
        self.failed = 0

    async def run_once(self) -> int:
        """Send what is due now; returns how many rows were handled."""
        ids = await asyncio.to_thread(self._claim)
        if not ids:
            return 0
        await asyncio.gather(*(self._deliver(row_id) for row_id in ids))
        return len(ids)

    async def run(self, stop: asyncio.Event, idle_sleep: float = 0.2) -> None:
        await run_until_stopped("outbox sender", self.run_once, stop, idle_sleep)

    def _claim(self) -> list[int]:
        with transaction() as session:
            return claim(session, self.batch)

    async def _deliver(self, row_id: int) -> None:
        prepared = await asyncio.to_thread(self._prepare, row_id)
        if prepared is None:
            return
        recipient, message = prepared
        while (wait := self.number_bucket.try_take()) > 0:
            await asyncio.sleep(wait)
        try:
            wamid = await self.client.send(wa_id(recipient), message)
        except errors.GraphError as exc:
            await asyncio.to_thread(self._record_error, row_id, exc)
            return
        await asyncio.to_thread(self._record_sent, row_id, wamid)

    def _prepare(self, row_id: int) -> tuple[str, Text | Buttons | Template] | None:
        """Pacing per recipient, then the wire message (window and template rules)."""
        with transaction() as session:
            row = session.get(OutboundMessage, row_id)
            if row is None or row.status != OutboxStatus.QUEUED:
                return None
            wait = self.recipients.try_take(row.recipient_phone)
            if wait > 0:
                row.next_attempt_at = clock.now() + timedelta(seconds=wait)
                return None
            try:
                message = outbox_rules.wire_message(session, row)
            except (outbox_rules.NoTemplate, MessageLimitError) as exc:
                self._fail(row, None, str(exc))
                return None
            row.attempts += 1
            return row.recipient_phone, message

    def _record_sent(self, row_id: int, wamid: str) -> None:
        with transaction() as session:
            row = session.get(OutboundMessage, row_id)
            assert row is not None
            row.provider_message_id = wamid
            row.status = OutboxStatus.SENT
            row.sent_at = clock.now()
            row.next_attempt_at = None
            row.error_code = None
            self._log_outbound(session, row)
            statuses.apply_pending(session, [wamid])
        self.sent += 1

    def _record_error(self, row_id: int, exc: errors.GraphError) -> None:
        with transaction() as session:
            row = session.get(OutboundMessage, row_id)
            assert row is not None
            if isinstance(exc, errors.ReEngagementMessage):
                self._fail(row, exc.code, str(exc))
                outbox_rules.queue_template_fallback(session, row)
            elif exc.retryable and row.attempts < self.settings.send_max_attempts:
                floor = (
                    self.settings.recipient_interval_seconds
                    if isinstance(exc, errors.PairRateLimitHit)
                    else 1.0
                )
                row.next_attempt_at = clock.now() + backoff(row.attempts, floor)
                row.error_code = exc.code or None
                row.error_detail = str(exc)[:2000]
                logger.warning("send of %s to retry after %s: %s", row_id, row.next_attempt_at, exc)
            else:
                self._fail(row, exc.code or None, str(exc))

    def _fail(self, row: OutboundMessage, code: int | None, detail: str) -> None:
        row.status = OutboxStatus.FAILED
        row.failed_at = clock.now()
        row.error_code = code
        row.error_detail = detail[:2000]
        row.next_attempt_at = None
        self.failed += 1
        logger.warning("outbound %s to %s failed: %s %s", row.id, row.recipient_phone, code, detail)

    @staticmethod
    def _log_outbound(session: Session, row: OutboundMessage) -> None:
        object_type, object_id = row.object_type, row.object_id
        if object_type is None and row.conversation_id:
            conversation = session.get(Conversation, row.conversation_id)
            if conversation is not None:
                object_type = conversation.object_type or ObjectType.CONVERSATION
                object_id = conversation.object_id or conversation.id
        if object_type is None:
            object_type = ObjectType.STAFF if row.staff_id else ObjectType.CONTACT
            object_id = row.staff_id or row.contact_id or row.recipient_phone
        timeline.record(
            session,
            object_type=object_type,
            object_id=str(object_id),
            event_type="MESSAGE",
            action="tms.message.outbound",
            actor=Actor(Source.SYSTEM, conversation_id=row.conversation_id),
            content={
                "text": row.body if row.kind != "template" else f"[template {row.template_name}]",
                "direction": "outbound",
                "to": row.recipient_phone,
                "purpose": row.purpose,
                "wamid": row.provider_message_id,
            },
        )


def outbox_depth() -> dict[str, int]:
    with session_factory()() as session:
        rows = session.execute(
            select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status)
        )
        return {str(status): int(count) for status, count in rows}
