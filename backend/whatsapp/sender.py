"""The outbox sender: delivers queued rows to the Graph API, in order per recipient, paced,
retrying what can be retried, and applying the 24-hour window and template rules."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
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
from backend.whatsapp.pacing import AsyncRateLimiter, RecipientPacer
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


@dataclass(frozen=True)
class Prepared:
    row_id: int
    recipient: str
    message: Text | Buttons | Template


class OutboxSender:
    """One pass: claim and prepare a batch in one transaction, send it concurrently (paced),
    record every outcome in one transaction."""

    def __init__(
        self, client: GraphClient, settings: Settings | None = None, *, batch: int = 100
    ) -> None:
        self.client = client
        self.settings = settings or get_settings()
        self.batch = batch
        rate = self.settings.whatsapp_rate_per_second
        # A quarter-second of burst: it absorbs the loop's pauses while the batches' database
        # work runs, and keeps any one second at most 1.25 x the rate.
        self.number_limit = AsyncRateLimiter(rate, max(rate / 4, 1.0))
        self.recipients = RecipientPacer(
            self.settings.recipient_interval_seconds, self.settings.recipient_burst
        )
        # Requests on the wire at once: enough to hide latency, few enough to reuse connections.
        self.concurrency = asyncio.Semaphore(16)
        self.sent = 0
        self.failed = 0

    async def run_once(self) -> int:
        """Send what is due now and wait for the outcomes; returns how many rows were handled."""
        prepared, handled = await asyncio.to_thread(self._claim_and_prepare)
        if prepared:
            await self._send_and_record(prepared)
        return handled

    async def _send_and_record(self, prepared: list[Prepared]) -> None:
        outcomes = await asyncio.gather(*(self._send(item) for item in prepared))
        await asyncio.to_thread(self._record, outcomes)

    async def run(
        self,
        stop: asyncio.Event,
        idle_sleep: float = 0.2,
        in_flight: int = 3,
        wakeup: asyncio.Event | None = None,
    ) -> None:
        """The service loop: while one batch is on the wire the next is claimed and prepared
        (leases keep batches apart and each recipient's messages in order)."""
        batches: set[asyncio.Task[None]] = set()

        async def one_pass() -> int:
            while len(batches) >= in_flight:
                await asyncio.wait(batches, return_when=asyncio.FIRST_COMPLETED)
            prepared, handled = await asyncio.to_thread(self._claim_and_prepare)
            if prepared:
                task = asyncio.create_task(self._send_and_record(prepared))
                batches.add(task)
                task.add_done_callback(batches.discard)
            return handled

        await run_until_stopped("outbox sender", one_pass, stop, idle_sleep, wakeup)
        if batches:
            await asyncio.gather(*batches, return_exceptions=True)

    async def _send(self, item: Prepared) -> tuple[int, str | errors.GraphError]:
        await self.number_limit.acquire()
        async with self.concurrency:
            try:
                return item.row_id, await self.client.send(wa_id(item.recipient), item.message)
            except errors.GraphError as exc:
                return item.row_id, exc

    def _claim_and_prepare(self) -> tuple[list[Prepared], int]:
        """Claim due rows, apply per-recipient pacing and the window and template rules."""
        prepared: list[Prepared] = []
        with transaction() as session:
            ids = claim(session, self.batch)
            rows = [session.get(OutboundMessage, row_id) for row_id in ids]  # loaded by the claim
            windows = outbox_rules.open_windows(
                session, {row.recipient_phone for row in rows if row}
            )
            for row_id in ids:
                row = session.get(OutboundMessage, row_id)
                assert row is not None
                wait = self.recipients.try_take(row.recipient_phone)
                if wait > 0:
                    row.next_attempt_at = clock.now() + timedelta(seconds=wait)
                    continue
                try:
                    message = outbox_rules.wire_message(
                        session, row, window_open=row.recipient_phone in windows
                    )
                except (outbox_rules.NoTemplate, MessageLimitError) as exc:
                    self._fail(row, None, str(exc))
                    continue
                row.attempts += 1
                prepared.append(Prepared(row.id, row.recipient_phone, message))
        return prepared, len(ids)

    def _record(self, outcomes: list[tuple[int, str | errors.GraphError]]) -> None:
        with transaction() as session:
            ids = [row_id for row_id, _ in outcomes]
            rows = {
                r.id: r
                for r in session.scalars(select(OutboundMessage).where(OutboundMessage.id.in_(ids)))
            }
            conversation_ids = {
                r.conversation_id for r in rows.values() if r.conversation_id and not r.object_type
            }
            conversations = (
                {
                    c.id: c
                    for c in session.scalars(
                        select(Conversation).where(Conversation.id.in_(conversation_ids))
                    )
                }
                if conversation_ids
                else {}
            )
            sent_wamids = []
            now = clock.now()
            for row_id, outcome in outcomes:
                row = rows[row_id]
                if isinstance(outcome, str):
                    row.provider_message_id = outcome
                    row.status = OutboxStatus.SENT
                    row.sent_at = now
                    row.next_attempt_at = None
                    row.error_code = None
                    self._log_outbound(session, row, conversations.get(row.conversation_id or ""))
                    sent_wamids.append(outcome)
                    self.sent += 1
                else:
                    self._record_error(session, row, outcome)
            session.flush()
            statuses.apply_pending(session, sent_wamids)

    def _record_error(self, session: Session, row: OutboundMessage, exc: errors.GraphError) -> None:
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
            logger.info("send of %s to retry after %s: %s", row.id, row.next_attempt_at, exc)
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
    def _log_outbound(
        session: Session, row: OutboundMessage, conversation: Conversation | None
    ) -> None:
        object_type, object_id = row.object_type, row.object_id
        if object_type is None and conversation is not None:
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
