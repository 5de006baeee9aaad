"""The durable inbox: every message of a webhook batch is stored before anything else happens,
then processed in order per sender.

- `store_webhook` runs inside the webhook request: one transaction, every `messages[]` and
  `statuses[]` of every `entry[].changes[]`, deduplicated by the database (wamid unique;
  (wamid, status) unique), so a repeat or a concurrent duplicate is a no-op.
- `claim` hands out the oldest pending message of senders that have nothing in progress
  (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers can run).
- A claim is a lease: a worker that dies leaves the row to be claimed again when it expires.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from backend import clock
from backend.db import is_sqlite
from backend.domain.actor import Actor
from backend.domain.enums import InboxStatus, ObjectType, Source
from backend.domain.errors import InvalidPhoneNumber
from backend.domain.phones import normalise_phone
from backend.models import Contact, Conversation, InboundMessage, MessageStatusEvent
from backend.services import contacts, timeline

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=90)
# Types handed to the assistant; others are recorded and acknowledged without it.
DIALOGUE_TYPES = {"text", "interactive", "button"}


@dataclass
class StoreResult:
    messages_new: int = 0
    messages_duplicate: int = 0
    statuses_new: int = 0
    statuses_duplicate: int = 0
    ignored_changes: int = 0
    new_status_wamids: list[str] = field(default_factory=list)


class MalformedPayload(ValueError):
    """The body is JSON but not a WhatsApp webhook."""


def _insert(session: Session):  # type: ignore[no-untyped-def]
    return sqlite_insert if is_sqlite(session) else pg_insert


def _timestamp(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def message_text(message: dict[str, Any]) -> str | None:
    """What the assistant reads: the text, or a reply button's id (e.g. `/affirm`)."""
    kind = message.get("type")
    if kind == "text":
        return (message.get("text") or {}).get("body")
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        return reply.get("id") or reply.get("title")
    if kind == "button":
        button = message.get("button") or {}
        return button.get("payload") or button.get("text")
    return None


def store_webhook(session: Session, payload: Any, phone_number_id: str) -> StoreResult:
    """Store every message and status of a webhook body. Raises MalformedPayload when the body
    is not shaped like a WhatsApp webhook (the caller answers 400 and stores nothing)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise MalformedPayload("expected an object with an `entry` list")
    result = StoreResult()
    now = clock.now()
    insert = _insert(session)
    for entry in payload["entry"]:
        for change in (entry or {}).get("changes") or []:
            value = (change or {}).get("value") or {}
            if not isinstance(value, dict):
                raise MalformedPayload("`changes[].value` must be an object")
            metadata = value.get("metadata") or {}
            if str(metadata.get("phone_number_id", "")) != phone_number_id:
                logger.warning(
                    "webhook change for phone_number_id %r ignored", metadata.get("phone_number_id")
                )
                result.ignored_changes += 1
                continue
            names = {
                str(c.get("wa_id")): (c.get("profile") or {}).get("name")
                for c in value.get("contacts") or []
                if isinstance(c, dict)
            }
            for message in value.get("messages") or []:
                if (
                    not isinstance(message, dict)
                    or not message.get("id")
                    or not message.get("from")
                ):
                    raise MalformedPayload("a message needs `id` and `from`")
                sender = str(message["from"])
                inserted = session.execute(
                    insert(InboundMessage)
                    .values(
                        wamid=str(message["id"]),
                        from_phone=_e164_or_raw(sender),
                        phone_number_id=phone_number_id,
                        profile_name=names.get(sender),
                        message_type=str(message.get("type") or "unknown"),
                        text=message_text(message),
                        payload=message,
                        sent_at=_timestamp(message.get("timestamp")),
                        stored_at=now,
                        status=InboxStatus.PENDING,
                        attempts=0,
                    )
                    .on_conflict_do_nothing(index_elements=["wamid"])
                    .returning(InboundMessage.id)
                ).scalar_one_or_none()
                if inserted is None:
                    result.messages_duplicate += 1
                else:
                    result.messages_new += 1
            for status in value.get("statuses") or []:
                if not isinstance(status, dict) or not status.get("id") or not status.get("status"):
                    raise MalformedPayload("a status needs `id` and `status`")
                errors = status.get("errors") or []
                inserted = session.execute(
                    insert(MessageStatusEvent)
                    .values(
                        wamid=str(status["id"]),
                        status=str(status["status"]),
                        recipient_phone=_e164_or_raw(str(status.get("recipient_id") or "")) or None,
                        occurred_at=_timestamp(status.get("timestamp")),
                        error_code=int(errors[0].get("code"))
                        if errors and errors[0].get("code")
                        else None,
                        payload=status,
                        stored_at=now,
                        applied=False,
                    )
                    .on_conflict_do_nothing(index_elements=["wamid", "status"])
                    .returning(MessageStatusEvent.id)
                ).scalar_one_or_none()
                if inserted is None:
                    result.statuses_duplicate += 1
                else:
                    result.statuses_new += 1
                    result.new_status_wamids.append(str(status["id"]))
    return result


def _e164_or_raw(wa_id: str) -> str:
    if not wa_id:
        return ""
    try:
        return normalise_phone(wa_id)
    except InvalidPhoneNumber:
        return "+" + wa_id.lstrip("+")


def claim(session: Session, limit: int) -> list[InboundMessage]:
    """The next message of up to `limit` senders, oldest first, leased to this worker.

    A sender's message is only handed out when it is that sender's oldest unfinished one and
    no other worker holds one of theirs, which keeps each sender's messages in order.
    """
    now = clock.now()
    busy = aliased(InboundMessage)
    earlier = aliased(InboundMessage)
    unfinished = [InboxStatus.PENDING, InboxStatus.PROCESSING]
    query = (
        select(InboundMessage)
        .where(
            or_(
                and_(
                    InboundMessage.status == InboxStatus.PENDING,
                    or_(
                        InboundMessage.next_attempt_at.is_(None),
                        InboundMessage.next_attempt_at <= now,
                    ),
                ),
                # a lease that ran out: its worker died
                and_(
                    InboundMessage.status == InboxStatus.PROCESSING,
                    InboundMessage.next_attempt_at <= now,
                ),
            ),
            ~exists().where(
                busy.from_phone == InboundMessage.from_phone,
                busy.status == InboxStatus.PROCESSING,
                busy.next_attempt_at > now,
            ),
            ~exists().where(
                earlier.from_phone == InboundMessage.from_phone,
                earlier.status.in_(unfinished),
                earlier.id < InboundMessage.id,
            ),
        )
        .order_by(InboundMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(session.scalars(query))
    for row in rows:
        row.status = InboxStatus.PROCESSING
        row.attempts += 1
        row.next_attempt_at = now + LEASE
    return rows


@dataclass(frozen=True)
class Arrival:
    contact: Contact
    conversation: Conversation
    actor: Actor


def record_arrival(session: Session, row: InboundMessage) -> Arrival:
    """The contact, its window, its conversation and the timeline entry for one message.

    Runs once per message (a retry finds the timeline entry already there)."""
    contact = contacts.get_or_create_contact(session, row.from_phone, profile_name=row.profile_name)
    contacts.touch_inbound(contact, row.sent_at or row.stored_at)
    conversation, _ = contacts.get_or_open_conversation(session, contact)
    conversation.last_message_at = row.sent_at or row.stored_at
    actor = Actor(Source.WHATSAPP, phone=contact.phone, conversation_id=conversation.id)
    if row.conversation_id is None:
        row.conversation_id = conversation.id
        timeline.record(
            session,
            object_type=conversation.object_type or ObjectType.CONVERSATION,
            object_id=conversation.object_id or conversation.id,
            event_type="MESSAGE",
            action="tms.message.inbound",
            actor=actor,
            content={
                "text": row.text if row.text is not None else f"[{row.message_type}]",
                "direction": "inbound",
                "type": row.message_type,
                "wamid": row.wamid,
                **({"payload": row.payload} if row.message_type not in DIALOGUE_TYPES else {}),
            },
            occurred_at=row.sent_at or row.stored_at,
        )
    return Arrival(contact=contact, conversation=conversation, actor=actor)


def mark_done(row: InboundMessage) -> None:
    row.status = InboxStatus.DONE
    row.processed_at = clock.now()
    row.next_attempt_at = None
    row.last_error = None


def backoff(attempts: int) -> timedelta:
    """2, 4, 8 … seconds, at most five minutes."""
    return timedelta(seconds=min(2 ** max(attempts, 1), 300))


def mark_failed_attempt(row: InboundMessage, error: str, max_attempts: int) -> bool:
    """Back to PENDING with backoff; FAILED once the attempts are used up. True if FAILED."""
    row.last_error = error[:2000]
    if row.attempts >= max_attempts:
        row.status = InboxStatus.FAILED
        row.next_attempt_at = None
        return True
    row.status = InboxStatus.PENDING
    row.next_attempt_at = clock.now() + backoff(row.attempts)
    return False


def queue_depth(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(InboundMessage.status, func.count()).group_by(InboundMessage.status)
    )
    return {str(status): int(count) for status, count in rows}
