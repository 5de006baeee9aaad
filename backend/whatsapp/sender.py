"""The outbox sender: delivers queued rows to the Graph API, in order per recipient, paced,
retrying what can be retried, and applying the 24-hour window and template rules.

Delivery is at least once, in order per recipient:
- A row goes out under its batch's lease, and a recipient's row is claimed only when none of
  their earlier rows is still queued (waiting for a retry, on the wire, or held by a sender that
  died until its lease runs out): a later message never overtakes an earlier one.
- A request is given up before its batch's lease ends, so a sender that lost its lease (stalled,
  cut off from the database) cannot land a copy after what the row's next holder sent.
- The Graph API has no idempotency key (`biz_opaque_callback_data` is only echoed in status
  webhooks). A sender that dies after Meta took a message and before recording it leaves the row
  to go out again once its lease has run out, and a request whose answer never came is retried:
  the recipient may get that message again, the copies one after the other, before anything
  later. Each copy on the wire is one of the row's `attempts`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from backend import clock, queue, texts
from backend.config import Settings, get_settings
from backend.db import rows_affected, session_factory, transaction
from backend.domain.actor import Actor
from backend.domain.enums import ObjectType, OutboxStatus, Role, Source
from backend.domain.phones import wa_id
from backend.domain.whatsapp_messages import MessageLimitError, WireMessage
from backend.models import Conversation, OutboundMessage
from backend.services import (
    consent,
    message_templates,
    messaging_limits,
    notifications,
    timeline,
)
from backend.whatsapp import errors, outbox_rules, statuses
from backend.whatsapp.client import GraphClient
from backend.whatsapp.pacing import RecipientPacer, SendingSlots, SharedRecipientPacer
from backend.workers import run_until_stopped

logger = logging.getLogger(__name__)

RECORD_ATTEMPTS = 6
# How long a returned outcome waits for others to share its transaction. Short: a message Meta
# took is sent again if the process dies before this transaction commits (0.1 s left up to five
# replies of a burst to go out twice when the chaos test killed the backend mid-burst).
RECORD_GATHER_SECONDS = 0.02


def lease_length() -> timedelta:
    """How long a claimed batch stays with its sender (OUTBOX_LEASE_SECONDS)."""
    return timedelta(seconds=get_settings().outbox_lease_seconds)


# A message is not put on the wire with less than this share of its batch's lease left.
LEASE_MARGIN_SHARE = 1 / 6


def _place(row: Any) -> ColumnElement[int]:
    """A template sent in place of a refused message (131047) goes where that message was: the
    recipient's next message waits for it."""
    return func.coalesce(row.fallback_of_id, row.id)


def claim(session: Session, limit: int) -> list[int]:
    """Ids of the oldest due row of up to `limit` recipients, leased to this sender under one
    token (each row's `lease_token`). A row whose sender died is due again when its lease ran
    out."""
    now = clock.now()
    rows = queue.claim_in_order(
        session,
        OutboundMessage,
        "recipient_phone",
        due=queue.due_or_lapsed(OutboundMessage, now, waiting=OutboxStatus.QUEUED, working=None),
        unfinished=[OutboxStatus.QUEUED],
        held_by_other=None,
        limit=limit,
        position=_place,
    )
    queue.lease(rows, now, lease_length())
    return [row.id for row in rows]


def backoff(attempts: int, floor: float = 1.0) -> timedelta:
    return queue.backoff(attempts, floor=floor, ceiling=120.0)


def retry_failed(
    session: Session,
    actor: Actor,
    *,
    ids: Sequence[int] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    everything: bool = False,
) -> list[int]:
    """Queue FAILED messages again (by id, by when they failed, or all), attempts reset. A
    message already replaced by its template (131047) stays as it is: it went out. So does a
    marketing message Meta refused for that user (131050, 131049): sending it again is what
    Meta asks us not to do (marketing to them waits for their opt-in or the pause's end)."""
    if not (ids or since or until or everything):
        return []
    replaced = aliased(OutboundMessage)
    rows = queue.failed_rows(
        session,
        OutboundMessage,
        failed=OutboxStatus.FAILED,
        when=OutboundMessage.failed_at,
        ids=ids,
        since=since,
        until=until,
        extra=and_(
            ~exists().where(replaced.fallback_of_id == OutboundMessage.id),
            or_(
                OutboundMessage.error_code.is_(None),
                OutboundMessage.error_code.not_in([e.code for e in errors.MARKETING_REFUSALS]),
            ),
        ),
    )
    for row in rows:
        timeline.record(
            session,
            object_type=row.object_type or ObjectType.OUTBOUND_MESSAGE,
            object_id=str(row.object_id or row.id),
            event_type="RETRY",
            action="tms.message.outbound.retried",
            actor=actor,
            content={
                "outboundId": row.id,
                "to": row.recipient_phone,
                "lastError": row.error_detail,
            },
        )
        row.status = OutboxStatus.QUEUED
        row.attempts = 0
        row.next_attempt_at = None
        row.failed_at = None
        row.lease_token = None
    return [row.id for row in rows]


@dataclass(frozen=True)
class Prepared:
    row_id: int
    recipient: str
    message: WireMessage


@dataclass
class Batch:
    """A claimed batch on its way out: its lease's token, and until when the lease is known to
    hold (pushed on by the renewals while the batch is on the wire)."""

    token: str
    items: list[Prepared]
    lease_until: datetime
    recorded: int = 0  # outcomes recorded (or being recorded): their rows left the lease


NOT_SENT = "not sent"


def refused_before_accepting(outcome: object) -> bool:
    """An error answer from the Graph API: Meta did not take the message. A transport error
    (no answer, or none in time) leaves it unknown, so it is not one."""
    return isinstance(outcome, errors.GraphError) and not isinstance(outcome, errors.TransportError)


class OutboxSender:
    """One pass: claim and prepare a batch in one transaction, send it concurrently (paced),
    record the outcomes as they come back, a few per transaction."""

    def __init__(
        self, client: GraphClient, settings: Settings | None = None, *, batch: int = 100
    ) -> None:
        self.client = client
        self.settings = settings or get_settings()
        self.batch = batch
        # The number's rate is shared by every sender process (one limit at Meta).
        self.slots = SendingSlots(
            f"number:{self.settings.whatsapp_phone_number_id}",
            self.settings.whatsapp_rate_per_second,
            headroom=self.settings.whatsapp_rate_headroom,
            shared=not self.settings.is_sqlite,
        )
        # Per-recipient pacing: one bucket per recipient for every process (in the database),
        # or in the process on SQLite (one process).
        pacer = RecipientPacer if self.settings.is_sqlite else SharedRecipientPacer
        self.recipients: RecipientPacer | SharedRecipientPacer = pacer(
            self.settings.recipient_interval_seconds, self.settings.recipient_burst
        )
        # Requests on the wire at once: enough to hide latency, few enough to reuse connections.
        self.concurrency = asyncio.Semaphore(16)
        # Half of what the headroom leaves for lateness: the rest is for the network.
        self.late_limit = (1 / self.settings.whatsapp_rate_headroom - 1) / 2
        self.missed_slots = 0
        self.sent = 0
        self.failed = 0
        self.record_failures = 0

    async def run_once(self) -> int:
        """Send what is due now and wait for the outcomes; returns how many rows were handled."""
        batch, handled = await asyncio.to_thread(self._claim_and_prepare)
        if batch.items:
            await self._send_and_record(batch)
        return handled

    async def _send_and_record(self, batch: Batch) -> None:
        """Send a batch while its lease is renewed, recording outcomes as they come back.

        Outcomes are recorded a few at a time while the rest of the batch is still on the wire
        (pacing can keep a batch going for seconds): a process that dies mid-batch leaves only
        the last moment's sends unrecorded, and those are the only ones sent again. Recording is
        retried while the database is away (the lease keeps anyone else from sending the same
        rows again meanwhile); a failure that outlasts that is logged and counted
        (`record_failures`), never dropped silently."""
        renewer = asyncio.create_task(self._renew(batch))
        pending: set[asyncio.Task[tuple[int, str | errors.GraphError]]] = set()
        try:
            loop = asyncio.get_running_loop()
            delay = await asyncio.to_thread(self.slots.reserve, len(batch.items))
            first = loop.time() + delay  # the clock read after the reservation came back
            pending = {
                asyncio.create_task(self._send(batch, item, first + i * self.slots.interval))
                for i, item in enumerate(batch.items)
            }
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                if pending:
                    # What else comes back in a moment shares the transaction.
                    more, pending = await asyncio.wait(pending, timeout=RECORD_GATHER_SECONDS)
                    done |= more
                await self._record_outcomes(batch, [task.result() for task in done])
        finally:
            renewer.cancel()
            for task in pending:  # cancelled: nothing more goes out that would not be recorded
                task.cancel()

    async def _record_outcomes(
        self, batch: Batch, outcomes: list[tuple[int, str | errors.GraphError]]
    ) -> None:
        batch.recorded += len(outcomes)  # before: the renewal must not count them as lost
        for attempt in range(RECORD_ATTEMPTS):
            try:
                await asyncio.to_thread(self._record, batch.token, outcomes)
                return
            except Exception:
                self.record_failures += 1
                logger.exception(
                    "outbox: recording batch %s failed (attempt %d of %d)",
                    batch.token,
                    attempt + 1,
                    RECORD_ATTEMPTS,
                )
                await asyncio.sleep(min(2.0**attempt, 10.0))
        logger.critical(
            "outbox: outcomes of batch %s could not be recorded; sent wamids: %s",
            batch.token,
            [o for _, o in outcomes if isinstance(o, str) and o != NOT_SENT],
        )

    async def _renew(self, batch: Batch) -> None:
        """Keep the batch's lease while it is on the wire (pacing can hold it for long). Only
        a renewal that still finds every row of the batch under its token extends it: a row
        that passed to another sender ends the batch's sending (see `_send`)."""
        lease = lease_length()
        every = lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            try:
                started = clock.now()
                held = await asyncio.to_thread(self._extend_lease, batch.token, started + lease)
            except Exception:
                logger.exception("outbox: could not renew the lease of batch %s", batch.token)
                continue
            if held < len(batch.items) - batch.recorded:
                logger.warning("outbox: batch %s lost its lease; sending stops", batch.token)
                batch.lease_until = started - lease  # already over: no more sends
                return
            batch.lease_until = started + lease

    def _extend_lease(self, token: str, until: datetime) -> int:
        """Move the lease of the rows still held under `token`; returns how many there are."""
        with transaction() as session:
            return rows_affected(
                session.execute(
                    update(OutboundMessage)
                    .where(
                        OutboundMessage.lease_token == token,
                        OutboundMessage.status == OutboxStatus.QUEUED,
                    )
                    .values(next_attempt_at=until)
                )
            )

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
            batch, handled = await asyncio.to_thread(self._claim_and_prepare)
            if batch.items:
                task = asyncio.create_task(self._send_and_record(batch))
                batches.add(task)
                task.add_done_callback(batches.discard)
                task.add_done_callback(self._batch_done)
            return handled

        await run_until_stopped("outbox sender", one_pass, stop, idle_sleep, wakeup)
        if batches:
            await asyncio.gather(*batches, return_exceptions=True)

    def _batch_done(self, task: asyncio.Task[None]) -> None:
        """A batch task that died is reported, not lost in the background."""
        if not task.cancelled() and task.exception() is not None:
            self.record_failures += 1
            logger.error("outbox: a batch failed", exc_info=task.exception())

    async def _send(
        self, batch: Batch, item: Prepared, slot: float = 0.0
    ) -> tuple[int, str | errors.GraphError]:
        """Send `item` at its reserved `slot` (the event loop's time; 0: now). A send that
        wakes too late for its slot (the loop was busy) does not go: leaving late would bunch it
        with the next slots, another process's among them, and push Meta's one-second count
        over the limit. It goes with the next batch instead (not counted as an attempt)."""
        if slot:
            loop = asyncio.get_running_loop()
            if (wait := slot - loop.time()) > 0:
                await asyncio.sleep(wait)
            if loop.time() - slot > self.late_limit:
                self.missed_slots += 1
                return item.row_id, NOT_SENT
        async with self.concurrency:
            margin = lease_length().total_seconds() * LEASE_MARGIN_SHARE
            left = (batch.lease_until - clock.now()).total_seconds()
            if left < margin:
                # The lease may have passed to another sender: sending now could send twice.
                return item.row_id, NOT_SENT
            try:
                # The request is given up before the lease ends. A request still on the wire
                # when the row passed to another sender could arrive after that sender sent
                # the row again and then the recipient's next message: out of order.
                sent = await asyncio.wait_for(
                    self.client.send(wa_id(item.recipient), item.message), left - margin / 2
                )
            except TimeoutError:
                # Whether Meta took it is unknown: sent again (at least once, in order).
                return item.row_id, errors.TransportError("no answer within the batch's lease")
            except errors.GraphError as exc:
                return item.row_id, exc
            return item.row_id, sent

    def _claim_and_prepare(self) -> tuple[Batch, int]:
        """Claim due rows, apply per-recipient pacing and the window and template rules."""
        prepared: list[Prepared] = []
        unsendable: list[OutboundMessage] = []
        claimed_at = clock.now()
        with transaction() as session:
            messaging_limits.release_due(session)
            ids = claim(session, self.batch)
            token = ""
            rows = [session.get(OutboundMessage, row_id) for row_id in ids]  # loaded by the claim
            windows = outbox_rules.open_windows(
                session, {row.recipient_phone for row in rows if row}
            )
            # A claim holds one row per recipient: one token each.
            waits = self.recipients.take(session, [row.recipient_phone for row in rows if row])
            # Meta's messaging limit counts users messaged outside their window.
            outside = [r.recipient_phone for r in rows if r and r.recipient_phone not in windows]
            allowance = messaging_limits.Allowance(session, outside) if outside else None
            for row_id in ids:
                row = session.get(OutboundMessage, row_id)
                assert row is not None
                token = row.lease_token or token
                wait = waits[row.recipient_phone]
                if wait > 0:
                    row.next_attempt_at = clock.now() + timedelta(seconds=wait)
                    row.lease_token = None
                    continue
                if allowance is not None and row.recipient_phone not in windows:
                    not_before = allowance.admit(row)
                    if not_before is not None:  # the limit is used up: it waits
                        messaging_limits.defer(row, not_before)
                        continue
                try:
                    message = outbox_rules.wire_message(
                        session, row, window_open=row.recipient_phone in windows
                    )
                except outbox_rules.TemplateNotSendable as exc:
                    # Reported with what could not be sent, not as an outage.
                    if allowance is not None:  # never sent: it opens no conversation
                        allowance.withdraw(row)
                    self._fail(row, None, str(exc))
                    message_templates.not_sent(session, row, exc.problem)
                    continue
                except (outbox_rules.NoTemplate, MessageLimitError) as exc:
                    if allowance is not None:
                        allowance.withdraw(row)
                    self._fail(row, None, str(exc))
                    unsendable.append(row)
                    continue
                row.attempts += 1
                prepared.append(Prepared(row.id, row.recipient_phone, message))
            self._alert_failures(session, unsendable)
        return Batch(token, prepared, claimed_at + lease_length()), len(ids)

    def _record(self, token: str, outcomes: list[tuple[int, str | errors.GraphError]]) -> None:
        """The batch's outcomes, for the rows it still holds (a row whose lease passed to
        another sender is that sender's to record)."""
        with transaction() as session:
            ids = [row_id for row_id, _ in outcomes]
            rows = queue.held_rows(session, OutboundMessage, ids, token)
            lost = [row_id for row_id in ids if row_id not in rows]
            if lost:
                logger.warning("outbox: lease of rows %s passed on; not recorded here", lost)
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
            failed: list[OutboundMessage] = []
            # Sends Meta did not accept open no conversation: Meta's messaging limit does not
            # count them (one it accepted counts, even if a `failed` status follows).
            messaging_limits.uncount(
                session,
                [
                    row_id
                    for row_id, outcome in outcomes
                    if row_id in rows and (outcome == NOT_SENT or refused_before_accepting(outcome))
                ],
            )
            for row_id, outcome in outcomes:
                row = rows.get(row_id)
                if row is None:
                    continue
                row.lease_token = None
                if outcome == NOT_SENT:
                    row.attempts -= 1  # it never left: not an attempt
                    row.next_attempt_at = None
                elif isinstance(outcome, str):
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
                    if isinstance(outcome, errors.TemplateRefused) and row.template_name:
                        # Meta knows better than our records: they learn it, staff are told.
                        message_templates.not_sent(
                            session,
                            row,
                            message_templates.refused_by_meta(
                                session,
                                row.template_name,
                                row.template_language or message_templates.ENGLISH,
                                outcome.status,
                            ),
                        )
                    # A 131047 goes out as its template, a marketing refusal is the
                    # customer's (or Meta's) say: not failures anyone must act on.
                    elif row.status == OutboxStatus.FAILED and not isinstance(
                        outcome, (errors.ReEngagementMessage, *errors.MARKETING_REFUSALS)
                    ):
                        failed.append(row)
            session.flush()
            statuses.apply_pending(session, sent_wamids)
            self._alert_failures(session, failed)

    @staticmethod
    def _alert_failures(session: Session, failed: list[OutboundMessage]) -> None:
        """Operations hear of messages that failed for good: one alert per window, counted."""
        if not failed:
            return
        last = failed[-1]
        notifications.coalesced_alert(
            session,
            Role.OPS,
            "outbox-failed",
            lambda: texts.ops_outbox_failed(
                outbox_depth(session).get(OutboxStatus.FAILED, 0),
                last.recipient_phone,
                last.error_detail or "",
            ),
        )

    def _record_error(self, session: Session, row: OutboundMessage, exc: errors.GraphError) -> None:
        if isinstance(exc, errors.ReEngagementMessage):
            self._fail(row, exc.code, str(exc))
            outbox_rules.queue_template_fallback(session, row)
        elif isinstance(exc, errors.MARKETING_REFUSALS):
            # 131050 / 131049: Meta refused marketing to this user, not the network: never
            # retried; marketing to them is suppressed or paused, their utility messages go.
            self._fail(row, exc.code, str(exc))
            consent.refused_by_meta(session, row, exc.code)
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
                "text": row.shown_body
                if row.kind != "template"
                else f"[template {row.template_name}]",
                "direction": "outbound",
                "to": row.recipient_phone,
                "purpose": row.purpose,
                "wamid": row.provider_message_id,
            },
        )


def outbox_depth(session: Session | None = None) -> dict[str, int]:
    if session is None:
        with session_factory()() as own:
            return outbox_depth(own)
    rows = session.execute(
        select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status)
    )
    return {str(status): int(count) for status, count in rows}
